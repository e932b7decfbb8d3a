// Fixture chain link: f2 calls f3 (separate translation unit: no inlining).
int f3(int fd);

int f2(int fd) {
    int r = f3(fd);
    return r + 0 * fd;  // keep the call from being a tail call
}
