import CTestSupport
import Foundation
import Testing
import TraceModel
import Unwinding

/// Libraries, dlopen after entry, threads, int 0x80 and Swift: one fixture program per scenario.
@Suite struct ScenarioTests {
    static func library(_ name: String, _ source: String) throws -> String {
        try FixtureBuilder.build(name, sources: [source], flags: ["-O1", "-g", "-shared", "-fPIC"])
    }

    static func modes() throws -> (exe: String, dl: String) {
        let shared = try library("libstackshared.so", "lib_shared.c")
        let dl = try library("libstackdl.so", "lib_dlopen.c")
        _ = shared
        let exe = try FixtureBuilder.build("modes", sources: ["modes_main.c"], flags: ["-O1", "-g"],
            libs: ["-L" + FixtureBuilder.outDir, "-lstackshared", "-Wl,-rpath," + FixtureBuilder.outDir,
                   "-ldl", "-pthread"])
        return (exe, dl)
    }

    @Test(arguments: UnwinderKind.allCases)
    func functionInSharedLibrary(kind: UnwinderKind) throws {
        let (exe, _) = try Self.modes()
        let frames = try Tracee.run(exe, args: ["lib"]) {
            StackWalker(kind: kind, maxDepth: 64).stack(pid: $0, tid: $0)
        }
        #expect(frames.hasConsecutive(["lib_inner", "lib_entry", "main"]), "\(frames.rendered)")
        let inner = try #require(frames.first { $0.symbol == "lib_inner" })
        #expect(inner.module == FixtureBuilder.outDir + "/libstackshared.so")
        #expect(inner.file?.hasSuffix("lib_shared.c") == true)
    }

    /// The walker first sees the process before the library exists, then must notice the new mapping.
    @Test(arguments: UnwinderKind.allCases)
    func libraryOpenedWithDlopenAfterEntry(kind: UnwinderKind) throws {
        let (exe, dl) = try Self.modes()
        let (pid, fd) = try Tracee.start(exe, args: ["dlopen", dl])
        defer { ct_test_kill(pid); close(fd) }
        let walker = StackWalker(kind: kind, maxDepth: 64)
        try Tracee.awaitReady(fd)
        try Tracee.awaitBlocked(pid: pid, tid: pid, nr: 34)  // pause
        try #require(ct_test_seize_and_stop(pid) == 0)
        let before = walker.stack(pid: pid, tid: pid)
        #expect(before.contains { $0.symbol == "main" }, "\(before.rendered)")
        try #require(ct_test_detach(pid) == 0)
        kill(pid, SIGUSR1)
        try Tracee.awaitReady(fd)
        try Tracee.awaitBlocked(pid: pid, tid: pid, nr: 0)
        try #require(ct_test_seize_and_stop(pid) == 0)
        let after = walker.stack(pid: pid, tid: pid)
        _ = ct_test_detach(pid)
        #expect(after.hasConsecutive(["dl_inner", "dl_entry", "main"]), "\(after.rendered)")
        #expect(after.first { $0.symbol == "dl_inner" }?.module == dl)
    }

    @Test(arguments: UnwinderKind.allCases)
    func threadStack(kind: UnwinderKind) throws {
        let (exe, _) = try Self.modes()
        let (frames, tid, pid) = try Tracee.runThread(exe, args: ["thread"]) { pid, tid in
            (StackWalker(kind: kind, maxDepth: 64).stack(pid: pid, tid: tid), tid, pid)
        }
        #expect(tid != pid)
        #expect(frames.hasConsecutive(["t_work", "thread_main"]), "\(frames.rendered)")
        #expect(!frames.contains { $0.symbol == "main" })
        #expect(frames.contains { $0.symbol == "start_thread" }, "\(frames.rendered)")
    }

    @Test(arguments: UnwinderKind.allCases)
    func int80FromA64BitProgram(kind: UnwinderKind) throws {
        let (exe, _) = try Self.modes()
        let frames = try Tracee.run(exe, args: ["int80"], blockedIn: 3) {
            StackWalker(kind: kind, maxDepth: 64).stack(pid: $0, tid: $0)
        }
        // The innermost pc is the instruction after `int $0x80`, inside legacy_read itself.
        #expect(frames.first?.symbol == "legacy_read", "\(frames.rendered)")
        #expect(frames.hasConsecutive(["legacy_read", "main"]), "\(frames.rendered)")
    }

    @Test(arguments: UnwinderKind.allCases)
    func swiftNamesAreDemangled(kind: UnwinderKind) throws {
        let exe = try FixtureBuilder.build("swiftfix", sources: ["swift_main.swift"], flags: ["-Onone", "-g"],
                                           compiler: "/opt/swift/usr/bin/swiftc")
        let frames = try Tracee.run(exe) { StackWalker(kind: kind, maxDepth: 64).stack(pid: $0, tid: $0) }
        let names = frames.names
        #expect(names.contains { $0.hasPrefix("swiftfix.Waiter.block(times: Swift.Int) -> Swift.Int") },
                "\(frames.rendered)")
        #expect(names.contains { $0.hasPrefix("swiftfix.startWaiting(on: Swift.Int32) -> Swift.Int") },
                "\(frames.rendered)")
    }
}
