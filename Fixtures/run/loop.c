/* loop.c — runs until killed, making violations: for interrupting captrace mid-run.
 *
 * After entry (--enter-at main) it forks a child; both touch marker "loop" every 2 ms forever.
 * Prints "pid=<pid>" and "child=<pid>" (unbuffered). Tests send SIGINT to captrace and then expect a trace
 * that ends with its summary line and no process of this program left, stopped or running.
 */
#include "fixture.h"
#include <time.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c > 0) printf("pid=%d\nchild=%d\n", (int)getpid(), (int)c);
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    for (;;) {
        mark("loop");
        nanosleep(&ts, NULL);
    }
}
