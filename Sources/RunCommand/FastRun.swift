/// The values of `run`'s options (what `RunFlags` parses), so that `run` can be started without
/// ArgumentParser. Defaults are RunFlags' (a test parses an empty command line both ways and compares).
package struct RunArguments: Equatable {
    package var enterAt: String?
    package var policy: String?
    package var caps: String?
    package var mode = "observe"
    package var denyErrno: String?
    package var backend = "ptrace"
    package var stackDepth = 64
    package var unwinder = "libdw"
    package var output = "captrace.jsonl"
    package var allow: String?
    package var rights = false
    package var syscalls = false
    package var allResults = false
    package var failOnViolation = false
    package var quiet = false

    package init() {}
}

/// A parser for the plain command lines of `captrace run` (the common case: a start-up cost of a tracer run
/// thousands of times over a test suite). ArgumentParser builds its model of the command by reflection, and its
/// type-metadata instantiation was ~14% of captrace's CPU time for `run -- /bin/true`. This parser accepts only
/// what ArgumentParser would parse to the same values without a message: each of run's options at most once,
/// (RunFlags' options, each in `valued` or `flags` below) as `--name value`, `--name=value` or `-o value`, and flags `--rights`, `--syscalls`, `--all-results`,
/// `--fail-on-violation`, `-q`/`--quiet`, then `--` or the program. Anything else (help, an unknown, repeated
/// or combined option, a missing or option-like value, no program) returns nil, and `captrace` hands the command
/// line to `captrace-cli`, where ArgumentParser parses it with its own messages.
package enum FastRun {
    /// Options taking a value, by their spellings; `stack-depth` takes the next argument whatever it looks like
    /// (RunFlags' `.unconditional`), the others refuse a value that starts with "-" (ArgumentParser: missing value).
    private static let valued: [String: String] = [
        "--enter-at": "enter-at", "--mode": "mode", "--deny-errno": "deny-errno", "--backend": "backend",
        "--stack-depth": "stack-depth", "--unwinder": "unwinder", "--output": "output", "-o": "output",
        "--allow": "allow", "--policy": "policy", "--caps": "caps",
    ]
    private static let flags: [String: String] = [
        "--rights": "rights", "--syscalls": "syscalls", "--all-results": "all-results", "--fail-on-violation": "fail-on-violation",
        "-q": "quiet", "--quiet": "quiet",
    ]

    /// `args`: the command line after `run`. The options and the program's argv, or nil (ArgumentParser decides).
    package static func parse(_ args: ArraySlice<String>) -> (RunArguments, [String])? {
        var a = RunArguments()
        var seen: Set<String> = []
        var i = args.startIndex
        while i < args.endIndex {
            let arg = args[i]
            if arg == "--" { i += 1; break }
            if !arg.hasPrefix("-") || arg == "-" { break }
            if let f = flags[arg] {
                guard seen.insert(f).inserted else { return nil }
                switch f {
                case "rights": a.rights = true
                case "syscalls": a.syscalls = true
                case "all-results": a.allResults = true
                case "fail-on-violation": a.failOnViolation = true
                default: a.quiet = true
                }
                i += 1
                continue
            }
            var name = arg, value: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                value = String(arg[arg.index(after: eq)...])
                guard !value!.isEmpty else { return nil }
            }
            guard let key = valued[name], seen.insert(key).inserted else { return nil }
            if value == nil {
                guard args.index(after: i) < args.endIndex else { return nil }
                i += 1
                value = args[i]
            }
            let v = value!
            if key != "stack-depth" && v.hasPrefix("-") { return nil }
            switch key {
            case "enter-at": a.enterAt = v
            case "mode": a.mode = v
            case "deny-errno": a.denyErrno = v
            case "backend": a.backend = v
            case "stack-depth":
                guard let n = Int(v) else { return nil }
                a.stackDepth = n
            case "unwinder": a.unwinder = v
            case "output": a.output = v
            case "policy": a.policy = v
            case "caps": a.caps = v
            default: a.allow = v
            }
            i += 1
        }
        guard i < args.endIndex else { return nil }  // no program: ArgumentParser's path says so
        return (a, Array(args[i...]))
    }
}
