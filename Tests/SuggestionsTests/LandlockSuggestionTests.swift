import Landlock
import Suggestions
import TraceModel
import XCTest

/// `suggest --format landlock` from a recorded trace's facts: the narrowest right per path, variables for the
/// run's directories, ports, scopes, and nothing for failed calls.
final class LandlockSuggestionTests: XCTestCase {
    static let trace = """
        {"type":"header","format":"captrace","version":2,"argv":["prog"],"trigger":"exec","mode":"observe","backend":"ptrace","arch":"x86_64","started":"2026-12-01T00:00:00Z","landlock_abi":7,"cwd":"/root/proj","home":"/root","tmpdir":"/tmp"}
        {"type":"process","event":"spawn","pid":10,"tid":10,"ppid":1,"capability_mode":false,"t_ns":0,"path":"/usr/bin/prog"}
        {"type":"call","id":1,"abi":"x86_64","nr":257,"syscall":"openat","namespace":"filesystem","rule":"absolute-path","regs":["0xffffff9c","0x1","0x241","0x1a4"],"strings":{"1":"/root/out/log.txt"}}
        {"type":"violation","seq":1,"t_ns":1,"pid":10,"tid":10,"call":1,"result":3}
        {"type":"call","id":2,"abi":"x86_64","nr":257,"syscall":"openat","namespace":"filesystem","rule":"absolute-path","regs":["0xffffff9c","0x1","0x10000","0x0"],"strings":{"1":"/usr/share"}}
        {"type":"violation","seq":2,"t_ns":2,"pid":10,"tid":10,"call":2,"result":4}
        {"type":"call","id":3,"abi":"x86_64","nr":257,"syscall":"openat","namespace":"filesystem","rule":"absolute-path","regs":["0xffffff9c","0x1","0x0","0x0"],"strings":{"1":"/etc/missing"}}
        {"type":"violation","seq":3,"t_ns":3,"pid":10,"tid":10,"call":3,"result":-2}
        {"type":"call","id":4,"abi":"x86_64","nr":316,"syscall":"renameat2","namespace":"filesystem","rule":"absolute-path","regs":["0xffffff9c","0x1","0xffffff9c","0x2","0x0"],"strings":{"1":"/tmp/a/x","3":"/tmp/b/x"}}
        {"type":"violation","seq":4,"t_ns":4,"pid":10,"tid":10,"call":4,"result":0}
        {"type":"call","id":5,"abi":"x86_64","nr":49,"syscall":"bind","namespace":"network","rule":"socket-address","regs":["0x3","0x1","0x10"],"sockaddr":"02001f907f0000010000000000000000"}
        {"type":"violation","seq":5,"t_ns":5,"pid":10,"tid":10,"call":5,"result":0}
        {"type":"call","id":6,"abi":"x86_64","nr":62,"syscall":"kill","namespace":"process","rule":"other-process","regs":["0x4d2","0xf"]}
        {"type":"violation","seq":6,"t_ns":6,"pid":10,"tid":10,"call":6,"result":0}
        {"type":"summary","violations":6,"sites":6,"processes":1,"exit_status":0,"duration_ms":1}

        """

    func testNarrowestRightsVariablesPortsAndScopes() throws {
        let trace = try TraceReader.parse(Self.trace)
        let files = FileFacts(fileType: { $0 == "/usr/share" ? .directory : .regular },
                              interpreter: { $0 == "/usr/bin/prog" ? "/lib64/ld-linux-x86-64.so.2" : nil })
        let text = renderLandlock(trace, files: files)
        let c = try LandlockConfig(toml: text)
        XCTAssertEqual(c.variables, [.init(name: "home", literal: ["/root"]), .init(name: "tmp", literal: ["/tmp"])], text)
        XCTAssertEqual(c.rulesets.first?.scoped, ["abstract_unix_socket"], text)  // it signalled another process
        XCTAssertEqual(c.rulesets.first?.handledAccessFS, LandlockABI(7).fs.names)
        XCTAssertEqual(c.netPorts, [.init(allowedAccess: ["bind_tcp"], port: [8080])], text)
        let (r, _) = try c.resolve(machine: LandlockABI(7), cwd: "/")
        func rights(_ p: String) -> [String] { r.paths.filter { $0.path == p }.flatMap { $0.access.names } }
        XCTAssertEqual(rights("/root/out"), ["write_file", "make_reg", "truncate"], text)
        XCTAssertEqual(rights("/usr/share"), ["read_dir"], text)
        XCTAssertEqual(rights("/tmp/a"), ["remove_file", "refer"], text)
        XCTAssertEqual(rights("/tmp/b"), ["make_reg", "refer"], text)
        XCTAssertEqual(rights("/usr/bin/prog"), ["execute", "read_file"], text)
        XCTAssertEqual(rights("/lib64/ld-linux-x86-64.so.2"), ["execute", "read_file"], text)
        XCTAssertEqual(rights("/etc/missing"), [], "a failed open needs no rule\n\(text)")
        XCTAssertTrue(text.contains("\"${home}/out\""), text)
        XCTAssertFalse(text.contains("warning:"), text)
    }
}
