import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// Enforce mode under the notify backend: calls whose approval rests on the program's memory, done race-free.
///
/// A denial is race-free (the call never runs). An *approved* call whose verdict rests on memory (a path, an
/// open_how, a msghdr, a socket address) is not, if the kernel runs it: by then another thread may have
/// rewritten the memory (seccomp_unotify(2)). So captrace performs such a call itself, the way Casper's services
/// do for Capsicum, from the copy it checked, with the kernel confining the lookup, and hands back the result:
///
/// - Paths relative to a held directory (allowed in capability mode): the directory is taken with pidfd_getfd
///   and every lookup is `openat2(..., RESOLVE_BENEATH)` on it (the kernel refuses `..`, absolute paths and
///   symlinks that leave it). Calls on an existing object (open, stat, faccessat, readlinkat, fchmodat,
///   fchownat, utimensat, the old side of linkat) open the checked path beneath with O_PATH (O_NOFOLLOW when
///   the call does not follow a final symlink) and act on that descriptor (AT_EMPTY_PATH or /proc/self/fd);
///   calls on a directory entry (mkdirat, mknodat, unlinkat, renameat/renameat2, symlinkat, the new side of
///   linkat) open the parent beneath and act on the last component, which these calls never follow.
/// - Paths allowed by `--allow` (violations the baseline accepts): the checked absolute path, resolved in the
///   program's root (/proc/PID/root, RESOLVE_IN_ROOT, `/proc/self` rewritten to the program's pid; a path that
///   goes through a /proc magic link is refused, since it would name captrace's own descriptors).
/// - `sendmsg`/`sendmmsg` without an address: captrace sends a copy of the message (payload copied, SCM_RIGHTS
///   descriptors taken from the program) on its copy of the socket, with no address (ct_send_copy).
/// - `connect`/`bind` allowed by `--allow`: the address bytes are read once, rendered again, and used only if
///   they are the address the baseline accepted.
///
/// New descriptors are installed with SECCOMP_IOCTL_NOTIF_ADDFD (+ SEND), data (readlinkat, stat buffers,
/// sendmmsg lengths) written with process_vm_writev, and the return value or errno given back. captrace runs
/// with the program's credentials (it started it, and NO_NEW_PRIVS keeps them); a thread whose credentials
/// differ from captrace's is not served this way. Modes of created files get the program's umask (captrace's
/// own is 0 under this backend).
///
/// A call with no such emulation (fexecve, chdir, truncate, xattrs, i386 calls...) runs in the kernel only when
/// no other task shares the caller's memory: its only thread is parked in the notification, so nothing can
/// rewrite the checked memory before the kernel reads it (other processes of the same user could still write it
/// with process_vm_writev or /proc/PID/mem; in capability mode those are violations). Otherwise it is refused
/// with the deny errno and counted, with its reason, in the end-of-run warning.
enum NotifyEnforcement {
    /// Whether an allowed verdict for this syscall depends on memory the program can still change.
    static func dependsOnMemory(_ sc: Syscall) -> Bool {
        sc.args.contains { $0 == .path || $0 == .msghdr || $0 == .openHow || $0 == .socketcallArgs }
    }

    /// Whether a violation's identity (what a baseline matched) lies in memory: its path or address.
    static func violationDependsOnMemory(_ sc: Syscall) -> Bool {
        dependsOnMemory(sc) || sc.args.contains(.sockaddr)
    }

    /// What became of a call captrace handled.
    enum Outcome: Equatable {
        /// Performed by captrace: the program got this value (a descriptor, a length, 0).
        case returned(Int64)
        /// Performed by captrace: the program got this errno.
        case failed(Int32)
        /// Let through to the kernel (race-free: nothing checked is in memory, or no other task shares the
        /// caller's memory). No result known.
        case continued
        /// Could not be done confined: denied with the deny errno. The reason is counted for the warning.
        case refused(String)
        /// The notification was withdrawn before an answer (it comes back as a new one).
        case withdrawn
    }

    /// Where the checked paths are looked up.
    enum Base {
        /// Relative to the program's directory descriptors, beneath them (capability mode's rule).
        case heldDirectories
        /// The violation's checked absolute path (the event's `path`), in the program's root.
        case baseline(path: String?, address: String?)
    }

    /// How captrace answers a call it handled.
    enum Answer {
        /// The call's return value, or its errno.
        case value(Int64), error(Int32)
        /// A descriptor captrace opened, to install in the program (the call returns its number).
        case install(fd: Int32, flags: UInt32)
        /// Let the kernel run it (nothing the program can change is read again).
        case proceed
        /// Deny it with the deny errno: it cannot be confined (the reason).
        case refuse(String)
    }

    /// Handles an approved call that depends on memory and answers the notification. The call is performed
    /// outside the lock (it may wait, for a socket); the answer and `record` (the violation's event, with the
    /// outcome) happen under it, so the thread's next call is recorded after this one, and only an answer the
    /// kernel accepted is recorded (a withdrawn notification comes back and is recorded then).
    static func act(_ s: NotifyTransport, _ call: DecodedCall, syscall sc: Syscall, id: UInt64, base: Base,
                    record: ((Outcome) -> Void)? = nil) -> Outcome {
        var job = Job(s: s, call: call, sc: sc, id: id, base: base)
        defer { job.closeAll() }
        let answer: Answer
        do {
            answer = try job.run()
        } catch let f as Job.Failed {
            answer = .error(f.errno)
        } catch {
            let reason = (error as? CannotEmulate)?.reason ?? "\(error)"
            answer = fallback(s, call, reason: reason)
        }
        let listener = s.listener
        return s.lock.locked {
            let outcome: Outcome
            switch answer {
            case .value(let v):
                outcome = ct_notif_reply(listener, id, v, 0) == 0 ? .returned(v) : .withdrawn
            case .error(let e):
                outcome = ct_notif_reply(listener, id, 0, e) == 0 ? .failed(e) : .withdrawn
            case .install(let fd, let flags):
                let r = ct_notif_addfd_send(listener, id, fd, flags)
                if r >= 0 {
                    outcome = .returned(Int64(r))
                } else {
                    outcome = r != -ENOENT && ct_notif_reply(listener, id, 0, -r) == 0 ? .failed(-r) : .withdrawn
                }
            case .proceed:
                if sc.touches == .exec { s.noteExec(call.pid) }
                outcome = ct_notif_continue(listener, id) == 0 ? .continued : .withdrawn
            case .refuse(let reason):
                s.unconfined[reason, default: 0] += 1
                outcome = ct_notif_reply(listener, id, 0, s.options.denyErrno) == 0 ? .refused(reason) : .withdrawn
            }
            if outcome != .withdrawn { record?(outcome) }
            return outcome
        }
    }

    /// A call captrace cannot perform: the kernel runs it only if no other task can rewrite the caller's memory.
    static func fallback(_ s: NotifyTransport, _ call: DecodedCall, reason: String) -> Answer {
        let name = call.syscall?.name ?? "syscall \(call.nr)"
        guard soleUserOfMemory(pid: call.pid, keeper: s.launch.keeper) else {
            return .refuse("\(name): \(reason), and another thread shares the caller's memory")
        }
        return .proceed
    }

    /// Whether process `pid` is the only task using its memory: one thread, and no process sharing its address
    /// space (CLONE_VM without CLONE_THREAD, vfork) among its children, its parent and siblings (CLONE_PARENT)
    /// and the keeper's orphans. A process sharing it can only have been created by one of these (a task sharing
    /// the memory), so one level is enough.
    static func soleUserOfMemory(pid: Int32, keeper: Int32) -> Bool {
        // /proc/PID/task has 2 + (number of threads) links.
        var st = stat()
        guard stat("/proc/\(pid)/task", &st) == 0, st.st_nlink == 3 else { return false }
        var candidates = NotifyProcFS.children(pid).union(NotifyProcFS.children(keeper))
        if let ids = ProcFS.tgidAndPPid(pid), ids.ppid > 1 {
            candidates.insert(ids.ppid)
            candidates.formUnion(NotifyProcFS.children(ids.ppid))
        }
        candidates.remove(pid)
        for c in candidates {
            let r = ct_kcmp_vm(pid, c)
            if r == 0 || (r < 0 && r != -ESRCH) { return false }  // shared, or cannot tell
        }
        return true
    }

    static func field(_ status: String, _ key: String) -> String? {
        for line in status.split(separator: "\n") where line.hasPrefix(key) {
            return line.dropFirst(key.count).trimmingCharacters(in: " \t")
        }
        return nil
    }

    // MARK: - Constants (x86_64 / generic UAPI)

    /// Kernel VALID_OPEN_FLAGS: openat ignores unknown bits, openat2 refuses them.
    static let validOpenFlags: UInt64 = 0o37777703
    static let atEaccess: UInt64 = 0x200
    static let atEmptyPath: UInt64 = 0x1000
    static let atFDCWD = UInt64(bitPattern: -100)

    /// x86_64 numbers of the calls captrace makes for the program.
    /// The x86_64 numbers of the calls captrace makes itself (raw syscall(2): some have no libc wrapper here).
    enum NR {
        static func of(_ name: String) -> Int { Catalog.shared.number(of: name, abi: .x86_64)! }
        static let mknodat = of("mknodat"), mkdirat = of("mkdirat"), fchownat = of("fchownat")
        static let unlinkat = of("unlinkat"), linkat = of("linkat"), symlinkat = of("symlinkat")
        static let readlinkat = of("readlinkat"), fchmodat = of("fchmodat"), utimensat = of("utimensat")
        static let renameat2 = of("renameat2"), connect = of("connect"), bind = of("bind")
        static let faccessat2 = of("faccessat2"), fchmodat2 = of("fchmodat2")
    }
}

/// Why a call is not performed by captrace (the fallback decides what the program sees).
struct CannotEmulate: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// One call performed for the program: its descriptors, operands and answer.
struct Job {
    typealias E = NotifyEnforcement
    let s: NotifyTransport
    let call: DecodedCall
    let sc: Syscall
    let id: UInt64
    let base: NotifyEnforcement.Base
    /// Descriptors captrace opened for this call (closed at the end).
    var owned: [Int32] = []
    var pidfd: Int32 = -1
    /// The caller's umask (/proc/PID/status, ~90 µs here: read only by calls that create).
    var umask: UInt64 { NotifyProcFS.umask(call.pid) }

    init(s: NotifyTransport, call: DecodedCall, sc: Syscall, id: UInt64, base: NotifyEnforcement.Base) {
        self.s = s; self.call = call; self.sc = sc; self.id = id; self.base = base
    }

    mutating func closeAll() { for fd in owned { close(fd) } }

    func arg(_ i: Int) -> UInt64 { i < call.args.count ? call.args[i] : 0 }
    /// The register of the (first) path argument: the arguments after it are in the same order in every form.
    var p: Int { sc.pathIndex ?? 0 }
    /// The call's AT_* flags (0 for calls without them; lstat and lchown never follow a final symlink).
    var atFlags: UInt64 {
        if let i = sc.atFlagsIndex { return arg(i) }
        return sc.name == "lstat" || sc.name == "lchown" ? AtFlags.AT_SYMLINK_NOFOLLOW : 0
    }
    func int32(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: arg(i)) }

    mutating func keep(_ fd: Int32) -> Int32 {
        if fd >= 0 { owned.append(fd) }
        return fd
    }

    mutating func run() throws -> NotifyEnforcement.Answer {
        // Every pointer the verdict rested on is NULL (a register): the kernel reads nothing the program can change.
        if memoryFree { return .proceed }
        guard call.abi == .x86_64 else { throw CannotEmulate("i386 and x32 calls are not performed by captrace") }
        pidfd = s.lock.locked { s.extra[call.pid]?.pidfd ?? -1 }
        guard pidfd >= 0 else { throw CannotEmulate("no pidfd for the process") }
        // A lookup or a creation checks the caller's permissions and umask; a call on a held descriptor alone
        // (glibc's fstat: newfstatat(fd, "", AT_EMPTY_PATH)) checks none.
        if call.path != .string("") || call.path2 != nil || (sc.pathOp != .stat && sc.pathOp != .statx) {
            try checkCredentials()
        }
        // The legacy calls and their *at forms take the same arguments after the path (`p` below), but statx.
        switch sc.pathOp {
        case .open?, .creat?: return try open()
        case .stat?, .statx?: return try stat()
        case .access?: return try access()
        case .readlink?: return try readlink()
        case .mkdir?, .mknod?: return try make()
        case .unlink?, .rmdir?: return try unlink()
        case .rename?: return try rename()
        case .link?: return try link()
        case .symlink?: return try symlink()
        case .chmod?: return try chmod()
        case .chown?: return try chown()
        case .utime? where sc.atFlagsIndex != nil: return try utimens()  // utimensat (utime, utimes: other layouts)
        case .some(let op): throw CannotEmulate("\(op.rawValue) is not performed by captrace")
        case nil: break
        }
        switch sc.name {
        case "sendmsg", "sendmmsg": return try send()
        case "connect", "bind": return try connectOrBind()
        case "execve", "execveat":
            // execveat(fd, NULL, ..., AT_EMPTY_PATH) (Linux 6.11+) was let through above (memoryFree).
            throw CannotEmulate("an exec replaces the caller, so captrace cannot run it for the program, and the "
                + "kernel reads its path (even fexecve's \"\") from memory a thread can rewrite after the check")
        default: throw CannotEmulate("not performed by captrace")
        }
    }

    /// Whether the call's memory arguments are all NULL pointers (paths given as NULL, no msghdr or open_how).
    var memoryFree: Bool {
        guard call.path == .null, call.path2 == nil || call.path2 == .null else { return false }
        return !sc.args.contains { $0 == .msghdr || $0 == .openHow || $0 == .socketcallArgs || $0 == .sockaddr }
    }

    /// The thread's credentials must be captrace's (it acts with its own). The owner of /proc/PID/task/TID is the
    /// thread's effective uid and gid (~6 µs); when they are not captrace's (or the process is not dumpable, so
    /// /proc shows root), /proc/PID/task/TID/status (~90 µs) compares the real, effective, saved and filesystem
    /// ids and the supplementary groups. A thread that changed only its supplementary groups or its filesystem
    /// ids, keeping captrace's effective ids, passes the quick test.
    func checkCredentials() throws {
        var st = Glibc.stat()
        guard lstat("/proc/\(call.pid)/task/\(call.tid)", &st) == 0 else { throw CannotEmulate("thread gone") }
        if st.st_uid == geteuid() && st.st_gid == getegid() { return }
        guard let status = ProcFS.read("/proc/\(call.pid)/task/\(call.tid)/status") else { throw CannotEmulate("thread gone") }
        let mine = s.ownCredentials
        for key in ["Uid:", "Gid:", "Groups:"] where E.field(status, key) != mine[key] {
            throw CannotEmulate("the thread's credentials differ from captrace's")
        }
    }

    // MARK: operands

    /// A path operand: a directory to resolve from, the path and the openat2 `resolve` flags.
    struct Operand {
        var dir: Int32
        var path: String
        var resolve: UInt64
    }

    /// Operand `which` (0: first path, 1: second) of the call.
    mutating func operand(_ which: Int) throws -> Operand {
        let dirIndex = which == 0 ? sc.dirfdIndex : sc.dirfd2Index
        let p = which == 0 ? call.path : call.path2
        guard case .string(let raw)? = p else { throw CannotEmulate("unreadable path") }
        let dirfd = dirIndex.map { int32($0) } ?? Int32(truncatingIfNeeded: Int64(bitPattern: E.atFDCWD))
        switch base {
        case .heldDirectories:
            guard dirfd != Decoder.atFDCWD, !raw.hasPrefix("/") else { throw CannotEmulate("path not beneath a descriptor") }
            return Operand(dir: try held(dirfd), path: raw, resolve: ResolveFlags.RESOLVE_BENEATH)
        case .baseline(let checked, _):
            if raw.isEmpty, dirfd != Decoder.atFDCWD {
                // AT_EMPTY_PATH on a descriptor: the descriptor itself.
                return Operand(dir: try held(dirfd), path: "", resolve: ResolveFlags.RESOLVE_BENEATH)
            }
            let abs: String
            if which == 0, let c = checked {
                abs = c
            } else {
                let base = dirIndex != nil && dirfd != Decoder.atFDCWD ? ProcFS.fdPath(call.pid, dirfd) : ProcFS.cwd(call.pid)
                abs = CallRendering.absolutePath(raw, dirfd: dirIndex == nil ? nil : dirfd, base: base)
            }
            guard abs.hasPrefix("/") else { throw CannotEmulate("path could not be made absolute") }
            return Operand(dir: try root(), path: procSelf(abs), resolve: ResolveFlags.RESOLVE_IN_ROOT | ResolveFlags.RESOLVE_NO_MAGICLINKS)
        }
    }

    /// The program's descriptor `fd`, taken with pidfd_getfd.
    mutating func held(_ fd: Int32) throws -> Int32 {
        let r = ct_pidfd_getfd(pidfd, fd)
        if r == -EBADF { throw Failed(EBADF) }
        guard r >= 0 else { throw CannotEmulate("pidfd_getfd: \(String(cString: strerror(-r)))") }
        return keep(r)
    }

    /// A thrown errno for the program (the call "ran" and failed).
    struct Failed: Error { let errno: Int32; init(_ e: Int32) { errno = e } }

    mutating func root() throws -> Int32 {
        let r = ct_openat2(-100, "/proc/\(call.pid)/root", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC, 0, 0)
        guard r >= 0 else { throw CannotEmulate("cannot open the program's root") }
        return keep(r)
    }

    /// `/proc/self` and `/proc/thread-self` name the resolver: captrace. Rewritten to the caller's ids.
    func procSelf(_ p: String) -> String {
        for (prefix, real) in [("/proc/self", "/proc/\(call.pid)"), ("/proc/thread-self", "/proc/\(call.pid)/task/\(call.tid)")]
        where p == prefix || p.hasPrefix(prefix + "/") {
            return real + p.dropFirst(prefix.count)
        }
        return p
    }

    /// openat2 on an operand; a magic link met in the program's root is refused (it would be captrace's).
    mutating func resolve(_ o: Operand, path: String, flags: UInt64, mode: UInt64 = 0) throws -> Int32 {
        let fd = ct_openat2(o.dir, path, flags, mode, o.resolve)
        if fd == -ELOOP, o.resolve & ResolveFlags.RESOLVE_NO_MAGICLINKS != 0 {
            let again = ct_openat2(o.dir, path, OpenFlags.O_PATH | OpenFlags.O_CLOEXEC | (flags & OpenFlags.O_NOFOLLOW), 0,
                                   o.resolve & ~ResolveFlags.RESOLVE_NO_MAGICLINKS)
            if again >= 0 {
                close(again)
                throw CannotEmulate("the path goes through a /proc magic link")
            }
        }
        return fd
    }

    /// The object an operand names, as an O_PATH descriptor (the operand's descriptor itself for "").
    mutating func object(_ o: Operand, follow: Bool, emptyPath: Bool) throws -> Int32 {
        if o.path.isEmpty {
            guard emptyPath else { throw Failed(ENOENT) }
            return o.dir
        }
        let fd = try resolve(o, path: o.path, flags: OpenFlags.O_PATH | OpenFlags.O_CLOEXEC | (follow ? 0 : OpenFlags.O_NOFOLLOW))
        guard fd >= 0 else { throw Failed(-fd) }
        return keep(fd)
    }

    /// The parent directory of an operand's last component (opened beneath) and that component, trailing
    /// slashes kept: the *at calls on an entry never follow it.
    mutating func entry(_ o: Operand) throws -> (dir: Int32, name: String) {
        var end = o.path.endIndex
        while end > o.path.startIndex, o.path[o.path.index(before: end)] == "/" { end = o.path.index(before: end) }
        let head = o.path[..<end]
        guard let slash = head.lastIndex(of: "/") else { return (o.dir, o.path) }
        var parent = String(o.path[..<slash])
        if parent.isEmpty { parent = "/" }
        let name = String(o.path[o.path.index(after: slash)...])
        let fd = try resolve(o, path: parent, flags: OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC)
        guard fd >= 0 else { throw Failed(-fd) }
        return (keep(fd), name)
    }

    /// A raw return value (-errno on failure) as the program's outcome.
    static func outcome(_ v: Int64) -> NotifyEnforcement.Answer { v < 0 ? .error(Int32(-v)) : .value(v) }

    static func sys(_ nr: Int, _ a: UInt64 = 0, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0, _ e: UInt64 = 0) -> Int64 {
        Int64(ct_syscall6(nr, a, b, c, d, e, 0))
    }

    static func fdArg(_ fd: Int32) -> UInt64 { UInt64(bitPattern: Int64(fd)) }

    /// `body` with a C string's address.
    static func withPath<R>(_ s: String, _ body: (UInt64) -> R) -> R {
        s.withCString { body(UInt64(UInt(bitPattern: $0))) }
    }

    // MARK: the calls

    mutating func open() throws -> NotifyEnforcement.Answer {
        var flags: UInt64, mode: UInt64, resolveExtra: UInt64 = 0
        if sc.pathOp == .creat {
            flags = OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC; mode = arg(p + 1)
        } else if let h = sc.index(of: .openHow) {
            guard let how = Decoder.readBytes(pid: call.pid, addr: arg(h), count: 24) else {
                return .error(EFAULT)
            }
            flags = how.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self) }
            mode = how.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
            resolveExtra = how.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
        } else {
            flags = arg(p + 1); mode = arg(p + 2)
        }
        var o = try operand(0)
        if case .heldDirectories = base, resolveExtra & ResolveFlags.RESOLVE_IN_ROOT != 0 {
            o.resolve = ResolveFlags.RESOLVE_IN_ROOT  // the program asked for IN_ROOT: as confining as BENEATH
        }
        o.resolve |= resolveExtra & ~(ResolveFlags.RESOLVE_BENEATH | ResolveFlags.RESOLVE_IN_ROOT)
        if flags & OpenFlags.O_PATH != 0 {
            // SECCOMP_IOCTL_NOTIF_ADDFD takes no O_PATH file (the kernel's fget() skips them), so captrace cannot
            // hand one over: the kernel opens it when no other task can rewrite the checked path.
            throw CannotEmulate("an O_PATH descriptor cannot be handed over (SECCOMP_IOCTL_NOTIF_ADDFD takes none)")
        }
        flags = (flags & E.validOpenFlags) | OpenFlags.O_NOCTTY
        let creates = flags & (OpenFlags.O_CREAT | OpenFlags.O_TMPFILE) != 0
        mode = creates ? (mode & 0o7777) & ~umask : 0
        let fd = try resolve(o, path: o.path, flags: flags, mode: mode)
        guard fd >= 0 else { return .error(-fd) }
        return .install(fd: keep(fd), flags: UInt32(flags & OpenFlags.O_CLOEXEC))
    }

    mutating func stat() throws -> NotifyEnforcement.Answer {
        let isStatx = sc.pathOp == .statx
        let flags = Int32(truncatingIfNeeded: atFlags)
        let buf = arg(isStatx ? p + 3 : p + 1)
        let mask = isStatx ? UInt32(truncatingIfNeeded: arg(p + 2)) : 0
        let o = try operand(0)
        let f = UInt64(UInt32(bitPattern: flags))
        let obj = try object(o, follow: f & AtFlags.AT_SYMLINK_NOFOLLOW == 0, emptyPath: f & E.atEmptyPath != 0)
        let keep = flags & ~Int32(truncatingIfNeeded: AtFlags.AT_SYMLINK_NOFOLLOW)
        return Self.outcome(Int64(ct_stat_into(obj, "", keep | Int32(E.atEmptyPath), isStatx ? 1 : 0, mask, call.pid, buf)))
    }

    mutating func access() throws -> NotifyEnforcement.Answer {
        let mode = arg(p + 1)
        let flags = atFlags
        let o = try operand(0)
        let obj = try object(o, follow: flags & AtFlags.AT_SYMLINK_NOFOLLOW == 0, emptyPath: flags & E.atEmptyPath != 0)
        return Self.outcome(Self.withPath("") { Self.sys(E.NR.faccessat2, Self.fdArg(obj), $0, mode, E.atEmptyPath | (flags & E.atEaccess)) })
    }

    mutating func readlink() throws -> NotifyEnforcement.Answer {
        let buf = arg(p + 1)
        let size = Int(Int32(truncatingIfNeeded: arg(p + 2)))
        guard size > 0 else { return .error(EINVAL) }
        let o = try operand(0)
        let e = try entry(o)
        var out = [UInt8](repeating: 0, count: min(size, 65536))
        let n = Self.withPath(e.name) { name in
            out.withUnsafeMutableBytes { Self.sys(E.NR.readlinkat, Self.fdArg(e.dir), name, UInt64(UInt(bitPattern: $0.baseAddress)), UInt64($0.count)) }
        }
        guard n > 0 else { return Self.outcome(n) }
        let w = out.withUnsafeBytes { ct_write_mem(call.pid, UInt(buf), $0.baseAddress, Int(n)) }
        return w == n ? .value(n) : .error(EFAULT)
    }

    mutating func make() throws -> NotifyEnforcement.Answer {
        let mode = arg(p + 1)
        let dev = arg(p + 2)
        let o = try operand(0)
        let e = try entry(o)
        let mask = umask, isDir = sc.pathOp == .mkdir
        return Self.outcome(Self.withPath(e.name) { name in
            if isDir { return Self.sys(E.NR.mkdirat, Self.fdArg(e.dir), name, (mode & 0o7777) & ~mask) }
            return Self.sys(E.NR.mknodat, Self.fdArg(e.dir), name, (mode & ~0o7777) | ((mode & 0o7777) & ~mask), dev)
        })
    }

    mutating func unlink() throws -> NotifyEnforcement.Answer {
        let flags = sc.pathOp == .rmdir ? AtFlags.AT_REMOVEDIR : atFlags
        let o = try operand(0)
        let e = try entry(o)
        return Self.outcome(Self.withPath(e.name) { Self.sys(E.NR.unlinkat, Self.fdArg(e.dir), $0, flags) })
    }

    mutating func rename() throws -> NotifyEnforcement.Answer {
        let flags = sc.index(of: .uint).map(arg) ?? 0  // renameat2's RENAME_* flags
        let a = try operand(0), b = try operand(1)
        let ea = try entry(a), eb = try entry(b)
        return Self.outcome(Self.withPath(ea.name) { n1 in
            Self.withPath(eb.name) { n2 in Self.sys(E.NR.renameat2, Self.fdArg(ea.dir), n1, Self.fdArg(eb.dir), n2, flags) }
        })
    }

    mutating func link() throws -> NotifyEnforcement.Answer {
        let flags = atFlags
        let a = try operand(0), b = try operand(1)
        let obj = try object(a, follow: flags & AtFlags.AT_SYMLINK_FOLLOW != 0, emptyPath: flags & E.atEmptyPath != 0)
        let eb = try entry(b)
        // linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc/self/fd link does not.
        return Self.outcome(Self.withPath("/proc/self/fd/\(obj)") { from in
            Self.withPath(eb.name) { Self.sys(E.NR.linkat, E.atFDCWD, from, Self.fdArg(eb.dir), $0, AtFlags.AT_SYMLINK_FOLLOW) }
        })
    }

    mutating func symlink() throws -> NotifyEnforcement.Answer {
        guard case .string(let target) = Decoder.readPath(pid: call.pid, addr: arg(sc.index(of: .string) ?? 0)) else { return .error(EFAULT) }
        let o = try operand(0)
        let e = try entry(o)
        return Self.outcome(Self.withPath(target) { t in Self.withPath(e.name) { Self.sys(E.NR.symlinkat, t, Self.fdArg(e.dir), $0) } })
    }

    mutating func chmod() throws -> NotifyEnforcement.Answer {
        let mode = arg(p + 1)
        let flags = atFlags  // fchmodat2's; fchmodat always follows
        let o = try operand(0)
        let obj = try object(o, follow: flags & AtFlags.AT_SYMLINK_NOFOLLOW == 0, emptyPath: flags & E.atEmptyPath != 0)
        let r = Self.withPath("") { Self.sys(E.NR.fchmodat2, Self.fdArg(obj), $0, mode, E.atEmptyPath) }
        guard r == -Int64(ENOSYS) || r == -Int64(EINVAL) else { return Self.outcome(r) }
        return Self.outcome(Self.withPath("/proc/self/fd/\(obj)") { Self.sys(E.NR.fchmodat, E.atFDCWD, $0, mode) })
    }

    mutating func chown() throws -> NotifyEnforcement.Answer {
        let owner = arg(p + 1), group = arg(p + 2)
        let flags = atFlags
        let o = try operand(0)
        let obj = try object(o, follow: flags & AtFlags.AT_SYMLINK_NOFOLLOW == 0, emptyPath: flags & E.atEmptyPath != 0)
        return Self.outcome(Self.withPath("") {
            Self.sys(E.NR.fchownat, Self.fdArg(obj), $0, owner, group, E.atEmptyPath | AtFlags.AT_SYMLINK_NOFOLLOW)
        })
    }

    mutating func utimens() throws -> NotifyEnforcement.Answer {
        let flags = atFlags
        var times = [UInt8](repeating: 0, count: 32)
        let hasTimes = arg(p + 1) != 0
        if hasTimes {
            guard let t = Decoder.readBytes(pid: call.pid, addr: arg(p + 1), count: 32) else { return .error(EFAULT) }
            times = t
        }
        func timesArg(_ b: UnsafeRawBufferPointer) -> UInt64 { hasTimes ? UInt64(UInt(bitPattern: b.baseAddress)) : 0 }
        let o = try operand(0)
        let obj = try object(o, follow: flags & AtFlags.AT_SYMLINK_NOFOLLOW == 0, emptyPath: flags & E.atEmptyPath != 0)
        return Self.outcome(Self.withPath("") { p in
            times.withUnsafeBytes { Self.sys(E.NR.utimensat, Self.fdArg(obj), p, timesArg($0), E.atEmptyPath | AtFlags.AT_SYMLINK_NOFOLLOW) }
        })
    }

    mutating func send() throws -> NotifyEnforcement.Answer {
        if case .baseline = base { throw CannotEmulate("a send to an address is not performed by captrace") }
        let sock = try held(int32(0))
        let r: Int
        if sc.name == "sendmsg" {
            r = ct_send_copy(s.listener, id, pidfd, call.pid, call.tid, sock, arg(1), int32(2))
        } else {
            r = ct_sendmmsg_copy(s.listener, id, pidfd, call.pid, call.tid, sock, arg(1), UInt32(truncatingIfNeeded: arg(2)), int32(3))
        }
        if r == -Int(ESRCH) || r == -Int(EINTR) { return .error(EINTR) }  // the thread went away meanwhile
        return Self.outcome(Int64(r))
    }

    /// connect/bind allowed by the baseline: the address as read now must be the one it accepted.
    mutating func connectOrBind() throws -> NotifyEnforcement.Answer {
        guard case .baseline(_, let address?) = base else { throw CannotEmulate("no checked address") }
        let len = Int(arg(2) & 0xffff_ffff)
        guard len >= 2, len <= 128, let bytes = Decoder.readBytes(pid: call.pid, addr: arg(1), count: len) else {
            return .error(EFAULT)
        }
        guard CallRendering.sockaddrText(bytes) == address else {
            throw CannotEmulate("the address changed after the check")
        }
        let sock = try held(int32(0))
        let nr = sc.name == "connect" ? E.NR.connect : E.NR.bind
        let r = bytes.withUnsafeBytes { Self.sys(nr, Self.fdArg(sock), UInt64(UInt(bitPattern: $0.baseAddress)), UInt64(len)) }
        return Self.outcome(r)
    }
}
