// The program's environment: captrace hands the program its own `environ` as it is.
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

    /// The notify backend sets its own umask to 0 (the calls it performs for the program apply the program's
    /// umask themselves); it once did so before starting the program, which then ran with umask 0.
    @Test("the program runs with captrace's umask", arguments: ["ptrace", "notify"])
    func umaskIsInherited(backend: String) throws {
        let w = try Workdir("environment-umask")
        let withUmask = ["/bin/sh", "-c", "umask 027; exec \"$@\"", "sh"]
        let r = try Harness.run(["/bin/sh", "-c", "umask"], backend: backend, options: ["-q", "--enter-at", "exec"],
                                in: w, wrapper: withUmask)
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0027", "\(r.digest)")
    }
}
