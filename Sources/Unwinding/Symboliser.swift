import CUnwindShims
import Glibc
import TraceModel

/// pc -> module, file offset, symbol, source line. Symbol tables and line tables are opened once per module
/// file and shared by every process that maps it: keyed by build-id (by path for files without one).
final class Symboliser {
    private var byPath: [String: ModuleFile?] = [:]
    /// By build-id in hex (a String key: the run hashes Strings anyway, and a first [[UInt8]: _] costs the Swift
    /// runtime two scans of the binary's protocol conformances, [UInt8]'s Hashable and UInt8's).
    private var byBuildID: [String: ModuleFile] = [:]
    private let diskCache: SymbolCache?
    /// How many files this symboliser opened with libdw (tests: a warm disk cache opens none).
    var libdwOpens: Int {
        var files: [ObjectIdentifier: ModuleFile] = [:]
        for m in byPath.values.compactMap({ $0 }) + Array(byBuildID.values) { files[ObjectIdentifier(m)] = m }
        return files.values.filter(\.openedWithLibdw).count
    }

    init(diskCache: SymbolCache? = SymbolCache.standard()) { self.diskCache = diskCache }

    deinit {
        // A file can be kept under its build-id and its path: each is freed once, found by sorting by identity
        // (not a Set: a first Set<ObjectIdentifier> costs a scan of the binary's protocol conformances, and this
        // runs at the end of every run).
        var files = Array(byBuildID.values)
        for case let m? in byPath.values { files.append(m) }
        files.sort { ObjectIdentifier($0) < ObjectIdentifier($1) }
        var last: ModuleFile?
        for m in files where m !== last {
            m.close()
            last = m
        }
    }

    /// The frame of `pc` with its module and file offset only, from the address space's mappings.
    static func placed(space: OpaquePointer, pc: UInt64) -> Frame {
        var frame = Frame(pc: pc)
        var path: UnsafePointer<CChar>?
        var start: UInt64 = 0
        var mapOffset: UInt64 = 0
        guard ct_uw_space_mapping(space, pc, &path, &start, &mapOffset) == 0, let path else { return frame }
        frame.module = String(cString: path)
        frame.offset = pc - start + mapOffset
        return frame
    }

    func frame(space: OpaquePointer, pc: UInt64, isReturnAddress: Bool) -> Frame {
        var frame = Self.placed(space: space, pc: pc)
        if let module = frame.module, let offset = frame.offset {
            fill(&frame, module: module, offset: offset, isReturnAddress: isReturnAddress)
        }
        return frame
    }

    /// Symbol, symbol offset, file and line of the code at `offset` in the file `module`.
    func fill(_ frame: inout Frame, module: String, offset: UInt64, isReturnAddress: Bool) {
        guard let file = moduleFile(module),
              let vaddr = file.vaddr(ofFileOffset: offset) else { return }
        let lookup = isReturnAddress ? vaddr &- 1 : vaddr
        let info = file.lookup(lookup)
        if let name = info.symbol {
            frame.symbol = name
            frame.symbolOffset = vaddr &- info.symbolValue
        }
        frame.file = info.file
        frame.line = info.line
    }

    /// The GNU build-id of the file `module`, in hex; nil when it has none or cannot be read.
    func buildID(_ module: String) -> String? {
        guard let file = moduleFile(module) else { return nil }
        if let id = file.buildIDBytes { return hexString(id) }
        guard let h = file.symfile else { return nil }
        var id = [UInt8](repeating: 0, count: 64)
        let n = Int(ct_uw_symfile_build_id(h, &id, Int32(id.count)))
        guard n > 0 else { return nil }
        return hexString(id[0..<n])
    }

    private func moduleFile(_ path: String) -> ModuleFile? {
        if let cached = byPath[path] { return cached }
        // "[vdso]", "[stack]" and deleted files have no file to read.
        guard path.hasPrefix("/"), !path.hasSuffix(" (deleted)") else {
            byPath[path] = .some(nil)
            return nil
        }
        // The build-id and load segments from a few preads; libdw opens the file only for what the disk cache
        // does not hold (a run whose frames were all named before opens none: ~45 µs and a private mapping of
        // the file saved per module).
        var brief = ct_uw_elf_brief()
        if ct_uw_elf_brief_read(path, &brief) == 0, brief.build_id_len > 0 {
            let key = withUnsafeBytes(of: brief.build_id) { Array($0.prefix(Int(brief.build_id_len))) }
            let hex = hexString(key)
            if let shared = byBuildID[hex] {
                byPath[path] = shared
                return shared
            }
            // The disk cache's key adds the file's size and its separate debug file's (0 when there is none):
            // `strip` keeps a build-id, and neither a stripped file nor a run before libc6-dbg was installed may
            // decide the names and lines of another.
            let debugFile = "/usr/lib/debug/.build-id/" + String(hex.prefix(2)) + "/" + String(hex.dropFirst(2)) + ".debug"
            var dst = stat()
            let debugSize = stat(debugFile, &dst) == 0 ? UInt64(dst.st_size) : 0
            let diskKey = key + withUnsafeBytes(of: brief.file_size.bigEndian, Array.init)
                + withUnsafeBytes(of: debugSize.bigEndian, Array.init)
            let m = ModuleFile(path: path, brief: brief, buildID: key, diskKey: diskKey, diskCache: diskCache)
            byBuildID[hex] = m
            byPath[path] = m
            return m
        }
        // No build-id (or an ELF file the brief reader does not take): libdw at once, no disk cache.
        guard let h = ct_uw_symfile_open(path) else {
            byPath[path] = .some(nil)
            return nil
        }
        let m = ModuleFile(handle: h)
        byPath[path] = m
        return m
    }
}

/// One ELF file for symbol and line lookups, with its results cached by link-time address. A file with a build-id
/// is described by `ct_uw_elf_brief` and opened with libdw (`symfile`) only at the first lookup the disk cache
/// cannot answer.
final class ModuleFile {
    struct Info {
        var symbol: String?
        var symbolValue: UInt64
        var file: String?
        var line: Int?
    }

    private var handle: OpaquePointer?
    private var opened: Bool
    private let path: String?
    private let brief: ct_uw_elf_brief?
    /// The GNU build-id, when read by the brief reader.
    let buildIDBytes: [UInt8]?
    /// By link-time address, as `Int(bitPattern:)` (Int keys: a first [UInt64: _] costs a scan of the binary's
    /// protocol conformances).
    private var cache: [Int: Info] = [:]
    /// Results kept across runs (by build-id, the file's size and its debug file's): read on the first lookup,
    /// extended on every miss.
    private let diskKey: [UInt8]?
    private let diskCache: SymbolCache?
    private var diskLoaded = false

    /// A file already opened with libdw (one without a build-id: no disk cache).
    init(handle: OpaquePointer) {
        self.handle = handle
        opened = true
        path = nil
        brief = nil
        buildIDBytes = nil
        diskKey = nil
        diskCache = nil
    }

    init(path: String, brief: ct_uw_elf_brief, buildID: [UInt8], diskKey: [UInt8], diskCache: SymbolCache?) {
        opened = false
        self.path = path
        self.brief = brief
        buildIDBytes = buildID
        self.diskKey = diskKey
        self.diskCache = diskCache
    }

    /// Whether libdw opened the file (eagerly, or at a lookup the disk cache could not answer).
    var openedWithLibdw: Bool { handle != nil }

    /// libdw's handle of the file, opened on first use (nil when libdw cannot open it).
    var symfile: OpaquePointer? {
        if !opened {
            opened = true
            handle = path.flatMap { ct_uw_symfile_open($0) }
        }
        return handle
    }

    func close() {
        if let h = handle { ct_uw_symfile_free(h) }
        handle = nil
    }

    func vaddr(ofFileOffset offset: UInt64) -> UInt64? {
        var v: UInt64 = 0
        if var b = brief { return ct_uw_elf_brief_vaddr(&b, offset, &v) == 0 ? v : nil }
        guard let h = symfile else { return nil }
        return ct_uw_symfile_vaddr(h, offset, &v) == 0 ? v : nil
    }

    func lookup(_ vaddr: UInt64) -> Info {
        let key = Int(bitPattern: UInt(vaddr))
        if let i = cache[key] { return i }
        if let disk = diskCache, let id = diskKey, !diskLoaded {
            diskLoaded = true
            cache = disk.load(id)
            if let i = cache[key] { return i }
        }
        // Not known: libdw (a file it cannot read names nothing, and nothing is kept on disk for it).
        guard let h = symfile else {
            let none = Info(symbol: nil, symbolValue: 0, file: nil, line: nil)
            cache[key] = none
            return none
        }
        var raw = ct_uw_syminfo()
        ct_uw_symfile_lookup(h, vaddr, &raw)
        var info = Info(symbol: nil, symbolValue: raw.symbol_value, file: nil, line: nil)
        if let s = raw.symbol {
            // ELF symbol versions ("__libc_start_main@@GLIBC_2.34") are not part of the name.
            let name = String(cString: s).split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if let d = ct_uw_demangle(String(name)) {
                info.symbol = String(cString: d)
                free(d)
            } else {
                info.symbol = String(name)
            }
        }
        if let f = raw.file {
            info.file = String(cString: f)
            info.line = Int(raw.line)
        }
        cache[key] = info
        if let disk = diskCache, let id = diskKey { disk.append(id, vaddr: vaddr, info) }
        return info
    }
}

/// Bytes in lower-case hex, digit by digit (the standard library's generic `joined()` of per-byte strings looks up
/// conformances at run time on its first use, ~0.05 ms of a start).
func hexString<C: Collection<UInt8>>(_ bytes: C) -> String {
    let digits: StaticString = "0123456789abcdef"
    var out: [UInt8] = []
    out.reserveCapacity(2 * bytes.count)
    for b in bytes {
        out.append(digits.utf8Start[Int(b >> 4)])
        out.append(digits.utf8Start[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// The NUL-terminated string in a C buffer.
func cString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
