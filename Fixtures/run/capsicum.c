/* capsicum.c — the capability-mode conformance cases that apply on Linux, after the expectations of Google's
 * capsicum-test (capmode.cc, openat.cc) and FreeBSD's tests/sys/kern/ktrace_test.c, written anew for captrace.
 *
 * Before cap_enter() (--enter-at symbol:cap_enter) it builds, in the current directory:
 *   top/topfile  top/subdir/bottomfile
 *   top/symlink.samedir -> topfile            top/dsymlink.samedir -> ./
 *   top/symlink.down -> subdir/bottomfile     top/dsymlink.down -> subdir/
 *   top/symlink.absolute_in -> <cwd>/top/topfile   top/dsymlink.absolute_in -> <cwd>/top/
 *   top/symlink.absolute_out -> /etc/passwd   top/dsymlink.absolute_out -> /etc/
 *   top/symlink.relative_in -> ../..(to /)<cwd>/top/topfile    top/dsymlink.relative_in -> ../..<cwd>/top/
 *   top/symlink.relative_out -> ../..(to /)etc/passwd          top/dsymlink.relative_out -> ../..etc/
 *   top/subdir/symlink.up -> ../topfile       top/subdir/dsymlink.up -> ../
 * and holds: dir = top, sub = top/subdir, fds = /proc/self/fd (a directory of magic links), a UDP and a TCP
 * socket, and a child (blocked on a pipe) to name as "another process".
 *
 * Built with -no-pie (the i386 socketcall cases pass a pointer through int 0x80).
 * After entry it makes one call per case, each with syscall(2) so that the syscall is exactly the one named,
 * and prints one line per case: NAME=ok or NAME=ERRNONAME. The expectations (which cases are violations, with
 * which syscall and rule) live in Tests/IntegrationTests/ConformanceTests.swift, in the same order: the test
 * reads the trace's violations in order of the cases. Paths that do not exist make the global calls (acct,
 * chroot, mount) fail harmlessly when captrace lets them run (observe mode) even as root.
 * Exit status 0.
 */
#include "fixture.h"
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static char top[PATH_MAX];
/* socketcall's argument array for the i386 ABI: built with -no-pie, so it lies in the low 4 GB. */
static unsigned int socketcall_args[3];

static long int80(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    if (r < 0 && r > -4096) { errno = (int)-r; return -1; }
    return r;
}
static int dir, sub, fds;

static void report(const char *name, long r) {
    printf("%s=%s\n", name, outcome(r));
    if (r >= 0 && (strncmp(name, "open", 4) == 0 || strncmp(name, "socket", 6) == 0 || strncmp(name, "cwd_open", 8) == 0
                   || strncmp(name, "ktrace_open", 11) == 0 || strncmp(name, "ktrace_shm_open", 15) == 0))
        close((int)r);
}

/* An absolute path in the work directory that does not exist. */
static const char *missing(const char *name) {
    static char p[8][PATH_MAX + 64];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/missing-%s", cwd(), name);
    return p[i];
}

static void openat_case(const char *name, int dfd, const char *path, int flags) {
    report(name, syscall(SYS_openat, dfd, path, flags | O_CLOEXEC, 0));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    snprintf(top, sizeof top, "%s/top", cwd());
    /* The path from top/ back up to the root: one ".." per component of top. */
    char up[PATH_MAX] = "";
    for (const char *c = top; *c; c++) if (*c == '/') strcat(up, "../");
    char target[2 * PATH_MAX + 64];

    CHECK(mkdir("top", 0755) == 0 && mkdir("top/subdir", 0755) == 0);
    int t = open("top/topfile", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0); close(t);
    t = open("top/subdir/bottomfile", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0); close(t);
    CHECK(symlink("topfile", "top/symlink.samedir") == 0);
    CHECK(symlink("subdir/bottomfile", "top/symlink.down") == 0);
    snprintf(target, sizeof target, "%s/topfile", top);
    CHECK(symlink(target, "top/symlink.absolute_in") == 0);
    CHECK(symlink("/etc/passwd", "top/symlink.absolute_out") == 0);
    snprintf(target, sizeof target, "%s%s/topfile", up, top + 1);
    CHECK(symlink(target, "top/symlink.relative_in") == 0);
    snprintf(target, sizeof target, "%setc/passwd", up);
    CHECK(symlink(target, "top/symlink.relative_out") == 0);
    CHECK(symlink("../topfile", "top/subdir/symlink.up") == 0);
    CHECK(symlink("./", "top/dsymlink.samedir") == 0);
    CHECK(symlink("subdir/", "top/dsymlink.down") == 0);
    snprintf(target, sizeof target, "%s/", top);
    CHECK(symlink(target, "top/dsymlink.absolute_in") == 0);
    CHECK(symlink("/etc/", "top/dsymlink.absolute_out") == 0);
    snprintf(target, sizeof target, "%s%s/", up, top + 1);
    CHECK(symlink(target, "top/dsymlink.relative_in") == 0);
    snprintf(target, sizeof target, "%setc/", up);
    CHECK(symlink(target, "top/dsymlink.relative_out") == 0);
    CHECK(symlink("../", "top/subdir/dsymlink.up") == 0);
    CHECK((dir = open("top", O_RDONLY | O_DIRECTORY)) >= 0);
    CHECK((sub = open("top/subdir", O_RDONLY | O_DIRECTORY)) >= 0);
    CHECK((fds = open("/proc/self/fd", O_RDONLY | O_DIRECTORY)) >= 0);
    int udp = socket(AF_INET, SOCK_DGRAM, 0), udp2 = socket(AF_INET, SOCK_DGRAM, 0);
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(udp >= 0 && udp2 >= 0 && tcp >= 0);
    struct sockaddr_in loopback = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(bind(udp, (struct sockaddr *)&loopback, sizeof loopback) == 0);
    socklen_t len = sizeof loopback;
    CHECK(getsockname(udp, (struct sockaddr *)&loopback, &len) == 0);  /* sendto goes to this bound port */
    struct sockaddr_in closed = { .sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int hold[2];
    CHECK(pipe(hold) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        char c;
        close(hold[1]);
        while (read(hold[0], &c, 1) > 0) {}
        _exit(0);
    }
    close(hold[0]);
    struct stat st;
    char buf[PATH_MAX];

    cap_enter();

    /* capmode.cc, DisallowedFileSyscalls: global path lookups and global state. */
    report("access", syscall(SYS_access, missing("access"), F_OK));
    report("acct", syscall(SYS_acct, missing("acct")));
    report("chdir", syscall(SYS_chdir, missing("chdir")));
    report("chmod", syscall(SYS_chmod, missing("chmod"), 0644));
    report("chown", syscall(SYS_chown, missing("chown"), -1, -1));
    report("chroot", syscall(SYS_chroot, missing("chroot")));
    report("creat", syscall(SYS_creat, missing("creat"), 0644));
    report("fchdir", syscall(SYS_fchdir, dir));  /* deviation: allowed */
    report("link", syscall(SYS_link, missing("link-from"), missing("link-to")));
    report("lstat", syscall(SYS_lstat, missing("lstat"), &st));
    report("mknod", syscall(SYS_mknod, missing("mknod"), 0644 | S_IFIFO, 0));
    report("mount", syscall(SYS_mount, "none", missing("mount"), "tmpfs", 0, NULL));
    report("open", syscall(SYS_open, "/dev/null", O_RDWR | O_CLOEXEC));
    report("readlink", syscall(SYS_readlink, missing("readlink"), buf, sizeof buf));
    report("stat", syscall(SYS_stat, missing("stat"), &st));
    report("symlink", syscall(SYS_symlink, missing("symlink-from"), missing("symlink-to")));
    report("unlink", syscall(SYS_unlink, missing("unlink")));
    report("umount2", syscall(SYS_umount2, missing("not-mounted"), 0));

    /* capmode.cc, DisallowedSocketSyscalls and the raw protocols of AllowedSocketSyscallsIfRoot. */
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    report("bind", syscall(SYS_bind, udp2, &any, sizeof any));
    report("connect", syscall(SYS_connect, tcp, &closed, sizeof closed));
    report("socket_raw_icmp", syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP));
    report("socket_raw_icmpv6", syscall(SYS_socket, AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
    report("socket_packet", syscall(SYS_socket, 17 /* AF_PACKET */, SOCK_DGRAM, 0));
    /* The same through the i386 ABI: the direct call, and socketcall(SYS_SOCKET) with its arguments in memory. */
    CHECK((unsigned long)socketcall_args < 0x100000000UL);
    report("socket_i386_raw", int80(359 /* i386 socket */, AF_INET, SOCK_RAW, IPPROTO_ICMP));
    socketcall_args[0] = AF_INET6; socketcall_args[1] = SOCK_RAW; socketcall_args[2] = IPPROTO_ICMPV6;
    report("socket_socketcall_raw", int80(102 /* i386 socketcall */, 1 /* SYS_SOCKET */, (long)socketcall_args, 0));
    socketcall_args[0] = AF_INET; socketcall_args[1] = SOCK_STREAM; socketcall_args[2] = 0;
    report("socket_socketcall_tcp", int80(102, 1, (long)socketcall_args, 0));
    /* capmode.cc, AllowedSocketSyscalls. */
    report("socket_tcp", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
    report("socket_udp6", syscall(SYS_socket, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0));
    report("socket_netlink_raw", syscall(SYS_socket, 16 /* AF_NETLINK */, SOCK_RAW | SOCK_CLOEXEC, 0));
    int pair[2];
    report("socketpair", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, pair));

    /* capmode.cc, Allowed{Identifier,Sched,Timer,Resource,Mmap,Pipe,Misc}Syscalls: the caller's own state. */
    uid_t ruid, euid, suid;
    report("getresuid", syscall(SYS_getresuid, &ruid, &euid, &suid));
    report("setresuid_same", syscall(SYS_setresuid, ruid, euid, suid));
    struct sched_param sp;
    report("sched_getparam_self", syscall(SYS_sched_getparam, 0, &sp));
    report("sched_yield", syscall(SYS_sched_yield));
    struct timespec ts;
    report("clock_gettime", syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts));
    struct itimerval itv;
    report("getitimer", syscall(SYS_getitimer, ITIMER_REAL, &itv));
    report("setpriority_self", syscall(SYS_setpriority, 0 /* PRIO_PROCESS */, 0, 0));
    struct rlimit rl;
    report("getrlimit", syscall(SYS_getrlimit, RLIMIT_CORE, &rl));
    report("setrlimit", syscall(SYS_setrlimit, RLIMIT_CORE, &rl));
    void *mem = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("mmap", mem == MAP_FAILED ? -1 : 0);
    report("mprotect", syscall(SYS_mprotect, mem, 4096, PROT_READ | PROT_WRITE));
    report("munmap", syscall(SYS_munmap, mem, 4096));
    int pfd[2];
    report("pipe2", syscall(SYS_pipe2, pfd, O_CLOEXEC));
    report("kill_self", syscall(SYS_kill, getpid(), 0));

    /* capmode.cc, AllowedAtSyscalls: lookups relative to a held directory. */
    report("at_fstatat", syscall(SYS_newfstatat, dir, "topfile", &st, 0));
    report("at_mkdirat", syscall(SYS_mkdirat, dir, "newdir", 0700));
    report("at_fchmodat", syscall(SYS_fchmodat, dir, "newdir", 0755));
    report("at_faccessat", syscall(SYS_faccessat, dir, "newdir", F_OK));
    report("at_renameat", syscall(SYS_renameat, dir, "newdir", dir, "newdir2"));
    report("at_renameat_back", syscall(SYS_renameat, dir, "newdir2", dir, "newdir"));
    struct timeval tv[2] = { { 0, 0 }, { 0, 0 } };
    report("at_futimesat", syscall(SYS_futimesat, dir, "topfile", tv));
    report("at_fchownat", syscall(SYS_fchownat, dir, "topfile", -1, -1, 0));
    report("at_linkat", syscall(SYS_linkat, dir, "topfile", dir, "linky", 0));
    report("at_symlinkat", syscall(SYS_symlinkat, "topfile", dir, "newlink"));
    report("at_readlinkat", syscall(SYS_readlinkat, dir, "newlink", buf, sizeof buf));
    report("at_unlinkat", syscall(SYS_unlinkat, dir, "linky", 0));
    report("at_unlinkat_dir", syscall(SYS_unlinkat, dir, "newdir", AT_REMOVEDIR));

    /* capmode.cc, AllowedAtSyscallsCwd: the same calls on AT_FDCWD. */
    openat_case("cwd_openat", AT_FDCWD, "topfile", O_RDONLY);
    report("cwd_fstatat", syscall(SYS_newfstatat, AT_FDCWD, "topfile", &st, 0));
    report("cwd_mkdirat", syscall(SYS_mkdirat, AT_FDCWD, "missing-subdir/x", 0700));
    report("cwd_unlinkat", syscall(SYS_unlinkat, AT_FDCWD, "missing-linky", 0));

    /* capmode.cc, AllowedMiscSyscalls: another process by pid; waiting for one's own child. */
    report("ptrace_peekdata", syscall(SYS_ptrace, PTRACE_PEEKDATA, child, &child, NULL));
    report("wait4_child", syscall(SYS_wait4, child, NULL, WNOHANG, NULL));  /* deviation: allowed */

    /* openat.cc, CheckPolicing in capability mode. */
    openat_case("open_topfile", dir, "topfile", O_RDONLY);
    openat_case("open_down", dir, "subdir/bottomfile", O_RDONLY);
    openat_case("open_sub_bottomfile", sub, "bottomfile", O_RDONLY);
    openat_case("open_sub_dot", sub, ".", O_RDONLY);
    openat_case("open_sub_dotdot_topfile", sub, "../topfile", O_RDONLY);
    openat_case("open_sub_dotdot_bottomfile", sub, "../subdir/bottomfile", O_RDONLY);
    openat_case("open_sub_dotdot", sub, "..", O_RDONLY);
    openat_case("open_dotdot_within", dir, "subdir/../topfile", O_RDONLY);
    openat_case("open_dotdot_via_subdir", dir, "subdir/../../etc/passwd", O_RDONLY);
    openat_case("open_symlink_samedir", dir, "symlink.samedir", O_RDONLY);
    openat_case("open_symlink_down", dir, "symlink.down", O_RDONLY);
    openat_case("open_symlink_absolute_in", dir, "symlink.absolute_in", O_RDONLY);
    openat_case("open_symlink_absolute_out", dir, "symlink.absolute_out", O_RDONLY);
    openat_case("open_symlink_relative_in", dir, "symlink.relative_in", O_RDONLY);
    openat_case("open_symlink_relative_out", dir, "symlink.relative_out", O_RDONLY);
    openat_case("open_sub_symlink_up", sub, "symlink.up", O_RDONLY);
    openat_case("open_dsymlink_samedir", dir, "dsymlink.samedir/topfile", O_RDONLY);
    openat_case("open_dsymlink_down", dir, "dsymlink.down/bottomfile", O_RDONLY);
    openat_case("open_dsymlink_absolute_in", dir, "dsymlink.absolute_in/topfile", O_RDONLY);
    openat_case("open_dsymlink_absolute_out", dir, "dsymlink.absolute_out/passwd", O_RDONLY);
    openat_case("open_dsymlink_relative_in", dir, "dsymlink.relative_in/topfile", O_RDONLY);
    openat_case("open_dsymlink_relative_out", dir, "dsymlink.relative_out/passwd", O_RDONLY);
    openat_case("open_sub_dsymlink_up", sub, "dsymlink.up/topfile", O_RDONLY);
    openat_case("open_nofollow_samedir", dir, "symlink.samedir", O_RDONLY | O_NOFOLLOW);
    openat_case("open_nofollow_down", dir, "symlink.down", O_RDONLY | O_NOFOLLOW);
    /* Beyond openat.cc: the last component not followed is not an escape; a magic link is. */
    openat_case("open_nofollow_absolute_out", dir, "symlink.absolute_out", O_RDONLY | O_NOFOLLOW);
    openat_case("open_path_nofollow_absolute_out", dir, "symlink.absolute_out", O_PATH | O_NOFOLLOW);
    report("fstatat_nofollow_absolute_out", syscall(SYS_newfstatat, dir, "symlink.absolute_out", &st, AT_SYMLINK_NOFOLLOW));
    report("fstatat_absolute_out", syscall(SYS_newfstatat, dir, "symlink.absolute_out", &st, 0));
    report("readlinkat_absolute_out", syscall(SYS_readlinkat, dir, "symlink.absolute_out", buf, sizeof buf));
    report("fstatat_dsymlink_absolute_out", syscall(SYS_newfstatat, dir, "dsymlink.absolute_out/passwd", &st, AT_SYMLINK_NOFOLLOW));
    char dirfd_name[16];
    snprintf(dirfd_name, sizeof dirfd_name, "%d", dir);
    openat_case("open_magic_link", fds, dirfd_name, O_RDONLY);
    /* openat.cc, InCapabilityMode. */
    openat_case("open_cwd_topfile", AT_FDCWD, "topfile", O_RDONLY);  /* the working directory is top (fchdir) */
    openat_case("open_cwd_absolute", AT_FDCWD, "/etc/passwd", O_RDONLY);
    openat_case("open_dir_absolute", dir, "/etc/passwd", O_RDONLY);
    openat_case("open_sub_absolute", sub, "/etc/passwd", O_RDONLY);

    /* ktrace_test.c: one case per kind of capability violation FreeBSD records that Linux can have. */
    report("ktrace_chdir", syscall(SYS_chdir, "."));                             /* CAPFAIL_SYSCALL */
    report("ktrace_kill", syscall(SYS_kill, child, SIGCONT));                    /* CAPFAIL_SIGNAL */
    report("ktrace_socket_raw", syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP));  /* CAPFAIL_PROTO */
    report("ktrace_sendto", syscall(SYS_sendto, udp, NULL, 0, 0, &loopback, sizeof loopback));  /* CAPFAIL_SOCKADDR */
    openat_case("ktrace_openat_fdcwd", AT_FDCWD, "missing-ktrace.out", O_RDONLY);  /* CAPFAIL_NAMEI */
    openat_case("ktrace_openat_root", -1, "/", O_RDONLY);                        /* CAPFAIL_NAMEI */
    cpu_set_t mask;
    CPU_ZERO(&mask);
    report("ktrace_getaffinity_self", syscall(SYS_sched_getaffinity, 0, sizeof mask, &mask));
    report("ktrace_setaffinity", syscall(SYS_sched_setaffinity, child, sizeof mask, &mask));  /* CAPFAIL_CPUSET */
    int shm = shm_open("/captrace-conformance", O_RDWR | O_CREAT, 0600);         /* CAPFAIL_NAMEI */
    report("ktrace_shm_open", shm);
    report("ktrace_shm_unlink", shm_unlink("/captrace-conformance"));

    close(hold[1]);
    int status;
    report("waitpid_child", waitpid(child, &status, 0));
    return 0;
}
