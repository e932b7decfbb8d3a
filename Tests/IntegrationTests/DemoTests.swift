// The bundled demo (Examples/resolver-demo.c) and tcpdump reading the bundled capture (Examples/loopback.pcap):
// real programs whose C library initialises its resolver lazily, after entry.
import Foundation
import Testing
import TraceModel

@Suite("run: demo programs")
struct DemoTests {
    @Test("resolver-demo: the resolver's late opens after enter_sandbox()", arguments: backends)
    func resolverDemo(backend: String) throws {
        let w = try Workdir("demo")
        let bin = try Harness.build(["../../Examples/resolver-demo.c"], name: "resolver-demo")
        let r = try Harness.run([bin, "localhost"], backend: backend, options: ["--enter-at", "symbol:enter_sandbox"], in: w)
        expectRun(r, backend: backend, trigger: "symbol:enter_sandbox")
        #expect(r.stdout.contains("localhost has address 127.0.0.1"), "\(r.digest)")
        for p in ["/etc/nsswitch.conf", "/etc/hosts", "/etc/resolv.conf"] {
            #expect(!r.violations(path: p).isEmpty, "no violation for \(p)\n\(r.digest)")
        }
        #expect(r.violations(path: "/etc/ld.so.cache").isEmpty, "the loader's work came before entry\n\(r.digest)")
        #expect(r.violations.allSatisfy { $0.namespace == .filesystem || $0.namespace == .network }, "\(r.digest)")
    }

    @Test("the README's first command: Tools/demo.sh finds the resolver's late lookups (with this build's captrace)")
    func demoScript() throws {
        let r = try Subprocess.run(["/usr/bin/env", "CAPTRACE=\(try Harness.captrace())", "bash",
                                    Harness.repoRoot.appendingPathComponent("Tools/demo.sh").path], timeout: 300)
        #expect(r.status == 0, "status \(r.status)\n\(r.stderr)")
        for p in ["/etc/nsswitch.conf", "/etc/hosts", "/etc/resolv.conf"] {
            #expect(r.stderr.contains("found   \(p)"), "\(p) not found:\n\(r.stderr)")
        }
    }

    @Test("tcpdump -r with entry at pcap_loop (a symbol of libpcap): /etc/hosts is read late", arguments: backends)
    func tcpdump(backend: String) throws {
        let w = try Workdir("tcpdump")
        let pcap = Harness.repoRoot.appendingPathComponent("Examples/loopback.pcap").path
        let r = try Harness.run(["/usr/bin/tcpdump", "-r", pcap], backend: backend,
                                options: ["--enter-at", "symbol:pcap_loop"], in: w)
        expectRun(r, backend: backend, trigger: "symbol:pcap_loop")
        #expect(r.stdout.contains("localhost.40000 > localhost.discard"), "\(r.digest)")
        for p in ["/etc/hosts", "/etc/localtime"] {
            #expect(!r.violations(path: p).isEmpty, "no violation for \(p)\n\(r.digest)")
        }
        #expect(r.violations(path: pcap).isEmpty, "the capture was opened before pcap_loop\n\(r.digest)")
    }
}
