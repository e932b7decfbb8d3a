/* libremap.c — built with -DREMAP_PATH="\"/some/path\"" (see remap.c): lib_call opens that path. */
#include <fcntl.h>
#include <unistd.h>

__attribute__((noinline)) int lib_call(void) {
    int fd = open(REMAP_PATH, O_RDONLY);
    if (fd >= 0) close(fd);
    return fd;
}
