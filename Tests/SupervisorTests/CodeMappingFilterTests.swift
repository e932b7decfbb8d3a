// With stacks the filter also stops the calls that can map code where other code was (FilterBuilder.Tag.mappings,
// codeMappingTests), with the same argument tests the loops apply (FilterBuilder.mapsCode): the compiled program,
// run by the BPF interpreter, must trap exactly those.
import CTraceShims
import SeccompBPF
import SyscallCatalog
import Testing
@testable import Supervisor

@Suite struct CodeMappingFilterTests {
    static func program(mappings: Bool) throws -> [Instruction] {
        var bpf = try FilterBuilder.build(trigger: .exec, enforce: false, action: .trace, mappings: mappings, cache: nil)
        defer { ct_bpf_free(&bpf) }
        let b = bytes(bpf)
        return stride(from: 0, to: b.count, by: 8).map { Instruction(bytes: b[$0..<$0 + 8]) }
    }

    @Test("mmap and mprotect with PROT_EXEC, mremap, i386's old mmap trap; other mappings do not")
    func trapsExactlyCodeMappings() throws {
        let on = try Self.program(mappings: true), off = try Self.program(mappings: false)
        let trace = 0x7ff0_0000 | UInt32(FilterBuilder.Tag.mappings.rawValue), allow: UInt32 = 0x7fff_0000
        let (read, exec): (UInt64, UInt64) = (1, 5)  // PROT_READ, PROT_READ|PROT_EXEC
        let cases: [(ABI, String, [UInt64], Bool)] = [
            (.x86_64, "mmap", [0, 4096, read, 2, 3, 0], false),
            (.x86_64, "mmap", [0, 4096, exec, 2, 3, 0], true),
            (.x86_64, "mprotect", [0x1000, 4096, read, 0, 0, 0], false),
            (.x86_64, "mprotect", [0x1000, 4096, exec, 0, 0, 0], true),
            (.x86_64, "pkey_mprotect", [0x1000, 4096, exec, 1, 0, 0], true),
            (.x86_64, "mremap", [0x1000, 4096, 8192, 1, 0, 0], true),
            (.x86_64, "munmap", [0x1000, 4096, 0, 0, 0, 0], false),
            (.i386, "mmap", [0xffd0_0000, 0, 0, 0, 0, 0], true),  // old_mmap: its arguments are in memory
            (.i386, "mmap2", [0, 4096, exec, 2, 3, 0], true),
            (.i386, "mmap2", [0, 4096, read, 2, 3, 0], false),
            (.x32, "mmap", [0, 4096, exec, 2, 3, 0], true),
        ]
        for (abi, name, args, traps) in cases {
            let nr = try #require(Catalog.shared.number(of: name, abi: abi), "\(abi) \(name)")
            let arch = abi == .i386 ? FilterBuilder.archI386 : FilterBuilder.archX86_64  // x32: the number's bit 30
            let raw = Int32(abi == .x32 ? nr | FilterBuilder.x32Bit : nr)
            let data = SeccompData(nr: raw, arch: arch, instructionPointer: 0, args: args)
            #expect(Interpreter.decide([on], data).value == (traps ? trace : allow), "\(abi) \(name) \(args)")
            #expect(Interpreter.decide([off], data).value == allow, "without stacks: \(abi) \(name) \(args)")
            #expect(FilterBuilder.mapsCode(name, abi: abi, args: args) == traps, "mapsCode \(abi) \(name) \(args)")
        }
    }
}
