import Diagnosis
import Testing
import TraceModel

/// Positive and negative cases for every knowledge-base entry. Synthetic violations: each states the path or
/// address, the syscall and the frames (module basename, symbol) a real trace would carry.
private let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
private let ld = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
private let prog = "/srv/demo/demo"

private func v(_ syscall: String = "openat", path: String? = nil, address: String? = nil,
              frames: [(String, String?)] = [], pid: Int32 = 4242) -> ViolationEvent {
    let stack = frames.enumerated().map { i, f in
        Frame(pc: 0x1000 + UInt64(i), module: f.0, offset: UInt64(0x100 * (i + 1)), symbol: f.1)
    }
    let ns: Namespace = address != nil ? .network : .filesystem
    var e = ViolationEvent(seq: 1, tNs: 1, pid: pid, tid: pid, abi: .x86_64, syscall: syscall, nr: 0, namespace: ns,
                           rule: address != nil ? .socketAddress : .absolutePath, args: [], action: .allowed,
                           site: "0", stack: stack)
    e.path = path
    e.address = address
    return e
}

/// A stack: libc frames by symbol, then the program's main.
private func libcStack(_ symbols: String...) -> [(String, String?)] {
    symbols.map { (libc, $0) } + [(prog, "main")]
}

struct HintTests {
    func id(_ e: ViolationEvent) -> String? { Hints.match(e)?.id }

    @Test func knowledgeBaseIsWellFormed() {
        let ids = Hints.all.map(\.id)
        #expect(Set(ids).count == ids.count, "duplicate ids")
        #expect(ids.count >= 13)
        for h in Hints.all {
            #expect(!h.title.isEmpty && !h.explanation.isEmpty && !h.fix.isEmpty && !h.references.isEmpty, "\(h.id)")
            #expect(!h.matches.isEmpty, "\(h.id) matches nothing")
            #expect(!h.explanation.contains("\n") && !h.fix.contains("\n"), "\(h.id): text is one paragraph")
            #expect(Hints.entry(id: h.id) == h)
            for p in h.matches {
                #expect(!(p.paths.isEmpty && p.addresses.isEmpty && p.frames.isEmpty), "\(h.id): a pattern with no criterion")
            }
        }
        #expect(Hints.entry(id: "no-such-hint") == nil)
    }

    @Test func glibcResolver() {
        for p in ["/etc/resolv.conf", "/etc/host.conf", "/etc/gai.conf", "/etc/hosts", "//etc/./hosts"] {
            #expect(id(v(path: p)) == "glibc-resolver", "\(p)")
        }
        // The nscd socket and nsswitch.conf belong to the resolver when getaddrinfo asked for them.
        #expect(id(v("connect", address: "unix:/var/run/nscd/socket",
                     frames: libcStack("__libc_connect", "open_socket", "__nscd_getai", "gaih_inet", "getaddrinfo"))) == "glibc-resolver")
        #expect(id(v("newfstatat", path: "/etc/nsswitch.conf",
                     frames: libcStack("__GI___fstatat64", "__nss_hosts_lookup2", "gaih_inet", "getaddrinfo"))) == "glibc-resolver")
        // A DNS query socket: no path, recognised by send_dg.
        #expect(id(v("connect", address: "127.0.0.53:53",
                     frames: libcStack("__libc_connect", "send_dg", "__res_context_send", "__res_context_query"))) == "glibc-resolver")
        // Negatives: the program's own DNS client, a look-alike file name, and a resolver-like symbol outside libc.
        #expect(id(v("connect", address: "10.0.0.1:53", frames: [(prog, "my_dns_query"), (prog, "main")])) == nil)
        #expect(id(v(path: "/etc/hosts.allow")) == nil)
        #expect(id(v(path: "/home/u/etc/resolv.conf")) == nil)
        #expect(id(v(path: "/tmp/x", frames: [(prog, "res_init_cache"), (prog, "main")])) == nil)
    }

    @Test func nss() {
        for p in ["/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/services",
                  "/usr/lib/x86_64-linux-gnu/libnss_systemd.so.2", "/lib/x86_64-linux-gnu/libnss_files.so.2"] {
            #expect(id(v(path: p)) == "nss", "\(p)")
        }
        // nscd asked by getpwnam is NSS, not the resolver.
        #expect(id(v("connect", address: "unix:/var/run/nscd/socket",
                     frames: libcStack("__libc_connect", "open_socket", "nscd_getpw_r", "__getpwnam_r", "getpwnam"))) == "nss")
        #expect(id(v("connect", address: "unix:/run/systemd/userdb/io.systemd.Multiplexer",
                     frames: [("libnss_systemd.so.2", nil), (libc, "getpwuid")])) == "nss")
        #expect(id(v(path: "/etc/passwd.bak")) == nil)
        #expect(id(v(path: "/srv/app/group")) == nil)
        #expect(id(v(path: "/usr/lib/libnssutil3.so")) != "nss")
    }

    @Test func tzdata() {
        for p in ["/etc/localtime", "/usr/share/zoneinfo/Europe/Berlin", "/usr/share/zoneinfo/posixrules"] {
            #expect(id(v(path: p)) == "tzdata", "\(p)")
        }
        // TZ naming an arbitrary file: recognised by the tz reader's frames.
        #expect(id(v(path: "/opt/tz/custom", frames: libcStack("__GI___open64_nocancel", "__tzfile_read", "tzset_internal"))) == "tzdata")
        #expect(id(v(path: "/etc/localtime.bak")) == nil)
        #expect(id(v(path: "/opt/tz/custom")) == nil)
    }

    @Test func messageCatalogs() {
        #expect(id(v(path: "/usr/share/locale/de/LC_MESSAGES/libc.mo")) == "message-catalogs")
        #expect(id(v(path: "/usr/share/locale/C.UTF-8/LC_MESSAGES/coreutils.mo")) == "message-catalogs")
        #expect(id(v(path: "/usr/share/locale/locale.alias",
                     frames: libcStack("_nl_expand_alias", "_nl_find_domain", "__dcigettext", "__strerror_l"))) == "message-catalogs")
        #expect(id(v(path: "/usr/share/locale/de/LC_MESSAGES/notes.txt")) == nil)
        #expect(id(v(path: "/srv/translations/de.mo")) == nil)
    }

    @Test func localeIconv() {
        for p in ["/usr/lib/locale/locale-archive", "/usr/lib/locale/C.utf8/LC_CTYPE",
                  "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", "/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"] {
            #expect(id(v(path: p)) == "locale-iconv", "\(p)")
        }
        // locale.alias read by setlocale (not by gettext) is the locale loader's.
        #expect(id(v(path: "/usr/share/locale/locale.alias",
                     frames: libcStack("_nl_expand_alias", "_nl_find_locale", "setlocale"))) == "locale-iconv")
        #expect(id(v(path: "/usr/lib/localedata")) == nil)
        #expect(id(v(path: "/srv/gconv.txt")) == nil)
    }

    @Test func libgccS() {
        #expect(id(v(path: "/lib/x86_64-linux-gnu/libgcc_s.so.1")) == "libgcc-s")
        // The loader cache read while backtrace() loads libgcc_s is libgcc_s's lazy load.
        #expect(id(v(path: "/etc/ld.so.cache", frames: [(ld, "_dl_load_cache_lookup"), (ld, "_dl_map_object"),
                                                        (libc, "__libc_dlopen_mode"), (libc, "__libc_unwind_link_get"),
                                                        (libc, "__backtrace"), (prog, "main")])) == "libgcc-s")
        #expect(id(v(path: "/lib/x86_64-linux-gnu/libgcc_s_custom.txt")) == nil)
        #expect(id(v(path: "/lib/x86_64-linux-gnu/libstdc++.so.6")) != "libgcc-s")
    }

    @Test func openssl() {
        for p in ["/usr/lib/ssl/openssl.cnf", "/etc/ssl/openssl.cnf", "/etc/ssl/certs/ca-certificates.crt",
                  "/usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so", "/usr/lib/x86_64-linux-gnu/engines-3/afalg.so"] {
            #expect(id(v(path: p)) == "openssl-config", "\(p)")
        }
        #expect(id(v(path: "/opt/app/conf/tls.conf", frames: [("libcrypto.so.3", "CONF_modules_load_file_ex"),
                                                               ("libcrypto.so.3", "OPENSSL_init_crypto"), (prog, "main")])) == "openssl-config")
        #expect(id(v(path: "/etc/sslh.cfg")) == nil)
        #expect(id(v(path: "/opt/app/conf/tls.conf", frames: [("libcrypto.so.3", "EVP_DigestInit"), (prog, "main")])) == nil)
    }

    @Test func ldsoCache() {
        #expect(id(v(path: "/etc/ld.so.cache")) == "ldso-cache")
        #expect(id(v(path: "/etc/ld.so.preload")) == "ldso-cache")
        #expect(id(v(path: "/etc/ld.so.conf")) == nil)
        #expect(id(v(path: "/etc/ld.so.conf.d/x86_64-linux-gnu.conf")) == nil)
    }

    @Test func dlopenAfterEntry() {
        #expect(id(v(path: "/usr/lib/x86_64-linux-gnu/libz.so.1")) == "dlopen-after-entry")
        #expect(id(v(path: "/opt/plugins/libfilter.so")) == "dlopen-after-entry")
        #expect(id(v(path: "/opt/plugins/libfilter.so.1.2.3")) == "dlopen-after-entry")
        // A library search that misses (stat of a candidate directory) is recognised by the loader's frames.
        #expect(id(v("newfstatat", path: "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3",
                     frames: [(ld, "_dl_map_object"), (libc, "dlopen_doit"), (libc, "___dlopen"), (prog, "main")])) != nil)
        // Not a library: "ld.so.conf"-like names, and a .so read by stat without the loader.
        #expect(id(v(path: "/etc/foo.so.conf")) == nil)
        #expect(id(v(path: "/opt/notes.solution")) == nil)
        #expect(id(v("newfstatat", path: "/opt/plugins/libfilter.so")) == nil)
    }

    @Test func randomDevices() {
        #expect(id(v(path: "/dev/urandom")) == "random-devices")
        #expect(id(v(path: "/dev/random")) == "random-devices")
        #expect(id(v(path: "/dev/urandom2")) == nil)
        #expect(id(v(path: "/dev/hwrng")) == nil)
    }

    @Test func syslog() {
        #expect(id(v("connect", address: "unix:/dev/log", frames: libcStack("__libc_connect", "openlog_internal", "__vsyslog_internal"))) == "syslog")
        #expect(id(v("connect", address: "unix:/dev/log")) == "syslog")
        #expect(id(v("sendto", address: "unix:/run/systemd/journal/socket")) == "syslog")
        #expect(id(v(path: "/dev/console", frames: libcStack("__libc_open64", "__vsyslog_internal", "__syslog"))) == "syslog")
        #expect(id(v(path: "/dev/console")) == nil)
        #expect(id(v("connect", address: "unix:/dev/logger")) == nil)
        #expect(id(v(path: "/var/log/syslog")) == nil)
    }

    @Test func cpuCount() {
        for p in ["/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible", "/proc/cpuinfo", "/proc/stat",
                  "/sys/fs/cgroup/cpu.max"] {
            #expect(id(v(path: p)) == "cpu-count", "\(p)")
        }
        #expect(id(v(path: "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")) == nil)
        #expect(id(v(path: "/proc/meminfo")) == nil)
    }

    @Test func procSelf() {
        #expect(id(v(path: "/proc/self/status")) == "proc-self")
        #expect(id(v("readlink", path: "/proc/self/exe")) == "proc-self")
        #expect(id(v(path: "/proc/thread-self/attr/current")) == "proc-self")
        #expect(id(v(path: "/proc/4242/maps", pid: 4242)) == "proc-self")
        // Another process's /proc entry is not "self".
        #expect(id(v(path: "/proc/1/maps", pid: 4242)) == nil)
        #expect(id(v(path: "/proc/42420/maps", pid: 4242)) == nil)
        #expect(id(v(path: "/proc/selfish")) == nil)
    }

    @Test func unrelatedPathsMatchNothing() {
        for p in ["/etc/foo.conf", "/var/lib/app/state.db", "/home/user/.config/app.ini", "/tmp/x", "/usr/share/doc/README",
                  "relative/file.txt", "/etc"] {
            #expect(id(v(path: p)) == nil, "\(p)")
        }
        #expect(id(v("connect", address: "127.0.0.1:8080")) == nil)
        #expect(id(v("kill")) == nil)
    }

    /// Hints are analysis: a `hint` an older captrace recorded is ignored, the knowledge base decides.
    @Test func resolveIgnoresTheRecordedHint() {
        var e = v(path: "/etc/foo.conf")
        e.hint = "tzdata"
        #expect(Hints.resolve(e) == nil)
        e.hint = "from-a-newer-captrace"
        #expect(Hints.resolve(e) == nil)
        e.path = "/etc/hosts"
        #expect(Hints.resolve(e)?.id == "glibc-resolver")
        e.hint = "tzdata"
        #expect(Hints.resolve(e)?.id == "glibc-resolver")
    }

    @Test func pathNormalisation() {
        #expect(PathText.normalize("//etc/./hosts") == "/etc/hosts")
        #expect(PathText.normalize("/etc/../etc/hosts") == "/etc/hosts")
        #expect(PathText.normalize("/../etc") == "/etc")
        #expect(PathText.normalize("a/../../b") == "../b")
        #expect(PathText.basename("/usr/lib/libc.so.6") == "libc.so.6")
    }
}
