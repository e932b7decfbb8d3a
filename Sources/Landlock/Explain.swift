/// What a path named when a call was refused (captrace looks after the refusal).
public enum FileType: String, Hashable, Sendable {
    case directory, regular, missing
    /// A device, fifo, socket or anything else.
    case other
}

/// A call Landlock governs, as recorded when it failed: the facts the explanation reads.
public struct RefusedCall: Hashable, Sendable {
    public var syscall: String
    /// open family: the open flags (creat: O_CREAT|O_WRONLY|O_TRUNC); unlinkat, renameat2: the AT_/RENAME_ flags.
    public var flags: UInt64?
    /// mknod, mknodat: the mode (its S_IFMT bits say what is made).
    public var mode: UInt64?
    /// The path the call acts on, absolute: opened, executed, made, removed, renamed or linked from; for
    /// symlink the link made.
    public var path: String?
    /// rename and link: the new name.
    public var path2: String?
    /// Where `path` led when it was refused, when that differs (a symlink on the way): Landlock checks the file
    /// the lookup ends at, so the explanation uses this.
    public var resolved: String?
    /// What `path` named (for rename and link: the source).
    public var fileType: FileType?
    /// bind, connect: the TCP/UDP port, and whether the address was an abstract unix socket.
    public var port: UInt64?
    public var abstractUnix: Bool = false
    /// The errno the call returned, by name.
    public var errno: String

    public init(syscall: String, errno: String) { self.syscall = syscall; self.errno = errno }
}

/// One right a call needs, and where a rule must grant it.
public struct Need: Hashable, Sendable {
    public enum Right: Hashable, Sendable {
        case fs(FSAccess)
        case net(NetAccess)
        case scope(Scope)
    }
    public var right: Right
    /// fs: the path a rule must lie at or above (the file itself, or the directory that holds what is made or
    /// removed). net: nil.
    public var beneath: String?
    /// net: the port.
    public var port: UInt64?
    /// Why this right (e.g. "open for reading a regular file").
    public var why: String

    public var name: String {
        switch right {
        case .fs(let a): a.names.joined(separator: ",")
        case .net(let a): a.names.joined(separator: ",")
        case .scope(let s): s.names.joined(separator: ",")
        }
    }
}

/// Which rights a call needs (Documentation/userspace-api/landlock.rst, "Filesystem flags" and "Network flags").
public enum LandlockNeeds {
    static let oAccMode: UInt64 = 3, oCreat: UInt64 = 0o100, oTrunc: UInt64 = 0o1000, oPath: UInt64 = 0o10000000
    static let atRemoveDir: UInt64 = 0x200, renameExchange: UInt64 = 2

    /// The calls whose failure Landlock can cause (EACCES, EXDEV; EPERM for the scopes).
    public static let governed: Set<String> = [
        "open", "openat", "openat2", "creat", "execve", "execveat", "mkdir", "mkdirat", "mknod", "mknodat",
        "symlink", "symlinkat", "unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat",
        "truncate", "bind", "connect", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
        "pidfd_send_signal", "sendto", "sendmsg",
    ]

    /// The errnos Landlock refuses a call with: EACCES (EXDEV for a rename or link to another directory;
    /// EPERM for a signal or abstract socket outside the domain).
    public static func isLandlockErrno(_ syscall: String, _ errno: String) -> Bool {
        switch syscall {
        case "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal": errno == "EPERM"
        case "connect", "sendto", "sendmsg": errno == "EACCES" || errno == "EPERM"
        case "rename", "renameat", "renameat2", "link", "linkat": errno == "EACCES" || errno == "EXDEV"
        default: errno == "EACCES"
        }
    }

    static func make(_ type: FileType?, mode: UInt64? = nil) -> (FSAccess, String) {
        if let mode {
            switch mode & 0o170000 {
            case 0o020000: return (.makeChar, "a character device")
            case 0o060000: return (.makeBlock, "a block device")
            case 0o010000: return (.makeFifo, "a fifo")
            case 0o140000: return (.makeSock, "a unix socket")
            default: return (.makeReg, "a regular file")
            }
        }
        switch type {
        case .directory: return (.makeDir, "a directory")
        default: return (.makeReg, "a file")
        }
    }

    /// The rights `call` needs, one per rule to find.
    public static func needs(_ call: RefusedCall) -> [Need] {
        func fs(_ a: FSAccess, _ p: String?, _ why: String) -> Need { Need(right: .fs(a), beneath: p, port: nil, why: why) }
        let path = (call.resolved ?? call.path).map(LandlockPath.normalise)
        let parent = path.map(LandlockPath.parent)
        switch call.syscall {
        case "open", "openat", "openat2", "creat":
            let flags = call.syscall == "creat" ? (oCreat | 1 | oTrunc) : (call.flags ?? 0)
            guard flags & oPath == 0 else { return [] }
            var out: [Need] = []
            let created = flags & oCreat != 0 && call.fileType == .missing
            if created { out.append(fs(.makeReg, parent, "create a regular file in \(parent ?? "?")")) }
            let target = created ? parent : path
            let acc = flags & oAccMode
            if call.fileType == .directory {
                out.append(fs(.readDir, path, "open a directory"))
                return out
            }
            if acc == 0 || acc == 2 { out.append(fs(.readFile, target, "open a file for reading")) }
            if acc == 1 || acc == 2 { out.append(fs(.writeFile, target, "open a file for writing")) }
            if flags & oTrunc != 0, !created, acc != 0 { out.append(fs(.truncate, target, "open with O_TRUNC")) }
            return out
        case "execve", "execveat":
            return [fs(.execute, path, "execute a file"), fs(.readFile, path, "execute a file (the kernel opens it for reading)")]
        case "mkdir", "mkdirat": return [fs(.makeDir, parent, "make a directory")]
        case "mknod", "mknodat":
            let (a, what) = make(nil, mode: call.mode ?? 0)
            return [fs(a, parent, "make \(what)")]
        case "symlink", "symlinkat": return [fs(.makeSym, parent, "make a symbolic link")]
        case "unlink": return [fs(.removeFile, parent, "remove a file")]
        case "rmdir": return [fs(.removeDir, parent, "remove a directory")]
        case "unlinkat":
            return (call.flags ?? 0) & atRemoveDir != 0 ? [fs(.removeDir, parent, "remove a directory")]
                : [fs(.removeFile, parent, "remove a file")]
        case "truncate": return [fs(.truncate, path, "truncate a file")]
        case "rename", "renameat", "renameat2", "link", "linkat":
            let isLink = call.syscall.hasPrefix("link")
            let to = call.path2.map(LandlockPath.normalise)
            let toParent = to.map(LandlockPath.parent)
            let (mk, what) = make(call.fileType)
            var out: [Need] = []
            if !isLink {
                let rm: FSAccess = call.fileType == .directory ? .removeDir : .removeFile
                out.append(fs(rm, parent, "move \(what) out of \(parent ?? "?")"))
            }
            out.append(fs(mk, toParent, (isLink ? "link " : "move ") + "\(what) into \(toParent ?? "?")"))
            if (call.flags ?? 0) & renameExchange != 0, !isLink {
                out.append(fs(.removeFile, toParent, "exchange: move the other file out of \(toParent ?? "?")"))
                out.append(fs(.makeReg, parent, "exchange: move the other file into \(parent ?? "?")"))
            }
            if let parent, let toParent, parent != toParent {
                out.append(fs(.refer, parent, "reparent from \(parent) (a rename or link to another directory)"))
                out.append(fs(.refer, toParent, "reparent into \(toParent)"))
            }
            return out
        case "bind":
            guard let p = call.port, !call.abstractUnix else { return [] }
            return [Need(right: .net(.bindTCP), beneath: nil, port: p, why: "bind a TCP socket to port \(p)")]
        case "connect", "sendto", "sendmsg":
            if call.abstractUnix {
                return [Need(right: .scope(.abstractUnixSocket), beneath: nil, port: nil,
                             why: "reach an abstract unix socket created outside the domain")]
            }
            guard call.syscall == "connect", let p = call.port else { return [] }
            return [Need(right: .net(.connectTCP), beneath: nil, port: p, why: "connect a TCP socket to port \(p)")]
        case "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal":
            return [Need(right: .scope(.signal), beneath: nil, port: nil, why: "signal a process outside the domain")]
        default:
            return []
        }
    }
}

/// Why a layer of the domain refused a need, and the rule that would grant it.
public struct Missing: Hashable, Sendable {
    public var need: Need
    /// Which ruleset of the domain (1 = the first restrict_self) refuses it.
    public var layer: Int
    /// The nearest rule that covers the path but lacks the right (fs), if any.
    public var nearest: PathRule?
    /// The rule (or change) that would grant it, as text.
    public var fix: String
    /// The landlockconfig TOML of a rule that grants it; nil for a scope (no rule can grant one).
    public var toml: String?
}

/// The explanation of one refused call against the domain in effect (its rulesets, first to last).
public struct Explanation: Hashable, Sendable {
    public var needs: [Need]
    public var missing: [Missing]

    /// When no layer refuses any need: the refusal is not these rulesets' (a right the call needs that captrace
    /// does not model, a rule captrace did not see, or another cause of the same errno).
    public var unexplained: Bool { missing.isEmpty }
}

public enum LandlockExplain {
    public static func explain(_ call: RefusedCall, domain: [Ruleset]) -> Explanation {
        let needs = LandlockNeeds.needs(call)
        var missing: [Missing] = []
        for need in needs {
            for (i, layer) in domain.enumerated() {
                if let m = refuses(layer, need, call: call) {
                    missing.append(Missing(need: need, layer: i + 1, nearest: m.nearest, fix: m.fix, toml: m.toml))
                    break
                }
            }
        }
        return Explanation(needs: needs, missing: missing)
    }

    static func refuses(_ r: Ruleset, _ need: Need, call: RefusedCall) -> (nearest: PathRule?, fix: String, toml: String?)? {
        switch need.right {
        case .fs(let a):
            guard let target = need.beneath else { return nil }
            if a == .refer, !r.handledFS.isEmpty, !r.handledFS.contains(.refer) {
                return (nil, "handle refer and grant it beneath both directories: a ruleset that does not handle refer "
                        + "refuses every rename or link into another directory (EXDEV)", toml(.refer, target))
            }
            guard r.handledFS.contains(a) else { return nil }
            let (granted, rules) = r.grants(beneath: target)
            guard !granted.contains(a) else { return nil }
            // A rule on a file can hold only file rights; a right on a directory is granted beneath it.
            let nearest = rules.first
            var fix = "a rule granting \(a.names.joined()) beneath \(target)"
            if let n = nearest, !(isFileRule(n, target: target) && !FSAccess.fileRights.contains(a)) {
                fix = "add \(a.names.joined()) to the rule for \(n.path) (it grants \(n.access.names.joined(separator: ", "))), or " + fix
            }
            return (nearest, fix, toml(a, target))
        case .net(let a):
            guard r.handledNet.contains(a), let port = need.port, !r.grants(port: port).contains(a) else { return nil }
            return (nil, "a rule granting \(a.names.joined()) on port \(port)",
                    "[[net_port]]\nallowed_access = [\"\(a.names.joined())\"]\nport = [\(port)]")
        case .scope(let s):
            guard r.scoped.contains(s) else { return nil }
            return (nil, "no rule grants a scope: the ruleset must not scope \(s.names.joined()) (or the peer must be "
                    + "inside the same domain)", nil)
        }
    }

    static func isFileRule(_ rule: PathRule, target: String) -> Bool {
        LandlockPath.normalise(rule.path) == LandlockPath.normalise(target)
    }

    static func toml(_ a: FSAccess, _ path: String) -> String {
        "[[path_beneath]]\nallowed_access = [\"\(a.names.joined())\"]\nparent = [\(LandlockConfig.quote(path))]"
    }

    /// The explanation as report lines (no indentation).
    public static func lines(_ e: Explanation) -> [String] {
        var out: [String] = []
        if e.needs.isEmpty {
            out.append("captrace knows no Landlock right this call needs (it is not one Landlock refuses this way)")
            return out
        }
        for n in e.needs {
            let at = n.beneath.map { " on \($0)" } ?? ""
            out.append("needs \(n.name)\(at): \(n.why)")
        }
        if e.unexplained {
            out.append("every layer of the domain grants these: the refusal is not explained by the rules captrace recorded")
        }
        for m in e.missing {
            out.append("missing: \(m.need.name)" + (m.need.beneath.map { " on \($0)" } ?? m.need.port.map { " on port \($0)" } ?? "")
                       + " (layer \(m.layer) handles it and no rule grants it)")
            out.append("would grant: \(m.fix)")
            if let t = m.toml { out += t.split(separator: "\n").map { "  " + $0 } }
        }
        return out
    }
}
