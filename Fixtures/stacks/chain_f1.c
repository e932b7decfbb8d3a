// Fixture chain link: f1 calls f2 (separate translation unit: no inlining).
int f2(int fd);

int f1(int fd) {
    int r = f2(fd);
    return r + 0 * fd;  // keep the call from being a tail call
}
