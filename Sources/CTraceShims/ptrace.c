// ptrace, seccomp and process-memory wrappers (see ctrace_ptrace.h for why each exists).
#define _GNU_SOURCE
#include "ctrace_ptrace.h"
#include "child.h"
#include "ctrace_landlock.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct sock_filter) == 8, "sock_filter layout");

int ct_bpf_export(void *scmp_ctx, ct_bpf *out) {
    int fd = memfd_create("captrace-bpf", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = seccomp_export_bpf((scmp_filter_ctx)scmp_ctx, fd);
    if (rc < 0) { close(fd); return rc; }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % sizeof(struct sock_filter) != 0 || size / 8 > 0xffff) { close(fd); return -EINVAL; }
    void *buf = malloc((size_t)size);
    if (!buf) { close(fd); return -ENOMEM; }
    if (pread(fd, buf, (size_t)size, 0) != size) { int e = errno; free(buf); close(fd); return -(e ? e : EIO); }
    close(fd);
    out->filter = buf;
    out->len = (unsigned short)(size / sizeof(struct sock_filter));
    return 0;
}

void ct_bpf_free(ct_bpf *bpf) { free(bpf->filter); bpf->filter = NULL; bpf->len = 0; }


#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

// The UAPI structs, mirrored (older headers lack some fields); sizes as the kernel checks them.
struct ct_landlock_ruleset_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct ct_landlock_path_beneath_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));
struct ct_landlock_net_port_attr { uint64_t allowed_access, port; };
_Static_assert(sizeof(struct ct_landlock_ruleset_attr) == 24, "landlock_ruleset_attr layout");
_Static_assert(sizeof(struct ct_landlock_path_beneath_attr) == 12, "landlock_path_beneath_attr layout");
_Static_assert(sizeof(struct ct_landlock_net_port_attr) == 16, "landlock_net_port_attr layout");

int ct_landlock_abi(void) {
    long r = syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL /* LANDLOCK_CREATE_RULESET_VERSION */);
    return r < 0 ? -errno : (int)r;
}

int ct_landlock_create_ruleset(uint64_t handled_fs, uint64_t handled_net, uint64_t scoped) {
    struct ct_landlock_ruleset_attr a = {handled_fs, handled_net, scoped};
    size_t size = scoped ? 24 : handled_net ? 16 : 8;
    long r = syscall(SYS_landlock_create_ruleset, &a, size, 0UL);
    return r < 0 ? -errno : (int)r;
}

int ct_landlock_add_path(int ruleset_fd, const char *path, uint64_t allowed) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ct_landlock_path_beneath_attr a = {allowed, fd};
    long r = syscall(SYS_landlock_add_rule, ruleset_fd, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &a, 0UL);
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
}

int ct_landlock_add_port(int ruleset_fd, uint64_t port, uint64_t allowed) {
    struct ct_landlock_net_port_attr a = {allowed, port};
    long r = syscall(SYS_landlock_add_rule, ruleset_fd, 2 /* LANDLOCK_RULE_NET_PORT */, &a, 0UL);
    return r < 0 ? -errno : 0;
}


// The launch does not copy captrace (a fork of a 32 MB process copies its page tables: ~6% of a short run's CPU).
// The child is cloned with CLONE_VM on a stack of its own and shares captrace's memory until its exec, so it
// touches nothing but one block mapped for it: its stack and copies of the path, argv, envp and the filter (the
// caller may free its own once ct_spawn_start returns, while the child may still be stopped at a traced execve).
// Until execve it makes raw system calls only: glibc's wrappers would write errno into the calling thread's TLS,
// which it shares with captrace. CLONE_CHILD_CLEARTID has the kernel zero `live` when the child's exec or exit
// releases captrace's memory; a later ct_spawn_start unmaps the blocks whose child is done with them (at most the
// last launch's block stays mapped until captrace exits).

struct ct_launch_block {
    pid_t live;                  // cleared (CLONE_CHILD_CLEARTID) when the child no longer uses this block
    void *base;                  // the mapping: guard page, stack, this block
    size_t size;
    struct ct_launch_block *next;
    pid_t parent;
    int go_fd, err_fd, go_write_fd, err_read_fd, landlock_fd;
    int restrict_early;          // no_new_privs, Landlock and the filter before the go byte, not after
    int has_cpus;                // moves itself to `cpus` first (ct_spawn_go moves it back)
    cpu_set_t cpus;
    int pinned;                  // set (atomically) by ct_spawn_go before it pins the child to `pin_set`
    cpu_set_t pin_set;
    struct ct_exec_image image;  // what the child execs, copied into this mapping
};

static int ct_cpus_away_from(int cpu, cpu_set_t *set);

static struct ct_launch_block *ct_blocks;
static pthread_mutex_t ct_blocks_lock = PTHREAD_MUTEX_INITIALIZER;

static void ct_launch_restrict(const struct ct_launch_block *b) {
    long r;
    if ((r = ct_raw(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0)) < 0) ct_raw_fail(b->err_fd, r);
    if (b->landlock_fd >= 0 && (r = ct_raw(SYS_landlock_restrict_self, b->landlock_fd, 0, 0, 0)) < 0)
        ct_raw_fail(b->err_fd, r);
    if (b->image.prog.len && (r = ct_raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&b->image.prog, 0)) < 0)
        ct_raw_fail(b->err_fd, r);
}

static int ct_launch_child(void *arg) {
    struct ct_launch_block *b = arg;
    ct_raw(SYS_close, b->go_write_fd, 0, 0, 0);
    ct_raw(SYS_close, b->err_read_fd, 0, 0, 0);
    // First thing: a new child often runs at once on its parent's CPU, ahead of its parent, and would install
    // its filter there before the parent could move it.
    if (b->has_cpus) {
        ct_raw(SYS_sched_setaffinity, 0, sizeof b->cpus, (long)&b->cpus, 0);
        // On a loaded machine the parent can reach ct_spawn_go and pin this child before the child has run at
        // all: the move above would then undo the pin, leaving the program on the other CPU for good (and
        // ProgramPins, which moves only threads with the affinity it gave, never unpinning it). The parent sets
        // `pinned` before it pins, so a child whose move came after the pin sees it here and pins itself.
        if (__atomic_load_n(&b->pinned, __ATOMIC_SEQ_CST))
            ct_raw(SYS_sched_setaffinity, 0, sizeof b->pin_set, (long)&b->pin_set, 0);
    }
    ct_raw_child_setup(0, b->parent, 1);
    if (b->restrict_early) ct_launch_restrict(b);
    ct_raw_wait_go(b->go_fd);
    if (!b->restrict_early) ct_launch_restrict(b);
    long r = ct_raw(SYS_execve, (long)b->image.path, (long)b->image.argv, (long)b->image.envp, 0);
    ct_raw_fail(b->err_fd, r);
    return 0;
}

/// Unmaps the blocks whose child has exec'd or exited.
static void ct_launch_reap(void) {
    pthread_mutex_lock(&ct_blocks_lock);
    for (struct ct_launch_block **p = &ct_blocks; *p;) {
        struct ct_launch_block *b = *p;
        if (__atomic_load_n(&b->live, __ATOMIC_ACQUIRE) == 0) { *p = b->next; munmap(b->base, b->size); }
        else p = &b->next;
    }
    pthread_mutex_unlock(&ct_blocks_lock);
}

enum { CT_LAUNCH_STACK = 64 * 1024 };

/// One mapping: a guard page, the child's stack, then the block and the copies it points to.
static struct ct_launch_block *ct_launch_block_new(const char *path, char *const argv[], char *const envp[],
                                                   const ct_bpf *bpf, void **stack_top) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t head = page + CT_LAUNCH_STACK;
    size_t body = sizeof(struct ct_launch_block) + ct_exec_image_size(path, argv, envp, bpf);
    size_t size = (head + body + page - 1) / page * page;
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) return NULL;
    mprotect(m, page, PROT_NONE);
    *stack_top = m + head;
    struct ct_launch_block *b = (struct ct_launch_block *)(m + head);
    b->base = m;
    b->size = size;
    ct_exec_image_copy(&b->image, (char *)(b + 1), path, argv, envp, bpf);
    // The block sits after the stack: mmap's base is page-aligned and the stack top is too.
    return b;
}

int ct_spawn_start(const char *path, char *const argv[], char *const envp[], const ct_bpf *bpf,
                   int landlock_ruleset_fd, int restrict_early, int away_cpu, ct_spawn_pending *out) {
    ct_launch_reap();
    int go[2], err[2];
    if (pipe2(go, O_CLOEXEC) < 0) return -errno;
    if (pipe2(err, O_CLOEXEC) < 0) { int e = errno; close(go[0]); close(go[1]); return -e; }
    void *stack_top;
    struct ct_launch_block *b = ct_launch_block_new(path, argv, envp, bpf, &stack_top);
    if (!b) { close(go[0]); close(go[1]); close(err[0]); close(err[1]); return -ENOMEM; }
    b->live = -1;
    b->parent = getpid();
    b->go_fd = go[0]; b->go_write_fd = go[1];
    b->err_fd = err[1]; b->err_read_fd = err[0];
    b->landlock_fd = landlock_ruleset_fd;
    b->restrict_early = restrict_early;
    b->has_cpus = ct_cpus_away_from(away_cpu, &b->cpus);
    pid_t pid = ct_clone_vm(ct_launch_child, stack_top, b, &b->live);
    if (pid < 0) {
        close(go[0]); close(go[1]); close(err[0]); close(err[1]);
        munmap(b->base, b->size);
        return pid;
    }
    pthread_mutex_lock(&ct_blocks_lock);
    b->next = ct_blocks;
    ct_blocks = b;
    pthread_mutex_unlock(&ct_blocks_lock);
    close(go[0]);
    close(err[1]);
    out->pid = pid;
    out->go_fd = go[1];
    out->err_fd = err[0];
    out->block = b;
    return 0;
}

void ct_spawn_abandon(ct_spawn_pending *p) {
    if (p->pid <= 0) return;
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, __WALL);
    close(p->go_fd); close(p->err_fd);
    p->pid = 0;
}

int ct_spawn_go(ct_spawn_pending *p, unsigned long ptrace_options, int pin_cpu, int *exec_err_fd) {
    if (ptrace(PTRACE_SEIZE, p->pid, 0, (void *)ptrace_options) < 0) {
        int e = errno;
        ct_spawn_abandon(p);
        return -e;
    }
    if (pin_cpu >= 0) {
        // Told to the child first (ct_launch_child): a child that has not yet moved itself away pins itself back.
        struct ct_launch_block *b = p->block;
        CPU_ZERO(&b->pin_set);
        CPU_SET(pin_cpu, &b->pin_set);
        __atomic_store_n(&b->pinned, 1, __ATOMIC_SEQ_CST);
        ct_set_process_cpu(p->pid, pin_cpu);  // best effort, as the tracer's own pin
    }
    char c = 'g';
    ssize_t w;
    do { w = write(p->go_fd, &c, 1); } while (w < 0 && errno == EINTR);
    close(p->go_fd);
    *exec_err_fd = p->err_fd;
    pid_t pid = p->pid;
    p->pid = 0;
    p->block = NULL;
    return pid;
}

#define RET(expr) do { long _r = (expr); return _r < 0 ? -errno : _r; } while (0)

long ct_ptrace_cont(pid_t tid, int sig) { RET(ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig)); }
long ct_ptrace_syscall(pid_t tid, int sig) { RET(ptrace(PTRACE_SYSCALL, tid, 0, (void *)(long)sig)); }
long ct_ptrace_listen(pid_t tid) { RET(ptrace(PTRACE_LISTEN, tid, 0, 0)); }
long ct_ptrace_interrupt(pid_t tid) { RET(ptrace(PTRACE_INTERRUPT, tid, 0, 0)); }
long ct_ptrace_detach(pid_t tid, int sig) { RET(ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig)); }
long ct_ptrace_seize(pid_t tid, unsigned long o) { RET(ptrace(PTRACE_SEIZE, tid, 0, (void *)o)); }
long ct_ptrace_geteventmsg(pid_t tid, unsigned long *msg) { RET(ptrace(PTRACE_GETEVENTMSG, tid, 0, msg)); }
long ct_ptrace_getregs(pid_t tid, struct user_regs_struct *r) { RET(ptrace(PTRACE_GETREGS, tid, 0, r)); }
long ct_ptrace_setregs(pid_t tid, const struct user_regs_struct *r) { RET(ptrace(PTRACE_SETREGS, tid, 0, r)); }
long ct_ptrace_syscall_info(pid_t tid, ct_syscall_info *out) {
    struct __ptrace_syscall_info k;
    memset(&k, 0, sizeof k);
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof k, &k) < 0) return -errno;
    memset(out, 0, sizeof *out);
    out->op = k.op;
    out->arch = k.arch;
    out->ip = k.instruction_pointer;
    out->sp = k.stack_pointer;
    if (k.op == PTRACE_SYSCALL_INFO_ENTRY) {
        out->nr = k.entry.nr;
        memcpy(out->args, k.entry.args, sizeof out->args);
    } else if (k.op == PTRACE_SYSCALL_INFO_SECCOMP) {
        out->nr = k.seccomp.nr;
        memcpy(out->args, k.seccomp.args, sizeof out->args);
        out->ret_data = k.seccomp.ret_data;
    } else if (k.op == PTRACE_SYSCALL_INFO_EXIT) {
        out->rval = k.exit.rval;
        out->is_error = k.exit.is_error;
    }
    return 0;
}
long ct_ptrace_getsiginfo(pid_t tid, int *signo, int *code) {
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0) return -errno;
    *signo = si.si_signo;
    *code = si.si_code;
    return 0;
}
long ct_ptrace_peek(pid_t tid, uintptr_t addr, uint64_t *word) {
    errno = 0;
    long v = ptrace(PTRACE_PEEKTEXT, tid, (void *)addr, 0);
    if (errno) return -errno;
    *word = (uint64_t)v;
    return 0;
}
long ct_ptrace_poke(pid_t tid, uintptr_t addr, uint64_t word) {
    RET(ptrace(PTRACE_POKETEXT, tid, (void *)addr, (void *)word));
}

long ct_read_mem(pid_t pid, uintptr_t addr, void *buf, size_t len) {
    struct iovec local = {.iov_base = buf, .iov_len = len};
    struct iovec remote = {.iov_base = (void *)addr, .iov_len = len};
    RET(process_vm_readv(pid, &local, 1, &remote, 1, 0));
}

long ct_write_mem(pid_t pid, uintptr_t addr, const void *buf, size_t len) {
    struct iovec local = {.iov_base = (void *)buf, .iov_len = len};
    struct iovec remote = {.iov_base = (void *)addr, .iov_len = len};
    RET(process_vm_writev(pid, &local, 1, &remote, 1, 0));
}

long ct_read_string(pid_t pid, uintptr_t addr, char *buf, size_t max) {
    if (addr == 0) return -EFAULT;
    size_t done = 0;
    while (done < max) {
        // Read up to the end of the current page so an unmapped next page does not fail the whole read.
        uintptr_t a = addr + done;
        size_t chunk = 4096 - (a & 4095);
        if (chunk > max - done) chunk = max - done;
        long n = ct_read_mem(pid, a, buf + done, chunk);
        if (n <= 0) return n < 0 ? n : -EFAULT;
        char *nul = memchr(buf + done, 0, (size_t)n);
        if (nul) return (long)(nul - buf);
        done += (size_t)n;
    }
    return -ENAMETOOLONG;
}

long ct_read_string_memfd(int memfd, pid_t pid, uintptr_t addr, char *buf, size_t max, int *fd_failed) {
    if (addr == 0) return -EFAULT;
    size_t done = 0;
    while (memfd >= 0 && done < max) {
        uintptr_t a = addr + done;
        // The kernel copies the whole chunk twice (into its own page, then out): most paths are short.
        size_t chunk = 4096 - (a & 4095);
        if (done == 0 && chunk > 256) chunk = 256;
        if (chunk > max - done) chunk = max - done;
        ssize_t n = pread(memfd, buf + done, chunk, (off_t)a);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // 0: the file's address space is gone (the process exec'd or ended). -EIO: an unmapped address,
            // past the string's first page a normal end; on the first, asked again below.
            if (done > 0 && n < 0) return -EFAULT;
            break;
        }
        char *nul = memchr(buf + done, 0, (size_t)n);
        if (nul) return (long)(nul - buf);
        done += (size_t)n;
    }
    if (memfd >= 0 && done >= max) return -ENAMETOOLONG;
    long r = ct_read_string(pid, addr, buf, max);
    // process_vm_readv read what the file could not: the file no longer shows the process's memory.
    if (memfd >= 0 && r >= 0 && fd_failed) *fd_failed = 1;
    return r;
}

pid_t ct_wait(pid_t pid, int *status, int nohang) {
    pid_t r = waitpid(pid, status, __WALL | (nohang ? WNOHANG : 0));
    return r < 0 ? -errno : r;
}
int ct_wifexited(int s) { return WIFEXITED(s); }
int ct_wexitstatus(int s) { return WEXITSTATUS(s); }
int ct_wifsignaled(int s) { return WIFSIGNALED(s); }
int ct_wtermsig(int s) { return WTERMSIG(s); }
int ct_wifstopped(int s) { return WIFSTOPPED(s); }
int ct_wstopsig(int s) { return WSTOPSIG(s); }
int ct_wevent(int s) { return (s >> 16) & 0xff; }

static volatile sig_atomic_t interrupted_sig = 0;
static volatile pid_t root_pid = 0;

static void on_interrupt(int sig) {
    if (!interrupted_sig) interrupted_sig = sig;
    pid_t p = root_pid;
    if (p > 0) kill(p, SIGKILL);
}

void ct_install_interrupt_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
    // A signal captrace's caller ignored stays ignored (nohup's SIGHUP, a background job's SIGINT): untraced, the
    // program would ignore it, so it must neither end the run nor kill the program, which inherits it ignored.
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}
void ct_set_root_pid(pid_t pid) { root_pid = pid; }
int ct_interrupted(void) { return interrupted_sig; }


int ct_current_cpu(void) { return sched_getcpu(); }
cpu_set_t ct_original_affinity;
int ct_original_affinity_saved;
static int ct_pinned_cpu = -1;

int ct_pin_self_to_cpu(int cpu) {
    if (!ct_original_affinity_saved &&
        sched_getaffinity(0, sizeof ct_original_affinity, &ct_original_affinity) == 0)
        ct_original_affinity_saved = 1;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0) return -errno;
    ct_pinned_cpu = cpu;
    return 0;
}

/// Takes `cpu` out of `set` when another CPU is left in it: 1, else 0 (`set` unchanged).
static int ct_cpus_without(cpu_set_t *set, int cpu) {
    if (cpu < 0 || !CPU_ISSET(cpu, set) || CPU_COUNT(set) < 2) return 0;
    CPU_CLR(cpu, set);
    return 1;
}

/// The CPUs this thread may use but `cpu`, when there is another (0: none, or `cpu` < 0).
static int ct_cpus_away_from(int cpu, cpu_set_t *set) {
    return cpu >= 0 && sched_getaffinity(0, sizeof *set, set) == 0 && ct_cpus_without(set, cpu);
}

int ct_set_process_cpu(pid_t pid, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(pid, sizeof set, &set) < 0 ? -errno : 0;
}

int ct_original_cpu_count(void) { return ct_original_affinity_saved ? CPU_COUNT(&ct_original_affinity) : 0; }

static volatile sig_atomic_t tick_pending;
static timer_t tick_timer;
static int tick_timer_made;
static void on_tick(int sig) { (void)sig; tick_pending = 1; }

int ct_tick_timer_create(void) {
    if (tick_timer_made) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the wait returns EINTR
    if (sigaction(SIGRTMIN + 8, &sa, NULL) < 0) return -errno;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGRTMIN + 8;
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &ev, &tick_timer) < 0) return -errno;
    tick_timer_made = 1;
    return 0;
}

int ct_tick_timer_arm(int ms) {
    if (!tick_timer_made) return -EINVAL;
    struct itimerspec it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = it.it_interval.tv_sec = ms / 1000;
    it.it_value.tv_nsec = it.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
    return timer_settime(tick_timer, 0, &it, NULL) < 0 ? -errno : 0;
}

void ct_tick_timer_delete(void) {
    if (!tick_timer_made) return;
    timer_delete(tick_timer);
    tick_timer_made = 0;
    tick_pending = 0;
}

int ct_tick_take(void) {
    if (!tick_pending) return 0;
    tick_pending = 0;
    return 1;
}

struct affinity_move { const cpu_set_t *from, *to; int moved; };

// Only a thread that has what captrace gave it: one the program set its own affinity on keeps it.
static void move_task(pid_t tid, void *ctx) {
    struct affinity_move *m = ctx;
    cpu_set_t now;
    if (sched_getaffinity(tid, sizeof now, &now) == 0 && CPU_EQUAL(&now, m->from) &&
        sched_setaffinity(tid, sizeof *m->to, m->to) == 0)
        m->moved++;
}

// Breadth-first through /proc/PID/task/TID/children (ct_raw_children_of, as the keeper kills a tree). Each
// thread is moved before its children are listed, so a process it forks meanwhile inherits the new affinity;
// processes and threads that come or go during the walk are skipped, as are processes past the first 8192
// (affinity is a performance hint here: one left behind only runs where it did).
int ct_tree_move_affinity(pid_t top, int cpu, int pin) {
    if (cpu < 0 || !ct_original_affinity_saved) return 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    struct affinity_move m = {pin ? &ct_original_affinity : &one, pin ? &one : &ct_original_affinity, 0};
    enum { TREE_MAX = 8192 };
    pid_t *queue = malloc(TREE_MAX * sizeof *queue);
    if (!queue) return 0;
    int n = ct_raw_children_of(top, queue, 0, TREE_MAX, NULL, NULL);
    for (int i = 0; i < n; i++) n = ct_raw_children_of(queue[i], queue, n, TREE_MAX, move_task, &m);
    free(queue);
    return m.moved;
}

int ct_attr_away_from_cpu(pthread_attr_t *attr, int cpu) {
    cpu_set_t set;
    if (ct_original_affinity_saved) set = ct_original_affinity;
    else if (sched_getaffinity(0, sizeof set, &set) < 0) return -errno;
    if (cpu < 0) cpu = ct_pinned_cpu >= 0 ? ct_pinned_cpu : sched_getcpu();
    if (!ct_cpus_without(&set, cpu)) return 0;
    return -pthread_attr_setaffinity_np(attr, sizeof set, &set);
}

int ct_move_self_away_from_cpu(int cpu) {
    cpu_set_t set;
    if (ct_original_affinity_saved) set = ct_original_affinity;
    else if (sched_getaffinity(0, sizeof set, &set) < 0) return -errno;
    if (cpu < 0) cpu = ct_pinned_cpu;
    if (!ct_cpus_without(&set, cpu)) return 0;
    return sched_setaffinity(0, sizeof set, &set) < 0 ? -errno : 0;
}

uint64_t ct_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long ct_file_capabilities_size(const char *path) { return getxattr(path, "security.capability", NULL, 0); }

int ct_tgkill(int tgid, int tid, int sig) {
    return syscall(SYS_tgkill, tgid, tid, sig) == 0 ? 0 : -errno;
}
