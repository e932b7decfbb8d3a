// Enforce mode under the notify backend performs approved calls for the program (NotifyEnforcement): the program
// sees what it sees under ptrace, a thread rewriting a path cannot make captrace act outside the directory, and
// descriptors pass over sockets (Fixtures/run/emulate.c). Baselines recorded on one backend gate the other.
import Foundation
import Testing
import TraceModel

@Suite("run: approved calls performed by captrace (notify enforce)")
struct NotifyEmulationTests {
    static let modes = ["observe", "enforce"]

    /// The fixture's `NAME=RESULT` lines.
    static func results(_ r: RunResult) -> [String] { r.stdout.split(separator: "\n").map(String.init) }

    @Test("every *at family gives the program the same results on both backends, observe and enforce")
    func families() throws {
        let bin = try Harness.fixture("emulate")
        let reference = try Harness.run([bin, "families"], backend: "ptrace", options: ["--enter-at", capEnter, "-q"],
                                        in: try Workdir("emulate-ref"))
        #expect(reference.status == 0, "\(reference.digest)")
        let expected = Self.results(reference)
        #expect(expected.count > 50, "\(reference.stdout)")
        // A symlink beneath the held directory that leads out of it is a violation (the classifier resolves it):
        // recorded in both modes, denied in enforce mode. Every other call of the fixture is allowed.
        let symlinkEscapes: Set = ["mkdirat_dirlnk", "fchmodat_escape_link"]
        for backend in backends {
            for mode in Self.modes {
                let r = try Harness.run([bin, "families"], backend: backend,
                                        options: ["--enter-at", capEnter, "--mode", mode, "-q"],
                                        in: try Workdir("emulate-\(backend)-\(mode)"))
                expectRun(r, backend: backend, trigger: capEnter, mode: mode)
                #expect(r.violations.count == symlinkEscapes.count
                            && r.violations.allSatisfy { $0.path?.contains("/box/sub/dirlnk") ?? false },
                        "only the symlink escapes are violations\n\(r.digest)")
                #expect(!r.stderr.contains("refused"), "\(backend) \(mode): \(r.stderr)")
                let got = Self.results(r)
                #expect(got.count == expected.count, "\(backend) \(mode)\n\(r.stdout)")
                for (g, e) in zip(got, expected) {
                    let key = String(e.split(separator: "=")[0])
                    if mode == "enforce" && symlinkEscapes.contains(key) {
                        #expect(g == key + "=EPERM", "\(backend) \(mode): \(g) (ptrace observe: \(e))")
                    } else {
                        #expect(g == e, "\(backend) \(mode): \(g), ptrace observe gave \(e)")
                    }
                }
            }
        }
    }

    @Test("notify enforce: a thread rewriting each family's path never makes a call act outside the directory")
    func racingThreadEveryFamily() throws {
        let bin = try Harness.fixture("emulate")
        let families = ["mkdirat", "mknodat", "unlinkat", "renameat", "linkat", "symlinkat", "fchmodat", "fchownat",
                        "utimensat", "readlinkat", "faccessat", "newfstatat"]
        // Sanity: without confinement (observe mode) the same race does escape.
        let o = try Harness.run([bin, "race", "0.25"], backend: "notify", options: ["--enter-at", capEnter, "-q"],
                                in: try Workdir("emulate-race-observe"), timeout: 120)
        #expect(o.status == 0, "\(o.digest)")
        let observed = families.map { o.int("escaped_\($0)") ?? 0 }.reduce(0, +)
        #expect(observed > 0, "observe mode saw no escape: the race test is void\n\(o.stdout)")

        let r = try Harness.run([bin, "race", "0.3"], backend: "notify",
                                options: ["--enter-at", capEnter, "--mode", "enforce", "-q"],
                                in: try Workdir("emulate-race-enforce"), timeout: 180)
        expectRun(r, backend: "notify", trigger: capEnter, mode: "enforce")
        for f in families {
            let escaped = try #require(r.int("escaped_\(f)"), "\(f)\n\(r.digest)")
            let inside = try #require(r.int("inside_\(f)"), "\(f)\n\(r.digest)")
            #expect(escaped == 0, "\(f): \(escaped) escapes under notify enforce\n\(r.stdout)")
            #expect(inside > 0, "\(f): the call never worked beneath the directory\n\(r.stdout)")
        }
        #expect(r.violations.contains { $0.rule == .dotdotEscape && $0.action == .denied }, "\(r.digest)")
        #expect(r.violations.allSatisfy { $0.action == .denied }, "\(r.digest)")
        #expect(!r.stderr.contains("refused"), "\(r.stderr)")
    }

    @Test("notify enforce with --allow: a thread rewriting an allowed absolute path never gets another file opened")
    func racingThreadBaseline() throws {
        let bin = try Harness.fixture("emulate")
        let w = try Workdir("emulate-race-baseline")
        let rec = try Harness.run([bin, "race-baseline", "0.2", "still"], backend: "notify",
                                  options: ["--enter-at", capEnter, "-q"], in: w)
        #expect(rec.status == 0 && rec.int("inside") ?? 0 > 0, "\(rec.digest)")
        let allow = w.path("b.allow")
        let s = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"), "--format", "allowlist", "-o", allow])
        #expect(s.status == 0, "\(s.stderr)")
        // The allowlist names this directory's paths: the racing run happens here again, from a clean slate.
        for name in ["box", "outside"] { try FileManager.default.removeItem(atPath: w.path(name)) }
        let r = try Harness.run([bin, "race-baseline", "1", "flip"], backend: "notify",
                                options: ["--enter-at", capEnter, "--mode", "enforce", "-q", "--allow", allow],
                                in: w, timeout: 120)
        expectRun(r, backend: "notify", trigger: capEnter, mode: "enforce")
        let escaped = try #require(r.int("escaped"), "\(r.digest)")
        #expect(escaped == 0, "an open of the rewritten path succeeded: \(r.stdout)")
        #expect(r.int("inside") ?? 0 > 0 && r.int("failed") ?? 0 > 0, "the race did not happen: \(r.stdout)")
        let allowed = r.violations.filter { $0.action == .allowedByBaseline }
        #expect(!allowed.isEmpty && allowed.allSatisfy { ($0.result ?? -1) >= 0 }, "performed opens carry their result")
        #expect(r.violations.filter { $0.action == .denied }.allSatisfy { $0.path == w.path("outside/file") })
    }

    @Test("sendmsg and sendmmsg pass a descriptor with SCM_RIGHTS in capability mode", arguments: backends, modes)
    func scmRights(backend: String, mode: String) throws {
        let bin = try Harness.fixture("emulate")
        let r = try Harness.run([bin, "sendmsg"], backend: backend, options: ["--enter-at", capEnter, "--mode", mode, "-q"],
                                in: try Workdir("emulate-scm"))
        expectRun(r, backend: backend, trigger: capEnter, mode: mode)
        #expect(r.value("sendmsg") == "5" && r.value("sendmsg_payload") == "hello", "\(r.stdout)")
        #expect(r.value("sendmsg_received") == "inside", "the descriptor did not arrive: \(r.stdout)")
        #expect(r.value("sendmmsg") == "2" && r.value("sendmmsg_lens") == "10,6", "\(r.stdout)")
        #expect(r.value("sendmmsg_received") == "inside" && r.value("sendmmsg_second") == "second", "\(r.stdout)")
        #expect(r.value("sendmsg_plain") == "4" && r.value("recv_plain_text") == "abcd", "\(r.stdout)")
        #expect(r.value("sendmsg_epipe") == "EPIPE", "\(r.stdout)")
        #expect(r.violations.isEmpty && !r.stderr.contains("refused"), "\(r.digest)")
    }

    @Test("fexecve of a held descriptor runs the program; notify enforce refuses it, with its reason, beside another thread",
          arguments: backends, modes)
    func fexecve(backend: String, mode: String) throws {
        let bin = try Harness.fixture("emulate")
        let target = try Harness.build(["emulate.c"], flags: ["-static", "-lpthread"], name: "emulate-static")
        for threaded in [false, true] {
            let r = try Harness.run([bin, "fexecve", target] + (threaded ? ["threaded"] : []), backend: backend,
                                    options: ["--enter-at", capEnter, "--mode", mode, "-q"],
                                    in: try Workdir("emulate-fexecve"))
            let refused = threaded && backend == "notify" && mode == "enforce"
            if refused {
                #expect(r.status == 1 && r.value("fexecve") == "EPERM", "\(r.digest)")
                #expect(r.stderr.contains("execveat: an exec replaces the caller")
                            && r.stderr.contains("another thread shares the caller's memory"), "\(r.stderr)")
            } else {
                #expect(r.status == 7, "threaded \(threaded): the fexecve'd program did not run\n\(r.digest)")
                #expect(r.processes.contains { $0.event == .exec && $0.path == target && $0.capabilityMode },
                        "no exec event in capability mode\n\(r.digest)")
            }
            // The exec'd static program reads /proc/self/exe as it starts (glibc's _dl_non_dynamic_init): a
            // violation of the new image, on every backend; nothing else is one.
            #expect(r.violations.allSatisfy { $0.path == "/proc/self/exe" && $0.syscall == "readlink" }, "\(r.digest)")
            #expect(refused == r.violations.isEmpty, "\(r.digest)")
        }
    }

    @Test("gzip -c FILE in enforce mode with a recorded allowlist: the directory gzip opens is opened by captrace",
          arguments: backends)
    func gzipBaseline(backend: String) throws {
        let w = try Workdir("emulate-gzip")
        let data = (1...20000).map(String.init).joined(separator: "\n") + "\n"
        try data.write(toFile: w.path("data.txt"), atomically: true, encoding: .utf8)
        let first = try Harness.run(["/usr/bin/gzip", "-c", "data.txt"], backend: "ptrace", options: ["-q"], in: w)
        #expect(first.status == 0 && !first.violations.isEmpty, "\(first.digest)")
        let allow = w.path("gzip.allow")
        let s = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"), "--format", "allowlist", "-o", allow])
        #expect(s.status == 0, "\(s.stderr)")
        let r = try Harness.run(["/usr/bin/gzip", "-c", "data.txt"], backend: backend,
                                options: ["-q", "--mode", "enforce", "--allow", allow, "--fail-on-violation"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        let back = try Subprocess.run(["/usr/bin/gzip", "-dc", w.path("captrace.stdout")])
        #expect(back.status == 0 && back.stdout == data, "gzip's output does not decompress to its input")
        #expect(!r.violations.isEmpty && r.violations.allSatisfy { $0.action == .allowedByBaseline }, "\(r.digest)")
        for v in r.violations {
            // Performed by captrace (notify) or seen at its exit (ptrace): the result is known either way.
            #expect(v.result != nil || v.errno != nil, "no result: \(RunResult.describe(v))")
        }
        #expect(!r.stderr.contains("refused"), "\(r.stderr)")
    }
}

@Suite("run: baselines across backends")
struct BackendBaselineTests {
    /// Records on `from`, suggests an allowlist, and gates a run on `to` with it. Returns both runs.
    static func gate(_ argv: [String], from: String, to: String, options: [String], wrapper: [String] = [],
                     mode: String = "observe") throws -> (recorded: RunResult, gated: RunResult) {
        let w = try Workdir("parity-\(from)-\(to)")
        let rec = try Harness.run(argv, backend: from, options: options + ["-q"], in: w, wrapper: wrapper)
        let allow = w.path("base.allow")
        let s = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"), "--format", "allowlist", "-o", allow])
        #expect(s.status == 0, "\(s.stderr)")
        let gated = try Harness.run(argv, backend: to, options: options + ["-q", "--mode", mode, "--allow", allow,
                                                                           "--fail-on-violation"],
                                    in: w, wrapper: wrapper)
        return (rec, gated)
    }

    static let programs: [(name: String, argv: @Sendable () throws -> [String], options: [String], wrapper: [String])] = [
        ("gate fixture", { [try Harness.fixture("gate")] }, ["--enter-at", capEnter], []),
        ("getent hosts localhost (unshare -n)", { ["/usr/bin/getent", "hosts", "localhost"] }, [], ["unshare", "-n"]),
        ("tcpdump -r loopback.pcap", {
            ["/usr/bin/tcpdump", "-n", "-r", Harness.repoRoot.appendingPathComponent("Examples/loopback.pcap").path]
        }, ["--enter-at", "symbol:pcap_loop"], []),
    ]

    @Test("a baseline recorded on one backend passes the same run on the other, in both directions and modes",
          arguments: 0..<3)
    func crossBackend(program: Int) throws {
        let p = Self.programs[program]
        let argv = try p.argv()
        for (from, to) in [("ptrace", "notify"), ("notify", "ptrace")] {
            for mode in ["observe", "enforce"] {
                let (rec, gated) = try Self.gate(argv, from: from, to: to, options: p.options, wrapper: p.wrapper, mode: mode)
                #expect(!rec.violations.isEmpty, "\(p.name): nothing recorded\n\(rec.digest)")
                #expect(gated.status == rec.status, "\(p.name): baseline from \(from) gating \(to) (\(mode))\n\(gated.digest)")
                #expect(!gated.stderr.contains("not in the baseline"), "\(p.name) \(from)->\(to) \(mode): \(gated.stderr)")
                // The same sites, whichever backend recorded.
                #expect(Set(rec.violations.map(\.site)) == Set(gated.violations.map(\.site)),
                        "\(p.name) \(from)->\(to) \(mode): sites differ\n\(rec.digest)\n\(gated.digest)")
                #expect(gated.stdout == rec.stdout, "\(p.name) \(from)->\(to) \(mode): the program's output differs")
                // And in the same order (seq), the calls captrace performed for the program included.
                func calls(_ r: RunResult) -> [String] { r.violations.map { "\($0.syscall) \($0.path ?? $0.address ?? "") \($0.site)" } }
                #expect(calls(rec) == calls(gated), "\(p.name) \(from)->\(to) \(mode): order differs")
                // tcpdump gives up root for the tcpdump user before pcap_loop: captrace (root) does not act for a
                // thread whose credentials differ, and lets the kernel run its calls (it has one thread).
                if mode == "enforce" && to == "notify" && !argv[0].hasSuffix("tcpdump") {
                    #expect(gated.violations.allSatisfy { $0.result != nil || $0.errno != nil },
                            "\(p.name): a call captrace performed has no result\n\(gated.digest)")
                }
            }
        }
    }
}
