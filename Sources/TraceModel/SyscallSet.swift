import SyscallCatalog

/// `run --syscalls`: every syscall one process made, per ABI, counted before and after it entered capability
/// mode, with the argument facts a seccomp profile can test. One record per process, written when it exits
/// (type `syscalls`; see README "Trace format").
public struct SyscallSetEvent: Sendable, Hashable {
    /// One syscall number of one ABI and how often the process made it.
    public struct Count: Sendable, Hashable {
        public var abi: ABI
        /// The ABI's number (x32: without the x32 bit).
        public var nr: Int
        /// Calls made outside capability mode, and inside it.
        public var before: UInt64
        public var after: UInt64

        public init(abi: ABI, nr: Int, before: UInt64, after: UInt64) {
            self.abi = abi; self.nr = nr; self.before = before; self.after = after
        }

        /// The catalog's name, or `syscall_NR` for a number the catalog does not know.
        public var name: String { Catalog.shared.syscall(abi: abi, nr: nr)?.name ?? "syscall_\(nr)" }
    }

    /// A socket or socketpair call's domain and type (the type without SOCK_NONBLOCK and SOCK_CLOEXEC).
    public struct Socket: Sendable, Hashable, Comparable {
        /// "socket" or "socketpair".
        public var call: String
        public var domain: Int
        public var type: Int

        public init(call: String, domain: Int, type: Int) { self.call = call; self.domain = domain; self.type = type }

        public static func < (a: Socket, b: Socket) -> Bool { (a.call, a.domain, a.type) < (b.call, b.domain, b.type) }
    }

    public var pid: Int32
    public var tNs: UInt64
    /// Sorted by ABI, then number.
    public var counts: [Count]
    /// Distinct (call, domain, type), sorted.
    public var sockets: [Socket]
    /// The union of the flags of every `clone` the process made (nil: it made none).
    public var cloneFlags: UInt64?
    /// The union of the flags of every `clone3` (read from struct clone_args; nil: none, or none readable).
    public var clone3Flags: UInt64?

    public init(pid: Int32, tNs: UInt64, counts: [Count], sockets: [Socket] = [], cloneFlags: UInt64? = nil,
                clone3Flags: UInt64? = nil) {
        self.pid = pid; self.tNs = tNs; self.counts = counts; self.sockets = sockets
        self.cloneFlags = cloneFlags; self.clone3Flags = clone3Flags
    }
}

extension TraceCodec {
    /// `{"type":"syscalls","pid":P,"t_ns":N,"calls":{"x86_64":{"read":[before,after],...},...},
    /// "sockets":[{"call":"socket","domain":1,"type":1}],"clone_flags":"0x...","clone3_flags":"0x..."}`.
    static func json(syscalls s: SyscallSetEvent) -> JSONValue {
        var byABI: [(String, JSONValue)] = []
        for abi in ABI.allCases {
            let rows = s.counts.filter { $0.abi == abi }
            guard !rows.isEmpty else { continue }
            byABI.append((abi.rawValue, .object(rows.map {
                ($0.name, .array([.int(Int64(clamping: $0.before)), .int(Int64(clamping: $0.after))]))
            })))
        }
        var o: [(String, JSONValue)] = [
            ("type", "syscalls"), ("pid", .int(Int64(s.pid))), ("t_ns", .int(Int64(bitPattern: s.tNs))),
            ("calls", .object(byABI)),
        ]
        if !s.sockets.isEmpty {
            o.append(("sockets", .array(s.sockets.map {
                .object([("call", .string($0.call)), ("domain", .int(Int64($0.domain))), ("type", .int(Int64($0.type)))])
            })))
        }
        if let f = s.cloneFlags { o.append(("clone_flags", .string(hex(f)))) }
        if let f = s.clone3Flags { o.append(("clone3_flags", .string(hex(f)))) }
        return .object(o)
    }

    static func syscalls(from v: JSONValue) throws(DecodeError) -> SyscallSetEvent {
        var r = FieldReader(object: v)
        var s = SyscallSetEvent(pid: try r.int32("pid"), tNs: try r.uint64("t_ns"), counts: [])
        guard let calls = v["calls"]?.objectValue else { throw DecodeError(reason: "syscalls: \"calls\" is not an object") }
        for (abiName, rows) in calls {
            guard let abi = ABI(rawValue: abiName) else { throw DecodeError(reason: "syscalls: unknown abi \"\(abiName)\"") }
            guard let rows = rows.objectValue else { throw DecodeError(reason: "syscalls: \"\(abiName)\" is not an object") }
            for (name, pair) in rows {
                let nr: Int
                if let n = Catalog.shared.number(of: name, abi: abi) { nr = n }
                else if name.hasPrefix("syscall_"), let n = Int(name.dropFirst(8)) { nr = n }
                else { throw DecodeError(reason: "syscalls: \"\(name)\" is not a \(abiName) syscall") }
                guard let a = pair.arrayValue, a.count == 2, let b = a[0].intValue, let f = a[1].intValue, b >= 0, f >= 0 else {
                    throw DecodeError(reason: "syscalls: \"\(name)\" needs [before, after] counts")
                }
                s.counts.append(.init(abi: abi, nr: nr, before: UInt64(b), after: UInt64(f)))
            }
        }
        s.counts.sort { ($0.abi.ordinal, $0.nr) < ($1.abi.ordinal, $1.nr) }
        if let a = v["sockets"] {
            guard let a = a.arrayValue else { throw DecodeError(reason: "syscalls: \"sockets\" is not an array") }
            for x in a {
                var sr = FieldReader(object: x)
                s.sockets.append(.init(call: try sr.string("call"), domain: try sr.int("domain"), type: try sr.int("type")))
            }
        }
        for (key, path) in [("clone_flags", \SyscallSetEvent.cloneFlags), ("clone3_flags", \.clone3Flags)] {
            guard let text = try r.optString(key) else { continue }
            guard let f = parseHex(text) else { throw DecodeError(reason: "syscalls: \"\(key)\" is not hex") }
            s[keyPath: path] = f
        }
        return s
    }
}
