import Baselines
import Suggestions
import SyscallCatalog
import Testing
import TraceModel

@Suite struct BaselineTests {
    @Test(arguments: ["demo.jsonl", "tcpdump-like.jsonl", "resolver-demo-rights.jsonl"])
    func roundTripMatchesEveryViolation(trace: String) throws {
        let t = try fixtureTrace(trace)
        let b = try Baseline(parsing: renderSuggestion(t, format: .allowlist))
        #expect(!b.entries.isEmpty)
        for v in t.violations { #expect(b.matches(v), "seq \(v.seq) \(v.syscall) \(v.path ?? v.address ?? "") not matched") }
    }

    static func violation(_ name: String, seq: Int = 1) throws -> ViolationEvent {
        try #require(try fixtureTrace("demo.jsonl").violations.first { $0.syscall == name && $0.seq >= seq })
    }

    @Test func newPathOrStackDoesNotMatch() throws {
        let t = try fixtureTrace("demo.jsonl")
        let b = try Baseline(parsing: renderSuggestion(t, format: .allowlist))
        var v = try #require(t.violations.first { $0.path == "/etc/demo.conf" })
        v.path = "/etc/shadow"
        #expect(!b.matches(v), "another path at a known site")

        var w = try #require(t.violations.first { $0.path == "/etc/demo.conf" })
        w.stack[4].symbol = "read_secrets"
        #expect(!b.matches(w), "the same path from another function")

        var x = try #require(t.violations.first { $0.syscall == "connect" })
        x.address = "10.0.0.1:9"
        #expect(!b.matches(x), "another address")

        var y = try #require(t.violations.first { $0.syscall == "connect" })
        y.syscall = "bind"
        #expect(!b.matches(y), "another syscall")

        var z = try #require(t.violations.first { $0.path == "/etc/demo.conf" })
        z.stack = []
        #expect(!b.matches(z), "no stack cannot match an entry with a stack signature")
    }

    @Test func toleratesASLRAndRebuildsWhereSymbolsExist() throws {
        let t = try fixtureTrace("demo.jsonl")
        let b = try Baseline(parsing: renderSuggestion(t, format: .allowlist))
        var v = try #require(t.violations.first { $0.path == "/etc/demo.conf" })
        for i in v.stack.indices {
            v.stack[i].pc &+= 0x1000_0000  // another load address
            v.stack[i].offset = v.stack[i].offset.map { $0 + 0x40 }  // a rebuilt binary: symbols stay
            v.stack[i].module = v.stack[i].module.map { "/elsewhere/" + ($0.split(separator: "/").last.map(String.init) ?? $0) }
        }
        v.pid = 999
        v.seq = 77
        #expect(b.matches(v))
        // Frames without symbols match by offset only: a rebuilt stripped binary is a new site.
        let stripped = try Baseline(parsing: "openat filesystem/absolute-path path=/etc/x\n    at prog+0x1a2b\n")
        var s = v
        s.path = "/etc/x"
        s.stack = [Frame(pc: 0x5555_5555_6a2b, module: "/usr/bin/prog", offset: 0x1a2b)]
        #expect(stripped.matches(s))
        s.stack[0].offset = 0x1a2c
        #expect(!stripped.matches(s))
    }

    @Test func proceduralPidPathsAreGeneralised() throws {
        let t = try fixtureTrace("demo.jsonl")
        let text = renderSuggestion(t, format: .allowlist)
        #expect(text.contains("path=/proc/*/status"))
        let b = try Baseline(parsing: text)
        var v = try #require(t.violations.first { $0.path == "/proc/4242/status" })
        v.path = "/proc/5151/status"
        #expect(b.matches(v))
        v.path = "/proc/5151/environ"
        #expect(!b.matches(v))
    }

    @Test func handWrittenEntriesAndGlobs() throws {
        let b = try Baseline(parsing: """
            # comments and blank lines are ignored

            openat filesystem/* path=/tmp/xyz*   # reviewed: scratch files
            * network address=127.0.0.1:*
            unlinkat filesystem/absolute-path path=/var/cache/**
              at *
              at app!cleanup
            openat * path="/data/with space/\\"q\\".txt" abi=i386
            """)
        #expect(b.entries.count == 4)
        func v(_ sys: String, _ ns: Namespace, _ rule: Rule, path: String? = nil, address: String? = nil,
               abi: ABI = .x86_64, stack: [Frame] = []) -> ViolationEvent {
            var e = ViolationEvent(seq: 1, tNs: 0, pid: 1, tid: 1, abi: abi, syscall: sys, nr: 0, namespace: ns, rule: rule,
                                   args: [], action: .allowed, site: "0", stack: stack)
            e.path = path; e.address = address
            return e
        }
        #expect(b.matches(v("openat", .filesystem, .absolutePath, path: "/tmp/xyz123")))
        #expect(!b.matches(v("openat", .filesystem, .absolutePath, path: "/tmp/xyz/deeper")))
        #expect(!b.matches(v("openat", .filesystem, .absolutePath, path: "/tmp/abc")))
        #expect(b.matches(v("connect", .network, .socketAddress, address: "127.0.0.1:53")))
        #expect(b.matches(v("sendto", .network, .socketAddress, address: "127.0.0.1:9")))
        #expect(!b.matches(v("sendto", .network, .socketAddress, address: "[::1]:9")))
        let frames = [Frame(pc: 1, module: "/lib/libc.so.6", offset: 1, symbol: "unlinkat"),
                      Frame(pc: 2, module: "/opt/app", offset: 2, symbol: "cleanup"),
                      Frame(pc: 3, module: "/opt/app", offset: 3, symbol: "main")]
        #expect(b.matches(v("unlinkat", .filesystem, .absolutePath, path: "/var/cache/a/b", stack: frames)))
        #expect(!b.matches(v("unlinkat", .filesystem, .absolutePath, path: "/var/cache/a/b", stack: Array(frames.prefix(1)))))
        #expect(b.matches(v("openat", .filesystem, .absolutePath, path: "/data/with space/\"q\".txt", abi: .i386)))
        #expect(!b.matches(v("openat", .filesystem, .absolutePath, path: "/data/with space/\"q\".txt")))
    }

    @Test(arguments: [
        ("openat\n", 1, "expected 'SYSCALL NAMESPACE/RULE"),
        ("# c\nopenat filesystem/nope\n", 2, "unknown rule 'nope'"),
        ("openat files/absolute-path\n", 1, "unknown namespace 'files'"),
        ("  at libc.so.6!open\n", 1, "before any entry"),
        ("openat filesystem path=/a\n  at libc.so.6\n", 2, "bad frame"),
        ("openat filesystem colour=red\n", 1, "unknown key 'colour'"),
        ("openat filesystem path=\"/a\n", 1, "unterminated"),
        ("openat filesystem path=/a\\\n", 1, "bad path pattern"),
        ("openat filesystem abi=arm64\n", 1, "unknown abi"),
        ("open-at filesystem\n", 1, "not a syscall name"),
        ("openat filesystem\n  stray\n", 2, "indented line"),
    ] as [(String, Int, String)])
    func malformedInputNamesTheLine(text: String, line: Int, reason: String) {
        do {
            _ = try Baseline(parsing: text)
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(error.description.hasPrefix("line \(line): "))
        }
    }
}

/// The one glob dialect (Baselines.Glob): allowlist values and the knowledge base are written in it.
@Suite struct GlobDialectTests {
    @Test func wildcardsClassesPidAndEscapes() throws {
        #expect(try Glob("/etc/*.conf").matches("/etc/host.conf"))
        #expect(try !Glob("/etc/*").matches("/etc/ssl/certs"), "* stays within one component")
        #expect(try Glob("/etc/**").matches("/etc/ssl/certs"))
        #expect(try Glob("**/libgcc_s.so.[0-9]*").matches("/usr/lib/libgcc_s.so.1"))
        #expect(try !Glob("**/libgcc_s.so.[0-9]*").matches("/usr/lib/libgcc_s.so.x"))
        #expect(try Glob("/dev/tty?").matches("/dev/tty1") && !Glob("/a?b").matches("/a/b"))
        #expect(try Glob("/proc/{pid}/status").matches("/proc/42/status", pid: 42))
        #expect(try !Glob("/proc/{pid}/status").matches("/proc/43/status", pid: 42))
        #expect(try !Glob("/proc/{pid}/status").matches("/proc/42/status"), "{pid} matches nothing without a pid")
        #expect(try Glob(#"/tmp/\[x\]\{pid\}\*"#).matches("/tmp/[x]{pid}*"))
        #expect(try Glob("/tmp/{other}").matches("/tmp/{other}"), "only {pid} is special among braces")
        #expect(throws: GlobError.self) { try Glob("/tmp/[x") }
        #expect(throws: GlobError.self) { try Glob(#"/tmp/x\"#) }
        for text in ["/tmp/[a]*?{pid}\\", "plain", ""] {
            #expect(Glob.exact(text).matches(text, pid: 1), "\(text)")
        }
    }

    @Test func baselineValuesUseTheDialect() throws {
        let b = try Baseline(parsing: "openat filesystem/* path=/proc/{pid}/fd/[0-9]*\n")
        var v = ViolationEvent(seq: 1, tNs: 0, pid: 7, tid: 7, abi: .x86_64, syscall: "openat", nr: 257,
                               namespace: .filesystem, rule: .absolutePath, args: [], action: .allowed, site: "s",
                               stack: [])
        v.path = "/proc/7/fd/12"
        #expect(b.action(for: v) == .allowedByBaseline)
        v.path = "/proc/8/fd/12"
        #expect(b.action(for: v) == .allowed)
        v.action = .denied
        v.path = "/proc/7/fd/12"
        #expect(b.action(for: v) == .denied, "a recorded denial stays")
    }
}
