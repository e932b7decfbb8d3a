import CTraceShims
import Glibc
import Unwinding

/// The `main` and `symbol:NAME` triggers under the notify backend need a breakpoint, so the program is traced
/// with ptrace *only until its trigger fires*: seized before it execs (it is still waiting on captrace then),
/// breakpoints planted at each exec by the core's `TriggerBreakpoints` exactly as under the ptrace backend (NAME
/// or `main` in the executable, `__libc_start_main` for stripped ones, ld.so's rendezvous for later libraries),
/// children forked before the trigger followed (each has its own trigger). When a process's trigger fires it
/// enters capability mode, its breakpoints are removed, and all its threads are detached (the hitting thread at
/// once, the others after a PTRACE_INTERRUPT; a thread parked in a notification has it withdrawn and the call
/// comes back as a new notification after the detach). From then on only the notifier sees the process.
/// A process that never reaches its trigger stays traced until it exits (PTRACE_O_EXITKILL kills it with
/// captrace). While traced, the program cannot be ptraced by anyone else; after its trigger it can.
///
/// Runs on the thread that called `run()`: every ptrace request comes from it.
final class NotifyTracer {
    unowned let s: NotifyTransport
    var core: SupervisorCore { s.core }
    /// Traced tid -> its process.
    var traced: [Int32: Int32] = [:]
    /// Processes whose threads are being detached.
    var detaching: Set<Int32> = []

    static let options: UInt = Tracee.optTraceFork | Tracee.optTraceVfork | Tracee.optTraceClone
        | Tracee.optTraceExec | Tracee.optExitKill

    init(_ s: NotifyTransport) { self.s = s }

    /// Seizes the program while it waits to be released. nil, or why not.
    func seizeRoot() -> String? {
        do {
            try Tracee.seize(core.rootPid, options: Self.options)
        } catch {
            let e: Int32 = if case .failed(let v) = error { v } else { ESRCH }
            return String(cString: strerror(e))
                + " (is it already traced? --enter-at exec, syscall:NAME and sandbox need no ptrace)"
        }
        traced[core.rootPid] = core.rootPid
        return nil
    }

    func handle(tid: Int32, status: WaitStatus) {
        let stop = PtraceStop(status)
        if stop == .exited { traced.removeValue(forKey: tid); return }
        if stop == .none { return }
        let pid: Int32
        if let p = traced[tid] {
            pid = p
        } else {
            // A new task's first stop can come before its creator's fork/clone event.
            guard let p = s.lock.locked({ s.placeThread(tid) }) else { try? Tracee.cont(tid); return }
            pid = p
            traced[tid] = p
        }
        if detaching.contains(pid) {
            detachStopped(tid, pid: pid, stop: stop)
            return
        }
        switch stop {
        case .exec:
            execStop(tid, pid: pid)
        case .newTask:
            if let child = try? Tracee.eventMessage(tid), traced[child] == nil,
               let cp = s.lock.locked({ s.placeThread(child) }) {
                traced[child] = cp
            }
            try? Tracee.cont(tid)
        case .groupStop:
            try? Tracee.listen(tid)  // group-stop: stay stopped, as without a tracer
        case .signal(let sig):
            if sig == SIGTRAP, breakpointStop(tid, pid: pid) { return }
            try? Tracee.cont(tid, signal: sig)
        default:
            try? Tracee.cont(tid)
        }
    }

    func process(_ pid: Int32) -> ProcessState? { s.lock.locked { core.table.process(pid) } }

    func execStop(_ tid: Int32, pid: Int32) {
        let old = (try? Tracee.eventMessage(tid)) ?? tid
        if old != tid { traced.removeValue(forKey: old) }
        for (t, p) in traced where p == pid && t != tid { traced.removeValue(forKey: t) }
        guard let p = process(pid), !p.capabilityMode else { try? Tracee.cont(tid); return }
        s.lock.locked {
            core.resetBreakpoints(p)
            p.exe = ProcFS.exe(pid)
        }
        core.breakpoints.plantAtExec(p, tid: tid)
        try? Tracee.cont(tid)
    }

    /// A SIGTRAP stop: one of our breakpoints (true), or a real SIGTRAP for the program (false).
    func breakpointStop(_ tid: Int32, pid: Int32) -> Bool {
        guard let p = process(pid) else { return false }
        switch core.breakpoints.hit(p, tid: tid) {
        case .notOurs: return false
        case .handled: try? Tracee.cont(tid)
        case .fired: triggerFired(p, tid: tid)
        }
        return true
    }

    /// The trigger: capability mode begins (stack walked while the thread is ptrace-stopped), then the process
    /// leaves ptrace.
    func triggerFired(_ p: ProcessState, tid: Int32) {
        s.lock.locked { _ = core.enterCapabilityMode(p, tid: tid, stack: .stopped) }
        core.breakpoints.removeAll(p, tid: tid)
        detaching.insert(p.pid)
        traced.removeValue(forKey: tid)
        try? Tracee.detach(tid)
        for (t, pid) in traced where pid == p.pid { try? Tracee.interrupt(t) }
    }

    /// A stop of a thread whose process is leaving ptrace: detach it, passing on a real signal (a thread that
    /// hit a trigger breakpoint just removed is rewound instead).
    func detachStopped(_ tid: Int32, pid: Int32, stop: PtraceStop) {
        traced.removeValue(forKey: tid)
        var deliver: Int32 = 0
        if case .signal(let sig) = stop {
            deliver = sig
            if sig == SIGTRAP, let p = process(pid), core.breakpoints.rewindIfRetired(p, tid: tid) { deliver = 0 }
        }
        try? Tracee.detach(tid, signal: deliver)
    }
}
