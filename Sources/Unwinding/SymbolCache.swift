import Glibc

/// Names and lines already resolved, kept across runs per module (its build-id, its size and its separate debug
/// file's size: `strip` keeps the build-id) in `$XDG_CACHE_HOME/captrace/symbols/`,
/// else `~/.cache/captrace/symbols/`; `CAPTRACE_NO_SYMBOL_CACHE=1` turns it off).
///
/// Why: a file and line for a glibc frame come from libc6-dbg's DWARF, whose sections libdw decompresses
/// whole on the first lookup (tens of milliseconds, more than the rest of a short run: `captrace run -- /bin/true`
/// spent most of its time waiting for it). A build-id names the exact bytes of a module, so what was resolved
/// for it once stays true; a test suite traced run after run resolves each frame once.
///
/// One text file per module key, one line per resolved address: `vaddr<TAB>symbol value<TAB>symbol<TAB>file<TAB>line`
/// (hex addresses; empty fields for none). Lines are appended with one `write` each (O_APPEND), so concurrent
/// runs interleave whole lines; a line that does not parse (cut short, or not ours) is ignored. Only a regular
/// file of this user that no one else may write is read. Bounded: a module's first line beyond `limit` files
/// removes the files written to longest ago (each build of a program traced is a module of its own).
final class SymbolCache {
    let directory: String
    let limit: Int

    init(directory: String, limit: Int = 256) { self.directory = directory; self.limit = limit }

    static func standard() -> SymbolCache? {
        UserCache.directory("symbols", disabledBy: "CAPTRACE_NO_SYMBOL_CACHE").map { SymbolCache(directory: $0) }
    }

    /// `buildID`: the module's key (build-id and size).
    func path(_ buildID: [UInt8]) -> String {
        directory + "/" + hexString(buildID)
    }

    /// Everything recorded for the module with this build-id, by looked-up address (as `Int(bitPattern:)`).
    func load(_ buildID: [UInt8]) -> [Int: ModuleFile.Info] {
        let fd = open(path(buildID), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var st = stat()
        guard UserCache.isOwnFile(fd, &st), st.st_size < 64 << 20 else { return [:] }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        var out: [Int: ModuleFile.Info] = [:]
        for line in bytes[0..<got].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let f = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
            guard f.count == 5, let vaddr = UInt64(String(decoding: f[0], as: UTF8.self), radix: 16),
                  let value = UInt64(String(decoding: f[1], as: UTF8.self), radix: 16) else { continue }
            func text(_ s: ArraySlice<UInt8>) -> String? { s.isEmpty ? nil : String(decoding: s, as: UTF8.self) }
            let lineNo = text(f[4]).flatMap { Int($0) }
            guard f[4].isEmpty || lineNo != nil else { continue }
            out[Int(bitPattern: UInt(vaddr))] = ModuleFile.Info(symbol: text(f[2]), symbolValue: value, file: text(f[3]), line: lineNo)
        }
        return out
    }

    /// Records one resolved address (nothing when a field would break the line format).
    func append(_ buildID: [UInt8], vaddr: UInt64, _ info: ModuleFile.Info) {
        func clean(_ s: String?) -> Bool { s.map { !$0.utf8.contains { $0 == 9 || $0 == 10 } } ?? true }
        guard clean(info.symbol), clean(info.file) else { return }
        let line = String(vaddr, radix: 16) + "\t" + String(info.symbolValue, radix: 16) + "\t" + (info.symbol ?? "")
            + "\t" + (info.file ?? "") + "\t" + (info.line.map(String.init) ?? "") + "\n"
        var fd = open(path(buildID), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 && errno == ENOENT && UserCache.makeDirectory(directory) {
            fd = open(path(buildID), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }
        guard fd >= 0 else { return }
        defer { close(fd) }
        var st = stat()
        guard UserCache.isOwnFile(fd, &st) else { return }
        _ = Array(line.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        // A module's first line: a file more in the directory.
        if st.st_size == 0 { UserCache.prune(directory, limit: limit, keeping: path(buildID)) { !$0.hasPrefix(".") } }
    }

}
