// Test-only process helpers (see include/ctrace_test_support.h).
#define _GNU_SOURCE
#include "ctrace_test_support.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t ct_test_spawn(const char *path, char *const argv[], int *stdout_fd) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        // The calling thread's mask (test runners block most signals) must not leak into the fixture.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(p[1], 1);
        execv(path, argv);
        _exit(127);
    }
    close(p[1]);
    if (pid < 0) { close(p[0]); return -1; }
    *stdout_fd = p[0];
    return pid;
}

int ct_test_seize_and_stop(pid_t tid) {
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) return -1;
    if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) return -1;
    for (;;) {
        int st;
        pid_t r = waitpid(tid, &st, __WALL);
        if (r < 0 && errno == EINTR) continue;
        if (r != tid) return -1;
        if (WIFSTOPPED(st)) return 0;
        if (WIFEXITED(st) || WIFSIGNALED(st)) return -1;
    }
}

int ct_test_detach(pid_t tid) {
    return ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0 ? 0 : -1;
}

void ct_test_kill(pid_t pid) {
    kill(pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {}
}
