/// Path text as traces hold it: lexical work only, no filesystem access. The decoder normalises the paths it
/// records with it, and the knowledge base matches against the same normal form.
public enum PathText {
    /// The last path component.
    public static func basename(_ path: String) -> String {
        guard let i = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: i)...])
    }

    /// Collapses `//`, `.` and `..` lexically; keeps a relative path relative (`a/../../b` is `../b`), and `..`
    /// at the root stays at the root. A path already in normal form (the common case) is returned as is.
    public static func normalize(_ p: String) -> String {
        if isNormalAbsolute(p) { return p }
        return String(decoding: normalized(Array(p.utf8)), as: UTF8.self)
    }

    /// `normalize` over UTF-8 bytes.
    public static func normalized(_ bytes: [UInt8]) -> [UInt8] {
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

    /// Absolute, without `//`, a `.` or `..` component, or a trailing `/`: already normal.
    static func isNormalAbsolute(_ p: String) -> Bool {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        guard p.utf8.first == slash else { return false }
        var prev: UInt8 = 0, prev2: UInt8 = 0, prev3: UInt8 = 0
        for b in p.utf8 {
            if b == slash {
                if prev == slash || (prev == dot && (prev2 == slash || (prev2 == dot && prev3 == slash))) { return false }
            }
            prev3 = prev2; prev2 = prev; prev = b
        }
        if prev == slash && p.utf8.count > 1 { return false }
        if prev == dot && (prev2 == slash || (prev2 == dot && prev3 == slash)) { return false }
        return true
    }
}
