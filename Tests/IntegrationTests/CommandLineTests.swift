// The command line a newcomer meets (issue 17): one test per row of the issue's table, each running the real
// captrace executable and checking its exit status and the key words of its message.
import Foundation
import Testing
import TraceModel

#if canImport(Glibc)
import Glibc
#endif

/// `captrace ARGS...` in `cwd` (with extra environment variables), waited for.
private func captrace(_ args: [String], env: [String] = [], cwd: String? = nil) throws -> Subprocess.Result {
    let exe = try Harness.captrace()
    return try Subprocess.run((env.isEmpty ? [] : ["/usr/bin/env"] + env) + [exe] + args, cwd: cwd, timeout: 120)
}

private func show(_ r: Subprocess.Result) -> String { "status \(r.status)\nstdout: \(r.stdout.prefix(2000))\nstderr: \(r.stderr.prefix(2000))" }

@Suite("command line: help, options, exit statuses, input files")
struct CommandLineTests {
    // Row 1: `captrace run --help`, `captrace run -h`.
    @Test("run --help and run -h print run's help, status 0", arguments: [["run", "--help"], ["run", "-h"],
                                                                          ["run", "-q", "--help"], ["help", "run"]])
    func runHelp(args: [String]) throws {
        let r = try captrace(args)
        #expect(r.status == 0, "\(show(r))")
        #expect(r.stdout.contains("USAGE: captrace run") && r.stdout.contains("--enter-at"), "\(show(r))")
        #expect(!r.stderr.contains("cannot execute"), "\(show(r))")
    }

    // Row 2: `captrace run --mdoe enforce -- date`.
    @Test("an unknown option before the program is an error naming it and the closest option, status 2")
    func unknownOption() throws {
        let w = try Workdir("cli")
        let r = try captrace(["run", "--mdoe", "enforce", "-o", w.path("t.jsonl"), "--", "date"], cwd: w.url.path)
        #expect(r.status == 2, "\(show(r))")
        #expect(r.stderr.contains("unknown option '--mdoe'") && r.stderr.contains("'--mode'"), "\(show(r))")
        #expect(r.stdout.isEmpty && !FileManager.default.fileExists(atPath: w.path("t.jsonl")), "nothing ran\n\(show(r))")
        // The same for the other subcommands (ArgumentParser's own check, with captrace's status).
        let rep = try captrace(["report", "--fromat", "json", w.path("t.jsonl")])
        #expect(rep.status == 2 && rep.stderr.contains("unknown option '--fromat'") && rep.stderr.contains("'--format'"),
                "\(show(rep))")
        // The program's own options after it are its own (strace's rule): here `-u` is date's.
        let ok = try captrace(["run", "-q", "-o", w.path("u.jsonl"), "date", "-u"], cwd: w.url.path)
        #expect(ok.status == 0 && ok.stdout.contains("UTC"), "\(show(ok))")
    }

    // Row 3: `captrace run --stack-depth -1 -- true`.
    @Test("--stack-depth -1: must be 0 or more, status 2")
    func negativeStackDepth() throws {
        let r = try captrace(["run", "--stack-depth", "-1", "--", "true"])
        #expect(r.status == 2, "\(show(r))")
        #expect(r.stderr.contains("--stack-depth must be 0 or more"), "\(show(r))")
        #expect(!r.stderr.contains("Missing value"), "\(show(r))")
        let bad = try captrace(["run", "--stack-depth", "many", "--", "true"])
        #expect(bad.status == 2 && bad.stderr.contains("'many' is invalid for '--stack-depth"), "\(show(bad))")
    }

    // Row 4: `captrace suggest t.jsonl` without --format.
    @Test("suggest without --format: status 2 (a bad command line), naming --format")
    func suggestWithoutFormat() throws {
        let w = try Workdir("cli")
        let trace = try recordNeverEntered(w)
        let r = try captrace(["suggest", trace])
        #expect(r.status == 2, "\(show(r))")
        #expect(r.stderr.contains("missing expected argument '--format"), "\(show(r))")
    }

    // Row 5: an allowlist line with a mistyped syscall.
    @Test("an allowlist naming an unknown syscall is refused with its line, status 2", arguments: backends)
    func allowlistUnknownSyscall(backend: String) throws {
        let w = try Workdir("cli")
        let allow = w.path("base.allow")
        try "# reviewed\nopenat filesystem/absolute-path path=/etc/hosts\nopnat filesystem/absolute-path path=/etc/passwd\n  at *\n"
            .write(toFile: allow, atomically: true, encoding: .utf8)
        let r = try captrace(["run", "--backend", backend, "--allow", allow, "--fail-on-violation", "-o", w.path("t.jsonl"),
                              "--", "true"], cwd: w.url.path)
        #expect(r.status == 2, "\(show(r))")
        #expect(r.stderr.contains("line 3: unknown syscall 'opnat'") && r.stderr.contains("base.allow"), "\(show(r))")
        #expect(!FileManager.default.fileExists(atPath: w.path("t.jsonl")), "the program did not run\n\(show(r))")
    }

    // Row 6: a malformed allowlist rule.
    @Test("a malformed allowlist rule is bad input (status 2), not a failure of captrace (125)",
          arguments: [("openat filesystm/absolute-path\n", "line 1: unknown namespace 'filesystm'"),
                      ("openat filesystem/absolute-path pth=/etc\n", "line 1: unknown key 'pth'"),
                      ("\nopenat\n", "line 2: expected 'SYSCALL NAMESPACE/RULE"),
                      ("openat filesystem/*\n  at libc.so.6+0xzz\n", "line 2: bad frame 'libc.so.6+0xzz'")])
    func allowlistMalformed(text: String, message: String) throws {
        let w = try Workdir("cli")
        let allow = w.path("bad.allow")
        try text.write(toFile: allow, atomically: true, encoding: .utf8)
        let r = try captrace(["run", "--allow", allow, "-o", w.path("t.jsonl"), "--", "true"], cwd: w.url.path)
        #expect(r.status == 2, "\(show(r))")
        #expect(r.stderr.contains(message), "\(show(r))")
    }

    // Row 7: `captrace report /tmp`.
    @Test("report of a directory: 'is a directory', status 2; the same for suggest and --allow")
    func directoryAsInput() throws {
        let dir = FileManager.default.temporaryDirectory.path
        for args in [["report", dir], ["suggest", dir, "--format", "plan"], ["run", "--allow", dir, "--", "true"]] {
            let r = try captrace(args)
            #expect(r.status == 2, "\(args): \(show(r))")
            #expect(r.stderr.contains("is a directory") && !r.stderr.contains("permission denied"), "\(args): \(show(r))")
        }
        let missing = try captrace(["report", dir + "/no-such-trace.jsonl"])
        #expect(missing.status == 2 && missing.stderr.contains("no such file"), "\(show(missing))")
    }

    // Row 8: `--enter-at symbol:no_such_function`, then every analysis.
    @Test("a run that never entered: every report and suggestion format says nothing was judged")
    func neverEnteredAnalyses() throws {
        let w = try Workdir("cli")
        let trace = try recordNeverEntered(w)
        for format in ["text", "json", "sarif", "folded", "html"] {
            let r = try captrace(["report", trace, "--format", format])
            #expect(r.status == 0, "report \(format): \(show(r))")
            #expect(r.stdout.contains("capability mode never began") && r.stdout.contains("nothing was judged"),
                    "report \(format): \(show(r))")
            #expect(r.stderr.contains("capability mode never began"), "report \(format): \(show(r))")
            #expect(!r.stdout.contains("in 0 processes") && !r.stdout.contains("0 violations at 0 sites in"),
                    "report \(format): \(show(r))")
        }
        for format in ["plan", "oci", "systemd", "libseccomp", "allowlist"] {
            let r = try captrace(["suggest", trace, "--format", format])
            #expect(r.status == 0, "suggest \(format): \(show(r))")
            let out = r.stdout.replacingOccurrences(of: "\n *", with: "")
            #expect(out.localizedCaseInsensitiveContains("capability mode never began")
                        && out.contains("nothing was judged"), "suggest \(format): \(show(r))")
            #expect(r.stderr.contains("capability mode never began"), "suggest \(format): \(show(r))")
            #expect(!r.stdout.contains("nothing to change"), "suggest \(format): \(show(r))")
        }
    }

    // Row 10: `ls -lR /usr/share/doc` traced.
    @Test("a large trace (ls -lR /usr/share/doc): every list in the text and HTML reports is capped")
    func largeTraceListsCapped() throws {
        let w = try Workdir("cli")
        let r = try Harness.run(["/bin/ls", "-lR", "/usr/share/doc"], backend: "ptrace",
                                options: ["-q", "--enter-at", "exec", "--stack-depth", "8"], in: w, timeout: 300)
        #expect(r.status == 0 && r.violations.count > 2000, "\(r.digest)")
        let text = try captrace(["report", w.path("trace.jsonl")])
        #expect(text.status == 0, "\(show(text))")
        let lines = text.stdout.split(separator: "\n")
        let widest = lines.map(\.count).max() ?? 0
        #expect(widest <= 300, "the widest line has \(widest) characters: \(lines.first { $0.count == widest } ?? "")")
        #expect(lines.contains { $0.hasPrefix("  seq ") && $0.contains(" … and ") && $0.hasSuffix(" more") },
                "a capped seq line")
        #expect(lines.contains { $0.hasPrefix("  … and ") && $0.hasSuffix(" more paths") }, "a capped path list")
        let html = try captrace(["report", w.path("trace.jsonl"), "--format", "html"])
        #expect(html.status == 0, "\(show(html))")
        let seqs = html.stdout.split(separator: "\n").filter { $0.hasPrefix("<p>seq ") }
        #expect(!seqs.isEmpty && seqs.allSatisfy { $0.count <= 300 }, "HTML seq lines: \(seqs.map(\.count))")
        #expect(seqs.contains { $0.contains(" … and ") }, "a capped seq line in HTML")
        #expect(html.stdout.contains(" more paths</p>"), "a capped path list in HTML")
    }

    // Row 12: `captrace help run`.
    @Test("help texts are paragraphs wrapped by the argument parser only",
          arguments: [["help", "run"], ["help", "suggest"], ["help", "report"], ["--help"]])
    func helpIsWrappedByTheParser(args: [String]) throws {
        let wide = try captrace(args, env: ["COLUMNS=200"])
        #expect(wide.status == 0, "\(show(wide))")
        if args == ["help", "run"] {
            #expect(wide.stdout.split(separator: "\n").contains { $0.contains("when a violation not in the baseline was recorded") },
                    "a sentence stays on one line at 200 columns:\n\(wide.stdout)")
        }
        if args == ["help", "suggest"] {
            #expect(wide.stdout.split(separator: "\n").contains { $0.contains("systemd (unit directives), libseccomp (C code)") },
                    "\(wide.stdout)")
        }
        let narrow = try captrace(args, env: ["COLUMNS=60"])
        #expect(narrow.status == 0, "\(show(narrow))")
        // (ArgumentParser writes the synopsis after USAGE: on one line, whatever the width.)
        let long = narrow.stdout.split(separator: "\n").map(String.init).filter { $0.count > 60 && !$0.hasPrefix("USAGE: ") }
        #expect(long.isEmpty, "lines wider than 60 columns: \(long)")
        // No paragraph line ends mid-sentence at the full width (a hard break would leave a short line there).
        let lines = wide.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, l) in lines.enumerated() where i + 1 < lines.count && !l.hasPrefix(" ") && !l.isEmpty {
            let next = lines[i + 1]
            let continues = !next.isEmpty && !next.hasPrefix(" ") && next.first?.isLowercase == true
            #expect(!(continues && l.count < 150), "hard line break in a paragraph: \"\(l)\" / \"\(next)\"")
        }
    }

    // The two executables: `captrace` runs a plain `run` line itself and hands every other line to captrace-cli.
    @Test("captrace alone runs a plain run line; any other line needs captrace-cli beside it, and says so (status 125)")
    func commandLineProgram() throws {
        let w = try Workdir("cli-split")
        let alone = w.path("captrace")
        try Harness.copyExecutable(try Harness.captrace(), to: alone)
        let run = try Subprocess.run([alone, "run", "-q", "--enter-at", "exec", "-o", w.path("t.jsonl"), "--", "/bin/true"],
                                     timeout: 120)
        #expect(run.status == 0 && FileManager.default.fileExists(atPath: w.path("t.jsonl")), "\(show(run))")
        for args in [["report", w.path("t.jsonl")], ["--help"], ["run", "-q", "--mdoe", "x", "--", "/bin/true"]] {
            let r = try Subprocess.run([alone] + args, timeout: 120)
            #expect(r.status == 125 && r.stderr.contains("cannot start \(w.path("captrace-cli"))"), "\(args): \(show(r))")
        }
        // Beside the built one, the same lines reach ArgumentParser's commands.
        let report = try captrace(["report", w.path("t.jsonl")])
        #expect(report.status == 0 && report.stdout.contains("TOTALS"), "\(show(report))")
    }

    /// Records `gate` with a trigger it never reaches; returns the trace's path.
    private func recordNeverEntered(_ w: Workdir) throws -> String {
        let bin = try Harness.fixture("gate")
        let r = try Harness.run([bin], backend: "ptrace", options: ["-q", "--enter-at", "symbol:no_such_function"], in: w)
        #expect(r.status == 0 && r.enters.isEmpty, "\(r.digest)")
        return r.trace == nil ? "" : w.path("trace.jsonl")
    }
}
