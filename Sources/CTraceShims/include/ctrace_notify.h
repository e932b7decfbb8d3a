// Seccomp user-notification wrappers for the notify backend (prefix `ct_notify_`/`ct_notif_`).
// Why C: the SECCOMP_IOCTL_NOTIF_* request numbers are _IOWR macros Swift cannot import; the launcher runs
// between fork and exec (no Swift there); pidfd_open/pidfd_getfd/openat2/statx have no glibc 2.36 wrappers
// Swift can see; SCM_RIGHTS needs CMSG_*.
#ifndef CTRACE_NOTIFY_H
#define CTRACE_NOTIFY_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include "ctrace_ptrace.h"

/// What the launcher hands back. Every descriptor is close-on-exec in captrace.
typedef struct ct_notify_launch {
    pid_t keeper;      ///< captrace's child: subreaper of the program, kills it all when captrace dies
    pid_t program;     ///< the program (the keeper's child), waiting on `go_fd` before it installs the filter
    int go_fd;         ///< write one byte to let the program install the filter and exec
    int sock_fd;       ///< the listener's descriptor number arrives here once the program installed its filter
    int info_fd;       ///< after the program's pid (read by ct_notify_spawn), the keeper writes (pid, wait status)
                       ///< as two int32 for every process it reaps: the program, and orphans; EOF when it ends
    int life_fd;       ///< captrace holds it open; closing it (or dying) makes the keeper kill the whole program
    int exec_err_fd;   ///< 4 bytes of errno if the program's exec failed, EOF once it succeeded
    int every_call_trapped; ///< the filter traps every call (run --syscalls): the handshake sends the number first
} ct_notify_launch;

/// Starts the keeper and, under it, the program, which blocks until `ct_notify_go`. The keeper is a
/// PR_SET_CHILD_SUBREAPER, so every orphan of the program comes back to it; when `life_fd` reaches EOF (captrace
/// closed it or was killed, even with SIGKILL) it SIGKILLs every descendant, repeatedly, until it has no child
/// left. It exits once it has no child at all. The program, once released, sets PR_SET_NO_NEW_PRIVS, installs
/// `bpf` with SECCOMP_FILTER_FLAG_NEW_LISTENER, sends the listener over the socket and execs `path`.
/// The keeper is cloned with CLONE_VM (no copy of captrace's page tables) and makes raw system calls only, as the
/// program does until its exec. Returns 0 or -errno.
/// `every_call_trapped` (run --syscalls): the program sends the listener's number before installing the filter
/// (a write after it would be trapped). Either way it execs without waiting: its execve is trapped, so it waits
/// there, listener still open, until captrace has taken the listener and answers.
int ct_notify_spawn(const char *path, char *const argv[], char *const envp[], const ct_bpf *bpf,
                    int every_call_trapped,
                    ct_notify_launch *out);

/// Releases the program and takes its listener (its number arrives on the socket; pidfd_getfd). Returns the
/// listener (close-on-exec) or -errno.
int ct_notify_go(ct_notify_launch *l);

/// SECCOMP_IOCTL_NOTIF_SET_FLAGS(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP): 0, or -errno (EINVAL before 6.6).
int ct_notif_set_sync_wakeup(int listener);

/// One received notification, flattened (seccomp_notif with its seccomp_data).
typedef struct ct_notif {
    uint64_t id;
    uint32_t pid;        ///< thread id, in captrace's pid namespace
    int32_t nr;
    uint32_t arch;
    uint64_t ip;
    uint64_t args[6];
} ct_notif;

/// SECCOMP_IOCTL_NOTIF_RECV, retried on EINTR unless `*stop` is non-zero. 0 or -errno
/// (ENOENT: the notification was withdrawn, or no task uses the filter any more — see ct_notif_hup).
int ct_notif_recv(int listener, ct_notif *out, const int *stop);
/// SECCOMP_IOCTL_NOTIF_ID_VALID: 1 if the notifying thread is still waiting on it, 0 if not.
int ct_notif_id_valid(int listener, uint64_t id);
/// The pc and sp of a thread blocked in a system call, read with one pread from its open /proc/TID/syscall
/// ("nr a0..a5 sp pc"). 0, or -errno (-EINVAL when the file holds no such line: the thread is running).
int ct_syscall_regs(int fd, uint64_t *pc, uint64_t *sp);
/// Lets the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE). 0 or -errno (ENOENT: withdrawn).
int ct_notif_continue(int listener, uint64_t id);
/// Makes the call return `val` (error 0) or fail with `err` (a positive errno). 0 or -errno.
int ct_notif_reply(int listener, uint64_t id, int64_t val, int err);
/// SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND: installs `srcfd` in the notifying process and makes
/// the call return the new descriptor number. Returns that number or -errno.
int ct_notif_addfd_send(int listener, uint64_t id, int srcfd, unsigned newfd_flags);
/// 1 when the listener reports POLLHUP (no task uses the filter any more), 0 otherwise.
int ct_notif_hup(int listener);
/// Waits up to `timeout_ms` for POLLHUP on the listener (0 polls). 1 on HUP, 0 on timeout, -errno.
int ct_notif_wait_hup(int listener, int timeout_ms);

/// pidfd_open(pid, 0) / pidfd_getfd(pidfd, fd, 0): descriptor or -errno.
int ct_pidfd_open(pid_t pid);
/// prctl(PR_SET_CHILD_SUBREAPER, 1) for captrace itself (prctl is variadic). 0 or -errno.
int ct_become_subreaper(void);
/// Kills and reaps captrace's children, round after round as the keeper does (child.h,
/// ct_raw_kill_children_round), for at most about `max_ms` rounds of 1 ms: when the keeper died first, captrace
/// (a subreaper) has the program's processes back. Only when captrace has no child of its own to keep.
/// 0 once no child is left, or -ETIMEDOUT / -ENOMEM.
int ct_kill_own_children(int max_ms);
/// pidfd_send_signal(pidfd, SIGKILL): the process the pidfd names, never another that reuses its pid. 0 or -errno.
int ct_pidfd_kill(int pidfd);
/// pidfd_open(tid, PIDFD_THREAD) (Linux 6.9): a pidfd of any thread, not only of a thread-group leader.
int ct_pidfd_open_thread(pid_t tid);
int ct_pidfd_getfd(int pidfd, int fd);
/// PIDFD_GET_INFO (Linux 6.13): the thread group and the parent of a pidfd's task. 0, or -errno (ENOTTY before).
int ct_pidfd_ids(int pidfd, int32_t *tgid, int32_t *ppid);
/// PIDFD_GET_INFO with PIDFD_INFO_EXIT (Linux 6.15): the wait status of a pidfd's process once it was reaped
/// (by anyone): 1 and `*status`, or 0 when not reaped yet (or the kernel has no exit information), or -errno.
int ct_pidfd_exit_status(int pidfd, int32_t *status);
/// openat2(dirfd, path, {flags, mode, resolve}): descriptor or -errno.
int ct_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
/// fstatat (is_statx 0) or statx (is_statx 1, with `mask`) of `path` relative to `dirfd` with `flags`, the
/// result written into process `pid` at `addr` (x86_64 layouts). 0 or -errno.
int ct_stat_into(int dirfd, const char *path, int flags, int is_statx, unsigned mask, pid_t pid, uint64_t addr);

/// A raw syscall (nr, six arguments): its return value or -errno. The *at calls captrace performs for the
/// program (NotifyEnforcement) go straight to the kernel, without glibc's emulations (fchmodat's flags,
/// faccessat's AT_EACCESS) that would look paths up again.
long ct_syscall6(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
/// Sends, on `sock` (captrace's copy of the program's socket), a copy of the message at `msghdr` in process
/// `pid` (x86_64 struct msghdr): the payload of every iovec copied (4 MiB at most: a stream socket then sends
/// part of it, others fail with EMSGSIZE), the control data copied with each SCM_RIGHTS descriptor taken from
/// the program (pidfd_getfd), and *no* destination address (msg_name is ignored: what was checked had none).
/// Always MSG_NOSIGNAL; when the program did not ask for it, EPIPE sends SIGPIPE to thread `tid` as the kernel
/// would. A blocking send (blocking socket, no MSG_DONTWAIT) waits for room while notification `id` stays
/// valid (EINTR when the program's thread went away). Returns the bytes sent or -errno.
long ct_send_copy(int listener, uint64_t id, int pidfd, pid_t pid, pid_t tid, int sock, uint64_t msghdr, int flags);
/// sendmmsg by ct_send_copy, message by message (`vlen` capped at 1024): each sent count written to the
/// program's msg_len; the number of messages sent, or the first message's -errno.
long ct_sendmmsg_copy(int listener, uint64_t id, int pidfd, pid_t pid, pid_t tid, int sock, uint64_t vec,
                      unsigned vlen, int flags);

/// kcmp(a, b, KCMP_VM): 0 when the two processes share one address space, 1 or 2 when not, -errno.
int ct_kcmp_vm(pid_t a, pid_t b);

/// poll() on `n` descriptors (any number: the array is heap-allocated past 64) for POLLIN; revents written back.
/// Returns poll's value or -errno.
int ct_poll_in(const int *fds, short *revents, int n, int timeout_ms);
/// An epoll set for the exit watcher (close-on-exec), or -errno. ct_epoll_add watches `fd` for input with `data`
/// (level-triggered); ct_epoll_del stops; both 0 or -errno. ct_epoll_wait fills up to `max` datas of ready
/// descriptors: their count, or -errno.
int ct_epoll_create(void);
int ct_epoll_add(int epfd, int fd, uint64_t data);
int ct_epoll_del(int epfd, int fd);
int ct_epoll_wait(int epfd, uint64_t *datas, int max, int timeout_ms);
/// An eventfd (close-on-exec) and its two operations, to wake a thread blocked in poll or epoll_wait.
int ct_eventfd(void);
void ct_eventfd_signal(int fd);
void ct_eventfd_drain(int fd);

#endif
