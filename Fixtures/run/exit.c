/* exit.c HOW — exit status passthrough.
 *   exit.c N      exits with status N                   captrace exits N
 *   exit.c segv   raises SIGSEGV (no core dump)          captrace exits 139 (128 + 11)
 *   exit.c kill   kill(getpid(), SIGKILL)                captrace exits 137 (128 + 9)
 * No violations (signals to itself are not violations).
 */
#include "fixture.h"
#include <signal.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: exit N|segv|kill\n"); return 2; }
    if (!strcmp(argv[1], "segv")) {
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
        return 98;
    }
    if (!strcmp(argv[1], "kill")) {
        kill(getpid(), SIGKILL);
        return 98;
    }
    return atoi(argv[1]);
}
