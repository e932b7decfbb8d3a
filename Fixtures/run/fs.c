/* fs.c — the filesystem namespace and its non-violation twins.
 *
 * Before cap_enter() it creates box/sub/file and box/..foo under the current directory and holds
 * dirfd = open("box", O_DIRECTORY), printing "dirfd=<n>" (the enter event lists it: a directory, <cwd>/box).
 * After it (--enter-at symbol:cap_enter), in this order:
 *   openat(dirfd, "sub/file")                  not a violation (relative to a held directory)
 *   openat(dirfd, "..foo")                     not a violation (a name starting with "..", not "..")
 *   fstat(fd)                                  not a violation (glibc: newfstatat(fd, "", AT_EMPTY_PATH))
 *   newfstatat(fd, "", AT_EMPTY_PATH) raw      not a violation
 *   fstatat(dirfd, "sub/file", 0)              not a violation
 *   open("<cwd>/box/sub/file")                 openat      absolute-path  path <cwd>/box/sub/file
 *   openat(AT_FDCWD, "box/sub/file")           openat      cwd-relative   path <cwd>/box/sub/file
 *   openat(dirfd, "../box/sub/file")           openat      dotdot-escape  path <cwd>/box/../box/sub/file
 *   fstatat(AT_FDCWD, "box", NOFOLLOW)         newfstatat  cwd-relative   path <cwd>/box
 *   mkdir("<cwd>/newdir")                      mkdir       absolute-path  path <cwd>/newdir
 * All succeed in observe mode (results >= 0); prints "done". Exit status 0.
 */
#include "fixture.h"
#include <sys/stat.h>
#include <sys/syscall.h>

int main(void) {
    char p[PATH_MAX + 64];
    CHECK(mkdir("box", 0755) == 0 && mkdir("box/sub", 0755) == 0);
    int t = open("box/sub/file", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0); close(t);
    t = open("box/..foo", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0); close(t);
    int dirfd = open("box", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    (void)cwd();
    printf("dirfd=%d\n", dirfd);

    cap_enter();

    struct stat st;
    int fd = openat(dirfd, "sub/file", O_RDONLY);
    CHECK(fd >= 0);
    int dots = openat(dirfd, "..foo", O_RDONLY);
    CHECK(dots >= 0);
    CHECK(fstat(fd, &st) == 0);
    CHECK(syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) == 0);
    CHECK(fstatat(dirfd, "sub/file", &st, 0) == 0);

    snprintf(p, sizeof p, "%s/box/sub/file", cwd());
    int a = open(p, O_RDONLY);
    CHECK(a >= 0);
    int c = openat(AT_FDCWD, "box/sub/file", O_RDONLY);
    CHECK(c >= 0);
    int e = openat(dirfd, "../box/sub/file", O_RDONLY);
    CHECK(e >= 0);
    CHECK(fstatat(AT_FDCWD, "box", &st, AT_SYMLINK_NOFOLLOW) == 0);
    snprintf(p, sizeof p, "%s/newdir", cwd());
    CHECK(mkdir(p, 0755) == 0);
    printf("done\n");
    return 0;
}
