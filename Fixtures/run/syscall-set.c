/* syscall-set.c — known syscalls for `run --syscalls` (SyscallSetTests).
 *
 * In main (after --enter-at main): getppid exactly 7 times (x86_64), getpid exactly 3 times through the i386
 * ABI (int 0x80, nr 20), socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC), socket(AF_INET, SOCK_DGRAM),
 * socketpair(AF_UNIX, SOCK_DGRAM), one thread (pthread_create: clone3 with CLONE_THREAD on glibc >= 2.34) and
 * one child (fork: clone with SIGCHLD) that calls getppid exactly twice and exits 0.
 * Prints "ok". Exit status 0.
 */
#include "fixture.h"
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static long int80(long nr) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr) : "memory");
    return r;
}

static void *thread_main(void *arg) { return arg; }

int main(void) {
    for (int i = 0; i < 7; i++) syscall(SYS_getppid);
    for (int i = 0; i < 3; i++) CHECK(int80(20 /* i386 getpid */) == getpid());
    int s1 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int s2 = socket(AF_INET, SOCK_DGRAM, 0);
    int sv[2];
    CHECK(s1 >= 0 && s2 >= 0 && socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
    pthread_join(t, NULL);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        syscall(SYS_getppid);
        syscall(SYS_getppid);
        _exit(0);
    }
    int st;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("ok\n");
    return 0;
}
