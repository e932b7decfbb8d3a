#ifndef CTRACE_LANDLOCK_H
#define CTRACE_LANDLOCK_H
// Landlock for `captrace run --policy FILE.toml`: captrace builds the ruleset in its own process (descriptors
// only: building a ruleset restricts nobody), and the launched child restricts itself with it just before the
// seccomp filter and execve (ct_spawn_landlocked). Swift cannot call these syscalls: glibc has no wrappers and
// `syscall(2)` is variadic.
#include <stdint.h>
#include <sys/types.h>
#include "ctrace_ptrace.h"

/// The machine's Landlock ABI version (landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)),
/// or -errno (EOPNOTSUPP: disabled at boot; ENOSYS: not built in).
int ct_landlock_abi(void);
/// A new ruleset descriptor (close-on-exec) handling these rights, or -errno. The attribute's size is the
/// smallest that holds every non-zero field (an ABI 1 kernel knows only the first).
int ct_landlock_create_ruleset(uint64_t handled_fs, uint64_t handled_net, uint64_t scoped);
/// Adds a path-beneath rule for `path` (opened O_PATH here, following symlinks), or returns -errno.
int ct_landlock_add_path(int ruleset_fd, const char *path, uint64_t allowed);
/// Adds a TCP port rule, or returns -errno.
int ct_landlock_add_port(int ruleset_fd, uint64_t port, uint64_t allowed);

/// ct_spawn, and the child calls landlock_restrict_self(landlock_ruleset_fd, 0) after PR_SET_NO_NEW_PRIVS and
/// before installing `bpf` (a failure is reported as the exec's errno). `landlock_ruleset_fd` < 0: none.
pid_t ct_spawn_landlocked(const char *path, char *const argv[], char *const envp[], const ct_bpf *bpf,
                          unsigned long ptrace_options, int *exec_err_fd, int landlock_ruleset_fd);

/// ct_spawn_landlocked in two steps, so that the child's set-up overlaps the supervisor's. ct_spawn_start clones
/// the child; when `restrict_early`, it restricts itself (PR_SET_NO_NEW_PRIVS, Landlock, the filter) at once,
/// which is only right when the filter traps none of the calls it makes until its exec (read and close of its
/// pipe); with `away_cpu` >= 0 it first moves off that CPU (to the others this process may use, if any), so that
/// the filter's installation (~0.2 ms of the kernel's work) runs beside the supervisor. It then waits. Returns
/// 0 or -errno. ct_spawn_go seizes it with `ptrace_options`, moves it to `pin_cpu` (>= 0), lets it exec, and
/// returns its pid (the exec's errno comes on `*exec_err_fd`), or -errno after killing and reaping it.
/// ct_spawn_abandon kills and reaps a child that ct_spawn_go will not start.
typedef struct { pid_t pid; int go_fd, err_fd; } ct_spawn_pending;
int ct_spawn_start(const char *path, char *const argv[], char *const envp[], const ct_bpf *bpf,
                   int landlock_ruleset_fd, int restrict_early, int away_cpu, ct_spawn_pending *out);
int ct_spawn_go(ct_spawn_pending *p, unsigned long ptrace_options, int pin_cpu, int *exec_err_fd);
void ct_spawn_abandon(ct_spawn_pending *p);

#endif
