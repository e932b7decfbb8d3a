extension Profile {
    /// The profile as OCI JSON, stable for equal profiles: fields in a fixed order, `names`, `caps` and `arches`
    /// sorted, absent fields left out, the legacy `name` written as `names`. Entries keep their order, which
    /// decides between unconditional rules, and `args` keep theirs.
    /// `Profile.load` reads the result back to a profile that decides every call the same.
    public func ociJSON() -> String {
        var top: [(key: String, value: ProfileJSON)] = []
        if let comment { top.append(("comment", .string(comment))) }
        top.append(("defaultAction", .string(defaultAction.rawValue)))
        if let e = defaultErrnoRet { top.append(("defaultErrnoRet", .number(String(e)))) }
        if !architectures.isEmpty { top.append(("architectures", .array(architectures.map(ProfileJSON.string)))) }
        if !archMap.isEmpty {
            top.append(("archMap", .array(archMap.map { group in
                var o: [(key: String, value: ProfileJSON)] = [("architecture", .string(group.architecture))]
                if !group.subArchitectures.isEmpty {
                    o.append(("subArchitectures", .array(group.subArchitectures.map(ProfileJSON.string))))
                }
                return .object(o)
            })))
        }
        if let flags { top.append(("flags", .array(flags.map(ProfileJSON.string)))) }
        if let listenerPath { top.append(("listenerPath", .string(listenerPath))) }
        if let listenerMetadata { top.append(("listenerMetadata", .string(listenerMetadata))) }
        top.append(("syscalls", .array(syscalls.map(Profile.json))))
        return ProfileJSON.object(top).written() + "\n"
    }

    static func json(_ entry: Entry) -> ProfileJSON {
        var o: [(key: String, value: ProfileJSON)] = [
            ("names", .array(entry.names.sorted().map(ProfileJSON.string))),
            ("action", .string(entry.action.rawValue)),
        ]
        if let e = entry.errnoRet { o.append(("errnoRet", .number(String(e)))) }
        if !entry.args.isEmpty {
            o.append(("args", .array(entry.args.map { a in
                var arg: [(key: String, value: ProfileJSON)] = [
                    ("index", .number(String(a.index))), ("value", .number(String(a.value))),
                ]
                if a.valueTwo != 0 || a.op == .maskedEqual { arg.append(("valueTwo", .number(String(a.valueTwo)))) }
                arg.append(("op", .string(a.op.rawValue)))
                return .object(arg)
            })))
        }
        if let c = entry.comment { o.append(("comment", .string(c))) }
        if let c = entry.includes { o.append(("includes", json(c))) }
        if let c = entry.excludes { o.append(("excludes", json(c))) }
        return .object(o)
    }

    static func json(_ c: Condition) -> ProfileJSON {
        var o: [(key: String, value: ProfileJSON)] = []
        if !c.caps.isEmpty { o.append(("caps", .array(c.caps.sorted().map(ProfileJSON.string)))) }
        if !c.arches.isEmpty { o.append(("arches", .array(c.arches.sorted().map(ProfileJSON.string)))) }
        if let k = c.minKernel { o.append(("minKernel", .string(k.description))) }
        return .object(o)
    }
}
