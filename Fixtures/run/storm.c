/* storm.c THREADS COUNT — a storm of threads making violations at the same time.
 *
 * After cap_enter() (--enter-at symbol:cap_enter) it starts THREADS threads (default 8) that wait on one
 * barrier, then each touches its own marker "storm-<i>" COUNT times (default 300). Each thread prints
 * "tid<i>=<tid>". Expected: exactly COUNT violations for each marker, all with that thread's tid and the
 * process's pid; no event lost or duplicated (seq continuous). Exit status 0.
 */
#include "fixture.h"
#include <pthread.h>

static pthread_barrier_t start;
static long count = 300;

static void *worker(void *arg) {
    long i = (long)arg;
    char tag[32];
    snprintf(tag, sizeof tag, "storm-%ld", i);
    printf("tid%ld=%d\n", i, (int)gettid());
    pthread_barrier_wait(&start);
    for (long k = 0; k < count; k++) mark(tag);
    return NULL;
}

int main(int argc, char **argv) {
    long threads = argc > 1 ? atol(argv[1]) : 8;
    if (argc > 2) count = atol(argv[2]);
    if (threads < 1 || threads > 64) { fprintf(stderr, "storm: 1..64 threads\n"); return 2; }
    (void)cwd();
    setvbuf(stdout, NULL, _IOLBF, 0);

    cap_enter();

    pthread_t t[64];
    CHECK(pthread_barrier_init(&start, NULL, (unsigned)threads) == 0);
    for (long i = 0; i < threads; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (long i = 0; i < threads; i++) CHECK(pthread_join(t[i], NULL) == 0);
    return 0;
}
