/* fstatat-loop N — makes N fstatat(AT_FDCWD, ".", ...) calls from main, each a cwd-relative filesystem
 * violation after entry (--enter-at main), through a few nested frames so that stacks have some depth.
 * Build: gcc -O1 -g -o fstatat-loop fstatat-loop.c
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

__attribute__((noinline)) static int probe(struct stat *st) { return fstatat(AT_FDCWD, ".", st, 0); }
__attribute__((noinline)) static int level2(struct stat *st) { int r = probe(st); __asm__ volatile(""); return r; }
__attribute__((noinline)) static int level1(struct stat *st) { int r = level2(st); __asm__ volatile(""); return r; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    struct stat st;
    long failed = 0;
    for (long i = 0; i < n; i++) failed += level1(&st) != 0;
    if (failed) { fprintf(stderr, "fstatat-loop: %ld calls failed\n", failed); return 1; }
    return 0;
}
