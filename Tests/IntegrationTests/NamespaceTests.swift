// Each namespace with its non-violation twins (Fixtures/run/fs.c, net.c, proc.c, ipc.c, int80.c).
// The fixtures state the exact, ordered list of violations they make after cap_enter(); these tests compare it.
import Foundation
import Testing
import TraceModel

@Suite("run: namespaces")
struct NamespaceTests {
    @Test("paths of every length are recorded whole: short, past the first read, and near PATH_MAX",
          arguments: backends)
    func longPaths(backend: String) throws {
        let w = try Workdir("long-paths")
        // Nonexistent files: cat reports each and goes on (status 1); each open is an absolute-path violation.
        let paths = [200, 255, 256, 300, 4000].map { n in
            "/captrace-nowhere/" + String(repeating: "d/", count: (n - 19) / 2) + String(repeating: "f", count: n - 19 - 2 * ((n - 19) / 2) + 1)
        }
        #expect(paths.map(\.utf8.count) == [200, 255, 256, 300, 4000])
        let r = try Harness.run(["/bin/cat"] + paths, backend: backend, options: ["--enter-at", "main"], in: w)
        expectRun(r, backend: backend, trigger: "main", status: 1)
        let opened = r.violations.filter { $0.syscall == "openat" && ($0.path ?? "").hasPrefix("/captrace-nowhere/") }
        #expect(opened.map { $0.path ?? "" } == paths, "\(r.digest)")
    }

    @Test("filesystem: absolute, AT_FDCWD and .. escapes vs descriptor-relative, ..foo and glibc fstat",
          arguments: backends)
    func filesystem(backend: String) throws {
        let w = try Workdir("fs")
        let r = try Harness.run([try Harness.fixture("fs")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.stdout.contains("done"), "\(r.digest)")
        let c = r.cwd
        #expect(r.shapes == [
            "openat filesystem/absolute-path \(c)/box/sub/file",
            "openat filesystem/cwd-relative \(c)/box/sub/file",
            "openat filesystem/dotdot-escape \(c)/box/sub/file",
            "newfstatat filesystem/cwd-relative \(c)/box",
            "mkdir filesystem/absolute-path \(c)/newdir",
        ], "\(r.digest)")
        // Sites are named, and counted for the summary, on the recording thread (RecordingThread.append).
        #expect(r.summary?.sites == Set(r.violations.map(\.site)).count && Set(r.violations.map(\.site)).count >= 5,
                "summary sites \(r.summary?.sites ?? -1)\n\(r.digest)")
        // The enter event lists the descriptors held at entry: the directory among them.
        let dirfd = try #require(r.int("dirfd").map(Int32.init), "\(r.digest)")
        let held = r.enters.first?.fds.first { $0.fd == dirfd }
        #expect(held?.kind == .directory && held?.path == c + "/box", "enter fds: \(r.enters.first?.fds ?? [])")
        // The dirfd is joined to its path (the shapes above); the name as the program gave it is in the arguments.
        let escape = r.violations.first { $0.rule == .dotdotEscape }
        #expect(escape?.args.contains { $0.1 == .string("../box/sub/file") } ?? false,
                "the raw name is not among the arguments: \(escape.map { "\($0.args)" } ?? "nil")")
        for v in r.violations {
            #expect(v.pid == r.programPid && v.tid == r.programPid && v.action == .allowed && v.abi == .x86_64,
                    "\(RunResult.describe(v))")
            if backend == "ptrace" {
                #expect((v.result ?? -1) >= 0 && v.errno == nil, "the call succeeded: \(RunResult.describe(v))")
            }
        }
    }

    @Test("syscalls newer than the UAPI headers (fchmodat2, setxattrat, statmount) are stopped and judged",
          arguments: backends)
    func newerSyscalls(backend: String) throws {
        let w = try Workdir("newer")
        let r = try Harness.run([try Harness.fixture("newer")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.stdout.contains("done"), "\(r.digest)")
        let c = r.cwd
        #expect(r.violations.map { "\($0.syscall) \($0.rule.rawValue) \($0.path ?? "-")" } == [
            "fchmodat2 absolute-path \(c)/f",
            "setxattrat cwd-relative \(c)/f",
            "statmount system-state -",
        ], "\(r.digest)")
    }

    @Test("network: sendto/connect/bind with an address vs sends on connected sockets, socket, socketpair, listen",
          arguments: backends)
    func network(backend: String) throws {
        let w = try Workdir("net")
        let r = try Harness.run([try Harness.fixture("net")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.stdout.contains("done"), "\(r.digest)")
        let port = try #require(r.int("port"), "\(r.digest)")
        let port6 = try #require(r.int("port6"), "\(r.digest)")
        let pid = try #require(r.int("pid"), "\(r.digest)")
        let c = r.cwd
        #expect(r.shapes == [
            "sendto network/socket-address 127.0.0.1:\(port)",
            "connect network/socket-address 127.0.0.1:\(port)",
            "sendto network/socket-address [::1]:\(port6)",
            "sendto network/socket-address unix:\(c)/rx.sock",
            "connect network/socket-address unix:@captrace-fx-\(pid)",
            "bind network/socket-address unix:\(c)/bound.sock",
        ], "\(r.digest)")
        for v in r.violations {
            #expect(v.path == nil, "a socket address is not a path: \(RunResult.describe(v))")
            if backend == "ptrace" { #expect((v.result ?? -1) >= 0, "\(RunResult.describe(v))") }
        }
    }

    @Test("process: kill(0) and kill(other pid) vs kill(self), tgkill(self), waitpid(own child)", arguments: backends)
    func process(backend: String) throws {
        let w = try Workdir("proc")
        let r = try Harness.run([try Harness.fixture("proc")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.stdout.contains("done"), "\(r.digest)")
        let child = try #require(r.int("child"), "\(r.digest)")
        #expect(r.shapes == ["kill process/process-group", "kill process/other-process"], "\(r.digest)")
        let other = r.violations.first { $0.rule == .otherProcess }
        #expect(other?.args.contains { $0.1 == .int(Int64(child)) } ?? false,
                "the target pid \(child) is not among the decoded arguments: \(other.map { "\($0.args)" } ?? "nil")")
        #expect(r.violations.allSatisfy { Int($0.pid) != child }, "the child forked before entry made violations")
    }

    @Test("ipc and bypass: SysV shmget and io_uring_setup vs memfd_create and anonymous shared mmap",
          arguments: backends)
    func ipcAndBypass(backend: String) throws {
        let w = try Workdir("ipc")
        let r = try Harness.run([try Harness.fixture("ipc")], backend: backend, options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(r.value("shmget") == "ok", "\(r.digest)")
        // shmctl(IPC_RMID) is the fixture's cleanup; these tests do not judge it.
        let shapes = r.nonMarkViolations.filter { $0.syscall != "shmctl" }.map(RunResult.shape)
        #expect(shapes == ["shmget ipc/sysv-ipc", "io_uring_setup bypass/io-uring"], "\(r.digest)")
    }

    @Test("i386: an int 0x80 open from a 64-bit program is recorded with abi i386", arguments: backends)
    func int80(backend: String) throws {
        let w = try Workdir("int80")
        let target = w.path("int80-target")
        _ = FileManager.default.createFile(atPath: target, contents: Data("x".utf8))
        let bin = try Harness.fixture("int80", "-no-pie")
        let r = try Harness.run([bin, target], backend: backend, options: ["--enter-at", "main"], in: w)
        expectRun(r, backend: backend, trigger: "main")
        #expect((r.int("fd") ?? -1) >= 0, "the int 0x80 open failed under captrace\n\(r.digest)")
        #expect(r.violations.count == 1, "\(r.digest)")
        let v = try #require(r.violations(path: target).first, "\(r.digest)")
        #expect(v.abi == .i386 && v.syscall == "open" && v.nr == 5, "\(RunResult.describe(v))")
        #expect(v.namespace == .filesystem && v.rule == .absolutePath && v.action == .allowed, "\(RunResult.describe(v))")
        if backend == "ptrace" { #expect(v.result.map(Int.init) == r.int("fd"), "\(RunResult.describe(v))") }
    }

    @Test("getent hosts localhost (entry at main): the NSS and hosts-file lookups are recorded", arguments: backends)
    func getent(backend: String) throws {
        let w = try Workdir("getent")
        let r = try Harness.run(["/usr/bin/getent", "hosts", "localhost"], backend: backend, in: w)
        expectRun(r, backend: backend, trigger: "main")
        #expect(r.stdout.contains("localhost"), "\(r.digest)")
        for p in ["/etc/nsswitch.conf", "/etc/hosts"] {
            let v = r.violations(path: p)
            #expect(!v.isEmpty, "no violation for \(p)\n\(r.digest)")
            #expect(v.allSatisfy { $0.namespace == .filesystem && $0.rule == .absolutePath }, "\(p)")
        }
    }
}
