import Foundation
import Testing
import TraceModel
import Unwinding

/// The notify backend's walks from rsp and rip scan the stack for rbp where a caller is found through a frame
/// pointer; what a scan finds is kept across runs in a file (rbp_memo in unwind.c). These run a real process
/// parked in read() whose callers have frame pointers, and walk it as the notify backend does. Serialized: the
/// memo and its file are one per process (other suites' walks may add their own programs' records meanwhile).
@Suite(.serialized) struct ScanMemoTests {
    /// The stack, and how many scans its walk made.
    static func notifyWalk(_ exe: String) throws -> (frames: [Frame], scans: Int) {
        let w = try notifyWalker(exe)
        return (w.frames, w.walker.stackScans)
    }

    /// The stack, and the walker that walked it (for its counters).
    static func notifyWalker(_ exe: String) throws -> (frames: [Frame], walker: StackWalker) {
        try Tracee.run(exe, stop: false) { pid in
            let fields = FixtureBuilder.readFile("/proc/\(pid)/syscall")!.split(separator: " ")
            let sp = UInt64(fields[7].dropFirst(2), radix: 16)!
            let pc = UInt64(fields[8].dropFirst(2).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)!
            let walker = StackWalker(kind: .libdw, maxDepth: 64)
            let frames = walker.stack(pid: pid, tid: pid, pc: pc, sp: sp)
            return (frames, walker)
        }
    }

    static func placed(_ frames: [Frame]) -> [String] { frames.map { "\($0.module ?? "?")+\($0.offset ?? 0)" } }

    /// A fixture of its own (`name`: the test may change it) whose callers have frame pointers, and a memo file
    /// path in a fresh directory; afterwards the directory is removed and scans are kept nowhere.
    static func withFixture(_ name: String, _ body: (_ exe: String, _ file: String) throws -> Void) throws {
        let exe = try FixtureBuilder.build(name, sources: chainSources, flags: ["-O0", "-g", "-fno-omit-frame-pointer"])
        let dir = FixtureBuilder.outDir + "/memo-\(name)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir); StackWalker.keepScans(in: nil) }
        try body(exe, dir + "/rbp-memo")
    }

    @Test("a second run walks the same stack without scanning; a changed module is scanned again")
    func keptAcrossRuns() throws { try Self.withFixture("chain-scan-memo") { exe, file in
        StackWalker.keepScans(in: file)
        let (first, scans) = try Self.notifyWalk(exe)
        #expect(first.hasConsecutive(chain), "\(first.rendered)")
        #expect(scans >= 1)
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        #expect(size >= 8 + 16, "nothing kept: \(size) bytes")

        // A new run (nothing in memory): the file says where rbp is, and the stack is the same.
        StackWalker.keepScans(in: file)
        let second = try Self.notifyWalk(exe)
        #expect(second.scans == 0)
        #expect(Self.placed(second.frames) == Self.placed(first))

        // The same program rebuilt (a new modification time): its records no longer apply.
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, exe, &times, 0) == 0)
        StackWalker.keepScans(in: file)
        let third = try Self.notifyWalk(exe)
        #expect(third.scans >= 1)
        #expect(Self.placed(third.frames) == Self.placed(first))
    } }

    @Test("the scan reads the code it decodes from the module's file, not from the program's memory")
    func codeFromFile() throws { try Self.withFixture("chain-scan-code") { exe, _ in
        StackWalker.keepScans(in: nil)
        let (frames, walker) = try Self.notifyWalker(exe)
        #expect(frames.hasConsecutive(chain), "\(frames.rendered)")
        #expect(walker.stackScans >= 1)
        // The calls before the candidates' return addresses, and f3's entry in .eh_frame_hdr: all in files
        // (the fixture, libc) mapped executable and without text relocations.
        #expect(walker.codeReads.fromFile > 0, "\(walker.codeReads)")
        #expect(walker.codeReads.fromMemory == 0, "\(walker.codeReads)")
    } }

    @Test("a file that is not a memo, or that others may write, is not read; the stack is the same")
    func untrustedFilesIgnored() throws { try Self.withFixture("chain-scan-memo2") { exe, file in
        StackWalker.keepScans(in: nil)
        let reference = try Self.notifyWalk(exe).frames
        #expect(reference.hasConsecutive(chain), "\(reference.rendered)")

        // Learn into the file, then make it writable by others: it is not read.
        StackWalker.keepScans(in: file)
        #expect(try Self.notifyWalk(exe).scans >= 1)
        #expect(chmod(file, 0o666) == 0)
        StackWalker.keepScans(in: file)
        let loose = try Self.notifyWalk(exe)
        #expect(loose.scans >= 1)
        #expect(Self.placed(loose.frames) == Self.placed(reference))

        // Garbage of the right size: not a memo (no header), not read, and made again from what is learned.
        #expect(unlink(file) == 0)
        try Data(repeating: 0x41, count: 8 + 16 * 4).write(to: URL(fileURLWithPath: file))
        #expect(chmod(file, 0o600) == 0)
        StackWalker.keepScans(in: file)
        let garbage = try Self.notifyWalk(exe)
        #expect(garbage.scans >= 1)
        #expect(Self.placed(garbage.frames) == Self.placed(reference))
        StackWalker.keepScans(in: file)
        let again = try Self.notifyWalk(exe)
        #expect(again.scans == 0)
        #expect(Self.placed(again.frames) == Self.placed(reference))
    } }
}
