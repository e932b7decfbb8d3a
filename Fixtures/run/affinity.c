/* affinity.c — the CPUs the program may run on (README, "CPU pinning").
 *
 * No argument: prints cpus=N as sched_getaffinity (and nproc) see them, and makes no violation. Untraced, and with
 * CAPTRACE_NO_PIN=1: as many as its caller has; traced: 1 (the program shares the supervisor's CPU from its exec
 * on; this very call stops under notify, which pins it again if it had been given its CPUs back).
 *
 * `wait`: prints pid=N, then waits for signals, making no trapped call, so the test can read its affinity from
 * /proc while it is quiet. SIGUSR1 toggles between that and busy: a violation (mark "again") every 5 ms, so that it
 * stays pinned however late the test looks; it prints "busy" after the first violation and "quiet" when it stops.
 * SIGUSR2: exits 0. `own`: first sets its own affinity to one CPU other than the one it runs on (0 or 1), prints
 * own=K beside pid=N, then does as `wait` does: captrace must leave an affinity the program chose as it is.
 */
#include "fixture.h"
#include <sched.h>
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t got;
static void on_signal(int sig) { got = sig; }

static int wait_for_signals(void) {
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &none);
    printf("pid=%d\n", (int)getpid());
    fflush(stdout);
    for (;;) {
        while (!got) sigsuspend(&none);  // quiet: no trapped call
        if (got == SIGUSR2) return 0;
        got = 0;
        mark("again");
        printf("busy\n");
        fflush(stdout);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct timespec ts = {0, 5000000};
        while (!got) {
            nanosleep(&ts, NULL);
            mark("again");
        }
        sigprocmask(SIG_BLOCK, &block, NULL);
        if (got == SIGUSR2) return 0;
        got = 0;
        printf("quiet\n");
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "wait") == 0) return wait_for_signals();
    if (argc > 1 && strcmp(argv[1], "own") == 0) {
        int other = sched_getcpu() == 0 ? 1 : 0;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(other, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) { perror("sched_setaffinity"); return 99; }
        printf("own=%d\n", other);
        return wait_for_signals();
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) { perror("sched_getaffinity"); return 99; }
    printf("cpus=%d\n", CPU_COUNT(&set));
    return 0;
}
