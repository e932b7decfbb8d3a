import ArgumentParser
import Baselines
import RunCommand
import CapabilityPolicy
import Diagnosis
import Glibc
import Reports
import Suggestions
import Supervisor
import SyscallCatalog
import TraceModel

/// Runs a subcommand body (`statusOf`), exiting with its status when that is not 0.
func guarded(_ body: () throws -> Int32) throws {
    let status = try statusOf(body)
    if status != 0 { throw ExitCode(status) }
}

@main
struct Captrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "captrace",
        abstract: "A ktrace-like tracer for sandbox violations: records what a program looks up in global namespaces after it enters capability mode.",
        discussion: """
        Trace a program, then read the recording:
          captrace run --enter-at symbol:pcap_loop -- tcpdump -r capture.pcap
          captrace report captrace.jsonl
          captrace suggest captrace.jsonl --format plan
          captrace run --syscalls --enter-at exec -o t.jsonl -- date && captrace suggest t.jsonl --format oci
        """,
        version: "0.1.0",
        subcommands: [Run.self, Report.self, Suggest.self, Syscalls.self]
    )

    /// `captrace` (Sources/captrace) runs plain `run` lines itself and execs this program for every other
    /// command line; run here directly, a `run` warms the catalog up as there.
    static func main() {
        warmUpCatalog()
        runCommandLine()
    }

    /// Parses and runs a subcommand. A bad command line is one line on stderr (with the usage after it) and
    /// status 2, as the README documents (ArgumentParser alone would exit 64); help exits 0.
    static func runCommandLine() {
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch {
            exitAfter(error)
        }
    }

    /// Exits for an error of a subcommand: a bad command line as `usageError`, anything else as ArgumentParser does.
    static func exitAfter(_ error: Error) -> Never {
        guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
        usageError(fullMessage(for: error))
    }

    /// Writes ArgumentParser's message for a bad command line as captrace's one line and exits 2.
    static func usageError(_ message: String) -> Never {
        var lines = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if var first = lines.first {
            if first.hasPrefix("Error: ") { first.removeFirst("Error: ".count) }
            lines[0] = first.prefix(1).lowercased() + first.dropFirst()
        }
        writeStderr(line: lines[0])
        for l in lines.dropFirst() { FileIO.writeAll(2, (l + "\n").utf8) }
        Glibc.exit(Status.usage)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Trace a program and record every namespace-touching syscall after capability mode begins.",
        usage: "captrace run [OPTIONS] [--] PROGRAM [ARG...]",
        discussion: """
        captrace's options come first. The program starts at `--`, or at the first argument that is not an \
        option (as in strace): everything from there on is the program's, its own options included. Before it, \
        an argument that starts with `-` must be one of the options below.

        Triggers (--enter-at): exec, exec:NAME, main, symbol:NAME, syscall:NAME, sandbox. exec:NAME begins \
        when any traced process execs the program whose base name or path is NAME (a sandbox wrapper's final \
        exec).

        Exit status: the program's own (128+N when killed by signal N); 3 with --fail-on-violation when a \
        violation not in the baseline was recorded; 2 for a bad command line or input file; 125 when captrace \
        itself failed; 126 when the program could not be executed; 127 when it was not found; 128+N when \
        captrace was interrupted by signal N.

        Examples:
          captrace run -- getent hosts localhost
          captrace run --enter-at symbol:pcap_loop -o tcpdump.jsonl -- tcpdump -r in.pcap
          captrace run --mode enforce --deny-errno EACCES -- ./myprogram
          captrace run --enter-at exec:cat -- bwrap --ro-bind / / -- cat /etc/hostname
        """
    )

    @OptionGroup var flags: RunFlags

    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments (after -- or the options).")
    var command: [String] = []

    /// The program's argv, or a usage failure when what comes first is an option captrace does not know
    /// (`captureForPassthrough` captures it; only captrace's own options may precede the program).
    /// Help asked for in that place is printed here.
    func programArgv() throws -> [String] {
        var argv = command
        if argv.first == "--" {
            argv.removeFirst()
        } else if let first = argv.first, first.hasPrefix("-"), first != "-" {
            if first == "-h" || first == "--help" {
                FileIO.writeAll(1, (Captrace.helpMessage(for: Run.self) + "\n").utf8)
                throw ExitCode.success
            }
            do {
                _ = try RunFlags.parse([first])
            } catch {
                // ArgumentParser's message names the closest option; the usage is run's.
                Captrace.usageError(RunFlags.message(for: error) + "\nUsage: captrace run [OPTIONS] [--] PROGRAM [ARG...]"
                                    + "\n  See 'captrace run --help' for more information.")
            }
            throw fail("unknown option '\(first)'")
        }
        guard !argv.isEmpty else { throw fail("no program given: captrace run [OPTIONS] -- PROGRAM [ARG...]") }
        return argv
    }

    func run() throws {
        try guarded { try RunCommand.execute(RunArguments(flags), argv: { try programArgv() }) }
    }
}

/// The options of `run` (kept apart so that an unknown one can be checked against them).
struct RunFlags: ParsableArguments {
    @Option(name: .customLong("enter-at"), help: "When capability mode (or --policy) begins: exec, exec:NAME, main, symbol:NAME, syscall:NAME or sandbox (default: main; exec with --policy).")
    var enterAt: String?

    @Option(help: "Judge calls by this policy instead of capability mode: an OCI runtime seccomp profile (.json; refused calls are violations, enforce applies the profile's own actions), or a Landlock ruleset (landlockconfig .toml, e.g. from `suggest --format landlock`; applied at exec, needs --mode enforce and --backend ptrace; Landlock's refusals are recorded).")
    var policy: String?

    @Option(help: "With --policy: the capabilities a profile's includes/excludes.caps are judged against: docker-default (Docker's default set), all, none, or a list such as CAP_SYS_ADMIN,NET_RAW.")
    var caps: String?

    @Option(help: "observe: violations proceed and are recorded; enforce: they fail with --deny-errno.")
    var mode: String = "observe"

    @Option(name: .customLong("deny-errno"), help: "The errno a denied call returns, by name (EPERM, EACCES, ENOSYS, ...; default: EPERM). Not with --policy.")
    var denyErrno: String?

    @Option(help: "ptrace (ptrace + seccomp filter) or notify (seccomp user notification).")
    var backend: String = "ptrace"

    /// Takes the next argument whatever it looks like, so that `-1` reaches the range check.
    @Option(name: .customLong("stack-depth"), parsing: .unconditional, help: "Frames per stack, 0 to 1024; 0 records no stacks.")
    var stackDepth: Int = 64

    @Option(help: "The unwinder that walks stacks: libdw or libunwind.")
    var unwinder: String = "libdw"

    @Option(name: [.short, .customLong("output")], help: "The trace file (JSON Lines).")
    var output: String = "captrace.jsonl"

    @Option(name: .customLong("allow"), help: "A baseline allowlist (from `suggest --format allowlist`).")
    var allow: String?

    @Flag(help: "Also record which right each descriptor operation needs after entry (fdop events).")
    var rights = false

    @Flag(help: "Also record every syscall number each process makes, per ABI, before and after entry, with counts (one `syscalls` record per process; `suggest --format oci|systemd|libseccomp|spo` builds the profile from them).")
    var syscalls = false

    @Flag(name: .customLong("all-results"), help: "Record the result of every violation (ptrace: one more stop each), not only of the first violation of each site and path.")
    var allResults = false

    @Flag(name: .customLong("fail-on-violation"), help: "Exit with status 3 when a violation not in the baseline was recorded.")
    var failOnViolation = false

    @Flag(name: [.short, .customLong("quiet")], help: "No report on stderr at the end.")
    var quiet = false
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a recorded trace (kdump's role).",
        discussion: """
        Examples:
          captrace report captrace.jsonl
          captrace report captrace.jsonl --format sarif -o captrace.sarif
          captrace report captrace.jsonl --format folded | flamegraph.pl > violations.svg
        """
    )

    @Argument(help: "The trace file; several are read as one analysis (sites matched across them).")
    var trace: [String]

    @Option(help: "text, json, sarif, folded or html.")
    var format: String = "text"

    @Flag(help: "Add the per-descriptor table: rights used, unused, suggested limit.")
    var rights = false

    @Option(name: [.short, .customLong("output")], help: "Write to FILE instead of stdout.")
    var output: String?

    func run() throws {
        try guarded {
            guard let f = ReportFormat(rawValue: format) else {
                throw fail("bad --format \"\(format)\": expected \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if rights && trace.count > 1 { throw fail("--rights reads one trace at a time") }
            let (t, analysis) = try readTraces(trace)
            warnIfNeverEntered(t)
            let color = output == nil && f == .text && isatty(1) != 0 && getenv("NO_COLOR") == nil
            if rights {
                guard let text = renderRightsReport(t, analysis: analysis, format: f, color: color) else {
                    throw fail("--rights needs --format text, json or html (not \(format))")
                }
                try emit(text, to: output)
                return 0
            }
            try emit(renderReport(t, analysis: analysis, format: f, color: color), to: output)
            return 0
        }
    }
}

struct Suggest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Allowlist and sandboxing suggestions from a trace.",
        discussion: """
        Formats: plan (Capsicum-style), oci (OCI runtime seccomp profile), systemd (unit directives), \
        libseccomp (C code), allowlist (a baseline for `run --allow`), spo (a Security Profiles Operator \
        SeccompProfile). From a trace recorded with `run --syscalls`, oci, systemd, libseccomp and spo grant the \
        syscalls the program used from exec on.

        Examples:
          captrace suggest captrace.jsonl --format plan
          captrace suggest captrace.jsonl --format allowlist -o baseline.allow
          captrace run --allow baseline.allow --fail-on-violation -- ./myprogram
        """
    )

    @Argument(help: "The trace file; several are read as one analysis (one allowlist that gates every run).")
    var trace: [String]

    @Option(help: "plan, oci, systemd, libseccomp, allowlist, landlock or spo.")
    var format: String

    @Option(name: [.short, .customLong("output")], help: "Write to FILE instead of stdout.")
    var output: String?

    func run() throws {
        try guarded {
            guard let f = SuggestFormat(rawValue: format) else {
                throw fail("bad --format \"\(format)\": expected \(SuggestFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let (t, analysis) = try readTraces(trace)
            // These formats extend capability mode's set with what a trace recorded: a --policy trace has no such
            // set (one recorded with --syscalls has the set the program used instead).
            // A Landlock ruleset is made of the paths and addresses a capability-mode run records; a --policy run
            // records only what its policy refused.
            if let p = t.header?.policy, f == .landlock || [.oci, .systemd, .libseccomp].contains(f) && t.syscallSets.isEmpty {
                let basis = f == .landlock ? "the paths and addresses a capability-mode run records" : "capability mode's set"
                throw fail("\(trace[0]) was judged by a \(p.kind) (\(p.path)), not by capability mode: --format \(format) builds on \(basis); see `captrace report` for what the \(f == .landlock ? "policy" : "profile") refused")
            }
            if let problem = suggestionProblem(t, format: f) { throw fail(problem) }
            warnIfNeverEntered(t)
            if f == .landlock {
                try emit(renderLandlock(t, analysis: analysis, files: machineFileFacts), to: output)
                return 0
            }
            if let w = legacyWarning(t, format: f) { warn(w) }
            for w in suggestionWarnings(t, analysis: analysis, format: f) { warn(w) }
            try emit(renderSuggestion(t, analysis: analysis, format: f), to: output)
            return 0
        }
    }
}

struct Syscalls: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syscalls",
        abstract: "Print the classification table the tracer applies.",
        discussion: """
        Examples:
          captrace syscalls
          captrace syscalls --abi i386 --json
        """
    )

    @Option(help: "x86_64, i386 or x32.")
    var abi: String = "x86_64"

    @Flag(help: "JSON instead of a table.")
    var json = false

    func run() throws {
        try guarded {
            guard let a = ABI(rawValue: abi) else { throw fail("bad --abi \"\(abi)\": expected x86_64, i386 or x32") }
            try emit(PolicyTable.render(abi: a, json: json), to: nil)
            return 0
        }
    }
}

extension RunArguments {
    /// The values ArgumentParser parsed.
    init(_ f: RunFlags) {
        self.init()
        enterAt = f.enterAt
        policy = f.policy
        caps = f.caps
        mode = f.mode
        denyErrno = f.denyErrno
        backend = f.backend
        stackDepth = f.stackDepth
        unwinder = f.unwinder
        output = f.output
        allow = f.allow
        rights = f.rights
        syscalls = f.syscalls
        allResults = f.allResults
        failOnViolation = f.failOnViolation
        quiet = f.quiet
    }
}
