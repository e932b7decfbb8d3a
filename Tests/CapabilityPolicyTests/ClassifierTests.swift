import CapabilityPolicy
import SyscallCatalog
import Testing
import TraceModel

/// The caller in every case: thread group 1000, thread 1001.
private let selfPid: Int32 = 1000
private let selfTid: Int32 = 1001
private let heldDir: UInt64 = 3
/// AT_FDCWD as `mov $-100, %edi` leaves it (zero-extended), and as a sign-extended 64-bit value.
private let cwd32: UInt64 = 0xFFFF_FF9C
private let cwd64 = UInt64(bitPattern: -100)
private let emptyPath: UInt64 = 0x1000  // AT_EMPTY_PATH
private let ptr: UInt64 = 0x7FFF_0000_1000

private func reg(_ v: Int32) -> UInt64 { UInt64(UInt32(bitPattern: v)) }

/// A decoded call as the supervisor would build it, by name and ABI.
private func call(_ name: String, abi: ABI = .x86_64, _ args: [UInt64] = [], path: PathArg? = nil,
                  path2: PathArg? = nil, hasAddress: Bool? = nil, subcall: String? = nil, resolve: UInt64? = nil,
                  cloneFlags: UInt64? = nil, inGroup: Bool? = nil) -> DecodedCall {
    let nr = Catalog.shared.number(of: name, abi: abi) ?? -1
    var c = DecodedCall(abi: abi, nr: nr, syscall: Catalog.shared.syscall(abi: abi, nr: nr),
                        args: args + [UInt64](repeating: 0, count: max(0, 6 - args.count)), pid: selfPid, tid: selfTid)
    c.path = path; c.path2 = path2; c.hasAddress = hasAddress; c.subcall = subcall; c.resolveFlags = resolve
    c.cloneFlags = cloneFlags; c.targetInCallerGroup = inGroup
    return c
}

struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let call: DecodedCall
    let expected: Verdict
    var testDescription: String { name }
    init(_ name: String, _ call: DecodedCall, _ expected: Verdict) { self.name = name; self.call = call; self.expected = expected }
}

private let allowed = Verdict.allowed
private func v(_ ns: Namespace, _ rule: Rule) -> Verdict { .violation(ns, rule) }
private let absolute = v(.filesystem, .absolutePath), cwdRel = v(.filesystem, .cwdRelative)
private let dotdot = v(.filesystem, .dotdotEscape), unreadable = v(.filesystem, .unreadablePath)
private let exec = v(.filesystem, .exec), address = v(.network, .socketAddress)
private let other = v(.process, .otherProcess), group = v(.process, .processGroup)
private let sysv = v(.ipc, .sysvIPC), mq = v(.ipc, .posixMQ), system = v(.system, .systemState)
private let uring = v(.bypass, .ioUring)
private let symlinkOut = v(.filesystem, .symlinkEscape), raw = v(.network, .rawSocket)

/// A call whose lookups beneath a held directory the supervisor resolved.
private func resolved(_ c: DecodedCall, _ r: BeneathResolution) -> DecodedCall { var c = c; c.beneath = r; return c }
private let s = PathArg.string

let filesystemCases: [Case] = [
    Case("openat relative to a held directory is allowed", call("openat", [heldDir, ptr], path: s("data/file")), allowed),
    Case("openat with AT_FDCWD zero-extended (low 32 bits = -100) is cwd-relative", call("openat", [cwd32, ptr], path: s("file")), cwdRel),
    Case("openat with AT_FDCWD sign-extended is cwd-relative", call("openat", [cwd64, ptr], path: s("file")), cwdRel),
    Case("openat reads only the low 32 bits of the dirfd", call("openat", [0x1_FFFF_FF9C, ptr], path: s("file")), cwdRel),
    Case("openat with an absolute path is absolute-path despite a held dirfd", call("openat", [heldDir, ptr], path: s("/etc/passwd")), absolute),
    Case("openat with AT_FDCWD and an absolute path is absolute-path", call("openat", [cwd32, ptr], path: s("/etc/hosts")), absolute),
    Case("openat climbing with .. is dotdot-escape", call("openat", [heldDir, ptr], path: s("../secret")), dotdot),
    Case("openat of .. alone is dotdot-escape", call("openat", [heldDir, ptr], path: s("..")), dotdot),
    Case("openat of ..foo is a name, not ..", call("openat", [heldDir, ptr], path: s("..foo")), allowed),
    Case("openat of foo.. and ... are names, not ..", call("openat", [heldDir, ptr], path: s("foo../...")), allowed),
    Case("openat of a/../b stays beneath the directory", call("openat", [heldDir, ptr], path: s("a/../b")), allowed),
    Case("openat of a/../../b climbs above the directory", call("openat", [heldDir, ptr], path: s("a/../../b")), dotdot),
    Case("openat of a/./..//b/.. ends where it started", call("openat", [heldDir, ptr], path: s("a/./..//b/..")), allowed),
    Case("openat of ./../x climbs above the directory", call("openat", [heldDir, ptr], path: s("./../x")), dotdot),
    Case("openat with an unreadable path pointer is unreadable-path", call("openat", [heldDir, ptr], path: .unreadable), unreadable),
    Case("openat whose path the supervisor did not supply is unreadable-path", call("openat", [heldDir, ptr]), unreadable),
    Case("newfstatat(fd, \"\", AT_EMPTY_PATH) is glibc's fstat: allowed",
         call("newfstatat", [heldDir, ptr, ptr, emptyPath], path: s("")), allowed),
    Case("newfstatat(AT_FDCWD, \"\", AT_EMPTY_PATH) names the working directory: cwd-relative",
         call("newfstatat", [cwd32, ptr, ptr, emptyPath], path: s("")), cwdRel),
    Case("newfstatat(fd, NULL, AT_EMPTY_PATH) on kernels >= 6.11 is allowed",
         call("newfstatat", [heldDir, 0, ptr, emptyPath], path: .null), allowed),
    Case("newfstatat with AT_EMPTY_PATH but an absolute path is absolute-path",
         call("newfstatat", [heldDir, ptr, ptr, emptyPath], path: s("/etc/passwd")), absolute),
    Case("statx on a descriptor with AT_EMPTY_PATH is allowed", call("statx", [heldDir, ptr, emptyPath, 0xfff, ptr], path: s("")), allowed),
    Case("i386 fstatat64 relative to a held directory is allowed",
         call("fstatat64", abi: .i386, [heldDir, ptr, ptr, 0], path: s("sub/file")), allowed),
    Case("utimensat(fd, NULL) is futimens: allowed", call("utimensat", [heldDir, 0, ptr, 0], path: .null), allowed),
    Case("utimensat(AT_FDCWD, NULL) names the working directory: cwd-relative", call("utimensat", [cwd32, 0, ptr, 0], path: .null), cwdRel),
    Case("renameat with an absolute second path is absolute-path",
         call("renameat", [heldDir, ptr, heldDir, ptr], path: s("a"), path2: s("/tmp/b")), absolute),
    Case("renameat2 with both paths beneath their directories is allowed",
         call("renameat2", [heldDir, ptr, 4, ptr, 0], path: s("a"), path2: s("b/c")), allowed),
    Case("renameat with the second dirfd AT_FDCWD is cwd-relative",
         call("renameat", [heldDir, ptr, cwd32, ptr], path: s("a"), path2: s("b")), cwdRel),
    Case("linkat whose first path escapes is dotdot-escape",
         call("linkat", [heldDir, ptr, heldDir, ptr, 0], path: s("../x"), path2: s("y")), dotdot),
    Case("symlinkat with an absolute target and a link beneath is allowed (the target is not looked up)",
         call("symlinkat", [ptr, heldDir, ptr], path: s("link")), allowed),
    Case("open with a relative path is cwd-relative", call("open", [ptr, 0], path: s("etc/x")), cwdRel),
    Case("open with an absolute path is absolute-path", call("open", [ptr, 0], path: s("/etc/resolv.conf")), absolute),
    Case("open with a NULL path faults: unreadable-path", call("open", [0, 0], path: .null), unreadable),
    Case("stat with an unreadable path is unreadable-path", call("stat", [ptr, ptr], path: .unreadable), unreadable),
    Case("chdir with a relative path is cwd-relative", call("chdir", [ptr], path: s("sub")), cwdRel),
    Case("i386 open (number 5) with an absolute path is absolute-path", call("open", abi: .i386, [ptr, 0], path: s("/etc/passwd")), absolute),
    Case("x32 openat relative to a held directory is allowed", call("openat", abi: .x32, [heldDir, ptr], path: s("f")), allowed),
    Case("openat2 with RESOLVE_BENEATH on a descriptor is allowed even with ..",
         call("openat2", [heldDir, ptr, ptr, 24], path: s("../x"), resolve: 0x08), allowed),
    Case("openat2 with RESOLVE_IN_ROOT on a descriptor is allowed even with an absolute path",
         call("openat2", [heldDir, ptr, ptr, 24], path: s("/etc/passwd"), resolve: 0x10), allowed),
    Case("openat2 with RESOLVE_BENEATH on AT_FDCWD is cwd-relative",
         call("openat2", [cwd32, ptr, ptr, 24], path: s("x"), resolve: 0x08), cwdRel),
    Case("openat2 without RESOLVE flags follows the path rules: .. escapes",
         call("openat2", [heldDir, ptr, ptr, 24], path: s("../x"), resolve: 0x04), dotdot),
    Case("execve is exec", call("execve", [ptr, ptr, ptr], path: s("/bin/sh")), exec),
    Case("execveat(fd, \"\", AT_EMPTY_PATH) is fexecve: allowed", call("execveat", [heldDir, ptr, ptr, ptr, emptyPath], path: s("")), allowed),
    Case("execveat of a name relative to a descriptor is exec", call("execveat", [heldDir, ptr, ptr, ptr, 0], path: s("prog")), exec),
    Case("execveat(AT_FDCWD, \"\", AT_EMPTY_PATH) is exec", call("execveat", [cwd32, ptr, ptr, ptr, emptyPath], path: s("")), exec),
    Case("getcwd reveals the working directory: cwd-relative", call("getcwd", [ptr, 4096]), cwdRel),
    Case("inotify_add_watch of an absolute path is absolute-path", call("inotify_add_watch", [5, ptr, 0x100], path: s("/etc")), absolute),
    Case("i386 fanotify_mark takes its dirfd from register 4: beneath is allowed",
         call("fanotify_mark", abi: .i386, [5, 1, 8, 0, heldDir, ptr], path: s("sub")), allowed),
    Case("i386 fanotify_mark with AT_FDCWD in register 4 is cwd-relative",
         call("fanotify_mark", abi: .i386, [5, 1, 8, 0, cwd32, ptr], path: s("sub")), cwdRel),
    Case("fchdir to a held descriptor is allowed", call("fchdir", [heldDir]), allowed),
    Case("read of a held descriptor is allowed", call("read", [0, ptr, 10]), allowed),
    Case("getxattr by path is a global lookup", call("getxattr", [ptr, ptr, ptr, 10], path: s("file")), cwdRel),
]

let networkCases: [Case] = [
    Case("socket(AF_INET, SOCK_RAW) is raw-socket", call("socket", [2, 3, 1]), raw),
    Case("socket(AF_INET6, SOCK_RAW|SOCK_CLOEXEC) is raw-socket", call("socket", [10, 3 | 0o2000000, 58]), raw),
    Case("socket(AF_PACKET, SOCK_DGRAM) is raw-socket", call("socket", [17, 2, 0]), raw),
    Case("socket(AF_INET, SOCK_STREAM) is allowed", call("socket", [2, 1, 0]), allowed),
    Case("socket(AF_NETLINK, SOCK_RAW) is allowed (netlink's datagram type)", call("socket", [16, 3, 0]), allowed),
    Case("socket(AF_UNIX, SOCK_DGRAM) is allowed", call("socket", [1, 2, 0]), allowed),
    Case("i386 socketcall(SYS_SOCKET) of a raw socket is raw-socket",
         { var c = call("socketcall", abi: .i386, [1, ptr], subcall: "socket"); c.subcallArgs = [2, 3, 1, 0, 0, 0]; return c }(), raw),
    Case("i386 socketcall(SYS_SOCKET) of a TCP socket is allowed",
         { var c = call("socketcall", abi: .i386, [1, ptr], subcall: "socket"); c.subcallArgs = [2, 1, 0, 0, 0, 0]; return c }(), allowed),
    Case("bind with an address is socket-address", call("bind", [3, ptr, 16], hasAddress: true), address),
    Case("connect with an address is socket-address", call("connect", [3, ptr, 16], hasAddress: true), address),
    Case("connect with a NULL address is allowed (it fails and names nothing)", call("connect", [3, 0, 0], hasAddress: false), allowed),
    Case("connect with no supervisor answer reads the registers", call("connect", [3, ptr, 110]), address),
    Case("sendto without a destination (connected socket) is allowed", call("sendto", [3, ptr, 10, 0, 0, 0]), allowed),
    Case("sendto with a destination is socket-address", call("sendto", [3, ptr, 10, 0, ptr, 16]), address),
    Case("sendto with an address pointer but zero length is allowed", call("sendto", [3, ptr, 10, 0, ptr, 0]), allowed),
    Case("sendmsg with msg_name is socket-address", call("sendmsg", [3, ptr, 0], hasAddress: true), address),
    Case("sendmsg on a connected socket is allowed", call("sendmsg", [3, ptr, 0], hasAddress: false), allowed),
    Case("sendmmsg whose headers were not read is assumed to carry an address", call("sendmmsg", [3, ptr, 2, 0]), address),
    Case("socket is allowed", call("socket", [2, 2, 0]), allowed),
    Case("listen and accept4 are allowed", call("accept4", [3, 0, 0, 0]), allowed),
    Case("i386 socketcall(connect) with an address is socket-address",
         call("socketcall", abi: .i386, [3, ptr], hasAddress: true, subcall: "connect"), address),
    Case("i386 socketcall(SYS_SENDTO) decoded from register 0 without an address is allowed",
         call("socketcall", abi: .i386, [11, ptr], hasAddress: false), allowed),
    Case("i386 socketcall(SYS_SOCKET) is allowed", call("socketcall", abi: .i386, [1, ptr]), allowed),
    Case("i386 socketcall(SYS_SEND) has no address: allowed", call("socketcall", abi: .i386, [9, ptr]), allowed),
    Case("i386 direct connect syscall with an address is socket-address", call("connect", abi: .i386, [3, ptr, 16]), address),
]

let processCases: [Case] = [
    Case("kill of the caller itself is allowed", call("kill", [reg(selfPid), 15]), allowed),
    Case("kill of another pid is other-process", call("kill", [1234, 9]), other),
    Case("kill(0) reaches the caller's process group", call("kill", [0, 15]), group),
    Case("kill(-1) reaches every process", call("kill", [reg(-1), 9]), group),
    Case("kill(-pgid) reaches a process group", call("kill", [reg(-4242), 9]), group),
    Case("kill of a pid the supervisor places in the caller's group is allowed", call("kill", [77, 10], inGroup: true), allowed),
    Case("tgkill of a thread of the caller is allowed", call("tgkill", [reg(selfPid), reg(selfTid), 6]), allowed),
    Case("tgkill of another thread group is other-process", call("tgkill", [1234, 1235, 6]), other),
    Case("tkill of the caller's own thread is allowed", call("tkill", [reg(selfTid), 10]), allowed),
    Case("tkill of another thread is other-process", call("tkill", [999, 10]), other),
    Case("tkill(0) is refused by the kernel and reaches nothing", call("tkill", [0, 10]), allowed),
    Case("rt_sigqueueinfo to another process is other-process", call("rt_sigqueueinfo", [1234, 10, ptr]), other),
    Case("rt_tgsigqueueinfo to the caller is allowed", call("rt_tgsigqueueinfo", [reg(selfPid), reg(selfPid), 10, ptr]), allowed),
    Case("pidfd_open of the caller is allowed", call("pidfd_open", [reg(selfPid), 0]), allowed),
    Case("pidfd_open of another pid is other-process", call("pidfd_open", [1, 0]), other),
    Case("pidfd_send_signal through a held pidfd is allowed", call("pidfd_send_signal", [7, 15, 0, 0]), allowed),
    Case("ptrace(PTRACE_TRACEME) hands the caller to its parent: other-process", call("ptrace", [0, 0, 0, 0]), other),
    Case("ptrace(PTRACE_ATTACH) of another pid is other-process", call("ptrace", [16, 1234, 0, 0]), other),
    Case("process_vm_readv of another pid is other-process", call("process_vm_readv", [1234, ptr, 1, ptr, 1, 0]), other),
    Case("process_vm_writev of the caller is allowed", call("process_vm_writev", [reg(selfPid), ptr, 1, ptr, 1, 0]), allowed),
    Case("sched_setaffinity(0) is the caller: allowed", call("sched_setaffinity", [0, 128, ptr]), allowed),
    Case("sched_getaffinity of the caller's tid is allowed", call("sched_getaffinity", [reg(selfTid), 128, ptr]), allowed),
    Case("sched_setscheduler of another pid is other-process", call("sched_setscheduler", [1234, 1, ptr]), other),
    Case("prlimit64(0) is the caller: allowed", call("prlimit64", [0, 7, 0, ptr]), allowed),
    Case("prlimit64 of another pid is other-process", call("prlimit64", [1234, 7, ptr, 0]), other),
    Case("getpriority(PRIO_PROCESS, 0) is the caller: allowed", call("getpriority", [0, 0]), allowed),
    Case("setpriority(PRIO_PROCESS, other) is other-process", call("setpriority", [0, 1234, 5]), other),
    Case("setpriority(PRIO_PGRP, 0) reaches the process group", call("setpriority", [1, 0, 5]), group),
    Case("setpriority(PRIO_USER, uid) reaches every process of a user", call("setpriority", [2, 1000, 5]), group),
    Case("ioprio_set(IOPRIO_WHO_PROCESS, 0) is the caller: allowed", call("ioprio_set", [1, 0, 0x4000]), allowed),
    Case("ioprio_get(IOPRIO_WHO_PGRP, 0) reaches the process group", call("ioprio_get", [2, 0]), group),
    Case("getpgid(0) is the caller: allowed", call("getpgid", [0]), allowed),
    Case("getsid of another pid is other-process", call("getsid", [1]), other),
    Case("setpgid(0, 0) makes the caller a group leader: allowed", call("setpgid", [0, 0]), allowed),
    Case("setpgid(0, pgid) joins another group: process-group", call("setpgid", [0, 555]), group),
    Case("setpgid of a child is other-process", call("setpgid", [1234, 1234]), other),
    Case("kcmp of the caller with itself is allowed", call("kcmp", [reg(selfPid), reg(selfPid), 0, 1, 2]), allowed),
    Case("kcmp with another pid is other-process", call("kcmp", [reg(selfPid), 1234, 0, 1, 2]), other),
    Case("kcmp's second pid is checked even when the first is in the caller's group",
         call("kcmp", [reg(selfPid), 1234, 0, 1, 2], inGroup: true), other),
    Case("clock_gettime(CLOCK_MONOTONIC) is allowed", call("clock_gettime", [1, ptr]), allowed),
    Case("clock_gettime of another process's CPU clock is other-process",
         call("clock_gettime", [reg((~Int32(1234) << 3) | 2), ptr]), other),
    Case("clock_gettime of the caller's CPU clock by pid 0 is allowed", call("clock_gettime", [reg((~Int32(0) << 3) | 2), ptr]), allowed),
    Case("clock_gettime of a clock descriptor (CLOCKFD) is allowed", call("clock_gettime", [reg((~Int32(5) << 3) | 3), ptr]), allowed),
    Case("wait4 for any child is allowed: only own children are reachable", call("wait4", [reg(-1), ptr, 0, 0]), allowed),
    Case("waitid is allowed", call("waitid", [0, 0, ptr, 4, 0]), allowed),
    Case("fork is allowed: the child inherits capability mode", call("fork"), allowed),
    Case("clone of a thread is allowed", call("clone", [0x003D_0F00, ptr, ptr, ptr, ptr]), allowed),
    Case("clone's exit-signal byte is not CLONE_NEWTIME", call("clone", [0x91, 0, 0, 0, 0]), allowed),
    Case("clone with CLONE_NEWNET is unshare: system-state", call("clone", [0x4000_0000 | 17, 0, 0, 0, 0]), system),
    Case("clone3 with CLONE_NEWUSER in clone_args is system-state", call("clone3", [ptr, 88], cloneFlags: 0x1000_0000), system),
    Case("clone3 whose clone_args were not read is allowed", call("clone3", [ptr, 88]), allowed),
]

let ipcSystemBypassCases: [Case] = [
    Case("shmget looks up a global key: sysv-ipc", call("shmget", [0x1234, 4096, 0o600]), sysv),
    Case("semget is sysv-ipc", call("semget", [0x1234, 1, 0]), sysv),
    Case("msgget is sysv-ipc", call("msgget", [0, 0]), sysv),
    Case("shmat on a global id is sysv-ipc", call("shmat", [7, 0, 0]), sysv),
    Case("shmdt names only own memory: allowed", call("shmdt", [ptr]), allowed),
    Case("i386 ipc(SHMGET) decoded from register 0 is sysv-ipc", call("ipc", abi: .i386, [23, 0, 4096, 0, 0, 0]), sysv),
    Case("i386 ipc(SHMDT) is allowed", call("ipc", abi: .i386, [22, 0, 0, 0, ptr, 0]), allowed),
    Case("mq_open is posix-mq", call("mq_open", [ptr, 0o102, 0o600, 0]), mq),
    Case("mq_unlink is posix-mq", call("mq_unlink", [ptr]), mq),
    Case("mq_timedsend on a held queue descriptor is allowed", call("mq_timedsend", [4, ptr, 3, 0, 0]), allowed),
    Case("memfd_create is anonymous: allowed", call("memfd_create", [ptr, 1]), allowed),
    Case("mount is system-state", call("mount", [ptr, ptr, ptr, 0, 0]), system),
    Case("umount2 is system-state", call("umount2", [ptr, 0]), system),
    Case("init_module is system-state", call("init_module", [ptr, 10, ptr]), system),
    Case("reboot is system-state", call("reboot", [0xfee1dead, 672274793, 0x4321FEDC, 0]), system),
    Case("settimeofday is system-state", call("settimeofday", [ptr, 0]), system),
    Case("clock_settime is system-state", call("clock_settime", [0, ptr]), system),
    Case("sethostname is system-state", call("sethostname", [ptr, 4]), system),
    Case("chroot is system-state", call("chroot", [ptr], path: s("/tmp")), system),
    Case("pivot_root is system-state", call("pivot_root", [ptr, ptr]), system),
    Case("unshare is system-state", call("unshare", [0x2_0000]), system),
    Case("setns is system-state", call("setns", [5, 0]), system),
    Case("bpf is system-state", call("bpf", [0, ptr, 120]), system),
    Case("perf_event_open is system-state", call("perf_event_open", [ptr, 0, reg(-1), reg(-1), 0]), system),
    Case("keyctl is system-state", call("keyctl", [0, 0, 0, 0, 0]), system),
    Case("syslog is system-state", call("syslog", [3, ptr, 100]), system),
    Case("i386 stime is system-state", call("stime", abi: .i386, [ptr]), system),
    Case("io_uring_setup is bypass", call("io_uring_setup", [8, ptr]), uring),
    Case("openat whose resolution leaves the held directory is symlink-escape",
         resolved(call("openat", [heldDir, ptr], path: s("link")), .escapes(to: "/etc/passwd")), symlinkOut),
    Case("openat whose resolution stays beneath is allowed",
         resolved(call("openat", [heldDir, ptr], path: s("link")), .stays), allowed),
    Case("an escape found for the second path of renameat is symlink-escape",
         resolved(call("renameat", [heldDir, ptr, heldDir, ptr], path: s("a"), path2: s("d/b")), .escapes(to: nil)), symlinkOut),
    Case("an absolute path stays absolute-path whatever the resolution says",
         resolved(call("openat", [heldDir, ptr], path: s("/etc/passwd")), .escapes(to: "/etc/passwd")), absolute),
    Case("io_uring_enter is bypass", call("io_uring_enter", [5, 1, 0, 0, 0, 0]), uring),
    Case("a syscall number the catalog does not know is denied (system-state)",
         DecodedCall(abi: .x86_64, nr: 462, syscall: nil, args: [0, 0, 0, 0, 0, 0], pid: selfPid, tid: selfTid), system),
]

@Suite struct ClassifierTable {
    @Test(arguments: filesystemCases) func filesystem(_ c: Case) { #expect(Classifier.classify(c.call) == c.expected, "\(c.name)") }
    @Test(arguments: networkCases) func network(_ c: Case) { #expect(Classifier.classify(c.call) == c.expected, "\(c.name)") }
    @Test(arguments: processCases) func process(_ c: Case) { #expect(Classifier.classify(c.call) == c.expected, "\(c.name)") }
    @Test(arguments: ipcSystemBypassCases) func ipcSystemBypass(_ c: Case) {
        #expect(Classifier.classify(c.call) == c.expected, "\(c.name)")
    }

    @Test func theTableIsLargeAndCoversEveryNamespaceAndRule() {
        let all = filesystemCases + networkCases + processCases + ipcSystemBypassCases
        #expect(all.count >= 60)
        #expect(Set(all.map(\.name)).count == all.count, "case names must be unique")
        var rules = Set<Rule>(), namespaces = Set<Namespace>()
        for c in all { if case .violation(let ns, let r) = c.expected { rules.insert(r); namespaces.insert(ns) } }
        // Every capability-mode namespace and rule; `policy`/`seccomp-profile` are run --policy's, never the classifier's.
        #expect(namespaces == Set(Namespace.allCases).subtracting([.policy]))
        #expect(rules == Set(Rule.allCases).subtracting([.seccompProfile]))
        for c in all { #expect(c.call.syscall != nil || c.call.nr == 462, "\(c.name): unknown syscall in the test") }
    }
}

@Suite struct LookupsBeneath {
    func lookups(_ c: DecodedCall) -> [String] {
        Classifier.lookupsBeneath(c).map { "\($0.dirfd) \($0.path) \($0.followLast ? "follow" : "nofollow")" }
    }

    @Test func onlyLookupsThePathStringAllowsAreResolved() {
        #expect(lookups(call("openat", [heldDir, ptr, 0], path: s("a/link"))) == ["3 a/link follow"])
        #expect(lookups(call("openat", [heldDir, ptr, 0o400000], path: s("link"))).isEmpty, "O_NOFOLLOW, one component")
        #expect(lookups(call("openat", [heldDir, ptr, 0o400000], path: s("d/link"))) == ["3 d/link nofollow"])
        #expect(lookups(call("openat", [heldDir, ptr, 0o100 | 0o200], path: s("d/new"))) == ["3 d/new nofollow"])
        #expect(lookups(call("openat", [cwd32, ptr, 0], path: s("link"))).isEmpty, "AT_FDCWD is already a violation")
        #expect(lookups(call("openat", [heldDir, ptr, 0], path: s("/etc"))).isEmpty)
        #expect(lookups(call("openat", [heldDir, ptr, 0], path: s("../x"))).isEmpty)
        #expect(lookups(call("newfstatat", [heldDir, ptr, ptr, emptyPath], path: s(""))).isEmpty, "fstat")
        #expect(lookups(call("openat2", [heldDir, ptr, ptr, 24], path: s("link"), resolve: 0x08)).isEmpty,
                "RESOLVE_BENEATH: the kernel confines it")
        #expect(lookups(call("read", [3, ptr, 1])).isEmpty)
    }

    @Test func theLastComponentIsFollowedAsTheKernelDoes() {
        #expect(lookups(call("newfstatat", [heldDir, ptr, ptr, 0x100], path: s("d/link"))) == ["3 d/link nofollow"])
        #expect(lookups(call("newfstatat", [heldDir, ptr, ptr, 0], path: s("link"))) == ["3 link follow"])
        #expect(lookups(call("unlinkat", [heldDir, ptr, 0], path: s("link"))).isEmpty, "one component, not followed")
        #expect(lookups(call("unlinkat", [heldDir, ptr, 0], path: s("d/link"))) == ["3 d/link nofollow"])
        #expect(lookups(call("readlinkat", [heldDir, ptr, ptr, 10], path: s("link"))).isEmpty)
        #expect(lookups(call("linkat", [heldDir, ptr, 4, ptr, 0x400], path: s("l"), path2: s("n/m")))
                == ["3 l follow", "4 n/m nofollow"])
        #expect(lookups(call("name_to_handle_at", [heldDir, ptr, ptr, ptr, 0], path: s("d/l"))) == ["3 d/l nofollow"])
    }
}

@Suite struct PathComponents {
    @Test(arguments: [
        ("a", false), ("", false), (".", false), ("..", true), ("../", true), ("a/..", false), ("a/../..", true),
        ("..foo", false), ("foo..", false), ("...", false), ("a//..//..", true), ("./.", false), ("a/b/../../c", false),
        ("a/b/../../../c", true), (".../..", false), ("x/.hidden/..", false),
    ])
    func dotdotDepth(path: String, escapes: Bool) {
        let c = call("openat", [heldDir, ptr], path: .string(path))
        #expect(Classifier.classify(c) == (escapes ? dotdot : allowed), "\(path)")
    }
}
