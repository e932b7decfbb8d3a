import SyscallCatalog
import TraceModel

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
    /// socket: neither a raw IP socket nor a packet socket (see `RawSockets`).
    case noRawProtocol = "no-raw-protocol"
}

/// What the policy says about a syscall in capability mode: the decision of one policy entry.
public enum Decision: Sendable, Hashable {
    case allow
    /// Always a violation. A nil rule means the rule follows from the path argument ("by-path"):
    /// absolute-path, cwd-relative or unreadable-path.
    case deny(Rule?)
    case conditional(Condition)

    /// The decision without its detail: the policy text's verdict column and `captrace syscalls`' VERDICT.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case allow, deny, conditional
    }

    public var kind: Kind {
        switch self {
        case .allow: return .allow
        case .deny: return .deny
        case .conditional: return .conditional
        }
    }

    /// The decision as one byte, for the generated `PolicyDecisions` tables: 1 allow, 2 deny by-path, 16 + n a
    /// rule, 48 + n a condition (0 is kept for "no syscall"). Exhaustive switches both ways, so a new rule or
    /// condition does not compile until it has a code.
    var code: UInt8 {
        switch self {
        case .allow: return 1
        case .deny(nil): return 2
        case .deny(let rule?):
            switch rule {
            case .absolutePath: return 16
            case .cwdRelative: return 17
            case .dotdotEscape: return 18
            case .symlinkEscape: return 19
            case .unreadablePath: return 20
            case .exec: return 21
            case .socketAddress: return 22
            case .rawSocket: return 23
            case .otherProcess: return 24
            case .processGroup: return 25
            case .sysvIPC: return 26
            case .posixMQ: return 27
            case .systemState: return 28
            case .ioUring: return 29
            case .seccompProfile: return 30
            }
        case .conditional(let condition):
            switch condition {
            case .pathRelativeToDirfd: return 48
            case .resolveBeneath: return 49
            case .execDescriptor: return 50
            case .targetIsSelf: return 51
            case .noAddress: return 52
            case .noNamespaceFlags: return 53
            case .subcall: return 54
            case .noRawProtocol: return 55
            }
        }
    }

    /// The decision a `code` stands for; nil for 0 ("no syscall") and unused codes.
    init?(code: UInt8) {
        switch code {
        case 1: self = .allow
        case 2: self = .deny(nil)
        case 16: self = .deny(.absolutePath)
        case 17: self = .deny(.cwdRelative)
        case 18: self = .deny(.dotdotEscape)
        case 19: self = .deny(.symlinkEscape)
        case 20: self = .deny(.unreadablePath)
        case 21: self = .deny(.exec)
        case 22: self = .deny(.socketAddress)
        case 23: self = .deny(.rawSocket)
        case 24: self = .deny(.otherProcess)
        case 25: self = .deny(.processGroup)
        case 26: self = .deny(.sysvIPC)
        case 27: self = .deny(.posixMQ)
        case 28: self = .deny(.systemState)
        case 29: self = .deny(.ioUring)
        case 30: self = .deny(.seccompProfile)
        case 48: self = .conditional(.pathRelativeToDirfd)
        case 49: self = .conditional(.resolveBeneath)
        case 50: self = .conditional(.execDescriptor)
        case 51: self = .conditional(.targetIsSelf)
        case 52: self = .conditional(.noAddress)
        case 53: self = .conditional(.noNamespaceFlags)
        case 54: self = .conditional(.subcall)
        case 55: self = .conditional(.noRawProtocol)
        default: return nil
        }
    }
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
///
/// The parser reads UTF-8 bytes and makes a `String` only for the fields it keeps: every run parses the built-in
/// policy before the program starts, and splitting the text into `Character`s cost ~6 ms of that start.
public enum PolicyLoader {
    /// Parses `text`, checking every name against `catalog`. With `requireComplete`, a catalog syscall without
    /// an entry is an error too.
    public static func parse(_ text: String, catalog: Catalog = .shared,
                             requireComplete: Bool = false) throws(PolicyError) -> [PolicyEntry] {
        var text = text
        let result = text.withUTF8 { parse(bytes: $0, catalog: catalog, requireComplete: requireComplete) }
        return try result.get()
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>, catalog: Catalog,
                              requireComplete: Bool) -> Result<[PolicyEntry], PolicyError> {
        var entries: [PolicyEntry] = []
        var seen: [String: Int] = [:]
        entries.reserveCapacity(catalog.nameCount)
        seen.reserveCapacity(catalog.nameCount)
        var group: String?
        var previousInGroup: String?
        var lineNumber = 0
        var next = 0
        func failure(_ message: String) -> Result<[PolicyEntry], PolicyError> {
            .failure(PolicyError(line: lineNumber, message: message))
        }
        func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self) }
        // Lines as String.split(separator: "\n", omittingEmptySubsequences: false) gives them: "a\n" is two lines.
        while next <= bytes.count {
            let end = firstIndex(of: UInt8(ascii: "\n"), in: bytes, next..<bytes.count) ?? bytes.count
            let line = trimmingSpaces(bytes, next..<end)
            next = end + 1
            lineNumber += 1
            if line.isEmpty || bytes[line.lowerBound] == UInt8(ascii: "#") { continue }
            if bytes[line.lowerBound] == UInt8(ascii: "[") {
                guard bytes[line.upperBound - 1] == UInt8(ascii: "]"), line.count > 2 else {
                    return failure("malformed group header '\(text(line))'")
                }
                let name = text(line.lowerBound + 1..<line.upperBound - 1)
                guard isGroupName(bytes[line.lowerBound + 1..<line.upperBound - 1], name) else {
                    return failure("malformed group name '\(name)'")
                }
                group = name
                previousInGroup = nil
                continue
            }
            var code = line, comment: Range<Int>?
            if let hash = firstIndex(of: UInt8(ascii: "#"), in: bytes, line) {
                code = line.lowerBound..<hash
                comment = hash + 1..<line.upperBound
            }
            // NAME VERDICT NAMESPACE DETAIL, separated by runs of spaces and tabs; a fifth field is only counted.
            var fields = (0..<0, 0..<0, 0..<0, 0..<0), count = 0
            var i = code.lowerBound
            while i < code.upperBound {
                while i < code.upperBound, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                guard i < code.upperBound else { break }
                let start = i
                while i < code.upperBound, bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
                switch count {
                case 0: fields.0 = start..<i
                case 1: fields.1 = start..<i
                case 2: fields.2 = start..<i
                case 3: fields.3 = start..<i
                default: break
                }
                count += 1
            }
            guard count == 4 else {
                return failure("expected NAME VERDICT NAMESPACE DETAIL, found \(count) field(s)")
            }
            guard let group else { return failure("entry before any [group]") }
            let name = text(fields.0)
            guard catalog.syscall(named: name) != nil else {
                return failure("unknown syscall '\(name)' (not in the catalog)")
            }
            if let first = seen[name] {
                return failure("'\(name)' already has an entry on line \(first)")
            }
            if let previous = previousInGroup, previous >= name {
                return failure("'\(name)' is out of order after '\(previous)' in [\(group)]")
            }
            let verdictText = text(fields.1)
            guard let verdict = Decision.Kind(rawValue: verdictText) else {
                return failure("unknown verdict '\(verdictText)' (allow, deny, conditional)")
            }
            let namespace: Namespace?
            let namespaceText = text(fields.2)
            if namespaceText == "-" {
                namespace = nil
            } else if let ns = Namespace(rawValue: namespaceText) {
                namespace = ns
            } else {
                return failure("unknown namespace '\(namespaceText)'")
            }
            let detail = text(fields.3)
            let note = comment.map { trimmingSpaces(bytes, $0) }.flatMap { $0.isEmpty ? nil : text($0) }
            let decision: Decision
            switch verdict {
            case .allow:
                guard namespace == nil else { return failure("an allowed call reaches no namespace: write '-'") }
                guard detail == "-" else { return failure("an allowed call takes no detail, found '\(detail)'") }
                decision = .allow
            case .deny:
                guard let namespace else { return failure("a denied call needs a namespace") }
                guard note != nil else { return failure("a denied call needs a # reason") }
                if detail == "by-path" {
                    guard namespace == .filesystem else { return failure("by-path is a filesystem rule") }
                    decision = .deny(nil)
                } else if let rule = Rule(rawValue: detail) {
                    guard rule.namespace == namespace else {
                        return failure("rule '\(detail)' belongs to \(rule.namespace.rawValue), not \(namespace.rawValue)")
                    }
                    decision = .deny(rule)
                } else {
                    return failure("unknown rule '\(detail)'")
                }
            case .conditional:
                guard namespace != nil else { return failure("a conditional call needs the namespace it may violate") }
                guard let condition = Condition(rawValue: detail) else {
                    let known = Condition.allCases.map(\.rawValue).joined(separator: ", ")
                    return failure("unknown condition '\(detail)' (\(known))")
                }
                if condition == .targetIsSelf, catalog.syscall(named: name)?.processTarget == nil {
                    return failure("target-is-self needs a known target shape; '\(name)' has no pid: column in the catalog")
                }
                decision = .conditional(condition)
            }
            seen[name] = lineNumber
            previousInGroup = name
            entries.append(PolicyEntry(name: name, decision: decision, namespace: namespace, group: group, note: note,
                                       linuxOnly: note?.hasPrefix("linux-only:") ?? false, line: lineNumber))
        }
        // Every name in `seen` is a catalog name, once: the catalog is covered exactly when the counts agree.
        if requireComplete, seen.count < catalog.nameCount {
            let missing = catalog.allNames.filter { seen[$0] == nil }
            if !missing.isEmpty {
                return .failure(PolicyError(line: 0, message: "no entry for: \(missing.joined(separator: ", "))"))
            }
        }
        return .success(entries)
    }

    /// The first index of `byte` within `r` (a pure module: no memchr).
    @inline(__always)
    private static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        var i = r.lowerBound
        while i < r.upperBound {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// `r` without leading and trailing spaces, tabs and carriage returns.
    private static func trimmingSpaces(_ bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
        var lower = r.lowerBound, upper = r.upperBound
        while lower < upper, isSpace(bytes[lower]) { lower += 1 }
        while upper > lower, isSpace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// Letters, digits and "-" (non-ASCII letters and digits too, judged by `Character`).
    private static func isGroupName(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ name: String) -> Bool {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return bytes.allSatisfy { b in
                (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                    || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-")
            }
        }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }
}

extension Rule {
    /// The namespace a rule belongs to.
    public var namespace: Namespace {
        switch self {
        case .absolutePath, .cwdRelative, .dotdotEscape, .symlinkEscape, .unreadablePath, .exec: return .filesystem
        case .socketAddress, .rawSocket: return .network
        case .otherProcess, .processGroup: return .process
        case .sysvIPC, .posixMQ: return .ipc
        case .systemState: return .system
        case .ioUring: return .bypass
        case .seccompProfile: return .policy
        }
    }
}

/// The parsed policy, with lookups by name and by (ABI, number).
///
/// The built-in policy (`standard`) answers `decision(abi:nr:)` from the generated `PolicyDecisions` tables and
/// parses its text (`PolicyData.text`, the source of truth) only when an entry is asked for by name, or for its
/// notes and lines: a run classifies the calls that arrive without parsing it. The tests check that the tables
/// equal the parsed text for every syscall of every ABI.
public final class CapabilityPolicy: Sendable {
    /// The built-in policy (`PolicyData.text`). It is checked by the tests; a parse error on first use of the
    /// text is a programming error.
    public static let standard = CapabilityPolicy()

    /// The text of the built-in policy (what `captrace` documents and the tests re-parse).
    public static var standardText: String { PolicyData.text }

    /// The parsed text; nil for the built-in policy, whose text is parsed on first use (`Parsed.standard`).
    private let text: Parsed?
    private var parsed: Parsed { text ?? Parsed.standard }

    /// Entries in file order.
    public var entries: [PolicyEntry] { parsed.entries }

    public init(text: String, catalog: Catalog = .shared) throws(PolicyError) {
        self.text = try Parsed(text: text, catalog: catalog)
    }

    private init() { text = nil }

    /// A policy text's entries with their lookups.
    private final class Parsed: Sendable {
        static let standard: Parsed = {
            do {
                return try Parsed(text: PolicyData.text, catalog: .shared)
            } catch {
                fatalError("the built-in capability policy is invalid: \(error)")
            }
        }()

        let entries: [PolicyEntry]
        let byName: [String: PolicyEntry]
        /// Indexed by `ABI.ordinal`, then syscall number.
        let byNumber: [[PolicyEntry?]]
        /// The decisions alone, for the classifier's hot path (no strings to reference-count).
        let decisions: [[Decision?]]

        init(text: String, catalog: Catalog) throws(PolicyError) {
            entries = try PolicyLoader.parse(text, catalog: catalog, requireComplete: true)
            var byName: [String: PolicyEntry] = [:]
            byName.reserveCapacity(entries.count)
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
    }

    /// The entry for `name`; a name the catalog does not know gets a denying entry (`PolicyEntry.unknown`).
    public func entry(for name: String) -> PolicyEntry { parsed.byName[name] ?? .unknown(name) }

    /// The entry for a number within an ABI, or nil when the catalog has no such syscall.
    public func entry(abi: ABI, nr: Int) -> PolicyEntry? {
        parsed.byNumber[abi.ordinal].withUnsafeBufferPointer { nr >= 0 && nr < $0.count ? $0[nr] : nil }
    }

    /// The decision for a number within an ABI (what the classifier reads), or nil when unknown.
    @inline(__always)
    public func decision(abi: ABI, nr: Int) -> Decision? {
        guard let text else {
            return PolicyDecisions.codes(abi).withUnsafeBufferPointer {
                nr >= 0 && nr < $0.count ? Decision(code: $0[nr]) : nil
            }
        }
        return text.decisions[abi.ordinal].withUnsafeBufferPointer { nr >= 0 && nr < $0.count ? $0[nr] : nil }
    }

    /// The decision for `name`, or nil when the policy has no entry for it. The built-in policy answers from the
    /// generated tables through one of the name's numbers (it decides per name: every ABI's number of a name has
    /// the same decision), so building a filter does not parse its text (~2 ms at every start that computes the
    /// filter's rules); a name no ABI numbers is looked up in the text.
    public func decision(named name: String, catalog: Catalog = .shared) -> Decision? {
        if text == nil {
            for abi in ABI.allCases {
                if let nr = catalog.number(of: name, abi: abi) { return decision(abi: abi, nr: nr) }
            }
        }
        return parsed.byName[name]?.decision
    }

    /// Whether the seccomp filter must stop this syscall for the classifier: deny or conditional (and unknown).
    /// Allowed calls can pass the filter without a stop.
    public func mayViolate(_ name: String) -> Bool { decision(named: name).map { $0 != .allow } ?? true }

    /// `mayViolate` for a number within an ABI (no name lookup: the built-in policy's text stays unparsed).
    public func mayViolate(abi: ABI, nr: Int) -> Bool { decision(abi: abi, nr: nr).map { $0 != .allow } ?? true }

    /// Tests the filter can apply in BPF to let a conditional call pass without a stop (see `FilterShortcut`).
    /// Each shortcut is one libseccomp rule (its tests ANDed); several shortcuts are alternatives (ORed).
    /// Empty when no register test can prove the call harmless.
    public func filterShortcuts(for name: String, abi: ABI, catalog: Catalog = .shared) -> [FilterShortcut] {
        guard let nr = catalog.number(of: name, abi: abi), case .conditional(let condition)? = decision(abi: abi, nr: nr),
              let sc = catalog.syscall(abi: abi, nr: nr)
        else { return [] }
        return FilterShortcut.shortcuts(for: sc, condition: condition)
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
            guard sc.pathOp == .stat || sc.pathOp == .statx, let flags = sc.atFlagsIndex,
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
            guard let shape = sc.processTarget else { return [] }
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
        case .resolveBeneath, .execDescriptor, .subcall, .noRawProtocol:
            return []  // noRawProtocol: the filter traps only raw sockets instead (RawSockets.trapTests)
        }
    }
}
