// The C half of the Unwinding module: see include/ctrace_unwind.h for why each part is in C.
#define _GNU_SOURCE
#include "ctrace_unwind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>

// ---- ELF symbol tables ----

static Elf *open_elf(const char *path, int *fd_out) {
    if (elf_version(EV_CURRENT) == EV_NONE) return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
        if (elf) elf_end(elf);
        close(fd);
        return NULL;
    }
    *fd_out = fd;
    return elf;
}

static int lookup_in(Elf *elf, Elf64_Word type, const char *name, uint64_t *value, uint64_t *size) {
    Elf_Scn *scn = NULL;
    int found = 0;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL || shdr.sh_type != type || shdr.sh_entsize == 0) continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (data == NULL) continue;
        size_t n = shdr.sh_size / shdr.sh_entsize;
        for (size_t i = 1; i < n; i++) {
            GElf_Sym sym;
            if (gelf_getsym(data, (int)i, &sym) == NULL) continue;
            int stt = GELF_ST_TYPE(sym.st_info);
            if ((stt != STT_FUNC && stt != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF) continue;
            const char *s = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (s == NULL || strcmp(s, name) != 0) continue;
            // A global definition wins over a local one of the same name.
            if (!found || GELF_ST_BIND(sym.st_info) != STB_LOCAL) {
                *value = sym.st_value;
                *size = sym.st_size;
                found = 1;
                if (GELF_ST_BIND(sym.st_info) != STB_LOCAL) return 1;
            }
        }
    }
    return found;
}

int ct_uw_elf_lookup(const char *path, const char *name, uint64_t *value, uint64_t *size) {
    int fd;
    Elf *elf = open_elf(path, &fd);
    if (elf == NULL) return -1;
    int ok = lookup_in(elf, SHT_SYMTAB, name, value, size) || lookup_in(elf, SHT_DYNSYM, name, value, size);
    elf_end(elf);
    close(fd);
    return ok ? 0 : -1;
}

/// The PT_LOAD segment holding file offset `off` maps it to p_vaddr + (off - p_offset).
/// Whether file offset `off` is in the PT_LOAD (p_offset, p_vaddr, p_filesz), and its link-time address.
static bool load_vaddr(uint64_t p_offset, uint64_t p_vaddr, uint64_t p_filesz, uint64_t off, uint64_t *vaddr) {
    uint64_t page_start = p_offset & ~(uint64_t)0xfff;  // mappings start page-aligned
    if (p_filesz == 0 || off < page_start || off >= p_offset + p_filesz) return false;
    *vaddr = p_vaddr + off - p_offset;  // wraps correctly when off < p_offset
    return true;
}

static int vaddr_of_offset(Elf *elf, uint64_t off, uint64_t *vaddr) {
    size_t n;
    if (elf_getphdrnum(elf, &n) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) == NULL || ph.p_type != PT_LOAD) continue;
        if (load_vaddr(ph.p_offset, ph.p_vaddr, ph.p_filesz, off, vaddr)) return 0;
    }
    return -1;
}

int ct_uw_elf_load_bias(const char *path, uint64_t map_start, uint64_t map_offset, uint64_t *bias) {
    int fd;
    Elf *elf = open_elf(path, &fd);
    if (elf == NULL) return -1;
    int rc = -1;
    GElf_Ehdr eh;
    if (gelf_getehdr(elf, &eh) != NULL) {
        if (eh.e_type == ET_EXEC) {
            *bias = 0;
            rc = 0;
        } else if (eh.e_type == ET_DYN) {
            uint64_t vaddr;
            if (vaddr_of_offset(elf, map_offset, &vaddr) == 0) {
                *bias = map_start - vaddr;
                rc = 0;
            }
        }
    }
    elf_end(elf);
    close(fd);
    return rc;
}

// ---- Address spaces ----

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <libunwind.h>  // types only: every libunwind function is reached through dlsym (see ct_uw_libunwind_load)

typedef struct {
    uint64_t start, end, offset;
    uint64_t inode;
    unsigned dev_major, dev_minor;
    uint8_t prot;      // MAP_R, MAP_W, MAP_X as the mapping's permissions show now
    const char *path;  // NULL for anonymous mappings; interned (intern_path): never freed, one pointer per text
} map_ent;
enum { MAP_R = 1, MAP_W = 2, MAP_X = 4 };

/// The one copy of a mapping's path text (its first `n` bytes): the same pointer for the same text in every
/// process and walk, for the whole run. A frame's module is then known by its pointer, on any thread at any time
/// (StackWalker keeps one Swift string per pointer), and a space's mappings are copied and dropped without
/// copying or freeing their paths. The table only grows: a run maps few distinct paths (its modules, [stack],
/// [heap], [vdso], anonymous names). NULL when out of memory.
static const char *intern_path(const char *text, size_t n);

/// One module as libdw is told of it (report_modules): a run of mappings of one file (same device and inode,
/// anonymous mappings between them included) from its first start to its last end, or the vDSO (first -1).
typedef struct {
    uint64_t start, end;
    int first;    // index in maps of its first mapping; -1 for the vDSO
    int elf;      // rule cache: elf_cache index of its file; -2 not looked up yet, -1 none usable
    uint64_t bias;  // runtime address - link-time address, as libdw computes it (low address - first PT_LOAD page)
} mod_ent;

/// libunwind's view of one loaded module: where its .eh_frame_hdr search table is in the program's memory.
typedef struct {
    char *path;
    uint64_t bias;
    uint64_t start_ip, end_ip;  // runtime extent of its PT_LOAD segments
    uint64_t hdr, table;        // runtime addresses of .eh_frame_hdr and its binary-search table
    uint64_t fde_count;
    int file;                   // elf_cache index of its file (checked unchanged for this space), or -1
    uint64_t hdr_off, hdr_size; // where .eh_frame_hdr is in that file (PT_GNU_EH_FRAME), for eh_word
    bool ok;
} eh_module;

enum { PAGE = 4096, NPAGES = 16, NREGS = 17 /* DWARF 0..16: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */ };
enum { RBP_MEMO = 1024 };

/// What dw_walk's scan found before, by the code of the frame where a walk from rsp/rip stopped (the module file,
/// known by device, inode, size and modification time, and the file offset): where rbp was relative to that
/// frame's sp, or that nothing was. A repeated site then costs one trial walk, or none, instead of a scan. Only
/// the thread that walks (the tracer's, or the notify workers under their lock) touches it.
///
/// Kept across runs in a file (ct_uw_memo_file): every notify run of a program stops its first stack at the same
/// frames of ld.so, and the scan there was most of that stack's cost (/bin/true: ~170 µs of a 305 µs first walk).
/// The file is read at the first walk that needs the memo; what a scan learns is appended to it, one record per
/// `write` (O_APPEND: concurrent runs interleave whole records). A record names the file by identity, so a
/// rebuilt or upgraded module is a new key; a remembered place is only ever tried, and kept when the walk from
/// it reproduces the frames found so far and goes further (the scan's own test), so a stale record costs one
/// trial walk, never a different stack.
static struct { uint64_t key; int64_t delta; } rbp_memo[RBP_MEMO];
static char *memo_path;    // NULL: not kept across runs
static bool memo_loaded;   // memo_path read (or found missing) since set
enum { MEMO_RECORD = 16, MEMO_FILE_MAX = 8 + 4096 * MEMO_RECORD };
static const char memo_magic[8] = "ctrbp2\n";  // 2: tail-called frames (dw_walk); older memos are remade

static unsigned memo_slot(uint64_t key) { return (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 54) % RBP_MEMO; }

/// Whether `fd` is a regular file of this user that no one else may write (what the caches trust; UserCache).
static bool memo_own_file(int fd, struct stat *st) {
    return fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_uid == geteuid() && (st->st_mode & 022) == 0;
}

static void memo_load(void) {
    memo_loaded = true;
    if (memo_path == NULL) return;
    int fd = open(memo_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    struct stat st;
    if (!memo_own_file(fd, &st)) { close(fd); return; }
    if (st.st_size > MEMO_FILE_MAX) {
        // Grown past any useful size (records of modules long gone): start again.
        close(fd);
        unlink(memo_path);
        return;
    }
    uint8_t buf[256 * MEMO_RECORD];
    char magic[8];
    if (pread(fd, magic, 8, 0) != 8 || memcmp(magic, memo_magic, 8) != 0) {
        // Not a memo (cut short before its header, or another format): made again from the next record.
        close(fd);
        unlink(memo_path);
        return;
    }
    for (off_t at = 8;;) {
        ssize_t r = pread(fd, buf, sizeof buf, at);
        if (r < 0 && errno == EINTR) continue;
        if (r < MEMO_RECORD) break;
        for (ssize_t i = 0; i + MEMO_RECORD <= r; i += MEMO_RECORD) {
            uint64_t key;
            int64_t delta;
            memcpy(&key, buf + i, 8);
            memcpy(&delta, buf + i + 8, 8);
            if (key == 0) continue;
            unsigned slot = memo_slot(key);
            rbp_memo[slot].key = key;
            rbp_memo[slot].delta = delta;
        }
        at += r - r % MEMO_RECORD;
    }
    close(fd);
}

static void memo_append(uint64_t key, int64_t delta) {
    if (memo_path == NULL) return;
    int fd = open(memo_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    struct stat st;
    if (memo_own_file(fd, &st)) {
        uint8_t rec[8 + MEMO_RECORD];
        size_t at = 0;
        if (st.st_size == 0) { memcpy(rec, memo_magic, 8); at = 8; }
        memcpy(rec + at, &key, 8);
        memcpy(rec + at + 8, &delta, 8);
        ssize_t w = write(fd, rec, at + MEMO_RECORD);
        (void)w;
    }
    close(fd);
}

void ct_uw_memo_file(const char *path) {
    free(memo_path);
    memo_path = path ? strdup(path) : NULL;
    memo_loaded = false;
}

void ct_uw_memo_forget(void) {
    memset(rbp_memo, 0, sizeof rbp_memo);
    memo_loaded = false;
}


struct ct_uw_space {
    pid_t pid;
    // /proc/PID/maps, parsed; the text is kept to tell whether a re-read found anything new.
    map_ent *maps;
    size_t nmaps;
    mod_ent *mods;  // the modules of `maps`, sorted by address
    size_t nmods;
    bool rules;     // walks try the per-pc rule cache before libdw (ct_uw_space_set_rule_cache)
    char *maps_text;
    // Sparse: `maps` and `mods` hold only the mappings and modules looked up one at a time (PROCMAP_QUERY, see
    // "Mappings looked up one at a time"), in the order learned, not the whole table.
    bool sparse;
    bool new_image;  // nothing walked since an exec: the next walk may go sparse (see below)
    bool maps_stale; // code may have been mapped since the mappings were learned: the next walk reads them again
    int query_fd;   // /proc/PID/maps opened for those lookups, or -1
    unsigned query_walk, walk_queries, walk_misses;  // lookups, and those that found no mapping, in walk query_walk
    ct_uw_counts counts;  // since last taken (ct_uw_space_take_counts)
    unsigned maps_gen;  // bumped whenever the parsed mappings change
    unsigned walk_no;   // bumped by every walk
    unsigned maps_walk; // walk_no when /proc/PID/maps was last read: the thread is stopped, so once a walk is enough
    // Per-walk state.
    pid_t tid;
    uint64_t regs[NREGS];
    bool all_regs;  // false: only rsp (7) and rip (16) are known
    bool rbp_known; // with !all_regs: rbp (6) recovered by dw_walk's stack scan, for one trial walk

    bool stopped;   // the thread is ptrace-stopped (PTRACE_PEEKDATA is a fallback for reads)
    bool lazy_regs; // stopped, only rsp and rip given: the others are asked for (PTRACE_GETREGS) when a rule needs one
    // Memory read cache, valid for one walk: any page in any slot (page_n filled, replaced in turn from
    // page_next). Direct-mapped by address, pages of the stack, the program and ld.so shared slots and were read
    // again and again: 45 reads for the 13 pages of a scanning walk from /bin/true's first call under notify.
    uint64_t page_addr[NPAGES];
    uint8_t page_state[NPAGES];  // 1 valid, 2 unreadable
    unsigned page_n, page_next, page_last;
    uint8_t (*pages)[PAGE];  // NPAGES of them, not zeroed: a new space (one per process) was 64 KiB of memset
    uint64_t walk_sp;        // rsp where this walk starts: the pages above it are the stack the walk goes up
    // libdw session.
    Dwfl *dwfl;
    bool dwfl_attached;
    unsigned dwfl_gen;  // maps_gen when the modules were last reported
    // libunwind address space and its module table.
    unw_addr_space_t as;
    eh_module *ehm;
    size_t nehm;
    bool lu_flush;  // flush libunwind's cached unwind rules before the next walk
};

static void maps_changed(ct_uw_space *s);

static void free_maps(ct_uw_space *s) {
    if (s->query_fd >= 0) close(s->query_fd);
    s->query_fd = -1;
    s->sparse = false;
    free(s->maps);
    free(s->maps_text);
    free(s->mods);
    s->mods = NULL;
    s->nmods = 0;
    s->maps = NULL;
    s->nmaps = 0;
    s->maps_text = NULL;
}

enum { INTERN_FIRST = 256 };
static const char **interned;  // open addressing, a power of two slots
static size_t interned_n, interned_cap;
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t text_hash(const char *t, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)t[i]) * 0x100000001b3ull;
    return h;
}

static const char *intern_path(const char *text, size_t n) {
    const char *out = NULL;
    pthread_mutex_lock(&intern_lock);
    if (interned_n * 2 >= interned_cap) {  // at most half full
        size_t cap = interned_cap ? interned_cap * 2 : INTERN_FIRST;
        const char **t = calloc(cap, sizeof *t);
        if (t == NULL) goto done;
        for (size_t i = 0; i < interned_cap; i++) {
            if (interned[i] == NULL) continue;
            size_t k = text_hash(interned[i], strlen(interned[i])) & (cap - 1);
            while (t[k] != NULL) k = (k + 1) & (cap - 1);
            t[k] = interned[i];
        }
        free(interned);
        interned = t;
        interned_cap = cap;
    }
    for (size_t k = text_hash(text, n) & (interned_cap - 1);; k = (k + 1) & (interned_cap - 1)) {
        if (interned[k] == NULL) {
            char *copy = strndup(text, n);
            if (copy == NULL) goto done;
            interned[k] = out = copy;
            interned_n++;
            break;
        }
        if (strncmp(interned[k], text, n) == 0 && interned[k][n] == 0) { out = interned[k]; break; }
    }
done:
    pthread_mutex_unlock(&intern_lock);
    return out;
}

static char *read_small_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            char *n = realloc(buf, cap *= 2);
            if (n == NULL) { free(buf); close(fd); return NULL; }
            buf = n;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = 0;
    return buf;
}

/// Hex digits at *p, advancing past them; -1 when there are none.
static int parse_hex(const char **p, const char *end, uint64_t *out) {
    uint64_t v = 0;
    const char *q = *p;
    for (; q < end; q++) {
        unsigned d;
        if (*q >= '0' && *q <= '9') d = (unsigned)(*q - '0');
        else if (*q >= 'a' && *q <= 'f') d = (unsigned)(*q - 'a' + 10);
        else if (*q >= 'A' && *q <= 'F') d = (unsigned)(*q - 'A' + 10);
        else break;
        v = v << 4 | d;
    }
    if (q == *p) return -1;
    *p = q;
    *out = v;
    return 0;
}

static int skip_char(const char **p, const char *end, char c) {
    if (*p >= end || **p != c) return -1;
    (*p)++;
    return 0;
}

static void skip_blanks(const char **p, const char *end) {
    while (*p < end && (**p == ' ' || **p == '\t')) (*p)++;
}

/// One line of /proc/PID/maps ("start-end perms offset major:minor inode [path]"), parsed by hand: with sscanf
/// this parse was a tenth of the tracer's time in an exec-heavy run. Returns 0, or -1 for a malformed line.
static int parse_maps_line(const char *p, const char *end, map_ent *m) {
    uint64_t major, minor, inode;
    if (parse_hex(&p, end, &m->start) || skip_char(&p, end, '-') || parse_hex(&p, end, &m->end)) return -1;
    skip_blanks(&p, end);
    m->prot = 0;
    for (int k = 0; p < end && *p != ' ' && *p != '\t'; p++, k++)  // permissions: rwxp
        if (k < 3 && *p != '-') m->prot |= (uint8_t)(1u << k);
    skip_blanks(&p, end);
    if (parse_hex(&p, end, &m->offset)) return -1;
    skip_blanks(&p, end);
    if (parse_hex(&p, end, &major) || skip_char(&p, end, ':') || parse_hex(&p, end, &minor)) return -1;
    skip_blanks(&p, end);
    inode = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) inode = inode * 10 + (uint64_t)(*p - '0');
    skip_blanks(&p, end);
    m->dev_major = (unsigned)major;
    m->dev_minor = (unsigned)minor;
    m->inode = inode;
    m->path = p < end ? intern_path(p, (size_t)(end - p)) : NULL;
    return 0;
}

static bool is_vdso(const map_ent *m) { return m->path && strcmp(m->path, "[vdso]") == 0; }
/// A mapping of a file as libdw's grouping counts one: an absolute path, and a device or inode.
static bool is_file(const map_ent *m) {
    return m->path && m->path[0] == '/' && !(m->inode == 0 && m->dev_major == 0 && m->dev_minor == 0);
}
static bool same_file(const map_ent *a, const map_ent *b) {
    return a->inode == b->inode && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

/// The modules libdw is told of, from the parsed mappings: each run of consecutive mappings of one file (same
/// device and inode; mappings of no file between them do not end it) from its first start to its last end, and
/// the vDSO, as dwfl_linux_proc_report groups /proc/PID/maps. report_modules reports exactly these, and the rule
/// cache's walk looks pcs up in them, so both walks see the same modules.
static void compute_modules(ct_uw_space *s) {
    s->mods = malloc((s->nmaps + 1) * sizeof(mod_ent));
    s->nmods = 0;
    if (s->mods == NULL) return;
    int first = -1, last = -1;
    for (size_t i = 0; i <= s->nmaps; i++) {
        const map_ent *m = i < s->nmaps ? &s->maps[i] : NULL;
        bool file = m && is_file(m);
        if (first >= 0 && (m == NULL || file || is_vdso(m))) {
            const map_ent *f = &s->maps[first];
            if (!(m && file && same_file(m, f))) {
                s->mods[s->nmods++] = (mod_ent){f->start, s->maps[last].end, first, -2, 0};
                first = -1;
            }
        }
        if (m == NULL) break;
        if (is_vdso(m)) {
            s->mods[s->nmods++] = (mod_ent){m->start, m->end, -1, -1, 0};
        } else if (file) {
            if (first < 0) first = (int)i;
            last = (int)i;
        }
    }
}

static int sparse_module(ct_uw_space *s, uint64_t addr, mod_ent **out);
static int load_maps(ct_uw_space *s);

/// The module holding `addr`, or NULL. Sparse: learned now if need be, else the whole table is read.
static mod_ent *find_module(ct_uw_space *s, uint64_t addr) {
    if (s->sparse) {
        mod_ent *d;
        int r = sparse_module(s, addr, &d);
        if (r >= 0) return r == 0 ? d : NULL;
        load_maps(s);
    }
    size_t lo = 0, hi = s->nmods;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (addr < s->mods[mid].start) hi = mid;
        else if (addr >= s->mods[mid].end) lo = mid + 1;
        else return &s->mods[mid];
    }
    return NULL;
}

/// Re-reads /proc/PID/maps. Returns 1 when it changed (or was read for the first time), 0 if unchanged, -1.
/// The unwinding layer's one maps parser (the walkers and ct_uw_space_mapping share it; Supervisor has its own,
/// ProcFS.maps, for the trigger breakpoints, which list modules rather than look up pcs).
static int load_maps(ct_uw_space *s) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)s->pid);
    char *text = read_small_file(path);
    if (text == NULL) return -1;
    s->counts.maps_reads++;
    s->maps_walk = s->walk_no;
    if (s->maps_text && strcmp(text, s->maps_text) == 0) { free(text); return 0; }
    free_maps(s);
    s->maps_text = text;
    s->maps_gen++;
    maps_changed(s);
    size_t cap = 64;
    s->maps = malloc(cap * sizeof(map_ent));
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        char *eol = nl ? nl : line + strlen(line);
        map_ent m = {0};
        if (parse_maps_line(line, eol, &m) == 0) {
            if (s->nmaps == cap) s->maps = realloc(s->maps, (cap *= 2) * sizeof(map_ent));
            s->maps[s->nmaps++] = m;
        }
        line = nl ? nl + 1 : eol;
    }
    compute_modules(s);
    return 1;
}

static map_ent *find_map(ct_uw_space *s, uint64_t pc) {
    if (s->sparse) {  // no lookup here: mapped() and mapping_of() look up what they miss
        for (size_t i = 0; i < s->nmaps; i++)
            if (pc >= s->maps[i].start && pc < s->maps[i].end) return &s->maps[i];
        return NULL;
    }
    size_t lo = 0, hi = s->nmaps;  // maps are sorted by address
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pc < s->maps[mid].start) hi = mid;
        else if (pc >= s->maps[mid].end) lo = mid + 1;
        else return &s->maps[mid];
    }
    return NULL;
}

static int sparse_lookup(ct_uw_space *s, uint64_t addr, bool next);

/// The mapping of pc, re-reading the maps once if none holds it (a library mapped since the last read).
static map_ent *mapping_of(ct_uw_space *s, uint64_t pc) {
    if (s->sparse) {
        int i = sparse_lookup(s, pc, false);
        if (i >= 0) return &s->maps[i];
        if (i == -2) return NULL;
        load_maps(s);
    }
    if (s->maps == NULL && load_maps(s) < 0) return NULL;
    map_ent *m = find_map(s, pc);
    if (m == NULL && load_maps(s) == 1) m = find_map(s, pc);
    return m;
}

int ct_uw_space_mapping(ct_uw_space *s, uint64_t pc, const char **path, uint64_t *start, uint64_t *offset) {
    map_ent *m = mapping_of(s, pc);
    if (m == NULL || m->path == NULL) return -1;
    *path = m->path;
    *start = m->start;
    *offset = m->offset;
    return 0;
}

// Page buffers of spaces freed, for the next spaces: a process's 64 KiB taken from and given back to malloc, at
// every fork and exit, had it consolidate its free chunks each time (malloc_consolidate and _int_malloc were a
// sixth of the ptrace tracer's own time in an exec-heavy run).
enum { PAGES_KEPT = 8 };
static uint8_t (*pages_kept[PAGES_KEPT])[PAGE];
static int pages_kept_n;
static pthread_mutex_t pages_lock = PTHREAD_MUTEX_INITIALIZER;

static uint8_t (*pages_take(void))[PAGE] {
    uint8_t (*p)[PAGE] = NULL;
    pthread_mutex_lock(&pages_lock);
    if (pages_kept_n > 0) p = pages_kept[--pages_kept_n];
    pthread_mutex_unlock(&pages_lock);
    return p ? p : malloc(NPAGES * PAGE);
}

static void pages_give(uint8_t (*p)[PAGE]) {
    if (p == NULL) return;
    pthread_mutex_lock(&pages_lock);
    if (pages_kept_n < PAGES_KEPT) {
        pages_kept[pages_kept_n++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&pages_lock);
    free(p);
}

ct_uw_space *ct_uw_space_new(pid_t pid) {
    ct_uw_space *s = calloc(1, sizeof *s);
    if (s && (s->pages = pages_take()) == NULL) {
        free(s);
        return NULL;
    }
    if (s) {
        s->pid = pid;
        s->rules = true;
        s->query_fd = -1;
    }
    return s;
}

static bool sparse_begin(ct_uw_space *s);

/// The parent's mappings into `s->maps` (room for them already made), each path its own copy.
static void copy_maps(ct_uw_space *s, const ct_uw_space *parent) {
    memcpy(s->maps, parent->maps, parent->nmaps * sizeof(map_ent));  // paths are interned: shared, not copied
    s->nmaps = parent->nmaps;
}

ct_uw_space *ct_uw_space_fork(const ct_uw_space *parent, pid_t pid) {
    if (parent->maps_text == NULL && !parent->sparse) return NULL;
    ct_uw_space *s = ct_uw_space_new(pid);
    if (s == NULL) return NULL;
    s->rules = parent->rules;
    s->maps_stale = parent->maps_stale;
    if (parent->sparse) {
        // What the parent learned holds for the copy of its address space; the child looks up the rest itself.
        if (!sparse_begin(s)) {
            ct_uw_space_free(s);
            return NULL;
        }
        copy_maps(s, parent);
        memcpy(s->mods, parent->mods, parent->nmods * sizeof(mod_ent));
        s->nmods = parent->nmods;
        return s;
    }
    s->maps_text = strdup(parent->maps_text);
    s->maps = malloc((parent->nmaps + 1) * sizeof(map_ent));
    // The same mappings, so the same modules (compute_modules of the copy would give the parent's), with their
    // files as the parent found them, as a sparse copy keeps them: not looked up and checked again (an fstat per
    // module at the child's first walk: a shell's child before exec).
    s->mods = parent->mods ? malloc((parent->nmaps + 1) * sizeof(mod_ent)) : NULL;
    if (s->maps_text == NULL || s->maps == NULL || (parent->mods && s->mods == NULL)) {
        ct_uw_space_free(s);
        return NULL;
    }
    copy_maps(s, parent);
    s->maps_gen = 1;
    if (parent->mods == NULL) {
        compute_modules(s);  // the parent could not (out of memory)
        return s;
    }
    memcpy(s->mods, parent->mods, parent->nmods * sizeof(mod_ent));
    s->nmods = parent->nmods;
    return s;
}

static void drop_eh_modules(ct_uw_space *s) {
    for (size_t i = 0; i < s->nehm; i++) free(s->ehm[i].path);
    free(s->ehm);
    s->ehm = NULL;
    s->nehm = 0;
}

static void libunwind_destroy_as(ct_uw_space *s);

void ct_uw_space_mark_new_image(ct_uw_space *s) { s->new_image = true; }

void ct_uw_space_mappings_changed(ct_uw_space *s) { s->maps_stale = true; }

void ct_uw_space_reset(ct_uw_space *s) {
    s->new_image = true;
    if (s->dwfl) dwfl_end(s->dwfl);
    s->dwfl = NULL;
    s->dwfl_attached = false;
    libunwind_destroy_as(s);
    drop_eh_modules(s);
    free_maps(s);
}

void ct_uw_space_free(ct_uw_space *s) {
    if (s == NULL) return;
    ct_uw_space_reset(s);
    pages_give(s->pages);
    free(s);
}

int ct_uw_space_free_keeping_maps(ct_uw_space *s) {
    if (s == NULL) return -1;
    int fd = s->query_fd;
    s->query_fd = -1;
    ct_uw_space_free(s);
    return fd;
}

struct ct_uw_parked {
    pthread_mutex_t lock;
    int n;
    int fds[CT_UW_PARKED_MAX];
};

ct_uw_parked *ct_uw_parked_new(void) {
    ct_uw_parked *p = calloc(1, sizeof *p);
    if (p) pthread_mutex_init(&p->lock, NULL);
    return p;
}

void ct_uw_parked_free(ct_uw_parked *p) {
    if (p == NULL) return;
    ct_uw_parked_close(p);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void ct_uw_parked_put(ct_uw_parked *p, int fd) {
    if (fd < 0) return;
    if (p) {
        pthread_mutex_lock(&p->lock);
        if (p->n < CT_UW_PARKED_MAX) {
            p->fds[p->n++] = fd;
            fd = -1;
        }
        pthread_mutex_unlock(&p->lock);
    }
    if (fd >= 0) close(fd);
}

void ct_uw_parked_close(ct_uw_parked *p) {
    if (p == NULL) return;
    int fds[CT_UW_PARKED_MAX];
    pthread_mutex_lock(&p->lock);
    int n = p->n;
    memcpy(fds, p->fds, (size_t)n * sizeof fds[0]);
    p->n = 0;
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < n; i++) close(fds[i]);  // outside the lock: the tracer thread never waits for these
}

int ct_uw_parked_count(ct_uw_parked *p) {
    if (p == NULL) return 0;
    pthread_mutex_lock(&p->lock);
    int n = p->n;
    pthread_mutex_unlock(&p->lock);
    return n;
}

// ---- Mappings looked up one at a time ----
//
// A new process's first walks, replayed from cached rules, touch few of its mappings: those of
// the modules its frames are in, and its stack. Generating and parsing the whole /proc/PID/maps text for them was
// the largest piece of captrace's own work per process in an exec-heavy run (the kernel formats every line,
// paths included). The PROCMAP_QUERY ioctl (Linux 6.11) on the same file gives the one mapping covering an
// address, or the first one after it. In sparse mode `maps` and `mods` hold only what was looked up, in the
// order learned (fixed arrays: an entry never moves). A module is learned whole, with exactly the extent
// compute_modules gives it: its neighbours are looked up until the mappings that end its run are found. Where
// that cannot be shown (a gap below the run, an address in no file, too many lookups or misses in one walk, no
// PROCMAP_QUERY) the whole text is read and the space leaves sparse mode (load_maps); so does every walk that is
// not replayed from cached rules (libdw's own, libunwind's). A space goes sparse only at its first walk after an
// exec (ct_uw_space_reset, ct_uw_space_mark_new_image); a child forked from a sparse space stays sparse.

/// struct procmap_query of <linux/fs.h> (Linux 6.11; older headers lack it) and its ioctl.
typedef struct {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
} ct_procmap_query;
_Static_assert(sizeof(ct_procmap_query) == 104, "struct procmap_query is 104 bytes");
#define CT_PROCMAP_QUERY _IOWR('f', 17, ct_procmap_query)
enum { CT_PROCMAP_COVERING_OR_NEXT_VMA = 0x10, CT_PROCMAP_FILE_BACKED_VMA = 0x20 };
enum { SPARSE_MAPS = 48, SPARSE_MODS = 16, SPARSE_WALK_LOOKUPS = 32, SPARSE_WALK_MISSES = 4 };

static int query_support;  // 0 not known yet, -1 this kernel has no PROCMAP_QUERY

static bool sparse_begin(ct_uw_space *s) {
    if (query_support < 0) return false;
    free_maps(s);
    s->maps = malloc(SPARSE_MAPS * sizeof(map_ent));
    s->mods = malloc(SPARSE_MODS * sizeof(mod_ent));
    if (s->maps == NULL || s->mods == NULL) {
        free_maps(s);
        return false;
    }
    s->sparse = true;
    s->maps_gen++;
    maps_changed(s);
    return true;
}

/// The learned mapping covering `addr` (or with `next`, the first mapping starting at or after it, always looked
/// up): its index in `maps`; -2 when there is none; -1 when it cannot be said here (then read the whole text).
static int sparse_lookup(ct_uw_space *s, uint64_t addr, bool next) {
    if (!next)
        for (size_t i = 0; i < s->nmaps; i++)
            if (addr >= s->maps[i].start && addr < s->maps[i].end) return (int)i;
    if (s->query_walk != s->walk_no) {
        s->query_walk = s->walk_no;
        s->walk_queries = s->walk_misses = 0;
    }
    if (++s->walk_queries > SPARSE_WALK_LOOKUPS) return -1;
    if (s->query_fd < 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/maps", (int)s->pid);
        if ((s->query_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
    }
    char name[PATH_MAX + 16];
    ct_procmap_query q = {.size = sizeof q, .query_flags = next ? CT_PROCMAP_COVERING_OR_NEXT_VMA : 0,
                          .query_addr = addr, .vma_name_addr = (uintptr_t)name, .vma_name_size = sizeof name};
    if (ioctl(s->query_fd, CT_PROCMAP_QUERY, &q) != 0) {
        if (errno == ENOENT) return -2;
        if (errno == ENOTTY || errno == EINVAL) query_support = -1;
        return -1;
    }
    for (size_t i = 0; i < s->nmaps; i++) {
        const map_ent *k = &s->maps[i];
        if (k->start == q.vma_start && k->end == q.vma_end && k->offset == q.vma_offset && k->inode == q.inode
            && k->dev_major == q.dev_major && k->dev_minor == q.dev_minor) return (int)i;
        // Overlapping what was learned, but not the same: the mappings changed since. Read them all.
        if (q.vma_start < k->end && k->start < q.vma_end) return -1;
    }
    if (s->nmaps == SPARSE_MAPS) return -1;
    // PROCMAP_QUERY_VMA_READABLE, _WRITABLE, _EXECUTABLE are 1, 2, 4, as MAP_R, MAP_W, MAP_X.
    map_ent m = {q.vma_start, q.vma_end, q.vma_offset, q.inode, q.dev_major, q.dev_minor, (uint8_t)(q.vma_flags & 7), NULL};
    if (q.vma_name_size > 0) {
        // As the maps text shows it: a newline in a path is written \012 (seq_path's escape).
        char shown[4 * sizeof name];
        size_t n = 0;
        for (const char *c = name; *c; c++) {
            if (*c == '\n') { memcpy(shown + n, "\\012", 4); n += 4; } else shown[n++] = *c;
        }
        if ((m.path = intern_path(shown, n)) == NULL) return -1;
    }
    s->maps[s->nmaps] = m;
    return (int)s->nmaps++;
}

/// The start of ct_uw_space_exec_image and _exec_named: a space just reset by an exec goes sparse, and the mapping
/// holding `pc` (where the first walk starts) is learned, into *held. False: tell the program from /proc/PID/exe.
static bool exec_lookup(ct_uw_space *s, uint64_t pc, size_t cap, map_ent *held) {
    if (query_support < 0 || !s->rules || !s->new_image || s->maps != NULL || cap < 2) return false;
    if (!sparse_begin(s)) return false;
    int v = sparse_lookup(s, pc, false);
    if (v < 0) return false;
    *held = s->maps[v];
    return true;
}

/// The first mapping of a file at or after `at` into *m (extent and identity), its file's name into `out` as
/// PROCMAP_QUERY gives it (d_path of the open file, as /proc/PID/exe names it, " (deleted)" and all). Returns the
/// name's length; -2 when no mapping of a file follows; -1 when it cannot be asked or the name may be cut short.
static long file_mapping_at(ct_uw_space *s, uint64_t at, char *out, size_t cap, map_ent *m) {
    ct_procmap_query q = {.size = sizeof q, .query_flags = CT_PROCMAP_COVERING_OR_NEXT_VMA | CT_PROCMAP_FILE_BACKED_VMA,
                          .query_addr = at, .vma_name_addr = (uintptr_t)out, .vma_name_size = (uint32_t)cap};
    if (ioctl(s->query_fd, CT_PROCMAP_QUERY, &q) != 0) return errno == ENOENT ? -2 : -1;
    if (q.vma_name_size == 0) return -1;
    long len = (long)strnlen(out, cap);
    if (len >= (long)cap - 1) return -1;  // perhaps cut short
    *m = (map_ent){.start = q.vma_start, .end = q.vma_end, .offset = q.vma_offset, .inode = q.inode,
                   .dev_major = q.dev_major, .dev_minor = q.dev_minor};
    return len;
}

/// The program a process exec'd, told by its mappings at the exec stop. The kernel has then mapped exactly two
/// files, or one: the program (mm->exe_file, what /proc/PID/exe names) and the interpreter its PT_INTERP names,
/// whose entry point is the first instruction (for a program without an interpreter, a static one or ld.so run
/// as a program, the program's own). So the program is the file of the mappings that does not hold `entry`, or,
/// when one file holds them all, that one. The mappings of files are asked for in address order; the
/// interpreter comes first when mmap works bottom-up (the legacy layout: `setarch -L`, an unlimited stack
/// size). PROCMAP_QUERY names a file as /proc/PID/exe does (d_path of the same open file, " (deleted)" and
/// all). Two or three lookups on the /proc/PID/maps the first walk opens anyway, against a readlink that made
/// procfs build the pid's "exe" entry for every new image; the entry's mapping is learned for that first walk,
/// which starts there.
long ct_uw_space_exec_image(ct_uw_space *s, uint64_t entry, char *out, size_t cap) {
    map_ent held;
    if (!exec_lookup(s, entry, cap, &held)) return -1;
    uint64_t at = 0;
    long own = -1;  // the length of the name of the entry's file, once seen in `out`
    for (int i = 0; i < 64; i++) {
        map_ent f;
        long len = file_mapping_at(s, at, out, cap, &f);
        if (len == -2) return own;  // no file but the entry's
        if (len < 0) return -1;
        if (!same_file(&f, &held)) return len;
        own = len;
        at = f.end;
    }
    return -1;
}

/// Under notify, at the new image's first trapped call (the exec itself is not a stop): the program it runs, when
/// the mappings show it is the file `execve` named. The caller stat()ed that path (device and inode); `pc` is the
/// trapped call's. The kernel maps the program and its interpreter at exec; in the usual layout the program lies
/// below every other mapping of a file (mmap works top-down from below the stack, and the interpreter's first
/// calls trap before it maps any file), so the lowest mapping of a file is the program. Accepted only when that
/// file is the named one and the pc lies in a mapping of another file (the interpreter, running): a script
/// (the interpreter is mapped, not the script), the legacy layout (the interpreter lowest, and running), a static
/// program or ld.so run as one (the pc in the lowest file), a path that no longer names the file, a file system
/// whose stat() shows another device than its mappings — each gives -1, and the caller reads /proc/PID/exe.
/// Named as ct_uw_space_exec_image names it. The pc's mapping is learned for the first walk, which starts there.
long ct_uw_space_exec_named(ct_uw_space *s, uint64_t pc, uint32_t dev_major, uint32_t dev_minor, uint64_t ino,
                            char *out, size_t cap) {
    map_ent running, lowest;
    if (!exec_lookup(s, pc, cap, &running) || !is_file(&running) || is_vdso(&running)) return -1;
    long len = file_mapping_at(s, 0, out, cap, &lowest);
    if (len < 0 || lowest.inode != ino || lowest.dev_major != dev_major || lowest.dev_minor != dev_minor
        || same_file(&running, &lowest))
        return -1;
    return len;
}

enum { OUTSIDE = -3 };  // a sparse `mods` entry (first) for addresses shown to be in no module

/// Sparse, `addr` in no mapping (`v` -2) or in mapping `v` of no file: whether it lies outside every module's
/// extent (a module spans the mappings of no file between its own). So it does when no mapping of a file comes
/// after it before the vDSO or the table's end, or when it lies below the table's first mapping. Returns 1 with
/// the range so shown remembered, or -1 when it cannot be shown here.
static int sparse_outside(ct_uw_space *s, uint64_t addr, int v) {
    uint64_t from = v >= 0 ? s->maps[v].start : addr, at = v >= 0 ? s->maps[v].end : addr, to = UINT64_MAX;
    for (;;) {
        int n = sparse_lookup(s, at, true);
        if (n == -2) break;
        if (n < 0) return -1;
        const map_ent *nm = &s->maps[n];
        if (is_vdso(nm)) { to = nm->start; break; }
        if (is_file(nm)) {
            int first = v >= 0 ? -1 : sparse_lookup(s, 0, true);
            if (first < 0 || s->maps[first].start <= addr) return -1;
            from = 0;
            to = s->maps[first].start;
            break;
        }
        at = nm->end;
    }
    if (s->nmods == SPARSE_MODS) return -1;
    s->mods[s->nmods++] = (mod_ent){from, to, OUTSIDE, -1, 0};
    return 1;
}

/// Sparse: the module holding `addr` in *out, learned whole if new (compute_modules' grouping: mappings of one
/// file, mappings of no file between them included, up to a mapping of another file, the vDSO, or either end
/// of the table). Returns 0; 1 when `addr` is in no module; -1 when it cannot be shown here (the caller reads
/// the whole text).
static int sparse_module(ct_uw_space *s, uint64_t addr, mod_ent **out) {
    for (size_t i = 0; i < s->nmods; i++) {
        if (addr < s->mods[i].start || addr >= s->mods[i].end) continue;
        if (s->mods[i].first == OUTSIDE) return 1;
        *out = &s->mods[i];
        return 0;
    }
    if (s->nmods == SPARSE_MODS) return -1;
    int v = sparse_lookup(s, addr, false);
    if (v == -1) return -1;
    if (v == -2) return sparse_outside(s, addr, -2);
    const map_ent *m = &s->maps[v];
    if (is_vdso(m)) {
        s->mods[s->nmods] = (mod_ent){m->start, m->end, -1, -1, 0};
        *out = &s->mods[s->nmods++];
        return 0;
    }
    if (!is_file(m)) return sparse_outside(s, addr, v);
    int lo = v, hi = v;
    for (int cur = v;;) {  // down: the table's previous entries, as long as they are adjacent
        const map_ent *c = &s->maps[cur];
        if (c->start == 0) break;
        int p = sparse_lookup(s, c->start - 1, false);
        if (p == -2) {  // a gap: the entry before it is unknown, unless there is none at all
            int first = sparse_lookup(s, 0, true);
            if (first < 0 || s->maps[first].start != c->start) return -1;
            break;
        }
        if (p < 0) return -1;
        const map_ent *pm = &s->maps[p];
        if (is_vdso(pm) || (is_file(pm) && !same_file(pm, m))) break;
        if (is_file(pm)) lo = p;
        cur = p;
    }
    for (int cur = v;;) {  // up: the next entry each time, to the end of the table
        int n = sparse_lookup(s, s->maps[cur].end, true);
        if (n == -2) break;
        if (n < 0) return -1;
        const map_ent *nm = &s->maps[n];
        if (is_vdso(nm) || (is_file(nm) && !same_file(nm, m))) break;
        if (is_file(nm)) hi = n;
        cur = n;
    }
    s->mods[s->nmods] = (mod_ent){s->maps[lo].start, s->maps[hi].end, lo, -2, 0};
    *out = &s->mods[s->nmods++];
    return 0;
}

// ---- Reading the program's memory: process_vm_readv a page at a time, cached for one walk ----

/// Whether `addr` lies in a mapping of the process: the mappings known, else read again (once a walk). A walk
/// that tries candidate frame pointers follows garbage (text, counters) as addresses; each such read was a failed
/// process_vm_readv (about 400 for the start-up stacks of /bin/true under notify), now a lookup. An address of a
/// mapping made after this walk's read is refused, as a concurrent unmapping could have refused it anyway.
static bool mapped(ct_uw_space *s, uint64_t addr) {
    if (find_map(s, addr)) return true;
    if (s->sparse) {
        // A walk that probes addresses (the rbp scan tries stack words as return addresses) is better served by
        // the whole table after a few misses.
        int i = sparse_lookup(s, addr, false);
        if (i >= 0) return true;
        if (i == -2 && ++s->walk_misses <= SPARSE_WALK_MISSES) return false;
        load_maps(s);
        return find_map(s, addr) != NULL;
    }
    if (s->maps_walk == s->walk_no || load_maps(s) < 0) return false;
    return find_map(s, addr) != NULL;
}

/// A free slot for the page after `page` when `page` is one of the 16 at or above where this walk's stack starts,
/// the next page is in the same mapping and not read yet; else NPAGES.
static unsigned stack_pair(ct_uw_space *s, uint64_t page) {
    uint64_t base = s->walk_sp & ~(uint64_t)(PAGE - 1);
    if (s->walk_sp == 0 || page < base || page >= base + 16 * PAGE || s->page_n >= NPAGES) return NPAGES;
    const map_ent *m = find_map(s, page);
    if (m == NULL || m->end < page + 2 * PAGE) return NPAGES;
    for (unsigned i = 0; i < s->page_n; i++)
        if (s->page_addr[i] == page + PAGE) return NPAGES;
    return s->page_n++;
}

static int read_word(ct_uw_space *s, uint64_t addr, uint64_t *out) {
    if (addr % 8 == 0 || (addr % PAGE) <= PAGE - 8) {
        uint64_t page = addr & ~(uint64_t)(PAGE - 1);
        unsigned slot = s->page_last;
        // A page this walk read whole is mapped: only a page not read yet is looked up among the mappings.
        if (slot < s->page_n && s->page_addr[slot] == page && s->page_state[slot] == 1) {
            memcpy(out, s->pages[slot] + (addr - page), 8);
            return 0;
        }
        if (!mapped(s, addr)) return -1;
        if (slot >= s->page_n || s->page_addr[slot] != page) {
            for (slot = 0; slot < s->page_n && s->page_addr[slot] != page; slot++) {}
            if (slot == s->page_n) {
                if (s->page_n < NPAGES) s->page_n++;
                else slot = s->page_next++ % NPAGES;
                s->page_addr[slot] = page;
                unsigned next = stack_pair(s, page);
                if (next < NPAGES) {
                    // A page of the stack this walk goes up: most stacks go on into the next page (/bin/true's
                    // ld.so stacks all do), read with it in one call.
                    struct iovec local[2] = {{s->pages[slot], PAGE}, {s->pages[next], PAGE}};
                    struct iovec remote = {(void *)(uintptr_t)page, 2 * PAGE};
                    ssize_t n = process_vm_readv(s->pid, local, 2, &remote, 1, 0);
                    s->page_state[slot] = n >= PAGE ? 1 : 2;
                    s->page_addr[next] = page + PAGE;
                    s->page_state[next] = n == 2 * PAGE ? 1 : 2;
                } else {
                    struct iovec local = {s->pages[slot], PAGE}, remote = {(void *)(uintptr_t)page, PAGE};
                    s->page_state[slot] = process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == PAGE ? 1 : 2;
                }
            }
            s->page_last = slot;
        }
        if (s->page_state[slot] == 1) {
            memcpy(out, s->pages[slot] + (addr - page), 8);
            return 0;
        }
        // The page could not be read (unmapped, or not readable): no 8-byte read of it can do better, and a
        // walk that probes it (a recovered rbp being tried) must not pay a syscall per probe.
    } else {
        if (!mapped(s, addr) || !mapped(s, addr + 7)) return -1;
        // Straddles a page: read exactly these 8 bytes.
        struct iovec local = {out, 8}, remote = {(void *)(uintptr_t)addr, 8};
        if (process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == 8) return 0;
    }
    if (s->stopped) {
        errno = 0;
        long v = ptrace(PTRACE_PEEKDATA, s->tid, (void *)(uintptr_t)addr, NULL);
        if (errno == 0) { *out = (uint64_t)v; return 0; }
    }
    return -1;
}

static void begin_walk(ct_uw_space *s, pid_t tid) {
    s->tid = tid;
    s->walk_no++;
    s->page_n = 0;
    s->page_next = 0;
}

static int get_registers(ct_uw_space *s, pid_t tid, const uint64_t *pc_sp, bool stopped) {
    memset(s->regs, 0, sizeof s->regs);
    s->walk_sp = 0;
    s->lazy_regs = false;
    if (pc_sp) {
        s->walk_sp = pc_sp[1];
        s->regs[7] = pc_sp[1];
        s->regs[16] = pc_sp[0];
        s->all_regs = false;
        s->stopped = stopped;
        s->lazy_regs = stopped;
        return 0;
    }
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &r) != 0) return -1;
    uint64_t d[NREGS] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp,
                         r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
    memcpy(s->regs, d, sizeof d);
    s->walk_sp = r.rsp;
    s->all_regs = true;
    s->stopped = true;
    return 0;
}

// ---- libdw backend ----

static char *no_debuginfo_path = NULL;

/// The unwinder never opens separate debug files: .eh_frame of the loaded file (or DWARF inside it) is enough
/// to walk, while libdw's first look at a separate debug file decompresses every debug section of it (glibc's
/// from libc6-dbg: tens of milliseconds, with the program stopped). Names and lines come from the symboliser.
static int no_separate_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                                 const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                                 char **debuginfo_file_name) {
    (void)mod; (void)userdata; (void)modname; (void)base; (void)file_name; (void)debuglink_file;
    (void)debuglink_crc; (void)debuginfo_file_name;
    return -1;
}

/// The ELF files of traced processes' modules, opened once and shared by every process's libdw session: an
/// exec-heavy run maps the same few files (the shell, ld.so, libc) into every new process, and opening, mapping
/// and reading the headers of each again per process was a large part of its unwinder set-up. libelf counts
/// references to a non-archive Elf (elf_begin with it as `ref` returns it, counted; elf_end uncounts), so each
/// session gets the shared handle and ends it as its own. A file is known by device, inode, size and
/// modification time, checked with one stat per module report (as libdw's own callback stats it). Bounded:
/// past ELF_CACHE files, modules are opened per session as before. Only the walking thread touches it.
enum { ELF_CACHE = 64 };
static struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int fd;
    Elf *elf;
    // For the rule cache (rules_usable): 0 not looked at yet, 1 usable, -1 not (no .eh_frame, not x86-64).
    int rules_state;
    bool debug_frame;    // has .debug_frame: libdw looks there when .eh_frame has no FDE (not replayed)
    Dwarf_CFI *cfi;      // its .eh_frame, as dwfl_module_eh_cfi reads it
    uint64_t load_vaddr; // first PT_LOAD's p_vaddr rounded down to its alignment (libdw's bias is low - this)
    // Its .eh_frame_hdr header as eh_module_init reads it: 0 not read yet, 1 read (below), -1 unusable.
    int eh_state;
    int code_state;  // code_as_in_file: 0 not looked at yet, 1 yes, -1 no
    uint8_t eh_ptr_size, eh_count_size;
    uint64_t eh_count;
} elf_cache[ELF_CACHE];
static int elf_cache_n;

/// The elf_cache entry of the file at `path` (opened and added when new): its index; -1 when it cannot be cached
/// (not an absolute path of a regular file, or the cache is full: libdw opens it itself); -2 when it cannot be
/// opened as ELF.
static int elf_cache_index(const char *path) {
    struct stat st;
    if (path[0] != '/' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    int i;
    for (i = 0; i < elf_cache_n; i++) {
        if (elf_cache[i].dev == st.st_dev && elf_cache[i].ino == st.st_ino && elf_cache[i].size == st.st_size
            && elf_cache[i].mtime.tv_sec == st.st_mtim.tv_sec && elf_cache[i].mtime.tv_nsec == st.st_mtim.tv_nsec)
            return i;
    }
    if (elf_cache_n == ELF_CACHE || elf_version(EV_CURRENT) == EV_NONE) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -2;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (elf == NULL) { close(fd); return -2; }
    memset(&elf_cache[i], 0, sizeof elf_cache[i]);
    elf_cache[i].dev = st.st_dev;
    elf_cache[i].ino = st.st_ino;
    elf_cache[i].size = st.st_size;
    elf_cache[i].mtime = st.st_mtim;
    elf_cache[i].fd = fd;
    elf_cache[i].elf = elf;
    elf_cache_n++;
    return i;
}

static int cached_find_elf(Dwfl_Module *mod, void **userdata, const char *module_name, Dwarf_Addr base,
                           char **file_name, Elf **elfp) {
    int i = elf_cache_index(module_name);
    if (i == -1) return dwfl_linux_proc_find_elf(mod, userdata, module_name, base, file_name, elfp);
    if (i < 0) return -1;
    Elf *shared = elf_begin(elf_cache[i].fd, ELF_C_READ_MMAP, elf_cache[i].elf);
    if (shared != elf_cache[i].elf) {
        if (shared) elf_end(shared);
        return dwfl_linux_proc_find_elf(mod, userdata, module_name, base, file_name, elfp);
    }
    *file_name = strdup(module_name);
    *elfp = shared;
    return -1;  // no descriptor of its own: libdw uses the Elf
}

static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = cached_find_elf,
    .find_debuginfo = no_separate_debuginfo,
    .debuginfo_path = &no_debuginfo_path,
};

static pid_t dw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp) {
    (void)dwfl; (void)arg; (void)thread_argp;
    return 0;  // we never enumerate threads: every walk names its thread (get_thread)
}

static bool dw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp) {
    (void)dwfl;
    ct_uw_space *s = arg;
    if (tid != s->tid) return false;
    *thread_argp = arg;
    return true;
}

static bool dw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg) {
    (void)dwfl;
    uint64_t v;
    if (read_word(arg, addr, &v) != 0) return false;
    *result = v;
    return true;
}

static bool dw_set_initial_registers(Dwfl_Thread *thread, void *arg) {
    ct_uw_space *s = arg;
    if (s->all_regs) return dwfl_thread_state_registers(thread, 0, NREGS, (const Dwarf_Word *)s->regs);
    Dwarf_Word sp = s->regs[7];
    if (!dwfl_thread_state_registers(thread, 7, 1, &sp)) return false;
    if (s->rbp_known && !dwfl_thread_state_registers(thread, 6, 1, (const Dwarf_Word *)&s->regs[6])) return false;
    dwfl_thread_state_register_pc(thread, s->regs[16]);
    return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = dw_next_thread,
    .get_thread = dw_get_thread,
    .memory_read = dw_memory_read,
    .set_initial_registers = dw_set_initial_registers,
    // no detach callbacks: the supervisor owns the thread's ptrace state
};

/// Reports the modules of the parsed mappings to libdw as dwfl_linux_proc_report would from /proc/PID/maps and
/// auxv: each run of consecutive mappings of one file (same device and inode) is a module from its first start
/// to its last end, and the vDSO is "[vdso: PID]" (libdw's dwfl_linux_proc_find_elf reads it from memory).
static int report_modules(ct_uw_space *s) {
    char vdso[32];
    for (size_t i = 0; i < s->nmods; i++) {
        const mod_ent *d = &s->mods[i];
        const char *name = d->first >= 0 ? s->maps[d->first].path : vdso;
        if (d->first < 0) snprintf(vdso, sizeof vdso, "[vdso: %d]", (int)s->pid);
        if (dwfl_report_module(s->dwfl, name, d->start, d->end) == NULL) return -1;
    }
    return 0;
}

/// (Re)reports the process's modules; attaches our thread callbacks the first time. The modules come from the
/// mappings this walk already read and parsed (report_modules), not from a second and third read of
/// /proc/PID/maps and /proc/PID/auxv by dwfl_linux_proc_report: in an exec-heavy run, generating and parsing
/// the maps text was the larger part of each new process's cost.
static int dw_report(ct_uw_space *s) {
    if (s->maps == NULL || s->sparse || s->maps_walk != s->walk_no) load_maps(s);
    s->dwfl_gen = s->maps_gen;
    if (s->dwfl == NULL) {
        s->dwfl = dwfl_begin(&proc_callbacks);
        if (s->dwfl == NULL) return -1;
    }
    dwfl_report_begin(s->dwfl);
    int rc = s->maps ? report_modules(s) : dwfl_linux_proc_report(s->dwfl, s->pid);
    dwfl_report_end(s->dwfl, NULL, NULL);
    if (rc != 0) return -1;
    if (!s->dwfl_attached) {
        if (!dwfl_attach_state(s->dwfl, NULL, s->pid, &thread_callbacks, s)) return -1;
        s->dwfl_attached = true;
    }
    return 0;
}

typedef struct {
    uint64_t *pcs;
    int max, n;
    uint64_t last_sp;  // the stack pointer of the last frame (its caller could not be found from there)
    bool have_sp;
    /// dwfl_getthread_frames' result: 0 when libdw stopped without an error, which, for a walk from rsp/rip,
    /// is how it stops at a frame whose CFA needs a register it was not given; a stack's real end is an error
    /// (-1: no return address to follow).
    int rc;
} frames_acc;

static int dw_frame_cb(Dwfl_Frame *frame, void *arg) {
    frames_acc *acc = arg;
    Dwarf_Addr pc;
    if (!dwfl_frame_pc(frame, &pc, NULL)) return DWARF_CB_ABORT;
    acc->pcs[acc->n++] = pc;
    Dwarf_Word sp;
    acc->have_sp = dwfl_frame_reg(frame, 7, &sp) == 0;
    if (acc->have_sp) acc->last_sp = sp;
    return acc->n >= acc->max ? DWARF_CB_ABORT : DWARF_CB_OK;
}

// ---- The per-pc rule cache: libdw's unwind step, replayed from rules kept by module file and address ----
//
// libdw finds a frame's caller by searching the module's .eh_frame for the FDE of the pc, running its CIE and FDE
// programs up to the pc, and evaluating the rule of each register (frame_unwind.c: handle_cfi). Each new process
// has its own libdw session, so an exec-heavy run repeated that search, and the session's set-up, for the same
// few places in ld.so and libc in every process. Here the rules libdw would apply at a pc are asked of libdw
// once (dwarf_cfi_addrframe, dwarf_frame_cfa, dwarf_frame_register on the file's own .eh_frame, which is what
// dwfl_module_eh_cfi reads) and kept by file and link-time address, shared by every process mapping that file
// wherever it is mapped. A walk then replays libdw's step: the same registers defined or not, the same memory
// reads through read_word, the same end (the return-address register undefined, unreadable or 0; or no FDE, no
// .debug_frame, and a frame-pointer fallback that fails). Rules of a kind not listed here (DWARF expressions, a
// CFA not register + offset), a pc with no FDE where the file has .debug_frame or where libdw's frame-pointer
// fallback would find a frame, a pc outside every module (after one re-read of the mappings, as libdw
// re-reports), a module whose file is not in elf_cache or whose path no longer names the mapped file, or a
// module that is not x86-64 send the whole walk to libdw, as before.

enum { RULE_UNSET, RULE_SAME, RULE_AT_CFA, RULE_VAL_CFA, RULE_REG };
// Open addressing; the table starts at RULES_FIRST slots and doubles when three quarters full, up to RULES, where it
// is cleared instead. (A slot is 200 bytes: 8192 at once were 1.6 MB of which a short run touched a page or so per
// rule, ~36 page faults at every start.)
enum { RULES = 8192, RULES_FIRST = 256 };

typedef struct {
    uint64_t vaddr;
    int32_t elf;         // elf_cache index + 1; 0: empty slot
    bool ok;             // false: libdw must walk a frame at this address
    bool no_cfi;         // no FDE: libdw falls back to following rbp (x86_64_unwind); replayed where that fails
    bool signal;         // the FDE's CIE is a signal frame's ('S'): the caller's pc is not a return address
    uint8_t cfa_reg;
    int64_t cfa_off;
    uint8_t kind[NREGS];
    uint8_t reg[NREGS];  // RULE_REG: the register whose value (+ val) it takes
    int64_t val[NREGS];  // RULE_AT_CFA / RULE_VAL_CFA: the offset from the CFA; RULE_REG: the addend
} uw_rule;

static uw_rule *rules;
static size_t rules_used, rules_cap;

/// Moves the cached rules into a table of `cap` slots (a power of two). Returns false when out of memory.
static bool rules_resize(size_t cap) {
    uw_rule *t = calloc(cap, sizeof(uw_rule));
    if (t == NULL) return false;
    for (size_t i = 0; i < rules_cap; i++) {
        if (rules[i].elf == 0) continue;
        uint64_t h = (rules[i].vaddr ^ ((uint64_t)(rules[i].elf - 1) << 48)) * 0x9E3779B97F4A7C15ull;
        size_t k = (size_t)(h >> 40) % cap;
        while (t[k].elf != 0) k = (k + 1) % cap;
        t[k] = rules[i];
    }
    free(rules);
    rules = t;
    rules_cap = cap;
    return true;
}

/// Whether the rule cache can replay libdw for module file `i`: x86-64 ELF with .eh_frame, its first PT_LOAD
/// known (libdw's bias: the module's low address minus that segment's aligned p_vaddr).
static bool rules_usable(int i) {
    if (elf_cache[i].rules_state != 0) return elf_cache[i].rules_state > 0;
    elf_cache[i].rules_state = -1;
    Elf *elf = elf_cache[i].elf;
    GElf_Ehdr eh;
    size_t n;
    if (elf_kind(elf) != ELF_K_ELF || gelf_getehdr(elf, &eh) == NULL || eh.e_ident[EI_CLASS] != ELFCLASS64
        || eh.e_machine != EM_X86_64 || eh.e_type == ET_REL || elf_getphdrnum(elf, &n) != 0)
        return false;
    bool found = false;
    for (size_t k = 0; k < n && !found; k++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)k, &ph) == NULL) return false;
        if (ph.p_type == PT_LOAD) {
            elf_cache[i].load_vaddr = ph.p_vaddr & -ph.p_align;
            found = true;
        }
    }
    if (!found) elf_cache[i].load_vaddr = 0;  // libdw's open_elf leaves it 0 too
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0) return false;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn)) != NULL;) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        if (name == NULL) return false;
        if (strcmp(name, ".debug_frame") == 0 || strcmp(name, ".zdebug_frame") == 0) elf_cache[i].debug_frame = true;
    }
    elf_cache[i].cfi = dwarf_getcfi_elf(elf);
    if (elf_cache[i].cfi == NULL) return false;
    elf_cache[i].rules_state = 1;
    return true;
}

/// The elf_cache entry of the file mapping `m` maps: found by the device and inode the mapping names, checked
/// with an fstat of the entry's descriptor (size and modification time unchanged), else opened through its path
/// as libdw's find_elf opens it, and then only if that path still names the mapped file. -1 when none: libdw
/// walks. A new process then costs no path lookup per module (a stat of each module's path was a third of a
/// replayed walk).
static int mapped_file(const map_ent *m) {
    dev_t dev = makedev(m->dev_major, m->dev_minor);
    for (int i = 0; i < elf_cache_n; i++) {
        if (elf_cache[i].dev != dev || elf_cache[i].ino != (ino_t)m->inode) continue;
        struct stat st;
        if (fstat(elf_cache[i].fd, &st) == 0 && st.st_size == elf_cache[i].size
            && st.st_mtim.tv_sec == elf_cache[i].mtime.tv_sec && st.st_mtim.tv_nsec == elf_cache[i].mtime.tv_nsec)
            return i;
    }
    int i = elf_cache_index(m->path);
    if (i < 0 || elf_cache[i].dev != dev || elf_cache[i].ino != (ino_t)m->inode) return -1;
    return i;
}

/// The elf_cache index of module `d`'s file, looked up and checked (mapped_file) at this space's first need, or -1
/// when the rule cache cannot use it (then libdw walks there).
static int module_file(ct_uw_space *s, mod_ent *d) {
    if (d->first < 0) return -1;
    if (d->elf == -2) {
        int i = mapped_file(&s->maps[d->first]);
        d->elf = i >= 0 && rules_usable(i) ? i : -1;
        if (d->elf >= 0) d->bias = d->start - elf_cache[i].load_vaddr;
    }
    return d->elf;
}

/// Whether the code of module file `i` is in memory as in the file: its dynamic section asks for no text
/// relocations (DT_TEXTREL, DF_TEXTREL), the one way the loader writes into a file's executable pages.
static bool code_as_in_file(int i) {
    if (elf_cache[i].code_state != 0) return elf_cache[i].code_state > 0;
    elf_cache[i].code_state = -1;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf_cache[i].elf, scn)) != NULL;) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) == NULL) return false;
        if (sh.sh_type != SHT_DYNAMIC) continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (data == NULL || sh.sh_entsize == 0) return false;
        for (size_t k = 0; k < sh.sh_size / sh.sh_entsize; k++) {
            GElf_Dyn dyn;
            if (gelf_getdyn(data, (int)k, &dyn) == NULL) return false;
            if (dyn.d_tag == DT_TEXTREL || (dyn.d_tag == DT_FLAGS && (dyn.d_un.d_val & DF_TEXTREL))) return false;
        }
    }
    elf_cache[i].code_state = 1;
    return true;
}

/// The 8 bytes at offset `off` of elf_cache file `i`, from libelf's mapping of it (counted as read from a file);
/// false past its end.
static bool file_word(ct_uw_space *s, int i, uint64_t off, uint64_t *out) {
    size_t size;
    const char *raw = elf_rawfile(elf_cache[i].elf, &size);
    if (raw == NULL || off > size || size - off < 8) return false;
    memcpy(out, raw + off, 8);
    s->counts.code_file++;
    return true;
}

/// The 8 bytes of code at `addr`, from the module's file where it is mapped: an executable, not writable
/// mapping of a file the rule cache holds and checked unchanged for this space (the module's `elf`), without
/// text relocations (code_as_in_file). The unwind rules come from the same file, as libdw reads them, so this is
/// the same view of the code; a tracer's breakpoint is not seen (the instruction it replaced is, which is what
/// decoding a call wants). Elsewhere, or past the file's end, the program's memory (read_word). Under notify the
/// rbp recovery (dw_walk) looks at 3-4 places in ld.so's code per new process: each was a page's
/// process_vm_readv (1.5-2 µs), now a copy from the file libelf has mapped.
static int code_word(ct_uw_space *s, uint64_t addr, uint64_t *out) {
    const map_ent *m = find_map(s, addr);
    if (m != NULL && m->path != NULL && (m->prot & (MAP_W | MAP_X)) == MAP_X && addr <= m->end - 8) {
        mod_ent *d = find_module(s, addr);
        int i = d == NULL ? -1 : module_file(s, d);
        if (i >= 0 && elf_cache[i].ino == (ino_t)m->inode && elf_cache[i].dev == makedev(m->dev_major, m->dev_minor)
            && code_as_in_file(i) && file_word(s, i, addr - m->start + m->offset, out))
            return 0;
    }
    s->counts.code_memory++;
    return read_word(s, addr, out);
}

/// What libdw's handle_cfi would do at link-time address `vaddr` of module file `i`.
static void rule_compute(int i, uint64_t vaddr, uw_rule *r) {
    r->ok = false;
    r->no_cfi = false;
    Dwarf_Frame *fr;
    if (dwarf_cfi_addrframe(elf_cache[i].cfi, vaddr, &fr) != 0) {
        // libdw tries .debug_frame next (none here, else not replayed), then x86_64_unwind.
        r->ok = r->no_cfi = !elf_cache[i].debug_frame;
        return;
    }
    Dwarf_Addr start, end;
    bool signal = false;
    Dwarf_Op *ops;
    size_t nops;
    if (dwarf_frame_info(fr, &start, &end, &signal) != 16) goto out;  // x86-64's return address column
    r->signal = signal;
    if (dwarf_frame_cfa(fr, &ops, &nops) != 0 || nops != 1) goto out;
    if (ops[0].atom == DW_OP_bregx) {
        if (ops[0].number >= NREGS) goto out;
        r->cfa_reg = (uint8_t)ops[0].number;
        r->cfa_off = (int64_t)ops[0].number2;
    } else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom < DW_OP_breg0 + NREGS) {
        r->cfa_reg = (uint8_t)(ops[0].atom - DW_OP_breg0);
        r->cfa_off = (int64_t)ops[0].number;
    } else {
        goto out;
    }
    for (int regno = 0; regno < NREGS; regno++) {
        Dwarf_Op mem[3], *o;
        size_t n;
        r->kind[regno] = RULE_UNSET;
        r->reg[regno] = 0;
        r->val[regno] = 0;
        if (dwarf_frame_register(fr, regno, mem, &o, &n) != 0) continue;  // libdw leaves it undefined
        if (n == 0) {
            if (o == NULL) r->kind[regno] = RULE_SAME;
            continue;  // undefined, or (o neither) an error libdw also passes over
        }
        if (o[0].atom == DW_OP_call_frame_cfa) {
            size_t k = 1;
            uint64_t off = 0;
            if (k < n && o[k].atom == DW_OP_plus_uconst) off = o[k++].number;
            if (k == n) r->kind[regno] = RULE_AT_CFA;
            else if (k == n - 1 && o[k].atom == DW_OP_stack_value) r->kind[regno] = RULE_VAL_CFA;
            else goto out;
            r->val[regno] = (int64_t)off;
        } else if (n == 1 && (o[0].atom == DW_OP_regx || o[0].atom == DW_OP_bregx
                              || (o[0].atom >= DW_OP_reg0 && o[0].atom <= DW_OP_reg31)
                              || (o[0].atom >= DW_OP_breg0 && o[0].atom <= DW_OP_breg31))) {
            uint64_t from;
            int64_t add = 0;
            if (o[0].atom == DW_OP_regx) from = o[0].number;
            else if (o[0].atom == DW_OP_bregx) { from = o[0].number; add = (int64_t)o[0].number2; }
            else if (o[0].atom <= DW_OP_reg31) from = o[0].atom - DW_OP_reg0;
            else { from = o[0].atom - DW_OP_breg0; add = (int64_t)o[0].number; }
            if (from >= NREGS) continue;  // libdw cannot read it: the register stays undefined
            r->kind[regno] = RULE_REG;
            r->reg[regno] = (uint8_t)from;
            r->val[regno] = add;
        } else {
            goto out;
        }
    }
    r->ok = true;
out:
    free(fr);
}

/// The rule at `addr` (a pc, already moved into its call instruction for a return address), or NULL when libdw
/// must walk it. `*in_module`: whether libdw knows a module at `addr`.
static const uw_rule *rule_at(ct_uw_space *s, uint64_t addr) {
    mod_ent *d = find_module(s, addr);
    if (d == NULL || module_file(s, d) < 0) return NULL;
    uint64_t vaddr = addr - d->bias;
    if (rules == NULL && !rules_resize(RULES_FIRST)) return NULL;
    uint64_t h = (vaddr ^ ((uint64_t)d->elf << 48)) * 0x9E3779B97F4A7C15ull;
    for (size_t k = (size_t)(h >> 40) % rules_cap;; k = (k + 1) % rules_cap) {
        uw_rule *r = &rules[k];
        if (r->elf == d->elf + 1 && r->vaddr == vaddr) return r->ok ? r : NULL;
        if (r->elf != 0) continue;
        if (rules_used >= rules_cap * 3 / 4) {
            // Three quarters full: twice the slots, or at RULES start again (still correct, only slower once).
            if (rules_cap >= RULES || !rules_resize(rules_cap * 2)) {
                memset(rules, 0, rules_cap * sizeof(uw_rule));
                rules_used = 0;
            }
            return rule_at(s, addr);
        }
        rule_compute(d->elf, vaddr, r);
        r->elf = d->elf + 1;
        r->vaddr = vaddr;
        rules_used++;
        return r->ok ? r : NULL;
    }
}

static int rules_walk_once(ct_uw_space *s, frames_acc *acc);

/// libdw's walk (dwfl_getthread_frames with dw_frame_cb) replayed from cached rules. Returns the number of
/// frames with `acc` filled as libdw's walk fills it, or -1 when some frame needs libdw itself.
static int rules_walk(ct_uw_space *s, frames_acc *acc) {
    for (int attempt = 0;; attempt++) {
        int n = rules_walk_once(s, acc);
        if (n != -2) return n;  // NEED_REGS too
        // A pc in no module: libraries were mapped since the mappings were read (ld.so, dlopen). libdw re-reports
        // and walks again when the mappings really changed; so does this, from the start.
        if (attempt > 0 || s->maps_walk == s->walk_no || load_maps(s) != 1) return -1;
    }
}

enum { NEED_REGS = -3 };

/// One replayed walk: the number of frames, -1 when a frame needs libdw, -2 when a pc is in no module, NEED_REGS
/// when it needs a register the thread was not asked for yet (lazy_regs).
static int rules_walk_once(ct_uw_space *s, frames_acc *acc) {
    uint64_t regs[NREGS], next[NREGS];
    uint32_t set, nset;
    memcpy(regs, s->regs, sizeof regs);
    if (s->all_regs) set = (1u << NREGS) - 1;
    else set = 1u << 7 | (s->rbp_known ? 1u << 6 : 0);  // as dw_set_initial_registers gives them
    // lazy_regs: the registers the walk would have with all of them asked for, but was not given. A rule that
    // looks at one of them ends the replay (NEED_REGS): the caller asks for all and walks again. One that only
    // carries it over (same value) carries the mark, so that a later frame's look is caught too.
    uint32_t partial = s->lazy_regs ? ((1u << NREGS) - 1) & ~set : 0, npartial;
    uint64_t pc = s->regs[16];
    bool initial = true, signal = false;
    acc->n = 0;
    for (;;) {
        acc->pcs[acc->n++] = pc;
        acc->have_sp = (set >> 7) & 1;
        if (acc->have_sp) acc->last_sp = regs[7];
        if (acc->n >= acc->max) { acc->rc = DWARF_CB_ABORT; break; }
        const uw_rule *r = rule_at(s, initial || signal ? pc : pc - 1);
        if (r == NULL && find_module(s, initial || signal ? pc : pc - 1) == NULL) return -2;
        if (r != NULL && r->no_cfi) {
            // x86_64_unwind follows rbp: [rbp] is the caller's rbp, [rbp + 8] its pc. Replayed only where it
            // fails (libdw then ends the walk with an error); where it would find a frame, libdw walks. Its
            // versions differ in what they do once [rbp] cannot be read but [rbp + 8] can: libdw walks that too.
            if ((partial >> 6) & 1) return NEED_REGS;
            uint64_t w;
            if (((set >> 6) & 1) && regs[6] != 0) {
                (void)read_word(s, regs[6], &w);
                if (read_word(s, regs[6] + 8, &w) == 0) return -1;
            }
            acc->rc = -1;
            break;
        }
        if (r == NULL) return -1;
        bool cfa_ok = (set >> r->cfa_reg) & 1;
        if (!cfa_ok && ((partial >> r->cfa_reg) & 1)) return NEED_REGS;
        uint64_t cfa = regs[r->cfa_reg] + (uint64_t)r->cfa_off;
        nset = 0;
        npartial = 0;
        for (int i = 0; i < NREGS; i++) {
            uint64_t v;
            switch (r->kind[i]) {
            case RULE_SAME:
                if (!((set >> i) & 1)) {
                    npartial |= partial & (1u << i);
                    continue;
                }
                v = regs[i];
                break;
            case RULE_AT_CFA:
                if (!cfa_ok || read_word(s, cfa + (uint64_t)r->val[i], &v) != 0) continue;
                break;
            case RULE_VAL_CFA:
                if (!cfa_ok) continue;
                v = cfa + (uint64_t)r->val[i];
                break;
            case RULE_REG:
                if ((partial >> r->reg[i]) & 1) return NEED_REGS;
                if (!((set >> r->reg[i]) & 1)) continue;
                v = regs[r->reg[i]] + (uint64_t)r->val[i];
                break;
            default:
                continue;
            }
            next[i] = v;
            nset |= 1u << i;
        }
        if (!((nset >> 16) & 1) || next[16] == 0) { acc->rc = 0; break; }  // libdw: pc undefined, the end
        memcpy(regs, next, sizeof regs);
        set = nset;
        partial = npartial;
        pc = next[16];
        initial = false;
        signal = r->signal;
    }
    // libdw's walk would be re-run by dw_walk_once if a pc were in no module (maps changed since the report).
    for (int i = 0; i < acc->n; i++)
        if (find_module(s, i == 0 ? acc->pcs[i] : acc->pcs[i] - 1) == NULL) return -2;
    s->counts.rule_walks++;
    return acc->n;
}

void ct_uw_space_set_rule_cache(ct_uw_space *s, int on) { s->rules = on != 0; }

void ct_uw_space_take_counts(ct_uw_space *s, ct_uw_counts *c) {
    c->rule_walks += s->counts.rule_walks;
    c->maps_reads += s->counts.maps_reads;
    c->scans += s->counts.scans;
    c->code_file += s->counts.code_file;
    c->code_memory += s->counts.code_memory;
    memset(&s->counts, 0, sizeof s->counts);
}

static int libdw_walk_once(ct_uw_space *s, frames_acc *acc);

/// CAPTRACE_RULE_CACHE_CHECK=1: every walk replayed from cached rules is walked by libdw too, and any difference
/// (frames, how the walk ended, the last stack pointer) is said on stderr; libdw's walk is the one kept.
static int rule_check = -1;

/// One walk: from cached rules when every frame's rule is cached or cacheable, else libdw's own.
static int dw_walk_once(ct_uw_space *s, frames_acc *acc) {
    if (!s->rules) return libdw_walk_once(s, acc);
    int n = rules_walk(s, acc);
    if (n < 0) return libdw_walk_once(s, acc);
    if (rule_check < 0) rule_check = getenv("CAPTRACE_RULE_CACHE_CHECK") != NULL;
    if (!rule_check) return n;
    frames_acc mine = *acc;
    uint64_t *pcs = malloc(sizeof(uint64_t) * (size_t)n);
    if (pcs == NULL) return n;
    memcpy(pcs, acc->pcs, sizeof(uint64_t) * (size_t)n);
    int m = libdw_walk_once(s, acc);
    if (m != n || memcmp(pcs, acc->pcs, sizeof(uint64_t) * (size_t)n) != 0 || mine.rc != acc->rc
        || mine.have_sp != acc->have_sp || (mine.have_sp && mine.last_sp != acc->last_sp)) {
        fprintf(stderr, "captrace: CAPTRACE_RULE_CACHE_CHECK: pid %d tid %d: cached rules gave %d frames (rc %d), "
                "libdw %d (rc %d); first pc %#llx\n", (int)s->pid, (int)s->tid, n, mine.rc, m, acc->rc,
                (unsigned long long)pcs[0]);
    }
    free(pcs);
    return m;
}

/// libdw's own walk, reporting the modules first if this space has no session yet.
static int libdw_walk_once(ct_uw_space *s, frames_acc *acc) {
    if (s->dwfl == NULL && dw_report(s) != 0) {
        acc->n = 0;
        return 0;
    }
    for (int attempt = 0;; attempt++) {
        acc->n = 0;
        acc->have_sp = false;
        acc->rc = dwfl_getthread_frames(s->dwfl, s->tid, dw_frame_cb, acc);  // -1 at the end of most stacks
        // A pc in no reported module means libraries were mapped since the last report (ld.so, dlopen):
        // libdw then stops there silently. Re-report once if the mappings really changed, and walk again.
        bool stale = acc->n == 0;
        for (int i = 0; i < acc->n && !stale; i++) {
            uint64_t lookup = i == 0 ? acc->pcs[i] : acc->pcs[i] - 1;
            if (dwfl_addrmodule(s->dwfl, lookup) == NULL) {
                map_ent *m = find_map(s, lookup);
                stale = m == NULL || m->path != NULL;  // anonymous memory (JIT) is no reason to re-report
            }
        }
        if (!stale || attempt > 0) return acc->n;
        // Re-report if our table of mappings moved on since the last report, or moves on now.
        if (s->dwfl_gen == s->maps_gen && (s->maps_walk == s->walk_no || load_maps(s) != 1)) return acc->n;
        if (dw_report(s) != 0) return acc->n;
    }
}

/// Whether `ra` can be a return address (inside a module libdw knows, right after a call instruction of a
/// form compilers emit), and where that call went when the instruction says: 1 with `*target` set (call rel32,
/// call *disp32(%rip), through one PLT stub), 0 for a call whose target is in a register, -1 if not a call.
static int call_before(ct_uw_space *s, uint64_t ra, uint64_t *target) {
    if (ra < 8 || (s->dwfl ? dwfl_addrmodule(s->dwfl, ra - 1) == NULL : find_module(s, ra - 1) == NULL)) return -1;
    uint64_t w;
    if (code_word(s, ra - 8, &w) != 0) return -1;
    uint8_t b[8];
    memcpy(b, &w, 8);  // b[7] is the byte just before ra
    uint64_t t;
    if (b[3] == 0xE8) {  // call rel32
        int32_t rel;
        memcpy(&rel, b + 4, 4);
        t = ra + (int64_t)rel;
    } else if (b[2] == 0xFF && b[3] == 0x15) {  // call *disp32(%rip)
        int32_t rel;
        memcpy(&rel, b + 4, 4);
        if (read_word(s, ra + (int64_t)rel, &t) != 0) return 0;
        *target = t;
        return 1;
    } else if ((b[2] == 0xFF && (b[3] & 0xF8) == 0x90) || (b[6] == 0xFF && ((b[7] & 0xF8) == 0xD0 || (b[7] & 0xF8) == 0x10))
               || (b[5] == 0xFF && (b[6] & 0xF8) == 0x50) || (b[4] == 0xFF && b[5] == 0x54 && b[6] == 0x24)) {
        return 0;  // call *disp32(reg), *reg, *(reg), *disp8(reg), *disp8(%rsp)
    } else {
        return -1;
    }
    // A PLT stub: [endbr64] [bnd] jmp *disp32(%rip) — follow it to where the GOT points.
    uint64_t p0, p1;
    if (code_word(s, t, &p0) == 0 && code_word(s, t + 8, &p1) == 0) {
        uint8_t c[16];
        memcpy(c, &p0, 8);
        memcpy(c + 8, &p1, 8);
        int at = 0;
        if (c[0] == 0xF3 && c[1] == 0x0F && c[2] == 0x1E && c[3] == 0xFA) at = 4;
        if (c[at] == 0xF2) at++;
        if (c[at] == 0xFF && c[at + 1] == 0x25) {
            int32_t rel;
            memcpy(&rel, c + at + 2, 4);
            uint64_t got;
            if (read_word(s, t + (uint64_t)at + 6 + (int64_t)rel, &got) == 0) t = got;
        }
    }
    *target = t;
    return 1;
}

static eh_module *eh_module_for(ct_uw_space *s, uint64_t ip);

/// 8 bytes of module `e`'s .eh_frame_hdr at `addr`: from its file when known (the section holds only offsets
/// relative to itself, which no loader rewrites), else from the program's memory.
static int eh_word(ct_uw_space *s, const eh_module *e, uint64_t addr, uint64_t *out) {
    if (e->file >= 0 && addr >= e->hdr && addr - e->hdr <= e->hdr_size && e->hdr_size - (addr - e->hdr) >= 8
        && file_word(s, e->file, e->hdr_off + (addr - e->hdr), out))
        return 0;
    s->counts.code_memory++;
    return read_word(s, addr, out);
}

/// The entry address of the function holding `pc`: the initial location of its FDE, found in the module's
/// .eh_frame_hdr search table (sorted (location, FDE) pairs of int32 relative to the header), or 0.
static uint64_t function_start(ct_uw_space *s, uint64_t pc) {
    eh_module *e = eh_module_for(s, pc);
    if (e == NULL || e->fde_count == 0) return 0;
    // Copied: a read may re-read the mappings, which drops the module table.
    const eh_module copy = *e;
    const uint64_t table = copy.table, hdr = copy.hdr;
    uint64_t lo = 0, hi = copy.fde_count;  // find the last entry whose location is <= pc
    uint64_t found = 0;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2, w;
        if (eh_word(s, &copy, table + mid * 8, &w) != 0) return 0;
        uint64_t loc = hdr + (int64_t)(int32_t)(uint32_t)w;
        if (loc <= pc) { found = loc; lo = mid + 1; } else hi = mid;
    }
    return found;
}

/// Whether the function at `fn` ends in a jump to `to` among its first instructions, directly or through one more
/// such wrapper: the first `jmp rel32` or `jmp rel8` within its first 32 bytes lands on `to`, or on a function
/// that does (execvp sets up its arguments and jumps to execvpe, which jumps to __execvpe_common). A scan of
/// bytes, not a decoder: an 0xE9 or 0xEB inside another instruction ends the search at a wrong address, which
/// can only miss a tail call (the scan then falls back as before), not invent one that lands exactly on F.
static bool tail_jumps_to(ct_uw_space *s, uint64_t fn, uint64_t to) {
    for (int depth = 0; depth < 2; depth++) {
        uint8_t b[40];
        for (int i = 0; i < 5; i++) {
            uint64_t w;
            if (code_word(s, fn + 8 * (uint64_t)i, &w) != 0) return false;
            memcpy(b + 8 * i, &w, 8);
        }
        uint64_t next = 0;
        for (int i = 0; i < 32 && next == 0; i++) {
            if (b[i] == 0xE9) {
                int32_t rel;
                memcpy(&rel, b + i + 1, 4);
                next = fn + (uint64_t)i + 5 + (uint64_t)(int64_t)rel;
            } else if (b[i] == 0xEB) {
                next = fn + (uint64_t)i + 2 + (uint64_t)(int64_t)(int8_t)b[i + 1];
            }
        }
        if (next == to) return true;
        if (next == 0) return false;
        fn = next;
    }
    return false;
}

/// Whether a direct call to `target` reaches F (entry `f`, 0 when unknown): it is F, or jumps to it at once.
static bool goes_to(ct_uw_space *s, uint64_t target, uint64_t f) {
    return f != 0 && (target == f || tail_jumps_to(s, target, f));
}

/// Whether the slot at `q` can be the frame record of F, the function holding `pc`: [q + 8] returns from a call
/// through a register, or from a call to F or to a function that jumps to F (what dw_walk's scan takes). F's
/// entry is looked up (`*f`, UINT64_MAX until then) only for a direct call: its binary search reads pages of
/// .eh_frame_hdr, which a memo trial through a register call does not need.
static bool record_may_be(ct_uw_space *s, uint64_t q, uint64_t pc, uint64_t *f) {
    uint64_t ra, target = 0;
    if (read_word(s, q + 8, &ra) != 0) return false;
    int kind = call_before(s, ra, &target);
    if (kind != 1) return kind == 0;
    if (*f == UINT64_MAX) *f = function_start(s, pc);
    return goes_to(s, target, *f);
}

enum { SCAN_BYTES = 16384, SCAN_TRIES = 16 };

/// A walk from only rsp and rip (a thread parked in a seccomp notification: /proc/TID/syscall gives no other
/// register) stops at the first frame whose caller is found through rbp (a function F with a frame pointer).
/// No frame inside F saved rbp (else libdw would have found it there), so rbp in F is still the thread's rbp
/// now. Recover it as crash reporters do when CFI runs out, but validated: scan the stack above F's sp for
/// slots q followed by a return address (inside a known module, right after a call instruction; [q] is the
/// saved rbp, which need not look like a stack address, as callers may use rbp as a plain register), and walk
/// again with rbp = q. F's frame also holds stale records left by earlier calls (in its locals or alloca
/// space), and its callers' records lie above its own, so a candidate is taken only when its call instruction
/// went to F itself (direct calls, GOT calls, one PLT stub) and the walk again reproduces every frame found so
/// far and goes further; or went to a function that jumps to F at once (tail calls: execvp jumps to execvpe,
/// which jumps to __execvpe_common, which keeps rbp as its frame pointer: env's call to execvp is the record).
/// Where no such call is found (F reached through a register), the deepest walk among the candidates whose call
/// target is unknown is taken. (Taking the deepest among calls to other functions too took stale records
/// instead: a record of a call F's callee made earlier adds that callee as a frame and the walk still goes on.)
static int dw_walk(ct_uw_space *s, uint64_t *pcs, int max) {
    frames_acc acc = {pcs, max, 0, 0, false, 0};
    int n = dw_walk_once(s, &acc);
    if (s->all_regs || n == 0 || n >= max || !acc.have_sp || acc.rc != 0) return n;
    uint64_t base = acc.last_sp;
    // The memo is keyed by where the frame's code is in its file (the file's identity and the offset), so that
    // what one process taught holds for every process running the same code (an exec-heavy run: each new
    // process stops at the same place in ld.so), in this run and later ones; a pc outside a file libdw's files
    // are shared from (elf_cache) is not remembered.
    uint64_t code_key = 0;
    uint64_t stop = n == 1 ? pcs[0] : pcs[n - 1] - 1;
    map_ent *m_stop = find_map(s, stop);
    // The module's file as the walk's rule lookups found it (by device and inode; no path lookup), else found so.
    mod_ent *d_stop = m_stop && m_stop->path ? find_module(s, stop) : NULL;
    int file = d_stop == NULL || d_stop->first < 0 ? -1 : d_stop->elf >= 0 ? d_stop->elf : mapped_file(&s->maps[d_stop->first]);
    if (file >= 0) {
        uint64_t id[6] = {(uint64_t)elf_cache[file].dev, (uint64_t)elf_cache[file].ino, (uint64_t)elf_cache[file].size,
                          (uint64_t)elf_cache[file].mtime.tv_sec, (uint64_t)elf_cache[file].mtime.tv_nsec,
                          pcs[n - 1] - m_stop->start + m_stop->offset};
        code_key = 0xcbf29ce484222325ull;
        const uint8_t *b = (const uint8_t *)id;
        for (size_t i = 0; i < sizeof id; i++) code_key = (code_key ^ b[i]) * 0x100000001b3ull;
        if (code_key == 0) code_key = 1;
        if (!memo_loaded) memo_load();
    }
    unsigned slot = memo_slot(code_key);
    bool known = code_key != 0 && rbp_memo[slot].key == code_key;
    if (known && rbp_memo[slot].delta == INT64_MIN) return n;
    uint64_t *trial = malloc(sizeof(uint64_t) * (size_t)max);
    if (trial == NULL) return n;
    uint64_t f = UINT64_MAX;  // F's entry, looked up when first needed
    if (known && record_may_be(s, base + (uint64_t)rbp_memo[slot].delta, stop, &f)) {
        // The place that worked last time for this frame (a frame's size can change between calls: alloca, VLAs):
        // one trial walk, kept if its record still passes the scan's test and the walk goes further.
        s->regs[6] = base + (uint64_t)rbp_memo[slot].delta;
        s->rbp_known = true;
        frames_acc again = {trial, max, 0, 0, false, 0};
        int m = dw_walk_once(s, &again);
        s->rbp_known = false;
        if (m > n && memcmp(trial, pcs, sizeof(uint64_t) * (size_t)n) == 0) {
            memcpy(pcs, trial, sizeof(uint64_t) * (size_t)m);
            free(trial);
            return m;
        }
    }
    if (f == UINT64_MAX) f = function_start(s, stop);
    uint64_t best = 0;
    int best_n = n, tries = 0;
    // First the candidates whose call went to this very function (no trial walk for the others), then, only
    // if none of them holds, those called through a register.
    for (int pass = 0; pass < 2 && best_n == n; pass++) {
        for (uint64_t q = base; q < base + SCAN_BYTES && tries < SCAN_TRIES; q += 8) {
            uint64_t ra, target = 0;
            if (read_word(s, q + 8, &ra) != 0) break;
            int kind = call_before(s, ra, &target);
            if (pass == 0 ? !(kind == 1 && goes_to(s, target, f)) : kind != 0) continue;
            tries++;
            s->regs[6] = q;
            s->rbp_known = true;
            frames_acc again = {trial, max, 0, 0, false, 0};
            int m = dw_walk_once(s, &again);
            s->rbp_known = false;
            if (m <= n || memcmp(trial, pcs, sizeof(uint64_t) * (size_t)n) != 0) continue;
            if (pass == 0) {  // the real record: take it
                best = q;
                best_n = m;
                break;
            }
            if (m > best_n) {
                best = q;
                best_n = m;
            }
        }
    }
    uint64_t stopped_at = pcs[n - 1];
    bool found = best_n > n;
    if (found) {
        s->regs[6] = best;
        s->rbp_known = true;
        frames_acc again = {pcs, max, 0, 0, false, 0};
        n = dw_walk_once(s, &again);
        s->rbp_known = false;
    }
    (void)stopped_at;
    s->counts.scans++;
    if (code_key != 0) {
        int64_t delta = found ? (int64_t)(best - base) : INT64_MIN;
        bool learned = rbp_memo[slot].key != code_key || rbp_memo[slot].delta != delta;
        rbp_memo[slot].key = code_key;
        rbp_memo[slot].delta = delta;
        if (learned) memo_append(code_key, delta);
    }
    free(trial);
    return n;
}

// ---- libunwind backend (dlopen'ed RTLD_LOCAL; our own accessors instead of libunwind-ptrace's) ----
//
// libunwind-ptrace is not used: it is not linked against libunwind-x86_64 (its undefined _Ux86_64_* symbols would
// force libunwind into the global scope, and with it libunwind.so.8's _Unwind_* exports), it reads memory and
// registers one word per ptrace call, and its find_proc_info maps each ELF file again. Our accessors give
// libunwind the registers from one PTRACE_GETREGS, memory through the page cache above, and each module's
// .eh_frame_hdr search table located once from its program headers.

static struct {
    bool tried, ok;
    char why[256];
    unw_addr_space_t (*create_addr_space)(unw_accessors_t *, int);
    void (*destroy_addr_space)(unw_addr_space_t);
    int (*set_caching_policy)(unw_addr_space_t, unw_caching_policy_t);
    void (*flush_cache)(unw_addr_space_t, unw_word_t, unw_word_t);
    int (*init_remote)(unw_cursor_t *, unw_addr_space_t, void *);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
    int (*search_unwind_table)(unw_addr_space_t, unw_word_t, unw_dyn_info_t *, unw_proc_info_t *, int, void *);
} lu;

int ct_uw_libunwind_load(char *why, size_t why_cap) {
    if (!lu.tried) {
        lu.tried = true;
        // RTLD_LOCAL: neither libunwind-x86_64 nor its dependency libunwind.so.8 (which exports _Unwind_*)
        // enters the global scope, so C++ exceptions in this process keep using libgcc's unwinder.
        void *h = dlopen("libunwind-x86_64.so.8", RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
            snprintf(lu.why, sizeof lu.why, "dlopen libunwind-x86_64.so.8: %s", dlerror());
        } else {
            struct { void **slot; const char *name; } syms[] = {
                {(void **)&lu.create_addr_space, "_Ux86_64_create_addr_space"},
                {(void **)&lu.destroy_addr_space, "_Ux86_64_destroy_addr_space"},
                {(void **)&lu.set_caching_policy, "_Ux86_64_set_caching_policy"},
                {(void **)&lu.flush_cache, "_Ux86_64_flush_cache"},
                {(void **)&lu.init_remote, "_Ux86_64_init_remote"},
                {(void **)&lu.step, "_Ux86_64_step"},
                {(void **)&lu.get_reg, "_Ux86_64_get_reg"},
                {(void **)&lu.search_unwind_table, "_Ux86_64_dwarf_search_unwind_table"},
            };
            lu.ok = true;
            for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
                *syms[i].slot = dlsym(h, syms[i].name);
                if (*syms[i].slot == NULL) {
                    snprintf(lu.why, sizeof lu.why, "libunwind lacks %s", syms[i].name);
                    lu.ok = false;
                }
            }
        }
    }
    if (!lu.ok && why && why_cap) snprintf(why, why_cap, "%s", lu.why);
    return lu.ok ? 0 : -1;
}

static size_t encoded_size(uint8_t enc) {
    if (enc == 0xff) return 0;  // DW_EH_PE_omit
    switch (enc & 0x0f) {
    case 0x00: case 0x04: case 0x0c: return 8;  // absptr, udata8, sdata8
    case 0x02: case 0x0a: return 2;             // udata2, sdata2
    case 0x03: case 0x0b: return 4;             // udata4, sdata4
    default: return (size_t)-1;
    }
}

/// Locates the .eh_frame_hdr table of the module mapped at `m`. The file is the one libdw's session already
/// opened (elf_cache, found as the rule cache finds it: mapped_file) where it can be: opening, mapping and
/// unmapping it again was ~40 µs of a notify run's first stack (its rbp scan asks where functions start).
static void eh_module_init(ct_uw_space *s, eh_module *e, const map_ent *m, uint64_t ip) {
    e->ok = false;
    int fd;
    Elf *elf;
    // The module's file as this space's rule lookups found and checked it, else found and checked now.
    mod_ent *d = find_module(s, ip);
    int cached = d && d->first >= 0 && d->elf >= 0 && same_file(&s->maps[d->first], m) ? d->elf : mapped_file(m);
    if (cached >= 0) {
        fd = elf_cache[cached].fd;
        elf = elf_cache[cached].elf;
    } else if ((elf = open_elf(m->path, &fd)) == NULL) {
        return;
    }
    GElf_Ehdr eh;
    uint64_t vaddr;
    size_t n;
    if (gelf_getehdr(elf, &eh) == NULL || elf_getphdrnum(elf, &n) != 0) goto out;
    if (eh.e_type == ET_EXEC) e->bias = 0;
    else if (vaddr_of_offset(elf, m->offset, &vaddr) == 0) e->bias = m->start - vaddr;
    else goto out;
    uint64_t lo = UINT64_MAX, hi = 0;
    GElf_Phdr hdr = {0};
    bool have_hdr = false;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) == NULL) continue;
        if (ph.p_type == PT_LOAD) {
            if (ph.p_vaddr < lo) lo = ph.p_vaddr;
            if (ph.p_vaddr + ph.p_memsz > hi) hi = ph.p_vaddr + ph.p_memsz;
        } else if (ph.p_type == PT_GNU_EH_FRAME) {
            hdr = ph;
            have_hdr = true;
        }
    }
    if (!have_hdr || lo >= hi) goto out;
    size_t ptr_size, count_size;
    uint64_t count = 0;
    if (cached >= 0 && elf_cache[cached].eh_state != 0) {  // read from this file before
        if (elf_cache[cached].eh_state < 0) goto out;
        ptr_size = elf_cache[cached].eh_ptr_size;
        count_size = elf_cache[cached].eh_count_size;
        count = elf_cache[cached].eh_count;
    } else {
        uint8_t h[4];
        if (cached >= 0) elf_cache[cached].eh_state = -1;
        if (pread(fd, h, 4, (off_t)hdr.p_offset) != 4 || h[0] != 1 || h[3] != 0x3b /* datarel|sdata4 */) goto out;
        ptr_size = encoded_size(h[1]);
        count_size = encoded_size(h[2]);
        if (ptr_size == (size_t)-1 || (count_size != 4 && count_size != 8)) goto out;
        if (pread(fd, &count, count_size, (off_t)(hdr.p_offset + 4 + ptr_size)) != (ssize_t)count_size) goto out;
        if (cached >= 0) {
            elf_cache[cached].eh_state = 1;
            elf_cache[cached].eh_ptr_size = (uint8_t)ptr_size;
            elf_cache[cached].eh_count_size = (uint8_t)count_size;
            elf_cache[cached].eh_count = count;
        }
    }
    e->start_ip = lo + e->bias;
    e->end_ip = hi + e->bias;
    e->hdr = hdr.p_vaddr + e->bias;
    e->table = e->hdr + 4 + ptr_size + count_size;
    e->fde_count = count;
    e->file = cached;
    e->hdr_off = hdr.p_offset;
    e->hdr_size = hdr.p_filesz;
    e->ok = true;
out:
    if (cached >= 0) return;  // the cache's, not ours to end
    elf_end(elf);
    close(fd);
}

static eh_module *eh_module_for(ct_uw_space *s, uint64_t ip) {
    for (size_t i = 0; i < s->nehm; i++)
        if (ip >= s->ehm[i].start_ip && ip < s->ehm[i].end_ip) return s->ehm[i].ok ? &s->ehm[i] : NULL;
    map_ent *m = mapping_of(s, ip);
    if (m == NULL || m->path == NULL) return NULL;
    // The module's first mapping gives the bias; any of its mappings would do through vaddr_of_offset.
    eh_module e = {0};
    eh_module_init(s, &e, m, ip);
    if (!e.ok || ip < e.start_ip || ip >= e.end_ip) return NULL;
    s->ehm = realloc(s->ehm, (s->nehm + 1) * sizeof(eh_module));
    e.path = strdup(m->path);
    s->ehm[s->nehm] = e;
    return &s->ehm[s->nehm++];
}

// The accessors: `arg` is the ct_uw_space being walked.

static int lu_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg) {
    eh_module *e = eh_module_for(arg, ip);
    if (e == NULL) return -UNW_ENOINFO;
    unw_dyn_info_t di;
    memset(&di, 0, sizeof di);
    di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di.start_ip = e->start_ip;
    di.end_ip = e->end_ip;
    di.u.rti.segbase = e->hdr;
    di.u.rti.table_data = e->table;
    di.u.rti.table_len = e->fde_count * 8 / sizeof(unw_word_t);  // two int32 per entry
    return lu.search_unwind_table(as, ip, &di, pi, need, arg);
}

static void lu_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg) {
    // Only dynamically registered unwind info comes back here, and we register none.
    (void)as; (void)pi; (void)arg;
}

static int lu_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg) {
    (void)as; (void)addr; (void)arg;
    return -UNW_ENOINFO;
}

static int lu_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg) {
    (void)as;
    if (write) return -UNW_EINVAL;
    uint64_t v;
    if (read_word(arg, addr, &v) != 0) return -UNW_EINVAL;
    *val = v;
    return 0;
}

static int lu_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg) {
    (void)as;
    ct_uw_space *s = arg;
    if (write || reg < 0 || reg >= NREGS) return -UNW_EBADREG;  // UNW_X86_64_* numbers are DWARF's 0..16
    if (!s->all_regs && reg != 7 && reg != 16) return -UNW_EBADREG;
    *val = s->regs[reg];
    return 0;
}

static int lu_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg) {
    (void)as; (void)reg; (void)val; (void)write; (void)arg;
    return -UNW_EBADREG;
}

static int lu_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) {
    (void)as; (void)c; (void)arg;
    return -UNW_EINVAL;
}

static int lu_get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t len, unw_word_t *off,
                            void *arg) {
    (void)as; (void)ip; (void)buf; (void)len; (void)off; (void)arg;
    return -UNW_ENOINFO;  // names come from our own symboliser, the same for both backends
}

static unw_accessors_t lu_accessors = {
    .find_proc_info = lu_find_proc_info,
    .put_unwind_info = lu_put_unwind_info,
    .get_dyn_info_list_addr = lu_get_dyn_info_list_addr,
    .access_mem = lu_access_mem,
    .access_reg = lu_access_reg,
    .access_fpreg = lu_access_fpreg,
    .resume = lu_resume,
    .get_proc_name = lu_get_proc_name,
};

/// Mappings changed (dlopen, dlclose, mmap): libunwind's module table and its cached unwind rules may describe
/// code that is no longer there. libdw's modules are re-reported lazily (dw_walk compares generations).
static void maps_changed(ct_uw_space *s) {
    drop_eh_modules(s);
    s->lu_flush = true;  // not now: this can run inside libunwind's find_proc_info callback
}

static void libunwind_destroy_as(ct_uw_space *s) {
    if (s->as && lu.ok) lu.destroy_addr_space(s->as);
    s->as = NULL;
}

static int lu_walk(ct_uw_space *s, uint64_t *pcs, int max) {
    if (ct_uw_libunwind_load(NULL, 0) != 0) return 0;
    if (s->as == NULL) {
        s->as = lu.create_addr_space(&lu_accessors, 0);
        if (s->as == NULL) return 0;
        lu.set_caching_policy(s->as, UNW_CACHE_GLOBAL);
    }
    if (s->lu_flush) {
        lu.flush_cache(s->as, 0, 0);
        s->lu_flush = false;
    }
    unw_cursor_t c;
    if (lu.init_remote(&c, s->as, s) < 0) return 0;
    int n = 0;
    do {
        unw_word_t ip;
        if (lu.get_reg(&c, UNW_REG_IP, &ip) < 0 || (ip == 0 && n > 0)) break;
        pcs[n++] = ip;
    } while (n < max && lu.step(&c) > 0);
    return n;
}

/// Walks of different spaces share elf_cache, the rule cache and rbp_memo. captrace walks on one thread at a time
/// (the tracer's, or a notify worker holding the supervisor's lock); this lock, uncontended there, keeps walkers
/// used from several threads at once (the tests) correct.
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;

static int uw_walk(ct_uw_space *s, int backend, pid_t tid, const uint64_t *pc_sp, bool stopped, uint64_t *pcs,
                   int max);

int ct_uw_walk(ct_uw_space *s, int backend, pid_t tid, const uint64_t *pc_sp, uint64_t *pcs, int max) {
    return uw_walk(s, backend, tid, pc_sp, false, pcs, max);
}

int ct_uw_walk_stopped(ct_uw_space *s, int backend, pid_t tid, const uint64_t *pc_sp, uint64_t *pcs, int max) {
    return uw_walk(s, backend, tid, pc_sp, true, pcs, max);
}

static int uw_walk(ct_uw_space *s, int backend, pid_t tid, const uint64_t *pc_sp, bool stopped, uint64_t *pcs,
                   int max) {
    if (max <= 0) return 0;
    if (get_registers(s, tid, pc_sp, stopped) != 0) return -1;
    begin_walk(s, tid);
    // Only walks replayed from cached rules go without the whole table of mappings, and only in an image new
    // since an exec (a process first walked in mid-life, e.g. a shell's child before its exec under notify, has
    // libraries whose extent the lookups rarely show).
    bool sparse_ok = backend == CT_UW_LIBDW && s->rules;
    if (s->maps_stale) {
        // A mapping learned earlier may now hold other code at the same addresses (dlclose, then dlopen of
        // another library there): the whole table is read again (load_maps also takes a sparse space out of
        // sparse mode, dropping what it learned, as when a lookup cannot be answered one at a time).
        s->maps_stale = false;
        if (s->maps != NULL) load_maps(s);
    }
    if (s->maps == NULL ? !(sparse_ok && s->new_image && sparse_begin(s)) : s->sparse && !sparse_ok) load_maps(s);
    s->new_image = false;
    pthread_mutex_lock(&walk_lock);
    int n = NEED_REGS;
    if (s->lazy_regs) {
        // A stopped thread with rsp and rip given (its seccomp stop's syscall info): most stacks replay from
        // cached rules with those alone. One that needs another register is walked again with all of them.
        if (rule_check < 0) rule_check = getenv("CAPTRACE_RULE_CACHE_CHECK") != NULL;
        if (backend == CT_UW_LIBDW && s->rules && !rule_check) {
            frames_acc acc = {pcs, max, 0, 0, false, 0};
            n = rules_walk(s, &acc);
            if (n < 0) n = NEED_REGS;
        }
        if (n == NEED_REGS && get_registers(s, tid, NULL, true) != 0) {
            pthread_mutex_unlock(&walk_lock);
            return -1;
        }
    }
    if (n == NEED_REGS) n = backend == CT_UW_LIBUNWIND ? lu_walk(s, pcs, max) : dw_walk(s, pcs, max);
    pthread_mutex_unlock(&walk_lock);
    if (n == 0) {  // the unwinder could not even start: the pc itself is still a frame
        pcs[0] = s->regs[16];
        n = 1;
    }
    return n;
}

// ---- Symbolisation of one module file ----

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &no_debuginfo_path,
};

struct ct_uw_symfile {
    Dwfl *dwfl;
    Dwfl_Module *mod;
    Elf *elf;
    Dwarf_Addr bias;
};

ct_uw_symfile *ct_uw_symfile_open(const char *path) {
    ct_uw_symfile *f = calloc(1, sizeof *f);
    if (f == NULL) return NULL;
    f->dwfl = dwfl_begin(&offline_callbacks);
    if (f->dwfl == NULL) { free(f); return NULL; }
    dwfl_report_begin(f->dwfl);
    // Base 0 with add_p_vaddr: module addresses are the file's link-time addresses.
    f->mod = dwfl_report_elf(f->dwfl, path, path, -1, 0, true);
    dwfl_report_end(f->dwfl, NULL, NULL);
    if (f->mod) f->elf = dwfl_module_getelf(f->mod, &f->bias);
    if (f->mod == NULL || f->elf == NULL) {
        dwfl_end(f->dwfl);
        free(f);
        return NULL;
    }
    return f;
}

void ct_uw_symfile_free(ct_uw_symfile *f) {
    if (f == NULL) return;
    dwfl_end(f->dwfl);
    free(f);
}

int ct_uw_symfile_build_id(ct_uw_symfile *f, uint8_t *buf, int cap) {
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(f->mod, &bits, &vaddr);
    if (n <= 0) return 0;
    if (n > cap) n = cap;
    memcpy(buf, bits, (size_t)n);
    return n;
}

int ct_uw_symfile_vaddr(ct_uw_symfile *f, uint64_t file_offset, uint64_t *vaddr) {
    return vaddr_of_offset(f->elf, file_offset, vaddr);
}

void ct_uw_symfile_lookup(ct_uw_symfile *f, uint64_t vaddr, ct_uw_syminfo *out) {
    memset(out, 0, sizeof *out);
    Dwarf_Addr addr = vaddr + f->bias;
    GElf_Sym sym;
    GElf_Off off;
    const char *name = dwfl_module_addrinfo(f->mod, addr, &off, &sym, NULL, NULL, NULL);
    // libdw falls back to the nearest preceding sizeless symbol: a name only inside a symbol's extent.
    if (name && sym.st_size > 0 && off < sym.st_size) {
        out->symbol = name;
        out->symbol_value = sym.st_value - f->bias;
    }
    Dwfl_Line *line = dwfl_module_getsrc(f->mod, addr);
    if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file && lineno > 0) {
            out->file = file;
            out->line = lineno;
        }
    }
}

// The build-id in the notes of one PT_NOTE segment (`align` 4 or 8), if there is one.
static void brief_notes(const unsigned char *p, size_t n, size_t align, ct_uw_elf_brief *out) {
    size_t at = 0;
    while (at + 12 <= n) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p + at, 4);
        memcpy(&descsz, p + at + 4, 4);
        memcpy(&type, p + at + 8, 4);
        size_t name = at + 12;
        size_t desc = name + ((namesz + align - 1) & ~(align - 1));
        if (desc < name || desc > n || descsz > n - desc) return;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + name, "GNU", 4) == 0 && descsz > 0) {
            out->build_id_len = descsz > sizeof out->build_id ? (int)sizeof out->build_id : (int)descsz;
            memcpy(out->build_id, p + desc, (size_t)out->build_id_len);
            return;
        }
        size_t next = desc + ((descsz + align - 1) & ~(align - 1));
        if (next <= at) return;
        at = next;
    }
}

int ct_uw_elf_brief_read(const char *path, ct_uw_elf_brief *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = -1;
    struct stat st;
    unsigned char head[sizeof(Elf64_Ehdr)];
    unsigned char ph[64 * sizeof(Elf64_Phdr)];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) goto out;
    out->file_size = (uint64_t)st.st_size;
    ssize_t n = pread(fd, head, sizeof head, 0);
    if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(head, ELFMAG, SELFMAG) != 0 || head[EI_DATA] != ELFDATA2LSB) goto out;
    int is64 = head[EI_CLASS] == ELFCLASS64;
    if (!is64 && head[EI_CLASS] != ELFCLASS32) goto out;
    uint64_t phoff;
    size_t phnum, entsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (is64) {
        Elf64_Ehdr e;
        if (n < (ssize_t)sizeof e) goto out;
        memcpy(&e, head, sizeof e);
        phoff = e.e_phoff, phnum = e.e_phnum;
        if (e.e_phentsize != entsize) goto out;
    } else {
        Elf32_Ehdr e;
        memcpy(&e, head, sizeof e);
        phoff = e.e_phoff, phnum = e.e_phnum;
        if (e.e_phentsize != entsize) goto out;
    }
    if (phnum == 0 || phnum > 64) goto out;  // PN_XNUM (the count kept elsewhere) included: libdw's path
    if (pread(fd, ph, phnum * entsize, (off_t)phoff) != (ssize_t)(phnum * entsize)) goto out;
    for (size_t i = 0; i < phnum; i++) {
        uint64_t type, offset, vaddr, filesz, align;
        if (is64) {
            Elf64_Phdr h;
            memcpy(&h, ph + i * entsize, sizeof h);
            type = h.p_type, offset = h.p_offset, vaddr = h.p_vaddr, filesz = h.p_filesz, align = h.p_align;
        } else {
            Elf32_Phdr h;
            memcpy(&h, ph + i * entsize, sizeof h);
            type = h.p_type, offset = h.p_offset, vaddr = h.p_vaddr, filesz = h.p_filesz, align = h.p_align;
        }
        if (type == PT_LOAD && filesz > 0) {
            if (out->nloads == 16) goto out;
            out->loads[out->nloads++] = (ct_uw_load_segment){offset, vaddr, filesz};
        } else if (type == PT_NOTE && out->build_id_len == 0 && filesz > 0 && filesz <= 65536) {
            unsigned char *notes = malloc(filesz);
            if (notes == NULL) goto out;
            if (pread(fd, notes, filesz, (off_t)offset) == (ssize_t)filesz) brief_notes(notes, filesz, align == 8 ? 8 : 4, out);
            free(notes);
        }
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

int ct_uw_elf_brief_vaddr(const ct_uw_elf_brief *b, uint64_t off, uint64_t *vaddr) {
    for (int i = 0; i < b->nloads; i++) {
        if (load_vaddr(b->loads[i].offset, b->loads[i].vaddr, b->loads[i].filesz, off, vaddr)) return 0;
    }
    return -1;
}

char *ct_uw_demangle(const char *name) {
    if (name == NULL) return NULL;
    if (strncmp(name, "_Z", 2) == 0) {
        static char *(*cxa)(const char *, char *, size_t *, int *);
        static bool looked;
        if (!looked) { cxa = (char *(*)(const char *, char *, size_t *, int *))dlsym(RTLD_DEFAULT, "__cxa_demangle"); looked = true; }
        int status = -1;
        char *r = cxa ? cxa(name, NULL, NULL, &status) : NULL;
        if (status != 0) { free(r); r = NULL; }
        return r;
    }
    if (strncmp(name, "$s", 2) == 0 || strncmp(name, "_$s", 3) == 0 || strncmp(name, "$S", 2) == 0 ||
        strncmp(name, "_$S", 3) == 0 || strncmp(name, "_T0", 3) == 0) {
        // The Swift runtime's public demangler (present whenever this Swift program runs on a shared stdlib).
        static char *(*sw)(const char *, size_t, char *, size_t *, uint32_t);
        static bool looked;
        if (!looked) { sw = (char *(*)(const char *, size_t, char *, size_t *, uint32_t))dlsym(RTLD_DEFAULT, "swift_demangle"); looked = true; }
        return sw ? sw(name, strlen(name), NULL, NULL, 0) : NULL;
    }
    return NULL;
}
