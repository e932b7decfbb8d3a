import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// The seccomp user-notification backend (`--backend notify`): the same catalog, filter plan, decoder,
/// classifier and trace writer as the ptrace backend; only the mechanism differs.
///
/// Launch. captrace forks a *keeper* (C, Sources/CTraceShims/notify.c), a PR_SET_CHILD_SUBREAPER that forks the
/// program. The program installs the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and sends the listener to
/// captrace before it execs; captrace serves notifications from the first one on (the program's own execve is
/// trapped: waiting for the exec before serving would deadlock). Without ptrace there is no EXITKILL: the keeper
/// holds a pipe whose other end only captrace has; when captrace closes it or dies (even by SIGKILL), the keeper
/// SIGKILLs every descendant, round after round, until none is left (orphans of killed processes come back to
/// it as their subreaper). A pid namespace would do the same, but it would change every pid the program sees, and
/// the trace's pids would no longer be the program's own. Window: between captrace's death and the keeper's
/// kill (a wake-up and a /proc walk) trapped calls fail with ENOSYS.
///
/// The loop. Several workers block in SECCOMP_IOCTL_NOTIF_RECV at once (the listener is shared), so a thread
/// waiting for its answer does not wait behind another thread's stack walk more than the shared trace writer and
/// unwinder require (one lock around them). Per notification: read the arguments (the Decoder), then check
/// NOTIF_ID_VALID after every read of the program's memory, classify, and answer: CONTINUE, or the deny errno in
/// enforce mode. A violation is written only once its answer was accepted: a notification withdrawn in between
/// (a signal, PTRACE_INTERRUPT) comes back as a new one and is recorded then, so nothing is counted twice.
/// The filter runs with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP where the kernel has it (6.6+).
///
/// Results are absent (the CONTINUE answer does not come back with the call's result). Stacks are unwound from
/// the sp and pc of /proc/TID/syscall while the thread waits for its answer (best effort, see StackWalker: a
/// caller whose frame can only be found through another register ends the stack early).
///
/// Triggers. `exec`: the exec of the program's first execve is seen at its next trapped call (its stack is
/// elsewhere then), and capability mode begins before that call is judged: nothing trapped ran in between, so
/// this is the first instruction as far as violations go. `syscall:NAME` and `sandbox`: a notification cannot
/// wait for the call's result, so "right after the first completed call" becomes "the moment captrace lets the
/// first such call proceed": every later call of that process is judged in capability mode, including calls
/// of its other threads that reach captrace while the trigger call is still running, and a sandboxing step that
/// then fails still counts. `main`, `symbol:NAME`: see NotifyTracer (ptrace until the trigger, then detached).
///
/// Process events: `fork` and `thread` are written when a process or thread is first placed (its first trapped
/// call, or when a descendant's call reveals it), `exec` when the new image is first seen, `exit` from a pidfd
/// (with the status when the zombie could still be read; the program's own status always, from the keeper).
public final class NotifySupervisor: @unchecked Sendable {
    let options: RunOptions
    let enforce: Bool
    let recorder: Recorder
    let lock = PosixMutex()

    // Guarded by `lock`.
    let table = ProcessTable()
    var extra: [Int32: NotifyProcess] = [:]
    /// Allowed calls refused in enforce mode because they could not be confined (NotifyEnforcement), by name.
    var unconfined: [String: Int] = [:]
    var watchList: [(pid: Int32, pidfd: Int32)] = []
    var rootExit: (status: Int32, signal: String?)?

    // Set once at launch.
    var launch = ct_notify_launch()
    var listener: Int32 = -1
    var rootPid: Int32 = 0
    var syncWakeUp = false
    var interruptedBy: Int32 = 0
    let stopping = NotifyFlag()
    var wakeFd: Int32 = -1

    /// The ptrace phase of the `main` and `symbol:NAME` triggers (main thread only).
    var tracer: NotifyTracer?

    public init(options: RunOptions) throws(SupervisorError) {
        self.options = options
        self.enforce = options.mode == .enforce
        self.recorder = try Recorder(options: options)
    }

    var usesBreakpoints: Bool {
        switch options.trigger {
        case .main, .symbol: return true
        default: return false
        }
    }

    public func run() throws(SupervisorError) -> RunResult {
        let path = try ProgramPath.resolve(options.argv[0])
        var bpf: ct_bpf
        do {
            bpf = try FilterBuilder.build(trigger: options.trigger, enforce: enforce, action: .notify)
        } catch {
            throw SupervisorError("cannot build the seccomp filter: \(error)")
        }
        defer { ct_bpf_free(&bpf) }

        // The workers (created below, they inherit it) stay on the CPU captrace started on; the program gets its
        // own affinity back (ct_child_prepare). See CPUAffinity. CAPTRACE_NO_PIN=1 turns it off.
        CPUAffinity.pinTracer()  // before the recording thread starts: it keeps off this CPU
        try recorder.open()
        // Opens done on the program's behalf apply the program's umask themselves.
        umask(0)
        ct_install_interrupt_handlers()

        let rc = withCStrings(options.argv) { argv in
            withCStrings(ProgramPath.environment()) { envp in
                ct_notify_spawn(path, argv, envp, &bpf, &launch)
            }
        }
        guard rc == 0 else {
            recorder.discard()
            throw SupervisorError("cannot start \(options.argv[0]): \(String(cString: strerror(-rc)))")
        }
        rootPid = launch.program
        ct_set_root_pid(rootPid)
        lock.locked {
            let p = table.addProcess(pid: rootPid, ppid: launch.keeper)
            table.addThread(tid: rootPid, pid: rootPid)
            extra[rootPid] = NotifyProcess(pidfd: ct_pidfd_open(rootPid), isRoot: true)
            _ = p
            recorder.processEvent(.spawn, pid: rootPid, tid: rootPid, ppid: launch.keeper, capabilityMode: false,
                                  path: path)
        }
        if usesBreakpoints {
            let t = NotifyTracer(self)
            tracer = t
            if let err = t.seizeRoot() {
                abandonLaunch()
                throw SupervisorError("cannot trace \(options.argv[0]) until its trigger: \(err)")
            }
        }
        listener = ct_notify_go(&launch)
        guard listener >= 0 else {
            let failure = readExecError()
            abandonLaunch()
            if let failure {
                throw SupervisorError("cannot execute \(options.argv[0]): \(String(cString: strerror(failure)))",
                                      status: failure == ENOENT ? 127 : 126)
            }
            throw SupervisorError("cannot receive the seccomp listener: \(String(cString: strerror(-listener)))")
        }
        syncWakeUp = ct_notif_set_sync_wakeup(listener) == 0
        wakeFd = ct_eventfd()

        // Workers and the exit watcher must not take SIGINT/SIGTERM/SIGHUP: the main thread handles them.
        let workers = PosixThreads.withInterruptsBlocked {
            var ts: [pthread_t] = []
            for _ in 0..<Self.workerCount { ts.append(PosixThreads.start { [self] in worker() }) }
            ts.append(PosixThreads.start { [self] in exitWatcher() })
            return ts
        }

        mainLoop()

        // Every process is gone: the listener hangs up and the workers return.
        stopping.set()
        ct_eventfd_signal(wakeFd)
        for t in workers { pthread_join(t, nil) }

        let execFailure = readExecError()
        close(launch.exec_err_fd)
        close(launch.info_fd)
        if launch.life_fd >= 0 { close(launch.life_fd) }
        close(listener)
        close(wakeFd)
        if let failure = execFailure {
            recorder.discard()
            throw SupervisorError("cannot execute \(options.argv[0]): \(String(cString: strerror(failure)))",
                                  status: failure == ENOENT ? 127 : 126)
        }
        return lock.locked {
            // Processes whose exit was not seen (their pidfd could not be opened).
            for (pid, p) in table.processes where pid != rootPid {
                recorder.processEvent(.exit, pid: pid, tid: pid, ppid: p.ppid, capabilityMode: p.capabilityMode)
            }
            for (_, x) in extra where x.pidfd >= 0 { close(x.pidfd) }
            extra = [:]
            let status = rootExit?.status ?? 125
            recorder.finish(exitStatus: status, processes: table.processCount, interrupted: interruptedBy != 0)
            if !unconfined.isEmpty {
                // Not violations, so not in the trace: say here that the program saw them fail.
                let list = unconfined.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
                printError("captrace: warning: enforce mode under --backend notify refused \(unconfined.values.reduce(0, +)) "
                    + "call(s) that capability mode allows but that could not be confined against a racing thread "
                    + "(\(list)); --backend ptrace enforces them precisely")
            }
            return RunResult(programStatus: status, violations: recorder.violationCount,
                             interruptedBy: interruptedBy,
                         entered: recorder.enterCount, traceWriteError: recorder.writeError)
        }
    }

    static let workerCount: Int = {
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return min(4, max(2, n))
    }()

    /// Kills what was started and reaps the keeper (the launch failed before the loop).
    func abandonLaunch() {
        if launch.life_fd >= 0 { close(launch.life_fd); launch.life_fd = -1 }
        kill(rootPid, SIGKILL)
        var st: Int32 = 0
        while true {
            let r = ct_wait(-1, &st, 0)
            if r == launch.keeper || (r < 0 && r != -EINTR) { break }
        }
        recorder.discard()
    }

    func readExecError() -> Int32? {
        var e: Int32 = 0
        let n = Glibc.read(launch.exec_err_fd, &e, 4)
        return n == 4 ? e : nil
    }

    // MARK: - The main thread: waits for the keeper (and, before the trigger, drives ptrace)

    func mainLoop() {
        var status: Int32 = 0
        while true {
            if interruptedBy == 0, ct_interrupted() != 0 { interrupt() }
            let r = ct_wait(-1, &status, 0)
            if r == -EINTR { continue }
            if r < 0 { break }  // ECHILD: the keeper and every tracee are gone
            if r == launch.keeper { continue }
            tracer?.handle(tid: r, status: status)
        }
    }

    /// SIGINT/SIGTERM/SIGHUP: the keeper kills the whole program once its pipe closes.
    func interrupt() {
        interruptedBy = Int32(ct_interrupted())
        if launch.life_fd >= 0 { close(launch.life_fd); launch.life_fd = -1 }
        let pids = lock.locked { Array(table.processes.keys) }
        for pid in pids { kill(pid, SIGKILL) }
    }

    // MARK: - Exits: pidfds of known processes, and the keeper's report of the program's status

    func exitWatcher() {
        var infoOpen = true
        while true {
            let watched = lock.locked { watchList }
            var fds: [Int32] = [wakeFd]
            if infoOpen { fds.append(launch.info_fd) }
            fds += watched.map(\.pidfd)
            var rev = [Int16](repeating: 0, count: fds.count)
            let n = ct_poll_in(fds, &rev, Int32(fds.count), 200)
            if n < 0 && n != -EINTR { break }
            if rev[0] != 0 { ct_eventfd_drain(wakeFd) }
            var base = 1
            if infoOpen {
                if rev[1] != 0 {
                    var st: Int32 = 0
                    let got = Glibc.read(launch.info_fd, &st, 4)
                    if got == 4 { rootExited(status: st) } else { infoOpen = false }
                }
                base = 2
            }
            for (i, w) in watched.enumerated() where rev[base + i] != 0 { processExited(w.pid, pidfd: w.pidfd) }
            if stopping.isSet && !infoOpen { break }
            if stopping.isSet && n == 0 { break }
        }
    }

    func rootExited(status st: Int32) {
        let code: Int32 = ct_wifexited(st) != 0 ? ct_wexitstatus(st) : 128 + ct_wtermsig(st)
        let sig = ct_wifsignaled(st) != 0 ? Signals.name(ct_wtermsig(st)) : nil
        lock.locked {
            rootExit = (code, sig)
            let p = table.process(rootPid)
            finishPendingEntry(rootPid)
            recorder.processEvent(.exit, pid: rootPid, tid: rootPid, ppid: p?.ppid ?? launch.keeper,
                                  capabilityMode: p?.capabilityMode ?? false, exitStatus: code, signal: sig)
            forget(rootPid)
        }
    }

    func processExited(_ pid: Int32, pidfd: Int32) {
        lock.locked {
            watchList.removeAll { $0.pid == pid }
            guard pid != rootPid, let p = table.process(pid) else { return }
            // The wait status of a zombie is still in /proc/PID/stat (field 52) until its parent reaps it.
            var code: Int32? = nil
            var sig: String? = nil
            if let st = NotifyProcFS.exitCode(pid) {
                code = ct_wifexited(st) != 0 ? ct_wexitstatus(st) : 128 + ct_wtermsig(st)
                if ct_wifsignaled(st) != 0 { sig = Signals.name(ct_wtermsig(st)) }
            }
            finishPendingEntry(pid)
            recorder.processEvent(.exit, pid: pid, tid: pid, ppid: p.ppid, capabilityMode: p.capabilityMode,
                                  exitStatus: code, signal: sig)
            forget(pid)
        }
    }

    /// Drops a process (lock held).
    func forget(_ pid: Int32) {
        if let x = extra.removeValue(forKey: pid), x.pidfd >= 0 {
            watchList.removeAll { $0.pid == pid }
            close(x.pidfd)
        }
        recorder.unwinderForget(pid: pid)
        table.removeProcess(pid)
    }
}

/// What the notify backend keeps per process besides the shared ProcessState.
final class NotifyProcess {
    /// pidfd of the process (exit notification, pidfd_getfd), or -errno.
    let pidfd: Int32
    let isRoot: Bool
    /// The children it had when it entered capability mode: they stay outside (the contract's rule).
    var childrenAtEntry: Set<Int32> = []
    /// After an execve was let through: the process's startstack then; a different one later means the exec
    /// happened (ASLR places the new stack elsewhere).
    var pendingExec: UInt64?
    /// `exec` trigger: capability mode began at exec; the enter event is written at the next notification.
    var pendingEnter = false

    init(pidfd: Int32, isRoot: Bool) {
        self.pidfd = pidfd
        self.isRoot = isRoot
    }
}

/// A flag set once, read by other threads.
final class NotifyFlag: @unchecked Sendable {
    private let v = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    init() { v.initialize(to: 0) }
    deinit { v.deallocate() }
    func set() { __atomic_store_flag(v) }
    var isSet: Bool { __atomic_load_flag(v) != 0 }
    var pointer: UnsafePointer<Int32> { UnsafePointer(v) }
}

@inline(__always) private func __atomic_store_flag(_ p: UnsafeMutablePointer<Int32>) {
    // A single aligned word store; the readers poll it after a wake-up (eventfd, EINTR, HUP).
    UnsafeMutableRawPointer(p).storeBytes(of: 1, as: Int32.self)
}
@inline(__always) private func __atomic_load_flag(_ p: UnsafeMutablePointer<Int32>) -> Int32 {
    UnsafeRawPointer(p).load(as: Int32.self)
}
