import Landlock
import XCTest

final class LandlockAccessTests: XCTestCase {
    func testRightsPerABI() {
        XCTAssertEqual(LandlockABI(1).fs.names.count, 13)
        XCTAssertTrue(LandlockABI(2).fs.contains(.refer))
        XCTAssertFalse(LandlockABI(2).fs.contains(.truncate))
        XCTAssertEqual(LandlockABI(5).fs.names.last, "ioctl_dev")
        XCTAssertEqual(LandlockABI(3).net, [])
        XCTAssertEqual(LandlockABI(4).net.names, ["bind_tcp", "connect_tcp"])
        XCTAssertEqual(LandlockABI(7).scopes.names, ["abstract_unix_socket", "signal"])
        XCTAssertEqual(FSAccess.readExecute(LandlockABI(1)).names, ["execute", "read_file", "read_dir"])
        XCTAssertEqual(FSAccess.readExecute(LandlockABI(2)).names, ["execute", "read_file", "read_dir", "refer"])
        XCTAssertFalse(FSAccess.readWrite(LandlockABI(5)).contains(.execute))
        XCTAssertTrue(FSAccess.readWrite(LandlockABI(5)).contains(.ioctlDev))
        XCTAssertEqual(FSAccess(rawValue: 1 << 2 | 1 << 40).names, ["read_file", "0x10000000000"])
    }
}

final class LandlockConfigTests: XCTestCase {
    func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }

    func testRoundTrip() throws {
        var c = LandlockConfig()
        c.comment = " suggested by a test"
        c.abi = 7
        c.variables = [.init(name: "home", literal: ["/root"]), .init(name: "tmp", literal: ["/tmp"], comment: " scratch")]
        c.rulesets = [.init(handledAccessFS: ["execute", "read_file", "read_dir", "write_file"],
                            handledAccessNet: ["bind_tcp", "connect_tcp"], scoped: ["signal", "abstract_unix_socket"])]
        c.pathBeneath = [.init(allowedAccess: ["read_file"], parent: ["/etc/hostname", "${home}/a \"quoted\" name"], comment: " files read"),
                         .init(allowedAccess: ["read_dir"], parent: ["${tmp}"])]
        c.netPorts = [.init(allowedAccess: ["connect_tcp"], port: [443, 80])]
        let text = c.toml()
        let back = try LandlockConfig(toml: text)
        XCTAssertEqual(back, c, text)
        XCTAssertEqual(back.toml(), text)
    }

    func testHandWrittenDocumentedForm() throws {
        let c = try LandlockConfig(toml: try fixture("documented-form.toml"))
        XCTAssertEqual(c.abi, 5)
        XCTAssertEqual(c.variables.map(\.name), ["scratch", "homes"])
        XCTAssertEqual(c.pathBeneath.count, 2)
        XCTAssertEqual(c.pathBeneath[0].comment, " System hierarchies: read and execute.")
        XCTAssertEqual(c.netPorts.first?.port, [8080, 8443])
        let (r, leftOut) = try c.resolve(machine: LandlockABI(7), cwd: "/work/x")
        XCTAssertEqual(leftOut, [])
        XCTAssertEqual(r.handledFS, LandlockABI(5).fs)
        XCTAssertEqual(r.handledNet, [.bindTCP])
        XCTAssertEqual(r.paths.map(\.path), ["/work/x", "/usr", "/etc", "/tmp", "/var/tmp", "/root/me", "/home/me"])
        XCTAssertEqual(r.paths[0].access, FSAccess.readExecute(LandlockABI(5)))
        XCTAssertFalse(r.paths[3].access.contains(.execute))
        XCTAssertEqual(r.ports, [PortRule(port: 8080, access: .bindTCP), PortRule(port: 8443, access: .bindTCP)])
        // On an older kernel the newer rights are left out, and said.
        let (old, dropped) = try c.resolve(machine: LandlockABI(3), cwd: "/")
        XCTAssertFalse(old.handledFS.contains(.ioctlDev))
        XCTAssertEqual(dropped, ["ioctl_dev", "bind_tcp"])
    }

    func testHandledAccessCompletedFromRules() throws {
        let c = try LandlockConfig(toml: "[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = ['/etc']\n")
        let (r, _) = try c.resolve(machine: LandlockABI(7), cwd: "/")
        XCTAssertEqual(r.handledFS, .readFile)
    }

    func testBadFilesAreRejectedNamingTheProblem() {
        func error(_ text: String) -> String {
            do { _ = try LandlockConfig(toml: text); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("[[path_beneath]]\nallowed_access = [\"read_files\"]\nparent = [\"/\"]\n"),
                       "line 2: unknown filesystem access \"read_files\" in allowed_access")
        XCTAssertEqual(error("[[rules]]\n"), "line 1: unknown table [[rules]] (expected variable, ruleset, path_beneath or net_port)")
        XCTAssertEqual(error("[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = [\"${x\"]\n"),
                       "line 3: unclosed variable reference in \"${x\"")
        XCTAssertEqual(error("abi = \"five\"\n[[ruleset]]\nscoped = [\"signal\"]\n"), "line 1: abi must be an integer from 1")
        XCTAssertEqual(error("[[net_port]]\nallowed_access = [\"connect_tcp\"]\nport = [\"80\"]\n"), "line 3: port must hold non-negative integers")
        XCTAssertEqual(error("# nothing\n"), "empty configuration: no variable, ruleset, path_beneath or net_port")
        XCTAssertEqual(error("[[ruleset]]\nhandled_access_fs = [\"abi.all\"]\n"), "accepted")
        do {
            let c = try LandlockConfig(toml: "[[ruleset]]\nhandled_access_fs = [\"abi.all\"]\n")
            XCTAssertThrowsError(try c.resolve(machine: LandlockABI(7), cwd: "/"))
        } catch { XCTFail("\(error)") }
        let missingVar = try? LandlockConfig(toml: "[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = [\"${nope}/x\"]\n")
        XCTAssertThrowsError(try missingVar!.resolve(machine: LandlockABI(7), cwd: "/")) { e in
            XCTAssertEqual("\(e)", "variable 'nope' not found (in \"${nope}/x\")")
        }
    }
}

final class LandlockExplainTests: XCTestCase {
    let onlyTmp = Ruleset(handledFS: [.readFile, .readDir, .writeFile, .makeReg], paths: [
        PathRule(path: "/tmp/allowed", access: [.readFile, .readDir]),
        PathRule(path: "/etc", access: [.readDir]),
    ])

    func testReadOutsideTheRules() {
        var call = RefusedCall(syscall: "openat", errno: "EACCES")
        call.flags = 0o2000000  // O_RDONLY|O_CLOEXEC
        call.path = "/etc/hostname"
        call.fileType = .regular
        let e = LandlockExplain.explain(call, domain: [onlyTmp])
        XCTAssertEqual(e.missing.map(\.need.name), ["read_file"])
        XCTAssertEqual(e.missing.first?.nearest?.path, "/etc")
        XCTAssertEqual(e.missing.first?.toml, "[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = [\"/etc/hostname\"]")
        XCTAssertTrue(e.missing.first!.fix.hasPrefix("add read_file to the rule for /etc (it grants read_dir)"), e.missing.first!.fix)
    }

    func testCreateNeedsMakeRegOnTheDirectory() {
        var call = RefusedCall(syscall: "openat", errno: "EACCES")
        call.flags = 0o101  // O_WRONLY|O_CREAT
        call.path = "/tmp/allowed/new"
        call.fileType = .missing
        let e = LandlockExplain.explain(call, domain: [onlyTmp])
        XCTAssertEqual(e.missing.map(\.need.name), ["make_reg", "write_file"])
        XCTAssertEqual(e.missing.map { $0.need.beneath }, ["/tmp/allowed", "/tmp/allowed"])
    }

    func testDirectoryAndGranted() {
        var call = RefusedCall(syscall: "open", errno: "EACCES")
        call.flags = 0o200000  // O_DIRECTORY
        call.path = "/tmp/allowed/sub"
        call.fileType = .directory
        XCTAssertTrue(LandlockExplain.explain(call, domain: [onlyTmp]).unexplained)
        call.path = "/usr"
        XCTAssertEqual(LandlockExplain.explain(call, domain: [onlyTmp]).missing.map(\.need.name), ["read_dir"])
        // The second layer refuses what the first grants.
        let second = Ruleset(handledFS: [.readDir], paths: [PathRule(path: "/etc", access: [.readDir])])
        call.path = "/tmp/allowed/sub"
        XCTAssertEqual(LandlockExplain.explain(call, domain: [onlyTmp, second]).missing.first?.layer, 2)
    }

    func testNetworkScopesAndRefer() {
        let r = Ruleset(handledFS: [.makeReg, .removeFile], handledNet: [.connectTCP], scoped: [.signal],
                        paths: [PathRule(path: "/tmp", access: [.makeReg, .removeFile])], ports: [PortRule(port: 80, access: .connectTCP)])
        var c = RefusedCall(syscall: "connect", errno: "EACCES")
        c.port = 443
        XCTAssertEqual(LandlockExplain.explain(c, domain: [r]).missing.first?.toml, "[[net_port]]\nallowed_access = [\"connect_tcp\"]\nport = [443]")
        c.port = 80
        XCTAssertTrue(LandlockExplain.explain(c, domain: [r]).unexplained)
        let k = RefusedCall(syscall: "kill", errno: "EPERM")
        XCTAssertEqual(LandlockExplain.explain(k, domain: [r]).missing.first?.need.name, "signal")
        var mv = RefusedCall(syscall: "renameat2", errno: "EXDEV")
        mv.path = "/tmp/a/x"; mv.path2 = "/tmp/b/x"; mv.fileType = .regular
        let e = LandlockExplain.explain(mv, domain: [r])
        XCTAssertEqual(e.missing.map(\.need.name), ["refer", "refer"])
        XCTAssertTrue(e.missing[0].fix.hasPrefix("handle refer"))
    }
}
