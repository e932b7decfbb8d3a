// Landlock both ways: a program that restricts itself and is refused (decoded, recorded with its stack,
// explained), and `suggest --format landlock` proven by running the program under it (`run --policy`).
import Foundation
import Landlock
import Testing
import TraceModel

@Suite("Landlock: decode, explain, suggest, apply")
struct LandlockTests {
    /// `captrace ARGS` in `w`, its result.
    static func captrace(_ args: [String], in w: Workdir) throws -> Subprocess.Result {
        try Subprocess.run([try Harness.captrace()] + args, cwd: w.url.path, timeout: 120)
    }

    @Test("a program that restricts itself and reads outside its rules: the refusal names read_file, the rule, the function")
    func selfRestricted() throws {
        let w = try Workdir("landlock")
        let bin = try Harness.fixture("landlock")
        let r = try Harness.run([bin, w.url.path], backend: "ptrace", options: ["-q"], in: w)
        #expect(r.status == 1, "\(r.digest)")
        #expect(r.stdout == "restricted\nopen /etc/hostname: Permission denied\n", "\(r.stdout)")
        let trace = try #require(r.trace)
        let domains = trace.landlockDomains
        #expect(domains.count == 1)
        let ruleset = try #require(domains.first?.ruleset)
        #expect(domains.first?.source == .program)
        #expect(ruleset.handledFS == [.readFile, .readDir, .writeFile, .makeReg])
        #expect(ruleset.paths == [PathRule(path: w.url.path, access: [.readFile, .readDir])])
        #expect(domains.first?.stack.contains { $0.symbol == "restrict_beneath" } == true)
        #expect(trace.header?.landlockABI ?? 0 >= 1)
        let denials = trace.landlockDenials
        #expect(denials.count == 1, "\(denials)")
        let d = try #require(denials.first)
        #expect(d.call.syscall == "openat" && d.call.path == "/etc/hostname" && d.call.errno == "EACCES")
        #expect(d.call.fileType == .regular)
        #expect(d.stack.contains { $0.symbol == "read_outside" }, "\(d.stack)")

        let report = try Self.captrace(["report", r.trace.map { _ in w.path("trace.jsonl") }!], in: w)
        #expect(report.status == 0)
        let text = report.stdout
        #expect(text.contains("openat /etc/hostname (O_RDONLY|O_CLOEXEC) = -1 EACCES  [a regular file]"), "\(text)")
        #expect(text.contains("missing: read_file on /etc/hostname (layer 1 handles it and no rule grants it)"), "\(text)")
        #expect(text.contains("allowed_access = [\"read_file\"]\n      parent = [\"/etc/hostname\"]"), "\(text)")
        #expect(text.contains("read_outside"), "\(text)")
        #expect(text.contains("path_beneath \(w.url.path): read_file, read_dir"), "\(text)")
    }

    @Test("a wrapper restricts itself and execs sh, whose child cat is refused: the inherited domain explains it")
    func wrapperAndInheritance() throws {
        let w = try Workdir("ll-wrap")
        let bin = try Harness.fixture("landlock")
        let r = try Harness.run([bin, "/usr", "/bin/sh", "-c", "/usr/bin/cat /etc/hostname; exit 0"], backend: "ptrace",
                                options: ["-q"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        #expect(r.stderr.contains("/etc/hostname: Permission denied"), "\(r.stderr)")
        let trace = try #require(r.trace)
        #expect(trace.landlockDomains.count == 1)
        let root = try #require(r.programPid)
        let hostname = trace.landlockDenials.filter { $0.call.path == "/etc/hostname" }
        #expect(hostname.count == 1, "\(trace.landlockDenials)")
        // Refused in cat, a child of sh (which the wrapper became by exec): not the pid that restricted itself.
        #expect(hostname.first.map { $0.pid != root } == true)
        #expect(trace.processes.contains { $0.event == .fork && $0.pid == hostname.first?.pid })
        let report = try Self.captrace(["report", w.path("trace.jsonl")], in: w)
        #expect(report.stdout.contains("missing: read_file on /etc/hostname (layer 1 handles it and no rule grants it)"), "\(report.stdout)")
    }

    /// Records `program` from exec, suggests a ruleset, runs it under the ruleset in enforce mode: zero
    /// refusals and the same output. Returns the ruleset's text.
    @discardableResult
    static func proveSuggestion(_ program: [String], in w: Workdir) throws -> String {
        let rec = try Harness.run(program, backend: "ptrace", options: ["-q", "--enter-at", "exec"], in: w)
        #expect(rec.status == 0, "\(rec.digest)")
        let ruleset = w.path("ruleset.toml")
        let s = try captrace(["suggest", w.path("trace.jsonl"), "--format", "landlock", "-o", ruleset], in: w)
        #expect(s.status == 0, "\(s.stderr)")
        let text = try String(contentsOfFile: ruleset, encoding: .utf8)
        // It reads back as a landlockconfig file.
        let config = try LandlockConfig(toml: text)
        #expect(!config.pathBeneath.isEmpty)
        let run = try Harness.run(program, backend: "ptrace", options: ["-q", "--mode", "enforce", "--policy", ruleset], in: w)
        #expect(run.status == 0, "\(run.digest)\n\(text)")
        #expect(run.stdout == rec.stdout, "\(program): under the ruleset:\n\(run.stdout)\nrecorded:\n\(rec.stdout)")
        let trace = try #require(run.trace)
        #expect(trace.landlockDomains.map(\.source) == [.policy])
        #expect(trace.landlockDenials.isEmpty, "\(trace.landlockDenials)\n\(text)")
        return text
    }

    @Test("suggest --format landlock from cat's trace runs cat under the ruleset with zero refusals; $HOME/cwd become variables")
    func suggestedCat() throws {
        let w = try Workdir("ll-cat")
        try "beside the trace\n".write(toFile: w.path("input.txt"), atomically: true, encoding: .utf8)
        let text = try Self.proveSuggestion(["/usr/bin/cat", "/etc/hostname", "input.txt"], in: w)
        #expect(text.contains("[[variable]]\nname = \"cwd\"\nliteral = [\"\(w.url.path)\"]"), "\(text)")
        #expect(text.contains("\"${cwd}/input.txt\""), "\(text)")
        #expect(text.contains("allowed_access = [\"execute\", \"read_file\"]"), "\(text)")
        #expect(text.contains("\"/usr/bin/cat\""), "\(text)")
        #expect(text.contains("scoped = [\"abstract_unix_socket\", \"signal\"]"), "\(text)")

        // Narrowed: the rule for /etc/hostname removed, the refusal names the missing right and the rule.
        var config = try LandlockConfig(toml: text)
        for i in config.pathBeneath.indices { config.pathBeneath[i].parent.removeAll { $0 == "/etc/hostname" } }
        config.pathBeneath.removeAll { $0.parent.isEmpty }
        let narrow = w.path("narrow.toml")
        try config.toml().write(toFile: narrow, atomically: true, encoding: .utf8)
        let r = try Harness.run(["/usr/bin/cat", "/etc/hostname", "input.txt"], backend: "ptrace",
                                options: ["-q", "--mode", "enforce", "--policy", narrow], in: w)
        #expect(r.status == 1, "\(r.digest)")
        #expect(r.stdout == "beside the trace\n")
        let denials = r.trace?.landlockDenials ?? []
        #expect(denials.map { $0.call.path } == ["/etc/hostname"], "\(denials)")
        let report = try Self.captrace(["report", w.path("trace.jsonl")], in: w)
        #expect(report.stdout.contains("missing: read_file on /etc/hostname (layer 1 handles it and no rule grants it)"), "\(report.stdout)")
        #expect(report.stdout.contains("POLICY (landlock-ruleset)\n  the kernel enforces the ruleset from exec: what it refused is under LANDLOCK above"), "\(report.stdout)")
        #expect(report.stdout.contains("  policy landlock-ruleset \(narrow) (sha256 "), "\(report.stdout)")
        // The HTML report counts the refusal and shows it; it does not say the policy never began.
        let html = try Self.captrace(["report", w.path("trace.jsonl"), "--format", "html"], in: w).stdout
        #expect(html.contains("<span id=\"total-landlock-refusals\">1</span> Landlock refusal"), "\(html)")
        #expect(html.contains("<section id=\"landlock\">") && html.contains("missing: read_file on /etc/hostname"), "\(html)")
        #expect(!html.contains("Nothing judged") && !html.contains("Never entered"), "\(html)")
        // SARIF: one result for it, naming the path and the missing right.
        let sarif = try Self.captrace(["report", w.path("trace.jsonl"), "--format", "sarif"], in: w).stdout
        let results = try sarifResults(sarif)
        #expect(results.count == 1 && results.first?["ruleId"] as? String == "landlock/refused", "\(sarif)")
        let message = (results.first?["message"] as? [String: Any])?["text"] as? String ?? ""
        #expect(message.hasPrefix("openat /etc/hostname") && message.contains("missing: read_file on /etc/hostname"), "\(message)")
        // Suggestions: the plan says what judged the run (not that capability mode never began); a ruleset is not
        // made from a run that recorded only what its policy refused.
        let plan = try Self.captrace(["suggest", w.path("trace.jsonl"), "--format", "plan"], in: w)
        #expect(plan.stdout.contains("This run was judged by a landlock-ruleset (\(narrow)), not by capability mode"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("never began") && !plan.stderr.contains("never began"), "\(plan.stdout)\(plan.stderr)")
        let again = try Self.captrace(["suggest", w.path("trace.jsonl"), "--format", "landlock"], in: w)
        #expect(again.status == 2 && again.stdout.isEmpty, "\(again.stdout)")
        #expect(again.stderr.contains("was judged by a landlock-ruleset (\(narrow)), not by capability mode: --format landlock"), "\(again.stderr)")
    }

    @Test("suggest --format landlock, then run --policy: date and python3 run with zero refusals and the same output",
          arguments: [["/usr/bin/date", "-d", "@86400"], ["/usr/bin/python3", "-c", "print(1)"]])
    func suggestedPrograms(program: [String]) throws {
        let w = try Workdir("ll-prog")
        try Self.proveSuggestion(program, in: w)
    }

    @Test("--policy: a bad ruleset, observe mode and the notify backend are refused clearly (status 2)")
    func badPolicies() throws {
        let w = try Workdir("ll-bad")
        let bad = w.path("bad.toml")
        try "[[path_beneath]]\nallowed_access = [\"read_files\"]\nparent = [\"/\"]\n".write(toFile: bad, atomically: true, encoding: .utf8)
        var r = try Self.captrace(["run", "-q", "--mode", "enforce", "--policy", bad, "-o", w.path("t.jsonl"), "--", "/usr/bin/true"], in: w)
        #expect(r.status == 2)
        #expect(r.stderr == "captrace: \(bad): line 2: unknown filesystem access \"read_files\" in allowed_access\n", "\(r.stderr)")
        let good = w.path("good.toml")
        try "[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = [\"/etc\"]\n".write(toFile: good, atomically: true, encoding: .utf8)
        r = try Self.captrace(["run", "-q", "--policy", good, "-o", w.path("t.jsonl"), "--", "/usr/bin/true"], in: w)
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot be observed: add --mode enforce"), "\(r.stderr)")
        r = try Self.captrace(["run", "-q", "--mode", "enforce", "--backend", "notify", "--policy", good, "-o", w.path("t.jsonl"), "--", "/usr/bin/true"], in: w)
        #expect(r.status == 2)
        #expect(r.stderr.contains("needs --backend ptrace"), "\(r.stderr)")
        let missing = w.path("missing.toml")
        try "[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = [\"/no/such/dir\"]\n".write(toFile: missing, atomically: true, encoding: .utf8)
        r = try Self.captrace(["run", "-q", "--mode", "enforce", "--policy", missing, "-o", w.path("t.jsonl"), "--", "/usr/bin/true"], in: w)
        #expect(r.status == 2)
        #expect(r.stderr == "captrace: \(missing): cannot add the rule for /no/such/dir (read_file): No such file or directory\n", "\(r.stderr)")
    }
}
