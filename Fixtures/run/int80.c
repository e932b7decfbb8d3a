/* int80.c PATH — an open through the i386 ABI (int 0x80) from a 64-bit program. Built with -no-pie so that
 * the static path buffer lies in the low 4 GB, where the 32-bit ABI can address it.
 *
 * With --enter-at main the expected violation is exactly one: abi "i386", syscall "open", nr 5,
 * rule absolute-path, path PATH, result >= 0 in observe mode. The close (int 0x80, nr 6) is not a violation.
 * Prints "fd=<result>". Exit status 0.
 */
#include "fixture.h"

static char path_buf[PATH_MAX];

static long int80(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2 || strlen(argv[1]) >= sizeof path_buf) { fprintf(stderr, "usage: int80 PATH\n"); return 2; }
    CHECK((unsigned long)path_buf < 0x100000000UL);
    strcpy(path_buf, argv[1]);
    long fd = int80(5 /* i386 open */, (long)path_buf, O_RDONLY, 0);
    printf("fd=%ld\n", fd);
    if (fd >= 0) int80(6 /* i386 close */, fd, 0, 0);
    return 0;
}
