import SeccompBPF
import Testing

/// Validation messages, the disassembly, and how actions combine across filters (the kernel agreement is in
/// KernelAgreementTests).
@Suite("seccomp BPF: validation, disassembly, actions")
struct ProgramTests {
    static let arch: UInt32 = 0xC000_003E
    /// uname -> ERRNO(EPERM), other x86_64 calls allowed, other architectures killed.
    static let unameEPERM = [
        Instruction(code: BPF.ld | BPF.w | BPF.abs, k: 4),
        Instruction(code: BPF.jmp | BPF.jeq | BPF.k, jt: 1, jf: 0, k: arch),
        Instruction(code: BPF.ret | BPF.k, k: 0x8000_0000),
        Instruction(code: BPF.ld | BPF.w | BPF.abs, k: 0),
        Instruction(code: BPF.jmp | BPF.jeq | BPF.k, jt: 0, jf: 1, k: 63),
        Instruction(code: BPF.ret | BPF.k, k: 0x0005_0001),
        Instruction(code: BPF.ret | BPF.k, k: 0x7fff_0000),
    ]

    @Test func disassembly() {
        let lines = Disassembler.lines(Self.unameEPERM, errnoName: { $0 == 1 ? "EPERM" : nil })
        #expect(lines == [
            "0: ld [4]                        ; arch",
            "1: jeq #0xc000003e jt 3 jf 2",
            "2: ret #0x80000000               ; KILL_PROCESS",
            "3: ld [0]                        ; nr",
            "4: jeq #0x3f jt 5 jf 6",
            "5: ret #0x50001                  ; ERRNO(EPERM)",
            "6: ret #0x7fff0000               ; ALLOW",
        ].map { $0.replacingOccurrences(of: "0: ", with: "00: ", options: .anchored) }.map(fixWidth))
    }

    /// The expected lines above are written with one-digit indexes; the disassembler pads to two.
    func fixWidth(_ s: String) -> String {
        guard let colon = s.firstIndex(of: ":"), s[..<colon].count == 1 else { return s }
        let head = "0" + s[..<colon] + ":" + s[s.index(after: colon)...]
        guard let semi = head.firstIndex(of: ";") else { return head }
        let code = head[..<semi].trimmingCharacters(in: .whitespaces)
        return code + String(repeating: " ", count: max(1, 34 - code.count)) + String(head[semi...])
    }

    @Test func validationNamesTheFault() {
        func fault(_ p: [Instruction]) -> String? {
            do { try Validation.check(p); return nil } catch { return error.description }
        }
        #expect(fault(Self.unameEPERM) == nil)
        #expect(fault([]) == "a filter has 1 to 4096 instructions, not 0")
        #expect(fault([Instruction(code: BPF.ld | BPF.w | BPF.abs, k: 6), Instruction(code: BPF.ret | BPF.a)])
                == "instruction 0: load at offset 6: seccomp_data has 16 aligned 32-bit words")
        #expect(fault([Instruction(code: BPF.alu | BPF.mod | BPF.k, k: 3), Instruction(code: BPF.ret | BPF.a)])
                == "instruction 0: opcode 0x94 is not allowed in a seccomp filter")
        #expect(fault([Instruction(code: BPF.ld | BPF.mem, k: 2), Instruction(code: BPF.ret | BPF.a)])
                == "instruction 0: scratch word 2 is read before it is written")
        #expect(fault([Instruction(code: BPF.ld | BPF.imm, k: 1)]) == "instruction 0: the last instruction is not a return")
        #expect(fault([Instruction(code: BPF.jmp | BPF.jeq | BPF.k, jt: 1, jf: 0), Instruction(code: BPF.ret | BPF.a)])
                == "instruction 0: jump past the end")
    }

    @Test func theMostRestrictiveFilterDecides() {
        let allow = [Instruction(code: BPF.ret | BPF.k, k: 0x7fff_0000)]
        let trace = [Instruction(code: BPF.ret | BPF.k, k: 0x7ff0_0007)]
        let eacces = [Instruction(code: BPF.ret | BPF.k, k: 0x0005_000d)]
        let uname = SeccompData(nr: 63, arch: Self.arch)
        let getpid = SeccompData(nr: 39, arch: Self.arch)
        // Oldest first: captrace's own TRACE filter, then the program's.
        #expect(Interpreter.decide([trace, Self.unameEPERM], uname) == (0x0005_0001, 1))
        #expect(Interpreter.decide([trace, Self.unameEPERM], getpid) == (0x7ff0_0007, 0))
        #expect(Interpreter.decide([allow, allow], getpid) == (0x7fff_0000, nil))
        // Equal actions: the newest filter's value.
        #expect(Interpreter.decide([eacces, Self.unameEPERM], uname) == (0x0005_0001, 1))
        #expect(Interpreter.decide([Self.unameEPERM, eacces], uname) == (0x0005_000d, 1))
        #expect(SeccompAction(0x0005_ffff) == .errno(4095))
        #expect(SeccompAction(0x0001_0000).refuses && SeccompAction.rank(0x8000_0000) < SeccompAction.rank(0))
        #expect(!SeccompAction(0x7fc0_0000).refuses && SeccompAction(0x0003_0002).describe(errnoName: { _ in nil }) == "TRAP(2)")
    }
}
