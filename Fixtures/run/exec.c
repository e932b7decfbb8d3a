/* exec.c first|second DIR — in observe mode capability mode survives an exec.
 *
 * "first": after cap_enter() (--enter-at symbol:cap_enter) it execs itself (argv[0]) with "second <cwd>": an
 * execve violation (rule exec, path argv[0], allowed). The new image's dynamic loader then opens its libraries
 * (violations too: the mode was kept). "second" touches marker "after-exec" in DIR without calling cap_enter()
 * (and without getcwd): a violation with the same pid. Exit status 0.
 */
#include "fixture.h"

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: exec first|second\n"); return 2; }
    if (!strcmp(argv[1], "second")) {
        if (argc < 3 || strlen(argv[2]) >= sizeof fixture_cwd) return 2;
        strcpy(fixture_cwd, argv[2]);
        mark("after-exec");
        printf("pid=%d\n", (int)getpid());
        return 0;
    }
    char *dir = (char *)cwd();
    cap_enter();
    char *const args[] = { argv[0], "second", dir, NULL };
    execv(argv[0], args);
    perror("execv");
    return 99;
}
