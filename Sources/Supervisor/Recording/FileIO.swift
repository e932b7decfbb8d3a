import Glibc

/// File and terminal I/O on Glibc alone, for the trace writer and the CLI. Foundation would load libFoundation,
/// FoundationInternationalization and the 30 MB ICU data library at every start (~10 ms) for the four calls
/// below; each wraps its syscall once and retries EINTR in one place.
public enum FileIO {
    /// errno after a failed call, as text ("No such file or directory").
    public static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The whole file, or the errno that stopped the read.
    public static func read(_ path: String) -> Result<[UInt8], SystemError> {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return .failure(SystemError(errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > 0 { bytes.reserveCapacity(Int(st.st_size) + 1) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { buf in retrying { Glibc.read(fd, buf.baseAddress, buf.count) } }
            if n < 0 { return .failure(SystemError(errno)) }
            if n == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[..<n])
        }
    }

    /// Reads a file in chunks of 1 MiB, handing each to `body` (a trace of gigabytes is read in bounded memory).
    public static func readChunks(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError(errno) }
        defer { close(fd) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { buf in retrying { Glibc.read(fd, buf.baseAddress, buf.count) } }
            if n < 0 { throw SystemError(errno) }
            if n == 0 { return }
            try chunk.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }

    /// Whether `path` names something (following symlinks), readable or not.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Writes every byte to `fd`; false (with errno set) when the descriptor refuses.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        let ok = bytes.withContiguousStorageIfAvailable { writeAll(fd, UnsafeRawBufferPointer($0)) }
        return ok ?? Array(bytes).withUnsafeBytes { writeAll(fd, $0) }
    }

    public static func writeAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < buf.count {
            let n = retrying { Glibc.write(fd, buf.baseAddress! + off, buf.count - off) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// Replaces the file at `path` with `text` all at once: written to a new file beside it, synced, renamed
    /// over it, so a reader never sees half a report. A destination that exists and is not a regular file
    /// (/dev/stdout, a pipe, a terminal) is written in place: renaming over it would replace the device node.
    public static func writeAtomically(_ text: String, to path: String) -> SystemError? {
        let utf8 = text.utf8
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG {
            let fd = retrying { open(path, O_WRONLY | O_TRUNC | O_CLOEXEC) }
            guard fd >= 0 else { return SystemError(errno) }
            defer { close(fd) }
            return writeAll(fd, utf8) ? nil : SystemError(errno)
        }
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let dir = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var fd: Int32 = -1, temp = ""
        for attempt in 0..<100 {
            temp = "\(dir).\(base).captrace-\(getpid())-\(attempt)"
            fd = retrying { open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666) }  // mode less the umask
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { return SystemError(errno) }
        var failure: SystemError?
        if !writeAll(fd, utf8) || fsync(fd) != 0 { failure = SystemError(errno) }
        close(fd)
        if failure == nil, rename(temp, path) != 0 { failure = SystemError(errno) }
        if failure != nil { unlink(temp) }
        return failure
    }

    /// Runs a call until it is not interrupted by a signal.
    @inline(__always)
    static func retrying<T: FixedWidthInteger & SignedInteger>(_ call: () -> T) -> T {
        while true {
            let r = call()
            if r >= 0 || errno != EINTR { return r }
        }
    }

    /// An errno value carried as an error.
    public struct SystemError: Error, CustomStringConvertible {
        public let code: Int32
        init(_ code: Int32) { self.code = code }
        public var description: String { FileIO.describe(code) }
    }
}
