/* notify-floor PROGRAM [ARG...] — the least a seccomp user-notification supervisor can do per event.
 *
 * Runs PROGRAM with newfstatat sent to a listener (SECCOMP_RET_USER_NOTIF), and answers every notification
 * with SECCOMP_USER_NOTIF_FLAG_CONTINUE without looking at it: no memory read, no decision, no record. With
 * synchronous wake-up (kernel >= 6.6) and the supervisor sharing the program's CPU, as captrace's notify
 * backend. The benchmark's floor for notify rows: captrace cannot be faster than one bare round trip per event.
 * FLOOR_READ_PATH=1: also reads the call's path (newfstatat's second argument, 256 bytes, with pread from the
 * caller's /proc/PID/mem kept open, as captrace reads it) before answering: the floor of a supervisor that has
 * to know the path it judges and records.
 * FLOOR_STACKS=1: the floor of recording violations with stacks under notify (bench row (f)), as ptrace-floor's
 * FLOOR_STACKS: the same calls are notified, and each notification asks the kernel once for the path (pread of
 * /proc/PID/mem), the stack pointer (pread of /proc/PID/syscall: notify has no registers but the pc), 4 KiB of stack
 * (pread of /proc/PID/mem) and the pc's mapping (one PROCMAP_QUERY); the three files are opened once per process
 * image (again after an execve). The row's programs have one thread each.
 * FLOOR_TRAP_ALL=1 with FLOOR_STACKS=1: every call is notified (bench row (g): counting every call while recording
 * violations with stacks), and the calls FLOOR_STACKS notifies also ask the kernel for the rest.
 * Build: gcc -O2 -o notify-floor notify-floor.c -lseccomp
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

#include "floor-stacks.h"

/* FLOOR_STACKS: the files of the process notified last. */
static struct { pid_t pid; int mem, maps, syscall; } cur = {0, -1, -1, -1};

static void open_process(pid_t pid) {
    const char *names[] = {"mem", "maps", "syscall"};
    int *fds[] = {&cur.mem, &cur.maps, &cur.syscall};
    for (int i = 0; i < 3; i++) {
        if (*fds[i] >= 0) close(*fds[i]);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, names[i]);
        *fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    }
    cur.pid = pid;
}

/* FLOOR_TRAP_ALL=1 with FLOOR_STACKS=1: every call traps, and only the stack calls record. */
static int trap_all;

/* What a stack-recording notify supervisor asks the kernel for one notification. */
static void record(const struct seccomp_notif *req) {
    int nr = req->data.nr;
    if (trap_all && !floor_is_stack_call(nr, (const uint64_t *)req->data.args)) return;
    if ((pid_t)req->pid != cur.pid) open_process((pid_t)req->pid);
    char buf[4096];
    int at = floor_path_arg(nr);
    if (at >= 0) pread(cur.mem, buf, 256, (off_t)req->data.args[at]);
    /* "NR ARG1 ... ARG6 SP PC": the stack pointer is the eighth field. */
    ssize_t n = pread(cur.syscall, buf, sizeof buf - 1, 0);
    if (n <= 0) return;
    buf[n] = 0;
    char *p = buf;
    for (int i = 0; i < 7 && p; i++) { p = strchr(p, ' '); if (p) p++; }
    if (!p) return;
    uint64_t sp = strtoull(p, NULL, 16);
    pread(cur.mem, buf, sizeof buf, (off_t)sp);
    floor_query(cur.maps, req->data.instruction_pointer);
    if (nr == SCMP_SYS(execve) || nr == SCMP_SYS(execveat)) cur.pid = 0;  /* a new image: open its files again */
}

static int send_fd(int sock, int fd) {
    char data = 0;
    struct iovec iov = {&data, 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock) {
    char data;
    struct iovec iov = {&data, 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: notify-floor PROGRAM [ARG...]\n"); return 2; }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) { perror("socketpair"); return 1; }
    pid_t pid = fork();
    if (pid == 0) {
        /* FLOOR_TRAP_ALL=1: every call is notified (the floor of counting every call, bench row (g)), but for
           sendmsg and close, which hand the listener over before anyone can answer: a slightly low floor. */
        scmp_filter_ctx ctx;
        if (getenv("FLOOR_STACKS") && !getenv("FLOOR_TRAP_ALL")) {
            ctx = seccomp_init(SCMP_ACT_ALLOW);
            if (!ctx || floor_stack_rules(ctx, SCMP_ACT_NOTIFY) != 0) _exit(126);
        } else if (getenv("FLOOR_TRAP_ALL")) {
            ctx = seccomp_init(SCMP_ACT_NOTIFY);
            seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 0);
            seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(close), 0);
        } else {
            ctx = seccomp_init(SCMP_ACT_ALLOW);
            seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(newfstatat), 0);
        }
        if (seccomp_load(ctx) < 0) _exit(126);
        int listener = seccomp_notify_fd(ctx);
        if (listener < 0 || send_fd(sv[1], listener) < 0) _exit(126);
        close(listener);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    close(sv[1]);
    int listener = recv_fd(sv[0]);
    if (listener < 0) { fprintf(stderr, "notify-floor: no listener\n"); return 1; }
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
        fprintf(stderr, "notify-floor: no synchronous wake-up: %s\n", strerror(errno));
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    int read_path = getenv("FLOOR_READ_PATH") != NULL, stacks = getenv("FLOOR_STACKS") != NULL;
    trap_all = getenv("FLOOR_TRAP_ALL") != NULL;
    int mem = -1;
    pid_t mem_pid = 0;
    char path[256];
    for (;;) {
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            // ENOENT once nothing uses the filter any more: then the listener reports POLLHUP.
            struct pollfd p = {listener, POLLIN, 0};
            if (poll(&p, 1, 100) >= 0 && (p.revents & POLLHUP)) break;
            continue;
        }
        if (stacks) record(&req);
        if (read_path) {
            if ((pid_t)req.pid != mem_pid) {
                if (mem >= 0) close(mem);
                char name[64];
                snprintf(name, sizeof name, "/proc/%d/mem", (int)req.pid);
                mem = open(name, O_RDONLY | O_CLOEXEC);
                mem_pid = (pid_t)req.pid;
            }
            if (mem < 0 || pread(mem, path, sizeof path, (off_t)req.data.args[1]) <= 0) {
                fprintf(stderr, "notify-floor: no path read\n");
                return 1;
            }
        }
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
