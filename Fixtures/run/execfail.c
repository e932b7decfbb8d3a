/* execfail.c [second DIR] — an exec that fails is no exec: the process goes on in its image, in capability mode.
 *
 * After cap_enter() (--enter-at symbol:cap_enter) the parent forks a child. The child's execv of a path that does
 * not exist fails; it touches marker "child-after-failed-exec"; it then execs itself with "second <cwd>", which
 * touches "child-second". The parent, once the child is done, fails an execv too, touches "parent-after-failed-exec"
 * and execs itself with "second", which touches "parent-second". So the child and the parent each have exactly one
 * exec event, each after its failed attempt's marker. Prints "parent=<pid>", "child=<pid>". Exit status 0.
 */
#include "fixture.h"
#include <sys/wait.h>

static void exec_self(const char *self, char *dir, const char *tag) {
    char *const args[] = { (char *)self, "second", dir, (char *)tag, NULL };
    execv(self, args);
    perror("execv");
    _exit(99);
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "second")) {
        if (strlen(argv[2]) >= sizeof fixture_cwd) return 2;
        strcpy(fixture_cwd, argv[2]);
        mark(argv[3]);
        return 0;
    }
    char *dir = (char *)cwd();
    printf("parent=%d\n", (int)getpid());
    fflush(stdout);
    cap_enter();
    char *const none[] = { "/nonexistent/captrace-no-such-program", NULL };
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        CHECK(execv(none[0], none) < 0);
        mark("child-after-failed-exec");
        exec_self(argv[0], dir, "child-second");
    }
    int status;
    CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("child=%d\n", (int)c);
    fflush(stdout);
    CHECK(execv(none[0], none) < 0);
    mark("parent-after-failed-exec");
    exec_self(argv[0], dir, "parent-second");
    return 99;
}
