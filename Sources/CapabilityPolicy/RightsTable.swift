import SyscallCatalog

/// Which Capsicum right each descriptor operation needs (`run --rights`), and what a call does to the
/// descriptor table, computed from the catalog's `DescriptorUse` column (which call uses which descriptor with
/// which right is a fact of the row; this file reads registers and memory to apply it). Pure: a syscall name
/// and its raw argument registers in, rights out; the caller supplies
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
    /// The right recorded for table operations that need none (dup, close, creating a fresh descriptor): what
    /// a trace writes where a `CapRight` is nil.
    public static let noRight = "none"

    /// One descriptor a call operates on, with the rights it needs there.
    public struct Use: Sendable, Hashable {
        public var fd: Int32
        public var rights: [CapRight]
        /// Command or flags, when it narrows the right: `TCGETS` for CAP_IOCTL, `F_GETFL` for CAP_FCNTL,
        /// `PROT_READ|PROT_EXEC` for mmap, `O_RDONLY "hosts"` for a lookup.
        public var detail: String?

        public init(fd: Int32, rights: [CapRight], detail: String? = nil) {
            self.fd = fd; self.rights = rights; self.detail = detail
        }
    }

    /// What a call does to the caller's descriptor table once it succeeded (known at the syscall's exit).
    public enum Effect: Sendable, Hashable {
        case none
        /// The result is a new descriptor derived from `parent` (openat relative to it, accept on it) through
        /// `right`, or from nothing the process held (`parent` and `right` nil: socket, pipe, open by a global
        /// path).
        case create(parent: Int32?, right: CapRight?)
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

    /// The descriptor syscalls `run --rights` traps: the catalog's rows with a `DescriptorUse` (all ABIs share
    /// the names).
    public static let syscallNames: Set<String> = Set(Catalog.shared.rows.filter { $0.descriptorUse != nil }.map(\.name))

    /// Extra seccomp conditions for a call trapped only for `--rights` (any alternative matches: trap; nil:
    /// always trap). mmap is trapped only when it maps a file (MAP_ANONYMOUS clear): malloc's anonymous maps
    /// never stop the program.
    public static func filterConditions(_ sc: Syscall) -> [[ArgTest]]? {
        guard case .mmap? = sc.descriptorUse else { return nil }
        return [[ArgTest(index: 3, op: .maskedEqual(mask: mapAnonymous), value: 0)]]
    }

    static let atFDCWD: Int32 = -100
    static let atEmptyPath: UInt64 = 0x1000
    static let atRemoveDir: UInt64 = 0x200
    static let mapAnonymous: UInt64 = 0x20
    static let mapShared: UInt64 = 0x01
    static let closeRangeCloexec: UInt64 = 4

    static func fd(_ v: UInt64) -> Int32 { Int32(truncatingIfNeeded: v) }

    /// The descriptor operations of one call. `path(i)` returns the string at argument `i` (nil when NULL or
    /// unreadable); `memory(address, count)` reads the caller's memory (nil when unreadable).
    /// nil for a syscall that uses no descriptor (or that the catalog does not know).
    public static func call(_ name: String, args a: [UInt64], path: (Int) -> String?,
                            memory: (UInt64, Int) -> [UInt8]?) -> Call? {
        guard let sc = Catalog.shared.syscall(named: name), let use = sc.descriptorUse else { return nil }
        var args = a
        while args.count < 6 { args.append(0) }
        switch use {
        case .rights(let rights):
            return Call(uses: [Use(fd: fd(args[0]), rights: rights)])
        case .mmap:
            let prot = args[2], flags = args[3]
            guard flags & mapAnonymous == 0, fd(args[4]) >= 0 else { return nil }
            var rights: [CapRight] = []
            if prot & 1 != 0 { rights.append(.mmapR) }
            if prot & 2 != 0, flags & mapShared != 0 { rights.append(.mmapW) }
            if prot & 4 != 0 { rights.append(.mmapX) }
            if rights.isEmpty { rights.append(.mmap) }
            return Call(uses: [Use(fd: fd(args[4]), rights: rights, detail: protNames(prot) + (flags & mapShared != 0 ? " MAP_SHARED" : " MAP_PRIVATE"))])
        case .ioctl:
            return Call(uses: [Use(fd: fd(args[0]), rights: [.ioctl], detail: ioctlName(args[1]))])
        case .fcntl:
            let f = fd(args[0]), cmd = args[1]
            switch cmd {
            case 0, 1030:  // F_DUPFD, F_DUPFD_CLOEXEC
                return Call(effect: .alias(of: f), detail: fcntlName(cmd))
            case 1, 2:  // F_GETFD, F_SETFD: the descriptor table's close-on-exec bit, no right in Capsicum
                return Call()
            case 5, 6, 7, 36, 37, 38:  // record locks
                return Call(uses: [Use(fd: f, rights: [.flock], detail: fcntlName(cmd))])
            default:
                return Call(uses: [Use(fd: f, rights: [.fcntl], detail: fcntlName(cmd))])
            }
        case .poll:
            let n = min(Int(args[1] & 0xffff_ffff), 1024)
            guard n > 0, let bytes = memory(args[0], n * 8) else { return Call() }
            var fds: [Int32] = []
            for i in 0..<n {
                let v = Int32(bitPattern: UInt32(bytes[i * 8]) | UInt32(bytes[i * 8 + 1]) << 8
                    | UInt32(bytes[i * 8 + 2]) << 16 | UInt32(bytes[i * 8 + 3]) << 24)
                if v >= 0, !fds.contains(v) { fds.append(v) }
            }
            return Call(uses: fds.map { Use(fd: $0, rights: [.event]) })
        case .select:
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
            return Call(uses: fds.sorted().map { Use(fd: $0, rights: [.event]) })
        case .epollCtl:
            let op = args[1]
            let names = [1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL", 3: "EPOLL_CTL_MOD"]
            var uses = [Use(fd: fd(args[0]), rights: [.kqueueChange], detail: names[Int(op)])]
            if op != 2 { uses.append(Use(fd: fd(args[2]), rights: [.event])) }
            return Call(uses: uses)
        case .epollWait:
            return Call(uses: [Use(fd: fd(args[0]), rights: [.kqueueEvent])])
        case .transfer(let from, let to):
            return Call(uses: [Use(fd: fd(args[from]), rights: [.read]), Use(fd: fd(args[to]), rights: [.write])])
        case .sendto:
            // A destination address needs CAP_CONNECT as well (FreeBSD's sendto checks both).
            let rights: [CapRight] = args[4] != 0 && args[5] != 0 ? [.send, .connect] : [.send]
            return Call(uses: [Use(fd: fd(args[0]), rights: rights)])
        case .accept:
            return Call(uses: [Use(fd: fd(args[0]), rights: [.accept])], effect: .create(parent: fd(args[0]), right: .accept))
        case .dup:
            return Call(effect: .alias(of: fd(args[0])))
        case .dupTo:
            return Call(effect: .aliasAt(of: fd(args[0]), newFd: fd(args[1])))
        case .close:
            return Call(effect: .close(fd(args[0])))
        case .closeRange:
            guard args[2] & closeRangeCloexec == 0 else { return Call() }
            return Call(effect: .closeRange(first: UInt32(truncatingIfNeeded: args[0]), last: UInt32(truncatingIfNeeded: args[1])))
        case .create(let isSocket):
            return Call(effect: .create(parent: nil, right: nil), detail: isSocket ? "socket" : nil)
        case .createPair(let at):
            return Call(effect: .createPair(address: args[at]))
        case .signalfd:
            return fd(args[0]) == -1 ? Call(effect: .create(parent: nil, right: nil))
                : Call(uses: [Use(fd: fd(args[0]), rights: [.write], detail: "signal mask")])
        case .pidfdGetfd:
            return Call(uses: [Use(fd: fd(args[0]), rights: [.pdgetfd])], effect: .create(parent: nil, right: nil))
        case .inotifyAddWatch:
            return Call(uses: [Use(fd: fd(args[0]), rights: [.inotifyAdd], detail: sc.pathIndex.flatMap(path).map(quoted))])
        case .open, .lookup, .mknodat, .unlinkat, .utimensat, .twoPaths:
            return atCall(sc, use, args: args, path: path, memory: memory)
        }
    }

    /// Opens and the *at family: a lookup relative to a held directory needs CAP_LOOKUP and the operation's
    /// right on that directory; AT_FDCWD or an absolute path uses no descriptor (that lookup is a violation, not
    /// a right). `fd + ""` with AT_EMPTY_PATH operates on the descriptor itself.
    static func atCall(_ sc: Syscall, _ use: DescriptorUse, args: [UInt64], path: (Int) -> String?,
                       memory: (UInt64, Int) -> [UInt8]?) -> Call? {
        /// A lookup relative to the dirfd in argument `d` with the path in argument `p`: the directory used,
        /// or nil when the lookup does not go through a held directory.
        func dir(_ d: Int?, _ p: Int?) -> (fd: Int32, name: String)? {
            guard let d, let p else { return nil }
            let dfd = fd(args[d])
            guard dfd != atFDCWD, dfd >= 0, let s = path(p), !s.isEmpty, !s.hasPrefix("/") else { return nil }
            return (dfd, s)
        }
        /// The descriptor of an AT_EMPTY_PATH call on it (the row's first dirfd, path and AT_* flags).
        func emptyPath() -> Int32? {
            guard let d = sc.dirfdIndex, let p = sc.pathIndex, let f = sc.atFlagsIndex else { return nil }
            let dfd = fd(args[d])
            guard dfd >= 0, args[f] & atEmptyPath != 0, let s = path(p), s.isEmpty else { return nil }
            return dfd
        }
        let main = dir(sc.dirfdIndex, sc.pathIndex)
        switch use {
        case .open:
            var flags: UInt64
            if sc.pathOp == .creat {
                flags = 0o1101  // O_WRONLY|O_CREAT|O_TRUNC
            } else if let how = sc.index(of: .openHow) {
                guard let b = memory(args[how], 8) else { return nil }
                flags = b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            } else {
                flags = sc.index(of: .openFlags).map { args[$0] } ?? 0
            }
            let desc = OpenFlags.describe(flags)
            guard let d = main else {
                return Call(effect: .create(parent: nil, right: nil), detail: desc)
            }
            var rights: [CapRight] = [.lookup]
            if flags & OpenFlags.O_PATH == 0 {
                switch flags & OpenFlags.O_ACCMODE {
                case 0: rights.append(.read)
                case 1: rights.append(.write)
                default: rights += [.read, .write]
                }
                if flags & OpenFlags.O_CREAT != 0 || flags & OpenFlags.O_TMPFILE == OpenFlags.O_TMPFILE {
                    rights.append(.create)
                }
                if flags & 0o1000 != 0 { rights.append(.ftruncate) }
            }
            return Call(uses: [Use(fd: d.fd, rights: rights, detail: desc + " " + quoted(d.name))],
                        effect: .create(parent: d.fd, right: .lookup), detail: desc)
        case .lookup(let rights, let onDescriptor):
            if let onDescriptor, let f = emptyPath() { return Call(uses: [Use(fd: f, rights: [onDescriptor])]) }
            return lookup(main, rights)
        case .mknodat:
            let mode = sc.index(of: .mode).map { args[$0] } ?? 0
            return lookup(main, [mode & 0o170000 == 0o010000 ? .mkfifoat : .mknodat])
        case .unlinkat:
            let flags = sc.atFlagsIndex.map { args[$0] } ?? 0
            return lookup(main, [.unlinkat], detail: flags & atRemoveDir != 0 ? "AT_REMOVEDIR" : nil)
        case .utimensat:
            if let p = sc.pathIndex, let d = sc.dirfdIndex, args[p] == 0, fd(args[d]) >= 0 {
                return Call(uses: [Use(fd: fd(args[d]), rights: [.futimes])])
            }
            if let f = emptyPath() { return Call(uses: [Use(fd: f, rights: [.futimes])]) }
            return lookup(main, [.futimesat])
        case .twoPaths(let source, let target):
            var uses: [Use] = []
            if let f = emptyPath() { uses.append(Use(fd: f, rights: [source])) }
            else if let d = main { uses.append(Use(fd: d.fd, rights: [.lookup, source], detail: quoted(d.name))) }
            if let d = dir(sc.dirfd2Index, sc.path2Index) {
                uses.append(Use(fd: d.fd, rights: [.lookup, target], detail: quoted(d.name)))
            }
            return Call(uses: uses)
        default:
            return nil
        }
    }

    static func lookup(_ d: (fd: Int32, name: String)?, _ rights: [CapRight], detail: String? = nil) -> Call {
        guard let d else { return Call() }
        return Call(uses: [Use(fd: d.fd, rights: [.lookup] + rights,
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
