// ct_self_build_id: see ctrace_self.h. And the first constructors: the Swift runtime's argv kept, the signal state
// captrace was started with saved (for the program), the executable's .bss made writable at once.
#define _GNU_SOURCE
#include "ctrace_self.h"

#include <elf.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  /* Linux 5.14 */
#endif

struct want { uint8_t *buf; int cap; int len; };

static int first_object(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    struct want *w = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *n;
            const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
            const uint8_t *next = desc + ((n->n_descsz + 3) & ~3u);
            if (next > end) break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 && n->n_descsz > 0) {
                int len = (int)n->n_descsz < w->cap ? (int)n->n_descsz : w->cap;
                memcpy(w->buf, desc, (size_t)len);
                w->len = len;
                return 1;
            }
            p = next;
        }
    }
    return 1;  // only the executable itself
}

int ct_self_build_id(uint8_t *buf, int cap) {
    struct want w = {buf, cap, 0};
    if (cap <= 0) return 0;
    dl_iterate_phdr(first_object, &w);
    return w.len;
}

extern char _end[];

/// Where the populate below starts. The release link (Tools/text-order.txt) places the .bss buffers a start never
/// or barely touches before it: the unwinder's rbp memo, the Swift runtime's 64 KB initial metadata pool (written
/// first, so never copied) and its crash handler's stacks, 23 of the 62 pages. Another link places it wherever its
/// object's .bss falls, and less is populated (a slower start, nothing else).
__attribute__((section(".bss.ct_bss_populated"))) char ct_bss_populated;

/// The same for the syscall catalog's row objects in .data (the Swift compiler's static arrays of its rows'
/// arguments, ~13 pages): each object's header is written when the catalog is first used, on the warm-up thread
/// while the main thread runs on the other CPU, and the pages ld.so did not relocate had been read before (mapped
/// from the file, read-only): each write copied a page and flushed the other CPU's TLB by an IPI, 12 of them a
/// run (tlb:tlb_flush, "remote IPI send"). The release link (Tools/text-order.txt) places SyscallTable's .data
/// between these two markers; another link places them anywhere, and then nothing or little is populated (a
/// range that is not a few hundred KB at most is left alone).
__attribute__((section(".data.ct_data_populated_begin"))) char ct_data_populated_begin = 1;
__attribute__((section(".data.ct_data_populated_end"))) char ct_data_populated_end = 1;

static void ct_populate_catalog_data(void) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)&ct_data_populated_begin & ~(page - 1);
    uintptr_t end = ((uintptr_t)&ct_data_populated_end + page) & ~(page - 1);
    if (end > start && end - start <= 256 * 1024) (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}

// The Swift runtime's argument vector. Its own (libswiftCore.a's CommandLine.cpp.o) finds argv on Linux from a
// static initializer that reads and parses /proc/self/maps to locate the initial stack, at every start: ~50-70 µs
// of `run --enter-at exec -- /bin/true` (sched and syscall timeline). glibc passes every initializer of the
// executable argc and argv; the constructor below keeps them, and the two functions the runtime defines there
// are defined here instead (same names, Swift calling convention), so that object is not linked from the archive.
// Where this file is not linked first (the dynamic runtime of debug builds) the runtime's own are used.
static char **ct_argv;
static int ct_argc;
static char **ct_argv_override;
static int ct_argc_override;

__attribute__((constructor(101))) static void ct_save_argv(int argc, char **argv, char **envp) {
    (void)envp;
    ct_argc = argc;
    ct_argv = argv;
}

__attribute__((swiftcall)) char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    static char *empty[] = {NULL};
    if (ct_argv_override) { *outArgLen = ct_argc_override; return ct_argv_override; }
    if (ct_argv) { *outArgLen = ct_argc; return ct_argv; }
    *outArgLen = 0;
    return empty;
}

__attribute__((swiftcall)) void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    ct_argv_override = argv;
    ct_argc_override = argc;
}

uint64_t ct_original_sigmask;
uint64_t ct_original_ignored;

/// The signal mask captrace was started with, and which of the signals it catches whatever its caller did were
/// ignored, before anything in captrace blocks or catches one: the launched program gets them back (child.h), as
/// under strace and untraced. Queried one by one (~0.3 µs each), so only those few (see ct_original_ignored).
__attribute__((constructor(101))) static void ct_save_signal_state(void) {
    (void)syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &ct_original_sigmask, sizeof ct_original_sigmask);
    // glibc's SIGCANCEL and SIGSETXID (32, 33: its sigaction() refuses them, hence the system call), the ptrace tick.
    int caught[] = {__SIGRTMIN, __SIGRTMIN + 1, SIGRTMIN + 8};
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++) {
        struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; } old;
        if (syscall(SYS_rt_sigaction, caught[i], NULL, &old, sizeof old.mask) == 0 && old.handler == SIG_IGN)
            ct_original_ignored |= 1ULL << (caught[i] - 1);
    }
}

/// Before anything else of the executable runs (and long before its first thread): every page of its .bss from
/// `ct_bss_populated` on gets its own writable page now. Swift's lazy caches (type metadata, witness tables, once
/// tokens) live there and are read before they are written: the read maps the shared zero page, the write then
/// copies it, and a copy while another thread of captrace runs on the other CPU (the catalog warm-up, the
/// recording thread, the launch child before its exec) must flush that CPU's TLB by an inter-processor interrupt,
/// a VM exit on both sides here. Measured on `run --enter-at exec -- /bin/true`: 21 of a run's 31 copy faults were
/// in .bss, and the run sent ~21 TLB-flush IPIs (tlb:tlb_flush events), ~4 after; the whole .bss populated (63
/// pages, ~0.2 ms of CPU, 36 pages a run never touches) took the run to 0.955x the time (51 interleaved rounds;
/// Docs/performance-history.md, (e)). A kernel without MADV_POPULATE_WRITE refuses it, and nothing changes.
__attribute__((constructor(101))) static void ct_populate_bss(void) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)&ct_bss_populated & ~(page - 1);
    uintptr_t end = ((uintptr_t)_end + page - 1) & ~(page - 1);
    if (end > start) (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
    ct_populate_catalog_data();
}
