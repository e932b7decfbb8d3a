import CSeccomp
import CTestSupport
import Foundation
import SeccompBPF
import SeccompProfiles
import SyscallCatalog
import Testing

/// The interpreter and the validation agree with the kernel: the same program and the same `seccomp_data` go
/// through the kernel (installed in a forked child that then makes the call) and through `Interpreter`. Every
/// return of a program the kernel runs is first rewritten to ERRNO(its own index), so no call ever runs and the
/// errno names the return the kernel took.
@Suite("seccomp BPF: the interpreter against the kernel")
struct KernelAgreementTests {
    static let archX86_64: UInt32 = 0xC000_003E

    /// Each `ret #k` at index i becomes `ret #ERRNO(i)`.
    static func indexingReturns(_ p: [Instruction]) -> [Instruction] {
        p.enumerated().map { i, ins in
            ins.code == BPF.ret | BPF.k ? Instruction(code: ins.code, k: 0x0005_0000 | UInt32(i)) : ins
        }
    }

    static func bytes(_ p: [Instruction]) -> [UInt8] {
        var out: [UInt8] = []
        for i in p {
            out += [UInt8(i.code & 0xff), UInt8(i.code >> 8), i.jt, i.jf]
            out += withUnsafeBytes(of: i.k.littleEndian, Array.init)
        }
        return out
    }

    /// The kernel's outcome of each call: the errno (the rewritten return's index, or A's low 12 bits for
    /// `ret a`), 0 for ERRNO(0), -1 when the call killed the caller; or the install's -errno.
    struct InstallError: Error { let errno: Int32 }

    static func kernel(_ program: [Instruction], _ calls: [SeccompData]) -> Result<[Int32], InstallError> {
        let code = bytes(program)
        let nrs = calls.map { Int($0.nr) }
        let args = calls.flatMap { $0.args.map { UInt($0) } }
        var out = [Int32](repeating: -3, count: calls.count)
        let rc = code.withUnsafeBytes { ct_test_seccomp_run($0.baseAddress, UInt16(program.count), nrs, args, Int32(calls.count), &out) }
        return rc == 0 ? .success(out) : .failure(InstallError(errno: -rc))
    }

    /// What the interpreter says the kernel does with the rewritten program: the errno, or -1 for a kill.
    static func interpreted(_ program: [Instruction], _ d: SeccompData) -> Int32 {
        switch SeccompAction(Interpreter.run(program, d)) {
        case .errno(let e): return Int32(e)
        case .killThread, .killProcess: return -1
        default: return -2  // never returned by these programs
        }
    }

    // MARK: Docker's default profile, compiled by libseccomp

    static func compileWithLibseccomp(_ profile: Profile) throws -> [Instruction] {
        func act(_ a: SeccompProfiles.Action, _ ret: UInt32?) -> UInt32 {
            switch a {
            case .allow: return 0x7fff_0000
            case .errno: return 0x0005_0000 | ((ret ?? 1) & 0xffff)
            case .kill, .killThread: return 0
            case .killProcess: return 0x8000_0000
            case .trap: return 0x0003_0000
            case .trace: return 0x7ff0_0000 | ((ret ?? 0) & 0xffff)
            case .log: return 0x7ffc_0000
            case .notify: return 0x7fc0_0000
            }
        }
        func op(_ o: Operator) -> scmp_compare {
            switch o {
            case .notEqual: return SCMP_CMP_NE
            case .lessThan: return SCMP_CMP_LT
            case .lessOrEqual: return SCMP_CMP_LE
            case .equal: return SCMP_CMP_EQ
            case .greaterOrEqual: return SCMP_CMP_GE
            case .greaterThan: return SCMP_CMP_GT
            case .maskedEqual: return SCMP_CMP_MASKED_EQ
            }
        }
        let resolved = profile.resolved()
        guard let ctx = seccomp_init(act(profile.defaultAction, profile.defaultErrnoRet)) else { throw CompileError() }
        defer { seccomp_release(ctx) }
        for index in resolved.activeEntries {
            let e = profile.syscalls[index]
            for name in e.names {
                let nr = seccomp_syscall_resolve_name(name)
                guard nr != __NR_SCMP_ERROR else { continue }
                for alt in e.alternatives.isEmpty ? [[]] : e.alternatives {
                    let cmps = alt.map { scmp_arg_cmp(arg: UInt32($0.index), op: op($0.op), datum_a: $0.value, datum_b: $0.valueTwo) }
                    _ = cmps.withUnsafeBufferPointer {
                        seccomp_rule_add_array(ctx, act(e.action, e.errnoRet), nr, UInt32($0.count), $0.baseAddress)
                    }
                }
            }
        }
        var name = Array("/tmp/captrace-bpf-XXXXXX".utf8CString)
        let fd = mkstemp(&name)
        _ = name.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        guard fd >= 0 else { throw CompileError() }
        defer { close(fd) }
        guard seccomp_export_bpf(ctx, fd) == 0 else { throw CompileError() }
        let size = lseek(fd, 0, SEEK_END)
        var raw = [UInt8](repeating: 0, count: Int(size))
        guard pread(fd, &raw, raw.count, 0) == raw.count else { throw CompileError() }
        return stride(from: 0, to: raw.count, by: 8).map { Instruction(bytes: raw[$0..<$0 + 8]) }
    }

    struct CompileError: Error {}

    @Test("Docker's default profile compiled by libseccomp: every x86_64 syscall, with arguments its rules test")
    func dockerDefault() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../SeccompProfilesTests/Fixtures/docker-default.json")
        let profile = try Profile.load(json: try String(contentsOf: url, encoding: .utf8)).profile
        let program = try Self.compileWithLibseccomp(profile)
        try Validation.check(program)
        #expect(program.count > 100, "\(program.count) instructions")
        var calls: [SeccompData] = []
        let argSets: [[UInt64]] = [
            [], [0x1000_0000], [0x7E02_0000], [8], [0x20000], [0xffff_ffff], [0x0040_0000 | 0x11],
            [40, 1, 0], [16, 3, 0], [0, 0x8_0000_0000], [0xffff_ffff_ffff_ffff, 0, 0, 0, 0, 0xffff],
        ]
        // uretprobe (335) and uprobe (336) are left out: the kernel runs them without consulting any filter
        // (`SeccompData.bypassesFilters`; outside a uprobe trampoline the call then kills the caller or fails with
        // ENXIO), so its answer is not the filter's.
        for nr in 0..<470 where !SeccompData(nr: Int32(nr), arch: Self.archX86_64).bypassesFilters { for a in argSets { calls.append(SeccompData(nr: Int32(nr), arch: Self.archX86_64, args: a)) } }
        for nr in [0, 59, 512, 547] { calls.append(SeccompData(nr: Int32(0x4000_0000 | nr), arch: Self.archX86_64)) }
        let rewritten = Self.indexingReturns(program)
        let kernel = try Self.kernel(rewritten, calls).get()
        var refused = 0
        for (i, d) in calls.enumerated() {
            #expect(kernel[i] == Self.interpreted(rewritten, d), "nr \(d.nr) args \(d.args): kernel \(kernel[i])" as Comment)
            // The original program's value is the return the kernel took.
            if kernel[i] >= 0 {
                #expect(Interpreter.run(program, d) == program[Int(kernel[i])].k)
                if SeccompAction(program[Int(kernel[i])].k).refuses { refused += 1 }
            }
        }
        // What the kernel does with them: the call runs (seen as a kill or ENXIO here), whatever the filter says.
        let bypass = [335, 336].map { SeccompData(nr: Int32($0), arch: Self.archX86_64) }
        let ran = try Self.kernel(rewritten, bypass).get()
        #expect(bypass.allSatisfy(\.bypassesFilters) && zip(bypass, ran).allSatisfy { Self.interpreted(rewritten, $0) != $1 }, "\(ran)")
        #expect(refused > 100, "the profile refuses \(refused) of \(calls.count) calls")
        // The profile's decision of a few calls, as Docker documents them.
        let unshare = SeccompData(nr: 272, arch: Self.archX86_64, args: [0x1000_0000])
        #expect(SeccompAction(Interpreter.run(program, unshare)) == .errno(1))
        let getpid = SeccompData(nr: 39, arch: Self.archX86_64)
        #expect(SeccompAction(Interpreter.run(program, getpid)) == .allow)
    }

    // MARK: random programs

    /// A small deterministic generator (xorshift), so a failure can be replayed from its seed.
    struct Rand {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
        mutating func word() -> UInt32 {
            switch below(4) {
            case 0: return UInt32(below(8))
            case 1: return pick([0, 1, 31, 32, 0x40000000, 0x7fff0000, 0x80000000, 0xffffffff])
            default: return UInt32(truncatingIfNeeded: next())
            }
        }
    }

    /// A random program of seccomp's instructions (sometimes invalid: a bad offset, scratch word, shift or
    /// division by constant 0, an unwritten scratch word) ending in `and #0xfff; or #ERRNO; ret a`, with returns
    /// of constants in between. Loads avoid the instruction pointer (the child's is not known here).
    static func randomProgram(_ r: inout Rand, invalid: Bool) -> [Instruction] {
        let body = 4 + r.below(28)
        var p: [Instruction] = []
        let offsets: [UInt32] = [0, 4] + Array(stride(from: UInt32(16), to: 64, by: 4))
        let alu = [BPF.add, BPF.sub, BPF.mul, BPF.div, BPF.and, BPF.or, BPF.xor, BPF.lsh, BPF.rsh]
        var written: Set<UInt32> = []
        for pc in 0..<body {
            let remaining = body + 3 - pc - 1  // instructions after this one (the tail included)
            var i: Instruction
            switch r.below(12) {
            case 0, 1: i = Instruction(code: BPF.ld | BPF.w | BPF.abs, k: invalid && r.below(8) == 0 ? UInt32(r.below(70)) : r.pick(offsets))
            case 2: i = Instruction(code: r.pick([BPF.ld | BPF.imm, BPF.ldx | BPF.imm]), k: r.word())
            case 3:
                let op = r.pick(alu)
                var k = r.word()
                if !invalid {
                    if op == BPF.div, k == 0 { k = 3 }
                    if op == BPF.lsh || op == BPF.rsh { k &= 31 }
                }
                i = Instruction(code: BPF.alu | op | (r.below(2) == 0 ? BPF.k : BPF.x), k: k)
            case 4: i = Instruction(code: r.pick([BPF.alu | BPF.neg, BPF.misc | BPF.tax, BPF.misc | BPF.txa,
                                                  BPF.ld | BPF.w | BPF.len, BPF.ldx | BPF.w | BPF.len]))
            case 5:
                let k = UInt32(invalid && r.below(6) == 0 ? 16 + r.below(3) : r.below(16))
                i = Instruction(code: r.pick([BPF.st, BPF.stx]), k: k)
                written.insert(k)
            case 6:
                let k = invalid || written.isEmpty ? UInt32(r.below(16)) : r.pick(Array(written))
                i = Instruction(code: r.pick([BPF.ld | BPF.mem, BPF.ldx | BPF.mem]), k: k)
            case 7, 8, 9:
                let op = r.pick([BPF.jeq, BPF.jgt, BPF.jge, BPF.jset])
                // Targets before the tail, so that `ret a` is always reached through the mask.
                let room = max(0, remaining - 3)
                i = Instruction(code: BPF.jmp | op | (r.below(2) == 0 ? BPF.k : BPF.x),
                                jt: UInt8(r.below(room + 1)), jf: UInt8(r.below(room + 1)), k: r.word())
                if invalid && r.below(10) == 0 { i.jt = UInt8(remaining) }
            case 10: i = Instruction(code: BPF.jmp | BPF.ja, k: UInt32(r.below(max(0, remaining - 3) + 1)))
            default: i = Instruction(code: BPF.ret | BPF.k, k: 0x7fff_0000)
            }
            if invalid && r.below(40) == 0 { i = Instruction(code: r.pick([BPF.alu | BPF.mod | BPF.k, BPF.ld | BPF.h | BPF.abs, 0x07 | 0x10]), k: 4) }
            p.append(i)
        }
        p += [Instruction(code: BPF.alu | BPF.and | BPF.k, k: 0xfff), Instruction(code: BPF.alu | BPF.or | BPF.k, k: 0x0005_0000),
              Instruction(code: BPF.ret | BPF.a)]
        return p
    }

    static func randomCalls(_ r: inout Rand, count: Int) -> [SeccompData] {
        (0..<count).map { _ in
            SeccompData(nr: Int32(r.pick([0, 1, 2, 39, 59, 63, 231, 272, 435, 1000, r.below(500)])), arch: archX86_64,
                        args: (0..<6).map { _ in r.below(3) == 0 ? UInt64(r.word()) : r.next() })
        }
    }

    @Test("random programs: the kernel and the interpreter return the same, and refuse the same programs")
    func randomPrograms() throws {
        var r = Rand(s: 0x9E37_79B9_7F4A_7C15)
        var ran = 0, refusedByBoth = 0, killed = 0
        for n in 0..<400 {
            let invalid = n % 3 == 2
            let program = Self.indexingReturns(Self.randomProgram(&r, invalid: invalid))
            let calls = Self.randomCalls(&r, count: 24)
            let ours: ValidationError?
            do { try Validation.check(program); ours = nil } catch { ours = error }
            switch Self.kernel(program, calls) {
            case .failure(let failure):
                let e = failure.errno
                #expect(e == EINVAL, "install failed with errno \(e)")
                #expect(ours != nil, "program \(n): the kernel refused it, the validation accepted it\n\(Disassembler.lines(program).joined(separator: "\n"))" as Comment)
                refusedByBoth += ours != nil ? 1 : 0
            case .success(let out):
                #expect(ours == nil, "program \(n): the kernel accepted it, the validation said \(ours.map { "\($0)" } ?? "")\n\(Disassembler.lines(program).joined(separator: "\n"))" as Comment)
                guard ours == nil else { continue }
                ran += 1
                for (i, d) in calls.enumerated() {
                    if out[i] == -1 { killed += 1 }
                    #expect(out[i] == Self.interpreted(program, d),
                            "program \(n), call \(i) nr \(d.nr) args \(d.args): kernel \(out[i]), interpreter \(Self.interpreted(program, d))\n\(Disassembler.lines(program).joined(separator: "\n"))" as Comment)
                }
            }
        }
        #expect(ran > 150 && refusedByBoth > 30, "ran \(ran), refused \(refusedByBoth)")
        #expect(killed > 0, "no division by a zero X: the kill path was not exercised")
    }
}
