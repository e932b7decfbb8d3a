import SyscallCatalog
import TraceModel

/// The classifier: a pure function from a decoded syscall to a verdict under a capability policy.
///
/// Exact per syscall where Linux is exact, conservative where the input is missing:
/// - Paths. Absolute -> `absolute-path` (also for *at calls: the kernel ignores the dirfd). Relative to
///   AT_FDCWD (the low 32 bits of the dirfd register, as a signed int, equal -100) or in a call without a
///   dirfd -> `cwd-relative`. Relative to a descriptor with a `..` component that climbs above it ->
///   `dotdot-escape` (`a/../b` stays beneath, `..foo` is a name). An empty path on a descriptor names the
///   descriptor (AT_EMPTY_PATH) or fails with ENOENT: allowed. A NULL path on a descriptor is futimens
///   (utimensat) or the descriptor itself (fanotify_mark, fstatat on kernels >= 6.11): allowed; with AT_FDCWD
///   it names the working directory: `cwd-relative`. An unreadable path, or none supplied (`path == nil` for a
///   call that has one) -> `unreadable-path`. For calls without a dirfd a NULL path is unreadable (EFAULT).
/// - A lookup the path string allows beneath a held directory is `symlink-escape` when `beneath` says that
///   resolving it left the directory (a symlink, `..` through one, a magic link); see `lookupsBeneath`.
/// - openat2 with RESOLVE_BENEATH or RESOLVE_IN_ROOT relative to a descriptor is allowed whatever the path:
///   the kernel confines the lookup. `resolveFlags == nil` is treated as no RESOLVE_* flags.
/// - execve is always `exec`; execveat is allowed only as fexecve (descriptor, AT_EMPTY_PATH, empty path).
/// - Processes. "Self" is decided by `targetInCallerGroup` when the supervisor supplies it (it answers for the
///   call's first pid/tid argument), otherwise by the id equalling the caller's pid or tid. kill(0), kill(-1), kill(-pgid), PRIO_PGRP, PRIO_USER and joining
///   another process group are `process-group`; any other pid is `other-process`; ids the kernel refuses
///   (tkill(0), tgkill(-1, ...)) reach nothing and are allowed.
/// - Sockets. bind/connect are violations when an address is given; sendto/sendmsg/sendmmsg when they carry a
///   destination. `hasAddress == nil`: read from the registers for calls whose address is a register pair
///   (non-NULL pointer and non-zero length); assumed present for msghdr-based sends. socket (and i386
///   socketcall's SYS_SOCKET, from `subcallArgs`) of a raw IP or packet socket is `raw-socket`.
/// - clone with CLONE_NEW* flags, and clone3 when `cloneFlags` has them, are `system-state` (unshare);
///   clone3 with `cloneFlags == nil` is allowed (the supervisor must read clone_args.flags to see namespaces).
/// - i386 socketcall/ipc are judged as the call they carry (`subcall`, or decoded from the first argument).
/// - A syscall the catalog does not know (`syscall == nil`) is `system-state`: capability mode denies what
///   it cannot vouch for.
public enum Classifier {
    public static func classify(_ call: DecodedCall) -> Verdict { classify(call, policy: .standard) }

    public static func classify(_ call: DecodedCall, policy: CapabilityPolicy) -> Verdict {
        guard let sc = call.syscall else { return .violation(.system, .systemState) }
        let decision: Decision
        if let d = policy.decision(abi: call.abi, nr: call.nr) {
            decision = d
        } else {
            // A row given without a matching (abi, nr), e.g. a hand-built call: fall back to the name.
            let e = policy.entry(for: sc.name)
            guard e.line != 0 else { return .violation(.system, .systemState) }
            decision = e.decision
        }
        return classify(call, syscall: sc, decision: decision, policy: policy)
    }

    static func classify(_ call: DecodedCall, syscall sc: Syscall, decision: Decision,
                         policy: CapabilityPolicy) -> Verdict {
        switch decision {
        case .allow:
            return .allowed
        case .deny(let rule?):
            return .violation(rule.namespace, rule)
        case .deny(nil):
            return .violation(.filesystem, globalPathRule(call.path))
        case .conditional(let condition):
            switch condition {
            case .pathRelativeToDirfd:
                return pathsBeneath(call, sc)
            case .resolveBeneath:
                if let resolve = call.resolveFlags,
                   resolve & (ResolveFlags.RESOLVE_BENEATH | ResolveFlags.RESOLVE_IN_ROOT) != 0,
                   let d = sc.dirfdIndex, !AtFlags.isFDCWD(arg(call, d)) {
                    return .allowed
                }
                return pathsBeneath(call, sc)
            case .execDescriptor:
                return isFexecve(call, sc) ? .allowed : .violation(.filesystem, .exec)
            case .targetIsSelf:
                guard let shape = sc.processTarget else { return .violation(.process, .otherProcess) }
                return target(call, shape)
            case .noAddress:
                return namesAddress(call, sc) ? .violation(.network, .socketAddress) : .allowed
            case .noNamespaceFlags:
                let flags: UInt64
                if sc.name == "clone" {
                    flags = arg(call, 0) & CloneFlags.newNamespacesClone
                } else {
                    flags = (call.cloneFlags ?? 0) & CloneFlags.newNamespaces
                }
                return flags == 0 ? .allowed : .violation(.system, .systemState)
            case .subcall:
                return multiplexed(call, sc, policy: policy)
            case .noRawProtocol:
                return RawSockets.isRaw(family: int32(call, 0), type: int32(call, 1))
                    ? .violation(.network, .rawSocket) : .allowed
            }
        }
    }

    // MARK: - Paths

    @inline(__always)
    static func arg(_ call: DecodedCall, _ i: Int) -> UInt64 { i < call.args.count ? call.args[i] : 0 }

    /// The rule for a path looked up without a directory descriptor.
    static func globalPathRule(_ path: PathArg?) -> Rule {
        guard case .string(let s)? = path else { return .unreadablePath }
        return s.utf8.first == UInt8(ascii: "/") ? .absolutePath : .cwdRelative
    }

    /// Both paths of an *at call checked against their directory descriptors; the first violation wins.
    static func pathsBeneath(_ call: DecodedCall, _ sc: Syscall) -> Verdict {
        guard sc.pathIndex != nil else { return .allowed }
        if let rule = pathRule(call.path, dirfd: sc.dirfdIndex.map { arg(call, $0) }) {
            return .violation(.filesystem, rule)
        }
        if sc.path2Index != nil, let rule = pathRule(call.path2, dirfd: sc.dirfd2Index.map { arg(call, $0) }) {
            return .violation(.filesystem, rule)
        }
        if case .escapes? = call.beneath { return .violation(.filesystem, .symlinkEscape) }
        return .allowed
    }

    /// The lookups of a call whose verdict rests on how the kernel resolves them: relative, non-empty paths on a
    /// held directory that the path string alone allows. The supervisor resolves these beneath the program's
    /// own descriptor and puts the answer in `DecodedCall.beneath`. Empty for every other call (and for a single
    /// component whose symlink is not followed: nothing is resolved through it), so only lookups relative to a
    /// held directory pay for resolution.
    public static func lookupsBeneath(_ call: DecodedCall, policy: CapabilityPolicy = .standard) -> [BeneathLookup] {
        guard let sc = call.syscall,
              let decision = policy.decision(abi: call.abi, nr: call.nr) ?? Optional(policy.entry(for: sc.name).decision),
              case .conditional(let condition) = decision,
              condition == .pathRelativeToDirfd || condition == .resolveBeneath else { return [] }
        if condition == .resolveBeneath, let resolve = call.resolveFlags,
           resolve & (ResolveFlags.RESOLVE_BENEATH | ResolveFlags.RESOLVE_IN_ROOT) != 0 { return [] }
        var out: [BeneathLookup] = []
        func add(_ path: PathArg?, dirfdIndex: Int?, follow: Bool) {
            guard case .string(let s)? = path, let d = dirfdIndex, !s.isEmpty else { return }
            let dirfd = arg(call, d)
            guard !AtFlags.isFDCWD(dirfd), s.utf8.first != UInt8(ascii: "/"), !climbsAbove(s) else { return }
            if !follow && !s.utf8.contains(UInt8(ascii: "/")) { return }
            out.append(BeneathLookup(dirfd: Int32(truncatingIfNeeded: dirfd), path: s, followLast: follow))
        }
        guard sc.pathIndex != nil else { return [] }
        let follows = followsLast(call, sc)
        add(call.path, dirfdIndex: sc.dirfdIndex, follow: follows.first)
        if sc.path2Index != nil { add(call.path2, dirfdIndex: sc.dirfd2Index, follow: follows.second) }
        return out
    }

    /// Whether the kernel follows a symlink named by the last component of each path.
    static func followsLast(_ call: DecodedCall, _ sc: Syscall) -> (first: Bool, second: Bool) {
        let atFlags = sc.atFlagsIndex.map { arg(call, $0) } ?? 0
        switch sc.name {
        case "openat":
            let flags = arg(call, 2), createExclusive = OpenFlags.O_CREAT | OpenFlags.O_EXCL
            let exclusive = flags & createExclusive == createExclusive  // never follows
            return (flags & OpenFlags.O_NOFOLLOW == 0 && !exclusive, false)
        case "openat2", "faccessat", "fchmodat", "futimesat":
            return (true, false)  // openat2's O_NOFOLLOW is in memory: judged as following
        case "linkat", "name_to_handle_at":
            return (atFlags & AtFlags.AT_SYMLINK_FOLLOW != 0, false)
        case "fanotify_mark":
            return (arg(call, 1) & 0x4 == 0, false)  // FAN_MARK_DONT_FOLLOW
        case "readlinkat", "unlinkat", "renameat", "renameat2", "mkdirat", "mknodat", "symlinkat":
            return (false, false)
        default:  // the fstatat family, statx, fchownat, utimensat, faccessat2, execveat
            return (atFlags & AtFlags.AT_SYMLINK_NOFOLLOW == 0, false)
        }
    }

    /// nil when the path stays beneath its directory descriptor. `dirfd == nil`: the call has none (cwd).
    static func pathRule(_ path: PathArg?, dirfd: UInt64?) -> Rule? {
        let atCWD = dirfd.map(AtFlags.isFDCWD) ?? true
        switch path {
        case nil, .unreadable?:
            return .unreadablePath
        case .null?:
            return atCWD ? (dirfd == nil ? .unreadablePath : .cwdRelative) : nil
        case .string(let s)?:
            if s.utf8.first == UInt8(ascii: "/") { return .absolutePath }
            if atCWD { return .cwdRelative }
            return climbsAbove(s) ? .dotdotEscape : nil
        }
    }

    /// Whether a relative path climbs above its starting directory: a `..` component when the depth reached so
    /// far is 0. `.` and empty components (`a//b`) do not move; `..foo` and `foo..` are names.
    static func climbsAbove(_ path: String) -> Bool {
        var depth = 0
        var length = 0  // bytes in the current component
        var dots = 0  // leading dots in the current component, while it is only dots
        for b in path.utf8 {
            if b == UInt8(ascii: "/") {
                if let escaped = endComponent(length: length, dots: dots, depth: &depth), escaped { return true }
                length = 0; dots = 0
            } else {
                if b == UInt8(ascii: "."), dots == length { dots += 1 }
                length += 1
            }
        }
        return endComponent(length: length, dots: dots, depth: &depth) ?? false
    }

    /// Applies one component to `depth`; true when it climbs above the start.
    @inline(__always)
    private static func endComponent(length: Int, dots: Int, depth: inout Int) -> Bool? {
        if length == 0 || (length == 1 && dots == 1) { return false }
        if length == 2 && dots == 2 {
            if depth == 0 { return true }
            depth -= 1
            return false
        }
        depth += 1
        return false
    }

    static func isFexecve(_ call: DecodedCall, _ sc: Syscall) -> Bool {
        guard let d = sc.dirfdIndex, let f = sc.atFlagsIndex else { return false }
        guard arg(call, f) & AtFlags.AT_EMPTY_PATH != 0, !AtFlags.isFDCWD(arg(call, d)) else { return false }
        switch call.path {
        case .string(let s)?: return s.isEmpty
        case .null?: return true  // kernels >= 6.11 accept NULL with AT_EMPTY_PATH
        default: return false
        }
    }

    // MARK: - Processes

    /// A register as the kernel's `int`/`pid_t`.
    @inline(__always)
    static func int32(_ call: DecodedCall, _ i: Int) -> Int32 { Int32(truncatingIfNeeded: arg(call, i)) }

    /// Whether a positive id names the caller: the supervisor's answer when given, else pid/tid equality.
    @inline(__always)
    static func isSelf(_ id: Int32, _ call: DecodedCall) -> Bool {
        if let inGroup = call.targetInCallerGroup { return inGroup }
        return id == call.pid || id == call.tid
    }

    static func target(_ call: DecodedCall, _ shape: ProcessTarget) -> Verdict {
        let other = Verdict.violation(.process, .otherProcess)
        let group = Verdict.violation(.process, .processGroup)
        switch shape {
        case .kill:
            let pid = int32(call, 0)
            if pid <= 0 { return group }  // 0: own group, -1: everyone, < -1: a group
            return isSelf(pid, call) ? .allowed : other
        case .zeroIsSelf(let i):
            let id = int32(call, i)
            if id <= 0 { return .allowed }  // 0 is the caller; negative ids are EINVAL/ESRCH
            return isSelf(id, call) ? .allowed : other
        case .positive(let i):
            let id = int32(call, i)
            if id <= 0 { return .allowed }  // refused by the kernel: reaches nothing
            return isSelf(id, call) ? .allowed : other
        case .threadGroup:
            let tgid = int32(call, 0), tid = int32(call, 1)
            if tgid <= 0 || tid <= 0 { return .allowed }  // EINVAL
            if let inGroup = call.targetInCallerGroup { return inGroup ? .allowed : other }
            return tgid == call.pid ? .allowed : other
        case .priority(let process, let pgrp, let user):
            let which = int32(call, 0), who = int32(call, 1)
            if which == Int32(process) { return who == 0 || isSelf(who, call) ? .allowed : other }
            if which == Int32(pgrp) || which == Int32(user) { return group }
            return .allowed  // EINVAL
        case .setpgid:
            let pid = int32(call, 0), pgid = int32(call, 1)
            if pid < 0 || pgid < 0 { return .allowed }  // EINVAL
            if pid != 0 && !isSelf(pid, call) { return other }
            // Becoming the leader of a new group (pgid 0 or the own pid) is private; joining another is not.
            if pgid == 0 || pgid == call.pid || (pid != 0 && pgid == pid) { return .allowed }
            return group
        case .ptrace:
            if arg(call, 0) == 0 { return other }  // PTRACE_TRACEME: the parent gains control of the caller
            let pid = int32(call, 1)
            if pid <= 0 { return .allowed }  // ESRCH
            return isSelf(pid, call) ? .allowed : other
        case .kcmp:
            let a = int32(call, 0), b = int32(call, 1)
            if a <= 0 || b <= 0 { return .allowed }  // ESRCH
            // `targetInCallerGroup` answers for the first pid only; the second must equal it or the caller.
            let selfA = isSelf(a, call)
            let selfB = b == a ? selfA : (b == call.pid || b == call.tid)
            return selfA && selfB ? .allowed : other
        case .clock(let i):
            let clock = int32(call, i)
            if clock >= 0 { return .allowed }  // CLOCK_REALTIME, CLOCK_MONOTONIC, ...
            if clock & 7 == 3 { return .allowed }  // CLOCKFD: a dynamic clock through a held descriptor
            let pid = ~(clock >> 3)  // CPUCLOCK_PID: the encoding is ~pid << 3 | flags
            if pid == 0 { return .allowed }  // the caller's own process or thread CPU clock
            return isSelf(pid, call) ? .allowed : other
        }
    }

    // MARK: - Sockets and multiplexers

    /// Whether a bind/connect/send names an address: the supervisor's answer, else the registers.
    static func namesAddress(_ call: DecodedCall, _ sc: Syscall) -> Bool {
        if let has = call.hasAddress { return has }
        if let a = sc.index(of: .sockaddr), let l = sc.index(of: .sockaddrLen) {
            return arg(call, a) != 0 && arg(call, l) & 0xFFFF_FFFF != 0
        }
        return true  // msghdr in memory, unread: assume a destination
    }

    static func multiplexed(_ call: DecodedCall, _ sc: Syscall, policy: CapabilityPolicy) -> Verdict {
        let isSocket = sc.name == "socketcall"
        let sub = call.subcall ?? (isSocket ? Multiplexer.socketcallName(Int(int32(call, 0)))
                                            : Multiplexer.ipcName(Int(int32(call, 0))))
        guard let sub else { return .allowed }  // an unknown sub-call fails with EINVAL
        if sub == "send" || sub == "recv" { return .allowed }  // sub-calls only: sendto/recvfrom without an address
        if isSocket, sub == "socket" {
            // The family and type sit in the argument array: only the supervisor can have read them.
            guard let a = call.subcallArgs, a.count >= 2 else { return .allowed }
            return RawSockets.isRaw(family: Int32(truncatingIfNeeded: a[0]), type: Int32(truncatingIfNeeded: a[1]))
                ? .violation(.network, .rawSocket) : .allowed
        }
        if isSocket, Catalog.shared.syscall(named: sub)?.touches == .socketAddress {
            // bind, connect, sendto, sendmsg, sendmmsg: the address sits in socketcall's argument array, which
            // only the supervisor can have read.
            return call.hasAddress ?? true ? .violation(.network, .socketAddress) : .allowed
        }
        switch policy.entry(for: sub).decision {
        case .allow: return .allowed
        case .deny(let rule?): return .violation(rule.namespace, rule)
        case .deny(nil): return .violation(.filesystem, .unreadablePath)
        case .conditional: return .allowed  // no other multiplexed call is conditional
        }
    }
}

/// Raw IP and packet sockets, which capability mode refuses to create (FreeBSD: a protocol without
/// PR_CAPATTACH, recorded as CAPFAIL_PROTO). Netlink's SOCK_RAW is its ordinary datagram type and stays allowed.
public enum RawSockets {
    public static let AF_INET: Int32 = 2
    public static let AF_INET6: Int32 = 10
    public static let AF_PACKET: Int32 = 17
    public static let SOCK_RAW: Int32 = 3
    /// SOCK_TYPE_MASK: the type without SOCK_NONBLOCK/SOCK_CLOEXEC.
    public static let typeMask: Int32 = 0xf

    public static func isRaw(family: Int32, type: Int32) -> Bool {
        family == AF_PACKET || ((family == AF_INET || family == AF_INET6) && type & typeMask == SOCK_RAW)
    }

    /// The register tests under which a seccomp filter must stop `socket(family, type, protocol)` (ORed; each
    /// a conjunction): exactly the calls `isRaw` names, so other sockets never stop.
    public static let trapTests: [[ArgTest]] = [
        [ArgTest(index: 0, op: .maskedEqual(mask: 0xFFFF_FFFF), value: UInt64(AF_PACKET))],
        [ArgTest(index: 0, op: .maskedEqual(mask: 0xFFFF_FFFF), value: UInt64(AF_INET)),
         ArgTest(index: 1, op: .maskedEqual(mask: UInt64(typeMask)), value: UInt64(SOCK_RAW))],
        [ArgTest(index: 0, op: .maskedEqual(mask: 0xFFFF_FFFF), value: UInt64(AF_INET6)),
         ArgTest(index: 1, op: .maskedEqual(mask: UInt64(typeMask)), value: UInt64(SOCK_RAW))],
    ]
}
