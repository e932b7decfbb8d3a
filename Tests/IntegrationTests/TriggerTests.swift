// Each trigger of `--enter-at` on real programs (Fixtures/run/triggers.c, lib-user.c, dlopen-user.c, sandbox.c).
import Foundation
import Testing
import TraceModel

@Suite("run: triggers")
struct TriggerTests {
    @Test("exec: from the first instruction, the dynamic loader's work counts", arguments: backends)
    func exec(backend: String) throws {
        let w = try Workdir("exec")
        let r = try Harness.run([try Harness.fixture("triggers")], backend: backend, options: ["--enter-at", "exec"], in: w)
        expectRun(r, backend: backend, trigger: "exec")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["ctor", "main", "after-symbol", "after-syscall"], "\(r.digest)")
        let loader = r.violations.filter { ($0.path ?? "") == "/etc/ld.so.cache" || ($0.path ?? "").hasSuffix("/libc.so.6") }
        #expect(!loader.isEmpty, "the loader's opens of ld.so.cache / libc.so.6 are not recorded\n\(r.digest)")
    }

    @Test("main: from the first call of main, not the constructors", arguments: backends)
    func main(backend: String) throws {
        let w = try Workdir("main")
        let r = try Harness.run([try Harness.fixture("triggers")], backend: backend, options: ["--enter-at", "main"], in: w)
        expectRun(r, backend: backend, trigger: "main")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["main", "after-symbol", "after-syscall"], "\(r.digest)")
        #expect(r.nonMarkViolations.isEmpty, "\(r.digest)")
    }

    @Test("main is the default trigger", arguments: backends)
    func mainByDefault(backend: String) throws {
        let w = try Workdir("default")
        let r = try Harness.run([try Harness.fixture("triggers")], backend: backend, in: w)
        expectRun(r, backend: backend, trigger: "main")
        #expect(r.marks == ["main", "after-symbol", "after-syscall"], "\(r.digest)")
    }

    @Test("main in a stripped PIE executable (through __libc_start_main)", arguments: backends)
    func mainStrippedPIE(backend: String) throws {
        let w = try Workdir("pie")
        let bin = try Harness.fixture("triggers", "-pie", "-fPIE", "-s")
        let nm = try Subprocess.run(["/usr/bin/nm", bin])
        #expect(nm.stderr.contains("no symbols"), "the fixture is not stripped: \(nm.stdout.prefix(200))")
        let r = try Harness.run([bin], backend: backend, options: ["--enter-at", "main"], in: w)
        expectRun(r, backend: backend, trigger: "main")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["main", "after-symbol", "after-syscall"], "\(r.digest)")
    }

    @Test("symbol:NAME of a function in the executable", arguments: backends)
    func symbolInExecutable(backend: String) throws {
        let w = try Workdir("sym")
        let r = try Harness.run([try Harness.fixture("triggers")], backend: backend,
                                options: ["--enter-at", "symbol:trigger_here"], in: w)
        expectRun(r, backend: backend, trigger: "symbol:trigger_here")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["after-symbol", "after-syscall"], "\(r.digest)")
        #expect(r.nonMarkViolations.isEmpty, "\(r.digest)")
    }

    @Test("symbol:NAME of a function in a shared library linked at build time", arguments: backends)
    func symbolInSharedLibrary(backend: String) throws {
        let w = try Workdir("so")
        let lib = try Harness.build(["libcapfix.c"], flags: ["-shared", "-fPIC"], name: "libcapfix.so")
        let dir = URL(fileURLWithPath: lib).deletingLastPathComponent().path
        let bin = try Harness.build(["lib-user.c"], flags: ["-L\(dir)", "-lcapfix", "-Wl,-rpath,\(dir)"])
        let r = try Harness.run([bin], backend: backend, options: ["--enter-at", "symbol:lib_enter"], in: w)
        expectRun(r, backend: backend, trigger: "symbol:lib_enter")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["after"], "\(r.digest)")
        #expect(r.nonMarkViolations.isEmpty, "\(r.digest)")
    }

    @Test("symbol:NAME of a function in a library opened later with dlopen", arguments: backends)
    func symbolInDlopenedLibrary(backend: String) throws {
        let w = try Workdir("dlopen")
        let lib = try Harness.build(["libcapfix.c"], flags: ["-shared", "-fPIC"], name: "libcapfix.so")
        let bin = try Harness.build(["dlopen-user.c"], flags: ["-ldl"])
        let r = try Harness.run([bin, lib], backend: backend, options: ["--enter-at", "symbol:lib_enter"], in: w)
        expectRun(r, backend: backend, trigger: "symbol:lib_enter")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["after"], "\(r.digest)")
        #expect(r.violations(path: lib).isEmpty, "dlopen's own open happened before entry\n\(r.digest)")
    }

    @Test("syscall:NAME: right after the first completed call", arguments: backends)
    func syscallTrigger(backend: String) throws {
        let w = try Workdir("syscall")
        let r = try Harness.run([try Harness.fixture("triggers")], backend: backend,
                                options: ["--enter-at", "syscall:getppid"], in: w)
        expectRun(r, backend: backend, trigger: "syscall:getppid")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["after-syscall"], "\(r.digest)")
        #expect(r.nonMarkViolations.isEmpty, "\(r.digest)")
        #expect(r.int("ppid") != nil, "the program's getppid result was not printed\n\(r.digest)")
    }

    @Test("syscall:execve: the trigger exec is still recorded as an exec, and entry follows it", arguments: backends)
    func execTrigger(backend: String) throws {
        let w = try Workdir("syscall-execve")
        let r = try Harness.run(["/bin/sh", "-c", "/bin/true; exit 0"], backend: backend,
                                options: ["--enter-at", "syscall:execve"], in: w)
        expectRun(r, backend: backend, trigger: "syscall:execve")
        let execs = r.processes.filter { $0.event == .exec }
        // The program's own exec (captrace's launch of /bin/sh) is the trigger; sh's child then execs /bin/true.
        #expect(execs.filter { $0.pid == r.programPid }.count == 1, "\(r.digest)")
        #expect(execs.contains { $0.pid != r.programPid && $0.path == "/usr/bin/true" && $0.capabilityMode },
                "\(r.digest)")
        #expect(r.trace?.enters.map(\.pid) == r.programPid.map { [$0] }, "\(r.digest)")
    }

    static let sandboxSteps = ["nnp", "seccomp", "seccomp-prctl", "landlock", "unshare", "chroot"]

    @Test("sandbox: right after the program's own first sandboxing step", arguments: backends, sandboxSteps)
    func sandbox(backend: String, step: String) throws {
        let w = try Workdir("sandbox-\(step)")
        let r = try Harness.run([try Harness.fixture("sandbox"), step], backend: backend,
                                options: ["--enter-at", "sandbox"], in: w)
        expectRun(r, backend: backend, trigger: "sandbox")
        #expect(r.value("step") == "ok", "the sandboxing step itself failed under captrace\n\(r.digest)")
        expectMarkerShape(r, backend: backend, pid: r.programPid)
        #expect(r.marks == ["after"], "\(r.digest)")
        #expect(r.nonMarkViolations.isEmpty, "the step (or something else) was recorded\n\(r.digest)")
    }
}
