// Fixture: main -> f0 -> f1 -> f2 -> f3 -> read() on a pipe nobody writes, so the test can stop it there.
// Each function lives in its own translation unit (chain_f*.c) so no inlining can flatten the chain.
#include <stdio.h>
#include <unistd.h>

int f0(int fd);

int main(void) {
    int p[2];
    if (pipe(p) != 0) return 1;
    // Tell the test we are about to block (the test waits for this line).
    printf("ready\n");
    fflush(stdout);
    return f0(p[0]) == 0 ? 0 : 2;
}
