// Fixture library (linked at build time as libstackshared.so): lib_entry -> lib_inner -> read().
#include <unistd.h>

__attribute__((noinline)) long lib_inner(int fd) {
    char c;
    volatile long r = read(fd, &c, 1);
    return r;
}

long lib_entry(int fd) {
    volatile long r = lib_inner(fd);
    return r;
}
