// The recording thread: events written in the order they were queued, frames named there (so the baseline,
// judged from the trace, matches frames by their names), and everything queued written by close().
import Baselines
import Foundation
import SyscallCatalog
import Testing
import TraceModel
@testable import Unwinding
@testable import Supervisor

@Suite struct RecordingThreadTests {
    static let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"

    @Test("order kept, frames named off the queueing thread, the baseline judged by those names, all written by close()")
    func writesEverythingInOrder() throws {
        // A frame inside getpid, unnamed (module and offset only, as the tracer thread queues it); libc.so.6's
        // text segment has file offsets equal to its addresses.
        let getpid = try #require(ELFSymbols.lookup("getpid", inFile: Self.libc))
        let frame = Frame(pc: 0x7f00_0000_0000 + getpid.value + 4, module: Self.libc, offset: getpid.value + 4)
        // Its name as the symboliser gives it (with libc6-dbg, an alias from .symtab such as __getpid).
        var named = [frame]
        FrameSymboliser().symbolise(&named)
        let name = try #require(named[0].symbol)
        #expect(name.hasSuffix("getpid"))
        let allowlist = "openat filesystem/absolute-path path=/etc/hosts\n    at libc.so.6!\(name)\n"
        let sink = MemorySink()
        let thread = RecordingThread(writer: TraceWriter(sink: sink), symbolise: true)
        thread.start()
        var header = HeaderEvent(argv: ["x"], trigger: "exec", mode: .observe, backend: .ptrace,
                                 started: "2026-11-29T00:00:00Z")
        header.allowlist = allowlist
        thread.submit(.header(header))
        let n = 3000
        for i in 1...n {
            let path = i % 2 == 0 ? "/etc/hosts" : "/etc/passwd"
            var v = ViolationEvent(seq: i, tNs: UInt64(i), pid: 1, tid: 1, abi: .x86_64, syscall: "openat", nr: 257,
                                   namespace: .filesystem, rule: .absolutePath, args: [("pathname", .string(path))],
                                   action: .allowed, site: "s\(i % 2)", stack: [frame])
            v.path = path
            thread.submit(.violation(v))
        }
        thread.submit(.summary(SummaryEvent(violations: n, sites: 2, processes: 1, exitStatus: 0, durationMs: 1)))
        let error = thread.close()
        #expect(error == nil)

        let trace = try TraceReader.parse(sink.text)
        #expect(trace.warnings.isEmpty)
        let vs = trace.violations
        #expect(vs.map(\.seq) == Array(1...n))
        #expect(vs.allSatisfy { $0.stack.first?.symbol == name }, "\(vs.first?.stack ?? [])")
        // Observe mode: the recorder writes what happened; the baseline (kept in the header) is judged by analysis.
        #expect(vs.allSatisfy { $0.action == .allowed })
        #expect(trace.header?.allowlist == allowlist)
        let judged = judgedViolations(trace)
        #expect(judged.filter { $0.action != .allowedByBaseline }.count == n / 2, "violations outside the baseline")
        #expect(judged.allSatisfy { ($0.path == "/etc/hosts") == ($0.action == .allowedByBaseline) })
        #expect(trace.summary?.violations == n)
    }

    @Test("close() in the middle of a batch: the thread gives the rest back, and every event is written once, in order")
    func closeDuringBatch() throws {
        let frame = Frame(pc: 0x7f00_0000_1000, module: Self.libc, offset: 0x1000)
        var gaveBack = 0
        for pause in [0, 50, 120, 150, 200, 400] {
            let sink = MemorySink()
            let thread = RecordingThread(writer: TraceWriter(sink: sink), symbolise: true)
            thread.start()
            thread.submit(.header(HeaderEvent(argv: ["x"], trigger: "exec", mode: .observe, backend: .ptrace,
                                              started: "2026-11-29T00:00:00Z")))
            usleep(2000)  // the first batch is written; the next waits ~100 µs for more
            let n = 4000
            for i in 1...n {
                thread.submit(.violation(ViolationEvent(seq: i, tNs: UInt64(i), pid: 1, tid: 1, abi: .x86_64,
                                                        syscall: "getpid", nr: 39, namespace: .filesystem,
                                                        rule: .absolutePath, args: [], action: .allowed,
                                                        site: "s", stack: [frame])))
            }
            thread.submit(.summary(SummaryEvent(violations: n, sites: 1, processes: 1, exitStatus: 0, durationMs: 1)))
            usleep(useconds_t(pause))  // close lands before, during or after that batch
            #expect(thread.close() == nil)
            if thread.givenBack > 0 { gaveBack += 1 }  // read after close(): the thread has left
            let trace = try TraceReader.parse(sink.text)
            #expect(trace.warnings.isEmpty)
            #expect(trace.violations.map(\.seq) == Array(1...n), "pause \(pause) µs")
        }
        #expect(gaveBack > 0, "no close() landed in the middle of a batch: the give-back path was not tested")
    }

    @Test("exited processes' maps descriptors the walker parked: closed by the thread at its next batch, and by close()")
    func closesParkedDescriptors() throws {
        let parked = ExitedMaps()
        let thread = RecordingThread(writer: TraceWriter(sink: MemorySink()), symbolise: false, exitedMaps: parked)
        thread.start()
        for _ in 0..<3 { parked.park(open("/dev/null", O_RDONLY | O_CLOEXEC)) }
        #expect(parked.count == 3)
        thread.submit(.header(HeaderEvent(argv: ["x"], trigger: "exec", mode: .observe, backend: .ptrace,
                                          started: "2026-11-29T00:00:00Z")))
        for _ in 0..<400 where parked.count > 0 { usleep(5000) }
        #expect(parked.count == 0, "the batch did not close them")
        parked.park(open("/dev/null", O_RDONLY | O_CLOEXEC))
        #expect(parked.count == 1)
        #expect(thread.close() == nil)
        #expect(parked.count == 0, "close() did not close it")
    }

    @Test("close() with nothing queued, and a recorder that never started one")
    func closeWhenIdle() {
        let sink = MemorySink()
        let thread = RecordingThread(writer: TraceWriter(sink: sink), symbolise: false)
        thread.start()
        let error = thread.close()
        #expect(error == nil && sink.bytes.isEmpty)
        #expect(RecordingThread(writer: TraceWriter(sink: MemorySink()), symbolise: false).close() == nil)
    }
}
