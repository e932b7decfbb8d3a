import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// The seccomp user-notification transport (`--backend notify`): the same core, catalog, filter plan,
/// decoder, classifier and trace writer as the ptrace transport; only the mechanism differs.
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
/// The loop. Workers (several in enforce mode, one in observe mode: `workerCount`) share the listener; one at a time receives (NotifyBaton) and handles what it
/// received, and hands the receiving on before work that may block (a call captrace performs, a lookup beneath a
/// directory descriptor), so a thread waiting for its answer waits behind no such work. One lock, `lock`, guards
/// the trace writer, the unwinder and every use of the core. Per notification: read the arguments (the Decoder),
/// classify, and answer: CONTINUE, the deny errno in enforce mode, or, in enforce mode for an approved call whose
/// approval rests on memory, the result of captrace doing the call itself (NotifyEnforcement). Before captrace
/// acts on what it read (performs a call, signals the caller) it checks NOTIF_ID_VALID; an answer needs no check,
/// as its own acceptance shows the caller waited all along. A violation is written only once its answer was
/// accepted: a notification withdrawn in between (a signal, PTRACE_INTERRUPT) comes back as a new one and is
/// recorded then, so nothing is counted twice. The filter runs with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP where
/// the kernel has it (6.6+).
///
/// Results are absent for calls the kernel continued (the CONTINUE answer does not come back with the call's
/// result); calls captrace performed record theirs. Stacks are unwound from
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
final class NotifyTransport: Transport, @unchecked Sendable {
    /// The core outlives the transport (`supervise` holds it through the run): unowned(unsafe) saves a reference
    /// count check per use.
    unowned(unsafe) let core: SupervisorCore
    /// The core's, held the same way (no reference count per use on the notification path).
    unowned(unsafe) let table: ProcessTable
    unowned(unsafe) let recorder: Recorder
    /// The core's options, borrowed: a getter would copy the whole struct (every field retained and released,
    /// and the optional policy's metadata made at start) where a stop reads one field.
    var options: RunOptions { _read { yield core.options } }
    var enforce: Bool { core.enforce }
    let lock = PosixMutex()
    /// Which worker receives (NotifyBaton).
    let baton = NotifyBaton()

    // Guarded by `lock` (with the core's table and recorder).
    var extra: [Int32: NotifyProcess] = [:]
    /// Approved calls refused in enforce mode because they could not be confined (NotifyEnforcement), by
    /// "syscall: reason".
    var unconfined: [String: Int] = [:]
    /// Processes that asked to install their own seccomp filter (warned about once, at the end).
    var ownFilterPids: Set<Int32> = []
    /// /proc/PID/mem files of processes that ended, closed by the worker (NotifyLoop.memoryFile).
    var memFilesToClose: [Int32] = []
    var rootExit: (status: Int32, signal: String?)?
    /// How the keeper ended, once reaped. It ends after reporting the program's status, unless it was killed:
    /// the program then dies with it (PR_SET_PDEATHSIG) and its status is known nowhere (`warnings`).
    var keeperEnd: WaitStatus?
    /// Processes that ended whose status the keeper may still report (it reaps orphans).
    var exitsOwed: Set<Int32> = []
    /// Statuses the keeper reported before the process's pidfd said it ended.
    var reapedByKeeper: [Int32: WaitStatus] = [:]

    // Set once at launch.
    var launch = ct_notify_launch()
    var listener: Int32 = -1
    var syncWakeUp = false
    let stopping = AtomicFlag()
    var wakeFd: Int32 = -1
    /// The exit watcher's epoll set: `wakeFd`, the keeper's reports and the pidfd of every placed process (a
    /// worker adds one without waking the watcher; closing a pidfd removes it).
    var exitSet: Int32 = -1
    var execFailed: Int32?
    var workers: [pthread_t] = []

    /// captrace's own "Uid:", "Gid:" and "Groups:" lines of /proc/self/status: a call is performed for a thread
    /// only when its credentials are these (NotifyEnforcement). Read the first time enforcement asks (captrace's
    /// credentials do not change during a run): a run that performs no call never reads them.
    var ownCredentials: [String: String] { Self.credentials }
    private static let credentials: [String: String] = {
        let st = ProcFS.read("/proc/self/status") ?? ""
        var out: [String: String] = [:]
        for key in ["Uid:", "Gid:", "Groups:"] { out[key] = NotifyEnforcement.field(st, key) }
        return out
    }()

    /// The ptrace phase of the `main` and `symbol:NAME` triggers (main thread only).
    var tracer: NotifyTracer?

    /// Whether the run has a `--policy` (read per notification: a flag, not a copy of the policy).
    let hasPolicy: Bool
    /// Whether calls that may map code trap (`FilterBuilder.Tag.mappings`: the run records stacks).
    let mapsCode: Bool
    /// The last pid handed out in captrace's pid namespace (`LastPid`).
    let lastPid = LastPid()
    /// By ABI ordinal, the numbers of the calls `FilterBuilder.mapsCode` may name (so that its test by name runs
    /// only for those; made at first use, as `seccompInstallers`).
    var codeMappers: [Set<Int>] { Self.codeMappers }
    private static let codeMappers = numbersByABI(FilterBuilder.codeMappingTests.keys)
    /// By ABI ordinal, the numbers of the calls `FilterBuilder.installsSeccompFilter` names (its test then runs
    /// only for those, not a lookup by name for every call). Made at the first notification, not with the
    /// transport: the catalog is still being built then (on the thread `warmUpCatalog` starts), and waiting for
    /// it held the launch back by ~0.25 ms.
    var seccompInstallers: [Set<Int>] { Self.seccompInstallers }
    private static let seccompInstallers = numbersByABI(FilterBuilder.seccompInstallTests.keys)

    /// By ABI ordinal, the numbers of `names` in that ABI (names it lacks left out).
    private static func numbersByABI(_ names: some Collection<String>) -> [Set<Int>] {
        ABI.allCases.map { abi in Set(names.compactMap { Catalog.shared.number(of: $0, abi: abi) }) }
    }

    init(_ core: SupervisorCore) {
        self.core = core
        table = core.table
        recorder = core.recorder
        hasPolicy = core.options.policy != nil
        mapsCode = core.options.stackDepth > 0
        core.onEnter = { [unowned self] p in
            guard let x = extra[p.pid] else { return }
            if x.noChildrenAtEntry { x.noChildrenAtEntry = false } else { x.childrenAtEntry = NotifyProcFS.children(p.pid) }
        }
    }

    var filterAction: FilterBuilder.Action { .notify }
    var rootPid: Int32 { core.rootPid }
    var rootStatus: Int32? { rootExit?.status }
    func execFailure() -> Int32? { execFailed }
    var programTop: Int32 { launch.keeper }

    /// The keeper and the program start in `launch`, after the supervisor pinned itself: they inherit its CPU.
    /// (Started here instead, off that CPU, so that the program installs its filter beside the supervisor's
    /// set-up as under ptrace, they made no difference: 25 interleaved rounds of (e), 1.03x the time.)
    func prepareLaunch(path: String, bpf: inout ct_bpf, awayFrom cpu: Int32) throws(SupervisorError) {}

    func launch(path: String, bpf: inout ct_bpf, pinnedTo cpu: Int32) throws(SupervisorError) -> Int32 {
        let rc = withCStrings(options.argv) { argv in
            ct_notify_spawn(path, argv, ProgramPath.environment, &bpf, core.options.syscalls ? 1 : 0, &launch)
        }
        guard rc == 0 else {
            throw SupervisorError("cannot start \(options.argv[0]): \(String(cString: strerror(-rc)))")
        }
        // Opens done on the program's behalf apply the program's umask themselves: captrace's own is 0 from here
        // (set after the keeper and the program were cloned: set before, it was the program's too).
        umask(0)
        // Should the keeper be killed, the program's orphans come back to captrace, not to init (which may not
        // even reap them), and captrace kills them (keeperEnded).
        _ = ct_become_subreaper()
        let pid = launch.program
        core.rootPid = pid
        lock.locked {
            core.addRoot(pid: pid, ppid: launch.keeper, path: path)
            let x = NotifyProcess(pidfd: ct_pidfd_open(pid), isRoot: true)
            if path.hasPrefix("/") { x.execPath = path }  // what the launcher execs: captrace's own copy
            extra[pid] = x
        }
        if core.usesBreakpoints {
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
            if let failure { throw core.execError(failure) }
            throw SupervisorError("cannot receive the seccomp listener: \(String(cString: strerror(-listener)))")
        }
        syncWakeUp = ct_notif_set_sync_wakeup(listener) == 0
        wakeFd = ct_eventfd()
        exitSet = ct_epoll_create()
        _ = ct_epoll_add(exitSet, wakeFd, Self.wakeData)
        _ = ct_epoll_add(exitSet, launch.info_fd, Self.infoData)
        return pid
    }

    /// How many workers serve the listener. Enforce mode: several (2 to 4, by CPUs), because a worker may
    /// perform an approved call for the program and wait in it (a connect, a socket), and the others must go on
    /// answering meanwhile. Observe mode: one. Its workers never wait on the program (an answer is a CONTINUE),
    /// and almost all of a notification's work is under the one lock anyway; with two, the worker woken by the
    /// program's next call, on the same CPU, found the lock still held by the one recording the call before and
    /// slept on it: two more context switches per violation (20,000 violations, no stacks: 0.31 s of CPU
    /// against 0.22 s with one worker, the bare notify floor 0.12 s).
    var workerCount: Int {
        guard enforce else { return 1 }
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return min(4, max(2, n))
    }

    /// Kills what was started and reaps the keeper (the launch failed before the loop).
    func abandonLaunch() {
        guard launch.keeper > 0 else { return }  // nothing started yet
        if launch.life_fd >= 0 { close(launch.life_fd); launch.life_fd = -1 }
        kill(launch.program, SIGKILL)
        var st: Int32 = 0
        while true {
            let r = ct_wait(-1, &st, 0)
            if r == launch.keeper || (r < 0 && r != -EINTR) { break }
        }
    }

    func readExecError() -> Int32? {
        var e: Int32 = 0
        let n = Glibc.read(launch.exec_err_fd, &e, 4)
        return n == 4 ? e : nil
    }

    // MARK: - Serving

    func serve() {
        // Without a ptrace phase the main thread is the exit watcher itself, the keeper's end one more event of its
        // set (a pidfd of the keeper): no thread to start, and at the end no thread to wake and see leave
        // (`run --enter-at exec -- /bin/true`: Docs/performance-history.md, (e)). With one, it waits for ptrace
        // stops.
        var keeperFd: Int32 = -1
        if tracer == nil {
            keeperFd = ct_pidfd_open(launch.keeper)
            if keeperFd >= 0, ct_epoll_add(exitSet, keeperFd, Self.keeperData) != 0 {
                close(keeperFd)
                keeperFd = -1
            }
        }
        // The workers (created here, they inherit it) stay on the CPU captrace started on, as does the program
        // (ct_raw_child_prepare). See CPUAffinity. Workers and the exit watcher must not take
        // SIGINT/SIGTERM/SIGHUP: the main thread handles them.
        workers = PosixThreads.withInterruptsBlocked {
            var ts: [pthread_t] = []
            for _ in 0..<workerCount { ts.append(PosixThreads.start { [self] in worker() }) }
            if keeperFd < 0 { ts.append(PosixThreads.start { [self] in exitWatcher() }) }
            return ts
        }

        if keeperFd >= 0 {
            exitWatcher(keeperFd: keeperFd)
            close(keeperFd)
        } else {
            // The main thread waits for the keeper (and, before the trigger, drives ptrace).
            var raw: Int32 = 0
            while true {
                if core.interruptedBy == 0, ct_interrupted() != 0 { interrupt() }
                let r = ct_wait(-1, &raw, 0)
                if r == -EINTR { continue }
                if r < 0 { break }  // ECHILD: the keeper and every tracee are gone
                if r == launch.keeper {
                    keeperEnded(WaitStatus(raw))
                    continue
                }
                if core.pins.noteStop() { ct_eventfd_signal(wakeFd) }
                tracer?.handle(tid: r, status: WaitStatus(raw))
            }
        }

        // Every process is gone: the listener hangs up and the workers return.
        stopping.set()
        ct_eventfd_signal(wakeFd)
        for t in workers { pthread_join(t, nil) }
        execFailed = readExecError()
    }

    func finish() {
        close(launch.exec_err_fd)
        close(launch.info_fd)
        if launch.life_fd >= 0 { close(launch.life_fd) }
        close(listener)
        close(wakeFd)
        if exitSet >= 0 { close(exitSet) }
        lock.locked {
            // Processes whose exit was not seen (their pidfd could not be opened).
            for pid in Array(core.table.processes.keys) where pid != rootPid {
                core.processExited(pid, tid: pid, status: nil)
            }
            for (_, x) in extra {
                if x.pidfd >= 0 { close(x.pidfd) }
                x.closeSyscallFiles()
                x.closeMemory()
            }
            for fd in memFilesToClose { close(fd) }
            memFilesToClose = []
            extra = [:]
        }
    }

    func warnings() {
        if rootExit == nil, let k = keeperEnd, k.signaled {
            // Nothing else would say why the run ended early with 125.
            printError("captrace: the keeper process (pid \(launch.keeper)), which runs the program under --backend "
                + "notify, was killed by \(k.signalName ?? "a signal") before the program ended; the program was "
                + "killed with it and its exit status is unknown")
        }
        if !ownFilterPids.isEmpty {
            let one = ownFilterPids.count == 1
            printError("captrace: warning: " + (one ? "pid " : "pids ")
                + ownFilterPids.sorted().map(String.init).joined(separator: ", ")
                + " asked to install " + (one ? "its" : "their") + " own seccomp filter; the calls such a filter "
                + "refuses never reach captrace, and are recorded and explained under --backend ptrace only")
        }
        guard !unconfined.isEmpty else { return }
        // Not violations, so not in the trace: say here that the program saw them fail.
        let list = unconfined.sorted { $0.key < $1.key }.map { "\($0.key) (x\($0.value))" }.joined(separator: "; ")
        printError("captrace: warning: enforce mode under --backend notify refused \(unconfined.values.reduce(0, +)) "
            + "approved call(s) that captrace could neither perform for the program nor let run without a racing "
            + "thread changing what was checked: \(list)")
    }

    /// SIGINT/SIGTERM/SIGHUP: the keeper kills the whole program once its pipe closes (its children, round after round,
    /// as their orphans come back to it). The processes captrace knows are killed at once too, through their pidfds:
    /// the table learns of exits after the fact (a pidfd's event, the keeper's report), and a pid it still holds may
    /// already be another process's.
    func interrupt() {
        core.interruptedBy = Int32(ct_interrupted())
        if launch.life_fd >= 0 { close(launch.life_fd); launch.life_fd = -1 }
        killKnownProcesses()
    }

    /// SIGKILLs every process captrace placed, through its pidfd (never a pid another process may hold by now).
    func killKnownProcesses() {
        lock.locked {
            for x in extra.values where x.pidfd >= 0 { _ = ct_pidfd_kill(x.pidfd) }
        }
    }

    // MARK: - Exits: pidfds of known processes, and the keeper's report of the program's status

    /// Epoll data of the exit set: a process's pid and pidfd; the two others are told apart by a pidfd of -1.
    static func exitData(pid: Int32, pidfd: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: pid)) | UInt64(UInt32(bitPattern: pidfd)) << 32
    }
    static let wakeData = exitData(pid: 0, pidfd: -1)
    static let infoData = exitData(pid: 1, pidfd: -1)
    static let keeperData = exitData(pid: 2, pidfd: -1)

    /// The keeper was reaped. Killed (it ends by itself only with `exit(0)`, after the program's status; an
    /// interrupt makes it kill the program and exit too), it took the program with it (PR_SET_PDEATHSIG), but the
    /// program's other processes were orphaned to captrace, the subreaper above it (`launch`), and would hold the
    /// listener (the workers would wait for ever) while running unwatched: they are killed and reaped here.
    /// `warnings` says what happened; the run ends with 125.
    func keeperEnded(_ status: WaitStatus) {
        keeperEnd = status
        guard status.signaled, core.interruptedBy == 0 else { return }
        killKnownProcesses()
        _ = ct_kill_own_children(2000)
    }

    /// Ends by itself once the keeper has gone (its report pipe at EOF: every process of the program has ended, and
    /// their pidfds are ready) and nothing more is ready, or when `stopping` is set. `keeperFd`: a pidfd of the
    /// keeper in the set when the main thread watches (it then also reaps the keeper and takes interruptions, and
    /// ends once the keeper is reaped as well).
    func exitWatcher(keeperFd: Int32 = -1) {
        var infoOpen = true
        var keeperAlive = keeperFd >= 0
        var ready = [UInt64](repeating: 0, count: 64)
        let pins = core.pins  // this thread ticks them (ProgramPins): it waits anyway
        var away = false
        while true {
            if keeperFd >= 0, core.interruptedBy == 0, ct_interrupted() != 0 { interrupt() }
            let timeout: Int32 = infoOpen || keeperAlive ? (pins.isPinned ? ProgramPins.quietMillis : 200) : 0
            let n = ct_epoll_wait(exitSet, &ready, Int32(ready.count), timeout)
            if n < 0 && n != -EINTR { break }
            pins.tick()
            for d in ready.prefix(Int(max(n, 0))) {
                if d == Self.keeperData {
                    var raw: Int32 = 0
                    while ct_wait(launch.keeper, &raw, 0) == -EINTR {}
                    _ = ct_epoll_del(exitSet, keeperFd)
                    keeperAlive = false
                    keeperEnded(WaitStatus(raw))
                } else if d == Self.wakeData {
                    ct_eventfd_drain(wakeFd)
                } else if d == Self.infoData {
                    var rec: (pid: Int32, status: Int32) = (0, 0)
                    let got = withUnsafeMutableBytes(of: &rec) { Glibc.read(launch.info_fd, $0.baseAddress, 8) }
                    if got == 8 { keeperReaped(rec.pid, status: WaitStatus(rec.status)) } else {
                        infoOpen = false
                        _ = ct_epoll_del(exitSet, launch.info_fd)  // at its end, or it stays readable
                    }
                } else {
                    let pid = Int32(bitPattern: UInt32(truncatingIfNeeded: d))
                    let pidfd = Int32(bitPattern: UInt32(truncatingIfNeeded: d >> 32))
                    processExited(pid, pidfd: pidfd)
                    if !away {
                        // A process of the program ended before the run did: a program that starts others (a shell, a
                        // build) ends many. From here on this thread keeps off the CPU the workers and the program
                        // share and handles their exits beside them, not between their stops (see CPUAffinity).
                        away = true
                        _ = ct_move_self_away_from_cpu(-1)
                    }
                }
            }
            if keeperAlive { continue }
            if stopping.isSet && !infoOpen { break }
            if (stopping.isSet || !infoOpen) && n == 0 { break }
        }
    }

    /// The keeper reaped `pid` (the program, or an orphan of it: its status is known nowhere else).
    func keeperReaped(_ pid: Int32, status: WaitStatus) {
        if pid == rootPid { rootExited(status: status); return }
        lock.locked {
            if exitsOwed.remove(pid) != nil {
                core.processExited(pid, tid: pid, status: status)
            } else if core.table.process(pid) != nil {
                reapedByKeeper[pid] = status
            }
        }
    }

    func rootExited(status: WaitStatus) {
        ct_set_root_pid(0)  // reaped: the pid may be another process's from now on (the interrupt handler kills it)
        lock.locked {
            rootExit = (status.programStatus, status.signalName)
            finishPendingEntry(rootPid)
            if core.table.process(rootPid) == nil {
                // Never placed (cannot happen: the root is added at launch); keep the exit event anyway.
                core.table.addProcess(pid: rootPid, ppid: launch.keeper)
            }
            core.processExited(rootPid, tid: rootPid, status: status)
            forget(rootPid)
        }
    }

    func processExited(_ pid: Int32, pidfd: Int32) {
        // The descriptors the process's end releases are closed after the lock is let go: closing the last one on an
        // ended process's memory or files has the kernel free them there and then (~10 µs for its /proc/PID/maps),
        // and a worker that needs the lock meanwhile — the shell's next child calling execve — waited for it.
        var closeAfter: [Int32] = []
        defer {
            for fd in closeAfter { close(fd) }
            recorder.closeExitedMaps()
        }
        lock.locked {
            // Out of the set at once (an ended process's pidfd stays readable), unless it was closed and its
            // number reused meanwhile: then the process is gone from `extra` and its exit was handled.
            let ownFd = extra[pid]?.pidfd ?? -1
            if ownFd == pidfd { _ = ct_epoll_del(exitSet, pidfd) }
            guard pid != rootPid, core.table.process(pid) != nil else { return }
            // The wait status of a zombie is still in /proc/PID/stat (field 52) until its parent reaps it; once
            // reaped, its pidfd has it (Linux 6.15), asked again when /proc no longer has the zombie (its parent
            // reaped it in between); an orphan's comes from the keeper, perhaps later: its exit event waits for
            // it (until the end). All before forget closes the pidfd.
            let known = NotifyProcFS.exitStatus(pidfd: ownFd) ?? NotifyProcFS.exitCode(pid)
                ?? NotifyProcFS.exitStatus(pidfd: ownFd)
            finishPendingEntry(pid)
            forget(pid, closingLater: &closeAfter)
            if let status = known.map(WaitStatus.init) ?? reapedByKeeper.removeValue(forKey: pid) {
                core.processExited(pid, tid: pid, status: status, closeMapsLater: true)
            } else if let ppid = core.table.process(pid)?.ppid, ppid != launch.keeper, core.table.process(ppid) != nil {
                // Reaped already, and not by the keeper (which reaps orphans only): its parent, still running,
                // took the status with it. The exit is recorded now without one; waiting for a report that
                // never comes kept the process's state (and its unwinder's files) until the end of the run.
                core.processExited(pid, tid: pid, status: nil, closeMapsLater: true)
            } else {
                exitsOwed.insert(pid)
            }
        }
    }

    /// Drops what the transport keeps of a process that ended (lock held).
    func forget(_ pid: Int32) {
        var fds: [Int32] = []
        forget(pid, closingLater: &fds)
        for fd in fds { close(fd) }
    }

    /// `forget`, its descriptors (its threads' /proc/TID/syscall, its pidfd) added to `fds` for the caller to close
    /// once it has let the lock go.
    func forget(_ pid: Int32, closingLater fds: inout [Int32]) {
        guard let x = extra.removeValue(forKey: pid) else { return }
        fds.append(contentsOf: x.syscallFiles.values)
        x.syscallFiles = [:]
        if x.memFd >= 0 {
            memFilesToClose.append(x.memFd)  // the worker may be reading it now
            x.memFd = -1
        }
        if x.pidfd >= 0 { fds.append(x.pidfd) }  // its close takes it out of the exit set
    }
}

/// /proc/sys/kernel/ns_last_pid, kept open: one pread (~0.9 µs here, against ~9 µs for a new /proc/PID/stat).
final class LastPid {
    private var fd: Int32 = -2  // -2 not opened yet, -1 unreadable

    /// The last pid handed out; -1 when it cannot be read.
    func read() -> Int32 {
        if fd == -2 { fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return -1 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buf -> Int32 in
            let n = pread(fd, buf.baseAddress, buf.count, 0)
            var v: Int32 = 0
            for b in buf.prefix(max(0, n)) {  // decimal digits, then a newline
                guard b >= 0x30, b <= 0x39 else { break }
                guard v <= (Int32.max - 9) / 10 else { return -1 }
                v = v * 10 + Int32(b - 0x30)
            }
            return v > 0 ? v : -1
        }
    }

    deinit { if fd >= 0 { close(fd) } }
}

/// What the notify transport keeps per process besides the core's ProcessState.
final class NotifyProcess {
    /// pidfd of the process (exit notification, pidfd_getfd), or -errno.
    let pidfd: Int32
    let isRoot: Bool
    /// The children it had when it entered capability mode: they stay outside (the contract's rule).
    var childrenAtEntry: Set<Int32> = []
    /// After an execve was let through: the process's auxiliary vector then; a different one later means the exec
    /// happened (NotifyProcFS.auxv).
    var pendingExec: [UInt8]?
    /// That execve is the launcher's (the program's first): its exec error pipe tells whether it happened.
    var initialExec = false
    /// The absolute path that execve named, when it was read (a violation's) or is the launcher's: the new
    /// image's program is told from its mappings when they show this file (`checkExec`).
    var execPath: String?
    /// Where the current image keeps its AT_RANDOM bytes (0: not known yet), and those bytes when an execve was
    /// let through: different bytes later mean the exec happened (NotifyLoop.noteExec).
    var randomAt: UInt64 = 0 { didSet { randomBytes = nil } }
    var marker: [UInt64]?
    /// The bytes at `randomAt` in the current image, once read (NotifyLoop.randomBytes): never written after
    /// start-up, they are read once per image, not at every fork of a shell and again at its child's execve.
    var randomBytes: [UInt64]?
    /// With stacks: the last pid handed out when the current image last made a call that can map code (0: no such
    /// call; -1: not known). A child with a pid not above it may not run what the parent's unwinder learned since.
    var codeMappedAfterPid: Int32 = 0
    /// Entering at the launcher's exec: the process has no child to list (its `childrenAtEntry` stays empty).
    var noChildrenAtEntry = false
    /// The current directory (NotifyLoop.currentDirectory), and the threads whose directory-changing call may
    /// still be under way.
    var cwd: String?
    var cwdChanging: Set<Int32> = []
    /// /proc/TID/syscall of its threads, open (NotifyTransport.waitingRegisters); closed when it ends.
    var syscallFiles: [Int32: Int32] = [:]
    /// More open at once than this (threads that ended are not seen to end) and they are all closed.
    static let maxSyscallFiles = 64
    /// Its /proc/PID/mem (NotifyLoop.memoryFile), or -1.
    var memFd: Int32 = -1
    /// An exec call was seen and its new image not yet: no /proc/PID/mem is opened meanwhile.
    var memoryAfterExec = false
    var memOpenFailed = false
    /// Calls with a string argument judged so far (the file is opened at the `memoryFileAfter`-th).
    var stringReads = 0
    static let memoryFileAfter = 8

    init(pidfd: Int32, isRoot: Bool) {
        self.pidfd = pidfd
        self.isRoot = isRoot
    }

    func closeMemory() {
        if memFd >= 0 { close(memFd) }
        memFd = -1
    }

    func closeSyscallFiles() {
        for fd in syscallFiles.values { close(fd) }
        syscallFiles = [:]
    }
}

/// The right to wait in SECCOMP_IOCTL_NOTIF_RECV, held by one worker at a time (leader/follower).
///
/// With several workers blocked in RECV at once, synchronous wake-up hands each new notification to an idle
/// worker while the one that just answered still holds the transport's lock (the answer switched the CPU to the
/// program, which trapped again at once): the new worker then sleeps on the lock and is woken when it is
/// released — two futex calls and two more context switches per notification. Instead one worker, the leader,
/// receives and handles notifications in turn; it passes the baton (`Lead.yield`) only before work that may
/// block (a call captrace performs for the program, a lookup beneath a directory descriptor), so that the
/// others go on being served meanwhile. Idle followers sleep here, not in RECV.
final class NotifyBaton: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var held = false
    private var waiting = 0

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    func take() {
        pthread_mutex_lock(mutex)
        waiting += 1
        while held { pthread_cond_wait(cond, mutex) }
        waiting -= 1
        held = true
        pthread_mutex_unlock(mutex)
    }

    func pass() {
        pthread_mutex_lock(mutex)
        held = false
        let wake = waiting > 0
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(cond) }
    }
}

/// One worker's hold on the baton.
final class Lead {
    let baton: NotifyBaton
    private(set) var holding = false
    init(_ baton: NotifyBaton) { self.baton = baton }

    func take() {
        guard !holding else { return }
        baton.take()
        holding = true
    }

    /// Lets another worker receive while this one does something that may block.
    func yield() {
        guard holding else { return }
        holding = false
        baton.pass()
    }
}
