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
        guard FileIO.writeAll(fd, bytes) else {
            throw SupervisorError("cannot write the trace: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }
}

/// Writes a message to stderr (fd 2) directly: Swift 6 rejects the mutable C global `stderr`.
func printError(_ message: String) {
    var bytes = Array(message.utf8)
    if bytes.last != 0x0A { bytes.append(0x0A) }
    FileIO.writeAll(2, bytes)
}
