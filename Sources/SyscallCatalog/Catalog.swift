/// The syscall catalog: facts about Linux syscalls, with no opinion on whether capability mode allows them.
///
/// One row per syscall (`SyscallTable.swift`), numbers per ABI generated from the kernel's UAPI headers
/// (`SyscallNumbers.generated.swift`, written by `Tools/gen-syscall-numbers`). The seccomp filter, the decoder
/// lookup and `captrace syscalls` are all derived from these two files.

/// An ABI a 64-bit x86 process can make syscalls through.
public enum ABI: String, CaseIterable, Sendable, Codable, Hashable {
    /// `syscall` instruction, the native ABI.
    case x86_64
    /// `int 0x80` from a 64-bit (or 32-bit) process.
    case i386
    /// `syscall` with bit 30 (`__X32_SYSCALL_BIT`) set in the number.
    case x32

    /// The `AUDIT_ARCH_*` value seccomp reports in `seccomp_data.arch`.
    public var auditArch: UInt32 {
        switch self {
        case .x86_64, .x32: return 0xC000_003E  // AUDIT_ARCH_X86_64 (x32 is told apart by bit 30)
        case .i386: return 0x4000_0003  // AUDIT_ARCH_I386
        }
    }
}

/// What one argument of a syscall is, as far as decoding and classification care.
public enum ArgKind: String, Sendable, Hashable, CaseIterable {
    case int  // plain signed integer
    case uint  // plain unsigned integer / size / count
    case ptr  // opaque user pointer (not decoded)
    case fd  // a file descriptor the call operates on
    case dirfd  // a directory descriptor a following path is resolved against (AT_FDCWD = -100)
    case path  // NUL-terminated path string in the caller's memory
    case string  // other NUL-terminated string (a name that is not a path: e.g. mq name, hostname)
    case atFlags  // AT_* flags (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, ...)
    case openFlags  // O_* flags
    case mode  // permission bits
    case openHow  // struct open_how * (openat2)
    case sockaddr  // struct sockaddr * (length in the following sockaddrLen argument)
    case sockaddrLen  // socklen_t length of the preceding sockaddr
    case msghdr  // struct msghdr * (may carry msg_name, a destination address)
    case pid  // a process id: >0 one process, 0 own group, -1 all, < -1 a group
    case tid  // a thread id
    case signal  // a signal number
    case ipcKey  // a System V IPC key
    case socketcallArgs  // i386 socketcall's packed argument array (second argument)
    case ipcCall  // i386 ipc(2) multiplexer's call number
    case clockid
    case argv  // char *const argv[]
}

/// What a syscall can reach outside the descriptors a process holds. Facts about Linux, not policy.
public enum Touch: String, Sendable, Hashable, CaseIterable {
    case none  // nothing global: operates on held descriptors, memory, or the caller itself
    case path  // looks up a path (absolute, cwd-relative, or relative to a dirfd argument)
    case exec  // replaces the program image by path
    case socketAddress  // names a socket address (bind, connect, send with destination)
    case process  // acts on another process or thread named by id
    case ipc  // System V IPC or POSIX message queues: global IPC namespaces
    case system  // global system state: mounts, modules, clocks, hostname, namespaces, bpf, keyrings...
    case bypass  // escapes syscall filtering (io_uring)
}

/// One row of the catalog: a syscall's facts, written once for every ABI.
public struct Syscall: Sendable, Hashable {
    public let name: String
    /// Argument kinds in order (at most 6).
    public let args: [ArgKind]
    /// Argument names in order, as used in decoded `args` of trace events.
    public let argNames: [String]
    public let touches: Touch

    public init(_ name: String, _ args: [(String, ArgKind)], touches: Touch = .none) {
        self.name = name
        self.args = args.map(\.1)
        self.argNames = args.map(\.0)
        self.touches = touches
    }
}
