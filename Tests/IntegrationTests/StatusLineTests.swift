// The live status line on a pseudo-terminal (issue 17): one row, cut to the terminal's width, redrawn in place,
// following a resize. python3's pty module gives captrace a terminal of a chosen size as its stderr.
import Foundation
import Testing

/// Runs ARGV with stderr on a new pseudo-terminal of COLS columns (resized to RESIZE columns once two status
/// lines were drawn, if given); prints {"status", "resized_at", "output"} as JSON.
private let ptyScript = #"""
import os, pty, sys, struct, fcntl, termios, select, time, json
# usage: pty_status.py COLS [RESIZE_TO] -- argv...
cols = int(sys.argv[1]); resize = int(sys.argv[2]) if sys.argv[2] != "-" else None
argv = sys.argv[sys.argv.index("--") + 1:]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(slave, 2)
    os.close(master); os.close(slave)
    os.execv(argv[0], argv)
os.close(slave)
out = b""; resized_at = None
while True:
    r, _, _ = select.select([master], [], [], 0.05)
    if r:
        try: chunk = os.read(master, 65536)
        except OSError: break
        if not chunk: break
        out += chunk
        if resize is not None and resized_at is None and out.count(b"\r\x1b[Kcaptrace: ") >= 2:
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, resize, 0, 0))
            resized_at = len(out)
_, status = os.waitpid(pid, 0)
print(json.dumps({"status": os.waitstatus_to_exitcode(status), "resized_at": resized_at, "output": out.decode("utf-8", "replace")}))
"""#

struct PtyRun: Decodable {
    let status: Int32
    let resized_at: Int?
    let output: String
}

@Suite("run: the live status line on a terminal")
struct StatusLineTests {
    /// A program that runs for about 1.5 s, forking and opening files all along.
    static let program = ["/bin/sh", "-c",
                          "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do cat /etc/hostname >/dev/null; sleep 0.1; done"]

    static func run(columns: Int, resizeTo: Int? = nil, backend: String) throws -> PtyRun {
        let w = try Workdir("pty")
        let script = w.path("pty_status.py")
        try ptyScript.write(toFile: script, atomically: true, encoding: .utf8)
        let argv = ["/usr/bin/python3", script, String(columns), resizeTo.map(String.init) ?? "-", "--",
                    try Harness.captrace(), "run", "--backend", backend, "--enter-at", "exec", "-o", w.path("t.jsonl"), "--"]
            + program
        let r = try Subprocess.run(argv, cwd: w.url.path, timeout: 120)
        #expect(r.status == 0, "python3: \(r.stderr)")
        return try JSONDecoder().decode(PtyRun.self, from: Data(r.stdout.utf8))
    }

    /// The status lines drawn (the text after each `\r ESC[K` that starts a status), with what follows each one
    /// up to the next carriage return.
    static func statusLines(_ output: String) -> [String] {
        output.components(separatedBy: "\r\u{1B}[K").filter { $0.hasPrefix("captrace: ") && $0.dropFirst(10).first?.isNumber == true }.map {
            String($0.prefix { $0 != "\r" })
        }
    }

    @Test("40 and 200 columns: every status line fits on one row and is redrawn in place",
          arguments: [40, 200], backends)
    func fits(columns: Int, backend: String) throws {
        let r = try Self.run(columns: columns, backend: backend)
        #expect(r.status == 0, "\(r.output)")
        let lines = Self.statusLines(r.output)
        #expect(lines.count >= 2, "the status was drawn more than once:\n\(r.output.debugDescription)")
        for l in lines {
            #expect(l.count <= columns - 1, "\(l.count) characters on a \(columns)-column terminal: \(l.debugDescription)")
            #expect(!l.contains("\n"), "a status line moved to a new row: \(l.debugDescription)")
        }
        if columns == 200 {
            #expect(lines.allSatisfy { $0.contains("violations") }, "nothing is cut at 200 columns: \(lines)")
        } else {
            #expect(lines.allSatisfy { !$0.contains("violations") }, "cut at 40 columns: \(lines)")
        }
        // Every status line is erased before the report: no status text sits on a line of its own.
        let rows = r.output.components(separatedBy: "\r\n")
        #expect(!rows.contains { row in
            Self.statusLines(row.components(separatedBy: "\r\u{1B}[K").last.map { "\r\u{1B}[K" + $0 } ?? "").count == 1
        }, "a stale status line was left behind:\n\(r.output.prefix(3000).debugDescription)")
    }

    @Test("a resize from 200 to 40 columns is followed by the next redraw")
    func followsResize() throws {
        let r = try Self.run(columns: 200, resizeTo: 40, backend: "ptrace")
        guard let at = r.resized_at else {
            Issue.record("the terminal was not resized (fewer than two status lines?):\n\(r.output.debugDescription)")
            return
        }
        // resized_at counts bytes; the status text is ASCII up to the report.
        let after = Self.statusLines(String(decoding: Array(r.output.utf8).dropFirst(at), as: UTF8.self))
        let before = Self.statusLines(String(decoding: Array(r.output.utf8).prefix(at), as: UTF8.self))
        #expect(before.allSatisfy { $0.contains("violations") }, "\(before)")
        // The first line after may have been drawn just before the resize reached the terminal.
        #expect(after.count >= 2, "no redraw after the resize:\n\(r.output.debugDescription)")
        #expect(after.dropFirst().allSatisfy { $0.count <= 39 }, "after the resize: \(after)")
    }
}
