/* floor-stacks.h — what ptrace-floor.c and notify-floor.c share with FLOOR_STACKS=1 (bench rows (f) and (g)): the
 * calls captrace's filter stops in that row, where each call's path is, and the one PROCMAP_QUERY of the pc's mapping.
 */
#ifndef CAPTRACE_FLOOR_STACKS_H
#define CAPTRACE_FLOOR_STACKS_H
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

/* struct procmap_query and its ioctl (<linux/fs.h> of Linux 6.11; this machine's headers are older). */
struct floor_procmap_query {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define FLOOR_PROCMAP_QUERY _IOWR('f', 17, struct floor_procmap_query)

/* The row's path lookups of the exec, access, open and stat families, stopped whatever their arguments (newfstatat
   and mmap stop under conditions: floor_stack_rules, floor_is_stack_call). */
static const int floor_path_calls[] = {SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(access), SCMP_SYS(faccessat),
                                       SCMP_SYS(faccessat2), SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2),
                                       SCMP_SYS(stat), SCMP_SYS(lstat)};
#define FLOOR_PATH_CALLS (sizeof floor_path_calls / sizeof floor_path_calls[0])

/* Adds the row's stopping calls with `action`: floor_path_calls, newfstatat with a path, and mmap with PROT_EXEC.
   glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH): no path lookup, not stopped (as captrace observes). Returns
   0, or libseccomp's error. */
static int floor_stack_rules(scmp_filter_ctx ctx, uint32_t action) {
    int rc = 0;
    for (size_t i = 0; i < FLOOR_PATH_CALLS; i++) rc |= seccomp_rule_add(ctx, action, floor_path_calls[i], 0);
    rc |= seccomp_rule_add(ctx, action, SCMP_SYS(newfstatat), 1, SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));
    rc |= seccomp_rule_add(ctx, action, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    return rc;
}

/* Whether call `nr` with arguments `args` is one of the calls floor_stack_rules adds (for a filter that traps every
   call, FLOOR_TRAP_ALL=1 with FLOOR_STACKS=1: only these record a stack). */
static int floor_is_stack_call(int nr, const uint64_t *args) {
    if (nr == SCMP_SYS(newfstatat)) return (args[3] & AT_EMPTY_PATH) == 0;
    if (nr == SCMP_SYS(mmap)) return (args[2] & PROT_EXEC) != 0;
    for (size_t i = 0; i < FLOOR_PATH_CALLS; i++) if (floor_path_calls[i] == nr) return 1;
    return 0;
}

/* The argument holding the path of call `nr` (the second after a dirfd); -1 for mmap, which has none. */
static int floor_path_arg(int nr) {
    if (nr == SCMP_SYS(mmap)) return -1;
    return nr == SCMP_SYS(openat) || nr == SCMP_SYS(newfstatat) || nr == SCMP_SYS(faccessat)
           || nr == SCMP_SYS(faccessat2) || nr == SCMP_SYS(execveat) || nr == SCMP_SYS(openat2);
}

/* One PROCMAP_QUERY for the mapping holding `pc`, its path included, on /proc/PID/maps open as `maps`. */
static void floor_query(int maps, uint64_t pc) {
    char name[4096];
    struct floor_procmap_query q = {.size = sizeof q, .query_addr = pc, .vma_name_addr = (uintptr_t)name,
                                    .vma_name_size = sizeof name};
    if (maps >= 0) ioctl(maps, FLOOR_PROCMAP_QUERY, &q);
}
#endif
