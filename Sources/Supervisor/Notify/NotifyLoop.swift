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
    var table: ProcessTable { core.table }
    var recorder: Recorder { core.recorder }

    /// One worker: receives while it holds the baton (NotifyBaton), handles, and receives again. A worker that
    /// returns passes the baton on, so every other one in turn sees the listener hang up too.
    func worker() {
        var n = ct_notif()
        let lead = Lead(baton)
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
            handle(n, lead: lead)
        }
    }

    /// `lead`: yielded before work that may block (see NotifyBaton); nil when not called by a worker.
    func handle(_ n: ct_notif, lead: Lead? = nil) {
        let tid = Int32(bitPattern: n.pid)
        if options.syscalls, count(n, tid: tid) { return }
        let args = [n.args.0, n.args.1, n.args.2, n.args.3, n.args.4, n.args.5]
        guard let stop = SyscallStop(auditArch: n.arch, rawNumber: Int(n.nr), args: args) else {
            _ = ct_notif_continue(listener, n.id)
            return
        }
        let name = stop.name ?? ""

        // Where the caller stands.
        let state: (pid: Int32, inMode: Bool)? = lock.locked {
            guard let pid = placeThread(tid) else { return nil }
            noteDirectoryChange(pid: pid, tid: tid, changes: stop.syscall?.changesWorkingDirectory == true)
            return (pid, table.process(pid)?.capabilityMode ?? false)
        }
        guard let (pid, inMode) = state else {
            _ = ct_notif_continue(listener, n.id)  // vanished
            return
        }
        let isExec = stop.syscall?.touches == .exec
        if FilterBuilder.installsSeccompFilter(name, args) { lock.locked { ownFilterPids.insert(pid) } }

        if !inMode {
            if options.trigger.matches(syscall: name, args: args) {
                // syscall:NAME / sandbox: the call is let through, and capability mode begins the moment it is
                // (under the lock, so no later call of the process is judged before the entry is recorded).
                lock.locked {
                    guard ct_notif_continue(listener, n.id) == 0 else { return }
                    if let p = table.process(pid) { core.enterCapabilityMode(p, tid: tid, stack: Self.registers(tid)) }
                }
                return
            }
            if isExec { lock.locked { noteExec(pid) } }
            _ = ct_notif_continue(listener, n.id)
            return
        }

        if options.policy != nil {
            policyCall(n, stop: stop, pid: pid, tid: tid, isExec: isExec)
            return
        }
        guard let syscall = stop.syscall, CapabilityPolicy.standard.mayViolate(abi: stop.abi, nr: stop.nr) else {
            _ = ct_notif_continue(listener, n.id)
            return
        }
        // The program's threads are not all known here (no ptrace): a pid/tid argument is checked in /proc.
        var call = Decoder.decode(stop, pid: pid, tid: tid,
                                  sameProcess: { access("/proc/\(pid)/task/\($0)", F_OK) == 0 })
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
                if isExec { noteExec(pid) }
                answered = ct_notif_continue(listener, n.id)
            }
            guard answered == 0 else { return nil }  // withdrawn: it comes back as a new notification
            draft.event.tNs = recorder.now()
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
            draft.event.tNs = self.recorder.now()
            self.recorder.write(draft)  // under the lock, right after the answer (NotifyEnforcement.act)
            self.recorder.tickStatus(processes: self.table.processCount)
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
    func policyCall(_ n: ct_notif, stop: SyscallStop, pid: Int32, tid: Int32, isExec: Bool) {
        guard let refusal = core.policyRefusal(stop) else {
            if isExec { lock.locked { noteExec(pid) } }
            _ = ct_notif_continue(listener, n.id)
            return
        }
        let call = Decoder.decode(stop, pid: pid, tid: tid, sameProcess: { access("/proc/\(pid)/task/\($0)", F_OK) == 0 })
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
            draft.event.tNs = recorder.now()
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
    func waitingRegisters(pid: Int32, tid: Int32) -> (pc: UInt64, sp: UInt64)? {
        guard let x = extra[pid] else { return NotifyProcFS.pcSp(tid) }
        var pc: UInt64 = 0, sp: UInt64 = 0
        if let fd = x.syscallFiles.removeValue(forKey: tid) {
            if ct_syscall_regs(fd, &pc, &sp) == 0 {
                x.syscallFiles[tid] = fd
                return (pc, sp)
            }
            close(fd)
        }
        if x.syscallFiles.count >= NotifyProcess.maxSyscallFiles { x.closeSyscallFiles() }
        let fd = open("/proc/\(tid)/syscall", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        x.syscallFiles[tid] = fd
        return ct_syscall_regs(fd, &pc, &sp) == 0 ? (pc, sp) : nil
    }

    // MARK: - The current directory, cached per process (lock held)

    /// A call that may change the directory (chdir, fchdir, unshare, setns: all trapped) forgets the cached one,
    /// and none is cached again until that thread's next trapped call (by then the call has returned).
    func noteDirectoryChange(pid: Int32, tid: Int32, changes: Bool) {
        guard let x = extra[pid] else { return }
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
    func placeThread(_ tid: Int32) -> Int32? {
        let pid: Int32
        if let t = table.thread(tid) {
            pid = t.pid
        } else {
            guard let ids = ProcFS.tgidAndPPid(tid) else { return nil }
            guard placeProcess(ids.tgid, ppid: ids.ppid, depth: 0) else { return nil }
            core.addThread(tid: tid, pid: ids.tgid)
            pid = ids.tgid
        }
        if extra[pid]?.pendingExec != nil { checkExec(pid, tid: tid) }
        return pid
    }

    /// Adds process `pid` (parent `ppid`) if unknown, with the capability mode the contract gives it: in
    /// capability mode when its parent is, unless it was already the parent's child when the parent entered.
    /// False if it is not a descendant captrace can place (it vanished).
    @discardableResult
    func placeProcess(_ pid: Int32, ppid: Int32, depth: Int) -> Bool {
        if table.process(pid) != nil { return true }
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
        let x = NotifyProcess(pidfd: ct_pidfd_open(pid), isRoot: false)
        extra[pid] = x
        if x.pidfd >= 0 {
            watchList.append((pid, x.pidfd))
            ct_eventfd_signal(wakeFd)
        }
        return true
    }

    /// An execve of `pid` is being let through: remember where its stack is, to see later whether it happened.
    func noteExec(_ pid: Int32) {
        guard let x = extra[pid] else { return }
        x.pendingExec = NotifyProcFS.startStack(pid) ?? 0
    }

    /// The process made a call after an execve was let through: did the exec happen?
    func checkExec(_ pid: Int32, tid: Int32) {
        guard let x = extra[pid], let before = x.pendingExec, let p = table.process(pid) else { return }
        guard let now = NotifyProcFS.startStack(pid), now != before else {
            // Same image: the exec failed (or is still under way for another thread; then this is stale).
            if tid == pid || table.thread(tid) != nil { x.pendingExec = nil }
            return
        }
        x.pendingExec = nil
        let first = core.execed(p, tid: tid)
        if core.entersAtExec(p, firstExec: first) {
            // At the first instruction after the initial execve: nothing trapped has run since.
            core.enterCapabilityMode(p, tid: tid, stack: Self.registers(tid))
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

    /// startstack (field 28).
    static func startStack(_ pid: Int32) -> UInt64? {
        guard let f = statFields(pid), f.count > 25 else { return nil }
        return UInt64(f[25])
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
