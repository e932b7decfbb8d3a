import CTraceShims
import SyscallCatalog
import TraceModel

/// `run --syscalls`: the syscall counts of one process, per ABI, before and after it entered capability mode,
/// and the argument facts a seccomp profile can test (socket/socketpair domain and type, clone flags).
///
/// Counting a call allocates nothing but the first time an ABI is seen: the counts live in one fixed block per
/// process and ABI (most processes use one ABI; an exec-heavy run starts a process per command, and zeroing and
/// scanning blocks for ABIs it never used cost more than its calls). Numbers beyond the block (none exist on x86
/// today) are kept in a dictionary.
final class SyscallCounter {
    /// Numbers per ABI held in the block (the largest x86 number is below 600).
    static let slots = 1024
    static let abis = ABI.allCases.count
    /// Socket domains held in the bit table (AF_MAX is 46).
    static let domains = 64

    /// Per ABI ordinal, nil until the ABI's first call: [phase (0 before entry, 1 after)][number].
    private var blocks: [UnsafeMutablePointer<UInt64>?] = Array(repeating: nil, count: SyscallCounter.abis)
    /// [call (0 socket, 1 socketpair)][domain]: bit `type & 0xf` set for each type seen.
    private let socketTypes: UnsafeMutablePointer<UInt16>
    private var unusual: [Int: (before: UInt64, after: UInt64)] = [:]
    private var unusualSockets: Set<SyscallSetEvent.Socket> = []
    var cloneFlags: UInt64?
    var clone3Flags: UInt64?

    init() {
        socketTypes = .allocate(capacity: 2 * Self.domains)
        socketTypes.initialize(repeating: 0, count: 2 * Self.domains)
    }

    deinit {
        for b in blocks { b?.deallocate() }
        socketTypes.deallocate()
    }

    /// Counts one call (`auditArch` and `rawNumber` as seccomp reports them) and keeps its argument facts.
    /// `pid` is read for clone3's flags (struct clone_args in the caller's memory).
    @inline(__always)
    func count(auditArch: UInt32, rawNumber: UInt64, arg0: UInt64, arg1: UInt64, after: Bool, pid: Int32) {
        guard let (abi, nr) = Catalog.abi(auditArch: auditArch, rawNumber: Int(truncatingIfNeeded: rawNumber)) else { return }
        if nr >= 0 && nr < Self.slots {
            let block = blocks[abi.ordinal] ?? newBlock(abi.ordinal)
            block[(after ? Self.slots : 0) + nr] &+= 1
        } else {
            let key = abi.ordinal << 40 | (nr & 0xff_ffff_ffff)
            var c = unusual[key] ?? (0, 0)
            if after { c.after &+= 1 } else { c.before &+= 1 }
            unusual[key] = c
        }
        guard nr >= 0, nr < Self.slots, let facts = Self.facts[abi.ordinal][nr] else { return }
        switch facts {
        case .socket, .socketpair:
            let call = facts == .socket ? 0 : 1
            let domain = Int(UInt32(truncatingIfNeeded: arg0)), type = Int(UInt32(truncatingIfNeeded: arg1) & Self.typeMask)
            if domain < Self.domains && type < 16 {
                socketTypes[call * Self.domains + domain] |= 1 << UInt16(type)
            } else {
                unusualSockets.insert(.init(call: facts == .socket ? "socket" : "socketpair", domain: domain, type: type))
            }
        case .clone:
            let flags = abi == .i386 ? arg0 & 0xffff_ffff : arg0
            cloneFlags = (cloneFlags ?? 0) | flags
        case .clone3:
            var flags: UInt64 = 0
            if arg0 != 0, ct_read_mem(pid, UInt(arg0), &flags, 8) == 8 { clone3Flags = (clone3Flags ?? 0) | flags }
        }
    }

    private func newBlock(_ ordinal: Int) -> UnsafeMutablePointer<UInt64> {
        let b = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * Self.slots)
        b.initialize(repeating: 0, count: 2 * Self.slots)
        blocks[ordinal] = b
        return b
    }

    /// SOCK_NONBLOCK and SOCK_CLOEXEC are left out of a socket type.
    static let typeMask: UInt32 = ~UInt32(0o4000 | 0o2000000)

    enum Facts { case socket, socketpair, clone, clone3 }

    /// Per ABI and number: which calls have argument facts to keep.
    static let facts: [[Facts?]] = ABI.allCases.map { abi in
        var row = [Facts?](repeating: nil, count: slots)
        for (name, f) in [("socket", Facts.socket), ("socketpair", .socketpair), ("clone", .clone), ("clone3", .clone3)] {
            if let nr = Catalog.shared.number(of: name, abi: abi), nr < slots { row[nr] = f }
        }
        return row
    }

    /// The record written when the process exits.
    func event(pid: Int32, tNs: UInt64) -> SyscallSetEvent {
        var counts: [SyscallSetEvent.Count] = []
        for abi in ABI.allCases {
            guard let block = blocks[abi.ordinal] else { continue }
            for nr in 0..<Self.slots {
                let b = block[nr], a = block[Self.slots + nr]
                if a != 0 || b != 0 { counts.append(.init(abi: abi, nr: nr, before: b, after: a)) }
            }
        }
        for (key, c) in unusual {
            counts.append(.init(abi: ABI.allCases[key >> 40], nr: key & 0xff_ffff_ffff, before: c.before, after: c.after))
        }
        counts.sort { ($0.abi.ordinal, $0.nr) < ($1.abi.ordinal, $1.nr) }
        var sockets = unusualSockets
        for call in 0..<2 {
            for domain in 0..<Self.domains {
                let bits = socketTypes[call * Self.domains + domain]
                for type in 0..<16 where bits & (1 << UInt16(type)) != 0 {
                    sockets.insert(.init(call: call == 0 ? "socket" : "socketpair", domain: domain, type: type))
                }
            }
        }
        return SyscallSetEvent(pid: pid, tNs: tNs, counts: counts, sockets: sockets.sorted(), cloneFlags: cloneFlags,
                               clone3Flags: clone3Flags)
    }
}
