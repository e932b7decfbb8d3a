import Landlock

/// A Landlock domain layer put in effect for a process: by the program's own `landlock_restrict_self` (its
/// ruleset decoded from the `landlock_*` calls captrace saw), or by captrace itself (`run --policy FILE.toml`).
/// Children created afterwards inherit it; it survives exec.
public struct LandlockEvent: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable { case program, policy }
    public var pid: Int32
    public var tid: Int32
    public var tNs: UInt64
    public var source: Source
    /// The ruleset; nil when captrace did not see it built (a ruleset descriptor made before tracing began).
    public var ruleset: Ruleset?
    /// The ruleset descriptor given to landlock_restrict_self (program) and its flags.
    public var rulesetFd: Int32?
    public var flags: UInt64 = 0
    /// Where the program restricted itself (empty for a policy).
    public var stack: [Frame] = []

    public init(pid: Int32, tid: Int32, tNs: UInt64, source: Source, ruleset: Ruleset?) {
        self.pid = pid; self.tid = tid; self.tNs = tNs; self.source = source; self.ruleset = ruleset
    }
}

/// A filesystem or network call that failed the way Landlock refuses (EACCES, EXDEV; EPERM for a scope) in a
/// process with a Landlock domain, with what `LandlockExplain` needs to say which right was missing.
public struct LandlockDenialEvent: Sendable, Hashable {
    public var pid: Int32
    public var tid: Int32
    public var tNs: UInt64
    public var call: RefusedCall
    public var stack: [Frame] = []

    public init(pid: Int32, tid: Int32, tNs: UInt64, call: RefusedCall) {
        self.pid = pid; self.tid = tid; self.tNs = tNs; self.call = call
    }
}

extension TraceCodec {
    static func names(_ a: [String]) -> JSONValue { .array(a.map { .string($0) }) }

    static func json(landlock e: LandlockEvent, stack: JSONValue) -> JSONValue {
        var o: [(String, JSONValue)] = [
            ("type", "landlock"), ("pid", .int(Int64(e.pid))), ("tid", .int(Int64(e.tid))),
            ("t_ns", .int(Int64(bitPattern: e.tNs))), ("source", .string(e.source.rawValue)),
        ]
        if let fd = e.rulesetFd { o.append(("ruleset_fd", .int(Int64(fd)))) }
        if e.flags != 0 { o.append(("flags", .int(Int64(bitPattern: e.flags)))) }
        if let r = e.ruleset {
            o.append(("handled_access_fs", names(r.handledFS.names)))
            o.append(("handled_access_net", names(r.handledNet.names)))
            o.append(("scoped", names(r.scoped.names)))
            o.append(("path_beneath", .array(r.paths.map {
                .object([("parent", .string($0.path)), ("allowed_access", names($0.access.names))])
            })))
            o.append(("net_port", .array(r.ports.map {
                .object([("port", .int(Int64(bitPattern: $0.port))), ("allowed_access", names($0.access.names))])
            })))
        } else {
            o.append(("ruleset", .null))
        }
        o.append(("stack", stack))
        return .object(o)
    }

    static func json(landlockDenial e: LandlockDenialEvent, stack: JSONValue) -> JSONValue {
        let c = e.call
        var o: [(String, JSONValue)] = [
            ("type", "landlock_denial"), ("pid", .int(Int64(e.pid))), ("tid", .int(Int64(e.tid))),
            ("t_ns", .int(Int64(bitPattern: e.tNs))), ("syscall", .string(c.syscall)), ("errno", .string(c.errno)),
        ]
        if let v = c.path { o.append(("path", .string(v))) }
        if let v = c.path2 { o.append(("path2", .string(v))) }
        if let v = c.resolved { o.append(("resolved", .string(v))) }
        if let v = c.fileType { o.append(("file_type", .string(v.rawValue))) }
        if let v = c.flags { o.append(("flags", .string(hex(v)))) }
        if let v = c.mode { o.append(("mode", .string(hex(v)))) }
        if let v = c.port { o.append(("port", .int(Int64(bitPattern: v)))) }
        if c.abstractUnix { o.append(("abstract_unix", .bool(true))) }
        o.append(("stack", stack))
        return .object(o)
    }

    static func accessMask<A: AccessSet>(_ v: JSONValue?, _ key: String, as: A.Type) throws(DecodeError) -> A {
        guard let v, !v.isNull else { return A(rawValue: 0) }
        guard let a = v.arrayValue else { throw DecodeError(reason: "\"\(key)\" is not an array") }
        var m: UInt64 = 0
        for x in a {
            guard let s = x.stringValue else { throw DecodeError(reason: "\"\(key)\" holds a non-string") }
            if let r = A(name: s) { m |= r.rawValue } else if let raw = parseHex(s) { m |= raw } else {
                throw DecodeError(reason: "unknown Landlock right \"\(s)\" in \"\(key)\"")
            }
        }
        return A(rawValue: m)
    }

    static func landlock(_ v: JSONValue, stack: [Frame]) throws(DecodeError) -> LandlockEvent {
        var r = FieldReader(object: v)
        let s = try r.string("source")
        guard let source = LandlockEvent.Source(rawValue: s) else { throw DecodeError(reason: "unknown landlock source \"\(s)\"") }
        var e = LandlockEvent(pid: try r.int32("pid"), tid: try r.int32("tid"), tNs: try r.uint64("t_ns"), source: source, ruleset: nil)
        e.rulesetFd = try r.optInt("ruleset_fd").map(Int32.init)
        e.flags = UInt64(bitPattern: Int64(try r.optInt("flags") ?? 0))
        e.stack = stack
        if v["handled_access_fs"] != nil {
            var rs = Ruleset(handledFS: try accessMask(v["handled_access_fs"], "handled_access_fs", as: FSAccess.self),
                             handledNet: try accessMask(v["handled_access_net"], "handled_access_net", as: NetAccess.self),
                             scoped: try accessMask(v["scoped"], "scoped", as: Scope.self))
            for x in v["path_beneath"]?.arrayValue ?? [] {
                guard let p = x["parent"]?.stringValue else { throw DecodeError(reason: "a path_beneath rule has no parent") }
                rs.paths.append(PathRule(path: p, access: try accessMask(x["allowed_access"], "allowed_access", as: FSAccess.self)))
            }
            for x in v["net_port"]?.arrayValue ?? [] {
                guard let p = x["port"]?.intValue else { throw DecodeError(reason: "a net_port rule has no port") }
                rs.ports.append(PortRule(port: UInt64(bitPattern: p), access: try accessMask(x["allowed_access"], "allowed_access", as: NetAccess.self)))
            }
            e.ruleset = rs
        }
        return e
    }

    static func landlockDenial(_ v: JSONValue, stack: [Frame]) throws(DecodeError) -> LandlockDenialEvent {
        var r = FieldReader(object: v)
        var c = RefusedCall(syscall: try r.string("syscall"), errno: try r.string("errno"))
        c.path = try r.optString("path")
        c.path2 = try r.optString("path2")
        c.resolved = try r.optString("resolved")
        if let t = try r.optString("file_type") {
            guard let ft = FileType(rawValue: t) else { throw DecodeError(reason: "unknown file_type \"\(t)\"") }
            c.fileType = ft
        }
        c.flags = try r.optString("flags").flatMap(parseHex)
        c.mode = try r.optString("mode").flatMap(parseHex)
        c.port = try r.optInt("port").map { UInt64(bitPattern: Int64($0)) }
        c.abstractUnix = v["abstract_unix"]?.boolValue ?? false
        var e = LandlockDenialEvent(pid: try r.int32("pid"), tid: try r.int32("tid"), tNs: try r.uint64("t_ns"), call: c)
        e.stack = stack
        return e
    }
}
