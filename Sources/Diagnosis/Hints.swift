import Baselines
import TraceModel

/// A known lazy-initialisation pattern: something a library does on first use that, after entry into
/// capability mode, reaches a global namespace. The entries themselves are data, in `KnowledgeBase.swift`.
public struct Hint: Sendable, Hashable {
    /// Stable id written into traces (`"hint": "glibc-resolver"`) and used by reports and suggestions.
    public let id: String
    public let title: String
    /// Who makes the call, as the culprit line names it ("libc resolver").
    public let caller: String
    /// The ways this pattern shows up; the hint applies when any one of them matches.
    public let matches: [Pattern]
    public let explanation: String
    public let fix: String
    public let references: [String]

    public init(id: String, title: String, caller: String, matches: [Pattern], explanation: String, fix: String,
                references: [String]) {
        self.id = id; self.title = title; self.caller = caller; self.matches = matches
        self.explanation = explanation; self.fix = fix; self.references = references
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

    public init(paths: [String] = [], addresses: [String] = [], syscalls: [String] = [], frames: [String] = []) {
        self.paths = paths; self.addresses = addresses; self.syscalls = syscalls; self.frames = frames
    }

    public static func path(_ p: String...) -> Pattern { Pattern(paths: p) }
    public static func frame(_ f: String...) -> Pattern { Pattern(frames: f) }
}

public enum Hints {
    /// Every entry, in matching order (most specific first).
    public static var all: [Hint] { KnowledgeBase.entries }

    static let byID: [String: Hint] = Dictionary(KnowledgeBase.entries.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

    public static func entry(id: String) -> Hint? { byID[id] }

    /// The first entry that explains the violation, or nil.
    public static func match(_ v: ViolationEvent) -> Hint? {
        let subject = Subject(v)
        let i = compiled.firstIndex { patterns in patterns.contains { subject.satisfies($0) } }
        return i.map { KnowledgeBase.entries[$0] }
    }

    /// Each entry's patterns with every glob compiled once (every analysis matches each site), in
    /// `KnowledgeBase.entries` order.
    static let compiled: [[CompiledPattern]] = KnowledgeBase.entries.map { $0.matches.map(CompiledPattern.init) }

    /// The hint to show for a recorded violation: always the current knowledge base's match. A `hint` an older
    /// captrace wrote into the trace is ignored, so a newer or reordered knowledge base re-diagnoses old traces.
    public static func resolve(_ v: ViolationEvent) -> Hint? { match(v) }
}

/// A `Pattern` prepared for matching: globs as bytes, frame globs split at `!`.
struct CompiledPattern {
    let paths: [Glob]
    let addresses: [Glob]
    let syscalls: [String]
    let frames: [(module: Glob?, symbol: Glob)]

    /// The knowledge base is reviewed data: a malformed glob in it is a programming error (HintTests compile
    /// every entry).
    init(_ p: Pattern) {
        func glob(_ s: String) -> Glob {
            do { return try Glob(s) } catch { fatalError("knowledge base glob '\(s)': \(error.reason)") }
        }
        paths = p.paths.map(glob)
        addresses = p.addresses.map(glob)
        syscalls = p.syscalls
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

    init(_ v: ViolationEvent) {
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
    }

    func satisfies(_ p: CompiledPattern) -> Bool {
        if !p.syscalls.isEmpty, !p.syscalls.contains(syscall) { return false }
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
