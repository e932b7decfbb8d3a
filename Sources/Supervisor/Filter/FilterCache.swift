import CTraceShims
import Glibc
import Unwinding

/// Seccomp programs libseccomp compiled on an earlier run, kept in the user's cache directory
/// (`$XDG_CACHE_HOME/captrace/`, else `~/.cache/captrace/`). Compiling the three-ABI filter costs libseccomp
/// 2.5-4.5 ms at every start (measured: 17.1 ms of CPU for `captrace run -- /bin/true` against 14.8 ms warm); a
/// kept program is read back instead when the rules given to libseccomp (and libseccomp's version) are exactly
/// the same: the key is made from what determines the rules (FilterBuilder.cacheKey: this executable's build-id,
/// libseccomp's version and the options), or is the rules themselves (FilterBuilder.key) for an executable
/// without a build-id. libseccomp stays the only compiler: nothing here makes a program, and a file that fails any check is
/// ignored (the caller compiles and stores again).
///
/// One file per rule set, `filter-<FNV-1a of the key>.bpf`, little-endian:
///
///     magic "CTFILTER" | format u32 | key length u32 | instructions u32 | FNV-1a-64 of the program u64
///     | the key (FilterBuilder.cacheKey or FilterBuilder.key), compared byte for byte on load
///     | the program (struct sock_filter[])
///
/// Written to a temporary file in the same directory (mode 0600) and renamed into place, so a reader sees a whole
/// file or none. Not synced: a file torn by a crash fails the checks and is rewritten. Bounded: each build of
/// captrace and each set of options is a file of its own, so a store beyond `limit` files removes those stored
/// longest ago (a program removed is compiled again when next asked for).
struct FilterCache {
    let directory: String
    var limit = 64

    static let magic: [UInt8] = Array("CTFILTER".utf8)
    static let format: UInt32 = 1
    static let headerSize = 8 + 4 + 4 + 4 + 8

    /// The cache of this user, or nil when `CAPTRACE_NO_FILTER_CACHE` is set (other than "0") or neither
    /// `$XDG_CACHE_HOME` nor `$HOME` is an absolute path. The directory is created when first stored into.
    static func standard() -> FilterCache? {
        UserCache.directory(disabledBy: "CAPTRACE_NO_FILTER_CACHE").map { FilterCache(directory: $0) }
    }

    /// Where the program compiled from `key` is kept.
    func path(key: [UInt8]) -> String {
        let h = String(FilterCache.fnv1a(key), radix: 16)
        return directory + "/filter-" + String(repeating: "0", count: 16 - h.count) + h + ".bpf"
    }

    /// The program kept for `key`, malloc'ed (free with ct_bpf_free), or nil when there is none or the file fails
    /// a check: a regular file of this user that no one else may write; magic, format, the key byte for byte, the
    /// size against the program length, the checksum.
    func load(key: [UInt8]) -> ct_bpf? {
        let fd = FileIO.retrying { open(path(key: key), O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard UserCache.isOwnFile(fd, &st), st.st_size >= FilterCache.headerSize, st.st_size <= FilterCache.headerSize + key.count + 0xffff * 8
        else { return nil }
        var file = [UInt8](repeating: 0, count: Int(st.st_size) + 1)  // one byte more: a file grown since is seen
        var got = 0
        while got < file.count {
            let n = file.withUnsafeMutableBytes { b in FileIO.retrying { read(fd, b.baseAddress! + got, b.count - got) } }
            if n < 0 { return nil }
            if n == 0 { break }
            got += n
        }
        file.removeLast(file.count - got)
        return FilterCache.decode(file, key: key)
    }

    /// Keeps `program` for `key`. Any failure leaves no file behind and is ignored (false): the cache only saves
    /// time.
    @discardableResult
    func store(key: [UInt8], program: ct_bpf) -> Bool {
        guard program.len > 0, let filter = program.filter, UserCache.makeDirectory(directory) else { return false }
        let body = UnsafeRawBufferPointer(start: filter, count: Int(program.len) * 8)
        var bytes = FilterCache.magic
        bytes.reserveCapacity(FilterCache.headerSize + key.count + body.count)
        FilterCache.append(FilterCache.format, to: &bytes)
        FilterCache.append(UInt32(key.count), to: &bytes)
        FilterCache.append(UInt32(program.len), to: &bytes)
        FilterCache.append(FilterCache.fnv1a(body), to: &bytes)
        bytes += key
        bytes += body

        let final = path(key: key)
        var fd: Int32 = -1, temp = ""
        for attempt in 0..<100 {
            temp = "\(directory)/.filter-\(getpid())-\(attempt).tmp"
            fd = FileIO.retrying { open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600) }
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { return false }
        let ok = fchmod(fd, 0o600) == 0 && FileIO.writeAll(fd, bytes)
        close(fd)
        if ok, rename(temp, final) == 0 {
            prune(keeping: final)
            return true
        }
        unlink(temp)
        return false
    }

    /// Removes the programs stored longest ago beyond `limit`, never `keeping` (`UserCache.prune`).
    func prune(keeping: String) {
        UserCache.prune(directory, limit: limit, keeping: keeping) { $0.hasPrefix("filter-") && $0.hasSuffix(".bpf") }
    }

    /// The program in `file` if every check passes.
    static func decode(_ file: [UInt8], key: [UInt8]) -> ct_bpf? {
        guard file.count >= headerSize, file[0..<8].elementsEqual(magic),
              u32(file, 8) == format, u32(file, 12) == UInt32(key.count) else { return nil }
        let count = Int(u32(file, 16))
        let keyStart = headerSize, programStart = headerSize + key.count
        guard count > 0, count <= 0xffff, file.count == programStart + count * 8,
              file[keyStart..<programStart].elementsEqual(key) else { return nil }
        return file.withUnsafeBytes { raw -> ct_bpf? in
            let program = UnsafeRawBufferPointer(rebasing: raw[programStart...])
            guard fnv1a(program) == u64(file, 20), let buf = malloc(program.count) else { return nil }
            buf.copyMemory(from: program.baseAddress!, byteCount: program.count)
            return ct_bpf(filter: buf, len: UInt16(count))
        }
    }

    /// FNV-1a, 64 bits.
    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    static func append(_ v: some FixedWidthInteger, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    private static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) }
    }

    private static func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) }
    }
}
