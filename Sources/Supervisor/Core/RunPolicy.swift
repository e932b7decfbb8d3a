import CTraceShims
import Glibc
import SeccompProfiles
import SyscallCatalog
import TraceModel

/// The policy of `run --policy FILE`, replacing capability mode: from entry (`--enter-at`, by default `exec`
/// with a policy) every call it refuses is a violation, recorded with what in the policy decided it.
public enum RunPolicy: Sendable {
    /// An OCI runtime seccomp profile, resolved once for the run's capability set into a per-(ABI, number) table.
    case seccompProfile(DecisionTable, PolicyInfo)

    /// What the trace header records about the policy.
    public var info: PolicyInfo {
        switch self {
        case .seccompProfile(_, let info): return info
        }
    }

    /// The filter's traps: per ABI (`ABI.ordinal`), the names the policy may refuse.
    var traps: FilterBuilder.PolicyTraps {
        switch self {
        case .seccompProfile(let table, _): return FilterBuilder.PolicyTraps(names: ABI.allCases.map(table.trappedNames))
        }
    }
}

/// What enforce mode does with a call the policy refuses: what the kernel does for the profile's action.
enum PolicyEnforcement: Equatable {
    /// The call is not run and returns -errno (ERRNO; TRACE and NOTIFY with no tracer or listener: ENOSYS).
    case fail(Int32)
    /// The call is not run; SIGSYS goes to the calling thread; the call returns its own syscall number (TRAP:
    /// the kernel rolls the registers back, so the return register holds the number).
    case trap
    /// The process dies of SIGSYS (KILL_PROCESS, and KILL/KILL_THREAD: see `SupervisorCore.killBySIGSYS`).
    case killProcess
    case killThread
}

extension SupervisorCore {
    /// The refusal of a trapped call by the run's policy (nil: it lets the call run, or there is no policy).
    func policyRefusal(_ stop: SyscallStop) -> PolicyRefusal? {
        guard case .seccompProfile(let table, _)? = options.policy else { return nil }
        let d = table.decide(abi: stop.abi, nr: stop.nr, args: stop.args)
        guard !d.letsCallRun else { return nil }
        let source: PolicyVerdict.Source
        switch d.source {
        case .entry(let index, let name):
            source = .entry(index: index, matched: name, names: table.resolved.profile.syscalls[index].names)
        case .defaultAction: source = .defaultAction
        case .architectureNotInFilter: source = .architecture
        }
        // ERRNO's errno (TRACE's errnoRet is a message for a tracer, not what the call returns).
        let errno = d.action == .errno ? d.errnoRet.map { Errno.name(Int32(truncatingIfNeeded: $0)) ?? String($0) } : nil
        let verdict = PolicyVerdict(source: source, action: d.action.rawValue, errno: errno, conflicting: d.conflicting)
        let enforcement: PolicyEnforcement
        switch d.action {
        case .errno: enforcement = .fail(Int32(truncatingIfNeeded: d.errnoRet ?? 1))
        // No tracer holds the profile's TRACE, no agent its NOTIFY listener: the kernel answers ENOSYS.
        case .trace, .notify: enforcement = .fail(ENOSYS)
        case .trap: enforcement = .trap
        case .killProcess: enforcement = .killProcess
        case .kill, .killThread: enforcement = .killThread
        case .allow, .log: return nil
        }
        return PolicyRefusal(verdict: verdict, enforcement: enforcement)
    }

    /// Kills the process of thread `tid` as the kernel's KILL actions do: by SIGSYS. KILL_THREAD kills only the
    /// thread when others are alive; captrace cannot end one thread from outside, so it ends the process (and
    /// says so). A program that catches, blocks or ignores SIGSYS would survive a signal the kernel forces, so
    /// it gets SIGKILL instead (said too). What captrace did differently is said on stderr at the end.
    func killBySIGSYS(pid: Int32, tid: Int32, threadOnly: Bool) {
        let handled = SignalState.handles(SIGSYS, pid: pid, tid: tid)
        if threadOnly, SignalState.threadCount(pid) > 1 {
            policyNotes.insert("SCMP_ACT_KILL_THREAD in a process with several threads: captrace ended the whole process (it cannot end one thread from outside)")
        }
        if handled {
            policyNotes.insert("the program catches, blocks or ignores SIGSYS: captrace killed it with SIGKILL where the kernel would force SIGSYS")
            kill(pid, SIGKILL)
        } else {
            kill(pid, SIGSYS)
        }
    }

    /// TRAP: SIGSYS to the calling thread (the kernel forces it; captrace sends it, so a blocked or ignored SIGSYS
    /// stays so: said on stderr).
    func trapSIGSYS(pid: Int32, tid: Int32) {
        if SignalState.blocksOrIgnores(SIGSYS, pid: pid, tid: tid) {
            policyNotes.insert("SCMP_ACT_TRAP: the program blocks or ignores SIGSYS, which the kernel would force on it")
        }
        _ = ct_tgkill(pid, tid, SIGSYS)
    }
}

/// A refused call: what decided, and what enforce mode does.
struct PolicyRefusal {
    let verdict: PolicyVerdict
    let enforcement: PolicyEnforcement
}

/// Signal dispositions from /proc (SigBlk is per thread; SigIgn and SigCgt per process).
enum SignalState {
    static func masks(_ tid: Int32) -> [String: UInt64] {
        guard let s = ProcFS.read("/proc/\(tid)/status") else { return [:] }
        var out: [String: UInt64] = [:]
        for line in s.split(separator: "\n") {
            for key in ["SigBlk:", "SigIgn:", "SigCgt:", "Threads:"] where line.hasPrefix(key) {
                let v = line.dropFirst(key.count).trimmingCharacters(in: " \t")
                out[key] = key == "Threads:" ? UInt64(v) : UInt64(v, radix: 16)
            }
        }
        return out
    }

    static func bit(_ sig: Int32) -> UInt64 { 1 << UInt64(sig - 1) }

    static func handles(_ sig: Int32, pid: Int32, tid: Int32) -> Bool {
        let m = masks(tid)
        return ((m["SigBlk:"] ?? 0) | (m["SigIgn:"] ?? 0) | (m["SigCgt:"] ?? 0)) & bit(sig) != 0
    }

    static func blocksOrIgnores(_ sig: Int32, pid: Int32, tid: Int32) -> Bool {
        let m = masks(tid)
        return ((m["SigBlk:"] ?? 0) | (m["SigIgn:"] ?? 0)) & bit(sig) != 0
    }

    static func threadCount(_ pid: Int32) -> Int { Int(masks(pid)["Threads:"] ?? 1) }
}
