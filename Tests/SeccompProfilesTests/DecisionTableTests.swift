import SyscallCatalog
import Testing
@testable import SeccompProfiles

/// The run-time table (`DecisionTable`) decides every call as `ResolvedProfile.decide` does, and the filter's
/// trapped names are exactly the calls some arguments make it refuse.
@Suite struct DecisionTableTests {
    /// Arguments that reach both sides of the argument rules in the published profiles (clone flags, personality
    /// values, socket families).
    static let argumentSets: [[UInt64]] = [[], [0], [0xffff_ffff], [0x1000_0000], [0x7E02_0000], [16, 3, 9], [0x20008], [8]]

    @Test("the table's decisions equal decide() for every call of every ABI",
          arguments: ["docker-default.json", "podman-default.json"], ["docker-default", "all", "none"])
    func sameDecisions(file: String, caps: String) throws {
        let set: Set<String> = caps == "all" ? Set(Capabilities.all) : caps == "none" ? [] : Capabilities.dockerDefault
        let resolved = try Fixtures.load(file).profile.resolved(for: ProfileContext(capabilities: set))
        let table = DecisionTable(resolved)
        var conditional = 0
        for abi in ABI.allCases {
            let trapped = table.trappedNames(abi: abi)
            for (nr, sc) in Catalog.shared.entries(abi: abi) {
                if resolved.fixedDecision(abi: abi, nr: nr) == nil { conditional += 1 }
                var refusedForSome = false
                for args in Self.argumentSets {
                    let d = table.decide(abi: abi, nr: nr, args: args)
                    #expect(d == resolved.decide(abi: abi, nr: nr, args: args), "\(abi) \(sc.name) \(args)")
                    if !d.letsCallRun { refusedForSome = true }
                }
                // A call refused for some arguments must trap (the converse may hold for arguments not tried).
                if refusedForSome { #expect(trapped.contains(sc.name), "\(abi) \(sc.name) is refused but not trapped") }
            }
        }
        #expect(conditional > 0, "no call with argument rules: the conditional path is untested")
    }

    @Test("Docker's default: add_key and unshare trap (the default action; unshare's entry needs CAP_SYS_ADMIN), read does not")
    func dockerTraps() throws {
        let docker = try Fixtures.load("docker-default.json").profile
        let plain = DecisionTable(docker.resolved())
        #expect(plain.trappedNames(abi: .x86_64).isSuperset(of: ["add_key", "unshare", "mount", "bpf"]))
        #expect(plain.trappedNames(abi: .x86_64).isDisjoint(with: ["read", "getpid", "openat"]))
        let admin = DecisionTable(docker.resolved(for: ProfileContext(capabilities: Set(Capabilities.all))))
        #expect(!admin.trappedNames(abi: .x86_64).contains("unshare"))
        #expect(admin.trappedNames(abi: .x86_64).contains("add_key"))
        // clone traps under the default set: its argument rule refuses namespace flags.
        #expect(plain.trappedNames(abi: .x86_64).contains("clone"))
    }

    @Test("an ABI outside the profile's architectures traps every call")
    func architectureTraps() throws {
        let p = try Profile.load(json: #"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"]}"#).profile
        let t = DecisionTable(p.resolved())
        #expect(t.trappedNames(abi: .x86_64).isEmpty)
        #expect(t.trappedNames(abi: .i386).count == Catalog.shared.entries(abi: .i386).count)
        #expect(t.decide(abi: .i386, nr: 5, args: []).source == .architectureNotInFilter)
    }
}
