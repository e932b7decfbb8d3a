// Stacks name frames by address: the unwinder keeps each process's mappings and the frame it named for every pc.
// When code is mapped where other code was (dlclose, then dlopen of another library at the same address), those
// must be forgotten: the filter traps the calls that can map code (FilterBuilder.codeMappingTests) and the
// supervisor drops what the unwinder learned of that process before the call goes on.
import Foundation
import Testing
import TraceModel

@Suite("run: stacks after code is mapped where other code was")
struct RemappedCodeTests {
    @Test("a library dlopen'ed where a closed one was is named as itself", arguments: backends)
    func libraryAtAnotherLibrarysAddress(backend: String) throws {
        let w = try Workdir("remap")
        func lib(_ letter: String) throws -> String {
            try Harness.build(["libremap.c"], flags: ["-shared", "-fPIC", "-DREMAP_PATH=\"/captrace-remap-\(letter)\""],
                              name: "libremap-\(letter).so")
        }
        let (a, b) = (try lib("a"), try lib("b"))
        let bin = try Harness.build(["remap.c"], flags: ["-ldl"])
        let r = try Harness.run([bin, a, b, a], backend: backend, options: ["--enter-at", "main", "-q"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        // The case under test only when each library took the address the one before it had.
        let addresses = r.stdout.split(separator: "\n").filter { $0.hasPrefix("lib_call ") }.map { $0.split(separator: " ").last! }
        try #require(addresses.count == 3, "\(r.stdout)\n\(r.digest)")
        try #require(Set(addresses).count == 1, "the libraries were not mapped at one address: \(addresses)")
        for (path, module) in [("/captrace-remap-a", a), ("/captrace-remap-b", b)] {
            let calls = r.violations(path: path)
            #expect(calls.count == (module == a ? 2 : 1), "\(path)\n\(r.digest)")
            for v in calls {
                let caller = v.stack.first { $0.symbol == "lib_call" }
                #expect(caller?.module == module, "\(path): lib_call named in \(caller?.module ?? "no module"), not \(module)\n\(r.digest)")
            }
        }
    }

    /// The same in a child forked before its parent replaced the library: the child still runs the old one. Under
    /// notify the child's unwinder would start from its parent's at its first notification, after the parent learned
    /// the new library's frames (NotifyLoop.startUnwinderFromParent); under ptrace it starts at the fork event.
    @Test("a child forked before its parent replaced a library names the library it runs", arguments: backends)
    func childForkedBeforeTheParentRemapped(backend: String) throws {
        let w = try Workdir("remap-fork")
        func lib(_ letter: String) throws -> String {
            try Harness.build(["libremap.c"], flags: ["-shared", "-fPIC", "-DREMAP_PATH=\"/captrace-remap-\(letter)\""],
                              name: "libremap-\(letter).so")
        }
        let (a, b) = (try lib("a"), try lib("b"))
        let bin = try Harness.build(["remap-fork.c"], flags: ["-ldl"])
        let r = try Harness.run([bin, a, b], backend: backend, options: ["--enter-at", "main", "-q"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        let addresses = r.stdout.split(separator: "\n").filter { $0.hasPrefix("lib_call ") }.map { $0.split(separator: " ").last! }
        try #require(addresses.count == 2, "\(r.stdout)\n\(r.digest)")
        try #require(Set(addresses).count == 1, "the libraries were not mapped at one address: \(addresses)")
        for (path, module) in [("/captrace-remap-a", a), ("/captrace-remap-b", b)] {
            let calls = r.violations(path: path)
            #expect(calls.count == 1, "\(path)\n\(r.digest)")
            let caller = calls.first?.stack.first { $0.symbol == "lib_call" }
            #expect(caller?.module == module, "\(path): lib_call named in \(caller?.module ?? "no module"), not \(module)\n\(r.digest)")
        }
        #expect(r.violations(path: "/captrace-remap-a").first?.pid != r.programPid, "the child made LIBA's call\n\(r.digest)")
    }
}
