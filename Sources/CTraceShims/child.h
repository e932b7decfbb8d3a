// The first steps of a child between fork and exec, shared by both launchers (ptrace.c, notify.c).
// Only async-signal-safe calls: Swift must not run here, and neither may malloc.
#ifndef CTRACE_CHILD_H
#define CTRACE_CHILD_H

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/// Reports errno to the parent through the exec-error pipe and dies.
static inline void ct_child_fail(int fd, int err) {
    ssize_t w = write(fd, &err, sizeof err);
    (void)w;
    _exit(127);
}

/// The CPU affinity captrace had before it pinned its tracer thread (ptrace.c): the program gets it back.
extern cpu_set_t ct_original_affinity;
extern int ct_original_affinity_saved;

/// Unblocks every signal (the caller's mask is inherited through fork), optionally gives back the CPU affinity
/// captrace had before pinning its tracer thread (`restore_affinity`; otherwise the program shares the tracer's
/// CPU), dies with the parent, waits for the parent's go byte on `go_fd`, then sets PR_SET_NO_NEW_PRIVS (needed to
/// install a seccomp filter unprivileged).
static inline void ct_child_prepare(int go_fd, int err_fd, int restore_affinity) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (restore_affinity && ct_original_affinity_saved) sched_setaffinity(0, sizeof ct_original_affinity, &ct_original_affinity);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char c;
    ssize_t r;
    do { r = read(go_fd, &c, 1); } while (r < 0 && errno == EINTR);
    if (r != 1) _exit(127);
    close(go_fd);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ct_child_fail(err_fd, errno);
}

#endif
