import Diagnosis
import Foundation
import Reports
import SyscallCatalog
import Testing
import TraceModel

enum Paths {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsDir.appendingPathComponent("Fixtures")
    static let golden = testsDir.appendingPathComponent("Golden")
    static let repo = testsDir.deletingLastPathComponent().deletingLastPathComponent()
}

func trace(_ url: URL) throws -> Trace { try TraceReader.parse(String(contentsOf: url, encoding: .utf8)) }
func fixtureTrace() throws -> Trace { try trace(Paths.fixtures.appendingPathComponent("rights-fixture.jsonl")) }
func tcpdumpTrace() throws -> Trace { try trace(Paths.repo.appendingPathComponent("Traces/v1/tcpdump-rights.jsonl")) }

/// The analysis of traces recorded by `captrace run --rights` (Fixtures/rights/rights.c, tcpdump).
@Suite struct AnalysisTests {
    @Test func fixtureRightsEqualTheKnownUses() throws {
        let a = RightsAnalysis(try fixtureTrace())
        #expect(a.recorded)
        let pid = a.processes[0].pid
        func row(_ path: String, kind: DescriptorKind? = nil, p: Int32? = nil) -> DescriptorRights? {
            a.rows(pid: p ?? pid).first { $0.path.hasSuffix(path) && (kind == nil || $0.kind == kind) }
        }
        // Held at entry, each used in a known way (Fixtures/rights/rights.c).
        #expect(a.rows(pid: pid).first { $0.fd == 0 }?.used == [])
        #expect(a.rows(pid: pid).first { $0.fd == 1 }?.used == ["CAP_WRITE"])
        #expect(a.rows(pid: pid).first { $0.fd == 2 }?.used == [])
        #expect(row("/ro.txt")?.used == ["CAP_READ", "CAP_SEEK", "CAP_MMAP_R", "CAP_FSTAT"])
        #expect(row("/ro.txt")?.aliases == [8])  // the dup: one object, SEEK came through the alias
        #expect(row("/wo.txt")?.used == ["CAP_WRITE", "CAP_FSYNC"])
        let dir = try #require(a.rows(pid: pid).first { $0.kind == .directory })
        #expect(dir.used == ["CAP_READ", "CAP_LOOKUP", "CAP_FSTATAT"])
        let sockets = a.rows(pid: pid).filter { $0.kind == .socket }.sorted { $0.fd < $1.fd }
        #expect(sockets.map(\.used) == [["CAP_SEND"], ["CAP_RECV", "CAP_IOCTL"]])
        #expect(sockets[1].details["CAP_IOCTL"] == ["FIONREAD"])
        #expect(sockets[0].linux.contains("SHUT_RD"))
        #expect(sockets[1].linux.contains("SHUT_WR"))
        // The unused one is flagged, with the paper's limit for a standard descriptor.
        let stdin = try #require(a.rows(pid: pid).first { $0.fd == 0 })
        #expect(stdin.advice == .unused)
        #expect(stdin.capsicum == "cap_rights_limit(0, CAP_FSTAT)")
        #expect(stdin.unused.contains("CAP_READ"))
        // Opened after entry: attributed to its directory, then closed; its number is reused by the pipe.
        let sub = try #require(row("/sub.txt"))
        #expect(sub.origin == .derived(fd: dir.fd, path: dir.path, syscall: "openat"))
        #expect(sub.used == ["CAP_READ"])
        #expect(sub.closed)
        let pipes = a.rows(pid: pid).filter { $0.kind == .pipe }
        #expect(pipes.map(\.used) == [["CAP_READ"], ["CAP_WRITE"]])
        #expect(pipes.allSatisfy { $0.origin == .created(syscall: "pipe2") })
        #expect(pipes[0].fd == sub.fd, "the fixture reuses the closed number for the pipe's read end")
        // The forked child: only its own use of the inherited write-only file.
        #expect(a.processes.count == 2)
        let child = a.processes[1].pid
        let used = a.rows(pid: child).filter { !$0.used.isEmpty }
        #expect(used.count == 1)
        #expect(used.first?.path.hasSuffix("/wo.txt") == true)
        #expect(used.first?.used == ["CAP_WRITE"])
        #expect(used.first?.origin == .inherited(pid: pid))
    }

    @Test func tcpdumpStdinUntouchedFileReadStdoutWritten() throws {
        let a = RightsAnalysis(try tcpdumpTrace())
        let pid = a.processes[0].pid
        let rows = a.rows(pid: pid)
        let stdin = try #require(rows.first { $0.fd == 0 && $0.origin == .entry })
        #expect(stdin.kind == .tty)
        #expect(stdin.used.isEmpty)
        #expect(stdin.advice == .unused)
        #expect(stdin.capsicum == "cap_rights_limit(0, CAP_FSTAT)")
        let stdout = try #require(rows.first { $0.fd == 1 && $0.origin == .entry })
        #expect(stdout.used.contains("CAP_WRITE"))
        #expect(!stdout.used.contains("CAP_READ"))
        #expect(stdout.linux.contains("O_WRONLY"))
        let capture = try #require(rows.first { $0.path.hasSuffix("/loopback.pcap") })
        #expect(capture.used == ["CAP_READ"])
        #expect(!capture.used.contains("CAP_WRITE"))
        // And the plan says so.
        let plan = a.planItems(pid: pid)
        #expect(plan.contains { $0.hasPrefix("fd 0 /dev/pts/") && $0.contains("never used after entry") && $0.contains("cap_rights_limit(0, CAP_FSTAT)") })
    }

    /// Synthetic events: dup2 over a held number, fork, close, and a number used without being seen.
    @Test func replayOfDupForkAndClose() throws {
        var events: [TraceEvent] = []
        var h = HeaderEvent(argv: ["x"], trigger: "main", mode: .observe, backend: .ptrace, started: "2026-01-01T00:00:00Z")
        h.rights = true
        events.append(.header(h))
        events.append(.enter(EnterEvent(pid: 10, tid: 10, trigger: "main", tNs: 1, stack: [], fds: [
            FDInfo(fd: 0, kind: .tty, path: "/dev/pts/1", flags: "O_RDWR"),
            FDInfo(fd: 3, kind: .file, path: "/data", flags: "O_RDWR"),
            FDInfo(fd: 4, kind: .socket, path: "socket:[1]", flags: "O_RDWR"),
        ])))
        func op(_ pid: Int32, _ fd: Int32, _ sc: String, _ right: CapRight?, new: Int32? = nil, kind: DescriptorKind? = nil, path: String? = nil) -> TraceEvent {
            var e = FDOpEvent(pid: pid, tid: pid, tNs: 2, fd: fd, syscall: sc, right: right)
            e.newFd = new; e.newKind = kind; e.newPath = path
            return .fdop(e)
        }
        events.append(op(10, 3, "dup2", nil, new: 0, kind: .file, path: "/data"))  // stdin now names /data
        events.append(op(10, 0, "read", .read))
        events.append(.process(ProcessEvent(event: .fork, pid: 11, tid: 11, ppid: 10, capabilityMode: true, tNs: 3)))
        events.append(op(11, 4, "recvfrom", .recv))
        events.append(op(10, 4, "close", nil))
        events.append(op(10, 4, "write", .write))  // a number never seen created after the close
        events.append(op(10, 9, "fstat", .fstat))
        let a = RightsAnalysis(Trace(events: events))
        let parent = a.rows(pid: 10)
        let tty = try #require(parent.first { $0.path == "/dev/pts/1" })
        #expect(tty.used.isEmpty)  // the read went to /data through its dup
        let data = try #require(parent.first { $0.path == "/data" })
        #expect(data.used == ["CAP_READ"])
        #expect(data.aliases == [0])
        #expect(data.linux.contains("O_RDONLY"))  // O_RDWR used only for reading
        let sock = try #require(parent.first { $0.path == "socket:[1]" })
        #expect(sock.used.isEmpty)
        #expect(sock.closed)
        #expect(parent.filter { $0.origin == .unknown }.map(\.fd).sorted() == [4, 9])
        let child = a.rows(pid: 11)
        #expect(child.first { $0.path == "socket:[1]" }?.used == ["CAP_RECV"])
        #expect(child.first { $0.path == "/data" }?.origin == .inheritedUnused)
        #expect(child.first { $0.path == "/dev/pts/1" } == nil)  // replaced by dup2 before the fork
        // A child's unused inherited descriptors are not plan items.
        #expect(a.planItems(pid: 11).count == 1)
    }

    @Test func traceWithoutRightsSaysSo() throws {
        var events: [TraceEvent] = []
        events.append(.header(HeaderEvent(argv: ["x"], trigger: "main", mode: .observe, backend: .ptrace, started: "t")))
        let a = RightsAnalysis(Trace(events: events))
        #expect(!a.recorded)
        #expect(renderRightsTable(Trace(events: events)).contains("captrace run --rights"))
    }
}
