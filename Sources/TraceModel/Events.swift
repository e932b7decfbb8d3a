import SeccompBPF
import SyscallCatalog

/// The trace file format: JSON Lines, one event per line (see README "Trace format"). Version 2 is written;
/// versions 1 and 2 are read (version 1 is converted on read).
public enum TraceFormat {
    public static let name = "captrace"
    public static let version = 2
    public static let readable = [1, 2]
}

/// A global namespace a violation reaches (contract: "What is a violation").
public enum Namespace: String, Sendable, Codable, Hashable, CaseIterable {
    case filesystem, network, process, ipc, system, bypass
    /// Refused by the run's `--policy` (a seccomp profile), not judged by capability mode.
    case policy
}

/// Why a call is a violation: a closed set, so every writer must handle a new kind.
public enum Rule: String, Sendable, Codable, Hashable, CaseIterable {
    // filesystem
    case absolutePath = "absolute-path"  // path starting with "/"
    case cwdRelative = "cwd-relative"  // relative path resolved against the current directory (AT_FDCWD)
    case dotdotEscape = "dotdot-escape"  // relative to a held directory but with a ".." component
    case symlinkEscape = "symlink-escape"  // resolved beneath a held directory, leaves it: a symlink, ".." or a magic link
    case unreadablePath = "unreadable-path"  // the path could not be read from the program's memory
    case exec = "exec"  // execve/execveat by path: a new program image named globally
    // network
    case socketAddress = "socket-address"  // bind/connect/send naming an address
    case rawSocket = "raw-socket"  // a raw IP or packet socket (FreeBSD: CAPFAIL_PROTO)
    // process
    case otherProcess = "other-process"  // a pid or tid outside the caller's thread group
    case processGroup = "process-group"  // pid 0, -1 or a negative group id
    // ipc
    case sysvIPC = "sysv-ipc"
    case posixMQ = "posix-mq"
    // system
    case systemState = "system-state"  // global system state (mounts, modules, clocks, namespaces, ...)
    // bypass
    case ioUring = "io-uring"
    // policy: the call is one the run's seccomp profile refuses (`decided_by` says which part of it)
    case seccompProfile = "seccomp-profile"
}

/// What happened to a violating call.
public enum Action: String, Sendable, Codable, Hashable {
    case allowed
    case denied
    case allowedByBaseline = "allowed-by-baseline"
}

/// A stack frame, innermost first in a stack. Unknown fields are nil, never invented.
public struct Frame: Sendable, Hashable {
    public var pc: UInt64
    public var module: String?
    /// File-relative offset of `pc` in `module` (stable across runs and ASLR).
    public var offset: UInt64?
    public var symbol: String?
    public var symbolOffset: UInt64?
    public var file: String?
    public var line: Int?

    public init(pc: UInt64, module: String? = nil, offset: UInt64? = nil, symbol: String? = nil,
                symbolOffset: UInt64? = nil, file: String? = nil, line: Int? = nil) {
        self.pc = pc; self.module = module; self.offset = offset; self.symbol = symbol
        self.symbolOffset = symbolOffset; self.file = file; self.line = line
    }

    /// Hashes pc and offset only (equal frames have equal ones): the writer keys its frame and stack tables by
    /// whole frames, and hashing every path and name of every frame was most of its cost per new stack.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pc)
        hasher.combine(offset)
    }
}

/// What a descriptor names, as /proc shows it (the trace's `kind` and `new_kind` values).
public enum DescriptorKind: String, Sendable, Hashable, CaseIterable {
    case file, directory, tty, device, pipe, socket
    /// An anon_inode: eventfd, epoll, timerfd, signalfd, pidfd...
    case anon
    /// Something else /proc describes (a block device, a symlink target that could not be examined).
    case other
    /// Never described: a descriptor the analysis meets only by number (e.g. received with SCM_RIGHTS).
    case unknown
}

/// A descriptor held by a process when it entered capability mode (read from /proc).
public struct FDInfo: Sendable, Hashable {
    public var fd: Int32
    public var kind: DescriptorKind
    public var path: String
    /// Open flags by name, e.g. "O_RDWR|O_APPEND".
    public var flags: String

    public init(fd: Int32, kind: DescriptorKind, path: String, flags: String) {
        self.fd = fd; self.kind = kind; self.path = path; self.flags = flags
    }
}

/// A decoded argument value: trace files keep them as JSON scalars.
public enum ArgValue: Sendable, Hashable, Codable {
    case int(Int64)
    case string(String)
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        case .null: try c.encodeNil()
        }
    }
}

/// Whether violations were only recorded, or refused (`run --mode`).
public enum Mode: String, Sendable, Hashable { case observe, enforce }

/// The mechanism that recorded a trace (`run --backend`).
public enum Backend: String, Sendable, Hashable { case ptrace, notify }

public struct HeaderEvent: Sendable, Hashable {
    public var format: String = TraceFormat.name
    public var version: Int = TraceFormat.version
    public var argv: [String]
    public var trigger: String
    public var mode: Mode
    public var backend: Backend
    public var arch: String = "x86_64"
    /// ISO 8601 UTC, e.g. 2026-11-29T04:20:00Z
    public var started: String
    public var denyErrno: String? = nil
    public var stackDepth: Int? = nil
    public var unwinder: String? = nil
    public var rights: Bool? = nil
    /// `run --syscalls`: every process's syscall set is recorded (`syscalls` events).
    public var syscalls: Bool? = nil
    /// The text of the baseline allowlist the run was given (`--allow FILE`): an input of the run, kept so that
    /// analysing the trace later judges its violations against the same baseline.
    public var allowlist: String? = nil
    /// The Landlock ABI of the machine the run was recorded on (0: Landlock unavailable); nil when not recorded.
    public var landlockABI: Int? = nil
    /// The program's starting directory, $HOME and temporary directory ($TMPDIR, else /tmp): the variables of a
    /// suggested Landlock ruleset. nil when not recorded.
    public var cwd: String? = nil
    public var home: String? = nil
    public var tmpdir: String? = nil
    /// The policy the run judged against instead of capability mode (`--policy`); nil: capability mode.
    public var policy: PolicyInfo? = nil

    public init(argv: [String], trigger: String, mode: Mode, backend: Backend, started: String) {
        self.argv = argv; self.trigger = trigger; self.mode = mode; self.backend = backend; self.started = started
    }
}

public enum ProcessEventKind: String, Sendable, Codable, Hashable {
    case spawn, fork, thread, exec, exit
}

public struct ProcessEvent: Sendable, Hashable {
    public var event: ProcessEventKind
    public var pid: Int32
    public var tid: Int32
    public var ppid: Int32
    public var capabilityMode: Bool
    public var tNs: UInt64
    /// exec: the new program path.
    public var path: String? = nil
    /// exit: the exit status (exit code, or 128+signal).
    public var exitStatus: Int32? = nil
    /// exit: the signal name when killed by a signal.
    public var signal: String? = nil
    /// exec: what the exec'd file would have granted (setuid/setgid ids, file capabilities) that captrace's
    /// no_new_privs withheld, e.g. "setuid uid 0"; nil when nothing was withheld.
    public var withheldPrivileges: String? = nil

    public init(event: ProcessEventKind, pid: Int32, tid: Int32, ppid: Int32, capabilityMode: Bool, tNs: UInt64) {
        self.event = event; self.pid = pid; self.tid = tid; self.ppid = ppid
        self.capabilityMode = capabilityMode; self.tNs = tNs
    }
}

public struct EnterEvent: Sendable, Hashable {
    public var pid: Int32
    public var tid: Int32
    public var trigger: String
    public var tNs: UInt64
    public var stack: [Frame]
    public var fds: [FDInfo]
    /// Set when a process entered by inheritance (forked after its parent entered) rather than the trigger.
    public var inheritedFrom: Int32? = nil

    public init(pid: Int32, tid: Int32, trigger: String, tNs: UInt64, stack: [Frame], fds: [FDInfo]) {
        self.pid = pid; self.tid = tid; self.trigger = trigger; self.tNs = tNs; self.stack = stack; self.fds = fds
    }
}

public struct ViolationEvent: Sendable, Hashable {
    public var seq: Int
    public var tNs: UInt64
    public var pid: Int32
    public var tid: Int32
    public var action: Action
    public var result: Int64? = nil
    public var errno: String? = nil
    /// What every violation of one call shares, held once (copying a violation costs one reference count: a
    /// million violations of one call share one `Call`); written through copy-on-write.
    private var call: Call

    final class Call: @unchecked Sendable {
        var abi: ABI
        var syscall: String
        var nr: Int
        var namespace: Namespace
        var rule: Rule
        var args: [(String, ArgValue)]
        var path: String? = nil
        var address: String? = nil
        var resolved: String? = nil
        var site: String
        var hint: String? = nil
        var stack: [Frame]
        var raw: RawCall? = nil
        var verdict: PolicyVerdict? = nil

        init(abi: ABI, syscall: String, nr: Int, namespace: Namespace, rule: Rule, args: [(String, ArgValue)],
             site: String, stack: [Frame]) {
            self.abi = abi; self.syscall = syscall; self.nr = nr; self.namespace = namespace; self.rule = rule
            self.args = args; self.site = site; self.stack = stack
        }

        func copy() -> Call {
            let c = Call(abi: abi, syscall: syscall, nr: nr, namespace: namespace, rule: rule, args: args, site: site,
                         stack: stack)
            c.path = path; c.address = address; c.resolved = resolved; c.hint = hint; c.raw = raw
            c.verdict = verdict
            return c
        }
    }

    private mutating func unique() -> Call {
        if !isKnownUniquelyReferenced(&call) { call = call.copy() }
        return call
    }

    public var abi: ABI { get { call.abi } set { unique().abi = newValue } }
    public var syscall: String { get { call.syscall } set { unique().syscall = newValue } }
    public var nr: Int { get { call.nr } set { unique().nr = newValue } }
    public var namespace: Namespace { get { call.namespace } set { unique().namespace = newValue } }
    public var rule: Rule { get { call.rule } set { unique().rule = newValue } }
    /// Decoded arguments by the catalog's argument names, in catalog order.
    public var args: [(String, ArgValue)] { get { call.args } set { unique().args = newValue } }
    public var path: String? { get { call.path } set { unique().path = newValue } }
    public var address: String? { get { call.address } set { unique().address = newValue } }
    /// symlink-escape: where the lookup led, as a path (nil when it could not be known, e.g. a dangling link).
    public var resolved: String? { get { call.resolved } set { unique().resolved = newValue } }
    /// Hash of the stack's (module, offset) pairs; equal sites are one site in reports.
    public var site: String { get { call.site } set { unique().site = newValue } }
    /// Written by captrace before hints moved to analysis (version 1); still read, never trusted (reports match
    /// the knowledge base again).
    public var hint: String? { get { call.hint } set { unique().hint = newValue } }
    public var stack: [Frame] { get { call.stack } set { unique().stack = newValue } }
    /// What captrace read to judge the call (format 2): registers and memory. `args`, `path` and `address` are
    /// rendered from it (`CallRendering`); nil for a trace of version 1, which stored them rendered.
    public var raw: RawCall? { get { call.raw } set { unique().raw = newValue } }
    /// Under `run --policy`: what in the policy refused the call (nil for capability-mode violations).
    public var verdict: PolicyVerdict? { get { call.verdict } set { unique().verdict = newValue } }

    /// Whether two violations share their call's facts (the same `Call`, not only equal ones).
    public func sharesCall(with other: ViolationEvent) -> Bool { call === other.call }

    public init(seq: Int, tNs: UInt64, pid: Int32, tid: Int32, abi: ABI, syscall: String, nr: Int,
                namespace: Namespace, rule: Rule, args: [(String, ArgValue)], action: Action, site: String,
                stack: [Frame]) {
        self.seq = seq; self.tNs = tNs; self.pid = pid; self.tid = tid; self.action = action
        call = Call(abi: abi, syscall: syscall, nr: nr, namespace: namespace, rule: rule, args: args, site: site,
                    stack: stack)
    }

    public static func == (a: ViolationEvent, b: ViolationEvent) -> Bool {
        a.seq == b.seq && a.tNs == b.tNs && a.pid == b.pid && a.tid == b.tid && a.abi == b.abi
            && a.syscall == b.syscall && a.nr == b.nr && a.namespace == b.namespace && a.rule == b.rule
            && a.args.map(\.0) == b.args.map(\.0) && a.args.map(\.1) == b.args.map(\.1) && a.path == b.path
            && a.address == b.address && a.resolved == b.resolved && a.action == b.action && a.result == b.result
            && a.errno == b.errno && a.site == b.site && a.hint == b.hint && a.stack == b.stack && a.raw == b.raw
            && a.verdict == b.verdict
    }

    public func hash(into h: inout Hasher) {
        h.combine(seq); h.combine(pid); h.combine(tid); h.combine(syscall); h.combine(site)
    }

    /// The value of a decoded argument by name.
    public func arg(_ name: String) -> ArgValue? { args.first { $0.0 == name }?.1 }
}

/// The facts of a call as captrace read them, once, to judge it: the argument registers and the bytes read
/// from the program's memory. The same bytes are judged and recorded; rendering them is a pure function.
public struct RawCall: Sendable, Hashable {
    /// The argument registers, in catalog order (for i386, zero-extended 32-bit values).
    public var args: [UInt64]
    /// What was read from the program's memory.
    public var memory: MemoryRead
    /// The directory a relative first path is resolved against, as /proc named it when the call was made: the
    /// dirfd's path, or the current directory for AT_FDCWD and calls without a dirfd. nil for absolute paths.
    public var base: String?

    public init(args: [UInt64], memory: MemoryRead = MemoryRead(), base: String? = nil) {
        self.args = args; self.memory = memory; self.base = base
    }
}

/// The bytes a call's judgement read from the program's memory.
public struct MemoryRead: Sendable, Hashable {
    /// NUL-terminated strings (paths and names) by argument index. A non-NULL string argument missing here
    /// could not be read.
    public var strings: [Int: String] = [:]
    /// The socket address the call names, as read: its sockaddr argument, a msghdr's msg_name, or (i386)
    /// socketcall's. nil when the call names none or it could not be read.
    public var sockaddr: [UInt8]? = nil
    /// i386 `socketcall`: the argument words read from its packed array.
    public var socketcall: [UInt64]? = nil

    public init() {}
}

/// A descriptor operation after entry (`run --rights`): which right it needed, first site only per (fd, right).
public struct FDOpEvent: Sendable, Hashable {
    public var pid: Int32
    public var tid: Int32
    public var tNs: UInt64
    public var fd: Int32
    public var syscall: String
    /// The Capsicum right the operation needs (CAP_READ, CAP_LOOKUP...); nil for a descriptor-table operation
    /// that needs none (dup, close, a descriptor created from nothing held), written "none" in the trace.
    public var right: CapRight?
    /// Extra detail (ioctl command, fcntl command, mmap protections, open flags), if any.
    public var detail: String? = nil
    /// For descriptors created after entry: the descriptor the new one was derived from (dirfd of openat...).
    public var newFd: Int32? = nil
    public var newKind: DescriptorKind? = nil
    public var newPath: String? = nil
    public var site: String? = nil
    public var stack: [Frame]? = nil

    public init(pid: Int32, tid: Int32, tNs: UInt64, fd: Int32, syscall: String, right: CapRight?) {
        self.pid = pid; self.tid = tid; self.tNs = tNs; self.fd = fd; self.syscall = syscall; self.right = right
    }
}

/// A seccomp filter a traced process installed itself (seccomp(SECCOMP_SET_MODE_FILTER) or
/// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER), e.g. a sandbox wrapper's `bwrap --seccomp FD`), recorded when the
/// call succeeded: the classic-BPF program as read from the process's memory at the call.
public struct SeccompFilterEvent: Sendable, Hashable {
    /// The filter's number in this trace (1, 2, ...): refusals name it.
    public var id: Int
    public var pid: Int32
    public var tid: Int32
    public var tNs: UInt64
    /// "seccomp" or "prctl".
    public var syscall: String
    /// seccomp(2)'s `flags` (SECCOMP_FILTER_FLAG_*); 0 for prctl.
    public var flags: UInt64
    public var program: [Instruction]
    public var stack: [Frame]

    public init(id: Int, pid: Int32, tid: Int32, tNs: UInt64, syscall: String, flags: UInt64, program: [Instruction],
                stack: [Frame]) {
        self.id = id; self.pid = pid; self.tid = tid; self.tNs = tNs; self.syscall = syscall; self.flags = flags
        self.program = program; self.stack = stack
    }
}

/// A call refused by a seccomp filter the program installed itself (see `SeccompFilterEvent`), found by running
/// the process's filters on the call at its syscall-entry stop (ptrace backend only).
public struct RefusalEvent: Sendable, Hashable {
    public var pid: Int32
    public var tid: Int32
    public var tNs: UInt64
    public var abi: ABI
    public var nr: Int
    public var syscall: String
    /// The argument registers.
    public var args: [UInt64]
    /// The value the deciding filter returned (`SECCOMP_RET_*` and data).
    public var value: UInt32
    /// The deciding filter's `id`.
    public var filter: Int
    /// The call's result when it was seen (an ERRNO action: -errno); nil for KILL and TRAP.
    public var result: Int64? = nil
    public var stack: [Frame]

    public init(pid: Int32, tid: Int32, tNs: UInt64, abi: ABI, nr: Int, syscall: String, args: [UInt64], value: UInt32,
                filter: Int, stack: [Frame]) {
        self.pid = pid; self.tid = tid; self.tNs = tNs; self.abi = abi; self.nr = nr; self.syscall = syscall
        self.args = args; self.value = value; self.filter = filter; self.stack = stack
    }

    /// `ERRNO(EPERM)`, `KILL_PROCESS`, ...
    public var action: String { SeccompAction(value).describe(errnoName: Errno.name) }
}

public struct SummaryEvent: Sendable, Hashable {
    public var violations: Int
    public var sites: Int
    public var processes: Int
    public var exitStatus: Int32
    public var durationMs: Int
    /// True when the run was interrupted (SIGINT/SIGTERM) and the program ended early.
    public var interrupted: Bool? = nil

    public init(violations: Int, sites: Int, processes: Int, exitStatus: Int32, durationMs: Int) {
        self.violations = violations; self.sites = sites; self.processes = processes
        self.exitStatus = exitStatus; self.durationMs = durationMs
    }
}

/// One line of a trace file.
public enum TraceEvent: Sendable, Hashable {
    case header(HeaderEvent)
    case process(ProcessEvent)
    case enter(EnterEvent)
    case violation(ViolationEvent)
    case fdop(FDOpEvent)
    /// `run --syscalls`: one process's syscall set, at its exit.
    case syscalls(SyscallSetEvent)
    /// A Landlock domain layer in effect for a process (optional record).
    case landlock(LandlockEvent)
    /// A call Landlock refused in a process with a domain (optional record).
    case landlockDenial(LandlockDenialEvent)
    case seccompFilter(SeccompFilterEvent)
    case refusal(RefusalEvent)
    case summary(SummaryEvent)

    public var typeName: String {
        switch self {
        case .header: "header"
        case .process: "process"
        case .enter: "enter"
        case .violation: "violation"
        case .fdop: "fdop"
        case .syscalls: "syscalls"
        case .landlock: "landlock"
        case .landlockDenial: "landlock_denial"
        case .seccompFilter: "seccomp_filter"
        case .refusal: "refusal"
        case .summary: "summary"
        }
    }
}
