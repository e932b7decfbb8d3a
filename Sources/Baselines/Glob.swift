/// The one glob dialect of captrace: allowlist values (`path=`, `address=`) and the knowledge base's paths,
/// addresses and frames are written in it.
///
/// - `*` matches any run of characters except `/`; `**` any run, `/` included; `?` one character except `/`;
/// - `[a-z0-9_]` one character of a class (single characters and ranges; never `/`);
/// - `{pid}` the decimal pid of the violating process (matches nothing where no pid is given);
/// - `\` makes the next character literal (`\*`, `\[`, `\{`, `\\`).
///
/// Everything else matches itself. Matching is over UTF-8 bytes, compiled once, memoised, so `*` and `**`
/// backtrack in O(pattern × text).
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case byte(UInt8)
        /// Any run without "/".
        case star
        /// Any run.
        case doubleStar
        /// One byte other than "/".
        case one
        /// One byte in one of the inclusive ranges (never "/").
        case oneOf([ClosedRange<UInt8>])
        /// The pid's decimal digits.
        case pid
    }

    let tokens: [Token]
    /// The pattern as written.
    public let pattern: String
    /// The pattern has no wildcard: matching is equality with this text (and these bytes).
    let literal: [UInt8]?
    let literalText: String?
    /// The literal bytes every match starts with (checked before the general matcher runs).
    let prefix: [UInt8]
    let hasPID: Bool

    public init(_ pattern: String) throws(GlobError) {
        var t: [Token] = []
        var bytes = Array(pattern.utf8)[...]
        while let b = bytes.popFirst() {
            switch b {
            case UInt8(ascii: "\\"):
                guard let n = bytes.popFirst() else { throw GlobError(reason: "pattern ends with a lone \\") }
                t.append(.byte(n))
            case UInt8(ascii: "*"):
                if bytes.first == UInt8(ascii: "*") { bytes.removeFirst(); t.append(.doubleStar) } else { t.append(.star) }
            case UInt8(ascii: "?"):
                t.append(.one)
            case UInt8(ascii: "["):
                var ranges: [ClosedRange<UInt8>] = []
                var closed = false
                while let c = bytes.popFirst() {
                    if c == UInt8(ascii: "]") && !ranges.isEmpty { closed = true; break }
                    var lo = c
                    if c == UInt8(ascii: "\\") {
                        guard let n = bytes.popFirst() else { break }
                        lo = n
                    }
                    if bytes.count >= 2, bytes.first == UInt8(ascii: "-"), bytes.dropFirst().first != UInt8(ascii: "]") {
                        bytes.removeFirst()
                        let hi = bytes.removeFirst()
                        guard lo <= hi else { throw GlobError(reason: "empty range in a [...] class") }
                        ranges.append(lo...hi)
                    } else {
                        ranges.append(lo...lo)
                    }
                }
                guard closed else { throw GlobError(reason: "a [ without its ] (write \\[ for the character)") }
                t.append(.oneOf(ranges))
            case UInt8(ascii: "{") where bytes.starts(with: "pid}".utf8):
                bytes.removeFirst(4)
                t.append(.pid)
            default:
                t.append(.byte(b))
            }
        }
        tokens = t
        self.pattern = pattern
        var lead: [UInt8] = []
        for case .byte(let b) in t.prefix(while: { if case .byte = $0 { true } else { false } }) { lead.append(b) }
        prefix = lead
        hasPID = t.contains(.pid)
        literal = lead.count == t.count ? lead : nil
        literalText = literal.map { String(decoding: $0, as: UTF8.self) }
    }

    /// A pattern matching exactly `text` (its special characters escaped).
    public static func exact(_ text: String) -> Glob {
        // Escaping only produces valid patterns.
        try! Glob(escape(text))
    }

    /// `text` with the characters special to the dialect (`* ? [ { \`) escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "*" || c == "?" || c == "\\" || c == "[" || c == "{" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    public var description: String { pattern }

    public static func == (a: Glob, b: Glob) -> Bool { a.pattern == b.pattern }
    public func hash(into h: inout Hasher) { h.combine(pattern) }

    /// Whether the whole of `text` matches; `pid` is what `{pid}` stands for.
    public func matches(_ text: String, pid: Int32? = nil) -> Bool {
        if let literalText { return text == literalText }
        return matches(bytes: Array(text.utf8), pid: pid)
    }

    /// `matches` over UTF-8 bytes.
    public func matches(bytes t: [UInt8], pid: Int32? = nil) -> Bool {
        if let literal { return t == literal }
        guard t.count >= prefix.count, t.prefix(prefix.count).elementsEqual(prefix) else { return false }
        let digits = hasPID ? pid.map { Array(String($0).utf8) } : nil
        let p = tokens
        let slash = UInt8(ascii: "/")
        let cells = (p.count + 1) * (t.count + 1)
        return withUnsafeTemporaryAllocation(of: Int8.self, capacity: cells) { memo in
            memo.initialize(repeating: -1)
            func m(_ i: Int, _ j: Int) -> Bool {
                if i == p.count { return j == t.count }
                let k = i * (t.count + 1) + j
                if memo[k] >= 0 { return memo[k] == 1 }
                let r: Bool
                switch p[i] {
                case .byte(let b): r = j < t.count && t[j] == b && m(i + 1, j + 1)
                case .one: r = j < t.count && t[j] != slash && m(i + 1, j + 1)
                case .oneOf(let ranges): r = j < t.count && t[j] != slash && ranges.contains { $0.contains(t[j]) } && m(i + 1, j + 1)
                case .pid:
                    guard let d = digits, t.count - j >= d.count, t[j..<j + d.count].elementsEqual(d) else { r = false; break }
                    r = m(i + 1, j + d.count)
                case .star, .doubleStar:
                    let crosses = p[i] == .doubleStar
                    var ok = m(i + 1, j), jj = j
                    while !ok, jj < t.count, crosses || t[jj] != slash {
                        jj += 1
                        ok = m(i + 1, jj)
                    }
                    r = ok
                }
                memo[k] = r ? 1 : 0
                return r
            }
            return m(0, 0)
        }
    }
}

/// A malformed glob: what is wrong with it.
public struct GlobError: Error, Sendable {
    public let reason: String
}
