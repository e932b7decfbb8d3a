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
    }

    enum Action { case trace, notify }

    static let archX86_64: UInt32 = 0xC000_003E
    static let archI386: UInt32 = 0x4000_0003
    static let archX32: UInt32 = 0x4000_003E
    static let x32Bit = 0x4000_0000
    static let actAllow: UInt32 = 0x7fff_0000
    static let cloneUntraced: UInt64 = 0x0080_0000
    static let atEmptyPath: UInt64 = 0x1000

    /// The syscalls the `sandbox` trigger watches, with the prctl options that count.
    static let sandboxSyscalls = ["seccomp", "landlock_restrict_self", "unshare", "chroot", "prctl"]
    static let prSetNoNewPrivs: UInt64 = 38
    static let prSetSeccomp: UInt64 = 22

    /// Syscalls whose AT_EMPTY_PATH form on a descriptor is passed by the filter in observe mode:
    /// name -> (dirfd arg index, flags arg index). glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH).
    /// BPF cannot read the path: a call with AT_EMPTY_PATH, a real dirfd *and* a non-empty path passes
    /// unseen. That never happens through glibc; in enforce mode nothing is passed.
    static let emptyPathPass: [String: (dirfd: UInt32, flags: UInt32)] = [
        "newfstatat": (0, 3), "fstatat64": (0, 3), "statx": (0, 2),
    ]

    struct BuildError: Error, CustomStringConvertible {
        let description: String
    }

    /// Which syscall names trap, and why.
    static func plan(trigger: Trigger, rights: Set<String> = []) -> [String: Tag] {
        var tags: [String: Tag] = [:]
        // The standard policy has one entry for each catalog name (its loader checks it): no sorted name list
        // and no lookup by name needed.
        for e in CapabilityPolicy.standard.entries where e.decision != .allow { tags[e.name, default: []].insert(.policy) }
        switch trigger {
        case .syscall(let name): tags[name, default: []].insert(.trigger)
        case .sandbox: for n in sandboxSyscalls { tags[n, default: []].insert(.trigger) }
        default: break
        }
        tags["clone", default: []].insert(.lifecycle)
        tags["clone3", default: []].insert(.lifecycle)
        tags["fchdir", default: []].insert(.lifecycle)  // the ptrace backend caches the current directory
        for n in rights { tags[n, default: []].insert(.rights) }
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
    }

    /// The filter for these options: the program libseccomp compiled from the same rules on an earlier run, kept
    /// in `cache`, else compiled now (and kept). Free with ct_bpf_free.
    static func build(trigger: Trigger, enforce: Bool, action: Action, rights: Set<String> = [],
                      cache: FilterCache? = FilterCache.standard()) throws -> ct_bpf {
        let r = rules(trigger: trigger, enforce: enforce, action: action, rights: rights)
        guard let cache, seccomp_version() != nil else { return try compile(r) }  // no version: no key
        let k = key(r)
        if let kept = cache.load(key: k) { return kept }
        let bpf = try compile(r)
        cache.store(key: k, program: bpf)
        return bpf
    }

    /// The rules of the filter for these options, in the order they are added.
    static func rules(trigger: Trigger, enforce: Bool, action: Action, rights: Set<String> = []) -> [Rule] {
        let tags = plan(trigger: trigger, rights: rights)
        var out: [Rule] = []
        out.reserveCapacity(tags.count * 3)
        for abi in ABI.allCases {
            for (nr, sc) in Catalog.shared.entries(abi: abi) {
                guard let tag = tags[sc.name] else { continue }
                let act = action == .trace ? (0x7ff0_0000 | UInt32(tag.rawValue)) : 0x7fc0_0000
                var conditions: [[scmp_arg_cmp]] = [[]]
                if tag == .lifecycle {
                    // Only clone with CLONE_UNTRACED needs us (to strip the flag); clone3 always (flags in memory).
                    if sc.name == "clone" {
                        conditions = [[scmp_arg_cmp(arg: 0, op: SCMP_CMP_MASKED_EQ, datum_a: cloneUntraced, datum_b: cloneUntraced)]]
                    }
                } else if tag == .trigger, sc.name == "prctl" {
                    conditions = [[scmp_arg_cmp(arg: 0, op: SCMP_CMP_EQ, datum_a: prSetNoNewPrivs, datum_b: 0)],
                                  [scmp_arg_cmp(arg: 0, op: SCMP_CMP_EQ, datum_a: prSetSeccomp, datum_b: 0)]]
                } else if tag == .rights, let rows = RightsTable.filterConditions[sc.name] {
                    conditions = rows.map { $0.map { scmp_arg_cmp(arg: $0.arg, op: SCMP_CMP_MASKED_EQ, datum_a: $0.mask, datum_b: $0.value) } }
                } else if tag == .policy, !enforce, let pass = emptyPathPass[sc.name] {
                    // Trap unless AT_EMPTY_PATH is set on a real descriptor.
                    conditions = [[scmp_arg_cmp(arg: pass.flags, op: SCMP_CMP_MASKED_EQ, datum_a: atEmptyPath, datum_b: 0)],
                                  [scmp_arg_cmp(arg: pass.dirfd, op: SCMP_CMP_MASKED_EQ, datum_a: 0xffff_ffff, datum_b: 0xffff_ff9c)]]
                }
                // libseccomp numbers rules by the native (x86_64) number, or a negative pseudo-number for
                // calls x86_64 lacks, and translates them to each architecture; names it does not know (newer
                // than its tables) are added by this ABI's own number.
                out.append(Rule(abi: abi, name: sc.name, nr: Int32(nr), resolved: seccomp_syscall_resolve_name(sc.name),
                                action: act, conditions: conditions))
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
