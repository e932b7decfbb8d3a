/* One program per knowledge-base entry: `hintfix ENTRY VARIANT [ARG]`.
 *
 * VARIANT "pattern" does the entry's lazy initialisation after cap_enter() (the trigger the tests name), so the
 * pattern's violations appear; "fixed" applies the entry's documented fix before cap_enter() and then does the
 * same work. Both print "result: ..." on stdout and exit 0 when the work after entry succeeded, 1 when it
 * failed (as the pattern does under enforcement). The tests (Tests/IntegrationTests/HintFixTests.swift) assert
 * that "fixed" records none of the pattern's violations and still works, in observe and enforce mode.
 * tzdata has a third variant, "tzset-only": the fix the knowledge base used to give, which glibc defeats.
 */
#include "fixture.h"
#include <dlfcn.h>
#include <execinfo.h>
#include <iconv.h>
#include <locale.h>
#include <netdb.h>
#include <pwd.h>
#include <sched.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <syslog.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

static int fixed;

static int result(int ok, const char *text) {
    printf("result: %s\n", text);
    return ok ? 0 : 1;
}

static int resolver(void) {
    static char addr[64];
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (fixed && getaddrinfo("localhost", NULL, &hints, &res) == 0) {  /* fix: resolve before entry, keep it */
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, addr, sizeof addr);
        freeaddrinfo(res);
    }
    cap_enter();
    if (!fixed && getaddrinfo("localhost", NULL, &hints, &res) == 0) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, addr, sizeof addr);
        freeaddrinfo(res);
    }
    return result(addr[0] != 0, addr[0] ? addr : "lookup failed");
}

static int nss(void) {
    static char home[256];
    struct passwd *pw;
    if (fixed && (pw = getpwnam("root"))) snprintf(home, sizeof home, "%s", pw->pw_dir);  /* fix: look up, keep */
    cap_enter();
    if (!fixed && (pw = getpwnam("root"))) snprintf(home, sizeof home, "%s", pw->pw_dir);
    return result(home[0] != 0, home[0] ? home : "no entry");
}

static void tz_convert(char *out, size_t n) {
    time_t t = 86400 * 180;
    char one[64];
    out[0] = 0;
    for (int i = 0; i < 3; i++) {  /* three conversions: with TZ unset glibc's localtime() re-checks the file */
        strftime(one, sizeof one, "%Z%z ", localtime(&t));
        strncat(out, one, n - strlen(out) - 1);
    }
}

static int tzdata(const char *variant) {
    char out[256];
    if (fixed) {  /* fix: TZ set before entry, then tzset(): the file is read once and never checked again */
        setenv("TZ", ":/etc/localtime", 1);
        tzset();
    } else if (!strcmp(variant, "tzset-only")) {  /* the old advice: not enough with glibc */
        tzset();
        tz_convert(out, sizeof out);
    }
    cap_enter();
    tz_convert(out, sizeof out);
    return result(1, out);
}

static int message_catalogs(void) {
    setlocale(LC_ALL, "");  /* LANGUAGE names a language whose libc.mo is installed (the test sets it) */
    if (fixed) (void)strerror(ENOENT);  /* fix: translate once before entry: the catalog stays mapped */
    cap_enter();
    return result(1, strerror(ENOENT));
}

static int locale_iconv(void) {
    iconv_t cd = (iconv_t)-1;
    if (fixed) {  /* fix: setlocale and iconv_open before entry, keep the converter */
        setlocale(LC_ALL, "C.UTF-8");
        cd = iconv_open("UTF-16LE", "UTF-8");
    }
    cap_enter();
    if (!fixed) {
        setlocale(LC_ALL, "C.UTF-8");
        cd = iconv_open("UTF-16LE", "UTF-8");
    }
    if (cd == (iconv_t)-1) return result(0, "iconv_open failed");
    char in[] = "caf\xc3\xa9", out[32], *ip = in, *op = out;
    size_t il = strlen(in), ol = sizeof out;
    size_t r = iconv(cd, &ip, &il, &op, &ol);
    char text[64];
    snprintf(text, sizeof text, "%s %zu bytes", setlocale(LC_CTYPE, NULL), sizeof out - ol);
    return result(r != (size_t)-1, text);
}

static int libgcc_s(void) {
    void *frames[8];
    if (fixed) (void)backtrace(frames, 1);  /* fix: the first backtrace loads libgcc_s before entry */
    cap_enter();
    int n = backtrace(frames, 8);
    char text[32];
    snprintf(text, sizeof text, "%d frames", n);
    return result(n > 1, text);
}

static int openssl(void) {
    if (fixed) OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);  /* fix: load the configuration before entry */
    cap_enter();
    if (!fixed) OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int ok = EVP_Digest("abc", 3, md, &n, EVP_sha256(), NULL);
    char text[32];
    snprintf(text, sizeof text, "sha256 %02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
    return result(ok && n == 32, ok ? text : "digest failed");
}

static int exec_loader(const char *program) {
    int fd = -1;
    if (fixed) CHECK((fd = open(program, O_RDONLY | O_CLOEXEC)) >= 0);  /* fix: a static program, opened before */
    cap_enter();
    fflush(stdout);
    char *argv[] = {(char *)program, NULL}, *envp[] = {NULL};
    if (fixed) fexecve(fd, argv, envp); else execve(program, argv, envp);
    char text[64];
    snprintf(text, sizeof text, "exec failed: %s", strerrorname_np(errno));
    return result(0, text);
}

static int dlopen_lib(void) {
    void *h = NULL;
    if (fixed) h = dlopen("libm.so.6", RTLD_NOW);  /* fix: load before entry and keep the handle */
    cap_enter();
    void *again = dlopen("libm.so.6", RTLD_NOW);
    double (*c)(double) = again ? (double (*)(double))dlsym(again, "cos") : NULL;
    (void)h;
    return result(c && c(0.0) == 1.0, c ? "cos(0) = 1" : "dlopen failed");
}

static int syslog_message(void) {
    /* syslog() stamps messages in local time: both variants settle the time zone first (tzdata's fix), so that
     * the only difference is syslog's own. */
    setenv("TZ", ":/etc/localtime", 1);
    tzset();
    if (fixed) openlog("hintfix", LOG_NDELAY, LOG_USER);  /* fix: connect to /dev/log before entry */
    cap_enter();
    syslog(LOG_NOTICE, "hintfix syslog %s", fixed ? "fixed" : "pattern");
    return result(1, "logged");
}

static int cpu_count(void) {
    cap_enter();
    long n;
    if (fixed) {  /* fix: sched_getaffinity names no path */
        cpu_set_t set;
        n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    } else {
        n = get_nprocs();
    }
    /* Not the count itself: captrace's ptrace backend pins the program to one CPU (see README). */
    return result(n > 0, n > 0 ? "at least one cpu" : "no cpu count");
}

static int random_devices(void) {
    cap_enter();
    unsigned char b[16];
    ssize_t n;
    if (fixed) {  /* fix: getrandom names no path */
        n = getrandom(b, sizeof b, 0);
    } else {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        n = fd < 0 ? -1 : read(fd, b, sizeof b);
    }
    return result(n == (ssize_t)sizeof b, n == (ssize_t)sizeof b ? "16 random bytes" : "no randomness");
}

static int proc_self(void) {
    int dfd = -1;
    if (fixed) CHECK((dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);  /* fix: hold /proc/self */
    cap_enter();
    int fd = fixed ? openat(dfd, "status", O_RDONLY | O_CLOEXEC) : open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    char buf[64] = {0};
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n > 0) buf[strcspn(buf, "\n")] = 0;
    return result(n > 0, n > 0 ? buf : "cannot read status");
}

static int argument_files(const char *path) {
    int fd = -1;
    if (fixed) fd = open(path, O_RDONLY | O_CLOEXEC);  /* fix: open the named file before entry (fileargs) */
    cap_enter();
    if (!fixed) fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[64] = {0};
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n > 0) buf[strcspn(buf, "\n")] = 0;
    return result(n > 0, n > 0 ? buf : "cannot read the file");
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: hintfix ENTRY pattern|fixed [ARG]\n"); return 2; }
    const char *entry = argv[1], *arg = argc > 3 ? argv[3] : NULL;
    fixed = !strcmp(argv[2], "fixed");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(entry, "glibc-resolver")) return resolver();
    if (!strcmp(entry, "nss")) return nss();
    if (!strcmp(entry, "tzdata")) return tzdata(argv[2]);
    if (!strcmp(entry, "message-catalogs")) return message_catalogs();
    if (!strcmp(entry, "locale-iconv")) return locale_iconv();
    if (!strcmp(entry, "libgcc-s")) return libgcc_s();
    if (!strcmp(entry, "openssl-config")) return openssl();
    if (!strcmp(entry, "exec-loader") && arg) return exec_loader(arg);
    if (!strcmp(entry, "dlopen-after-entry")) return dlopen_lib();
    if (!strcmp(entry, "syslog")) return syslog_message();
    if (!strcmp(entry, "cpu-count")) return cpu_count();
    if (!strcmp(entry, "random-devices")) return random_devices();
    if (!strcmp(entry, "proc-self")) return proc_self();
    if (!strcmp(entry, "argument-files") && arg) return argument_files(arg);
    fprintf(stderr, "hintfix: unknown entry %s\n", entry);
    return 2;
}
