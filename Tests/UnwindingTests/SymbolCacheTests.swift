// The symbol cache kept across runs (by build-id): what one run resolved, the next reads back instead of
// decompressing DWARF again; lines it cannot trust are ignored.
import CUnwindShims
import Foundation
import Testing
import TraceModel
@testable import Unwinding

@Suite struct SymbolCacheTests {
    static let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"

    func tempDir() throws -> String {
        let d = FixtureBuilder.outDir + "/symcache-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A frame inside getpid as the walker leaves it (module and offset; libc's text offsets equal its vaddrs).
    func getpidFrame() throws -> (frame: Frame, offset: UInt64) {
        let getpid = try #require(ELFSymbols.lookup("getpid", inFile: Self.libc))
        return (Frame(pc: 0x7f00_0000_0000 + getpid.value + 4, module: Self.libc, offset: getpid.value + 4), getpid.value + 4)
    }

    @Test("a second run reads what the first resolved (same frames), from one file per build-id")
    func secondRunReadsTheFirst() throws {
        let dir = try tempDir() + "/symbols"
        let (frame, offset) = try getpidFrame()
        var first = Frame(pc: frame.pc, module: frame.module, offset: frame.offset)
        Symboliser(diskCache: SymbolCache(directory: dir)).fill(&first, module: Self.libc, offset: offset, isReturnAddress: false)
        #expect(first.symbol?.hasSuffix("getpid") == true && first.file != nil)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(files.count == 1 && files[0].count == 72, "\(files)")  // libc.so.6's build-id and sizes, in hex
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/" + files[0])
        #expect((attrs[.posixPermissions] as? Int) == 0o600)

        var second = Frame(pc: frame.pc, module: frame.module, offset: frame.offset)
        Symboliser(diskCache: SymbolCache(directory: dir)).fill(&second, module: Self.libc, offset: offset, isReturnAddress: false)
        #expect(second == first)

        // The second run really read the file: an entry changed there comes back as written.
        let path = dir + "/" + files[0]
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: first.symbol!, with: "from_the_cache")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        var third = Frame(pc: frame.pc, module: frame.module, offset: frame.offset)
        Symboliser(diskCache: SymbolCache(directory: dir)).fill(&third, module: Self.libc, offset: offset, isReturnAddress: false)
        #expect(third.symbol == "from_the_cache")
    }

    @Test("beyond its limit, a module's first line removes the files written to longest ago")
    func boundedByLimit() throws {
        let dir = try tempDir()
        let cache = SymbolCache(directory: dir, limit: 3)
        let info = ModuleFile.Info(symbol: "f", symbolValue: 0x10, file: nil, line: nil)
        let ids: [[UInt8]] = (0..<5).map { [0xee, UInt8($0)] }
        for (i, id) in ids.enumerated() {
            cache.append(id, vaddr: 0x10, info)
            // Written 100 s after the one before (set by hand: appends come within the same clock tick).
            var times = [timespec(tv_sec: 1_000_000_000 + 100 * i, tv_nsec: 0),
                         timespec(tv_sec: 1_000_000_000 + 100 * i, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, cache.path(id), &times, 0) == 0)
        }
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        #expect(left == ids[2...].map { cache.path($0) }.map { ($0 as NSString).lastPathComponent }.sorted())
        // A line more for a kept module removes nothing and makes it the newest; the first line of a new module
        // then removes the one written to longest ago.
        cache.append(ids[2], vaddr: 0x20, info)
        #expect(cache.load(ids[2]).count == 2)
        cache.append([0xee, 9], vaddr: 0x10, info)
        #expect(!FileManager.default.fileExists(atPath: cache.path(ids[3])))
        #expect([ids[2], ids[4], [0xee, 9]].allSatisfy { FileManager.default.fileExists(atPath: cache.path($0)) })
        #expect(cache.load([0xee, 9])[0x10]?.symbol == "f")
    }

    @Test("cut or foreign lines are ignored; a file others may write is not read")
    func untrustedInputIsIgnored() throws {
        let dir = try tempDir()
        let cache = SymbolCache(directory: dir)
        let id: [UInt8] = [0xab, 0xcd]
        try "10\t0\tgood\tf.c\t3\n20\tzz\tbad\t\t\n30\t0\tcut".write(toFile: cache.path(id), atomically: false, encoding: .utf8)
        chmod(cache.path(id), 0o600)
        let loaded = cache.load(id)
        #expect(loaded.count == 1 && loaded[0x10]?.symbol == "good" && loaded[0x10]?.line == 3)
        chmod(cache.path(id), 0o622)
        #expect(cache.load(id).isEmpty)
    }
}

/// The build-id and load segments read with a few preads (`ct_uw_elf_brief_read`) instead of opening the file with
/// libdw: the same facts as libdw's, and with a warm disk cache no file opened with libdw at all.
@Suite struct ELFBriefTests {
    /// Real ELF files of this machine, and a fixture linked without a build-id.
    static func files() throws -> [String] {
        let noID = try FixtureBuilder.build("brief-no-build-id", sources: chainSources,
                                            flags: ["-O0", "-Wl,--build-id=none"])
        return ["/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", SymbolCacheTests.libc, "/usr/bin/true",
                "/usr/bin/dash", "/usr/lib/x86_64-linux-gnu/libdw.so.1", noID]
    }

    @Test("build-id and file offset -> address as libdw has them, for system files and one without a build-id")
    func sameAsLibdw() throws {
        for path in try Self.files() {
            var brief = ct_uw_elf_brief()
            #expect(ct_uw_elf_brief_read(path, &brief) == 0, "\(path)")
            let h = try #require(ct_uw_symfile_open(path), "\(path)")
            defer { ct_uw_symfile_free(h) }
            var id = [UInt8](repeating: 0, count: 64)
            let n = Int(ct_uw_symfile_build_id(h, &id, Int32(id.count)))
            let briefID = withUnsafeBytes(of: brief.build_id) { Array($0.prefix(Int(brief.build_id_len))) }
            #expect(briefID == Array(id.prefix(n)), "\(path)")
            // Offsets around every load segment's edges and inside it, and past the file.
            var offsets: [UInt64] = [0, 1, 0xfff, 0x1000, brief.file_size, brief.file_size + 0x1000]
            let loads = withUnsafeBytes(of: brief.loads) { Array($0.bindMemory(to: ct_uw_load_segment.self).prefix(Int(brief.nloads))) }
            #expect(!loads.isEmpty, "\(path)")
            for l in loads {
                offsets += [l.offset, l.offset &- 1, l.offset + l.filesz / 2, l.offset + l.filesz - 1, l.offset + l.filesz,
                            l.offset & ~0xfff]
            }
            for off in offsets {
                var a: UInt64 = 0, b: UInt64 = 0
                let ra = ct_uw_elf_brief_vaddr(&brief, off, &a), rb = ct_uw_symfile_vaddr(h, off, &b)
                #expect(ra == rb && (ra != 0 || a == b), "\(path) offset \(String(off, radix: 16))")
            }
        }
    }

    @Test("not an ELF file, a directory, a missing file: refused")
    func refused() throws {
        var brief = ct_uw_elf_brief()
        #expect(ct_uw_elf_brief_read("/etc/hostname", &brief) == -1)
        #expect(ct_uw_elf_brief_read("/usr/bin", &brief) == -1)
        #expect(ct_uw_elf_brief_read("/nonexistent/file", &brief) == -1)
    }

    @Test("a warm disk cache names a frame without opening its file with libdw; a cold one opens it once")
    func warmCacheOpensNothing() throws {
        let dir = try SymbolCacheTests().tempDir() + "/symbols"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let (frame, offset) = try SymbolCacheTests().getpidFrame()
        let cold = Symboliser(diskCache: SymbolCache(directory: dir))
        var first = frame
        cold.fill(&first, module: SymbolCacheTests.libc, offset: offset, isReturnAddress: false)
        #expect(cold.libdwOpens == 1)
        let warm = Symboliser(diskCache: SymbolCache(directory: dir))
        var second = frame
        warm.fill(&second, module: SymbolCacheTests.libc, offset: offset, isReturnAddress: false)
        #expect(second == first && first.symbol?.hasSuffix("getpid") == true)
        #expect(warm.buildID(SymbolCacheTests.libc) == cold.buildID(SymbolCacheTests.libc))
        #expect(warm.libdwOpens == 0)
    }
}
