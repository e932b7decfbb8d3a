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
        for h in KnowledgeBase.entries where h.matches.contains(where: { subject.satisfies($0) }) { return h }
        return nil
    }

    /// The hint to show for a recorded violation: the one the trace names when this version knows it, else the
    /// current knowledge base's match (so older traces get newer diagnoses).
    public static func resolve(_ v: ViolationEvent) -> Hint? {
        if let id = v.hint, let h = entry(id: id) { return h }
        return match(v)
    }
}

/// What the patterns are tested against, prepared once per violation.
struct Subject {
    let pid: Int32
    let syscall: String
    let path: String?
    let address: String?
    /// (module basename, symbol) per frame.
    let frames: [(String, String)]

    init(_ v: ViolationEvent) {
        pid = v.pid
        syscall = v.syscall
        address = v.address
        if let p = v.path {
            path = PathText.normalize(p)
        } else if let a = v.address, a.hasPrefix("unix:/") {
            path = PathText.normalize(String(a.dropFirst(5)))
        } else {
            path = nil
        }
        frames = v.stack.map { (PathText.basename($0.module ?? ""), $0.symbol ?? "") }
    }

    func satisfies(_ p: Pattern) -> Bool {
        if !p.syscalls.isEmpty, !p.syscalls.contains(syscall) { return false }
        if !p.paths.isEmpty {
            guard let path, p.paths.contains(where: { glob(expand($0), path) }) else { return false }
        }
        if !p.addresses.isEmpty {
            guard let address, p.addresses.contains(where: { glob($0, address, slashIsSpecial: false) }) else {
                return false
            }
        }
        if !p.frames.isEmpty {
            let ok = p.frames.contains { f in
                let (mod, sym): (String?, String) =
                    if let bang = f.firstIndex(of: "!") { (String(f[..<bang]), String(f[f.index(after: bang)...])) }
                    else { (nil, f) }
                // An unknown symbol is "": only `*` matches it, so `libnss_*!*` means "any frame in libnss_*".
                return frames.contains { m, s in glob(sym, s, slashIsSpecial: false) && (mod.map { glob($0, m) } ?? true) }
            }
            if !ok { return false }
        }
        return true
    }

    func expand(_ pattern: String) -> String {
        pattern.contains("{pid}") ? pattern.replacingAll("{pid}", with: String(pid)) : pattern
    }
}

/// Path helpers shared by the matcher and the report writers (pure string work, no filesystem access).
public enum PathText {
    /// The last path component.
    public static func basename(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: i)...])
    }

    /// Collapses `//`, `.` and `..` lexically (no filesystem access); keeps a relative path relative.
    public static func normalize(_ p: String) -> String {
        let absolute = p.hasPrefix("/")
        var parts: [Substring] = []
        for c in p.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if c == "..", absolute { continue }
            parts.append(c)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}

/// Glob match: `*` any run of characters except `/` (when `slashIsSpecial`), `**` any run, `?` one character,
/// `[a-z0-9]` one character of a class.
func glob(_ pattern: String, _ text: String, slashIsSpecial: Bool = true) -> Bool {
    let p = Array(pattern.utf8), t = Array(text.utf8)
    var memo = [Int8](repeating: -1, count: (p.count + 1) * (t.count + 1))
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

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    /// Plain substring search (no Foundation).
    func range(of needle: String) -> Range<Index>? {
        let n = Array(needle)
        guard !n.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            var a = i, k = 0
            while k < n.count, a < endIndex, self[a] == n[k] { a = index(after: a); k += 1 }
            if k == n.count { return i..<a }
            i = index(after: i)
        }
        return nil
    }
}
