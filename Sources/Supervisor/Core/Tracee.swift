import CTraceShims
import Glibc
import SyscallCatalog

/// Why a request on a traced thread failed. `gone` (ESRCH) is a normal event — the thread exited, was killed,
/// or is not stopped — not an error: callers drop what they were doing for it.
public enum TaskError: Error, Equatable {
    case gone
    case failed(Int32)

    init(_ rc: Int) { self = rc == -Int(ESRCH) ? .gone : .failed(Int32(-rc)) }
}

/// What the trigger breakpoints need of a stopped thread: word access to its text, its registers and its
/// memory. `Tracee` is the real one (ptrace); tests drive the breakpoint logic with an in-memory one, so the
/// races that are hard to reproduce (the thread vanishing mid-stop) are tested without real processes.
protocol TaskControl {
    func peek(_ tid: Int32, _ addr: UInt64) throws(TaskError) -> UInt64
    func poke(_ tid: Int32, _ addr: UInt64, _ word: UInt64) throws(TaskError)
    func registers(_ tid: Int32) throws(TaskError) -> user_regs_struct
    func setRegisters(_ tid: Int32, _ regs: user_regs_struct) throws(TaskError)
    /// The SIGTRAP code of the thread's pending signal (SI_KERNEL 0x80 for an int3).
    func signalCode(_ tid: Int32) throws(TaskError) -> Int32
    /// Reads a 64-bit word of the process's memory (the return address of an emulated `ret`).
    func readWord(pid: Int32, _ addr: UInt64) throws(TaskError) -> UInt64
}

/// One wrapper per ptrace request (swift-system style): each returns its value or throws a `TaskError`.
/// All of them must be called from the thread that attached (ptrace's rule).
struct Tracee: TaskControl {
    // ptrace options and events (linux/ptrace.h)
    static let optTraceSysGood: UInt = 0x1, optTraceFork: UInt = 0x2, optTraceVfork: UInt = 0x4
    static let optTraceClone: UInt = 0x8, optTraceExec: UInt = 0x10, optTraceSeccomp: UInt = 0x80
    static let optExitKill: UInt = 0x10_0000
    static let eventFork: Int32 = 1, eventVfork: Int32 = 2, eventClone: Int32 = 3, eventExec: Int32 = 4
    static let eventVforkDone: Int32 = 5, eventExit: Int32 = 6, eventSeccomp: Int32 = 7, eventStop: Int32 = 128

    @inline(__always) private static func check(_ rc: Int) throws(TaskError) {
        if rc < 0 { throw TaskError(rc) }
    }

    static func seize(_ tid: Int32, options: UInt) throws(TaskError) { try check(ct_ptrace_seize(tid, options)) }
    /// Resumes a stopped thread (PTRACE_CONT), delivering `signal` (0: none).
    static func cont(_ tid: Int32, signal: Int32 = 0) throws(TaskError) { try check(ct_ptrace_cont(tid, signal)) }
    /// Resumes a stopped thread to its next syscall stop (here: the exit stop of the current call).
    static func toSyscallExit(_ tid: Int32, signal: Int32 = 0) throws(TaskError) {
        try check(ct_ptrace_syscall(tid, signal))
    }
    /// Leaves a thread in its group-stop, as it would be without a tracer.
    static func listen(_ tid: Int32) throws(TaskError) { try check(ct_ptrace_listen(tid)) }
    static func interrupt(_ tid: Int32) throws(TaskError) { try check(ct_ptrace_interrupt(tid)) }
    static func detach(_ tid: Int32, signal: Int32 = 0) throws(TaskError) { try check(ct_ptrace_detach(tid, signal)) }
    /// PTRACE_GETEVENTMSG: the new task of a fork/clone event, the former tid of an exec event.
    static func eventMessage(_ tid: Int32) throws(TaskError) -> Int32 {
        var msg: UInt = 0
        try check(ct_ptrace_geteventmsg(tid, &msg))
        return Int32(truncatingIfNeeded: msg)
    }
    static func syscallInfo(_ tid: Int32) throws(TaskError) -> ct_syscall_info {
        var info = ct_syscall_info()
        try check(ct_ptrace_syscall_info(tid, &info))
        return info
    }

    func peek(_ tid: Int32, _ addr: UInt64) throws(TaskError) -> UInt64 {
        var word: UInt64 = 0
        try Self.check(ct_ptrace_peek(tid, UInt(addr), &word))
        return word
    }
    func poke(_ tid: Int32, _ addr: UInt64, _ word: UInt64) throws(TaskError) {
        try Self.check(ct_ptrace_poke(tid, UInt(addr), word))
    }
    func registers(_ tid: Int32) throws(TaskError) -> user_regs_struct {
        var regs = user_regs_struct()
        try Self.check(ct_ptrace_getregs(tid, &regs))
        return regs
    }
    func setRegisters(_ tid: Int32, _ regs: user_regs_struct) throws(TaskError) {
        var r = regs
        try Self.check(ct_ptrace_setregs(tid, &r))
    }
    func signalCode(_ tid: Int32) throws(TaskError) -> Int32 {
        var signo: Int32 = 0, code: Int32 = 0
        try Self.check(ct_ptrace_getsiginfo(tid, &signo, &code))
        return code
    }
    func readWord(pid: Int32, _ addr: UInt64) throws(TaskError) -> UInt64 {
        var word: UInt64 = 0
        let n = ct_read_mem(pid, UInt(addr), &word, 8)
        if n < 0 { throw TaskError(n) }
        guard n == 8 else { throw TaskError.failed(EFAULT) }
        return word
    }
}

/// A wait(2) status, decoded once.
struct WaitStatus {
    let raw: Int32
    init(_ raw: Int32) { self.raw = raw }

    var exited: Bool { ct_wifexited(raw) != 0 }
    var signaled: Bool { ct_wifsignaled(raw) != 0 }
    var stopped: Bool { ct_wifstopped(raw) != 0 }
    var stopSignal: Int32 { ct_wstopsig(raw) }
    /// The PTRACE_EVENT_* of a stop, 0 if none.
    var event: Int32 { ct_wevent(raw) }
    /// The status a shell reports: the exit code, or 128 + the killing signal.
    var programStatus: Int32 { exited ? ct_wexitstatus(raw) : 128 + ct_wtermsig(raw) }
    /// The killing signal's name ("SIGKILL"), nil for a normal exit.
    var signalName: String? { signaled ? Signals.name(ct_wtermsig(raw)) : nil }
}

/// What a ptrace stop is, decided once for both the ptrace transport and the notify backend's ptrace phase.
enum PtraceStop: Equatable {
    /// The thread is gone (exited or killed).
    case exited
    /// PTRACE_SYSCALL's syscall-exit stop (TRACESYSGOOD).
    case syscallExit
    /// A SECCOMP_RET_TRACE stop.
    case seccomp
    /// fork, vfork or clone: PTRACE_GETEVENTMSG names the new task.
    case newTask
    case exec
    /// A group-stop (PTRACE_EVENT_STOP with a stopping signal): stay stopped, as without a tracer.
    case groupStop
    /// PTRACE_EVENT_STOP otherwise: a new task's first stop or a PTRACE_INTERRUPT.
    case interruptStop(signal: Int32)
    /// Any other PTRACE_EVENT (vfork-done, exit).
    case otherEvent
    /// A signal-delivery stop.
    case signal(Int32)
    /// Not a stop (continued).
    case none

    init(_ s: WaitStatus) {
        if s.exited || s.signaled { self = .exited; return }
        guard s.stopped else { self = .none; return }
        let sig = s.stopSignal
        switch s.event {
        case 0: self = sig == (SIGTRAP | 0x80) ? .syscallExit : .signal(sig)
        case Tracee.eventSeccomp: self = .seccomp
        case Tracee.eventFork, Tracee.eventVfork, Tracee.eventClone: self = .newTask
        case Tracee.eventExec: self = .exec
        case Tracee.eventStop:
            self = (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) ? .groupStop
                : .interruptStop(signal: sig)
        default: self = .otherEvent
        }
    }
}

/// A trapped syscall as seccomp reports it (audit arch, raw number, six arguments), split into its ABI and
/// catalog row by the catalog's one rule (`Catalog.abi(auditArch:rawNumber:)`).
struct SyscallStop {
    let abi: ABI
    let nr: Int
    let syscall: Syscall?
    let args: [UInt64]

    init?(auditArch: UInt32, rawNumber: Int, args: [UInt64]) {
        guard let split = Catalog.abi(auditArch: auditArch, rawNumber: rawNumber) else { return nil }
        abi = split.abi
        nr = split.nr
        syscall = Catalog.shared.syscall(abi: split.abi, nr: split.nr)
        self.args = args
    }

    var name: String? { syscall?.name }
}
