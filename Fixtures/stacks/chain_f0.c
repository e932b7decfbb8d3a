// Fixture chain link: f0 calls f1 (separate translation unit: no inlining).
int f1(int fd);

int f0(int fd) {
    int r = f1(fd);
    return r + 0 * fd;  // keep the call from being a tail call
}
