import Foundation
import Testing
import TraceModel
import Unwinding

let chainSources = ["chain_main.c", "chain_f0.c", "chain_f1.c", "chain_f2.c", "chain_f3.c"]
let chain = ["f3", "f2", "f1", "f0", "main"]

/// The libc function blocked in read(): its name depends on whether libc6-dbg's .symtab is found.
func isReadWrapper(_ s: String?) -> Bool {
    guard let s else { return false }
    return s == "read" || s == "__libc_read" || s == "__GI___libc_read" || s.hasSuffix("_read")
}

@Suite struct StackTests {
    @Test(arguments: UnwinderKind.allCases)
    func chainWithFramePointers(kind: UnwinderKind) throws {
        let exe = try FixtureBuilder.build("chain-fp", sources: chainSources,
                                           flags: ["-O0", "-g", "-fno-omit-frame-pointer"])
        let frames = try Tracee.run(exe) { StackWalker(kind: kind, maxDepth: 64).stack(pid: $0, tid: $0) }
        #expect(frames.hasConsecutive(chain), "\(frames.rendered)")
        #expect(isReadWrapper(frames.first?.symbol), "\(frames.rendered)")
        #expect(frames.dropFirst().first?.symbol == "f3", "\(frames.rendered)")
        // Every frame of the executable names its module and a file-relative offset.
        for f in frames where chain.contains(f.symbol ?? "") {
            #expect(f.module == exe)
            #expect(f.offset != nil)
        }
    }

    @Test(arguments: UnwinderKind.allCases)
    func chainWithoutFramePointers(kind: UnwinderKind) throws {
        let exe = try FixtureBuilder.build("chain-nofp", sources: chainSources,
                                           flags: ["-O2", "-g", "-fomit-frame-pointer"])
        let frames = try Tracee.run(exe) { StackWalker(kind: kind, maxDepth: 64).stack(pid: $0, tid: $0) }
        #expect(frames.hasConsecutive(chain), "\(frames.rendered)")
    }

    @Test func sourceLinesOnlyWithDebugInfo() throws {
        let withG = try FixtureBuilder.build("chain-g", sources: chainSources, flags: ["-O0", "-g"])
        let frames = try Tracee.run(withG) { StackWalker(kind: .libdw, maxDepth: 64).stack(pid: $0, tid: $0) }
        let f2 = try #require(frames.first { $0.symbol == "f2" }, "\(frames.rendered)")
        #expect(f2.file?.hasSuffix("chain_f2.c") == true, "\(frames.rendered)")
        #expect(f2.line == 5, "\(frames.rendered)")  // the call line in chain_f2.c, looked up at pc-1
        let f3 = try #require(frames.first { $0.symbol == "f3" })
        #expect(f3.file?.hasSuffix("chain_f3.c") == true)
        #expect(f3.line == 6)

        let noG = try FixtureBuilder.build("chain-nog", sources: chainSources, flags: ["-O0"])
        let plain = try Tracee.run(noG) { StackWalker(kind: .libdw, maxDepth: 64).stack(pid: $0, tid: $0) }
        let g2 = try #require(plain.first { $0.symbol == "f2" }, "\(plain.rendered)")
        #expect(g2.file == nil)
        #expect(g2.line == nil)
    }

    @Test(arguments: UnwinderKind.allCases)
    func strippedPIE(kind: UnwinderKind) throws {
        let full = try FixtureBuilder.build("chain-pie", sources: chainSources, flags: ["-O0", "-fPIE", "-pie"])
        let stripped = try FixtureBuilder.build("chain-pie-stripped", sources: chainSources,
                                                flags: ["-O0", "-fPIE", "-pie"], strip: true)
        let frames = try Tracee.run(stripped) { StackWalker(kind: kind, maxDepth: 64).stack(pid: $0, tid: $0) }
        #expect(isReadWrapper(frames.first?.symbol), "\(frames.rendered)")  // libc frames are named
        let own = frames.filter { $0.module == stripped }
        #expect(own.count >= 6, "\(frames.rendered)")  // f3 f2 f1 f0 main _start
        #expect(own.allSatisfy { $0.symbol == nil && $0.offset != nil && $0.file == nil }, "\(frames.rendered)")
        // The unnamed frames are exactly f3..main: their offsets (= link-time addresses in a gcc PIE) fall in
        // those functions of the unstripped twin, looked up at offset-1 (return addresses).
        for (f, name) in zip(own, chain) {
            let sym = try #require(ELFSymbols.lookup(name, inFile: full))
            let at = f.offset! - 1
            #expect(sym.value <= at && at < sym.value + sym.size, "\(name): \(frames.rendered)")
        }
    }

    @Test(arguments: UnwinderKind.allCases)
    func cxxNamesAreDemangled(kind: UnwinderKind) throws {
        let exe = try FixtureBuilder.build("cxx", sources: ["cxx_main.cpp"], flags: ["-O0", "-g"],
                                           compiler: "/usr/bin/g++")
        let frames = try Tracee.run(exe) { StackWalker(kind: kind, maxDepth: 64).stack(pid: $0, tid: $0) }
        #expect(frames.hasConsecutive(["shapes::Box<int>::wait(int, int)", "shapes::drive(int, double)", "main"]),
                "\(frames.rendered)")
    }

    /// The libunwind backend against libdw's: the same pcs on the same stopped thread.
    @Test(arguments: ["fp", "nofp", "pie-stripped", "cxx"])
    func unwindersAgree(variant: String) throws {
        let exe: String
        switch variant {
        case "fp": exe = try FixtureBuilder.build("x-fp", sources: chainSources, flags: ["-O0", "-g"])
        case "nofp": exe = try FixtureBuilder.build("x-nofp", sources: chainSources,
                                                    flags: ["-O2", "-fomit-frame-pointer"])
        case "pie-stripped": exe = try FixtureBuilder.build("x-pie", sources: chainSources,
                                                            flags: ["-O0", "-fPIE", "-pie"], strip: true)
        default: exe = try FixtureBuilder.build("x-cxx", sources: ["cxx_main.cpp"], flags: ["-O1"],
                                                compiler: "/usr/bin/g++")
        }
        let (a, b) = try Tracee.run(exe) { pid in
            (StackWalker(kind: .libdw, maxDepth: 64).pcs(pid: pid, tid: pid),
             StackWalker(kind: .libunwind, maxDepth: 64).pcs(pid: pid, tid: pid))
        }
        #expect(a.count >= 7)
        #expect(a == b, "libdw \(a.map { String($0, radix: 16) }) libunwind \(b.map { String($0, radix: 16) })")
    }

    @Test func siteIsStableAcrossRuns() throws {
        let exe = try FixtureBuilder.build("chain-site", sources: chainSources, flags: ["-O0", "-fPIE", "-pie"])
        let walker = StackWalker(kind: .libdw, maxDepth: 64)
        let one = try Tracee.run(exe) { walker.stack(pid: $0, tid: $0) }
        let two = try Tracee.run(exe) { walker.stack(pid: $0, tid: $0) }
        #expect(one.map(\.pc) != two.map(\.pc))  // ASLR moved everything
        #expect(Site.id(stack: one, syscall: "read", detail: nil) == Site.id(stack: two, syscall: "read", detail: nil))
    }

    /// The notify backend's case: the thread is not stopped, only rip/rsp (from /proc/PID/syscall) are known.
    @Test func fromProcSyscallRegisters() throws {
        // CFI whose CFA is rsp-based throughout (no frame pointer): rbp is not needed to find the callers.
        let exe = try FixtureBuilder.build("chain-notify", sources: chainSources,
                                           flags: ["-O2", "-g", "-fomit-frame-pointer"])
        let frames = try Tracee.run(exe, stop: false) { pid -> [Frame] in
            let fields = FixtureBuilder.readFile("/proc/\(pid)/syscall")!.split(separator: " ")
            let sp = UInt64(fields[7].dropFirst(2), radix: 16)!
            let pc = UInt64(fields[8].dropFirst(2).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)!
            return StackWalker(kind: .libdw, maxDepth: 64).stack(pid: pid, tid: pid, pc: pc, sp: sp)
        }
        #expect(frames.hasConsecutive(chain), "\(frames.rendered)")
    }

    @Test func depthZeroAndDepthLimit() throws {
        let exe = try FixtureBuilder.build("chain-depth", sources: chainSources, flags: ["-O0"])
        let (none, three) = try Tracee.run(exe) { pid in
            (StackWalker(kind: .libdw, maxDepth: 0).stack(pid: pid, tid: pid),
             StackWalker(kind: .libunwind, maxDepth: 3).stack(pid: pid, tid: pid))
        }
        #expect(none.isEmpty)
        #expect(three.count == 3)
        #expect(three.dropFirst().map(\.symbol) == ["f3", "f2"])
    }
}
