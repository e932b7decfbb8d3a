import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog

/// Judges lookups relative to a held directory as the kernel resolves them (`Classifier.lookupsBeneath`):
/// each is resolved again by captrace beneath the program's own descriptor — taken with pidfd_getfd from the
/// process's pidfd (~2.6 µs here), else opened through /proc/TID/fd/N (~9 µs), the same open file whatever its
/// name is now — with `openat2(O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`. EXDEV (an absolute symlink, `..` out through a link, a magic link under
/// RESOLVE_BENEATH) is an escape; ELOOP is one only if the lookup succeeds, or fails otherwise, without
/// RESOLVE_NO_MAGICLINKS (else it is a symlink loop, which fails in the program too). Nothing is opened but
/// O_PATH descriptors, so the check has no side effect; where an escape led is read from a second, unconfined
/// O_PATH open. Only the calls `lookupsBeneath` names pay for this: one open of /proc, one openat2, two closes.
enum BeneathResolver {

    /// The classifier's verdict, with the call's lookups beneath held directories resolved when the path
    /// strings alone allow it (`call.beneath` set then).
    /// `pidfd()` gives a pidfd of the caller's process or -1, asked only when there is something to resolve;
    /// `done` gets it back afterwards.
    static func classify(_ call: inout DecodedCall, pidfd: () -> Int32, done: (Int32) -> Void = { _ in }) -> Verdict {
        let verdict = Classifier.classify(call)
        guard verdict == .allowed else { return verdict }
        let lookups = Classifier.lookupsBeneath(call)
        guard !lookups.isEmpty else { return verdict }
        let p = pidfd()
        defer { done(p) }
        var result = BeneathResolution.stays
        for l in lookups {
            if let r = resolve(l, tid: call.tid, pidfd: p), case .escapes = r { result = r; break }
        }
        call.beneath = result
        guard case .escapes = result else { return verdict }
        return Classifier.classify(call)
    }

    /// nil when the program's descriptor could not be taken (it is not a descriptor, or the thread vanished):
    /// the kernel's own lookup then fails too.
    static func resolve(_ l: BeneathLookup, tid: Int32, pidfd: Int32) -> BeneathResolution? {
        var held: Int32 = pidfd >= 0 ? ct_pidfd_getfd(pidfd, l.dirfd) : -1
        if held == -EBADF { return nil }
        if held < 0 { held = open("/proc/\(tid)/fd/\(l.dirfd)", Int32(OpenFlags.O_PATH | OpenFlags.O_CLOEXEC)) }
        guard held >= 0 else { return nil }
        defer { close(held) }
        // One component (no "/", and never ".." here) that is not a symlink cannot leave the directory:
        // readlinkat answers that in ~1.5 µs (EINVAL, or ENOENT for a name still to be created) against ~4 µs
        // for openat2 and its close.
        if !l.path.utf8.contains(UInt8(ascii: "/")) {
            var byte: CChar = 0
            if readlinkat(held, l.path, &byte, 1) < 0 { return .stays }
        }
        let flags = OpenFlags.O_PATH | OpenFlags.O_CLOEXEC | (l.followLast ? 0 : OpenFlags.O_NOFOLLOW)
        var fd = ct_openat2(held, l.path, flags, 0, ResolveFlags.RESOLVE_BENEATH | ResolveFlags.RESOLVE_NO_MAGICLINKS)
        if fd == -EAGAIN { fd = ct_openat2(held, l.path, flags, 0, ResolveFlags.RESOLVE_BENEATH | ResolveFlags.RESOLVE_NO_MAGICLINKS) }
        if fd >= 0 { close(fd); return .stays }
        switch -fd {
        case EXDEV:
            return .escapes(to: target(held, l.path, flags))
        case ELOOP:
            let plain = ct_openat2(held, l.path, flags, 0, 0)
            if plain >= 0 { close(plain) }
            return plain == -ELOOP ? .stays : .escapes(to: target(held, l.path, flags))
        default:
            return .stays  // ENOENT, ENOTDIR, EACCES...: the lookup fails without leaving the directory
        }
    }

    /// Where an unconfined lookup leads, as captrace's /proc/self/fd shows it; nil if it fails (a dangling link).
    static func target(_ held: Int32, _ path: String, _ flags: UInt64) -> String? {
        let fd = ct_openat2(held, path, flags, 0, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return ProcFS.fdPath(getpid(), fd)
    }
}
