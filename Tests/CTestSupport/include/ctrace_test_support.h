// CTestSupport: C helpers only tests call (prefix `ct_test_`); no production target depends on it.
// Why C: the fixture must start with an empty signal mask (test runners block most signals) and nothing but
// async-signal-safe calls may run between fork and exec; ptrace is variadic.
#ifndef CTRACE_TEST_SUPPORT_H
#define CTRACE_TEST_SUPPORT_H

#include <sys/types.h>

/// fork+exec `path` with `argv`, its stdout on a pipe returned in *stdout_fd. Returns the pid or -1.
pid_t ct_test_spawn(const char *path, char *const argv[], int *stdout_fd);
/// PTRACE_SEIZE + PTRACE_INTERRUPT, then waits (waitpid on this pid, __WALL) until it is stopped; the calling
/// thread becomes the tracer. 0 or -1.
int ct_test_seize_and_stop(pid_t tid);
/// PTRACE_DETACH. 0 or -1.
int ct_test_detach(pid_t tid);
/// SIGKILL and reap.
void ct_test_kill(pid_t pid);
/// fork+exec `path` with `argv` (stdout and stderr to /dev/null) traced by the calling thread, and waits until
/// the exec has happened: the new image is ptrace-stopped at its exec event, before its first instruction (in
/// its dynamic loader, if it has one). Returns the pid (end it with ct_test_kill) or -1.
pid_t ct_test_spawn_stopped_at_exec(const char *path, char *const argv[]);
/// Runs calls through the kernel's seccomp: a forked child sets PR_SET_NO_NEW_PRIVS, installs the classic BPF
/// program `prog` (`len` struct sock_filter, 8 bytes each) with seccomp(2), then makes call i = 0..<count as
/// syscall(nrs[i], args[6i]..args[6i+5]). Every return of `prog` must be an ERRNO action, so no call runs.
/// `out[i]`: the errno the call failed with (0 when it returned 0), or -1 when it killed the child (later calls
/// are then made by a new child). The child makes no other call after the install (results go through shared
/// memory; it is killed at the end). Returns 0, or -errno of the install (e.g. -EINVAL: the kernel refused it).
int ct_test_seccomp_run(const void *prog, unsigned short len, const long *nrs, const unsigned long *args, int count,
                        int *out);

#endif
