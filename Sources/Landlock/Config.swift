import Quoting

/// A Landlock policy in the format of the Landlock maintainers' landlockconfig (TOML form): an optional `abi`,
/// `[[variable]]` (name, literal), `[[ruleset]]` (handled_access_fs, handled_access_net, scoped),
/// `[[path_beneath]]` (allowed_access, parent) and `[[net_port]]` (allowed_access, port). Access lists hold
/// right names, or groups: `abi.all`, `abi.read_execute`, `abi.read_write` (for the file's `abi`) and
/// `vN.all`, `vN.read_execute`, `vN.read_write`. Parents are strings with `${name}` variable references (`$$`
/// is a dollar). Comment lines just before a table are kept as that table's comment.
public struct LandlockConfig: Hashable, Sendable {
    public var abi: Int?
    public var variables: [Variable] = []
    public var rulesets: [RulesetEntry] = []
    public var pathBeneath: [PathBeneathEntry] = []
    public var netPorts: [NetPortEntry] = []
    /// Comment lines at the top of the file (before the first table).
    public var comment: String?

    public struct Variable: Hashable, Sendable {
        public var name: String
        public var literal: [String]
        public var comment: String?
        public init(name: String, literal: [String], comment: String? = nil) {
            self.name = name; self.literal = literal; self.comment = comment
        }
    }
    public struct RulesetEntry: Hashable, Sendable {
        public var handledAccessFS: [String]?
        public var handledAccessNet: [String]?
        public var scoped: [String]?
        public var comment: String?
        public init(handledAccessFS: [String]? = nil, handledAccessNet: [String]? = nil, scoped: [String]? = nil,
                    comment: String? = nil) {
            self.handledAccessFS = handledAccessFS; self.handledAccessNet = handledAccessNet; self.scoped = scoped
            self.comment = comment
        }
    }
    public struct PathBeneathEntry: Hashable, Sendable {
        public var allowedAccess: [String]
        public var parent: [String]
        public var comment: String?
        public init(allowedAccess: [String], parent: [String], comment: String? = nil) {
            self.allowedAccess = allowedAccess; self.parent = parent; self.comment = comment
        }
    }
    public struct NetPortEntry: Hashable, Sendable {
        public var allowedAccess: [String]
        public var port: [UInt64]
        public var comment: String?
        public init(allowedAccess: [String], port: [UInt64], comment: String? = nil) {
            self.allowedAccess = allowedAccess; self.port = port; self.comment = comment
        }
    }

    public init() {}

    public struct ConfigError: Error, CustomStringConvertible, Sendable {
        public let line: Int
        public let reason: String
        public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
    }

    // MARK: - Reading

    /// Parses the TOML form. Unknown tables and keys, wrong value types, unknown rights and malformed variable
    /// references are errors naming the line.
    public init(toml text: String) throws(ConfigError) {
        var reader = TOMLReader(text)
        var pendingComment: [String] = []
        var table: String? = nil
        var sawTable = false
        func err(_ r: String) -> ConfigError { ConfigError(line: reader.itemLine, reason: r) }
        func commentText() -> String? {
            defer { pendingComment = [] }
            return pendingComment.isEmpty ? nil : pendingComment.joined(separator: "\n")
        }
        while let item = try reader.next() {
            switch item {
            case .comment(let c): pendingComment.append(c)
            case .blank:
                if !sawTable, !pendingComment.isEmpty, comment == nil { comment = commentText() }
            case .arrayTable(let name):
                sawTable = true
                let c = commentText()
                switch name {
                case "variable": variables.append(Variable(name: "", literal: [], comment: c))
                case "ruleset": rulesets.append(RulesetEntry(comment: c))
                case "path_beneath": pathBeneath.append(PathBeneathEntry(allowedAccess: [], parent: [], comment: c))
                case "net_port": netPorts.append(NetPortEntry(allowedAccess: [], port: [], comment: c))
                default: throw err("unknown table [[\(name)]] (expected variable, ruleset, path_beneath or net_port)")
                }
                table = name
            case .table(let name):
                throw err("[\(name)] is not part of the format (tables are arrays: [[ruleset]], [[path_beneath]], ...)")
            case .pair(let key, let value):
                pendingComment = []
                try assign(key, value, table: table, err)
            }
        }
        for (i, v) in variables.enumerated() where v.name.isEmpty {
            throw ConfigError(line: 0, reason: "variable \(i + 1) has no name")
        }
        for (i, p) in pathBeneath.enumerated() where p.allowedAccess.isEmpty || p.parent.isEmpty {
            throw ConfigError(line: 0, reason: "path_beneath \(i + 1) needs a non-empty allowed_access and parent")
        }
        for (i, p) in netPorts.enumerated() where p.allowedAccess.isEmpty || p.port.isEmpty {
            throw ConfigError(line: 0, reason: "net_port \(i + 1) needs a non-empty allowed_access and port")
        }
        for (i, r) in rulesets.enumerated() where r.handledAccessFS == nil && r.handledAccessNet == nil && r.scoped == nil {
            throw ConfigError(line: 0, reason: "ruleset \(i + 1) is empty")
        }
        if variables.isEmpty && rulesets.isEmpty && pathBeneath.isEmpty && netPorts.isEmpty {
            throw ConfigError(line: 0, reason: "empty configuration: no variable, ruleset, path_beneath or net_port")
        }
    }

    private mutating func assign(_ key: String, _ value: TOMLValue, table: String?,
                                 _ err: (String) -> ConfigError) throws(ConfigError) {
        func strings() throws(ConfigError) -> [String] {
            guard case .array(let a) = value, !a.isEmpty else { throw err("\(key) must be a non-empty array of strings") }
            var out: [String] = []
            for x in a { guard case .string(let s) = x else { throw err("\(key) must hold strings only") }; out.append(s) }
            return out
        }
        func access(_ kind: AccessKind) throws(ConfigError) -> [String] {
            let names = try strings()
            for n in names where !LandlockConfig.isAccessName(n, kind) {
                throw err("unknown \(kind.rawValue) access \"\(n)\" in \(key)")
            }
            return names
        }
        switch (table, key) {
        case (nil, "abi"):
            guard case .int(let v) = value, v >= 1, v <= Int64(Int32.max) else { throw err("abi must be an integer from 1") }
            abi = Int(v)
        case ("variable", "name"):
            guard case .string(let s) = value, LandlockConfig.isVariableName(s) else {
                throw err("variable name must start with an ASCII letter and hold only letters, digits and '_'")
            }
            variables[variables.count - 1].name = s
        case ("variable", "literal"): variables[variables.count - 1].literal = try strings()
        case ("ruleset", "handled_access_fs"): rulesets[rulesets.count - 1].handledAccessFS = try access(.fs)
        case ("ruleset", "handled_access_net"): rulesets[rulesets.count - 1].handledAccessNet = try access(.net)
        case ("ruleset", "scoped"): rulesets[rulesets.count - 1].scoped = try access(.scope)
        case ("path_beneath", "allowed_access"): pathBeneath[pathBeneath.count - 1].allowedAccess = try access(.fs)
        case ("path_beneath", "parent"):
            let p = try strings()
            for s in p { if case .failure(let e) = LandlockConfig.template(s) { throw err(e.message) } }
            pathBeneath[pathBeneath.count - 1].parent = p
        case ("net_port", "allowed_access"): netPorts[netPorts.count - 1].allowedAccess = try access(.net)
        case ("net_port", "port"):
            guard case .array(let a) = value, !a.isEmpty else { throw err("port must be a non-empty array of integers") }
            var ports: [UInt64] = []
            for x in a {
                guard case .int(let v) = x, v >= 0 else { throw err("port must hold non-negative integers") }
                ports.append(UInt64(v))
            }
            netPorts[netPorts.count - 1].port = ports
        default:
            throw err("unknown key \"\(key)\"" + (table.map { " in [[\($0)]]" } ?? " at the top level"))
        }
    }

    enum AccessKind: String { case fs = "filesystem", net = "network", scope = "scope" }

    static func isAccessName(_ n: String, _ kind: AccessKind) -> Bool {
        if group(n, kind) != nil { return true }
        switch kind {
        case .fs: return FSAccess(name: n) != nil
        case .net: return NetAccess(name: n) != nil
        case .scope: return Scope(name: n) != nil
        }
    }

    /// A group name: (version or nil for the file's `abi`, group).
    static func group(_ n: String, _ kind: AccessKind) -> (Int?, String)? {
        guard let dot = n.firstIndex(of: ".") else { return nil }
        let prefix = n[..<dot], g = String(n[n.index(after: dot)...])
        let groups = kind == .fs ? ["all", "read_execute", "read_write"] : ["all"]
        guard groups.contains(g) else { return nil }
        if prefix == "abi" { return (nil, g) }
        guard prefix.first == "v", let v = Int(prefix.dropFirst()), v >= 1 else { return nil }
        return (v, g)
    }

    static func isVariableName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f.isASCII, f.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    enum Piece: Hashable { case text(String), variable(String) }

    /// A parent string split into text and `${name}` references (`$$` is one dollar).
    struct TemplateError: Error { let message: String }

    static func template(_ s: String) -> Result<[Piece], TemplateError> {
        var out: [Piece] = []
        var text = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            let next = s.index(after: i)
            if c == "$", next < s.endIndex, s[next] == "$" { text.append("$"); i = s.index(after: next); continue }
            if c == "$", next < s.endIndex, s[next] == "{" {
                guard let close = s[next...].firstIndex(of: "}") else { return .failure(TemplateError(message: "unclosed variable reference in \"\(s)\"")) }
                let name = String(s[s.index(after: next)..<close])
                guard isVariableName(name) else { return .failure(TemplateError(message: "bad variable name \"\(name)\" in \"\(s)\"")) }
                if !text.isEmpty { out.append(.text(text)); text = "" }
                out.append(.variable(name))
                i = s.index(after: close)
                continue
            }
            text.append(c)
            i = next
        }
        if !text.isEmpty { out.append(.text(text)) }
        return .success(out)
    }

    // MARK: - Resolving

    /// The ruleset this configuration describes on a machine with `machine`'s ABI: groups resolved, variables
    /// expanded (every combination), relative parents joined to `cwd`, handled rights completed with every
    /// right a rule uses (as landlockconfig does), and rights newer than the machine's ABI left out (best
    /// effort; `leftOut` names them).
    public func resolve(machine: LandlockABI, cwd: String) throws(ConfigError) -> (ruleset: Ruleset, leftOut: [String]) {
        func err(_ r: String) -> ConfigError { ConfigError(line: 0, reason: r) }
        func fsMask(_ names: [String]) throws(ConfigError) -> FSAccess {
            var m = FSAccess()
            for n in names {
                if let (v, g) = LandlockConfig.group(n, .fs) {
                    guard let version = v ?? abi else { throw err("\"\(n)\" needs the top-level abi") }
                    let a = LandlockABI(version)
                    m.formUnion(g == "all" ? a.fs : g == "read_execute" ? FSAccess.readExecute(a) : FSAccess.readWrite(a))
                } else if let r = FSAccess(name: n) { m.formUnion(r) }
            }
            return m
        }
        func netMask(_ names: [String]) throws(ConfigError) -> NetAccess {
            var m = NetAccess()
            for n in names {
                if let (v, _) = LandlockConfig.group(n, .net) {
                    guard let version = v ?? abi else { throw err("\"\(n)\" needs the top-level abi") }
                    m.formUnion(LandlockABI(version).net)
                } else if let r = NetAccess(name: n) { m.formUnion(r) }
            }
            return m
        }
        func scopeMask(_ names: [String]) throws(ConfigError) -> Scope {
            var m = Scope()
            for n in names {
                if let (v, _) = LandlockConfig.group(n, .scope) {
                    guard let version = v ?? abi else { throw err("\"\(n)\" needs the top-level abi") }
                    m.formUnion(LandlockABI(version).scopes)
                } else if let r = Scope(name: n) { m.formUnion(r) }
            }
            return m
        }
        var vars: [String: [String]] = [:]
        for v in variables { vars[v.name, default: []] += v.literal }
        var r = Ruleset()
        for e in rulesets {
            r.handledFS.formUnion(try fsMask(e.handledAccessFS ?? []))
            r.handledNet.formUnion(try netMask(e.handledAccessNet ?? []))
            r.scoped.formUnion(try scopeMask(e.scoped ?? []))
        }
        for e in pathBeneath {
            let access = try fsMask(e.allowedAccess)
            for p in e.parent {
                let pieces: [Piece]
                switch LandlockConfig.template(p) {
                case .success(let x): pieces = x
                case .failure(let m): throw err(m.message)
                }
                var expanded = [""]
                for piece in pieces {
                    switch piece {
                    case .text(let t): expanded = expanded.map { $0 + t }
                    case .variable(let name):
                        guard let values = vars[name] else { throw err("variable '\(name)' not found (in \"\(p)\")") }
                        expanded = expanded.flatMap { prefix in values.map { prefix + $0 } }
                    }
                }
                for x in expanded {
                    let abs = x.hasPrefix("/") ? x : cwd + "/" + x
                    r.paths.append(PathRule(path: LandlockPath.normalise(abs), access: access))
                }
            }
            r.handledFS.formUnion(access)
        }
        for e in netPorts {
            let access = try netMask(e.allowedAccess)
            for port in e.port { r.ports.append(PortRule(port: port, access: access)) }
            r.handledNet.formUnion(access)
        }
        var leftOut: [String] = []
        let fsDrop = r.handledFS.subtracting(machine.fs), netDrop = r.handledNet.subtracting(machine.net)
        let scopeDrop = r.scoped.subtracting(machine.scopes)
        leftOut += fsDrop.names + netDrop.names + scopeDrop.names
        r.handledFS.formIntersection(machine.fs)
        r.handledNet.formIntersection(machine.net)
        r.scoped.formIntersection(machine.scopes)
        r.paths = r.paths.map { PathRule(path: $0.path, access: $0.access.intersection(r.handledFS)) }.filter { !$0.access.isEmpty }
        r.ports = r.ports.map { PortRule(port: $0.port, access: $0.access.intersection(r.handledNet)) }.filter { !$0.access.isEmpty }
        return (r, leftOut)
    }

    // MARK: - Writing

    /// The TOML form; reading it back gives an equal configuration.
    public func toml() -> String {
        var out: [String] = []
        func writeComment(_ c: String?) { if let c { out += c.split(separator: "\n", omittingEmptySubsequences: false).map { "#" + $0 } } }
        func list(_ a: [String]) -> String { "[" + a.map(LandlockConfig.quote).joined(separator: ", ") + "]" }
        if let c = comment { writeComment(c); out.append("") }
        if let abi { out.append("abi = \(abi)"); out.append("") }
        for v in variables {
            writeComment(v.comment)
            out += ["[[variable]]", "name = \(LandlockConfig.quote(v.name))", "literal = \(list(v.literal))", ""]
        }
        for r in rulesets {
            writeComment(r.comment)
            out.append("[[ruleset]]")
            if let a = r.handledAccessFS { out.append("handled_access_fs = \(list(a))") }
            if let a = r.handledAccessNet { out.append("handled_access_net = \(list(a))") }
            if let a = r.scoped { out.append("scoped = \(list(a))") }
            out.append("")
        }
        for p in pathBeneath {
            writeComment(p.comment)
            out += ["[[path_beneath]]", "allowed_access = \(list(p.allowedAccess))", "parent = \(list(p.parent))", ""]
        }
        for n in netPorts {
            writeComment(n.comment)
            out += ["[[net_port]]", "allowed_access = \(list(n.allowedAccess))",
                    "port = [" + n.port.map(String.init).joined(separator: ", ") + "]", ""]
        }
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }

    /// A TOML basic string.
    public static func quote(_ s: String) -> String { Quoting.quoted(s, as: .toml) }
}
