// Fixture chain link: f1 calls f2 (separate translation unit: no inlining).
int f2(int fd);

int f1(int fd) {
    volatile int r = f2(fd);  // the call line; volatile keeps it from being a tail call at any -O
    return r;
}
