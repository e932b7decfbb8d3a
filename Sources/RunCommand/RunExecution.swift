import Baselines
import CapabilityPolicy
import SyscallCatalog
import Glibc
import Reports
import Supervisor
import TraceModel

/// `captrace run`.
package enum RunCommand {
    /// Runs `run` with its options given as values (from ArgumentParser, or from `FastRun`'s parse of a plain
    /// command line) and the program's argv: the status captrace exits with.
    package static func execute(_ f: RunArguments, argv: () throws -> [String]) throws -> Int32 {
        try statusOf {
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
            o.processEndsAfterRun = true  // run by captrace and captrace-cli, which exit after it
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
