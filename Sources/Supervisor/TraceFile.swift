import Glibc
import TraceModel

/// A trace sink writing straight to a file descriptor (no stdio buffer): what the recording thread hands it is
/// in the file when `write` returns.
final class FileSink: TraceSink {
    let fd: Int32

    init(path: String) throws(SupervisorError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SupervisorError("cannot write the trace \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
    }

    func write(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SupervisorError("cannot write the trace: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }

    deinit { close(fd) }
}

/// Writes a message to stderr (fd 2) directly: Swift 6 rejects the mutable C global `stderr`.
func printError(_ message: String) {
    var bytes = Array(message.utf8)
    if bytes.last != 0x0A { bytes.append(0x0A) }
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}

/// Writes raw text to stderr without adding a newline (the live status line).
func writeStderr(_ text: String) {
    _ = Array(text.utf8).withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}
