import Testing
@testable import TraceModel

/// The JSON Lines schema of version 1 (still read, converted on read; still writable for tests and fixtures):
/// writer -> reader round trips, and what the reader accepts and refuses. Format 2: TraceFormat2Tests.
struct TraceModelTests {
    static func sampleEvents() -> [TraceEvent] {
        var h = HeaderEvent(argv: ["tcpdump", "-r", "a b.pcap"], trigger: "symbol:pcap_loop", mode: .enforce,
                            backend: .ptrace, started: "2026-11-29T04:20:00Z")
        h.version = 1
        h.denyErrno = "EACCES"
        h.stackDepth = 64
        h.unwinder = "libdw"
        h.allowlist = "openat filesystem/* path=\"/etc/a b\"\n    at libc.so.6!open\n"
        var spawn = ProcessEvent(event: .spawn, pid: 10, tid: 10, ppid: 1, capabilityMode: false, tNs: 5)
        spawn.path = "/usr/bin/tcpdump"
        var exit = ProcessEvent(event: .exit, pid: 10, tid: 10, ppid: 1, capabilityMode: true, tNs: 900)
        exit.exitStatus = 139
        exit.signal = "SIGSEGV"
        var exec = ProcessEvent(event: .exec, pid: 10, tid: 10, ppid: 1, capabilityMode: false, tNs: 6)
        exec.path = "/usr/bin/ping"
        exec.withheldPrivileges = "setuid uid 0, file capabilities"
        let frames = [
            Frame(pc: 0x7f00_0000_1234, module: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 0x1234, symbol: "open",
                  symbolOffset: 4, file: "open.c", line: 27),
            Frame(pc: 0x5555_0000_0042, module: "/usr/bin/tcpdump", offset: 0x42),
            Frame(pc: 0x1),
        ]
        let enter = EnterEvent(pid: 10, tid: 10, trigger: "symbol:pcap_loop", tNs: 7, stack: frames,
                               fds: [FDInfo(fd: 0, kind: .tty, path: "/dev/pts/0", flags: "O_RDWR")])
        var v = ViolationEvent(seq: 1, tNs: 8, pid: 10, tid: 11, abi: .i386, syscall: "openat", nr: 295,
                               namespace: .filesystem, rule: .absolutePath,
                               args: [("dirfd", .string("AT_FDCWD")), ("pathname", .string("/etc/\"quoted\"\n\u{1}é")),
                                      ("flags", .int(-1)), ("mode", .null)],
                               action: .denied, site: "00ff00ff00ff00ff", stack: frames)
        v.path = "/etc/\"quoted\"\n\u{1}é"
        v.errno = "EACCES"
        v.hint = "glibc-resolver"
        var w = ViolationEvent(seq: 2, tNs: 9, pid: 10, tid: 10, abi: .x86_64, syscall: "connect", nr: 42,
                               namespace: .network, rule: .socketAddress, args: [("addr", .string("[::1]:53"))],
                               action: .allowed, site: "0000000000000001", stack: [])
        w.address = "[::1]:53"
        w.result = 0
        var f = FDOpEvent(pid: 10, tid: 10, tNs: 10, fd: 3, syscall: "openat", right: .lookup)
        f.newFd = 4
        f.newKind = .file
        f.newPath = "/etc/x"
        f.stack = frames
        var s = SummaryEvent(violations: 2, sites: 2, processes: 1, exitStatus: 139, durationMs: 12)
        s.interrupted = true
        return [.header(h), .process(spawn), .process(exec), .enter(enter), .violation(v), .violation(w), .fdop(f), .process(exit), .summary(s)]
    }

    static func write(_ events: [TraceEvent]) throws -> String {
        let sink = MemorySink()
        let w = TraceWriter(sink: sink, version: 1)
        for e in events { try w.write(e) }
        return sink.text
    }

    @Test func roundTripKeepsEveryField() throws {
        let events = Self.sampleEvents()
        let text = try Self.write(events)
        #expect(text.split(separator: "\n").count == events.count, "one line per event")
        let trace = try TraceReader.parse(text)
        #expect(trace.warnings.isEmpty)
        #expect(trace.events == events)
        #expect(trace.violations.count == 2 && trace.summary?.interrupted == true)
    }

    @Test func fastViolationWriterMatchesTheTree() throws {
        for case .violation(let v) in Self.sampleEvents() {
            var fast: [UInt8] = []
            TraceCodec.appendViolation(v, to: &fast)
            #expect(String(decoding: fast, as: UTF8.self) == TraceCodec.json(.violation(v)).serialized())
        }
    }

    @Test func fieldNamesAreTheContracts() throws {
        let text = try Self.write(Self.sampleEvents())
        for key in ["\"type\":\"header\"", "\"format\":\"captrace\"", "\"version\":1", "\"capability_mode\":false",
                    "\"t_ns\":", "\"symbol_offset\":4", "\"offset\":\"0x1234\"", "\"pc\":\"0x7f0000001234\"",
                    "\"namespace\":\"filesystem\"", "\"rule\":\"absolute-path\"", "\"errno\":\"EACCES\"",
                    "\"hint\":null", "\"exit_status\":139", "\"duration_ms\":12", "\"symbol\":null"] {
            #expect(text.contains(key), "missing \(key)")
        }
        // Key order in args is the catalog's argument order.
        #expect(text.contains(#""args":{"dirfd":"AT_FDCWD","pathname":"#))
    }

    @Test func incompleteLastLineIsReadWithAWarning() throws {
        let text = try Self.write(Self.sampleEvents())
        let cut = String(text.dropLast(30))  // inside the summary line: no newline at the end
        let trace = try TraceReader.parse(cut)
        #expect(trace.events.count == Self.sampleEvents().count - 1)
        #expect(trace.warnings.contains { $0.contains("incomplete") })
        #expect(trace.warnings.contains { $0.contains("no summary") })
    }

    @Test func traceWithoutSummaryIsReadWithAWarning() throws {
        let events = Self.sampleEvents().dropLast()
        let trace = try TraceReader.parse(try Self.write(Array(events)))
        #expect(trace.events.count == events.count)
        #expect(trace.warnings == ["the trace has no summary line (the run was cut short)"])
    }

    @Test(arguments: [
        ("{\"type\":\"header\"", 1, "malformed JSON"),  // a broken first line that is followed by more lines
        ("[1,2]", 1, "not a JSON object"),
        ("{\"type\":\"process\",\"event\":\"spawn\",\"pid\":1,\"tid\":1,\"ppid\":0,\"capability_mode\":false,\"t_ns\":0}", 1,
         "the first line is not a captrace header"),
        ("{\"type\":\"header\",\"format\":\"other\",\"version\":1,\"argv\":[],\"trigger\":\"main\",\"mode\":\"observe\",\"backend\":\"ptrace\",\"started\":\"x\"}",
         1, "not a captrace trace"),
        ("{\"type\":\"header\",\"format\":\"captrace\",\"version\":3,\"argv\":[],\"trigger\":\"main\",\"mode\":\"observe\",\"backend\":\"ptrace\",\"started\":\"x\"}",
         1, "unsupported trace version 3 (this captrace reads versions 1 and 2)"),
    ])
    func malformedFirstLineIsRefused(line: String, number: Int, reason: String) throws {
        let text = line + "\n" + "{\"type\":\"summary\",\"violations\":0,\"sites\":0,\"processes\":1,\"exit_status\":0,\"duration_ms\":1}\n"
        #expect {
            try TraceReader.parse(text)
        } throws: { error in
            guard let e = error as? TraceReadError else { return false }
            return e.line == number && e.description.contains(reason)
        }
    }

    @Test(arguments: [
        ("{\"type\":\"violation\"}", "missing \"abi\""),
        ("{\"type\":\"bogus\"}", "unknown event type \"bogus\""),
        ("not json", "malformed JSON"),
        ("{\"type\":\"summary\",\"violations\":\"two\",\"sites\":0,\"processes\":1,\"exit_status\":0,\"duration_ms\":1}", "\"violations\" is not an integer"),
        ("", "empty line"),
    ])
    func malformedLineInTheMiddleNamesIt(line: String, reason: String) throws {
        let events = Self.sampleEvents()
        var lines = try Self.write(events).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.insert(line, at: 2)
        #expect {
            try TraceReader.parse(lines.joined(separator: "\n"))
        } throws: { error in
            guard let e = error as? TraceReadError else { return false }
            return e.line == 3 && e.description.hasPrefix("line 3: ") && e.description.contains(reason)
        }
    }

    @Test func emptyFileIsRefused() {
        #expect(throws: TraceReadError.self) { try TraceReader.parse("") }
    }

    @Test func jsonEscapesAndNumbers() throws {
        let v: JSONValue = .object([("s", .string("a\"b\\c\n\t\u{0}é😀")), ("i", .int(Int64.min)), ("j", .int(Int64.max)),
                                    ("d", .double(1.5)), ("b", .bool(true)), ("n", .null), ("a", .array([.int(0), .int(-7)]))])
        let text = v.serialized()
        #expect(text == #"{"s":"a\"b\\c\n\t\u0000é😀","i":-9223372036854775808,"j":9223372036854775807,"d":1.5,"b":true,"n":null,"a":[0,-7]}"#)
        #expect(try JSONValue.parse(text) == v)
        #expect(try JSONValue.parse(#""\ud83d\ude00\u00e9""#) == .string("😀é"))
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\":1} x") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("\"unterminated") }
    }

    @Test func siteIsStableAndIgnoresPCs() {
        let a = [Frame(pc: 0x7f00_0000_1000, module: "/lib/libc.so.6", offset: 0x1000)]
        let b = [Frame(pc: 0x7e00_0000_1000, module: "/lib/libc.so.6", offset: 0x1000)]  // another ASLR base
        let c = [Frame(pc: 0x7f00_0000_1000, module: "/lib/libc.so.6", offset: 0x1004)]
        #expect(Site.id(stack: a, syscall: "openat", detail: "/x") == Site.id(stack: b, syscall: "openat", detail: "/y"))
        #expect(Site.id(stack: a, syscall: "openat", detail: nil) != Site.id(stack: c, syscall: "openat", detail: nil))
        #expect(Site.id(stack: [], syscall: "openat", detail: "/x") != Site.id(stack: [], syscall: "openat", detail: "/y"))
        #expect(Site.id(stack: a, syscall: "openat", detail: nil).count == 16)
    }

    /// The ids are FNV-1a 64 in 16 lowercase hex digits (values from an independent implementation): traces and
    /// baselines written by earlier versions name the same sites.
    @Test func siteIDValues() {
        let a = [Frame(pc: 0x7f00_0000_1000, module: "/lib/libc.so.6", offset: 0x1000)]
        #expect(Site.id(stack: a, syscall: "openat", detail: nil) == "980b8702fc8941e1")
        #expect(Site.id(stack: a + [Frame(pc: 0x7f00_0000_2000)], syscall: "openat", detail: nil) == "f6f9714dd7ed9774")
        #expect(Site.id(stack: [], syscall: "openat", detail: "/x") == "0eb7f9d5992e2169")
    }
}
