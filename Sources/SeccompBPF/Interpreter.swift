/// Runs validated seccomp programs as the kernel does (the classic program converted to eBPF: A and X start at
/// 0, a division by X = 0 returns 0, a shift by X uses its low 5 bits).
public enum Interpreter {
    /// The 32-bit value `program` returns for `data`. The program must have passed `Validation.check`.
    public static func run(_ program: [Instruction], _ data: SeccompData) -> UInt32 {
        var a: UInt32 = 0, x: UInt32 = 0
        var mem = [UInt32](repeating: 0, count: BPF.memWords)
        var pc = 0
        while pc < program.count {
            let i = program[pc]
            pc += 1
            let operand = BPF.src(i.code) == BPF.x ? x : i.k
            switch BPF.cls(i.code) {
            case BPF.ld:
                switch i.code & 0xe0 {
                case BPF.abs: a = data.word(at: i.k)
                case BPF.len: a = SeccompData.size
                case BPF.mem: a = mem[Int(i.k)]
                default: a = i.k  // IMM
                }
            case BPF.ldx:
                switch i.code & 0xe0 {
                case BPF.len: x = SeccompData.size
                case BPF.mem: x = mem[Int(i.k)]
                default: x = i.k
                }
            case BPF.st: mem[Int(i.k)] = a
            case BPF.stx: mem[Int(i.k)] = x
            case BPF.alu:
                switch BPF.op(i.code) {
                case BPF.add: a = a &+ operand
                case BPF.sub: a = a &- operand
                case BPF.mul: a = a &* operand
                case BPF.div:
                    if operand == 0 { return 0 }
                    a = a / operand
                case BPF.and: a &= operand
                case BPF.or: a |= operand
                case BPF.xor: a ^= operand
                case BPF.lsh: a = a << (operand & 31)
                case BPF.rsh: a = a >> (operand & 31)
                case BPF.neg: a = 0 &- a
                default: return 0
                }
            case BPF.jmp:
                let taken: Bool
                switch BPF.op(i.code) {
                case BPF.ja: pc += Int(i.k); continue
                case BPF.jeq: taken = a == operand
                case BPF.jgt: taken = a > operand
                case BPF.jge: taken = a >= operand
                case BPF.jset: taken = a & operand != 0
                default: return 0
                }
                pc += Int(taken ? i.jt : i.jf)
            case BPF.ret: return i.code & 0x18 == BPF.a ? a : i.k
            case BPF.misc: if i.code & 0xf8 == BPF.txa { a = x } else { x = a }
            default: return 0
            }
        }
        return 0
    }

    /// What the kernel does with a call given every filter installed, oldest first: each runs, and the most
    /// restrictive action wins (on a tie, the newest filter's value). `decided`: the index of that filter, nil
    /// when every filter allowed the call.
    public static func decide(_ filters: [[Instruction]], _ data: SeccompData) -> (value: UInt32, decided: Int?) {
        var best = SeccompAction.allowValue
        var which: Int? = nil
        for (i, f) in filters.enumerated().reversed() {
            let v = run(f, data)
            if SeccompAction.rank(v) < SeccompAction.rank(best) { best = v; which = i }
        }
        return (best, which)
    }
}

/// A seccomp filter's return value: `SECCOMP_RET_*` in the upper 16 bits, data in the lower.
public enum SeccompAction: Sendable, Hashable, CustomStringConvertible {
    case killProcess, killThread
    case trap(UInt16)
    /// The call fails with this errno (the kernel caps it at 4095).
    case errno(UInt16)
    case userNotif
    case trace(UInt16)
    case log, allow
    /// An action value the kernel does not know: it kills the process.
    case unknown(UInt32)

    public static let allowValue: UInt32 = 0x7fff_0000

    public init(_ v: UInt32) {
        let data = UInt16(v & 0xffff)
        switch v & 0xffff_0000 {
        case 0x8000_0000: self = .killProcess
        case 0x0000_0000: self = .killThread
        case 0x0003_0000: self = .trap(data)
        case 0x0005_0000: self = .errno(min(data, 4095))
        case 0x7fc0_0000: self = .userNotif
        case 0x7ff0_0000: self = .trace(data)
        case 0x7ffc_0000: self = .log
        case 0x7fff_0000: self = .allow
        default: self = .unknown(v)
        }
    }

    /// The kernel's precedence (`ACTION_ONLY`, a signed comparison of the action bits): lower is more restrictive.
    public static func rank(_ v: UInt32) -> Int32 { Int32(bitPattern: v & 0xffff_0000) }

    /// Whether the call does not run as asked: killed, trapped (SIGSYS) or failed with an errno.
    public var refuses: Bool {
        switch self {
        case .killProcess, .killThread, .trap, .errno, .unknown: true
        case .userNotif, .trace, .log, .allow: false
        }
    }

    public var description: String { describe(errnoName: { _ in nil }) }

    /// `ERRNO(EPERM)`, `KILL_PROCESS`, `TRAP(1)`... with errno names from `errnoName`.
    public func describe(errnoName: (Int32) -> String?) -> String {
        switch self {
        case .killProcess: "KILL_PROCESS"
        case .killThread: "KILL_THREAD"
        case .trap(let d): d == 0 ? "TRAP" : "TRAP(\(d))"
        case .errno(let e): "ERRNO(\(errnoName(Int32(e)) ?? String(e)))"
        case .userNotif: "USER_NOTIF"
        case .trace(let d): "TRACE(\(d))"
        case .log: "LOG"
        case .allow: "ALLOW"
        case .unknown(let v): "unknown action 0x\(String(v, radix: 16)) (the kernel kills the process)"
        }
    }
}
