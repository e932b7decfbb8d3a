/// The lazy-initialisation knowledge base: one entry per pattern, tried in this order, first match wins.
///
/// Order matters: an entry whose frames identify the *reason* for a call (the resolver looking up a host) comes
/// before entries that only recognise the *file* (NSS modules, the loader cache, any `.so`), so a violation is
/// explained by its root cause. Every entry has positive and negative tests in Tests/ReportsTests/HintTests.swift.
/// README "Adding a lazy-initialisation hint" explains how to add one.
///
/// Frame globs name glibc 2.34+ internals as libdw prints them with libc6-dbg installed, and the exported
/// entry points that remain visible without debug symbols.
enum KnowledgeBase {
    static let openCalls = ["open", "openat", "openat2", "creat"]

    static let resolverFrames = [
        "libc.so*!getaddrinfo", "libc.so*!gaih_inet*", "libc.so*!gethostbyname*", "libc.so*!__gethostbyname*",
        "libc.so*!gethostbyaddr*", "libc.so*!__gethostbyaddr*", "libc.so*!getnameinfo", "libc.so*!res_*",
        "libc.so*!__res_*", "libc.so*!__libc_res_*", "libc.so*!send_dg", "libc.so*!send_vc",
        "libc.so*!__resolv_conf*", "libc.so*!__resolv_context*", "libc.so*!_nss_dns_*",
        "libc.so*!_nss_files_gethost*", "libc.so*!__nscd_gethost*", "libc.so*!__nscd_getai",
        "libresolv.so*!*", "libnss_dns.so*!*", "libnss_resolve.so*!*", "libnss_mdns*!*", "libnss_myhostname.so*!*",
    ]

    static let nssFrames = [
        "libc.so*!getpw*", "libc.so*!__getpw*", "libc.so*!getgr*", "libc.so*!__getgr*", "libc.so*!getsp*",
        "libc.so*!initgroups", "libc.so*!getlogin*", "libc.so*!getserv*", "libc.so*!getproto*",
        "libc.so*!getnet*", "libc.so*!getrpc*", "libc.so*!__nss_*", "libc.so*!nss_*", "libc.so*!__nscd_*",
        "libnss_*!*",
    ]

    static let gettextFrames = [
        "libc.so*!__dcigettext", "libc.so*!dcigettext", "libc.so*!__dcgettext", "libc.so*!dcgettext",
        "libc.so*!dcngettext", "libc.so*!__dcngettext", "libc.so*!_nl_find_domain", "libc.so*!_nl_load_domain",
        "libintl.so*!*",
    ]

    static let entries: [Hint] = [
        Hint(
            id: "glibc-resolver",
            title: "glibc resolver reads its configuration on the first lookup",
            caller: "libc resolver",
            matches: [
                .path("/etc/resolv.conf", "/etc/host.conf", "/etc/gai.conf", "/etc/hosts",
                      "/run/systemd/resolve/io.systemd.Resolve", "/run/systemd/resolve/stub-resolv.conf"),
                Pattern(paths: ["/var/run/nscd/socket", "/run/nscd/socket"], frames: resolverFrames),
                Pattern(frames: resolverFrames),
            ],
            explanation: """
                getaddrinfo(), gethostbyname() and the res_* functions load /etc/resolv.conf, host.conf and \
                gai.conf, ask nscd, read /etc/hosts and open DNS sockets on their first call (and again when \
                resolv.conf changes). After entry none of these global names may be looked up.
                """,
            fix: """
                Resolve every name the program needs before entering capability mode and keep the addresses; \
                for lookups that must happen later, ask a helper outside the sandbox over a descriptor you hold \
                (FreeBSD: cap_dns(3) via libcasper). A connected socket opened before entry stays usable.
                """,
            references: ["resolv.conf(5)", "getaddrinfo(3)", "cap_dns(3)", "nscd(8)"]),
        Hint(
            id: "nss",
            title: "NSS loads nsswitch.conf and its modules on the first user, group or service lookup",
            caller: "glibc NSS",
            matches: [
                .path("/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
                      "/etc/services", "/etc/protocols", "/etc/networks", "/etc/netgroup", "/etc/rpc", "/etc/ethers",
                      "/etc/aliases", "/var/run/nscd/socket", "/run/nscd/socket", "/run/systemd/userdb/**",
                      "**/libnss_*.so", "**/libnss_*.so.*"),
                Pattern(frames: nssFrames),
            ],
            explanation: """
                getpwnam(), getgrgid(), initgroups(), getservbyname() and friends read /etc/nsswitch.conf, \
                dlopen() the libnss_* modules it names and then read /etc/passwd, /etc/group (or ask nscd or \
                systemd-userdb) — all on first use, after entry.
                """,
            fix: """
                Look up the users, groups and services you need before entering capability mode (e.g. resolve the \
                user to drop privileges to, and cache the passwd entry); for later lookups use a helper outside \
                the sandbox (FreeBSD: cap_pwd(3), cap_grp(3)).
                """,
            references: ["nsswitch.conf(5)", "getpwnam(3)", "cap_pwd(3)", "cap_grp(3)"]),
        Hint(
            id: "tzdata",
            title: "time-zone data is loaded on the first local-time conversion",
            caller: "libc time-zone code (tzset)",
            matches: [
                .path("/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo", "/usr/share/zoneinfo/**",
                      "/usr/lib/zoneinfo/**", "/usr/share/lib/zoneinfo/**"),
                .frame("libc.so*!tzset*", "libc.so*!__tzset*", "libc.so*!__tzfile_read", "libc.so*!__tz_convert",
                       "libc.so*!localtime*", "libc.so*!__localtime*", "libc.so*!mktime", "libc.so*!__mktime*",
                       "libc.so*!timelocal", "libc.so*!strftime*", "libc.so*!__strftime*"),
            ],
            explanation: """
                localtime(), mktime(), strftime() and ctime() call tzset() internally, which reads /etc/localtime \
                (or the zoneinfo file TZ names) the first time a time is converted to local time.
                """,
            fix: """
                Call tzset() before entering capability mode (FreeBSD's caph_cache_tzdata(3) does exactly this); \
                glibc keeps the parsed zone. If TZ changes later, set it before entry too.
                """,
            references: ["tzset(3)", "caph_cache_tzdata(3)", "tzfile(5)"]),
        Hint(
            id: "message-catalogs",
            title: "translated messages are loaded on the first strerror()/err()/gettext()",
            caller: "libc gettext (message catalogs)",
            matches: [
                .path("/usr/share/locale/**.mo", "/usr/share/locale-langpack/**.mo"),
                Pattern(paths: ["/usr/share/locale/locale.alias", "/usr/share/locale", "/usr/share/locale/**"],
                        frames: gettextFrames),
                Pattern(frames: gettextFrames),
            ],
            explanation: """
                In a non-C locale strerror(), perror(), err(3)/warn(3) and gettext() look up message catalogs \
                (/usr/share/locale/LANG/LC_MESSAGES/DOMAIN.mo, and locale.alias) on first use, after entry.
                """,
            fix: """
                Translate once before entry so the catalog is mapped: call strerror() (or gettext() for each text \
                domain you use) before entering capability mode, as FreeBSD's caph_cache_catpages(3) does; or run \
                the sandboxed part in the C locale.
                """,
            references: ["gettext(3)", "strerror(3)", "caph_cache_catpages(3)", "locale(7)"]),
        Hint(
            id: "locale-iconv",
            title: "locale data and iconv converters are loaded lazily",
            caller: "libc locale/iconv loader",
            matches: [
                .path("/usr/lib/locale/**", "/usr/lib/locale", "/usr/share/i18n/**", "**/gconv/gconv-modules*",
                      "**/gconv/*.so", "**/gconv/**", "/usr/share/locale/locale.alias"),
                .frame("libc.so*!setlocale", "libc.so*!newlocale", "libc.so*!__newlocale", "libc.so*!_nl_find_locale",
                       "libc.so*!_nl_load_locale*", "libc.so*!iconv_open", "libc.so*!__gconv_*", "libc.so*!__wcsmbs_load_conv",
                       "libc.so*!__wcsmbs_*", "libc.so*!nl_langinfo*"),
            ],
            explanation: """
                setlocale()/newlocale() map /usr/lib/locale/locale-archive (or per-locale files), and iconv_open() \
                or the first multibyte conversion reads gconv-modules(.cache) and dlopen()s a gconv module. Done \
                after entry, these lookups fail.
                """,
            fix: """
                Call setlocale() before entry, and open the iconv converters you need (iconv_open()) before \
                entering capability mode; keep the descriptors. A multibyte function (mbrtowc) called once \
                before entry loads the locale's charset converter.
                """,
            references: ["setlocale(3)", "iconv_open(3)", "gconv-modules(5)", "locale(7)"]),
        Hint(
            id: "libgcc-s",
            title: "libgcc_s is loaded on the first backtrace() or thread cancellation",
            caller: "libc's lazy libgcc_s loader",
            matches: [
                .path("**/libgcc_s.so", "**/libgcc_s.so.*"),
                .frame("libc.so*!__libc_unwind_link_get", "libc.so*!backtrace", "libc.so*!__backtrace",
                       "libc.so*!pthread_cancel", "libc.so*!__pthread_cancel", "libc.so*!__pthread_unwind*",
                       "libc.so*!pthread_exit", "libc.so*!__pthread_exit", "libc.so*!__libc_unwind_*"),
            ],
            explanation: """
                glibc dlopen()s libgcc_s.so.1 the first time it needs to unwind: backtrace(), pthread_cancel(), \
                pthread_exit() and thread cancellation points. After entry the loader cannot open it.
                """,
            fix: """
                Trigger the load before entry: call backtrace() once (with a one-entry buffer), or link with \
                -lgcc_s / preload it with dlopen("libgcc_s.so.1", RTLD_NOW) before entering capability mode.
                """,
            references: ["backtrace(3)", "pthread_cancel(3)"]),
        Hint(
            id: "openssl-config",
            title: "OpenSSL reads its configuration, CA store or providers on first use",
            caller: "OpenSSL",
            matches: [
                .path("**/openssl.cnf", "/usr/lib/ssl", "/usr/lib/ssl/**", "/etc/ssl", "/etc/ssl/**",
                      "**/engines-*/**", "**/ossl-modules/**"),
                .frame("libcrypto.so*!OPENSSL_init*", "libcrypto.so*!CONF_modules_load*", "libcrypto.so*!*CONF_load*",
                       "libcrypto.so*!ossl_config*", "libcrypto.so*!X509_STORE_load*", "libcrypto.so*!X509_LOOKUP*",
                       "libcrypto.so*!*load_locations*", "libcrypto.so*!*default_verify*",
                       "libcrypto.so*!OSSL_PROVIDER_load*", "libcrypto.so*!ENGINE_load*",
                       "libssl.so*!*default_verify*", "libssl.so*!OPENSSL_init_ssl"),
            ],
            explanation: """
                OpenSSL loads openssl.cnf (OPENSSL_CONF), its providers/engines and the CA certificate store \
                (/etc/ssl/certs, /usr/lib/ssl) on first use — often on the first TLS handshake, after entry.
                """,
            fix: """
                Call OPENSSL_init_ssl()/OPENSSL_init_crypto() with OPENSSL_INIT_LOAD_CONFIG, load the providers and \
                set up the SSL_CTX's verify locations (SSL_CTX_set_default_verify_paths or \
                SSL_CTX_load_verify_locations) before entering capability mode.
                """,
            references: ["config(5ssl)", "OPENSSL_init_crypto(3ssl)", "SSL_CTX_load_verify_locations(3ssl)"]),
        Hint(
            id: "ldso-cache",
            title: "the dynamic loader consults its cache and preload list",
            caller: "dynamic loader",
            matches: [
                .path("/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/ld.so.nohwcap"),
            ],
            explanation: """
                ld.so reads /etc/ld.so.preload when a program starts and /etc/ld.so.cache whenever a library is \
                loaded by name (at exec and on every dlopen() of a name without a slash). Seen after entry, \
                something is loading a library lazily, or capability mode began at exec.
                """,
            fix: """
                Load the libraries the program will need before entry (dlopen them, or link them directly). With \
                --enter-at exec this is expected: the loader's work counts; enter at main instead.
                """,
            references: ["ld.so(8)", "ldconfig(8)", "dlopen(3)"]),
        Hint(
            id: "dlopen-after-entry",
            title: "a shared library is loaded after entry (dlopen)",
            caller: "dynamic loader (dlopen)",
            matches: [
                Pattern(paths: ["**/*.so", "**/*.so.[0-9]*"], syscalls: openCalls),
                .frame("libc.so*!dlopen*", "libc.so*!__libc_dlopen*", "libc.so*!_dl_open", "libc.so*!dlmopen*",
                       "libdl.so*!dlopen*", "ld-linux*!_dl_map_object*", "ld-linux*!_dl_open", "ld-linux*!dl_open_worker*"),
            ],
            explanation: """
                A library is being loaded after entry: dlopen() searches the library path and opens the .so by \
                name. Plugins, optional codecs and lazily loaded helpers do this on first use. (With --enter-at \
                exec the loader opening the program's own DT_NEEDED libraries shows up here too.)
                """,
            fix: """
                dlopen() the library before entering capability mode (RTLD_NOW, and keep the handle), or link it \
                directly. FreeBSD's fdlopen(3) loads from a held descriptor; on Linux, open the file before entry \
                and dlopen("/proc/self/fd/N") only if /proc stays reachable.
                """,
            references: ["dlopen(3)", "ld.so(8)", "fdlopen(3)"]),
        Hint(
            id: "random-devices",
            title: "randomness read from /dev/urandom or /dev/random",
            caller: "a random-device reader",
            matches: [
                .path("/dev/urandom", "/dev/random"),
            ],
            explanation: """
                The program (or a library seeding itself) opens /dev/urandom or /dev/random after entry. The \
                device is a global name; the kernel's getrandom(2) gives the same bytes without a path.
                """,
            fix: """
                Use getrandom(2) (or getentropy(3), arc4random(3) in glibc 2.36+); or open the device before entry \
                and keep the descriptor.
                """,
            references: ["getrandom(2)", "getentropy(3)", "random(4)"]),
        Hint(
            id: "syslog",
            title: "syslog connects to /dev/log on the first message",
            caller: "libc syslog",
            matches: [
                .path("/dev/log", "/run/systemd/journal/dev-log", "/run/systemd/journal/socket"),
                Pattern(paths: ["/dev/console"], frames: ["libc.so*!*syslog*", "libc.so*!openlog*"]),
                .frame("libc.so*!openlog*", "libc.so*!__openlog*", "libc.so*!syslog", "libc.so*!vsyslog",
                       "libc.so*!__syslog*", "libc.so*!__vsyslog*"),
            ],
            explanation: """
                syslog() opens and connects its socket to /dev/log lazily, on the first message (and reconnects \
                after errors); with LOG_CONS it may also open /dev/console.
                """,
            fix: """
                Call openlog() with LOG_NDELAY before entering capability mode so the socket is connected up \
                front (FreeBSD programs do the same before cap_enter), and avoid LOG_CONS.
                """,
            references: ["openlog(3)", "syslog(3)"]),
        Hint(
            id: "cpu-count",
            title: "the CPU count is read from /sys or /proc",
            caller: "CPU-count query (get_nprocs/sysconf)",
            matches: [
                .path("/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible",
                      "/sys/devices/system/cpu/present", "/sys/devices/system/cpu", "/proc/cpuinfo", "/proc/stat",
                      "/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/**/cpu.max"),
                .frame("libc.so*!get_nprocs*", "libc.so*!__get_nprocs*"),
            ],
            explanation: """
                sysconf(_SC_NPROCESSORS_ONLN/CONF), get_nprocs() and thread-pool runtimes read \
                /sys/devices/system/cpu/online (falling back to /proc/stat or /proc/cpuinfo) when asked for the \
                number of CPUs, often lazily when the first worker pool is created.
                """,
            fix: """
                Ask for the CPU count before entry and keep it, or use sched_getaffinity(2) (CPU_COUNT), which \
                needs no path.
                """,
            references: ["get_nprocs(3)", "sysconf(3)", "sched_getaffinity(2)"]),
        Hint(
            id: "proc-self",
            title: "the program reads its own /proc entries",
            caller: "a /proc/self reader",
            matches: [
                .path("/proc/self", "/proc/self/**", "/proc/thread-self", "/proc/thread-self/**", "/proc/{pid}",
                      "/proc/{pid}/**"),
            ],
            explanation: """
                /proc/self/... (maps, status, exe, fd, cgroup, ...) is reached by path. Libraries read it lazily: \
                pthread_getattr_np() reads /proc/self/maps, readlink("/proc/self/exe") finds the program, \
                closefrom() and runtimes list /proc/self/fd.
                """,
            fix: """
                Read what you need from /proc before entry, or open /proc/self (O_DIRECTORY) before entry and use \
                openat() relative to that descriptor afterwards.
                """,
            references: ["proc(5)", "pthread_getattr_np(3)"]),
    ]
}
