/* thread.c — a thread created before entry shares its process's capability mode.
 *
 * Before cap_enter() it starts a thread that blocks on a pipe. After entry (--enter-at symbol:cap_enter) the
 * main thread releases it; the thread touches marker "thread" (a violation with the thread's tid and the
 * process's pid) and the main thread then touches "main".
 * Prints "pid=<pid>" and "tid=<the thread's tid>". Exit status 0.
 */
#include "fixture.h"
#include <pthread.h>

static int go[2];
static volatile pid_t thread_tid;

static void *worker(void *arg) {
    (void)arg;
    char c;
    thread_tid = gettid();
    if (read(go[0], &c, 1) != 1) return NULL;
    mark("thread");
    return NULL;
}

int main(void) {
    pthread_t t;
    CHECK(pipe(go) == 0);
    (void)cwd();
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0);

    cap_enter();

    CHECK(write(go[1], "g", 1) == 1);
    CHECK(pthread_join(t, NULL) == 0);
    mark("main");
    printf("pid=%d\ntid=%d\n", (int)getpid(), (int)thread_tid);
    return 0;
}
