import SyscallCatalog
import TraceModel

/// A syscall as the supervisor decoded it from a stopped (or notifying) thread: the facts the classifier needs.
/// Built on the hot path, so it holds only what classification reads; rendering for the trace happens later.
public struct DecodedCall: Sendable {
    public var abi: ABI
    /// The syscall number within its ABI (without the x32 bit).
    public var nr: Int
    /// The catalog row (nil for a number the catalog does not know).
    public var syscall: Syscall?
    /// Raw argument registers.
    public var args: [UInt64]
    /// The caller's thread group id and thread id.
    public var pid: Int32
    public var tid: Int32

    /// The path argument read from memory (first path argument), or nil when the call has none.
    public var path: PathArg?
    /// A second path argument (rename, link, symlink target...).
    public var path2: PathArg?
    /// For a pid/tid argument: whether the target is a thread of the caller's own thread group.
    /// The supervisor knows its process table; nil when unknown (then only pid == caller counts as self).
    public var targetInCallerGroup: Bool?
    /// For socket calls: whether a destination/bind address is present (non-null with non-zero length).
    public var hasAddress: Bool?
    /// For i386 `socketcall`/`ipc`: the multiplexed sub-call's name (e.g. "connect", "shmget").
    public var subcall: String?
    /// For i386 `socketcall`: the sub-call's arguments as read from the program's memory (nil when unread).
    public var subcallArgs: [UInt64]?
    /// For `openat2`: the `resolve` field of struct open_how.
    public var resolveFlags: UInt64?
    /// For `clone3`: the `flags` field of struct clone_args (for `clone` the classifier reads the register).
    /// nil when not read: namespace creation through clone3 then goes unseen.
    public var cloneFlags: UInt64?
    /// For lookups relative to a held directory (`Classifier.lookupsBeneath`): what resolving them beneath
    /// that directory, as the kernel would, found. nil when not resolved: the path string alone is judged.
    public var beneath: BeneathResolution?
    /// Everything read from the program's memory to judge the call, recorded as read (trace format 2).
    public var memory = MemoryRead()

    @inlinable
    public init(abi: ABI, nr: Int, syscall: Syscall?, args: [UInt64], pid: Int32, tid: Int32) {
        self.abi = abi; self.nr = nr; self.syscall = syscall; self.args = args; self.pid = pid; self.tid = tid
    }
}

/// A path argument as read from the program's memory.
public enum PathArg: Sendable, Hashable {
    case string(String)
    /// The pointer could not be read (bad address, or the process vanished).
    case unreadable
    /// A NULL pointer.
    case null
}

/// The classifier's answer.
public enum Verdict: Sendable, Hashable {
    case allowed
    case violation(Namespace, Rule)

    public var isViolation: Bool { if case .violation = self { return true }; return false }
}

/// A lookup relative to a held directory descriptor that only resolution can judge: whether a symlink (or `..`
/// through one, or a magic link such as /proc/self/fd/N) on the way leads out of the directory.
public struct BeneathLookup: Sendable, Hashable {
    /// The directory descriptor, in the caller's descriptor table.
    public var dirfd: Int32
    /// The path as written (relative, non-empty).
    public var path: String
    /// Whether the kernel follows a symlink in the last component (no O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, ...).
    public var followLast: Bool

    public init(dirfd: Int32, path: String, followLast: Bool) {
        self.dirfd = dirfd; self.path = path; self.followLast = followLast
    }
}

/// What resolving a call's `BeneathLookup`s beneath their directories found.
public enum BeneathResolution: Sendable, Hashable {
    /// Every lookup stays beneath its directory (or fails without leaving it: ENOENT, ENOTDIR, ...).
    case stays
    /// A lookup leaves its directory; `to` is where it led, when knowable.
    case escapes(to: String?)
}
