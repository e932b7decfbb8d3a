/* ptrace-floor PROGRAM [ARG...] — the least a ptrace + seccomp supervisor can do per event.
 *
 * Runs PROGRAM (and every process it forks) with newfstatat returning SECCOMP_RET_TRACE, and resumes every stop
 * with PTRACE_CONT without looking at it: no register read, no memory read, no decision, no record, no syscall-exit stop
 * (FLOOR_TRAP_ALL=1 in the environment: every call, not only newfstatat). The
 * supervisor and the program share one CPU, as under captrace's ptrace backend (README, "CPU pinning"). The
 * benchmark's floor for the ptrace rows: captrace cannot be faster than one bare stop per event.
 *
 * FLOOR_STACKS=1: the floor of recording violations with stacks (bench row (f)). The calls of that row that
 * captrace's filter stops trap (path lookups of the exec, access, open and stat families; mmap with PROT_EXEC),
 * and each stop does what any tracer recording a call with its user stack must ask the kernel, once: the call
 * (PTRACE_GET_SYSCALL_INFO), its path (one process_vm_readv), the registers (PTRACE_GETREGS), the stack (one
 * process_vm_readv of 4 KiB at rsp) and the mapping of the pc (one PROCMAP_QUERY on the process's /proc/PID/maps,
 * opened once per process image). Nothing is decoded, unwound, named or written.
 * FLOOR_TRAP_ALL=1 with FLOOR_STACKS=1: the floor of counting every call while recording violations with stacks
 * (bench row (g)): every call stops and its number is asked (PTRACE_GET_SYSCALL_INFO, as a tracer that counts
 * calls must); the calls FLOOR_STACKS stops also ask the rest.
 * Build: gcc -O2 -o ptrace-floor ptrace-floor.c -lseccomp
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor-stacks.h"

/* FLOOR_STACKS: per process, its /proc/PID/maps descriptor plus one (0: none yet, or it exec'd since). Zeroed
   pages from calloc: only the pages of pids that occur are ever touched (filling 16 MiB with -1 at start cost
   the floor ~4,000 page faults before the program ran). */
enum { MAXPID = 1 << 22 };
static int *maps_fd;

static int maps_of(pid_t pid) {
    if (maps_fd[pid] <= 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
        maps_fd[pid] = open(path, O_RDONLY | O_CLOEXEC) + 1;
    }
    return maps_fd[pid] - 1;
}

static void forget(pid_t pid) {
    if (maps_fd[pid] > 0) close(maps_fd[pid] - 1);
    maps_fd[pid] = 0;
}

/* FLOOR_TRAP_ALL=1 with FLOOR_STACKS=1: every call traps, and only the stack calls record. */
static int trap_all;

/* What a stack-recording tracer asks the kernel at a seccomp stop of thread `tid` (process `pid`). */
static void record(pid_t tid, pid_t pid) {
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) <= 0) return;
    if (trap_all && !floor_is_stack_call((int)info.seccomp.nr, (const uint64_t *)info.seccomp.args)) return;
    int at = floor_path_arg((int)info.seccomp.nr);
    char buf[4096];
    if (at >= 0) {
        struct iovec local = {buf, 256}, remote = {(void *)(uintptr_t)info.seccomp.args[at], 256};
        process_vm_readv(pid, &local, 1, &remote, 1, 0);
    }
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, tid, 0, &regs) != 0) return;
    struct iovec local = {buf, sizeof buf}, remote = {(void *)(uintptr_t)regs.rsp, sizeof buf};
    process_vm_readv(pid, &local, 1, &remote, 1, 0);
    floor_query(maps_of(pid), regs.rip);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: ptrace-floor PROGRAM [ARG...]\n"); return 2; }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);  /* the child inherits it */

    /* FLOOR_TRAP_ALL=1: every call stops (the floor of counting every call, bench row (g)). */
    int all = getenv("FLOOR_TRAP_ALL") != NULL;
    int stacks = getenv("FLOOR_STACKS") != NULL;
    scmp_filter_ctx ctx = seccomp_init(all ? SCMP_ACT_TRACE(0) : SCMP_ACT_ALLOW);
    int rc = ctx ? 0 : -1;
    trap_all = all;
    if (ctx && stacks) {
        maps_fd = calloc(MAXPID, sizeof *maps_fd);
        if (!all) rc = floor_stack_rules(ctx, SCMP_ACT_TRACE(0));
    } else if (ctx && !all) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), SCMP_SYS(newfstatat), 0);
    }
    if (rc != 0) {
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
        if (stacks) {
            /* The row's programs have one thread each: the thread is the process (a tracer of threads would
               keep each thread's process, as captrace does). */
            if (event == PTRACE_EVENT_SECCOMP) record(w, w);
            else if (event == PTRACE_EVENT_EXEC) forget(w);
        }
        /* seccomp stops and ptrace-event stops resume plainly; a signal-delivery stop passes the signal on
           (SIGCONT and the first SIGSTOP are swallowed: they were ours) */
        int deliver = (event == 0 && sig != SIGSTOP && sig != SIGCONT && sig != SIGTRAP) ? sig : 0;
        ptrace(PTRACE_CONT, w, 0, deliver);
    }
    return 0;
}
