/* enforce.c — enforce mode: violations fail with --deny-errno, everything else works.
 *
 * Before cap_enter() it creates box/sub/file and holds dirfd = open("box"). After entry
 * (--enter-at symbol:cap_enter --mode enforce [--deny-errno E]) it prints one line per call:
 *   absolute=<E>     open("<cwd>/box/sub/file")        openat  denied, errno E
 *   relative=ok      openat(dirfd, "sub/file")         not a violation: it works
 *   fstat=ok         fstat of that descriptor          not a violation
 *   exec=<E>         execv("/bin/true")                execve  rule exec, denied, errno E (the program goes on)
 * Exit status 0.
 */
#include "fixture.h"
#include <sys/stat.h>

int main(void) {
    char p[PATH_MAX + 64];
    CHECK(mkdir("box", 0755) == 0 && mkdir("box/sub", 0755) == 0);
    int t = open("box/sub/file", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0); close(t);
    int dirfd = open("box", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    snprintf(p, sizeof p, "%s/box/sub/file", cwd());
    setvbuf(stdout, NULL, _IONBF, 0);

    cap_enter();

    printf("absolute=%s\n", outcome(open(p, O_RDONLY)));
    int fd = openat(dirfd, "sub/file", O_RDONLY);
    printf("relative=%s\n", outcome(fd));
    struct stat st;
    printf("fstat=%s\n", fd >= 0 ? outcome(fstat(fd, &st)) : "skipped");
    char *const args[] = { "true", NULL };
    execv("/bin/true", args);
    printf("exec=%s\n", strerrorname_np(errno));
    return 0;
}
