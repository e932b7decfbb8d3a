// ptrace, seccomp and process-memory wrappers for the supervisor. Swift cannot call the variadic ptrace(),
// the W* status macros, process_vm_readv/writev (GNU), pipe2, or run code safely between fork and exec.
#ifndef CTRACE_PTRACE_H
#define CTRACE_PTRACE_H

#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/ptrace.h>

/// PTRACE_GET_SYSCALL_INFO flattened (the kernel struct has an anonymous union).
typedef struct ct_syscall_info {
    uint8_t op;          // 1 entry, 2 exit, 3 seccomp
    uint32_t arch;       // AUDIT_ARCH_*
    uint64_t ip, sp;
    uint64_t nr;         // entry/seccomp
    uint64_t args[6];    // entry/seccomp
    uint32_t ret_data;   // seccomp: SECCOMP_RET_DATA
    int64_t rval;        // exit
    uint8_t is_error;    // exit
} ct_syscall_info;

/// A seccomp-related BPF program exported from a libseccomp context (the child installs it; built before fork).
typedef struct ct_bpf {
    void *filter;      // struct sock_filter[]
    unsigned short len;
} ct_bpf;

/// Exports a libseccomp filter context (scmp_filter_ctx) into memory. libseccomp 2.5 only exports to a file
/// descriptor, so this goes through a memfd. Returns 0 or -errno. Free with ct_bpf_free.
int ct_bpf_export(void *scmp_ctx, ct_bpf *out);
void ct_bpf_free(ct_bpf *bpf);

/// The ptrace launch, in two steps so that the child's set-up overlaps the supervisor's. ct_spawn_start clones a
/// child that sets PR_SET_NO_NEW_PRIVS, restricts itself with the Landlock ruleset `landlock_ruleset_fd` (>= 0),
/// installs `bpf` (if non-NULL) and execs `path`; only raw system calls run in it until the exec (child.h). It
/// restricts itself at once when `restrict_early` — only right when the filter traps none of the calls it makes
/// until its exec (read and close of its pipe) — else after the go byte; with `away_cpu` >= 0 it first moves off
/// that CPU (to the others this process may use, if any), so that the filter's installation (~0.2 ms of the
/// kernel's work) runs beside the supervisor. It then waits. Returns 0 or -errno. ct_spawn_go seizes it with
/// `ptrace_options`, moves it to `pin_cpu` (>= 0) and lets it go; returns its pid, or -errno after killing and
/// reaping it. A failed exec is reported through a close-on-exec pipe: `*exec_err_fd` yields 4 bytes (the child's
/// errno) if exec failed, or EOF once exec succeeded. ct_spawn_abandon kills and reaps a child ct_spawn_go will
/// not start. (The notify backend has its own launcher in notify.c: the listener must be passed without a
/// trapped syscall.)
typedef struct { pid_t pid; int go_fd, err_fd; void *block; } ct_spawn_pending;
int ct_spawn_start(const char *path, char *const argv[], char *const envp[], const ct_bpf *bpf,
                   int landlock_ruleset_fd, int restrict_early, int away_cpu, ct_spawn_pending *out);
int ct_spawn_go(ct_spawn_pending *p, unsigned long ptrace_options, int pin_cpu, int *exec_err_fd);
void ct_spawn_abandon(ct_spawn_pending *p);

/// ptrace wrappers: return 0 (or the requested value) on success, -errno on failure.
long ct_ptrace_cont(pid_t tid, int sig);
long ct_ptrace_syscall(pid_t tid, int sig);
long ct_ptrace_listen(pid_t tid);
long ct_ptrace_interrupt(pid_t tid);
long ct_ptrace_detach(pid_t tid, int sig);
long ct_ptrace_seize(pid_t tid, unsigned long options);
long ct_ptrace_geteventmsg(pid_t tid, unsigned long *msg);
long ct_ptrace_getregs(pid_t tid, struct user_regs_struct *regs);
long ct_ptrace_setregs(pid_t tid, const struct user_regs_struct *regs);
/// PTRACE_GET_SYSCALL_INFO: at a seccomp stop gives the audit arch, number and arguments (i386 too).
long ct_ptrace_syscall_info(pid_t tid, ct_syscall_info *info);
/// PTRACE_GETSIGINFO reduced to what the loop needs.
long ct_ptrace_getsiginfo(pid_t tid, int *signo, int *code);
/// Word-sized text access for breakpoints (PTRACE_PEEKTEXT/POKETEXT work on read-only text).
long ct_ptrace_peek(pid_t tid, uintptr_t addr, uint64_t *word);
long ct_ptrace_poke(pid_t tid, uintptr_t addr, uint64_t word);

/// Bulk memory access with process_vm_readv/writev. Returns bytes transferred or -errno.
long ct_read_mem(pid_t pid, uintptr_t addr, void *buf, size_t len);
long ct_write_mem(pid_t pid, uintptr_t addr, const void *buf, size_t len);
/// Reads a NUL-terminated string of at most `max` bytes (without crossing into an unmapped page more than
/// needed). Returns its length (excluding NUL), -ENAMETOOLONG if no NUL within `max`, or -errno.
long ct_read_string(pid_t pid, uintptr_t addr, char *buf, size_t max);
/// The same through `memfd`, an open /proc/PID/mem of the process (pread: no per-read permission check), or
/// with process_vm_readv when memfd < 0. When the file reads nothing (its address space is gone: an exec, an
/// exit) or fails where process_vm_readv then succeeds, the string comes from process_vm_readv and *fd_failed
/// is set to 1: the caller drops the file.
long ct_read_string_memfd(int memfd, pid_t pid, uintptr_t addr, char *buf, size_t max, int *fd_failed);

/// waitpid(-1 or pid, __WALL); returns the pid, or -errno (-EINTR when a signal interrupted it).
pid_t ct_wait(pid_t pid, int *status, int nohang);
int ct_wifexited(int s);
int ct_wexitstatus(int s);
int ct_wifsignaled(int s);
int ct_wtermsig(int s);
int ct_wifstopped(int s);
int ct_wstopsig(int s);
/// The PTRACE_EVENT_* number in a stop status (status >> 16), 0 if none.
int ct_wevent(int s);

/// Installs SIGINT/SIGTERM/SIGHUP handlers (no SA_RESTART, so waitpid returns EINTR) that record the signal
/// and SIGKILL the process `ct_set_root_pid` named. Returns the recorded signal via ct_interrupted().
void ct_install_interrupt_handlers(void);
void ct_set_root_pid(pid_t pid);
int ct_interrupted(void);


/// CPU affinity helpers for the benchmarked cross-CPU wake-up mitigation.
int ct_current_cpu(void);
int ct_pin_self_to_cpu(int cpu);
/// Pins the calling thread to `cpu`, first saving the affinity it had (children get that one back).
/// ct_attr_away_from_cpu: gives a thread to be created with `attr` the CPUs this process could run on (before
/// ct_pin_self_to_cpu, if it ran), less `cpu` (-1: the pinned CPU, else the caller's current one) when another is
/// left: a helper thread that starts there neither takes the pinned CPU's time nor migrates after its start.
/// 0 or -errno.
int ct_attr_away_from_cpu(pthread_attr_t *attr, int cpu);
/// ct_move_self_away_from_cpu: the calling thread moves to the CPUs ct_attr_away_from_cpu gives (`cpu` < 0: the
/// pinned one). 0 or -errno.
int ct_move_self_away_from_cpu(int cpu);
/// ct_set_process_cpu: runs (the thread) `pid` on `cpu` only. 0 or -errno.
int ct_set_process_cpu(pid_t pid, int cpu);
/// ct_tree_move_affinity: moves every thread of every process below `top` (its children, theirs, ...; not `top`'s
/// own threads) between `cpu` alone and the affinity captrace had before ct_pin_self_to_cpu: `pin` 1, the threads
/// that have that affinity get `cpu`; `pin` 0, those that have `cpu` alone get it back. A thread with any other
/// affinity (the program set its own) is left as it is. Returns the number of threads moved.
int ct_tree_move_affinity(pid_t top, int cpu, int pin);
/// How many CPUs the affinity saved by ct_pin_self_to_cpu holds (0: none saved).
int ct_original_cpu_count(void);
/// A timer for a thread that waits without a timeout (ptrace's wait4): once armed it sends the thread that created
/// it a signal (SIGRTMIN+8) every `ms`; the handler only notes it (ct_tick_take) and is installed without
/// SA_RESTART, so the wait it interrupts returns EINTR. ct_tick_timer_create: 0 or -errno; ct_tick_timer_arm: `ms`
/// 0 disarms; ct_tick_take: 1 once per expiry noted (0: none since), and clears it.
int ct_tick_timer_create(void);
int ct_tick_timer_arm(int ms);
void ct_tick_timer_delete(void);
int ct_tick_take(void);


/// Monotonic clock in nanoseconds.
uint64_t ct_monotonic_ns(void);
/// getxattr(path, "security.capability") sized: > 0 when the file carries file capabilities (<sys/xattr.h> is not
/// in Swift's Glibc module).
long ct_file_capabilities_size(const char *path);
/// tgkill(2): a signal to one thread (`run --policy` SCMP_ACT_TRAP); glibc declares it only with _GNU_SOURCE,
/// which Swift's Glibc module is not built with. Returns 0 or -errno.
int ct_tgkill(int tgid, int tid, int sig);

#endif
