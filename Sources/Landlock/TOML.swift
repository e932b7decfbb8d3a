/// The part of TOML the landlockconfig format uses: comments, `key = value` pairs, `[[array.tables]]`,
/// integers, basic and literal strings, booleans and arrays (across lines, trailing comma allowed).
enum TOMLValue: Hashable {
    case int(Int64), string(String), bool(Bool), array([TOMLValue])
}

enum TOMLItem: Hashable {
    case comment(String)
    case blank
    case arrayTable(String)
    case table(String)
    case pair(String, TOMLValue)
}

struct TOMLReader {
    let chars: [Character]
    var i = 0
    /// The current line (1-based), for errors.
    private(set) var line = 1
    /// The line the last item read by `next` started on.
    private(set) var itemLine = 1

    init(_ text: String) { chars = text.unicodeScalars.filter { $0 != "\r" }.map(Character.init) }

    typealias ConfigError = LandlockConfig.ConfigError
    func err(_ r: String) -> ConfigError { ConfigError(line: line, reason: r) }

    var atEnd: Bool { i >= chars.count }
    var peek: Character? { atEnd ? nil : chars[i] }

    mutating func skipSpaces() { while let c = peek, c == " " || c == "\t" { i += 1 } }

    /// Skips spaces, newlines and comments (inside arrays).
    mutating func skipAll() {
        while let c = peek {
            if c == " " || c == "\t" || c == "\r" { i += 1 } else if c == "\n" { i += 1; line += 1 }
            else if c == "#" { while let d = peek, d != "\n" { i += 1 } } else { break }
        }
    }

    /// The end of a line: spaces, an optional comment, then a newline or the end.
    mutating func endOfLine() throws(ConfigError) {
        skipSpaces()
        if peek == "#" { while let d = peek, d != "\n" { i += 1 } }
        if peek == "\r" { i += 1 }
        if atEnd { return }
        guard peek == "\n" else { throw err("unexpected \"\(peek!)\" after a value") }
        i += 1
        line += 1
    }

    mutating func next() throws(ConfigError) -> TOMLItem? {
        skipSpaces()
        itemLine = line
        guard let c = peek else { return nil }
        if c == "\n" || c == "\r" { try endOfLine(); return .blank }
        if c == "#" {
            i += 1
            var text = ""
            while let d = peek, d != "\n" { if d != "\r" { text.append(d) }; i += 1 }
            try endOfLine()
            return .comment(text)
        }
        if c == "[" {
            i += 1
            let array = peek == "["
            if array { i += 1 }
            skipSpaces()
            let name = try key()
            skipSpaces()
            guard peek == "]" else { throw err("expected ] after table name \"\(name)\"") }
            i += 1
            if array {
                guard peek == "]" else { throw err("expected ]] after table name \"\(name)\"") }
                i += 1
            }
            try endOfLine()
            return array ? .arrayTable(name) : .table(name)
        }
        let k = try key()
        skipSpaces()
        guard peek == "=" else { throw err("expected = after key \"\(k)\"") }
        i += 1
        skipSpaces()
        let v = try value()
        try endOfLine()
        return .pair(k, v)
    }

    mutating func key() throws(ConfigError) -> String {
        if peek == "\"" { return try basicString() }
        var k = ""
        while let c = peek, c.isASCII, c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." { k.append(c); i += 1 }
        guard !k.isEmpty else { throw err(peek.map { "unexpected \"\($0)\" where a key was expected" } ?? "a key was expected") }
        return k
    }

    mutating func value() throws(ConfigError) -> TOMLValue {
        guard let c = peek else { throw err("a value was expected") }
        switch c {
        case "\"": return .string(try basicString())
        case "'":
            i += 1
            var s = ""
            while let d = peek, d != "'" {
                guard d != "\n" else { throw err("unterminated literal string") }
                s.append(d); i += 1
            }
            guard peek == "'" else { throw err("unterminated literal string") }
            i += 1
            return .string(s)
        case "[":
            i += 1
            var out: [TOMLValue] = []
            while true {
                skipAll()
                if peek == "]" { i += 1; return .array(out) }
                out.append(try value())
                skipAll()
                if peek == "," { i += 1; continue }
                if peek == "]" { i += 1; return .array(out) }
                throw err("expected , or ] in an array")
            }
        default:
            var word = ""
            while let d = peek, d.isLetter || d.isNumber || d == "_" || d == "+" || d == "-" { word.append(d); i += 1 }
            if word == "true" { return .bool(true) }
            if word == "false" { return .bool(false) }
            let digits = word.filter { $0 != "_" }
            if let v = Int64(digits) { return .int(v) }
            if digits.hasPrefix("0x"), let v = Int64(digits.dropFirst(2), radix: 16) { return .int(v) }
            throw err(word.isEmpty ? "unexpected \"\(c)\" where a value was expected" : "\"\(word)\" is not a value")
        }
    }

    mutating func basicString() throws(ConfigError) -> String {
        i += 1  // opening quote
        var s = ""
        while let c = peek {
            i += 1
            switch c {
            case "\"": return s
            case "\n": throw err("unterminated string")
            case "\\":
                guard let e = peek else { throw err("unterminated string") }
                i += 1
                switch e {
                case "\"": s.append("\"")
                case "\\": s.append("\\")
                case "n": s.append("\n")
                case "t": s.append("\t")
                case "r": s.append("\r")
                case "b": s.append("\u{8}")
                case "f": s.append("\u{c}")
                case "u", "U":
                    let n = e == "u" ? 4 : 8
                    guard i + n <= chars.count, let v = UInt32(String(chars[i..<i + n]), radix: 16),
                          let u = Unicode.Scalar(v) else { throw err("bad \\\(e) escape") }
                    s.unicodeScalars.append(u)
                    i += n
                default: throw err("unknown escape \\\(e)")
                }
            default: s.append(c)
            }
        }
        throw err("unterminated string")
    }
}
