/* net.c — the network namespace and its non-violation twins (loopback and unix sockets only).
 *
 * Before cap_enter() it binds a UDP receiver to 127.0.0.1:0 and one to [::1]:0, a unix datagram receiver to
 * <cwd>/rx.sock and one to the abstract name "@captrace-fx-<pid>", and a TCP socket to 127.0.0.1:0 (not
 * listening yet); it prints "port=<udp port>", "port6=<udp6 port>" and "pid=<pid>".
 * After it (--enter-at symbol:cap_enter), in this order:
 *   socket(AF_INET, SOCK_DGRAM)                 not a violation
 *   sendto(s, "a", 127.0.0.1:PORT)              sendto   socket-address  address 127.0.0.1:PORT
 *   connect(s2, 127.0.0.1:PORT)                 connect  socket-address  address 127.0.0.1:PORT
 *   send(s2, "b") (connected)                   not a violation (sendto with no address)
 *   sendto(s2, "c", NULL, 0)                    not a violation
 *   sendto(s6, "e", [::1]:PORT6)                sendto   socket-address  address [::1]:PORT6
 *   socketpair(AF_UNIX) + send on it            not violations
 *   listen(tcp) (bound before entry)            not a violation
 *   sendto(u, "d", unix:<cwd>/rx.sock)          sendto   socket-address  address unix:<cwd>/rx.sock
 *   connect(u2, unix:@captrace-fx-<pid>)        connect  socket-address  address unix:@captrace-fx-<pid>
 *   bind(u3, unix:<cwd>/bound.sock)             bind     socket-address  address unix:<cwd>/bound.sock
 * Prints "done". Exit status 0.
 */
#include "fixture.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t unix_addr(struct sockaddr_un *a, const char *path, int abstract) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (abstract) { memcpy(a->sun_path + 1, path, n); return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n); }
    memcpy(a->sun_path, path, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

int main(void) {
    char p[PATH_MAX + 64], abs_name[64];
    struct sockaddr_in rx = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof rx;
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(r >= 0 && bind(r, (struct sockaddr *)&rx, sizeof rx) == 0 && getsockname(r, (struct sockaddr *)&rx, &len) == 0);

    struct sockaddr_in6 rx6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len6 = sizeof rx6;
    int r6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK(r6 >= 0 && bind(r6, (struct sockaddr *)&rx6, sizeof rx6) == 0 && getsockname(r6, (struct sockaddr *)&rx6, &len6) == 0);

    struct sockaddr_un ua, aa, ba;
    snprintf(p, sizeof p, "%s/rx.sock", cwd());
    socklen_t ualen = unix_addr(&ua, p, 0);
    int ur = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(ur >= 0 && bind(ur, (struct sockaddr *)&ua, ualen) == 0);
    snprintf(abs_name, sizeof abs_name, "captrace-fx-%d", (int)getpid());
    socklen_t aalen = unix_addr(&aa, abs_name, 1);
    int ar = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(ar >= 0 && bind(ar, (struct sockaddr *)&aa, aalen) == 0);
    snprintf(p, sizeof p, "%s/bound.sock", cwd());
    socklen_t balen = unix_addr(&ba, p, 0);
    struct sockaddr_in ta = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(tcp >= 0 && bind(tcp, (struct sockaddr *)&ta, sizeof ta) == 0);
    printf("port=%d\nport6=%d\npid=%d\n", ntohs(rx.sin_port), ntohs(rx6.sin6_port), (int)getpid());
    fflush(stdout);

    cap_enter();

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(s >= 0);
    CHECK(sendto(s, "a", 1, 0, (struct sockaddr *)&rx, sizeof rx) == 1);
    int s2 = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(s2 >= 0 && connect(s2, (struct sockaddr *)&rx, sizeof rx) == 0);
    CHECK(send(s2, "b", 1, 0) == 1);
    CHECK(sendto(s2, "c", 1, 0, NULL, 0) == 1);
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK(s6 >= 0 && sendto(s6, "e", 1, 0, (struct sockaddr *)&rx6, sizeof rx6) == 1);
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    CHECK(send(sp[0], "x", 1, 0) == 1);
    CHECK(listen(tcp, 1) == 0);
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(u >= 0 && sendto(u, "d", 1, 0, (struct sockaddr *)&ua, ualen) == 1);
    int u2 = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(u2 >= 0 && connect(u2, (struct sockaddr *)&aa, aalen) == 0);
    int u3 = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(u3 >= 0 && bind(u3, (struct sockaddr *)&ba, balen) == 0);
    printf("done\n");
    return 0;
}
