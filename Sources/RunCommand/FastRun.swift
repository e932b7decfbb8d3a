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
/// what ArgumentParser would parse to the same values without a message: each of run's options at most once
/// (RunFlags' options, each in `Option` below), as `--name value`, `--name=value` or `-o value`, and flags
/// `--rights`, `--syscalls`, `--all-results`, `--fail-on-violation`, `-q`/`--quiet`, then `--` or the program.
/// Anything else (help, an unknown, repeated or combined option, a missing or option-like value, no program)
/// returns nil, and `captrace` hands the command line to `captrace-cli`, where ArgumentParser parses it with its
/// own messages.
package enum FastRun {
    /// run's options as this parser knows them; `seen` is a bit set of their raw values (no Set or Dictionary:
    /// a hashed collection of a new key type costs the Swift runtime a scan of every protocol conformance in
    /// the binary at its first use, at every start).
    private enum Option: UInt8 {
        case enterAt, mode, denyErrno, backend, stackDepth, unwinder, output, allow, policy, caps
        case rights, syscalls, allResults, failOnViolation, quiet

        /// The option a spelling names (`-o` and `--output` are one option, as are `-q` and `--quiet`).
        init?(spelling: Substring) {
            switch spelling {
            case "--enter-at": self = .enterAt
            case "--mode": self = .mode
            case "--deny-errno": self = .denyErrno
            case "--backend": self = .backend
            case "--stack-depth": self = .stackDepth
            case "--unwinder": self = .unwinder
            case "--output", "-o": self = .output
            case "--allow": self = .allow
            case "--policy": self = .policy
            case "--caps": self = .caps
            case "--rights": self = .rights
            case "--syscalls": self = .syscalls
            case "--all-results": self = .allResults
            case "--fail-on-violation": self = .failOnViolation
            case "-q", "--quiet": self = .quiet
            default: return nil
            }
        }

        /// A flag takes no value; the others take one.
        var isFlag: Bool { rawValue >= Option.rights.rawValue }
    }

    /// `args`: the command line after `run`. The options and the program's argv, or nil (ArgumentParser decides).
    /// Options taking a value: `stack-depth` takes the next argument whatever it looks like (RunFlags'
    /// `.unconditional`), the others refuse a value that starts with "-" (ArgumentParser: missing value).
    package static func parse(_ args: ArraySlice<String>) -> (RunArguments, [String])? {
        var a = RunArguments()
        var seen: UInt32 = 0
        var i = args.startIndex
        while i < args.endIndex {
            let arg = args[i]
            if arg == "--" { i += 1; break }
            if !arg.hasPrefix("-") || arg == "-" { break }
            var name = arg[...], value: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = arg[..<eq]
                value = String(arg[arg.index(after: eq)...])
                guard !value!.isEmpty else { return nil }
            }
            guard let option = Option(spelling: name), seen & 1 << option.rawValue == 0 else { return nil }
            seen |= 1 << option.rawValue
            if option.isFlag {
                guard value == nil else { return nil }  // `--rights=x`: ArgumentParser's message
                switch option {
                case .rights: a.rights = true
                case .syscalls: a.syscalls = true
                case .allResults: a.allResults = true
                case .failOnViolation: a.failOnViolation = true
                default: a.quiet = true
                }
                i += 1
                continue
            }
            if value == nil {
                guard args.index(after: i) < args.endIndex else { return nil }
                i += 1
                value = args[i]
            }
            let v = value!
            if option != .stackDepth && v.hasPrefix("-") { return nil }
            switch option {
            case .enterAt: a.enterAt = v
            case .mode: a.mode = v
            case .denyErrno: a.denyErrno = v
            case .backend: a.backend = v
            case .stackDepth:
                guard let n = Int(v) else { return nil }
                a.stackDepth = n
            case .unwinder: a.unwinder = v
            case .output: a.output = v
            case .policy: a.policy = v
            case .caps: a.caps = v
            default: a.allow = v
            }
            i += 1
        }
        guard i < args.endIndex else { return nil }  // no program: ArgumentParser's path says so
        return (a, Array(args[i...]))
    }
}
