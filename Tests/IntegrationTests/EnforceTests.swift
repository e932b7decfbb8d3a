// Enforce mode: violations fail with --deny-errno (EPERM by default), exec is denied, nothing else is touched,
// and a thread racing to rewrite an approved path cannot escape (Fixtures/run/enforce.c, race.c).
import Foundation
import Testing
import TraceModel

@Suite("run: enforce")
struct EnforceTests {
    @Test("enforce: violations and exec fail with the deny errno, descriptor-relative opens work",
          arguments: backends, ["EPERM", "EACCES"])
    func enforce(backend: String, errno: String) throws {
        let w = try Workdir("enforce-\(errno)")
        var options = ["--enter-at", capEnter, "--mode", "enforce"]
        if errno != "EPERM" { options += ["--deny-errno", errno] }  // EPERM is the default
        let r = try Harness.run([try Harness.fixture("enforce")], backend: backend, options: options, in: w)
        expectRun(r, backend: backend, trigger: capEnter, mode: "enforce")
        #expect(r.value("absolute") == errno, "the program saw \(r.value("absolute") ?? "nothing")\n\(r.digest)")
        #expect(r.value("relative") == "ok", "\(r.digest)")
        #expect(r.value("fstat") == "ok", "\(r.digest)")
        #expect(r.value("exec") == errno, "exec was not denied with \(errno)\n\(r.digest)")
        #expect(r.shapes == [
            "openat filesystem/absolute-path \(r.cwd)/box/sub/file",
            "execve filesystem/exec /bin/true",
        ], "\(r.digest)")
        for v in r.violations {
            #expect(v.action == .denied && v.errno == errno && v.result == nil, "\(RunResult.describe(v))")
        }
        #expect(!r.processes.contains { $0.event == .exec && $0.path == "/bin/true" }, "the denied exec happened")
        if let h = r.trace?.header, errno != "EPERM" { #expect(h.denyErrno == nil || h.denyErrno == errno) }
    }

    @Test("enforce: a thread rewriting the path after the check never opens outside the directory",
          arguments: backends)
    func racingThread(backend: String) throws {
        let bin = try Harness.fixture("race")
        // Sanity first: in observe mode the same fixture does escape, so a zero below means something.
        let wo = try Workdir("race-observe")
        let o = try Harness.run([bin, "1"], backend: backend, options: ["--enter-at", capEnter, "-q"], in: wo, timeout: 120)
        #expect(o.status == 0, "\(o.digest)")
        #expect((o.int("escaped") ?? 0) > 0, "observe mode: the fixture saw no escape, the race test is void\n\(o.stdout)")

        let w = try Workdir("race-enforce")
        let r = try Harness.run([bin, "1.5"], backend: backend, options: ["--enter-at", capEnter, "--mode", "enforce", "-q"],
                                in: w, timeout: 120)
        expectRun(r, backend: backend, trigger: capEnter, mode: "enforce")
        let escaped = try #require(r.int("escaped"), "\(r.digest)")
        let inside = try #require(r.int("inside"), "\(r.digest)")
        let failed = try #require(r.int("failed"), "\(r.digest)")
        #expect(escaped == 0, "enforce mode let \(escaped) opens outside the held directory succeed: \(r.stdout)")
        #expect(inside > 0, "the allowed descriptor-relative open never worked: \(r.stdout)")
        #expect(failed > 0, "no escape attempt was refused: the race did not happen? \(r.stdout)")
        #expect(r.violations.contains { $0.rule == .dotdotEscape && $0.action == .denied },
                "no denied dotdot-escape recorded\n\(r.digest)")
        #expect(r.violations.allSatisfy { $0.action == .denied }, "a violation was allowed in enforce mode")
    }
}
