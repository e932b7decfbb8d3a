// End-to-end harness: builds the C fixtures in Fixtures/run with gcc, runs the built `captrace` executable on
// them as a subprocess, and parses the trace it wrote. Tests never wait for arbitrary children (`waitpid(-1)`)
// in this process: every tracee belongs to a captrace subprocess.
import Foundation
import Synchronization
import Testing
import TraceModel

#if canImport(Glibc)
import Glibc
#endif

/// The backends every run test is executed with. The notify backend joins this list when it lands.
let backends = ["ptrace", "notify"]

/// The trigger the namespace fixtures name: their `cap_enter()` (Fixtures/run/fixture.h).
let capEnter = "symbol:cap_enter"

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum Harness {
    /// The repository (found from this file's path).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Fixtures/run in the source tree.
    static let fixturesDir: URL = repoRoot.appendingPathComponent("Fixtures/run")

    /// A directory for this test process's builds and work directories. Those left by earlier test processes
    /// that no longer exist are removed first.
    static let base: URL = {
        let tmp = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        where name.hasPrefix("captrace-it-") {
            if let pid = Int32(name.dropFirst("captrace-it-".count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
            }
        }
        let u = tmp.appendingPathComponent("captrace-it-\(getpid())")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }()

    /// The `captrace` executable: $CAPTRACE if set, else next to the test binary (`<scratch>/debug/captrace`).
    static func captrace() throws -> String {
        if let env = ProcessInfo.processInfo.environment["CAPTRACE"], !env.isEmpty { return env }
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let arg0 = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: arg0).standardizedFileURL.deletingLastPathComponent())
        }
        for dir in candidates {
            // The xctest bundle may be a directory on some layouts: walk up to three levels.
            var d = dir
            for _ in 0..<3 {
                let p = d.appendingPathComponent("captrace").path
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue,
                   FileManager.default.isExecutableFile(atPath: p) { return p }
                d = d.deletingLastPathComponent()
            }
        }
        throw HarnessError("the captrace executable was not found next to the test binary (looked in "
            + candidates.map(\.path).joined(separator: ", ") + "); build it first: swift build --build-tests")
    }

    private static let builds = Mutex<[String: String]>([:])

    /// Compiles `sources` (files in Fixtures/run) with gcc and `flags` into an executable (or library) named
    /// `name`; cached per sources+flags for the life of the test process. Returns the output's path.
    static func build(_ sources: [String], flags: [String] = [], name: String? = nil) throws -> String {
        let key = (sources + ["|"] + flags + ["|", name ?? ""]).joined(separator: " ")
        return try builds.withLock { cache throws(HarnessError) -> String in
            if let p = cache[key] { return p }
            let dir = base.appendingPathComponent("bin/\(fnv(key))")
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let outName = name ?? URL(fileURLWithPath: sources[0]).deletingPathExtension().lastPathComponent
            let out = dir.appendingPathComponent(outName).path
            let args = ["-O1", "-g", "-Wall", "-Werror", "-o", out]
                + sources.map { fixturesDir.appendingPathComponent($0).path } + flags
            let r: Subprocess.Result
            do { r = try Subprocess.run(["/usr/bin/gcc"] + args, timeout: 120) } catch {
                throw HarnessError("gcc could not run: \(error)")
            }
            guard r.status == 0 else {
                throw HarnessError("gcc \(args.joined(separator: " ")) failed (\(r.status)):\n\(r.stderr)")
            }
            cache[key] = out
            return out
        }
    }

    /// A build of one fixture source (Fixtures/run/NAME.c) with extra gcc flags.
    static func fixture(_ name: String, _ flags: String...) throws -> String {
        try build(["\(name).c"], flags: flags + ["-lpthread", "-ldl"],
                  name: flags.isEmpty ? name : "\(name)-\(fnv(flags.joined(separator: " ")))")
    }

    /// Copies an executable with cp(1): the copy is written by another process, so no program a concurrent test
    /// forks meanwhile inherits it open for writing (its exec here would then fail with ETXTBSY, "Text file busy").
    static func copyExecutable(_ source: String, to destination: String) throws {
        let r = try Subprocess.run(["/bin/cp", source, destination], timeout: 60)
        guard r.status == 0 else { throw HarnessError("cp \(source) \(destination): \(r.stderr)") }
    }

    static func fnv(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    /// Runs `captrace run --backend B [options] -o TRACE -- program...` in `work` and parses the trace.
    /// `wrapper` runs captrace under another program (e.g. strace), whose exit status is then the result.
    static func run(_ program: [String], backend: String, options: [String] = [], in work: Workdir,
                    timeout: Double = 60, wrapper: [String] = []) throws -> RunResult {
        try start(program, backend: backend, options: options, in: work, wrapper: wrapper).finish(timeout: timeout)
    }

    /// Starts captrace without waiting for it (for tests that signal it mid-run).
    static func start(_ program: [String], backend: String, options: [String] = [], in work: Workdir,
                      wrapper: [String] = []) throws -> Running
    {
        let trace = work.path("trace.jsonl")
        let args = ["run", "--backend", backend] + options + ["-o", trace, "--"] + program
        let p = try Subprocess.start(wrapper + [try captrace()] + args, cwd: work.url.path,
                                     outputPrefix: work.path("captrace"))
        return Running(process: p, argv: args, trace: trace, work: work)
    }
}

/// A captrace run in progress.
struct Running {
    let process: Subprocess
    let argv: [String]
    let trace: String
    let work: Workdir

    var pid: Int32 { process.pid }

    /// The trace's text so far (empty if it does not exist yet).
    func traceSoFar() -> String { (try? String(contentsOfFile: trace, encoding: .utf8)) ?? "" }

    func finish(timeout: Double = 60) throws -> RunResult {
        let r = process.wait(timeout: timeout)
        let text = try? String(contentsOfFile: trace, encoding: .utf8)
        var parsed: Trace?
        var parseError: String?
        if let text {
            do { parsed = try TraceReader.parse(text) } catch { parseError = error.description }
        }
        return RunResult(argv: argv, status: r.status, timedOut: r.timedOut, stdout: r.stdout, stderr: r.stderr,
                         traceExists: text != nil, traceText: text ?? "", trace: parsed, traceError: parseError,
                         cwd: work.url.path)
    }
}

/// The outcome of one `captrace run`: exit status, the program's and captrace's output, the parsed trace.
struct RunResult {
    let argv: [String]
    let status: Int32
    let timedOut: Bool
    let stdout: String
    let stderr: String
    let traceExists: Bool
    let traceText: String
    let trace: Trace?
    let traceError: String?
    /// The work directory the program ran in (its markers are `<cwd>/mark-TAG`).
    let cwd: String

    var violations: [ViolationEvent] { trace?.violations ?? [] }
    var enters: [EnterEvent] { trace?.enters ?? [] }
    var processes: [ProcessEvent] { trace?.processes ?? [] }
    var summary: SummaryEvent? { trace?.summary }

    /// The pid of the program captrace spawned (its `spawn` process event).
    var programPid: Int32? { processes.first { $0.event == .spawn }?.pid }

    /// Violations whose path is `path`.
    func violations(path: String) -> [ViolationEvent] { violations.filter { $0.path == path } }

    /// The marker tags (Fixtures/run/fixture.h) in violation paths, in order of recording.
    var marks: [String] {
        let prefix = cwd + "/mark-"
        return violations.compactMap { v in
            guard let p = v.path, p.hasPrefix(prefix) else { return nil }
            return String(p.dropFirst(prefix.count))
        }
    }

    /// Violations naming marker TAG.
    func mark(_ tag: String) -> [ViolationEvent] { violations(path: cwd + "/mark-" + tag) }

    /// Violations that are not marker lookups.
    var nonMarkViolations: [ViolationEvent] {
        violations.filter { !($0.path?.hasPrefix(cwd + "/mark-") ?? false) }
    }

    /// `key=value` pairs the fixture printed on stdout (space or line separated).
    func value(_ key: String) -> String? {
        for tok in stdout.split(whereSeparator: { $0 == "\n" || $0 == " " }) {
            let parts = tok.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == key { return String(parts[1]) }
        }
        return nil
    }

    func int(_ key: String) -> Int? { value(key).flatMap { Int($0) } }

    /// Whether the run ended normally with a well-formed, complete trace.
    var traceIsComplete: Bool {
        guard let t = trace, traceError == nil else { return false }
        if case .summary = t.events.last { return t.warnings.isEmpty }
        return false
    }

    /// Everything a failing expectation should show.
    var digest: String {
        var s = "captrace \(argv.joined(separator: " "))\nexit status \(status)\(timedOut ? " (TIMED OUT, killed)" : "")\n"
        if let e = traceError { s += "trace error: \(e)\n" }
        if !traceExists { s += "no trace file\n" }
        if let w = trace?.warnings, !w.isEmpty { s += "trace warnings: \(w)\n" }
        s += "enters: " + enters.map { "\($0.trigger) pid \($0.pid) tid \($0.tid)" }.joined(separator: "; ") + "\n"
        s += "violations (\(violations.count)):\n"
        for v in violations.prefix(40) { s += "  " + Self.describe(v) + "\n" }
        if violations.count > 40 { s += "  ...\n" }
        s += "stdout: \(stdout.prefix(800))\nstderr: \(stderr.prefix(1500))"
        return s
    }

    static func describe(_ v: ViolationEvent) -> String {
        var s = "#\(v.seq) pid \(v.pid) tid \(v.tid) \(v.abi.rawValue) \(v.syscall)(\(v.nr)) \(v.namespace.rawValue)/\(v.rule.rawValue)"
        if let p = v.path { s += " path=\(p)" }
        if let a = v.address { s += " address=\(a)" }
        s += " \(v.action.rawValue)"
        if let r = v.result { s += " result=\(r)" }
        if let e = v.errno { s += " errno=\(e)" }
        return s
    }
}

/// A per-test working directory under the harness's base; removed when the test lets go of it
/// (kept when CAPTRACE_KEEP_TMP is set, for debugging).
final class Workdir: Sendable {
    let url: URL

    init(_ label: String = "t") throws {
        let template = Harness.base.appendingPathComponent("\(label)-XXXXXX").path
        var buf = Array(template.utf8CString)
        guard let p = mkdtemp(&buf) else { throw HarnessError("mkdtemp failed for \(template)") }
        // Resolve symlinks so paths compare with what the kernel reports.
        url = URL(fileURLWithPath: String(cString: p)).resolvingSymlinksInPath()
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit {
        if ProcessInfo.processInfo.environment["CAPTRACE_KEEP_TMP"] == nil {
            try? FileManager.default.removeItem(at: url)
        }
    }
}

/// A child process with stdout and stderr captured in files (no pipes to drain), waited for with a timeout.
///
/// Spawned with posix_spawn rather than Foundation's Process: Process hands the child the signal mask of the
/// dispatch thread that spawns it (SIGINT and others blocked), which the traced program would inherit. Here the
/// child starts with an empty mask and default dispositions, as from a shell. Waited for by its own pid only.
final class Subprocess: @unchecked Sendable {
    struct Result {
        let status: Int32
        let timedOut: Bool
        let stdout: String
        let stderr: String
    }

    let pid: Int32
    let outPath: String
    let errPath: String
    private var reaped: Int32?

    private init(pid: Int32, outPath: String, errPath: String) {
        self.pid = pid; self.outPath = outPath; self.errPath = errPath
    }

    static func start(_ argv: [String], cwd: String? = nil, outputPrefix: String? = nil) throws -> Subprocess {
        let prefix = outputPrefix ?? Harness.base.appendingPathComponent("proc-\(UUID().uuidString)").path
        let out = prefix + ".stdout", err = prefix + ".stderr"
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var mask = sigset_t(), defaults = sigset_t()
        sigemptyset(&mask)
        sigemptyset(&defaults)
        for sig in 1..<32 where sig != SIGKILL && sig != SIGSTOP { sigaddset(&defaults, Int32(sig)) }
        posix_spawnattr_setsigmask(&attr, &mask)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // `env -C DIR` changes directory and execs the program in place (same pid).
        let full = (cwd.map { ["/usr/bin/env", "-C", $0, "--"] } ?? []) + argv
        var cargs: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        // This environment, but the filter cache in the harness's directory rather than the user's.
        var env: [UnsafeMutablePointer<CChar>?] = [strdup("XDG_CACHE_HOME=\(Harness.base.path)/cache")]
        var e = environ
        while let p = e.pointee {
            if strncmp(p, "XDG_CACHE_HOME=", 15) != 0 { env.append(strdup(p)) }
            e += 1
        }
        env.append(nil)
        defer { for p in env { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, full[0], &fa, &attr, &cargs, env)
        guard rc == 0 else { throw HarnessError("posix_spawn \(full[0]): \(String(cString: strerror(rc)))") }
        return Subprocess(pid: pid, outPath: out, errPath: err)
    }

    static func run(_ argv: [String], cwd: String? = nil, timeout: Double = 60) throws -> Result {
        let s = try start(argv, cwd: cwd)
        let r = s.wait(timeout: timeout)
        try? FileManager.default.removeItem(atPath: s.outPath)
        try? FileManager.default.removeItem(atPath: s.errPath)
        return r
    }

    /// Waits up to `timeout` seconds; on timeout kills the process (SIGKILL) and reports it.
    /// The status is the exit code, or 128+N when killed by signal N.
    func wait(timeout: Double) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var status: Int32 = 0
        if reaped == nil {
            while true {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno != EINTR) { break }
                if Date() > deadline {
                    timedOut = true
                    kill(pid, SIGKILL)
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    break
                }
                usleep(5_000)
            }
            let sig = status & 0x7f
            reaped = sig == 0 ? (status >> 8) & 0xff : 128 + sig
        }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Result(status: reaped ?? -1, timedOut: timedOut, stdout: out, stderr: err)
    }
}

/// The state letter of /proc/PID/stat ("R", "S", "t", "T", "Z"...), nil when the process does not exist.
func procState(_ pid: Int32) -> String? {
    guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = s.lastIndex(of: ")") else { return nil }
    let rest = s[s.index(after: close)...].split(separator: " ")
    return rest.first.map(String.init)
}

/// The executable of a live process, nil when gone (or a zombie).
func procExe(_ pid: Int32) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") }

/// The processes among `pids` still running `executable` (any state but zombie), with their states, after
/// giving init up to two seconds to reap reparented children. Kills what it finds, so a failure leaves nothing.
func leftBehind(_ pids: Set<Int32>, executable: String) -> [(pid: Int32, state: String)] {
    var left: [(pid: Int32, state: String)] = []
    for _ in 0..<100 {
        left = pids.compactMap { pid in
            guard let state = procState(pid), state != "Z", state != "X" else { return nil }
            return procExe(pid) == executable ? (pid, state) : nil
        }
        if left.isEmpty { break }
        usleep(20_000)
    }
    for p in left { kill(p.pid, SIGKILL) }
    return left
}

/// Waits (up to `seconds`) until the trace being written at `run` holds more than `n` violation lines.
func waitForViolations(_ run: Running, moreThan n: Int, seconds: Double = 30) {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if run.traceSoFar().components(separatedBy: "\"type\":\"violation\"").count > n + 1 { return }
        usleep(20_000)
    }
}
