/* Restricts itself with Landlock, then reads a file outside its rules.
 *
 *   landlock DIR   handle read_file, read_dir, write_file, make_reg; allow read_file and read_dir beneath DIR
 *                  only; then read_outside() opens /etc/hostname (outside DIR).
 *   landlock DIR PROGRAM ARG...
 *                  the same restriction, then exec PROGRAM (a wrapper, as landrun): the domain survives exec and
 *                  PROGRAM's children inherit it.
 *
 * Prints "restricted" after landlock_restrict_self, then "open /etc/hostname: <strerror>" (expected: Permission
 * denied) and exits 1, or "read /etc/hostname" and exits 0 if the open worked. Exits 2 when Landlock cannot be
 * set up. read_outside() is a function of its own (noinline) so that the refusal's stack names it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) static int restrict_beneath(const char *dir) {
    struct landlock_ruleset_attr attr = {
        .handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_WRITE_FILE
                             | LANDLOCK_ACCESS_FS_MAKE_REG,
    };
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) { perror("landlock_create_ruleset"); return -1; }
    struct landlock_path_beneath_attr rule = {
        .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
        .parent_fd = open(dir, O_PATH | O_CLOEXEC),
    };
    if (rule.parent_fd < 0) { perror(dir); return -1; }
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0) { perror("landlock_add_rule"); return -1; }
    close(rule.parent_fd);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { perror("prctl"); return -1; }
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) { perror("landlock_restrict_self"); return -1; }
    close(ruleset);
    printf("restricted\n");
    return 0;
}

__attribute__((noinline)) static int read_outside(void) {
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    if (fd < 0) { printf("open /etc/hostname: %s\n", strerror(errno)); return 1; }
    close(fd);
    printf("read /etc/hostname\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: landlock DIR\n"); return 2; }
    if (restrict_beneath(argv[1]) < 0) return 2;
    fflush(stdout);
    if (argc > 2) {
        execv(argv[2], argv + 2);
        perror(argv[2]);
        return 127;
    }
    return read_outside();
}
