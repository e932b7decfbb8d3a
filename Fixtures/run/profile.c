/* Calls that Docker's default seccomp profile refuses, each in a function of its own so the stack names it:
 * add_key (refused by the default action: not on Docker's list), unshare(CLONE_NEWUSER) (on the list only with
 * CAP_SYS_ADMIN), and getpid/read of /dev/null (allowed). Prints what each call got, e.g.
 * "add_key=EPERM unshare=EPERM getpid=ok read=ok", so a test compares the program's view with the trace.
 * With the argument "kill" it calls only getppid before and after calling `personality(0xffffffff)`: a test
 * profile kills the process on personality. With "actions" it installs a SIGSYS handler and calls getpgid,
 * getsid and getpriority (Fixtures/policy/actions.json: TRACE, NOTIFY, TRAP), printing each result and how many
 * SIGSYS it received: "trace=ENOSYS notify=ENOSYS trap=ok trap_return=140 sigsys=1" in enforce mode (a TRAP
 * leaves the call's number, 140 for getpriority, as its return value, as the kernel does). */
#include "fixture.h"
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>

static volatile sig_atomic_t sigsys_count;
static void on_sigsys(int sig) { (void)sig; sigsys_count++; }

static int actions(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_sigsys;
    CHECK(sigaction(SIGSYS, &sa, NULL) == 0);
    const char *t = outcome(syscall(SYS_getpgid, 0));
    const char *n = outcome(syscall(SYS_getsid, 0));
    long p = syscall(SYS_getpriority, 0 /* PRIO_PROCESS */, 0);
    /* A signal sent by a supervisor may arrive just after the call returned: wait up to a second for it. */
    for (int i = 0; i < 1000 && sigsys_count == 0; i++) usleep(1000);
    printf("trace=%s notify=%s trap=%s trap_return=%ld sigsys=%d\n", t, n, outcome(p), p, (int)sigsys_count);
    return 0;
}

__attribute__((noinline)) long profile_add_key(void) {
    return syscall(SYS_add_key, "user", "captrace-test", "x", 1, -4 /* KEY_SPEC_PROCESS_KEYRING */);
}

__attribute__((noinline)) long profile_unshare(void) { return unshare(CLONE_NEWUSER); }

__attribute__((noinline)) long profile_personality(void) { return syscall(SYS_personality, 0xffffffffUL); }

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "actions") == 0) return actions();
    if (argc > 1 && strcmp(argv[1], "kill") == 0) {
        printf("before=%s\n", outcome(getppid()));
        fflush(stdout);
        long r = profile_personality();
        printf("after=%s\n", outcome(r));
        return 0;
    }
    long k = profile_add_key();
    const char *ks = outcome(k);
    long u = profile_unshare();
    const char *us = outcome(u);
    long p = getpid();
    char buf[4];
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    long r = read(fd, buf, sizeof buf);
    printf("add_key=%s unshare=%s getpid=%s read=%s\n", ks, us, outcome(p), outcome(r));
    return 0;
}
