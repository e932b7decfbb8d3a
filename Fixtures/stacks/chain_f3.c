// Fixture chain link: f3 blocks in read() on a pipe nobody writes.
#include <unistd.h>

int f3(int fd) {
    char c;
    long r = read(fd, &c, 1);
    return (int)r + 0 * fd;  // keep read from being a tail call
}
