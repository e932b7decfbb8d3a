// Hints and culprits on real programs: a hint needs its library's frames (cat /etc/passwd is not NSS, getent
// passwd root is), an execve belongs to the image that made it (sh -c), the loader's work after an exec in
// capability mode is that exec's, the argument-file pattern (gzip), the deciding library (curl's connect is
// libcurl's), one rule per site, and the same sites and hints on both backends.
import Foundation
import Testing
import TraceModel

#if canImport(Glibc)
import Glibc
#endif

@Suite("hints and culprits on real programs")
struct DiagnosisTests {
    func run(_ argv: [String], backend: String, label: String, options: [String] = []) throws -> (RunResult, [ReportedSite]) {
        let w = try Workdir(label)
        let r = try Harness.run(argv, backend: backend, options: ["--enter-at", "main", "-q"] + options, in: w)
        #expect(r.traceIsComplete, "\(r.digest)")
        return (r, try ReportedSite.of(r))
    }

    func listing(_ sites: [ReportedSite]) -> String { sites.map(\.describe).joined(separator: "\n") }

    @Test("cat /etc/passwd: the program opens its argument itself, not NSS", arguments: backends)
    func catIsNotNSS(backend: String) throws {
        let (_, sites) = try run(["/usr/bin/cat", "/etc/passwd"], backend: backend, label: "cat-passwd")
        let open = try #require(sites.first { $0.paths == ["/etc/passwd"] }, "\(listing(sites))")
        #expect(open.hint == "argument-files", "\(listing(sites))")
        #expect(open.culpritLibrary == nil, "\(open.describe)")
        #expect(open.culpritText?.contains("makes this call itself") == true, "\(open.describe)")
        #expect(!sites.contains { $0.hint == "nss" }, "\(listing(sites))")
    }

    @Test("getent passwd root: NSS, from its frames", arguments: backends)
    func getentIsNSS(backend: String) throws {
        let (_, sites) = try run(["/usr/bin/getent", "passwd", "root"], backend: backend, label: "getent-passwd")
        let passwd = try #require(sites.first { $0.paths.contains("/etc/passwd") }, "\(listing(sites))")
        #expect(passwd.hint == "nss", "\(listing(sites))")
        #expect(passwd.culpritLibrary == "glibc NSS", "\(passwd.describe)")
    }

    @Test("--stack-depth 0: a hint recognised from the path says it is inferred", arguments: backends)
    func inferredWithoutStacks(backend: String) throws {
        let (_, sites) = try run(["/usr/bin/getent", "passwd", "root"], backend: backend, label: "getent-nostack",
                                 options: ["--stack-depth", "0"])
        let passwd = try #require(sites.first { $0.paths.contains("/etc/passwd") }, "\(listing(sites))")
        #expect(passwd.hint == "nss" && passwd.inferred, "\(passwd.describe)")
    }

    @Test("sh -c 'cat /etc/hostname': the execve is dash's, the loader's opens are the exec's", arguments: backends)
    func shellExec(backend: String) throws {
        let (r, sites) = try run(["/bin/sh", "-c", "cat /etc/hostname; true"], backend: backend, label: "sh-c")
        #expect(r.status == 0, "\(r.digest)")
        let exec = try #require(sites.first { $0.syscall == "execve" }, "\(listing(sites))")
        #expect(exec.culpritProgram.map { $0.hasSuffix("dash") || $0.hasSuffix("sh") } == true, "\(exec.describe)")
        #expect(exec.culpritText?.contains("cat") == false, "\(exec.describe)")
        #expect(exec.hint == nil, "\(exec.describe)")
        let loader = sites.filter { $0.paths.contains("/etc/ld.so.cache") }
        #expect(!loader.isEmpty, "\(listing(sites))")
        for s in loader {
            #expect(s.hint == "exec-loader", "\(s.describe)")
            #expect(s.culpritText?.contains("exec of `/usr/bin/cat`") == true, "\(s.describe)")
            #expect(s.culpritExec == "/usr/bin/cat", "\(s.describe)")
        }
        #expect(!sites.contains { $0.hint == "dlopen-after-entry" }, "\(listing(sites))")
        let hostname = try #require(sites.first { $0.paths == ["/etc/hostname"] }, "\(listing(sites))")
        #expect(hostname.culpritText?.contains("makes this call itself") == true, "\(hostname.describe)")
        // One rule per site: dash stats $PWD and "." from one call site; the two rules are two sites.
        let stats = sites.filter { $0.syscall == "newfstatat" && $0.culpritProgram?.hasSuffix("dash") == true }
        #expect(Set(stats.map(\.rule)).isSuperset(of: ["absolute-path", "cwd-relative"]), "\(listing(sites))")
    }

    @Test("gzip -c FILE at main: the argument's directory opened after entry is the argument-file pattern",
          arguments: backends)
    func gzipArgument(backend: String) throws {
        let w = try Workdir("gzip")
        let file = w.path("data.txt")
        try String(repeating: "captrace ", count: 100).write(toFile: file, atomically: true, encoding: .utf8)
        let r = try Harness.run(["/usr/bin/gzip", "-c", file], backend: backend, options: ["--enter-at", "main", "-q"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        let sites = try ReportedSite.of(r)
        let dir = try #require(sites.first { $0.paths == [w.url.path] }, "\(listing(sites))")
        #expect(dir.hint == "argument-files", "\(listing(sites))")
        #expect(dir.culpritText?.contains("makes this call itself") == true, "\(dir.describe)")
    }

    @Test("curl's connect is libcurl's", arguments: backends)
    func curlConnect(backend: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is not installed: run Tools/setup.sh")
            return
        }
        let port = try freePort()
        let server = try Subprocess.start(["/usr/bin/python3", "-m", "http.server", String(port), "--bind", "127.0.0.1",
                                           "--directory", "/usr/share/doc"])
        defer { kill(server.pid, SIGKILL); _ = server.wait(timeout: 5) }
        try waitForListener(port: port)
        let (r, sites) = try run(["/usr/bin/curl", "-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"],
                                 backend: backend, label: "curl")
        #expect(r.status == 0, "\(r.digest)")
        let connect = try #require(sites.first { $0.syscall == "connect" && $0.addresses.contains("127.0.0.1:\(port)") },
                                   "\(listing(sites))")
        #expect(connect.culpritLibrary?.hasPrefix("libcurl") == true, "\(connect.describe)")
    }

    @Test("the same program gives the same sites and hints on both backends")
    func backendsAgree() throws {
        var seen: [[String]] = []
        for backend in backends {
            let (_, sites) = try run(["/usr/bin/getent", "hosts", "localhost"], backend: backend, label: "agree-\(backend)")
            seen.append(sites.map { "\($0.syscall) \($0.rule) \($0.paths + $0.addresses) \($0.hint ?? "-")" })
        }
        #expect(seen.count == 2 && seen[0] == seen[1], "\(seen)")
    }
}

/// A loopback TCP port nothing listens on now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket failed") }
    defer { close(fd) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    a.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &a) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw HarnessError("bind failed") }
    return Int(UInt16(bigEndian: a.sin_port))
}

/// Waits until something accepts connections on 127.0.0.1:port (10 s at most).
func waitForListener(port: Int) throws {
    for _ in 0..<200 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if ok { return }
        usleep(50_000)
    }
    throw HarnessError("nothing listens on 127.0.0.1:\(port)")
}
