import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// The notification loop of the notify backend, run by its worker threads (NotifyTransport.workerCount), one receiving at a time (NotifyBaton).
///
/// Capability state without ptrace. Notifications come from every descendant; a thread seen for the first time
/// is placed from /proc (Tgid, PPid). Threads share their process's mode. A process seen for the first time
/// inherits capability mode when its parent is in it and was not already its parent when the parent entered:
/// each process's children are listed (/proc/PID/task/*/children) at the moment it enters. A parent that was
/// itself never seen is placed the same way, recursively. Remaining window: a process forked after entry whose
/// parent exits before the process makes its first trapped call is reparented (to the keeper) and, with its
/// lineage gone, is treated as outside capability mode; a child forked by another thread in the very moment its
/// parent enters may be counted on either side.
extension NotifyTransport {

    /// One worker: receives while it holds the baton (NotifyBaton), handles, and receives again. A worker that
    /// returns passes the baton on, so every other one in turn sees the listener hang up too.
    func worker() {
        var n = ct_notif()
        let lead = Lead(baton)
        let scratch = WorkerScratch()
        let pins = core.pins
        defer { lead.yield() }
        while true {
            lead.take()
            let r = ct_notif_recv(listener, &n, stopping.pointer)
            if r != 0 {
                // ENOENT: withdrawn, or nothing uses the filter any more (then POLLHUP).
                if r == -ENOENT || r == -EINTR {
                    if ct_notif_hup(listener) != 0 { return }
                    if stopping.isSet && ct_notif_wait_hup(listener, 50) != 0 { return }
                    continue
                }
                return
            }
            // Pinned again: the exit watcher, which waits long while the program is not, ticks again.
            if pins.noteStop() { ct_eventfd_signal(wakeFd) }
            handle(n, lead: lead, scratch: scratch)
        }
    }

    /// `lead`: yielded before work that may block (see NotifyBaton); nil when not called by a worker.
    /// `scratch`: the worker's own values of its last call, shared by this one where equal.
    func handle(_ n: ct_notif, lead: Lead? = nil, scratch: WorkerScratch? = nil) {
        let tid = Int32(bitPattern: n.pid)
        if options.syscalls, count(n, tid: tid) { return }
        if let scratch, let r = scratch.repeatable {
            if r.matches(n), repeatViolation(n, r, scratch) { return }
            scratch.repeatable = nil
        }
        let args = scratch?.args(n) ?? [n.args.0, n.args.1, n.args.2, n.args.3, n.args.4, n.args.5]
        guard let stop = SyscallStop(auditArch: n.arch, rawNumber: Int(n.nr), args: args) else {
            _ = ct_notif_continue(listener, n.id)
            return
        }
        let isExec = stop.syscall?.touches == .exec

        // Where the caller stands.
        let state: (pid: Int32, inMode: Bool, memFd: Int32)? = lock.locked {
            guard let pid = placeThread(tid, pc: n.ip) else { return nil }
            if mapsCode, codeMappers[stop.abi.ordinal].contains(stop.nr),
               FilterBuilder.mapsCode(stop.name ?? "", abi: stop.abi, args: args) {
                recorder.unwinderMappingsChanged(pid: pid)  // before the call is let go: the next walk reads again
                extra[pid]?.codeMappedAfterPid = lastPid.read()  // for children not placed yet
            }
            let x = extra[pid]
            noteDirectoryChange(x, tid: tid, changes: stop.syscall?.changesWorkingDirectory == true)
            let inMode = table.process(pid)?.capabilityMode ?? false
            return (pid, inMode, memoryFile(x, pid: pid, stop: stop, inMode: inMode, isExec: isExec))
        }
        guard let (pid, inMode, memFd) = state else {
            _ = ct_notif_continue(listener, n.id)  // vanished
            return
        }
        if seccompInstallers[stop.abi.ordinal].contains(stop.nr), FilterBuilder.installsSeccompFilter(stop.name ?? "", args) {
            _ = lock.locked { ownFilterPids.insert(pid) }
        }

        if !inMode {
            if options.trigger.matches(syscall: stop.name ?? "", args: args) {
                // syscall:NAME / sandbox: the call is let through, and capability mode begins the moment it is
                // (under the lock, so no later call of the process is judged before the entry is recorded).
                // An exec trigger is still an exec: its event is written once the new image is seen (checkExec),
                // as under ptrace (there before the entry, which ptrace places at the call's return).
                lock.locked {
                    if isExec { noteExec(pid) }
                    guard ct_notif_continue(listener, n.id) == 0 else { return }
                    if let p = table.process(pid) { core.enterCapabilityMode(p, tid: tid, stack: Self.registers(tid)) }
                }
                return
            }
            if isExec { lock.locked { noteExec(pid) } }
            _ = ct_notif_continue(listener, n.id)
            return
        }

        if hasPolicy {
            policyCall(n, stop: stop, pid: pid, tid: tid, isExec: isExec, memFd: memFd)
            return
        }
        guard let syscall = stop.syscall, CapabilityPolicy.standard.mayViolate(abi: stop.abi, nr: stop.nr) else {
            _ = ct_notif_continue(listener, n.id)
            return
        }
        // The program's threads are not all known here (no ptrace): a pid/tid argument is checked in /proc.
        var memory = Decoder.Memory(pid: pid, fd: memFd, previous: scratch?.memory)
        var call = Decoder.decode(stop, memory: &memory, tid: tid,
                                  sameProcess: { access("/proc/\(pid)/task/\($0)", F_OK) == 0 })
        if memory.fdFailed { lock.locked { memoryFileFailed(pid, fd: memFd) } }
        scratch?.memory = call.memory
        // A copy of the process's pidfd: the exit watcher may close the original meanwhile.
        let verdict = BeneathResolver.classify(&call, pidfd: { lead?.yield(); return lock.locked { extra[pid].map { $0.pidfd >= 0 ? dup($0.pidfd) : -1 } ?? -1 } },
                                                done: { if $0 >= 0 { close($0) } })

        guard case .violation(let ns, let rule) = verdict else {
            // Acting on what was read needs the caller to be the one that asked (NOTIF_ID_VALID); letting the
            // call proceed does not: a CONTINUE for a notification that is no longer valid fails harmlessly.
            if enforce, NotifyEnforcement.dependsOnMemory(syscall) {
                guard ct_notif_id_valid(listener, n.id) != 0 else { return }
                lead?.yield()
                _ = NotifyEnforcement.act(self, call, syscall: syscall, id: n.id, base: .heldDirectories)
                return
            }
            if isExec { lock.locked { noteExec(pid) } }  // fexecve
            _ = ct_notif_continue(listener, n.id)
            return
        }
        let performed: ViolationEventDraft? = lock.locked {
            let pcSp = options.stackDepth > 0 ? waitingRegisters(pid: pid, tid: tid) : nil
            var draft = recorder.draft(call, namespace: ns, rule: rule, pcSp: pcSp, cwd: { self.currentDirectory(pid) })
            // Every read of the program's memory is done. Before captrace performs the call on what it read,
            // the caller must still be the one that asked (NOTIF_ID_VALID). An answer (CONTINUE, or the deny
            // errno) needs no such check: its own success says so — a notification that is no longer valid
            // (its thread gone, its pid reused) cannot be answered, and a thread still waiting for its answer
            // was there all along, so what was read was its own. A violation is recorded only once its answer
            // was accepted.
            if enforce, draft.event.action == .allowedByBaseline, NotifyEnforcement.violationDependsOnMemory(syscall) {
                guard ct_notif_id_valid(listener, n.id) != 0 else { return nil }
                return draft  // performed by captrace, outside the lock (it may wait for a socket)
            }
            let answered: Int32
            if draft.event.action == .allowed && enforce {
                draft.event.action = .denied
                draft.event.errno = options.denyErrnoName
                answered = ct_notif_reply(listener, n.id, 0, options.denyErrno)
            } else {
                if isExec { noteExec(pid, path: call.path) }
                answered = ct_notif_continue(listener, n.id)
            }
            guard answered == 0 else { return nil }  // withdrawn: it comes back as a new notification
            if let scratch, !enforce, !memory.fdFailed {
                scratch.repeatable = repeatable(n, call: call, pid: pid, memFd: memFd, isExec: isExec, base: draft.event.raw?.base)
            }
            recorder.write(draft)
            recorder.tickStatus(processes: table.processCount)
            return nil
        }
        guard var draft = performed else { return }
        lead?.yield()
        // Allowed by the baseline in enforce mode: captrace performs the call it checked, and records its result.
        _ = NotifyEnforcement.act(self, call, syscall: syscall, id: n.id,
                                  base: .baseline(path: draft.event.path, address: draft.event.address)) { outcome in
            switch outcome {
            case .withdrawn, .continued: break
            case .returned(let v): draft.event.result = v
            case .failed(let e): draft.event.errno = Errno.name(e) ?? "E\(e)"
            case .refused:
                draft.event.action = .denied
                draft.event.errno = self.options.denyErrnoName
            }
            self.recorder.write(draft)  // under the lock, right after the answer (NotifyEnforcement.act)
            self.recorder.tickStatus(processes: self.table.processCount)
        }
    }

    // MARK: - A repeated violation (observe mode, no stacks)

    /// The violation just answered (lock held), as the one a next call equal to it can repeat
    /// (`repeatViolation`), or nil when a call equal in its registers could be judged or recorded differently:
    /// with stacks (each has its own), a call `RepeatedCall` refuses, or one with effects on what the worker keeps
    /// (exec, seccomp filters). `base`: the drafted call's.
    func repeatable(_ n: ct_notif, call: DecodedCall, pid: Int32, memFd: Int32, isExec: Bool, base: String?)
        -> RepeatableViolation?
    {
        guard options.stackDepth == 0, memFd >= 0, !isExec, !seccompInstallers[call.abi.ordinal].contains(call.nr),
              let x = extra[pid],
              let c = RepeatedCall(arch: n.arch, nr: UInt64(bitPattern: Int64(n.nr)), args: n.args, call: call,
                                   base: base, draftSerial: recorder.draftSerial) else { return nil }
        return RepeatableViolation(tid: Int32(bitPattern: n.pid), pid: pid, process: x, memFd: memFd, call: c)
    }

    /// The repeat path: a call equal to the violation this worker recorded just before — the same thread,
    /// number and registers, its one path reading the same bytes, and what the full path would look up about
    /// its process unchanged (thread, capability mode, memory file, directory, no exec pending) — is recorded as
    /// that violation again, without being decoded, judged or drafted: the full path would reach the
    /// recorder's repeat (`Recorder.draft`) with equal facts. False: handle it in full.
    func repeatViolation(_ n: ct_notif, _ r: RepeatableViolation, _ scratch: WorkerScratch) -> Bool {
        lock.locked {
            // As placeThread, noteDirectoryChange and memoryFile would find it (each then changes nothing).
            guard memFilesToClose.isEmpty, table.thread(r.tid)?.pid == r.pid, let x = extra[r.pid], x === r.process,
                  x.memFd == r.memFd, x.pendingExec == nil, x.cwdChanging.isEmpty,
                  table.process(r.pid)?.capabilityMode == true,
                  r.call.samePath(memFd: r.memFd, pid: r.pid, buffer: scratch.path),
                  r.call.sameDirectory({ currentDirectory(r.pid) }),
                  let draft = recorder.redraft(serial: r.call.draftSerial, pid: r.pid, tid: r.tid) else { return false }
            if ct_notif_continue(listener, n.id) == 0 {  // else withdrawn: it comes back as a new notification
                recorder.write(draft)
                recorder.tickStatus(processes: table.processCount)
            }
            return true
        }
    }

    /// run --syscalls: counts the call for its process; true when it trapped only to be counted and was let go.
    func count(_ n: ct_notif, tid: Int32) -> Bool {
        let countOnly = Catalog.abi(auditArch: n.arch, rawNumber: Int(n.nr)).map { core.counting.countOnly(abi: $0.abi, nr: $0.nr) } ?? true
        lock.locked {
            guard let pid = placeThread(tid), let p = table.process(pid) else { return }
            p.syscalls?.count(auditArch: n.arch, rawNumber: UInt64(bitPattern: Int64(n.nr)), arg0: n.args.0,
                              arg1: n.args.1, after: p.capabilityMode, pid: pid)
        }
        guard countOnly else { return false }
        _ = ct_notif_continue(listener, n.id)
        return true
    }

    /// Under --policy, a call of a process after entry: let through when the policy lets it run; else recorded
    /// (with what decided it) and, in enforce mode, answered as the kernel answers the policy's action.
    func policyCall(_ n: ct_notif, stop: SyscallStop, pid: Int32, tid: Int32, isExec: Bool, memFd: Int32) {
        guard let refusal = core.policyRefusal(stop) else {
            if isExec { lock.locked { noteExec(pid) } }
            _ = ct_notif_continue(listener, n.id)
            return
        }
        var memory = Decoder.Memory(pid: pid, fd: memFd)
        let call = Decoder.decode(stop, memory: &memory, tid: tid,
                                  sameProcess: { access("/proc/\(pid)/task/\($0)", F_OK) == 0 })
        if memory.fdFailed { lock.locked { memoryFileFailed(pid, fd: memFd) } }
        lock.locked {
            let pcSp = options.stackDepth > 0 ? waitingRegisters(pid: pid, tid: tid) : nil
            var draft = recorder.draft(call, namespace: .policy, rule: .seccompProfile, pcSp: pcSp,
                                       cwd: { self.currentDirectory(pid) })
            draft.event.verdict = refusal.verdict
            let answered: Int32
            if enforce, draft.event.action == .allowed {
                // A signal is sent to the caller (trap, kill): it must still be the one that asked. An errno
                // answer needs no check (its own success says so, as in handle).
                if case .fail = refusal.enforcement {} else {
                    guard ct_notif_id_valid(listener, n.id) != 0 else { return }
                }
                draft.event.action = .denied
                switch refusal.enforcement {
                case .fail(let e):
                    draft.event.errno = Errno.name(e) ?? "E\(e)"
                    answered = ct_notif_reply(listener, n.id, 0, e)
                case .trap:
                    // Answered first: a signal reaching a thread that waits for its answer would interrupt the
                    // call and restart it, a new notification.
                    // The kernel's TRAP leaves the call's own number in the return register.
                    draft.event.result = Int64(n.nr)
                    answered = ct_notif_reply(listener, n.id, Int64(n.nr), 0)
                    if answered == 0 { core.trapSIGSYS(pid: pid, tid: tid) }
                case .killProcess, .killThread:
                    // The signal first: the waiting thread dies without returning to the program.
                    core.killBySIGSYS(pid: pid, tid: tid, threadOnly: refusal.enforcement == .killThread)
                    _ = ct_notif_reply(listener, n.id, 0, ENOSYS)
                    answered = 0
                }
            } else {
                if isExec { noteExec(pid) }
                answered = ct_notif_continue(listener, n.id)
            }
            guard answered == 0 else { return }  // withdrawn: it comes back as a new notification
            recorder.write(draft)
            recorder.tickStatus(processes: table.processCount)
        }
    }

    /// The registers to unwind an enter event's stack from: those of a thread waiting in a syscall.
    static func registers(_ tid: Int32) -> SupervisorCore.EnterStack {
        guard let r = NotifyProcFS.pcSp(tid) else { return .none }
        return .registers(pc: r.pc, sp: r.sp)
    }

    /// The pc and sp of thread `tid` of `pid` while it waits for its answer (lock held), from its
    /// /proc/TID/syscall, kept open while the process lives: one pread per stack instead of open, read and close.
    /// A file that no longer reads (its thread ended; the tid may be another thread's now) is opened again.
    /// The notification can arrive before its thread is asleep (a synchronous wake-up runs the worker on the
    /// thread's CPU at once): the file then says "running" until the thread gets the CPU back and waits. The
    /// worker yields it, a bounded number of times, rather than record the call without a stack.
    func waitingRegisters(pid: Int32, tid: Int32) -> (pc: UInt64, sp: UInt64)? {
        guard let x = extra[pid] else { return NotifyProcFS.pcSp(tid) }
        var pc: UInt64 = 0, sp: UInt64 = 0
        func read(_ fd: Int32) -> Bool {
            var r = ct_syscall_regs(fd, &pc, &sp)
            for _ in 0..<64 where r == -EINVAL {
                sched_yield()
                r = ct_syscall_regs(fd, &pc, &sp)
            }
            return r == 0
        }
        if let fd = x.syscallFiles.removeValue(forKey: tid) {
            if read(fd) {
                x.syscallFiles[tid] = fd
                return (pc, sp)
            }
            close(fd)
        }
        if x.syscallFiles.count >= NotifyProcess.maxSyscallFiles { x.closeSyscallFiles() }
        let fd = open("/proc/\(tid)/syscall", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        x.syscallFiles[tid] = fd
        return read(fd) ? (pc, sp) : nil
    }

    // MARK: - /proc/PID/mem, kept open per process (lock held)

    /// The process's /proc/PID/mem for the Decoder to read this call's strings with pread (one read costs ~70% of
    /// a process_vm_readv here: the permission check is done once, at open), or -1: read with process_vm_readv.
    ///
    /// An open file keeps the address space it was opened on. It must never outlive it as the process's own:
    /// - An exec gives the process a new one. Every exec is trapped (NotifyLoop: the exec is seen only so), so
    ///   the file is dropped when an exec call arrives, before it is answered, and none is opened again until
    ///   the process is seen in a new image (`checkExec`: a different auxiliary vector). An exec that fails
    ///   leaves the process reading with process_vm_readv: slower, never wrong. While an exec may be under way
    ///   no file is opened, as another thread's call could otherwise open one on the old address space just
    ///   before the switch.
    /// - A vfork or CLONE_VM child shares its parent's address space until its exec: its own file (by its own
    ///   pid) reads that shared space, which is its memory until the exec drops the file.
    /// - An address space that is gone reads nothing: the Decoder then reads with process_vm_readv and the file
    ///   is dropped (`memoryFileFailed`).
    /// Only with one worker (observe mode): the file is used outside the lock, so only the thread that uses it
    /// may close it; a process that ends has its file closed by that worker later (`memFilesToClose`).
    /// Opened at a process's `memoryFileAfter`-th string read, so that short processes do not pay for the open.
    /// `x`: the process's `extra` entry.
    func memoryFile(_ x: NotifyProcess?, pid: Int32, stop: SyscallStop, inMode: Bool, isExec: Bool) -> Int32 {
        if !memFilesToClose.isEmpty {
            for fd in memFilesToClose { close(fd) }
            memFilesToClose.removeAll(keepingCapacity: true)
        }
        guard workerCount == 1, let x else { return -1 }
        if isExec {
            x.closeMemory()
            x.memoryAfterExec = true
            return -1
        }
        if x.memFd >= 0 { return x.memFd }
        guard inMode, !x.memoryAfterExec, x.pendingExec == nil, x.memOpenFailed == false,
              let sc = stop.syscall, sc.pathIndex != nil || sc.args.contains(.string) else { return -1 }
        x.stringReads += 1
        guard x.stringReads >= NotifyProcess.memoryFileAfter else { return -1 }
        x.memFd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        if x.memFd < 0 { x.memOpenFailed = true }
        return x.memFd
    }

    /// The Decoder found `fd` reading nothing of the process any more.
    func memoryFileFailed(_ pid: Int32, fd: Int32) {
        guard let x = extra[pid], x.memFd == fd, fd >= 0 else { return }
        x.closeMemory()
    }

    // MARK: - The current directory, cached per process (lock held)

    /// A call that may change the directory (chdir, fchdir, unshare, setns: all trapped) forgets the cached one,
    /// and none is cached again until that thread's next trapped call (by then the call has returned).
    /// `x`: the caller's process's `extra` entry.
    func noteDirectoryChange(_ x: NotifyProcess?, tid: Int32, changes: Bool) {
        guard let x else { return }
        if !x.cwdChanging.isEmpty { x.cwdChanging.remove(tid) }
        if changes {
            x.cwd = nil
            x.cwdChanging.insert(tid)
        }
    }

    /// The process's current directory for joining relative paths: read from /proc once, not once per violation.
    func currentDirectory(_ pid: Int32) -> String? {
        guard let x = extra[pid] else { return ProcFS.cwd(pid) }
        if let c = x.cwd { return c }
        let c = ProcFS.cwd(pid)
        if x.cwdChanging.isEmpty { x.cwd = c }
        return c
    }

    // MARK: - Placing threads and processes (lock held)

    /// The process of thread `tid`, discovering it (and its unseen ancestors) from /proc. nil if it vanished.
    /// `pc`: the notification's (0: none), for the exec check (`checkExec`).
    func placeThread(_ tid: Int32, pc: UInt64 = 0) -> Int32? {
        let pid: Int32
        if let t = table.thread(tid) {
            pid = t.pid
        } else {
            guard let ids = NotifyProcFS.ids(tid) else { return nil }
            guard placeProcess(ids.tgid, ppid: ids.ppid, depth: 0, pidfd: ids.pidfd) else { return nil }
            core.addThread(tid: tid, pid: ids.tgid)
            pid = ids.tgid
        }
        if extra[pid]?.pendingExec != nil { checkExec(pid, tid: tid, pc: pc) }
        return pid
    }

    /// Adds process `pid` (parent `ppid`) if unknown, with the capability mode the contract gives it: in
    /// capability mode when its parent is, unless it was already the parent's child when the parent entered.
    /// False if it is not a descendant captrace can place (it vanished). `pidfd`: one of `pid` already open
    /// (taken over), or -1.
    @discardableResult
    func placeProcess(_ pid: Int32, ppid: Int32, depth: Int, pidfd: Int32 = -1) -> Bool {
        if table.process(pid) != nil {
            if pidfd >= 0 { close(pidfd) }
            return true
        }
        var inherits = false
        var parentKnown = table.process(ppid) != nil
        if !parentKnown, depth < 64, ppid > 1, ppid != launch.keeper, ppid != getpid(),
           let up = ProcFS.tgidAndPPid(ppid), up.tgid == ppid {
            parentKnown = placeProcess(ppid, ppid: up.ppid, depth: depth + 1)
        }
        if parentKnown, let parent = table.process(ppid), parent.capabilityMode {
            inherits = !(extra[ppid]?.childrenAtEntry.contains(pid) ?? false)
        }
        core.addProcess(pid: pid, ppid: ppid, inCapabilityMode: inherits)
        let x = NotifyProcess(pidfd: pidfd >= 0 ? pidfd : ct_pidfd_open(pid), isRoot: false)
        // A forked child's memory is a copy of its parent's image: the random bytes are at the same address.
        // (Had the parent exec'd between the fork and now, the address is its new image's: then nothing is
        // mapped there in the child, most likely, and the auxiliary vector is read instead.)
        if parentKnown, let px = extra[ppid] { x.randomAt = randomAddress(ppid, px) }
        extra[pid] = x
        if parentKnown, recorder.walker != nil { startUnwinderFromParent(pid, ppid: ppid) }
        // Watched from here on: the exit watcher's epoll set takes it without being woken.
        if x.pidfd >= 0 { _ = ct_epoll_add(exitSet, x.pidfd, Self.exitData(pid: pid, pidfd: x.pidfd)) }
        return true
    }

    /// A forked child's unwinder starts from a copy of its parent's (the modules it found and the unwind rules it
    /// cached), as the ptrace backend's does at the fork event, instead of reading the child's whole
    /// /proc/PID/maps and opening its modules again at its first stack: a shell's child walks once or twice
    /// before its exec (README, Performance (f)). Only while the child still runs the parent's image: the random
    /// bytes of the parent's current image (AT_RANDOM) are at the same address in the child's memory. A parent
    /// that exec'd after the fork fails that test (its new image's bytes lie elsewhere), and so does a child that
    /// exec'd before its first notification; the child then reads its own maps, as before. Nor when the parent
    /// may have mapped code since the child was forked: what the parent learned then may name other code than the
    /// child still runs at those addresses (`RemappedCodeTests`). Pids are handed out in increasing order, so the
    /// child's pid must be greater than the last pid handed out when the parent last made such a call
    /// (`codeMappedAfterPid`); after pids wrap around, a later child fails the test and reads its own maps.
    private func startUnwinderFromParent(_ pid: Int32, ppid: Int32) {
        guard let x = extra[pid], let px = extra[ppid], px.randomAt == x.randomAt,
              let mine = randomBytes(pid, x), let theirs = randomBytes(ppid, px), mine == theirs else { return }
        if let after = extra[ppid]?.codeMappedAfterPid, after != 0, !(after > 0 && pid > after) { return }
        recorder.unwinderForked(parent: ppid, child: pid)
    }

    /// An execve of `pid` is being let through: remember what tells later whether it happened. The program's own
    /// first execve (the launcher's) needs nothing: its exec error pipe tells (`checkExec`). Otherwise the 16
    /// random bytes the kernel gave the image (AT_RANDOM: at a random address, never written after start-up)
    /// when their address is known (`randomAt`, a forked child's from its parent), else the auxiliary vector.
    func noteExec(_ pid: Int32, path: PathArg? = nil) {
        guard let x = extra[pid] else { return }
        x.marker = nil
        if x.isRoot, table.process(pid)?.execed == false {
            x.initialExec = true  // its `execPath` is the launcher's, set at launch
            x.pendingExec = []
            return
        }
        if case .string(let s)? = path, s.hasPrefix("/") { x.execPath = s } else { x.execPath = nil }
        if let m = randomBytes(pid, x) {
            x.marker = m
            x.pendingExec = []
            return
        }
        x.pendingExec = NotifyProcFS.auxv(pid) ?? []
    }

    /// The AT_RANDOM bytes of the current image of `pid` (at `x.randomAt`, when known), read once per image. A
    /// parent's that exec'd since its last notification are its old image's: the image its unwinder still holds
    /// (`checkExec` resets both at that notification), so a child still running it may start from that unwinder.
    func randomBytes(_ pid: Int32, _ x: NotifyProcess) -> [UInt64]? {
        if let b = x.randomBytes { return b }
        guard x.randomAt != 0, let b = NotifyProcFS.randomBytes(pid, at: x.randomAt) else { return nil }
        x.randomBytes = b
        return b
    }

    /// Where the current image of `pid` has its AT_RANDOM bytes, read from its auxiliary vector once per image.
    func randomAddress(_ pid: Int32, _ x: NotifyProcess) -> UInt64 {
        if x.randomAt == 0, x.pendingExec == nil, let a = NotifyProcFS.auxv(pid).flatMap(NotifyProcFS.atRandom) {
            x.randomAt = a
        }
        return x.randomAt
    }

    /// The process made a call after an execve was let through: did the exec happen?
    func checkExec(_ pid: Int32, tid: Int32, pc: UInt64 = 0) {
        guard let x = extra[pid], let before = x.pendingExec, let p = table.process(pid) else { return }
        let happened: Bool
        if x.initialExec {
            // The launcher's execve: its exec error pipe's only writer is the program, close-on-exec. At EOF with
            // nothing written the exec happened; the launcher writes the errno of a failed one before it exits.
            x.initialExec = false
            var revents: Int16 = 0
            happened = withUnsafePointer(to: launch.exec_err_fd) { ct_poll_in($0, &revents, 1, 0) } == 1
                && revents & Int16(POLLHUP) != 0 && revents & Int16(POLLIN) == 0
        } else if let m = x.marker {
            // A new image has other random bytes there, or nothing mapped there at all.
            x.marker = nil
            happened = NotifyProcFS.randomBytes(pid, at: x.randomAt).map { $0 != m } ?? true
        } else {
            happened = NotifyProcFS.auxv(pid).map { $0 != before } ?? false
        }
        guard happened else {
            // Same image: the exec failed (or is still under way for another thread; then this is stale).
            if tid == pid || table.thread(tid) != nil { x.pendingExec = nil }
            return
        }
        x.pendingExec = nil
        x.randomAt = 0  // the new image's: learned when asked (`randomAddress`)
        x.codeMappedAfterPid = 0
        x.memoryAfterExec = false  // the new image: its address space may be opened
        // The file the execve named, for the unwinder to find among the new image's mappings instead of reading
        // /proc/PID/exe (procfs makes that entry for each new image: ~12-20 µs). A path another thread changed
        // meanwhile names another file, or the same one: the mappings must still show it.
        var named: SupervisorCore.NamedExec?
        if let path = x.execPath, pc != 0, recorder.unwinderTellsExecImages {
            var st = stat()
            if stat(path, &st) == 0 { named = SupervisorCore.NamedExec(pc: pc, status: st) }
        }
        x.execPath = nil
        let first = core.execed(p, tid: tid, named: named)
        if core.entersAtExec(p, firstExec: first) {
            // At the first instruction after the initial execve: nothing trapped has run since. The process the
            // launcher exec'd has no child yet: entry is the exec, so none it forks from here on stays outside.
            if first && x.isRoot { x.noChildrenAtEntry = true }
            let regs = waitingRegisters(pid: pid, tid: tid)
            core.enterCapabilityMode(p, tid: tid, stack: regs.map { .registers(pc: $0.pc, sp: $0.sp) } ?? .none)
        }
    }

    /// A process exits: an exec it made without a trapped call since is still owed its entry (`exec` trigger;
    /// not `exec:NAME`, whose match needs the image, which an exited process no longer shows).
    func finishPendingEntry(_ pid: Int32) {
        guard let x = extra[pid], x.pendingExec != nil, case .exec = options.trigger, x.isRoot,
              let p = table.process(pid), !p.execed else { return }
        // It exec'd and exited without a single trapped call: nothing to place the entry after but the exit.
        x.pendingExec = nil
        p.execed = true
        core.enterCapabilityMode(p, tid: pid, stack: .none)
    }
}

/// /proc readers the notify backend needs beyond ProcFS.
enum NotifyProcFS {
    /// The stack pointer and pc of a thread blocked in a syscall (/proc/TID/syscall: "nr a0..a5 sp pc").
    static func pcSp(_ tid: Int32) -> (pc: UInt64, sp: UInt64)? {
        guard let s = ProcFS.read("/proc/\(tid)/syscall", limit: 512) else { return nil }
        let f = s.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count >= 9, let sp = hex(f[7]), let pc = hex(f[8]) else { return nil }
        return (pc, sp)
    }

    static func hex(_ s: Substring) -> UInt64? {
        s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
    }

    /// Fields of /proc/PID/stat after the command name (field 3 is index 0).
    static func statFields(_ pid: Int32) -> [Substring]? {
        guard let s = ProcFS.read("/proc/\(pid)/stat", limit: 4096), let close = s.lastIndex(of: ")") else { return nil }
        return s[s.index(after: close)...].split(separator: " ")
    }

    /// The auxiliary vector (/proc/PID/auxv, as the kernel keeps it: binary). Each exec sets it, and two images
    /// never share one under ASLR (AT_RANDOM points into the new stack, AT_BASE at the new ld.so, AT_ENTRY and
    /// AT_PHDR name the program): the exec marker. The kernel copies it out as it is, where /proc/PID/stat's
    /// startstack, the marker before, comes in a line of 52 fields built for the read (twice per exec).
    static func auxv(_ pid: Int32) -> [UInt8]? {
        ProcFS.bytes("/proc/\(pid)/auxv", limit: 4096).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The address of the 16 random bytes of AT_RANDOM in an auxiliary vector (as `auxv` returns it).
    static func atRandom(_ auxv: [UInt8]) -> UInt64? {
        var i = 0
        while i + 16 <= auxv.count {
            let (type, value) = auxv.withUnsafeBytes { ($0.loadUnaligned(fromByteOffset: i, as: UInt64.self),
                                                        $0.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)) }
            if type == 0 { return nil }
            if type == 25 { return value != 0 ? value : nil }  // AT_RANDOM
            i += 16
        }
        return nil
    }

    /// The 16 bytes at `address` of process `pid` (the AT_RANDOM bytes), nil when they cannot be read.
    static func randomBytes(_ pid: Int32, at address: UInt64) -> [UInt64]? {
        var b: (UInt64, UInt64) = (0, 0)
        let n = withUnsafeMutableBytes(of: &b) { ct_read_mem(pid, UInt(address), $0.baseAddress, 16) }
        return n == 16 ? [b.0, b.1] : nil
    }

    /// The thread group and parent of thread `tid`, and a pidfd of it when it leads its group (for its process's
    /// record, else -1): from the pidfd (PIDFD_GET_INFO), without the /proc/TID/status a new process's first
    /// /proc lookup made expensive (~40 µs here, against ~3 µs); from that file on kernels before 6.13.
    static func ids(_ tid: Int32) -> (tgid: Int32, ppid: Int32, pidfd: Int32)? {
        var tgid: Int32 = 0, ppid: Int32 = 0
        let fd = ct_pidfd_open(tid)
        if fd >= 0 {
            let known = ct_pidfd_ids(fd, &tgid, &ppid) == 0
            if known && tgid == tid { return (tgid, ppid, fd) }
            close(fd)
            if known { return (tgid, ppid, -1) }
        } else if fd == -EINVAL {
            // Not a thread-group leader: a thread.
            let t = ct_pidfd_open_thread(tid)
            if t >= 0 {
                defer { close(t) }
                if ct_pidfd_ids(t, &tgid, &ppid) == 0 { return (tgid, ppid, -1) }
            }
        }
        return ProcFS.tgidAndPPid(tid).map { ($0.tgid, $0.ppid, -1) }
    }

    /// The wait status of a process that ended and was reaped, by anyone (its parent, often, before captrace
    /// looks), from its pidfd (Linux 6.15); nil before it is reaped (then `exitCode` has it) or on older kernels.
    static func exitStatus(pidfd: Int32) -> Int32? {
        var status: Int32 = 0
        return pidfd >= 0 && ct_pidfd_exit_status(pidfd, &status) == 1 ? status : nil
    }

    /// exit_code (field 52): the wait status of a zombie; nil when gone or not yet exited.
    static func exitCode(_ pid: Int32) -> Int32? {
        guard let f = statFields(pid), f.count > 49, f[0] == "Z" || f[0] == "X" else { return nil }
        return Int32(f[49].trimmingCharacters(in: "\n "))
    }

    /// The children of every thread of `pid` now.
    static func children(_ pid: Int32) -> Set<Int32> {
        var out: Set<Int32> = []
        guard let dir = opendir("/proc/\(pid)/task") else { return out }
        defer { closedir(dir) }
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let tid = Int32(name), let s = ProcFS.read("/proc/\(pid)/task/\(tid)/children") else { continue }
            for c in s.split(whereSeparator: { $0 == " " || $0 == "\n" }) { if let v = Int32(c) { out.insert(v) } }
        }
        return out
    }

    /// The umask of a process (/proc/PID/status "Umask:"), 0o022 if unknown.
    static func umask(_ pid: Int32) -> UInt64 {
        guard let s = ProcFS.read("/proc/\(pid)/status") else { return 0o022 }
        for line in s.split(separator: "\n") where line.hasPrefix("Umask:") {
            return UInt64(line.dropFirst(6).trimmingCharacters(in: " \t"), radix: 8) ?? 0o022
        }
        return 0o022
    }
}

/// One notify worker's last call: its argument array and what was read from memory, shared by the next call
/// where equal (a repeated violation then allocates neither, and the recorder compares them by identity).
final class WorkerScratch {
    private var lastArgs: [UInt64] = []
    var memory: MemoryRead?
    /// The violation recorded by this worker's last call, when the next may repeat it (NotifyLoop.repeatable).
    var repeatable: RepeatableViolation?
    /// Where the repeat path reads a path (`Decoder.maxPath` bytes and a NUL).
    let path = UnsafeMutablePointer<CChar>.allocate(capacity: Decoder.maxPath + 1)

    deinit { path.deallocate() }

    func args(_ n: ct_notif) -> [UInt64] {
        let a = n.args
        if lastArgs.count == 6, lastArgs[0] == a.0, lastArgs[1] == a.1, lastArgs[2] == a.2, lastArgs[3] == a.3,
           lastArgs[4] == a.4, lastArgs[5] == a.5 {
            return lastArgs
        }
        lastArgs = [a.0, a.1, a.2, a.3, a.4, a.5]
        return lastArgs
    }
}

/// A violation a next call may repeat (NotifyLoop.repeatable): the call (`RepeatedCall`), its thread, and what
/// was found about its process.
final class RepeatableViolation {
    let tid: Int32
    let pid: Int32
    let process: NotifyProcess
    let memFd: Int32
    let call: RepeatedCall

    init(tid: Int32, pid: Int32, process: NotifyProcess, memFd: Int32, call: RepeatedCall) {
        self.tid = tid; self.pid = pid; self.process = process; self.memFd = memFd; self.call = call
    }

    /// The same thread making the same call with the same registers.
    func matches(_ n: ct_notif) -> Bool {
        Int32(bitPattern: n.pid) == tid && call.matches(arch: n.arch, nr: UInt64(bitPattern: Int64(n.nr)), args: n.args)
    }
}
