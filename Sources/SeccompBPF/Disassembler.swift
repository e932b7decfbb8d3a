/// A seccomp program as text, one instruction a line: its index, the instruction in the usual classic-BPF
/// mnemonics (`jt`/`jf`: the indexes a jump goes to when true/false), and what a load reads or a return means.
public enum Disassembler {
    /// `errnoName` names ERRNO data (e.g. 1 -> EPERM).
    public static func lines(_ program: [Instruction], errnoName: (Int32) -> String? = { _ in nil }) -> [String] {
        let width = max(2, String(program.count - 1).count)
        return program.enumerated().map { pc, i in
            let (text, note) = render(i, pc: pc, errnoName: errnoName)
            let index = String(pc)
            let head = String(repeating: "0", count: max(0, width - index.count)) + index + ": " + text
            guard let note else { return head }
            return head + String(repeating: " ", count: max(1, 34 - head.count)) + "; " + note
        }
    }

    static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

    static func field(_ k: UInt32) -> String {
        switch k {
        case 0: return "nr"
        case 4: return "arch"
        case 8: return "instruction_pointer (low)"
        case 12: return "instruction_pointer (high)"
        default:
            guard k >= 16, k < 64 else { return "?" }
            return "args[\((k - 16) / 8)] (\((k - 16) % 8 == 0 ? "low" : "high"))"
        }
    }

    static func render(_ i: Instruction, pc: Int, errnoName: (Int32) -> String?) -> (String, String?) {
        let src = BPF.src(i.code) == BPF.x ? "x" : "#\(hex(i.k))"
        switch BPF.cls(i.code) {
        case BPF.ld, BPF.ldx:
            let op = BPF.cls(i.code) == BPF.ld ? "ld" : "ldx"
            switch i.code & 0xe0 {
            case BPF.abs: return ("\(op) [\(i.k)]", field(i.k))
            case BPF.len: return ("\(op) len", "64")
            case BPF.mem: return ("\(op) M[\(i.k)]", nil)
            case BPF.imm: return ("\(op) #\(hex(i.k))", nil)
            default: return ("\(op) ? code \(hex(UInt32(i.code)))", nil)
            }
        case BPF.st: return ("st M[\(i.k)]", nil)
        case BPF.stx: return ("stx M[\(i.k)]", nil)
        case BPF.alu:
            let names: [UInt16: String] = [BPF.add: "add", BPF.sub: "sub", BPF.mul: "mul", BPF.div: "div",
                                           BPF.or: "or", BPF.and: "and", BPF.lsh: "lsh", BPF.rsh: "rsh",
                                           BPF.mod: "mod", BPF.xor: "xor"]
            if BPF.op(i.code) == BPF.neg { return ("neg", nil) }
            return ("\(names[BPF.op(i.code)] ?? "alu?") \(src)", nil)
        case BPF.jmp:
            if BPF.op(i.code) == BPF.ja { return ("ja \(pc + 1 + Int(i.k))", nil) }
            let names: [UInt16: String] = [BPF.jeq: "jeq", BPF.jgt: "jgt", BPF.jge: "jge", BPF.jset: "jset"]
            return ("\(names[BPF.op(i.code)] ?? "j?") \(src) jt \(pc + 1 + Int(i.jt)) jf \(pc + 1 + Int(i.jf))", nil)
        case BPF.ret:
            if i.code & 0x18 == BPF.a { return ("ret a", nil) }
            return ("ret #\(hex(i.k))", SeccompAction(i.k).describe(errnoName: errnoName))
        case BPF.misc: return (i.code & 0xf8 == BPF.txa ? "txa" : "tax", nil)
        default: return ("? code \(hex(UInt32(i.code)))", nil)
        }
    }
}
