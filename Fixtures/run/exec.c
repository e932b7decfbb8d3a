/* exec.c first|second — in observe mode capability mode survives an exec.
 *
 * "first": after cap_enter() (--enter-at symbol:cap_enter) it execs itself (argv[0]) with "second": an execve
 * violation (rule exec, path argv[0], allowed). "second" touches marker "after-exec" without calling
 * cap_enter(): a violation with the same pid, recorded because the mode was kept across the exec.
 * Exit status 0.
 */
#include "fixture.h"

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: exec first|second\n"); return 2; }
    if (!strcmp(argv[1], "second")) {
        mark("after-exec");
        printf("pid=%d\n", (int)getpid());
        return 0;
    }
    cap_enter();
    char *const args[] = { argv[0], "second", NULL };
    execv(argv[0], args);
    perror("execv");
    return 99;
}
