/* ipc.c — System V IPC and io_uring vs anonymous shared memory.
 *
 * After cap_enter() (--enter-at symbol:cap_enter), in this order:
 *   shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600)   shmget  ipc     sysv-ipc
 *   memfd_create("fx", 0)                       not a violation
 *   mmap(MAP_SHARED|MAP_ANONYMOUS)              not a violation
 *   io_uring_setup(4, &params) (raw syscall)    io_uring_setup  bypass  io-uring (whatever its result)
 *   shmctl(id, IPC_RMID)                        cleanup: tests do not judge it
 * Prints "shmget=ok" and "io_uring=<ok|errno>". Exit status 0.
 */
#include "fixture.h"
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

int main(void) {
    cap_enter();

    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    printf("shmget=%s\n", outcome(id));
    int m = memfd_create("fx", 0);
    CHECK(m >= 0);
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    long u = syscall(SYS_io_uring_setup, 4, &params);
    printf("io_uring=%s\n", outcome(u));
    if (id >= 0) shmctl(id, IPC_RMID, NULL);
    return 0;
}
