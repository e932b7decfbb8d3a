import Foundation
import Reports
import Testing
import TraceModel

/// A trace shaped like `ls -lR /usr/share/doc` spread over many processes (issue 17): 41 processes forked after
/// entry, thousands of violations at two interleaved sites (so no site's sequence numbers form one run), a
/// distinct path per call and one path far wider than a page; every violation within 2 ms after an entry one
/// second into the run, and the run ending 10 ms after entry.
enum LargeTrace {
    static let processes = 41
    static let violations = 6000
    /// Entry into capability mode (t_ns) and the summary's duration.
    static let enterNs: UInt64 = 1_000_000_000
    static let durationMs = 1010
    static let spawnNs: UInt64 = 1_000_000

    static func text() -> String {
        var lines: [String] = []
        lines.append(#"{"type":"header","format":"captrace","version":1,"argv":["ls","-lR","/usr/share/doc"],"trigger":"main","mode":"observe","backend":"ptrace","arch":"x86_64","started":"2026-11-29T04:20:00Z","stack_depth":64,"unwinder":"libdw"}"#)
        lines.append(#"{"type":"process","event":"spawn","pid":1000,"tid":1000,"ppid":999,"capability_mode":false,"t_ns":\#(spawnNs),"path":"/usr/bin/ls"}"#)
        lines.append(#"{"type":"enter","pid":1000,"tid":1000,"trigger":"main","t_ns":\#(enterNs),"stack":[],"fds":[]}"#)
        for i in 1..<processes {
            lines.append(#"{"type":"process","event":"fork","pid":\#(1000 + i),"tid":\#(1000 + i),"ppid":1000,"capability_mode":true,"t_ns":\#(enterNs + UInt64(i) * 1000)}"#)
        }
        let wide = "/usr/share/doc/" + String(repeating: "x", count: 400)
        for seq in 1...violations {
            let pid = 1000 + seq % processes
            let t = enterNs + 50_000 + UInt64(seq) * 300
            let stat = seq % 3 == 0
            let path = seq == 9 ? wide : "/usr/share/doc/package-number-\(seq)/changelog.Debian.gz"
            let syscall = stat ? "newfstatat" : "openat"
            let nr = stat ? 262 : 257
            let site = stat ? "aaaaaaaaaaaaaaaa" : "bbbbbbbbbbbbbbbb"
            let fn = stat ? "do_lstat" : "print_dir"
            lines.append(#"{"type":"violation","seq":\#(seq),"t_ns":\#(t),"pid":\#(pid),"tid":\#(pid),"abi":"x86_64","syscall":"\#(syscall)","nr":\#(nr),"namespace":"filesystem","rule":"absolute-path","args":{"dirfd":"AT_FDCWD","pathname":"\#(path)"},"path":"\#(path)","action":"allowed","result":0,"site":"\#(site)","hint":null,"stack":[{"pc":"0x7f3a1c0fd001","module":"/usr/lib/x86_64-linux-gnu/libc.so.6","offset":"0xfd001","symbol":"__GI___open64_nocancel","symbol_offset":65,"file":null,"line":null},{"pc":"0x55d0c4a01522","module":"/usr/bin/ls","offset":"0x1522","symbol":"\#(fn)","symbol_offset":0,"file":"ls.c","line":44}]}"#)
        }
        lines.append(#"{"type":"summary","violations":\#(violations),"sites":2,"processes":\#(processes),"exit_status":0,"duration_ms":\#(durationMs)}"#)
        return lines.joined(separator: "\n") + "\n"
    }

    static func trace() throws -> Trace { try TraceReader.parse(text()) }
}

struct LargeTraceTests {
    @Test func textCapsEveryList() throws {
        let out = renderReport(try LargeTrace.trace(), format: .text)
        let lines = out.split(separator: "\n").map(String.init)
        let headers = lines.filter { $0.hasPrefix("site ") }
        #expect(headers.count == 2)
        for h in headers {
            #expect(h.contains(" … and 33 more "), "pids capped: \(h)")
            #expect(h.count <= 160, "\(h.count) characters: \(h)")
        }
        let seqs = lines.filter { $0.hasPrefix("  seq ") }
        #expect(seqs.count == 2)
        for s in seqs {
            #expect(s.hasSuffix(" more") && s.contains(" … and "), "seq capped: \(s)")
            #expect(s.count <= 160, "\(s.count) characters: \(s)")
        }
        #expect(lines.filter { $0.hasPrefix("  path ") }.count == 16)
        #expect(lines.contains("  … and 3992 more paths") && lines.contains("  … and 1992 more paths"), "\(lines.filter { $0.contains("more paths") })")
        // Only lines naming one item may be wide (the 400-character path).
        let wide = lines.filter { $0.count > 160 && !$0.hasPrefix("  path ") && !$0.hasPrefix("  openat(") && !$0.hasPrefix("  newfstatat(") }
        #expect(wide.isEmpty, "\(wide)")
    }

    @Test func htmlCapsEveryList() throws {
        let html = renderReport(try LargeTrace.trace(), format: .html)
        let lines = html.split(separator: "\n").map(String.init)
        let headers = lines.filter { $0.hasPrefix("<h3>site ") }
        #expect(headers.count == 2 && headers.allSatisfy { $0.contains(" … and 33 more ") && $0.count <= 300 }, "\(headers)")
        let seqs = lines.filter { $0.hasPrefix("<p>seq ") }
        #expect(seqs.count == 2 && seqs.allSatisfy { $0.contains(" … and ") && $0.count <= 200 }, "\(seqs)")
        let paths = lines.filter { $0.hasPrefix("<p>path ") }
        #expect(paths.count == 2 && paths.allSatisfy { $0.hasSuffix(" more paths</p>") }, "\(paths.map { $0.suffix(40) })")
    }

    /// Appends a script that records the page's layout widths on <body> (the page's CSP allows inline scripts).
    static func measured(_ html: String) -> String {
        html.replacingOccurrences(of: "</body>", with: """
            <script>document.body.setAttribute("data-scroll-width", String(document.documentElement.scrollWidth));\
            document.body.setAttribute("data-inner-width", String(window.innerWidth));</script></body>
            """)
    }

    static func attribute(_ name: String, in dom: String) -> Int? {
        guard let r = dom.range(of: name + "=\"") else { return nil }
        return Int(dom[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test("the HTML page of a large trace at 1280 px: no horizontal overflow")
    func noHorizontalOverflowAt1280() throws {
        let dom = try HTMLTests.dump(html: Self.measured(renderReport(try LargeTrace.trace(), format: .html)), width: 1280)
        let scroll = Self.attribute("data-scroll-width", in: dom), inner = Self.attribute("data-inner-width", in: dom)
        #expect(inner == 1280, "the window is 1280 px wide: \(String(describing: inner))")
        #expect(scroll != nil && scroll! <= 1280, "document.documentElement.scrollWidth = \(String(describing: scroll))")
        #expect(HTMLTests.count("<circle", in: dom) == LargeTrace.violations)
    }

    /// The x positions of the timeline's dots in a DOM Chromium serialised.
    static func dotXs(_ dom: String) -> [Double] {
        dom.components(separatedBy: "<circle cx=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
    }

    @Test("the timeline's axis runs from entry to the end of the run, so events close together are apart")
    func timelineFromEntry() throws {
        let dom = try HTMLTests.dump(html: renderReport(try LargeTrace.trace(), format: .html), width: 1280)
        let from = (LargeTrace.enterNs - LargeTrace.spawnNs) / 1000
        let to = (UInt64(LargeTrace.durationMs) * 1_000_000 - LargeTrace.spawnNs) / 1000
        #expect(Self.attribute("data-from-us", in: dom) == Int(from), "the axis starts at entry")
        #expect(Self.attribute("data-to-us", in: dom) == Int(to), "the axis ends with the run")
        let xs = Self.dotXs(dom)
        #expect(xs.count == LargeTrace.violations)
        // 1.8 ms of violations on a 10 ms axis: about a fifth of its 760 px, not one dot at the right edge.
        #expect((xs.max() ?? 0) - (xs.min() ?? 0) > 100, "spread \(xs.min() ?? 0)...\(xs.max() ?? 0)")
        #expect(Set(xs).count > 100, "\(Set(xs).count) distinct positions")
        #expect(dom.contains("first to last violation"), "the zoom control")
        #expect(dom.contains("from entry into capability mode"))
    }

    @Test("tcpdump: violations within milliseconds after entry are drawn apart")
    func timelineTcpdump() throws {
        let trace = try TraceReader.parse(Repo.read(Repo.tracesV1.appendingPathComponent("tcpdump-pcap_loop.jsonl")))
        let xs = Self.dotXs(try HTMLTests.dump(trace))
        #expect(xs.count == trace.violations.count)
        #expect(Set(xs.map { ($0 / 4).rounded() }).count >= min(10, xs.count / 2), "\(xs)")
    }
}
