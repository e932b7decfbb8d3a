// Fixture library opened with dlopen after the program started: dl_entry -> dl_inner -> read().
#include <unistd.h>

__attribute__((noinline)) long dl_inner(int fd) {
    char c;
    volatile long r = read(fd, &c, 1);
    return r;
}

long dl_entry(int fd) {
    volatile long r = dl_inner(fd);
    return r;
}
