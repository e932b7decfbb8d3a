/* newer.c — syscalls newer than the UAPI headers the catalog is generated from (Linux 6.6+), called by number.
 *
 * Before cap_enter() it creates f and holds dirfd = open(".", O_DIRECTORY). After it (--enter-at
 * symbol:cap_enter), in this order:
 *   fchmodat2(dirfd, "f", 0644, 0)                       not a violation (relative to a held directory)
 *   fchmodat2(AT_FDCWD, "<cwd>/f", 0644, 0)              fchmodat2   absolute-path  path <cwd>/f
 *   setxattrat(AT_FDCWD, "f", 0, "user.a", NULL, 0)      setxattrat  cwd-relative   path <cwd>/f
 *   statmount(NULL, NULL, 0, 0)                          statmount   system-state
 * Results are not checked (a kernel without these calls returns ENOSYS; the filter still stops them by number).
 * Prints "done". Exit status 0.
 */
#include "fixture.h"
#include <sys/syscall.h>

enum { NR_fchmodat2 = 452, NR_statmount = 457, NR_setxattrat = 463 };

int main(void) {
    char p[PATH_MAX + 64];
    int t = open("f", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0); close(t);
    int dirfd = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    (void)cwd();

    cap_enter();

    (void)syscall(NR_fchmodat2, dirfd, "f", 0644, 0);
    snprintf(p, sizeof p, "%s/f", cwd());
    (void)syscall(NR_fchmodat2, AT_FDCWD, p, 0644, 0);
    (void)syscall(NR_setxattrat, AT_FDCWD, "f", 0, "user.a", NULL, 0);
    (void)syscall(NR_statmount, NULL, NULL, 0, 0);
    printf("done\n");
    return 0;
}
