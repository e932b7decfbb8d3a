/* proc.c — the process namespace: signals aimed at the caller itself vs another process.
 *
 * Before cap_enter() it forks a child that waits in pause(); prints "child=<pid>" and "pid=<pid>".
 * After it (--enter-at symbol:cap_enter), in this order:
 *   kill(getpid(), 0)          not a violation (the caller itself)
 *   tgkill(getpid(), gettid(), 0)  not a violation
 *   kill(0, 0)                 kill  process-group  (the caller's process group)
 *   kill(child, SIGKILL)       kill  other-process
 *   waitpid(child)             not a violation (own child)
 * Prints "done". Exit status 0. The child (forked before entry) makes no violation.
 */
#include "fixture.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(void) {
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) { for (;;) pause(); }
    printf("child=%d\npid=%d\n", (int)child, (int)getpid());
    fflush(stdout);

    cap_enter();

    CHECK(kill(getpid(), 0) == 0);
    CHECK(syscall(SYS_tgkill, getpid(), gettid(), 0) == 0);
    CHECK(kill(0, 0) == 0);
    CHECK(kill(child, SIGKILL) == 0);
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    printf("done\n");
    return 0;
}
