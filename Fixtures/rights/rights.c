/* Descriptor-rights fixture for `captrace run --rights --enter-at symbol:enter_sandbox`.
 *
 * Before entry it holds: stdin (left unused), a read-only file, a write-only file, a directory and a
 * connected socket pair, and prints their numbers as key=value. After entry it uses each in a known way;
 * the expected rights per descriptor are listed in Tests/IntegrationTests/RightsTests.swift:
 *
 *   stdout    write                                  CAP_WRITE
 *   ro        read, fstat, mmap PROT_READ            CAP_READ CAP_FSTAT CAP_MMAP_R
 *   ro (dup)  pread through a dup of it              CAP_READ CAP_SEEK (the same object as ro)
 *   wo        write, fsync; the forked child writes  CAP_WRITE CAP_FSYNC (child: CAP_WRITE)
 *   dir       openat("sub.txt", O_RDONLY), fstatat   CAP_LOOKUP CAP_READ CAP_FSTATAT
 *   sub.txt   (opened after entry from dir) read     CAP_READ, then closed
 *   s0        send                                   CAP_SEND
 *   s1        recv, ioctl(FIONREAD)                  CAP_RECV CAP_IOCTL
 *   pipe      (created after entry) write / read     CAP_WRITE / CAP_READ
 *   stdin, stderr                                    nothing
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) void enter_sandbox(void) { __asm__ volatile(""); }

static void put(const char *name, const char *text) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) { perror(name); exit(2); }
    close(fd);
}

int main(void) {
    put("ro.txt", "read-only contents\n");
    put("sub.txt", "opened after entry\n");
    int ro = open("ro.txt", O_RDONLY);
    int wo = open("wo.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    int sv[2];
    if (ro < 0 || wo < 0 || dir < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) { perror("setup"); return 2; }
    printf("ro=%d wo=%d dir=%d s0=%d s1=%d\n", ro, wo, dir, sv[0], sv[1]);
    fflush(stdout);

    enter_sandbox();

    char buf[64];
    struct stat st;
    if (read(ro, buf, sizeof buf) < 0 || fstat(ro, &st) < 0) return 3;
    void *map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ro, 0);
    if (map == MAP_FAILED) return 3;
    int alias = dup(ro);
    if (alias < 0 || pread(alias, buf, 4, 0) < 0) return 3;

    if (write(wo, "parent\n", 7) != 7 || fsync(wo) < 0) return 4;
    pid_t child = fork();
    if (child == 0) {
        _exit(write(wo, "child\n", 6) == 6 ? 0 : 1);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || status != 0) return 4;

    int sub = openat(dir, "sub.txt", O_RDONLY);
    if (sub < 0 || read(sub, buf, sizeof buf) < 0 || fstatat(dir, "ro.txt", &st, 0) < 0) return 5;
    close(sub);

    if (send(sv[0], "ping", 4, 0) != 4) return 6;
    int avail = 0;
    if (ioctl(sv[1], FIONREAD, &avail) < 0 || recv(sv[1], buf, sizeof buf, 0) != 4) return 6;

    int p[2];
    if (pipe(p) < 0 || write(p[1], "x", 1) != 1 || read(p[0], buf, 1) != 1) return 7;

    char line[64];
    int n = snprintf(line, sizeof line, "alias=%d sub=%d pr=%d pw=%d child=%d\n", alias, sub, p[0], p[1], (int)child);
    if (write(1, line, (size_t)n) != n) return 8;
    return 0;
}
