// CPU pinning: what the traced program sees of its CPU affinity (README, "CPU pinning").
import Foundation
import Testing

@Suite("run: the program's CPU affinity")
struct AffinityTests {
    /// What the fixture prints untraced: the affinity the test process passes down.
    static func untracedCPUs(_ bin: String) throws -> Int {
        let r = try Subprocess.run([bin])
        guard r.status == 0, let n = Int(r.stdout.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        else { throw HarnessError("affinity fixture failed: \(r.stdout) \(r.stderr)") }
        return n
    }

    @Test("both backends: the program shares the supervisor's CPU unless CAPTRACE_NO_PIN=1")
    func affinity() throws {
        let bin = try Harness.fixture("affinity")
        let own = try Self.untracedCPUs(bin)
        let w = try Workdir("affinity")

        let notify = try Harness.run([bin], backend: "notify", options: ["-q", "--enter-at", "exec"], in: w)
        #expect(notify.status == 0 && notify.value("cpus") == "1", "\(notify.digest)")

        let notifyUnpinned = try Harness.run([bin], backend: "notify", options: ["-q", "--enter-at", "exec"], in: w,
                                             wrapper: ["/usr/bin/env", "CAPTRACE_NO_PIN=1"])
        #expect(notifyUnpinned.status == 0 && notifyUnpinned.value("cpus") == "\(own)", "\(notifyUnpinned.digest)")

        let ptrace = try Harness.run([bin], backend: "ptrace", options: ["-q", "--enter-at", "exec"], in: w)
        #expect(ptrace.status == 0 && ptrace.value("cpus") == "1", "\(ptrace.digest)")

        let unpinned = try Harness.run([bin], backend: "ptrace", options: ["-q", "--enter-at", "exec"], in: w,
                                       wrapper: ["/usr/bin/env", "CAPTRACE_NO_PIN=1"])
        #expect(unpinned.status == 0 && unpinned.value("cpus") == "\(own)", "\(unpinned.digest)")
    }
}
