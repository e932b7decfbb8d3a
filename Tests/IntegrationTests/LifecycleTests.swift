// The run as a whole: exit status passthrough, interruption, bad input (Fixtures/run/exit.c, loop.c).
import Foundation
import Testing
import TraceModel

#if canImport(Glibc)
import Glibc
#endif

@Suite("run: lifecycle and bad input")
struct LifecycleTests {
    @Test("exit status passthrough: N, and 128+signal", arguments: backends, [("7", Int32(7)), ("segv", 139), ("kill", 137)])
    func exitStatus(backend: String, how: (String, Int32)) throws {
        let w = try Workdir("exit-\(how.0)")
        let r = try Harness.run([try Harness.fixture("exit"), how.0], backend: backend, in: w)
        expectRun(r, backend: backend, trigger: "main", status: how.1)
        #expect(r.violations.isEmpty, "signals to itself are not violations\n\(r.digest)")
        let exit = r.processes.last { $0.event == .exit && $0.pid == r.programPid }
        #expect(exit?.exitStatus == how.1, "exit process event: \(String(describing: exit))")
        if how.0 == "segv" { #expect(exit?.signal == "SIGSEGV") }
        if how.0 == "kill" { #expect(exit?.signal == "SIGKILL") }
    }

    @Test("a trace that cannot be written (-o /dev/full): captrace says why and exits 125",
          arguments: backends)
    func traceWriteFailure(backend: String) throws {
        let bin = try Harness.fixture("exit")
        let r = try Subprocess.run([try Harness.captrace(), "run", "--backend", backend, "-q", "-o", "/dev/full", "--", bin, "7"])
        #expect(r.status == 125, "status \(r.status)\nstderr: \(r.stderr)")
        #expect(r.stderr.contains("cannot write the trace") && r.stderr.contains("No space left on device"),
                "stderr: \(r.stderr)")
    }

    @Test("SIGINT mid-run: the trace ends with its summary and no process of the program is left",
          arguments: backends)
    func interrupt(backend: String) throws {
        let w = try Workdir("sigint")
        let bin = try Harness.fixture("loop")
        let run = try Harness.start([bin], backend: backend, options: ["--enter-at", "main"], in: w)
        waitForViolations(run, moreThan: 25)  // the two getcwd() calls of fixture.h's cwd() count too
        kill(run.pid, SIGINT)
        let r = try run.finish(timeout: 30)
        #expect(!r.timedOut, "captrace did not stop after SIGINT\n\(r.digest)")
        #expect(r.traceIsComplete, "the trace does not end with its summary\n\(r.digest)")
        #expect(r.mark("loop").count > 20, "\(r.digest)")
        let pids = Set(r.processes.filter { $0.event == .spawn || $0.event == .fork }.map(\.pid))
            .union([r.int("pid"), r.int("child")].compactMap { $0.map(Int32.init) })
        #expect(pids.count >= 2, "\(r.digest)")
        let left = leftBehind(pids, executable: bin)
        #expect(left.isEmpty, "processes of the program left behind (pid, state): \(left)")
        // Both backends record how every process ended (killed by captrace) and the program's 128+N.
        #expect(r.status == 128 + SIGINT, "\(r.digest)")
        #expect(r.summary?.interrupted == true && r.summary?.exitStatus == 128 + SIGKILL, "\(r.digest)")
        let exits = Dictionary(r.processes.filter { $0.event == .exit }.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        for pid in pids {
            #expect(exits[pid]?.exitStatus == 128 + SIGKILL && exits[pid]?.signal == "SIGKILL",
                    "pid \(pid): \(String(describing: exits[pid]))\n\(r.digest)")
        }
    }

    @Test("SIGKILL of captrace takes the program with it", arguments: backends)
    func killed(backend: String) throws {
        let w = try Workdir("sigkill")
        let bin = try Harness.fixture("loop")
        let run = try Harness.start([bin], backend: backend, options: ["--enter-at", "main"], in: w)
        waitForViolations(run, moreThan: 20)
        kill(run.pid, SIGKILL)
        let r = try run.finish(timeout: 30)
        #expect(r.status == 128 + SIGKILL, "\(r.digest)")
        // The trace is cut short but valid up to its last complete line.
        #expect(r.trace != nil && r.traceError == nil, "\(r.digest)")
        let pids = Set(r.processes.filter { $0.event == .spawn || $0.event == .fork }.map(\.pid))
            .union([r.int("pid"), r.int("child")].compactMap { $0.map(Int32.init) })
        #expect(pids.count >= 2, "\(r.digest)")
        let left = leftBehind(pids, executable: bin)
        #expect(left.isEmpty, "processes of the program outlived captrace (pid, state): \(left)")
    }

    @Test("a missing program: non-zero, one line on stderr, nothing half-written", arguments: backends)
    func missingProgram(backend: String) throws {
        let w = try Workdir("missing")
        let prog = w.path("no-such-program")
        let r = try Harness.run([prog], backend: backend, in: w)
        #expect(!r.timedOut && r.status != 0, "\(r.digest)")
        let lines = r.stderr.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
        #expect(lines.count == 1 && r.stderr.contains(prog), "expected one line naming the program:\n\(r.stderr)")
        #expect(!r.traceExists || r.traceIsComplete, "a half-written trace was left:\n\(r.traceText)")
    }

    @Test("bad options: an unknown trigger or errno name is one clear line, non-zero, no trace",
          arguments: backends, [["--enter-at", "bogus:thing"], ["--enter-at", "symbol:"], ["--deny-errno", "ENOTANERRNO"]])
    func badOptions(backend: String, option: [String]) throws {
        let w = try Workdir("bad")
        let r = try Harness.run(["/bin/true"], backend: backend, options: option, in: w)
        #expect(!r.timedOut && r.status != 0, "\(r.digest)")
        let lines = r.stderr.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
        #expect(lines.count == 1, "expected one line on stderr, got:\n\(r.stderr)")
        #expect(r.stderr.contains(option[1].isEmpty ? option[0] : option[1]) || r.stderr.contains(option[0]),
                "stderr does not name the bad value:\n\(r.stderr)")
        #expect(!r.traceExists, "a trace was written for a run that never started")
    }

    @Test("notify: a program already under ptrace by another tracer (strace -f) is traced with --backend notify")
    func notifyUnderAnotherTracer() throws {
        let w = try Workdir("notify-strace")
        let r = try Harness.run([try Harness.fixture("triggers")], backend: "notify",
                                options: ["--enter-at", "syscall:getppid"], in: w,
                                wrapper: ["/usr/bin/strace", "-f", "-o", "/dev/null", "--"])
        expectRun(r, backend: "notify", trigger: "syscall:getppid")
        #expect(r.marks == ["after-syscall"], "\(r.digest)")
    }
}
