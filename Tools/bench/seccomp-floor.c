/* seccomp-floor PROGRAM [ARG...] — installs an allow-all seccomp filter (libseccomp), then execs PROGRAM.
 *
 * The benchmark's floor: any installed filter moves every syscall onto the kernel's slow path, which costs
 * ~1.15-1.2x on a syscall-bound program by itself. A seccomp-based tracer cannot do better than this on
 * syscalls it does not stop. Build: gcc -O2 -o seccomp-floor seccomp-floor.c -lseccomp
 */
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: seccomp-floor PROGRAM [ARG...]\n"); return 2; }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) { fprintf(stderr, "seccomp-floor: seccomp_init failed\n"); return 1; }
    int rc = seccomp_load(ctx);  /* sets PR_SET_NO_NEW_PRIVS itself (SCMP_FLTATR_CTL_NNP defaults to on) */
    seccomp_release(ctx);
    if (rc < 0) { fprintf(stderr, "seccomp-floor: seccomp_load: %s\n", strerror(-rc)); return 1; }
    execvp(argv[1], argv + 1);
    perror("seccomp-floor: exec");
    return 127;
}
