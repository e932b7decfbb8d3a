import CTraceShims
import CapabilityPolicy
import Glibc
import SeccompBPF
import SyscallCatalog
import TraceModel
import Unwinding

/// The ptrace transport: the program runs under a seccomp filter whose trapped calls stop it
/// (`SECCOMP_RET_TRACE`); captrace follows every thread and process with ptrace, judges each trapped call at
/// its seccomp stop, and takes the result from the syscall-exit stop when it wants one.
///
/// Every ptrace request is made from the thread that calls `serve()` (ptrace requests are only valid from the
/// tracer thread that attached), and waiting uses `waitpid(-1, __WALL)`: captrace forks nothing else.
final class PtraceTransport: Transport {
    unowned let core: SupervisorCore
    var table: ProcessTable { core.table }
    var recorder: Recorder { core.recorder }
    /// The core's options, borrowed: a getter would copy the whole struct (every field retained and released,
    /// and the optional policy's metadata made at start) where a stop reads one field.
    var options: RunOptions { _read { yield core.options } }
    /// `run --rights`: descriptor operations after entry (nil without the option).
    let rights: RightsRecorder?
    var errFd: Int32 = -1
    var rootStatus: Int32?
    var rootExeced = false
    var execFailed: Int32?

    static let options: UInt = Tracee.optTraceSysGood | Tracee.optTraceFork | Tracee.optTraceVfork
        | Tracee.optTraceClone | Tracee.optTraceExec | Tracee.optTraceSeccomp | Tracee.optExitKill

    init(_ core: SupervisorCore) {
        self.core = core
        self.rights = core.options.rights ? RightsRecorder(recorder: core.recorder) : nil
    }

    deinit { repeatPath.deallocate() }

    var filterAction: FilterBuilder.Action { .trace }

    var pending = ct_spawn_pending()

    /// Clones the child, which sets itself up off the supervisor's CPU while the supervisor opens the trace. It
    /// restricts itself at once (the filter's installation is the largest part) when the filter traps none of the
    /// calls it makes before its exec (read and close, of its pipe): not with `--rights` or `--syscalls` (which
    /// trap them), a `--policy` (whatever it traps), a `syscall:NAME` or `sandbox` trigger, or Landlock.
    func prepareLaunch(path: String, bpf: inout ct_bpf, awayFrom cpu: Int32) throws(SupervisorError) {
        var early = !options.rights && !options.syscalls && options.policy == nil && options.landlockPolicy == nil
        switch options.trigger {
        case .syscall, .sandbox: early = false
        case .exec, .execOf, .main, .symbol: break
        }
        let landlockFd = try options.landlockPolicy.map { p throws(SupervisorError) in try LandlockLaunch.rulesetFd(p) } ?? -1
        defer { if landlockFd >= 0 { close(landlockFd) } }
        let rc = withCStrings(options.argv) { argv in
            ct_spawn_start(path, argv, ProgramPath.environment, &bpf, landlockFd, early ? 1 : 0, cpu, &pending)
        }
        guard rc == 0 else {
            throw SupervisorError("cannot start \(options.argv[0]): \(String(cString: strerror(-rc)))")
        }
    }

    func abandonLaunch() { ct_spawn_abandon(&pending) }

    func launch(path: String, bpf: inout ct_bpf, pinnedTo cpu: Int32) throws(SupervisorError) -> Int32 {
        let pid = ct_spawn_go(&pending, Self.options, cpu, &errFd)
        guard pid > 0 else {
            throw SupervisorError("cannot start \(options.argv[0]): \(String(cString: strerror(-pid)))")
        }
        core.addRoot(pid: pid, ppid: getpid(), path: path)
        if let policy = options.landlockPolicy { LandlockLaunch.applied(policy, pid: pid, core: core) }
        return pid
    }

    func execFailure() -> Int32? { execFailed }
    var programTop: Int32 { getpid() }
    func finish() { if errFd >= 0 { close(errFd); errFd = -1 } }
    func warnings() {}

    // MARK: - The loop

    func serve() {
        var raw: Int32 = 0
        // wait4 has no timeout: a timer signal interrupts it to tick the pins (ProgramPins), only while pinned.
        let pins = core.pins
        let ticks = pins.isPinned && ct_tick_timer_create() == 0 && ct_tick_timer_arm(ProgramPins.quietMillis) == 0
        defer { if ticks { ct_tick_timer_delete() } }
        while !table.isEmpty {
            if core.interruptedBy == 0, ct_interrupted() != 0 { interrupt() }
            let r = ct_wait(-1, &raw, 0)
            if r == -EINTR {
                if ticks, ct_tick_take() != 0 {
                    pins.tick()
                    if !pins.isPinned { _ = ct_tick_timer_arm(0) }
                }
                continue
            }
            if r < 0 { break }  // ECHILD: nothing left
            if pins.noteStop(), ticks { _ = ct_tick_timer_arm(ProgramPins.quietMillis) }
            let tid = r
            let status = WaitStatus(raw)
            let stop = PtraceStop(status)
            if stop == .exited { threadExited(tid, status: status); continue }
            if stop == .none { continue }
            let thread = knownThread(tid)
            if core.interruptedBy != 0 {
                // Interrupted: the program is being killed; let every stop go.
                try? Tracee.cont(tid)
                continue
            }
            switch stop {
            case .syscallExit: syscallExitStop(thread)
            case .seccomp: seccompStop(thread)
            case .newTask:
                if let child = try? Tracee.eventMessage(tid) {
                    let ids = newTaskIDs(parent: thread)
                    let unseen = table.thread(child) == nil
                    _ = knownThread(child, ids: ids)
                    // A new process not yet run (its first stop comes later) is a copy of this one: its stacks
                    // start from this process's mappings.
                    if unseen, let ids, ids.tgid == nil { recorder.unwinderForked(parent: thread.pid, child: child) }
                }
                resume(tid)
            case .exec: execStop(thread)
            case .groupStop:
                if thread.sawFirstStop { try? Tracee.listen(tid) } else { thread.sawFirstStop = true; resume(tid) }
            case .interruptStop:
                thread.sawFirstStop = true
                resume(tid)
            case .otherEvent: resume(tid)
            case .signal(let sig):
                if !thread.sawFirstStop && sig == SIGSTOP { thread.sawFirstStop = true; resume(tid); continue }
                if sig == SIGTRAP, breakpointStop(thread) { continue }
                resume(tid, signal: sig)
            case .exited, .none: break
            }
            recorder.tickStatus(processes: table.processCount)
        }
    }

    /// Resumes a thread; one between a seccomp stop and its syscall-exit stop (an exec or a signal came in
    /// between) keeps PTRACE_SYSCALL so the exit stop, and the result, are not lost.
    /// A thread of a process that installed its own seccomp filter always resumes with PTRACE_SYSCALL: its
    /// syscall-entry stops come before seccomp runs (`syscallEntryStop`).
    func resume(_ tid: Int32, signal: Int32 = 0) {
        if let t = table.thread(tid), t.awaitingExit || table.process(t.pid)?.seccompFilters.isEmpty == false {
            try? Tracee.toSyscallExit(tid, signal: signal)
        } else {
            try? Tracee.cont(tid, signal: signal)
        }
    }

    /// The state of a thread, created on first sight (a new task's first stop may come before its parent's
    /// fork/clone event). A new process inherits its parent's capability mode: ptrace sees every fork.
    /// `ids`: the new task's thread group and parent when the caller knows them (`newTaskIDs`); else from /proc.
    func knownThread(_ tid: Int32, ids known: (tgid: Int32?, ppid: Int32)? = nil) -> ThreadState {
        if let t = table.thread(tid) { return t }
        let ids = known.map { (tgid: $0.tgid ?? tid, ppid: $0.ppid) } ?? ProcFS.tgidAndPPid(tid) ?? (tid, core.rootPid)
        if table.process(ids.tgid) == nil {
            core.addProcess(pid: ids.tgid, ppid: ids.ppid,
                            inCapabilityMode: table.process(ids.ppid)?.capabilityMode ?? false)
        }
        return core.addThread(tid: tid, pid: ids.tgid)
    }

    /// Whom the task `parent` just created belongs to, told by the parent's registers at its fork, vfork or clone
    /// event stop (it is inside that call): fork and vfork make a process whose parent is the caller's process;
    /// clone and clone3 make a thread of the caller's process with CLONE_THREAD, else a process whose parent is
    /// the caller's process, or the caller's own parent with CLONE_PARENT. tgid nil: the new task leads a process
    /// of its own. nil when the call is not an x86_64 one of these (then /proc says, as when the new task's first
    /// stop comes before this event). Saves reading /proc/TID/status, which the kernel builds whole, per fork.
    func newTaskIDs(parent: ThreadState) -> (tgid: Int32?, ppid: Int32)? {
        guard let p = table.process(parent.pid), let regs = try? Tracee().registers(parent.tid),
              regs.cs == 0x33 else { return nil }  // 64-bit code segment; x32 numbers carry bit 30 and miss below
        let cloneThread: UInt64 = 0x0001_0000, cloneParent: UInt64 = 0x0000_8000
        var flags: UInt64
        switch regs.orig_rax {
        case 57, 58: return (nil, p.pid)  // fork, vfork
        case 56: flags = regs.rdi  // clone
        case 435:  // clone3: struct clone_args, flags first
            flags = 0
            guard regs.rdi != 0, ct_read_mem(p.pid, UInt(regs.rdi), &flags, 8) == 8 else { return nil }
        default: return nil
        }
        if flags & cloneThread != 0 { return (p.pid, p.ppid) }
        return (nil, flags & cloneParent != 0 ? p.ppid : p.pid)
    }

    func threadExited(_ tid: Int32, status: WaitStatus) {
        if let t = table.thread(tid), let pending = t.pendingViolation {
            t.pendingViolation = nil
            recorder.write(pending)
        }
        let pid = table.thread(tid)?.pid ?? tid
        table.removeThread(tid)
        guard tid == pid, table.process(pid) != nil else { return }
        core.processExited(pid, tid: tid, status: status)
        if pid == core.rootPid {
            ct_set_root_pid(0)  // reaped: the pid may be another process's from now on (the interrupt handler kills it)
            rootStatus = status.programStatus
            if !rootExeced { execFailed = readExecError() ?? ENOEXEC }
        }
    }

    func readExecError() -> Int32? {
        guard errFd >= 0 else { return nil }
        var e: Int32 = 0
        let n = Glibc.read(errFd, &e, 4)
        return n == 4 ? e : nil
    }

    /// SIGINT/SIGTERM/SIGHUP: kill every traced process (a program left with a tracing filter and no tracer
    /// would get ENOSYS from every trapped call), then drain their exits; the core writes the summary.
    func interrupt() {
        core.interruptedBy = Int32(ct_interrupted())
        for pid in table.processes.keys { kill(pid, SIGKILL) }
    }

    // MARK: - exec

    func execStop(_ thread: ThreadState) {
        let former = (try? Tracee.eventMessage(thread.tid)) ?? thread.tid
        if former != thread.tid { table.execTookOver(former: former, by: thread) }
        guard let p = table.process(thread.pid) else { resume(thread.tid); return }
        if p.pid == core.rootPid { rootExeced = true }
        core.resetBreakpoints(p)
        // The pc (the interpreter's entry, or the program's) lets the unwinder tell the program from the mappings.
        let entry = recorder.walker != nil ? (try? Tracee.syscallInfo(thread.tid))?.ip : nil
        let first = core.execed(p, tid: thread.tid, entry: entry)
        if core.entersAtExec(p, firstExec: first) {
            core.enterCapabilityMode(p, tid: thread.tid, stack: .stopped)
        } else if !p.capabilityMode && core.usesBreakpoints {
            core.breakpoints.plantAtExec(p, tid: thread.tid)
        }
        resume(thread.tid)
    }

    // MARK: - Triggers

    func enterCapabilityMode(_ p: ProcessState, tid: Int32) {
        guard core.enterCapabilityMode(p, tid: tid, stack: .stopped) else { return }
        core.breakpoints.removeAll(p, tid: tid)
    }

    /// A SIGTRAP stop: one of our breakpoints (handled, true), or a real SIGTRAP for the program (false).
    func breakpointStop(_ thread: ThreadState) -> Bool {
        guard let p = table.process(thread.pid) else { return false }
        switch core.breakpoints.hit(p, tid: thread.tid) {
        case .notOurs: return false
        case .handled: break
        case .fired: enterCapabilityMode(p, tid: thread.tid)
        }
        resume(thread.tid)
        return true
    }

    // MARK: - seccomp stops

    func seccompStop(_ thread: ThreadState) {
        guard let info = try? Tracee.syscallInfo(thread.tid), info.op == 3,
              let p = table.process(thread.pid) else { resume(thread.tid); return }
        if let r = repeatable {
            if r.matches(thread, info), repeatViolation(thread, p, info, r) { return }
            repeatable = nil
        }
        if let counter = p.syscalls {
            // run --syscalls: every call stops here once; one that stopped only to be counted goes on at once
            // (unless the program's own filters may have returned TRACE with their own data: tagOfStop).
            counter.count(auditArch: info.arch, rawNumber: info.nr, arg0: info.args.0, arg1: info.args.1,
                          after: p.capabilityMode, pid: p.pid)
            if info.ret_data == UInt32(FilterBuilder.Tag.count.rawValue), p.seccompFilters.isEmpty {
                resume(thread.tid)
                return
            }
        }
        let args = withUnsafeBytes(of: info.args) { Array($0.bindMemory(to: UInt64.self)) }
        guard let stop = SyscallStop(auditArch: info.arch, rawNumber: Int(info.nr), args: args) else {
            resume(thread.tid)
            return
        }
        let name = stop.name
        var tag = tagOfStop(p, info: info, stop: stop)
        if tag.contains(.conditional) {
            tag = core.counting.effective(tag, abi: stop.abi, nr: stop.nr, args: args)
            if tag == .count { resume(thread.tid); return }
        }
        var wantExit = false
        var candidate: PtraceRepeat? = nil

        if tag.contains(.mappings), let name, FilterBuilder.mapsCode(name, abi: stop.abi, args: args) {
            recorder.unwinderMappingsChanged(pid: p.pid)
        }
        if tag.contains(.lifecycle), let name { keepChildrenTraced(thread, name: name, args: args) }
        if stop.syscall?.changesWorkingDirectory == true {
            // The directory may change: forget it now, and again when the call has returned.
            forgetCurrentDirectory(p)
            thread.forgetCwdAtExit = true
            wantExit = true
        }

        if tag.contains(.seccompInstall), let name, FilterBuilder.installsSeccompFilter(name, args),
           let program = readFilterProgram(thread, abi: stop.abi, name: name, args: args) {
            thread.pendingFilter = (name, name == "seccomp" ? args[1] : 0, program)
            wantExit = true
        }

        if tag.contains(.trigger), !p.capabilityMode, let name, options.trigger.matches(syscall: name, args: args) {
            thread.pendingTrigger = true
            wantExit = true
        }

        if tag.contains(.policy), p.capabilityMode, options.policy != nil {
            if policyStop(thread, p, stop, info: info) { return }  // refused and resumed (enforce)
            wantExit = wantExit || thread.pendingViolation != nil
        } else if tag.contains(.policy), p.capabilityMode {
            var call = Decoder.decode(stop, pid: p.pid, tid: thread.tid,
                                      sameProcess: { [table] target in table.isThread(target, ofProcess: p.pid) })
            if case .violation(let ns, let rule) = BeneathResolver.classify(&call, pidfd: { p.openPidfd() }) {
                var draft = recorder.draft(call, namespace: ns, rule: rule, stoppedAt: (info.ip, info.sp),
                                           cwd: { self.currentDirectory(thread) })
                if draft.event.action == .allowed && core.enforce {
                    draft.event.action = .denied
                    draft.event.errno = options.denyErrnoName
                    deny(thread.tid, errno: options.denyErrno)
                    recorder.write(draft)
                    resume(thread.tid)
                    return
                }
                if resultWanted(draft) {
                    thread.pendingViolation = draft
                    wantExit = true
                } else {
                    candidate = repeatable(thread, p, info: info, tag: tag, call: call, base: draft.event.raw?.base)
                    recorder.write(draft)
                }
            } else if core.enforce {
                PtraceEnforcement.confine(call, tid: thread.tid)
            }
        }

        if let name, tag.contains(.landlock) || p.landlock.restricted,
           let pending = LandlockTracker.seccompStop(stop, name: name, p: p, tid: thread.tid, cwd: { self.currentDirectory(thread) }) {
            thread.pendingLandlock = pending
            wantExit = true
        }

        if tag.contains(.rights), p.capabilityMode, let rights, let name,
           rights.seccompStop(thread, p, name: name, args: args) {
            wantExit = true
        }

        if wantExit {
            thread.awaitingExit = true
            try? Tracee.toSyscallExit(thread.tid)
        } else {
            repeatable = candidate
            resume(thread.tid)
        }
    }

    // MARK: - A repeated violation (observe mode, no stacks)

    /// The violation this stop recorded, as the one a next stop equal to it can repeat (`repeatViolation`), or
    /// nil when a stop equal in its registers could be judged or recorded differently: with stacks, results of
    /// every call, enforce mode, a policy, `--rights` or `--syscalls`; a process with filters or Landlock rulesets
    /// of its own; a stop tagged for more than the capability-mode rules; a call `RepeatedCall` refuses.
    /// `base`: the drafted call's.
    func repeatable(_ thread: ThreadState, _ p: ProcessState, info: ct_syscall_info, tag: FilterBuilder.Tag,
                    call: DecodedCall, base: String?) -> PtraceRepeat? {
        guard options.stackDepth == 0, !options.allResults, !core.enforce, options.policy == nil, rights == nil,
              p.syscalls == nil, p.seccompFilters.isEmpty, !p.landlock.restricted, tag == .policy,
              let c = RepeatedCall(arch: info.arch, nr: info.nr, args: info.args, call: call, base: base,
                                   draftSerial: recorder.draftSerial) else { return nil }
        return PtraceRepeat(thread: thread, process: p, retData: info.ret_data, resultsCleared: resultsCleared, call: c)
    }

    /// The repeat path: a stop equal to the one before — the same thread and process (still in capability mode,
    /// still without filters or rulesets of their own), the same number, registers and filter tag, its one path
    /// reading the same bytes, the same directory, its site and path's result already recorded — is recorded as
    /// that violation again, without being decoded, judged or drafted: the full path would reach the recorder's
    /// repeat (`Recorder.draft`) with equal facts, and `resultWanted` would say no. False: handle it in full.
    func repeatViolation(_ thread: ThreadState, _ p: ProcessState, _ info: ct_syscall_info, _ r: PtraceRepeat) -> Bool {
        guard p === r.process, p.capabilityMode, p.seccompFilters.isEmpty, !p.landlock.restricted,
              resultsCleared == r.resultsCleared,
              r.call.samePath(memFd: -1, pid: p.pid, buffer: repeatPath),
              r.call.sameDirectory({ currentDirectory(thread) }),
              let draft = recorder.redraft(serial: r.call.draftSerial, pid: p.pid, tid: thread.tid) else { return false }
        recorder.write(draft)
        resume(thread.tid)
        return true
    }

    /// Under --policy: records a call the policy refuses; in enforce mode applies the policy's action and
    /// resumes the thread (returns true). In observe mode the call proceeds; its result is awaited (the draft
    /// left pending) for the first of its site.
    func policyStop(_ thread: ThreadState, _ p: ProcessState, _ stop: SyscallStop, info: ct_syscall_info) -> Bool {
        guard let refusal = core.policyRefusal(stop) else { return false }
        let call = Decoder.decode(stop, pid: p.pid, tid: thread.tid,
                                  sameProcess: { [table] target in table.isThread(target, ofProcess: p.pid) })
        var draft = recorder.draft(call, namespace: .policy, rule: .seccompProfile, stoppedAt: (info.ip, info.sp),
                                   cwd: { self.currentDirectory(thread) })
        draft.event.verdict = refusal.verdict
        guard core.enforce, draft.event.action == .allowed else {
            if resultWanted(draft) { thread.pendingViolation = draft } else { recorder.write(draft) }
            return false
        }
        draft.event.action = .denied
        switch refusal.enforcement {
        case .fail(let e):
            draft.event.errno = Errno.name(e) ?? "E\(e)"
            deny(thread.tid, errno: e)
        case .trap:
            draft.event.result = Int64(info.nr)
            skip(thread.tid)
            core.trapSIGSYS(pid: p.pid, tid: thread.tid)
        case .killProcess, .killThread:
            deny(thread.tid, errno: ENOSYS)  // never run; the signal ends the process on the way back
            core.killBySIGSYS(pid: p.pid, tid: thread.tid, threadOnly: refusal.enforcement == .killThread)
        }
        recorder.write(draft)
        resume(thread.tid)
        return true
    }

    /// The (site, path or address) pairs whose result was recorded once already, as `ResultKey`s.
    var resultsSeen: Set<ResultKey> = []
    /// How many times `resultsSeen` was emptied.
    var resultsCleared = 0
    /// The violation the last seccomp stop recorded, when the next may repeat it (`repeatable`).
    var repeatable: PtraceRepeat?
    /// Where the repeat path reads a path (`Decoder.maxPath` bytes and a NUL).
    let repeatPath = UnsafeMutablePointer<CChar>.allocate(capacity: Decoder.maxPath + 1)

    /// Whether to stop the call again at its exit for its result: for the first violation of each site and
    /// path (or address), or every one with `--all-results`. A repeated violation of a known site then costs
    /// one stop instead of two.
    func resultWanted(_ d: borrowing ViolationEventDraft) -> Bool {
        if options.allResults { return true }
        if resultsSeen.count >= 1 << 16 {  // bounded: a result again
            resultsSeen.removeAll(keepingCapacity: true)
            resultsCleared += 1
        }
        let key = resultKeys.key(of: d)
        if resultsSeen.contains(key) { return false }
        resultsSeen.insert(key.owned())
        return true
    }
    /// Where `resultWanted` writes each stop's key.
    var resultKeys = ResultKeyWriter()

    func syscallExitStop(_ thread: ThreadState) {
        let info = try? Tracee.syscallInfo(thread.tid)
        if info?.op == 1, let info { syscallEntryStop(thread, info); return }
        thread.awaitingExit = false
        if thread.forgetCwdAtExit, let p = table.process(thread.pid) {
            thread.forgetCwdAtExit = false
            forgetCurrentDirectory(p)
        }
        let ok = info?.op == 2
        if var pending = thread.pendingViolation {
            thread.pendingViolation = nil
            if ok, let info {
                if info.is_error != 0 { pending.event.errno = Errno.name(Int32(-info.rval)) ?? "E\(-info.rval)" }
                else { pending.event.result = info.rval }
            }
            recorder.write(pending)
        }
        if thread.pendingTrigger {
            thread.pendingTrigger = false
            // sandbox: only a sandboxing step that succeeded; syscall:NAME: any completed call.
            let counts: Bool
            if case .sandbox = options.trigger { counts = ok && info?.is_error == 0 } else { counts = ok }
            if counts, let p = table.process(thread.pid) { enterCapabilityMode(p, tid: thread.tid) }
        }
        if let pending = thread.pendingLandlock {
            thread.pendingLandlock = nil
            if ok, let info, let p = table.process(thread.pid) {
                LandlockTracker.exitStop(pending, p: p, tid: thread.tid, result: info.rval, isError: info.is_error != 0,
                                         recorder: recorder)
            }
        }
        if let pending = thread.pendingFilter {
            thread.pendingFilter = nil
            // Success: 0, or the listener descriptor with SECCOMP_FILTER_FLAG_NEW_LISTENER (with TSYNC a positive
            // value is the thread that could not be synchronised: a failure).
            if ok, let info, info.is_error == 0,
               info.rval == 0 || (pending.flags & 8 != 0 && pending.flags & 1 == 0),
               let p = table.process(thread.pid) {
                filtersInstalled += 1
                p.seccompFilters.append((filtersInstalled, pending.program))
                recorder.emit(.seccompFilter(SeccompFilterEvent(
                    id: filtersInstalled, pid: p.pid, tid: thread.tid, tNs: recorder.now(), syscall: pending.syscall,
                    flags: pending.flags, program: pending.program, stack: recorder.stack(pid: p.pid, tid: thread.tid))))
            }
        }
        if var refusal = thread.pendingRefusal {
            thread.pendingRefusal = nil
            if ok, let info, info.is_error != 0, case .errno(let e) = SeccompAction(refusal.value), info.rval == -Int64(e) {
                refusal.result = info.rval
                recorder.emit(.refusal(refusal))
            }
        }
        if let pending = thread.pendingFDOp {
            thread.pendingFDOp = nil
            if ok, let info, let rights, let p = table.process(thread.pid) {
                rights.exitStop(thread, p, pending, result: info.rval, isError: info.is_error != 0)
            }
        }
        resume(thread.tid)
    }

    // MARK: - The program's own seccomp filters

    /// Why captrace's filter stopped the call: its SECCOMP_RET_DATA tag. But when the program's own filters
    /// return TRACE for the call too, the kernel reports the newest filter's data, the program's: then the tag
    /// is the one captrace's filter gives this call (`SupervisorCore.ruleTags`; every test a tag stands for is
    /// checked again on the arguments).
    func tagOfStop(_ p: ProcessState, info: ct_syscall_info, stop: SyscallStop) -> FilterBuilder.Tag {
        let reported = FilterBuilder.Tag(rawValue: UInt16(truncatingIfNeeded: info.ret_data))
        guard !p.seccompFilters.isEmpty else { return reported }
        let data = SeccompData(nr: Int32(truncatingIfNeeded: info.nr), arch: info.arch, instructionPointer: info.ip, args: stop.args)
        guard case .trace = SeccompAction(Interpreter.decide(p.seccompFilters.map(\.program), data).value) else { return reported }
        return core.ruleTags[stop.abi.ordinal << 32 | stop.nr] ?? []
    }

    /// Filters recorded so far (their ids in the trace).
    var filtersInstalled = 0

    /// The program a seccomp(SECCOMP_SET_MODE_FILTER, flags, fprog) or prctl(PR_SET_SECCOMP, 2, fprog) call
    /// installs, read from `struct sock_fprog` (x86_64: len at 0, pointer at 8; i386 and x32, the kernel's compat
    /// layout: pointer at 4) and its
    /// instructions; nil when it cannot be read or is not 1 to 4096 instructions (the kernel refuses those).
    func readFilterProgram(_ thread: ThreadState, abi: ABI, name: String, args: [UInt64]) -> [Instruction]? {
        let addr = args[2]
        guard addr != 0 else { return nil }
        var head = [UInt8](repeating: 0, count: 16)
        let compat = abi != .x86_64
        let size = compat ? 8 : 16
        guard ct_read_mem(thread.pid, UInt(addr), &head, size) == size else { return nil }
        let len = Int(head[0]) | Int(head[1]) << 8
        var ptr: UInt64 = 0
        for i in (compat ? 4..<8 : 8..<16).reversed() { ptr = ptr << 8 | UInt64(head[i]) }
        guard len > 0, len <= BPF.maxInstructions, ptr != 0 else { return nil }
        var raw = [UInt8](repeating: 0, count: len * 8)
        guard ct_read_mem(thread.pid, UInt(ptr), &raw, raw.count) == raw.count else { return nil }
        return (0..<len).map { Instruction(bytes: raw[$0 * 8..<$0 * 8 + 8]) }
    }

    /// A syscall-entry stop (only processes with their own filters get them): runs the process's filters on the
    /// call as the kernel is about to. A refusal is recorded with the call's stack: KILL and TRAP now (the call
    /// never returns normally), ERRNO at the exit stop, when the result shows the filter's errno.
    func syscallEntryStop(_ thread: ThreadState, _ info: ct_syscall_info) {
        defer { resume(thread.tid) }
        guard let p = table.process(thread.pid), !p.seccompFilters.isEmpty else { return }
        let args = withUnsafeBytes(of: info.args) { Array($0.bindMemory(to: UInt64.self)) }
        let data = SeccompData(nr: Int32(truncatingIfNeeded: info.nr), arch: info.arch, instructionPointer: info.ip, args: args)
        guard !data.bypassesFilters else { return }
        let (value, decided) = Interpreter.decide(p.seccompFilters.map(\.program), data)
        let action = SeccompAction(value)
        guard let decided, action.refuses,
              let call = Catalog.abi(auditArch: info.arch, rawNumber: Int(truncatingIfNeeded: info.nr)) else { return }
        let name = Catalog.shared.syscall(abi: call.abi, nr: call.nr)?.name ?? "syscall_\(call.nr)"
        let refusal = RefusalEvent(pid: p.pid, tid: thread.tid, tNs: recorder.now(), abi: call.abi, nr: call.nr,
                                   syscall: name, args: args, value: value, filter: p.seccompFilters[decided].id,
                                   stack: recorder.stack(pid: p.pid, tid: thread.tid))
        if case .errno = action { thread.pendingRefusal = refusal } else { recorder.emit(.refusal(refusal)) }
    }

    /// The thread's current directory, read from /proc once and kept until a call that may change it.
    func currentDirectory(_ thread: ThreadState) -> String? {
        if let c = thread.cwd { return c }
        thread.cwd = ProcFS.cwd(thread.tid)
        return thread.cwd
    }

    /// Threads share their directory (CLONE_FS): a change by one is forgotten for all of its process.
    func forgetCurrentDirectory(_ p: ProcessState) {
        for tid in p.threads { table.thread(tid)?.cwd = nil }
    }

    /// Skips the call as the kernel's SECCOMP_RET_TRAP does: not run, the return register left holding the
    /// call's own number (the kernel's syscall_rollback).
    func skip(_ tid: Int32) {
        let t = Tracee()
        guard var regs = try? t.registers(tid) else { return }
        regs.rax = regs.orig_rax
        regs.orig_rax = UInt64(bitPattern: -1)
        try? t.setRegisters(tid, regs)
    }

    /// Makes the call fail with `errno` without running it: orig_rax = -1 skips it, rax is its return value.
    func deny(_ tid: Int32, errno e: Int32) {
        let t = Tracee()
        guard var regs = try? t.registers(tid) else { return }
        regs.orig_rax = UInt64(bitPattern: -1)
        regs.rax = UInt64(bitPattern: Int64(-e))
        try? t.setRegisters(tid, regs)
    }

    /// clone(CLONE_UNTRACED) would create a child outside captrace whose trapped calls fail with ENOSYS:
    /// strip the flag (in the register for clone, in struct clone_args for clone3).
    func keepChildrenTraced(_ thread: ThreadState, name: String, args: [UInt64]) {
        if name == "clone", args[0] & FilterBuilder.cloneUntraced != 0 {
            let t = Tracee()
            guard var regs = try? t.registers(thread.tid) else { return }
            regs.rdi &= ~FilterBuilder.cloneUntraced
            try? t.setRegisters(thread.tid, regs)
        } else if name == "clone3", args[0] != 0 {
            var flags: UInt64 = 0
            guard ct_read_mem(thread.pid, UInt(args[0]), &flags, 8) == 8, flags & FilterBuilder.cloneUntraced != 0 else { return }
            flags &= ~FilterBuilder.cloneUntraced
            _ = ct_write_mem(thread.pid, UInt(args[0]), &flags, 8)
        }
    }
}

/// A violation a next seccomp stop may repeat (PtraceTransport.repeatable): the call (`RepeatedCall`), the stop's
/// thread, process and filter tag.
final class PtraceRepeat {
    let thread: ThreadState
    let process: ProcessState
    let retData: UInt32
    /// `PtraceTransport.resultsCleared` then.
    let resultsCleared: Int
    let call: RepeatedCall

    init(thread: ThreadState, process: ProcessState, retData: UInt32, resultsCleared: Int, call: RepeatedCall) {
        self.thread = thread; self.process = process; self.retData = retData; self.resultsCleared = resultsCleared
        self.call = call
    }

    /// The same thread stopped for the same call, with the same registers and filter data.
    func matches(_ t: ThreadState, _ info: ct_syscall_info) -> Bool {
        t === thread && info.ret_data == retData && call.matches(arch: info.arch, nr: info.nr, args: info.args)
    }
}

/// What decides whether a violation's result is wanted, as bytes: the call (ABI and number), its site or — for a
/// stack the recording thread names — what decides the site (each frame's interned module and offset, or pc
/// without a module), what it names (the memory read to judge it: paths, socket address, socketcall words) and
/// the directory a relative path is joined with. Equal keys exactly when all of these are equal: each part is
/// written with its length. Hashed as one run of bytes (a `Set` of the parts hashed and compared a dictionary
/// of strings per stop).
/// A stop's key is written in place, in the room `ResultKeyWriter` keeps from one stop to the next, and looked up
/// as it lies there; only a key not seen before is copied, to be kept in the set. (Appending each word to an
/// array, its uniqueness and capacity checked per word, was most of `resultWanted`'s cost.)
struct ResultKey: Hashable {
    private let start: UnsafeRawPointer
    private let count: Int
    /// The copy a key kept in the set owns; nil for a key that only looks at the writer's room.
    private let owner: Bytes?

    /// Looks at `count` bytes at `start`, which the caller keeps as they are while the key is used.
    fileprivate init(looking start: UnsafeRawPointer, count: Int) {
        self.start = start; self.count = count; owner = nil
    }

    /// The same bytes in a copy of their own (for the set to keep).
    func owned() -> ResultKey {
        if owner != nil { return self }
        let b = Bytes(copying: start, count: count)
        return ResultKey(bytes: b)
    }

    private init(bytes: Bytes) {
        start = UnsafeRawPointer(bytes.start); count = bytes.count; owner = bytes
    }

    private final class Bytes {
        let start: UnsafeMutableRawPointer
        let count: Int
        init(copying from: UnsafeRawPointer, count: Int) {
            start = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 8)
            start.copyMemory(from: from, byteCount: count)
            self.count = count
        }
        deinit { start.deallocate() }
    }

    func hash(into h: inout Hasher) { h.combine(bytes: UnsafeRawBufferPointer(start: start, count: count)) }
    /// Byte for byte with `memcmp`.
    static func == (a: ResultKey, b: ResultKey) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.start, b.start, a.count) == 0)
    }
}

/// Writes a violation's `ResultKey` into room of its own, kept (and grown when a key needs more) from one stop
/// to the next.
struct ResultKeyWriter: ~Copyable {
    private var room: UnsafeMutableRawPointer
    private var capacity: Int
    private var count = 0

    init(capacity: Int = 512) {
        self.capacity = capacity
        room = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit { room.deallocate() }

    /// The key of `d`, looking at this writer's room: valid until the next `key(of:)`.
    mutating func key(of d: borrowing ViolationEventDraft) -> ResultKey {
        count = 0
        word(UInt64(d.event.abi.ordinal) << 32 | UInt64(UInt32(truncatingIfNeeded: d.event.nr)))
        text(d.event.site)
        if let frames = d.rawStack?.frames {
            word(UInt64(frames.count))
            for f in frames {
                if let m = f.module { word(UInt64(UInt(bitPattern: m))); word(f.offset) } else { word(0); word(f.pc) }
            }
        } else {
            word(0)
        }
        if let raw = d.event.raw {
            word(1)
            let strings = raw.memory.strings
            word(UInt64(strings.count))
            if strings.count == 1, let (k, v) = strings.first {
                word(UInt64(UInt(bitPattern: k))); text(v)
            } else {
                for (k, v) in strings.sorted(by: { $0.key < $1.key }) { word(UInt64(UInt(bitPattern: k))); text(v) }
            }
            if let a = raw.memory.sockaddr {
                word(UInt64(a.count) + 1)
                a.withUnsafeBytes { append($0) }
            } else {
                word(0)
            }
            if let w = raw.memory.socketcall { word(UInt64(w.count) + 1); for x in w { word(x) } } else { word(0) }
            if let b = raw.base { word(1); text(b) } else { word(0) }
        } else {
            word(0)
        }
        return ResultKey(looking: room, count: count)
    }

    private mutating func reserve(_ n: Int) {
        guard count + n > capacity else { return }
        let bigger = max(2 * capacity, count + n)
        let r = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 8)
        r.copyMemory(from: room, byteCount: count)
        room.deallocate()
        room = r
        capacity = bigger
    }

    private mutating func word(_ v: UInt64) {
        reserve(8)
        room.storeBytes(of: v.littleEndian, toByteOffset: count, as: UInt64.self)
        count += 8
    }

    private mutating func append(_ b: UnsafeRawBufferPointer) {
        reserve(b.count)
        if let base = b.baseAddress { (room + count).copyMemory(from: base, byteCount: b.count) }
        count += b.count
    }

    private mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { u in word(UInt64(u.count)); append(UnsafeRawBufferPointer(u)) }
    }
}
