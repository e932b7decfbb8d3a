// run --policy: an OCI seccomp profile replaces capability mode (Fixtures/policy, Fixtures/run/profile.c).
// Docker's default profile refuses add_key (no entry: the default action, ERRNO with defaultErrnoRet EPERM) and
// unshare (allowed only by the entry conditioned on CAP_SYS_ADMIN); custom.json has an entry of its own for each
// action tested here. Both backends run every case, and one test compares what they decided call by call.
import Foundation
import Testing
import TraceModel

enum PolicyFixtures {
    static func path(_ name: String) -> String { Harness.repoRoot.appendingPathComponent("Fixtures/policy/\(name)").path }
    static var docker: String { path("docker-default.json") }
}

/// The refusals of a run as (syscall, deciding source, action, errno, outcome): what both backends must agree on.
func refusals(_ r: RunResult) -> [String] {
    r.violations.map { v in
        let d = v.verdict
        let src: String
        switch d?.source {
        case .entry(let i, let m, _)?: src = "syscalls[\(i)] \(m)"
        case .defaultAction?: src = "default"
        case .architecture?: src = "architecture"
        case nil: src = "none"
        }
        return "\(v.syscall) \(v.namespace.rawValue)/\(v.rule.rawValue) \(src) \(d?.action ?? "-") \(d?.errno ?? "-") \(v.action.rawValue) \(v.errno ?? "-")"
    }
}

@Suite("run --policy: seccomp profiles")
struct PolicyTests {
    @Test("observe under Docker's default profile: add_key and unshare recorded with stacks and the default action; they run",
          arguments: backends)
    func dockerObserve(backend: String) throws {
        let w = try Workdir("policy-observe")
        let r = try Harness.run([try Harness.fixture("profile")], backend: backend,
                                options: ["--policy", PolicyFixtures.docker], in: w)
        expectRun(r, backend: backend, trigger: "exec")
        #expect(r.value("add_key") == "ok" && r.value("unshare") == "ok", "observe mode changed the calls\n\(r.digest)")
        #expect(refusals(r) == [
            "add_key policy/seccomp-profile default SCMP_ACT_ERRNO EPERM allowed -",
            "unshare policy/seccomp-profile default SCMP_ACT_ERRNO EPERM allowed -",
        ], "\(refusals(r))\n\(r.digest)")
        for (v, fn) in zip(r.violations, ["profile_add_key", "profile_unshare"]) {
            #expect(v.stack.contains { $0.symbol == fn }, "\(v.syscall): no frame \(fn) in its stack\n\(r.digest)")
        }
        // The header names the policy; its digest is the file's SHA-256.
        let h = try #require(r.trace?.header?.policy, "no policy in the header\n\(r.digest)")
        #expect(h.kind == "seccomp-profile" && h.path == PolicyFixtures.docker && h.capabilitySet == "docker-default")
        #expect(h.capabilities?.contains("CAP_SYS_ADMIN") == false && h.capabilities?.contains("CAP_CHOWN") == true)
        let sum = try Subprocess.run(["/usr/bin/sha256sum", PolicyFixtures.docker])
        #expect(sum.stdout.hasPrefix(h.sha256 + " "), "sha256 \(h.sha256) vs sha256sum \(sum.stdout)")
        // The loader's warnings (other architectures' names) are warnings: the run went on.
        #expect(r.stderr.contains("warning: \(PolicyFixtures.docker): 15 syscall names unknown"), "\(r.stderr)")

        // report says what refused each site; the JSON report carries it.
        let text = try Subprocess.run([try Harness.captrace(), "report", r.trace == nil ? "" : w.path("trace.jsonl")])
        #expect(text.status == 0)
        #expect(text.stdout.contains("refused by the default action: SCMP_ACT_ERRNO (EPERM)"), "\(text.stdout)")
        #expect(text.stdout.contains("policy seccomp-profile \(PolicyFixtures.docker) (sha256 \(h.sha256))"), "\(text.stdout)")
        #expect(!text.stdout.contains("hint"), "a capability-mode hint in a policy report\n\(text.stdout)")
        let json = try Subprocess.run([try Harness.captrace(), "report", "--format", "json", w.path("trace.jsonl")])
        #expect(json.status == 0 && json.stdout.contains("\"decided_by\""), "\(json.stdout.prefix(2000))")
        for f in ["sarif", "html", "folded"] {
            let o = try Subprocess.run([try Harness.captrace(), "report", "--format", f, w.path("trace.jsonl")])
            #expect(o.status == 0, "report --format \(f): \(o.stderr)")
            if f == "html" {
                #expect(o.stdout.contains("<h2>Policy (seccomp-profile)</h2>") && o.stdout.contains("refused by the default action")
                        && !o.stdout.contains("capability mode"), "the HTML report of a policy run")
            }
            if f == "sarif" { #expect(o.stdout.contains("Refused by the default action: SCMP_ACT_ERRNO (EPERM)"), "\(o.stdout.prefix(3000))") }
        }
        let plan = try Subprocess.run([try Harness.captrace(), "suggest", "--format", "plan", w.path("trace.jsonl")])
        #expect(plan.status == 0 && plan.stdout.contains("not by capability mode"), "\(plan.stdout)")
        for f in ["oci", "systemd", "libseccomp"] {
            let s = try Subprocess.run([try Harness.captrace(), "suggest", "--format", f, w.path("trace.jsonl")])
            #expect(s.status == 2 && s.stderr.contains("not by capability mode") && s.stdout.isEmpty, "suggest --format \(f): \(s.stderr)")
        }
        // An allowlist of the refusals is a baseline for the next run under the same profile.
        let allow = try Subprocess.run([try Harness.captrace(), "suggest", "--format", "allowlist", "-o", w.path("b.allow"), w.path("trace.jsonl")])
        #expect(allow.status == 0, "\(allow.stderr)")
        let wb = try Workdir("policy-baseline")
        let b = try Harness.run([try Harness.fixture("profile")], backend: backend,
                                options: ["--policy", PolicyFixtures.docker, "--allow", w.path("b.allow"), "--fail-on-violation"], in: wb)
        expectRun(b, backend: backend, trigger: "exec")  // status 0: the gate passed, every refusal in the baseline
        #expect(b.violations.count == 2, "\(b.digest)")
        let g = try Harness.run([try Harness.fixture("profile")], backend: backend,
                                options: ["--policy", PolicyFixtures.docker, "--fail-on-violation"], in: wb)
        #expect(g.status == 3, "without the baseline the gate fails\n\(g.digest)")
    }

    @Test("enforce under Docker's default profile: add_key and unshare fail with EPERM (defaultErrnoRet); getpid and read work",
          arguments: backends)
    func dockerEnforce(backend: String) throws {
        let w = try Workdir("policy-enforce")
        let r = try Harness.run([try Harness.fixture("profile")], backend: backend,
                                options: ["--policy", PolicyFixtures.docker, "--mode", "enforce"], in: w)
        expectRun(r, backend: backend, trigger: "exec", mode: "enforce")
        #expect(r.stdout.contains("add_key=EPERM unshare=EPERM getpid=ok read=ok"), "\(r.digest)")
        #expect(refusals(r) == [
            "add_key policy/seccomp-profile default SCMP_ACT_ERRNO EPERM denied EPERM",
            "unshare policy/seccomp-profile default SCMP_ACT_ERRNO EPERM denied EPERM",
        ], "\(refusals(r))\n\(r.digest)")
    }

    @Test("--caps all: Docker's CAP_SYS_ADMIN entry lets unshare run; add_key is still refused", arguments: backends)
    func capsAll(backend: String) throws {
        let w = try Workdir("policy-caps")
        let r = try Harness.run([try Harness.fixture("profile")], backend: backend,
                                options: ["--policy", PolicyFixtures.docker, "--caps", "all", "--mode", "enforce"], in: w)
        expectRun(r, backend: backend, trigger: "exec", mode: "enforce")
        #expect(r.stdout.contains("add_key=EPERM unshare=ok getpid=ok read=ok"), "\(r.digest)")
        #expect(refusals(r) == ["add_key policy/seccomp-profile default SCMP_ACT_ERRNO EPERM denied EPERM"], "\(refusals(r))")
        #expect(r.trace?.header?.policy?.capabilitySet == "all")
    }

    @Test("an explicit --enter-at is honoured: from symbol:profile_unshare only unshare is judged", arguments: backends)
    func explicitTrigger(backend: String) throws {
        let w = try Workdir("policy-trigger")
        let r = try Harness.run([try Harness.fixture("profile")], backend: backend,
                                options: ["--policy", PolicyFixtures.docker, "--mode", "enforce", "--enter-at", "symbol:profile_unshare"], in: w)
        expectRun(r, backend: backend, trigger: "symbol:profile_unshare", mode: "enforce")
        #expect(r.stdout.contains("add_key=ok unshare=EPERM"), "\(r.digest)")
        #expect(refusals(r) == ["unshare policy/seccomp-profile default SCMP_ACT_ERRNO EPERM denied EPERM"], "\(refusals(r))")
    }

    @Test("an entry's own errnoRet (syscalls[1]: EACCES), and SCMP_ACT_KILL_PROCESS by an argument rule: SIGSYS, status 159",
          arguments: backends)
    func customActions(backend: String) throws {
        let w = try Workdir("policy-custom")
        let r = try Harness.run([try Harness.fixture("profile")], backend: backend,
                                options: ["--policy", PolicyFixtures.path("custom.json"), "--mode", "enforce"], in: w)
        expectRun(r, backend: backend, trigger: "exec", mode: "enforce")
        #expect(r.stdout.contains("add_key=EACCES unshare=ok"), "\(r.digest)")
        #expect(refusals(r) == ["add_key policy/seccomp-profile syscalls[1] add_key SCMP_ACT_ERRNO EACCES denied EACCES"],
                "\(refusals(r))")

        let wk = try Workdir("policy-kill")
        let k = try Harness.run([try Harness.fixture("profile"), "kill"], backend: backend,
                                options: ["--policy", PolicyFixtures.path("custom.json"), "--mode", "enforce"], in: wk)
        expectRun(k, backend: backend, trigger: "exec", status: 128 + 31, mode: "enforce")
        #expect(k.value("before") == "ok" && k.value("after") == nil, "the program ran past the killing call\n\(k.digest)")
        #expect(refusals(k) == ["personality policy/seccomp-profile syscalls[2] personality SCMP_ACT_KILL_PROCESS - denied -"],
                "\(refusals(k))")
        #expect(k.processes.contains { $0.event == .exit && $0.signal == "SIGSYS" }, "\(k.digest)")
        #expect(k.violations.first?.stack.contains { $0.symbol == "profile_personality" } == true, "\(k.digest)")
        // In observe mode the same call runs (personality(0xffffffff) only queries) and the program ends normally.
        let wo = try Workdir("policy-kill-observe")
        let o = try Harness.run([try Harness.fixture("profile"), "kill"], backend: backend,
                                options: ["--policy", PolicyFixtures.path("custom.json")], in: wo)
        expectRun(o, backend: backend, trigger: "exec")
        #expect(o.value("after") == "ok" && o.violations.count == 1, "\(o.digest)")
    }

    @Test("TRACE and NOTIFY with no tracer or agent fail with ENOSYS; TRAP: not run, one SIGSYS to the handler, its number returned",
          arguments: backends)
    func trapTraceNotify(backend: String) throws {
        let w = try Workdir("policy-actions")
        let r = try Harness.run([try Harness.fixture("profile"), "actions"], backend: backend,
                                options: ["--policy", PolicyFixtures.path("actions.json"), "--mode", "enforce"], in: w)
        expectRun(r, backend: backend, trigger: "exec", mode: "enforce")
        // TRAP: the kernel rolls the registers back, so the call returns its own number (getpriority: 140).
        #expect(r.stdout.contains("trace=ENOSYS notify=ENOSYS trap=ok trap_return=140 sigsys=1"), "\(r.digest)")
        #expect(refusals(r) == [
            "getpgid policy/seccomp-profile syscalls[0] getpgid SCMP_ACT_TRACE - denied ENOSYS",
            "getsid policy/seccomp-profile syscalls[1] getsid SCMP_ACT_NOTIFY - denied ENOSYS",
            "getpriority policy/seccomp-profile syscalls[2] getpriority SCMP_ACT_TRAP - denied -",
        ], "\(refusals(r))")
        #expect(r.violations.last?.result == 140, "\(r.digest)")
        // Observe: the calls run and no signal is sent.
        let wo = try Workdir("policy-actions-observe")
        let o = try Harness.run([try Harness.fixture("profile"), "actions"], backend: backend,
                                options: ["--policy", PolicyFixtures.path("actions.json")], in: wo)
        expectRun(o, backend: backend, trigger: "exec")
        #expect(o.stdout.contains("trace=ok notify=ok trap=ok") && o.stdout.contains("sigsys=0") && o.violations.count == 3, "\(o.digest)")
    }

    @Test("KILL_PROCESS in a program that catches SIGSYS: killed with SIGKILL (status 137), and captrace says why",
          arguments: backends)
    func killWhenSIGSYSIsCaught(backend: String) throws {
        let w = try Workdir("policy-kill-handled")
        let r = try Harness.run([try Harness.fixture("profile"), "actions"], backend: backend,
                                options: ["--policy", PolicyFixtures.path("kill-handled.json"), "--mode", "enforce"], in: w)
        expectRun(r, backend: backend, trigger: "exec", status: 128 + 9, mode: "enforce")
        #expect(!r.stdout.contains("trace="), "the program ran past the killing call\n\(r.digest)")
        #expect(r.stderr.contains("the program catches, blocks or ignores SIGSYS: captrace killed it with SIGKILL where the kernel would force SIGSYS"),
                "\(r.stderr)")
        #expect(refusals(r) == ["getpgid policy/seccomp-profile syscalls[0] getpgid SCMP_ACT_KILL_PROCESS - denied -"], "\(refusals(r))")
    }

    @Test("the ptrace and notify backends decide and enforce every call alike")
    func backendsAgree() throws {
        for (profile, extra) in [(PolicyFixtures.docker, [String]()), (PolicyFixtures.docker, ["--caps", "all"]),
                                 (PolicyFixtures.path("custom.json"), []), (PolicyFixtures.path("actions.json"), ["actions"])] {
            var seen: [String: ([String], String, Int32)] = [:]
            for backend in backends {
                let w = try Workdir("policy-agree-\(backend)")
                // "actions" is the fixture's argument; the rest are captrace's options.
                let argv = [try Harness.fixture("profile")] + extra.filter { $0 == "actions" }
                let r = try Harness.run(argv, backend: backend,
                                        options: ["--policy", profile, "--mode", "enforce", "-q"] + extra.filter { $0 != "actions" }, in: w)
                seen[backend] = (refusals(r), r.stdout, r.status)
            }
            let p = try #require(seen["ptrace"]), n = try #require(seen["notify"])
            #expect(!p.0.isEmpty, "nothing refused: the comparison is void")
            #expect(p.0 == n.0 && p.1 == n.1 && p.2 == n.2, "\(profile) \(extra): ptrace \(p) vs notify \(n)")
        }
    }

    @Test("a real program: `unshare -U true` fails under Docker's default profile, the refusal recorded", arguments: backends)
    func realProgram(backend: String) throws {
        let w = try Workdir("policy-unshare")
        let r = try Harness.run(["/usr/bin/unshare", "-U", "/bin/true"], backend: backend,
                                options: ["--policy", PolicyFixtures.docker, "--mode", "enforce"], in: w)
        expectRun(r, backend: backend, trigger: "exec", status: 1, mode: "enforce")
        #expect(r.stderr.contains("unshare failed: Operation not permitted"), "\(r.stderr)")
        #expect(refusals(r) == ["unshare policy/seccomp-profile default SCMP_ACT_ERRNO EPERM denied EPERM"], "\(refusals(r))")
        #expect(r.violations.first?.stack.contains { $0.symbol == "unshare" } == true, "\(r.digest)")
    }

    @Test("an i386 call when the profile's filter covers only x86_64: recorded as refused by the architectures; enforce kills",
          arguments: backends)
    func architectureNotInFilter(backend: String) throws {
        let bin = try Harness.fixture("int80", "-no-pie")
        let profile = PolicyFixtures.path("x86_64-only.json")
        let wo = try Workdir("policy-arch-observe")
        let target = wo.path("int80-target")
        _ = FileManager.default.createFile(atPath: target, contents: Data("x".utf8))
        let o = try Harness.run([bin, target], backend: backend, options: ["--policy", profile], in: wo)
        expectRun(o, backend: backend, trigger: "exec")
        #expect((o.int("fd") ?? -1) >= 0, "observe mode refused the call\n\(o.digest)")
        // open and close by int 0x80: both outside the filter's architectures (the kernel kills at the first).
        #expect(refusals(o).map { $0.split(separator: " ").prefix(4).joined(separator: " ") } == [
            "open policy/seccomp-profile architecture SCMP_ACT_KILL", "close policy/seccomp-profile architecture SCMP_ACT_KILL",
        ], "\(refusals(o))\n\(o.digest)")
        #expect(o.violations.allSatisfy { $0.abi == .i386 })

        let we = try Workdir("policy-arch-enforce")
        let e = try Harness.run([bin, target], backend: backend, options: ["--policy", profile, "--mode", "enforce"], in: we)
        expectRun(e, backend: backend, trigger: "exec", status: 128 + 31, mode: "enforce")
        #expect(e.int("fd") == nil, "the program ran past the killing call\n\(e.digest)")
        #expect(refusals(e) == ["open policy/seccomp-profile architecture SCMP_ACT_KILL - denied -"], "\(refusals(e))")
    }

    @Test("bad profiles are refused with exit 2, naming the entry; an unknown syscall name is a warning")
    func badProfiles() throws {
        let bin = try Harness.fixture("profile")
        let w = try Workdir("policy-bad")
        for (file, expected) in [("bad-action.json", "syscalls[1] (add_key): action: unknown action \"SCMP_ACT_DENY\""),
                                 ("bad-args.json", "syscalls[0] (personality): args[0].index: 7 is above 5"),
                                 ("not-json.json", "bad seccomp profile: profile: line 1, column 1"),
                                 ("missing.json", "cannot read the policy")] {
            let r = try Subprocess.run([try Harness.captrace(), "run", "--policy", PolicyFixtures.path(file), "-o",
                                        w.path("t.jsonl"), "--", bin], cwd: w.url.path)
            #expect(r.status == 2, "\(file): status \(r.status)")
            #expect(r.stderr.contains(expected) && r.stderr.split(separator: "\n").count == 1, "\(file): \(r.stderr)")
            #expect(!r.stdout.contains("add_key="), "\(file): the program ran")
        }
        let c = try Subprocess.run([try Harness.captrace(), "run", "--policy", PolicyFixtures.docker, "--caps", "CAP_SYS_ADMIN,NOPE",
                                    "--", bin], cwd: w.url.path)
        #expect(c.status == 2 && c.stderr.contains("unknown capability \"NOPE\""), "\(c.stderr)")
        let de = try Subprocess.run([try Harness.captrace(), "run", "--policy", PolicyFixtures.docker, "--deny-errno", "EACCES",
                                     "--", bin], cwd: w.url.path)
        #expect(de.status == 2 && de.stderr.contains("--deny-errno does not apply with --policy"), "\(de.stderr)")
        let nc = try Subprocess.run([try Harness.captrace(), "run", "--caps", "all", "--", bin], cwd: w.url.path)
        #expect(nc.status == 2 && nc.stderr.contains("--caps needs --policy"), "\(nc.stderr)")
        let t = try Subprocess.run([try Harness.captrace(), "run", "--policy", w.path("x.toml"), "--", bin], cwd: w.url.path)
        #expect(t.status == 2, "\(t.stderr)")

        let r = try Harness.run([bin], backend: "ptrace", options: ["--policy", PolicyFixtures.path("unknown-name.json"), "--mode", "enforce"], in: w)
        expectRun(r, backend: "ptrace", trigger: "exec", mode: "enforce")
        #expect(r.stderr.contains("warning: \(PolicyFixtures.path("unknown-name.json")): 1 syscall name unknown for x86_64, i386 and x32, ignored as runc ignores them: syscalls[0] frobnicate_widget"), "\(r.stderr)")
        #expect(r.stdout.contains("add_key=EPERM"), "\(r.digest)")
    }
}
