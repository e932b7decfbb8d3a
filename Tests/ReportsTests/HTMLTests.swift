import Foundation
import Reports
import Testing
import TraceModel

/// The HTML report loaded in headless Chromium (Debian's `chromium`, installed by Tools/setup.sh): the DOM after
/// the page's script ran must hold the timeline it drew, one dot per violation, and no markup from the trace.
struct HTMLTests {
    static func chromium() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Renders the trace to a temporary file and returns the DOM Chromium serialises after running the page.
    static func dump(_ trace: Trace) throws -> String { try dump(html: renderReport(trace, format: .html)) }

    /// Loads `html` in a window `width` pixels wide and returns the DOM after its scripts ran.
    static func dump(html: String, width: Int = 800) throws -> String {
        guard let chrome = chromium() else {
            Issue.record("chromium is not installed (Tools/setup.sh installs it)")
            return ""
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("captrace-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("report.html")
        try html.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["120", chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=\(width),900", "--hide-scrollbars",
                       "--user-data-dir=" + dir.appendingPathComponent("profile").path, "--dump-dom", file.absoluteString]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "chromium exited with \(p.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }

    static func count(_ needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }

    @Test func timelineIsDrawnByTheScript() throws {
        let trace = try Repo.trace("synthetic-demo.jsonl")
        let dom = try Self.dump(trace)
        #expect(dom.contains("<svg id=\"timeline-svg\""))
        #expect(Self.count("<circle", in: dom) == trace.violations.count)
        for v in trace.violations { #expect(dom.contains("data-seq=\"\(v.seq)\""), "seq \(v.seq)") }
        #expect(dom.contains("27 violations in 2 processes drawn"))
        #expect(dom.contains("href=\"#site-1\""))
        // The static part: one article per site, collapsible stacks, the descriptors table.
        #expect(Self.count("<article class=\"site", in: dom) == 24)
        #expect(dom.contains("<details>"))
        #expect(dom.contains("descriptors held at entry"))
        // The trace's `out/report <1>&"q".txt` stays text.
        #expect(dom.contains("report &lt;1&gt;&amp;\"q\".txt"))
        #expect(!dom.contains("<1>"))
    }

    @Test func hostileStringsStayText() throws {
        // A path that tries to close the data island and run a script, and one that injects an element.
        let evil = "/tmp/</script><script>document.title='pwned'</script><img src=x onerror=alert(1)>"
        var text = try Repo.read(Repo.fixtures.appendingPathComponent("synthetic-enforce-truncated.jsonl"))
        text = text.replacingOccurrences(of: "/var/cache/fetcher", with: evil.replacingOccurrences(of: "'", with: "\\u0027"))
        let trace = try TraceReader.parse(text)
        #expect(trace.violations.contains { $0.path == evil })
        let dom = try Self.dump(trace)
        #expect(!dom.contains("pwned</title>"))
        #expect(!dom.contains("<img"))
        #expect(Self.count("<script", in: dom) == 2)
        #expect(dom.contains("4 violations in 1 process drawn"))
        #expect(dom.contains("line 8 is incomplete"))
    }

    @Test func selfContained() throws {
        let html = renderReport(try Repo.trace("synthetic-demo.jsonl"), format: .html)
        for external in ["src=\"http", "href=\"http", "src=\"//", "@import", "url(", "<link", "fetch("] {
            #expect(!html.contains(external), "\(external)")
        }
        #expect(html.contains("Content-Security-Policy"))
    }
}
