import CTraceShims
import CapabilityPolicy
import Diagnosis
import Glibc
import SyscallCatalog
import TraceModel
import Unwinding

/// The ptrace backend: launches the program under a seccomp filter whose trapped calls stop it, follows every
/// thread and process, decides when each process enters capability mode, and records violations.
///
/// Every ptrace request is made from the thread that calls `run()` (ptrace requests are only valid from the
/// tracer thread that attached), and waiting uses `waitpid(-1, __WALL)`: captrace forks nothing else.
public final class PtraceSupervisor {
    let options: RunOptions
    let table = ProcessTable()
    let recorder: Recorder
    var rootPid: Int32 = 0
    var rootStatus: Int32?
    var interruptedBy: Int32 = 0
    let enforce: Bool
    /// `run --rights`: descriptor operations after entry (nil without the option).
    let rights: RightsRecorder?

    // ptrace constants (linux/ptrace.h)
    static let optTraceSysGood: UInt = 0x1, optTraceFork: UInt = 0x2, optTraceVfork: UInt = 0x4
    static let optTraceClone: UInt = 0x8, optTraceExec: UInt = 0x10, optTraceSeccomp: UInt = 0x80
    static let optExitKill: UInt = 0x10_0000
    static let eventFork: Int32 = 1, eventVfork: Int32 = 2, eventClone: Int32 = 3, eventExec: Int32 = 4
    static let eventVforkDone: Int32 = 5, eventExit: Int32 = 6, eventSeccomp: Int32 = 7, eventStop: Int32 = 128

    public init(options: RunOptions) throws(SupervisorError) {
        self.options = options
        self.enforce = options.mode == .enforce
        self.recorder = try Recorder(options: options)
        self.rights = options.rights ? RightsRecorder(recorder: recorder) : nil
    }

    /// Runs the program to completion (or interruption) and returns its outcome. The trace file is complete
    /// (with its summary line) when this returns normally.
    public func run() throws(SupervisorError) -> RunResult {
        let path = try ProgramPath.resolve(options.argv[0])
        var bpf: ct_bpf
        do {
            bpf = try FilterBuilder.build(trigger: options.trigger, enforce: enforce, action: .trace,
                                         rights: options.rights ? RightsTable.syscallNames : [])
        } catch {
            throw SupervisorError("cannot build the seccomp filter: \(error)")
        }
        defer { ct_bpf_free(&bpf) }

        CPUAffinity.pinTracer()  // before the recording thread starts: it keeps off this CPU
        try recorder.open()
        ct_install_interrupt_handlers()

        let opts = Self.optTraceSysGood | Self.optTraceFork | Self.optTraceVfork | Self.optTraceClone
            | Self.optTraceExec | Self.optTraceSeccomp | Self.optExitKill
        var errFd: Int32 = -1
        let pid = withCStrings(options.argv) { argv in
            withCStrings(ProgramPath.environment()) { envp in
                ct_spawn(path, argv, envp, &bpf, UInt(opts), &errFd)
            }
        }
        guard pid > 0 else {
            recorder.discard()
            throw SupervisorError("cannot start \(options.argv[0]): \(String(cString: strerror(-pid)))")
        }
        rootPid = pid
        ct_set_root_pid(pid)
        table.addProcess(pid: pid, ppid: getpid())
        let t = table.addThread(tid: pid, pid: pid)
        t.sawFirstStop = true  // seized before it ran: no auto-attach stop
        recorder.processEvent(.spawn, pid: pid, tid: pid, ppid: getpid(), capabilityMode: false, path: path)

        loop(errFd: errFd)

        if errFd >= 0 { close(errFd) }
        if let failure = execFailure {
            recorder.discard()
            let status: Int32 = (failure == ENOENT) ? 127 : 126
            throw SupervisorError("cannot execute \(options.argv[0]): \(String(cString: strerror(failure)))", status: status)
        }
        let status = rootStatus ?? 125
        recorder.finish(exitStatus: status, processes: table.processCount, interrupted: interruptedBy != 0)
        return RunResult(programStatus: status, violations: recorder.violationCount,
                         countedViolations: recorder.countedViolations, interruptedBy: interruptedBy,
                         entered: recorder.enterCount, traceWriteError: recorder.writeError)
    }

    var execFailure: Int32?
    var rootExeced = false

    // MARK: - The loop

    func loop(errFd: Int32) {
        var status: Int32 = 0
        while !table.isEmpty {
            if interruptedBy == 0, ct_interrupted() != 0 { interrupt() }
            let r = ct_wait(-1, &status, 0)
            if r == -EINTR { continue }
            if r < 0 { break }  // ECHILD: nothing left
            let tid = r
            if ct_wifexited(status) != 0 || ct_wifsignaled(status) != 0 {
                threadExited(tid, status: status, errFd: errFd)
                continue
            }
            guard ct_wifstopped(status) != 0 else { continue }
            let sig = ct_wstopsig(status)
            let event = ct_wevent(status)
            let thread = knownThread(tid)
            if interruptedBy != 0 {
                // Interrupted: the program is being killed; let every stop go.
                _ = ct_ptrace_cont(tid, 0)
                continue
            }
            if sig == (SIGTRAP | 0x80) {
                syscallExitStop(thread)
            } else if event == Self.eventSeccomp {
                seccompStop(thread)
            } else if event == Self.eventFork || event == Self.eventVfork || event == Self.eventClone {
                newTask(parent: thread)
                resume(tid)
            } else if event == Self.eventExec {
                execStop(thread)
            } else if event == Self.eventStop {
                if !thread.sawFirstStop {
                    thread.sawFirstStop = true
                    resume(tid)
                } else if sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU {
                    _ = ct_ptrace_listen(tid)  // group-stop: stay stopped, as without a tracer
                } else {
                    resume(tid)
                }
            } else if event != 0 {
                resume(tid)
            } else {
                // Signal-delivery stop.
                if !thread.sawFirstStop && sig == SIGSTOP { thread.sawFirstStop = true; resume(tid); continue }
                if sig == SIGTRAP, breakpointStop(thread) { continue }
                resume(tid, signal: sig)
            }
            recorder.tickStatus(processes: table.processCount)
        }
    }

    /// Resumes a thread; one between a seccomp stop and its syscall-exit stop (an exec or a signal came in
    /// between) keeps PTRACE_SYSCALL so the exit stop, and the result, are not lost.
    func resume(_ tid: Int32, signal: Int32 = 0) {
        if let t = table.thread(tid), t.awaitingExit { _ = ct_ptrace_syscall(tid, signal) } else { _ = ct_ptrace_cont(tid, signal) }
    }

    /// The state of a thread, created on first sight (a new task's first stop may come before its parent's
    /// fork/clone event).
    func knownThread(_ tid: Int32) -> ThreadState {
        if let t = table.thread(tid) { return t }
        let ids = ProcFS.tgidAndPPid(tid) ?? (tid, rootPid)
        if table.process(ids.tgid) == nil { adoptProcess(pid: ids.tgid, ppid: ids.ppid) }
        let t = table.addThread(tid: tid, pid: ids.tgid)
        if ids.tgid != tid, let p = table.process(ids.tgid) {
            recorder.processEvent(.thread, pid: ids.tgid, tid: tid, ppid: p.ppid, capabilityMode: p.capabilityMode)
        }
        return t
    }

    /// A new process: it inherits its parent's capability mode and, not yet in it, the parent's breakpoints
    /// (fork copied the bytes).
    func adoptProcess(pid: Int32, ppid: Int32) {
        let p = table.addProcess(pid: pid, ppid: ppid)
        if let parent = table.process(ppid) {
            p.capabilityMode = parent.capabilityMode
            p.exe = parent.exe
            p.execed = parent.execed
            if !p.capabilityMode {
                p.breakpoints = parent.breakpoints
                p.retiredBreakpoints = parent.retiredBreakpoints
                p.scannedModules = parent.scannedModules
            }
        }
        recorder.processEvent(.fork, pid: pid, tid: pid, ppid: ppid, capabilityMode: p.capabilityMode)
    }

    func newTask(parent: ThreadState) {
        var msg: UInt = 0
        guard ct_ptrace_geteventmsg(parent.tid, &msg) == 0 else { return }
        _ = knownThread(Int32(truncatingIfNeeded: msg))
    }

    func threadExited(_ tid: Int32, status: Int32, errFd: Int32) {
        let code: Int32 = ct_wifexited(status) != 0 ? ct_wexitstatus(status) : 128 + ct_wtermsig(status)
        if let t = table.thread(tid), let pending = t.pendingViolation {
            t.pendingViolation = nil
            recorder.write(pending)
        }
        let pid = table.thread(tid)?.pid ?? tid
        table.removeThread(tid)
        if tid == pid, let p = table.process(pid) {
            var sigName: String? = nil
            if ct_wifsignaled(status) != 0 { sigName = Signals.name(ct_wtermsig(status)) }
            recorder.processEvent(.exit, pid: pid, tid: tid, ppid: p.ppid, capabilityMode: p.capabilityMode,
                                  exitStatus: code, signal: sigName)
            recorder.unwinderForget(pid: pid)
            table.removeProcess(pid)
            if pid == rootPid {
                rootStatus = code
                if !rootExeced { execFailure = readExecError(errFd) ?? ENOEXEC }
            }
        }
    }

    func readExecError(_ fd: Int32) -> Int32? {
        guard fd >= 0 else { return nil }
        var e: Int32 = 0
        let n = Glibc.read(fd, &e, 4)
        return n == 4 ? e : nil
    }

    /// SIGINT/SIGTERM/SIGHUP: kill every traced process (a program left with a tracing filter and no tracer
    /// would get ENOSYS from every trapped call), then drain their exits; the summary is written by `run`.
    func interrupt() {
        interruptedBy = Int32(ct_interrupted())
        for pid in table.processes.keys { kill(pid, SIGKILL) }
    }

    // MARK: - exec

    func execStop(_ thread: ThreadState) {
        var formerTid: UInt = 0
        _ = ct_ptrace_geteventmsg(thread.tid, &formerTid)
        let pid = thread.pid
        let former = Int32(truncatingIfNeeded: formerTid)
        if former != thread.tid, let old = table.thread(former) {
            // exec from a non-leader thread: it took over the leader's tid.
            if thread.pendingViolation == nil { thread.pendingViolation = old.pendingViolation }
            thread.awaitingExit = thread.awaitingExit || old.awaitingExit
            table.removeThread(former)
        }
        guard let p = table.process(pid) else { resume(thread.tid); return }
        let exe = ProcFS.exe(pid)
        p.exe = exe
        p.breakpoints = [:]
        p.retiredBreakpoints = []
        p.scannedModules = []
        let firstExec = !p.execed
        p.execed = true
        if pid == rootPid { rootExeced = true }
        recorder.unwinderExeced(pid: pid)
        recorder.processEvent(.exec, pid: pid, tid: thread.tid, ppid: p.ppid, capabilityMode: p.capabilityMode, path: exe)
        if !p.capabilityMode {
            switch options.trigger {
            case .exec where firstExec && pid == rootPid:
                enterCapabilityMode(p, tid: thread.tid)
            case .main, .symbol:
                Breakpoints.plantAtExec(self, p, tid: thread.tid)
            default: break
            }
        }
        resume(thread.tid)
    }

    // MARK: - entering capability mode

    func enterCapabilityMode(_ p: ProcessState, tid: Int32) {
        guard !p.capabilityMode else { return }
        p.capabilityMode = true
        Breakpoints.removeAll(self, p, tid: tid)
        recorder.enter(pid: p.pid, tid: tid, trigger: options.trigger.description)
    }

    // MARK: - seccomp stops

    func seccompStop(_ thread: ThreadState) {
        var info = ct_syscall_info()
        guard ct_ptrace_syscall_info(thread.tid, &info) == 0, info.op == 3 else { resume(thread.tid); return }
        let tag = FilterBuilder.Tag(rawValue: UInt16(truncatingIfNeeded: info.ret_data))
        var nr = Int(info.nr)
        let abi: ABI
        if info.arch == FilterBuilder.archI386 { abi = .i386 }
        else if nr & FilterBuilder.x32Bit != 0 { abi = .x32; nr &= ~FilterBuilder.x32Bit }
        else { abi = .x86_64 }
        let args = withUnsafeBytes(of: info.args) { Array($0.bindMemory(to: UInt64.self)) }
        let syscall = Catalog.shared.syscall(abi: abi, nr: nr)
        guard let p = table.process(thread.pid) else { resume(thread.tid); return }
        var wantExit = false

        if tag.contains(.lifecycle), let name = syscall?.name { keepChildrenTraced(thread, name: name, args: args) }
        if syscall?.changesWorkingDirectory == true {
            // The directory may change: forget it now, and again when the call has returned.
            forgetCurrentDirectory(p)
            thread.forgetCwdAtExit = true
            wantExit = true
        }

        if tag.contains(.trigger), !p.capabilityMode, let name = syscall?.name, options.trigger.matches(syscall: name, args: args) {
            thread.pendingTrigger = true
            wantExit = true
        }

        if tag.contains(.policy), p.capabilityMode {
            let call = Decoder.decode(abi: abi, nr: nr, syscall: syscall, args: args, pid: p.pid, tid: thread.tid,
                                      table: table)
            let verdict = Classifier.classify(call)
            if case .violation(let ns, let rule) = verdict {
                var draft = recorder.draft(call, namespace: ns, rule: rule, cwd: { self.currentDirectory(thread) })
                if draft.event.action == .allowed && enforce {
                    draft.event.action = .denied
                    draft.event.errno = options.denyErrnoName
                    deny(thread.tid, errno: options.denyErrno)
                    recorder.write(draft)
                    resume(thread.tid)
                    return
                }
                thread.pendingViolation = draft
                wantExit = true
            } else if enforce {
                Enforcement.confine(call, tid: thread.tid)
            }
        }

        if tag.contains(.rights), p.capabilityMode, let rights, let name = syscall?.name,
           rights.seccompStop(thread, p, name: name, args: args) {
            wantExit = true
        }

        if wantExit {
            thread.awaitingExit = true
            _ = ct_ptrace_syscall(thread.tid, 0)
        } else {
            resume(thread.tid)
        }
    }

    func syscallExitStop(_ thread: ThreadState) {
        thread.awaitingExit = false
        if thread.forgetCwdAtExit, let p = table.process(thread.pid) {
            thread.forgetCwdAtExit = false
            forgetCurrentDirectory(p)
        }
        var info = ct_syscall_info()
        let ok = ct_ptrace_syscall_info(thread.tid, &info) == 0 && info.op == 2
        if var pending = thread.pendingViolation {
            thread.pendingViolation = nil
            if ok {
                if info.is_error != 0 { pending.event.errno = Errno.name(Int32(-info.rval)) ?? "E\(-info.rval)" }
                else { pending.event.result = info.rval }
            }
            recorder.write(pending)
        }
        if thread.pendingTrigger {
            thread.pendingTrigger = false
            // sandbox: only a sandboxing step that succeeded; syscall:NAME: any completed call.
            let counts: Bool
            if case .sandbox = options.trigger { counts = ok && info.is_error == 0 } else { counts = ok }
            if counts, let p = table.process(thread.pid), !p.capabilityMode {
                enterCapabilityMode(p, tid: thread.tid)
            }
        }
        if let pending = thread.pendingFDOp {
            thread.pendingFDOp = nil
            if ok, let rights, let p = table.process(thread.pid) {
                rights.exitStop(thread, p, pending, result: info.rval, isError: info.is_error != 0)
            }
        }
        resume(thread.tid)
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

    /// Makes the call fail with `errno` without running it: orig_rax = -1 skips it, rax is its return value.
    func deny(_ tid: Int32, errno e: Int32) {
        var regs = user_regs_struct()
        guard ct_ptrace_getregs(tid, &regs) == 0 else { return }
        regs.orig_rax = UInt64(bitPattern: -1)
        regs.rax = UInt64(bitPattern: Int64(-e))
        _ = ct_ptrace_setregs(tid, &regs)
    }

    /// clone(CLONE_UNTRACED) would create a child outside captrace whose trapped calls fail with ENOSYS:
    /// strip the flag (in the register for clone, in struct clone_args for clone3).
    func keepChildrenTraced(_ thread: ThreadState, name: String, args: [UInt64]) {
        if name == "clone", args[0] & FilterBuilder.cloneUntraced != 0 {
            var regs = user_regs_struct()
            guard ct_ptrace_getregs(thread.tid, &regs) == 0 else { return }
            regs.rdi &= ~FilterBuilder.cloneUntraced
            _ = ct_ptrace_setregs(thread.tid, &regs)
        } else if name == "clone3", args[0] != 0 {
            var flags: UInt64 = 0
            guard ct_read_mem(thread.pid, UInt(args[0]), &flags, 8) == 8, flags & FilterBuilder.cloneUntraced != 0 else { return }
            flags &= ~FilterBuilder.cloneUntraced
            _ = ct_write_mem(thread.pid, UInt(args[0]), &flags, 8)
        }
    }
}

/// Runs `body` with a NULL-terminated C string array.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
}

enum ProgramPath {
    /// Finds the program like execvp would: a name with a slash is used as is, otherwise PATH is searched.
    static func resolve(_ name: String) throws(SupervisorError) -> String {
        if name.isEmpty { throw SupervisorError("no program given", status: 127) }
        if name.contains("/") {
            guard access(name, F_OK) == 0 else { throw SupervisorError("cannot execute \(name): no such file", status: 127) }
            return name
        }
        let path = String(cString: getenv("PATH") ?? strdup("/usr/local/bin:/usr/bin:/bin"))
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        throw SupervisorError("cannot execute \(name): not found in PATH", status: 127)
    }

    static func environment() -> [String] {
        var out: [String] = []
        var p = environ
        while let s = p.pointee { out.append(String(cString: s)); p += 1 }
        return out
    }
}

/// Cross-CPU wake-ups dominate a round trip on this kind of VM (about 55 µs against 11.5 µs when supervisor and
/// program share a CPU: an idle virtual CPU halts, and waking it costs the hypervisor). The supervisor pins its
/// tracer thread (ptrace) or its notification workers (notify) to the CPU it started on.
/// - ptrace: the program inherits that pin (`ct_child_prepare`), because pinning captrace alone left most of the
///   cost in place (100000 stops: ~2.9 s against ~1.6 s with the program on the same CPU). The price: the
///   program and its children run on one CPU, and sched_getaffinity (nproc) shows that one CPU.
/// - notify: the program gets captrace's original affinity back; synchronous wake-up already hands the CPU
///   over without it.
/// `CAPTRACE_NO_PIN=1` turns pinning off (the program then runs exactly where it would without captrace).
enum CPUAffinity {
    static func pinTracer() {
        if let v = getenv("CAPTRACE_NO_PIN"), String(cString: v) == "1" { return }
        let cpu = ct_current_cpu()
        if cpu >= 0 { _ = ct_pin_self_to_cpu(cpu) }
    }
}
