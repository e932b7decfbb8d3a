import Glibc
import TraceModel

/// The live status line of `run` on a terminal (never on a pipe, never with -q): elapsed time, processes and
/// violations by namespace, on one row of stderr rewritten in place (`\r`, erase line).
///
/// The terminal's width is read again before every redraw, so a resize is followed without a SIGWINCH handler;
/// the text is cut to one column less than the width, because a line filling the last column wraps on some
/// terminals, and the erase would then clear only the new row.
struct StatusLine {
    /// The descriptor drawn on (stderr).
    let fd: Int32
    private var lastNs: UInt64 = 0
    private var shown = false

    /// nil when `fd` is not a terminal.
    init?(fd: Int32 = 2) {
        guard isatty(fd) != 0 else { return nil }
        self.fd = fd
    }

    /// Redraws at most every 200 ms, and only once the run has lasted half a second.
    mutating func tick(elapsedNs t: UInt64, processes: Int, violations: Int,
                       perNamespace: @autoclosure () -> [Namespace: Int]) {
        guard t &- lastNs > 200_000_000, t > 500_000_000 else { return }
        lastNs = t
        draw(Self.text(elapsedNs: t, processes: processes, violations: violations, perNamespace: perNamespace()))
    }

    mutating func draw(_ text: String) {
        FileIO.writeAll(fd, ("\r\u{1B}[K" + Self.fit(text, columns: columns())).utf8)
        shown = true
    }

    mutating func clear() {
        if shown { FileIO.writeAll(fd, "\r\u{1B}[K".utf8); shown = false }
    }

    static func text(elapsedNs t: UInt64, processes: Int, violations: Int, perNamespace: [Namespace: Int]) -> String {
        let ns = Namespace.allCases.compactMap { n in perNamespace[n].map { "\(n.rawValue) \($0)" } }
        let tenths = t / 100_000_000
        return "captrace: \(tenths / 10).\(tenths % 10)s  \(processes) processes  \(violations) violations"
            + (ns.isEmpty ? "" : "  (" + ns.joined(separator: ", ") + ")")
    }

    /// `text` (ASCII) cut to `columns - 1` characters.
    static func fit(_ text: String, columns: Int) -> String {
        let room = max(1, columns - 1)
        return text.count <= room ? text : String(text.prefix(room))
    }

    /// The terminal's width now (80 when it cannot be read).
    func columns() -> Int {
        var w = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 else { return 80 }
        return Int(w.ws_col)
    }
}
