#!/usr/bin/env python3
"""Writes the SYNTHETIC traces in this folder (hand-made, not recorded): synthetic-demo.jsonl and
synthetic-enforce-truncated.jsonl. Module offsets are the ones strace -k printed for a small demo program on
Debian 12 (glibc 2.36); symbol names and source lines are what libdw names with libc6-dbg, written by hand.
Site ids use TraceModel's Site.id (FNV-1a 64 over syscall, then each frame's module and offset).
Run: python3 make-synthetic.py (from this folder). The report goldens must then be regenerated."""
import json, struct

LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
LD = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
DEMO = "/srv/demo/demo"

def site(syscall, stack, detail=""):
    h = 0xcbf29ce484222325
    def byte(b):
        nonlocal h
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    def mix_s(s):
        for b in s.encode(): byte(b)
        byte(0)
    def mix_u(v):
        for b in struct.pack("<Q", v): byte(b)
    mix_s(syscall)
    if not stack: mix_s(detail)
    for f in stack:
        mix_s(f["module"]); mix_u(int(f["offset"], 16))
    return "%016x" % h

def F(module, offset, symbol=None, soff=None, file=None, line=None, base=None):
    base = base if base is not None else (0x7f3a1c000000 if module != DEMO else 0x55d0c4a00000)
    return {"pc": hex(base + offset), "module": module, "offset": hex(offset), "symbol": symbol,
            "symbol_offset": soff, "file": file, "line": line}

def main_tail(fn, fn_off, fn_line, main_off, main_line):
    return [F(DEMO, fn_off, fn, 0x1e, "demo.c", fn_line), F(DEMO, main_off, "main", 0x1b3, "demo.c", main_line),
            F(LIBC, 0x2724a, "__libc_start_call_main", 122, "../sysdeps/nptl/libc_start_call_main.h", 58),
            F(LIBC, 0x27305, "__libc_start_main_impl", 133, "../csu/libc-start.c", 360),
            F(DEMO, 0x11f1, "_start", 33, None, None)]

OPEN = F(LIBC, 0xfd001, "__GI___open64_nocancel", 65, "../sysdeps/unix/sysv/linux/open64_nocancel.c", 41)
FOPEN = [F(LIBC, 0x81a65, "__GI__IO_file_open", 197, "./libio/fileops.c", 188),
         F(LIBC, 0x81b7b, "_IO_new_file_fopen", 251, "./libio/fileops.c", 281),
         F(LIBC, 0x76259, "__fopen_internal", 121, "./libio/iofopen.c", 75)]
CONNECT = F(LIBC, 0x10a7c0, "__libc_connect", 16, "../sysdeps/unix/sysv/linux/connect.c", 26)
GAI = [F(LIBC, 0xf1176, "getaddrinfo", 5382, "../sysdeps/posix/getaddrinfo.c", 2394)]
LOOKUP = main_tail("lookup_peer", 0x1300, 24, 0x16d5, 48)

def openat(path, flags="O_RDONLY|O_CLOEXEC", mode=0):
    return [("dirfd", "AT_FDCWD"), ("pathname", path), ("flags", flags), ("mode", mode)]

def connect(fd, sun):
    return [("sockfd", fd), ("addr", '{sa_family=AF_UNIX, sun_path="%s"}' % sun), ("addrlen", 110)]

t = [1_000_000]
def tick(us):
    t[0] += us * 1000
    return t[0]

def demo():
    ev = []
    ev.append({"type": "header", "format": "captrace", "version": 1, "argv": ["./demo", "all"], "trigger": "main",
               "mode": "observe", "backend": "ptrace", "arch": "x86_64", "started": "2026-11-29T04:20:00Z",
               "stack_depth": 64, "unwinder": "libdw"})
    ev.append({"type": "process", "event": "spawn", "pid": 4242, "tid": 4242, "ppid": 4241, "capability_mode": False,
               "t_ns": t[0], "path": DEMO})
    ev.append({"type": "enter", "pid": 4242, "tid": 4242, "trigger": "main", "t_ns": tick(1180),
               "stack": [F(DEMO, 0x1522, "main", 0, "demo.c", 44)] + main_tail("x", 0, 0, 0, 0)[2:],
               "fds": [{"fd": 0, "kind": "tty", "path": "/dev/pts/0", "flags": "O_RDWR"},
                       {"fd": 1, "kind": "tty", "path": "/dev/pts/0", "flags": "O_RDWR"},
                       {"fd": 2, "kind": "tty", "path": "/dev/pts/0", "flags": "O_RDWR"},
                       {"fd": 3, "kind": "file", "path": "/var/log/demo.log", "flags": "O_WRONLY|O_APPEND|O_CLOEXEC"},
                       {"fd": 4, "kind": "directory", "path": "/srv/demo/data", "flags": "O_RDONLY|O_DIRECTORY"},
                       {"fd": 5, "kind": "socket", "path": "socket:[48213]", "flags": "O_RDWR"}]})
    seq = [0]
    def V(pid, syscall, nr, ns, rule, args, stack, path=None, address=None, result=None, errno=None, hint=None,
          action="allowed", us=40):
        seq[0] += 1
        e = {"type": "violation", "seq": seq[0], "t_ns": tick(us), "pid": pid, "tid": pid, "abi": "x86_64",
             "syscall": syscall, "nr": nr, "namespace": ns, "rule": rule, "args": dict(args)}
        if path is not None: e["path"] = path
        if address is not None: e["address"] = address
        e["action"] = action
        if result is not None: e["result"] = result
        if errno is not None: e["errno"] = errno
        e["site"] = site(syscall, stack, path or address or "")
        e["hint"] = hint
        e["stack"] = stack
        ev.append(e)

    resconf = [F(LIBC, 0x12a757, "__resolv_conf_load", 103, "./resolv/resolv_conf.c", 462),
               F(LIBC, 0x12b1f1, "__resolv_conf_get_current", 113, "./resolv/resolv_conf.c", 165),
               F(LIBC, 0x130ca3, "__resolv_context_get", 131, "./resolv/resolv_context.c", 191),
               F(LIBC, 0xf0a2e, "gaih_inet", 1198, "../sysdeps/posix/getaddrinfo.c", 1089)] + GAI
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/host.conf"),
      [OPEN] + FOPEN + [F(LIBC, 0x12c015, "_res_hconf_init", 149, "./resolv/res_hconf.c", 311)] + resconf[:3] + resconf[3:] + LOOKUP,
      path="/etc/host.conf", result=3, hint="glibc-resolver", us=610)
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/resolv.conf"),
      [OPEN] + FOPEN + resconf + LOOKUP, path="/etc/resolv.conf", result=3, hint="glibc-resolver")
    nscd = [CONNECT, F(LIBC, 0x14bca4, "open_socket", 308, "./nscd/nscd_helper.c", 185),
            F(LIBC, 0x14c130, "__nscd_get_mapping", 96, "./nscd/nscd_helper.c", 290),
            F(LIBC, 0x14c59f, "__nscd_get_map_ref", 223, "./nscd/nscd_helper.c", 450)]
    st = nscd + [F(LIBC, 0x1497b2, "__nscd_getai", 82, "./nscd/nscd_getai.c", 49),
                 F(LIBC, 0xf1c10, "gaih_inet", 3936, "../sysdeps/posix/getaddrinfo.c", 635)] + GAI + LOOKUP
    for _ in range(2):
        V(4242, "connect", 42, "network", "socket-address", connect(6, "/var/run/nscd/socket"), st,
          address="unix:/var/run/nscd/socket", errno="ENOENT", hint="glibc-resolver")
    nss = [F(LIBC, 0x134cb7, "nss_database_check_reload_and_get", 87, "./nss/nss_database.c", 411),
           F(LIBC, 0x1330c7, "__nss_hosts_lookup2", 39, "./nss/XXX-lookup.c", 52),
           F(LIBC, 0xf1e3b, "gaih_inet", 4651, "../sysdeps/posix/getaddrinfo.c", 785)] + GAI + LOOKUP
    V(4242, "newfstatat", 262, "filesystem", "absolute-path",
      [("dirfd", "AT_FDCWD"), ("pathname", "/etc/nsswitch.conf"), ("statbuf", "0x7ffd3b1c2a40"), ("flag", 0)],
      [F(LIBC, 0xf786a, "__GI___fstatat64", 10, "../sysdeps/unix/sysv/linux/fstatat64.c", 166),
       F(LIBC, 0xfca79, "__file_change_detection_for_path", 41, "./io/file_change_detection.c", 79)] + nss,
      path="/etc/nsswitch.conf", result=0, hint="glibc-resolver")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/nsswitch.conf"),
      [OPEN] + FOPEN + [F(LIBC, 0x134e01, "nss_database_reload", 61, "./nss/nss_database.c", 330)] + nss,
      path="/etc/nsswitch.conf", result=7, hint="glibc-resolver")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/hosts"),
      [OPEN] + FOPEN + [F(LIBC, 0x1337ad, "__nss_files_fopen", 13, "./nss/nss_files_fopen.c", 27),
                        F(LIBC, 0x137696, "_nss_files_gethostbyname3_r", 70, "./nss/nss_files/files-hosts.c", 343),
                        F(LIBC, 0x137801, "_nss_files_gethostbyname2_r", 17, "./nss/nss_files/files-hosts.c", 371),
                        F(LIBC, 0xf1f52, "gaih_inet", 4930, "../sysdeps/posix/getaddrinfo.c", 836)] + GAI + LOOKUP,
      path="/etc/hosts", result=7, hint="glibc-resolver")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/localtime"),
      [OPEN] + FOPEN + [F(LIBC, 0xc55c3, "__tzfile_read", 403, "./time/tzfile.c", 157),
                        F(LIBC, 0xc5184, "tzset_internal", 180, "./time/tzset.c", 405),
                        F(LIBC, 0xc536f, "__tz_convert", 95, "./time/tzset.c", 577)]
      + main_tail("stamp", 0x1337, 29, 0x16da, 49), path="/etc/localtime", result=7, hint="tzdata", us=900)
    V(4242, "connect", 42, "network", "socket-address", connect(7, "/var/run/nscd/socket"),
      nscd + [F(LIBC, 0x148b78, "nscd_getpw_r", 120, "./nscd/nscd_getpw_r.c", 97),
              F(LIBC, 0x148f3e, "__nscd_getpwnam_r", 30, "./nscd/nscd_getpw_r.c", 62),
              F(LIBC, 0xd3381, "__getpwnam_r", 401, "../nss/getXXbyYY_r.c", 262),
              F(LIBC, 0xd2da0, "getpwnam", 160, "../nss/getXXbyYY.c", 135)] + main_tail("who", 0x136f, 31, 0x16df, 50),
      address="unix:/var/run/nscd/socket", errno="ENOENT", hint="nss")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/passwd"),
      [OPEN] + FOPEN + [F(LIBC, 0x1337ad, "__nss_files_fopen", 13, "./nss/nss_files_fopen.c", 27),
                        F(LIBC, 0x13876b, "_nss_files_getpwnam_r", 43, "./nss/nss_files/files-XXX.c", 73),
                        F(LIBC, 0xd3313, "__getpwnam_r", 291, "../nss/getXXbyYY_r.c", 273),
                        F(LIBC, 0xd2da0, "getpwnam", 160, "../nss/getXXbyYY.c", 135)]
      + main_tail("who", 0x136f, 31, 0x16df, 50), path="/etc/passwd", result=7, hint="nss")
    V(4242, "connect", 42, "network", "socket-address", connect(7, "/dev/log"),
      [CONNECT, F(LIBC, 0x100cd1, "openlog_internal", 161, "../misc/syslog.c", 351),
       F(LIBC, 0x1013a6, "__vsyslog_internal", 470, "../misc/syslog.c", 204),
       F(LIBC, 0x101586, "__syslog", 150, "../misc/syslog.c", 91)] + main_tail("log_start", 0x13b9, 32, 0x16e4, 51),
      address="unix:/dev/log", errno="ENOENT", hint="syslog")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/dev/urandom", "O_RDONLY"),
      [F(LIBC, 0xf7c25, "__libc_open64", 101, "../sysdeps/unix/sysv/linux/open64.c", 41)]
      + main_tail("seed", 0x13d6, 33, 0x16e9, 52), path="/dev/urandom", result=7, hint="random-devices")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/sys/devices/system/cpu/online"),
      [OPEN, F(LIBC, 0x1040f0, "read_sysfs_file", 48, "../sysdeps/unix/sysv/linux/getsysstats.c", 136),
       F(LIBC, 0x104350, "__get_nprocs", 16, "../sysdeps/unix/sysv/linux/getsysstats.c", 160),
       F(LIBC, 0xd67a3, "__sysconf", 1283, "../sysdeps/unix/sysv/linux/sysconf.c", 76)]
      + main_tail("cpus", 0x13f8, 34, 0x16ee, 53), path="/sys/devices/system/cpu/online", result=7, hint="cpu-count")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/proc/self/status", "O_RDONLY"),
      [F(LIBC, 0xf7c25, "__libc_open64", 101, "../sysdeps/unix/sysv/linux/open64.c", 41)] + FOPEN[:2]
      + [F(LIBC, 0x76259, "__fopen_internal", 121, "./libio/iofopen.c", 75)]
      + main_tail("status", 0x141a, 35, 0x16f3, 54), path="/proc/self/status", result=7, hint="proc-self")
    dl = [F(LD, 0x20b1d, "__GI___open64_nocancel", 45, "../sysdeps/unix/sysv/linux/open64_nocancel.c", 41),
          F(LD, 0xa936, "_dl_load_cache_lookup", 134, "../sysdeps/generic/dl-cache.c", 412),
          F(LD, 0xba55, "_dl_map_object", 1461, "./elf/dl-load.c", 2166),
          F(LIBC, 0x14f2ba, "__GI__dl_catch_exception", 122, "./elf/dl-error-skeleton.c", 208),
          F(LD, 0xb216, "dl_open_worker", 54, "./elf/dl-open.c", 782)]
    bt = [F(LIBC, 0x14f68d, "__libc_dlopen_mode", 77, "./elf/dl-libc.c", 163),
          F(LIBC, 0x14fa10, "__libc_unwind_link_get", 80, "../misc/unwind-link.c", 50),
          F(LIBC, 0x13c0f2, "__backtrace", 66, "../debug/backtrace.c", 69)] + main_tail("trace_back", 0x1441, 36, 0x16f8, 55)
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/ld.so.cache"), dl + bt,
      path="/etc/ld.so.cache", result=7, hint="libgcc-s")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
      [dl[0], F(LD, 0x4e4c, "open_verify", 236, "./elf/dl-load.c", 1637)] + dl[2:] + bt,
      path="/lib/x86_64-linux-gnu/libgcc_s.so.1", result=7, hint="libgcc-s")
    plug = [F(LIBC, 0x854b8, "dlopen_doit", 88, "./dlfcn/dlopen.c", 66),
            F(LIBC, 0x85531, "___dlopen", 81, "./dlfcn/dlopen.c", 81)] + main_tail("plugin", 0x1465, 37, 0x16fd, 56)
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/etc/ld.so.cache"), dl + plug,
      path="/etc/ld.so.cache", result=7, hint="ldso-cache")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/lib/x86_64-linux-gnu/libz.so.1"),
      [dl[0], F(LD, 0x4e4c, "open_verify", 236, "./elf/dl-load.c", 1637)] + dl[2:] + plug,
      path="/lib/x86_64-linux-gnu/libz.so.1", result=7, hint="dlopen-after-entry")
    conv = [F(LIBC, 0x2796e, "__gconv_open", 110, "./iconv/gconv_open.c", 64),
            F(LIBC, 0x276c4, "iconv_open", 68, "./iconv/iconv_open.c", 52)] + main_tail("conv", 0x148e, 38, 0x1702, 57)
    V(4242, "openat", 257, "filesystem", "absolute-path",
      openat("/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", "O_RDONLY"),
      [OPEN, F(LIBC, 0x31249, "__gconv_load_cache", 89, "./iconv/gconv_cache.c", 57),
       F(LIBC, 0x29b85, "__gconv_read_conf", 69, "./iconv/gconv_conf.c", 553),
       F(LIBC, 0x28c72, "__gconv_find_transform", 82, "./iconv/gconv_db.c", 724)] + conv,
      path="/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", result=7, hint="locale-iconv")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"),
      [dl[0], F(LD, 0x4e4c, "open_verify", 236, "./elf/dl-load.c", 1637), dl[2], dl[3], dl[4],
       F(LIBC, 0x14f68d, "__libc_dlopen_mode", 77, "./elf/dl-libc.c", 163),
       F(LIBC, 0x30a1b, "__gconv_find_shlib", 123, "./iconv/gconv_dl.c", 98),
       F(LIBC, 0x28c72, "__gconv_find_transform", 82, "./iconv/gconv_db.c", 724)] + conv,
      path="/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", result=7, hint="locale-iconv")
    V(4242, "openat", 257, "filesystem", "absolute-path", openat("/usr/lib/locale/locale-archive"),
      [OPEN, F(LIBC, 0x33c0f, "_nl_load_locale_from_archive", 111, "./locale/loadarchive.c", 209),
       F(LIBC, 0x32957, "_nl_find_locale", 583, "./locale/findlocale.c", 153),
       F(LIBC, 0x3238c, "setlocale", 284, "./locale/setlocale.c", 340)] + main_tail("msg", 0x14b6, 39, 0x1707, 58),
      path="/usr/lib/locale/locale-archive", errno="ENOENT", hint="locale-iconv", us=1500)
    mo = [OPEN, F(LIBC, 0x37146, "_nl_load_domain", 118, "./intl/loadmsgcat.c", 787),
          F(LIBC, 0x37088, "_nl_find_domain", 312, "./intl/finddomain.c", 98),
          F(LIBC, 0x3688d, "__dcigettext", 1501, "./intl/dcigettext.c", 654),
          F(LIBC, 0x9ea2b, "__strerror_l", 75, "./string/strerror_l.c", 50)] + main_tail("msg", 0x14c0, 40, 0x1707, 58)
    for loc in ["C.UTF-8", "C.utf8", "C"]:
        p = "/usr/share/locale/%s/LC_MESSAGES/libc.mo" % loc
        V(4242, "openat", 257, "filesystem", "absolute-path", openat(p, "O_RDONLY"), mo, path=p, errno="ENOENT",
          hint="message-catalogs", us=12)
    V(4242, "connect", 42, "network", "socket-address",
      [("sockfd", 7), ("addr", '{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}'), ("addrlen", 16)],
      [CONNECT] + main_tail("peer", 0x1512, 43, 0x170c, 59), address="127.0.0.1:9", errno="ECONNREFUSED")
    ev.append({"type": "process", "event": "fork", "pid": 4243, "tid": 4243, "ppid": 4242, "capability_mode": True,
               "t_ns": tick(300)})
    ev.append({"type": "enter", "pid": 4243, "tid": 4243, "trigger": "main", "t_ns": t[0], "inherited_from": 4242,
               "stack": [], "fds": []})
    child = main_tail("worker", 0x1590, 71, 0x1720, 61)
    V(4243, "openat", 257, "filesystem", "cwd-relative", openat('out/report <1>&"q".txt', "O_WRONLY|O_CREAT|O_TRUNC", 0o644),
      [F(LIBC, 0xf7c25, "__libc_open64", 101, "../sysdeps/unix/sysv/linux/open64.c", 41)] + child,
      path='/srv/demo/out/report <1>&"q".txt', result=3, us=220)
    V(4243, "kill", 62, "process", "other-process", [("pid", 4242), ("sig", "SIGUSR1")],
      [F(LIBC, 0x3c1b7, "kill", 7, "../sysdeps/unix/syscall-template.S", 120)] + child[:1]
      + [F(DEMO, 0x15b2, "worker", 0x40, "demo.c", 74)][:0] + child[1:], result=0, us=80)
    ev.append({"type": "process", "event": "exit", "pid": 4243, "tid": 4243, "ppid": 4242, "capability_mode": True,
               "t_ns": tick(150), "exit_status": 0})
    ev.append({"type": "process", "event": "exit", "pid": 4242, "tid": 4242, "ppid": 4241, "capability_mode": True,
               "t_ns": tick(400), "exit_status": 0})
    nsites = len({e["site"] for e in ev if e["type"] == "violation"})
    ev.append({"type": "summary", "violations": seq[0], "sites": nsites, "processes": 2, "exit_status": 0,
               "duration_ms": 9})
    return ev

def enforce_truncated():
    t[0] = 5_000_000
    ev = [{"type": "header", "format": "captrace", "version": 1, "argv": ["/usr/bin/fetcher", "--once"],
           "trigger": "symbol:fetch_loop", "mode": "enforce", "backend": "notify", "arch": "x86_64",
           "started": "2026-11-29T05:00:00Z", "deny_errno": "EPERM", "stack_depth": 0}]
    ev.append({"type": "process", "event": "spawn", "pid": 900, "tid": 900, "ppid": 899, "capability_mode": False,
               "t_ns": t[0], "path": "/usr/bin/fetcher"})
    ev.append({"type": "enter", "pid": 900, "tid": 900, "trigger": "symbol:fetch_loop", "t_ns": tick(2500), "stack": [],
               "fds": [{"fd": 0, "kind": "pipe", "path": "pipe:[1]", "flags": "O_RDONLY"},
                       {"fd": 3, "kind": "socket", "path": "socket:[7]", "flags": "O_RDWR|O_NONBLOCK"}]})
    for i, (sc, nr, ns, rule, args, path, addr) in enumerate([
            ("openat", 257, "filesystem", "absolute-path", openat("/etc/resolv.conf"), "/etc/resolv.conf", None),
            ("openat", 257, "filesystem", "absolute-path", openat("/etc/resolv.conf"), "/etc/resolv.conf", None),
            ("connect", 42, "network", "socket-address",
             [("sockfd", 4), ("addr", '{sa_family=AF_INET6, sin6_port=htons(443), sin6_addr="::1"}'), ("addrlen", 28)],
             None, "[::1]:443"),
            ("mkdir", 83, "filesystem", "absolute-path", [("pathname", "/var/cache/fetcher"), ("mode", 0o755)],
             "/var/cache/fetcher", None)]):
        e = {"type": "violation", "seq": i + 1, "t_ns": tick(150), "pid": 900, "tid": 900 + (i % 2), "abi": "x86_64",
             "syscall": sc, "nr": nr, "namespace": ns, "rule": rule, "args": dict(args)}
        if path: e["path"] = path
        if addr: e["address"] = addr
        e.update({"action": "denied", "errno": "EPERM", "site": site(sc, [], path or addr), "hint": None, "stack": []})
        ev.append(e)
    return ev

def write(name, events, cut=None):
    text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    if cut is not None:
        text += cut
    open(name, "w").write(text)

write("synthetic-demo.jsonl", demo())
# The run was killed while writing: the last line is incomplete, and there is no summary.
write("synthetic-enforce-truncated.jsonl", enforce_truncated(),
      cut='{"type":"violation","seq":5,"t_ns":5700000,"pid":900,"tid":900,"abi":"x86_64","syscall":"ope')
