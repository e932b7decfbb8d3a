/* frames.c — stacks the notify backend must unwind exactly as ptrace does (built with -fno-omit-frame-pointer).
 *
 * After entry (--enter-at main) each marker call is made from a chain whose functions keep a frame pointer and
 * whose CFA is found through rbp: with_alloca() carves a variable-size alloca area over the stack space that an
 * earlier call chain (leave_stale_records) just used, so stale return addresses and saved rbps lie between its
 * stack pointer and its real frame record; deep() recurses through frame-pointer frames. The notify backend sees
 * only rsp and rip of a thread parked in a notification and must recover rbp from the stack: these are the
 * cases where a scan that took the first plausible record would name the wrong callers.
 */
#include "fixture.h"
#include <alloca.h>

__attribute__((noinline)) static int leaf(int v) { __asm__ volatile("" ::: "memory"); return v + 1; }
__attribute__((noinline)) static int middle(int v) { int r = leaf(v) * 2; __asm__ volatile("" ::: "memory"); return r; }
__attribute__((noinline)) static int leave_stale_records(int v) {
    volatile char pad[512];
    pad[0] = (char)v;
    return middle(v + pad[0]);
}

__attribute__((noinline)) static void with_alloca(size_t n, const char *tag) {
    (void)leave_stale_records((int)n);
    char *buf = alloca(n);
    memset(buf, 0, 16);  /* the rest keeps what the earlier calls left there */
    mark(tag);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

__attribute__((noinline)) static void deep(int depth, size_t n) {
    if (depth == 0) { with_alloca(n, "deep"); return; }
    deep(depth - 1, n + 64);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
    (void)argv;
    size_t n = 96 + 32 * (size_t)argc;
    for (int i = 0; i < 3; i++) with_alloca(n + 48 * (size_t)i, "alloca");
    deep(5, n);
    printf("frames done\n");
    return 0;
}
