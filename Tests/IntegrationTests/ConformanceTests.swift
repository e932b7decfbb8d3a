// Conformance with Capsicum's own expectations: the cases of Google's capsicum-test (capmode.cc, openat.cc) and
// FreeBSD's ktrace tests (tests/sys/kern/ktrace_test.c) that apply on Linux, run by Fixtures/run/capsicum.c on
// both backends. Observe mode records exactly the expected calls, in order, with the expected rule, and changes
// nothing the program sees; enforce mode fails exactly those with the deny errno and lets the others work.
// Where captrace differs from FreeBSD on purpose, the case says so (README: "Conformance with capsicum-test").
import Foundation
import Testing
import TraceModel

/// One case of the fixture: its name (the key it prints), the violation it must record (nil: allowed), and what
/// an allowed case returns when it runs.
struct ConformanceCase: Sendable {
    let name: String
    let violation: (syscall: String, rule: Rule)?
    let allowed: String
    /// Allowed calls that notify enforce mode refuses today (NotifyEnforcement confines only openat/openat2,
    /// newfstatat and statx; see the test).

    static func v(_ name: String, _ syscall: String, _ rule: Rule) -> ConformanceCase {
        ConformanceCase(name: name, violation: (syscall, rule), allowed: "")
    }
    static func ok(_ name: String, _ outcome: String = "ok") -> ConformanceCase {
        ConformanceCase(name: name, violation: nil, allowed: outcome)
    }
}

/// In the fixture's order.
let conformanceCases: [ConformanceCase] = [
    // capmode.cc DisallowedFileSyscalls (chflags, getfsstat and revoke have no Linux counterpart).
    .v("access", "access", .absolutePath),
    .v("acct", "acct", .systemState),
    .v("chdir", "chdir", .absolutePath),
    .v("chmod", "chmod", .absolutePath),
    .v("chown", "chown", .absolutePath),
    .v("chroot", "chroot", .systemState),
    .v("creat", "creat", .absolutePath),
    .ok("fchdir"),  // deviation: FreeBSD refuses fchdir; it names a held descriptor, later AT_FDCWD lookups are recorded
    .v("link", "link", .absolutePath),
    .v("lstat", "lstat", .absolutePath),
    .v("mknod", "mknod", .absolutePath),
    .v("mount", "mount", .systemState),
    .v("open", "open", .absolutePath),
    .v("readlink", "readlink", .absolutePath),
    .v("stat", "stat", .absolutePath),
    .v("symlink", "symlink", .absolutePath),
    .v("unlink", "unlink", .absolutePath),
    .v("umount2", "umount2", .systemState),
    // capmode.cc DisallowedSocketSyscalls, AllowedSocketSyscallsIfRoot (raw protocols), AllowedSocketSyscalls.
    .v("bind", "bind", .socketAddress),
    .v("connect", "connect", .socketAddress),
    .v("socket_raw_icmp", "socket", .rawSocket),
    .v("socket_raw_icmpv6", "socket", .rawSocket),
    .v("socket_packet", "socket", .rawSocket),
    .v("socket_i386_raw", "socket", .rawSocket),
    .v("socket_socketcall_raw", "socketcall", .rawSocket),
    .ok("socket_socketcall_tcp"),
    .ok("socket_tcp"),
    .ok("socket_udp6"),
    .ok("socket_netlink_raw"),  // deviation: FreeBSD's AF_ROUTE raw socket is refused; netlink's SOCK_RAW is its datagram type
    .ok("socketpair"),
    // capmode.cc Allowed{Identifier,Sched,Timer,Resource,Mmap,Pipe,Misc}Syscalls (most never stop: the filter passes them).
    .ok("getresuid"), .ok("setresuid_same"), .ok("sched_getparam_self"), .ok("sched_yield"), .ok("clock_gettime"),
    .ok("getitimer"), .ok("setpriority_self"), .ok("getrlimit"), .ok("setrlimit"), .ok("mmap"), .ok("mprotect"),
    .ok("munmap"), .ok("pipe2"), .ok("kill_self"),
    // capmode.cc AllowedAtSyscalls.
    .ok("at_fstatat"),
    .ok("at_mkdirat"), .ok("at_fchmodat"), .ok("at_faccessat"), .ok("at_renameat"), .ok("at_renameat_back"),
    .ok("at_futimesat"), .ok("at_fchownat"), .ok("at_linkat"), .ok("at_symlinkat"), .ok("at_readlinkat"),
    .ok("at_unlinkat"), .ok("at_unlinkat_dir"),
    // capmode.cc AllowedAtSyscallsCwd.
    .v("cwd_openat", "openat", .cwdRelative),
    .v("cwd_fstatat", "newfstatat", .cwdRelative),
    .v("cwd_mkdirat", "mkdirat", .cwdRelative),
    .v("cwd_unlinkat", "unlinkat", .cwdRelative),
    // capmode.cc AllowedMiscSyscalls.
    .v("ptrace_peekdata", "ptrace", .otherProcess),
    .ok("wait4_child"),  // deviation: FreeBSD refuses waitpid in capability mode; it reaches only the caller's children
    // openat.cc CheckPolicing, in capability mode.
    .ok("open_topfile"), .ok("open_down"), .ok("open_sub_bottomfile"), .ok("open_sub_dot"),
    .v("open_sub_dotdot_topfile", "openat", .dotdotEscape),
    .v("open_sub_dotdot_bottomfile", "openat", .dotdotEscape),
    .v("open_sub_dotdot", "openat", .dotdotEscape),
    .ok("open_dotdot_within"),
    .v("open_dotdot_via_subdir", "openat", .dotdotEscape),
    .ok("open_symlink_samedir"), .ok("open_symlink_down"),
    .v("open_symlink_absolute_in", "openat", .symlinkEscape),
    .v("open_symlink_absolute_out", "openat", .symlinkEscape),
    .v("open_symlink_relative_in", "openat", .symlinkEscape),
    .v("open_symlink_relative_out", "openat", .symlinkEscape),
    .v("open_sub_symlink_up", "openat", .symlinkEscape),
    .ok("open_dsymlink_samedir"), .ok("open_dsymlink_down"),
    .v("open_dsymlink_absolute_in", "openat", .symlinkEscape),
    .v("open_dsymlink_absolute_out", "openat", .symlinkEscape),
    .v("open_dsymlink_relative_in", "openat", .symlinkEscape),
    .v("open_dsymlink_relative_out", "openat", .symlinkEscape),
    .v("open_sub_dsymlink_up", "openat", .symlinkEscape),
    .ok("open_nofollow_samedir", "ELOOP"), .ok("open_nofollow_down", "ELOOP"),
    // Beyond openat.cc: a last component not followed is no escape; a magic link is one.
    .ok("open_nofollow_absolute_out", "ELOOP"),
    .ok("open_path_nofollow_absolute_out"),
    .ok("fstatat_nofollow_absolute_out"),
    .v("fstatat_absolute_out", "newfstatat", .symlinkEscape),
    .ok("readlinkat_absolute_out"),
    .v("fstatat_dsymlink_absolute_out", "newfstatat", .symlinkEscape),
    .v("open_magic_link", "openat", .symlinkEscape),
    // openat.cc InCapabilityMode.
    .v("open_cwd_topfile", "openat", .cwdRelative),
    .v("open_cwd_absolute", "openat", .absolutePath),
    .v("open_dir_absolute", "openat", .absolutePath),
    .v("open_sub_absolute", "openat", .absolutePath),
    // ktrace_test.c: CAPFAIL_SYSCALL, _SIGNAL, _PROTO, _SOCKADDR, _NAMEI (twice), _CPUSET, shm_open.
    .v("ktrace_chdir", "chdir", .cwdRelative),
    .v("ktrace_kill", "kill", .otherProcess),
    .v("ktrace_socket_raw", "socket", .rawSocket),
    .v("ktrace_sendto", "sendto", .socketAddress),
    .v("ktrace_openat_fdcwd", "openat", .cwdRelative),
    .v("ktrace_openat_root", "openat", .absolutePath),
    .ok("ktrace_getaffinity_self"),
    .v("ktrace_setaffinity", "sched_setaffinity", .otherProcess),
    .v("ktrace_shm_open", "openat", .absolutePath),  // glibc's shm_open opens /dev/shm/NAME
    .v("ktrace_shm_unlink", "unlink", .absolutePath),
    .ok("waitpid_child"),
]

@Suite("run: conformance with capsicum-test and FreeBSD's ktrace tests")
struct ConformanceTests {
    static let expected = conformanceCases.compactMap { c in c.violation.map { "\($0.syscall) \($0.rule.rawValue)" } }

    static func recorded(_ r: RunResult) -> [String] { r.violations.map { "\($0.syscall) \($0.rule.rawValue)" } }

    @Test("observe: exactly the expected calls are recorded, with their rule; the program runs unchanged",
          arguments: backends)
    func observe(backend: String) throws {
        let w = try Workdir("conformance-observe")
        let r = try Harness.run([try Harness.fixture("capsicum", "-no-pie")], backend: backend, options: ["--enter-at", capEnter],
                                in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        #expect(Self.recorded(r) == Self.expected, "\(r.digest)")
        for c in conformanceCases where c.violation == nil {
            #expect(r.value(c.name) == c.allowed, "\(c.name): \(r.value(c.name) ?? "not printed")\n\(r.stdout)")
        }
        // The raw sockets and the escapes happen in observe mode (captrace is root here, so raw sockets open).
        #expect(r.value("open_symlink_absolute_out") == "ok")
        #expect(r.violations.allSatisfy { $0.action == .allowed })
        // An escape records the path as written (args) and where it led.
        let escapes = r.violations.filter { $0.rule == .symlinkEscape }
        #expect(escapes.count == 13, "\(r.digest)")
        let out = try #require(escapes.first { $0.arg("pathname") == .string("symlink.absolute_out") })
        #expect(out.resolved == "/etc/passwd", "\(RunResult.describe(out))")
        #expect(out.path == r.cwd + "/top/symlink.absolute_out")
        let magic = try #require(escapes.last)
        #expect(magic.resolved == r.cwd + "/top", "a magic link to the held directory: \(RunResult.describe(magic))")
    }

    @Test("enforce: the expected calls fail with the deny errno and are recorded; the others work",
          arguments: backends)
    func enforce(backend: String) throws {
        let w = try Workdir("conformance-enforce")
        let r = try Harness.run([try Harness.fixture("capsicum", "-no-pie")], backend: backend,
                                options: ["--enter-at", capEnter, "--mode", "enforce", "--deny-errno", "EACCES"], in: w)
        expectRun(r, backend: backend, trigger: capEnter, mode: "enforce")
        #expect(Self.recorded(r) == Self.expected, "\(r.digest)")
        for v in r.violations {
            #expect(v.action == .denied && v.errno == "EACCES", "\(RunResult.describe(v))")
        }
        for c in conformanceCases {
            let seen = r.value(c.name)
            if c.violation != nil {
                #expect(seen == "EACCES", "\(c.name) was not denied: \(seen ?? "not printed")")
            } else {
                #expect(seen == c.allowed, "\(c.name): \(seen ?? "not printed"), expected \(c.allowed)")
            }
        }
    }
}
