/// Decoding tables for flag words, signals, errno values and address families on Linux x86 (all three ABIs
/// share these values). Facts only, kept as tables; rendering flags by name is `FlagTable.describe`.

/// A table of named bits; `describe` renders a value as `A|B|0x40` (unknown bits in hex, never dropped).
public struct FlagTable: Sendable {
    public let bits: [(name: String, value: UInt64)]

    public init(_ bits: [(String, UInt64)]) { self.bits = bits.map { (name: $0.0, value: $0.1) } }

    /// Names of the set bits in table order; bits no name covers are appended in hex; "0" when nothing is set.
    /// (Concatenated by hand: `joined(separator:)` is generic code whose first run looks up `String`'s
    /// conformances at run time, ~0.05 ms of every start.)
    public func describe(_ value: UInt64) -> String {
        var out = ""
        var rest = value
        for (name, bit) in bits where bit != 0 && value & bit == bit && rest & bit != 0 {
            if !out.isEmpty { out += "|" }
            out += name
            rest &= ~bit
        }
        if rest != 0 { out += (out.isEmpty ? "0x" : "|0x") + String(rest, radix: 16) }
        return out.isEmpty ? "0" : out
    }

    /// The value of one name, or nil.
    public func value(of name: String) -> UInt64? { bits.first { $0.name == name }?.value }
}

/// `O_*` open flags (asm-generic/fcntl.h, as used on x86).
public enum OpenFlags {
    public static let O_ACCMODE: UInt64 = 0o3
    public static let O_WRONLY: UInt64 = 0o1
    public static let O_CREAT: UInt64 = 0o100
    public static let O_EXCL: UInt64 = 0o200
    public static let O_NOCTTY: UInt64 = 0o400
    public static let O_TRUNC: UInt64 = 0o1000
    public static let O_DIRECTORY: UInt64 = 0o200000
    public static let O_NOFOLLOW: UInt64 = 0o400000
    public static let O_CLOEXEC: UInt64 = 0o2000000
    public static let O_PATH: UInt64 = 0o10000000
    public static let O_TMPFILE: UInt64 = 0o20000000 | 0o200000

    /// Bits beyond the access mode, in the order strace prints them. Multi-bit names (O_SYNC, O_TMPFILE) come
    /// before their parts so a value shows the compound name.
    public static let table = FlagTable([
        ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000), ("O_APPEND", 0o2000),
        ("O_NONBLOCK", 0o4000), ("O_SYNC", 0o4010000), ("O_DSYNC", 0o10000), ("O_ASYNC", 0o20000),
        ("O_DIRECT", 0o40000), ("O_LARGEFILE", 0o100000), ("O_TMPFILE", 0o20200000), ("O_DIRECTORY", 0o200000),
        ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000), ("O_CLOEXEC", 0o2000000), ("O_PATH", 0o10000000),
    ])

    /// E.g. `O_RDONLY|O_CLOEXEC`, `O_WRONLY|O_CREAT|O_TRUNC`. The access mode always comes first.
    public static func describe(_ value: UInt64) -> String {
        let mode: String
        switch value & O_ACCMODE {
        case 0: mode = "O_RDONLY"
        case 1: mode = "O_WRONLY"
        case 2: mode = "O_RDWR"
        default: mode = "O_ACCMODE"
        }
        let rest = value & ~O_ACCMODE
        return rest == 0 ? mode : mode + "|" + table.describe(rest)
    }
}

/// `AT_*` flags of the *at calls (linux/fcntl.h).
public enum AtFlags {
    public static let AT_FDCWD: Int32 = -100
    public static let AT_SYMLINK_NOFOLLOW: UInt64 = 0x100
    public static let AT_REMOVEDIR: UInt64 = 0x200
    public static let AT_SYMLINK_FOLLOW: UInt64 = 0x400
    public static let AT_NO_AUTOMOUNT: UInt64 = 0x800
    public static let AT_EMPTY_PATH: UInt64 = 0x1000
    /// `execveat`, `faccessat2`: use the effective ids (AT_EACCESS shares 0x200 with AT_REMOVEDIR).
    public static let AT_EACCESS: UInt64 = 0x200
    public static let AT_RECURSIVE: UInt64 = 0x8000

    public static let table = FlagTable([
        ("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_REMOVEDIR", 0x200), ("AT_SYMLINK_FOLLOW", 0x400),
        ("AT_NO_AUTOMOUNT", 0x800), ("AT_EMPTY_PATH", 0x1000), ("AT_STATX_FORCE_SYNC", 0x2000),
        ("AT_STATX_DONT_SYNC", 0x4000), ("AT_RECURSIVE", 0x8000),
    ])

    public static func describe(_ value: UInt64) -> String { table.describe(value) }

    /// Whether a dirfd register holds AT_FDCWD: the kernel reads an `int`, so compare the low 32 bits as signed.
    @inline(__always)
    public static func isFDCWD(_ register: UInt64) -> Bool { Int32(truncatingIfNeeded: register) == AT_FDCWD }

    /// A dirfd register as the kernel sees it (`int`), e.g. "AT_FDCWD" or "3".
    public static func describeDirfd(_ register: UInt64) -> String {
        isFDCWD(register) ? "AT_FDCWD" : String(Int32(truncatingIfNeeded: register))
    }
}

/// access(2) modes: `F_OK`, or `R_OK|W_OK|X_OK` bits.
public enum AccessMode {
    public static let table = FlagTable([("R_OK", 4), ("W_OK", 2), ("X_OK", 1)])
    public static func describe(_ value: UInt64) -> String { value == 0 ? "F_OK" : table.describe(value) }
}

/// statx(2) `mask` bits (linux/stat.h); `STATX_BASIC_STATS` names the usual seven-to-eleven-bit set.
public enum StatxMask {
    public static let table = FlagTable([
        ("STATX_BASIC_STATS", 0x7ff), ("STATX_TYPE", 0x1), ("STATX_MODE", 0x2), ("STATX_NLINK", 0x4),
        ("STATX_UID", 0x8), ("STATX_GID", 0x10), ("STATX_ATIME", 0x20), ("STATX_MTIME", 0x40), ("STATX_CTIME", 0x80),
        ("STATX_INO", 0x100), ("STATX_SIZE", 0x200), ("STATX_BLOCKS", 0x400), ("STATX_BTIME", 0x800),
        ("STATX_MNT_ID", 0x1000), ("STATX_DIOALIGN", 0x2000), ("STATX_MNT_ID_UNIQUE", 0x4000),
        ("STATX_SUBVOL", 0x8000),
    ])
    public static func describe(_ value: UInt64) -> String { table.describe(value) }
}

/// System V IPC: keys and the `*get` flags (linux/ipc.h): `IPC_CREAT|IPC_EXCL` and the permission bits.
public enum IPCFlags {
    public static let table = FlagTable([("IPC_CREAT", 0o1000), ("IPC_EXCL", 0o2000), ("IPC_NOWAIT", 0o4000)])
    /// E.g. `IPC_CREAT|0600` (shmget's SHM_HUGETLB shares IPC_NOWAIT's bit; unknown high bits in hex).
    public static func describe(_ value: UInt64) -> String {
        let v = value & 0xffff_ffff
        let mode = v & 0o777
        let named = v & ~0o777
        var parts: [String] = []
        if named != 0 { parts.append(table.describe(named)) }
        if mode != 0 || parts.isEmpty { parts.append("0" + String(mode, radix: 8)) }
        return parts.joined(separator: "|")
    }
    /// `IPC_PRIVATE` for 0, else the key in hex (as ftok makes them).
    public static func describeKey(_ value: UInt64) -> String {
        let k = UInt32(truncatingIfNeeded: value)
        return k == 0 ? "IPC_PRIVATE" : "0x" + String(k, radix: 16)
    }
}

/// socket(2) types and protocols (linux/net.h, netinet/in.h).
public enum SocketFlags {
    static let types: [Int: String] = [1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM",
                                       5: "SOCK_SEQPACKET", 6: "SOCK_DCCP", 10: "SOCK_PACKET"]
    public static let SOCK_RAW = 3
    public static let typeFlags = FlagTable([("SOCK_CLOEXEC", 0o2000000), ("SOCK_NONBLOCK", 0o4000)])
    static let ipProtocols: [Int: String] = [
        0: "IPPROTO_IP", 1: "IPPROTO_ICMP", 2: "IPPROTO_IGMP", 6: "IPPROTO_TCP", 17: "IPPROTO_UDP",
        41: "IPPROTO_IPV6", 47: "IPPROTO_GRE", 58: "IPPROTO_ICMPV6", 132: "IPPROTO_SCTP", 136: "IPPROTO_UDPLITE",
        255: "IPPROTO_RAW", 262: "IPPROTO_MPTCP",
    ]

    /// E.g. `SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK`.
    public static func describeType(_ value: UInt64) -> String {
        let v = value & 0xffff_ffff
        let base = Int(v & 0xf)
        let name = types[base] ?? String(base)
        let rest = v & ~0xf
        return rest == 0 ? name : name + "|" + typeFlags.describe(rest)
    }

    /// The protocol by name for IPv4 and IPv6 sockets (`IPPROTO_TCP`); a number for other families.
    public static func describeProtocol(_ value: UInt64, family: Int?) -> String? {
        let p = Int(Int32(truncatingIfNeeded: value))
        guard family == AddressFamily.AF_INET || family == AddressFamily.AF_INET6 else { return nil }
        return ipProtocols[p]
    }
}

/// `RESOLVE_*` flags of `struct open_how` (openat2).
public enum ResolveFlags {
    public static let RESOLVE_NO_XDEV: UInt64 = 0x01
    public static let RESOLVE_NO_MAGICLINKS: UInt64 = 0x02
    public static let RESOLVE_NO_SYMLINKS: UInt64 = 0x04
    public static let RESOLVE_BENEATH: UInt64 = 0x08
    public static let RESOLVE_IN_ROOT: UInt64 = 0x10
    public static let RESOLVE_CACHED: UInt64 = 0x20

    public static let table = FlagTable([
        ("RESOLVE_NO_XDEV", 0x01), ("RESOLVE_NO_MAGICLINKS", 0x02), ("RESOLVE_NO_SYMLINKS", 0x04),
        ("RESOLVE_BENEATH", 0x08), ("RESOLVE_IN_ROOT", 0x10), ("RESOLVE_CACHED", 0x20),
    ])

    public static func describe(_ value: UInt64) -> String { table.describe(value) }
}

/// `CLONE_*` flags (linux/sched.h), as passed to clone, clone3 and unshare.
public enum CloneFlags {
    /// The namespace-creating flags valid in `clone`'s flags register (CLONE_NEWTIME = 0x80 is only valid in
    /// clone3 and unshare: in clone's register that bit belongs to the exit signal, CSIGNAL = 0xff).
    public static let newNamespacesClone: UInt64 =
        0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000
    /// The same for clone3 (`clone_args.flags`) and unshare: includes CLONE_NEWTIME.
    public static let newNamespaces: UInt64 = newNamespacesClone | 0x80

    public static let table = FlagTable([
        ("CLONE_NEWTIME", 0x80), ("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400),
        ("CLONE_SIGHAND", 0x800), ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000), ("CLONE_VFORK", 0x4000),
        ("CLONE_PARENT", 0x8000), ("CLONE_THREAD", 0x10000), ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000),
        ("CLONE_SETTLS", 0x80000), ("CLONE_PARENT_SETTID", 0x100000), ("CLONE_CHILD_CLEARTID", 0x200000),
        ("CLONE_DETACHED", 0x400000), ("CLONE_UNTRACED", 0x800000), ("CLONE_CHILD_SETTID", 0x1000000),
        ("CLONE_NEWCGROUP", 0x2000000), ("CLONE_NEWUTS", 0x4000000), ("CLONE_NEWIPC", 0x8000000),
        ("CLONE_NEWUSER", 0x10000000), ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000),
        ("CLONE_IO", 0x80000000), ("CLONE_CLEAR_SIGHAND", 0x1_0000_0000), ("CLONE_INTO_CGROUP", 0x2_0000_0000),
    ])

    /// `clone`'s flags register: the low byte is the exit signal, the rest are flags.
    public static func describeClone(_ value: UInt64) -> String {
        let flags = table.describe(value & ~0xff & ~0x80)
        let signal = Int32(value & 0xff)
        guard signal != 0 else { return flags }
        let sig = Signals.name(signal) ?? String(signal)
        return flags == "0" ? sig : flags + "|" + sig
    }

    public static func describe(_ value: UInt64) -> String { table.describe(value) }
}

/// Signal names on x86 Linux.
public enum Signals {
    static let names: [String] = [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",
        "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",
        "SIGPWR", "SIGSYS",
    ]
    /// The kernel's SIGRTMIN and _NSIG - 1.
    public static let rtMin: Int32 = 32
    public static let rtMax: Int32 = 64

    /// `SIGTERM` for 15, `SIGRTMIN+3` for 35; nil outside 1...64.
    public static func name(_ signal: Int32) -> String? {
        if signal >= 1, signal < Int32(names.count) { return names[Int(signal)] }
        if signal == rtMin { return "SIGRTMIN" }
        if signal > rtMin, signal <= rtMax { return "SIGRTMIN+\(signal - rtMin)" }
        return nil
    }

    /// The number of a name (`SIGTERM`, `TERM`, `SIGRTMIN+2`; also SIGIOT, SIGPOLL, SIGCLD aliases).
    public static func number(named raw: String) -> Int32? {
        let name = raw.hasPrefix("SIG") ? raw : "SIG" + raw
        if let i = names.firstIndex(of: name), i > 0 { return Int32(i) }
        switch name {
        case "SIGIOT": return 6
        case "SIGPOLL": return 29
        case "SIGCLD": return 17
        case "SIGRTMIN": return rtMin
        case "SIGRTMAX": return rtMax
        default: break
        }
        if name.hasPrefix("SIGRTMIN+"), let n = Int32(name.dropFirst(9)), n >= 1, rtMin + n <= rtMax { return rtMin + n }
        return nil
    }
}

/// errno names on x86 Linux (asm-generic/errno-base.h and errno.h): EPERM (1) through EHWPOISON (133).
public enum Errno {
    /// Index = errno value; "" where Linux defines no name (41 and 58 are unused).
    static let names: [String] = [
        "", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
        "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
        "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
        "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
        "", "ENOMSG", "EIDRM", "ECHRNG", "EL2NSYNC", "EL3HLT", "EL3RST", "ELNRNG", "EUNATCH", "ENOCSI",
        "EL2HLT", "EBADE", "EBADR", "EXFULL", "ENOANO", "EBADRQC", "EBADSLT", "", "EBFONT", "ENOSTR",
        "ENODATA", "ETIME", "ENOSR", "ENONET", "ENOPKG", "EREMOTE", "ENOLINK", "EADV", "ESRMNT", "ECOMM",
        "EPROTO", "EMULTIHOP", "EDOTDOT", "EBADMSG", "EOVERFLOW", "ENOTUNIQ", "EBADFD", "EREMCHG", "ELIBACC", "ELIBBAD",
        "ELIBSCN", "ELIBMAX", "ELIBEXEC", "EILSEQ", "ERESTART", "ESTRPIPE", "EUSERS", "ENOTSOCK", "EDESTADDRREQ", "EMSGSIZE",
        "EPROTOTYPE", "ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EOPNOTSUPP", "EPFNOSUPPORT", "EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENETDOWN",
        "ENETUNREACH", "ENETRESET", "ECONNABORTED", "ECONNRESET", "ENOBUFS", "EISCONN", "ENOTCONN", "ESHUTDOWN", "ETOOMANYREFS", "ETIMEDOUT",
        "ECONNREFUSED", "EHOSTDOWN", "EHOSTUNREACH", "EALREADY", "EINPROGRESS", "ESTALE", "EUCLEAN", "ENOTNAM", "ENAVAIL", "EISNAM",
        "EREMOTEIO", "EDQUOT", "ENOMEDIUM", "EMEDIUMTYPE", "ECANCELED", "ENOKEY", "EKEYEXPIRED", "EKEYREVOKED", "EKEYREJECTED", "EOWNERDEAD",
        "ENOTRECOVERABLE", "ERFKILL", "EHWPOISON",
    ]
    /// Aliases glibc accepts: EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK, ENOTSUP = EOPNOTSUPP. (A switch, not a
    /// dictionary: `run` looks up its --deny-errno at every start, and a first [String: _] costs a scan of the
    /// binary's protocol conformances.)
    static func alias(_ name: String) -> Int32? {
        switch name {
        case "EWOULDBLOCK": return 11
        case "EDEADLOCK": return 35
        case "ENOTSUP": return 95
        default: return nil
        }
    }

    /// All defined (name, number) pairs in number order, aliases excluded.
    public static var all: [(name: String, number: Int32)] {
        names.enumerated().compactMap { $0.element.isEmpty ? nil : (name: $0.element, number: Int32($0.offset)) }
    }

    /// `ENOENT` for 2; nil for 0, negatives and undefined numbers.
    public static func name(_ number: Int32) -> String? {
        guard number > 0, number < Int32(names.count) else { return nil }
        let n = names[Int(number)]
        return n.isEmpty ? nil : n
    }

    /// The number of a name or alias, case-sensitive as in C (`EPERM` -> 1); nil when unknown.
    public static func number(named name: String) -> Int32? {
        if let alias = alias(name) { return alias }
        guard name.hasPrefix("E"), let i = names.firstIndex(of: name) else { return nil }
        return Int32(i)
    }
}

/// Socket address families (linux/socket.h).
public enum AddressFamily {
    static let names: [Int: String] = [
        0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 3: "AF_AX25", 4: "AF_IPX", 5: "AF_APPLETALK", 6: "AF_NETROM",
        7: "AF_BRIDGE", 8: "AF_ATMPVC", 9: "AF_X25", 10: "AF_INET6", 11: "AF_ROSE", 12: "AF_DECnet",
        13: "AF_NETBEUI", 14: "AF_SECURITY", 15: "AF_KEY", 16: "AF_NETLINK", 17: "AF_PACKET", 18: "AF_ASH",
        19: "AF_ECONET", 20: "AF_ATMSVC", 21: "AF_RDS", 22: "AF_SNA", 23: "AF_IRDA", 24: "AF_PPPOX",
        25: "AF_WANPIPE", 26: "AF_LLC", 27: "AF_IB", 28: "AF_MPLS", 29: "AF_CAN", 30: "AF_TIPC",
        31: "AF_BLUETOOTH", 32: "AF_IUCV", 33: "AF_RXRPC", 34: "AF_ISDN", 35: "AF_PHONET", 36: "AF_IEEE802154",
        37: "AF_CAIF", 38: "AF_ALG", 39: "AF_NFC", 40: "AF_VSOCK", 41: "AF_KCM", 42: "AF_QIPCRTR", 43: "AF_SMC",
        44: "AF_XDP", 45: "AF_MCTP",
    ]
    public static let AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16

    public static func name(_ family: Int) -> String? { names[family] }
}

/// The i386 multiplexers: `socketcall(call, args)` and `ipc(call, ...)` sub-call numbers (linux/net.h, linux/ipc.h).
public enum Multiplexer {
    static let socketcalls: [String] = [
        "", "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send",
        "recv", "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4",
        "recvmmsg", "sendmmsg",
    ]
    static let ipcCalls: [Int: String] = [
        1: "semop", 2: "semget", 3: "semctl", 4: "semtimedop", 11: "msgsnd", 12: "msgrcv", 13: "msgget",
        14: "msgctl", 21: "shmat", 22: "shmdt", 23: "shmget", 24: "shmctl",
    ]
    /// Number of `unsigned long` arguments each socketcall reads from its array (index = call).
    public static let socketcallArgCounts: [Int] = [0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4]

    /// socketcall's first argument -> sub-call name ("connect"); nil when out of range. "send" and "recv" have
    /// no syscall of their own: they are sendto/recvfrom without an address.
    public static func socketcallName(_ call: Int) -> String? {
        call >= 1 && call < socketcalls.count ? socketcalls[call] : nil
    }

    /// ipc's first argument -> sub-call name ("shmget"). The high 16 bits carry a version and are ignored.
    public static func ipcName(_ call: Int) -> String? { ipcCalls[call & 0xffff] }
}
