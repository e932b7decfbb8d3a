/*
 * Fixture for the libseccomp suggestion: linked with the C file `captrace suggest --format libseccomp` writes
 * for Tests/SuggestionsTests/Fixtures/demo.jsonl, it calls captrace_install_filter() first thing in main (the
 * demo's entry point) and then does what the demo does after entry, plus calls the profile does not allow.
 *
 * Expected output with the filter (one line each, then "done" and exit status 0):
 *   install: 0
 *   socket-inet: ok          AF_INET is the family of the address the trace connects to
 *   connect: ECONNREFUSED    connect is in the trace; nothing listens on 127.0.0.1:9
 *   socket-inet6: EPERM      no AF_INET6 address in the trace
 *   mkdir: EPERM             mkdir is a path lookup outside capability mode and not in the trace
 *   openat-dirfd: ok         openat relative to a held directory is allowed
 *   mkdir-i386: EPERM        the same mkdir through int 0x80: the filter covers the i386 ABI too
 *   done
 * With --no-filter, socket-inet6, mkdir and the rest all succeed (the control run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int captrace_install_filter(void);

/* mkdir(path, 0700) through the i386 ABI (int 0x80, __NR_mkdir 39); the path must lie below 4 GiB. */
static long mkdir_i386(const char *path)
{
    char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    long rc;

    if (low == MAP_FAILED)
        return -ENOMEM;
    snprintf(low, 4096, "%s", path);
    __asm__ volatile("int $0x80" : "=a"(rc) : "a"(39L), "b"((long)low), "c"(0700L) : "memory");
    munmap(low, 4096);
    return rc;
}

static void report(const char *what, int rc)
{
    if (rc >= 0)
        printf("%s: ok\n", what);
    else
        printf("%s: %s\n", what, strerrorname_np(errno));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int filtered = !(argc > 1 && strcmp(argv[1], "--no-filter") == 0);
    const char *scratch = argc > 2 ? argv[2] : "/tmp";
    char dir[4096];

    /* Before entry: acquire the directory the program works in. */
    int dirfd = open(scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        perror(scratch);
        return 2;
    }
    if (filtered)
        printf("install: %d\n", captrace_install_filter());

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    report("socket-inet", s);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0x7f000001) };
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = connect(t, (struct sockaddr *)&sin, sizeof sin);
    report("connect", rc);
    int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    report("socket-inet6", s6);
    snprintf(dir, sizeof dir, "%s/made-by-mkdir", scratch);
    report("mkdir", (int)syscall(SYS_mkdir, dir, 0700));
    int f = openat(dirfd, "file-via-dirfd", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    report("openat-dirfd", f);
    if (f >= 0)
        (void)!write(f, "x\n", 2);
    snprintf(dir, sizeof dir, "%s/made-by-int80", scratch);
    long r32 = mkdir_i386(dir);
    if (r32 < 0) {
        errno = (int)-r32;
        r32 = -1;
    }
    report("mkdir-i386", (int)r32);
    printf("done\n");
    return 0;
}
