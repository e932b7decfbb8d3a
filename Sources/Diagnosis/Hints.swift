import Baselines
import TraceModel

/// A known lazy-initialisation pattern: something a library does on first use that, after entry into
/// capability mode, reaches a global namespace. The entries themselves are data, in `KnowledgeBase.swift`.
///
/// A hint is grounded in evidence: the library functions that make the pattern must be on the violation's
/// stack (`matches`). A path alone never names a library: `cat /etc/passwd` is not NSS. Only a violation
/// recorded without a stack (`--stack-depth 0`) is matched on its path (`inferred`), and then says so.
public struct Hint: Sendable, Hashable {
    /// Stable id written into reports (`"hint": "glibc-resolver"`) and used by suggestions.
    public let id: String
    public let title: String
    /// The library code that makes the call, as the culprit line names it ("libc resolver"); nil for entries
    /// whose pattern is the global name itself (any code opening /dev/urandom), where the culprit comes from
    /// the stack.
    public let caller: String?
    /// The evidence on a stack: the hint applies when any one pattern matches. For an entry with a `caller`,
    /// every pattern names the caller's frames.
    public let matches: [Pattern]
    /// Path patterns tried only for a violation recorded without a stack; a match is marked inferred.
    public let inferred: [Pattern]
    public let explanation: String
    public let fix: String
    public let references: [String]
    /// The test that runs the pattern and its fix (Tests/IntegrationTests/HintFixTests.swift), or why none can
    /// run on Linux.
    public let proof: String

    public init(id: String, title: String, caller: String?, matches: [Pattern], inferred: [Pattern] = [],
                explanation: String, fix: String, references: [String], proof: String) {
        self.id = id; self.title = title; self.caller = caller; self.matches = matches; self.inferred = inferred
        self.explanation = explanation; self.fix = fix; self.references = references; self.proof = proof
    }
}

/// One way a pattern shows up. Every non-empty criterion must hold; within a criterion any element may match.
///
/// Globs are the one dialect of `Glob` (Baselines): `*` within one path component, `**` across components, `?`,
/// `[0-9]`, `{pid}` for the violating process's pid, `\` escapes.
public struct Pattern: Sendable, Hashable {
    /// Globs over the violation's path (lexically normalised), or over the path of a `unix:` socket address.
    public var paths: [String]
    /// Globs over the violation's `address` as written in traces (`127.0.0.1:53`, `unix:/dev/log`).
    public var addresses: [String]
    /// Syscall names.
    public var syscalls: [String]
    /// Frame globs, `symbol` or `module!symbol` (module is the basename: `libc.so*!__res_*`); some frame of the
    /// stack must match one.
    public var frames: [String]
    /// The path is a file named on the program's command line, or that file's directory.
    public var argument: Bool

    public init(paths: [String] = [], addresses: [String] = [], syscalls: [String] = [], frames: [String] = [],
                argument: Bool = false) {
        self.paths = paths; self.addresses = addresses; self.syscalls = syscalls; self.frames = frames
        self.argument = argument
    }

    public static func path(_ p: String...) -> Pattern { Pattern(paths: p) }
    public static func frame(_ f: String...) -> Pattern { Pattern(frames: f) }
}

/// A knowledge-base entry applied to a violation, with the kind of evidence it rests on.
public struct HintMatch: Sendable, Hashable {
    public let hint: Hint
    /// True when the violation has no stack and the entry was recognised from the path alone.
    public let inferred: Bool

    public init(hint: Hint, inferred: Bool) { self.hint = hint; self.inferred = inferred }
}

/// What the analysis knows beyond the violation itself: the files the program was given on its command line.
public struct HintContext: Sendable {
    /// Operands of the command line that may name files (argv after argv[0], options and `--opt=` prefixes
    /// dropped), lexically normalised.
    public let operands: [String]

    public init(operands: [String] = []) { self.operands = operands }

    /// The operands of a command line: words after argv[0] that do not start with `-`, and the value of
    /// `--option=VALUE` words.
    public init(argv: [String]) {
        var out: [String] = []
        for w in argv.dropFirst() where !w.isEmpty {
            if w.hasPrefix("-") {
                if let eq = w.firstIndex(of: "="), w.hasPrefix("--") { out.append(String(w[w.index(after: eq)...])) }
            } else {
                out.append(w)
            }
        }
        operands = out.filter { !$0.isEmpty }.map(PathText.normalize)
    }

    public static let none = HintContext()
}

public enum Hints {
    /// Every entry, in matching order (most specific first).
    public static var all: [Hint] { KnowledgeBase.entries }

    static let byID: [String: Hint] = Dictionary(KnowledgeBase.entries.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

    public static func entry(id: String) -> Hint? { byID[id] }

    /// The first entry whose evidence the violation carries, or nil. With a stack only `matches` count; without
    /// one, `inferred` path patterns are tried too and the match says so.
    public static func diagnose(_ v: ViolationEvent, context: HintContext = .none) -> HintMatch? {
        // The knowledge base explains capability-mode violations; a --policy refusal is not one.
        guard v.rule != .seccompProfile else { return nil }
        let subject = Subject(v, context: context)
        for (i, entry) in compiled.enumerated() {
            if entry.matches.contains(where: subject.satisfies) {
                return HintMatch(hint: KnowledgeBase.entries[i], inferred: false)
            }
        }
        guard v.stack.isEmpty else { return nil }
        for (i, entry) in compiled.enumerated() where entry.inferred.contains(where: subject.satisfies) {
            return HintMatch(hint: KnowledgeBase.entries[i], inferred: true)
        }
        return nil
    }

    /// The entry that explains the violation, or nil (`diagnose` without the kind of evidence).
    public static func match(_ v: ViolationEvent, context: HintContext = .none) -> Hint? {
        diagnose(v, context: context)?.hint
    }

    /// Each entry's patterns with every glob compiled once (every analysis matches each site), in
    /// `KnowledgeBase.entries` order.
    static let compiled: [(matches: [CompiledPattern], inferred: [CompiledPattern])] = KnowledgeBase.entries.map {
        ($0.matches.map(CompiledPattern.init), $0.inferred.map(CompiledPattern.init))
    }

    /// The hint to show for a recorded violation: always the current knowledge base's match. A `hint` an older
    /// captrace wrote into the trace is ignored, so a newer or reordered knowledge base re-diagnoses old traces.
    public static func resolve(_ v: ViolationEvent, context: HintContext = .none) -> Hint? { match(v, context: context) }
}

/// A `Pattern` prepared for matching: globs as bytes, frame globs split at `!`.
struct CompiledPattern {
    let paths: [Glob]
    let addresses: [Glob]
    let syscalls: [String]
    let frames: [(module: Glob?, symbol: Glob)]
    let argument: Bool

    /// The knowledge base is reviewed data: a malformed glob in it is a programming error (HintTests compile
    /// every entry).
    init(_ p: Pattern) {
        func glob(_ s: String) -> Glob {
            do { return try Glob(s) } catch { fatalError("knowledge base glob '\(s)': \(error.reason)") }
        }
        paths = p.paths.map(glob)
        addresses = p.addresses.map(glob)
        syscalls = p.syscalls
        argument = p.argument
        frames = p.frames.map { f in
            guard let bang = f.utf8.firstIndex(of: UInt8(ascii: "!")) else { return (nil, glob(f)) }
            return (glob(String(f[..<bang])), glob(String(f[f.utf8.index(after: bang)...])))
        }
    }
}

/// What the patterns are tested against, prepared once per violation.
struct Subject {
    let pid: Int32
    let syscall: String
    /// The normalised path (or `unix:` socket path), as bytes.
    let path: [UInt8]?
    let address: [UInt8]?
    /// (module basename, symbol) per frame, as bytes.
    let frames: [(module: [UInt8], symbol: [UInt8])]
    let isArgument: Bool

    init(_ v: ViolationEvent, context: HintContext) {
        pid = v.pid
        syscall = v.syscall
        address = v.address.map { Array($0.utf8) }
        if let p = v.path {
            path = PathText.normalized(Array(p.utf8))
        } else if let a = v.address, a.hasPrefix("unix:/") {
            path = PathText.normalized(Array(a.utf8.dropFirst(5)))
        } else {
            path = nil
        }
        frames = v.stack.map { (Array(PathText.basename($0.module ?? "").utf8), Array(($0.symbol ?? "").utf8)) }
        if let p = path, v.path != nil, v.rule != .exec, !context.operands.isEmpty {
            let text = String(decoding: p, as: UTF8.self)
            var raw: String?
            if case .string(let s)? = v.arg("pathname") ?? v.arg("filename") { raw = PathText.normalize(s) }
            isArgument = context.operands.contains { Subject.names(text, raw: raw, operand: $0) }
        } else {
            isArgument = false
        }
    }

    /// Whether the lookup names the file `operand` names, or the directory holding it: an absolute operand is
    /// compared with the (normalised, resolved) path, a relative one with the path as the program wrote it — a
    /// bare file name's directory is ".".
    static func names(_ path: String, raw: String?, operand: String) -> Bool {
        let dir: String
        if let slash = operand.lastIndex(of: "/") {
            dir = slash == operand.startIndex ? "/" : String(operand[..<slash])
        } else {
            dir = "."
        }
        if operand.hasPrefix("/") { return path == operand || path == dir }
        guard let raw else { return false }
        return raw == operand || raw == dir || (dir == "." && raw == "")
    }

    func satisfies(_ p: CompiledPattern) -> Bool {
        if !p.syscalls.isEmpty, !p.syscalls.contains(syscall) { return false }
        if p.argument, !isArgument { return false }
        if !p.paths.isEmpty {
            guard let path, p.paths.contains(where: { $0.matches(bytes: path, pid: pid) }) else { return false }
        }
        if !p.addresses.isEmpty {
            guard let address, p.addresses.contains(where: { $0.matches(bytes: address, pid: pid) }) else { return false }
        }
        if !p.frames.isEmpty {
            // An unknown symbol is "": only `*` matches it, so `libnss_*!*` means "any frame in libnss_*".
            let ok = p.frames.contains { mod, sym in
                frames.contains { m, s in (mod?.matches(bytes: m) ?? true) && sym.matches(bytes: s) }
            }
            if !ok { return false }
        }
        return true
    }
}
