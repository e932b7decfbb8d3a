/* own-filter.c [prctl|i386|trace] — a program that installs its own seccomp filter (as a sandbox wrapper's
 * `bwrap --seccomp FD` does) and then makes a call the filter refuses. The filter: uname -> ERRNO(EPERM), every
 * other call of x86_64 allowed (another architecture: KILL_PROCESS). Installed with seccomp(2), or with
 * prctl(PR_SET_SECCOMP) given "prctl". Then refuse_here() calls uname twice; getpid (allowed) between.
 * Under captrace's ptrace backend: one seccomp_filter record (the 7 instructions of `filter`), and two
 * refusals of uname with ERRNO(EPERM) whose stack has refuse_here. Prints "uname=-1 errno=1 filter=installed".
 * "i386" installs the same filter through the i386 ABI (int 0x80, seccomp = 354) with the compat struct
 * sock_fprog {u16 len; u32 filter} in the low 4 GB (MAP_32BIT).
 * "trace" installs instead a filter that returns TRACE(0) for access and allows the rest: under captrace (the
 * tracer) access then proceeds, and mark("traced") must still be recorded as a violation although the kernel
 * reports the program's data (0) at the stop, not captrace's tag. Prints "traced=0".
 * Exit status 0.
 */
#include "fixture.h"
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

static struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };

static struct sock_filter trace_access[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_access, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog trace_prog = { .len = sizeof trace_access / sizeof trace_access[0], .filter = trace_access };

__attribute__((noinline)) static int refuse_here(struct utsname *u) {
    int r = uname(u);
    __asm__ volatile("" ::: "memory");
    return r;
}

int main(int argc, char **argv) {
    int use_prctl = argc > 1 && !strcmp(argv[1], "prctl");
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    if (argc > 1 && !strcmp(argv[1], "trace")) {
        (void)cwd();
        CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &trace_prog) == 0);
        mark("traced");
        printf("traced=0\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "i386")) {
        unsigned char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        CHECK(low != MAP_FAILED && (unsigned long)low < 0x100000000UL);
        memcpy(low + 64, filter, sizeof filter);
        unsigned short len = sizeof filter / sizeof filter[0];
        unsigned int ptr = (unsigned int)(unsigned long)(low + 64);
        memcpy(low, &len, 2);
        memcpy(low + 4, &ptr, 4);
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(354L), "b"(1L), "c"(0L), "d"((long)(unsigned long)low) : "memory");
        CHECK(r == 0);
    } else if (use_prctl) CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0);
    else CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0);
    struct utsname u;
    int r = refuse_here(&u);
    int e = errno;
    (void)getpid();
    CHECK(refuse_here(&u) == -1);
    printf("uname=%d errno=%d filter=installed\n", r, e);
    return 0;
}
