import Diagnosis
import Reports
import Testing
import TraceModel

/// Sites, hints and culprits from synthetic traces: one rule per site, a hint from all of a site's violations,
/// the culprit of an execve (the calling image) and of loader work after an exec in capability mode (that exec).
private let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
private let ld = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"

private func frame(_ module: String, _ symbol: String?, _ offset: UInt64) -> Frame {
    Frame(pc: 0x7000 + offset, module: module, offset: offset, symbol: symbol)
}

private func violation(_ seq: Int, pid: Int32 = 100, _ syscall: String = "openat", rule: Rule = .absolutePath,
                       path: String? = nil, address: String? = nil, site: String, stack: [Frame]) -> TraceEvent {
    var v = ViolationEvent(seq: seq, tNs: UInt64(seq) * 10, pid: pid, tid: pid, abi: .x86_64, syscall: syscall, nr: 0,
                           namespace: address == nil ? .filesystem : .network, rule: rule, args: [],
                           action: .allowed, site: site, stack: stack)
    v.path = path
    v.address = address
    return .violation(v)
}

private func process(_ kind: ProcessEventKind, pid: Int32, ppid: Int32 = 1, capabilityMode: Bool, path: String? = nil,
                     t: UInt64) -> TraceEvent {
    var p = ProcessEvent(event: kind, pid: pid, tid: pid, ppid: ppid, capabilityMode: capabilityMode, tNs: t)
    p.path = path
    return .process(p)
}

private func header(_ argv: [String]) -> TraceEvent {
    .header(HeaderEvent(argv: argv, trigger: "main", mode: .observe, backend: .ptrace, started: "2026-12-01T00:00:00Z"))
}

struct SiteAnalysisTests {
    @Test func oneRulePerSite() {
        let dash = "/usr/bin/dash"
        let stack = [frame(libc, "fstatat64", 0x10), frame(dash, nil, 0x20)]
        let trace = Trace(events: [
            header(["sh", "-c", "true"]), process(.spawn, pid: 100, capabilityMode: false, path: dash, t: 1),
            violation(1, "newfstatat", path: "/work", site: "s1", stack: stack),
            violation(2, "newfstatat", rule: .cwdRelative, path: "/work", site: "s1", stack: stack),
            violation(3, "newfstatat", path: "/work", site: "s1", stack: stack),
        ])
        let a = SiteAnalysis(trace)
        // The gate names both sites.
        let gate = GateVerdict(trace)
        #expect(gate.lines.contains { $0.contains("new site s1:") } && gate.lines.contains { $0.contains("new site s1-cwd-relative:") },
                "\(gate.lines)")
        #expect(a.sites.map(\.id) == ["s1", "s1-cwd-relative"])
        #expect(a.sites.map { $0.events.map(\.seq) } == [[1, 3], [2]])
        #expect(a.sites.allSatisfy { s in s.events.allSatisfy { $0.rule == s.first.rule } })
        // The program's own call, through libc's wrapper: no library decided.
        #expect(a.sites[0].culprit.library == nil && a.sites[0].culprit.programMakesCall)
    }

    /// A site's hint is what most of its violations show, not its first.
    @Test func hintFromAllViolations() {
        let prog = "/usr/bin/python3"
        let stack = [frame(libc, "__open64", 0x10), frame(prog, "_io_open", 0x30)]
        let a = SiteAnalysis(Trace(events: [
            header(["python3", "x.py"]), process(.spawn, pid: 100, capabilityMode: false, path: prog, t: 1),
            violation(1, path: "/srv/data.txt", site: "s", stack: stack),
            violation(2, path: "/proc/self/status", site: "s", stack: stack),
            violation(3, path: "/proc/self/maps", site: "s", stack: stack),
        ]))
        #expect(a.sites.count == 1)
        #expect(a.sites[0].hint?.id == "proc-self")
    }

    /// `sh -c 'cat /etc/hostname'`: the child's execve is recorded after its exec event, but every frame is dash's;
    /// the loader's opens that follow are the exec's, not a dlopen.
    @Test func execBelongsToTheCallingImage() {
        let dash = "/usr/bin/dash", cat = "/usr/bin/cat"
        let execStack = [frame(libc, "execve", 0x10), frame(dash, nil, 0x40), frame(dash, nil, 0x50)]
        let loader = [frame(ld, "__GI___open_nocancel", 0x100), frame(ld, "_dl_map_object", 0x200),
                      frame(ld, "_dl_map_object_deps", 0x300), frame(ld, "dl_main", 0x400), frame(ld, "_dl_start", 0x500)]
        let catOpen = [frame(libc, "__open", 0x20), frame(cat, nil, 0x60)]
        let a = SiteAnalysis(Trace(events: [
            header(["sh", "-c", "cat /etc/hostname"]), process(.spawn, pid: 100, capabilityMode: false, path: "/usr/bin/sh", t: 1),
            process(.exec, pid: 100, capabilityMode: false, path: dash, t: 2),
            process(.fork, pid: 101, ppid: 100, capabilityMode: true, t: 3),
            process(.exec, pid: 101, ppid: 100, capabilityMode: true, path: cat, t: 4),
            violation(1, pid: 101, "execve", rule: .exec, path: cat, site: "x", stack: execStack),
            violation(2, pid: 101, path: "/lib/x86_64-linux-gnu/libc.so.6", site: "l", stack: loader),
            violation(3, pid: 101, path: "/etc/hostname", site: "c", stack: catOpen),
        ]))
        let exec = a.sites[0], lib = a.sites[1], open = a.sites[2]
        #expect(exec.culprit.program == dash)
        #expect(exec.culprit.programFrameIndex == 1)
        #expect(exec.hint == nil)
        #expect(lib.hint?.id == "exec-loader")
        #expect(lib.culprit.exec == ExecCause(pid: 101, path: cat))
        #expect(open.culprit.program == cat && open.culprit.programMakesCall)
        // The shell's operand is one word ("cat /etc/hostname"), not a file: no argument-files hint.
        #expect(open.hint == nil)
    }

    /// The deciding library is the innermost one outside the C library: curl's connect is libcurl's.
    @Test func decidingLibrary() {
        let curl = "/usr/bin/curl", libcurl = "/usr/lib/x86_64-linux-gnu/libcurl.so.4"
        let stack = [frame(libc, "connect", 0x10), frame(libcurl, nil, 0x20), frame(libcurl, nil, 0x30),
                     frame(curl, nil, 0x40)]
        let a = SiteAnalysis(Trace(events: [
            header(["curl", "http://127.0.0.1:8000/"]), process(.spawn, pid: 100, capabilityMode: false, path: curl, t: 1),
            violation(1, "connect", rule: .socketAddress, address: "127.0.0.1:8000", site: "s", stack: stack),
        ]))
        #expect(a.sites[0].culprit.library == "libcurl.so.4")
        #expect(a.sites[0].culprit.programFrameIndex == 3)
    }

    /// Without stacks, the library opens right after an exec in capability mode are still the exec's, not a dlopen;
    /// the program's own later open of a library is not.
    @Test func loaderWorkWithoutStacks() {
        let cat = "/usr/bin/cat"
        let a = SiteAnalysis(Trace(events: [
            header(["sh", "-c", "cat x"]), process(.spawn, pid: 100, capabilityMode: false, path: "/usr/bin/dash", t: 1),
            process(.fork, pid: 101, ppid: 100, capabilityMode: true, t: 3),
            process(.exec, pid: 101, ppid: 100, capabilityMode: true, path: cat, t: 4),
            violation(1, pid: 101, "access", path: "/etc/ld.so.preload", site: "a", stack: []),
            violation(2, pid: 101, path: "/etc/ld.so.cache", site: "b", stack: []),
            violation(3, pid: 101, path: "/lib/x86_64-linux-gnu/libc.so.6", site: "c", stack: []),
            violation(4, pid: 101, path: "/usr/lib/locale/locale-archive", site: "d", stack: []),
            violation(5, pid: 101, path: "/usr/lib/x86_64-linux-gnu/libz.so.1", site: "e", stack: []),
        ]))
        #expect(a.sites.map { $0.hint?.id } == ["exec-loader", "exec-loader", "exec-loader", "locale-iconv", "dlopen-after-entry"])
        #expect(a.sites.allSatisfy { $0.hintInferred })
        #expect(a.sites[2].culprit.exec == ExecCause(pid: 101, path: cat))
        #expect(a.sites[4].culprit.exec == nil)
    }
}
