// Calls that name a process by number pass the filter without a stop when they name the caller (pid 0, who 0,
// setpgid(0, 0), a system clock: FilterBuilder.selfTargetTraps); naming another process they must still stop and
// be recorded, on both backends.
import Testing
import TraceModel

@Suite("run: calls that name a process by number")
struct SelfTargetTests {
    @Test("those naming another process are recorded, those naming the caller are not", arguments: backends)
    func onlyOtherProcessesAreViolations(backend: String) throws {
        let w = try Workdir("self-target")
        let r = try Harness.run([try Harness.fixture("self-target")], backend: backend, options: ["--enter-at", capEnter],
                                in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.marks == ["done"], "\(r.digest)")
        let calls = r.nonMarkViolations.map(\.syscall)
        #expect(calls == ["prlimit64", "sched_getaffinity", "clock_gettime", "getpriority"], "\(r.digest)")
        #expect(r.nonMarkViolations.allSatisfy { $0.namespace == .process }, "\(r.digest)")
    }
}
