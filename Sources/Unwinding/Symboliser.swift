import CUnwindShims
import Glibc
import TraceModel

/// pc -> module, file offset, symbol, source line. Symbol tables and line tables are opened once per module
/// file and shared by every process that maps it: keyed by build-id (by path for files without one).
final class Symboliser {
    private var byPath: [String: ModuleFile?] = [:]
    private var byBuildID: [[UInt8]: ModuleFile] = [:]

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
        var path = [CChar](repeating: 0, count: 4096)
        var start: UInt64 = 0
        var mapOffset: UInt64 = 0
        guard ct_uw_space_mapping(space, pc, &path, path.count, &start, &mapOffset) == 0 else { return frame }
        frame.module = cString(path)
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
            let m = ModuleFile(handle: h)
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

    init(handle: OpaquePointer) { self.handle = handle }

    func vaddr(ofFileOffset offset: UInt64) -> UInt64? {
        var v: UInt64 = 0
        return ct_uw_symfile_vaddr(handle, offset, &v) == 0 ? v : nil
    }

    func lookup(_ vaddr: UInt64) -> Info {
        if let i = cache[vaddr] { return i }
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
        return info
    }
}

/// The NUL-terminated string in a C buffer.
func cString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
