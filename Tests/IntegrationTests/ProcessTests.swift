// Capability mode and processes: forks before and after entry, threads created before entry, exec.
import Foundation
import Testing
import TraceModel

@Suite("run: processes and threads")
struct ProcessTests {
    @Test("a child forked before entry stays outside; one forked after inherits capability mode", arguments: backends)
    func forks(backend: String) throws {
        let w = try Workdir("fork")
        let r = try Harness.run([try Harness.fixture("fork")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        let parent = try #require(r.int("parent").map(Int32.init), "\(r.digest)")
        let before = try #require(r.int("before").map(Int32.init), "\(r.digest)")
        let after = try #require(r.int("after").map(Int32.init), "\(r.digest)")
        #expect(r.programPid == parent)
        #expect(r.marks == ["parent", "child-after"], "\(r.digest)")
        #expect(r.mark("parent").first?.pid == parent, "\(r.digest)")
        #expect(r.mark("child-after").first?.pid == after, "the child's violation carries its own pid\n\(r.digest)")
        #expect(r.violations.allSatisfy { $0.pid != before }, "the child forked before entry made violations")
        let forkEvents = r.processes.filter { $0.event == .fork }
        #expect(forkEvents.first { $0.pid == before }?.capabilityMode == false, "fork event of the early child\n\(r.digest)")
        #expect(forkEvents.first { $0.pid == after }?.capabilityMode == true, "fork event of the late child\n\(r.digest)")
        #expect(forkEvents.first { $0.pid == after }?.ppid == parent)
    }

    @Test("a thread created before entry shares its process's capability mode", arguments: backends)
    func threadBeforeEntry(backend: String) throws {
        let w = try Workdir("thread")
        let r = try Harness.run([try Harness.fixture("thread")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        let pid = try #require(r.int("pid").map(Int32.init), "\(r.digest)")
        let tid = try #require(r.int("tid").map(Int32.init), "\(r.digest)")
        #expect(r.marks == ["thread", "main"], "\(r.digest)")
        let v = r.mark("thread").first
        #expect(v?.pid == pid && v?.tid == tid, "thread violation pid/tid: \(v.map(RunResult.describe) ?? "nil")")
        #expect(r.mark("main").first?.tid == pid)
    }

    @Test("observe mode: capability mode survives an exec", arguments: backends)
    func survivesExec(backend: String) throws {
        let w = try Workdir("exec-keep")
        let bin = try Harness.fixture("exec")
        let r = try Harness.run([bin, "first"], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.shapes.first == "execve filesystem/exec \(bin)", "the exec is not the first violation\n\(r.digest)")
        // After it, only the new image's loader (its libraries) and the marker.
        let loader = r.nonMarkViolations.filter { $0.syscall != "execve" }
        #expect(loader.allSatisfy { ($0.path ?? "").hasPrefix("/etc/ld.so") || ($0.path ?? "").hasPrefix("/lib") || ($0.path ?? "").hasPrefix("/usr/lib") },
                "\(r.digest)")
        #expect(loader.contains { ($0.path ?? "").hasSuffix("/libc.so.6") }, "the new image's loader was not recorded\n\(r.digest)")
        #expect(r.marks == ["after-exec"], "\(r.digest)")
        #expect(r.mark("after-exec").first?.pid == r.programPid, "\(r.digest)")
        #expect(r.processes.contains { $0.event == .exec && $0.pid == r.programPid }, "no exec process event\n\(r.digest)")
    }

    @Test("an exec that fails is no exec event, in a forked child and in the program itself", arguments: backends)
    func failedExec(backend: String) throws {
        let w = try Workdir("execfail")
        let r = try Harness.run([try Harness.fixture("execfail")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        let parent = try #require(r.int("parent").map(Int32.init), "\(r.digest)")
        let child = try #require(r.int("child").map(Int32.init), "\(r.digest)")
        #expect(r.marks == ["child-after-failed-exec", "child-second", "parent-after-failed-exec", "parent-second"],
                "\(r.digest)")
        #expect(r.mark("child-after-failed-exec").first?.pid == child && r.mark("child-second").first?.pid == child)
        #expect(r.mark("parent-after-failed-exec").first?.pid == parent && r.mark("parent-second").first?.pid == parent)
        // An exec event for each successful exec only (the parent's first is captrace's launch), and the failed
        // attempts recorded as violations.
        for (pid, n) in [(parent, 2), (child, 1)] {
            let execs = r.processes.filter { $0.event == .exec && $0.pid == pid }
            #expect(execs.count == n, "pid \(pid): \(execs.count) exec events\n\(r.digest)")
        }
        let attempts = r.violations.filter { $0.syscall == "execve" && $0.path == "/nonexistent/captrace-no-such-program" }
        #expect(Set(attempts.map(\.pid)) == [parent, child], "\(r.digest)")
    }

    @Test("a storm of threads making violations at once: no event lost or duplicated", arguments: backends)
    func threadStorm(backend: String) throws {
        let w = try Workdir("storm")
        let threads = 8, count = 300
        let r = try Harness.run([try Harness.fixture("storm"), "\(threads)", "\(count)"], backend: backend,
                                options: ["--enter-at", capEnter, "-q"], in: w, timeout: 120)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.violations.count == threads * count, "\(r.digest)")
        for i in 0..<threads {
            let v = r.mark("storm-\(i)")
            let tid = r.int("tid\(i)").map(Int32.init)
            #expect(v.count == count, "thread \(i): \(v.count) violations")
            #expect(tid != nil && v.allSatisfy { $0.tid == tid && $0.pid == r.programPid }, "thread \(i): wrong tid/pid")
        }
        #expect(Set(r.violations.map(\.seq)).count == r.violations.count, "duplicate seq")
    }

    /// Frames and sites of a stack are made on the recording thread (Recorder.draft, RecordingThread.append): every
    /// violation must still carry its frames and its one site, and the summary count the sites written.
    @Test("repeated violations with stacks share one call and site; the summary counts the sites", arguments: backends)
    func repeatsShareTheirCall(backend: String) throws {
        let w = try Workdir("storm-one")
        let count = 50
        let r = try Harness.run([try Harness.fixture("storm"), "1", "\(count)"], backend: backend,
                                options: ["--enter-at", capEnter, "-q"], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        let v = r.mark("storm-0")
        #expect(v.count == count, "\(r.digest)")
        #expect(Set(v.map(\.site)).count == 1 && !(v.first?.site.isEmpty ?? true), "\(r.digest)")
        #expect(v.allSatisfy { !$0.stack.isEmpty && $0.stack.first?.module != nil }, "\(r.digest)")
        let calls = r.traceText.split(separator: "\n").filter { $0.contains("\"type\":\"call\"") && $0.contains("mark-storm-0") }
        // The first violation is drafted in full, the repeats share a call: two records, as before stacks were
        // made on the recording thread (the writer also merges equal calls; sharing one spares it the comparison).
        #expect(calls.count <= 2, "call records of the marker: \(calls.count)")
        #expect(r.summary?.sites == Set(r.violations.map(\.site)).count, "summary sites \(r.summary?.sites ?? -1)")
    }
}
