/* emulate.c [families | race SECONDS | fexecve | sendmsg] — the calls capability mode allows on paths beneath a
 * held directory, descriptors passed over a socket and fexecve, as the program sees them.
 *
 * Before cap_enter() it builds, in the current directory, box/ (held as `box`), box/sub/{file,lnk,dirlnk},
 * outside/{file,lnk,victim} next to box, and holds `top` (the current directory).
 *
 * families: every *at call family once beneath `box`, successes and failures, each printed as NAME=RESULT where
 *   RESULT is "ok", a value, or the errno's name. The same output is expected whichever backend and mode run it.
 * race SECONDS: for each family, a thread flips a shared path between a name beneath box ("sub/...") and an
 *   escape ("../outside/..."), while the main thread calls the family's call on it in a loop. Afterwards the
 *   effects outside are checked through `top`: "escaped_FAMILY=N inside_FAMILY=N" (N inside: calls that
 *   succeeded beneath box). Enforce mode must show escaped 0 and inside > 0 for every family.
 * race-baseline SECONDS flip|still: see race_baseline().
 * sendmsg: sends a descriptor of box/sub/file with SCM_RIGHTS over a socketpair after entry (sendmsg, then
 *   sendmmsg with two messages), receives it and reads it: "sendmsg=ok sendmmsg=2 payload=... received=..."
 * fexecve PROGRAM [threaded]: runs "PROGRAM exit" (opened before entry) with fexecve() after entry, with a
 *   second thread alive with "threaded": "fexecve=ERRNO" and status 1 if it returned. "exit" returns 7.
 */
#include "fixture.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

static int box, top;

static void say(const char *name, long r) {
    if (r < 0) printf("%s=%s\n", name, strerrorname_np(errno));
    else printf("%s=%ld\n", name, r);
}

static void say_mode(const char *name, const char *path) {
    struct stat st;
    if (fstatat(box, path, &st, AT_SYMLINK_NOFOLLOW) != 0) { say(name, -1); return; }
    printf("%s=%o\n", name, st.st_mode);
}

static void setup(void) {
    umask(022);
    CHECK(mkdir("box", 0755) == 0 && mkdir("box/sub", 0755) == 0 && mkdir("outside", 0755) == 0);
    int t = open("box/sub/file", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0 && write(t, "inside\n", 7) == 7);
    close(t);
    CHECK(symlink("file", "box/sub/lnk") == 0 && symlink("inside-target", "box/sub/inlnk") == 0);
    CHECK(symlink("../../outside", "box/sub/dirlnk") == 0);
    t = open("outside/file", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0);
    close(t);
    t = open("outside/victim", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0);
    close(t);
    t = open("outside/only", O_CREAT | O_WRONLY, 0644);
    CHECK(t >= 0);
    close(t);
    CHECK(symlink("outside-target", "outside/lnk") == 0);
    box = open("box", O_RDONLY | O_DIRECTORY);
    top = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(box >= 0 && top >= 0);
    umask(027);  /* after entry, created modes must show this umask */
}

static void families(void) {
    char buf[128];
    struct stat st;
    say("mkdirat", mkdirat(box, "sub/d", 0777));
    say_mode("mkdirat_mode", "sub/d");
    say("mkdirat_exists", mkdirat(box, "sub/d", 0777));
    say("mkdirat_trailing", mkdirat(box, "sub/d2/", 0700));
    say("mkdirat_noparent", mkdirat(box, "nope/d", 0700));
    say("mkdirat_dirlnk", mkdirat(box, "sub/dirlnk/new", 0700));
    say("mknodat", mknodat(box, "sub/node", S_IFREG | 0666, 0));
    say_mode("mknodat_mode", "sub/node");
    say("mknodat_fifo", mknodat(box, "sub/fifo", S_IFIFO | 0666, 0));
    say_mode("mknodat_fifo_mode", "sub/fifo");
    int fd = openat(box, "sub/created", O_CREAT | O_WRONLY | O_EXCL, 0666);
    say("openat_creat", fd < 0 ? -1 : 0);
    if (fd >= 0) close(fd);
    say_mode("openat_creat_mode", "sub/created");
    say("linkat", linkat(box, "sub/file", box, "sub/hard", 0));
    CHECK(fstatat(box, "sub/hard", &st, 0) == 0);
    printf("linkat_nlink=%lu\n", (unsigned long)st.st_nlink);
    say("linkat_symlink_nofollow", linkat(box, "sub/lnk", box, "sub/hardlnk", 0));
    say_mode("linkat_symlink_nofollow_mode", "sub/hardlnk");
    say("linkat_symlink_follow", linkat(box, "sub/lnk", box, "sub/hardfollow", AT_SYMLINK_FOLLOW));
    say_mode("linkat_symlink_follow_mode", "sub/hardfollow");
    say("linkat_exists", linkat(box, "sub/file", box, "sub/hard", 0));
    say("symlinkat", symlinkat("any/where", box, "sub/sym"));
    long n = readlinkat(box, "sub/sym", buf, sizeof buf);
    say("readlinkat", n);
    if (n > 0) printf("readlinkat_text=%.*s\n", (int)n, buf);
    n = readlinkat(box, "sub/sym", buf, 3);
    say("readlinkat_short", n);
    if (n > 0) printf("readlinkat_short_text=%.*s\n", (int)n, buf);
    say("readlinkat_notlink", readlinkat(box, "sub/file", buf, sizeof buf));
    say("readlinkat_missing", readlinkat(box, "sub/missing", buf, sizeof buf));
    say("fchmodat", fchmodat(box, "sub/node", 0600, 0));
    say_mode("fchmodat_mode", "sub/node");
    say("fchmodat_follows", fchmodat(box, "sub/lnk", 0640, 0));
    say_mode("fchmodat_follows_mode", "sub/file");
    say("fchmodat_escape_link", fchmodat(box, "sub/dirlnk/file", 0600, 0));
    say("fchownat", fchownat(box, "sub/node", 1234, 1234, 0));
    CHECK(fstatat(box, "sub/node", &st, 0) == 0);
    printf("fchownat_owner=%u:%u\n", st.st_uid, st.st_gid);
    say("fchownat_nofollow", fchownat(box, "sub/lnk", 4321, 4321, AT_SYMLINK_NOFOLLOW));
    CHECK(fstatat(box, "sub/lnk", &st, AT_SYMLINK_NOFOLLOW) == 0);
    printf("fchownat_nofollow_owner=%u:%u\n", st.st_uid, st.st_gid);
    int f = openat(box, "sub/node", O_RDONLY);
    say("fchownat_empty", fchownat(f, "", 99, 99, AT_EMPTY_PATH));
    CHECK(fstatat(box, "sub/node", &st, 0) == 0);
    printf("fchownat_empty_owner=%u:%u\n", st.st_uid, st.st_gid);
    struct timespec ts[2] = {{1000000, 0}, {2000000, 0}};
    say("utimensat", utimensat(box, "sub/node", ts, 0));
    CHECK(fstatat(box, "sub/node", &st, 0) == 0);
    printf("utimensat_mtime=%ld\n", (long)st.st_mtime);
    struct timespec ts2[2] = {{3000000, 0}, {4000000, 0}};
    say("utimensat_fd", futimens(f, ts2));
    CHECK(fstatat(box, "sub/node", &st, 0) == 0);
    printf("utimensat_fd_mtime=%ld\n", (long)st.st_mtime);
    close(f);
    say("utimensat_nofollow", utimensat(box, "sub/lnk", ts, AT_SYMLINK_NOFOLLOW));
    say("faccessat", faccessat(box, "sub/file", R_OK, 0));
    say("faccessat_missing", faccessat(box, "sub/missing", F_OK, 0));
    say("faccessat_eaccess", faccessat(box, "sub/file", W_OK, AT_EACCESS));
    say("faccessat_nofollow", faccessat(box, "sub/inlnk", F_OK, AT_SYMLINK_NOFOLLOW));
    say("newfstatat", fstatat(box, "sub/file", &st, 0));
    printf("newfstatat_size=%ld\n", (long)st.st_size);
    say("newfstatat_nofollow", fstatat(box, "sub/inlnk", &st, AT_SYMLINK_NOFOLLOW));
    printf("newfstatat_nofollow_link=%d\n", S_ISLNK(st.st_mode));
    say("renameat", renameat(box, "sub/hard", box, "sub/renamed"));
    say("renameat_gone", faccessat(box, "sub/hard", F_OK, 0));
    say("renameat2_noreplace", renameat2(box, "sub/renamed", box, "sub/file", RENAME_NOREPLACE));
    say("renameat2_exchange", renameat2(box, "sub/renamed", box, "sub/node", RENAME_EXCHANGE));
    say("unlinkat", unlinkat(box, "sub/renamed", 0));
    say("unlinkat_dir_noflag", unlinkat(box, "sub/d", 0));
    say("unlinkat_dir", unlinkat(box, "sub/d", AT_REMOVEDIR));
    say("unlinkat_notempty", unlinkat(box, "sub", AT_REMOVEDIR));
    say("unlinkat_trailing_file", unlinkat(box, "sub/sym/", 0));
    say("unlinkat_missing", unlinkat(box, "sub/missing", 0));
    say("unlinkat_dotdot_inside", unlinkat(box, "sub/d2/..", AT_REMOVEDIR));
}

/* ---- race ---- */

static char shared[PATH_MAX];
static const char *flip_in, *flip_out;
static atomic_int stop;

static void *flipper(void *arg) {
    (void)arg;
    size_t li = strlen(flip_in) + 1, lo = strlen(flip_out) + 1;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        memcpy(shared, flip_out, lo);
        __asm__ volatile("" ::: "memory");
        memcpy(shared, flip_in, li);
        __asm__ volatile("" ::: "memory");
    }
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exists_top(const char *p) { return faccessat(top, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0; }

/* One family: `in` names something beneath box, `out` the same kind of thing in ../outside. Creating calls
 * create "<name>" (removed again when it was created beneath box); removing and renaming calls act on a victim
 * recreated beneath box every round; the others change or read outside/file, outside/lnk, outside/only. */
static void race(const char *family, const char *in, const char *out, double seconds) {
    char victim_out[96];
    snprintf(victim_out, sizeof victim_out, "outside/%s", out + strlen("../outside/"));
    int t = openat(top, victim_out, O_CREAT | O_WRONLY, 0644);  /* beneath top: allowed */
    int victim_existed = t >= 0;
    if (t >= 0) close(t);
    int creating = !strcmp(family, "mkdirat") || !strcmp(family, "mknodat") || !strcmp(family, "linkat")
        || !strcmp(family, "symlinkat");
    if (creating) { unlinkat(top, victim_out, 0); victim_existed = 0; }
    flip_in = in;
    flip_out = out;
    strcpy(shared, in);
    atomic_store(&stop, 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, flipper, NULL) == 0);
    long inside = 0, escaped = 0;
    struct stat before, st, ins;
    CHECK(fstatat(top, "outside/file", &before, 0) == 0);
    CHECK(fstatat(box, "sub/file", &ins, 0) == 0);
    char buf[64];
    double end = now() + seconds;
    while (now() < end) {
        long r = -1;
        if (!strcmp(family, "mkdirat")) {
            r = mkdirat(box, shared, 0755);
            if (r == 0) unlinkat(box, in, AT_REMOVEDIR);
        } else if (!strcmp(family, "mknodat")) {
            r = mknodat(box, shared, S_IFREG | 0644, 0);
            if (r == 0) unlinkat(box, in, 0);
        } else if (!strcmp(family, "unlinkat") || !strcmp(family, "renameat")) {
            int v = openat(box, in, O_CREAT | O_WRONLY, 0644);
            if (v >= 0) close(v);
            if (family[0] == 'u') r = unlinkat(box, shared, 0);
            else if ((r = renameat(box, shared, box, "sub/moved")) == 0) unlinkat(box, "sub/moved", 0);
        } else if (!strcmp(family, "linkat")) {
            r = linkat(box, "sub/file", box, shared, 0);
            if (r == 0) unlinkat(box, in, 0);
        } else if (!strcmp(family, "symlinkat")) {
            r = symlinkat("t", box, shared);
            if (r == 0) unlinkat(box, in, 0);
        } else if (!strcmp(family, "fchmodat")) {
            r = fchmodat(box, shared, 0600, 0);
        } else if (!strcmp(family, "fchownat")) {
            r = fchownat(box, shared, 1234, 1234, 0);
        } else if (!strcmp(family, "utimensat")) {
            struct timespec ts[2] = {{1000, 0}, {1000, 0}};
            r = utimensat(box, shared, ts, 0);
        } else if (!strcmp(family, "readlinkat")) {
            r = readlinkat(box, shared, buf, sizeof buf);
            if (r > 0 && !memcmp(buf, "outside-target", 14)) { escaped++; continue; }
        } else if (!strcmp(family, "faccessat")) {
            /* Only the outside name exists: success is an escape, ENOENT a lookup beneath box. */
            r = faccessat(box, shared, F_OK, 0);
            if (r == 0) { escaped++; continue; }
            if (errno == ENOENT) { inside++; continue; }
        } else if (!strcmp(family, "newfstatat")) {
            r = fstatat(box, shared, &st, 0);
            if (r == 0 && !(st.st_ino == ins.st_ino && st.st_dev == ins.st_dev)) { escaped++; continue; }
        }
        if (r >= 0) inside++;
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    /* Effects outside, seen through `top`. */
    if (exists_top(victim_out) != victim_existed) escaped++;
    CHECK(fstatat(top, "outside/file", &st, 0) == 0);
    if (st.st_mode != before.st_mode || st.st_uid != before.st_uid || st.st_mtime != before.st_mtime) escaped++;
    if (st.st_mode != before.st_mode || st.st_uid != before.st_uid || st.st_mtime != before.st_mtime) {
        /* Restore for the next family (an escape was counted once). */
        fchmodat(top, "outside/file", before.st_mode & 07777, 0);
        fchownat(top, "outside/file", before.st_uid, before.st_gid, 0);
        struct timespec ts[2] = {before.st_atim, before.st_mtim};
        utimensat(top, "outside/file", ts, 0);
    }
    printf("escaped_%s=%ld\ninside_%s=%ld\n", family, escaped, family, inside);
}

static void races(double seconds) {
    race("mkdirat", "sub/new-mkdirat", "../outside/new-mkdirat", seconds);
    race("mknodat", "sub/new-mknodat", "../outside/new-mknodat", seconds);
    race("unlinkat", "sub/victim-unlinkat", "../outside/victim-unlinkat", seconds);
    race("renameat", "sub/victim-renameat", "../outside/victim-renameat", seconds);
    race("linkat", "sub/new-linkat", "../outside/new-linkat", seconds);
    race("symlinkat", "sub/new-symlinkat", "../outside/new-symlinkat", seconds);
    race("fchmodat", "sub/file", "../outside/file", seconds);
    race("fchownat", "sub/file", "../outside/file", seconds);
    race("utimensat", "sub/file", "../outside/file", seconds);
    race("readlinkat", "sub/inlnk", "../outside/lnk", seconds);
    race("faccessat", "sub/nothere", "../outside/only", seconds);
    race("newfstatat", "sub/file", "../outside/file", seconds);
}

/* race-baseline SECONDS flip|still: open(ABSOLUTE) in a loop, the path flipping (with "flip") between
 * <cwd>/box/sub/file, which the test's allowlist accepts, and <cwd>/outside/file, which it does not. Prints
 * "inside=N escaped=N failed=N": enforce mode with the allowlist must never open outside/file. */
static void race_baseline(double seconds, int flip) {
    static char in[PATH_MAX + 32], out[PATH_MAX + 32];
    snprintf(in, sizeof in, "%s/box/sub/file", cwd());
    snprintf(out, sizeof out, "%s/outside/file", cwd());
    struct stat ins, st;
    CHECK(stat(in, &ins) == 0);
    cap_enter();
    flip_in = in;
    flip_out = flip ? out : in;
    strcpy(shared, in);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, flipper, NULL) == 0);
    long inside = 0, escaped = 0, failed = 0;
    double end = now() + seconds;
    while (now() < end) {
        int fd = open(shared, O_RDONLY);
        if (fd < 0) { failed++; continue; }
        if (fstat(fd, &st) == 0 && st.st_ino == ins.st_ino && st.st_dev == ins.st_dev) inside++; else escaped++;
        close(fd);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    printf("inside=%ld escaped=%ld failed=%ld\n", inside, escaped, failed);
}

/* ---- descriptor passing ---- */

static long send_fd(int sock, int fd, const char *payload, int mmsg) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = (void *)payload, .iov_len = strlen(payload)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (!mmsg) return sendmsg(sock, &m, 0);
    struct iovec iov2 = {.iov_base = "second", .iov_len = 6};
    struct mmsghdr v[2] = {{.msg_hdr = m}, {.msg_hdr = {.msg_iov = &iov2, .msg_iovlen = 1}}};
    long r = sendmmsg(sock, v, 2, 0);
    if (r >= 0) printf("sendmmsg_lens=%u,%u\n", v[0].msg_len, v[1].msg_len);
    return r;
}

static int recv_fd(int sock, char *payload, size_t cap) {
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = payload, .iov_len = cap - 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    long n = recvmsg(sock, &m, 0);
    if (n < 0) return -1;
    payload[n] = 0;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS) return -2;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void passing(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    int file = openat(box, "sub/file", O_RDONLY);
    CHECK(file >= 0);
    cap_enter();
    for (int mmsg = 0; mmsg < 2; mmsg++) {
        const char *name = mmsg ? "sendmmsg" : "sendmsg";
        say(name, send_fd(sv[0], file, mmsg ? "hello-mmsg" : "hello", mmsg));
        char payload[64], data[64];
        int got = recv_fd(sv[1], payload, sizeof payload);
        printf("%s_payload=%s\n", name, got >= 0 ? payload : "none");
        if (got >= 0) {
            long n = pread(got, data, sizeof data - 1, 0);
            data[n > 0 ? n : 0] = 0;
            data[strcspn(data, "\n")] = 0;
            printf("%s_received=%s\n", name, data);
            close(got);
        } else {
            printf("%s_received=none\n", name);
        }
        if (mmsg) {
            long n = recv(sv[1], payload, sizeof payload - 1, 0);
            payload[n > 0 ? n : 0] = 0;
            printf("sendmmsg_second=%s\n", payload);
        }
    }
    /* Without descriptors, on a stream pair. */
    int st[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, st) == 0);
    struct iovec iov[2] = {{.iov_base = "ab", .iov_len = 2}, {.iov_base = "cd", .iov_len = 2}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    say("sendmsg_plain", sendmsg(st[0], &m, 0));
    char in[8] = {0};
    say("recv_plain", recv(st[1], in, sizeof in - 1, 0));
    printf("recv_plain_text=%s\n", in);
    close(st[1]);
    say("sendmsg_epipe", sendmsg(st[0], &m, MSG_NOSIGNAL));
}

static void *sleeper(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

/* fexecve PROGRAM [threaded]: PROGRAM opened before entry, run with fexecve() after it; with "threaded", a
 * second thread exists at the time (the notify backend cannot confine the exec's path then). */
static void do_fexecve(const char *program, int threaded) {
    int fd = open(program, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    if (threaded) {
        pthread_t th;
        CHECK(pthread_create(&th, NULL, sleeper, NULL) == 0);
    }
    cap_enter();
    char *argv[] = {"emulate", "exit", NULL};
    char *envp[] = {NULL};
    fflush(stdout);
    fexecve(fd, argv, envp);
    printf("fexecve=%s\n", strerrorname_np(errno));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *what = argc > 1 ? argv[1] : "families";
    if (!strcmp(what, "exit")) return 7;  /* the program fexecve runs (a static build of this file) */
    if (!strcmp(what, "fexecve")) {
        do_fexecve(argc > 2 ? argv[2] : "/bin/true", argc > 3 && !strcmp(argv[3], "threaded"));
        return 1;
    }
    setup();
    if (!strcmp(what, "sendmsg")) { passing(); return 0; }
    if (!strcmp(what, "race-baseline")) {
        race_baseline(argc > 2 ? atof(argv[2]) : 0.5, argc > 3 && !strcmp(argv[3], "flip"));
        return 0;
    }
    cap_enter();
    if (!strcmp(what, "race")) races(argc > 2 ? atof(argv[2]) : 0.3);
    else families();
    return 0;
}
