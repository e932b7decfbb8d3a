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

    /// /proc/PID/status's Cpus_allowed_list ("0-1", "0,2-3"), nil when unreadable.
    static func allowedList(_ pid: Int32) -> String? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        return line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
    }

    /// How many CPUs Cpus_allowed_list holds, nil when unreadable.
    static func allowedCPUs(_ pid: Int32) -> Int? {
        allowedList(pid).map { list in
            list.split(separator: ",").reduce(0) { n, part in
                let ends = part.split(separator: "-").compactMap { Int($0) }
                return n + (ends.count == 2 ? ends[1] - ends[0] + 1 : 1)
            }
        }
    }

    /// Starts the affinity fixture with `mode` under `backend` and waits for its pid; the lines it said so far come
    /// from `said`.
    static func startWaiting(_ mode: String, backend: String) throws -> (run: Running, pid: Int32, said: (String) -> String?) {
        let bin = try Harness.fixture("affinity")
        let w = try Workdir("affinity-\(mode)-\(backend)")
        let run = try Harness.start([bin, mode], backend: backend, options: ["-q", "--enter-at", "exec"], in: w)
        let out = w.path("captrace.stdout")
        let said: (String) -> String? = { word in
            ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n")
                .first { $0.hasPrefix(word) }.map { String($0.dropFirst(word.count)) }
        }
        var pid: Int32 = 0
        _ = eventually { said("pid=").flatMap { Int32($0) }.map { pid = $0 } != nil }
        if pid == 0 {
            kill(run.pid, SIGKILL)
            _ = try? run.finish()
            throw HarnessError("the affinity fixture (\(mode), \(backend)) never said its pid")
        }
        return (run, pid, said)
    }

    /// Polls `condition` every 10 ms for up to `seconds`; whether it held.
    static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test("both backends: a program that stops no more gets its CPUs back; its next stop pins it again",
          arguments: ["ptrace", "notify"])
    func quietProgramUnpinned(backend: String) throws {
        let own = try Self.untracedCPUs(try Harness.fixture("affinity"))
        guard own > 1 else { return }  // one CPU: nothing to pin or give back
        let (run, pid, said) = try Self.startWaiting("wait", backend: backend)
        // Quiet since its start: given back every CPU its caller has (within 2 x ProgramPins.quietInterval).
        #expect(Self.eventually { Self.allowedCPUs(pid) == own }, "\(Self.allowedCPUs(pid) ?? -1) CPUs, not \(own)")
        // Busy (a violation every 5 ms): pinned again before its first violation is answered, and kept so.
        kill(pid, SIGUSR1)
        #expect(Self.eventually { said("busy") != nil })
        #expect(Self.allowedCPUs(pid) == 1)
        // Quiet again: given back again.
        kill(pid, SIGUSR1)
        #expect(Self.eventually { said("quiet") != nil })
        #expect(Self.eventually { Self.allowedCPUs(pid) == own })
        kill(pid, SIGUSR2)
        let r = try run.finish()
        #expect(r.status == 0 && !r.mark("again").isEmpty, "\(r.digest)")
    }

    @Test("both backends: an affinity the program set itself is neither unpinned nor pinned again",
          arguments: ["ptrace", "notify"])
    func ownAffinityKept(backend: String) throws {
        guard try Self.untracedCPUs(try Harness.fixture("affinity")) > 1 else { return }
        let (run, pid, said) = try Self.startWaiting("own", backend: backend)
        let chosen = said("own=")
        #expect(chosen != nil)
        // Quiet for 5 x ProgramPins.quietInterval: a pin captrace gave would be gone by now (the test above).
        usleep(100_000)
        #expect(Self.allowedList(pid) == chosen)
        kill(pid, SIGUSR1)
        #expect(Self.eventually { said("busy") != nil })
        #expect(Self.allowedList(pid) == chosen)
        kill(pid, SIGUSR2)
        let r = try run.finish()
        #expect(r.status == 0 && !r.mark("again").isEmpty, "\(r.digest)")
    }
}
