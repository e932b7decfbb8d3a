/* ptrace-floor PROGRAM [ARG...] — the least a ptrace + seccomp supervisor can do per event.
 *
 * Runs PROGRAM (and every process it forks) with newfstatat returning SECCOMP_RET_TRACE, and resumes every stop
 * with PTRACE_CONT without looking at it: no register read, no memory read, no decision, no record, no syscall-exit stop
 * (FLOOR_TRAP_ALL=1 in the environment: every call, not only newfstatat). The
 * supervisor and the program share one CPU, as under captrace's ptrace backend (README, "CPU pinning"). The
 * benchmark's floor for the ptrace rows: captrace cannot be faster than one bare stop per event.
 * Build: gcc -O2 -o ptrace-floor ptrace-floor.c -lseccomp
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: ptrace-floor PROGRAM [ARG...]\n"); return 2; }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);  /* the child inherits it */

    /* FLOOR_TRAP_ALL=1: every call stops (the floor of counting every call, bench row (g)). */
    int all = getenv("FLOOR_TRAP_ALL") != NULL;
    scmp_filter_ctx ctx = seccomp_init(all ? SCMP_ACT_TRACE(0) : SCMP_ACT_ALLOW);
    if (!ctx || (!all && seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), SCMP_SYS(newfstatat), 0) != 0)) {
        fprintf(stderr, "ptrace-floor: cannot build the filter\n");
        return 1;
    }
    pid_t c = fork();
    if (c < 0) { perror("fork"); return 1; }
    if (c == 0) {
        raise(SIGSTOP);  /* wait to be seized: a TRACE filter without a tracer fails calls with ENOSYS */
        if (seccomp_load(ctx) < 0) _exit(126);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int st;
    if (waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st)) return 1;
    /* Every process and thread the program makes is followed (their trapped calls would fail without a tracer),
       so the floor also pays the fork, clone and exec stops a tracer of a process tree cannot avoid. */
    long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK
                | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;
    if (ptrace(PTRACE_SEIZE, c, 0, opts) != 0) { perror("seize"); return 1; }
    kill(c, SIGCONT);
    for (;;) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0) { if (errno == EINTR) continue; break; }
        if (WIFEXITED(st)) { if (w == c) return WEXITSTATUS(st); continue; }
        if (WIFSIGNALED(st)) { if (w == c) return 128 + WTERMSIG(st); continue; }
        int sig = WSTOPSIG(st), event = st >> 16;
        /* seccomp stops and ptrace-event stops resume plainly; a signal-delivery stop passes the signal on
           (SIGCONT and the first SIGSTOP are swallowed: they were ours) */
        int deliver = (event == 0 && sig != SIGSTOP && sig != SIGCONT && sig != SIGTRAP) ? sig : 0;
        ptrace(PTRACE_CONT, w, 0, deliver);
    }
    return 0;
}
