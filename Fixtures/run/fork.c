/* fork.c — capability mode and processes: inherited by children forked after entry, not by those before.
 *
 * Before cap_enter() it forks child A, which blocks on a pipe. After entry (--enter-at symbol:cap_enter) the
 * parent touches marker "parent", releases A, which touches "child-before" (A is not in capability mode: no
 * violation), then forks child B, which touches "child-after" (a violation with B's pid).
 * Prints "parent=<pid>", "before=<A's pid>", "after=<B's pid>". Exit status 0.
 */
#include "fixture.h"
#include <sys/wait.h>

int main(void) {
    int go[2];
    CHECK(pipe(go) == 0);
    (void)cwd();
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(98);
        mark("child-before");
        _exit(0);
    }
    close(go[0]);

    cap_enter();

    mark("parent");
    CHECK(write(go[1], "g", 1) == 1);
    int status;
    CHECK(waitpid(a, &status, 0) == a && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pid_t b = fork();
    CHECK(b >= 0);
    if (b == 0) { mark("child-after"); _exit(0); }
    CHECK(waitpid(b, &status, 0) == b && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("parent=%d\nbefore=%d\nafter=%d\n", (int)getpid(), (int)a, (int)b);
    return 0;
}
