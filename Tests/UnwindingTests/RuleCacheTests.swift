import CTestSupport
import Foundation
import Testing
import TraceModel
import Unwinding

/// The per-pc rule cache (unwind.c) replays libdw's unwind step from rules kept by module file and address. Its
/// walks must give exactly libdw's own frames: compared pc for pc against a walker with the cache off, on the
/// same stopped thread, in two processes of each program (ASLR maps them elsewhere: the second one's walks reuse
/// the rules the first one cached), with all registers (ptrace) and from rip/rsp only (notify).
@Suite struct RuleCacheTests {
    static func program(_ variant: String) throws -> String {
        switch variant {
        case "fp": return try FixtureBuilder.build("rc-fp", sources: chainSources, flags: ["-O0", "-g"])
        case "nofp": return try FixtureBuilder.build("rc-nofp", sources: chainSources, flags: ["-O2", "-fomit-frame-pointer"])
        case "pie-stripped": return try FixtureBuilder.build("rc-pie", sources: chainSources,
                                                               flags: ["-O0", "-fPIE", "-pie"], strip: true)
        default: return try FixtureBuilder.build("rc-cxx", sources: ["cxx_main.cpp"], flags: ["-O1"],
                                                 compiler: "/usr/bin/g++")
        }
    }

    static func hex(_ pcs: [UInt64]) -> String { pcs.map { String($0, radix: 16) }.joined(separator: " ") }

    @Test(arguments: ["fp", "nofp", "pie-stripped", "cxx"])
    func stoppedThreadSameFramesAsLibdw(variant: String) throws {
        let exe = try Self.program(variant)
        let cached = StackWalker(kind: .libdw, maxDepth: 64)
        for _ in 0..<2 {
            let before = cached.ruleCacheWalks
            let (a, b) = try Tracee.run(exe) { pid in
                (cached.pcs(pid: pid, tid: pid),
                 StackWalker(kind: .libdw, maxDepth: 64, ruleCache: false).pcs(pid: pid, tid: pid))
            }
            #expect(a.count >= 7, "\(Self.hex(a))")
            #expect(a == b, "cached \(Self.hex(a)) libdw \(Self.hex(b))")
            #expect(cached.ruleCacheWalks > before, "the walk was not replayed from cached rules")
        }
    }

    @Test(arguments: ["fp", "nofp", "cxx"])
    func fromProcSyscallRegistersSameFramesAsLibdw(variant: String) throws {
        let exe = try Self.program(variant)
        let cached = StackWalker(kind: .libdw, maxDepth: 64)
        for _ in 0..<2 {
            let before = cached.ruleCacheWalks
            let (a, b) = try Tracee.run(exe, stop: false) { pid -> ([UInt64], [UInt64]) in
                let fields = FixtureBuilder.readFile("/proc/\(pid)/syscall")!.split(separator: " ")
                let sp = UInt64(fields[7].dropFirst(2), radix: 16)!
                let pc = UInt64(fields[8].dropFirst(2).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)!
                return (cached.stack(pid: pid, tid: pid, pc: pc, sp: sp).map(\.pc),
                        StackWalker(kind: .libdw, maxDepth: 64, ruleCache: false)
                            .stack(pid: pid, tid: pid, pc: pc, sp: sp).map(\.pc))
            }
            #expect(a.count >= 2, "\(Self.hex(a))")
            #expect(a == b, "cached \(Self.hex(a)) libdw \(Self.hex(b))")
            #expect(cached.ruleCacheWalks > before, "the walk was not replayed from cached rules")
        }
    }

    /// A new image's first walk, at its exec stop (in its loader), looks up the few mappings it needs
    /// (PROCMAP_QUERY) instead of reading the whole /proc/PID/maps text, and gives the frames, modules and
    /// offsets included, that a walk over the whole table gives. A process first walked without being told of
    /// an exec (in mid-life) reads the whole text.
    @Test(arguments: ["/usr/bin/true", "/usr/bin/python3"])
    func newImageLooksUpItsMappings(program: String) throws {
        for _ in 0..<2 {
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), nil]
            defer { argv.forEach { free($0) } }
            let pid = ct_test_spawn_stopped_at_exec(program, argv)
            try #require(pid > 0, "\(program) could not be started stopped at its exec")
            defer { ct_test_kill(pid) }
            let cached = StackWalker(kind: .libdw, maxDepth: 64)
            cached.processExeced(pid: pid)  // as the supervisor says at the exec event
            let a = cached.stack(pid: pid, tid: pid)
            let b = StackWalker(kind: .libdw, maxDepth: 64, ruleCache: false).stack(pid: pid, tid: pid)
            #expect(a.first?.module?.contains("ld-linux") == true, "\(a.rendered)")
            #expect(a == b, "looked up:\n\(a.rendered)\nwhole table:\n\(b.rendered)")
            #expect(cached.ruleCacheWalks > 0, "the walk was not replayed from cached rules")
            #expect(cached.mapsTextReads == 0, "the whole maps text was read")
            let untold = StackWalker(kind: .libdw, maxDepth: 64)
            #expect(untold.stack(pid: pid, tid: pid) == a)
            #expect(untold.mapsTextReads == 1)
        }
    }

    /// Symbolised frames (module, offset, names) of replayed walks are those of libdw's walks over the whole
    /// table of mappings, whether the replayed walk's mappings were looked up one by one or read whole.
    @Test(arguments: ["fp", "nofp", "cxx"])
    func stoppedThreadSameNamedFramesAsLibdw(variant: String) throws {
        let exe = try Self.program(variant)
        let cached = StackWalker(kind: .libdw, maxDepth: 64)
        for _ in 0..<2 {
            let (a, b) = try Tracee.run(exe) { pid in
                (cached.stack(pid: pid, tid: pid),
                 StackWalker(kind: .libdw, maxDepth: 64, ruleCache: false).stack(pid: pid, tid: pid))
            }
            #expect(a.count >= 7, "\(a.rendered)")
            #expect(a == b, "cached:\n\(a.rendered)\nlibdw:\n\(b.rendered)")
        }
    }

    /// A depth limit ends the replayed walk where libdw's ends.
    @Test func depthLimit() throws {
        let exe = try Self.program("fp")
        for depth in [1, 2, 3, 5] {
            let cached = StackWalker(kind: .libdw, maxDepth: depth)
            let (a, b) = try Tracee.run(exe) { pid in
                (cached.pcs(pid: pid, tid: pid),
                 StackWalker(kind: .libdw, maxDepth: depth, ruleCache: false).pcs(pid: pid, tid: pid))
            }
            #expect(a.count == depth)
            #expect(cached.ruleCacheWalks == 1)
            #expect(a == b, "depth \(depth): cached \(Self.hex(a)) libdw \(Self.hex(b))")
        }
    }
}
