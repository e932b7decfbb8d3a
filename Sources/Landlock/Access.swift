// Landlock's access rights, ruleset and scopes as the kernel's UAPI defines them (include/uapi/linux/landlock.h,
// Documentation/userspace-api/landlock.rst), named as the Landlock maintainers' landlockconfig names them.
// Pure: no C, no Glibc.

/// A Landlock ABI version (what `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)` returns).
/// Each version adds rights: 1 the first 13 filesystem rights, 2 `refer`, 3 `truncate`, 4 TCP bind/connect,
/// 5 `ioctl_dev`, 6 the scopes, 7 audit-log flags (no new right).
public struct LandlockABI: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let version: Int
    public init(_ version: Int) { self.version = version }
    public static func < (a: LandlockABI, b: LandlockABI) -> Bool { a.version < b.version }
    public var description: String { "ABI \(version)" }

    /// The newest version whose rights captrace knows.
    public static let newestKnown = LandlockABI(7)

    public var fs: FSAccess { FSAccess(rawValue: FSAccess.table.filter { $0.since <= version }.reduce(0) { $0 | $1.bit }) }
    public var net: NetAccess { version >= 4 ? [.bindTCP, .connectTCP] : [] }
    public var scopes: Scope { version >= 6 ? [.abstractUnixSocket, .signal] : [] }
}

/// A set of rights as bits of a 64-bit mask, each with its landlockconfig name and the ABI that added it.
public protocol AccessSet: OptionSet, Hashable, Sendable where RawValue == UInt64 {
    static var table: [(bit: UInt64, name: String, since: Int)] { get }
}

extension AccessSet {
    /// Every single right, in bit order.
    public static var all: [Self] { table.map { Self(rawValue: $0.bit) } }
    public static var allBits: Self { Self(rawValue: table.reduce(0) { $0 | $1.bit }) }
    /// The landlockconfig names of the rights in the set, in bit order; unknown bits as hex.
    public var names: [String] {
        var out = Self.table.filter { rawValue & $0.bit != 0 }.map(\.name)
        let unknown = rawValue & ~Self.allBits.rawValue
        if unknown != 0 { out.append("0x" + String(unknown, radix: 16)) }
        return out
    }
    /// The single right named `name`.
    public init?(name: String) {
        guard let e = Self.table.first(where: { $0.name == name }) else { return nil }
        self.init(rawValue: e.bit)
    }
    /// The ABI version that added this single right.
    public var since: Int { Self.table.first { $0.bit == rawValue }?.since ?? Int.max }
    public var isEmpty: Bool { rawValue == 0 }
}

/// LANDLOCK_ACCESS_FS_*.
public struct FSAccess: AccessSet {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let execute = FSAccess(rawValue: 1 << 0)
    public static let writeFile = FSAccess(rawValue: 1 << 1)
    public static let readFile = FSAccess(rawValue: 1 << 2)
    public static let readDir = FSAccess(rawValue: 1 << 3)
    public static let removeDir = FSAccess(rawValue: 1 << 4)
    public static let removeFile = FSAccess(rawValue: 1 << 5)
    public static let makeChar = FSAccess(rawValue: 1 << 6)
    public static let makeDir = FSAccess(rawValue: 1 << 7)
    public static let makeReg = FSAccess(rawValue: 1 << 8)
    public static let makeSock = FSAccess(rawValue: 1 << 9)
    public static let makeFifo = FSAccess(rawValue: 1 << 10)
    public static let makeBlock = FSAccess(rawValue: 1 << 11)
    public static let makeSym = FSAccess(rawValue: 1 << 12)
    public static let refer = FSAccess(rawValue: 1 << 13)
    public static let truncate = FSAccess(rawValue: 1 << 14)
    public static let ioctlDev = FSAccess(rawValue: 1 << 15)

    public static let table: [(bit: UInt64, name: String, since: Int)] = [
        (1 << 0, "execute", 1), (1 << 1, "write_file", 1), (1 << 2, "read_file", 1), (1 << 3, "read_dir", 1),
        (1 << 4, "remove_dir", 1), (1 << 5, "remove_file", 1), (1 << 6, "make_char", 1), (1 << 7, "make_dir", 1),
        (1 << 8, "make_reg", 1), (1 << 9, "make_sock", 1), (1 << 10, "make_fifo", 1), (1 << 11, "make_block", 1),
        (1 << 12, "make_sym", 1), (1 << 13, "refer", 2), (1 << 14, "truncate", 3), (1 << 15, "ioctl_dev", 5),
    ]

    /// The rights a rule on a file (not a directory) may carry: the kernel refuses the others there (EINVAL).
    public static let fileRights: FSAccess = [.execute, .writeFile, .readFile, .truncate, .ioctlDev]

    /// landlockconfig's `read_execute` group for an ABI: execute, read_file, read_dir, and refer from ABI 2.
    public static func readExecute(_ abi: LandlockABI) -> FSAccess {
        FSAccess([.execute, .readFile, .readDir]).union(abi.fs.intersection(.refer))
    }
    /// landlockconfig's `read_write` group for an ABI: every right of the ABI but execute.
    public static func readWrite(_ abi: LandlockABI) -> FSAccess { abi.fs.subtracting(.execute) }
}

/// LANDLOCK_ACCESS_NET_*.
public struct NetAccess: AccessSet {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let bindTCP = NetAccess(rawValue: 1 << 0)
    public static let connectTCP = NetAccess(rawValue: 1 << 1)
    public static let table: [(bit: UInt64, name: String, since: Int)] = [(1 << 0, "bind_tcp", 4), (1 << 1, "connect_tcp", 4)]
}

/// LANDLOCK_SCOPE_*: what a domain cuts off from processes outside it.
public struct Scope: AccessSet {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let abstractUnixSocket = Scope(rawValue: 1 << 0)
    public static let signal = Scope(rawValue: 1 << 1)
    public static let table: [(bit: UInt64, name: String, since: Int)] = [(1 << 0, "abstract_unix_socket", 6), (1 << 1, "signal", 6)]
}
