// Fixture with one scenario per argv[1], each ending blocked in a syscall after printing "ready":
//   lib     main -> lib_entry -> lib_inner -> read          (a function in a shared library)
//   dlopen  pause() first ("ready" then SIGUSR1), then dlopen(argv[2]) -> dl_entry -> dl_inner -> read
//   thread  a thread: thread_main -> t_work -> read; main waits in pthread_join
//   int80   main -> legacy_read -> int $0x80 (i386 read) from this 64-bit program
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

long lib_entry(int fd);
static int pipe_fd;

static void ready(void) {
    printf("ready\n");
    fflush(stdout);
}

__attribute__((noinline)) static long t_work(int fd) {
    char c;
    volatile long r = read(fd, &c, 1);
    return r;
}

static void *thread_main(void *arg) {
    (void)arg;
    volatile long r = t_work(pipe_fd);
    return (void *)r;
}

__attribute__((noinline)) static long legacy_read(int fd) {
    char c;
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(3), "b"(fd), "c"(&c), "d"(1) : "memory");
    return r;
}

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv) {
    int p[2];
    if (argc < 2 || pipe(p) != 0) return 1;
    pipe_fd = p[0];
    if (strcmp(argv[1], "lib") == 0) {
        ready();
        return lib_entry(p[0]) == 0 ? 0 : 2;
    }
    if (strcmp(argv[1], "dlopen") == 0 && argc > 2) {
        signal(SIGUSR1, on_usr1);
        ready();
        pause();
        void *h = dlopen(argv[2], RTLD_NOW);
        long (*entry)(int) = h ? (long (*)(int))dlsym(h, "dl_entry") : NULL;
        if (entry == NULL) return 3;
        printf("ready\n");
        fflush(stdout);
        return entry(p[0]) == 0 ? 0 : 2;
    }
    if (strcmp(argv[1], "thread") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, NULL) != 0) return 4;
        ready();
        pthread_join(t, NULL);
        return 0;
    }
    if (strcmp(argv[1], "int80") == 0) {
        ready();
        volatile long r = legacy_read(p[0]);
        return (int)r;
    }
    return 1;
}
