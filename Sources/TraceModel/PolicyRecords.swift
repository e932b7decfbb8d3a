/// The policy a run judged against instead of capability mode (`run --policy FILE`), as the header records it.
public struct PolicyInfo: Sendable, Hashable {
    /// "seccomp-profile" (an OCI runtime seccomp profile, JSON).
    public var kind: String
    /// The file as the user named it.
    public var path: String
    /// SHA-256 of the file's bytes, lowercase hex (what `sha256sum` prints).
    public var sha256: String
    /// The capability set `includes`/`excludes.caps` were judged against, as the user named it
    /// (`docker-default`, `all`, `none`, or a comma list).
    public var capabilitySet: String?
    /// That set, resolved: capability names in number order.
    public var capabilities: [String]?

    public init(kind: String, path: String, sha256: String, capabilitySet: String? = nil, capabilities: [String]? = nil) {
        self.kind = kind; self.path = path; self.sha256 = sha256
        self.capabilitySet = capabilitySet; self.capabilities = capabilities
    }

    public var json: JSONValue {
        var o: [(String, JSONValue)] = [("kind", .string(kind)), ("path", .string(path)), ("sha256", .string(sha256))]
        if let c = capabilitySet { o.append(("caps", .string(c))) }
        if let c = capabilities { o.append(("capabilities", .array(c.map { .string($0) }))) }
        return .object(o)
    }

    public init(json v: JSONValue) throws(TraceCodec.DecodeError) {
        guard case .object = v else { throw TraceCodec.DecodeError(reason: "\"policy\" is not an object") }
        var r = TraceCodec.FieldReader(object: v)
        self.init(kind: try r.string("kind"), path: try r.string("path"), sha256: try r.string("sha256"),
                  capabilitySet: try r.optString("caps"))
        if v["capabilities"] != nil, !(v["capabilities"]?.isNull ?? true) { capabilities = try r.strings("capabilities") }
    }
}

/// What refused a call under a seccomp profile (`run --policy`): the deciding part of the profile, its action
/// and errno. Kept with the call (format 2 `call` lines, optional `decided_by`).
public struct PolicyVerdict: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// `syscalls[index]`, matched through `matched`; `names` are the entry's names.
        case entry(index: Int, matched: String, names: [String])
        /// No entry matched: the profile's `defaultAction`.
        case defaultAction
        /// The call's ABI is not among the filter's architectures.
        case architecture
    }

    public var source: Source
    /// The action as profiles name it (`SCMP_ACT_ERRNO`, `SCMP_ACT_KILL_PROCESS`, ...).
    public var action: String
    /// ERRNO's errno (TRACE's message) by name where it has one ("EPERM"), else its number.
    public var errno: String?
    /// Other entries whose argument rules also matched with another action or errno (an ambiguous profile).
    public var conflicting: [Int]

    public init(source: Source, action: String, errno: String? = nil, conflicting: [Int] = []) {
        self.source = source; self.action = action; self.errno = errno; self.conflicting = conflicting
    }

    /// "syscalls[3] (add_key, keyctl, request_key)", "the default action" or "the architectures".
    public var sourceText: String {
        switch source {
        case .entry(let i, _, let names):
            let shown = names.count > 6 ? names.prefix(6).joined(separator: ", ") + ", … \(names.count - 6) more"
                : names.joined(separator: ", ")
            return "syscalls[\(i)] (\(shown))"
        case .defaultAction: return "the default action"
        case .architecture: return "the architectures (this call's ABI is not in the filter)"
        }
    }

    /// "SCMP_ACT_ERRNO (EPERM)", "SCMP_ACT_KILL_PROCESS".
    public var actionText: String { errno.map { "\(action) (\($0))" } ?? action }

    public var json: JSONValue {
        var o: [(String, JSONValue)] = []
        switch source {
        case .entry(let i, let matched, let names):
            o.append(("source", "entry"))
            o.append(("entry", .int(Int64(i))))
            o.append(("matched", .string(matched)))
            o.append(("names", .array(names.map { .string($0) })))
        case .defaultAction: o.append(("source", "default"))
        case .architecture: o.append(("source", "architecture"))
        }
        o.append(("action", .string(action)))
        if let e = errno { o.append(("errno", .string(e))) }
        if !conflicting.isEmpty { o.append(("conflicting", .array(conflicting.map { .int(Int64($0)) }))) }
        return .object(o)
    }

    public init(json v: JSONValue) throws(TraceCodec.DecodeError) {
        guard case .object = v else { throw TraceCodec.DecodeError(reason: "\"decided_by\" is not an object") }
        var r = TraceCodec.FieldReader(object: v)
        let source: Source
        switch try r.string("source") {
        case "entry": source = .entry(index: try r.int("entry"), matched: try r.string("matched"), names: try r.strings("names"))
        case "default": source = .defaultAction
        case "architecture": source = .architecture
        case let s: throw TraceCodec.DecodeError(reason: "unknown \"decided_by\" source \"\(s)\"")
        }
        var conflicting: [Int] = []
        if let a = v["conflicting"]?.arrayValue {
            for x in a {
                guard let i = x.intValue else { throw TraceCodec.DecodeError(reason: "\"conflicting\" holds a non-integer") }
                conflicting.append(Int(i))
            }
        }
        self.init(source: source, action: try r.string("action"), errno: try r.optString("errno"), conflicting: conflicting)
    }
}
