// The program's environment: captrace hands the program its own `environ` as it is (README, Performance (e)).
import Foundation
import Testing

@Suite("run: the program's environment")
struct EnvironmentTests {
    /// A value that is not UTF-8 reaches the program byte for byte on both backends (a copy of the environment
    /// through Swift strings would have replaced each such byte with U+FFFD: ef bf bd).
    @Test("a value that is not UTF-8 reaches the program unchanged", arguments: ["ptrace", "notify"])
    func bytesThatAreNotUTF8(backend: String) throws {
        let w = try Workdir("environment")
        // sh sets X to the bytes ff fe 41 and execs captrace; the traced program prints X's bytes in hex.
        let setX = ["/bin/sh", "-c", "X=$(printf '\\377\\376A'); export X; exec \"$@\"", "sh"]
        let r = try Harness.run(["/bin/sh", "-c", "printf %s \"$X\" | od -An -tx1"], backend: backend,
                                options: ["-q", "--enter-at", "exec"], in: w, wrapper: setX)
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.stdout.split(whereSeparator: \.isWhitespace) == ["ff", "fe", "41"], "\(r.digest)")
    }
}
