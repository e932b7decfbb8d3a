import CTraceShims
import CapabilityPolicy
import Glibc

/// Judges lookups relative to a held directory as the kernel resolves them (`Classifier.lookupsBeneath`):
/// each is resolved again by captrace beneath the program's own descriptor, opened through /proc/TID/fd/N
/// (the same open file, whatever its name is now), with `openat2(O_PATH, RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS)`. EXDEV (an absolute symlink, `..` out through a link, a magic link under
/// RESOLVE_BENEATH) is an escape; ELOOP is one only if the lookup succeeds, or fails otherwise, without
/// RESOLVE_NO_MAGICLINKS (else it is a symlink loop, which fails in the program too). Nothing is opened but
/// O_PATH descriptors, so the check has no side effect; where an escape led is read from a second, unconfined
/// O_PATH open. Only the calls `lookupsBeneath` names pay for this: one open of /proc, one openat2, two closes.
enum BeneathResolver {
    static let oPath: UInt64 = 0o10000000
    static let oNofollow: UInt64 = 0o400000
    static let oCloexec: UInt64 = 0o2000000
    static let resolveNoMagicLinks: UInt64 = 0x02
    static let resolveBeneath: UInt64 = 0x08

    /// The classifier's verdict, with the call's lookups beneath held directories resolved when the path
    /// strings alone allow it (`call.beneath` set then).
    static func classify(_ call: inout DecodedCall) -> Verdict {
        let verdict = Classifier.classify(call)
        guard verdict == .allowed else { return verdict }
        resolve(&call)
        guard case .escapes? = call.beneath else { return verdict }
        return Classifier.classify(call)
    }

    /// Sets `call.beneath` when the call has lookups to resolve; leaves it nil otherwise.
    static func resolve(_ call: inout DecodedCall) {
        let lookups = Classifier.lookupsBeneath(call)
        guard !lookups.isEmpty else { return }
        var result = BeneathResolution.stays
        for l in lookups {
            if let r = resolve(l, tid: call.tid), case .escapes = r { result = r; break }
        }
        call.beneath = result
    }

    /// nil when the program's descriptor could not be taken (it is not a descriptor, or the thread vanished):
    /// the kernel's own lookup then fails too.
    static func resolve(_ l: BeneathLookup, tid: Int32) -> BeneathResolution? {
        let held = open("/proc/\(tid)/fd/\(l.dirfd)", Int32(oPath | oCloexec))
        guard held >= 0 else { return nil }
        defer { close(held) }
        let flags = oPath | oCloexec | (l.followLast ? 0 : oNofollow)
        var fd = ct_openat2(held, l.path, flags, 0, resolveBeneath | resolveNoMagicLinks)
        if fd == -EAGAIN { fd = ct_openat2(held, l.path, flags, 0, resolveBeneath | resolveNoMagicLinks) }
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
