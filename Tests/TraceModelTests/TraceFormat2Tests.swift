import SeccompBPF
import SyscallCatalog
import Testing
@testable import TraceModel

/// Trace format 2: facts written once and referred to by id. Round trips of every event kind, compactness,
/// cuts at any byte, and bad input named by line.
struct TraceFormat2Tests {
    static let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
    static let frames = [
        Frame(pc: 0x7f00_0000_1234, module: libc, offset: 0x1234, symbol: "open", symbolOffset: 4, file: "open.c", line: 27),
        Frame(pc: 0x5555_0000_0042, module: "/usr/bin/tcpdump", offset: 0x42),
        Frame(pc: 0x1),
    ]

    /// A violation as the recorder makes it: facts, and the rendering of those facts.
    static func violation(seq: Int, abi: ABI = .x86_64, _ name: String, rule: Rule, raw: RawCall,
                          stack: [Frame] = frames) -> ViolationEvent {
        let nr = Catalog.shared.number(of: name, abi: abi)!
        let r = CallRendering.render(Catalog.shared.syscall(abi: abi, nr: nr), abi: abi, raw: raw)
        var v = ViolationEvent(seq: seq, tNs: UInt64(100 + seq), pid: 10, tid: 10, abi: abi, syscall: name, nr: nr,
                               namespace: rule.namespace, rule: rule, args: r.args, action: .allowed,
                               site: Site.id(stack: stack, syscall: name, detail: r.path ?? r.address), stack: stack)
        v.path = r.path
        v.address = r.address
        v.raw = raw
        return v
    }

    static func sampleEvents() -> [TraceEvent] {
        var events = TraceModelTests.sampleEvents()
        if case .header(var h) = events[0] { h.version = 2; events[0] = .header(h) }
        // Format 2 writes no hint (hints are analysis); the v1 sample's is dropped.
        for i in events.indices { if case .violation(var v) = events[i] { v.hint = nil; events[i] = .violation(v) } }
        var rel = RawCall(args: [UInt64(bitPattern: -100), 0x7ffd_0000_1000, 0o2000000, 0], base: "/home/u")
        rel.memory.strings[1] = "sub/../x.txt"
        var open = violation(seq: 3, "openat", rule: .cwdRelative, raw: rel)
        open.errno = "ENOENT"
        var sa = MemoryRead()
        sa.sockaddr = [2, 0, 0, 53, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        var connect = violation(seq: 4, "connect", rule: .socketAddress,
                                raw: RawCall(args: [3, 0x7ffd_0000_2000, 16], memory: sa), stack: [])
        connect.result = 0
        connect.action = .denied
        var sc = MemoryRead()
        sc.socketcall = [5, 0xffd0_0000, 110, 0, 0, 0]
        sc.sockaddr = [1, 0] + Array("/run/nscd/socket".utf8) + [0]
        let i386 = violation(seq: 5, abi: .i386, "socketcall", rule: .socketAddress,
                             raw: RawCall(args: [3, 0xffd0_1000], memory: sc))
        let unreadable = violation(seq: 6, "openat", rule: .unreadablePath,
                                   raw: RawCall(args: [UInt64(bitPattern: -100), 0xdead, 0, 0]))
        var v6 = MemoryRead()
        v6.sockaddr = [10, 0, 0, 53, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 15) + [1, 0, 0, 0, 0]
        let connect6 = violation(seq: 7, "connect", rule: .socketAddress, raw: RawCall(args: [4, 0x1000, 28], memory: v6))
        let summary = events.removeLast()
        let program = [Instruction(code: 0x20, k: 0), Instruction(code: 0x15, jt: 0, jf: 1, k: 63),
                       Instruction(code: 0x06, k: 0x0005_0001), Instruction(code: 0x06, k: 0x7fff_0000)]
        let filter = SeccompFilterEvent(id: 1, pid: 10, tid: 11, tNs: 150, syscall: "seccomp", flags: 8, program: program,
                                        stack: frames)
        var refusal = RefusalEvent(pid: 10, tid: 11, tNs: 160, abi: .x86_64, nr: 63, syscall: "uname",
                                   args: [0x7ffd_0000_3000, 0, 0, 0, 0, UInt64.max], value: 0x0005_0001, filter: 1,
                                   stack: frames)
        refusal.result = -1
        let killed = RefusalEvent(pid: 10, tid: 10, tNs: 170, abi: .i386, nr: 122, syscall: "uname", args: [1],
                                  value: 0x8000_0000, filter: 1, stack: [])
        events += [.violation(open), .violation(connect), .violation(i386), .seccompFilter(filter), .refusal(refusal),
                   .refusal(killed), .violation(unreadable), .violation(connect6), .violation(open), summary]
        return events
    }

    static func write(_ events: [TraceEvent]) throws -> String {
        let sink = MemorySink()
        let w = TraceWriter(sink: sink)
        for e in events { try w.write(e) }
        return sink.text
    }

    @Test func roundTripOfEveryEventKind() throws {
        let events = Self.sampleEvents()
        let text = try Self.write(events)
        let trace = try TraceReader.parse(text)
        #expect(trace.warnings.isEmpty)
        #expect(trace.header?.version == 2)
        #expect(trace.events.count == events.count)
        for (a, b) in zip(trace.events, events) { #expect(a == b) }
        // Rendered at read time from the facts.
        let v = trace.violations
        #expect(v[2].path == "/home/u/x.txt" && v[2].arg("flags") == .string("O_RDONLY|O_CLOEXEC") && v[2].errno == "ENOENT")
        #expect(v[3].address == "127.0.0.1:53" && v[3].action == .denied)
        #expect(v[4].address == "unix:/run/nscd/socket" && v[4].args.first?.1 == .string("connect"))
        #expect(v[5].arg("pathname") == .string("<unreadable 0xdead>"))
        #expect(v[6].address == "[::1]:53")
    }

    @Test func definitionsAreWrittenOnceAndARepeatIsAShortLine() throws {
        let text = try Self.write(Self.sampleEvents())
        let lines = text.split(separator: "\n")
        #expect(lines.filter { $0.contains(#""type":"module""#) }.count == 2)
        #expect(lines.filter { $0.contains(#""type":"stack""#) }.count == 1, "one stack, shared by every event")
        #expect(lines.filter { $0.contains("\"path\":\"\(Self.libc)\"") }.count == 1)
        // The last violation repeats a known call: one line, no definition, short.
        let last = lines[lines.count - 2]
        #expect(lines[lines.count - 3].contains(#""type":"violation""#))
        #expect(last.hasPrefix(#"{"type":"violation","seq":3,"#) && last.utf8.count < 100, "\(last)")
        #expect(!text.contains("\"hint\""))
    }

    /// A trace cut at any byte of its last lines reads up to its last complete line, with a warning.
    @Test func cutAtEveryByteOfTheLastLines() throws {
        let events = Self.sampleEvents()
        let bytes = Array(try Self.write(events).utf8)
        let newlines = bytes.indices.filter { bytes[$0] == 0x0A }
        let from = newlines[newlines.count - 6] + 1
        for cut in from..<bytes.count {
            let prefix = Array(bytes[0..<cut])
            let trace = try TraceReader.parse(bytes: prefix)
            #expect(Array(events.prefix(trace.events.count)) == trace.events, "cut at \(cut)")
            let atLineEnd = cut == bytes.count || bytes[cut - 1] == 0x0A || bytes[cut] == 0x0A
            if !atLineEnd { #expect(trace.warnings.contains { $0.contains("incomplete") }, "cut at \(cut)") }
            #expect(trace.events.count >= events.count - 6)
        }
    }

    static let header = #"{"type":"header","format":"captrace","version":2,"argv":["x"],"trigger":"main","mode":"observe","backend":"ptrace","started":"x"}"#
    static let process = #"{"type":"process","event":"spawn","pid":1,"tid":1,"ppid":0,"capability_mode":false,"t_ns":0}"#

    @Test(arguments: [
        (#"{"type":"stack","id":1,"frames":[7]}"#, "stack 1 refers to frame 7, which is not defined"),
        (#"{"type":"frame","id":1,"pc":"0x10","module":4}"#, "frame 1 refers to module 4, which is not defined"),
        (#"{"type":"call","id":1,"abi":"x86_64","nr":2,"syscall":"open","namespace":"filesystem","rule":"absolute-path","regs":["0x0"],"stack":9}"#,
         "stack 9 is not defined"),
        (#"{"type":"violation","seq":1,"t_ns":1,"pid":1,"tid":1,"call":5}"#, "call 5 is not defined"),
        (#"{"type":"enter","pid":1,"tid":1,"trigger":"main","t_ns":1,"stack":3,"fds":[]}"#, "stack 3 is not defined"),
        (#"{"type":"call","id":1,"abi":"x86_64","nr":2,"syscall":"open","namespace":"filesystem","rule":"absolute-path"}"#,
         "a call needs \"regs\" or \"args\""),
    ])
    func badReferencesNameTheLine(line: String, reason: String) throws {
        let text = [Self.header, Self.process, Self.process, line, Self.process].joined(separator: "\n") + "\n"
        #expect {
            try TraceReader.parse(text)
        } throws: { error in
            guard let e = error as? TraceReadError else { return false }
            // Every line before it was valid, and is counted.
            return e.line == 4 && e.description == "line 4: \(reason)" && e.eventsBefore == 3
        }
    }

    @Test func aHeaderOfVersion3IsRefused() throws {
        let text = #"{"type":"header","format":"captrace","version":3,"argv":["x"],"trigger":"main","mode":"observe","backend":"ptrace","started":"x"}"# + "\n"
        #expect {
            try TraceReader.parse(text)
        } throws: { error in
            (error as? TraceReadError)?.description == "line 1: unsupported trace version 3 (this captrace reads versions 1 and 2)"
        }
    }

    /// Flag arguments by name, from the catalog's argument kinds and flag tables (issue 14, item 7).
    @Test func flagArgumentsAreRenderedByName() {
        func args(_ name: String, _ regs: [UInt64], strings: [Int: String] = [:]) -> [String: ArgValue] {
            var raw = RawCall(args: regs)
            raw.memory.strings = strings
            let r = CallRendering.render(Catalog.shared.syscall(named: name), abi: .x86_64, raw: raw)
            return Dictionary(r.args.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        }
        #expect(args("statx", [UInt64(bitPattern: -100), 1, 0x100, 606, 2], strings: [1: "/x"])["mask"]
                == .string("STATX_MODE|STATX_NLINK|STATX_UID|STATX_GID|STATX_MTIME|STATX_SIZE"))
        #expect(args("statx", [3, 1, 0x1000, 0xfff, 2], strings: [1: ""])["mask"] == .string("STATX_BASIC_STATS|STATX_BTIME"))
        #expect(args("access", [1, 4], strings: [0: "/etc"])["mode"] == .string("R_OK"))
        #expect(args("faccessat", [3, 1, 0], strings: [1: "x"])["mode"] == .string("F_OK"))
        let shm = args("shmget", [0x5100_1234, 4096, 896])
        #expect(shm["key"] == .string("0x51001234") && shm["shmflg"] == .string("IPC_CREAT|0600"))
        #expect(args("semget", [0, 1, 0o3666])["key"] == .string("IPC_PRIVATE"))
        #expect(args("semget", [0, 1, 0o3666])["semflg"] == .string("IPC_CREAT|IPC_EXCL|0666"))
        let raw = args("socket", [2, 3 | 0o2000000, 1])
        #expect(raw["domain"] == .string("AF_INET") && raw["type"] == .string("SOCK_RAW|SOCK_CLOEXEC")
                && raw["protocol"] == .string("IPPROTO_ICMP"))
        let unix = args("socket", [1, 1 | 0o4000, 0])
        #expect(unix["domain"] == .string("AF_UNIX") && unix["type"] == .string("SOCK_STREAM|SOCK_NONBLOCK")
                && unix["protocol"] == .int(0))
    }

    /// The v1 sample, written as format 2 (rendered arguments kept as they were) and read back, is unchanged.
    @Test func aVersion1TraceConvertsWithoutLoss() throws {
        let v1 = TraceModelTests.sampleEvents()
        let trace = try TraceReader.parse(try Self.write(v1))
        for (a, b) in zip(trace.events, v1) {
            switch (a, b) {
            case (.header(let x), .header(var y)): y.version = 2; #expect(x == y)
            case (.violation(let x), .violation(var y)): y.hint = nil; #expect(x == y)
            default: #expect(a == b)
            }
        }
    }
}

extension Rule {
    var namespace: Namespace {
        switch self {
        case .absolutePath, .cwdRelative, .dotdotEscape, .symlinkEscape, .unreadablePath, .exec: .filesystem
        case .socketAddress, .rawSocket: .network
        case .otherProcess, .processGroup: .process
        case .sysvIPC, .posixMQ: .ipc
        case .systemState: .system
        case .ioUring: .bypass
        case .seccompProfile: .policy
        }
    }
}

@Suite struct PolicyRecordTests {
    @Test("a --policy header and a refusal's decided_by survive the trip through format 2")
    func roundTrip() throws {
        var h = HeaderEvent(argv: ["/bin/true"], trigger: "exec", mode: .enforce, backend: .notify, started: "2026-12-01T00:00:00Z")
        h.policy = PolicyInfo(kind: "seccomp-profile", path: "p.json", sha256: String(repeating: "ab", count: 32),
                              capabilitySet: "all", capabilities: ["CAP_CHOWN"])
        var v = ViolationEvent(seq: 1, tNs: 5, pid: 10, tid: 10, abi: .x86_64, syscall: "add_key", nr: 248,
                               namespace: .policy, rule: .seccompProfile, args: [], action: .denied, site: "", stack: [])
        v.raw = RawCall(args: [1, 2, 3, 4, 5, 6])
        v.errno = "EACCES"
        v.verdict = PolicyVerdict(source: .entry(index: 3, matched: "add_key", names: ["add_key", "keyctl"]),
                                  action: "SCMP_ACT_ERRNO", errno: "EACCES", conflicting: [7])
        var w = v
        w.seq = 2
        w.verdict = PolicyVerdict(source: .defaultAction, action: "SCMP_ACT_ERRNO", errno: "EPERM")
        var out: [UInt8] = []
        let enc = TraceEncoderV2()
        for e in [TraceEvent.header(h), .violation(v), .violation(w)] { enc.append(e, to: &out) }
        let t = try TraceReader.parse(String(decoding: out, as: UTF8.self))
        #expect(t.header?.policy == h.policy)
        #expect(t.violations.map(\.verdict) == [v.verdict, w.verdict])
        #expect(t.violations.first?.rule == .seccompProfile && t.violations.first?.namespace == .policy)
        #expect(v.verdict?.sourceText == "syscalls[3] (add_key, keyctl)" && w.verdict?.actionText == "SCMP_ACT_ERRNO (EPERM)")
    }

    @Test("violations sharing a call (as the recorder hands out repeats) are written as if each were built afresh, across a table reset")
    func sharedCalls() {
        var dot = RawCall(args: [UInt64(bitPattern: -100), 0x1000, 0, 0], base: "/home/u")
        dot.memory.strings[1] = "."
        var other = dot
        other.memory.strings[1] = "b"
        let a = TraceFormat2Tests.violation(seq: 0, "newfstatat", rule: .cwdRelative, raw: dot)
        let b = TraceFormat2Tests.violation(seq: 0, "newfstatat", rule: .cwdRelative, raw: other)
        func event(_ k: Int, seq: Int, shared: Bool) -> ViolationEvent {
            var v = shared ? (k == 0 ? a : b) : TraceFormat2Tests.violation(seq: 0, "newfstatat", rule: .cwdRelative, raw: k == 0 ? dot : other)
            v.seq = seq
            v.pid = Int32(10 + seq)
            v.tid = v.pid
            return v
        }
        func encode(shared: Bool) -> String {
            let enc = TraceEncoderV2()
            var out: [UInt8] = []
            for (i, k) in [0, 0, 0, 1, 1, 0, 0].enumerated() { enc.append(.violation(event(k, seq: i + 1, shared: shared)), to: &out) }
            // The stack table emptied (as other events' stacks do): the next repeat defines its stack and call again.
            var elsewhere: [UInt8] = []
            for i in 0...TraceEncoderV2.tableLimit { _ = enc.stackID([Frame(pc: UInt64(i + 1))], name: nil, out: &elsewhere) }
            enc.append(.violation(event(0, seq: 8, shared: shared)), to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(event(0, seq: 1, shared: true).sharesCall(with: event(0, seq: 2, shared: true)))
        #expect(!event(0, seq: 1, shared: false).sharesCall(with: event(0, seq: 2, shared: false)))
        let shared = encode(shared: true)
        #expect(shared == encode(shared: false))
        #expect(shared.components(separatedBy: #""type":"call""#).count - 1 == 3)
        #expect(shared.components(separatedBy: #""type":"violation""#).count - 1 == 8)
    }

    @Test("SHA-256 of known inputs (FIPS 180-4 examples)")
    func sha256() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
