import SeccompBPF
import SyscallCatalog

/// Maps trace events to and from their JSON Lines form (field names as in the contract: snake_case).
public enum TraceCodec {
    public static func json(_ event: TraceEvent) -> JSONValue {
        switch event {
        case .header(let h):
            var o: [(String, JSONValue)] = [
                ("type", "header"), ("format", .string(h.format)), ("version", .int(Int64(h.version))),
                ("argv", .array(h.argv.map { .string($0) })), ("trigger", .string(h.trigger)),
                ("mode", .string(h.mode.rawValue)), ("backend", .string(h.backend.rawValue)), ("arch", .string(h.arch)),
                ("started", .string(h.started)),
            ]
            if let v = h.denyErrno { o.append(("deny_errno", .string(v))) }
            if let v = h.stackDepth { o.append(("stack_depth", .int(Int64(v)))) }
            if let v = h.unwinder { o.append(("unwinder", .string(v))) }
            if let v = h.rights { o.append(("rights", .bool(v))) }
            if let v = h.syscalls { o.append(("syscalls", .bool(v))) }
            if let v = h.allowlist { o.append(("allowlist", .string(v))) }
            if let v = h.landlockABI { o.append(("landlock_abi", .int(Int64(v)))) }
            if let v = h.cwd { o.append(("cwd", .string(v))) }
            if let v = h.home { o.append(("home", .string(v))) }
            if let v = h.tmpdir { o.append(("tmpdir", .string(v))) }
            if let v = h.policy { o.append(("policy", v.json)) }
            return .object(o)
        case .process(let p):
            var o: [(String, JSONValue)] = [
                ("type", "process"), ("event", .string(p.event.rawValue)), ("pid", .int(Int64(p.pid))),
                ("tid", .int(Int64(p.tid))), ("ppid", .int(Int64(p.ppid))),
                ("capability_mode", .bool(p.capabilityMode)), ("t_ns", .int(Int64(bitPattern: p.tNs))),
            ]
            if let v = p.path { o.append(("path", .string(v))) }
            if let v = p.exitStatus { o.append(("exit_status", .int(Int64(v)))) }
            if let v = p.signal { o.append(("signal", .string(v))) }
            if let v = p.withheldPrivileges { o.append(("withheld_privileges", .string(v))) }
            return .object(o)
        case .enter(let e):
            var o: [(String, JSONValue)] = [
                ("type", "enter"), ("pid", .int(Int64(e.pid))), ("tid", .int(Int64(e.tid))),
                ("trigger", .string(e.trigger)), ("t_ns", .int(Int64(bitPattern: e.tNs))),
            ]
            if let v = e.inheritedFrom { o.append(("inherited_from", .int(Int64(v)))) }
            o.append(("stack", .array(e.stack.map(json))))
            o.append(("fds", .array(e.fds.map(json))))
            return .object(o)
        case .violation(let v):
            var o: [(String, JSONValue)] = [
                ("type", "violation"), ("seq", .int(Int64(v.seq))), ("t_ns", .int(Int64(bitPattern: v.tNs))),
                ("pid", .int(Int64(v.pid))), ("tid", .int(Int64(v.tid))), ("abi", .string(v.abi.rawValue)),
                ("syscall", .string(v.syscall)), ("nr", .int(Int64(v.nr))),
                ("namespace", .string(v.namespace.rawValue)), ("rule", .string(v.rule.rawValue)),
                ("args", .object(v.args.map { ($0.0, json($0.1)) })),
            ]
            if let p = v.path { o.append(("path", .string(p))) }
            if let a = v.address { o.append(("address", .string(a))) }
            if let t = v.resolved { o.append(("resolved", .string(t))) }
            o.append(("action", .string(v.action.rawValue)))
            if let r = v.result { o.append(("result", .int(r))) }
            if let e = v.errno { o.append(("errno", .string(e))) }
            o.append(("site", .string(v.site)))
            o.append(("hint", v.hint.map { .string($0) } ?? .null))
            o.append(("stack", .array(v.stack.map(json))))
            if let d = v.verdict { o.append(("decided_by", d.json)) }
            return .object(o)
        case .fdop(let f):
            var o: [(String, JSONValue)] = [
                ("type", "fdop"), ("pid", .int(Int64(f.pid))), ("tid", .int(Int64(f.tid))),
                ("t_ns", .int(Int64(bitPattern: f.tNs))), ("fd", .int(Int64(f.fd))),
                ("syscall", .string(f.syscall)), ("right", .string(f.right?.rawValue ?? "none")),
            ]
            if let v = f.detail { o.append(("detail", .string(v))) }
            if let v = f.newFd { o.append(("new_fd", .int(Int64(v)))) }
            if let v = f.newKind { o.append(("new_kind", .string(v.rawValue))) }
            if let v = f.newPath { o.append(("new_path", .string(v))) }
            if let v = f.site { o.append(("site", .string(v))) }
            if let v = f.stack { o.append(("stack", .array(v.map(json)))) }
            return .object(o)
        case .syscalls(let s):
            return json(syscalls: s)
        case .landlock(let e): return json(landlock: e, stack: .array(e.stack.map(json)))
        case .landlockDenial(let e): return json(landlockDenial: e, stack: .array(e.stack.map(json)))
        case .seccompFilter(let f):
            return .object([
                ("type", "seccomp_filter"), ("id", .int(Int64(f.id))), ("pid", .int(Int64(f.pid))),
                ("tid", .int(Int64(f.tid))), ("t_ns", .int(Int64(bitPattern: f.tNs))), ("syscall", .string(f.syscall)),
                ("flags", .int(Int64(bitPattern: f.flags))),
                ("program", .array(f.program.map { .array([.int(Int64($0.code)), .int(Int64($0.jt)), .int(Int64($0.jf)), .int(Int64($0.k))]) })),
                ("stack", .array(f.stack.map(json))),
            ])
        case .refusal(let r):
            var o: [(String, JSONValue)] = [
                ("type", "refusal"), ("pid", .int(Int64(r.pid))), ("tid", .int(Int64(r.tid))),
                ("t_ns", .int(Int64(bitPattern: r.tNs))), ("abi", .string(r.abi.rawValue)), ("nr", .int(Int64(r.nr))),
                ("syscall", .string(r.syscall)), ("regs", .array(r.args.map { .string(hex($0)) })),
                ("value", .string(hex(UInt64(r.value)))), ("action", .string(r.action)), ("filter", .int(Int64(r.filter))),
            ]
            if let v = r.result { o.append(("result", .int(v))) }
            o.append(("stack", .array(r.stack.map(json))))
            return .object(o)
        case .summary(let s):
            var o: [(String, JSONValue)] = [
                ("type", "summary"), ("violations", .int(Int64(s.violations))), ("sites", .int(Int64(s.sites))),
                ("processes", .int(Int64(s.processes))), ("exit_status", .int(Int64(s.exitStatus))),
                ("duration_ms", .int(Int64(s.durationMs))),
            ]
            if let v = s.interrupted { o.append(("interrupted", .bool(v))) }
            return .object(o)
        }
    }

    public static func json(_ f: Frame) -> JSONValue {
        .object([
            ("pc", .string(hex(f.pc))),
            ("module", f.module.map { .string($0) } ?? .null),
            ("offset", f.offset.map { .string(hex($0)) } ?? .null),
            ("symbol", f.symbol.map { .string($0) } ?? .null),
            ("symbol_offset", f.symbolOffset.map { .int(Int64($0)) } ?? .null),
            ("file", f.file.map { .string($0) } ?? .null),
            ("line", f.line.map { .int(Int64($0)) } ?? .null),
        ])
    }

    public static func json(_ d: FDInfo) -> JSONValue {
        .object([("fd", .int(Int64(d.fd))), ("kind", .string(d.kind.rawValue)), ("path", .string(d.path)),
                 ("flags", .string(d.flags))])
    }

    public static func json(_ a: ArgValue) -> JSONValue {
        switch a {
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        case .null: return .null
        }
    }

    public static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    // MARK: decoding

    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    public static func event(from v: JSONValue) throws(DecodeError) -> TraceEvent {
        guard case .object = v else { throw DecodeError(reason: "not a JSON object") }
        guard let type = v["type"]?.stringValue else { throw DecodeError(reason: "missing \"type\"") }
        var r = FieldReader(object: v)
        switch type {
        case "header":
            let modeText = try r.string("mode"), backendText = try r.string("backend")
            guard let mode = Mode(rawValue: modeText) else { throw DecodeError(reason: "unknown mode \"\(modeText)\"") }
            guard let backend = Backend(rawValue: backendText) else {
                throw DecodeError(reason: "unknown backend \"\(backendText)\"")
            }
            var h = HeaderEvent(argv: try r.strings("argv"), trigger: try r.string("trigger"), mode: mode,
                                backend: backend, started: try r.string("started"))
            h.format = try r.string("format")
            h.version = try r.int("version")
            guard h.format == TraceFormat.name else { throw DecodeError(reason: "not a captrace trace (format \"\(h.format)\")") }
            guard TraceFormat.readable.contains(h.version) else {
                throw DecodeError(reason: "unsupported trace version \(h.version) (this captrace reads versions "
                                  + TraceFormat.readable.map(String.init).joined(separator: " and ") + ")")
            }
            h.arch = try r.optString("arch") ?? "x86_64"
            h.denyErrno = try r.optString("deny_errno")
            h.stackDepth = try r.optInt("stack_depth")
            h.unwinder = try r.optString("unwinder")
            h.rights = v["rights"]?.boolValue
            h.syscalls = v["syscalls"]?.boolValue
            h.allowlist = try r.optString("allowlist")
            h.landlockABI = try r.optInt("landlock_abi")
            h.cwd = try r.optString("cwd")
            h.home = try r.optString("home")
            h.tmpdir = try r.optString("tmpdir")
            if let p = v["policy"], !p.isNull { h.policy = try PolicyInfo(json: p) }
            return .header(h)
        case "process":
            guard let kind = ProcessEventKind(rawValue: try r.string("event")) else {
                throw DecodeError(reason: "unknown process event \"\(v["event"]?.stringValue ?? "")\"")
            }
            var p = ProcessEvent(event: kind, pid: try r.int32("pid"), tid: try r.int32("tid"), ppid: try r.int32("ppid"),
                                 capabilityMode: try r.bool("capability_mode"), tNs: try r.uint64("t_ns"))
            p.path = try r.optString("path")
            p.exitStatus = try r.optInt("exit_status").map(Int32.init)
            p.signal = try r.optString("signal")
            p.withheldPrivileges = try r.optString("withheld_privileges")
            return .process(p)
        case "enter":
            var e = EnterEvent(pid: try r.int32("pid"), tid: try r.int32("tid"), trigger: try r.string("trigger"),
                               tNs: try r.uint64("t_ns"), stack: try frames(v["stack"]), fds: try fds(v["fds"]))
            e.inheritedFrom = try r.optInt("inherited_from").map(Int32.init)
            return .enter(e)
        case "violation":
            guard let abi = ABI(rawValue: try r.string("abi")) else { throw DecodeError(reason: "unknown abi") }
            guard let ns = Namespace(rawValue: try r.string("namespace")) else {
                throw DecodeError(reason: "unknown namespace \"\(v["namespace"]?.stringValue ?? "")\"")
            }
            guard let rule = Rule(rawValue: try r.string("rule")) else {
                throw DecodeError(reason: "unknown rule \"\(v["rule"]?.stringValue ?? "")\"")
            }
            guard let action = Action(rawValue: try r.string("action")) else { throw DecodeError(reason: "unknown action") }
            var args: [(String, ArgValue)] = []
            if let o = v["args"]?.objectValue {
                for (k, a) in o {
                    switch a {
                    case .int(let i): args.append((k, .int(i)))
                    case .string(let s): args.append((k, .string(s)))
                    case .null: args.append((k, .null))
                    default: throw DecodeError(reason: "argument \"\(k)\" is not a scalar")
                    }
                }
            } else if v["args"] != nil { throw DecodeError(reason: "\"args\" is not an object") }
            var e = ViolationEvent(seq: try r.int("seq"), tNs: try r.uint64("t_ns"), pid: try r.int32("pid"),
                                   tid: try r.int32("tid"), abi: abi, syscall: try r.string("syscall"), nr: try r.int("nr"),
                                   namespace: ns, rule: rule, args: args, action: action, site: try r.string("site"),
                                   stack: try frames(v["stack"]))
            e.path = try r.optString("path")
            e.address = try r.optString("address")
            e.resolved = try r.optString("resolved")
            e.result = try r.optInt("result").map(Int64.init)
            e.errno = try r.optString("errno")
            e.hint = try r.optString("hint")
            if let d = v["decided_by"], !d.isNull { e.verdict = try PolicyVerdict(json: d) }
            return .violation(e)
        case "fdop":
            let rightName = try r.string("right")
            var right: CapRight? = nil
            if rightName != "none" {
                guard let known = CapRight(rawValue: rightName) else { throw DecodeError(reason: "unknown right") }
                right = known
            }
            var f = FDOpEvent(pid: try r.int32("pid"), tid: try r.int32("tid"), tNs: try r.uint64("t_ns"),
                              fd: try r.int32("fd"), syscall: try r.string("syscall"), right: right)
            f.detail = try r.optString("detail")
            f.newFd = try r.optInt("new_fd").map(Int32.init)
            if let k = try r.optString("new_kind") {
                guard let kind = DescriptorKind(rawValue: k) else { throw DecodeError(reason: "unknown descriptor kind") }
                f.newKind = kind
            }
            f.newPath = try r.optString("new_path")
            f.site = try r.optString("site")
            if let s = v["stack"], !s.isNull { f.stack = try frames(s) }
            return .fdop(f)
        case "syscalls":
            return .syscalls(try syscalls(from: v))
        case "landlock": return .landlock(try landlock(v, stack: try frames(v["stack"])))
        case "landlock_denial": return .landlockDenial(try landlockDenial(v, stack: try frames(v["stack"])))
        case "seccomp_filter":
            guard let a = v["program"]?.arrayValue else { throw DecodeError(reason: "\"program\" is not an array") }
            var program: [Instruction] = []
            program.reserveCapacity(a.count)
            for x in a {
                guard let w = x.arrayValue, w.count == 4, let c = w[0].intValue, let jt = w[1].intValue,
                      let jf = w[2].intValue, let k = w[3].intValue, (0...0xffff).contains(c), (0...255).contains(jt),
                      (0...255).contains(jf), (0...0xffff_ffff).contains(k) else {
                    throw DecodeError(reason: "\"program\" holds an instruction that is not [code, jt, jf, k]")
                }
                program.append(Instruction(code: UInt16(c), jt: UInt8(jt), jf: UInt8(jf), k: UInt32(k)))
            }
            return .seccompFilter(SeccompFilterEvent(
                id: try r.int("id"), pid: try r.int32("pid"), tid: try r.int32("tid"), tNs: try r.uint64("t_ns"),
                syscall: try r.string("syscall"), flags: UInt64(bitPattern: Int64(try r.int("flags"))), program: program,
                stack: try frames(v["stack"])))
        case "refusal":
            guard let abi = ABI(rawValue: try r.string("abi")) else { throw DecodeError(reason: "unknown abi") }
            guard let regs = v["regs"]?.arrayValue else { throw DecodeError(reason: "\"regs\" is not an array") }
            var args: [UInt64] = []
            for x in regs {
                guard let s = x.stringValue, let w = parseHex(s) else { throw DecodeError(reason: "\"regs\" holds a value that is not hex") }
                args.append(w)
            }
            guard let value = parseHex(try r.string("value")), value <= 0xffff_ffff else {
                throw DecodeError(reason: "\"value\" is not a 32-bit hex value")
            }
            var e = RefusalEvent(pid: try r.int32("pid"), tid: try r.int32("tid"), tNs: try r.uint64("t_ns"), abi: abi,
                                 nr: try r.int("nr"), syscall: try r.string("syscall"), args: args,
                                 value: UInt32(value), filter: try r.int("filter"), stack: try frames(v["stack"]))
            e.result = try r.optInt("result").map(Int64.init)
            return .refusal(e)
        case "summary":
            var s = SummaryEvent(violations: try r.int("violations"), sites: try r.int("sites"),
                                 processes: try r.int("processes"), exitStatus: try r.int32("exit_status"),
                                 durationMs: try r.int("duration_ms"))
            s.interrupted = v["interrupted"]?.boolValue
            return .summary(s)
        default:
            throw DecodeError(reason: "unknown event type \"\(type)\"")
        }
    }

    static func frames(_ v: JSONValue?) throws(DecodeError) -> [Frame] {
        guard let v, !v.isNull else { return [] }
        guard let a = v.arrayValue else { throw DecodeError(reason: "\"stack\" is not an array") }
        var out: [Frame] = []
        for f in a {
            var r = FieldReader(object: f)
            guard let pc = parseHex(try r.string("pc")) else { throw DecodeError(reason: "frame pc is not hex") }
            var frame = Frame(pc: pc)
            frame.module = try r.optString("module")
            frame.offset = try r.optString("offset").flatMap(parseHex)
            frame.symbol = try r.optString("symbol")
            frame.symbolOffset = try r.optInt("symbol_offset").map { UInt64($0) }
            frame.file = try r.optString("file")
            frame.line = try r.optInt("line")
            out.append(frame)
        }
        return out
    }

    static func fds(_ v: JSONValue?) throws(DecodeError) -> [FDInfo] {
        guard let v, !v.isNull else { return [] }
        guard let a = v.arrayValue else { throw DecodeError(reason: "\"fds\" is not an array") }
        var out: [FDInfo] = []
        for d in a {
            var r = FieldReader(object: d)
            guard let kind = DescriptorKind(rawValue: try r.string("kind")) else {
                throw DecodeError(reason: "unknown descriptor kind")
            }
            out.append(FDInfo(fd: try r.int32("fd"), kind: kind, path: try r.string("path"),
                              flags: try r.optString("flags") ?? ""))
        }
        return out
    }

    public static func parseHex(_ s: String) -> UInt64? {
        guard s.hasPrefix("0x") else { return nil }
        return UInt64(s.dropFirst(2), radix: 16)
    }

    struct FieldReader {
        let object: JSONValue
        func value(_ k: String) throws(DecodeError) -> JSONValue {
            guard let v = object[k], !v.isNull else { throw DecodeError(reason: "missing \"\(k)\"") }
            return v
        }
        mutating func string(_ k: String) throws(DecodeError) -> String {
            guard let s = try value(k).stringValue else { throw DecodeError(reason: "\"\(k)\" is not a string") }
            return s
        }
        mutating func optString(_ k: String) throws(DecodeError) -> String? {
            guard let v = object[k], !v.isNull else { return nil }
            guard let s = v.stringValue else { throw DecodeError(reason: "\"\(k)\" is not a string") }
            return s
        }
        mutating func strings(_ k: String) throws(DecodeError) -> [String] {
            guard let a = try value(k).arrayValue else { throw DecodeError(reason: "\"\(k)\" is not an array") }
            var out: [String] = []
            for e in a {
                guard let s = e.stringValue else { throw DecodeError(reason: "\"\(k)\" holds a non-string") }
                out.append(s)
            }
            return out
        }
        mutating func int(_ k: String) throws(DecodeError) -> Int {
            guard let i = try value(k).intValue else { throw DecodeError(reason: "\"\(k)\" is not an integer") }
            return Int(i)
        }
        mutating func optInt(_ k: String) throws(DecodeError) -> Int? {
            guard let v = object[k], !v.isNull else { return nil }
            guard let i = v.intValue else { throw DecodeError(reason: "\"\(k)\" is not an integer") }
            return Int(i)
        }
        mutating func int32(_ k: String) throws(DecodeError) -> Int32 {
            let i = try int(k)
            guard let v = Int32(exactly: i) else { throw DecodeError(reason: "\"\(k)\" is out of range") }
            return v
        }
        mutating func uint64(_ k: String) throws(DecodeError) -> UInt64 {
            guard let i = try value(k).intValue, i >= 0 else { throw DecodeError(reason: "\"\(k)\" is not a non-negative integer") }
            return UInt64(i)
        }
        mutating func bool(_ k: String) throws(DecodeError) -> Bool {
            guard let b = try value(k).boolValue else { throw DecodeError(reason: "\"\(k)\" is not a boolean") }
            return b
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

// MARK: - The hot path: violation lines written straight into bytes

extension TraceCodec {
    /// Appends a violation event's line (without the newline) exactly as `json(.violation(v))` serializes it,
    /// without building the intermediate JSON tree: violations are written while their thread is stopped.
    public static func appendViolation(_ v: ViolationEvent, to out: inout [UInt8]) {
        func key(_ k: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func str(_ s: String) { JSONValue.appendString(s, to: &out) }
        func int(_ i: Int64) { JSONValue.appendInt(i, to: &out) }
        func hexString(_ x: UInt64) {
            out.append(contentsOf: "\"0x".utf8)
            appendHex(x, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        func null() { out.append(contentsOf: "null".utf8) }
        out.append(UInt8(ascii: "{"))
        key("type", first: true); str("violation")
        key("seq"); int(Int64(v.seq))
        key("t_ns"); int(Int64(bitPattern: v.tNs))
        key("pid"); int(Int64(v.pid))
        key("tid"); int(Int64(v.tid))
        key("abi"); str(v.abi.rawValue)
        key("syscall"); str(v.syscall)
        key("nr"); int(Int64(v.nr))
        key("namespace"); str(v.namespace.rawValue)
        key("rule"); str(v.rule.rawValue)
        key("args")
        out.append(UInt8(ascii: "{"))
        for (i, (k, a)) in v.args.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            str(k)
            out.append(UInt8(ascii: ":"))
            switch a {
            case .int(let n): int(n)
            case .string(let s): str(s)
            case .null: null()
            }
        }
        out.append(UInt8(ascii: "}"))
        if let p = v.path { key("path"); str(p) }
        if let a = v.address { key("address"); str(a) }
        if let t = v.resolved { key("resolved"); str(t) }
        key("action"); str(v.action.rawValue)
        if let r = v.result { key("result"); int(r) }
        if let e = v.errno { key("errno"); str(e) }
        key("site"); str(v.site)
        key("hint"); if let h = v.hint { str(h) } else { null() }
        key("stack")
        out.append(UInt8(ascii: "["))
        for (i, f) in v.stack.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            key("pc", first: true); hexString(f.pc)
            key("module"); if let m = f.module { str(m) } else { null() }
            key("offset"); if let o = f.offset { hexString(o) } else { null() }
            key("symbol"); if let s = f.symbol { str(s) } else { null() }
            key("symbol_offset"); if let o = f.symbolOffset { int(Int64(o)) } else { null() }
            key("file"); if let s = f.file { str(s) } else { null() }
            key("line"); if let l = f.line { int(Int64(l)) } else { null() }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        out.append(UInt8(ascii: "}"))
    }

    /// Lower-case hex digits of `x`, no prefix (as `String(x, radix: 16)`).
    static func appendHex(_ x: UInt64, to out: inout [UInt8]) {
        if x == 0 { out.append(UInt8(ascii: "0")); return }
        var shift = (63 - x.leadingZeroBitCount) / 4 * 4
        while shift >= 0 {
            out.append(JSONValue.hex[Int((x >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }
}
