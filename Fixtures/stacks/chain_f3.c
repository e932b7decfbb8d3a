// Fixture chain link: f3 blocks in read() on a pipe nobody writes.
#include <unistd.h>

int f3(int fd) {
    char c;
    volatile long r = read(fd, &c, 1);  // the call line; volatile keeps read from being a tail call
    return (int)r;
}
