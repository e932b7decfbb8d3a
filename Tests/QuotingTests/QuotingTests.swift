import Quoting
import Testing

/// The three dialects differ only in how a control character other than \n, \t, \r is spelled, and in DEL.
@Suite struct QuotingTests {
    static let sample = "a\"b\\c\nd\te\rf\u{1}g\u{1f}h\u{7f}i é/🙂"

    @Test func toml() {
        #expect(Quoting.quoted(Self.sample, as: .toml) == #""a\"b\\c\nd\te\rf\u0001g\u001fh\u007fi é/🙂""#)
    }

    @Test func json() {
        #expect(Quoting.quoted(Self.sample, as: .json) == "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh\u{7f}i é/🙂\"")
    }

    @Test func c() {
        #expect(Quoting.quoted(Self.sample, as: .c) == #""a\"b\\c\nd\te\rf\x01g\x1fh\x7fi é/🙂""#)
    }

    @Test func empty() {
        for d in [Quoting.Dialect.toml, .json, .c] { #expect(Quoting.quoted("", as: d) == "\"\"") }
    }
}
