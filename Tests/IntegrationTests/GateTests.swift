// The CI gate end to end (Fixtures/run/gate.c): record, suggest an allowlist, run again with --allow and
// --fail-on-violation (success), then add one violation (failure naming the new site).
import Baselines
import Foundation
import Testing
import TraceModel

@Suite("run: baseline gate")
struct GateTests {
    @Test("record -> suggest --format allowlist -> run --allow --fail-on-violation: 0, then 3 on a new site",
          arguments: backends)
    func gate(backend: String) throws {
        let w = try Workdir("gate")
        let bin = try Harness.fixture("gate")
        let opts = ["--enter-at", capEnter]

        let first = try Harness.run([bin], backend: backend, options: opts, in: w)
        expectRun(first, backend: backend, trigger: capEnter)
        #expect(first.marks == ["a"], "\(first.digest)")

        let baseline = w.path("baseline.allow")
        let s = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"),
                                    "--format", "allowlist", "-o", baseline])
        #expect(s.status == 0, "suggest failed: \(s.stderr)")
        let text = try String(contentsOfFile: baseline, encoding: .utf8)
        #expect(text.contains("mark-a") && text.contains("gate!known"), "the baseline names the site:\n\(text)")

        // The trace records the run (every call proceeded: `allowed`) and the allowlist it was given; the
        // baseline's verdict is analysis of the trace (`judgedViolations`, what reports and the gate show).
        func judged(_ r: RunResult) -> [ViolationEvent] { r.trace.map(judgedViolations) ?? [] }
        func judged(_ r: RunResult, mark tag: String) -> [ViolationEvent] {
            judged(r).filter { $0.path == r.cwd + "/mark-" + tag }
        }
        let gated = opts + ["-q", "--allow", baseline, "--fail-on-violation"]
        let again = try Harness.run([bin], backend: backend, options: gated, in: w)
        #expect(again.status == 0, "every violation is in the baseline\n\(again.digest)")
        #expect(again.trace?.header?.allowlist == text, "the trace keeps the allowlist it was judged against")
        #expect(again.violations.allSatisfy { $0.action == .allowed }, "observe mode records what happened\n\(again.digest)")
        #expect(!judged(again).isEmpty && judged(again).allSatisfy { $0.action == .allowedByBaseline },
                "\(again.digest)")

        let added = try Harness.run([bin, "new"], backend: backend, options: gated, in: w)
        #expect(added.status == 3, "a new violation fails the gate\n\(added.digest)")
        #expect(!judged(added, mark: "a").isEmpty, "\(added.digest)")
        #expect(judged(added, mark: "a").allSatisfy { $0.action == .allowedByBaseline }, "\(added.digest)")
        #expect(judged(added, mark: "b").map(\.action) == [.allowed], "\(added.digest)")
        #expect(added.stderr.contains("not in the baseline") && added.stderr.contains("mark-b")
                    && added.stderr.contains("gate!added"), "stderr names the new site:\n\(added.stderr)")
        #expect(!added.stderr.contains("mark-a"), "only the new site is named:\n\(added.stderr)")

        // Enforce mode: the baseline decides during the run, so the recorder writes its verdict (same function).
        let enforced = try Harness.run([bin, "new"], backend: backend, options: gated + ["--mode", "enforce"], in: w)
        #expect(enforced.status == 3, "\(enforced.digest)")
        #expect(!enforced.mark("a").isEmpty && enforced.mark("a").allSatisfy { $0.action == .allowedByBaseline },
                "\(enforced.digest)")
        #expect(enforced.mark("b").map(\.action) == [.denied], "\(enforced.digest)")
        #expect(judged(enforced).map(\.action) == enforced.violations.map(\.action), "analysis agrees with the run")
        #expect(enforced.stderr.contains("mark-b") && !enforced.stderr.contains("mark-a"), "\(enforced.stderr)")
    }

    /// Two different programs (the gate fixture, and `cat` entering at main), one allowlist suggested from both
    /// traces at once (`suggest A B --format allowlist`): it gates each run, where the allowlist of one alone
    /// does not gate the other.
    @Test("suggest A B --format allowlist gates both programs", arguments: backends)
    func allowlistFromTwoPrograms(backend: String) throws {
        let wa = try Workdir("gate-a"), wb = try Workdir("gate-b")
        let gate = try Harness.fixture("gate")
        let a = try Harness.run([gate], backend: backend, options: ["--enter-at", capEnter, "-q"], in: wa)
        #expect(a.status == 0 && !a.violations.isEmpty, "\(a.digest)")
        let cat = ["/bin/cat", "/etc/hostname"]
        let b = try Harness.run(cat, backend: backend, options: ["-q"], in: wb)
        #expect(b.status == 0 && !b.violations.isEmpty, "\(b.digest)")

        let both = wa.path("both.allow"), onlyA = wa.path("a.allow")
        let s = try Subprocess.run([try Harness.captrace(), "suggest", wa.path("trace.jsonl"), wb.path("trace.jsonl"),
                                    "--format", "allowlist", "-o", both])
        #expect(s.status == 0, "suggest failed: \(s.stderr)")
        let r = try Subprocess.run([try Harness.captrace(), "suggest", wa.path("trace.jsonl"), "--format", "allowlist",
                                    "-o", onlyA])
        #expect(r.status == 0, "suggest failed: \(r.stderr)")

        let gated = ["-q", "--allow", both, "--fail-on-violation"]
        let again = try Harness.run([gate], backend: backend, options: ["--enter-at", capEnter] + gated, in: wa)
        #expect(again.status == 0, "the merged allowlist gates the fixture\n\(again.digest)")
        let catAgain = try Harness.run(cat, backend: backend, options: gated, in: wb)
        #expect(catAgain.status == 0, "the merged allowlist gates cat\n\(catAgain.digest)")
        let catA = try Harness.run(cat, backend: backend, options: ["-q", "--allow", onlyA, "--fail-on-violation"], in: wb)
        #expect(catA.status == 3, "the fixture's allowlist alone does not gate cat\n\(catA.digest)")
    }
}
