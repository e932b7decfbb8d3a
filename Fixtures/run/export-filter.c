/* export-filter.c OUT — writes a seccomp filter built with libseccomp (seccomp_export_bpf) to OUT, in the
 * form `bwrap --seccomp FD` reads: every call allowed but uname, which fails with EPERM. Exit status 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: export-filter OUT\n"); return 2; }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(uname), 0) != 0) return 1;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || seccomp_export_bpf(ctx, fd) != 0) { perror(argv[1]); return 1; }
    close(fd);
    seccomp_release(ctx);
    return 0;
}
