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

    @Test("SIGINT mid-run: the trace ends with its summary and no process of the program is left",
          arguments: backends)
    func interrupt(backend: String) throws {
        let w = try Workdir("sigint")
        let bin = try Harness.fixture("loop")
        let run = try Harness.start([bin], backend: backend, options: ["--enter-at", "main"], in: w)
        // Wait until both processes are making violations.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let t = run.traceSoFar()
            if t.components(separatedBy: "\"type\":\"violation\"").count > 20 { break }
            usleep(20_000)
        }
        kill(run.pid, SIGINT)
        let r = try run.finish(timeout: 30)
        #expect(!r.timedOut, "captrace did not stop after SIGINT\n\(r.digest)")
        #expect(r.traceIsComplete, "the trace does not end with its summary\n\(r.digest)")
        #expect(r.mark("loop").count > 20, "\(r.digest)")
        let pids = Set(r.processes.filter { $0.event == .spawn || $0.event == .fork }.map(\.pid))
            .union([r.int("pid"), r.int("child")].compactMap { $0.map(Int32.init) })
        #expect(pids.count >= 2, "\(r.digest)")
        // Give init a moment to reap reparented children, then nothing of the program may be left.
        var left: [(Int32, String)] = []
        for _ in 0..<100 {
            left = pids.compactMap { pid in
                guard let state = procState(pid), state != "Z", state != "X" else { return nil }
                return procExe(pid) == bin ? (pid, state) : nil
            }
            if left.isEmpty { break }
            usleep(20_000)
        }
        #expect(left.isEmpty, "processes of the program left behind (pid, state): \(left)")
        for (pid, _) in left { kill(pid, SIGKILL) }
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
}
