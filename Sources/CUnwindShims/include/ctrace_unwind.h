// ctrace_unwind: the C half of the Unwinding module (target CUnwindShims, prefix `ct_uw_`; only Unwinding imports it).
// Why C: libdw's thread callbacks and libunwind's accessor table are C function-pointer interfaces called in a
// tight loop; libunwind must be reached through dlopen(RTLD_LOCAL)+dlsym (its API is token-pasted macros and its
// _Unwind_* exports must not interpose on this process); ptrace is variadic; process_vm_readv is a GNU extension.
// Everything here runs on the caller's thread: the tracer's single ptrace thread.
#ifndef CTRACE_UNWIND_H
#define CTRACE_UNWIND_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

// ---- ELF symbol tables (breakpoint triggers) ----

/// Defined function (or ifunc) symbol `name` in the ELF file at `path`: .symtab first, then .dynsym.
/// Returns 0 and fills value (st_value) and size, or -1 when absent or the file is not ELF.
int ct_uw_elf_lookup(const char *path, const char *name, uint64_t *value, uint64_t *size);

/// Load bias of the ELF file at `path` given one mapping of it (start address and file offset from
/// /proc/PID/maps): runtime address = bias + link-time address. 0 for ET_EXEC. Returns 0 or -1.
int ct_uw_elf_load_bias(const char *path, uint64_t map_start, uint64_t map_offset, uint64_t *bias);


// ---- One traced address space: its mappings, its libdw session, its libunwind address space ----

typedef struct ct_uw_space ct_uw_space;

ct_uw_space *ct_uw_space_new(pid_t pid);
void ct_uw_space_free(ct_uw_space *space);
/// For a process that has exited: frees `space` but leaves its /proc/PID/maps descriptor open and returns it (-1:
/// none), for another thread to close (`ct_uw_parked`).
int ct_uw_space_free_keeping_maps(ct_uw_space *space);

/// Descriptors of exited processes' /proc/PID/maps, parked by the tracer thread and closed by another: closing one
/// drops the last reference to the process's memory descriptor, and the kernel frees it there (~8-10 µs a
/// process on this kind of VM, measured in a C loop). Locked: any thread may park or close.
typedef struct ct_uw_parked ct_uw_parked;
ct_uw_parked *ct_uw_parked_new(void);
/// Closes what is parked, then frees.
void ct_uw_parked_free(ct_uw_parked *parked);
/// Parks `fd` (ignored when negative); when CT_UW_PARKED_MAX are parked already, closes it here instead.
void ct_uw_parked_put(ct_uw_parked *parked, int fd);
/// Closes every descriptor parked so far.
void ct_uw_parked_close(ct_uw_parked *parked);
/// How many are parked now.
int ct_uw_parked_count(ct_uw_parked *parked);
/// Bounded: they count against the descriptor limit, and a batch (at most ~5 ms apart) sees far fewer exits.
enum { CT_UW_PARKED_MAX = 64 };
/// A space for process `pid` forked from `parent` (its address space a copy of the parent's at the fork): it starts
/// with the parent's mappings as last read, instead of reading /proc/PID/maps again. NULL when the parent has none.
ct_uw_space *ct_uw_space_fork(const ct_uw_space *parent, pid_t pid);
/// After exec: drop the mappings, the libdw session and libunwind's caches (rebuilt on the next walk).
void ct_uw_space_reset(ct_uw_space *space);
/// A space made for a process that has just exec'd (nothing walked in its new image yet), as after reset: its
/// first walk may look up only the mappings it needs instead of reading the whole /proc/PID/maps text.
void ct_uw_space_mark_new_image(ct_uw_space *space);
/// The process may have mapped code since (the supervisor saw an mmap, mprotect or mremap that can make code
/// executable): the next walk reads its mappings again (a sparse space leaves sparse mode).
void ct_uw_space_mappings_changed(ct_uw_space *space);

/// At the exec stop of process `space`'s pid, its space just reset: the path of the file it now runs, as
/// /proc/PID/exe names it, into `out` (NUL-terminated). `entry`: the pc at that stop, the first instruction of
/// the program's interpreter, or of the program when it has none. Returns the path's length, or -1 when it
/// cannot be told this way (then read /proc/PID/exe).
long ct_uw_space_exec_image(ct_uw_space *space, uint64_t entry, char *out, size_t cap);
/// Under notify, at the first trapped call of a new image (its space just reset): the path of the file it runs,
/// when its lowest mapping of a file is the file the execve named (`dev_major`, `dev_minor`, `ino`: that path's
/// stat) and `pc` (the call's) lies in a mapping of another file. -1: read /proc/PID/exe.
long ct_uw_space_exec_named(ct_uw_space *space, uint64_t pc, uint32_t dev_major, uint32_t dev_minor, uint64_t ino,
                            char *out, size_t cap);

/// Whether libdw walks of this space first try the per-pc rule cache (default on): the same frames, from unwind
/// rules kept by module file and address across processes. Off: every frame is libdw's own (tests compare).
void ct_uw_space_set_rule_cache(ct_uw_space *space, int on);
/// What a space's walks did since the counts were last taken (the tests read them).
typedef struct {
    /// Walks (a notify walk's trial walks included) replayed from cached rules.
    unsigned long rule_walks;
    /// Reads of the whole /proc/PID/maps text. Walks replayed from cached rules look up only the mappings they need
    /// (PROCMAP_QUERY) while each module's extent can be shown that way.
    unsigned long maps_reads;
    /// Walks from rsp and rip that scanned the stack for rbp (what the memo did not know).
    unsigned long scans;
    /// 8-byte reads of code and of .eh_frame_hdr (a notify walk's rbp recovery) served from the module's file, and
    /// from the program's memory.
    unsigned long code_file, code_memory;
} ct_uw_counts;
/// Adds the space's counts to `*counts` and zeroes them: one call after each walk.
void ct_uw_space_take_counts(ct_uw_space *space, ct_uw_counts *counts);

/// The file that keeps what notify walks' stack scans found across runs (see rbp_memo in unwind.c), or NULL:
/// not kept. Read at the first walk that needs it after this call.
void ct_uw_memo_file(const char *path);
/// Forgets what the scans found in this process (tests: a new run's view, before the file is read).
void ct_uw_memo_forget(void);

enum { CT_UW_LIBDW = 0, CT_UW_LIBUNWIND = 1 };

/// Walks thread `tid` of the space innermost first, writing at most `max` pcs (return addresses for all but
/// the first). With `pc_sp` NULL the registers come from PTRACE_GETREGS (the thread must be ptrace-stopped by
/// this thread); otherwise pc_sp[0], pc_sp[1] are the only registers known (best effort).
/// Returns the number of pcs, or -1 when not even the first register set could be had.
int ct_uw_walk(ct_uw_space *space, int backend, pid_t tid, const uint64_t *pc_sp, uint64_t *pcs, int max);
/// ct_uw_walk of a thread ptrace-stopped by this thread whose pc and sp are known (pc_sp, from its stop's syscall
/// info): the same frames as with pc_sp NULL; PTRACE_GETREGS is asked only when a frame's rule needs another
/// register (or the walk is not replayed from cached rules).
int ct_uw_walk_stopped(ct_uw_space *space, int backend, pid_t tid, const uint64_t *pc_sp, uint64_t *pcs, int max);

/// The file mapping holding `pc`: its path (valid until the space's mappings are read again), start and file
/// offset. Looks the mapping up, or re-reads /proc/PID/maps once, when the pc is in no known mapping. Returns 0,
/// or -1 when none holds it.
int ct_uw_space_mapping(ct_uw_space *space, uint64_t pc, const char **path, uint64_t *start, uint64_t *offset);

/// Loads libunwind (dlopen RTLD_LOCAL). Returns 0, or -1 with a reason in `why`.
int ct_uw_libunwind_load(char *why, size_t why_cap);

// ---- Symbolisation of one module file, independent of any process ----

typedef struct ct_uw_symfile ct_uw_symfile;

typedef struct {
    const char *symbol;       ///< mangled name, or NULL when the address is in no symbol's extent
    uint64_t symbol_value;    ///< st_value of that symbol (link-time address)
    const char *file;         ///< DWARF source file, or NULL
    int line;                 ///< DWARF line, or 0
} ct_uw_syminfo;

/// Opens the ELF file for lookups (its separate debug file is found through build-id or .gnu_debuglink).
ct_uw_symfile *ct_uw_symfile_open(const char *path);
void ct_uw_symfile_free(ct_uw_symfile *f);
/// The GNU build-id (bytes), or 0 when it has none.
int ct_uw_symfile_build_id(ct_uw_symfile *f, uint8_t *buf, int cap);
/// File offset -> link-time address through the PT_LOAD headers. Returns 0 or -1.
int ct_uw_symfile_vaddr(ct_uw_symfile *f, uint64_t file_offset, uint64_t *vaddr);
/// Symbol (only when vaddr lies inside its extent) and source line of the link-time address `vaddr`.
/// The strings live as long as `f`.
void ct_uw_symfile_lookup(ct_uw_symfile *f, uint64_t vaddr, ct_uw_syminfo *out);

/// What naming a module's frames from the symbol cache needs, read with a few preads (no libelf, no mapping of the
/// file): its GNU build-id and its PT_LOAD headers. libdw opens the file only for what the cache does not hold.
typedef struct {
    uint64_t offset, vaddr, filesz;
} ct_uw_load_segment;
typedef struct {
    uint8_t build_id[64];
    int build_id_len;  ///< 0: no NT_GNU_BUILD_ID note
    int nloads;
    ct_uw_load_segment loads[16];
    uint64_t file_size;
} ct_uw_elf_brief;
/// 0, or -1 when `path` is not a regular little-endian ELF file (32- or 64-bit) with at most 64 program headers and
/// 16 non-empty PT_LOADs.
int ct_uw_elf_brief_read(const char *path, ct_uw_elf_brief *out);
/// File offset -> link-time address through the PT_LOAD headers, as ct_uw_symfile_vaddr. Returns 0 or -1.
int ct_uw_elf_brief_vaddr(const ct_uw_elf_brief *b, uint64_t file_offset, uint64_t *vaddr);

/// Demangled C++ (_Z...) or Swift ($s..., _T0...) name, malloc'd; NULL when not mangled or no demangler.
char *ct_uw_demangle(const char *name);

#endif
