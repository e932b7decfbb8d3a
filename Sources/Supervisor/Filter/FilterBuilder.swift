import CSeccomp
import CTraceShims
import CapabilityPolicy
import SyscallCatalog

/// Builds the seccomp filter from the catalog and the policy: every syscall that can ever be a violation, in
/// every ABI (x86_64, i386, x32), returns SECCOMP_RET_TRACE (or USER_NOTIF); so do the syscalls the chosen
/// trigger needs. Everything else is allowed by the kernel and never stops the program.
struct FilterBuilder {
    /// SECCOMP_RET_DATA tags telling the loop why a call stopped (bits may combine).
    struct Tag: OptionSet, Sendable {
        let rawValue: UInt16
        static let policy = Tag(rawValue: 1)  // may be a violation
        static let trigger = Tag(rawValue: 2)  // syscall:NAME or sandbox trigger
        static let lifecycle = Tag(rawValue: 4)  // clone with CLONE_UNTRACED / clone3: keep children traced
        static let rights = Tag(rawValue: 8)  // a descriptor operation (`run --rights`, RightsTable)
        static let landlock = Tag(rawValue: 64)  // landlock_*: decode the program's rulesets (ptrace only)
        static let seccompInstall = Tag(rawValue: 16)  // the program installs a seccomp filter (ptrace: recorded)
        /// `run --syscalls`: every call stops to be counted; alone, the call is stopped for nothing else.
        static let count = Tag(rawValue: 128)
        /// `run --syscalls`: the call traps unconditionally, although its other tags hold only when the rule's
        /// argument conditions do (`CountingConditions` tells which).
        static let conditional = Tag(rawValue: 256)
        /// With stacks: the call may put code where other code was mapped (`codeMappingTests`): the unwinder
        /// forgets the process's mappings and the frames it named by address.
        static let mappings = Tag(rawValue: 512)
    }

    enum Action { case trace, notify }

    static let archX86_64: UInt32 = 0xC000_003E
    static let archI386: UInt32 = 0x4000_0003
    static let archX32: UInt32 = 0x4000_003E
    static let x32Bit = 0x4000_0000
    static let actAllow: UInt32 = 0x7fff_0000
    static let cloneUntraced: UInt64 = 0x0080_0000
    static let atEmptyPath: UInt64 = 0x1000

    /// The syscalls the `sandbox` trigger watches: the catalog's sandboxing steps (prctl only for the options
    /// its `sandbox:` column names).
    static let sandboxSyscalls = Catalog.shared.rows.filter { $0.sandboxStep != nil }.map(\.name)

    /// The stat calls (the catalog's `op: .stat/.statx` with a dirfd and AT_* flags) whose AT_EMPTY_PATH form on
    /// a descriptor is passed by the filter in observe mode: (dirfd arg index, flags arg index). glibc's fstat
    /// is newfstatat(fd, "", AT_EMPTY_PATH). BPF cannot read the path: a call with AT_EMPTY_PATH, a real dirfd
    /// *and* a non-empty path passes unseen. That never happens through glibc; in enforce mode nothing is passed.
    static func emptyPathPass(_ sc: Syscall) -> (dirfd: UInt32, flags: UInt32)? {
        guard sc.pathOp == .stat || sc.pathOp == .statx, let d = sc.dirfdIndex, let f = sc.atFlagsIndex else { return nil }
        return (UInt32(d), UInt32(f))
    }

    /// When a call capability mode judges by its registers traps: unless one of the standard policy's sound
    /// filter shortcuts holds (`FilterShortcut`: pid 0 naming the caller in prlimit64 and the sched_ calls, who 0
    /// in getpriority, setpgid(0, 0), a non-negative clock id, sendto without an address), which the classifier
    /// would allow — every process's prlimit64(0, RLIMIT_STACK) at start-up was a stop. A shortcut is a
    /// conjunction of tests; the call traps when every shortcut fails, i.e. for one failing test of each (one
    /// alternative per combination). A test BPF cannot turn around (a mask of many bits) drops its shortcut: the
    /// call then traps more often, never less. nil: no shortcut left, the call traps always.
    static func selfTargetTraps(_ sc: Syscall, abi: ABI) -> [[scmp_arg_cmp]]? {
        var alternatives: [[scmp_arg_cmp]] = [[]]
        var any = false
        for shortcut in CapabilityPolicy.standard.filterShortcuts(for: sc.name, abi: abi)
        where shortcut.sound && shortcut.unless == nil {
            var fails: [scmp_arg_cmp] = []  // the shortcut fails when one of these holds
            var negatable = true
            for t in shortcut.tests {
                switch t.op {
                case .equal:
                    fails.append(scmp_arg_cmp(arg: UInt32(t.index), op: SCMP_CMP_NE, datum_a: t.value, datum_b: 0))
                case .maskedEqual(let mask) where mask.nonzeroBitCount <= 8:
                    // (arg & mask) != value: some bit of the mask differs from the value's.
                    for bit in 0..<64 where mask >> UInt64(bit) & 1 == 1 {
                        let b = UInt64(1) << UInt64(bit)
                        fails.append(scmp_arg_cmp(arg: UInt32(t.index), op: SCMP_CMP_MASKED_EQ, datum_a: b,
                                                  datum_b: (t.value & b) ^ b))
                    }
                case .maskedEqual:
                    negatable = false
                }
            }
            guard negatable, !fails.isEmpty, alternatives.count * fails.count <= 16 else { continue }
            any = true
            alternatives = alternatives.flatMap { conj in fails.map { conj + [$0] } }
        }
        return any ? alternatives : nil
    }

    struct BuildError: Error, CustomStringConvertible {
        let description: String
    }

    /// Under `run --policy`: per ABI (`ABI.ordinal`), the names the policy may refuse. They trap unconditionally
    /// (the supervisor evaluates arguments), in place of capability mode's.
    struct PolicyTraps: Sendable {
        let names: [Set<String>]
    }

    /// The program's own filter installs: seccomp(SECCOMP_SET_MODE_FILTER), prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER).
    static let seccompInstallTests: [String: [ArgTest]] = [
        "seccomp": [ArgTest(index: 0, op: .equal, value: 1)],
        "prctl": [ArgTest(index: 0, op: .equal, value: 22), ArgTest(index: 1, op: .equal, value: 2)],
    ]

    /// The calls that can make code appear where other code was, as strace's stack traces watch them (its
    /// MEMORY_MAPPING_CHANGE calls), but only those that can map executable memory: mmap, mprotect and
    /// pkey_mprotect with PROT_EXEC, shmat with SHM_EXEC (i386: also through ipc), and every mremap and
    /// remap_file_pages. i386's `mmap` passes its arguments in memory: it traps always (empty list). munmap does
    /// not: code can come back at an unmapped address only through one of these.
    static let codeMappingTests: [String: [ArgTest]] = [
        "mmap": [ArgTest(index: 2, op: .maskedEqual(mask: 4), value: 4)],
        "mmap2": [ArgTest(index: 2, op: .maskedEqual(mask: 4), value: 4)],
        "mprotect": [ArgTest(index: 2, op: .maskedEqual(mask: 4), value: 4)],
        "pkey_mprotect": [ArgTest(index: 2, op: .maskedEqual(mask: 4), value: 4)],
        "shmat": [ArgTest(index: 2, op: .maskedEqual(mask: 0o100000), value: 0o100000)],
        "ipc": [ArgTest(index: 0, op: .maskedEqual(mask: 0xffff), value: 21),
                ArgTest(index: 2, op: .maskedEqual(mask: 0o100000), value: 0o100000)],
        "mremap": [],
        "remap_file_pages": [],
    ]

    /// The tests of `codeMappingTests` for `name` in `abi` (nil: the call never maps code).
    static func codeMappingTests(_ name: String, abi: ABI) -> [ArgTest]? {
        guard let tests = codeMappingTests[name] else { return nil }
        return abi == .i386 && name == "mmap" ? [] : tests
    }

    /// Whether a call of `name` with `args` (as the filter sees them) may map code (`codeMappingTests`).
    static func mapsCode(_ name: String, abi: ABI, args: [UInt64]) -> Bool {
        guard let tests = codeMappingTests(name, abi: abi) else { return false }
        let seen = abi == .i386 ? args.map { $0 & 0xffff_ffff } : args  // i386 compares 32-bit registers
        return tests.allSatisfy { $0.holds(seen) }
    }

    /// Whether a call of `name` with `args` installs a seccomp filter (`seccompInstallTests`).
    static func installsSeccompFilter(_ name: String, _ args: [UInt64]) -> Bool {
        seccompInstallTests[name]?.allSatisfy { $0.holds(args) } ?? false
    }

    /// Which syscall names trap, and why (under a policy, its `.policy` traps are per ABI: `rules`). What this
    /// and `rules` read must feed `cacheKey`.
    static func plan(trigger: Trigger, rights: Set<String> = [], policy: PolicyTraps? = nil,
                     seccompInstalls: Bool = false, landlock: Bool = false, mappings: Bool = false) -> [String: Tag] {
        var tags: [String: Tag] = [:]
        // The standard policy has one entry for each catalog row (its loader checks it; CapabilityPolicyTests
        // that the rows' decisions by name are its entries'): no sorted name list, and its text is not parsed.
        if policy == nil {
            for sc in Catalog.shared.rows where CapabilityPolicy.standard.decision(named: sc.name) != .allow {
                tags[sc.name, default: []].insert(.policy)
            }
        }
        switch trigger {
        case .syscall(let name): tags[name, default: []].insert(.trigger)
        case .sandbox: for n in sandboxSyscalls { tags[n, default: []].insert(.trigger) }
        default: break
        }
        tags["clone", default: []].insert(.lifecycle)
        tags["clone3", default: []].insert(.lifecycle)
        // The ptrace backend caches the current directory: a call that may change it must stop even when the
        // policy lets it pass (fchdir).
        for sc in Catalog.shared.rows where sc.changesWorkingDirectory && (policy != nil || !CapabilityPolicy.standard.mayViolate(sc.name)) {
            tags[sc.name, default: []].insert(.lifecycle)
        }
        // Capability mode traps execve by path; a policy may not: the notify backend sees execs only by trapping them.
        if policy != nil { for n in ["execve", "execveat"] { tags[n, default: []].insert(.lifecycle) } }
        for n in rights { tags[n, default: []].insert(.rights) }
        if landlock { for n in LandlockTracker.names { tags[n, default: []].insert(.landlock) } }
        if seccompInstalls { for n in seccompInstallTests.keys { tags[n, default: []].insert(.seccompInstall) } }
        if mappings { for n in codeMappingTests.keys { tags[n, default: []].insert(.mappings) } }
        return tags
    }

    /// One rule as libseccomp is given it: the filter is exactly the list of these (and libseccomp's layout).
    struct Rule {
        var abi: ABI
        var name: String
        /// This ABI's number of the call.
        var nr: Int32
        /// libseccomp's own number for the name (native, or a negative pseudo-number), or __NR_SCMP_ERROR.
        var resolved: Int32
        var action: UInt32
        /// One rule per alternative; each a conjunction of argument comparisons (empty: unconditional).
        var conditions: [[scmp_arg_cmp]]
        /// `counting`: the conditions the call's tags hold under, checked by the loop (the rule traps always).
        var counted: [[scmp_arg_cmp]] = []
        /// Why the call traps (the loop's view; the trace action carries it as SECCOMP_RET_DATA).
        var tag: Tag = []
    }

    /// The filter for these options: the program libseccomp compiled from the same rules on an earlier run, kept
    /// in `cache`, else compiled now (and kept). Free with ct_bpf_free. With a cache hit the rules are not even
    /// computed: the file is found by `cacheKey`, made from the options alone.
    static func build(trigger: Trigger, enforce: Bool, action: Action, rights: Set<String> = [],
                      policy: PolicyTraps? = nil, landlock: Bool = false, counting: Bool = false, mappings: Bool = false,
                      cache: FilterCache? = FilterCache.standard()) throws -> ct_bpf {
        func r() -> [Rule] {
            rules(trigger: trigger, enforce: enforce, action: action, rights: rights, policy: policy, landlock: landlock,
                  counting: counting, mappings: mappings)
        }
        guard let cache, seccomp_version() != nil else { return try compile(r()) }  // no version: no key
        let k = cacheKey(trigger: trigger, enforce: enforce, action: action, rights: rights, policy: policy,
                         landlock: landlock, counting: counting, mappings: mappings) ?? key(r())
        if let kept = cache.load(key: k) { return kept }
        let bpf = try compile(r())
        cache.store(key: k, program: bpf)
        return bpf
    }

    /// The filter cache's key for these options, without computing the rules: a function of everything the
    /// rules are made from. That is (1) what is compiled into this executable — the catalog, the built-in policy
    /// and this builder — named by the executable's GNU build-id; (2) libseccomp's version (it resolves the
    /// names); (3) the options `plan` and `rules` read: the trigger's syscalls, enforce, the action, the rights
    /// names, a `--policy`'s traps per ABI (what its file's content decides of the filter), landlock,
    /// `--syscalls`' counting and whether code mappings trap (stacks). nil when
    /// the executable has no build-id (then the key is `key(rules)`).
    ///
    /// Whoever makes the rules depend on something else (another option, another tag) must feed it here too, or
    /// a program kept for other rules would be served.
    static func cacheKey(trigger: Trigger, enforce: Bool, action: Action, rights: Set<String>,
                         policy: PolicyTraps? = nil, landlock: Bool = false, counting: Bool = false,
                         mappings: Bool = false) -> [UInt8]? {
        var id = [UInt8](repeating: 0, count: 64)
        let n = Int(ct_self_build_id(&id, Int32(id.count)))
        guard n > 0, let v = seccomp_version() else { return nil }
        var out = Array("options-key/2 ".utf8)
        func put(_ s: String) { FilterCache.append(UInt32(s.utf8.count), to: &out); out += s.utf8 }
        FilterCache.append(UInt32(n), to: &out)
        out += id[0..<n]
        FilterCache.append(v.pointee.major, to: &out)
        FilterCache.append(v.pointee.minor, to: &out)
        FilterCache.append(v.pointee.micro, to: &out)
        switch trigger {  // what `plan` reads of the trigger; the others add no syscall
        case .syscall(let name): put("syscall:" + name)
        case .sandbox: put("sandbox")
        default: put("")
        }
        out.append(enforce ? 1 : 0)
        out.append(action == .trace ? 1 : 2)
        func put(_ names: Set<String>) {
            FilterCache.append(UInt32(names.count), to: &out)
            for name in names.sorted() { put(name) }
        }
        put(rights)
        if let policy {
            out.append(1)
            FilterCache.append(UInt32(policy.names.count), to: &out)
            for names in policy.names { put(names) }
        } else {
            out.append(0)
        }
        out.append(landlock ? 1 : 0)
        out.append(counting ? 1 : 0)
        out.append(mappings ? 1 : 0)
        return out
    }

    /// The rules of the filter for these options, in the order they are added.
    /// `counting` (`run --syscalls`): every other call traps too, tagged `count`. libseccomp keeps only the
    /// unconditional rule when a call has both, so a call with argument conditions then traps unconditionally,
    /// tagged `count` and `conditional`, and the loop checks its conditions (`CountingConditions`).
    static func rules(trigger: Trigger, enforce: Bool, action: Action, rights: Set<String> = [],
                      policy: PolicyTraps? = nil, landlock: Bool = false, counting: Bool = false,
                      mappings: Bool = false) -> [Rule] {
        let tags = plan(trigger: trigger, rights: rights, policy: policy, seccompInstalls: true, landlock: landlock,
                        mappings: mappings)
        var out: [Rule] = []
        out.reserveCapacity(tags.count * 3)
        for abi in ABI.allCases {
            for (nr, sc) in Catalog.shared.entries(abi: abi) {
                var tag = tags[sc.name] ?? []
                if let policy, policy.names[abi.ordinal].contains(sc.name) { tag.insert(.policy) }
                if tag.isEmpty, counting { tag = .count }
                guard !tag.isEmpty else { continue }
                let act = action == .trace ? (0x7ff0_0000 | UInt32(tag.rawValue)) : 0x7fc0_0000
                var conditions: [[scmp_arg_cmp]] = [[]]
                if tag == .lifecycle {
                    // Only clone with CLONE_UNTRACED needs us (to strip the flag); clone3 always (flags in memory).
                    if sc.name == "clone" {
                        conditions = [[scmp_arg_cmp(arg: 0, op: SCMP_CMP_MASKED_EQ, datum_a: cloneUntraced, datum_b: cloneUntraced)]]
                    }
                } else if tag == .trigger, case .whenAny(let tests)? = sc.sandboxStep {
                    conditions = tests.map { [scmp_arg_cmp($0)] }
                } else if tag == .seccompInstall, let tests = seccompInstallTests[sc.name] {
                    conditions = [tests.map(scmp_arg_cmp.init)]
                } else if tag == .mappings, let tests = codeMappingTests(sc.name, abi: abi) {
                    conditions = [tests.map(scmp_arg_cmp.init)]
                } else if tag == .rights, let rows = RightsTable.filterConditions(sc) {
                    conditions = rows.map { $0.map(scmp_arg_cmp.init) }
                } else if tag == .policy, policy == nil, sc.name == "socket" {
                    // Only raw IP and packet sockets can be violations: the filter stops exactly those.
                    conditions = RawSockets.trapTests.map { $0.map(scmp_arg_cmp.init) }
                } else if tag == .policy, policy == nil, let traps = selfTargetTraps(sc, abi: abi) {
                    // Only calls the classifier cannot allow from registers alone: pid 0 is the caller, ...
                    conditions = traps
                } else if tag == .policy, policy == nil, !enforce, let pass = emptyPathPass(sc) {
                    // Trap unless AT_EMPTY_PATH is set on a real descriptor.
                    conditions = [[scmp_arg_cmp(arg: pass.flags, op: SCMP_CMP_MASKED_EQ, datum_a: atEmptyPath, datum_b: 0)],
                                  [scmp_arg_cmp(arg: pass.dirfd, op: SCMP_CMP_MASKED_EQ, datum_a: 0xffff_ffff, datum_b: 0xffff_ff9c)]]
                }
                // libseccomp numbers rules by the native (x86_64) number, or a negative pseudo-number for
                // calls x86_64 lacks, and translates them to each architecture; names it does not know (newer
                // than its tables) are added by this ABI's own number, which libseccomp can do only for the
                // native ABI (it translates through the name): on i386 and x32 such a call is not trapped.
                let resolved = seccomp_syscall_resolve_name(sc.name)
                if resolved == __NR_SCMP_ERROR, abi != .x86_64 { continue }
                if counting, conditions.count != 1 || !conditions[0].isEmpty {
                    // Kept for the loop (CountingConditions); the filter traps every such call.
                    let all = tag.union([.count, .conditional])
                    out.append(Rule(abi: abi, name: sc.name, nr: Int32(nr), resolved: resolved,
                                    action: action == .trace ? (0x7ff0_0000 | UInt32(all.rawValue)) : act,
                                    conditions: [[]], counted: conditions, tag: all))
                    continue
                }
                out.append(Rule(abi: abi, name: sc.name, nr: Int32(nr), resolved: resolved,
                                action: counting && action == .trace ? act | UInt32(Tag.count.rawValue) : act,
                                conditions: conditions, tag: counting ? tag.union(.count) : tag))
            }
        }
        return out
    }

    /// Everything a rule list gives libseccomp, and libseccomp's version, as bytes (little-endian): equal keys,
    /// equal compiler input. The filter cache keeps a program under its key and compares the whole key on load.
    static func key(_ rules: [Rule]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rules.count * 32)
        func put(_ v: UInt32) { FilterCache.append(v, to: &out) }
        if let v = seccomp_version() { put(v.pointee.major); put(v.pointee.minor); put(v.pointee.micro) }
        put(UInt32(rules.count))
        for r in rules {
            put(UInt32(ABI.allCases.firstIndex(of: r.abi)!))
            put(UInt32(bitPattern: r.nr))
            put(UInt32(bitPattern: r.resolved))
            put(r.action)
            put(UInt32(r.conditions.count))
            for c in r.conditions {
                put(UInt32(c.count))
                for a in c {
                    put(a.arg)
                    put(a.op.rawValue)
                    FilterCache.append(a.datum_a, to: &out)
                    FilterCache.append(a.datum_b, to: &out)
                }
            }
        }
        return out
    }

    /// Compiles rules with libseccomp: one context per ABI, merged, exported.
    static func compile(_ rules: [Rule]) throws -> ct_bpf {
        var contexts: [scmp_filter_ctx] = []
        defer { for c in contexts { seccomp_release(c) } }
        for abi in ABI.allCases {
            guard let ctx = seccomp_init(actAllow) else { throw BuildError(description: "seccomp_init failed") }
            contexts.append(ctx)
            // A binary tree on the syscall number, not libseccomp's default chain of comparisons: at install the
            // kernel runs the filter once per syscall number of every ABI (to find the calls it may allow without
            // running it), which cost ~0.5 ms at every start over a chain of ~600 instructions
            // (Docs/performance-history.md, (e)). Every context merged must set the same attributes.
            let opt = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
            guard opt == 0 else { throw BuildError(description: "seccomp_attr_set(optimize 2): \(opt)") }
            let arch: UInt32 = abi == .x86_64 ? archX86_64 : abi == .i386 ? archI386 : archX32
            if abi != .x86_64 {
                var rc = seccomp_arch_add(ctx, arch)
                guard rc == 0 || rc == -17 else { throw BuildError(description: "seccomp_arch_add(\(abi)): \(rc)") }
                rc = seccomp_arch_remove(ctx, archX86_64)
                guard rc == 0 else { throw BuildError(description: "seccomp_arch_remove: \(rc)") }
            }
            for r in rules where r.abi == abi {
                for cond in r.conditions {
                    let rc = cond.withUnsafeBufferPointer {
                        r.resolved != __NR_SCMP_ERROR
                            ? seccomp_rule_add_array(ctx, r.action, r.resolved, UInt32($0.count), $0.baseAddress)
                            : seccomp_rule_add_exact_array(ctx, r.action, r.nr, UInt32($0.count), $0.baseAddress)
                    }
                    guard rc == 0 || rc == -17 else {  // EEXIST: identical rule
                        throw BuildError(description: "seccomp rule for \(r.name) (\(abi) \(r.nr)): error \(rc)")
                    }
                }
            }
        }
        let head = contexts[0]
        while contexts.count > 1 {
            let rc = seccomp_merge(head, contexts[1])
            guard rc == 0 else { throw BuildError(description: "seccomp_merge: \(rc)") }
            contexts.remove(at: 1)  // seccomp_merge released the source context
        }
        var bpf = ct_bpf()
        let rc = ct_bpf_export(UnsafeMutableRawPointer(head), &bpf)
        guard rc == 0 else { throw BuildError(description: "seccomp_export_bpf: \(rc)") }
        return bpf
    }
}

/// `run --syscalls`: the argument conditions of the calls the counting filter traps unconditionally (tag
/// `conditional`), so the loop can tell whether the call's other tags hold, as the filter without counting would.
struct CountingConditions {
    private var table: [Int: [[scmp_arg_cmp]]] = [:]
    /// The calls that trap for more than counting (ABI ordinal << 32 | number).
    private var planned: Set<Int> = []

    init(_ rules: [FilterBuilder.Rule]) {
        for r in rules {
            if !r.counted.isEmpty { table[r.abi.ordinal << 32 | Int(r.nr)] = r.counted }
            if r.tag != .count { planned.insert(r.abi.ordinal << 32 | Int(r.nr)) }
        }
    }

    /// Whether the call traps only to be counted (the notify backend, whose notifications carry no tag).
    func countOnly(abi: ABI, nr: Int) -> Bool { !planned.contains(abi.ordinal << 32 | nr) }

    /// The tags that hold for this call: `tag` without `conditional` when one alternative of its conditions
    /// holds (compared as the filter compares them: i386 arguments are 32-bit), else `count` alone.
    func effective(_ tag: FilterBuilder.Tag, abi: ABI, nr: Int, args: [UInt64]) -> FilterBuilder.Tag {
        guard tag.contains(.conditional) else { return tag }
        let width: UInt64 = abi == .i386 ? 0xffff_ffff : ~0
        guard let alternatives = table[abi.ordinal << 32 | nr] else { return .count }
        for conj in alternatives {
            let holds = conj.allSatisfy { c in
                let a = args[Int(c.arg)] & width
                switch c.op {
                case SCMP_CMP_EQ: return a == c.datum_a & width
                case SCMP_CMP_NE: return a != c.datum_a & width
                case SCMP_CMP_MASKED_EQ: return a & c.datum_a & width == c.datum_b & width
                default: return true  // not used by the builder; trapping too often is safe
                }
            }
            if holds { return tag.subtracting(.conditional) }
        }
        return .count
    }
}

extension scmp_arg_cmp {
    /// libseccomp's form of an argument test.
    init(_ t: ArgTest) {
        let (a, b) = t.operands
        switch t.op {
        case .equal: self.init(arg: UInt32(t.index), op: SCMP_CMP_EQ, datum_a: a, datum_b: b)
        case .maskedEqual: self.init(arg: UInt32(t.index), op: SCMP_CMP_MASKED_EQ, datum_a: a, datum_b: b)
        }
    }
}
