/* affinity.c — prints the CPUs it may run on, as sched_getaffinity (and nproc) see them: cpus=N.
 * Untraced, under --backend notify, and under ptrace with CAPTRACE_NO_PIN=1: as many as its caller has.
 * Under --backend ptrace by default: 1 (the program shares the tracer's CPU; README, "CPU pinning").
 * No violations.
 */
#include "fixture.h"
#include <sched.h>

int main(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) { perror("sched_getaffinity"); return 99; }
    printf("cpus=%d\n", CPU_COUNT(&set));
    return 0;
}
