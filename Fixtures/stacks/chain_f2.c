// Fixture chain link: f2 calls f3 (separate translation unit: no inlining).
int f3(int fd);

int f2(int fd) {
    volatile int r = f3(fd);  // the call line; volatile keeps it from being a tail call at any -O
    return r;
}
