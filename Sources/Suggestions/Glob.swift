/// A path or address pattern of a baseline entry.
///
/// `*` matches any run of characters except `/`, `**` any run including `/`, `?` one character except `/`,
/// and `\` makes the next character literal. Everything else matches itself.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case byte(UInt8)
        case star  // any run without "/"
        case doubleStar  // any run
        case one  // one byte other than "/"
    }

    let tokens: [Token]
    /// The pattern as written.
    public let pattern: String
    /// True when the pattern has no wildcard (then matching is a string comparison).
    let literal: String?

    public init(_ pattern: String) throws(GlobError) {
        var t: [Token] = []
        var bytes = Array(pattern.utf8)[...]
        var hasWildcard = false
        var plain: [UInt8] = []
        while let b = bytes.popFirst() {
            switch b {
            case UInt8(ascii: "\\"):
                guard let n = bytes.popFirst() else { throw GlobError(reason: "pattern ends with a lone \\") }
                t.append(.byte(n)); plain.append(n)
            case UInt8(ascii: "*"):
                hasWildcard = true
                if bytes.first == UInt8(ascii: "*") { bytes.removeFirst(); t.append(.doubleStar) } else { t.append(.star) }
            case UInt8(ascii: "?"):
                hasWildcard = true
                t.append(.one)
            default:
                t.append(.byte(b)); plain.append(b)
            }
        }
        tokens = t
        self.pattern = pattern
        literal = hasWildcard ? nil : String(decoding: plain, as: UTF8.self)
    }

    /// A pattern matching exactly `text` (wildcard characters escaped).
    public static func exact(_ text: String) -> Glob {
        // Escaping only produces valid patterns.
        try! Glob(escape(text))
    }

    /// `text` with the pattern's special characters escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "*" || c == "?" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    public var description: String { pattern }

    public func matches(_ text: String) -> Bool {
        if let literal { return literal == text }
        let s = Array(text.utf8)
        return Glob.match(tokens[...], s[...])
    }

    /// Backtracking match; patterns are short and have few stars, so this stays cheap.
    static func match(_ p: ArraySlice<Token>, _ s: ArraySlice<UInt8>) -> Bool {
        var p = p, s = s
        while let t = p.first {
            switch t {
            case .byte(let b):
                guard s.first == b else { return false }
                p.removeFirst(); s.removeFirst()
            case .one:
                guard let c = s.first, c != UInt8(ascii: "/") else { return false }
                p.removeFirst(); s.removeFirst()
            case .star, .doubleStar:
                p.removeFirst()
                var rest = s
                while true {
                    if match(p, rest) { return true }
                    guard let c = rest.first else { return false }
                    if t == .star && c == UInt8(ascii: "/") { return false }
                    rest.removeFirst()
                }
            }
        }
        return s.isEmpty
    }
}

public struct GlobError: Error, Sendable {
    public let reason: String
}
