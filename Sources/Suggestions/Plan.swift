import Diagnosis
import SyscallCatalog
import TraceModel

/// `suggest --format plan`: the Capsicum way to remove each violation — acquire descriptors before entry,
/// initialise lazily-initialised libraries before entry, replace calls that name global objects — one item per
/// site in order of first occurrence, then a summary and the descriptors held at entry.
func renderPlan(_ facts: TraceFacts) -> String {
    var plan = PlanBuilder(facts: facts)
    for (i, group) in facts.sites.enumerated() { plan.item(i + 1, group) }
    return plan.finish()
}

struct PlanBuilder {
    let facts: TraceFacts
    var items = ""
    /// Directory -> (files seen under it, whether any lookup writes, items).
    var directories: [(dir: String, files: [String], writes: Bool, items: [Int])] = []
    var sockets: [(address: String, syscalls: [String], items: [Int])] = []
    var initialisers: [(fix: String, hint: String, items: [Int])] = []
    var replacements: [(what: String, items: [Int])] = []
    var delegations: [(what: String, items: [Int])] = []

    init(facts: TraceFacts) { self.facts = facts }

    mutating func item(_ n: Int, _ g: SiteGroup) {
        let v = g.first
        let target = g.paths.first ?? g.addresses.first ?? processTarget(v)
        var head = "\(n). \(v.syscall)"
        if let t = target { head += " \(t)" }
        if g.paths.count + g.addresses.count > 1 { head += " (and \(g.paths.count + g.addresses.count - 1) more)" }
        head += "  [\(v.namespace.rawValue)/\(v.rule.rawValue)]  \(g.events.count) call\(g.events.count == 1 ? "" : "s")"
        head += ", pid \(g.pids.map(String.init).joined(separator: ", ")), first at seq \(v.seq)"
        if v.abi != .x86_64 { head += ", \(v.abi.rawValue) ABI" }
        var lines = [head]
        if let x = g.culprit.exec {
            lines.append("   caused by the exec of \(x.path) in capability mode (pid \(x.pid)): its loader's work, not the program's")
        } else if let own = g.culprit.programFrame {
            lines.append("   at \(describe(own))  (the program's own frame)")
        } else if let inner = v.stack.first {
            lines.append("   at \(describe(inner))  (no frame of the program itself in the stack)")
        } else {
            lines.append("   (recorded without a stack)")
        }
        if g.paths.count > 1 {
            for p in g.paths.dropFirst().prefix(5) { lines.append("   also: \(p)") }
            if g.paths.count > 6 { lines.append("   ... \(g.paths.count - 6) more paths") }
        }
        if let hint = g.hint {
            if let earlier = initialisers.first(where: { $0.hint == hint.id }) {
                lines.append("   Why and do: as item \(earlier.items[0]) (hint \(hint.id): \(hint.title)).")
            } else {
                lines.append("   Why: \(hint.title) (hint \(hint.id)). \(hint.explanation)")
                lines.append("   Do: \(hint.fix)")
            }
            add(&initialisers, fix: hint.fix, hint: hint.id, item: n)
        } else {
            lines += action(n, g).map { "   " + $0 }
        }
        let lookups = g.addresses.filter(resolverAddress)
        if !lookups.isEmpty {
            add(&delegations, "name lookups after entry: a resolver helper process forked before entry, answering over a socketpair you keep (like libcasper's cap_dns, or the lightweight resolver tcpdump uses in capability mode)", item: n)
        }
        items += lines.joined(separator: "\n") + "\n\n"
    }

    /// What to do for a site no known pattern explains, by namespace and rule.
    mutating func action(_ n: Int, _ g: SiteGroup) -> [String] {
        let v = g.first
        switch v.rule {
        case .absolutePath, .cwdRelative, .dotdotEscape:
            guard let path = v.path else { return ["Do: the trace does not name the path; rerun with a readable path argument."] }
            let call = CallFacts(v)
            let dir = dirName(path)
            let writes = g.events.contains { CallFacts($0).writes }
            addDirectory(dir, files: g.paths.map(PathText.basename), writes: writes, item: n)
            let fd = fdName(dir)
            var out: [String] = []
            if v.rule == .dotdotEscape {
                out.append("Why: the lookup climbs out of its directory descriptor with \"..\" to reach \(path).")
            } else if v.rule == .cwdRelative {
                out.append("Why: the path \(call.rawPath.map { "\"\($0)\"" } ?? "") is resolved against the current directory, a global name.")
            }
            out.append("Do: acquire before entry: int \(fd) = open(\(cString(dir)), O_PATH|O_DIRECTORY|O_CLOEXEC);")
            out.append("    then replace the lookup: \(replacement(v, dirfd: fd, name: PathText.basename(path), flags: call.openFlags))")
            if writes { out.append("    (it writes: the directory descriptor must allow creating/changing entries — see the summary)") }
            return out
        case .symlinkEscape:
            let to = v.resolved.map { "to \($0)" } ?? "(where it led was not knowable)"
            return ["Why: \(v.path ?? "the lookup") leads out of its directory descriptor through a symlink, \"..\" through one,",
                    "    or a magic link, \(to).",
                    "Do: open what the link names before entry and use that descriptor, or make the link stay beneath the",
                    "    directory (a relative target); capability mode never follows a link out of a held directory."]
        case .rawSocket:
            add(&replacements, "\(v.syscall)(raw or packet) -> create it before entry", item: n)
            return ["Do: create the raw or packet socket before entry and keep its descriptor (FreeBSD's tcpdump opens",
                    "    its capture device before cap_enter); reading and writing the held socket are allowed."]
        case .unreadablePath:
            return ["Do: the path argument could not be read from the program's memory (bad pointer, or the process",
                    "    vanished); fix the call or rerun — nothing can be acquired for an unknown path."]
        case .exec:
            let path = v.path ?? "PROGRAM"
            add(&replacements, "\(v.syscall)(\"\(path)\") -> fexecve(exe_fd, argv, envp)", item: n)
            return ["Do: open the program before entry: int exe_fd = open(\(cString(path)), O_PATH|O_CLOEXEC);",
                    "    then replace \(v.syscall) with fexecve(exe_fd, argv, envp) (execveat(exe_fd, \"\", argv, envp, AT_EMPTY_PATH)).",
                    "    A #! script needs a descriptor without O_CLOEXEC (the interpreter reopens it via /dev/fd)."]
        case .socketAddress:
            let addresses = g.addresses
            let address = addresses.first ?? "(address not recorded)"
            for a in addresses { addSocket(a, syscall: v.syscall, item: n) }
            switch v.syscall {
            case "bind":
                return ["Do: create the socket and bind it to \(address) before entry; keep the bound descriptor",
                        "    (listen/accept on it are allowed in capability mode)."]
            case "sendto", "sendmsg", "sendmmsg":
                return ["Do: create a socket and connect() it to \(address) before entry, then send() on the connected",
                        "    descriptor instead of naming the destination in each \(v.syscall)."]
            default:
                return ["Do: create the socket and connect it to \(address) before entry; keep the connected descriptor."]
            }
        case .otherProcess, .processGroup:
            let target = v.args.first { $0.0 == "pid" || $0.0 == "tgid" }.map { value($0.1) } ?? "the target"
            // A signal sent by pid (the catalog: a pid argument and a signal argument).
            if let row = Catalog.shared.syscall(named: v.syscall), row.processTarget != nil, row.index(of: .signal) != nil {
                let sig = v.args.first { $0.0 == "sig" || $0.0 == "signal" }.map { value($0.1) } ?? "sig"
                add(&replacements, "\(v.syscall)(pid) -> pidfd_send_signal(pidfd, ...)", item: n)
                var out = ["Do: replace the signal by pid with a process descriptor: get it before entry",
                           "    (int pidfd = pidfd_open(\(target), 0), or clone3 with CLONE_PIDFD when creating the child),",
                           "    then pidfd_send_signal(pidfd, \(sig), NULL, 0). (FreeBSD: pdfork + pdkill.)"]
                if v.rule == .processGroup {
                    out.append("    Signalling a process group by id has no descriptor form: keep one pidfd per member.")
                }
                return out
            }
            add(&replacements, "\(v.syscall) on pid \(target) -> do it before entry or in a helper", item: n)
            return ["Do: \(v.syscall) on another process (\(target)) has no descriptor form: do it before entry, or",
                    "    from a helper process outside capability mode."]
        case .sysvIPC:
            add(&replacements, "\(v.syscall) -> memfd_create/pipe before entry", item: n)
            return ["Do: create or attach the System V object before entry and keep its id, or replace it with",
                    "    anonymous shared memory (memfd_create + mmap) or a pipe created before entry."]
        case .posixMQ:
            add(&replacements, "\(v.syscall) -> mq_open before entry", item: n)
            return ["Do: mq_open the queue before entry and keep its descriptor (mq_unlink belongs before entry too)."]
        case .systemState:
            add(&delegations, "\(v.syscall): a privileged helper outside capability mode", item: n)
            return ["Do: \(v.syscall) changes global system state: do it before entry, or ask a helper process outside",
                    "    capability mode to do it."]
        case .ioUring:
            return ["Do: io_uring operations escape syscall filtering, so capability mode forbids setting a ring up;",
                    "    use ordinary syscalls on held descriptors."]
        case .seccompProfile:
            return []  // judged by a seccomp profile, not capability mode: the plan has nothing to say
        }
    }

    func replacement(_ v: ViolationEvent, dirfd: String, name: String, flags: String?) -> String {
        let n = cString(name)
        let op = Catalog.shared.syscall(named: v.syscall)?.pathOp
        switch op {
        case .open?, .creat?:
            return "openat(\(dirfd), \(n), \(flags ?? (op == .creat ? "O_CREAT|O_WRONLY|O_TRUNC" : "O_RDONLY")))"
        case .stat?:
            return "fstatat(\(dirfd), \(n), &st, \(["lstat", "lstat64", "oldlstat"].contains(v.syscall) ? "AT_SYMLINK_NOFOLLOW" : "0"))"
        case .statx?: return "statx(\(dirfd), \(n), flags, mask, &stx)"
        case .access?: return "faccessat(\(dirfd), \(n), mode, 0)"
        case .readlink?: return "readlinkat(\(dirfd), \(n), buf, size)"
        case .mkdir?: return "mkdirat(\(dirfd), \(n), mode)"
        case .unlink?: return "unlinkat(\(dirfd), \(n), 0)"
        case .rmdir?: return "unlinkat(\(dirfd), \(n), AT_REMOVEDIR)"
        case .rename?: return "renameat(\(dirfd), \(n), newdirfd, newname)"
        case .link?: return "linkat(\(dirfd), \(n), newdirfd, newname, 0)"
        case .symlink?: return "symlinkat(target, \(dirfd), \(n))"
        case .chmod?: return "fchmodat(\(dirfd), \(n), mode, 0)"
        case .chown?: return "fchownat(\(dirfd), \(n), uid, gid, 0)"
        case .mknod?: return "mknodat(\(dirfd), \(n), mode, dev)"
        case .utime?: return "utimensat(\(dirfd), \(n), times, 0)"
        case .truncate?: return "open it with openat(\(dirfd), \(n), O_WRONLY) and ftruncate the descriptor"
        case .chdir?: return "keep the directory descriptor and use *at calls relative to it instead of chdir"
        case .setxattr?, .removexattr?, nil:
            return "the *at form of \(v.syscall) relative to \(dirfd), or open the file with openat(\(dirfd), \(n), ...)"
        }
    }

    mutating func addDirectory(_ dir: String, files: [String], writes: Bool, item: Int) {
        if let i = directories.firstIndex(where: { $0.dir == dir }) {
            directories[i].files = distinct(directories[i].files + files)
            directories[i].writes = directories[i].writes || writes
            if directories[i].items.last != item { directories[i].items.append(item) }
        } else {
            directories.append((dir, distinct(files), writes, [item]))
        }
    }

    mutating func addSocket(_ address: String, syscall: String, item: Int) {
        if let i = sockets.firstIndex(where: { $0.address == address }) {
            sockets[i].syscalls = distinct(sockets[i].syscalls + [syscall])
            if sockets[i].items.last != item { sockets[i].items.append(item) }
        } else {
            sockets.append((address, [syscall], [item]))
        }
    }

    func add(_ list: inout [(fix: String, hint: String, items: [Int])], fix: String, hint: String, item: Int) {
        if let i = list.firstIndex(where: { $0.hint == hint }) { list[i].items.append(item) }
        else { list.append((fix, hint, [item])) }
    }

    func add(_ list: inout [(what: String, items: [Int])], _ what: String, item: Int) {
        if let i = list.firstIndex(where: { $0.what == what }) { list[i].items.append(item) }
        else { list.append((what, [item])) }
    }

    func finish() -> String {
        let s = facts.sites.count, n = facts.violations.count
        var out = "Capsicum plan for: \(facts.commandLine)\n"
        if let n = facts.neverEnteredNote { return out + n + "\n" }
        if let p = facts.trace.header?.policy {
            return out + "This run was judged by a \(p.kind) (\(p.path)), not by capability mode: the plan has nothing to say about it (see `captrace report`).\n"
        }
        out += "Capability mode begins at \(facts.trigger). \(n) violation\(n == 1 ? "" : "s") at \(s) site\(s == 1 ? "" : "s")"
        out += s == 0 ? ": nothing to change.\n\n" : "; one item per site, in order of first occurrence.\n\n"
        out += items
        out += summary()
        out += descriptors()
        return out
    }

    func refs(_ items: [Int]) -> String { "(item\(items.count == 1 ? "" : "s") \(items.map(String.init).joined(separator: ", ")))" }

    func summary() -> String {
        guard !facts.sites.isEmpty else { return "" }
        var out = "Before entering capability mode (\(facts.trigger)):\n"
        if !directories.isEmpty || !sockets.isEmpty {
            out += "  Acquire:\n"
            for d in directories {
                let files = d.files.prefix(6).joined(separator: ", ") + (d.files.count > 6 ? ", ..." : "")
                out += "    int \(fdName(d.dir)) = open(\(cString(d.dir)), O_PATH|O_DIRECTORY|O_CLOEXEC);  \(d.writes ? "read/write" : "read-only"): \(files) \(refs(d.items))\n"
                out += "      (FreeBSD: O_RDONLY|O_DIRECTORY, then cap_rights_limit with CAP_LOOKUP, "
                out += d.writes ? "CAP_READ, CAP_WRITE, CAP_CREATE, CAP_FSTAT, CAP_UNLINKAT, CAP_FTRUNCATE)\n"
                    : "CAP_READ, CAP_FSTAT, CAP_SEEK, CAP_MMAP_R)\n"
            }
            for sk in sockets {
                let fam = addressFamily(sk.address) ?? "the family of the address"
                out += "    a socket (\(fam)) \(sk.syscalls.contains("bind") ? "bound to" : "connected to") \(sk.address) \(refs(sk.items))\n"
            }
        }
        if !initialisers.isEmpty {
            out += "  Initialise:\n"
            for i in initialisers { out += "    [\(i.hint)] \(firstSentence(i.fix)) \(refs(i.items))\n" }
        }
        if !delegations.isEmpty {
            out += "  Delegate:\n"
            for d in delegations { out += "    \(d.what) \(refs(d.items))\n" }
        }
        if !replacements.isEmpty {
            out += "  Replace:\n"
            for r in replacements { out += "    \(r.what) \(refs(r.items))\n" }
        }
        return out + "\n"
    }

    /// Descriptors held at entry, checked against the `fdop` events (`run --rights`) when the trace has them.
    func descriptors() -> String {
        let enters = facts.trace.enters.filter { $0.inheritedFrom == nil }
        guard !enters.isEmpty else { return "Descriptors held at entry: the trace has no enter event (capability mode was never entered).\n" }
        let hasRights = facts.trace.header?.rights == true || !facts.trace.fdops.isEmpty
        var out = ""
        for e in enters {
            out += "Descriptors held at entry (pid \(e.pid)):\n"
            if e.fds.isEmpty { out += "  none recorded\n"; continue }
            guard hasRights else {
                for d in e.fds { out += "  fd \(d.fd)  \(d.kind) \(d.path) \(d.flags)\n" }
                out += "  The trace has no --rights data: record with `captrace run --rights` to learn which of these are\n"
                out += "  never used after entry (close them before entry) and which rights the others need.\n"
                continue
            }
            // What each was used for and how to narrow it: Diagnosis/RightsAnalysis.swift (issue 8).
            for r in RightsAnalysis(facts.trace).rows(pid: e.pid) where r.origin == .entry {
                out += "  " + r.planItem + "\n"
            }
        }
        return out
    }
}

/// "pid 1 SIGTERM" for calls aimed at a process, from the decoded arguments.
func processTarget(_ v: ViolationEvent) -> String? {
    guard v.namespace == .process else { return nil }
    let parts = v.args.filter { ["pid", "tgid", "tid", "sig", "signal", "who"].contains($0.0) }.map { "\($0.0) \(value($0.1))" }
    return parts.isEmpty ? nil : parts.joined(separator: ", ")
}

/// A C identifier for a directory descriptor: "/etc" -> etc_fd, "/" -> root_fd.
func fdName(_ dir: String) -> String {
    var s = ""
    for c in dir {
        if c.isASCII && (c.isLetter || c.isNumber) { s.append(c) } else if !s.isEmpty, s.last != "_" { s.append("_") }
    }
    while s.last == "_" { s.removeLast() }
    if s.isEmpty { return dir == "/" ? "root_fd" : "dir_fd" }
    if s.first!.isNumber { s = "d_" + s }
    return s + "_fd"
}

/// Addresses a name lookup goes to: DNS on port 53 and the nscd socket.
func resolverAddress(_ a: String) -> Bool {
    addressPort(a) == 53 || a.hasPrefix("unix:/var/run/nscd") || a.hasPrefix("unix:/run/nscd")
}

func value(_ a: ArgValue) -> String {
    switch a {
    case .int(let i): return String(i)
    case .string(let s): return s
    case .null: return "NULL"
    }
}

/// The text up to the end of its first sentence.
func firstSentence(_ s: String) -> String {
    var prev: Character = " "
    for i in s.indices {
        if prev == ".", s[i] == " " { return String(s[..<i]) }
        prev = s[i]
    }
    return s
}
