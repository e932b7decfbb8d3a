// captrace sets no_new_privs, so an exec'd setuid/setgid program (or one with file capabilities) does not gain
// its privileges even in observe mode: the exec event records what was withheld, `run` warns at its end and
// every report says so.
import Foundation
import Testing
import TraceModel

#if canImport(Glibc)
import Glibc
#endif

@Suite("run: privileges withheld by no_new_privs")
struct PrivilegeTests {
    /// A copy of id(1) owned by nobody with the setuid bit: untraced, `id -u` would print 65534.
    func setuidID(in w: Workdir) throws -> String {
        let p = w.path("id-setuid")
        try Harness.copyExecutable("/usr/bin/id", to: p)
        guard chown(p, 65534, 65534) == 0, chmod(p, 0o4755) == 0 else { throw HarnessError("chown/chmod \(p) failed") }
        return p
    }

    @Test("a setuid program, run directly or exec'd by a shell, is named with what it did not gain", arguments: backends)
    func setuidWithheld(backend: String) throws {
        let w = try Workdir("nnp")
        let prog = try setuidID(in: w)
        for argv in [[prog, "-u"], ["/bin/sh", "-c", "\(prog) -u"]] {
            let r = try Harness.run(argv, backend: backend, options: ["--enter-at", "main", "-q"], in: w)
            #expect(r.status == 0, "\(r.digest)")
            #expect(r.stdout == "0\n", "the program gained its setuid uid under captrace?\n\(r.digest)")
            let exec = r.processes.first { $0.event == .exec && $0.path == prog }
            #expect(exec?.withheldPrivileges == "setuid uid 65534", "\(r.digest)")
            #expect(r.stderr.contains("exec'd \(prog) without the privileges it would have gained (setuid uid 65534)"),
                    "no warning at the end of the run\n\(r.digest)")
            let report = try Subprocess.run([try Harness.captrace(), "report", w.path("trace.jsonl")])
            #expect(report.status == 0 && report.stdout.contains("warning: pid") && report.stdout.contains("setuid uid 65534"),
                    "the report does not say it:\n\(report.stdout)")
        }
        // An ordinary program gains nothing and is not named.
        let r = try Harness.run(["/usr/bin/id", "-u"], backend: backend, options: ["--enter-at", "main", "-q"], in: w)
        #expect(r.processes.allSatisfy { $0.withheldPrivileges == nil } && !r.stderr.contains("without the privileges"),
                "\(r.digest)")
    }

    /// As a user without privileges (nobody, through setpriv), a program with file capabilities would gain them.
    @Test("file capabilities are named when captrace runs as an unprivileged user", arguments: backends)
    func fileCapabilitiesWithheld(backend: String) throws {
        let w = try Workdir("nnp-caps")
        guard chmod(w.url.path, 0o777) == 0 else { throw HarnessError("chmod \(w.url.path) failed") }
        let prog = w.path("id-caps")
        try Harness.copyExecutable("/usr/bin/id", to: prog)
        let setcap = try Subprocess.run(["/usr/sbin/setcap", "cap_net_raw+ep", prog])
        #expect(setcap.status == 0, "setcap failed: \(setcap.stderr)")
        let trace = w.path("trace.jsonl")
        let r = try Subprocess.run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                    try Harness.captrace(), "run", "--backend", backend, "--enter-at", "main", "-q",
                                    "-o", trace, "--", prog, "-u"], cwd: w.url.path)
        #expect(r.status == 0 && r.stdout == "65534\n", "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("without the privileges it would have gained (file capabilities)"), "\(r.stderr)")
        let text = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
        #expect(text.contains("\"withheld_privileges\":\"file capabilities\""), "\(text)")
    }
}
