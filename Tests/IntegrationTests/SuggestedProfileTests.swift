// Suggestions that run (issue 16 item 3): real programs recorded with `run --syscalls --enter-at exec`, their
// suggested profiles, and the programs run again under those profiles with the kernel enforcing them.
import Foundation
import SeccompProfiles
import SyscallCatalog
import Testing
import TraceModel

/// A real program whose output does not depend on when it runs.
struct ProvenProgram: CustomStringConvertible, Sendable {
    let label: String
    let argv: [String]
    var description: String { label }

    static let all: [ProvenProgram] = [
        ProvenProgram(label: "getent", argv: ["/usr/bin/getent", "hosts", "localhost"]),
        ProvenProgram(label: "date", argv: ["/usr/bin/date", "-d", "@86400"]),
        ProvenProgram(label: "tcpdump", argv: ["/usr/bin/tcpdump", "-r",
                                               Harness.repoRoot.appendingPathComponent("Examples/loopback.pcap").path]),
        ProvenProgram(label: "python3", argv: ["/usr/bin/python3", "-c", "import json, os; print(json.dumps({'cwd': os.getcwd() != '', 'n': [1, 2]}))"]),
        ProvenProgram(label: "sh", argv: ["/bin/sh", "-c", "echo start; for i in 1 2 3; do /bin/echo $i; done; /bin/ls / >/dev/null && echo end"]),
    ]
}

/// The calls no suggested profile may grant without an argument rule (UsedSetProfile.neverGranted).
let processTargeting = ["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kill", "tkill", "tgkill",
                        "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "bpf", "perf_event_open",
                        "mount", "umount2", "pivot_root", "kexec_load", "kexec_file_load", "init_module",
                        "finit_module", "delete_module", "keyctl", "add_key", "request_key"]

enum ProfileProof {
    /// Records `program` with `--syscalls --enter-at exec` and writes `suggest --format F` for each format.
    static func record(_ program: ProvenProgram, backend: String, in w: Workdir) throws -> (untraced: Subprocess.Result, run: RunResult) {
        let untraced = try Subprocess.run(program.argv, cwd: w.url.path)
        #expect(untraced.status == 0, "\(program) untraced: \(untraced.stderr)")
        let r = try Harness.run(program.argv, backend: backend, options: ["--syscalls", "--enter-at", "exec", "-q"], in: w)
        #expect(r.status == 0, "\(program) traced: \(r.stderr)")
        #expect(r.stdout == untraced.stdout, "\(program): the traced run printed something else")
        for format in ["oci", "libseccomp", "spo", "systemd"] {
            let s = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"), "--format", format,
                                        "-o", w.path("profile.\(format)")])
            #expect(s.status == 0, "suggest --format \(format): \(s.stderr)")
        }
        return (untraced, r)
    }

    /// The OCI profile as SeccompProfiles loads it: no warning, and no unscoped process-targeting call.
    static func checkedProfile(_ w: Workdir) throws -> Profile {
        let text = try String(contentsOfFile: w.path("profile.oci"), encoding: .utf8)
        let loaded = try Profile.load(json: text)
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        let p = loaded.profile
        #expect(p.defaultAction == .errno && p.defaultErrnoRet == 1)
        #expect(p.architectures.contains("SCMP_ARCH_X86_64"))
        for e in p.syscalls where e.action == .allow {
            let granted = Set(e.names).intersection(processTargeting)
            #expect(granted.isEmpty, "granted: \(granted.sorted())")
        }
        #expect(p.syscalls.contains { $0.names == ["execve"] || ($0.action == .allow && $0.names.contains("execve")) },
                "execve must be granted: the profile applies from exec")
        #expect(p.syscalls.contains { $0.names == ["clone3"] && $0.action == .errno && $0.errnoRet == 38 })
        return p
    }
}

@Suite("Suggested profiles run their program (libseccomp loader, no captrace)", .serialized)
struct SuggestedProfileTests {
    /// (ii) The libseccomp output compiled into a loader that installs the filter and execs the program: the
    /// kernel enforces the profile from exec; the output equals the untraced run's, and the status is 0.
    @Test("record --syscalls, suggest, run under the kernel-enforced libseccomp filter",
          arguments: ProvenProgram.all, backends)
    func libseccompLoader(program: ProvenProgram, backend: String) throws {
        let w = try Workdir("proof-\(program.label)")
        let (untraced, _) = try ProfileProof.record(program, backend: backend, in: w)
        _ = try ProfileProof.checkedProfile(w)
        try FileManager.default.copyItem(atPath: w.path("profile.libseccomp"), toPath: w.path("profile.c"))
        let loader = w.path("loader")
        let cc = try Subprocess.run(["/usr/bin/gcc", "-O1", "-Wall", "-Werror", "-o", loader,
                                     Harness.fixturesDir.appendingPathComponent("seccomp-loader.c").path,
                                     w.path("profile.c"), "-lseccomp"], timeout: 120)
        try #require(cc.status == 0, "gcc: \(cc.stderr)")
        let r = try Subprocess.run([loader] + program.argv, cwd: w.url.path)
        #expect(r.status == 0, "\(program) under its profile: status \(r.status), stderr: \(r.stderr)")
        #expect(r.stdout == untraced.stdout, "\(program) under its profile printed something else:\n\(r.stdout)")
        #expect(!r.stdout.isEmpty)
    }

    /// The filter is really enforced: a program the profile was not made for fails under it.
    @Test("the loader's filter refuses what the program did not use")
    func loaderRefuses() throws {
        let w = try Workdir("proof-refuses")
        _ = try ProfileProof.record(ProvenProgram.all[1], backend: "ptrace", in: w)  // date
        try FileManager.default.copyItem(atPath: w.path("profile.libseccomp"), toPath: w.path("profile.c"))
        let loader = w.path("loader")
        let cc = try Subprocess.run(["/usr/bin/gcc", "-O1", "-o", loader,
                                     Harness.fixturesDir.appendingPathComponent("seccomp-loader.c").path,
                                     w.path("profile.c"), "-lseccomp"], timeout: 120)
        try #require(cc.status == 0, "gcc: \(cc.stderr)")
        // sh forks (clone/wait4) where date never does: refused.
        let r = try Subprocess.run([loader, "/bin/sh", "-c", "/bin/true; echo after"], cwd: w.url.path)
        #expect(r.status != 0 || !r.stdout.contains("after"), "sh ran unhindered under date's profile: \(r.stdout)")
    }
}

/// (i) The same proof through captrace's own `--policy` (an OCI profile, entry at exec by default, violations =
/// calls the profile refuses), in enforce mode: the program runs as untraced and nothing is refused.
@Suite("Suggested profiles run their program under run --policy --mode enforce", .serialized)
struct SuggestedProfilePolicyTests {
    @Test("record --syscalls, suggest oci, run --policy profile.json --mode enforce: same output, no refusal",
          arguments: ProvenProgram.all)
    func policyEnforce(program: ProvenProgram) throws {
        let w = try Workdir("policy-\(program.label)")
        let (untraced, _) = try ProfileProof.record(program, backend: "ptrace", in: w)
        _ = try ProfileProof.checkedProfile(w)
        let r = try Subprocess.run([try Harness.captrace(), "run", "--policy", w.path("profile.oci"), "--mode", "enforce",
                                    "-q", "-o", w.path("policy.jsonl"), "--"] + program.argv, cwd: w.url.path)
        #expect(r.status == 0, "\(program) under --policy: \(r.stderr)")
        #expect(r.stdout == untraced.stdout)
        let t = try TraceReader.parse(try String(contentsOfFile: w.path("policy.jsonl"), encoding: .utf8))
        #expect(t.summary?.violations == 0, "refused: \(t.violations.map { $0.syscall })")
    }
}

@Suite("run --syscalls counts exactly", .serialized)
struct SyscallSetTests {
    @Test("per ABI, before and after entry, socket domains and clone flags, per process", arguments: backends)
    func counts(backend: String) throws {
        let w = try Workdir("syscall-set")
        let exe = try Harness.fixture("syscall-set")
        let r = try Harness.run([exe], backend: backend, options: ["--syscalls", "--enter-at", "main"], in: w)
        #expect(r.status == 0 && r.stdout == "ok\n", "\(r.stderr)")
        let t = try #require(r.trace, "\(r.traceError ?? "")")
        #expect(t.header?.syscalls == true)
        let rootPid = try #require(t.processes.first { $0.event == .spawn }?.pid)
        let sets = t.syscallSets
        #expect(sets.count == 2, "one record per process: \(sets.map(\.pid))")
        let root = try #require(sets.first { $0.pid == rootPid })
        func count(_ name: String, _ abi: ABI) -> SyscallSetEvent.Count? {
            let nr = Catalog.shared.number(of: name, abi: abi)
            return root.counts.first { $0.abi == abi && $0.nr == nr }
        }
        #expect(count("getppid", .x86_64)?.after == 7 && count("getppid", .x86_64)?.before == 0)
        #expect(count("getpid", .i386)?.after == 3 && count("getpid", .i386)?.before == 0)
        #expect(count("execve", .x86_64)?.before == 1, "the initial execve, before entry")
        #expect((count("mmap", .x86_64)?.before ?? 0) > 0, "the loader's calls, before main")
        #expect(root.sockets.contains(.init(call: "socket", domain: 1, type: 1)), "\(root.sockets)")
        #expect(root.sockets.contains(.init(call: "socket", domain: 2, type: 2)))
        #expect(root.sockets.contains(.init(call: "socketpair", domain: 1, type: 2)))
        let flags = (root.cloneFlags ?? 0) | (root.clone3Flags ?? 0)
        #expect(flags & 0x10000 != 0, "CLONE_THREAD (pthread_create)")
        #expect(root.cloneFlags.map { $0 & 0xff } == 17, "fork: clone with SIGCHLD")
        let child = try #require(sets.first { $0.pid != rootPid })
        let getppid = Catalog.shared.number(of: "getppid", abi: .x86_64)
        #expect(child.counts.first { $0.abi == .x86_64 && $0.nr == getppid }?.after == 2)
        // The suggestion from it: i386 is an architecture, socket narrowed to AF_UNIX and AF_INET.
        let s = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"), "--format", "oci"])
        #expect(s.status == 0, "\(s.stderr)")
        let p = try Profile.load(json: s.stdout).profile
        #expect(p.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
        let socketDomains = p.syscalls.filter { $0.names == ["socket"] }.compactMap { $0.args.first?.value }
        #expect(socketDomains == [1, 2])
    }

    @Test("suggest --format spo without a syscalls record: status 2, naming run --syscalls")
    func spoNeedsRecord() throws {
        let w = try Workdir("spo-norecord")
        let r = try Harness.run(["/usr/bin/true"], backend: "ptrace", options: ["--enter-at", "exec", "-q"], in: w)
        #expect(r.status == 0)
        let s = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"), "--format", "spo"])
        #expect(s.status == 2 && s.stderr.contains("run --syscalls") && s.stdout.isEmpty, "\(s.stderr)")
        let o = try Subprocess.run([try Harness.captrace(), "suggest", w.path("trace.jsonl"), "--format", "oci"])
        #expect(o.status == 0 && o.stderr.contains("no syscalls record"), "\(o.stderr)")
    }
}
