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

#endif
