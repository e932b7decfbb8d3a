// Under run --policy the filter traps what the policy may refuse, per ABI, in place of capability mode's traps
// (FilterBuilder.PolicyTraps); the lifecycle traps stay, and execve traps (the notify backend sees execs so).
import SyscallCatalog
import Testing
@testable import Supervisor

@Suite struct PolicyFilterTests {
    @Test("a policy's traps replace capability mode's, ABI by ABI, unconditionally")
    func policyTrapsReplaceCapabilityMode() throws {
        let traps = FilterBuilder.PolicyTraps(names: [["add_key", "socket"], ["open"], []])
        let rules = FilterBuilder.rules(trigger: .exec, enforce: false, action: .trace, policy: traps)
        func tags(_ abi: ABI, _ name: String) -> [UInt32] { rules.filter { $0.abi == abi && $0.name == name }.map(\.action) }
        let policy = 0x7ff0_0000 | UInt32(FilterBuilder.Tag.policy.rawValue)
        #expect(tags(.x86_64, "add_key") == [policy])
        #expect(tags(.i386, "add_key").isEmpty && tags(.x32, "add_key").isEmpty)
        #expect(tags(.i386, "open") == [policy] && tags(.x86_64, "open").isEmpty)
        // socket traps whatever its arguments (capability mode traps only raw sockets).
        let socket = try #require(rules.first { $0.abi == .x86_64 && $0.name == "socket" })
        #expect(socket.conditions.count == 1 && socket.conditions[0].isEmpty)
        // Capability mode's own traps are gone: openat and connect stop nothing.
        #expect(tags(.x86_64, "openat").isEmpty && tags(.x86_64, "connect").isEmpty)
        // The lifecycle traps stay; execve traps.
        #expect(!tags(.x86_64, "clone3").isEmpty && !tags(.x86_64, "execve").isEmpty)
        // Without a policy, capability mode traps openat as before.
        #expect(FilterBuilder.rules(trigger: .exec, enforce: false, action: .trace).contains { $0.name == "openat" })
    }
}
