// Stacks under --backend notify equal ptrace's: the same violations traced by both backends, paired in order by
// (syscall, path or address), compared frame by frame (module and offset), as Tools/frame-agreement.py does on
// real programs (README). ptrace stops the thread and reads every register; notify has only rsp and rip from
// /proc/TID/syscall and must recover rbp for callers found through a frame pointer (Fixtures/run/frames.c:
// frame-pointer chains, alloca areas holding stale frame records), and through glibc's own frame-pointer
// functions (`date` loading its locale, `getent` asking nscd and reading /etc/hosts).
import Foundation
import Testing
import TraceModel

@Suite("run: notify stacks equal ptrace's")
struct StackParityTests {
    /// Frames of the ptrace stacks that the notify stack has at the same depth, and all ptrace frames.
    static func agreement(_ a: [ViolationEvent], _ b: [ViolationEvent]) -> (agree: Int, total: Int, pairs: Int) {
        func key(_ v: ViolationEvent) -> String { "\(v.syscall) \(v.path ?? v.address ?? "")" }
        var pending: [String: [ViolationEvent]] = [:]
        for v in b { pending[key(v), default: []].append(v) }
        var agree = 0, total = 0, pairs = 0
        for v in a {
            guard var same = pending[key(v)], !same.isEmpty else { continue }
            let w = same.removeFirst()
            pending[key(v)] = same
            pairs += 1
            total += v.stack.count
            for (i, f) in v.stack.enumerated() where i < w.stack.count
                && w.stack[i].module == f.module && w.stack[i].offset == f.offset { agree += 1 }
        }
        return (agree, total, pairs)
    }

    static let programs = ["frames.c", "date", "getent hosts localhost", "sh"]

    @Test("frame by frame, at least 95% of ptrace's frames (measured: 100% on these)", arguments: programs)
    func sameFrames(name: String) throws {
        let argv: [String]
        switch name {
        case "frames.c": argv = [try Harness.fixture("frames", "-fno-omit-frame-pointer")]
        case "date": argv = ["/usr/bin/date"]
        // dash's vfork children stop at their execve in dash's code: under notify their unwinder starts from a
        // copy of the shell's (NotifyLoop.startUnwinderFromParent), under ptrace from the fork event's.
        case "sh": argv = ["/bin/sh", "-c", "for i in 1 2 3; do /bin/true; done; exec /bin/true"]
        default: argv = ["/usr/bin/getent", "hosts", "localhost"]
        }
        let p = (name: name, trigger: "main")
        let w = try Workdir("parity")
        let a = try Harness.run(argv, backend: "ptrace", options: ["--enter-at", p.trigger, "-q"], in: w)
        let b = try Harness.run(argv, backend: "notify", options: ["--enter-at", p.trigger, "-q"], in: w)
        #expect(a.status == 0 && b.status == 0, "\(a.digest)\n\(b.digest)")
        let r = Self.agreement(a.violations, b.violations)
        #expect(r.pairs >= 3 && r.total >= 20, "\(p.name): too little to compare (\(r))\n\(a.digest)")
        let pct = r.total > 0 ? 100.0 * Double(r.agree) / Double(r.total) : 0
        #expect(pct >= 95, "\(p.name): \(r.agree) of \(r.total) frames agree (\(pct)%)")
        if p.name == "frames.c" {
            // The fixture's own chain is there in full: with_alloca, deep x6, main.
            let deepOnes = b.violations.filter { $0.path?.hasSuffix("mark-deep") == true }
            #expect(deepOnes.count == 1 && (deepOnes.first?.stack.count ?? 0) >= 10, "\(b.digest)")
        }
    }

    /// env's PATH search: main calls execvp, which jumps to execvpe, which jumps to __execvpe_common, a function
    /// with a frame pointer whose caller notify finds only by recovering rbp (dw_walk's scan): the record there
    /// returns from env's call to execvp, not to __execvpe_common itself. Each execve stack must equal ptrace's
    /// and go through env's main: with a new rbp memo (the scan), with the memo that run wrote (its trial), and
    /// with a longer PATH entry, for which __execvpe_common's frame is larger (its buffer is on the stack) and the
    /// kept place of rbp is wrong (the trial must not take what a walk from there finds).
    @Test("a frame-pointer function reached by tail calls (env: execvp, execvpe, __execvpe_common): notify finds its caller")
    func tailCalledFramePointerFunction() throws {
        let w = try Workdir("parity-env")
        let cache = ["/usr/bin/env", "XDG_CACHE_HOME=" + w.path("cache")]
        func execves(_ r: RunResult) -> [[String]] {
            r.violations.filter { $0.syscall == "execve" }.map { $0.stack.map { "\($0.module ?? "?")+\($0.offset ?? 0)" } }
        }
        let long = "/captrace-nowhere" + String(repeating: "/" + String(repeating: "x", count: 100), count: 6)
        for (memo, dir) in [("new", "/captrace-nowhere"), ("kept", "/captrace-nowhere"), ("kept, larger frame", long)] {
            let argv = ["/usr/bin/env", "-i", "PATH=\(dir):/usr/bin", "true"]
            let a = try Harness.run(argv, backend: "ptrace", options: ["--enter-at", "main", "-q"], in: w, wrapper: cache)
            let reference = execves(a)
            #expect(reference.count == 2 && reference.allSatisfy { $0.contains { $0.hasPrefix("/usr/bin/env+") } },
                    "\(memo): \(a.digest)")
            let b = try Harness.run(argv, backend: "notify", options: ["--enter-at", "main", "-q"], in: w, wrapper: cache)
            #expect(execves(b) == reference, "memo \(memo): notify \(execves(b))\nptrace \(reference)")
        }
    }
}
