import ArgumentParser
import Baselines
import CapabilityPolicy
import Diagnosis
import Glibc
import Reports
import Suggestions
import Supervisor
import SyscallCatalog
import TraceModel

/// Exit statuses of captrace itself (documented in the README).
enum Status {
    /// --fail-on-violation and at least one violation not covered by the baseline.
    static let violations: Int32 = 3
    /// Bad command line or input file.
    static let usage: Int32 = 2
}

/// One clear line on stderr and a non-zero status.
struct Failure: Error {
    let message: String
    let status: Int32
}

func fail(_ message: String, status: Int32 = Status.usage) -> Failure { Failure(message: message, status: status) }

func warn(_ message: String) { writeStderr(line: message) }

/// Runs a subcommand body, turning failures into one line on stderr and the documented status.
func guarded(_ body: () throws -> Int32) throws {
    do {
        let status = try body()
        if status != 0 { throw ExitCode(status) }
    } catch let f as Failure {
        warn(f.message)
        throw ExitCode(f.status)
    } catch let e as SupervisorError {
        warn(e.description)
        throw ExitCode(e.status)
    }
}

/// The bytes of an input file, or a failure (status 2) naming the file and why it cannot be read.
func readInput(_ path: String, what: String = "") throws -> [UInt8] {
    switch FileIO.read(path) {
    case .success(let data): return data
    case .failure(let e):
        let reason = "\(e)"
        throw fail("cannot read \(what)\(path): " + reason.prefix(1).lowercased() + reason.dropFirst())
    }
}

/// Reads traces, each once and in bounded memory: the analysis (sites, violations held compactly) is made while
/// reading, and the trace returned holds every event but the violations. Several traces are one analysis
/// (sites matched across them, counted per trace); the trace's header is the first one's.
func readTraces(_ paths: [String]) throws -> (trace: Trace, analysis: SiteAnalysis) {
    var builder = SiteAnalysis.Builder()
    var events: [TraceEvent] = []
    var warnings: [String] = []
    for path in paths {
        if paths.count > 1 { builder.beginTrace(path) }
        let found: [String]
        do {
            found = try readTrace(path, into: &builder, &events)
        } catch let e as FileIO.SystemError {
            let reason = "\(e)"
            throw fail("cannot read \(path): " + reason.prefix(1).lowercased() + reason.dropFirst())
        } catch let e as TraceReadError where e.line > 1 {
            throw fail("\(path): not a valid captrace trace: \(e) (valid before it: \(plural(e.eventsBefore, "event")))")
        } catch {
            throw fail("\(path): not a valid captrace trace: \(error)")
        }
        for w in found {
            warn("\(path): warning: \(w)")
            warnings.append(paths.count > 1 ? "\(path): \(w)" : w)
        }
    }
    return (Trace(events: events, warnings: warnings), builder.finish())
}

/// "1 event", "3 events".
func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)" + (n == 1 ? "" : "s") }

/// Reads one trace file in chunks into `builder`, keeping its events but the violations in `events`; returns
/// the reader's warnings.
func readTrace(_ path: String, into builder: inout SiteAnalysis.Builder, _ events: inout [TraceEvent]) throws -> [String] {
    var reader = TraceLineReader()
    try withoutActuallyEscaping({ (e: TraceEvent) in
        builder.add(e)
        if case .violation = e {} else { events.append(e) }
    }) { visit in
        try FileIO.readChunks(path) { chunk in try reader.feed(chunk, visit: visit) }
        try reader.end(visit: visit)
    }
    return reader.warnings
}

/// The trace `run` just wrote, read back in one pass for its report and gate; nil when it cannot be read.
func readBack(_ path: String) -> (trace: Trace, analysis: SiteAnalysis)? {
    var builder = SiteAnalysis.Builder()
    var events: [TraceEvent] = []
    guard let warnings = try? readTrace(path, into: &builder, &events) else { return nil }
    return (Trace(events: events, warnings: warnings), builder.finish())
}

/// Said on stderr by every analysis of a trace in which no process reached the trigger (the outputs say it too,
/// where their format has room for a note).
func warnIfNeverEntered(_ trace: Trace) {
    if trace.enters.isEmpty, !trace.landlockDomains.contains(where: { $0.source == .policy }) {
        warn("warning: capability mode never began (no process reached \(trace.header?.trigger ?? "the trigger")), so nothing was judged")
    }
}

/// Writes output to a file (all at once, so nothing is half-written) or to stdout.
func emit(_ text: String, to path: String?) throws {
    if let path {
        if let error = FileIO.writeAtomically(text, to: path) { throw fail("cannot write \(path): \(error)") }
    } else {
        FileIO.writeAll(1, text.utf8)
    }
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

    /// Builds the syscall catalog's number lookup (~500 rows) on another core while the command line is parsed
    /// and the program launched: `run` needs it at the first stop. (The built-in policy needs no warming: its
    /// decisions are generated tables.) `Catalog.shared` is initialised once; a thread that reaches it second
    /// waits for the first.
    /// The helper blocks every signal (the supervisors' handlers and signalfd are the main thread's business).
    /// It may still be running when a supervisor launches the program: the child makes raw system calls only
    /// until exec (ct_spawn, ct_notify_spawn) and touches no memory of captrace's but the block made for it.
    static func main() {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        var thread = pthread_t()
        if pthread_create(&thread, nil, prepareCatalog, nil) == 0 { pthread_detach(thread) }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        if FastRun.runIfPlain(CommandLine.arguments) { return }
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

/// The helper thread of `Captrace.main` (a global function: no actor isolation to check on another thread).
private func prepareCatalog(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    _ = Catalog.shared
    return nil
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
        try Run.execute(RunArguments(flags), argv: { try programArgv() })
    }

    /// Runs `run` with its options given as values (from ArgumentParser, or from `FastRun`'s parse of a plain
    /// command line) and the program's argv.
    static func execute(_ f: RunArguments, argv: () throws -> [String]) throws {
        try guarded {
            var o = RunOptions(argv: try argv())
            // --policy by the file's form: a Landlock ruleset (landlockconfig TOML), else a seccomp profile.
            var landlockFile: (path: String, bytes: [UInt8])? = nil
            if let path = f.policy {
                let bytes = try readInput(path, what: "the policy ")
                if isLandlockRuleset(path: path, bytes: bytes) {
                    if f.caps != nil { throw fail("--caps applies to seccomp profiles, not to a Landlock ruleset (\(path))") }
                    landlockFile = (path, bytes)
                } else {
                    o.policy = try PolicyOption.load(path: path, caps: f.caps)
                }
            } else if f.caps != nil { throw fail("--caps needs --policy (it states the capabilities a profile's caps conditions are judged against)") }
            // A runtime applies its profile from exec: so does --policy, unless --enter-at says otherwise.
            let enterAt = f.enterAt ?? (o.policy != nil || landlockFile != nil ? "exec" : "main")
            do { o.trigger = try Trigger(parsing: enterAt) } catch { throw fail("\(error)") }
            guard let m = Mode(rawValue: f.mode) else { throw fail("bad --mode \"\(f.mode)\": expected observe or enforce") }
            o.mode = m
            if f.denyErrno != nil, o.policy != nil || landlockFile != nil {
                throw fail("--deny-errno does not apply with --policy: enforce mode applies the profile's own actions and errnos")
            }
            let denyErrno = f.denyErrno ?? "EPERM"
            guard let e = Errno.number(named: denyErrno) else { throw fail("unknown errno name \"\(denyErrno)\" for --deny-errno") }
            o.denyErrno = e
            o.denyErrnoName = denyErrno
            guard let b = Backend(rawValue: f.backend) else { throw fail("bad --backend \"\(f.backend)\": expected ptrace or notify") }
            o.backend = b
            guard f.stackDepth >= 0 else { throw fail("--stack-depth must be 0 or more (0 records no stacks), not \(f.stackDepth)") }
            guard f.stackDepth <= 1024 else { throw fail("--stack-depth must be 1024 or less, not \(f.stackDepth)") }
            o.stackDepth = f.stackDepth
            guard f.unwinder == "libdw" || f.unwinder == "libunwind" else { throw fail("bad --unwinder \"\(f.unwinder)\": expected libdw or libunwind") }
            o.unwinder = f.unwinder
            o.output = f.output
            if let allow = f.allow {
                let text = String(decoding: try readInput(allow, what: "the allowlist "), as: UTF8.self)
                // Checked here so that a bad allowlist is bad input (status 2), named with its line.
                do { _ = try Baseline(parsing: text) } catch { throw fail("\(allow): \(error)") }
                o.allowlistText = text
            }
            o.rights = f.rights
            o.syscalls = f.syscalls
            if f.rights && o.backend == .notify {
                throw fail("--rights needs --backend ptrace (the notify backend cannot see the descriptors a call creates)")
            }
            o.quiet = f.quiet
            o.allResults = f.allResults
            if let (p, bytes) = landlockFile {
                guard o.backend == .ptrace else {
                    throw fail("--policy \(p): a Landlock ruleset needs --backend ptrace (Landlock refusals are recorded under ptrace only)")
                }
                guard o.mode == .enforce else {
                    throw fail("--policy \(p): the kernel enforces a Landlock ruleset; it cannot be observed: add --mode enforce")
                }
                o.landlockPolicy = try loadLandlockPolicy(path: p, bytes: bytes)
            }
            let result: RunResult
            do { result = try supervise(o) } catch let e as SupervisorError where e.status == 126 && o.landlockPolicy != nil {
                throw fail(e.description + " (under --policy: the ruleset must grant execute and read_file on the program"
                           + " and on its interpreter, e.g. /lib64/ld-linux-x86-64.so.2)", status: 126)
            }
            // Read the trace back only for what needs it: the report, or the gate (judged from the trace).
            let read = (f.quiet && !f.failOnViolation) ? nil : readBack(f.output)
            if !f.quiet, let (trace, analysis) = read {
                let color = isatty(2) != 0 && getenv("NO_COLOR") == nil
                FileIO.writeAll(2, renderReport(trace, analysis: analysis, format: .text, color: color).utf8)
            }
            for w in result.withheldPrivileges {
                warn("warning: " + withheldPrivilegesNote(pid: w.pid, path: w.path, what: w.what))
            }
            if result.entered == 0 && result.interruptedBy == 0 && o.landlockPolicy == nil {
                warn("warning: \(o.policy == nil ? "capability mode" : "the policy") never began: no process reached --enter-at \(enterAt), so nothing was judged")
            }
            if result.interruptedBy != 0 { return 128 + result.interruptedBy }
            // The trace is incomplete (the error was said when it happened): captrace itself failed.
            if result.traceWriteError != nil { return 125 }
            if f.failOnViolation {
                guard let (trace, analysis) = read else {
                    throw fail("cannot read back \(f.output) to judge --fail-on-violation", status: 125)
                }
                let gate = GateVerdict(trace, analysis: analysis)
                if gate.violations > 0 {
                    for line in gate.lines { warn(line) }
                    return Status.violations
                }
            }
            return result.programStatus
        }
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
            if let p = t.header?.policy, [.oci, .systemd, .libseccomp].contains(f), t.syscallSets.isEmpty {
                throw fail("\(trace[0]) was judged by a \(p.kind) (\(p.path)), not by capability mode: --format \(format) builds on capability mode's set; see `captrace report` for what the profile refused")
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

/// One line on stderr, "captrace: " first (never buffered: the report and warnings interleave correctly).
func writeStderr(line: String) {
    var bytes = Array("captrace: ".utf8)
    bytes.append(contentsOf: line.utf8)
    bytes.append(0x0A)
    FileIO.writeAll(2, bytes)
}
