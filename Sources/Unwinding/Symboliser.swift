import CUnwindShims
import Glibc
import TraceModel

/// pc -> module, file offset, symbol, source line. Symbol tables and line tables are opened once per module
/// file and shared by every process that maps it: keyed by build-id (by path for files without one).
final class Symboliser {
    private var byPath: [String: ModuleFile?] = [:]
    private var byBuildID: [[UInt8]: ModuleFile] = [:]
    private let diskCache: SymbolCache?

    init(diskCache: SymbolCache? = SymbolCache.standard()) { self.diskCache = diskCache }

    deinit {
        var freed = Set<ObjectIdentifier>()
        for m in byBuildID.values where freed.insert(ObjectIdentifier(m)).inserted { ct_uw_symfile_free(m.handle) }
        for case let m? in byPath.values where freed.insert(ObjectIdentifier(m)).inserted {
            ct_uw_symfile_free(m.handle)
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
        var id = [UInt8](repeating: 0, count: 64)
        let n = Int(ct_uw_symfile_build_id(file.handle, &id, Int32(id.count)))
        guard n > 0 else { return nil }
        return id[0..<n].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private func moduleFile(_ path: String) -> ModuleFile? {
        if let cached = byPath[path] { return cached }
        // "[vdso]", "[stack]" and deleted files have no file to read.
        guard path.hasPrefix("/"), !path.hasSuffix(" (deleted)"), let h = ct_uw_symfile_open(path) else {
            byPath[path] = .some(nil)
            return nil
        }
        var id = [UInt8](repeating: 0, count: 64)
        let n = Int(ct_uw_symfile_build_id(h, &id, Int32(id.count)))
        if n > 0 {
            let key = Array(id[0..<n])
            if let shared = byBuildID[key] {
                ct_uw_symfile_free(h)
                byPath[path] = shared
                return shared
            }
            // Hex digits by hand, and String(...) of the substrings: the generic joined()/+ of the standard library
            // look up String's conformances at run time on their first use (~0.05 ms of every start).
            var digits: [UInt8] = []
            digits.reserveCapacity(2 * key.count)
            for b in key {
                digits.append(Self.hexDigits[Int(b >> 4)])
                digits.append(Self.hexDigits[Int(b & 15)])
            }
            let hex = String(decoding: digits, as: UTF8.self)
            // The disk cache's key adds the file's size and its separate debug file's (0 when there is none):
            // `strip` keeps a build-id, and neither a stripped file nor a run before libc6-dbg was installed may
            // decide the names and lines of another.
            let debugFile = "/usr/lib/debug/.build-id/" + String(hex.prefix(2)) + "/" + String(hex.dropFirst(2)) + ".debug"
            var st = stat(), dst = stat()
            let debugSize = stat(debugFile, &dst) == 0 ? UInt64(dst.st_size) : 0
            let diskKey = stat(path, &st) == 0
                ? key + withUnsafeBytes(of: UInt64(st.st_size).bigEndian, Array.init) + withUnsafeBytes(of: debugSize.bigEndian, Array.init)
                : nil
            let m = ModuleFile(handle: h, buildID: diskKey, diskCache: diskCache)
            byBuildID[key] = m
            byPath[path] = m
            return m
        }
        let m = ModuleFile(handle: h)
        byPath[path] = m
        return m
    }
}

/// One ELF file opened for symbol and line lookups, with its results cached by link-time address.
final class ModuleFile {
    struct Info {
        var symbol: String?
        var symbolValue: UInt64
        var file: String?
        var line: Int?
    }

    let handle: OpaquePointer
    private var cache: [UInt64: Info] = [:]
    /// Results kept across runs (by build-id): read on the first lookup, extended on every miss.
    private let buildID: [UInt8]?
    private let diskCache: SymbolCache?
    private var diskLoaded = false

    init(handle: OpaquePointer, buildID: [UInt8]? = nil, diskCache: SymbolCache? = nil) {
        self.handle = handle
        self.buildID = buildID
        self.diskCache = buildID == nil ? nil : diskCache
    }

    func vaddr(ofFileOffset offset: UInt64) -> UInt64? {
        var v: UInt64 = 0
        return ct_uw_symfile_vaddr(handle, offset, &v) == 0 ? v : nil
    }

    func lookup(_ vaddr: UInt64) -> Info {
        if let i = cache[vaddr] { return i }
        if let disk = diskCache, let id = buildID, !diskLoaded {
            diskLoaded = true
            cache = disk.load(id)
            if let i = cache[vaddr] { return i }
        }
        var raw = ct_uw_syminfo()
        ct_uw_symfile_lookup(handle, vaddr, &raw)
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
        cache[vaddr] = info
        if let disk = diskCache, let id = buildID { disk.append(id, vaddr: vaddr, info) }
        return info
    }
}

/// The NUL-terminated string in a C buffer.
func cString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
