import CTraceShims
import Glibc
import Landlock
import SyscallCatalog
import TraceModel

/// What the supervisor knows of a process's Landlock state: the rulesets it is building (by descriptor, as
/// decoded from its `landlock_create_ruleset`/`landlock_add_rule` calls) and the domain in effect (one ruleset
/// per `landlock_restrict_self`, nil for one captrace did not see built). Kept per process: Landlock restricts
/// the calling thread, and captrace assumes a process restricts itself before it starts threads (as every
/// sandboxing program does). Children inherit both; exec keeps the domain and closes the rulesets.
struct LandlockState {
    var rulesets: [Int32: Ruleset?] = [:]
    var domain: [Ruleset?] = []
    var restricted: Bool { !domain.isEmpty }
}

/// A Landlock call or a call Landlock governs, between its seccomp stop and its exit stop.
enum PendingLandlock {
    case create(Ruleset?)
    case addRule(fd: Int32, path: PathRule?, port: PortRule?)
    case restrict(fd: Int32, flags: UInt64)
    case governed(RefusedCall)
}

/// The ptrace backend's Landlock decoding: the `landlock_*` calls (always trapped, tag `landlock`), and, in a
/// process with a domain, the filesystem and network calls Landlock governs (trapped already as possible
/// capability-mode violations), whose refusals (EACCES, EXDEV, EPERM for scopes) are recorded with their stack.
struct LandlockTracker {
    static let createName = "landlock_create_ruleset", addName = "landlock_add_rule", restrictName = "landlock_restrict_self"
    static let names: Set<String> = [createName, addName, restrictName]

    /// At a seccomp stop: what to remember until the exit stop, or nil (no exit stop needed).
    static func seccompStop(_ stop: SyscallStop, name: String, p: ProcessState, tid: Int32, cwd: () -> String?) -> PendingLandlock? {
        let a = stop.args
        switch name {
        case createName:
            guard a[2] == 0 else { return nil }  // VERSION / ERRATA queries create nothing
            let size = min(Int(a[1] & 0xffff), 24)
            guard size >= 8, let b = Decoder.readBytes(pid: p.pid, addr: a[0], count: size) else { return .create(nil) }
            func word(_ i: Int) -> UInt64 { i * 8 + 8 <= b.count ? b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) } : 0 }
            return .create(Ruleset(handledFS: FSAccess(rawValue: word(0)), handledNet: NetAccess(rawValue: word(1)),
                                   scoped: Scope(rawValue: word(2))))
        case addName:
            let fd = Int32(truncatingIfNeeded: a[0])
            switch a[1] {
            case 1:  // LANDLOCK_RULE_PATH_BENEATH: { u64 allowed_access; s32 parent_fd } packed
                guard let b = Decoder.readBytes(pid: p.pid, addr: a[2], count: 12) else { return .addRule(fd: fd, path: nil, port: nil) }
                let access = b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                let parent = b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: Int32.self) }
                let path = ProcFS.fdPath(p.pid, parent) ?? "/proc/\(p.pid)/fd/\(parent)"
                return .addRule(fd: fd, path: PathRule(path: path, access: FSAccess(rawValue: access)), port: nil)
            case 2:  // LANDLOCK_RULE_NET_PORT: { u64 allowed_access; u64 port }
                guard let b = Decoder.readBytes(pid: p.pid, addr: a[2], count: 16) else { return .addRule(fd: fd, path: nil, port: nil) }
                return .addRule(fd: fd, path: nil, port: b.withUnsafeBytes {
                    PortRule(port: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                             access: NetAccess(rawValue: $0.loadUnaligned(as: UInt64.self)))
                })
            default: return .addRule(fd: fd, path: nil, port: nil)
            }
        case restrictName:
            return .restrict(fd: Int32(truncatingIfNeeded: a[0]), flags: a[1])
        default:
            guard p.landlock.restricted, LandlockNeeds.governed.contains(name), let sc = stop.syscall else { return nil }
            return .governed(refusedCall(stop, sc, pid: p.pid, cwd: cwd))
        }
    }

    /// The facts of a governed call, read at its seccomp stop (the errno is filled in at the exit stop).
    static func refusedCall(_ stop: SyscallStop, _ sc: Syscall, pid: Int32, cwd: () -> String?) -> RefusedCall {
        var c = RefusedCall(syscall: sc.name, errno: "")
        let a = stop.args
        var paths: [String] = []
        var dirfd: Int32? = nil
        for (i, kind) in sc.args.enumerated() where i < a.count {
            switch kind {
            case .dirfd: dirfd = Int32(truncatingIfNeeded: a[i])
            case .path:
                guard case .string(let s) = Decoder.readPath(pid: pid, addr: a[i]) else { paths.append("?"); continue }
                if s.hasPrefix("/") { paths.append(LandlockPath.normalise(s)); continue }
                let base = (dirfd.map { $0 == Decoder.atFDCWD ? nil : ProcFS.fdPath(pid, $0) } ?? nil) ?? cwd() ?? "/"
                paths.append(LandlockPath.normalise(base + "/" + s))
            case .openFlags, .atFlags: c.flags = a[i]
            case .openHow:
                if let b = Decoder.readBytes(pid: pid, addr: a[i], count: 8) { c.flags = b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
            case .mode: if sc.name.hasPrefix("mknod") { c.mode = a[i] }
            case .sockaddr:
                if i + 1 < a.count, let b = Decoder.readBytes(pid: pid, addr: a[i], count: min(Int(a[i + 1] & 0xffff), 128)), b.count >= 4 {
                    let family = UInt16(b[0]) | UInt16(b[1]) << 8
                    if family == 2 || family == 10 { c.port = UInt64(b[2]) << 8 | UInt64(b[3]) }
                    if family == 1, b.count > 3, b[2] == 0 { c.abstractUnix = true }
                }
            default: break
            }
        }
        if sc.name == "renameat2" { c.flags = a[4] }
        c.path = paths.first
        if paths.count > 1 { c.path2 = paths[1] }
        return c
    }

    /// What a path names, as captrace (not under the program's Landlock domain) sees it now.
    static func fileType(_ path: String) -> FileType {
        var st = stat()
        guard stat(path, &st) == 0 else { return errno == ENOENT || errno == ENOTDIR ? .missing : .other }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        default: return .other
        }
    }

    /// `path` with every symlink resolved (its directory's, when the path itself does not exist), as captrace
    /// sees it; nil when even the directory cannot be resolved.
    static func realPath(_ path: String) -> String? {
        if let p = realpath(path, nil) { defer { free(p) }; return String(cString: p) }
        let dir = LandlockPath.parent(path), name = path.split(separator: "/").last.map(String.init) ?? ""
        guard let p = realpath(dir, nil) else { return nil }
        defer { free(p) }
        let d = String(cString: p)
        return (d == "/" ? "" : d) + "/" + name
    }

    /// At the exit stop: updates the process's Landlock state, or records a refusal.
    static func exitStop(_ pending: PendingLandlock, p: ProcessState, tid: Int32, result: Int64, isError: Bool,
                         recorder: Recorder) {
        switch pending {
        case .create(let r):
            if !isError { p.landlock.rulesets[Int32(truncatingIfNeeded: result)] = .some(r) }
        case .addRule(let fd, let path, let port):
            guard !isError, let known = p.landlock.rulesets[fd] else { return }
            guard var r = known, path != nil || port != nil else { p.landlock.rulesets[fd] = .some(nil); return }
            if let path { r.paths.append(path) }
            if let port { r.ports.append(port) }
            p.landlock.rulesets[fd] = .some(r)
        case .restrict(let fd, let flags):
            guard !isError, fd >= 0 else { return }
            let r = p.landlock.rulesets[fd] ?? nil
            p.landlock.domain.append(r)
            var e = LandlockEvent(pid: p.pid, tid: tid, tNs: recorder.now(), source: .program, ruleset: r)
            e.rulesetFd = fd
            e.flags = flags
            e.stack = recorder.stack(pid: p.pid, tid: tid)
            recorder.emit(.landlock(e))
        case .governed(var c):
            guard isError, let name = Errno.name(Int32(-result)), LandlockNeeds.isLandlockErrno(c.syscall, name) else { return }
            c.errno = name
            if let path = c.path, path != "?" {
                c.fileType = fileType(path)
                if let real = realPath(path), real != path { c.resolved = real }
            }
            var e = LandlockDenialEvent(pid: p.pid, tid: tid, tNs: recorder.now(), call: c)
            e.stack = recorder.stack(pid: p.pid, tid: tid)
            recorder.emit(.landlockDenial(e))
        }
    }
}
