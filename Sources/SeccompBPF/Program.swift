/// Classic BPF as seccomp runs it: the instructions of `struct sock_filter`, the input `struct seccomp_data`,
/// the kernel's validation of a filter (`bpf_check_classic` then `seccomp_check_filter`), an interpreter, the
/// action a set of filters returns, and a disassembler. Pure: no C module, no Glibc.

/// One `struct sock_filter`: `code`, jump offsets `jt`/`jf` (relative to the next instruction), and `k`.
public struct Instruction: Sendable, Hashable {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
        self.code = code; self.jt = jt; self.jf = jf; self.k = k
    }

    /// The instruction from the 8 bytes of a `struct sock_filter` in memory (little-endian).
    public init(bytes b: some Collection<UInt8>) {
        let a = Array(b.prefix(8)) + [UInt8](repeating: 0, count: max(0, 8 - b.count))
        code = UInt16(a[0]) | UInt16(a[1]) << 8
        jt = a[2]
        jf = a[3]
        k = UInt32(a[4]) | UInt32(a[5]) << 8 | UInt32(a[6]) << 16 | UInt32(a[7]) << 24
    }
}

/// The classic BPF opcode fields (linux/bpf_common.h, linux/filter.h).
public enum BPF {
    // classes
    public static let ld: UInt16 = 0x00, ldx: UInt16 = 0x01, st: UInt16 = 0x02, stx: UInt16 = 0x03
    public static let alu: UInt16 = 0x04, jmp: UInt16 = 0x05, ret: UInt16 = 0x06, misc: UInt16 = 0x07
    // ld/ldx size and mode
    public static let w: UInt16 = 0x00, h: UInt16 = 0x08, b: UInt16 = 0x10
    public static let imm: UInt16 = 0x00, abs: UInt16 = 0x20, ind: UInt16 = 0x40, mem: UInt16 = 0x60
    public static let len: UInt16 = 0x80, msh: UInt16 = 0xa0
    // alu/jmp operations
    public static let add: UInt16 = 0x00, sub: UInt16 = 0x10, mul: UInt16 = 0x20, div: UInt16 = 0x30
    public static let or: UInt16 = 0x40, and: UInt16 = 0x50, lsh: UInt16 = 0x60, rsh: UInt16 = 0x70
    public static let neg: UInt16 = 0x80, mod: UInt16 = 0x90, xor: UInt16 = 0xa0
    public static let ja: UInt16 = 0x00, jeq: UInt16 = 0x10, jgt: UInt16 = 0x20, jge: UInt16 = 0x30, jset: UInt16 = 0x40
    // source
    public static let k: UInt16 = 0x00, x: UInt16 = 0x08, a: UInt16 = 0x10
    // misc
    public static let tax: UInt16 = 0x00, txa: UInt16 = 0x80

    public static let maxInstructions = 4096  // BPF_MAXINSNS
    public static let memWords = 16  // BPF_MEMWORDS

    static func cls(_ c: UInt16) -> UInt16 { c & 0x07 }
    static func op(_ c: UInt16) -> UInt16 { c & 0xf0 }
    static func src(_ c: UInt16) -> UInt16 { c & 0x08 }
}

/// `struct seccomp_data`: what a seccomp filter reads (64 bytes, loaded as 32-bit words in host order).
public struct SeccompData: Sendable, Hashable {
    public var nr: Int32
    public var arch: UInt32
    public var instructionPointer: UInt64
    public var args: [UInt64]

    public static let size: UInt32 = 64

    public init(nr: Int32, arch: UInt32, instructionPointer: UInt64 = 0, args: [UInt64] = []) {
        self.nr = nr; self.arch = arch; self.instructionPointer = instructionPointer
        self.args = Array((args + [UInt64](repeating: 0, count: 6)).prefix(6))
    }

    /// Calls the kernel runs without consulting any seccomp filter: x86_64 `uretprobe` (335) and `uprobe` (336),
    /// which seccomp passes through (Linux 6.x; seen on 6.18, KernelAgreementTests).
    public var bypassesFilters: Bool { arch == 0xC000_003E && (nr == 335 || nr == 336) }

    /// The 32-bit word at byte offset `k` (a multiple of 4 below 64, as validation ensures); little-endian, as on
    /// x86: the low half of a 64-bit field comes first.
    public func word(at k: UInt32) -> UInt32 {
        switch k {
        case 0: return UInt32(bitPattern: nr)
        case 4: return arch
        case 8: return UInt32(truncatingIfNeeded: instructionPointer)
        case 12: return UInt32(truncatingIfNeeded: instructionPointer >> 32)
        default:
            let i = Int(k - 16) / 8
            let v = args[i]
            return (k - 16) % 8 == 0 ? UInt32(truncatingIfNeeded: v) : UInt32(truncatingIfNeeded: v >> 32)
        }
    }
}
