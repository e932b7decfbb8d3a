// The symbol cache kept across runs (by build-id): what one run resolved, the next reads back instead of
// decompressing DWARF again; lines it cannot trust are ignored.
import Foundation
import Testing
import TraceModel
@testable import Unwinding

@Suite struct SymbolCacheTests {
    static let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "captrace-symcache-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
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
