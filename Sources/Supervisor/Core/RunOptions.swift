import Landlock
import TraceModel
import Glibc
import SyscallCatalog
@_exported import enum TraceModel.Mode
@_exported import enum TraceModel.Backend

/// When capability mode begins (`--enter-at`).
public enum Trigger: Sendable, Equatable, CustomStringConvertible {
    case exec
    /// `exec:NAME`: a traced process's exec of the program whose path or base name is NAME (a wrapper's final
    /// exec, e.g. bubblewrap's of the program it sandboxes).
    case execOf(String)
    case main
    case symbol(String)
    case syscall(String)
    case sandbox

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses `exec`, `exec:NAME`, `main`, `symbol:NAME`, `syscall:NAME` or `sandbox`.
    public init(parsing s: String) throws(ParseError) {
        switch s {
        case "exec": self = .exec
        case "main": self = .main
        case "sandbox": self = .sandbox
        default:
            if s.hasPrefix("exec:") {
                let name = String(s.dropFirst(5))
                guard !name.isEmpty, !name.hasSuffix("/"), !name.contains("\0") else {
                    throw ParseError(description: "bad trigger \"\(s)\": exec:NAME needs a program's path or base name (e.g. exec:cat or exec:/usr/bin/cat)")
                }
                guard Self.executableExists(name) else {
                    throw ParseError(description: name.contains("/")
                        ? "bad trigger \"\(s)\": \(name) is not an executable file"
                        : "bad trigger \"\(s)\": no executable \"\(name)\" in PATH (name it by its path: exec:/path/to/\(name))")
                }
                self = .execOf(name)
            } else if s.hasPrefix("symbol:") {
                let name = String(s.dropFirst(7))
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "$" || $0 == "@" }) else {
                    throw ParseError(description: "bad trigger \"\(s)\": symbol:NAME needs a function name")
                }
                self = .symbol(name)
            } else if s.hasPrefix("syscall:") {
                let name = String(s.dropFirst(8))
                guard Catalog.shared.syscall(named: name) != nil else {
                    throw ParseError(description: "bad trigger \"\(s)\": unknown syscall \"\(name)\" (see `captrace syscalls`)")
                }
                self = .syscall(name)
            } else {
                throw ParseError(description: "bad trigger \"\(s)\": expected exec, exec:NAME, main, symbol:NAME, syscall:NAME or sandbox")
            }
        }
    }

    /// Whether a call of syscall `name` with these arguments is this trigger's call (syscall:NAME, or one of
    /// the sandboxing steps, prctl only for PR_SET_NO_NEW_PRIVS and PR_SET_SECCOMP).
    func matches(syscall name: String, args: [UInt64]) -> Bool {
        switch self {
        case .syscall(let n): return n == name
        case .sandbox:
            return Catalog.shared.syscall(named: name)?.sandboxStep?.matches(args) ?? false
        default: return false
        }
    }

    /// Whether `exec:NAME` names a program here: a path to an executable file, or a base name found in PATH.
    static func executableExists(_ name: String) -> Bool {
        func executable(_ p: String) -> Bool {
            var st = stat()
            return stat(p, &st) == 0 && st.st_mode & S_IFMT == S_IFREG && access(p, X_OK) == 0
        }
        if name.contains("/") { return executable(name) }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").contains { executable("\($0)/\(name)") }
    }

    /// `exec:NAME`: whether an exec'd image at `path` (as /proc/PID/exe names it, symlinks resolved) is the
    /// program NAME: NAME is its base name, or a path that is `path` itself or resolves to it (`resolved`).
    func matchesExec(path: String, resolved: (String) -> String?) -> Bool {
        guard case .execOf(let name) = self else { return false }
        if !name.contains("/") { return path.split(separator: "/").last.map(String.init) == name }
        return name == path || resolved(name) == path
    }

    public var description: String {
        switch self {
        case .exec: "exec"
        case .execOf(let n): "exec:\(n)"
        case .main: "main"
        case .sandbox: "sandbox"
        case .symbol(let n): "symbol:\(n)"
        case .syscall(let n): "syscall:\(n)"
        }
    }
}


/// Everything `captrace run` needs, already validated by the CLI.
public struct RunOptions: Sendable {
    public var argv: [String]
    public var trigger: Trigger = .main
    public var mode: Mode = .observe
    public var denyErrno: Int32 = 1
    public var denyErrnoName: String = "EPERM"
    public var backend: Backend = .ptrace
    public var stackDepth: Int = 64
    public var unwinder: String = "libdw"
    public var output: String = "captrace.jsonl"
    /// Text of a baseline allowlist (`--allow`), already read.
    public var allowlistText: String?
    public var rights = false
    /// `run --syscalls`: count every syscall of every process (a stop or notification per call).
    public var syscalls = false
    public var quiet = false
    /// Record every violation's result; by default only the first of each site and path has one (under ptrace
    /// a result costs a second stop, the syscall-exit stop).
    public var allResults = false
    /// `--policy FILE.toml`: the Landlock ruleset the program is restricted with from exec (ptrace backend). It
    /// replaces capability mode as the policy: no process enters capability mode.
    public var landlockPolicy: LandlockPolicy?
    /// `--policy FILE`: judge calls by this policy instead of capability mode (nil: capability mode).
    public var policy: RunPolicy?
    /// The process ends soon after the run (the `captrace` command line): the supervisor's objects are left to
    /// that exit instead of being taken apart one by one (the core, its tables, the unwinder's and symboliser's
    /// caches: ~20 µs at the end of every run, uprobes). Everything the run owes is written and closed before.
    public var processEndsAfterRun = false

    public init(argv: [String]) { self.argv = argv }
}

/// A Landlock ruleset to apply at exec, as resolved from a landlockconfig file.
public struct LandlockPolicy: Sendable {
    public var ruleset: Ruleset
    /// The file it came from (for messages).
    public var file: String
    /// What the trace header records (kind "landlock-ruleset", the file, its SHA-256).
    public var info: PolicyInfo
    public init(ruleset: Ruleset, file: String, info: PolicyInfo) { self.ruleset = ruleset; self.file = file; self.info = info }
}

/// The outcome of a run, for the CLI's exit status and final report.
public struct RunResult: Sendable {
    /// The traced program's status (exit code, or 128+signal); nil if it never started.
    public var programStatus: Int32
    /// Violations recorded (the CI gate judges them from the trace: `GateVerdict` in Reports).
    public var violations: Int
    /// The signal that interrupted captrace (SIGINT/SIGTERM/SIGHUP), or 0.
    public var interruptedBy: Int32
    /// How many processes reached the trigger; 0 means capability mode never began and nothing was judged.
    public var entered: Int
    /// Why the trace could not be written in full (already said on stderr), or nil.
    public var traceWriteError: String? = nil
    /// Execs whose setuid/setgid bits or file capabilities no_new_privs withheld.
    public var withheldPrivileges: [WithheldPrivileges] = []
}

/// An exec whose setuid/setgid bits or file capabilities no_new_privs withheld: the process, the program and
/// what was withheld. (A struct, not a tuple: an array of labelled tuples has its metadata made at run time, at
/// every start, when the run's result is dropped.)
public struct WithheldPrivileges: Sendable {
    public var pid: Int32
    public var path: String
    public var what: String
}

/// A failure of captrace itself (not of the program): one line for stderr, and a documented exit status.
public struct SupervisorError: Error, CustomStringConvertible {
    public let description: String
    public let status: Int32

    /// 125: captrace itself failed (bad setup, could not trace). 126: the program could not be executed.
    /// 127: the program was not found. (The same conventions as env(1), nohup(1) and timeout(1).)
    public init(_ message: String, status: Int32 = 125) {
        self.description = message
        self.status = status
    }
}
