// first-touch: runs a program with a breakpoint (int3) on each function it is given and prints the functions in
// the order they first run; exits with the program's status. Tools/text-order.sh uses it to lay out captrace's
// start-up code together.
//
//   first-touch SYMBOLS -- PROGRAM ARGS...
//
// SYMBOLS has one "hexaddress name" line per function, addresses as in the program's ELF file (a PIE's offsets
// from its load address). Each breakpoint is removed at its first hit, so the run costs one stop per function
// that runs. Threads are followed; forked children are not: the caller leaves out functions that a child runs
// before it execs (captrace's children share its memory and would die at a breakpoint nobody catches).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct sym { uint64_t addr; char *name; int hit; };
static struct sym *syms;
static size_t nsyms;

static int by_addr(const void *a, const void *b) {
    uint64_t x = ((const struct sym *)a)->addr, y = ((const struct sym *)b)->addr;
    return x < y ? -1 : x > y;
}

static struct sym *find(uint64_t addr) {
    size_t lo = 0, hi = nsyms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (syms[mid].addr < addr) lo = mid + 1; else hi = mid;
    }
    return lo < nsyms && syms[lo].addr == addr ? &syms[lo] : NULL;
}

static void die(const char *what) { perror(what); exit(2); }

// The load address of the program's first mapping (file offset 0) in /proc/PID/maps.
static uint64_t load_base(pid_t pid, const char *path) {
    char buf[64], line[4096], real[4096];
    if (!realpath(path, real)) die("realpath");
    snprintf(buf, sizeof buf, "/proc/%d/maps", pid);
    FILE *f = fopen(buf, "r");
    if (!f) die(buf);
    uint64_t base = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long start, off;
        char file[4096] = "";
        if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %4095s", &start, &off, file) == 3 && off == 0 &&
            strcmp(file, real) == 0) { base = start; break; }
    }
    fclose(f);
    if (!base) { fprintf(stderr, "first-touch: %s is not mapped in %d\n", real, pid); exit(2); }
    return base;
}

int main(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: first-touch SYMBOLS -- PROGRAM ARGS...\n");
        return 2;
    }
    FILE *sf = fopen(argv[1], "r");
    if (!sf) die(argv[1]);
    size_t cap = 1 << 16;
    syms = malloc(cap * sizeof *syms);
    char line[8192];
    while (fgets(line, sizeof line, sf)) {
        unsigned long long a;
        char name[8192];
        if (sscanf(line, "%llx %8191s", &a, name) != 2) continue;
        if (nsyms == cap) syms = realloc(syms, (cap *= 2) * sizeof *syms);
        syms[nsyms++] = (struct sym){ a, strdup(name), 0 };
    }
    fclose(sf);
    qsort(syms, nsyms, sizeof *syms, by_addr);

    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[3], argv + 3);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) die("exec stop");
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL);

    // Every breakpoint in one write: the text between the first and last function, read, patched, written back
    // through /proc/PID/mem (which writes read-only text, as a debugger's poke does).
    uint64_t base = load_base(pid, argv[3]);
    char mempath[64];
    snprintf(mempath, sizeof mempath, "/proc/%d/mem", pid);
    int mem = open(mempath, O_RDWR);
    if (mem < 0) die(mempath);
    uint64_t lo = syms[0].addr, len = syms[nsyms - 1].addr + 1 - lo;
    unsigned char *orig = malloc(len), *patched = malloc(len);
    if (pread(mem, orig, len, (off_t)(base + lo)) != (ssize_t)len) die("read text");
    memcpy(patched, orig, len);
    for (size_t i = 0; i < nsyms; i++) patched[syms[i].addr - lo] = 0xcc;
    if (pwrite(mem, patched, len, (off_t)(base + lo)) != (ssize_t)len) die("write breakpoints");

    size_t hits = 0;
    int status = 1;
    ptrace(PTRACE_CONT, pid, 0, 0);
    for (;;) {
        pid_t t = waitpid(-1, &st, __WALL);
        if (t < 0) { if (errno == EINTR) continue; if (errno == ECHILD) break; die("waitpid"); }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (t == pid) { status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); break; }
            continue;
        }
        int sig = WSTOPSIG(st), deliver = 0;
        if (sig == SIGTRAP && (st >> 16) == 0) {
            struct user_regs_struct regs;
            ptrace(PTRACE_GETREGS, t, 0, &regs);
            uint64_t at = regs.rip - 1 - base;
            struct sym *s = at >= lo && at < lo + len ? find(at) : NULL;
            if (s) {
                // Other threads may stop at the same breakpoint before it is removed: each rewinds.
                if (!s->hit) {
                    s->hit = 1;
                    printf("%s\n", s->name);
                    // Aliases at the same address: their names too (the section carries one of them).
                    for (struct sym *o = s + 1; o < syms + nsyms && o->addr == s->addr; o++) printf("%s\n", o->name);
                    hits++;
                    if (pwrite(mem, &orig[at - lo], 1, (off_t)(base + at)) != 1) die("remove breakpoint");
                }
                regs.rip -= 1;
                ptrace(PTRACE_SETREGS, t, 0, &regs);
            } else {
                deliver = SIGTRAP;
            }
        } else if (sig == SIGTRAP) {
            deliver = 0;  // a ptrace event (a new thread)
        } else if (sig == SIGSTOP && t != pid) {
            deliver = 0;  // a new thread's first stop
        } else {
            deliver = sig;
        }
        ptrace(PTRACE_CONT, t, 0, deliver);
    }
    fprintf(stderr, "first-touch: %zu of %zu functions ran\n", hits, nsyms);
    return status;  // the program's: a failed run gives an incomplete order
}
