extension Instruction {
    /// The opcodes seccomp accepts (kernel `seccomp_check_filter`): loads of `seccomp_data` words and of its
    /// length, the ALU operations but MOD, the scratch memory, TAX/TXA, JA and the conditional jumps, RET.
    static let seccompCodes: Set<UInt16> = {
        var s: Set<UInt16> = [
            BPF.ld | BPF.w | BPF.abs, BPF.ld | BPF.w | BPF.len, BPF.ldx | BPF.w | BPF.len,
            BPF.ret | BPF.k, BPF.ret | BPF.a, BPF.alu | BPF.neg, BPF.ld | BPF.imm, BPF.ldx | BPF.imm,
            BPF.misc | BPF.tax, BPF.misc | BPF.txa, BPF.ld | BPF.mem, BPF.ldx | BPF.mem, BPF.st, BPF.stx,
            BPF.jmp | BPF.ja,
        ]
        for op in [BPF.add, BPF.sub, BPF.mul, BPF.div, BPF.and, BPF.or, BPF.xor, BPF.lsh, BPF.rsh] {
            s.insert(BPF.alu | op | BPF.k); s.insert(BPF.alu | op | BPF.x)
        }
        for op in [BPF.jeq, BPF.jge, BPF.jgt, BPF.jset] {
            s.insert(BPF.jmp | op | BPF.k); s.insert(BPF.jmp | op | BPF.x)
        }
        return s
    }()

    var isConditionalJump: Bool { BPF.cls(code) == BPF.jmp && BPF.op(code) != BPF.ja }
}

/// Why the kernel would refuse a program with EINVAL (the checks of `bpf_check_classic`, `check_load_and_stores`
/// and `seccomp_check_filter`, in their order).
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The instruction at fault, nil for the program as a whole.
    public var index: Int?
    public var reason: String
    public var description: String { index.map { "instruction \($0): \(reason)" } ?? reason }
}

public enum Validation {
    /// Checks `program` as the kernel does before it installs a seccomp filter; throws the first fault.
    public static func check(_ program: [Instruction]) throws(ValidationError) {
        let n = program.count
        guard n > 0, n <= BPF.maxInstructions else {
            throw ValidationError(index: nil, reason: "a filter has 1 to \(BPF.maxInstructions) instructions, not \(n)")
        }
        for (pc, i) in program.enumerated() {
            guard Instruction.seccompCodes.contains(i.code) else {
                throw ValidationError(index: pc, reason: "opcode 0x\(String(i.code, radix: 16)) is not allowed in a seccomp filter")
            }
            switch i.code {
            case BPF.alu | BPF.div | BPF.k where i.k == 0:
                throw ValidationError(index: pc, reason: "division by the constant 0")
            case BPF.alu | BPF.lsh | BPF.k, BPF.alu | BPF.rsh | BPF.k:
                if i.k >= 32 { throw ValidationError(index: pc, reason: "shift by \(i.k) (at most 31)") }
            case BPF.ld | BPF.mem, BPF.ldx | BPF.mem, BPF.st, BPF.stx:
                if i.k >= BPF.memWords { throw ValidationError(index: pc, reason: "scratch word \(i.k) (there are \(BPF.memWords))") }
            case BPF.jmp | BPF.ja:
                if i.k >= UInt32(n - pc - 1) { throw ValidationError(index: pc, reason: "jump past the end") }
            case BPF.ld | BPF.w | BPF.abs:
                if i.k >= SeccompData.size || i.k & 3 != 0 {
                    throw ValidationError(index: pc, reason: "load at offset \(i.k): seccomp_data has 16 aligned 32-bit words")
                }
            default:
                if i.isConditionalJump, pc + Int(i.jt) + 1 >= n || pc + Int(i.jf) + 1 >= n {
                    throw ValidationError(index: pc, reason: "jump past the end")
                }
            }
        }
        guard BPF.cls(program[n - 1].code) == BPF.ret else {
            throw ValidationError(index: n - 1, reason: "the last instruction is not a return")
        }
        // Scratch memory must be written on every path before it is read (check_load_and_stores).
        var masks = [UInt16](repeating: 0xffff, count: n)
        var valid: UInt16 = 0
        for (pc, i) in program.enumerated() {
            valid &= masks[pc]
            switch i.code {
            case BPF.st, BPF.stx: valid |= 1 << UInt16(i.k)
            case BPF.ld | BPF.mem, BPF.ldx | BPF.mem:
                if valid & (1 << UInt16(i.k)) == 0 {
                    throw ValidationError(index: pc, reason: "scratch word \(i.k) is read before it is written")
                }
            case BPF.jmp | BPF.ja:
                masks[pc + 1 + Int(i.k)] &= valid
                valid = 0xffff
            default:
                if i.isConditionalJump {
                    masks[pc + 1 + Int(i.jt)] &= valid
                    masks[pc + 1 + Int(i.jf)] &= valid
                    valid = 0xffff
                }
            }
        }
    }
}
