/* resolver-demo — a small program that "enters capability mode" and then resolves a host name.
 *
 * It does what a sandboxed program is supposed to do: acquire what it needs first (here: the output stream,
 * a descriptor on the current directory), then call enter_sandbox() — an empty function standing in for
 * Capsicum's cap_enter(2) — and from then on use only what it holds. But lookup_peer() resolves a name with
 * getaddrinfo(), and the C library initialises its resolver lazily, on first use: it opens /etc/nsswitch.conf,
 * /etc/host.conf, /etc/resolv.conf and /etc/hosts only now, after entry. Under a real capability-mode sandbox
 * each of those opens would fail.
 *
 *   captrace run --enter-at symbol:enter_sandbox -o demo.jsonl -- ./resolver-demo [NAME]
 *
 * shows every one of those late opens with its stack, and `captrace suggest demo.jsonl --format plan` says
 * what to initialise before entering.
 */
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

/* Where the program would call cap_enter(2) on FreeBSD. captrace is told to begin here. */
__attribute__((noinline)) void enter_sandbox(void) { __asm__ volatile("" ::: "memory"); }

/* Resolves NAME and prints its addresses; returns 0 on success. */
__attribute__((noinline)) static int lookup_peer(const char *name) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, "80", &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "resolver-demo: %s: %s\n", name, gai_strerror(rc));
        return 1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char addr[INET6_ADDRSTRLEN];
        const void *src = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                   : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        printf("%s has address %s\n", name, inet_ntop(ai->ai_family, src, addr, sizeof addr));
    }
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "localhost";
    /* What the program holds before entering: stdout (already open) and its working directory. */
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (here < 0) { perror("resolver-demo: open ."); return 1; }
    setvbuf(stdout, NULL, _IOLBF, 0);

    enter_sandbox();

    int rc = lookup_peer(name);
    close(here);
    return rc;
}
