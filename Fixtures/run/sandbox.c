/* sandbox.c STEP — the `sandbox` trigger: capability mode begins right after the program's own first
 * sandboxing step. STEP is one of:
 *   nnp            prctl(PR_SET_NO_NEW_PRIVS, 1)
 *   seccomp        seccomp(SECCOMP_SET_MODE_FILTER) with an allow-all filter
 *   seccomp-prctl  prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) with an allow-all filter
 *   landlock       landlock_restrict_self() with a ruleset that handles only MAKE_SOCK
 *   unshare        unshare(CLONE_NEWUTS)
 *   chroot         chroot(cwd)
 * With --enter-at sandbox the expected violations are exactly the marker "after" (the step itself and the
 * marker "before" are not recorded), and one enter event with trigger "sandbox". Prints "step=ok".
 * Exit status 0.
 */
#include "fixture.h"
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static struct sock_filter allow_all[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
static struct sock_fprog allow_prog = { .len = 1, .filter = allow_all };

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: sandbox STEP\n"); return 2; }
    const char *step = argv[1];
    long r;
    (void)cwd();
    mark("before");
    if (!strcmp(step, "nnp")) {
        r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    } else if (!strcmp(step, "seccomp")) {
        r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &allow_prog);
    } else if (!strcmp(step, "seccomp-prctl")) {
        r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &allow_prog, 0, 0);
    } else if (!strcmp(step, "landlock")) {
        struct landlock_ruleset_attr attr = { .handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_SOCK };
        long fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
        CHECK(fd >= 0);
        r = syscall(SYS_landlock_restrict_self, fd, 0);
    } else if (!strcmp(step, "unshare")) {
        r = unshare(CLONE_NEWUTS);
    } else if (!strcmp(step, "chroot")) {
        r = chroot(cwd());
    } else {
        fprintf(stderr, "unknown step %s\n", step);
        return 2;
    }
    printf("step=%s\n", outcome(r));
    mark("after");
    return 0;
}
