import CTraceShims
import Glibc
import Unwinding

/// The `main` and `symbol:NAME` triggers under the notify backend need a breakpoint, so the program is traced
/// with ptrace *only until its trigger fires*: seized before it execs (it is still waiting on captrace then),
/// breakpoints planted at each exec exactly as the ptrace backend does (the `Breakpoints` helpers: NAME or `main`
/// in the executable, `__libc_start_main` for stripped ones, ld.so's rendezvous for libraries loaded later),
/// children forked before the trigger followed (each has its own trigger). When a process's trigger fires it
/// enters capability mode, its breakpoints are removed, and all its threads are detached (the hitting thread at
/// once, the others after a PTRACE_INTERRUPT; a thread parked in a notification has it withdrawn and the call
/// comes back as a new notification after the detach). From then on only the notifier sees the process.
/// A process that never reaches its trigger stays traced until it exits (PTRACE_O_EXITKILL kills it with
/// captrace). While traced, the program cannot be ptraced by anyone else; after its trigger it can.
///
/// Runs on the thread that called `run()`: every ptrace request comes from it.
final class NotifyTracer {
    unowned let s: NotifySupervisor
    /// Traced tid -> its process.
    var traced: [Int32: Int32] = [:]
    /// Processes whose threads are being detached.
    var detaching: Set<Int32> = []

    static let options: UInt = PtraceSupervisor.optTraceFork | PtraceSupervisor.optTraceVfork
        | PtraceSupervisor.optTraceClone | PtraceSupervisor.optTraceExec | PtraceSupervisor.optExitKill

    init(_ s: NotifySupervisor) { self.s = s }

    /// Seizes the program while it waits to be released. nil, or why not.
    func seizeRoot() -> String? {
        let r = ct_ptrace_seize(s.rootPid, Self.options)
        guard r == 0 else {
            return String(cString: strerror(Int32(-r)))
                + " (is it already traced? --enter-at exec, syscall:NAME and sandbox need no ptrace)"
        }
        traced[s.rootPid] = s.rootPid
        return nil
    }

    func handle(tid: Int32, status: Int32) {
        if ct_wifexited(status) != 0 || ct_wifsignaled(status) != 0 {
            traced.removeValue(forKey: tid)
            return
        }
        guard ct_wifstopped(status) != 0 else { return }
        let sig = ct_wstopsig(status)
        let event = ct_wevent(status)
        let pid: Int32
        if let p = traced[tid] {
            pid = p
        } else {
            // A new task's first stop can come before its creator's fork/clone event.
            guard let p = s.lock.locked({ s.placeThread(tid) }) else { _ = ct_ptrace_cont(tid, 0); return }
            pid = p
            traced[tid] = p
            inheritBreakpoints(pid)
        }
        if detaching.contains(pid) {
            detachStopped(tid, pid: pid, sig: sig, event: event)
            return
        }
        switch event {
        case PtraceSupervisor.eventExec:
            execStop(tid, pid: pid)
        case PtraceSupervisor.eventFork, PtraceSupervisor.eventVfork, PtraceSupervisor.eventClone:
            var msg: UInt = 0
            if ct_ptrace_geteventmsg(tid, &msg) == 0 {
                let child = Int32(truncatingIfNeeded: msg)
                if traced[child] == nil, let cp = s.lock.locked({ s.placeThread(child) }) {
                    traced[child] = cp
                    inheritBreakpoints(cp)
                }
            }
            _ = ct_ptrace_cont(tid, 0)
        case PtraceSupervisor.eventStop:
            if sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU {
                _ = ct_ptrace_listen(tid)  // group-stop: stay stopped, as without a tracer
            } else {
                _ = ct_ptrace_cont(tid, 0)
            }
        case 0:
            if sig == SIGTRAP, breakpointStop(tid, pid: pid) { return }
            _ = ct_ptrace_cont(tid, sig)
        default:
            _ = ct_ptrace_cont(tid, 0)
        }
    }

    /// A process forked before its parent's trigger: fork copied the parent's breakpoint bytes.
    func inheritBreakpoints(_ pid: Int32) {
        s.lock.locked {
            guard let p = s.table.process(pid), p.breakpoints.isEmpty, !p.capabilityMode,
                  let parent = s.table.process(p.ppid), !parent.capabilityMode else { return }
            p.exe = parent.exe
            p.breakpoints = parent.breakpoints
            p.retiredBreakpoints = parent.retiredBreakpoints
            p.scannedModules = parent.scannedModules
        }
    }

    func process(_ pid: Int32) -> ProcessState? { s.lock.locked { s.table.process(pid) } }

    func execStop(_ tid: Int32, pid: Int32) {
        var former: UInt = 0
        _ = ct_ptrace_geteventmsg(tid, &former)
        let old = Int32(truncatingIfNeeded: former)
        if old != tid { traced.removeValue(forKey: old) }
        for (t, p) in traced where p == pid && t != tid { traced.removeValue(forKey: t) }
        guard let p = process(pid), !p.capabilityMode else { _ = ct_ptrace_cont(tid, 0); return }
        p.breakpoints = [:]
        p.retiredBreakpoints = []
        p.scannedModules = []
        p.exe = ProcFS.exe(pid)
        plantAtExec(p, tid: tid)
        _ = ct_ptrace_cont(tid, 0)
    }

    var wanted: String {
        if case .symbol(let n) = s.options.trigger { return n }
        return "main"
    }

    /// As the ptrace backend: NAME (or main) in the executable, ld.so's rendezvous for later libraries.
    func plantAtExec(_ p: ProcessState, tid: Int32) {
        guard let exe = p.exe else { return }
        let maps = ProcFS.maps(p.pid)
        if let addr = Breakpoints.resolve(wanted, module: exe, maps: maps) {
            Breakpoints.plant(p, tid: tid, at: addr, purpose: .trigger)
        }
        for m in Breakpoints.modules(maps) where Breakpoints.isDynamicLinker(m.path) {
            if let addr = Breakpoints.resolve("_dl_debug_state", module: m.path, maps: maps) {
                var word: UInt64 = 0
                if ct_ptrace_peek(tid, UInt(addr), &word) == 0, UInt8(truncatingIfNeeded: word) == 0xC3 {
                    Breakpoints.plant(p, tid: tid, at: addr, purpose: .rendezvous)
                }
            }
        }
        for m in Breakpoints.modules(maps) { p.scannedModules.insert(m.key) }
        if p.breakpoints.isEmpty {
            printError("captrace: warning: cannot find \(wanted) in \(exe) and no dynamic linker to watch; capability mode will not begin")
        }
    }

    /// A SIGTRAP stop: one of our breakpoints (true), or a real SIGTRAP for the program (false).
    func breakpointStop(_ tid: Int32, pid: Int32) -> Bool {
        guard let p = process(pid) else { return false }
        var signo: Int32 = 0, code: Int32 = 0
        guard ct_ptrace_getsiginfo(tid, &signo, &code) == 0, code == 0x80 /* SI_KERNEL: int3 */ else { return false }
        var regs = user_regs_struct()
        guard ct_ptrace_getregs(tid, &regs) == 0 else { return false }
        let addr = regs.rip &- 1
        guard let bp = p.breakpoints[addr] else {
            guard p.retiredBreakpoints.contains(addr) else { return false }
            Breakpoints.setPC(tid, addr)
            _ = ct_ptrace_cont(tid, 0)
            return true
        }
        switch bp.purpose {
        case .rendezvous:
            var ret: UInt64 = 0
            if ct_read_mem(pid, UInt(regs.rsp), &ret, 8) == 8 {
                regs.rip = ret
                regs.rsp &+= 8
                _ = ct_ptrace_setregs(tid, &regs)
            }
            scanNewModules(p, tid: tid)
        case .libcStartMain:
            Breakpoints.remove(p, tid: tid, at: addr)
            Breakpoints.setPC(tid, addr)
            Breakpoints.plant(p, tid: tid, at: regs.rdi, purpose: .trigger)
        case .trigger:
            Breakpoints.remove(p, tid: tid, at: addr)
            Breakpoints.setPC(tid, addr)
            triggerFired(p, tid: tid)
            return true
        }
        _ = ct_ptrace_cont(tid, 0)
        return true
    }

    func scanNewModules(_ p: ProcessState, tid: Int32) {
        let maps = ProcFS.maps(p.pid)
        let mainMissing: Bool = {
            if case .main = s.options.trigger { return !p.breakpoints.values.contains { $0.purpose == .trigger } }
            return false
        }()
        for m in Breakpoints.modules(maps) where !p.scannedModules.contains(m.key) {
            p.scannedModules.insert(m.key)
            if case .symbol = s.options.trigger, let addr = Breakpoints.resolve(wanted, module: m.path, maps: maps) {
                Breakpoints.plant(p, tid: tid, at: addr, purpose: .trigger)
            }
            if mainMissing, m.path.contains("/libc.so"),
               let addr = Breakpoints.resolve("__libc_start_main", module: m.path, maps: maps) {
                Breakpoints.plant(p, tid: tid, at: addr, purpose: .libcStartMain)
            }
        }
    }

    /// The trigger: capability mode begins (stack walked while the thread is ptrace-stopped), then the process
    /// leaves ptrace.
    func triggerFired(_ p: ProcessState, tid: Int32) {
        s.lock.locked {
            guard !p.capabilityMode else { return }
            p.capabilityMode = true
            s.extra[p.pid]?.childrenAtEntry = NotifyProcFS.children(p.pid)
            s.writeEnter(p, tid: tid, regs: nil, ptraceStopped: true)
        }
        for addr in Array(p.breakpoints.keys) { Breakpoints.remove(p, tid: tid, at: addr) }
        detaching.insert(p.pid)
        traced.removeValue(forKey: tid)
        _ = ct_ptrace_detach(tid, 0)
        for (t, pid) in traced where pid == p.pid { _ = ct_ptrace_interrupt(t) }
    }

    /// A stop of a thread whose process is leaving ptrace: detach it, passing on a real signal.
    func detachStopped(_ tid: Int32, pid: Int32, sig: Int32, event: Int32) {
        traced.removeValue(forKey: tid)
        var deliver: Int32 = 0
        if event == 0 {
            deliver = sig
            if sig == SIGTRAP, let p = process(pid) {
                var regs = user_regs_struct()
                var signo: Int32 = 0, code: Int32 = 0
                if ct_ptrace_getsiginfo(tid, &signo, &code) == 0, code == 0x80, ct_ptrace_getregs(tid, &regs) == 0,
                   p.retiredBreakpoints.contains(regs.rip &- 1) {
                    Breakpoints.setPC(tid, regs.rip &- 1)
                    deliver = 0
                }
            }
        }
        _ = ct_ptrace_detach(tid, deliver)
    }
}
