import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog

/// Enforce mode under the notify backend. A denial is race-free (the call never runs). An *allowed* call whose
/// verdict rests on the program's memory (a path, an open_how, a msghdr) is not: by the time the kernel reads
/// the memory again, another thread may have rewritten it (seccomp_unotify(2)). So such a call never runs with
/// the program's own buffer:
///
/// - `openat`/`openat2` relative to a held directory: captrace takes the directory with pidfd_getfd, opens the
///   path it checked with `openat2(..., RESOLVE_BENEATH)` (the kernel refuses `..`, absolute paths and symlinks
///   that leave the directory) and installs the result with SECCOMP_IOCTL_NOTIF_ADDFD + SECCOMP_ADDFD_FLAG_SEND.
///   O_CREAT modes get the program's umask; the open runs with captrace's credentials, which are the program's
///   (it is started by captrace and NO_NEW_PRIVS keeps them).
/// - `newfstatat`/`statx` (glibc's fstat is `newfstatat(fd, "", AT_EMPTY_PATH)`): done by captrace on the
///   descriptor, or on the checked path opened beneath it (O_PATH, RESOLVE_BENEATH), and the struct written into
///   the program's buffer (x86_64 layouts).
/// - any other such call (mkdirat, unlinkat, readlinkat, renameat, sendmsg, i386 socketcall, ...) is denied
///   with the deny errno. It is not a violation and is not recorded: this is the price of not being fooled.
enum NotifyEnforcement {
    /// Whether an allowed verdict for this syscall depends on memory the program can still change.
    static func dependsOnMemory(_ sc: Syscall) -> Bool {
        sc.args.contains { $0 == .path || $0 == .msghdr || $0 == .openHow || $0 == .socketcallArgs }
    }

    /// Kernel VALID_OPEN_FLAGS: openat ignores unknown bits, openat2 refuses them.
    static let validOpenFlags: UInt64 = 0o37777703
    static let resolveBeneath: UInt64 = 0x08
    static let resolveInRoot: UInt64 = 0x10
    static let oNoctty: UInt64 = 0o400
    static let oCloexec: UInt64 = 0o2000000
    static let oNofollow: UInt64 = 0o400000

    static func act(_ s: NotifyTransport, _ call: DecodedCall, syscall sc: Syscall, id: UInt64) {
        let listener = s.listener
        guard call.abi != .i386, case .string(let path)? = call.path, let di = sc.dirfdIndex else {
            refuse(s, sc, id: id)
            return
        }
        let dirfd = Int32(truncatingIfNeeded: call.args[di])
        let pidfd = s.lock.locked { s.extra[call.pid]?.pidfd ?? -1 }
        var held: Int32 = -1
        if pidfd >= 0 { held = ct_pidfd_getfd(pidfd, dirfd) }
        defer { if held >= 0 { close(held) } }
        guard held >= 0 else {
            _ = ct_notif_reply(listener, id, 0, held == -EBADF ? EBADF : s.options.denyErrno)
            return
        }
        switch sc.pathOp {
        case .open?:  // openat, openat2 (calls with a dirfd)
            var flags: UInt64, mode: UInt64, resolve: UInt64
            if sc.index(of: .openHow) == nil {
                flags = call.args[2]
                mode = call.args[3]
                resolve = resolveBeneath
            } else {
                guard let how = Decoder.readBytes(pid: call.pid, addr: call.args[2], count: 24) else {
                    _ = ct_notif_reply(listener, id, 0, EFAULT)
                    return
                }
                flags = how.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self) }
                mode = how.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
                resolve = how.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
                if resolve & resolveInRoot == 0 { resolve |= resolveBeneath }
            }
            flags = (flags & validOpenFlags) | oNoctty
            let creates = flags & (OpenFlags.O_CREAT | OpenFlags.O_TMPFILE) != 0
            mode = creates ? (mode & 0o7777) & ~NotifyProcFS.umask(call.pid) : 0
            let fd = ct_openat2(held, path, flags, mode, resolve)
            guard fd >= 0 else {
                _ = ct_notif_reply(listener, id, 0, -fd)
                return
            }
            defer { close(fd) }
            let r = ct_notif_addfd_send(listener, id, fd, UInt32(flags & oCloexec))
            if r < 0 && r != -ENOENT { _ = ct_notif_reply(listener, id, 0, -r) }
        case .stat?, .statx?:  // newfstatat, statx (fstatat64 is i386, refused above)
            guard call.abi == .x86_64 else {
                _ = ct_notif_reply(listener, id, 0, s.options.denyErrno)
                return
            }
            let isStatx = sc.pathOp == .statx
            let flags = Int32(truncatingIfNeeded: call.args[isStatx ? 2 : 3])
            let buf = call.args[isStatx ? 4 : 2]
            let mask = UInt32(truncatingIfNeeded: isStatx ? call.args[3] : 0)
            var r: Int32
            if path.isEmpty && UInt64(UInt32(bitPattern: flags)) & AtFlags.AT_EMPTY_PATH != 0 {
                r = ct_stat_into(held, "", flags, isStatx ? 1 : 0, mask, call.pid, buf)
            } else {
                let nofollow = UInt64(UInt32(bitPattern: flags)) & AtFlags.AT_SYMLINK_NOFOLLOW != 0
                let o = ct_openat2(held, path, OpenFlags.O_PATH | oCloexec | (nofollow ? oNofollow : 0), 0, resolveBeneath)
                if o < 0 {
                    r = o
                } else {
                    let keep = flags & ~Int32(truncatingIfNeeded: AtFlags.AT_SYMLINK_NOFOLLOW)
                    r = ct_stat_into(o, "", keep | Int32(AtFlags.AT_EMPTY_PATH), isStatx ? 1 : 0, mask, call.pid, buf)
                    close(o)
                }
            }
            _ = r == 0 ? ct_notif_reply(listener, id, 0, 0) : ct_notif_reply(listener, id, 0, -r)
        default:
            refuse(s, sc, id: id)
        }
    }

    /// Denies an allowed call that cannot be confined, and counts it for the end-of-run warning.
    static func refuse(_ s: NotifyTransport, _ sc: Syscall, id: UInt64) {
        _ = ct_notif_reply(s.listener, id, 0, s.options.denyErrno)
        s.lock.locked { s.unconfined[sc.name, default: 0] += 1 }
    }
}
