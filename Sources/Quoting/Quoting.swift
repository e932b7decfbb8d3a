/// Double-quoted string literals in the dialects captrace writes: TOML basic strings (Landlock rulesets), JSON
/// (seccomp profiles) and C (calls in reports). Each escapes `"`, `\`, newline, tab and carriage return with a
/// backslash, and other control characters as its dialect spells them: `\uXXXX` in TOML (DEL too) and JSON (where DEL
/// may stand as it is), `\xHH` in C (DEL too). Everything else is copied as it is.
public enum Quoting {
    public enum Dialect: Sendable { case toml, json, c }

    public static func quoted(_ s: String, as dialect: Dialect) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                guard u.value < 0x20 || (u.value == 0x7f && dialect != .json) else {
                    out.unicodeScalars.append(u)
                    continue
                }
                let h = String(u.value, radix: 16)
                out += dialect == .c ? "\\x" + String(repeating: "0", count: 2 - h.count) + h
                                     : "\\u" + String(repeating: "0", count: 4 - h.count) + h
            }
        }
        return out + "\""
    }
}
