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

    /// Signals the caller ignored or blocked stay so in the program, as across an untraced fork and exec (and under
    /// strace): the notify keeper once set every handler back to the default, so the program lost nohup's ignored
    /// SIGHUP, and both launchers unblocked every signal before the exec.
    @Test("the program inherits the signals its caller ignored and blocked", arguments: ["ptrace", "notify"])
    func signalStateIsInherited(backend: String) throws {
        let w = try Workdir("environment-signals")
        let sigstate = try Harness.fixture("sigstate")
        let status = ["/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"]
        let untraced = try Subprocess.run([sigstate] + status)
        #expect(untraced.stdout.contains("SigBlk:\t0000000000004200"), "\(untraced.stdout)")
        let r = try Harness.run(status, backend: backend, options: ["-q", "--enter-at", "exec"], in: w,
                                wrapper: [sigstate])
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.stdout == untraced.stdout, "traced:\n\(r.stdout)untraced:\n\(untraced.stdout)\n\(r.digest)")
    }

    /// A SIGHUP that captrace's caller ignored (nohup) neither ends the run nor kills the program, which ignores it
    /// too: captrace once caught it as an interruption and killed the program.
    @Test("an ignored SIGHUP does not interrupt the run", arguments: ["ptrace", "notify"])
    func ignoredHangupDoesNotInterrupt(backend: String) throws {
        let w = try Workdir("environment-sighup")
        let sigstate = try Harness.fixture("sigstate")
        let run = try Harness.start(["/bin/sh", "-c", "sleep 1; echo done"], backend: backend,
                                    options: ["-q", "--enter-at", "exec"], in: w, wrapper: [sigstate])
        usleep(300_000)
        kill(run.pid, SIGHUP)
        let r = try run.finish(timeout: 30)
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.stdout == "done\n", "\(r.digest)")
        #expect(r.traceIsComplete && r.summary?.interrupted != true, "\(r.digest)")
    }
}
