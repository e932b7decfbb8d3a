import CTraceShims
import Glibc
import SeccompBPF
import TraceModel
import Unwinding

/// Per-process and per-thread state the supervisor owns. No globals: one table per run.

/// A thread group (a process). Capability mode belongs here: shared by all threads, entered once, never left.
final class ProcessState {
    let pid: Int32
    var ppid: Int32
    var capabilityMode = false
    var threads: Set<Int32> = []
    var exe: String?
    /// Trigger breakpoints planted in this address space (address -> original byte).
    var breakpoints: [UInt64: Breakpoint] = [:]
    /// Addresses of breakpoints already removed: a thread that hit one just before removal is rewound, not signalled.
    var retiredBreakpoints: Set<UInt64> = []
    /// Modules already scanned for the trigger symbol (by path + start address).
    var scannedModules: Set<String> = []
    /// Seccomp filters the process installed itself (oldest first; inherited across fork, kept across exec).
    /// Non-empty: under ptrace its threads stop at every syscall entry, where the filters are run (a call they
    /// refuse never reaches captrace's own filter). Kept per process: a filter installed by one thread without
    /// TSYNC is taken to apply to its siblings too (a refusal with ERRNO is recorded only when the call's
    /// result shows it).
    var seccompFilters: [(id: Int, program: [Instruction])] = []
    /// True once the program has exec'd for the first time (the initial execve of the spawned child is not the program's).
    var execed = false
    /// The rulesets it builds and the Landlock domain in effect (ptrace backend; LandlockTracker).
    var landlock = LandlockState()
    /// A pidfd of the process (pidfd_getfd of its directories, BeneathResolver), opened on first use; -1 until
    /// then or when it cannot be opened. Closed when the process is removed from the table.
    private(set) var pidfd: Int32 = -1
    /// `run --syscalls`: every call the process makes, counted (nil without the option).
    var syscalls: SyscallCounter?

    /// `pidfd`, opening it if needed.
    func openPidfd() -> Int32 {
        if pidfd < 0 { pidfd = max(-1, ct_pidfd_open(pid)) }
        return pidfd
    }

    func closePidfd() {
        if pidfd >= 0 { close(pidfd) }
        pidfd = -1
    }

    init(pid: Int32, ppid: Int32) {
        self.pid = pid
        self.ppid = ppid
    }
}

struct Breakpoint {
    enum Purpose { case trigger, rendezvous, libcStartMain }
    var original: UInt8
    var purpose: Purpose
}

/// What the loop knows about a violation between the seccomp stop and the exit stop.
struct ViolationEventDraft {
    var event: TraceModel.ViolationEvent
    /// The stack as walked, when its frames and site are made on the recording thread (`Recorder.draft`): then
    /// `event.stack` is empty and `event.site` not named yet.
    var rawStack: RawStack? = nil
}

final class ThreadState {
    let tid: Int32
    var pid: Int32
    /// Set at a seccomp stop whose exit we want to see (result recording, syscall/sandbox triggers).
    var pendingViolation: ViolationEventDraft?
    /// A trigger call (syscall:NAME, sandbox) is waiting for its exit stop.
    var pendingTrigger = false
    /// `run --rights`: a descriptor-creating call waiting for its result (RightsRecorder).
    var pendingFDOp: PendingFDOp?
    /// A landlock_* call, or a call Landlock governs in a restricted process, waiting for its result.
    var pendingLandlock: PendingLandlock?
    /// A seccomp filter being installed (read at the call), recorded at its exit stop if the call succeeded.
    var pendingFilter: (syscall: String, flags: UInt64, program: [Instruction])?
    /// A call the process's own filters refuse with ERRNO, recorded at its exit stop when the result shows it.
    var pendingRefusal: RefusalEvent?
    /// True between a seccomp stop resumed with PTRACE_SYSCALL and its syscall-exit stop.
    var awaitingExit = false
    /// A brand-new task's first stop (auto-attach) has not been seen yet.
    var sawFirstStop = false
    /// The current directory, cached for joining AT_FDCWD paths (see PtraceSupervisor.currentDirectory).
    var cwd: String?
    /// A chdir/fchdir/unshare/setns is in flight: forget the directory again at its exit stop.
    var forgetCwdAtExit = false

    init(tid: Int32, pid: Int32) {
        self.tid = tid
        self.pid = pid
    }
}

final class ProcessTable {
    private(set) var processes: [Int32: ProcessState] = [:]
    private(set) var threads: [Int32: ThreadState] = [:]
    /// Every process ever seen (for the summary).
    private(set) var processCount = 0

    func process(_ pid: Int32) -> ProcessState? { processes[pid] }
    func thread(_ tid: Int32) -> ThreadState? { threads[tid] }

    @discardableResult
    func addProcess(pid: Int32, ppid: Int32) -> ProcessState {
        if let p = processes[pid] { return p }
        let p = ProcessState(pid: pid, ppid: ppid)
        processes[pid] = p
        processCount += 1
        return p
    }

    @discardableResult
    func addThread(tid: Int32, pid: Int32) -> ThreadState {
        if let t = threads[tid] { t.pid = pid; processes[pid]?.threads.insert(tid); return t }
        let t = ThreadState(tid: tid, pid: pid)
        threads[tid] = t
        processes[pid]?.threads.insert(tid)
        return t
    }

    func removeThread(_ tid: Int32) {
        guard let t = threads.removeValue(forKey: tid) else { return }
        processes[t.pid]?.threads.remove(tid)
    }

    func removeProcess(_ pid: Int32) {
        guard let p = processes.removeValue(forKey: pid) else { return }
        p.closePidfd()
        for t in p.threads { threads.removeValue(forKey: t) }
    }

    /// An exec by a thread other than the leader: the kernel gave it the leader's tid (`leader`, whose state
    /// takes over what the exec'ing thread was waiting for) and the thread's former tid is gone.
    func execTookOver(former: Int32, by leader: ThreadState) {
        guard former != leader.tid, let old = threads[former] else { return }
        if leader.pendingViolation == nil { leader.pendingViolation = old.pendingViolation }
        leader.awaitingExit = leader.awaitingExit || old.awaitingExit
        removeThread(former)
    }

    /// Whether `tid` is a thread of process `pid` (the caller itself counts).
    func isThread(_ tid: Int32, ofProcess pid: Int32) -> Bool {
        if tid == pid { return true }
        return threads[tid]?.pid == pid
    }

    var isEmpty: Bool { threads.isEmpty }
}
