import CTestSupport
import Foundation
import Testing
import Unwinding

/// An exited process's /proc/PID/maps descriptor is not closed by `processExited` (the tracer's thread) but left
/// to `exitedMaps`, which another thread closes (the recording thread, between batches): until then it stays open,
/// and afterwards none of this process's descriptors names that file.
@Suite struct ExitedMapsTests {
    /// The descriptors of this process that name `path`.
    static func descriptors(naming path: String) -> [Int32] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { name -> Int32? in
            guard let fd = Int32(name) else { return nil }
            var buf = [CChar](repeating: 0, count: 512)
            let n = readlink("/proc/self/fd/\(name)", &buf, buf.count - 1)
            guard n > 0 else { return nil }
            return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == path ? fd : nil
        }
    }

    /// `closeMapsLater` (the ptrace backend's): parked until `closeAll`. Otherwise (notify's) closed at once.
    @Test(arguments: [true, false])
    func exitedProcessMapsClosedByCloseAll(closeMapsLater: Bool) throws {
        let program = "/usr/bin/true"
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), nil]
        defer { argv.forEach { free($0) } }
        let pid = ct_test_spawn_stopped_at_exec(program, argv)
        try #require(pid > 0, "\(program) could not be started stopped at its exec")
        let maps = "/proc/\(pid)/maps"
        let walker = StackWalker(kind: .libdw, maxDepth: 64)
        walker.processExeced(pid: pid)  // a new image: its walk looks up its mappings on an open /proc/PID/maps
        let frames = walker.stack(pid: pid, tid: pid)
        #expect(!frames.isEmpty)
        try #require(Self.descriptors(naming: maps).count == 1, "the walk left no /proc/PID/maps open")
        ct_test_kill(pid)  // killed and reaped, as the tracer sees an exit

        walker.processExited(pid: pid, closeMapsLater: closeMapsLater)
        guard closeMapsLater else {
            #expect(walker.exitedMaps.count == 0)
            #expect(Self.descriptors(naming: maps).isEmpty, "not closed by processExited")
            return
        }
        #expect(walker.exitedMaps.count == 1)
        #expect(Self.descriptors(naming: maps).count == 1, "closed by processExited itself")
        walker.exitedMaps.closeAll()
        #expect(walker.exitedMaps.count == 0)
        #expect(Self.descriptors(naming: maps).isEmpty, "still open after closeAll")
    }
}
