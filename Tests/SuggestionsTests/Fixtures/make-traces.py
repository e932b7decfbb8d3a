#!/usr/bin/env python3
"""Writes the synthetic traces the Suggestions tests read (demo.jsonl, tcpdump-like.jsonl).

They follow the trace format of the contract (JSON Lines, version 1), with stacks shaped like libdw's on
Debian 12 with libc6-dbg, and site ids computed as TraceModel's Site.id does (FNV-1a 64 over the syscall and
each frame's module and file offset). Regenerate: python3 make-traces.py (from this directory).
"""
import json

LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
LD = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"


def site(syscall, stack):
    h = 0xcbf29ce484222325
    def byte(b):
        nonlocal h
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    def mix_s(s):
        for b in s.encode():
            byte(b)
        byte(0)
    def mix_u(v):
        for _ in range(8):
            byte(v & 0xFF)
            v >>= 8
    mix_s(syscall)
    for f in stack:
        mix_s(f["module"]); mix_u(int(f["offset"], 16))
    return "%016x" % h


def frame(module, offset, symbol=None, symoff=None, file=None, line=None, base=0x7f3a1c000000):
    return {"pc": hex(base + offset), "module": module, "offset": hex(offset), "symbol": symbol,
            "symbol_offset": symoff, "file": file, "line": line}


def prog(exe, offset, symbol, symoff, file, line):
    return frame(exe, offset, symbol, symoff, file, line, base=0x555555554000)


def start(exe):
    return [frame(LIBC, 0x271ca, "__libc_start_call_main", 122, "libc_start_call_main.h", 58),
            frame(LIBC, 0x27285, "__libc_start_main_impl", 133, "libc-start.c", 360),
            prog(exe, 0x1151, "_start", 33, None, None)]


class Trace:
    def __init__(self, header):
        self.lines = [dict(type="header", format="captrace", version=1, **header)]
        self.seq = 0
        self.t = 1_000_000

    def add(self, **kw):
        self.t += 137_000
        self.lines.append(kw)

    def violation(self, pid, syscall, nr, ns, rule, args, stack, path=None, address=None, result=None,
                  errno=None, hint=None, action="allowed", abi="x86_64"):
        self.seq += 1
        self.t += 211_000
        v = dict(type="violation", seq=self.seq, t_ns=self.t, pid=pid, tid=pid, abi=abi, syscall=syscall, nr=nr,
                 namespace=ns, rule=rule, args=args)
        if path is not None: v["path"] = path
        if address is not None: v["address"] = address
        v["action"] = action
        if result is not None: v["result"] = result
        if errno is not None: v["errno"] = errno
        v["site"] = site(syscall, stack)
        v["hint"] = hint
        v["stack"] = stack
        self.lines.append(v)

    def write(self, name):
        with open(name, "w") as f:
            for l in self.lines:
                f.write(json.dumps(l, separators=(",", ":")) + "\n")


def demo():
    exe = "/work/demo/demo"
    t = Trace(dict(argv=["./demo", "--report", "127.0.0.1"], trigger="main", mode="observe", backend="ptrace",
                   arch="x86_64", started="2026-11-29T04:20:00Z", deny_errno="EPERM", stack_depth=64,
                   unwinder="libdw", rights=True))
    t.add(type="process", event="spawn", pid=4242, tid=4242, ppid=4200, capability_mode=False, t_ns=t.t, path=exe)
    main = prog(exe, 0x1a40, "main", 0, "demo.c", 88)
    t.add(type="enter", pid=4242, tid=4242, trigger="main", t_ns=t.t, stack=[main] + start(exe), fds=[
        dict(fd=0, kind="tty", path="/dev/pts/0", flags="O_RDWR"),
        dict(fd=1, kind="tty", path="/dev/pts/0", flags="O_RDWR"),
        dict(fd=2, kind="tty", path="/dev/pts/0", flags="O_RDWR"),
        dict(fd=3, kind="file", path="/var/log/demo.log", flags="O_WRONLY|O_APPEND"),
        dict(fd=4, kind="directory", path="/srv/demo", flags="O_RDONLY|O_DIRECTORY")])
    at_main = lambda off, line: prog(exe, 0x1a40 + off, "main", off, "demo.c", line)
    # 1. localtime() -> tzset -> /etc/localtime
    tz = [frame(LIBC, 0x1036a0, "__open64_nocancel", 48, "open64_nocancel.c", 41),
          frame(LIBC, 0xbd2f1, "__tzfile_read", 161, "tzfile.c", 153),
          frame(LIBC, 0xbc8a4, "tzset_internal", 228, "tzset.c", 405),
          frame(LIBC, 0xbcb19, "__tz_convert", 41, "tzset.c", 572),
          prog(exe, 0x1392, "print_time", 34, "demo.c", 31), at_main(0x5e, 95)] + start(exe)
    t.violation(4242, "openat", 257, "filesystem", "absolute-path",
                {"dirfd": "AT_FDCWD", "pathname": "/etc/localtime", "flags": "O_RDONLY|O_CLOEXEC", "mode": "0"},
                tz, path="/etc/localtime", result=5, hint="tzdata")
    # 2. the program's own config read: fopen("/etc/demo.conf")
    conf = [frame(LIBC, 0xfd5e0, "__libc_open64", 112, "open64.c", 41),
            frame(LIBC, 0x7a2e6, "_IO_file_open", 38, "fileops.c", 188),
            frame(LIBC, 0x7a4b8, "_IO_new_file_fopen", 296, "fileops.c", 281),
            frame(LIBC, 0x6e5cd, "__fopen_internal", 109, "iofopen.c", 75),
            prog(exe, 0x13e8, "read_config", 24, "demo.c", 42), at_main(0x73, 97)] + start(exe)
    t.violation(4242, "openat", 257, "filesystem", "absolute-path",
                {"dirfd": "AT_FDCWD", "pathname": "/etc/demo.conf", "flags": "O_RDONLY", "mode": "0"},
                conf, path="/etc/demo.conf", errno="ENOENT")
    # 3. stat of a file relative to the current directory
    st = [frame(LIBC, 0xfc8ce, "fstatat64", 14, "fstatat64.c", 166),
          prog(exe, 0x1452, "check_data", 18, "demo.c", 50), at_main(0x88, 99)] + start(exe)
    t.violation(4242, "newfstatat", 262, "filesystem", "cwd-relative",
                {"dirfd": "AT_FDCWD", "pathname": "data.txt", "statbuf": "0x7ffd5a3c1e40", "flags": "0"},
                st, path="/home/user/data.txt", result=0)
    # 4. the program's own output file, written twice from one site
    out = [frame(LIBC, 0xfd5e0, "__libc_open64", 112, "open64.c", 41),
           prog(exe, 0x14b0, "write_output", 40, "demo.c", 58), at_main(0x9d, 101)] + start(exe)
    for _ in range(2):
        t.violation(4242, "openat", 257, "filesystem", "absolute-path",
                    {"dirfd": "AT_FDCWD", "pathname": "/tmp/demo-out.txt", "flags": "O_WRONLY|O_CREAT|O_TRUNC",
                     "mode": "0644"}, out, path="/tmp/demo-out.txt", result=5)
        t.add(type="fdop", pid=4242, tid=4242, t_ns=t.t, fd=-100, syscall="openat", right="CAP_CREATE",
              detail="O_WRONLY|O_CREAT|O_TRUNC", new_fd=5, new_kind="file", new_path="/tmp/demo-out.txt")
        t.add(type="fdop", pid=4242, tid=4242, t_ns=t.t, fd=5, syscall="write", right="CAP_WRITE")
    # 5. /proc/PID/status of itself, by pid
    ps = [frame(LIBC, 0xfd5e0, "__libc_open64", 112, "open64.c", 41),
          prog(exe, 0x1520, "read_status", 30, "demo.c", 66), at_main(0xb2, 103)] + start(exe)
    t.violation(4242, "openat", 257, "filesystem", "absolute-path",
                {"dirfd": "AT_FDCWD", "pathname": "/proc/4242/status", "flags": "O_RDONLY", "mode": "0"},
                ps, path="/proc/4242/status", result=6)
    # 6. report to a collector: connect to 127.0.0.1:9
    cn = [frame(LIBC, 0x112f20, "connect", 16, "connect.c", 26),
          prog(exe, 0x15c4, "send_report", 52, "demo.c", 74), at_main(0xc7, 105)] + start(exe)
    t.violation(4242, "connect", 42, "network", "socket-address",
                {"sockfd": 6, "addr": "127.0.0.1:9", "addrlen": 16}, cn, address="127.0.0.1:9",
                errno="ECONNREFUSED")
    t.add(type="fdop", pid=4242, tid=4242, t_ns=t.t, fd=1, syscall="write", right="CAP_WRITE")
    t.add(type="fdop", pid=4242, tid=4242, t_ns=t.t, fd=1, syscall="newfstatat", right="CAP_FSTAT",
          detail="AT_EMPTY_PATH")
    t.add(type="fdop", pid=4242, tid=4242, t_ns=t.t, fd=3, syscall="write", right="CAP_WRITE")
    # 7. a child: fork, the child signals another process and execs a helper
    t.add(type="process", event="fork", pid=4300, tid=4300, ppid=4242, capability_mode=True, t_ns=t.t)
    t.add(type="enter", pid=4300, tid=4300, trigger="main", t_ns=t.t, inherited_from=4242, stack=[], fds=[])
    kl = [frame(LIBC, 0x3c0b7, "kill", 7, "syscall-template.S", 120),
          prog(exe, 0x1630, "stop_previous", 26, "demo.c", 80), at_main(0xdc, 107)] + start(exe)
    t.violation(4300, "kill", 62, "process", "other-process", {"pid": 1, "sig": "SIGTERM"}, kl, errno="EPERM")
    ex = [frame(LIBC, 0xd6a8b, "execve", 11, "syscall-template.S", 120),
          prog(exe, 0x16a2, "run_helper", 30, "demo.c", 84), at_main(0xf1, 109)] + start(exe)
    t.violation(4300, "execve", 59, "filesystem", "exec",
                {"filename": "/usr/bin/true", "argv": "0x7ffd5a3c1f00", "envp": "0x7ffd5a3c1f20"}, ex,
                path="/usr/bin/true", result=0)
    t.add(type="process", event="exec", pid=4300, tid=4300, ppid=4242, capability_mode=True, t_ns=t.t,
          path="/usr/bin/true")
    t.add(type="process", event="exit", pid=4300, tid=4300, ppid=4242, capability_mode=True, t_ns=t.t,
          exit_status=0)
    t.add(type="process", event="exit", pid=4242, tid=4242, ppid=4200, capability_mode=True, t_ns=t.t,
          exit_status=0)
    t.add(type="summary", violations=t.seq, sites=8, processes=2, exit_status=0, duration_ms=41)
    t.write("demo.jsonl")


def tcpdump():
    exe = "/usr/bin/tcpdump"
    pcap = "/usr/lib/x86_64-linux-gnu/libpcap.so.1.10.3"
    t = Trace(dict(argv=["tcpdump", "-r", "/tmp/capture.pcap"], trigger="symbol:pcap_loop", mode="observe",
                   backend="ptrace", arch="x86_64", started="2026-11-29T04:31:07Z", stack_depth=64,
                   unwinder="libdw"))
    t.add(type="process", event="spawn", pid=5120, tid=5120, ppid=5100, capability_mode=False, t_ns=t.t, path=exe)
    loop = [frame(pcap, 0x1f0e0, "pcap_loop", 0, None, None), prog(exe, 0x2e7a1, None, None, None, None)] + start(exe)
    t.add(type="enter", pid=5120, tid=5120, trigger="symbol:pcap_loop", t_ns=t.t, stack=loop, fds=[
        dict(fd=0, kind="tty", path="/dev/pts/1", flags="O_RDWR"),
        dict(fd=1, kind="pipe", path="pipe:[88123]", flags="O_WRONLY"),
        dict(fd=2, kind="tty", path="/dev/pts/1", flags="O_RDWR"),
        dict(fd=3, kind="file", path="/tmp/capture.pcap", flags="O_RDONLY")])
    base = [frame(pcap, 0x1a2c4, "pcap_read_offline", 180, None, None),
            frame(pcap, 0x1f140, "pcap_loop", 96, None, None), prog(exe, 0x2e7a1, None, None, None, None)] + start(exe)
    pretty = prog(exe, 0x5c3d0, None, None, None, None)
    tz = [frame(LIBC, 0x1036a0, "__open64_nocancel", 48, "open64_nocancel.c", 41),
          frame(LIBC, 0xbd2f1, "__tzfile_read", 161, "tzfile.c", 153),
          frame(LIBC, 0xbc8a4, "tzset_internal", 228, "tzset.c", 405),
          frame(LIBC, 0xbcb19, "__tz_convert", 41, "tzset.c", 572),
          prog(exe, 0x61f22, None, None, None, None), pretty] + base
    t.violation(5120, "openat", 257, "filesystem", "absolute-path",
                {"dirfd": "AT_FDCWD", "pathname": "/etc/localtime", "flags": "O_RDONLY|O_CLOEXEC", "mode": "0"},
                tz, path="/etc/localtime", result=4, hint="tzdata")
    gai = [frame(LIBC, 0xed4f9, "getaddrinfo", 201, "getaddrinfo.c", 2297),
           prog(exe, 0x4b7e4, None, None, None, None), pretty] + base
    res = [frame(LIBC, 0x1036a0, "__open64_nocancel", 48, "open64_nocancel.c", 41),
           frame(LIBC, 0x6e4f0, "__fopen_internal", 32, "iofopen.c", 75),
           frame(LIBC, 0x117d31, "__resolv_conf_load", 81, "resolv_conf.c", 405),
           frame(LIBC, 0x118a20, "__resolv_conf_get_current", 96, "resolv_conf.c", 172),
           frame(LIBC, 0x119b13, "__res_context_get", 35, "resolv_context.c", 153)] + gai
    t.violation(5120, "openat", 257, "filesystem", "absolute-path",
                {"dirfd": "AT_FDCWD", "pathname": "/etc/resolv.conf", "flags": "O_RDONLY|O_CLOEXEC", "mode": "0"},
                res, path="/etc/resolv.conf", result=5, hint="glibc-resolver")
    nscd = [frame(LIBC, 0x112f20, "connect", 16, "connect.c", 26),
            frame(LIBC, 0x14a6f1, "open_socket", 177, "nscd_helper.c", 185),
            frame(LIBC, 0x14ae58, "__nscd_get_mapping", 88, "nscd_helper.c", 289),
            frame(LIBC, 0x14b1a7, "__nscd_get_map_ref", 55, "nscd_helper.c", 426),
            frame(LIBC, 0x1495c2, "__nscd_getai", 66, "nscd_getai.c", 57)] + gai
    t.violation(5120, "connect", 42, "network", "socket-address",
                {"sockfd": 6, "addr": "unix:/var/run/nscd/socket", "addrlen": 110}, nscd,
                address="unix:/var/run/nscd/socket", errno="ENOENT", hint="glibc-resolver")
    nss = [frame(LIBC, 0x1036a0, "__open64_nocancel", 48, "open64_nocancel.c", 41),
           frame(LIBC, 0x6e4f0, "__fopen_internal", 32, "iofopen.c", 75),
           frame(LIBC, 0x15e2c4, "nss_database_reload", 100, "nss_database.c", 390),
           frame(LIBC, 0x15e7a1, "__nss_database_get", 49, "nss_database.c", 433)] + gai
    t.violation(5120, "openat", 257, "filesystem", "absolute-path",
                {"dirfd": "AT_FDCWD", "pathname": "/etc/nsswitch.conf", "flags": "O_RDONLY|O_CLOEXEC", "mode": "0"},
                nss, path="/etc/nsswitch.conf", result=5, hint="glibc-resolver")
    dns = [frame(LIBC, 0x1131d2, "sendto", 82, "sendto.c", 27),
           frame(LIBC, 0x11d8c1, "send_dg", 881, "res_send.c", 959),
           frame(LIBC, 0x11e3f4, "__res_context_send", 420, "res_send.c", 526)] + gai
    for _ in range(2):
        t.violation(5120, "sendto", 44, "network", "socket-address",
                    {"sockfd": 7, "buf": "0x7ffcb0a1d2e0", "len": 40, "flags": "MSG_NOSIGNAL",
                     "dest_addr": "127.0.0.53:53", "addrlen": 16}, dns, address="127.0.0.53:53", result=40,
                    hint="glibc-resolver")
    t.add(type="process", event="exit", pid=5120, tid=5120, ppid=5100, capability_mode=True, t_ns=t.t,
          exit_status=0)
    t.add(type="summary", violations=t.seq, sites=5, processes=1, exit_status=0, duration_ms=58)
    t.write("tcpdump-like.jsonl")


demo()
tcpdump()
