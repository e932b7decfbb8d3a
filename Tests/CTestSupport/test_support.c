// Test-only process helpers (see include/ctrace_test_support.h).
#define _GNU_SOURCE
#include "ctrace_test_support.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
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

pid_t ct_test_spawn_stopped_at_exec(const char *path, char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) { dup2(null, 1); dup2(null, 2); }
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        execv(path, argv);
        _exit(127);
    }
    if (pid < 0) return -1;
    bool options = false;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, __WALL);
        if (r < 0 && errno == EINTR) continue;
        if (r != pid || !WIFSTOPPED(st)) break;
        if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) return pid;
        if (!options && WSTOPSIG(st) == SIGSTOP) {
            options = true;
            if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) != 0) break;
            if (ptrace(PTRACE_CONT, pid, NULL, NULL) != 0) break;
            continue;
        }
        if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(st)) != 0) break;
    }
    ct_test_kill(pid);
    return -1;
}

struct seccomp_run_shared {
    volatile int installed;  // 0: not yet, 1: installed, <0: -errno of seccomp(2)
    volatile int current;
    volatile int done;
    volatile int results[];
};

int ct_test_seccomp_run(const void *prog, unsigned short len, const long *nrs, const unsigned long *args, int count,
                        int *out) {
    size_t size = sizeof(struct seccomp_run_shared) + sizeof(int) * (size_t)count;
    struct seccomp_run_shared *sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) return -errno;
    int start = 0, rc = 0;
    while (start < count) {
        sh->installed = 0; sh->done = 0; sh->current = start;
        pid_t pid = fork();
        if (pid < 0) { rc = -errno; break; }
        if (pid == 0) {
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            struct sock_fprog fp = { .len = len, .filter = (struct sock_filter *)prog };
            if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0) { sh->installed = -errno; _exit(0); }
            sh->installed = 1;
            for (int i = start; i < count; i++) {
                sh->current = i;
                const unsigned long *a = args + 6 * i;
                errno = 0;
                long r = syscall(nrs[i], a[0], a[1], a[2], a[3], a[4], a[5]);
                sh->results[i] = r == -1 ? errno : (r == 0 ? 0 : -2);
            }
            sh->done = 1;
            for (;;) __atomic_thread_fence(__ATOMIC_SEQ_CST);  // every call is filtered now: spin until killed
        }
        int status = 0;
        struct timespec nap = { 0, 50000 };
        for (;;) {
            if (sh->done) { kill(pid, SIGKILL); waitpid(pid, &status, 0); break; }
            if (waitpid(pid, &status, WNOHANG) == pid) break;
            nanosleep(&nap, NULL);
        }
        if (sh->installed < 0) { rc = sh->installed; break; }
        if (sh->done) { for (int i = start; i < count; i++) out[i] = sh->results[i]; break; }
        // Killed by the call it was making.
        for (int i = start; i < sh->current; i++) out[i] = sh->results[i];
        out[sh->current] = -1;
        start = sh->current + 1;
    }
    munmap(sh, size);
    return rc;
}
