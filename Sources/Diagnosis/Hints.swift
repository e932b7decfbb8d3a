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
/// Globs: `*` matches within one path component, `**` across components, `?` one character; `{pid}` stands
/// for the violating process's pid.
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

    /// Each entry's patterns with every glob compiled once (the recorder matches each new violation site), in
    /// `KnowledgeBase.entries` order.
    static let compiled: [[CompiledPattern]] = KnowledgeBase.entries.map { $0.matches.map(CompiledPattern.init) }

    /// The hint to show for a recorded violation: the one the trace names when this version knows it, else the
    /// current knowledge base's match (so older traces get newer diagnoses).
    public static func resolve(_ v: ViolationEvent) -> Hint? {
        if let id = v.hint, let h = entry(id: id) { return h }
        return match(v)
    }
}

/// A `Pattern` prepared for matching: globs as bytes, frame globs split at `!`.
struct CompiledPattern {
    let paths: [Glob]
    let addresses: [Glob]
    let syscalls: [String]
    let frames: [(module: Glob?, symbol: Glob)]

    init(_ p: Pattern) {
        paths = p.paths.map { Glob($0, expandsPID: true) }
        addresses = p.addresses.map { Glob($0, slashIsSpecial: false) }
        syscalls = p.syscalls
        frames = p.frames.map { f in
            guard let bang = f.utf8.firstIndex(of: UInt8(ascii: "!")) else { return (nil, Glob(f, slashIsSpecial: false)) }
            return (Glob(String(f[..<bang])), Glob(String(f[f.utf8.index(after: bang)...]), slashIsSpecial: false))
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
            guard let path, p.paths.contains(where: { $0.matches(path, pid: pid) }) else { return false }
        }
        if !p.addresses.isEmpty {
            guard let address, p.addresses.contains(where: { $0.matches(address) }) else { return false }
        }
        if !p.frames.isEmpty {
            // An unknown symbol is "": only `*` matches it, so `libnss_*!*` means "any frame in libnss_*".
            let ok = p.frames.contains { mod, sym in
                frames.contains { m, s in (mod?.matches(m) ?? true) && sym.matches(s) }
            }
            if !ok { return false }
        }
        return true
    }
}

/// Path helpers shared by the matcher and the report writers (pure string work, no filesystem access).
public enum PathText {
    /// The last path component.
    public static func basename(_ path: String) -> String {
        guard let i = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: i)...])
    }

    /// Collapses `//`, `.` and `..` lexically (no filesystem access); keeps a relative path relative.
    public static func normalize(_ p: String) -> String {
        String(decoding: normalized(Array(p.utf8)), as: UTF8.self)
    }

    /// `normalize` over UTF-8 bytes.
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        let absolute = bytes.first == slash
        var parts: [ArraySlice<UInt8>] = []
        for c in bytes.split(separator: slash, omittingEmptySubsequences: true) {
            if c.count == 1, c.first == dot { continue }
            let dotdot = c.count == 2 && c.allSatisfy { $0 == dot }
            if dotdot, let last = parts.last, !(last.count == 2 && last.allSatisfy { $0 == dot }) {
                parts.removeLast(); continue
            }
            if dotdot, absolute { continue }
            parts.append(c)
        }
        var out: [UInt8] = absolute ? [slash] : []
        for (i, c) in parts.enumerated() {
            if i > 0 { out.append(slash) }
            out += c
        }
        if out.isEmpty { out = [dot] }
        return out
    }
}

/// A glob compiled once: `*` any run of characters except `/` (when `slashIsSpecial`), `**` any run, `?` one
/// character, `[a-z0-9]` one character of a class; `{pid}` in a path glob stands for the violation's pid.
///
/// Most globs start with a literal (`/etc/`, `libc.so`): a text without that prefix is rejected by comparing
/// bytes, before the general matcher (and its memo) runs.
struct Glob {
    let bytes: [UInt8]
    let slashIsSpecial: Bool
    /// How many leading bytes are literal (before the first `*`, `?`, `[` or `{pid}`).
    let literalPrefix: Int
    /// No wildcard at all: a match is byte equality.
    let isLiteral: Bool
    let hasPID: Bool

    init(_ pattern: String, slashIsSpecial: Bool = true, expandsPID: Bool = false) {
        bytes = Array(pattern.utf8)
        self.slashIsSpecial = slashIsSpecial
        let pidAt = expandsPID ? Glob.find(Glob.pidToken, in: bytes) : nil
        hasPID = pidAt != nil
        let special = bytes.firstIndex { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
        literalPrefix = min(special ?? bytes.count, pidAt ?? bytes.count)
        isLiteral = special == nil && !hasPID
    }

    static let pidToken = Array("{pid}".utf8)

    func matches(_ text: [UInt8], pid: Int32 = 0) -> Bool {
        if isLiteral { return text == bytes }
        guard text.count >= literalPrefix, text.prefix(literalPrefix).elementsEqual(bytes.prefix(literalPrefix)) else {
            return false
        }
        if hasPID {
            let expanded = Glob.replacing(Glob.pidToken, with: Array(String(pid).utf8), in: bytes)
            return globMatch(expanded, text, slashIsSpecial: slashIsSpecial)
        }
        return globMatch(bytes, text, slashIsSpecial: slashIsSpecial)
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int = 0) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func replacing(_ needle: [UInt8], with replacement: [UInt8], in hay: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while let at = find(needle, in: hay, from: i) {
            out += hay[i..<at]
            out += replacement
            i = at + needle.count
        }
        return out + hay[i...]
    }
}

/// Glob match over UTF-8 bytes (see `Glob`), memoised so `*` and `**` backtrack in O(pattern × text).
func globMatch(_ p: [UInt8], _ t: [UInt8], slashIsSpecial: Bool) -> Bool {
    let cells = (p.count + 1) * (t.count + 1)
    return withUnsafeTemporaryAllocation(of: Int8.self, capacity: cells) { memo in
        memo.initialize(repeating: -1)
        func m(_ i: Int, _ j: Int) -> Bool {
            let k = i * (t.count + 1) + j
            if memo[k] >= 0 { return memo[k] == 1 }
            let r: Bool
            if i == p.count {
                r = j == t.count
            } else if p[i] == UInt8(ascii: "*") {
                let double = i + 1 < p.count && p[i + 1] == UInt8(ascii: "*")
                let next = double ? i + 2 : i + 1
                let crosses = double || !slashIsSpecial
                var ok = m(next, j)
                var jj = j
                while !ok, jj < t.count, crosses || t[jj] != UInt8(ascii: "/") {
                    jj += 1
                    ok = m(next, jj)
                }
                r = ok
            } else if p[i] == UInt8(ascii: "["), let close = p[(i + 1)...].firstIndex(of: UInt8(ascii: "]")) {
                // A class of single characters and ranges, e.g. [0-9]; never matches "/".
                var hit = false, c = i + 1
                while j < t.count, c < close {
                    if c + 2 < close, p[c + 1] == UInt8(ascii: "-") {
                        hit = hit || (p[c]...p[c + 2]).contains(t[j]); c += 3
                    } else {
                        hit = hit || p[c] == t[j]; c += 1
                    }
                }
                r = hit && m(close + 1, j + 1)
            } else if j < t.count, p[i] == UInt8(ascii: "?") || p[i] == t[j] {
                r = (p[i] != UInt8(ascii: "?") || !slashIsSpecial || t[j] != UInt8(ascii: "/")) && m(i + 1, j + 1)
            } else {
                r = false
            }
            memo[k] = r ? 1 : 0
            return r
        }
        return m(0, 0)
    }
}
