import TraceModel

/// The descriptor-rights analysis (procstat -C for capability mode): a pure function of a trace recorded with
/// `run --rights`. For every descriptor a process held at entry (its `enter` event), inherited by a fork after
/// entry, or acquired after entry (`fdop` events with `new_fd`), it gives the rights the program used, the
/// rights the descriptor holds on Linux but never used, and a suggested limit: the Capsicum call, and the
/// Linux mechanism that narrows it where one exists.
///
/// Descriptor identity is replayed from the trace: a number names the object it was last created or
/// duplicated onto (`new_fd`), until a `close`; a fork copies the parent's table; dup'd numbers share one
/// row. A number used without being seen (e.g. received over a socket with SCM_RIGHTS) gets a row of kind
/// `unknown`.
public struct RightsAnalysis: Sendable {
    /// Whether the trace holds rights data (header `rights: true`, or any fdop event).
    public let recorded: Bool
    /// One row per (process, descriptor object), processes in order of appearance; within a process, the
    /// descriptors held at entry (by number), then those acquired later, in order of creation.
    public let rows: [DescriptorRights]
    /// Processes that entered capability mode, with their trigger, in order (for headings).
    public let processes: [(pid: Int32, how: String)]

    public init(_ trace: Trace) {
        var replay = Replay()
        for e in trace.events { replay.apply(e) }
        recorded = trace.header?.rights == true || !trace.fdops.isEmpty
        rows = replay.rows.map { $0.finished() }
        processes = replay.processOrder
    }

    /// Rows of one process.
    public func rows(pid: Int32) -> [DescriptorRights] { rows.filter { $0.pid == pid } }

    /// Plan items for `suggest --format plan` (one per descriptor worth narrowing or closing), for `pid`, or
    /// for every process when nil.
    public func planItems(pid: Int32? = nil) -> [String] {
        rows.filter { pid == nil || $0.pid == pid }.filter { $0.origin != .inheritedUnused }.map(\.planItem)
    }
}

/// What the analysis says about one descriptor object in one process.
public struct DescriptorRights: Sendable, Hashable {
    public enum Origin: Sendable, Hashable {
        /// Held when the process entered capability mode.
        case entry
        /// Held by a process forked after entry: inherited from `pid`.
        case inherited(pid: Int32)
        /// Inherited and never used by this process (collapsed in the text table).
        case inheritedUnused
        /// Created after entry from a held descriptor (openat relative to it, accept on it).
        case derived(fd: Int32, path: String, syscall: String)
        /// Created after entry from nothing held (socket, pipe, open by a global path).
        case created(syscall: String)
        /// Used, but never seen held or created (received with SCM_RIGHTS, created by an untraced call).
        case unknown
    }

    /// What to do with the descriptor (a recommendation, not a verdict on a violation).
    public enum Advice: String, Sendable, Hashable {
        /// Never used after entry: close it, or limit it to the minimum.
        case unused
        /// Used, but holds rights it never used: limit it.
        case narrow
        /// Used with every right it holds on Linux: nothing to narrow (a Capsicum limit still documents it).
        case keep
    }

    public var pid: Int32
    /// The number it had at entry or creation.
    public var fd: Int32
    /// Other numbers that named it in this process (dup, dup2, fcntl F_DUPFD).
    public var aliases: [Int32] = []
    public var kind: DescriptorKind
    public var path: String
    public var flags: String
    public var origin: Origin
    /// Capsicum rights used, in capsicum.h order.
    public var used: [String] = []
    /// Details per right: ioctl commands, fcntl commands, mmap protections, lookups.
    public var details: [String: [String]] = [:]
    /// The syscalls that used it, in order of first use.
    public var syscalls: [String] = []
    /// Rights the descriptor holds on Linux (by kind and access mode), and those of them never used.
    public var held: [String] = []
    public var unused: [String] = []
    /// Closed before the process ended.
    public var closed = false
    public var advice: Advice = .unused
    /// The Capsicum call that limits it, e.g. `cap_rights_limit(0, CAP_FSTAT)` or `close(4)`.
    public var capsicum: String = ""
    /// The Linux mechanism that narrows it, or what Linux lacks.
    public var linux: String = ""

    /// The access mode in `flags`: O_RDONLY, O_WRONLY, O_RDWR (O_PATH when opened with it).
    public var accessMode: String {
        let f = Set(flags.split(separator: "|").map(String.init))
        if f.contains("O_PATH") { return "O_PATH" }
        return f.first { $0 == "O_RDONLY" || $0 == "O_WRONLY" || $0 == "O_RDWR" } ?? (flags.isEmpty ? "?" : flags)
    }

    /// A short description of where it came from, for tables.
    public var originText: String {
        switch origin {
        case .entry: return "held at entry"
        case .inherited(let p): return "inherited from pid \(p)"
        case .inheritedUnused: return "inherited, never used"
        case .derived(let fd, let path, let sc): return "\(sc) from fd \(fd)" + (path.isEmpty ? "" : " \(path)")
        case .created(let sc): return "\(sc) after entry"
        case .unknown: return "not seen created"
        }
    }

    /// One plan line: what it was used for, the limit, and the Linux mechanism.
    public var planItem: String {
        var s = "fd \(fd) \(path) (\(kind.rawValue), \(accessMode)"
        if !aliases.isEmpty { s += ", also fd " + aliases.map(String.init).joined(separator: ", ") }
        s += origin == .entry ? ")" : "; \(originText))"
        switch advice {
        case .unused:
            s += ": never used after entry — "
            s += capsicum.hasPrefix("close") ? "close it" : "limit to CAP_FSTAT: \(capsicum), or close it"
        case .narrow, .keep:
            s += ": used only for " + uses.joined(separator: ", ")
            s += " — limit to " + used.joined(separator: ", ") + ": \(capsicum)"
        }
        s += ". Linux: \(linux)."
        return s
    }

    /// "openat O_RDONLY", "read", "ioctl TCGETS": the syscalls with their distinguishing details.
    public var uses: [String] {
        var out: [String] = []
        for sc in syscalls {
            switch sc {
            case "ioctl": out.append("ioctl " + (details["CAP_IOCTL"] ?? []).joined(separator: "/"))
            case "fcntl", "fcntl64": out.append("fcntl " + ((details["CAP_FCNTL"] ?? []) + (details["CAP_FLOCK"] ?? [])).joined(separator: "/"))
            case "openat", "openat2":
                let modes = Set((details["CAP_LOOKUP"] ?? []).compactMap { $0.split(separator: " ").first.map { String($0.split(separator: "|")[0]) } })
                out.append(sc + (modes.isEmpty ? "" : " " + modes.sorted().joined(separator: "/")))
            case "newfstatat", "fstatat64", "statx":
                out.append(used.contains("CAP_FSTATAT") ? "fstatat" : "fstat")
            default: out.append(sc)
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }
}

/// Capsicum rights in `sys/sys/capsicum.h` order (the order tables and limits list them in).
public let capsicumRightsOrder: [String] = [
    "CAP_READ", "CAP_WRITE", "CAP_SEEK", "CAP_MMAP", "CAP_MMAP_R", "CAP_MMAP_W", "CAP_MMAP_X", "CAP_CREATE",
    "CAP_FEXECVE", "CAP_FSYNC", "CAP_FTRUNCATE", "CAP_LOOKUP", "CAP_FCHDIR", "CAP_FCHFLAGS", "CAP_FCHMOD",
    "CAP_FCHMODAT", "CAP_FCHOWN", "CAP_FCHOWNAT", "CAP_FCNTL", "CAP_FLOCK", "CAP_FPATHCONF", "CAP_FSCK",
    "CAP_FSTAT", "CAP_FSTATAT", "CAP_FSTATFS", "CAP_FUTIMES", "CAP_FUTIMESAT", "CAP_LINKAT_TARGET",
    "CAP_MKDIRAT", "CAP_MKFIFOAT", "CAP_MKNODAT", "CAP_RENAMEAT_SOURCE", "CAP_SYMLINKAT", "CAP_UNLINKAT",
    "CAP_ACCEPT", "CAP_BIND", "CAP_CONNECT", "CAP_GETPEERNAME", "CAP_GETSOCKNAME", "CAP_GETSOCKOPT",
    "CAP_LISTEN", "CAP_PEELOFF", "CAP_RECV", "CAP_SEND", "CAP_SETSOCKOPT", "CAP_SHUTDOWN", "CAP_BINDAT",
    "CAP_CONNECTAT", "CAP_LINKAT_SOURCE", "CAP_RENAMEAT_TARGET", "CAP_IOCTL", "CAP_EVENT", "CAP_KQUEUE_EVENT",
    "CAP_KQUEUE_CHANGE", "CAP_PDGETPID", "CAP_PDWAIT", "CAP_PDKILL", "CAP_EXTATTR_DELETE", "CAP_EXTATTR_GET",
    "CAP_EXTATTR_LIST", "CAP_EXTATTR_SET", "CAP_INOTIFY_ADD", "CAP_INOTIFY_RM", "CAP_PDGETFD",
]

func sortRights(_ rights: some Sequence<String>) -> [String] {
    let index = Dictionary(uniqueKeysWithValues: capsicumRightsOrder.enumerated().map { ($1, $0) })
    return Set(rights).sorted { (index[$0] ?? Int.max, $0) < (index[$1] ?? Int.max, $1) }
}

/// The rights a Linux descriptor of `kind` opened with `mode` can exercise: the ones that matter for
/// narrowing it. Table-level operations every descriptor allows (fcntl F_GETFL, flock) are left out, so the
/// "unused" column lists what a limit would actually take away. Sockets' CAP_RECV/CAP_SEND are FreeBSD's aliases of CAP_READ/CAP_WRITE.
func heldRights(kind: DescriptorKind, mode: String) -> [String] {
    let r = mode == "O_RDONLY" || mode == "O_RDWR" || mode == "?"
    let w = mode == "O_WRONLY" || mode == "O_RDWR" || mode == "?"
    if mode == "O_PATH" {
        return kind == .directory ? ["CAP_LOOKUP", "CAP_FSTAT", "CAP_FSTATAT", "CAP_FCHDIR"] : ["CAP_FSTAT", "CAP_FEXECVE"]
    }
    var out: [String] = []
    func add(_ c: Bool, _ rights: String...) { if c { out += rights } }
    switch kind {
    case .file:
        add(r, "CAP_READ", "CAP_MMAP_R", "CAP_MMAP_X")
        add(w, "CAP_WRITE", "CAP_FTRUNCATE", "CAP_FSYNC")
        add(r && w, "CAP_MMAP_W")
        add(true, "CAP_SEEK", "CAP_FSTAT", "CAP_FCHMOD", "CAP_FCHOWN")
    case .directory:
        add(true, "CAP_LOOKUP", "CAP_READ", "CAP_WRITE", "CAP_CREATE", "CAP_FSTAT", "CAP_FSTATAT", "CAP_FCHDIR",
            "CAP_FCHMOD", "CAP_FCHOWN", "CAP_FCHMODAT", "CAP_FCHOWNAT", "CAP_FUTIMESAT", "CAP_MKDIRAT",
            "CAP_UNLINKAT", "CAP_RENAMEAT_SOURCE", "CAP_RENAMEAT_TARGET", "CAP_LINKAT_SOURCE",
            "CAP_LINKAT_TARGET", "CAP_SYMLINKAT", "CAP_FTRUNCATE")
    case .tty, .device:
        add(r, "CAP_READ")
        add(w, "CAP_WRITE")
        add(true, "CAP_FSTAT", "CAP_IOCTL", "CAP_EVENT")
    case .pipe:
        add(r, "CAP_READ")
        add(w, "CAP_WRITE")
        add(true, "CAP_FSTAT", "CAP_EVENT")
    case .socket:
        add(true, "CAP_READ", "CAP_WRITE", "CAP_FSTAT", "CAP_EVENT", "CAP_IOCTL", "CAP_ACCEPT",
            "CAP_BIND", "CAP_CONNECT", "CAP_LISTEN", "CAP_SHUTDOWN", "CAP_GETPEERNAME", "CAP_GETSOCKNAME",
            "CAP_GETSOCKOPT", "CAP_SETSOCKOPT")
    case .anon:
        add(true, "CAP_READ", "CAP_WRITE", "CAP_FSTAT", "CAP_EVENT")
    case .other, .unknown:
        add(true, "CAP_FSTAT")
    }
    return sortRights(out)
}

/// A used right as it counts against the held set (FreeBSD defines CAP_RECV as CAP_READ, CAP_SEND as
/// CAP_WRITE; an mmap of a kind needs the mapping right).
func heldEquivalent(_ right: String) -> String {
    switch right {
    case "CAP_RECV": return "CAP_READ"
    case "CAP_SEND": return "CAP_WRITE"
    default: return right
    }
}

/// Replays a trace's events into descriptor rows.
struct Replay {
    final class Row {
        var r: DescriptorRights
        init(_ r: DescriptorRights) { self.r = r }

        func use(_ right: String, detail: String?, syscall: String) {
            if !r.used.contains(right) { r.used.append(right) }
            if let d = detail, !(r.details[right] ?? []).contains(d) { r.details[right, default: []].append(d) }
            if !r.syscalls.contains(syscall) { r.syscalls.append(syscall) }
        }

        func finished() -> DescriptorRights {
            var d = r
            d.used = sortRights(d.used)
            let usedHeld = Set(d.used.map(heldEquivalent))
            d.held = sortRights(heldRights(kind: d.kind, mode: d.accessMode))
            d.unused = d.held.filter { !usedHeld.contains($0) }
            if case .inherited = d.origin, d.used.isEmpty { d.origin = .inheritedUnused }
            limit(&d)
            return d
        }
    }

    var objects = 0
    /// Per process: descriptor number -> object id.
    var tables: [Int32: [Int32: Int]] = [:]
    /// (pid, object) -> row.
    var rowIndex: [Int64: Row] = [:]
    var rows: [Row] = []
    var processOrder: [(pid: Int32, how: String)] = []
    /// Objects' descriptions, by id (kind, path, flags).
    var objectInfo: [Int: (kind: DescriptorKind, path: String, flags: String)] = [:]

    func key(_ pid: Int32, _ obj: Int) -> Int64 { Int64(pid) << 32 | Int64(obj) }

    mutating func newObject(kind: DescriptorKind, path: String, flags: String) -> Int {
        objects += 1
        objectInfo[objects] = (kind, path, flags)
        return objects
    }

    @discardableResult
    mutating func row(pid: Int32, obj: Int, fd: Int32, origin: DescriptorRights.Origin) -> Row {
        if let r = rowIndex[key(pid, obj)] {
            if r.r.fd != fd, !r.r.aliases.contains(fd) { r.r.aliases.append(fd) }
            return r
        }
        let info = objectInfo[obj] ?? (.unknown, "", "")
        let r = Row(DescriptorRights(pid: pid, fd: fd, kind: info.kind, path: info.path, flags: info.flags, origin: origin))
        rowIndex[key(pid, obj)] = r
        rows.append(r)
        return r
    }

    /// The object `fd` names in `pid`, making an `unknown` one for a number never seen.
    mutating func object(pid: Int32, fd: Int32) -> Int {
        if let o = tables[pid]?[fd] { return o }
        let o = newObject(kind: .unknown, path: "", flags: "")
        tables[pid, default: [:]][fd] = o
        row(pid: pid, obj: o, fd: fd, origin: .unknown)
        return o
    }

    mutating func apply(_ event: TraceEvent) {
        switch event {
        case .enter(let e):
            processOrder.append((e.pid, e.inheritedFrom.map { "inherited from pid \($0)" } ?? "entered at \(e.trigger)"))
            if e.inheritedFrom != nil, e.fds.isEmpty { return }
            var table: [Int32: Int] = [:]
            for d in e.fds.sorted(by: { $0.fd < $1.fd }) {
                let o = newObject(kind: d.kind, path: d.path, flags: d.flags)
                table[d.fd] = o
                row(pid: e.pid, obj: o, fd: d.fd, origin: e.inheritedFrom.map { .inherited(pid: $0) } ?? .entry)
            }
            tables[e.pid] = table
        case .process(let p):
            guard p.event == .fork, p.capabilityMode, let parent = tables[p.ppid] else { return }
            processOrder.append((p.pid, "forked by pid \(p.ppid) after entry"))
            tables[p.pid] = parent
            for (fd, o) in parent.sorted(by: { $0.key < $1.key }) {
                row(pid: p.pid, obj: o, fd: fd, origin: .inherited(pid: p.ppid))
            }
        case .fdop(let op):
            fdop(op)
        default:
            return
        }
    }

    mutating func fdop(_ op: FDOpEvent) {
        let pid = op.pid
        if let newFd = op.newFd {
            if op.right == nil, op.fd >= 0 {
                // dup family: the new number names the same object.
                let o = object(pid: pid, fd: op.fd)
                tables[pid, default: [:]][newFd] = o
                row(pid: pid, obj: o, fd: newFd, origin: .unknown)
                return
            }
            let o = newObject(kind: op.newKind ?? .unknown, path: op.newPath ?? "", flags: op.detail ?? "")
            let origin: DescriptorRights.Origin
            if op.fd >= 0 {
                let parent = object(pid: pid, fd: op.fd)
                let prow = row(pid: pid, obj: parent, fd: op.fd, origin: .unknown)
                if let right = op.right { prow.use(right.rawValue, detail: nil, syscall: op.syscall) }
                origin = .derived(fd: op.fd, path: objectInfo[parent]?.path ?? "", syscall: op.syscall)
            } else {
                origin = .created(syscall: op.syscall)
            }
            tables[pid, default: [:]][newFd] = o
            row(pid: pid, obj: o, fd: newFd, origin: origin)
            return
        }
        guard let right = op.right else {
            // close, close_range
            guard let o = tables[pid]?[op.fd] else { return }
            tables[pid]?[op.fd] = nil
            if !(tables[pid]?.values.contains(o) ?? false) { rowIndex[key(pid, o)]?.r.closed = true }
            return
        }
        let o = object(pid: pid, fd: op.fd)
        row(pid: pid, obj: o, fd: op.fd, origin: .unknown).use(right.rawValue, detail: op.detail, syscall: op.syscall)
    }
}

/// The suggested limit of a row: its advice, the Capsicum call and the Linux mechanism.
func limit(_ d: inout DescriptorRights) {
    let fd = d.fd
    let usedHeld = Set(d.used.map(heldEquivalent))
    if d.used.isEmpty {
        d.advice = .unused
        if fd <= 2 && d.origin == .entry {
            // The paper's tcpdump refinement: stdio may still fstat the standard descriptors.
            d.capsicum = "cap_rights_limit(\(fd), CAP_FSTAT)"
            d.linux = "dup2(open(\"/dev/null\", \(fd == 0 ? "O_RDONLY" : "O_WRONLY")), \(fd)) before entry, or close(\(fd))"
        } else {
            d.capsicum = "close(\(fd))"
            d.linux = d.origin == .entry ? "close(\(fd)) before entry" : "close(\(fd))"
        }
        return
    }
    d.advice = d.unused.isEmpty ? .keep : .narrow
    var call = "cap_rights_limit(\(fd), " + d.used.joined(separator: ", ") + ")"
    if let ioctls = d.details["CAP_IOCTL"], !ioctls.isEmpty {
        call += "; cap_ioctls_limit(\(fd), {" + ioctls.joined(separator: ", ") + "})"
    }
    let fcntlRights = (d.details["CAP_FCNTL"] ?? []).compactMap { cmd -> String? in
        switch cmd {
        case "F_GETFL": return "CAP_FCNTL_GETFL"
        case "F_SETFL": return "CAP_FCNTL_SETFL"
        case "F_GETOWN": return "CAP_FCNTL_GETOWN"
        case "F_SETOWN": return "CAP_FCNTL_SETOWN"
        default: return nil
        }
    }
    if !fcntlRights.isEmpty { call += "; cap_fcntls_limit(\(fd), " + fcntlRights.joined(separator: "|") + ")" }
    d.capsicum = call

    let reads = !usedHeld.isDisjoint(with: ["CAP_READ", "CAP_MMAP_R", "CAP_MMAP_X"])
    let writes = !usedHeld.isDisjoint(with: ["CAP_WRITE", "CAP_FTRUNCATE", "CAP_MMAP_W"])
    let reopen = "through /proc/self/fd/\(fd) and dup2 it over \(fd) before entry"
    switch d.kind {
    case .socket:
        if reads && !writes && !usedHeld.contains("CAP_CONNECT") {
            d.linux = "shutdown(\(fd), SHUT_WR): the sending direction is closed"
        } else if writes && !reads {
            d.linux = "shutdown(\(fd), SHUT_RD): the receiving direction is closed"
        } else if !reads && !writes {
            d.linux = "neither sends nor receives: shutdown(\(fd), SHUT_RDWR), or close(\(fd)) if nothing else needs it"
        } else {
            d.linux = "no per-descriptor limit for a socket used both ways (a seccomp filter can restrict the calls)"
        }
    case .directory:
        let lists = d.syscalls.contains { $0.hasPrefix("getdents") || $0 == "readdir" }
        let changes = !usedHeld.isDisjoint(with: ["CAP_WRITE", "CAP_CREATE", "CAP_MKDIRAT", "CAP_UNLINKAT",
                                                  "CAP_RENAMEAT_SOURCE", "CAP_RENAMEAT_TARGET", "CAP_SYMLINKAT",
                                                  "CAP_LINKAT_TARGET", "CAP_FCHMODAT", "CAP_FCHOWNAT", "CAP_FUTIMESAT"])
        var s = lists ? "it is listed, so keep it open for reading" : "reopen it O_PATH|O_DIRECTORY \(reopen) (lookups keep working, listing does not)"
        if !changes { s += "; a Landlock ruleset granting only read access beneath \(d.path.isEmpty ? "it" : d.path) stops writes through it" }
        d.linux = s
    default:
        if !reads && !writes {
            d.linux = "reopen it O_PATH \(reopen) (fstat keeps working; read, write and ioctl do not)"
        } else if d.accessMode == "O_RDWR" && reads && !writes {
            d.linux = "reopen it O_RDONLY \(reopen)"
        } else if d.accessMode == "O_RDWR" && writes && !reads {
            d.linux = "reopen it O_WRONLY \(reopen)"
        } else {
            d.linux = "its access mode already matches its use; Linux has no finer per-descriptor limit"
        }
    }
}
