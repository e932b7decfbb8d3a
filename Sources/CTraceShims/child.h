// The first steps of a child between clone and exec, shared by both launchers (ptrace.c, notify.c), the walk of
// a process's children that the notify keeper and the affinity moves share, and the round of kills that the keeper
// and captrace (once the keeper is gone) use to end a process tree. Raw system calls only: Swift must not
// run here, and neither may malloc nor any glibc wrapper that sets errno.
#ifndef CTRACE_CHILD_H
#define CTRACE_CHILD_H

#include "ctrace_ptrace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <pthread.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/// The CPU affinity captrace had before it pinned its tracer thread (ptrace.c): the program gets it back.
extern cpu_set_t ct_original_affinity;
extern int ct_original_affinity_saved;
/// The signal mask captrace was started with (self.c, before main): the program gets it back, as it would
/// inherit it across fork and exec untraced.
extern uint64_t ct_original_sigmask;
/// Of the signals captrace catches although its caller may have ignored them (glibc's SIGCANCEL and SIGSETXID, the
/// ptrace tick's SIGRTMIN+8), those its caller ignored (self.c, before main; bit N-1 for signal N). SIGINT,
/// SIGTERM and SIGHUP are not caught when ignored (ct_install_interrupt_handlers).
extern uint64_t ct_original_ignored;

// A child cloned with CLONE_VM (ct_spawn_start, and the program under the notify keeper) shares its parent's
// memory until exec: it makes raw system calls only, since glibc's wrappers write errno into the TLS of the
// parent's thread, and touches no memory the parent may change.

#if defined(__x86_64__)
/// A system call with up to four arguments (the fifth and sixth are 0); returns -errno on failure.
static inline long ct_raw(long n, long a, long b, long c, long d) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = 0;  // prctl checks its unused arguments are 0
    register long r9 __asm__("r9") = 0;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long ct_raw(long n, long a, long b, long c, long d) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = 0;  // prctl checks its unused arguments are 0
    register long x5 __asm__("x5") = 0;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
#else
#error "ct_raw: add this architecture's system call instruction"
#endif

/// The kernel's struct sigaction (rt_sigaction), which differs from glibc's.
struct ct_ksigaction { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; };

static inline __attribute__((noreturn)) void ct_raw_fail(int fd, long negerr) {
    int e = (int)-negerr;
    ct_raw(SYS_write, fd, (long)&e, sizeof e, 0);
    for (;;) ct_raw(SYS_exit_group, 127, 0, 0, 0);
}


static inline __attribute__((noreturn)) void ct_raw_exit(int status) {
    for (;;) ct_raw(SYS_exit_group, status, 0, 0, 0);
}

/// Sets a signal captrace catches back to what captrace's caller left it: ignored or the default.
static inline void ct_raw_uncatch(int s) {
    struct ct_ksigaction act = {(ct_original_ignored >> (s - 1)) & 1 ? SIG_IGN : SIG_DFL, 0, 0, 0};
    ct_raw(SYS_rt_sigaction, s, (long)&act, 0, 8);
}

/// The first steps of a CLONE_VM child: with `reset_handlers`, resets the handlers it inherited from captrace
/// (which would run on captrace's memory) to what captrace's caller had (ct_raw_uncatch; ignored signals stay
/// ignored, as execve keeps them) while
/// every signal is still blocked (the parent blocks all around the clone); then gives back the signal mask captrace
/// was started with (an exec keeps the mask, so the program starts with its caller's, as untraced), optionally
/// gives back the CPU affinity captrace had (`restore_affinity`), dies with the parent (and gives up if `parent`,
/// when not 0, is already gone).
static inline void ct_raw_child_setup(int restore_affinity, pid_t parent, int reset_handlers) {
    for (int s = 1; reset_handlers && s < 65; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        struct ct_ksigaction old;
        if (ct_raw(SYS_rt_sigaction, s, 0, (long)&old, 8) < 0) continue;
        if (old.handler == SIG_DFL || old.handler == SIG_IGN) continue;
        ct_raw_uncatch(s);
    }
    uint64_t mask = ct_original_sigmask;
    ct_raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, 8);
    if (restore_affinity && ct_original_affinity_saved)
        ct_raw(SYS_sched_setaffinity, 0, sizeof ct_original_affinity, (long)&ct_original_affinity, 0);
    ct_raw(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0);
    // If the parent died before the PDEATHSIG was set, give up (it would never seize us).
    if (parent && ct_raw(SYS_getppid, 0, 0, 0, 0) != parent) ct_raw_exit(127);
}

/// Waits for the go byte on `go_fd` and closes it (exits 127 when the parent closed it instead).
static inline void ct_raw_wait_go(int go_fd) {
    char c;
    long r;
    do { r = ct_raw(SYS_read, go_fd, (long)&c, 1, 0); } while (r == -EINTR);
    if (r != 1) ct_raw_exit(127);
    ct_raw(SYS_close, go_fd, 0, 0, 0);
}

/// ct_raw_child_setup, then ct_raw_wait_go. PR_SET_NO_NEW_PRIVS is the caller's next step.
static inline void ct_raw_child_prepare(int go_fd, int restore_affinity, pid_t parent, int reset_handlers) {
    ct_raw_child_setup(restore_affinity, parent, reset_handlers);
    ct_raw_wait_go(go_fd);
}

/// What a launched child execs with: its own copies of the path, argv, envp and the seccomp filter, placed in the
/// launch's mapping (the caller's may be freed or changed before the child runs).
struct ct_exec_image {
    struct sock_fprog prog;  // .len == 0: no filter
    char *path;
    char **argv, **envp;
};

static inline size_t ct_vec_count(char *const v[]) { size_t n = 0; while (v && v[n]) n++; return n; }

/// The bytes ct_exec_image_copy writes for these.
static inline size_t ct_exec_image_size(const char *path, char *const argv[], char *const envp[], const ct_bpf *bpf) {
    size_t na = ct_vec_count(argv), ne = ct_vec_count(envp), n = strlen(path) + 1 + (na + ne + 2) * sizeof(char *);
    for (size_t i = 0; i < na; i++) n += strlen(argv[i]) + 1;
    for (size_t i = 0; i < ne; i++) n += strlen(envp[i]) + 1;
    return n + (bpf && bpf->filter ? (size_t)bpf->len * sizeof(struct sock_filter) : 0);
}

/// Copies them to `q` (ct_exec_image_size bytes, pointer-aligned) and points `img` at the copies.
static inline void ct_exec_image_copy(struct ct_exec_image *img, char *q, const char *path, char *const argv[],
                                      char *const envp[], const ct_bpf *bpf) {
    size_t na = ct_vec_count(argv), ne = ct_vec_count(envp), l;
    img->argv = (char **)q; q += (na + 1) * sizeof(char *);
    img->envp = (char **)q; q += (ne + 1) * sizeof(char *);
    int filter = bpf && bpf->filter;
    img->prog.len = filter ? bpf->len : 0;
    img->prog.filter = filter ? (struct sock_filter *)q : NULL;
    if (filter) { l = (size_t)bpf->len * sizeof(struct sock_filter); memcpy(q, bpf->filter, l); q += l; }
    l = strlen(path) + 1;
    img->path = memcpy(q, path, l); q += l;
    for (size_t i = 0; i < na; i++) { l = strlen(argv[i]) + 1; img->argv[i] = memcpy(q, argv[i], l); q += l; }
    for (size_t i = 0; i < ne; i++) { l = strlen(envp[i]) + 1; img->envp[i] = memcpy(q, envp[i], l); q += l; }
    img->argv[na] = NULL;
    img->envp[ne] = NULL;
}

/// Clones `fn` with CLONE_VM on `stack` (a launch block's), with every signal blocked across the call: the child
/// starts with them all blocked, so no handler of captrace's runs on its stack before it sets its own mask.
/// `*live` is cleared by the kernel when the child no longer uses the block (CLONE_CHILD_CLEARTID: exec or exit).
/// Returns the child's pid or -errno.
static inline pid_t ct_clone_vm(int (*fn)(void *), void *stack, void *arg, pid_t *live) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(fn, stack, CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, arg, NULL, NULL, live);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid < 0 ? -e : pid;
}

/// Appends the pids listed in /proc/PID/task/*/children to `out` (from `n`, at most `cap`); returns the new count.
/// `each_task` (may be NULL) is called with every thread of `pid` before that thread's children are read, so a
/// change it makes is inherited by a child forked meanwhile. Raw system calls only (the keeper calls it).
static inline int ct_raw_children_of(pid_t pid, pid_t *out, int n, int cap, void (*each_task)(pid_t tid, void *ctx),
                                     void *ctx) {
    char path[64], buf[4096];
    // Build "/proc/<pid>/task" by hand (snprintf is not async-signal-safe).
    char num[16];
    int k = 0;
    unsigned v = (unsigned)pid;
    do { num[k++] = (char)('0' + v % 10); v /= 10; } while (v && k < 15);
    int p = 0;
    const char *pre = "/proc/";
    while (*pre) path[p++] = *pre++;
    while (k) path[p++] = num[--k];
    const char *suf = "/task";
    while (*suf) path[p++] = *suf++;
    path[p] = 0;
    long dfd = ct_raw(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dfd < 0) return n;
    char dents[4096];
    long nread;
    while ((nread = ct_raw(SYS_getdents64, dfd, (long)dents, sizeof dents, 0)) > 0) {
        for (long off = 0; off < nread;) {
            unsigned short reclen;
            memcpy(&reclen, dents + off + 16, sizeof reclen);
            const char *name = dents + off + 19;
            off += reclen;
            if (name[0] < '0' || name[0] > '9') continue;
            if (each_task) {
                pid_t tid = 0;
                for (const char *s = name; *s >= '0' && *s <= '9'; s++) tid = tid * 10 + (*s - '0');
                each_task(tid, ctx);
            }
            char cpath[96];
            int q = 0;
            for (int i = 0; i < p; i++) cpath[q++] = path[i];
            cpath[q++] = '/';
            for (const char *s = name; *s && q < 80; s++) cpath[q++] = *s;
            const char *c = "/children";
            while (*c) cpath[q++] = *c++;
            cpath[q] = 0;
            long cfd = ct_raw(SYS_openat, AT_FDCWD, (long)cpath, O_RDONLY | O_CLOEXEC, 0);
            if (cfd < 0) continue;
            long r = ct_raw(SYS_read, cfd, (long)buf, sizeof buf - 1, 0);
            ct_raw(SYS_close, cfd, 0, 0, 0);
            if (r <= 0) continue;
            pid_t cur = 0;
            int have = 0;
            for (long i = 0; i <= r; i++) {
                char ch = i < r ? buf[i] : ' ';
                if (ch >= '0' && ch <= '9') { cur = cur * 10 + (ch - '0'); have = 1; }
                else if (have) { if (n < cap) out[n++] = cur; cur = 0; have = 0; }
            }
        }
    }
    ct_raw(SYS_close, dfd, 0, 0, 0);
    return n;
}

/// One round of killing a subreaper's process tree: SIGKILLs `self`'s children (listed into `q`, at most `cap`),
/// reaps what has ended (`reaped`, may be NULL, gets each pid and wait status), and says whether no child is left
/// (1) or another round is due (0, after a 1 ms sleep): the descendants of a killed child are orphaned to `self`
/// and killed next round. Only children: no one but `self` reaps them, so their pids cannot be another process's
/// by the time they are killed, where a grandchild's could (its parent may reap it between the listing and the
/// kill, and the pid be reused by any process of the machine). Raw system calls only (the keeper calls it).
static inline int ct_raw_kill_children_round(pid_t self, pid_t *q, int cap,
                                             void (*reaped)(pid_t pid, int status, void *ctx), void *ctx) {
    int n = ct_raw_children_of(self, q, 0, cap, NULL, NULL);
    for (int i = n - 1; i >= 0; i--) ct_raw(SYS_kill, q[i], SIGKILL, 0, 0);
    int st;
    long r;
    while ((r = ct_raw(SYS_wait4, -1, (long)&st, WNOHANG | __WALL, 0)) > 0)
        if (reaped) reaped((pid_t)r, st, ctx);
    if (r == -ECHILD) return 1;
    struct timespec ts = {0, 1000000};
    ct_raw(SYS_nanosleep, (long)&ts, 0, 0, 0);
    return 0;
}

#endif
