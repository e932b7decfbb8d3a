// A call capability mode judges by the number it names (a pid, a group, a clock) stops only when no sound filter
// shortcut of the standard policy passes it (FilterBuilder.selfTargetTraps): the compiled program, run by the BPF
// interpreter, must pass exactly what those shortcuts pass and trap the rest; under `--syscalls` (every call
// traps) the loop's CountingConditions must tell the same calls apart.
import CSeccomp
import CTraceShims
import CapabilityPolicy
import SeccompBPF
import SyscallCatalog
import Testing
@testable import Supervisor

@Suite struct SelfTargetFilterTests {
    static let policyTrap = 0x7ff0_0000 | UInt32(FilterBuilder.Tag.policy.rawValue)
    static let allow: UInt32 = 0x7fff_0000

    static func program(enforce: Bool = false) throws -> [Instruction] {
        var bpf = try FilterBuilder.build(trigger: .exec, enforce: enforce, action: .trace, cache: nil)
        defer { ct_bpf_free(&bpf) }
        let b = bytes(bpf)
        return stride(from: 0, to: b.count, by: 8).map { Instruction(bytes: b[$0..<$0 + 8]) }
    }

    static func decide(_ program: [Instruction], _ abi: ABI, _ name: String, _ args: [UInt64]) throws -> UInt32 {
        let nr = try #require(Catalog.shared.number(of: name, abi: abi), "\(abi) \(name)")
        let arch = abi == .i386 ? FilterBuilder.archI386 : FilterBuilder.archX86_64
        let raw = Int32(abi == .x32 ? nr | FilterBuilder.x32Bit : nr)
        return Interpreter.decide([program], SeccompData(nr: raw, arch: arch, instructionPointer: 0, args: args)).value
    }

    @Test("the caller itself passes; another process, a group or a process's clock stops")
    func selfPassesOthersTrap() throws {
        let other: UInt64 = 4321
        let cases: [(ABI, String, [UInt64], Bool)] = [
            (.x86_64, "prlimit64", [0, 3, 0, 0x7ff0, 0, 0], false),  // glibc's getrlimit(RLIMIT_STACK) at start-up
            (.x86_64, "prlimit64", [other, 3, 0, 0x7ff0, 0, 0], true),
            (.i386, "prlimit64", [0, 3, 0, 0x7ff0, 0, 0], false),
            (.i386, "prlimit64", [other, 3, 0, 0x7ff0, 0, 0], true),
            (.x86_64, "sched_getaffinity", [0, 128, 0x7ff0, 0, 0, 0], false),
            (.x86_64, "sched_getaffinity", [other, 128, 0x7ff0, 0, 0, 0], true),
            (.x86_64, "getpriority", [0, 0, 0, 0, 0, 0], false),  // PRIO_PROCESS, who 0
            (.x86_64, "getpriority", [0, other, 0, 0, 0, 0], true),
            (.x86_64, "getpriority", [1, 0, 0, 0, 0, 0], true),  // PRIO_PGRP: the caller's group
            (.x86_64, "setpgid", [0, 0, 0, 0, 0, 0], false),
            (.x86_64, "setpgid", [0, other, 0, 0, 0, 0], true),
            (.x86_64, "clock_nanosleep", [1, 0, 0x7ff0, 0, 0, 0], false),  // CLOCK_MONOTONIC
            (.x86_64, "clock_gettime", [UInt64(bitPattern: Int64(~Int64(other) << 3 | 2)), 0x7ff0, 0, 0, 0, 0], true),
            (.x86_64, "clock_gettime", [0xffff_ffe2, 0x7ff0, 0, 0, 0, 0], true),  // a negative id, zero-extended
            (.x86_64, "sendto", [3, 0x7ff0, 10, 0, 0, 0], false),  // send(): no address
            (.x86_64, "sendto", [3, 0x7ff0, 10, 0, 0x7fe0, 16], true),
            (.x86_64, "kill", [0, 15, 0, 0, 0, 0], true),  // no shortcut: pid 0 is the group
        ]
        for enforce in [false, true] {
            let p = try Self.program(enforce: enforce)
            for (abi, name, args, traps) in cases {
                #expect(try Self.decide(p, abi, name, args) == (traps ? Self.policyTrap : Self.allow),
                        "enforce \(enforce): \(abi) \(name) \(args)")
            }
        }
    }

    /// On many register sets, the filter passes a call exactly when one of the shortcuts it was built from passes
    /// it (and the `--syscalls` loop agrees), for every call that has such a shortcut, in every ABI.
    @Test("the filter passes what the sound shortcuts pass, and nothing else")
    func agreesWithTheShortcuts() throws {
        let p = try Self.program()
        let counting = CountingConditions(FilterBuilder.rules(trigger: .exec, enforce: false, action: .trace, counting: true))
        var seed: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let small: [UInt64] = [0, 1, 2, 3, 1000, 0xFFFF_FFFF, 0x8000_0000, 0xFFFF_FFFF_FFFF_FFFE]
            return seed >> 61 < 5 ? small[Int(seed >> 33) % small.count] : seed
        }
        var names = 0, checked = 0
        for abi in ABI.allCases {
            for (nr, sc) in Catalog.shared.entries(abi: abi) {
                guard FilterBuilder.plan(trigger: .exec)[sc.name] == .policy,
                      FilterBuilder.selfTargetTraps(sc, abi: abi) != nil else { continue }
                let shortcuts = CapabilityPolicy.standard.filterShortcuts(for: sc.name, abi: abi)
                    .filter { $0.sound && $0.unless == nil }
                names += 1
                for k in 0..<200 {
                    var args = (0..<6).map { _ in next() }
                    if k % 2 == 0, let s = shortcuts.randomElement() {
                        for t in s.tests {  // make one shortcut hold, other bits random
                            switch t.op {
                            case .equal: args[t.index] = t.value
                            case .maskedEqual(let mask): args[t.index] = (args[t.index] & ~mask) | t.value
                            }
                        }
                    }
                    if abi == .i386 { args = args.map { $0 & 0xffff_ffff } }  // what a 32-bit filter sees
                    // A shortcut with a test BPF cannot turn around is left out: such calls trap.
                    let passes = shortcuts.contains { s in
                        s.tests.allSatisfy { t in
                            if case .maskedEqual(let mask) = t.op { return mask.nonzeroBitCount <= 8 }
                            return true
                        } && s.passes(args)
                    }
                    #expect(try Self.decide(p, abi, sc.name, args) == (passes ? Self.allow : Self.policyTrap),
                            "\(abi) \(sc.name) \(args)")
                    let tag = counting.effective([.policy, .count, .conditional], abi: abi, nr: nr, args: args)
                    #expect(tag == (passes ? .count : [.policy, .count]), "--syscalls: \(abi) \(sc.name) \(args)")
                    checked += 1
                }
            }
        }
        #expect(names >= 30, "calls with a shortcut: \(names)")
        #expect(checked > 0)
    }
}
