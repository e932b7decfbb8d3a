/// The lazy-initialisation knowledge base: one entry per pattern, tried in this order, first match wins.
///
/// Each entry names the library functions that make its pattern; it applies when one of them is on the
/// violation's stack. Order matters: an entry whose frames identify the *reason* for a call (the resolver
/// looking up a host) comes before entries whose frames are only the means (NSS reading nsswitch.conf for the
/// resolver), so a violation is explained by its root cause. Every entry has positive and negative tests in
/// Tests/ReportsTests/HintTests.swift, and its fix is run in Tests/IntegrationTests/HintFixTests.swift.
/// README "Adding a lazy-initialisation hint" explains how to add one.
///
/// Frame globs name glibc 2.34+ internals as libdw prints them with libc6-dbg installed (checked against the
/// stacks in Traces/ and fresh runs), and the exported entry points that remain visible without debug symbols.
enum KnowledgeBase {
    static let libc = "libc.so*!"
    static let openCalls = ["open", "openat", "openat2", "creat"]

    static let resolverFrames = [
        "getaddrinfo", "gaih_inet*", "gethostbyname*", "__gethostbyname*", "gethostbyaddr*", "__gethostbyaddr*",
        "gethostbyname*_context", "getnameinfo", "res_*", "__res_*", "__libc_res_*", "send_dg", "send_vc",
        "__resolv_conf*", "__resolv_context*", "_nss_dns_*", "_nss_files_gethost*", "__nscd_gethost*",
        "nscd_gethst_r", "__nscd_getai",
    ].map { libc + $0 } + [
        "libresolv.so*!*", "libnss_dns.so*!*", "libnss_resolve.so*!*", "libnss_mdns*!*", "libnss_myhostname.so*!*",
    ]

    static let nssFrames = [
        "getpw*", "__getpw*", "getgr*", "__getgr*", "getsp*", "__getsp*", "initgroups", "getgrouplist",
        "getlogin*", "getserv*", "__getserv*", "getproto*", "getnet*", "getrpc*", "getaliasby*", "ether_*",
        "__nss_*", "nss_*", "_nss_files_*", "__nscd_*", "nscd_getpw_r", "nscd_getgr_r", "nscd_getserv_r",
    ].map { libc + $0 } + ["libnss_*!*"]

    static let tzFrames = [
        "tzset*", "__tzset*", "__tzfile_read", "__tzfile_*", "__tz_convert", "__tz_compute", "localtime*",
        "__localtime*", "mktime", "__mktime*", "timelocal", "strftime*", "__strftime*", "ctime*", "asctime*",
    ].map { libc + $0 }

    static let gettextFrames = [
        "__dcigettext", "dcigettext", "__dcgettext", "dcgettext", "dcngettext", "__dcngettext", "_nl_find_domain",
        "_nl_load_domain", "gettext", "__gettext", "textdomain", "bindtextdomain",
    ].map { libc + $0 } + ["libintl.so*!*"]

    static let localeFrames = [
        "setlocale", "newlocale", "__newlocale", "_nl_find_locale", "_nl_load_locale*", "iconv_open", "__gconv_*",
        "__wcsmbs_load_conv", "__wcsmbs_*", "nl_langinfo*",
    ].map { libc + $0 }

    static let execLoaderFrames = ["dl_main", "_dl_start", "_dl_start_final", "_dl_sysdep_start", "_dl_start_user"]
        .map { "ld-linux*!" + $0 }

    static let entries: [Hint] = [
        Hint(
            id: "glibc-resolver",
            title: "glibc resolver reads its configuration on the first lookup",
            caller: "libc resolver",
            matches: [Pattern(frames: resolverFrames)],
            inferred: [.path("/etc/resolv.conf", "/etc/host.conf", "/etc/gai.conf", "/etc/hosts",
                             "/run/systemd/resolve/io.systemd.Resolve", "/run/systemd/resolve/stub-resolv.conf")],
            explanation: """
                getaddrinfo(), gethostbyname() and the res_* functions load /etc/resolv.conf, host.conf and \
                gai.conf, ask nscd, read /etc/hosts and open DNS sockets on their first call — and glibc checks \
                resolv.conf and nsswitch.conf again on every later lookup, so a lookup made before entry does \
                not make later ones clean. After entry none of these global names may be looked up.
                """,
            fix: """
                Resolve every name the program needs before entering capability mode and keep the addresses \
                (a connected socket opened before entry stays usable). Lookups that must happen later need a \
                helper outside the sandbox answering over a descriptor you hold: FreeBSD's cap_dns(3) via \
                libcasper, which Linux does not have, so no test here can show that part.
                """,
            references: ["resolv.conf(5)", "getaddrinfo(3)", "cap_dns(3)", "nscd(8)"],
            proof: "HintFixTests.resolver (lookups before entry, addresses kept)"),
        Hint(
            id: "nss",
            title: "NSS loads nsswitch.conf and its modules on a user, group or service lookup",
            caller: "glibc NSS",
            matches: [Pattern(frames: nssFrames)],
            inferred: [.path("/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
                             "/etc/services", "/etc/protocols", "/etc/networks", "/etc/netgroup", "/etc/rpc",
                             "/etc/ethers", "/etc/aliases", "/var/run/nscd/socket", "/run/nscd/socket",
                             "/run/systemd/userdb/**", "**/libnss_*.so", "**/libnss_*.so.*")],
            explanation: """
                getpwnam(), getgrgid(), initgroups(), getservbyname() and friends read /etc/nsswitch.conf, \
                dlopen() the libnss_* modules it names and then read /etc/passwd, /etc/group (or ask nscd or \
                systemd-userdb) — on every lookup, not only the first.
                """,
            fix: """
                Look up the users, groups and services you need before entering capability mode and keep copies \
                of the entries (e.g. resolve the user to drop privileges to and cache the passwd entry). Later \
                lookups need a helper outside the sandbox: FreeBSD's cap_pwd(3)/cap_grp(3) via libcasper, which \
                Linux does not have.
                """,
            references: ["nsswitch.conf(5)", "getpwnam(3)", "cap_pwd(3)", "cap_grp(3)"],
            proof: "HintFixTests.nss (entries looked up before entry and kept); getent passwd root"),
        Hint(
            id: "tzdata",
            title: "the time-zone file is read, and re-checked, on local-time conversions",
            caller: "libc time-zone code (tzset)",
            matches: [Pattern(frames: tzFrames)],
            inferred: [.path("/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo", "/usr/share/zoneinfo/**",
                             "/usr/lib/zoneinfo/**", "/usr/share/lib/zoneinfo/**")],
            explanation: """
                localtime(), mktime(), strftime() and ctime() call tzset() internally. With TZ unset, glibc reads \
                /etc/localtime on the first conversion and then stats it again on every later one to see \
                whether it changed — so calling tzset() before entry is not enough: each conversion after entry \
                is a violation, and under enforcement the program silently falls back to UTC.
                """,
            fix: """
                Set TZ before entering capability mode and call tzset() once (setenv("TZ", ":/etc/localtime", 1) \
                keeps the system zone): glibc then reads the file once and, TZ unchanged, never looks again. \
                FreeBSD's caph_cache_tzdata(3) does the equivalent.
                """,
            references: ["tzset(3)", "caph_cache_tzdata(3)", "tzfile(5)"],
            proof: "HintFixTests.tzdata (TZ set before entry; tzset() alone shown insufficient)"),
        Hint(
            id: "message-catalogs",
            title: "translated messages are loaded on the first strerror()/err()/gettext()",
            caller: "libc gettext (message catalogs)",
            matches: [Pattern(frames: gettextFrames)],
            inferred: [.path("/usr/share/locale/**.mo", "/usr/share/locale-langpack/**.mo")],
            explanation: """
                In a non-C locale strerror(), perror(), err(3)/warn(3) and gettext() look up message catalogs \
                (/usr/share/locale/LANG/LC_MESSAGES/DOMAIN.mo, and locale.alias) on first use, after entry.
                """,
            fix: """
                Translate once before entry so the catalog is mapped: call strerror() (or gettext() for each text \
                domain you use) before entering capability mode, as FreeBSD's caph_cache_catpages(3) does; or run \
                the sandboxed part in the C locale.
                """,
            references: ["gettext(3)", "strerror(3)", "caph_cache_catpages(3)", "locale(7)"],
            proof: "HintFixTests.messageCatalogs (strerror() before entry)"),
        Hint(
            id: "locale-iconv",
            title: "locale data and iconv converters are loaded lazily",
            caller: "libc locale/iconv loader",
            matches: [Pattern(frames: localeFrames)],
            inferred: [.path("/usr/lib/locale/**", "/usr/lib/locale", "/usr/share/i18n/**", "**/gconv/gconv-modules*",
                             "**/gconv/*.so", "**/gconv/**", "/usr/share/locale/locale.alias")],
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
            references: ["setlocale(3)", "iconv_open(3)", "gconv-modules(5)", "locale(7)"],
            proof: "HintFixTests.localeIconv (setlocale() and iconv_open() before entry)"),
        Hint(
            id: "libgcc-s",
            title: "libgcc_s is loaded on the first backtrace() or thread cancellation",
            caller: "libc's lazy libgcc_s loader",
            matches: [.frame("libc.so*!__libc_unwind_link_get", "libc.so*!backtrace", "libc.so*!__backtrace",
                             "libc.so*!pthread_cancel", "libc.so*!__pthread_cancel", "libc.so*!__pthread_unwind*",
                             "libc.so*!pthread_exit", "libc.so*!__pthread_exit", "libc.so*!__libc_unwind_*")],
            inferred: [.path("**/libgcc_s.so", "**/libgcc_s.so.*")],
            explanation: """
                glibc dlopen()s libgcc_s.so.1 the first time it needs to unwind: backtrace(), pthread_cancel(), \
                pthread_exit() and thread cancellation points. After entry the loader cannot open it.
                """,
            fix: """
                Trigger the load before entry: call backtrace() once (with a one-entry buffer), or link with \
                -lgcc_s / preload it with dlopen("libgcc_s.so.1", RTLD_NOW) before entering capability mode.
                """,
            references: ["backtrace(3)", "pthread_cancel(3)"],
            proof: "HintFixTests.libgccS (backtrace() before entry)"),
        Hint(
            id: "openssl-config",
            title: "OpenSSL reads its configuration, CA store or providers on first use",
            caller: "OpenSSL",
            matches: [.frame("libcrypto.so*!OPENSSL_init*", "libcrypto.so*!CONF_modules_load*", "libcrypto.so*!*CONF_load*",
                             "libcrypto.so*!ossl_config*", "libcrypto.so*!X509_STORE_load*", "libcrypto.so*!X509_LOOKUP*",
                             "libcrypto.so*!*load_locations*", "libcrypto.so*!*default_verify*",
                             "libcrypto.so*!OSSL_PROVIDER_load*", "libcrypto.so*!ENGINE_load*",
                             "libssl.so*!*default_verify*", "libssl.so*!OPENSSL_init_ssl")],
            inferred: [.path("**/openssl.cnf", "/usr/lib/ssl", "/usr/lib/ssl/**", "/etc/ssl", "/etc/ssl/**",
                             "**/engines-*/**", "**/ossl-modules/**")],
            explanation: """
                OpenSSL loads openssl.cnf (OPENSSL_CONF), its providers/engines and the CA certificate store \
                (/etc/ssl/certs, /usr/lib/ssl) on first use — often on the first TLS handshake, after entry.
                """,
            fix: """
                Call OPENSSL_init_ssl()/OPENSSL_init_crypto() with OPENSSL_INIT_LOAD_CONFIG, load the providers and \
                set up the SSL_CTX's verify locations (SSL_CTX_set_default_verify_paths or \
                SSL_CTX_load_verify_locations) before entering capability mode.
                """,
            references: ["config(5ssl)", "OPENSSL_init_crypto(3ssl)", "SSL_CTX_load_verify_locations(3ssl)"],
            proof: "HintFixTests.openssl (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG) before entry)"),
        Hint(
            id: "exec-loader",
            title: "the dynamic loader of a program exec'd in capability mode opens its libraries",
            caller: "the dynamic loader of the exec'd program",
            matches: [Pattern(frames: execLoaderFrames)],
            inferred: [.path("/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/ld.so.nohwcap")],
            explanation: """
                After an exec in capability mode (or with --enter-at exec) ld.so reads /etc/ld.so.preload and \
                /etc/ld.so.cache and opens every DT_NEEDED library by path before the new program runs. The \
                cause is the exec, not a dlopen() in the program.
                """,
            fix: """
                Start the helper program before entering capability mode (fork and exec it, keep a pipe or \
                socket to it), or fexecve() a statically linked program opened before entry — capability mode \
                allows fexecve but not execve, and a static program needs no loader. With --enter-at exec, enter \
                at main instead.
                """,
            references: ["ld.so(8)", "fexecve(3)", "execveat(2)"],
            proof: "HintFixTests.execLoader (fexecve of a static program opened before entry)"),
        Hint(
            id: "dlopen-after-entry",
            title: "a shared library is loaded after entry (dlopen)",
            caller: "dynamic loader (dlopen)",
            matches: [.frame("libc.so*!dlopen*", "libc.so*!___dlopen", "libc.so*!dlopen_doit", "libc.so*!__libc_dlopen*",
                             "libc.so*!_dl_open", "libc.so*!dlmopen*", "libdl.so*!dlopen*", "ld-linux*!_dl_open",
                             "ld-linux*!dl_open_worker*")],
            inferred: [Pattern(paths: ["**/*.so", "**/*.so.[0-9]*"], syscalls: openCalls)],
            explanation: """
                A library is being loaded after entry: dlopen() searches the library path, reads \
                /etc/ld.so.cache and opens the .so by name. Plugins, optional codecs and lazily loaded helpers \
                do this on first use.
                """,
            fix: """
                dlopen() the library before entering capability mode (RTLD_NOW, and keep the handle): a later \
                dlopen() of the same name finds it loaded and opens nothing. FreeBSD's fdlopen(3) loads from a \
                held descriptor.
                """,
            references: ["dlopen(3)", "ld.so(8)", "fdlopen(3)"],
            proof: "HintFixTests.dlopen (dlopen() before entry, handle kept)"),
        Hint(
            id: "syslog",
            title: "syslog connects to /dev/log on the first message",
            caller: "libc syslog",
            matches: [.frame("libc.so*!openlog*", "libc.so*!__openlog*", "libc.so*!syslog", "libc.so*!vsyslog",
                             "libc.so*!__syslog*", "libc.so*!__vsyslog*")],
            inferred: [.path("/dev/log", "/run/systemd/journal/dev-log", "/run/systemd/journal/socket")],
            explanation: """
                syslog() opens and connects its socket to /dev/log lazily, on the first message (and reconnects \
                after errors); with LOG_CONS it may also open /dev/console.
                """,
            fix: """
                Call openlog() with LOG_NDELAY before entering capability mode so the socket is connected up \
                front (FreeBSD programs do the same before cap_enter), and avoid LOG_CONS.
                """,
            references: ["openlog(3)", "syslog(3)"],
            proof: "HintFixTests.syslog (openlog(LOG_NDELAY) before entry, against a private /dev/log listener)"),
        Hint(
            id: "cpu-count",
            title: "the CPU count is read from /sys or /proc",
            caller: "CPU-count query (get_nprocs/sysconf)",
            matches: [.frame("libc.so*!get_nprocs*", "libc.so*!__get_nprocs*", "libc.so*!get_nprocs_conf",
                             "libc.so*!__get_nprocs_conf")],
            inferred: [.path("/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible",
                             "/sys/devices/system/cpu/present", "/sys/devices/system/cpu", "/proc/cpuinfo", "/proc/stat",
                             "/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/**/cpu.max")],
            explanation: """
                sysconf(_SC_NPROCESSORS_ONLN/CONF), get_nprocs() and thread-pool runtimes read \
                /sys/devices/system/cpu/online (falling back to /proc/stat or /proc/cpuinfo) when asked for the \
                number of CPUs, often lazily when the first worker pool is created.
                """,
            fix: """
                Ask for the CPU count before entry and keep it, or use sched_getaffinity(2) (CPU_COUNT), which \
                needs no path.
                """,
            references: ["get_nprocs(3)", "sysconf(3)", "sched_getaffinity(2)"],
            proof: "HintFixTests.cpuCount (sched_getaffinity() instead)"),
        Hint(
            id: "argument-files",
            title: "a file named on the command line is opened after entry",
            caller: nil,
            matches: [Pattern(argument: true)],
            explanation: """
                The program opens a path given as an argument (or the directory holding it) only after entering \
                capability mode — gzip, cat and most filters do, because which files they will use is known from \
                argv but they open them one by one in their main loop.
                """,
            fix: """
                Open the named files (or their directories) before entering capability mode and work on the \
                descriptors: FreeBSD's fileargs_init(3) does this through Casper. Where the program cannot be \
                changed, enforce with a baseline allowlist of exactly those paths (suggest --format allowlist).
                """,
            references: ["fileargs_init(3)", "openat(2)"],
            proof: "HintFixTests.argumentFiles (files opened before entry); gzip -c FILE"),
        Hint(
            id: "random-devices",
            title: "randomness read from /dev/urandom or /dev/random",
            caller: nil,
            matches: [.path("/dev/urandom", "/dev/random")],
            explanation: """
                The program (or a library seeding itself) opens /dev/urandom or /dev/random after entry. The \
                device is a global name; the kernel's getrandom(2) gives the same bytes without a path.
                """,
            fix: """
                Use getrandom(2) (or getentropy(3), arc4random(3) in glibc 2.36+); or open the device before entry \
                and keep the descriptor.
                """,
            references: ["getrandom(2)", "getentropy(3)", "random(4)"],
            proof: "HintFixTests.randomDevices (getrandom() instead)"),
        Hint(
            id: "proc-self",
            title: "the program reads its own /proc entries",
            caller: nil,
            matches: [.path("/proc/self", "/proc/self/**", "/proc/thread-self", "/proc/thread-self/**", "/proc/{pid}",
                            "/proc/{pid}/**")],
            explanation: """
                /proc/self/... (maps, status, exe, fd, cgroup, ...) is reached by path. Libraries read it lazily: \
                pthread_getattr_np() reads /proc/self/maps, readlink("/proc/self/exe") finds the program, \
                closefrom() and runtimes list /proc/self/fd.
                """,
            fix: """
                Read what you need from /proc before entry, or open /proc/self (O_DIRECTORY) before entry and use \
                openat() relative to that descriptor afterwards.
                """,
            references: ["proc(5)", "pthread_getattr_np(3)"],
            proof: "HintFixTests.procSelf (openat() below /proc/self opened before entry)"),
    ]
}
