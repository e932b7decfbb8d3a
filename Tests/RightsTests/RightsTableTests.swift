import CapabilityPolicy
import Testing

/// RightsTable: syscall + raw registers -> the Capsicum rights needed, and the effect on the descriptor table.
@Suite struct RightsTableTests {
    static func call(_ name: String, _ args: [UInt64], paths: [Int: String] = [:], memory: [UInt64: [UInt8]] = [:])
        -> RightsTable.Call?
    {
        RightsTable.call(name, args: args, path: { paths[$0] }, memory: { addr, n in memory[addr].map { Array($0.prefix(n)) } })
    }

    static func rights(_ c: RightsTable.Call?) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for u in c?.uses ?? [] { out[String(u.fd), default: []] += u.rights.map(\.rawValue) }
        return out
    }

    static let atFDCWD = UInt64(bitPattern: -100)

    @Test(arguments: [
        ("read", [3], ["3": ["CAP_READ"]]),
        ("readv", [4], ["4": ["CAP_READ"]]),
        ("pread64", [5], ["5": ["CAP_READ", "CAP_SEEK"]]),
        ("write", [1], ["1": ["CAP_WRITE"]]),
        ("pwritev2", [1], ["1": ["CAP_WRITE", "CAP_SEEK"]]),
        ("lseek", [3], ["3": ["CAP_SEEK"]]),
        ("fstat", [3], ["3": ["CAP_FSTAT"]]),
        ("ftruncate", [3], ["3": ["CAP_FTRUNCATE"]]),
        ("fchmod", [3], ["3": ["CAP_FCHMOD"]]),
        ("fchown", [3], ["3": ["CAP_FCHOWN"]]),
        ("fsync", [3], ["3": ["CAP_FSYNC"]]),
        ("getdents64", [7], ["7": ["CAP_READ"]]),
        ("connect", [6], ["6": ["CAP_CONNECT"]]),
        ("recvmsg", [6], ["6": ["CAP_RECV"]]),
        ("shutdown", [6], ["6": ["CAP_SHUTDOWN"]]),
        ("accept4", [6], ["6": ["CAP_ACCEPT"]]),
        ("sendto", [6, 0, 0, 0, 0, 0], ["6": ["CAP_SEND"]]),
        ("sendto", [6, 0, 0, 0, 0x7000, 16], ["6": ["CAP_SEND", "CAP_CONNECT"]]),
        ("sendfile", [1, 3], ["3": ["CAP_READ"], "1": ["CAP_WRITE"]]),
    ] as [(String, [UInt64], [String: [String]])])
    func simple(_ name: String, _ args: [UInt64], _ expected: [String: [String]]) {
        #expect(Self.rights(Self.call(name, args)) == expected, "\(name)")
    }

    @Test func fstatThroughNewfstatatEmptyPath() {
        let c = Self.call("newfstatat", [3, 0x1000, 0x2000, 0x1000], paths: [1: ""])
        #expect(Self.rights(c) == ["3": ["CAP_FSTAT"]])
        // AT_FDCWD with an empty path is not a descriptor operation of a held descriptor.
        #expect(Self.rights(Self.call("newfstatat", [Self.atFDCWD, 0x1000, 0x2000, 0x1000], paths: [1: ""])).isEmpty)
    }

    @Test func lookupsRelativeToADirectory() {
        let open = Self.call("openat", [5, 0x1000, 0o2000000, 0], paths: [1: "sub.txt"])
        #expect(Self.rights(open) == ["5": ["CAP_LOOKUP", "CAP_READ"]])
        #expect(open?.effect == .create(parent: 5, right: .lookup))
        #expect(open?.uses.first?.detail == "O_RDONLY|O_CLOEXEC \"sub.txt\"")
        let create = Self.call("openat", [5, 0x1000, 0o1101, 0o644], paths: [1: "out"])
        #expect(Self.rights(create) == ["5": ["CAP_LOOKUP", "CAP_WRITE", "CAP_CREATE", "CAP_FTRUNCATE"]])
        let opath = Self.call("openat", [5, 0x1000, 0o10000000, 0], paths: [1: "x"])
        #expect(Self.rights(opath) == ["5": ["CAP_LOOKUP"]])
        #expect(Self.rights(Self.call("newfstatat", [5, 0x1000, 0x2000, 0], paths: [1: "ro.txt"])) == ["5": ["CAP_LOOKUP", "CAP_FSTATAT"]])
        #expect(Self.rights(Self.call("mkdirat", [5, 0x1000, 0o755], paths: [1: "d"])) == ["5": ["CAP_LOOKUP", "CAP_MKDIRAT"]])
        #expect(Self.rights(Self.call("unlinkat", [5, 0x1000, 0x200], paths: [1: "d"])) == ["5": ["CAP_LOOKUP", "CAP_UNLINKAT"]])
        #expect(Self.rights(Self.call("renameat2", [5, 0x1000, 6, 0x2000, 0], paths: [1: "a", 3: "b"]))
            == ["5": ["CAP_LOOKUP", "CAP_RENAMEAT_SOURCE"], "6": ["CAP_LOOKUP", "CAP_RENAMEAT_TARGET"]])
    }

    /// Calls newer than the UAPI headers (fchmodat2 was once dropped silently because the catalog lacked it).
    @Test func newerAtCallsNeedTheirRights() {
        #expect(RightsTable.syscallNames.isSuperset(of: ["fchmodat2", "setxattrat", "getxattrat", "removexattrat"]))
        #expect(Self.rights(Self.call("fchmodat2", [5, 0x1000, 0o644, 0], paths: [1: "f"])) == ["5": ["CAP_LOOKUP", "CAP_FCHMODAT"]])
        #expect(Self.rights(Self.call("fchmodat2", [5, 0x1000, 0o644, 0x1000], paths: [1: ""])) == ["5": ["CAP_FCHMOD"]])
        #expect(Self.rights(Self.call("fchmodat", [5, 0x1000, 0o644], paths: [1: ""])).isEmpty)  // no flags: ENOENT
        #expect(Self.rights(Self.call("setxattrat", [5, 0x1000, 0, 0x2000, 0x3000, 32], paths: [1: "f"]))
            == ["5": ["CAP_LOOKUP", "CAP_EXTATTR_SET"]])
        #expect(Self.rights(Self.call("getxattrat", [5, 0x1000, 0x1000, 0x2000, 0x3000, 32], paths: [1: ""]))
            == ["5": ["CAP_EXTATTR_GET"]])
    }

    @Test func globalLookupsUseNoDescriptor() {
        // AT_FDCWD, or an absolute path whatever the dirfd: the lookup is a violation, not a right.
        let cwd = Self.call("openat", [Self.atFDCWD, 0x1000, 0, 0], paths: [1: "x"])
        #expect(cwd?.uses.isEmpty == true)
        #expect(cwd?.effect == .create(parent: nil, right: nil))
        let abs = Self.call("openat", [5, 0x1000, 0, 0], paths: [1: "/etc/hosts"])
        #expect(abs?.uses.isEmpty == true)
        #expect(abs?.effect == .create(parent: nil, right: nil))
    }

    @Test func mmapProtections() {
        let r = Self.call("mmap", [0, 4096, 1, 2, 3, 0])  // PROT_READ, MAP_PRIVATE
        #expect(Self.rights(r) == ["3": ["CAP_MMAP_R"]])
        #expect(r?.uses.first?.detail == "PROT_READ MAP_PRIVATE")
        // A private writable mapping does not write the file: no CAP_MMAP_W (as FreeBSD).
        #expect(Self.rights(Self.call("mmap", [0, 4096, 7, 2, 3, 0])) == ["3": ["CAP_MMAP_R", "CAP_MMAP_X"]])
        #expect(Self.rights(Self.call("mmap", [0, 4096, 3, 1, 3, 0])) == ["3": ["CAP_MMAP_R", "CAP_MMAP_W"]])
        #expect(Self.call("mmap", [0, 4096, 3, 0x22, UInt64(bitPattern: -1), 0]) == nil)  // anonymous
    }

    @Test func ioctlAndFcntlCommands() {
        let t = Self.call("ioctl", [0, 0x5401, 0x7000])
        #expect(Self.rights(t) == ["0": ["CAP_IOCTL"]])
        #expect(t?.uses.first?.detail == "TCGETS")
        #expect(Self.call("ioctl", [0, 0x12345678, 0])?.uses.first?.detail == "0x12345678")
        let getfl = Self.call("fcntl", [3, 3])
        #expect(Self.rights(getfl) == ["3": ["CAP_FCNTL"]])
        #expect(getfl?.uses.first?.detail == "F_GETFL")
        #expect(Self.rights(Self.call("fcntl", [3, 6, 0x7000])) == ["3": ["CAP_FLOCK"]])
        #expect(Self.call("fcntl", [3, 2, 1])?.uses.isEmpty == true)  // F_SETFD: no right
        #expect(Self.call("fcntl", [3, 1030, 10])?.effect == .alias(of: 3))  // F_DUPFD_CLOEXEC
    }

    @Test func eventsFromMemory() {
        // struct pollfd {int fd; short events; short revents;} x3, one negative (ignored).
        var fds: [UInt8] = []
        for fd: Int32 in [4, -1, 9] {
            withUnsafeBytes(of: fd.littleEndian) { fds += $0 }
            fds += [1, 0, 0, 0]
        }
        let p = Self.call("poll", [0x1000, 3, 0], memory: [0x1000: fds])
        #expect(Self.rights(p) == ["4": ["CAP_EVENT"], "9": ["CAP_EVENT"]])
        // select(nfds=10, readfds={1, 8}, writefds={3})
        let s = Self.call("select", [10, 0x2000, 0x3000, 0, 0], memory: [0x2000: [0b0000_0010, 0b0000_0001], 0x3000: [0b0000_1000, 0]])
        #expect(s?.uses.map(\.fd) == [1, 3, 8])
        let e = Self.call("epoll_ctl", [5, 1, 7, 0x4000])
        #expect(Self.rights(e) == ["5": ["CAP_KQUEUE_CHANGE"], "7": ["CAP_EVENT"]])
    }

    @Test func descriptorTableEffects() {
        #expect(Self.call("dup", [3])?.effect == .alias(of: 3))
        #expect(Self.call("dup2", [3, 9])?.effect == .aliasAt(of: 3, newFd: 9))
        #expect(Self.call("dup3", [3, 9, 0o2000000])?.effect == .aliasAt(of: 3, newFd: 9))
        #expect(Self.call("close", [4])?.effect == .close(4))
        #expect(Self.call("close_range", [3, 0xffff_ffff, 0])?.effect == .closeRange(first: 3, last: 0xffff_ffff))
        #expect(Self.call("close_range", [3, 0xffff_ffff, 4])?.effect == RightsTable.Effect.none)  // CLOSE_RANGE_CLOEXEC
        #expect(Self.call("pipe2", [0x1000, 0])?.effect == .createPair(address: 0x1000))
        #expect(Self.call("socketpair", [1, 1, 0, 0x1000])?.effect == .createPair(address: 0x1000))
        #expect(Self.call("socket", [2, 2, 0])?.effect == .create(parent: nil, right: nil))
        #expect(Self.call("accept", [6, 0, 0])?.effect == .create(parent: 6, right: .accept))
        #expect(Self.call("getpid", []) == nil)
    }

    @Test func syscallNamesCoverTheTableAndAreKnown() {
        let names = RightsTable.syscallNames
        for n in ["read", "write", "pread64", "lseek", "newfstatat", "fstat", "ftruncate", "mmap", "ioctl", "fcntl",
                  "poll", "epoll_ctl", "select", "accept", "accept4", "connect", "sendto", "sendmsg", "recvfrom",
                  "recvmsg", "shutdown", "openat", "mkdirat", "unlinkat", "fchmod", "fchown", "fsync", "getdents64",
                  "dup", "dup2", "dup3", "close", "close_range", "pipe2", "socket", "socketpair"] {
            #expect(names.contains(n), "\(n) is not trapped")
        }
        #expect(!names.contains("getpid"))
        #expect(!names.contains("mprotect"))
    }
}
