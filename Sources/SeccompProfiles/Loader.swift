import SyscallCatalog

/// A loaded profile and what the loader noticed without refusing it.
public struct LoadedProfile: Sendable {
    public let profile: Profile
    public let warnings: [ProfileWarning]
}

extension Profile {
    /// Reads and validates an OCI runtime seccomp profile.
    ///
    /// Refused, with the entry and field named: text that is not JSON, a field of the wrong type, an unknown
    /// action, operator or `SCMP_ARCH_*`, an argument rule without `index`/`value`/`op` or with an index above 5,
    /// `architectures` with `archMap`, `name` with `names`, a malformed `minKernel`, a repeated key, and
    /// SCMP_ACT_NOTIFY where runc refuses it (the default action, `write`).
    /// Warned about, as runc ignores them: a syscall name none of x86_64, i386 and x32 has, `errnoRet` on an
    /// action without one, unknown fields, unknown capability names. `null` counts as absent, as in Go's
    /// encoding/json. containers/common's informational `defaultErrno` and `errno` (errno names beside the
    /// numbers) are accepted and not kept.
    public static func load(json text: String) throws(ProfileError) -> LoadedProfile {
        let root: ProfileJSON
        do { root = try ProfileJSON.parse(text) } catch {
            throw ProfileError(kind: .syntax, location: "profile", field: "line \(error.line), column \(error.column)",
                               message: error.reason)
        }
        var loader = ProfileLoader()
        let profile = try loader.profile(root)
        return LoadedProfile(profile: profile, warnings: loader.warnings)
    }
}

private struct ProfileLoader {
    var warnings: [ProfileWarning] = []

    /// Field access within one object: type checks and errors that name `location` and the field path.
    struct Fields {
        let location: String
        let prefix: String
        let members: [(key: String, value: ProfileJSON)]

        func error(_ kind: ProfileError.Kind, _ field: String, _ message: String) -> ProfileError {
            ProfileError(kind: kind, location: location, field: prefix + field, message: message)
        }

        /// The value of `key`; nil when absent or null.
        func value(_ key: String) -> ProfileJSON? {
            guard let v = members.first(where: { $0.key == key })?.value, v != .null else { return nil }
            return v
        }

        func string(_ key: String) throws(ProfileError) -> String? {
            guard let v = value(key) else { return nil }
            guard case .string(let s) = v else {
                throw error(.wrongType, key, "expected a string, found \(v.kindName)")
            }
            return s
        }

        func strings(_ key: String) throws(ProfileError) -> [String]? {
            guard let v = value(key) else { return nil }
            guard case .array(let a) = v else {
                throw error(.wrongType, key, "expected an array of strings, found \(v.kindName)")
            }
            var out: [String] = []
            for (i, e) in a.enumerated() {
                guard case .string(let s) = e else {
                    throw error(.wrongType, "\(key)[\(i)]", "expected a string, found \(e.kindName)")
                }
                out.append(s)
            }
            return out
        }

        func unsigned(_ key: String, max: UInt64 = .max) throws(ProfileError) -> UInt64? {
            guard let v = value(key) else { return nil }
            guard case .number(let n) = v else {
                throw error(.wrongType, key, "expected an unsigned integer, found \(v.kindName)")
            }
            guard let u = UInt64(n) else {
                if n.hasPrefix("-"), Int64(n) != nil { throw error(.outOfRange, key, "\(n) is negative") }
                if n.allSatisfy(\.isNumber) { throw error(.outOfRange, key, "\(n) does not fit in 64 bits") }
                throw error(.wrongType, key, "expected an unsigned integer, found \(n)")
            }
            guard u <= max else { throw error(.outOfRange, key, "\(n) is above \(max)") }
            return u
        }

        func objects(_ key: String) throws(ProfileError) -> [[(key: String, value: ProfileJSON)]]? {
            guard let v = value(key) else { return nil }
            guard case .array(let a) = v else {
                throw error(.wrongType, key, "expected an array of objects, found \(v.kindName)")
            }
            var out: [[(key: String, value: ProfileJSON)]] = []
            for (i, e) in a.enumerated() {
                guard case .object(let o) = e else {
                    throw error(.wrongType, "\(key)[\(i)]", "expected an object, found \(e.kindName)")
                }
                out.append(o)
            }
            return out
        }

        func object(_ key: String) throws(ProfileError) -> [(key: String, value: ProfileJSON)]? {
            guard let v = value(key) else { return nil }
            guard case .object(let o) = v else {
                throw error(.wrongType, key, "expected an object, found \(v.kindName)")
            }
            return o
        }

        /// Refuses a repeated key; returns the keys not in `known`, for warnings.
        func unknownKeys(_ known: Set<String>) throws(ProfileError) -> [String] {
            var seen = Set<String>()
            for m in members where !seen.insert(m.key).inserted {
                throw error(.conflictingFields, m.key, "the key appears twice")
            }
            return members.map(\.key).filter { !known.contains($0) }
        }
    }

    mutating func warn(_ kind: ProfileWarning.Kind, _ location: String, _ message: String) {
        warnings.append(ProfileWarning(kind: kind, location: location, message: message))
    }

    mutating func profile(_ root: ProfileJSON) throws(ProfileError) -> Profile {
        guard case .object(let members) = root else {
            throw ProfileError(kind: .wrongType, location: "profile", field: "(document)",
                               message: "expected an object, found \(root.kindName)")
        }
        let top = Fields(location: "profile", prefix: "", members: members)
        for key in try top.unknownKeys(["comment", "defaultAction", "defaultErrnoRet", "defaultErrno", "architectures",
                                        "archMap", "flags", "listenerPath", "listenerMetadata", "syscalls"]) {
            warn(.ignoredField, "profile", "unknown field \"\(key)\" ignored")
        }
        guard let actionName = try top.string("defaultAction") else {
            throw top.error(.wrongType, "defaultAction", "missing")
        }
        guard let defaultAction = Action(rawValue: actionName) else {
            throw top.error(.unknownAction, "defaultAction", "unknown action \"\(actionName)\"")
        }
        if defaultAction == .notify {
            throw top.error(.unusableAction, "defaultAction", "runc refuses SCMP_ACT_NOTIFY as the default action")
        }
        let defaultErrnoRet = try top.unsigned("defaultErrnoRet", max: 65535).map { UInt32($0) }
        if defaultErrnoRet != nil, !defaultAction.takesErrnoRet {
            warn(.ignoredField, "profile", "defaultErrnoRet is ignored with \(actionName)")
        }
        let architectures = try top.strings("architectures") ?? []
        for (i, a) in architectures.enumerated() where !Architectures.known.contains(a) {
            throw top.error(.unknownArchitecture, "architectures[\(i)]", "unknown architecture \"\(a)\"")
        }
        var archMap: [ArchitectureGroup] = []
        for (i, o) in (try top.objects("archMap") ?? []).enumerated() {
            let f = Fields(location: "profile", prefix: "archMap[\(i)].", members: o)
            for key in try f.unknownKeys(["architecture", "subArchitectures"]) {
                warn(.ignoredField, "profile", "unknown field archMap[\(i)].\(key) ignored")
            }
            guard let arch = try f.string("architecture") else { throw f.error(.wrongType, "architecture", "missing") }
            let subs = try f.strings("subArchitectures") ?? []
            for (j, a) in ([arch] + subs).enumerated() where !Architectures.known.contains(a) {
                throw f.error(.unknownArchitecture, j == 0 ? "architecture" : "subArchitectures[\(j - 1)]",
                              "unknown architecture \"\(a)\"")
            }
            archMap.append(ArchitectureGroup(architecture: arch, subArchitectures: subs))
        }
        if !architectures.isEmpty, !archMap.isEmpty {
            throw top.error(.conflictingFields, "archMap",
                            "a profile has either \"architectures\" or \"archMap\", not both (as moby refuses)")
        }
        var syscalls: [Entry] = []
        for (i, o) in (try top.objects("syscalls") ?? []).enumerated() {
            syscalls.append(try entry(o, index: i))
        }
        var profile = Profile(defaultAction: defaultAction, defaultErrnoRet: defaultErrnoRet, architectures: architectures,
                              archMap: archMap, flags: try top.strings("flags"), listenerPath: try top.string("listenerPath"),
                              listenerMetadata: try top.string("listenerMetadata"), syscalls: syscalls)
        let comment = try top.string("comment")
        profile.comment = comment?.isEmpty == true ? nil : comment
        return profile
    }

    mutating func entry(_ members: [(key: String, value: ProfileJSON)], index: Int) throws(ProfileError) -> Entry {
        // Name the entry by its first name when that much can be read.
        var location = "syscalls[\(index)]"
        if case .array(let names)? = members.first(where: { $0.key == "names" })?.value,
           case .string(let n)? = names.first {
            location += " (\(n))"
        } else if case .string(let n)? = members.first(where: { $0.key == "name" })?.value {
            location += " (\(n))"
        }
        let f = Fields(location: location, prefix: "", members: members)
        for key in try f.unknownKeys(["names", "name", "action", "errnoRet", "errno", "args", "comment", "includes",
                                      "excludes"]) {
            warn(.ignoredField, location, "unknown field \"\(key)\" ignored")
        }
        var names = try f.strings("names") ?? []
        if let name = try f.string("name"), !name.isEmpty {
            guard names.isEmpty else {
                throw f.error(.conflictingFields, "name", "an entry has either \"name\" or \"names\", not both")
            }
            names = [name]
        }
        if names.isEmpty { throw f.error(.noNames, "names", "no syscall named") }
        if let i = names.firstIndex(of: "") { throw f.error(.wrongType, "names[\(i)]", "empty syscall name") }
        guard let actionName = try f.string("action") else { throw f.error(.wrongType, "action", "missing") }
        guard let action = Action(rawValue: actionName) else {
            throw f.error(.unknownAction, "action", "unknown action \"\(actionName)\"")
        }
        if action == .notify, let i = names.firstIndex(of: "write") {
            throw f.error(.unusableAction, "names[\(i)]", "runc refuses SCMP_ACT_NOTIFY for write")
        }
        let errnoRet = try f.unsigned("errnoRet", max: 65535).map { UInt32($0) }
        if errnoRet != nil, !action.takesErrnoRet {
            warn(.ignoredField, location, "errnoRet is ignored with \(actionName)")
        }
        var args: [ArgumentRule] = []
        for (i, o) in (try f.objects("args") ?? []).enumerated() {
            let a = Fields(location: location, prefix: "args[\(i)].", members: o)
            for key in try a.unknownKeys(["index", "value", "valueTwo", "op"]) {
                warn(.ignoredField, location, "unknown field args[\(i)].\(key) ignored")
            }
            guard let idx = try a.unsigned("index") else { throw a.error(.malformedArgs, "index", "missing") }
            guard idx <= 5 else {
                throw a.error(.malformedArgs, "index", "\(idx) is above 5 (a syscall has 6 arguments)")
            }
            guard let value = try a.unsigned("value") else { throw a.error(.malformedArgs, "value", "missing") }
            guard let opName = try a.string("op") else { throw a.error(.malformedArgs, "op", "missing") }
            guard let op = Operator(rawValue: opName) else {
                throw a.error(.unknownOperator, "op", "unknown operator \"\(opName)\"")
            }
            args.append(ArgumentRule(index: Int(idx), value: value, valueTwo: try a.unsigned("valueTwo") ?? 0, op: op))
        }
        let comment = try f.string("comment")
        let includes = try condition(f, "includes", location)
        let excludes = try condition(f, "excludes", location)
        for name in names where !ABI.allCases.contains(where: { Catalog.shared.number(of: name, abi: $0) != nil }) {
            warn(.unknownSyscall, location,
                 "unknown syscall \"\(name)\" (the catalog has it for none of x86_64, i386, x32): ignored")
        }
        return Entry(names: names, action: action, errnoRet: errnoRet, args: args,
                     comment: comment?.isEmpty == true ? nil : comment,
                     includes: includes?.isEmpty == true ? nil : includes,
                     excludes: excludes?.isEmpty == true ? nil : excludes)
    }

    mutating func condition(_ f: Fields, _ key: String, _ location: String) throws(ProfileError) -> Condition? {
        guard let o = try f.object(key) else { return nil }
        let c = Fields(location: location, prefix: key + ".", members: o)
        for k in try c.unknownKeys(["caps", "arches", "minKernel"]) {
            warn(.ignoredField, location, "unknown field \(key).\(k) ignored")
        }
        let caps = try c.strings("caps") ?? []
        for cap in caps where !Capabilities.all.contains(cap) {
            warn(.unknownCapability, location, "\(key).caps names \"\(cap)\", not a Linux capability")
        }
        var minKernel: KernelVersion?
        if let text = try c.string("minKernel"), !text.isEmpty {
            // moby: exactly "<kernel>.<major>", each 0...255, not "0.0".
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let k = UInt8(parts[0]), let m = UInt8(parts[1]), k > 0 || m > 0 else {
                throw c.error(.invalidKernelVersion, "minKernel", "\"\(text)\" is not \"<kernel>.<major>\"")
            }
            minKernel = KernelVersion(Int(k), Int(m))
        }
        return Condition(caps: caps, arches: try c.strings("arches") ?? [], minKernel: minKernel)
    }
}
