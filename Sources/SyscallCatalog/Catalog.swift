/// The syscall catalog: facts about Linux syscalls, with no opinion on whether capability mode allows them.
///
/// One row per syscall (`SyscallTable.swift`, its fact columns in `Facts.swift`), numbers per ABI generated from
/// the kernel's UAPI headers and, for calls newer than them, the kernel's syscall tables
/// (`SyscallNumbers.generated.swift`, written by `Tools/gen-syscall-numbers`). The seccomp filter, the decoder
/// lookup, the classifier, rights, suggestions and `captrace syscalls` are all derived from these files.

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
    case accessMode  // access(2) mode: F_OK or R_OK|W_OK|X_OK
    case statxMask  // statx(2) STATX_* mask
    case ipcFlags  // System V *get flags: IPC_CREAT|IPC_EXCL and permission bits
    case addressFamily  // socket(2) domain: AF_*
    case socketType  // socket(2) type: SOCK_* and SOCK_CLOEXEC|SOCK_NONBLOCK
    case socketProtocol  // socket(2) protocol: IPPROTO_* for AF_INET/AF_INET6, else a number
    case cloneFlags  // CLONE_* flags of unshare(2) and setns(2)'s nstype
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
    /// The row's facts live in one shared object, so copying a `Syscall` (the tracer does it per stop) costs one
    /// reference count, not one per array and string.
    private final class Storage: Sendable {
        let name: String
        let args: [ArgKind]
        let argNames: [String]
        let touches: Touch
        let processTarget: ProcessTarget?, pathOp: PathOp?, descriptorUse: DescriptorUse?, sandboxStep: SandboxStep?
        let traits: SyscallTraits
        let pathIndex: Int?, dirfdIndex: Int?, path2Index: Int?, dirfd2Index: Int?, atFlagsIndex: Int?

        init(_ name: String, _ args: [(String, ArgKind)], _ touches: Touch, _ processTarget: ProcessTarget?,
             _ pathOp: PathOp?, _ descriptorUse: DescriptorUse?, _ sandboxStep: SandboxStep?, _ traits: SyscallTraits) {
            self.name = name
            self.args = args.map { $0.1 }  // closures, not key paths: each key-path application is a runtime call
            self.argNames = args.map { $0.0 }
            self.touches = touches
            self.processTarget = processTarget
            self.pathOp = pathOp
            self.descriptorUse = descriptorUse
            self.sandboxStep = sandboxStep
            self.traits = traits
            // The first two paths and the nearest .dirfd before each (no array: ~500 rows are built at start).
            var path1: Int?, dirfd1: Int?, path2: Int?, dirfd2: Int?, lastDirfd: Int?, atFlags: Int?
            for i in 0..<args.count {
                switch args[i].1 {
                case .dirfd: lastDirfd = i
                case .path:
                    if path1 == nil { (path1, dirfd1) = (i, lastDirfd) } else if path2 == nil { (path2, dirfd2) = (i, lastDirfd) }
                    lastDirfd = nil
                case .atFlags: if atFlags == nil { atFlags = i }
                default: break
                }
            }
            pathIndex = path1
            dirfdIndex = dirfd1
            path2Index = path2
            dirfd2Index = dirfd2
            atFlagsIndex = atFlags
        }
    }

    private let storage: Storage

    public var name: String { storage.name }
    /// Argument kinds in order (at most 6).
    public var args: [ArgKind] { storage.args }
    /// Argument names in order, as used in decoded `args` of trace events.
    public var argNames: [String] { storage.argNames }
    public var touches: Touch { storage.touches }

    /// Register index of the first `.path` argument, and of the `.dirfd` it is resolved against (the nearest
    /// `.dirfd` before it), precomputed so the classifier does not scan on the hot path.
    public var pathIndex: Int? { storage.pathIndex }
    public var dirfdIndex: Int? { storage.dirfdIndex }
    /// The second path (rename, link, move_mount...) and its `.dirfd`.
    public var path2Index: Int? { storage.path2Index }
    public var dirfd2Index: Int? { storage.dirfd2Index }
    /// Register index of the `.atFlags` argument (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW...).
    public var atFlagsIndex: Int? { storage.atFlagsIndex }

    /// How the call's pid/tid arguments name a process (calls that can reach another process by id).
    public var processTarget: ProcessTarget? { storage.processTarget }
    /// What the call does at its path (path calls whose operation a reader or an enforcer needs to know).
    public var pathOp: PathOp? { storage.pathOp }
    /// What the call does with descriptors and the Capsicum rights it needs on them (`run --rights`).
    public var descriptorUse: DescriptorUse? { storage.descriptorUse }
    /// Whether the call is a sandboxing step (the `sandbox` trigger), and for which arguments.
    public var sandboxStep: SandboxStep? { storage.sandboxStep }
    public var traits: SyscallTraits { storage.traits }
    /// The thread's current directory may differ after the call.
    public var changesWorkingDirectory: Bool { storage.traits.contains(.changesWorkingDirectory) }
    /// The call changes the filesystem at its path: its operation mutates, or (opens) its flags may say so.
    public var mutatesPath: Bool { storage.pathOp?.mutates ?? false }

    /// Never inlined: `SyscallTable.rows` calls it ~470 times in one initializer, and inlined there (with
    /// `Storage.init`'s loop and maps) the optimiser took ~25 minutes over that one function in a release build
    /// (this module's whole-module `-O` compile: 25 min -> 29 s).
    @inline(never)
    public init(_ name: String, _ args: [(String, ArgKind)], touches: Touch = .none, pid: ProcessTarget? = nil,
                op: PathOp? = nil, fd: DescriptorUse? = nil, sandbox: SandboxStep? = nil, _ traits: SyscallTraits = []) {
        storage = Storage(name, args, touches, pid, op, fd, sandbox, traits)
    }

    /// The same facts with another argument layout (an ABI whose registers differ).
    func with(args: [(String, ArgKind)]) -> Syscall {
        Syscall(name, args, touches: touches, pid: processTarget, op: pathOp, fd: descriptorUse, sandbox: sandboxStep,
                traits)
    }

    /// Index of the first argument of `kind`, if any.
    public func index(of kind: ArgKind) -> Int? { storage.args.firstIndex(of: kind) }

    public static func == (a: Syscall, b: Syscall) -> Bool {
        a.storage === b.storage
            || (a.name == b.name && a.args == b.args && a.argNames == b.argNames && a.touches == b.touches
                && a.processTarget == b.processTarget && a.pathOp == b.pathOp && a.descriptorUse == b.descriptorUse
                && a.sandboxStep == b.sandboxStep && a.traits == b.traits)
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(args)
    }
}

/// The catalog: every syscall of every ABI, looked up by name or by (ABI, number).
///
/// Built once from `SyscallTable.rows` and the generated numbers. `syscall(abi:nr:)` is an array index, cheap
/// enough for the tracer's hot path, and building it costs no hashing: `SyscallRowIndex` (generated, checked by
/// the tests) names each number's row. The name lookups are built on first use (`NameIndex`), so a run that only
/// looks up the calls that arrive never builds them.
public final class Catalog: Sendable {
    public static let shared = Catalog()

    /// `__X32_SYSCALL_BIT`: bit 30 of the number marks an x32 syscall (seccomp reports AUDIT_ARCH_X86_64).
    public static let x32SyscallBit = 0x4000_0000

    /// All ABIs' tables back to back: the row of (abi, nr) is at `base[abi.ordinal] + nr` when
    /// `nr < limit[abi.ordinal]`; nil where the ABI has no syscall.
    private let byNumber: ContiguousArray<Syscall?>
    private let base: (Int, Int, Int)
    private let limit: (Int, Int, Int)
    /// Per ABI, the number of each row (`rows.count` entries per ABI, ABI by ABI; -1: none), the inverse of the
    /// generated row index: `number(of:abi:)` without the name index (whose dictionaries cost ~0.3 ms to build).
    private let numberOfRow: ContiguousArray<Int32>
    /// Header names that have no row in `SyscallTable` (empty when the table is complete; a test checks it).
    public var namesWithoutRows: [String] { NameIndex.shared.missing }

    init() {
        let rows = SyscallTable.rows
        // Per row, its entry in `i386Layouts` (-1: none), found by binary search: nothing is hashed here.
        var i386Layout = ContiguousArray<Int8>(repeating: -1, count: rows.count)
        for (k, layout) in SyscallTable.i386Layouts.enumerated() {
            if let r = SyscallTable.rowIndex(of: layout.name) { i386Layout[r] = Int8(k) }
        }
        var byNumber = ContiguousArray<Syscall?>()
        var numberOfRow = ContiguousArray<Int32>(repeating: -1, count: ABI.allCases.count * rows.count)
        var counts = (0, 0, 0)
        for abi in ABI.allCases {
            let index = SyscallRowIndex.rows(abi)
            byNumber.reserveCapacity(byNumber.count + index.count)
            for (nr, i) in index.enumerated() {
                guard i != SyscallRowIndex.none else { byNumber.append(nil); continue }
                numberOfRow[abi.ordinal * rows.count + Int(i)] = Int32(nr)  // the highest, as the name index's
                var row = rows[Int(i)]
                if abi == .i386, case let k = Int(i386Layout[Int(i)]), k >= 0 {
                    row = row.with(args: SyscallTable.i386Layouts[k].args)
                }
                byNumber.append(row)
            }
            switch abi {
            case .x86_64: counts.0 = index.count
            case .i386: counts.1 = index.count
            case .x32: counts.2 = index.count
            }
        }
        self.byNumber = byNumber
        self.numberOfRow = numberOfRow
        base = (0, counts.0, counts.0 + counts.1)
        limit = counts
    }

    /// The name lookups, the per-name numbers and the sorted lists: built on first use, from the table and the
    /// generated numbers alone (so the tests can compare `SyscallRowIndex` and `entries(abi:)` with them).
    final class NameIndex: Sendable {
        static let shared = NameIndex()

        let byName: [String: Syscall]
        let numbers: [String: [Int?]]
        let sorted: [[(nr: Int, syscall: Syscall)]]
        let missing: [String]

        init() {
            var byName: [String: Syscall] = [:]
            byName.reserveCapacity(SyscallTable.rows.count)
            for row in SyscallTable.rows { byName[row.name] = row }
            var sorted: [[(nr: Int, syscall: Syscall)]] = []
            var numbers: [String: [Int?]] = [:]
            numbers.reserveCapacity(SyscallTable.rows.count)
            var missing = Set<String>()
            for abi in ABI.allCases {
                var entries: [(nr: Int, syscall: Syscall)] = []
                for (nr, name) in Catalog.generated(abi) {
                    numbers[name, default: [nil, nil, nil]][abi.ordinal] = nr
                    guard byName[name] != nil else { missing.insert(name); continue }
                    // The row as `syscall(abi:nr:)` has it (the ABI's argument layout).
                    if let row = Catalog.shared.syscall(abi: abi, nr: nr) { entries.append((nr, row)) }
                }
                sorted.append(entries)
            }
            self.byName = byName
            self.numbers = numbers
            self.sorted = sorted
            self.missing = missing.sorted()
        }
    }

    static func generated(_ abi: ABI) -> [(Int, String)] {
        switch abi {
        case .x86_64: return SyscallNumbers.x86_64
        case .i386: return SyscallNumbers.i386
        case .x32: return SyscallNumbers.x32
        }
    }

    /// The row for a name (x86_64 argument layout), whatever ABIs define it.
    public func syscall(named name: String) -> Syscall? { NameIndex.shared.byName[name] }

    /// The syscall with number `nr` in `abi` (x32: without the x32 bit), with that ABI's argument layout.
    @inline(__always)
    public func syscall(abi: ABI, nr: Int) -> Syscall? {
        let (start, count): (Int, Int)
        switch abi {
        case .x86_64: (start, count) = (base.0, limit.0)
        case .i386: (start, count) = (base.1, limit.1)
        case .x32: (start, count) = (base.2, limit.2)
        }
        return nr >= 0 && nr < count ? byNumber[start + nr] : nil
    }

    /// The number of `name` in `abi` (x32: without the x32 bit), or nil when the ABI lacks it.
    /// A name with a row is found by binary search over the (sorted) rows; any other (a header name without a
    /// row, none when the table is complete) in the name index.
    public func number(of name: String, abi: ABI) -> Int? {
        guard let r = SyscallTable.rowIndex(of: name) else { return NameIndex.shared.numbers[name]?[abi.ordinal] ?? nil }
        let nr = numberOfRow[abi.ordinal * SyscallTable.rows.count + r]
        return nr < 0 ? nil : Int(nr)
    }

    /// Every syscall of `abi`, sorted by number: read off the number table, so no name lookup is built (the
    /// filter's rules are made from this at a start that computes them).
    public func entries(abi: ABI) -> [(nr: Int, syscall: Syscall)] {
        let (start, count): (Int, Int)
        switch abi {
        case .x86_64: (start, count) = (base.0, limit.0)
        case .i386: (start, count) = (base.1, limit.1)
        case .x32: (start, count) = (base.2, limit.2)
        }
        var out: [(nr: Int, syscall: Syscall)] = []
        out.reserveCapacity(count)
        for nr in 0..<count { if let row = byNumber[start + nr] { out.append((nr, row)) } }
        return out
    }

    /// Every row (x86_64 argument layouts), in the table's (alphabetical) order.
    public var rows: [Syscall] { SyscallTable.rows }

    /// Every syscall name the catalog has a row for, sorted.
    public var allNames: [String] { NameIndex.shared.byName.keys.sorted() }

    /// Names newer than the UAPI headers the numbers are generated from (numbered from the kernel's tables in
    /// `Tools/syscall-numbers-newer.tbl`): tools built against those headers do not know them.
    public var namesNewerThanHeaders: Set<String> { SyscallNumbers.newerThanHeaders }

    /// How many names `allNames` has (without sorting them).
    public var nameCount: Int { NameIndex.shared.byName.count }

    /// Splits what seccomp reports (`seccomp_data.arch`, `seccomp_data.nr`) into an ABI and a number within it.
    public static func abi(auditArch: UInt32, rawNumber: Int) -> (abi: ABI, nr: Int)? {
        switch auditArch {
        case ABI.i386.auditArch: return (.i386, rawNumber)
        case ABI.x86_64.auditArch:
            if rawNumber & x32SyscallBit != 0 { return (.x32, rawNumber & ~x32SyscallBit) }
            return (.x86_64, rawNumber)
        default: return nil
        }
    }
}

extension ABI {
    /// Position in `allCases`, for per-ABI arrays.
    @inline(__always)
    public var ordinal: Int {
        switch self {
        case .x86_64: return 0
        case .i386: return 1
        case .x32: return 2
        }
    }
}
