// Programs started by a sandbox wrapper (Debian's bubblewrap), the `exec:NAME` trigger, and seccomp filters a
// traced program installs itself (Fixtures/run/own-filter.c, export-filter.c): recorded, and their refusals
// explained under ptrace.
import Foundation
import Testing
import TraceModel

private let bwrap = ["/usr/bin/bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all"]

private func captraceCommand(_ args: [String], cwd: String) throws -> Subprocess.Result {
    try Subprocess.run([try Harness.captrace()] + args, cwd: cwd, timeout: 120)
}

/// The process that exec'd `path` (its exec event), and the pids that did.
private func execs(_ r: RunResult, _ path: String) -> [ProcessEvent] {
    r.processes.filter { $0.event == .exec && $0.path == path }
}

/// The results of a SARIF log's first run.
func sarifResults(_ text: String) throws -> [[String: Any]] {
    let log = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    let run = (log?["runs"] as? [[String: Any]])?.first
    return run?["results"] as? [[String: Any]] ?? []
}

private func filterEvents(_ r: RunResult) -> [SeccompFilterEvent] {
    (r.trace?.events ?? []).compactMap { e -> SeccompFilterEvent? in if case .seccompFilter(let f) = e { return f } else { return nil } }
}

private func refusalEvents(_ r: RunResult) -> [RefusalEvent] {
    (r.trace?.events ?? []).compactMap { e -> RefusalEvent? in if case .refusal(let x) = e { return x } else { return nil } }
}

@Suite("run: programs started by a sandbox wrapper; the program's own seccomp filters")
struct WrapperTests {
    @Test("exec:NAME: bwrap's set-up is not judged; cat's own calls, its loader's included, are", arguments: backends)
    func bwrapCat(backend: String) throws {
        let w = try Workdir("bwrap-cat")
        let r = try Harness.run(bwrap + ["--", "cat", "/etc/hostname"], backend: backend,
                                options: ["--enter-at", "exec:cat"], in: w)
        let cat = execs(r, "/usr/bin/cat")
        #expect(cat.count == 1, "\(r.digest)")
        guard let catPid = cat.first?.pid else { return }
        // bwrap forks for its pid namespace: the process that execs cat is not the one captrace spawned.
        #expect(catPid != r.programPid, "\(r.digest)")
        expectRun(r, backend: backend, trigger: "exec:cat", enteredBy: catPid)
        #expect(r.stdout.contains(ProcessInfo.processInfo.hostName), "\(r.digest)")
        #expect(r.violations.allSatisfy { $0.pid == catPid }, "a violation outside cat's process\n\(r.digest)")
        #expect(!r.violations(path: "/etc/hostname").isEmpty, "\(r.digest)")
        // The loader runs after the exec: its opens are cat's.
        #expect(!r.violations(path: "/etc/ld.so.cache").isEmpty, "\(r.digest)")
        let e = r.enters.first
        #expect(e?.tNs ?? 0 > cat.first?.tNs ?? .max, "the entry comes after the exec event")
        // The same run with `sandbox` enters in bwrap itself and judges its set-up.
        let w2 = try Workdir("bwrap-sandbox")
        let s = try Harness.run(bwrap + ["--", "cat", "/etc/hostname"], backend: backend,
                                options: ["--enter-at", "sandbox"], in: w2)
        let sandboxCat = execs(s, "/usr/bin/cat").first?.pid
        #expect(s.violations.contains { $0.pid != sandboxCat }, "bwrap's own set-up was not judged under `sandbox`\n\(s.digest)")
    }

    @Test("exec:NAME in enforce mode: cat cannot open /etc/hostname, and the report says so", arguments: backends)
    func bwrapCatEnforced(backend: String) throws {
        let w = try Workdir("bwrap-enforce")
        // The loader's and locale files are let through, so that cat gets as far as its own open.
        try """
        * filesystem/* path=/etc/ld.so.*
        * filesystem/* path=/lib/x86_64-linux-gnu/**
        * filesystem/* path=/usr/lib/**
        * filesystem/* path=/usr/share/locale/**
        """.write(toFile: w.path("loader.allow"), atomically: true, encoding: .utf8)
        let r = try Harness.run(bwrap + ["--", "cat", "/etc/hostname"], backend: backend,
                                options: ["--enter-at", "exec:cat", "--mode", "enforce", "--allow", w.path("loader.allow")], in: w)
        let catPid = execs(r, "/usr/bin/cat").first?.pid
        expectRun(r, backend: backend, trigger: "exec:cat", status: 1, mode: "enforce", enteredBy: catPid)
        #expect(r.stderr.contains("cat: /etc/hostname: Operation not permitted"), "\(r.digest)")
        let denied = r.violations(path: "/etc/hostname")
        #expect(denied.count == 1 && denied.allSatisfy { $0.action == .denied && $0.errno == "EPERM" }, "\(r.digest)")
        let report = try captraceCommand(["report", w.path("trace.jsonl")], cwd: w.url.path)
        #expect(report.stdout.contains("pathname=\"/etc/hostname\"") && report.stdout.contains("= -1 EPERM"), "\(report.stdout)")
    }

    @Test("exec:NAME with a path, and names that are refused")
    func execNames() throws {
        let w = try Workdir("exec-path")
        // /bin is a symlink to /usr/bin on Debian: the path is resolved before it is compared.
        let r = try Harness.run(["/bin/sh", "-c", "/bin/true; cat /etc/hostname"], backend: "ptrace",
                                options: ["--enter-at", "exec:/bin/cat"], in: w)
        let cat = execs(r, "/usr/bin/cat").first?.pid
        expectRun(r, backend: "ptrace", trigger: "exec:/bin/cat", enteredBy: cat)
        #expect(execs(r, "/usr/bin/true").first.map { $0.pid != cat } ?? false, "\(r.digest)")
        try "not a program\n".write(toFile: w.path("plain.txt"), atomically: true, encoding: .utf8)
        for (bad, message) in [("exec:", "exec:NAME needs a program's path or base name"),
                               ("exec:dir/", "exec:NAME needs a program's path or base name"),
                               ("exec:catt", "no executable \"catt\" in PATH (name it by its path: exec:/path/to/catt)"),
                               ("exec:/usr/bin/catt", "/usr/bin/catt is not an executable file"),
                               ("exec:/etc", "/etc is not an executable file"),
                               ("exec:\(w.path("plain.txt"))", "\(w.path("plain.txt")) is not an executable file")] {
            let b = try captraceCommand(["run", "--enter-at", bad, "--", "true"], cwd: w.url.path)
            #expect(b.status == 2 && b.stderr.contains("bad trigger \"\(bad)\": " + message), "\(bad): \(b.stderr)")
        }
        // A name no process execs: nothing is judged, and captrace says so.
        let n = try Harness.run(["/bin/true"], backend: "ptrace", options: ["--enter-at", "exec:cat"], in: try Workdir("exec-none"))
        #expect(n.enters.isEmpty && n.stderr.contains("capability mode never began"), "\(n.digest)")
    }

    @Test("a program's own filter: recorded, and each call it refuses explained with its stack",
          arguments: ["seccomp", "prctl", "i386"])
    func ownFilter(via: String) throws {
        let w = try Workdir("own-filter")
        let r = try Harness.run([try Harness.fixture("own-filter")] + (via == "seccomp" ? [] : [via]), backend: "ptrace",
                                options: ["--enter-at", "exec"], in: w)
        expectRun(r, backend: "ptrace", trigger: "exec")
        #expect(r.value("uname") == "-1" && r.value("errno") == "1", "\(r.digest)")
        let filters = filterEvents(r)
        #expect(filters.count == 1 && filters.first?.syscall == (via == "i386" ? "seccomp" : via)
                && filters.first?.program.count == 7, "\(filters)")
        #expect(filters.first?.stack.contains { $0.symbol == "main" } ?? false, "\(filters)")
        let refusals = refusalEvents(r)
        #expect(refusals.count == 2, "\(refusals)")
        for x in refusals {
            #expect(x.syscall == "uname" && x.action == "ERRNO(EPERM)" && x.result == -1 && x.filter == filters.first?.id, "\(x)")
            #expect(x.stack.contains { $0.symbol == "refuse_here" }, "\(x.stack)")
        }
        // getpid between them was allowed by the filter: no refusal.
        let report = try captraceCommand(["report", w.path("trace.jsonl")], cwd: w.url.path)
        #expect(report.stdout.contains("refused by the filter pid \(r.programPid ?? 0) installed at main"), "\(report.stdout)")
        #expect(report.stdout.contains("05: ret #0x50001") && report.stdout.contains("; ERRNO(EPERM)"), "\(report.stdout)")
        // The HTML and SARIF reports say so too.
        let html = try captraceCommand(["report", w.path("trace.jsonl"), "--format", "html"], cwd: w.url.path).stdout
        #expect(html.contains("<section id=\"own-filters\">") && html.contains("REFUSED BY THOSE FILTERS (2 calls"), "\(html)")
        let sarif = try captraceCommand(["report", w.path("trace.jsonl"), "--format", "sarif"], cwd: w.url.path).stdout
        let results = try sarifResults(sarif).filter { $0["ruleId"] as? String == "seccomp/program-filter" }
        #expect(results.count == 2, "\(sarif)")
        #expect(results.allSatisfy { (($0["message"] as? [String: Any])?["text"] as? String ?? "")
            .hasPrefix("uname refused by the filter pid \(r.programPid ?? 0) installed at main") }, "\(sarif)")
    }

    @Test("a program's own TRACE action: the stop reports its data, not captrace's tag; the call is still judged")
    func ownTraceAction() throws {
        let r = try Harness.run([try Harness.fixture("own-filter"), "trace"], backend: "ptrace",
                                options: ["--enter-at", "exec"], in: try Workdir("own-trace"))
        expectRun(r, backend: "ptrace", trigger: "exec")
        #expect(r.value("traced") == "0" && r.mark("traced").count == 1, "\(r.digest)")
        #expect(refusalEvents(r).isEmpty && filterEvents(r).count == 1, "\(r.digest)")
    }

    @Test("the notify backend records no refusal, and says so once")
    func ownFilterNotify() throws {
        let r = try Harness.run([try Harness.fixture("own-filter")], backend: "notify", options: ["--enter-at", "exec"],
                                in: try Workdir("own-filter-notify"))
        expectRun(r, backend: "notify", trigger: "exec")
        #expect(r.value("uname") == "-1", "\(r.digest)")
        let warnings = r.stderr.components(separatedBy: "pid \(r.programPid ?? 0) asked to install its own seccomp filter").count - 1
        #expect(warnings == 1 && r.stderr.contains("under --backend ptrace only"), "\(r.stderr)")
        #expect(!(r.trace?.events.contains { if case .refusal = $0 { true } else { false } } ?? true), "\(r.digest)")
    }

    @Test("bwrap --seccomp FD: the wrapper's filter (libseccomp's export) refuses uname's own call")
    func bwrapSeccomp() throws {
        let w = try Workdir("bwrap-seccomp")
        let export = try Harness.build(["export-filter.c"], flags: ["-lseccomp"])
        let made = try Subprocess.run([export, w.path("uname.bpf")])
        #expect(made.status == 0, "\(made.stderr)")
        let command = (bwrap + ["--seccomp", "3", "--", "uname", "-n"]).joined(separator: " ")
        let r = try Harness.run(["/bin/sh", "-c", "exec \(command) 3< uname.bpf"], backend: "ptrace",
                                options: ["--enter-at", "exec:uname"], in: w)
        let uname = execs(r, "/usr/bin/uname").first?.pid
        expectRun(r, backend: "ptrace", trigger: "exec:uname", status: 1, enteredBy: uname)
        #expect(r.stderr.contains("uname: cannot get system name: Operation not permitted"), "\(r.digest)")
        let filters = filterEvents(r)
        // bwrap installs it in the process that execs the program (and in its pid-1 init).
        let mine = filters.first { $0.pid == uname }
        #expect(mine != nil && filters.allSatisfy { $0.syscall == "prctl" }, "\(filters)")
        let refusals = refusalEvents(r)
        #expect(refusals.count == 1, "\(refusals)")
        if let x = refusals.first {
            #expect(x.pid == uname && x.syscall == "uname" && x.action == "ERRNO(EPERM)" && x.filter == mine?.id, "\(x)")
            #expect(x.stack.contains { $0.module == "/usr/bin/uname" }, "\(x.stack)")
        }
    }
}
