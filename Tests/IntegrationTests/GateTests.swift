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
}
