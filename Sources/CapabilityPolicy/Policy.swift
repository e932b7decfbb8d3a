import SyscallCatalog
import TraceModel

/// What the policy says about a syscall in capability mode.
public enum PolicyVerdict: String, Sendable, Hashable, CaseIterable {
    case allow, deny, conditional
}

/// When a conditional call stays inside capability mode (see the header of `PolicyData.text`).
public enum Condition: String, Sendable, Hashable, CaseIterable {
    /// Every path is relative to a held directory descriptor, without climbing above it with `..`; an empty (or,
    /// where the kernel accepts it, NULL) path names the descriptor itself.
    case pathRelativeToDirfd = "path-relative-to-dirfd"
    /// openat2: as `pathRelativeToDirfd`, or RESOLVE_BENEATH / RESOLVE_IN_ROOT relative to a descriptor.
    case resolveBeneath = "resolve-beneath"
    /// execveat: a descriptor with AT_EMPTY_PATH and an empty path (fexecve).
    case execDescriptor = "exec-descriptor"
    /// The pid, tid, process group or CPU clock the call names is the caller itself.
    case targetIsSelf = "target-is-self"
    /// No socket address is named.
    case noAddress = "no-address"
    /// clone/clone3 without CLONE_NEW* flags.
    case noNamespaceFlags = "no-namespace-flags"
    /// i386 socketcall/ipc: judged as the multiplexed call.
    case subcall = "subcall"
}

/// The decision of one policy entry.
public enum Decision: Sendable, Hashable {
    case allow
    /// Always a violation. A nil rule means the rule follows from the path argument ("by-path"):
    /// absolute-path, cwd-relative or unreadable-path.
    case deny(Rule?)
    case conditional(Condition)
}

/// One line of the policy.
public struct PolicyEntry: Sendable, Hashable {
    public let name: String
    public let decision: Decision
    /// The namespace a violation of this call reaches (nil for allowed calls).
    public let namespace: Namespace?
    /// The `[group]` the entry belongs to.
    public let group: String
    /// The entry's comment, without the `#` (nil when none).
    public let note: String?
    /// The comment starts with "linux-only:": FreeBSD has no such call.
    public let linuxOnly: Bool
    /// 1-based line in the policy text (0 for synthesized entries).
    public let line: Int

    public var verdict: PolicyVerdict {
        switch decision {
        case .allow: return .allow
        case .deny: return .deny
        case .conditional: return .conditional
        }
    }

    /// "absolute-path", "by-path", "target-is-self" or nil for allowed calls: the detail column.
    public var detail: String? {
        switch decision {
        case .allow: return nil
        case .deny(let rule): return rule?.rawValue ?? "by-path"
        case .conditional(let c): return c.rawValue
        }
    }

    /// What `entry(for:)` answers for a name the policy does not know (a syscall newer than the catalog):
    /// denied, as FreeBSD denies every call not marked CAPENABLED.
    static func unknown(_ name: String) -> PolicyEntry {
        PolicyEntry(name: name, decision: .deny(.systemState), namespace: .system, group: "unknown",
                    note: "not in the catalog: capability mode denies what it does not know", linuxOnly: false,
                    line: 0)
    }
}

/// A problem in the policy text, with its 1-based line (0 for whole-file problems).
public struct PolicyError: Error, Sendable, CustomStringConvertible, Equatable {
    public let line: Int
    public let message: String
    public var description: String { line > 0 ? "policy line \(line): \(message)" : "policy: \(message)" }
}

/// Parses the policy text format (see the header of `PolicyData.text`).
public enum PolicyLoader {
    /// Parses `text`, checking every name against `catalog`. With `requireComplete`, a catalog syscall without
    /// an entry is an error too.
    public static func parse(_ text: String, catalog: Catalog = .shared,
                             requireComplete: Bool = false) throws(PolicyError) -> [PolicyEntry] {
        var entries: [PolicyEntry] = []
        var seen: [String: Int] = [:]
        var group: String?
        var previousInGroup: String?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw PolicyError(line: lineNumber, message: "malformed group header '\(line)'")
                }
                let name = String(line.dropFirst().dropLast())
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                    throw PolicyError(line: lineNumber, message: "malformed group name '\(name)'")
                }
                group = name
                previousInGroup = nil
                continue
            }
            let code: Substring, comment: Substring?
            if let hash = line.firstIndex(of: "#") {
                code = line[..<hash]
                comment = line[line.index(after: hash)...]
            } else {
                code = line[...]
                comment = nil
            }
            let fields = code.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 4 else {
                throw PolicyError(line: lineNumber,
                                  message: "expected NAME VERDICT NAMESPACE DETAIL, found \(fields.count) field(s)")
            }
            guard let group else { throw PolicyError(line: lineNumber, message: "entry before any [group]") }
            let name = String(fields[0])
            guard catalog.syscall(named: name) != nil else {
                throw PolicyError(line: lineNumber, message: "unknown syscall '\(name)' (not in the catalog)")
            }
            if let first = seen[name] {
                throw PolicyError(line: lineNumber, message: "'\(name)' already has an entry on line \(first)")
            }
            if let previous = previousInGroup, previous >= name {
                throw PolicyError(line: lineNumber, message: "'\(name)' is out of order after '\(previous)' in [\(group)]")
            }
            guard let verdict = PolicyVerdict(rawValue: String(fields[1])) else {
                throw PolicyError(line: lineNumber, message: "unknown verdict '\(fields[1])' (allow, deny, conditional)")
            }
            let namespace: Namespace?
            if fields[2] == "-" {
                namespace = nil
            } else if let ns = Namespace(rawValue: String(fields[2])) {
                namespace = ns
            } else {
                throw PolicyError(line: lineNumber, message: "unknown namespace '\(fields[2])'")
            }
            let detail = String(fields[3])
            let note = comment.map { String($0.trimmingSpaces()) }.flatMap { $0.isEmpty ? nil : $0 }
            let decision: Decision
            switch verdict {
            case .allow:
                guard namespace == nil else {
                    throw PolicyError(line: lineNumber, message: "an allowed call reaches no namespace: write '-'")
                }
                guard detail == "-" else {
                    throw PolicyError(line: lineNumber, message: "an allowed call takes no detail, found '\(detail)'")
                }
                decision = .allow
            case .deny:
                guard let namespace else {
                    throw PolicyError(line: lineNumber, message: "a denied call needs a namespace")
                }
                guard note != nil else { throw PolicyError(line: lineNumber, message: "a denied call needs a # reason") }
                if detail == "by-path" {
                    guard namespace == .filesystem else {
                        throw PolicyError(line: lineNumber, message: "by-path is a filesystem rule")
                    }
                    decision = .deny(nil)
                } else if let rule = Rule(rawValue: detail) {
                    guard rule.namespace == namespace else {
                        throw PolicyError(line: lineNumber,
                                          message: "rule '\(detail)' belongs to \(rule.namespace.rawValue), not \(namespace.rawValue)")
                    }
                    decision = .deny(rule)
                } else {
                    throw PolicyError(line: lineNumber, message: "unknown rule '\(detail)'")
                }
            case .conditional:
                guard namespace != nil else {
                    throw PolicyError(line: lineNumber, message: "a conditional call needs the namespace it may violate")
                }
                guard let condition = Condition(rawValue: detail) else {
                    let known = Condition.allCases.map(\.rawValue).joined(separator: ", ")
                    throw PolicyError(line: lineNumber, message: "unknown condition '\(detail)' (\(known))")
                }
                if condition == .targetIsSelf, ProcessTarget.shape(of: name) == nil {
                    throw PolicyError(line: lineNumber,
                                      message: "target-is-self needs a known target shape; '\(name)' has none in ProcessTarget")
                }
                decision = .conditional(condition)
            }
            seen[name] = lineNumber
            previousInGroup = name
            entries.append(PolicyEntry(name: name, decision: decision, namespace: namespace, group: group, note: note,
                                       linuxOnly: note?.hasPrefix("linux-only:") ?? false, line: lineNumber))
        }
        if requireComplete {
            let missing = catalog.allNames.filter { seen[$0] == nil }
            if !missing.isEmpty {
                throw PolicyError(line: 0, message: "no entry for: \(missing.joined(separator: ", "))")
            }
        }
        return entries
    }
}

extension Rule {
    /// The namespace a rule belongs to.
    public var namespace: Namespace {
        switch self {
        case .absolutePath, .cwdRelative, .dotdotEscape, .unreadablePath, .exec: return .filesystem
        case .socketAddress: return .network
        case .otherProcess, .processGroup: return .process
        case .sysvIPC, .posixMQ: return .ipc
        case .systemState: return .system
        case .ioUring: return .bypass
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }
}

/// The parsed policy, with lookups by name and by (ABI, number).
public final class CapabilityPolicy: Sendable {
    /// The built-in policy (`PolicyData.text`), parsed on first use. It is checked by the tests; a parse error
    /// here is a programming error.
    public static let standard: CapabilityPolicy = {
        do {
            return try CapabilityPolicy(text: PolicyData.text, catalog: .shared)
        } catch {
            fatalError("the built-in capability policy is invalid: \(error)")
        }
    }()

    /// The text of the built-in policy (what `captrace` documents and the tests re-parse).
    public static var standardText: String { PolicyData.text }

    /// Entries in file order.
    public let entries: [PolicyEntry]
    private let byName: [String: PolicyEntry]
    /// Indexed by `ABI.ordinal`, then syscall number.
    private let byNumber: [[PolicyEntry?]]
    /// The decisions alone, for the classifier's hot path (no strings to reference-count).
    private let decisions: [[Decision?]]

    public init(text: String, catalog: Catalog = .shared) throws(PolicyError) {
        entries = try PolicyLoader.parse(text, catalog: catalog, requireComplete: true)
        var byName: [String: PolicyEntry] = [:]
        for e in entries { byName[e.name] = e }
        self.byName = byName
        byNumber = ABI.allCases.map { abi in
            let list = catalog.entries(abi: abi)
            var table = [PolicyEntry?](repeating: nil, count: (list.last?.nr ?? -1) + 1)
            for (nr, sc) in list { table[nr] = byName[sc.name] }
            return table
        }
        decisions = byNumber.map { $0.map { $0?.decision } }
    }

    /// The entry for `name`; a name the catalog does not know gets a denying entry (`PolicyEntry.unknown`).
    public func entry(for name: String) -> PolicyEntry { byName[name] ?? .unknown(name) }

    /// The entry for a number within an ABI, or nil when the catalog has no such syscall.
    public func entry(abi: ABI, nr: Int) -> PolicyEntry? {
        byNumber[abi.ordinal].withUnsafeBufferPointer { nr >= 0 && nr < $0.count ? $0[nr] : nil }
    }

    /// The decision for a number within an ABI (what the classifier reads), or nil when unknown.
    @inline(__always)
    public func decision(abi: ABI, nr: Int) -> Decision? {
        decisions[abi.ordinal].withUnsafeBufferPointer { nr >= 0 && nr < $0.count ? $0[nr] : nil }
    }

    /// Whether the seccomp filter must stop this syscall for the classifier: deny or conditional (and unknown).
    /// Allowed calls can pass the filter without a stop.
    public func mayViolate(_ name: String) -> Bool { entry(for: name).verdict != .allow }

    /// Tests the filter can apply in BPF to let a conditional call pass without a stop (see `FilterShortcut`).
    /// Each shortcut is one libseccomp rule (its tests ANDed); several shortcuts are alternatives (ORed).
    /// Empty when no register test can prove the call harmless.
    public func filterShortcuts(for name: String, abi: ABI, catalog: Catalog = .shared) -> [FilterShortcut] {
        guard case .conditional(let condition) = entry(for: name).decision,
              let nr = catalog.number(of: name, abi: abi), let sc = catalog.syscall(abi: abi, nr: nr)
        else { return [] }
        return FilterShortcut.shortcuts(for: sc, condition: condition)
    }
}

/// One comparison on a syscall argument register, as libseccomp's `scmp_arg_cmp` can express it.
public struct ArgTest: Sendable, Hashable {
    public enum Op: Sendable, Hashable {
        /// `arg == value` (SCMP_CMP_EQ, all 64 bits).
        case equal
        /// `(arg & mask) == value` (SCMP_CMP_MASKED_EQ).
        case maskedEqual(mask: UInt64)
    }
    public let index: Int
    public let op: Op
    public let value: UInt64

    public init(index: Int, op: Op, value: UInt64) { self.index = index; self.op = op; self.value = value }

    /// Whether registers satisfy the test (what the BPF program computes).
    public func holds(_ args: [UInt64]) -> Bool {
        guard index < args.count else { return false }
        switch op {
        case .equal: return args[index] == value
        case .maskedEqual(let mask): return args[index] & mask == value
        }
    }
}

/// A register test under which the seccomp filter may let a conditional syscall pass without stopping.
///
/// BPF sees only the six argument registers: it cannot read a path, an address or a struct in memory. A
/// `sound` shortcut passes only calls the classifier would allow from registers alone (pid 0 meaning the
/// caller, a NULL destination address, no CLONE_NEW* bits, a non-negative clock id). The one unsound shortcut
/// is AT_EMPTY_PATH with a dirfd other than AT_FDCWD on the fstatat family: it lets
/// `newfstatat(fd, "", buf, AT_EMPTY_PATH)` (glibc's fstat, a large share of all calls) pass, but it lets
/// through *any* path with that flag on a descriptor as well, and the kernel resolves a non-empty path
/// normally — `newfstatat(fd, "/etc/passwd", buf, AT_EMPTY_PATH)` or `newfstatat(fd, "../x", ...)` would not
/// be recorded (glibc never issues them; hand-written or other-libc code could). A supervisor that installs an unsound shortcut must say so in the trace header or README; one
/// that cannot accept the hole must stop these calls and classify them (the classifier handles them exactly).
public struct FilterShortcut: Sendable, Hashable {
    /// All must hold.
    public let tests: [ArgTest]
    /// ...unless this one holds too (libseccomp has no masked "not equal": a filter that traps by default adds
    /// it as a trap rule of its own; one that passes by rule cannot express it and must not use the shortcut).
    public let unless: ArgTest?
    /// Passing implies the classifier would say `allowed`.
    public let sound: Bool
    public let note: String

    public init(tests: [ArgTest], unless: ArgTest? = nil, sound: Bool, note: String) {
        self.tests = tests; self.unless = unless; self.sound = sound; self.note = note
    }

    /// Whether registers pass every test (and not the `unless` test).
    public func passes(_ args: [UInt64]) -> Bool {
        tests.allSatisfy { $0.holds(args) } && !(unless?.holds(args) ?? false)
    }

    static func shortcuts(for sc: Syscall, condition: Condition) -> [FilterShortcut] {
        switch condition {
        case .pathRelativeToDirfd:
            // Only the fstatat family: an fstat of a held descriptor is the commonest syscall with a path.
            guard ["newfstatat", "fstatat64", "statx"].contains(sc.name), let flags = sc.atFlagsIndex,
                  let dirfd = sc.dirfdIndex else { return [] }
            return [FilterShortcut(
                tests: [ArgTest(index: flags, op: .maskedEqual(mask: AtFlags.AT_EMPTY_PATH), value: AtFlags.AT_EMPTY_PATH)],
                unless: ArgTest(index: dirfd, op: .maskedEqual(mask: 0xFFFF_FFFF),
                                value: UInt64(UInt32(bitPattern: AtFlags.AT_FDCWD))),
                sound: false,
                note: "AT_EMPTY_PATH on a descriptor; BPF cannot see that the path is empty, so a non-empty path with the flag passes unrecorded")]
        case .noAddress:
            guard let addr = sc.index(of: .sockaddr), let len = sc.index(of: .sockaddrLen), sc.name == "sendto" else {
                return []
            }
            return [FilterShortcut(tests: [ArgTest(index: addr, op: .equal, value: 0)], sound: true,
                                   note: "no destination address"),
                    FilterShortcut(tests: [ArgTest(index: len, op: .maskedEqual(mask: 0xFFFF_FFFF), value: 0)], sound: true,
                                   note: "zero address length: the kernel ignores the address")]
        case .noNamespaceFlags:
            guard sc.name == "clone" else { return [] }  // clone3's flags are in memory
            return [FilterShortcut(tests: [ArgTest(index: 0, op: .maskedEqual(mask: CloneFlags.newNamespacesClone), value: 0)],
                                   sound: true, note: "no CLONE_NEW* flag")]
        case .targetIsSelf:
            guard let shape = ProcessTarget.shape(of: sc.name) else { return [] }
            switch shape {
            case .zeroIsSelf(let i):
                return [FilterShortcut(tests: [ArgTest(index: i, op: .equal, value: 0)], sound: true, note: "pid 0: the caller")]
            case .priority(let process, _, _):
                return [FilterShortcut(tests: [ArgTest(index: 0, op: .equal, value: UInt64(process)),
                                               ArgTest(index: 1, op: .equal, value: 0)],
                                       sound: true, note: "the calling process (who = 0)")]
            case .setpgid:
                return [FilterShortcut(tests: [ArgTest(index: 0, op: .equal, value: 0), ArgTest(index: 1, op: .equal, value: 0)],
                                       sound: true, note: "setpgid(0, 0): become own group leader")]
            case .clock(let i):
                return [FilterShortcut(tests: [ArgTest(index: i, op: .maskedEqual(mask: 0x8000_0000), value: 0)],
                                       sound: true, note: "a non-negative clock id is a system clock, not a process's CPU clock")]
            case .kill, .positive, .threadGroup, .ptrace, .kcmp:
                return []
            }
        case .resolveBeneath, .execDescriptor, .subcall:
            return []
        }
    }
}
