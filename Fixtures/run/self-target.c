/* Calls that name a process, a group or a clock by number, each once for the caller itself and once for another
 * process (its parent). Capability mode allows the first kind (pid 0, who 0, setpgid(0, 0), a system clock) and
 * the filter lets them pass without a stop; the second kind must still be recorded, on both backends. */
#include "fixture.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

int main(void) {
    pid_t other = getppid();
    struct rlimit r;
    cpu_set_t set;
    struct timespec ts = {0, 1000};
    clockid_t other_cpu = (~(clockid_t)other << 3) | 2;  /* CPU clock of another process (MAKE_PROCESS_CPUCLOCK) */
    cwd();  /* read before entry: getcwd is a lookup from the current directory */
    cap_enter();
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r) == 0);
    syscall(SYS_prlimit64, other, RLIMIT_NOFILE, NULL, &r);
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    sched_getaffinity(other, sizeof set, &set);
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) == 0);
    syscall(SYS_clock_gettime, other_cpu, &ts);
    errno = 0;
    syscall(SYS_getpriority, PRIO_PROCESS, 0);
    syscall(SYS_getpriority, PRIO_PROCESS, other);
    setpgid(0, 0);
    mark("done");
    return 0;
}
