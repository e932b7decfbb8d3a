/* race.c SECONDS — enforce mode must not be fooled by a thread rewriting a path after the check.
 *
 * Before cap_enter() it creates box/sub/file, holds dirfd = open("box") and records the identity (st_dev,
 * st_ino) of box, box/sub and box/sub/file. After entry a thread flips a shared path buffer between "sub/file"
 * (allowed relative to dirfd) and "../../../../../../../../etc/passwd" (a `..` escape) as fast as it can, while
 * the main thread calls openat(dirfd, buffer) in a loop for SECONDS seconds (default 1.5) and classifies
 * every descriptor it gets by fstat: "inside" when it is one of those three, else "escaped" (/etc/passwd, or a
 * directory above box that a torn read of the buffer named).
 * Prints "inside=N escaped=N failed=N other=N" (other: fstat failed): under --mode enforce, escaped must be 0
 * and inside > 0 (the allowed name still works). In observe mode escaped > 0.
 */
#include "fixture.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

static char shared_path[64] = "sub/file";
static atomic_int stop;

static void *flipper(void *arg) {
    (void)arg;
    static const char inside[] = "sub/file";
    static const char outside[] = "../../../../../../../../etc/passwd";
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        memcpy((char *)shared_path, outside, sizeof outside);
        __asm__ volatile("" ::: "memory");
        memcpy((char *)shared_path, inside, sizeof inside);
        __asm__ volatile("" ::: "memory");
    }
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 1.5;
    CHECK(mkdir("box", 0755) == 0 && mkdir("box/sub", 0755) == 0);
    int t = open("box/sub/file", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0); close(t);
    int dirfd = open("box", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    struct stat ids[3], st;
    CHECK(stat("box", &ids[0]) == 0 && stat("box/sub", &ids[1]) == 0 && stat("box/sub/file", &ids[2]) == 0);

    cap_enter();

    pthread_t th;
    CHECK(pthread_create(&th, NULL, flipper, NULL) == 0);
    long inside = 0, escaped = 0, failed = 0, other = 0;
    double end = now() + seconds;
    while (now() < end) {
        int fd = openat(dirfd, shared_path, O_RDONLY);
        if (fd < 0) { failed++; continue; }
        if (fstat(fd, &st) != 0) { other++; close(fd); continue; }
        int in = 0;
        for (int i = 0; i < 3; i++) in |= st.st_dev == ids[i].st_dev && st.st_ino == ids[i].st_ino;
        if (in) inside++; else escaped++;
        close(fd);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    printf("inside=%ld escaped=%ld failed=%ld other=%ld\n", inside, escaped, failed, other);
    return 0;
}
