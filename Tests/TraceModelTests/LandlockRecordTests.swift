import Landlock
import TraceModel
import XCTest

/// The optional Landlock records survive writing and reading, in both formats.
final class LandlockRecordTests: XCTestCase {
    func testRoundTrip() throws {
        var h = HeaderEvent(argv: ["prog"], trigger: "main", mode: .observe, backend: .ptrace, started: "2026-12-01T00:00:00Z")
        h.landlockABI = 7
        h.cwd = "/root/proj"; h.home = "/root"; h.tmpdir = "/tmp"
        let frame = Frame(pc: 0x401000, module: "/usr/bin/prog", offset: 0x1000, symbol: "restrict_beneath", symbolOffset: 4)
        var domain = LandlockEvent(pid: 10, tid: 10, tNs: 5, source: .program, ruleset: Ruleset(
            handledFS: [.readFile, .readDir, FSAccess(rawValue: 1 << 40)], handledNet: [.connectTCP], scoped: [.signal],
            paths: [PathRule(path: "/tmp/data", access: [.readFile, .readDir])], ports: [PortRule(port: 443, access: .connectTCP)]))
        domain.rulesetFd = 3
        domain.stack = [frame]
        let unseen = LandlockEvent(pid: 11, tid: 11, tNs: 6, source: .policy, ruleset: nil)
        var call = RefusedCall(syscall: "renameat2", errno: "EXDEV")
        call.path = "/tmp/a/x"; call.path2 = "/tmp/b/x"; call.fileType = .regular; call.flags = 1
        var denial = LandlockDenialEvent(pid: 10, tid: 10, tNs: 7, call: call)
        denial.stack = [frame]
        var connect = RefusedCall(syscall: "connect", errno: "EACCES")
        connect.port = 80
        connect.abstractUnix = false
        let events: [TraceEvent] = [.header(h), .landlock(domain), .landlock(unseen), .landlockDenial(denial),
                                    .landlockDenial(LandlockDenialEvent(pid: 10, tid: 12, tNs: 8, call: connect)),
                                    .summary(SummaryEvent(violations: 0, sites: 0, processes: 1, exitStatus: 0, durationMs: 1))]
        for version in [1, 2] {
            let sink = MemorySink()
            let w = TraceWriter(sink: sink, version: version)
            for e in events { try w.write(e) }
            let back = try TraceReader.parse(sink.text)
            var expected = events
            if case .header(var hh) = expected[0] { hh.version = version; expected[0] = .header(hh) }
            XCTAssertEqual(back.events, expected, "format \(version):\n\(sink.text)")
            XCTAssertEqual(back.header?.landlockABI, 7)
        }
    }
}
