/* Calls that Docker's default seccomp profile refuses, each in a function of its own so the stack names it:
 * add_key (refused by the default action: not on Docker's list), unshare(CLONE_NEWUSER) (on the list only with
 * CAP_SYS_ADMIN), and getpid/read of /dev/null (allowed). Prints what each call got, e.g.
 * "add_key=EPERM unshare=EPERM getpid=ok read=ok", so a test compares the program's view with the trace.
 * With the argument "kill" it calls only getppid before and after calling `personality(0xffffffff)`: a test
 * profile kills the process on personality. */
#include "fixture.h"
#include <sched.h>
#include <sys/syscall.h>

__attribute__((noinline)) long profile_add_key(void) {
    return syscall(SYS_add_key, "user", "captrace-test", "x", 1, -4 /* KEY_SPEC_PROCESS_KEYRING */);
}

__attribute__((noinline)) long profile_unshare(void) { return unshare(CLONE_NEWUSER); }

__attribute__((noinline)) long profile_personality(void) { return syscall(SYS_personality, 0xffffffffUL); }

int main(int argc, char **argv) {
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
