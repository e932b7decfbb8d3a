// Stacks name frames by address: the unwinder keeps each process's mappings and the frame it named for every pc.
// When code is mapped where other code was (dlclose, then dlopen of another library at the same address), those
// must be forgotten: the filter traps the calls that can map code (FilterBuilder.codeMappingTests) and the
// supervisor drops what the unwinder learned of that process before the call goes on.
import Foundation
import Testing
import TraceModel

@Suite("run: stacks after code is mapped where other code was")
struct RemappedCodeTests {
    /// Two builds of libremap.c, the same code opening /captrace-remap-a and /captrace-remap-b.
    static func libraries() throws -> (a: String, b: String) {
        func lib(_ letter: String) throws -> String {
            try Harness.build(["libremap.c"], flags: ["-shared", "-fPIC", "-DREMAP_PATH=\"/captrace-remap-\(letter)\""],
                              name: "libremap-\(letter).so")
        }
        return (try lib("a"), try lib("b"))
    }

    /// Runs `argv` and checks what every run here needs: exit status 0, `loads` libraries loaded (the fixtures print
    /// "lib_call ... ADDRESS" for each), all at one address — else the case under test did not happen — and each
    /// open of /captrace-remap-a and -b (`calls` of them) with its `lib_call` frame in its own library.
    static func expectNamed(_ argv: [String], backend: String, loads: Int, calls: (a: Int, b: Int), in w: Workdir)
        throws -> RunResult
    {
        let (a, b) = try libraries()
        let r = try Harness.run(argv, backend: backend, options: ["--enter-at", "main", "-q"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        let addresses = r.stdout.split(separator: "\n").filter { $0.hasPrefix("lib_call ") }.map { $0.split(separator: " ").last! }
        try #require(addresses.count == loads, "\(r.stdout)\n\(r.digest)")
        try #require(Set(addresses).count == 1, "the libraries were not mapped at one address: \(addresses)")
        for (path, module, count) in [("/captrace-remap-a", a, calls.a), ("/captrace-remap-b", b, calls.b)] {
            let made = r.violations(path: path)
            #expect(made.count == count, "\(path)\n\(r.digest)")
            for v in made {
                let caller = v.stack.first { $0.symbol == "lib_call" }
                #expect(caller?.module == module, "\(path): lib_call named in \(caller?.module ?? "no module"), not \(module)\n\(r.digest)")
            }
        }
        return r
    }

    @Test("a library dlopen'ed where a closed one was is named as itself", arguments: backends)
    func libraryAtAnotherLibrarysAddress(backend: String) throws {
        let (a, b) = try Self.libraries()
        let bin = try Harness.build(["remap.c"], flags: ["-ldl"])
        _ = try Self.expectNamed([bin, a, b, a], backend: backend, loads: 3, calls: (2, 1), in: try Workdir("remap"))
    }

    /// The same in a child forked before its parent replaced the library: the child still runs the old one. Under
    /// notify the child's unwinder would start from its parent's at its first notification, after the parent learned
    /// the new library's frames (NotifyLoop.startUnwinderFromParent); under ptrace it starts at the fork event.
    @Test("a child forked before its parent replaced a library names the library it runs", arguments: backends)
    func childForkedBeforeTheParentRemapped(backend: String) throws {
        let (a, b) = try Self.libraries()
        let bin = try Harness.build(["remap-fork.c"], flags: ["-ldl"])
        let r = try Self.expectNamed([bin, a, b], backend: backend, loads: 2, calls: (1, 1), in: try Workdir("remap-fork"))
        #expect(r.violations(path: "/captrace-remap-a").first?.pid != r.programPid, "the child made LIBA's call\n\(r.digest)")
    }
}
