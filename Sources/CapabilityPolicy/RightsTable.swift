import SyscallCatalog

/// Which Capsicum right each descriptor operation needs (`run --rights`), and what a call does to the
/// descriptor table. Pure: a syscall name and its raw argument registers in, rights out; the caller supplies
/// path strings and tracee memory through closures, so tests can feed them directly.
///
/// The vocabulary is FreeBSD's (`sys/sys/capsicum.h`): the right `cap_rights_limit` would have to leave on a
/// descriptor for the call to succeed in capability mode. Compound rights are recorded as their parts:
/// `pread` needs CAP_READ and CAP_SEEK (FreeBSD's CAP_PREAD), an `mmap` with PROT_READ|PROT_EXEC needs
/// CAP_MMAP_R and CAP_MMAP_X (CAP_MMAP_RX). Descriptor-table operations need no right (dup, close, F_GETFD,
/// F_SETFD); they are still reported so that an analysis can follow which object a descriptor number names.
///
/// Not decoded: i386 `socketcall` (one multiplexer for every socket call), descriptors received with
/// SCM_RIGHTS, io_uring operations.
public enum RightsTable {
    /// The right recorded for table operations that need none (dup, close, creating a fresh descriptor).
    public static let noRight = "none"

    /// One descriptor a call operates on, with the rights it needs there.
    public struct Use: Sendable, Hashable {
        public var fd: Int32
        public var rights: [String]
        /// Command or flags, when it narrows the right: `TCGETS` for CAP_IOCTL, `F_GETFL` for CAP_FCNTL,
        /// `PROT_READ|PROT_EXEC` for mmap, `O_RDONLY "hosts"` for a lookup.
        public var detail: String?

        public init(fd: Int32, rights: [String], detail: String? = nil) {
            self.fd = fd; self.rights = rights; self.detail = detail
        }
    }

    /// What a call does to the caller's descriptor table once it succeeded (known at the syscall's exit).
    public enum Effect: Sendable, Hashable {
        case none
        /// The result is a new descriptor derived from `parent` (openat relative to it, accept on it), or from
        /// nothing the process held (`parent` nil: socket, pipe, open by a global path).
        case create(parent: Int32?, right: String)
        /// pipe, pipe2, socketpair: two descriptors written as `int[2]` at `address`.
        case createPair(address: UInt64)
        /// dup, fcntl(F_DUPFD): the result names the same object as `of`.
        case alias(of: Int32)
        /// dup2, dup3: `newFd` names the same object as `of` (closing what it named before).
        case aliasAt(of: Int32, newFd: Int32)
        /// close: the number no longer names anything.
        case close(Int32)
        /// close_range(first, last, 0).
        case closeRange(first: UInt32, last: UInt32)
    }

    public struct Call: Sendable, Hashable {
        public var uses: [Use] = []
        public var effect: Effect = .none
        /// For `effect`: flags or detail of the creating call (e.g. the open flags and relative path).
        public var detail: String?

        public init(uses: [Use] = [], effect: Effect = .none, detail: String? = nil) {
            self.uses = uses; self.effect = effect; self.detail = detail
        }
    }

    /// The descriptor syscalls `run --rights` traps (all ABIs share the names; absent ones are skipped).
    public static let syscallNames: Set<String> = Set(rightsOf.keys).union([
        // reads through memory or with several descriptors
        "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
        "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
        "sendfile", "sendfile64", "splice", "tee", "copy_file_range",
        "mmap", "mmap2", "ioctl", "fcntl", "fcntl64",
        "sendto", "sendmsg", "sendmmsg", "accept", "accept4",
        // the *at family relative to a directory descriptor
        "openat", "openat2", "newfstatat", "fstatat64", "statx", "faccessat", "faccessat2", "mkdirat",
        "mknodat", "unlinkat", "renameat", "renameat2", "linkat", "symlinkat", "readlinkat", "fchmodat",
        "fchmodat2", "fchownat", "utimensat", "utimensat_time64", "futimesat", "execveat", "name_to_handle_at",
        "inotify_add_watch",
        // the descriptor table: creation, aliasing, closing
        "open", "creat", "socket", "socketpair", "pipe", "pipe2", "eventfd", "eventfd2", "memfd_create",
        "epoll_create", "epoll_create1", "signalfd", "signalfd4", "timerfd_create", "inotify_init",
        "inotify_init1", "fanotify_init", "pidfd_open", "pidfd_getfd", "userfaultfd", "memfd_secret",
        "dup", "dup2", "dup3", "close", "close_range",
    ]).filter { Catalog.shared.syscall(named: $0) != nil }

    /// Extra seccomp conditions for calls trapped only for `--rights` (any row matches: trap), as
    /// (argument index, mask, value): the argument masked with `mask` equals `value`. mmap is trapped only
    /// when it maps a file (MAP_ANONYMOUS clear): malloc's anonymous maps never stop the program.
    public static let filterConditions: [String: [[(arg: UInt32, mask: UInt64, value: UInt64)]]] = [
        "mmap": [[(3, mapAnonymous, 0)]],
        "mmap2": [[(3, mapAnonymous, 0)]],
    ]

    /// Calls whose first argument is the descriptor, with the rights they always need.
    static let rightsOf: [String: [String]] = [
        "read": ["CAP_READ"], "readv": ["CAP_READ"], "pread64": ["CAP_READ", "CAP_SEEK"],
        "preadv": ["CAP_READ", "CAP_SEEK"], "preadv2": ["CAP_READ", "CAP_SEEK"],
        "write": ["CAP_WRITE"], "writev": ["CAP_WRITE"], "pwrite64": ["CAP_WRITE", "CAP_SEEK"],
        "pwritev": ["CAP_WRITE", "CAP_SEEK"], "pwritev2": ["CAP_WRITE", "CAP_SEEK"],
        "getdents": ["CAP_READ"], "getdents64": ["CAP_READ"], "readdir": ["CAP_READ"],
        "lseek": ["CAP_SEEK"], "_llseek": ["CAP_SEEK"],
        "fstat": ["CAP_FSTAT"], "fstat64": ["CAP_FSTAT"], "oldfstat": ["CAP_FSTAT"],
        "fstatfs": ["CAP_FSTATFS"], "fstatfs64": ["CAP_FSTATFS"],
        "ftruncate": ["CAP_FTRUNCATE"], "ftruncate64": ["CAP_FTRUNCATE"], "fallocate": ["CAP_WRITE"],
        "fsync": ["CAP_FSYNC"], "fdatasync": ["CAP_FSYNC"], "sync_file_range": ["CAP_FSYNC"],
        "syncfs": ["CAP_FSYNC"],
        "fchmod": ["CAP_FCHMOD"], "fchown": ["CAP_FCHOWN"], "fchown32": ["CAP_FCHOWN"],
        "fchdir": ["CAP_FCHDIR"], "flock": ["CAP_FLOCK"],
        "fgetxattr": ["CAP_EXTATTR_GET"], "fsetxattr": ["CAP_EXTATTR_SET"], "flistxattr": ["CAP_EXTATTR_LIST"],
        "fremovexattr": ["CAP_EXTATTR_DELETE"],
        "recvfrom": ["CAP_RECV"], "recvmsg": ["CAP_RECV"], "recvmmsg": ["CAP_RECV"],
        "recvmmsg_time64": ["CAP_RECV"], "recv": ["CAP_RECV"], "send": ["CAP_SEND"],
        "connect": ["CAP_CONNECT"], "bind": ["CAP_BIND"], "listen": ["CAP_LISTEN"],
        "shutdown": ["CAP_SHUTDOWN"], "getsockname": ["CAP_GETSOCKNAME"], "getpeername": ["CAP_GETPEERNAME"],
        "getsockopt": ["CAP_GETSOCKOPT"], "setsockopt": ["CAP_SETSOCKOPT"],
        "timerfd_settime": ["CAP_WRITE"], "timerfd_settime64": ["CAP_WRITE"], "timerfd_gettime": ["CAP_READ"],
        "timerfd_gettime64": ["CAP_READ"], "fexecve": ["CAP_FEXECVE"], "readahead": ["CAP_READ"],
        "pidfd_send_signal": ["CAP_PDKILL"],
    ]

    static let atFDCWD: Int32 = -100
    static let atEmptyPath: UInt64 = 0x1000
    static let atRemoveDir: UInt64 = 0x200
    static let mapAnonymous: UInt64 = 0x20
    static let mapShared: UInt64 = 0x01
    static let closeRangeCloexec: UInt64 = 4

    static func fd(_ v: UInt64) -> Int32 { Int32(truncatingIfNeeded: v) }

    /// The descriptor operations of one call. `path(i)` returns the string at argument `i` (nil when NULL or
    /// unreadable); `memory(address, count)` reads the caller's memory (nil when unreadable).
    /// nil for a syscall that uses no descriptor.
    public static func call(_ name: String, args a: [UInt64], path: (Int) -> String?,
                            memory: (UInt64, Int) -> [UInt8]?) -> Call? {
        var args = a
        while args.count < 6 { args.append(0) }
        if let rights = rightsOf[name] {
            return Call(uses: [Use(fd: fd(args[0]), rights: rights)])
        }
        switch name {
        case "mmap", "mmap2":
            let prot = args[2], flags = args[3]
            guard flags & mapAnonymous == 0, fd(args[4]) >= 0 else { return nil }
            var rights: [String] = []
            if prot & 1 != 0 { rights.append("CAP_MMAP_R") }
            if prot & 2 != 0, flags & mapShared != 0 { rights.append("CAP_MMAP_W") }
            if prot & 4 != 0 { rights.append("CAP_MMAP_X") }
            if rights.isEmpty { rights.append("CAP_MMAP") }
            return Call(uses: [Use(fd: fd(args[4]), rights: rights, detail: protNames(prot) + (flags & mapShared != 0 ? " MAP_SHARED" : " MAP_PRIVATE"))])
        case "ioctl":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_IOCTL"], detail: ioctlName(args[1]))])
        case "fcntl", "fcntl64":
            let f = fd(args[0]), cmd = args[1]
            switch cmd {
            case 0, 1030:  // F_DUPFD, F_DUPFD_CLOEXEC
                return Call(effect: .alias(of: f), detail: fcntlName(cmd))
            case 1, 2:  // F_GETFD, F_SETFD: the descriptor table's close-on-exec bit, no right in Capsicum
                return Call()
            case 5, 6, 7, 36, 37, 38:  // record locks
                return Call(uses: [Use(fd: f, rights: ["CAP_FLOCK"], detail: fcntlName(cmd))])
            default:
                return Call(uses: [Use(fd: f, rights: ["CAP_FCNTL"], detail: fcntlName(cmd))])
            }
        case "poll", "ppoll", "ppoll_time64":
            let n = min(Int(args[1] & 0xffff_ffff), 1024)
            guard n > 0, let bytes = memory(args[0], n * 8) else { return Call() }
            var fds: [Int32] = []
            for i in 0..<n {
                let v = Int32(bitPattern: UInt32(bytes[i * 8]) | UInt32(bytes[i * 8 + 1]) << 8
                    | UInt32(bytes[i * 8 + 2]) << 16 | UInt32(bytes[i * 8 + 3]) << 24)
                if v >= 0, !fds.contains(v) { fds.append(v) }
            }
            return Call(uses: fds.map { Use(fd: $0, rights: ["CAP_EVENT"]) })
        case "select", "_newselect", "pselect6", "pselect6_time64":
            let nfds = min(Int(fd(args[0])), 1024)
            guard nfds > 0 else { return Call() }
            var fds: [Int32] = []
            let bytes = (nfds + 7) / 8
            for set in 1...3 where args[set] != 0 {
                guard let b = memory(args[set], bytes) else { continue }
                for i in 0..<nfds where b[i / 8] & (1 << (i % 8)) != 0 {
                    if !fds.contains(Int32(i)) { fds.append(Int32(i)) }
                }
            }
            return Call(uses: fds.sorted().map { Use(fd: $0, rights: ["CAP_EVENT"]) })
        case "epoll_ctl":
            let op = args[1]
            let names = [1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL", 3: "EPOLL_CTL_MOD"]
            var uses = [Use(fd: fd(args[0]), rights: ["CAP_KQUEUE_CHANGE"], detail: names[Int(op)])]
            if op != 2 { uses.append(Use(fd: fd(args[2]), rights: ["CAP_EVENT"])) }
            return Call(uses: uses)
        case "epoll_wait", "epoll_pwait", "epoll_pwait2":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_KQUEUE_EVENT"])])
        case "sendfile", "sendfile64":
            return Call(uses: [Use(fd: fd(args[1]), rights: ["CAP_READ"]), Use(fd: fd(args[0]), rights: ["CAP_WRITE"])])
        case "splice", "copy_file_range":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_READ"]), Use(fd: fd(args[2]), rights: ["CAP_WRITE"])])
        case "tee":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_READ"]), Use(fd: fd(args[1]), rights: ["CAP_WRITE"])])
        case "sendto":
            // A destination address needs CAP_CONNECT as well (FreeBSD's sendto checks both).
            let rights = args[4] != 0 && args[5] != 0 ? ["CAP_SEND", "CAP_CONNECT"] : ["CAP_SEND"]
            return Call(uses: [Use(fd: fd(args[0]), rights: rights)])
        case "sendmsg", "sendmmsg":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_SEND"])])
        case "accept", "accept4":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_ACCEPT"])],
                        effect: .create(parent: fd(args[0]), right: "CAP_ACCEPT"))
        case "dup":
            return Call(effect: .alias(of: fd(args[0])))
        case "dup2", "dup3":
            return Call(effect: .aliasAt(of: fd(args[0]), newFd: fd(args[1])))
        case "close":
            return Call(effect: .close(fd(args[0])))
        case "close_range":
            guard args[2] & closeRangeCloexec == 0 else { return Call() }
            return Call(effect: .closeRange(first: UInt32(truncatingIfNeeded: args[0]), last: UInt32(truncatingIfNeeded: args[1])))
        case "socket":
            return Call(effect: .create(parent: nil, right: noRight), detail: "socket")
        case "pipe", "pipe2", "socketpair":
            return Call(effect: .createPair(address: name == "socketpair" ? args[3] : args[0]))
        case "eventfd", "eventfd2", "memfd_create", "epoll_create", "epoll_create1", "timerfd_create",
             "inotify_init", "inotify_init1", "fanotify_init", "pidfd_open", "userfaultfd", "memfd_secret":
            return Call(effect: .create(parent: nil, right: noRight))
        case "signalfd", "signalfd4":
            return fd(args[0]) == -1 ? Call(effect: .create(parent: nil, right: noRight))
                : Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_WRITE"], detail: "signal mask")])
        case "pidfd_getfd":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_PDGETFD"])],
                        effect: .create(parent: nil, right: noRight))
        case "open", "creat":
            let flags = name == "creat" ? 0o1101 : args[1]
            return Call(effect: .create(parent: nil, right: noRight), detail: OpenFlags.describe(flags))
        case "inotify_add_watch":
            return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_INOTIFY_ADD"], detail: path(1).map(quoted))])
        default:
            return atCall(name, args: args, path: path, memory: memory)
        }
    }

    /// The *at family: a lookup relative to a held directory needs CAP_LOOKUP and the operation's right on
    /// that directory; AT_FDCWD or an absolute path uses no descriptor (that lookup is a violation, not a
    /// right). `fd + ""` with AT_EMPTY_PATH operates on the descriptor itself.
    static func atCall(_ name: String, args: [UInt64], path: (Int) -> String?,
                       memory: (UInt64, Int) -> [UInt8]?) -> Call? {
        /// A lookup relative to the dirfd in argument `d` with the path in argument `p`: the directory used,
        /// or nil when the lookup does not go through a held directory.
        func dir(_ d: Int, _ p: Int) -> (fd: Int32, name: String)? {
            let dfd = fd(args[d])
            guard dfd != atFDCWD, dfd >= 0, let s = path(p), !s.isEmpty, !s.hasPrefix("/") else { return nil }
            return (dfd, s)
        }
        func emptyPath(_ d: Int, _ p: Int, _ flagsArg: Int) -> Int32? {
            let dfd = fd(args[d])
            guard dfd >= 0, args[flagsArg] & atEmptyPath != 0, let s = path(p), s.isEmpty else { return nil }
            return dfd
        }
        switch name {
        case "openat", "openat2":
            var flags = args[2]
            if name == "openat2" {
                guard let b = memory(args[2], 8) else { return nil }
                flags = b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            }
            let desc = OpenFlags.describe(flags)
            guard let d = dir(0, 1) else {
                return Call(effect: .create(parent: nil, right: noRight), detail: desc)
            }
            var rights = ["CAP_LOOKUP"]
            if flags & OpenFlags.O_PATH == 0 {
                switch flags & OpenFlags.O_ACCMODE {
                case 0: rights.append("CAP_READ")
                case 1: rights.append("CAP_WRITE")
                default: rights += ["CAP_READ", "CAP_WRITE"]
                }
                if flags & OpenFlags.O_CREAT != 0 || flags & OpenFlags.O_TMPFILE == OpenFlags.O_TMPFILE {
                    rights.append("CAP_CREATE")
                }
                if flags & 0o1000 != 0 { rights.append("CAP_FTRUNCATE") }
            }
            return Call(uses: [Use(fd: d.fd, rights: rights, detail: desc + " " + quoted(d.name))],
                        effect: .create(parent: d.fd, right: "CAP_LOOKUP"), detail: desc)
        case "newfstatat", "fstatat64", "statx":
            let flagsArg = name == "statx" ? 2 : 3
            if let f = emptyPath(0, 1, flagsArg) { return Call(uses: [Use(fd: f, rights: ["CAP_FSTAT"])]) }
            return lookup(dir(0, 1), ["CAP_FSTATAT"])
        case "faccessat", "faccessat2": return lookup(dir(0, 1), ["CAP_FSTATAT"])
        case "readlinkat", "name_to_handle_at": return lookup(dir(0, 1), [])
        case "mkdirat": return lookup(dir(0, 1), ["CAP_MKDIRAT"])
        case "mknodat":
            return lookup(dir(0, 1), [args[2] & 0o170000 == 0o010000 ? "CAP_MKFIFOAT" : "CAP_MKNODAT"])
        case "unlinkat":
            return lookup(dir(0, 1), ["CAP_UNLINKAT"], detail: args[2] & atRemoveDir != 0 ? "AT_REMOVEDIR" : nil)
        case "fchmodat", "fchmodat2":
            if name == "fchmodat2", let f = emptyPath(0, 1, 3) { return Call(uses: [Use(fd: f, rights: ["CAP_FCHMOD"])]) }
            return lookup(dir(0, 1), ["CAP_FCHMODAT"])
        case "fchownat":
            if let f = emptyPath(0, 1, 4) { return Call(uses: [Use(fd: f, rights: ["CAP_FCHOWN"])]) }
            return lookup(dir(0, 1), ["CAP_FCHOWNAT"])
        case "utimensat", "utimensat_time64":
            if args[1] == 0, fd(args[0]) >= 0 { return Call(uses: [Use(fd: fd(args[0]), rights: ["CAP_FUTIMES"])]) }
            if let f = emptyPath(0, 1, 3) { return Call(uses: [Use(fd: f, rights: ["CAP_FUTIMES"])]) }
            return lookup(dir(0, 1), ["CAP_FUTIMESAT"])
        case "futimesat": return lookup(dir(0, 1), ["CAP_FUTIMESAT"])
        case "execveat":
            if let f = emptyPath(0, 1, 4) { return Call(uses: [Use(fd: f, rights: ["CAP_FEXECVE"])]) }
            return lookup(dir(0, 1), ["CAP_FEXECVE"])
        case "symlinkat": return lookup(dir(1, 2), ["CAP_SYMLINKAT"])
        case "renameat", "renameat2":
            var uses: [Use] = []
            if let d = dir(0, 1) { uses.append(Use(fd: d.fd, rights: ["CAP_LOOKUP", "CAP_RENAMEAT_SOURCE"], detail: quoted(d.name))) }
            if let d = dir(2, 3) { uses.append(Use(fd: d.fd, rights: ["CAP_LOOKUP", "CAP_RENAMEAT_TARGET"], detail: quoted(d.name))) }
            return Call(uses: uses)
        case "linkat":
            var uses: [Use] = []
            if let f = emptyPath(0, 1, 4) { uses.append(Use(fd: f, rights: ["CAP_LINKAT_SOURCE"])) }
            else if let d = dir(0, 1) { uses.append(Use(fd: d.fd, rights: ["CAP_LOOKUP", "CAP_LINKAT_SOURCE"], detail: quoted(d.name))) }
            if let d = dir(2, 3) { uses.append(Use(fd: d.fd, rights: ["CAP_LOOKUP", "CAP_LINKAT_TARGET"], detail: quoted(d.name))) }
            return Call(uses: uses)
        default:
            return nil
        }
    }

    static func lookup(_ d: (fd: Int32, name: String)?, _ rights: [String], detail: String? = nil) -> Call {
        guard let d else { return Call() }
        return Call(uses: [Use(fd: d.fd, rights: ["CAP_LOOKUP"] + rights,
                               detail: (detail.map { $0 + " " } ?? "") + quoted(d.name))])
    }

    static func quoted(_ s: String) -> String { "\"" + s + "\"" }

    static func protNames(_ prot: UInt64) -> String {
        if prot & 7 == 0 { return "PROT_NONE" }
        return [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")].filter { prot & $0.0 != 0 }.map(\.1)
            .joined(separator: "|")
    }

    /// ioctl commands by name (asm-generic/ioctls.h, linux/sockios.h, linux/fs.h); others in hex.
    static let ioctls: [UInt64: String] = [
        0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF", 0x5405: "TCGETA",
        0x5406: "TCSETA", 0x5407: "TCSETAW", 0x5408: "TCSETAF", 0x5409: "TCSBRK", 0x540A: "TCXONC",
        0x540B: "TCFLSH", 0x540C: "TIOCEXCL", 0x540D: "TIOCNXCL", 0x540E: "TIOCSCTTY", 0x540F: "TIOCGPGRP",
        0x5410: "TIOCSPGRP", 0x5411: "TIOCOUTQ", 0x5412: "TIOCSTI", 0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ",
        0x5415: "TIOCMGET", 0x541B: "FIONREAD", 0x541C: "TIOCLINUX", 0x5421: "FIONBIO", 0x5422: "TIOCNOTTY",
        0x5429: "TIOCGSID", 0x5450: "FIONCLEX", 0x5451: "FIOCLEX", 0x5452: "FIOASYNC", 0x80045430: "TIOCGPTN",
        0x40045431: "TIOCSPTLCK", 0x802C542A: "TCGETS2", 0x402C542B: "TCSETS2",
        0x8910: "SIOCGIFNAME", 0x8912: "SIOCGIFCONF", 0x8913: "SIOCGIFFLAGS", 0x8914: "SIOCSIFFLAGS",
        0x8915: "SIOCGIFADDR", 0x8921: "SIOCGIFMTU", 0x8927: "SIOCGIFHWADDR", 0x8933: "SIOCGIFINDEX",
        0x8946: "SIOCETHTOOL", 0x890B: "SIOCADDRT", 0x8906: "SIOCGSTAMP",
        0x80081272: "BLKGETSIZE64", 0x1260: "BLKGETSIZE", 0x40049409: "FICLONE", 0x80086601: "FS_IOC_GETFLAGS",
        0x40086602: "FS_IOC_SETFLAGS", 0xC020660B: "FS_IOC_FIEMAP",
    ]

    public static func ioctlName(_ cmd: UInt64) -> String {
        let c = cmd & 0xffff_ffff
        return ioctls[c] ?? "0x" + String(c, radix: 16)
    }

    static let fcntls: [UInt64: String] = [
        0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK", 6: "F_SETLK",
        7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN", 10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX",
        16: "F_GETOWN_EX", 36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW", 1024: "F_SETLEASE",
        1025: "F_GETLEASE", 1026: "F_NOTIFY", 1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ",
        1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
    ]

    public static func fcntlName(_ cmd: UInt64) -> String {
        let c = cmd & 0xffff_ffff
        return fcntls[c] ?? String(c)
    }
}
