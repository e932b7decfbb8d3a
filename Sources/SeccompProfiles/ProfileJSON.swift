import Quoting

/// The JSON a profile is read from and written as.
///
/// TraceModel has a JSON value too, but it turns integers above `Int64.max` into `Double`; a profile's `value`
/// and `valueTwo` are unsigned 64-bit (masks such as 0xffffffffffffffff are legal), so numbers are kept here as
/// their literal text and converted exactly by the loader. This also keeps the module's only dependency the
/// syscall catalog.
enum ProfileJSON: Equatable {
    case null
    case bool(Bool)
    /// A number's literal text, exactly as written.
    case number(String)
    case string(String)
    case array([ProfileJSON])
    /// Members in document order (a repeated key is kept; the loader reports it).
    case object([(key: String, value: ProfileJSON)])

    static func == (a: ProfileJSON, b: ProfileJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    /// What the value is, for error messages ("expected a string, found a number").
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A syntax error with its line and column (1-based).
struct ProfileJSONSyntaxError: Error {
    let line: Int
    let column: Int
    let reason: String
}

// MARK: - Parsing (strict RFC 8259)

extension ProfileJSON {
    static func parse(_ text: String) throws(ProfileJSONSyntaxError) -> ProfileJSON {
        var reader = Reader(bytes: Array(text.utf8))
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        if reader.i != reader.bytes.count { throw reader.fail("unexpected characters after the document") }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        func fail(_ reason: String) -> ProfileJSONSyntaxError {
            var line = 1, column = 1
            for b in bytes[0..<min(i, bytes.count)] {
                if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
            }
            return ProfileJSONSyntaxError(line: line, column: column, reason: reason)
        }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func expect(_ c: Character) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }

        mutating func value(depth: Int) throws(ProfileJSONSyntaxError) -> ProfileJSON {
            guard depth < 64 else { throw fail("nesting too deep") }
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var members: [(key: String, value: ProfileJSON)] = []
                if expect("}") { return .object(members) }
                repeat {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                        throw fail("expected a key in quotes")
                    }
                    let key = try string()
                    guard expect(":") else { throw fail("expected ':' after a key") }
                    members.append((key, try value(depth: depth + 1)))
                } while expect(",")
                guard expect("}") else { throw fail("expected ',' or '}'") }
                return .object(members)
            case UInt8(ascii: "["):
                i += 1
                var elements: [ProfileJSON] = []
                if expect("]") { return .array(elements) }
                repeat { elements.append(try value(depth: depth + 1)) } while expect(",")
                guard expect("]") else { throw fail("expected ',' or ']'") }
                return .array(elements)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return try number()
            }
        }

        mutating func literal(_ word: String, _ v: ProfileJSON) throws(ProfileJSONSyntaxError) -> ProfileJSON {
            let w = Array(word.utf8)
            guard bytes.count - i >= w.count, Array(bytes[i..<i + w.count]) == w else { throw fail("invalid literal") }
            i += w.count
            return v
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(ProfileJSONSyntaxError) -> ProfileJSON {
            let start = i
            func digits(_ r: inout Reader) -> Int {
                let s = r.i
                while r.i < r.bytes.count, r.bytes[r.i] >= 0x30, r.bytes[r.i] <= 0x39 { r.i += 1 }
                return r.i - s
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            let intStart = i
            let n = digits(&self)
            guard n > 0 else { i = start; throw fail("unexpected character") }
            if n > 1, bytes[intStart] == UInt8(ascii: "0") { i = start; throw fail("leading zero in a number") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard digits(&self) > 0 else { throw fail("digits expected after '.'") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits(&self) > 0 else { throw fail("digits expected in the exponent") }
            }
            return .number(String(decoding: bytes[start..<i], as: UTF8.self))
        }

        mutating func hex4() throws(ProfileJSONSyntaxError) -> UInt32 {
            guard bytes.count - i >= 4 else { throw fail("bad \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let d = UInt32(String(UnicodeScalar(bytes[i])), radix: 16) else { throw fail("bad \\u escape") }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        mutating func string() throws(ProfileJSONSyntaxError) -> String {
            i += 1  // the opening quote
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                switch c {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case 0..<0x20: i -= 1; throw fail("control character in a string")
                case UInt8(ascii: "\\"):
                    guard i < bytes.count else { throw fail("unterminated string") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar), bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"),
                           bytes[i + 1] == UInt8(ascii: "u") {
                            i += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                    default: i -= 1; throw fail("bad escape")
                    }
                default: out.append(c)
                }
            }
            throw fail("unterminated string")
        }
    }
}

// MARK: - Writing

extension ProfileJSON {
    /// Indented with two spaces; an array of scalars on one line when it fits in 100 characters, else one per line.
    func written(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return ProfileJSON.quoted(s)
        case .array(let a) where a.isEmpty: return "[]"
        case .array(let a) where a.allSatisfy(\.isScalar)
            && a.reduce(0, { $0 + $1.written().count + 2 }) <= 100:
            return "[" + a.map { $0.written() }.joined(separator: ", ") + "]"
        case .array(let a):
            return "[\n" + a.map { pad + $0.written(indent: indent + 1) }.joined(separator: ",\n") + "\n" + end + "]"
        case .object(let o) where o.isEmpty: return "{}"
        case .object(let o):
            return "{\n" + o.map { pad + ProfileJSON.quoted($0.key) + ": " + $0.value.written(indent: indent + 1) }
                .joined(separator: ",\n") + "\n" + end + "}"
        }
    }

    static func quoted(_ s: String) -> String { Quoting.quoted(s, as: .json) }
}
