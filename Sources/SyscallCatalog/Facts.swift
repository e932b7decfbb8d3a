/// The per-syscall facts beyond argument kinds and `Touch`: the columns of `SyscallTable`'s rows. Facts about
/// Linux (and Capsicum's vocabulary for descriptor rights), never whether capability mode allows a call.

/// How a call's pid/tid arguments name a process: the Linux semantics the classifier decides "self" with.
public enum ProcessTarget: Sendable, Hashable {
    /// kill: pid > 0 one process; 0 the caller's process group; -1 every process it may signal; < -1 a group.
    case kill
    /// The argument at `index` is a pid or tid where 0 means the caller (sched_*, prlimit64, getpgid, getsid,
    /// get_robust_list, migrate_pages, move_pages); negative ids are refused by the kernel (EINVAL/ESRCH).
    case zeroIsSelf(Int)
    /// The argument at `index` must be a positive pid/tid (tkill, pidfd_open, process_vm_*, rt_sigqueueinfo);
    /// 0 and negative ids are refused by the kernel.
    case positive(Int)
    /// tgkill, rt_tgsigqueueinfo: (tgid, tid), both positive; the thread group decides.
    case threadGroup
    /// getpriority/setpriority, ioprio_get/ioprio_set: (which, who) with the `which` values for a process, a
    /// process group and a user.
    case priority(process: Int, group: Int, user: Int)
    /// setpgid(pid, pgid): pid 0 = caller; pgid 0 = the pid itself.
    case setpgid
    /// ptrace(request, pid): PTRACE_TRACEME (0) hands the caller to its parent; other requests name `pid`.
    case ptrace
    /// kcmp(pid1, pid2, ...): both must be the caller.
    case kcmp
    /// A clock id at `index`: negative ids encode a process or thread CPU clock (or a clock descriptor).
    case clock(Int)
}

/// What a path call does at its (first) path: the operation its `*at` form would do relative to a directory.
public enum PathOp: String, Sendable, Hashable, CaseIterable {
    case open  // open, openat, openat2: flags say whether it writes
    case creat  // open with O_CREAT|O_WRONLY|O_TRUNC
    case stat  // stat, lstat, newfstatat, fstatat64...
    case statx
    case access
    case readlink
    case mkdir
    case mknod
    case unlink
    case rmdir
    case rename
    case link
    case symlink  // the path is the new link's name
    case chmod
    case chown
    case utime
    case truncate
    case setxattr
    case removexattr
    case chdir

    /// Whether the operation makes a new directory entry at the path (rename: at its second path).
    public var createsEntry: Bool {
        switch self {
        case .creat, .mkdir, .mknod, .link, .symlink, .rename: return true
        default: return false
        }
    }

    /// Whether the operation creates, changes or removes something at the path (opens: only by their flags).
    public var mutates: Bool {
        switch self {
        case .open, .stat, .statx, .access, .readlink, .chdir: return false
        case .creat, .mkdir, .mknod, .unlink, .rmdir, .rename, .link, .symlink, .chmod, .chown, .utime, .truncate,
             .setxattr, .removexattr:
            return true
        }
    }
}

/// A Capsicum right (FreeBSD `sys/sys/capsicum.h`): what `cap_rights_limit` must leave on a descriptor for an
/// operation on it. Compound rights are listed as their parts (CAP_PREAD = CAP_READ + CAP_SEEK).
public enum CapRight: String, Sendable, Hashable, CaseIterable, Comparable {
    case read = "CAP_READ", write = "CAP_WRITE", seek = "CAP_SEEK", lookup = "CAP_LOOKUP", create = "CAP_CREATE"
    case fstat = "CAP_FSTAT", fstatat = "CAP_FSTATAT", fstatfs = "CAP_FSTATFS", ftruncate = "CAP_FTRUNCATE"
    case fsync = "CAP_FSYNC", fchmod = "CAP_FCHMOD", fchmodat = "CAP_FCHMODAT", fchown = "CAP_FCHOWN"
    case fchownat = "CAP_FCHOWNAT", fchdir = "CAP_FCHDIR", flock = "CAP_FLOCK", fcntl = "CAP_FCNTL"
    case ioctl = "CAP_IOCTL", fexecve = "CAP_FEXECVE", futimes = "CAP_FUTIMES", futimesat = "CAP_FUTIMESAT"
    case mkdirat = "CAP_MKDIRAT", mkfifoat = "CAP_MKFIFOAT", mknodat = "CAP_MKNODAT", unlinkat = "CAP_UNLINKAT"
    case symlinkat = "CAP_SYMLINKAT", renameatSource = "CAP_RENAMEAT_SOURCE", renameatTarget = "CAP_RENAMEAT_TARGET"
    case linkatSource = "CAP_LINKAT_SOURCE", linkatTarget = "CAP_LINKAT_TARGET"
    case extattrGet = "CAP_EXTATTR_GET", extattrSet = "CAP_EXTATTR_SET", extattrList = "CAP_EXTATTR_LIST"
    case extattrDelete = "CAP_EXTATTR_DELETE"
    case mmap = "CAP_MMAP", mmapR = "CAP_MMAP_R", mmapW = "CAP_MMAP_W", mmapX = "CAP_MMAP_X"
    case recv = "CAP_RECV", send = "CAP_SEND", connect = "CAP_CONNECT", bind = "CAP_BIND", listen = "CAP_LISTEN"
    case accept = "CAP_ACCEPT", shutdown = "CAP_SHUTDOWN", getsockname = "CAP_GETSOCKNAME"
    case getpeername = "CAP_GETPEERNAME", getsockopt = "CAP_GETSOCKOPT", setsockopt = "CAP_SETSOCKOPT"
    case event = "CAP_EVENT", kqueueChange = "CAP_KQUEUE_CHANGE", kqueueEvent = "CAP_KQUEUE_EVENT"
    case pdkill = "CAP_PDKILL", pdgetfd = "CAP_PDGETFD", inotifyAdd = "CAP_INOTIFY_ADD"

    public static func < (a: CapRight, b: CapRight) -> Bool { a.rawValue < b.rawValue }
}

/// What a call does with descriptors: which it uses (and the Capsicum right each use needs) and what it does to
/// the descriptor table. The argument positions come from the row's argument kinds; a case names only what they
/// cannot say. `RightsTable` (CapabilityPolicy) computes a call's uses from this shape and the registers.
public enum DescriptorUse: Sendable, Hashable {
    /// The first argument is a descriptor that needs these rights, whatever the other arguments.
    case rights([CapRight])
    /// mmap/mmap2: the descriptor in argument 4 (unless MAP_ANONYMOUS), rights from PROT_* and MAP_SHARED.
    case mmap
    /// CAP_IOCTL on argument 0, the command named.
    case ioctl
    /// fcntl: the right (or table operation) depends on the command.
    case fcntl
    /// poll/ppoll: CAP_EVENT on each descriptor of the pollfd array.
    case poll
    /// select/pselect6: CAP_EVENT on each descriptor of the three fd_set bitmaps.
    case select
    /// epoll_ctl: CAP_KQUEUE_CHANGE on the epoll descriptor, CAP_EVENT on the watched one (not for DEL).
    case epollCtl
    /// epoll_wait family: CAP_KQUEUE_EVENT on the epoll descriptor.
    case epollWait
    /// Data moves from the descriptor in argument `from` (CAP_READ) to the one in `to` (CAP_WRITE).
    case transfer(from: Int, to: Int)
    /// sendto: CAP_SEND, and CAP_CONNECT as well with a destination address.
    case sendto
    /// accept/accept4: CAP_ACCEPT, and the result is a new descriptor derived from the socket.
    case accept
    /// dup, dup2/dup3, close, close_range: the descriptor table only, no right.
    case dup, dupTo, close, closeRange
    /// A new descriptor from nothing the process held (socket: `isSocket`).
    case create(isSocket: Bool)
    /// pipe, pipe2, socketpair: two new descriptors written as `int[2]` at the argument `at`.
    case createPair(at: Int)
    /// signalfd: -1 creates a descriptor, otherwise CAP_WRITE on it (the signal mask changes).
    case signalfd
    /// pidfd_getfd: CAP_PDGETFD on the pidfd; the result is a new descriptor.
    case pidfdGetfd
    /// inotify_add_watch: CAP_INOTIFY_ADD on the inotify descriptor, the path named.
    case inotifyAddWatch
    /// open, creat, openat, openat2: a new descriptor; relative to a held directory it needs CAP_LOOKUP and the
    /// access the flags ask for (CAP_READ/WRITE/CREATE/FTRUNCATE).
    case open
    /// A `*at` lookup relative to the directory descriptor of the row's (dirfd, path) pair: CAP_LOOKUP and
    /// `rights`; with AT_EMPTY_PATH and an empty path the call works on the descriptor itself, needing
    /// `onDescriptor` (nil: the call has no such form).
    case lookup([CapRight], onDescriptor: CapRight?)
    /// mknodat: CAP_MKFIFOAT for a FIFO, CAP_MKNODAT otherwise.
    case mknodat
    /// unlinkat: CAP_UNLINKAT (AT_REMOVEDIR shown).
    case unlinkat
    /// utimensat: a NULL path is futimens (CAP_FUTIMES on the descriptor); else CAP_FUTIMESAT.
    case utimensat
    /// renameat/linkat: the first (dirfd, path) pair needs `source`, the second `target` (with CAP_LOOKUP); a
    /// linkat with AT_EMPTY_PATH links the descriptor itself.
    case twoPaths(source: CapRight, target: CapRight)

    /// Whether the call can make a new descriptor (the result or an `int[2]`).
    public var createsDescriptor: Bool {
        switch self {
        case .accept, .dup, .dupTo, .create, .createPair, .signalfd, .pidfdGetfd, .open: return true
        case .fcntl: return true  // F_DUPFD
        default: return false
        }
    }
}

/// A sandboxing step (the `sandbox` trigger): the program restricting itself.
public enum SandboxStep: Sendable, Hashable {
    case always
    /// Only when one of these tests holds (prctl: PR_SET_NO_NEW_PRIVS or PR_SET_SECCOMP).
    case whenAny([ArgTest])

    /// Whether a call with these registers is the step.
    public func matches(_ args: [UInt64]) -> Bool {
        switch self {
        case .always: return true
        case .whenAny(let tests): return tests.contains { $0.holds(args) }
        }
    }
}

/// Boolean facts of a row.
public struct SyscallTraits: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// May change the calling thread's current directory (chdir, fchdir; unshare(CLONE_FS) and setns can give
    /// it another fs struct).
    public static let changesWorkingDirectory = SyscallTraits(rawValue: 1)
}

/// One comparison on a syscall argument register, as seccomp's BPF (libseccomp's `scmp_arg_cmp`) can express
/// it. The one model of an argument test: the filter builder, the policy's filter shortcuts and every
/// suggestion renderer use it.
public struct ArgTest: Sendable, Hashable {
    public enum Op: Sendable, Hashable {
        /// `arg == value` (SCMP_CMP_EQ, all 64 bits).
        case equal
        /// `(arg & mask) == value` (SCMP_CMP_MASKED_EQ).
        case maskedEqual(mask: UInt64)
    }
    public let index: Int
    public let op: Op
    public let value: UInt64

    public init(index: Int, op: Op, value: UInt64) { self.index = index; self.op = op; self.value = value }

    /// Whether registers satisfy the test (what the BPF program computes).
    public func holds(_ args: [UInt64]) -> Bool {
        guard index < args.count else { return false }
        switch op {
        case .equal: return args[index] == value
        case .maskedEqual(let mask): return args[index] & mask == value
        }
    }

    /// libseccomp's name of the comparison.
    public var libseccompOperator: String {
        switch op {
        case .equal: return "SCMP_CMP_EQ"
        case .maskedEqual: return "SCMP_CMP_MASKED_EQ"
        }
    }

    /// libseccomp's two operands (`datum_a`, `datum_b`): (value, 0) for EQ, (mask, value) for MASKED_EQ.
    public var operands: (UInt64, UInt64) {
        switch op {
        case .equal: return (value, 0)
        case .maskedEqual(let mask): return (mask, value)
        }
    }
}
