// Seccomp user-notification wrappers and the notify backend's launcher (see ctrace_notify.h for why each
// exists). The keeper and the program, which share captrace's memory (CLONE_VM), make raw system calls only.
#define _GNU_SOURCE
#include "ctrace_notify.h"
#include "ctrace_atomic.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// UAPI fallbacks for older headers (values from linux/seccomp.h).
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

_Static_assert(sizeof(struct seccomp_notif) == 80, "seccomp_notif layout");
_Static_assert(sizeof(struct seccomp_notif_resp) == 24, "seccomp_notif_resp layout");
_Static_assert(sizeof(struct open_how) == 24, "open_how layout");

// ---- the launcher ----
//
// The keeper is not a fork of captrace: a fork of the 35 MB process copies its page tables and turns every page
// captrace writes afterwards into a copy-on-write fault (~1 ms of a short run). It is cloned with CLONE_VM on a
// stack of its own, as the program is under it (and as ct_spawn_start launches, ptrace.c): captrace, the keeper
// and the program until its exec share one memory. So the keeper, like the program, makes raw system calls only
// (glibc's wrappers would write errno into the TLS of the captrace thread that launched it) and touches nothing
// but one block mapped for the launch: both stacks, its kill queue and copies of the path, argv, envp and the
// filter.
// CLONE_CHILD_CLEARTID zeroes `live` when the keeper exits; a later launch unmaps the blocks of keepers gone.

enum { CT_NOTIFY_STACK = 64 * 1024, CT_NOTIFY_QUEUE = 8192 };

struct ct_notify_block {
    pid_t live;                  // cleared (CLONE_CHILD_CLEARTID) when the keeper exits
    void *base;                  // the mapping: guard page, keeper stack, guard page, program stack, this block
    size_t size;
    struct ct_notify_block *next;
    // The program's ends, then captrace's (the keeper closes those in its own descriptor table).
    int go_fd, err_fd, info_w, life_r, sock_fd;
    int go_w, err_r, info_r, life_w, sock_captrace;
    int every_call_trapped;
    int chld_ignored;            // captrace's caller ignored SIGCHLD: the keeper may not, the program must (notify_program)
    void *program_stack;         // the top of the program's stack
    struct ct_exec_image image;  // what the child execs, copied into this mapping
    pid_t queue[CT_NOTIFY_QUEUE];  // kill_everything's list of the keeper's children
};

static struct ct_notify_block *ct_notify_blocks;
static pthread_mutex_t ct_notify_blocks_lock = PTHREAD_MUTEX_INITIALIZER;

// captrace's side only (glibc's write sets errno).
static int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w; len -= (size_t)w;
    }
    return 0;
}

// The keeper's write_all: raw system calls.
static void raw_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        long w = ct_raw(SYS_write, fd, (long)p, (long)len, 0);
        if (w == -EINTR) continue;
        if (w <= 0) return;
        p += w; len -= (size_t)w;
    }
}


// Tells captrace how a process the keeper reaped ended: the program, and orphans of the program (their parent
// died first, as when captrace is interrupted), whose status nobody else can read any more.
static void report_exit(int info_w, pid_t pid, int status) {
    int32_t rec[2] = {pid, status};
    raw_write_all(info_w, rec, sizeof rec);
}

static void report_reaped(pid_t pid, int status, void *b) {
    report_exit(((struct ct_notify_block *)b)->info_w, pid, status);
}

// Kills the keeper's whole tree (ct_raw_kill_children_round until no child is left) and exits. The program's
// own wait status still goes to captrace (`info_w`), as when it ends by itself: an interrupted run records how
// the program ended.
static __attribute__((noreturn)) void kill_everything(struct ct_notify_block *b) {
    pid_t self = (pid_t)ct_raw(SYS_getpid, 0, 0, 0, 0);
    while (!ct_raw_kill_children_round(self, b->queue, CT_NOTIFY_QUEUE, report_reaped, b)) {}
    ct_raw_exit(0);
}

static __attribute__((noreturn)) void keeper_main(struct ct_notify_block *b, pid_t program) {
    uint64_t chld = 1ULL << (SIGCHLD - 1);
    long sfd = ct_raw(SYS_signalfd4, -1, (long)&chld, sizeof chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int32_t pidv = program;
    raw_write_all(b->info_w, &pidv, sizeof pidv);
    for (;;) {
        struct pollfd pf[2] = {{.fd = b->life_r, .events = POLLIN}, {.fd = (int)sfd, .events = POLLIN}};
        long r = ct_raw(SYS_poll, (long)pf, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 50, 0);
        if (r < 0 && r != -EINTR) kill_everything(b);
        if (r > 0 && pf[0].revents) {
            char c;
            long n = ct_raw(SYS_read, b->life_r, (long)&c, 1, 0);
            if (n <= 0) kill_everything(b);  // captrace closed it or died
        }
        if (sfd >= 0 && r > 0 && pf[1].revents) {
            struct signalfd_siginfo si;
            while (ct_raw(SYS_read, sfd, (long)&si, sizeof si, 0) > 0) {}
        }
        int st;
        long w;
        while ((w = ct_raw(SYS_wait4, -1, (long)&st, WNOHANG | __WALL, 0)) > 0) report_exit(b->info_w, (pid_t)w, st);
        if (w == -ECHILD) ct_raw_exit(0);
    }
}

// The program: waits for captrace, then filter + listener + exec. Raw system calls only (child.h).
static int notify_program(void *arg) {
    const struct ct_notify_block *c = arg;
    ct_raw(SYS_close, c->info_w, 0, 0, 0);
    ct_raw(SYS_close, c->life_r, 0, 0, 0);
    // The keeper left no handler of captrace's (keeper_entry): keeps the workers' CPU (CPUAffinity).
    ct_raw_child_prepare(c->go_fd, 0, 0, 0);
    if (c->chld_ignored) {
        struct ct_ksigaction ign = {SIG_IGN, 0, 0, 0};
        ct_raw(SYS_rt_sigaction, SIGCHLD, (long)&ign, 0, 8);
    }
    long r;
    if ((r = ct_raw(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0)) < 0) ct_raw_fail(c->err_fd, r);
    if (c->image.prog.len && c->every_call_trapped) {
        // A filter that traps every call (run --syscalls) would trap the handshake below too. The listener gets
        // the lowest free descriptor: send that number first, then install the filter and exec at once; captrace
        // takes the listener once it exists (ct_notify_go). The only call the program's filter sees before the
        // exec is the execve itself.
        long probe = ct_raw(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY | O_CLOEXEC, 0);
        if (probe < 0) ct_raw_fail(c->err_fd, probe);
        ct_raw(SYS_close, probe, 0, 0, 0);
        int32_t num = (int32_t)probe;
        do { r = ct_raw(SYS_write, c->sock_fd, (long)&num, sizeof num, 0); } while (r == -EINTR);
        if (r != sizeof num) ct_raw_exit(127);
        long lfd = ct_raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, (long)&c->image.prog, 0);
        if (lfd < 0) ct_raw_fail(c->err_fd, lfd);
        if (lfd != probe) ct_raw_exit(127);
        r = ct_raw(SYS_execve, (long)c->image.path, (long)c->image.argv, (long)c->image.envp, 0);
        ct_raw_fail(c->err_fd, r);
    }
    if (c->image.prog.len) {
        long lfd = ct_raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, (long)&c->image.prog, 0);
        if (lfd < 0) ct_raw_fail(c->err_fd, lfd);
        // From here every trapped call waits for captrace, which has no listener yet: sendmsg (SCM_RIGHTS)
        // would be trapped and deadlock. write is never trapped: send the descriptor's number, and captrace takes
        // it with pidfd_getfd. No need to wait for that: the execve below is trapped, and the listener stays in
        // this descriptor table (close-on-exec) until captrace has let the execve go on, which it does only
        // through the listener. (An acknowledgement here cost two more context switches a start.)
        int32_t num = (int32_t)lfd;
        do { r = ct_raw(SYS_write, c->sock_fd, (long)&num, sizeof num, 0); } while (r == -EINTR);
        if (r != sizeof num) ct_raw_exit(127);
    }
    ct_raw(SYS_close, c->sock_fd, 0, 0, 0);
    r = ct_raw(SYS_execve, (long)c->image.path, (long)c->image.argv, (long)c->image.envp, 0);
    ct_raw_fail(c->err_fd, r);
}

// The keeper, from its clone on: default dispositions (captrace's handlers would run on captrace's memory) while
// every signal is still blocked (the launcher blocks all around the clone), subreaper, then the program cloned
// on its own stack, then keeper_main.
static int keeper_entry(void *arg) {
    struct ct_notify_block *b = arg;
    ct_raw(SYS_close, b->go_w, 0, 0, 0);
    ct_raw(SYS_close, b->err_r, 0, 0, 0);
    ct_raw(SYS_close, b->info_r, 0, 0, 0);
    ct_raw(SYS_close, b->life_w, 0, 0, 0);
    ct_raw(SYS_close, b->sock_captrace, 0, 0, 0);
    // captrace's handlers back to what its caller left (ct_raw_uncatch); a signal ignored stays ignored, for the
    // program cloned below to inherit (as untraced), except SIGCHLD: ignored, the keeper's children would be reaped by
    // the kernel and their statuses lost. The program sets that one back (notify_program).
    for (int s = 1; s < 65; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        struct ct_ksigaction old;
        if (ct_raw(SYS_rt_sigaction, s, 0, (long)&old, 8) < 0 || old.handler == SIG_DFL) continue;
        if (s == SIGCHLD && old.handler == SIG_IGN) {
            b->chld_ignored = 1;
            struct ct_ksigaction dfl = {SIG_DFL, 0, 0, 0};
            ct_raw(SYS_rt_sigaction, s, (long)&dfl, 0, 8);
        } else if (old.handler != SIG_IGN) {
            ct_raw_uncatch(s);
        }
    }
    ct_raw(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0);
    ct_raw(SYS_prctl, PR_SET_NAME, (long)"captrace-keeper", 0, 0);
    uint64_t keep = ~0ULL & ~(1ULL << (SIGSEGV - 1)) & ~(1ULL << (SIGBUS - 1));
    ct_raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&keep, 0, 8);
    // glibc's clone touches no TLS on success (the child runs notify_program, then exits). On failure it sets
    // errno in the TLS shared with captrace's launching thread, which then only reads EOF from info_w (no errno).
    pid_t prog = clone(notify_program, b->program_stack, CLONE_VM | SIGCHLD, b);
    if (prog < 0) ct_raw_exit(127);
    ct_raw(SYS_close, b->go_fd, 0, 0, 0);
    ct_raw(SYS_close, b->err_fd, 0, 0, 0);
    ct_raw(SYS_close, b->sock_fd, 0, 0, 0);
    keeper_main(b, prog);
}


/// Unmaps the blocks whose keeper has exited.
static void ct_notify_reap(void) {
    pthread_mutex_lock(&ct_notify_blocks_lock);
    for (struct ct_notify_block **p = &ct_notify_blocks; *p;) {
        struct ct_notify_block *b = *p;
        if (__atomic_load_n(&b->live, __ATOMIC_ACQUIRE) == 0) { *p = b->next; munmap(b->base, b->size); }
        else p = &b->next;
    }
    pthread_mutex_unlock(&ct_notify_blocks_lock);
}

/// One mapping: a guard page, the keeper's stack, a guard page, the program's stack, then the block and the
/// copies it points to. Returns the block and the top of the keeper's stack.
static struct ct_notify_block *ct_notify_block_new(const char *path, char *const argv[], char *const envp[],
                                                   const ct_bpf *bpf, void **keeper_stack) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t head = 2 * (page + CT_NOTIFY_STACK);
    size_t body = sizeof(struct ct_notify_block) + ct_exec_image_size(path, argv, envp, bpf);
    size_t size = (head + body + page - 1) / page * page;
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) return NULL;
    mprotect(m, page, PROT_NONE);
    mprotect(m + page + CT_NOTIFY_STACK, page, PROT_NONE);
    *keeper_stack = m + page + CT_NOTIFY_STACK;
    struct ct_notify_block *b = (struct ct_notify_block *)(m + head);
    b->base = m;
    b->size = size;
    b->program_stack = m + head;  // the block starts where the program's stack ends (both page-aligned)
    ct_exec_image_copy(&b->image, (char *)(b + 1), path, argv, envp, bpf);
    return b;
}

int ct_notify_spawn(const char *path, char *const argv[], char *const envp[], const ct_bpf *bpf,
                    int every_call_trapped, ct_notify_launch *out) {
    ct_notify_reap();
    int go[2] = {-1, -1}, err[2] = {-1, -1}, info[2] = {-1, -1}, life[2] = {-1, -1}, sock[2] = {-1, -1};
    int rc = 0;
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(info, O_CLOEXEC) < 0 ||
        pipe2(life, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) {
        rc = -errno;
        goto fail;
    }
    void *keeper_stack;
    struct ct_notify_block *b = ct_notify_block_new(path, argv, envp, bpf, &keeper_stack);
    if (!b) { rc = -ENOMEM; goto fail; }
    b->live = -1;
    b->go_fd = go[0]; b->err_fd = err[1]; b->info_w = info[1]; b->life_r = life[0]; b->sock_fd = sock[1];
    b->go_w = go[1]; b->err_r = err[0]; b->info_r = info[0]; b->life_w = life[1]; b->sock_captrace = sock[0];
    b->every_call_trapped = every_call_trapped;
    pid_t keeper = ct_clone_vm(keeper_entry, keeper_stack, b, &b->live);
    if (keeper < 0) {
        munmap(b->base, b->size);
        rc = keeper;
        goto fail;
    }
    pthread_mutex_lock(&ct_notify_blocks_lock);
    b->next = ct_notify_blocks;
    ct_notify_blocks = b;
    pthread_mutex_unlock(&ct_notify_blocks_lock);
    close(go[0]); close(err[1]); close(info[1]); close(life[0]); close(sock[1]);
    int32_t prog = 0;
    ssize_t n;
    do { n = read(info[0], &prog, sizeof prog); } while (n < 0 && errno == EINTR);
    if (n != sizeof prog || prog <= 0) {
        close(go[1]); close(err[0]); close(info[0]); close(life[1]); close(sock[0]);
        kill(keeper, SIGKILL);
        waitpid(keeper, NULL, 0);
        return -ECHILD;
    }
    out->keeper = keeper;
    out->program = prog;
    out->go_fd = go[1];
    out->sock_fd = sock[0];
    out->info_fd = info[0];
    out->life_fd = life[1];
    out->exec_err_fd = err[0];
    out->every_call_trapped = every_call_trapped;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (go[i] >= 0) close(go[i]);
        if (err[i] >= 0) close(err[i]);
        if (info[i] >= 0) close(info[i]);
        if (life[i] >= 0) close(life[i]);
        if (sock[i] >= 0) close(sock[i]);
    }
    return rc;
}

int ct_notify_go(ct_notify_launch *l) {
    char c = 'g';
    if (write_all(l->go_fd, &c, 1) < 0) return -errno;
    close(l->go_fd);
    l->go_fd = -1;
    int32_t num = -1;
    ssize_t n;
    do { n = read(l->sock_fd, &num, sizeof num); } while (n < 0 && errno == EINTR);
    int fd = -EPIPE;  // EOF: the program failed before its filter was installed (exec error on its pipe)
    if (n == sizeof num && l->every_call_trapped) {
        // The number came before the filter: wait until the program's descriptor is the listener (or the
        // program is gone). No acknowledgement: the program does not wait for one.
        int pidfd = ct_pidfd_open(l->program);
        fd = pidfd;
        for (int tries = 0; pidfd >= 0 && tries < 20000; tries++) {
            fd = ct_pidfd_getfd(pidfd, num);
            if (fd >= 0) {
                char link[64], self[32];
                snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
                ssize_t k = readlink(self, link, sizeof link - 1);
                if (k > 0) link[k] = 0;
                if (k > 0 && strstr(link, "seccomp notify") != NULL) break;
                close(fd);
                fd = -EBADF;
            } else if (fd != -EBADF) {
                break;  // ESRCH: the program ended (its exec error, if any, is on its pipe)
            }
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        if (pidfd >= 0) close(pidfd);
        if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    } else if (n == sizeof num) {
        // The program waits in its trapped execve meanwhile, the listener still in its descriptor table.
        int pidfd = ct_pidfd_open(l->program);
        fd = pidfd < 0 ? pidfd : ct_pidfd_getfd(pidfd, num);
        if (pidfd >= 0) close(pidfd);
        if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    close(l->sock_fd);
    l->sock_fd = -1;
    return fd;
}

// ---- the notification protocol ----

int ct_notif_set_sync_wakeup(int listener) {
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0
        ? -errno : 0;
}

int ct_notif_recv(int listener, ct_notif *out, const int *stop) {
    struct seccomp_notif n;
    for (;;) {
        memset(&n, 0, sizeof n);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) == 0) break;
        if (errno == EINTR && !(stop && ct_flag_get(stop))) continue;
        return -errno;
    }
    out->id = n.id;
    out->pid = n.pid;
    out->nr = n.data.nr;
    out->arch = n.data.arch;
    out->ip = n.data.instruction_pointer;
    memcpy(out->args, n.data.args, sizeof out->args);
    return 0;
}

int ct_notif_id_valid(int listener, uint64_t id) {
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/// One number of /proc/TID/syscall at *p: decimal, or hex after "0x" (as the kernel writes them). Advances past it;
/// -1 when there is none.
static int syscall_field(const char **p, uint64_t *out) {
    const char *q = *p;
    uint64_t v = 0;
    if (q[0] == '0' && q[1] == 'x') {
        q += 2;
        const char *digits = q;
        for (;; q++) {
            unsigned d;
            if (*q >= '0' && *q <= '9') d = (unsigned)(*q - '0');
            else if (*q >= 'a' && *q <= 'f') d = (unsigned)(*q - 'a' + 10);
            else if (*q >= 'A' && *q <= 'F') d = (unsigned)(*q - 'A' + 10);
            else break;
            if (q - digits >= 16) return -1;
            v = v << 4 | d;
        }
        if (q == digits) return -1;
    } else {
        const char *digits = q;
        for (; *q >= '0' && *q <= '9'; q++) {
            if (q - digits >= 19) return -1;
            v = v * 10 + (uint64_t)(*q - '0');
        }
        if (q == digits) return -1;
    }
    if (*q != ' ' && *q != '\n' && *q != 0) return -1;
    *p = q;
    *out = v;
    return 0;
}

/// The stack pointer and pc of a thread blocked in a syscall, from its /proc/TID/syscall ("nr a0..a5 sp pc"; a thread
/// not in a syscall shows fewer fields: -EINVAL). Parsed by hand: strtoull per field was a tenth of what the notify
/// worker spent in user space.
int ct_syscall_regs(int fd, uint64_t *pc, uint64_t *sp) {
    char buf[384];
    ssize_t n;
    do { n = pread(fd, buf, sizeof buf - 1, 0); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    buf[n] = 0;
    uint64_t f[9];
    const char *p = buf;
    for (int k = 0; k < 9; k++) {
        while (*p == ' ') p++;
        if (syscall_field(&p, &f[k]) != 0) return -EINVAL;
    }
    *sp = f[7];
    *pc = f[8];
    return 0;
}

static int send_resp(int listener, struct seccomp_notif_resp *r) {
    for (;;) {
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, r) == 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

int ct_notif_continue(int listener, uint64_t id) {
    struct seccomp_notif_resp r = {.id = id, .val = 0, .error = 0, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
    return send_resp(listener, &r);
}

int ct_notif_reply(int listener, uint64_t id, int64_t val, int err) {
    struct seccomp_notif_resp r = {.id = id, .val = err ? 0 : val, .error = err ? -err : 0, .flags = 0};
    return send_resp(listener, &r);
}

int ct_notif_addfd_send(int listener, uint64_t id, int srcfd, unsigned newfd_flags) {
    struct seccomp_notif_addfd a = {.id = id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (uint32_t)srcfd,
                                    .newfd = 0, .newfd_flags = newfd_flags};
    for (;;) {
        int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
        if (r >= 0) return r;
        if (errno != EINTR) return -errno;
    }
}

int ct_notif_hup(int listener) { return ct_notif_wait_hup(listener, 0) == 1; }

int ct_notif_wait_hup(int listener, int timeout_ms) {
    struct pollfd pf = {.fd = listener, .events = 0};
    int r = poll(&pf, 1, timeout_ms);
    if (r < 0) return -errno;
    return r > 0 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL)) ? 1 : 0;
}

// ---- descriptors and on-behalf operations ----

int ct_pidfd_open(pid_t pid) {
    long r = syscall(SYS_pidfd_open, pid, 0);
    return r < 0 ? -errno : (int)r;
}

int ct_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : -errno; }

int ct_kill_own_children(int max_ms) {
    enum { CAP = 8192 };
    pid_t *q = malloc(CAP * sizeof *q);
    if (!q) return -ENOMEM;
    pid_t self = getpid();
    int done = 0;
    for (int round = 0; round <= max_ms && !done; round++) done = ct_raw_kill_children_round(self, q, CAP, NULL, NULL);
    free(q);
    return done ? 0 : -ETIMEDOUT;
}

int ct_pidfd_kill(int pidfd) {
    long r = syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    return r < 0 ? -errno : 0;
}

int ct_pidfd_open_thread(pid_t tid) {
    long r = syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD */);
    return r < 0 ? -errno : (int)r;
}

// linux/pidfd.h (6.15's layout; Debian 12's headers predate PIDFD_GET_INFO). The kernel copies at most the
// size given and fills what it knows.
struct ct_pidfd_info {
    uint64_t mask, cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
};
#define CT_PIDFD_GET_INFO _IOWR(0xFF, 11, struct ct_pidfd_info)
#define CT_PIDFD_INFO_PID (1ULL << 0)
#define CT_PIDFD_INFO_EXIT (1ULL << 3)

int ct_pidfd_ids(int pidfd, int32_t *tgid, int32_t *ppid) {
    struct ct_pidfd_info i;
    memset(&i, 0, sizeof i);
    i.mask = CT_PIDFD_INFO_PID;
    if (ioctl(pidfd, CT_PIDFD_GET_INFO, &i) < 0) return -errno;
    if (!(i.mask & CT_PIDFD_INFO_PID) || i.tgid == 0) return -ENODATA;
    *tgid = (int32_t)i.tgid;
    *ppid = (int32_t)i.ppid;
    return 0;
}

int ct_pidfd_exit_status(int pidfd, int32_t *status) {
    struct ct_pidfd_info i;
    memset(&i, 0, sizeof i);
    i.mask = CT_PIDFD_INFO_EXIT;
    if (ioctl(pidfd, CT_PIDFD_GET_INFO, &i) < 0) return errno == ESRCH ? 0 : -errno;
    if (!(i.mask & CT_PIDFD_INFO_EXIT)) return 0;
    *status = i.exit_code;
    return 1;
}

int ct_pidfd_getfd(int pidfd, int fd) {
    long r = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    return r < 0 ? -errno : (int)r;
}

int ct_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return r < 0 ? -errno : (int)r;
}

int ct_stat_into(int dirfd, const char *path, int flags, int is_statx, unsigned mask, pid_t pid, uint64_t addr) {
    if (is_statx) {
        struct statx sx;
        if (statx(dirfd, path, flags, mask, &sx) < 0) return -errno;
        long w = ct_write_mem(pid, (uintptr_t)addr, &sx, sizeof sx);
        return w == (long)sizeof sx ? 0 : -EFAULT;
    }
    struct stat st;
    if (fstatat(dirfd, path, &st, flags) < 0) return -errno;
    long w = ct_write_mem(pid, (uintptr_t)addr, &st, sizeof st);
    return w == (long)sizeof st ? 0 : -EFAULT;
}

int ct_poll_in(const int *fds, short *revents, int n, int timeout_ms) {
    if (n < 0) return -EINVAL;
    struct pollfd small[64];
    struct pollfd *pf = small;
    if (n > 64 && (pf = malloc((size_t)n * sizeof *pf)) == NULL) return -ENOMEM;
    for (int i = 0; i < n; i++) { pf[i].fd = fds[i]; pf[i].events = POLLIN; pf[i].revents = 0; }
    int r = poll(pf, (nfds_t)n, timeout_ms);
    int e = errno;
    if (r >= 0) for (int i = 0; i < n; i++) revents[i] = pf[i].revents;
    if (pf != small) free(pf);
    return r < 0 ? -e : r;
}

int ct_epoll_create(void) { int r = epoll_create1(EPOLL_CLOEXEC); return r < 0 ? -errno : r; }
int ct_epoll_add(int epfd, int fd, uint64_t data) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = data};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}
int ct_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0; }
int ct_epoll_wait(int epfd, uint64_t *datas, int max, int timeout_ms) {
    struct epoll_event evs[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) datas[i] = evs[i].data.u64;
    return n;
}

int ct_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
void ct_eventfd_signal(int fd) { uint64_t one = 1; ssize_t w = write(fd, &one, sizeof one); (void)w; }
void ct_eventfd_drain(int fd) { uint64_t v; ssize_t r = read(fd, &v, sizeof v); (void)r; }

// ---- calls performed for the program (NotifyEnforcement) ----

long ct_syscall6(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) {
    long r = syscall(nr, a0, a1, a2, a3, a4, a5);
    return r < 0 ? -errno : r;
}

enum { SEND_COPY_MAX = 4 << 20, CONTROL_MAX = 64 << 10, IOV_COPY_MAX = 1024 };

static int read_exact(pid_t pid, uint64_t addr, void *buf, size_t len) {
    if (len == 0) return 0;
    return ct_read_mem(pid, (uintptr_t)addr, buf, len) == (long)len ? 0 : -EFAULT;
}

long ct_send_copy(int listener, uint64_t id, int pidfd, pid_t pid, pid_t tid, int sock, uint64_t msghdr, int flags) {
    struct msghdr m;
    if (read_exact(pid, msghdr, &m, sizeof m) < 0) return -EFAULT;
    if (m.msg_iovlen > IOV_COPY_MAX) return -EMSGSIZE;
    struct iovec iov[IOV_COPY_MAX];
    if (m.msg_iovlen && read_exact(pid, (uint64_t)(uintptr_t)m.msg_iov, iov, m.msg_iovlen * sizeof(struct iovec)) < 0)
        return -EFAULT;
    size_t total = 0;
    for (size_t i = 0; i < m.msg_iovlen; i++) total += iov[i].iov_len;
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tl) < 0) return -errno;
    if (total > SEND_COPY_MAX) {
        if (type != SOCK_STREAM) return -EMSGSIZE;
        total = SEND_COPY_MAX;
    }
    if (m.msg_controllen > CONTROL_MAX) return -ENOBUFS;
    char *payload = total ? malloc(total) : NULL;
    char *control = m.msg_controllen ? malloc(m.msg_controllen) : NULL;
    int fetched[CONTROL_MAX / sizeof(int)];
    int nfetched = 0;
    long rc = 0;
    if ((total && !payload) || (m.msg_controllen && !control)) { rc = -ENOMEM; goto out; }
    size_t off = 0;
    for (size_t i = 0; i < m.msg_iovlen && off < total; i++) {
        size_t n = iov[i].iov_len < total - off ? iov[i].iov_len : total - off;
        if (read_exact(pid, (uint64_t)(uintptr_t)iov[i].iov_base, payload + off, n) < 0) { rc = -EFAULT; goto out; }
        off += n;
    }
    struct msghdr c = {.msg_name = NULL, .msg_namelen = 0, .msg_control = NULL, .msg_controllen = 0, .msg_flags = 0};
    struct iovec one = {.iov_base = payload, .iov_len = total};
    c.msg_iov = &one;
    c.msg_iovlen = 1;
    if (m.msg_controllen) {
        if (read_exact(pid, (uint64_t)(uintptr_t)m.msg_control, control, m.msg_controllen) < 0) { rc = -EFAULT; goto out; }
        c.msg_control = control;
        c.msg_controllen = m.msg_controllen;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&c); h; h = CMSG_NXTHDR(&c, h)) {
            if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
            if (h->cmsg_len < CMSG_LEN(0)) { rc = -EINVAL; goto out; }
            size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int *fds = (int *)CMSG_DATA(h);
            for (size_t k = 0; k < n; k++) {
                int fd = pidfd < 0 ? pidfd : ct_pidfd_getfd(pidfd, fds[k]);
                if (fd < 0) { rc = fd == -ESRCH ? -ESRCH : -EBADF; goto out; }
                fetched[nfetched++] = fd;
                fds[k] = fd;
            }
        }
    }
    int blocking = !(flags & MSG_DONTWAIT) && !(fcntl(sock, F_GETFL) & O_NONBLOCK);
    for (;;) {
        ssize_t w = sendmsg(sock, &c, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w >= 0) { rc = w; break; }
        if (errno == EINTR) continue;
        if (!blocking || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            rc = -errno;
            if (errno == EPIPE && !(flags & MSG_NOSIGNAL)) syscall(SYS_tgkill, pid, tid, SIGPIPE);
            break;
        }
        // Room may come while the program's thread waits; give up when it no longer waits (killed, or the
        // notification withdrawn by a signal: the call then restarts as a new notification).
        struct pollfd pf = {.fd = sock, .events = POLLOUT};
        poll(&pf, 1, 100);
        if (!ct_notif_id_valid(listener, id)) { rc = -EINTR; break; }
    }
out:
    for (int i = 0; i < nfetched; i++) close(fetched[i]);
    free(payload);
    free(control);
    return rc;
}

long ct_sendmmsg_copy(int listener, uint64_t id, int pidfd, pid_t pid, pid_t tid, int sock, uint64_t vec,
                      unsigned vlen, int flags) {
    if (vlen > 1024) vlen = 1024;
    unsigned sent = 0;
    for (; sent < vlen; sent++) {
        uint64_t at = vec + (uint64_t)sent * sizeof(struct mmsghdr);
        long r = ct_send_copy(listener, id, pidfd, pid, tid, sock, at, flags);
        if (r < 0) return sent ? (long)sent : r;
        uint32_t len = (uint32_t)r;
        if (ct_write_mem(pid, (uintptr_t)(at + offsetof(struct mmsghdr, msg_len)), &len, sizeof len) != sizeof len)
            return sent ? (long)sent : -EFAULT;
    }
    return sent;
}

int ct_kcmp_vm(pid_t a, pid_t b) {
    long r = syscall(SYS_kcmp, a, b, 1 /* KCMP_VM */, 0, 0);
    return r < 0 ? -errno : (int)r;
}
