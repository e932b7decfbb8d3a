// End-to-end `captrace run --rights` on Fixtures/rights/rights.c: the recorded rights equal the fixture's
// known uses exactly, the unused descriptor is flagged, descriptors opened after entry are attributed to their
// parent, dup and fork are followed. The analysis is checked through `captrace report --rights --format json`.
import Foundation
import Testing
import TraceModel

@Suite struct RightsTests {
    static func fixture() throws -> String { try Harness.build(["../rights/rights.c"], name: "rights") }

    /// Rights recorded per descriptor number for one process (table operations, right "none", left out).
    static func recorded(_ t: Trace, pid: Int32) -> [Int32: Set<String>] {
        var out: [Int32: Set<String>] = [:]
        for op in t.fdops where op.pid == pid { if let right = op.right { out[op.fd, default: []].insert(right.rawValue) } }
        return out
    }

    @Test func recordedRightsEqualTheKnownUses() throws {
        let work = try Workdir("rights")
        let r = try Harness.run([try Self.fixture()], backend: "ptrace",
                                options: ["--rights", "--enter-at", "symbol:enter_sandbox", "-q"], in: work)
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.traceIsComplete, "\(r.digest)")
        let t = try #require(r.trace)
        #expect(t.header?.rights == true)
        let pid = try #require(r.programPid)
        func fd(_ key: String) throws -> Int32 { Int32(try #require(r.int(key), "fixture printed no \(key)")) }
        let ro = try fd("ro"), wo = try fd("wo"), dir = try fd("dir"), s0 = try fd("s0"), s1 = try fd("s1")
        let alias = try fd("alias"), sub = try fd("sub"), pr = try fd("pr"), pw = try fd("pw")
        let child = try fd("child")

        var expected: [Int32: Set<String>] = [
            1: ["CAP_WRITE"],
            ro: ["CAP_READ", "CAP_FSTAT", "CAP_MMAP_R"],
            alias: ["CAP_READ", "CAP_SEEK"],
            wo: ["CAP_WRITE", "CAP_FSYNC"],
            dir: ["CAP_LOOKUP", "CAP_READ", "CAP_FSTATAT"],
            s0: ["CAP_SEND"],
            s1: ["CAP_RECV", "CAP_IOCTL"],
            pw: ["CAP_WRITE"],
        ]
        expected[sub, default: []].insert("CAP_READ")  // sub.txt, then the pipe's read end on the same number
        expected[pr, default: []].insert("CAP_READ")
        #expect(Self.recorded(t, pid: pid) == expected, "\(t.fdops.map { "\($0.pid) \($0.fd) \($0.syscall) \($0.right?.rawValue ?? "none")" })")
        #expect(Self.recorded(t, pid: child) == [wo: ["CAP_WRITE"]])
        #expect(t.fdops.filter { $0.pid == pid && ($0.fd == 0 || $0.fd == 2) }.isEmpty, "stdin and stderr are unused")

        // First use only: one event per (descriptor, right) although ro is read twice (read, pread via alias).
        #expect(t.fdops.filter { $0.pid == pid && $0.fd == ro && $0.right?.rawValue == "CAP_READ" }.count == 1)
        // Each first use carries its site and a stack through the fixture's main.
        let first = try #require(t.fdops.first { $0.fd == ro && $0.right?.rawValue == "CAP_READ" })
        #expect(first.site != nil)
        #expect(first.stack?.contains { $0.symbol == "main" } == true)

        // Creation events: the dup, the openat from the directory, the pipe.
        let dup = try #require(t.fdops.first { $0.syscall == "dup" })
        #expect(dup.fd == ro && dup.newFd == alias && dup.right == nil)
        let opened = try #require(t.fdops.first { $0.newFd == sub && $0.syscall == "openat" })
        #expect(opened.fd == dir)
        #expect(opened.right?.rawValue == "CAP_LOOKUP")
        #expect(opened.newPath == work.path("sub.txt"))
        #expect(opened.newKind == .file)
        #expect(t.fdops.contains { $0.syscall == "close" && $0.fd == sub })
        let pipes = t.fdops.filter { $0.syscall == "pipe2" || $0.syscall == "pipe" }
        #expect(Set(pipes.compactMap(\.newFd)) == [pr, pw])
        #expect(pipes.allSatisfy { $0.fd == -1 && $0.newKind == .pipe })

        // The analysis, as users get it.
        let rep = try Subprocess.run([try Harness.captrace(), "report", "--rights", "--format", "json", work.path("trace.jsonl")])
        #expect(rep.status == 0, "\(rep.stderr)")
        let rows = try #require(try JSONValue.parse(rep.stdout)["rights"]?["descriptors"]?.arrayValue)
        func row(pid p: Int32, path: String) -> JSONValue? {
            rows.first { $0["pid"]?.intValue == Int64(p) && $0["path"]?.stringValue == path }
        }
        func used(_ v: JSONValue?) -> [String] { v?["used"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let stdin = try #require(rows.first { $0["pid"]?.intValue == Int64(pid) && $0["fd"]?.intValue == 0 })
        #expect(stdin["verdict"]?.stringValue == "unused")
        #expect(stdin["limit"]?["capsicum"]?.stringValue == "cap_rights_limit(0, CAP_FSTAT)")
        let roRow = try #require(row(pid: pid, path: work.path("ro.txt")))
        #expect(used(roRow) == ["CAP_READ", "CAP_SEEK", "CAP_MMAP_R", "CAP_FSTAT"])
        #expect(roRow["aliases"]?.arrayValue?.compactMap(\.intValue) == [Int64(alias)])
        let subRow = try #require(row(pid: pid, path: work.path("sub.txt")))
        #expect(subRow["origin"]?["type"]?.stringValue == "derived")
        #expect(subRow["origin"]?["fd"]?.intValue == Int64(dir))
        #expect(subRow["closed"]?.boolValue == true)
        #expect(used(row(pid: child, path: work.path("wo.txt"))) == ["CAP_WRITE"])
        #expect(used(row(pid: pid, path: work.path("wo.txt"))) == ["CAP_WRITE", "CAP_FSYNC"])
    }

    @Test func withoutRightsNoFdopAndNoDescriptorStops() throws {
        let work = try Workdir("norights")
        let r = try Harness.run([try Self.fixture()], backend: "ptrace",
                                options: ["--enter-at", "symbol:enter_sandbox", "-q"], in: work)
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.trace?.fdops.isEmpty == true)
        #expect(r.trace?.header?.rights == nil)
        let rep = try Subprocess.run([try Harness.captrace(), "report", "--rights", work.path("trace.jsonl")])
        #expect(rep.stdout.contains("record it with `captrace run --rights`"))
        let bad = try Subprocess.run([try Harness.captrace(), "report", "--rights", "--format", "sarif", work.path("trace.jsonl")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--rights needs --format text, json or html"))
    }
}
