// Fixture chain link: f0 calls f1 (separate translation unit: no inlining).
int f1(int fd);

int f0(int fd) {
    volatile int r = f1(fd);  // the call line; volatile keeps it from being a tail call at any -O
    return r;
}
