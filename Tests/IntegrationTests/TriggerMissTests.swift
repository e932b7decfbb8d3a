// A trigger that is never reached: the run completes, nothing is judged, and captrace says so.
import Foundation
import Testing
import TraceModel

@Suite("run: a trigger never reached")
struct TriggerMissTests {
    @Test("symbol:NAME that the program never calls: status passes through, no enter, a warning", arguments: backends)
    func neverReached(backend: String) throws {
        let w = try Workdir("miss")
        let bin = try Harness.fixture("gate")
        let r = try Harness.run([bin], backend: backend, options: ["-q", "--enter-at", "symbol:no_such_function_here"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.traceIsComplete, "\(r.digest)")
        #expect(r.enters.isEmpty && r.violations.isEmpty, "\(r.digest)")
        #expect(r.stderr.contains("capability mode never began") && r.stderr.contains("symbol:no_such_function_here"),
                "stderr: \(r.stderr)")
    }
}
