#ifndef CTRACE_LANDLOCK_H
#define CTRACE_LANDLOCK_H
// Landlock for `captrace run --policy FILE.toml`: captrace builds the ruleset in its own process (descriptors
// only: building a ruleset restricts nobody), and the launched child restricts itself with it just before the
// seccomp filter and execve (ct_spawn_start). Swift cannot call these syscalls: glibc has no wrappers and
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

#endif
