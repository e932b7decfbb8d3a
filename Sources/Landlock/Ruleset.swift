/// A Landlock ruleset: what it handles (refuses unless a rule grants it), its path-beneath and net-port rules,
/// and its scopes. Paths are absolute; a rule on a directory covers everything beneath it, a rule on a file
/// that file. The kernel matches rules by inode: captrace matches by path, as they were named.
public struct Ruleset: Hashable, Sendable {
    public var handledFS: FSAccess
    public var handledNet: NetAccess
    public var scoped: Scope
    public var paths: [PathRule]
    public var ports: [PortRule]

    public init(handledFS: FSAccess = [], handledNet: NetAccess = [], scoped: Scope = [], paths: [PathRule] = [],
                ports: [PortRule] = []) {
        self.handledFS = handledFS; self.handledNet = handledNet; self.scoped = scoped; self.paths = paths
        self.ports = ports
    }

    /// The rights the rules beneath which `path` lies grant it, with those rules (nearest first).
    public func grants(beneath path: String) -> (access: FSAccess, rules: [PathRule]) {
        let rules = paths.filter { LandlockPath.isBeneath(path, $0.path) }
            .sorted { $0.path.count > $1.path.count }
        return (rules.reduce(FSAccess()) { $0.union($1.access) }, rules)
    }

    /// The rights the port rules give `port`.
    public func grants(port: UInt64) -> NetAccess {
        ports.filter { $0.port == port }.reduce(NetAccess()) { $0.union($1.access) }
    }
}

/// LANDLOCK_RULE_PATH_BENEATH: `access` for `path` and everything beneath it.
public struct PathRule: Hashable, Sendable {
    public var path: String
    public var access: FSAccess
    public init(path: String, access: FSAccess) { self.path = path; self.access = access }
}

/// LANDLOCK_RULE_NET_PORT: `access` for a TCP port.
public struct PortRule: Hashable, Sendable {
    public var port: UInt64
    public var access: NetAccess
    public init(port: UInt64, access: NetAccess) { self.port = port; self.access = access }
}

/// Path text helpers (no file system access).
public enum LandlockPath {
    /// `path` with "." and empty components dropped and ".." applied lexically.
    public static func normalise(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether `path` is `ancestor` or lies beneath it (both absolute).
    public static func isBeneath(_ path: String, _ ancestor: String) -> Bool {
        let p = normalise(path), a = normalise(ancestor)
        if a == "/" || p == a { return true }
        return p.hasPrefix(a + "/")
    }

    /// The directory that holds `path` ("/" for "/" itself).
    public static func parent(_ path: String) -> String {
        let p = normalise(path)
        guard let i = p.lastIndex(of: "/"), i != p.startIndex else { return "/" }
        return String(p[..<i])
    }
}
