import SyscallCatalog

// Format 2 (README "Trace format 2"): facts, written once. Modules, frames, stacks and calls are definition
// lines with an id, each written before its first use, so every prefix of a trace is self-consistent; events
// refer to them by id. A repeated violation of a known call costs one short line.

/// The writer's side: which definitions the file already holds. One per trace file, used from one thread.
/// Bytes as a dictionary key, hashed in one call over the buffer (`[UInt8]`'s own hashing feeds the hasher
/// one byte at a time: most of the writer's time for a repeated violation).
struct ByteString: Hashable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func hash(into h: inout Hasher) { bytes.withUnsafeBytes { h.combine(bytes: $0) } }
}

public final class TraceEncoderV2 {
    private var modules: [String: Int] = [:]
    private var frames: [Frame: Int] = [:]
    /// Stacks as the walker gave them (before naming): naming runs once per distinct stack.
    private var stacks: [[Frame]: Int] = [:]
    /// Calls by their definition's body (everything but the id).
    private var calls: [ByteString: Int] = [:]
    private var nextID = (module: 1, frame: 1, stack: 1, call: 1)
    /// Tables past this size are forgotten (later uses define again, with new ids): the writer's memory stays
    /// bounded whatever the program does.
    static let tableLimit = 1 << 16
    /// How many times the stack or call table was emptied (an id is reused only within one generation).
    private var resets = 0
    /// The last violation's call, its id and the table generation it was defined in.
    private var lastCall: (ViolationEvent, Int, Int)?
    private var scratch: [UInt8] = []
    /// The build-id of a module file (hex), written in its definition; from the recording's symboliser.
    public var buildID: ((String) -> String?)?

    public init() { scratch.reserveCapacity(512) }

    /// The id of `stack`, defining it (and its frames and modules) first if it is new. `name` fills in symbols
    /// and lines of a new stack's frames (the recording thread names frames only here, once per stack).
    public func stackID(_ stack: [Frame], name: ((inout [Frame]) -> Void)?, out: inout [UInt8]) -> Int? {
        guard !stack.isEmpty else { return nil }
        if let id = stacks[stack] { return id }
        var named = stack
        name?(&named)
        var ids: [Int] = []
        ids.reserveCapacity(named.count)
        for f in named { ids.append(frameID(f, out: &out)) }
        if stacks.count >= Self.tableLimit { stacks.removeAll(keepingCapacity: true); resets += 1 }
        let id = nextID.stack
        nextID.stack += 1
        stacks[stack] = id
        var o = Obj(&out, type: "stack")
        o.int(&out, "id", id)
        o.key(&out, "frames")
        out.append(UInt8(ascii: "["))
        for (i, f) in ids.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.appendInt(Int64(f), to: &out)
        }
        out.append(contentsOf: "]}\n".utf8)
        return id
    }

    private func frameID(_ f: Frame, out: inout [UInt8]) -> Int {
        if let id = frames[f] { return id }
        let module = f.module.map { moduleID($0, out: &out) }
        if frames.count >= Self.tableLimit { frames.removeAll(keepingCapacity: true) }
        let id = nextID.frame
        nextID.frame += 1
        frames[f] = id
        var o = Obj(&out, type: "frame")
        o.int(&out, "id", id)
        o.hex(&out, "pc", f.pc)
        if let m = module { o.int(&out, "module", m) }
        if let v = f.offset { o.hex(&out, "offset", v) }
        if let v = f.symbol { o.string(&out, "symbol", v) }
        if let v = f.symbolOffset { o.int(&out, "symbol_offset", Int(v)) }
        if let v = f.file { o.string(&out, "file", v) }
        if let v = f.line { o.int(&out, "line", v) }
        o.end(&out)
        return id
    }

    private func moduleID(_ path: String, out: inout [UInt8]) -> Int {
        if let id = modules[path] { return id }
        if modules.count >= Self.tableLimit { modules.removeAll(keepingCapacity: true) }
        let id = nextID.module
        nextID.module += 1
        modules[path] = id
        var o = Obj(&out, type: "module")
        o.int(&out, "id", id)
        o.string(&out, "path", path)
        if let b = buildID?(path) { o.string(&out, "build_id", b) }
        o.end(&out)
        return id
    }

    /// Appends the lines of `event` (its new definitions, then the event itself), each ending in a newline.
    public func append(_ event: TraceEvent, name: ((inout [Frame]) -> Void)? = nil, to out: inout [UInt8]) {
        switch event {
        case .violation(let v): appendViolation(v, name: name, to: &out)
        case .enter(let e):
            let stack = stackID(e.stack, name: name, out: &out)
            var j = TraceCodec.json(event)
            j = j.replacing("stack", with: stack.map { .int(Int64($0)) })
            j.append(to: &out)
            out.append(0x0A)
        case .seccompFilter(let f):
            let stack = stackID(f.stack, name: name, out: &out)
            TraceCodec.json(event).replacing("stack", with: stack.map { .int(Int64($0)) }).append(to: &out)
            out.append(0x0A)
        case .refusal(let r):
            let stack = stackID(r.stack, name: name, out: &out)
            TraceCodec.json(event).replacing("stack", with: stack.map { .int(Int64($0)) }).append(to: &out)
            out.append(0x0A)
        case .fdop(let f):
            let stack = f.stack.flatMap { stackID($0, name: name, out: &out) }
            var j = TraceCodec.json(event)
            j = j.replacing("stack", with: stack.map { .int(Int64($0)) })
            j.append(to: &out)
            out.append(0x0A)
        case .landlock(let e):
            let stack = stackID(e.stack, name: name, out: &out)
            TraceCodec.json(landlock: e, stack: stack.map { .int(Int64($0)) } ?? .null).append(to: &out)
            out.append(0x0A)
        case .landlockDenial(let e):
            let stack = stackID(e.stack, name: name, out: &out)
            TraceCodec.json(landlockDenial: e, stack: stack.map { .int(Int64($0)) } ?? .null).append(to: &out)
            out.append(0x0A)
        case .header(var h):
            h.version = 2
            TraceCodec.json(.header(h)).append(to: &out)
            out.append(0x0A)
        case .process, .syscalls, .summary:
            TraceCodec.json(event).append(to: &out)
            out.append(0x0A)
        }
    }

    private func appendViolation(_ v: ViolationEvent, name: ((inout [Frame]) -> Void)?, to out: inout [UInt8]) {
        // A violation sharing the last one's call (the same `Call`, as a recorder hands out for repeats) has its
        // call id, while no table was emptied since: no body to build and look up.
        if let (last, id, at) = lastCall, at == resets, v.sharesCall(with: last) {
            appendViolationLine(v, call: id, to: &out)
            return
        }
        let stack = stackID(v.stack, name: name, out: &out)
        // The call's definition body, which is also its key.
        scratch.removeAll(keepingCapacity: true)
        do {
            var o = Obj()
            o.string(&scratch, "abi", v.abi.rawValue)
            o.int(&scratch, "nr", v.nr)
            o.string(&scratch, "syscall", v.syscall)
            o.string(&scratch, "namespace", v.namespace.rawValue)
            o.string(&scratch, "rule", v.rule.rawValue)
            if let raw = v.raw {
                o.key(&scratch, "regs")
                scratch.append(UInt8(ascii: "["))
                for (i, r) in raw.args.enumerated() {
                    if i > 0 { scratch.append(UInt8(ascii: ",")) }
                    appendHexString(r, to: &scratch)
                }
                scratch.append(UInt8(ascii: "]"))
                if !raw.memory.strings.isEmpty {
                    o.key(&scratch, "strings")
                    scratch.append(UInt8(ascii: "{"))
                    for (i, k) in raw.memory.strings.keys.sorted().enumerated() {
                        if i > 0 { scratch.append(UInt8(ascii: ",")) }
                        JSONValue.appendString(String(k), to: &scratch)
                        scratch.append(UInt8(ascii: ":"))
                        JSONValue.appendString(raw.memory.strings[k]!, to: &scratch)
                    }
                    scratch.append(UInt8(ascii: "}"))
                }
                if let b = raw.memory.sockaddr { o.string(&scratch, "sockaddr", hexBytes(b)) }
                if let s = raw.memory.socketcall {
                    o.key(&scratch, "socketcall")
                    scratch.append(UInt8(ascii: "["))
                    for (i, r) in s.enumerated() {
                        if i > 0 { scratch.append(UInt8(ascii: ",")) }
                        appendHexString(r, to: &scratch)
                    }
                    scratch.append(UInt8(ascii: "]"))
                }
                if let b = raw.base { o.string(&scratch, "base", b) }
            } else {
                // A call recorded before format 2 (converted from version 1): its rendered arguments.
                o.key(&scratch, "args")
                JSONValue.object(v.args.map { ($0.0, TraceCodec.json($0.1)) }).append(to: &scratch)
                if let p = v.path { o.string(&scratch, "path", p) }
                if let a = v.address { o.string(&scratch, "address", a) }
                o.string(&scratch, "site", v.site)
            }
            // symlink-escape: where the lookup led (a fact found by resolving it, not read from memory).
            if let t = v.resolved { o.string(&scratch, "resolved", t) }
            if let s = stack { o.int(&scratch, "stack", s) }
            // --policy: what in the policy refused the call.
            if let d = v.verdict { o.key(&scratch, "decided_by"); d.json.append(to: &scratch) }
        }
        let id: Int
        if let known = calls[ByteString(scratch)] {
            id = known
        } else {
            if calls.count >= Self.tableLimit { calls.removeAll(keepingCapacity: true); resets += 1 }
            id = nextID.call
            nextID.call += 1
            calls[ByteString(scratch)] = id
            out.append(contentsOf: #"{"type":"call","id":"#.utf8)
            JSONValue.appendInt(Int64(id), to: &out)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: scratch)
            out.append(contentsOf: "}\n".utf8)
        }
        lastCall = (v, id, resets)
        appendViolationLine(v, call: id, to: &out)
    }

    private func appendViolationLine(_ v: ViolationEvent, call id: Int, to out: inout [UInt8]) {
        var o = Obj(&out, type: "violation")
        o.int(&out, "seq", v.seq)
        o.int(&out, "t_ns", Int(Int64(bitPattern: v.tNs)))
        o.int(&out, "pid", Int(v.pid))
        o.int(&out, "tid", Int(v.tid))
        o.int(&out, "call", id)
        if v.action != .allowed { o.string(&out, "action", v.action.rawValue) }
        if let e = v.errno {
            if let n = Errno.number(named: e), Errno.name(n) == e { o.int(&out, "result", -Int(n)) } else { o.string(&out, "errno", e) }
        } else if let r = v.result {
            o.int(&out, "result", Int(r))
        }
        o.end(&out)
    }

    func hexBytes(_ b: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(b.count * 2)
        for x in b { out.append(JSONValue.hex[Int(x >> 4)]); out.append(JSONValue.hex[Int(x & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    func appendHexString(_ x: UInt64, to out: inout [UInt8]) {
        out.append(contentsOf: "\"0x".utf8)
        TraceCodec.appendHex(x, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Writes one JSON object's members straight into bytes.
    struct Obj {
        var first = true
        init() {}
        init(_ out: inout [UInt8], type: String) {
            out.append(UInt8(ascii: "{"))
            string(&out, "type", type)
        }
        /// Keys are literals (StaticString): their bytes are copied as they are, with no String to look into (a
        /// repeated violation's line is six keys; appending a String's UTF8View cost a reference count each).
        mutating func key(_ out: inout [UInt8], _ k: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            k.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        mutating func int(_ out: inout [UInt8], _ k: StaticString, _ v: Int) { key(&out, k); JSONValue.appendInt(Int64(v), to: &out) }
        mutating func string(_ out: inout [UInt8], _ k: StaticString, _ v: String) { key(&out, k); JSONValue.appendString(v, to: &out) }
        mutating func hex(_ out: inout [UInt8], _ k: StaticString, _ v: UInt64) {
            key(&out, k)
            out.append(contentsOf: "\"0x".utf8)
            TraceCodec.appendHex(v, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        func end(_ out: inout [UInt8]) {
            out.append(UInt8(ascii: "}"))
            out.append(UInt8(ascii: "\n"))
        }
    }
}

extension JSONValue {
    /// The object with member `key`'s value replaced (removed when nil).
    func replacing(_ key: String, with value: JSONValue?) -> JSONValue {
        guard case .object(var o) = self, let i = o.firstIndex(where: { $0.0 == key }) else { return self }
        if let value { o[i].1 = value } else { o.remove(at: i) }
        return .object(o)
    }
}

/// The reader's side: the definitions read so far. Events are resolved against them as they are read, so a
/// reader holds the definitions, never the events.
public struct TraceDecoderV2: Sendable {
    var modules: [Int: String] = [:]
    var frames: [Int: Frame] = [:]
    var stacks: [Int: [Frame]] = [:]
    /// Each call rendered once, as a violation template.
    var calls: [Int: ViolationEvent] = [:]

    public init() {}

    typealias DecodeError = TraceCodec.DecodeError

    /// The event of one line, or nil for a definition.
    mutating func event(from v: JSONValue) throws(DecodeError) -> TraceEvent? {
        guard case .object = v else { throw DecodeError(reason: "not a JSON object") }
        guard let type = v["type"]?.stringValue else { throw DecodeError(reason: "missing \"type\"") }
        var r = TraceCodec.FieldReader(object: v)
        switch type {
        case "module":
            modules[try r.int("id")] = try r.string("path")
            return nil
        case "frame":
            let id = try r.int("id")
            guard let pc = TraceCodec.parseHex(try r.string("pc")) else { throw DecodeError(reason: "frame pc is not hex") }
            var f = Frame(pc: pc)
            if let m = try r.optInt("module") {
                guard let path = modules[m] else { throw DecodeError(reason: "frame \(id) refers to module \(m), which is not defined") }
                f.module = path
            }
            f.offset = try r.optString("offset").flatMap(TraceCodec.parseHex)
            f.symbol = try r.optString("symbol")
            f.symbolOffset = try r.optInt("symbol_offset").map { UInt64($0) }
            f.file = try r.optString("file")
            f.line = try r.optInt("line")
            frames[id] = f
            return nil
        case "stack":
            let id = try r.int("id")
            guard let a = v["frames"]?.arrayValue else { throw DecodeError(reason: "\"frames\" is not an array") }
            var out: [Frame] = []
            out.reserveCapacity(a.count)
            for x in a {
                guard let i = x.intValue else { throw DecodeError(reason: "\"frames\" holds a non-integer") }
                guard let f = frames[Int(i)] else { throw DecodeError(reason: "stack \(id) refers to frame \(i), which is not defined") }
                out.append(f)
            }
            stacks[id] = out
            return nil
        case "call":
            let id = try r.int("id")
            calls[id] = try call(v, &r)
            return nil
        case "violation":
            let c = try r.int("call")
            guard var e = calls[c] else { throw DecodeError(reason: "call \(c) is not defined") }
            e.seq = try r.int("seq")
            e.tNs = try r.uint64("t_ns")
            e.pid = try r.int32("pid")
            e.tid = try r.int32("tid")
            if let a = try r.optString("action") {
                guard let action = Action(rawValue: a) else { throw DecodeError(reason: "unknown action \"\(a)\"") }
                e.action = action
            }
            if let res = try r.optInt("result") {
                if res < 0, res >= -4095, let name = Errno.name(Int32(-res)) { e.errno = name } else { e.result = Int64(res) }
            }
            if let name = try r.optString("errno") { e.errno = name }
            return .violation(e)
        case "landlock": return .landlock(try TraceCodec.landlock(v, stack: try stackRef(v["stack"]) ?? []))
        case "landlock_denial": return .landlockDenial(try TraceCodec.landlockDenial(v, stack: try stackRef(v["stack"]) ?? []))
        case "enter", "fdop", "seccomp_filter", "refusal":
            let stack = try stackRef(v["stack"])
            let plain = v.replacing("stack", with: nil)
            switch try TraceCodec.event(from: plain) {
            case .enter(var e):
                e.stack = stack ?? []
                return .enter(e)
            case .fdop(var f):
                f.stack = stack
                return .fdop(f)
            case .seccompFilter(var f):
                f.stack = stack ?? []
                return .seccompFilter(f)
            case .refusal(var x):
                x.stack = stack ?? []
                return .refusal(x)
            default: return nil
            }
        default:
            return try TraceCodec.event(from: v)
        }
    }

    func stackRef(_ v: JSONValue?) throws(DecodeError) -> [Frame]? {
        guard let v, !v.isNull else { return nil }
        guard let id = v.intValue else { throw DecodeError(reason: "\"stack\" is not a stack id") }
        guard let s = stacks[Int(id)] else { throw DecodeError(reason: "stack \(id) is not defined") }
        return s
    }

    func call(_ v: JSONValue, _ r: inout TraceCodec.FieldReader) throws(DecodeError) -> ViolationEvent {
        guard let abi = ABI(rawValue: try r.string("abi")) else { throw DecodeError(reason: "unknown abi") }
        guard let ns = Namespace(rawValue: try r.string("namespace")) else {
            throw DecodeError(reason: "unknown namespace \"\(v["namespace"]?.stringValue ?? "")\"")
        }
        guard let rule = Rule(rawValue: try r.string("rule")) else {
            throw DecodeError(reason: "unknown rule \"\(v["rule"]?.stringValue ?? "")\"")
        }
        let nr = try r.int("nr")
        let name = try r.string("syscall")
        let stack = try stackRef(v["stack"]) ?? []
        var e = ViolationEvent(seq: 0, tNs: 0, pid: 0, tid: 0, abi: abi, syscall: name, nr: nr, namespace: ns,
                               rule: rule, args: [], action: .allowed, site: "", stack: stack)
        if let regs = v["regs"] {
            var raw = RawCall(args: try words(regs, "regs"))
            if let s = v["strings"], !s.isNull {
                guard let o = s.objectValue else { throw DecodeError(reason: "\"strings\" is not an object") }
                for (k, x) in o {
                    guard let i = Int(k), let text = x.stringValue else { throw DecodeError(reason: "\"strings\" holds \"\(k)\": not an index and a string") }
                    raw.memory.strings[i] = text
                }
            }
            if let h = try r.optString("sockaddr") {
                guard let b = bytes(hex: h) else { throw DecodeError(reason: "\"sockaddr\" is not hex bytes") }
                raw.memory.sockaddr = b
            }
            if let s = v["socketcall"], !s.isNull { raw.memory.socketcall = try words(s, "socketcall") }
            raw.base = try r.optString("base")
            let sc = Catalog.shared.syscall(abi: abi, nr: nr)
            let rendered = CallRendering.render(sc?.name == name ? sc : Catalog.shared.syscall(named: name), abi: abi, raw: raw)
            e.args = rendered.args
            e.path = rendered.path
            e.address = rendered.address
            e.raw = raw
            e.site = Site.id(stack: stack, syscall: name, detail: e.path ?? e.address)
            e.resolved = try r.optString("resolved")
            if let d = v["decided_by"], !d.isNull { e.verdict = try PolicyVerdict(json: d) }
        } else {
            if let o = v["args"]?.objectValue {
                for (k, a) in o {
                    switch a {
                    case .int(let i): e.args.append((k, .int(i)))
                    case .string(let s): e.args.append((k, .string(s)))
                    case .null: e.args.append((k, .null))
                    default: throw DecodeError(reason: "argument \"\(k)\" is not a scalar")
                    }
                }
            } else { throw DecodeError(reason: "a call needs \"regs\" or \"args\"") }
            e.path = try r.optString("path")
            e.address = try r.optString("address")
            e.site = try r.optString("site") ?? Site.id(stack: stack, syscall: name, detail: e.path ?? e.address)
            e.resolved = try r.optString("resolved")
        }
        return e
    }

    func words(_ v: JSONValue, _ what: String) throws(DecodeError) -> [UInt64] {
        guard let a = v.arrayValue else { throw DecodeError(reason: "\"\(what)\" is not an array") }
        var out: [UInt64] = []
        for x in a {
            guard let s = x.stringValue, let w = TraceCodec.parseHex(s) else { throw DecodeError(reason: "\"\(what)\" holds a value that is not hex") }
            out.append(w)
        }
        return out
    }

    func bytes(hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nib(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let a = nib(u[i]), let b = nib(u[i + 1]) else { return nil }
            out.append(a << 4 | b)
            i += 2
        }
        return out
    }
}
