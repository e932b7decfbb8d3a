import Diagnosis
import Testing
import TraceModel

/// Positive and negative cases for every knowledge-base entry. Synthetic violations: each states the path or
/// address, the syscall and the frames (module basename, symbol) a real trace would carry. A violation given no
/// frames has no stack (as with --stack-depth 0): only then is a hint inferred from its path.
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

/// A stack in which only the program's own code runs (through libc's open wrapper): no library's frames.
private let ownStack: [(String, String?)] = [(libc, "__open64"), (prog, "read_config"), (prog, "main")]

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
            #expect(!h.proof.isEmpty, "\(h.id) names no test proving its fix")
            for p in h.matches {
                #expect(!(p.paths.isEmpty && p.addresses.isEmpty && p.frames.isEmpty && !p.argument),
                        "\(h.id): a pattern with no criterion")
                // An entry that names a library is recognised by that library's frames, never by a path alone.
                if h.caller != nil { #expect(!p.frames.isEmpty, "\(h.id): a stack pattern without frames") }
            }
            for p in h.inferred {
                #expect(p.frames.isEmpty && !p.paths.isEmpty, "\(h.id): inferred patterns are path patterns")
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

    @Test func execLoader() {
        // The loader of a program exec'd in capability mode, as the stacks of `sh -c 'cat ...'` show it.
        let start: [(String, String?)] = [(ld, "_dl_map_object"), (ld, "_dl_map_object_deps"), (ld, "dl_main"),
                                           (ld, "_dl_sysdep_start"), (ld, "_dl_start"), (ld, nil)]
        #expect(id(v(path: "/etc/ld.so.cache", frames: [(ld, "_dl_load_cache_lookup")] + start)) == "exec-loader")
        #expect(id(v("access", path: "/etc/ld.so.preload", frames: [(ld, "access"), (ld, "dl_main"), (ld, "_dl_start")])) == "exec-loader")
        #expect(id(v(path: "/lib/x86_64-linux-gnu/libc.so.6", frames: [(ld, "open_verify.constprop.0")] + start)) == "exec-loader")
        // Without a stack: inferred from the loader's own files.
        #expect(Hints.diagnose(v(path: "/etc/ld.so.cache")) == HintMatch(hint: Hints.entry(id: "exec-loader")!, inferred: true))
        #expect(id(v(path: "/etc/ld.so.conf")) == nil)
        #expect(id(v(path: "/etc/ld.so.conf.d/x86_64-linux-gnu.conf")) == nil)
        // The program reading the cache itself is not the loader.
        #expect(id(v(path: "/etc/ld.so.cache", frames: ownStack)) == nil)
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
        // dlopen's own stack; and a .so the program reads itself is not a dlopen.
        #expect(id(v(path: "/usr/lib/x86_64-linux-gnu/libm.so.6",
                     frames: [(ld, "__GI___open_nocancel"), (ld, "_dl_map_object"), (ld, "dl_open_worker_begin"),
                              (libc, "___dlopen"), (prog, "main")])) == "dlopen-after-entry")
        #expect(id(v(path: "/opt/plugins/libfilter.so", frames: ownStack)) == nil)
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

    /// The path alone is never enough: with a stack that shows no library's frames, the well-known files of every
    /// entry are the program's own business (cat /etc/passwd is not NSS).
    @Test func pathAloneIsNotEvidence() {
        for p in ["/etc/passwd", "/etc/hosts", "/etc/resolv.conf", "/etc/localtime", "/usr/lib/locale/locale-archive",
                  "/usr/share/locale/de/LC_MESSAGES/libc.mo", "/lib/x86_64-linux-gnu/libgcc_s.so.1", "/etc/ssl/openssl.cnf",
                  "/sys/devices/system/cpu/online", "/usr/lib/x86_64-linux-gnu/libz.so.1"] {
            #expect(id(v(path: p, frames: ownStack)) == nil, "\(p)")
            #expect(Hints.diagnose(v(path: p))?.inferred == true, "\(p): without a stack the hint is inferred")
        }
        #expect(id(v("connect", address: "unix:/dev/log", frames: ownStack)) == nil)
        // The global name itself is the pattern for these: any code reaching it.
        #expect(Hints.diagnose(v(path: "/dev/urandom", frames: ownStack)) == HintMatch(hint: Hints.entry(id: "random-devices")!, inferred: false))
        #expect(id(v(path: "/proc/self/status", frames: ownStack)) == "proc-self")
    }

    @Test func argumentFiles() {
        let ctx = HintContext(argv: ["gzip", "-c", "/srv/in/data.txt", "--suffix=.z", "rel/dir/file", "bare.txt"])
        #expect(ctx.operands == ["/srv/in/data.txt", ".z", "rel/dir/file", "bare.txt"])
        func arg(_ e: ViolationEvent) -> String? { Hints.match(e, context: ctx)?.id }
        // The argument's directory, then the file (gzip); absolute operands by path.
        #expect(arg(v(path: "/srv/in", frames: ownStack)) == "argument-files")
        #expect(arg(v(path: "/srv/in/data.txt", frames: ownStack)) == "argument-files")
        #expect(arg(v(path: "/srv/other.txt", frames: ownStack)) == nil)
        // Relative operands by the path as written: "rel/dir/file" and its directory; "." for a bare name.
        var rel = v(path: "/home/u/rel/dir", frames: ownStack)
        rel.args = [("dirfd", .string("AT_FDCWD")), ("pathname", .string("rel/dir"))]
        rel.rule = .cwdRelative
        #expect(arg(rel) == "argument-files")
        var dot = v(path: "/home/u", frames: ownStack)
        dot.args = [("dirfd", .string("AT_FDCWD")), ("pathname", .string("."))]
        dot.rule = .cwdRelative
        #expect(arg(dot) == "argument-files")
        // A well-known file whose name happens to be an operand's last component is not the operand.
        let getent = HintContext(argv: ["getent", "passwd", "root"])
        #expect(Hints.match(v(path: "/etc/passwd", frames: ownStack), context: getent) == nil)
        // Library evidence wins over the command line; an exec of an operand is not an open of it.
        #expect(arg(v(path: "/srv/in/data.txt", frames: libcStack("__open64", "__tzfile_read", "tzset"))) == "tzdata")
        var exec = v("execve", path: "/srv/in/data.txt", frames: ownStack)
        exec.rule = .exec
        #expect(arg(exec) == nil)
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
