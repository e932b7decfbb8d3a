import SeccompProfiles
import SyscallCatalog
import Testing

/// load -> write -> load decides every catalog syscall the same, and writing is stable.
@Suite struct RoundTripTests {
    /// Argument values that cross every comparison of the published profiles: flags with and without
    /// namespace bits, the personality values, small and large numbers, all bits.
    static let argumentSets: [[UInt64]] = [
        [], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1], [8, 2, 3], [17, 0x1000_0000], [0x1000_0011, 17],
        [0x20000], [0x20008], [0xFFFF_FFFF], [0x1_FFFF_FFFF], [0x7E02_0000, 0x7E02_0000], [38], [39], [40],
        [UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max],
    ]

    static let contexts: [ProfileContext] = [
        ProfileContext(),
        ProfileContext(capabilities: Set(Capabilities.all)),
        ProfileContext(capabilities: [], kernel: KernelVersion(4, 7)),
    ]

    func sameDecisions(_ a: Profile, _ b: Profile) {
        for context in Self.contexts {
            let ra = a.resolved(for: context), rb = b.resolved(for: context)
            var differences = 0
            for abi in ABI.allCases {
                for (nr, row) in Catalog.shared.entries(abi: abi) {
                    for args in Self.argumentSets where ra.decide(abi: abi, nr: nr, args: args)
                        != rb.decide(abi: abi, nr: nr, args: args) {
                        differences += 1
                        if differences < 5 { Issue.record("\(abi) \(row.name) \(args) differs") }
                    }
                }
            }
            #expect(differences == 0)
        }
    }

    @Test(arguments: ["docker-default.json", "podman-default.json"])
    func publishedProfiles(_ name: String) throws {
        let original = try Fixtures.load(name).profile
        let written = original.ociJSON()
        let reloaded = try Profile.load(json: written)
        sameDecisions(original, reloaded.profile)
        #expect(reloaded.profile.ociJSON() == written)
        #expect(reloaded.profile.syscalls.count == original.syscalls.count)
        // Long lists go one name per line, as the published files have them.
        #expect(written.split(separator: "\n").allSatisfy { $0.count <= 120 })
        #expect(written.contains("\n        \"accept\",\n"))
    }

    @Test func everyFieldSurvives() throws {
        let text = """
            {"defaultAction": "SCMP_ACT_TRACE", "defaultErrnoRet": 7, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
             "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/run/agent.sock", "listenerMetadata": "m",
             "syscalls": [
              {"name": "dup", "action": "SCMP_ACT_NOTIFY", "comment": "a \\"quoted\\"\\ncomment"},
              {"names": ["write", "read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
               "args": [{"index": 0, "value": 18446744073709551615, "valueTwo": 3, "op": "SCMP_CMP_MASKED_EQ"},
                        {"index": 5, "value": 0, "op": "SCMP_CMP_NE"}],
               "includes": {"caps": ["CAP_SYS_NICE", "CAP_BPF"], "arches": ["x32", "amd64"], "minKernel": "5.4"},
               "excludes": {"minKernel": "6.12"}},
              {"names": ["kill"], "action": "SCMP_ACT_KILL_THREAD"}, {"names": ["tkill"], "action": "SCMP_ACT_KILL"},
              {"names": ["tgkill"], "action": "SCMP_ACT_KILL_PROCESS"}, {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
              {"names": ["getppid"], "action": "SCMP_ACT_TRAP"}, {"names": ["gettid"], "action": "SCMP_ACT_ALLOW"}]}
            """
        let p = try profile(text)
        let written = p.ociJSON()
        let q = try profile(written)
        var sorted = p
        sorted.syscalls[1].names.sort()
        sorted.syscalls[1].includes?.caps.sort()
        sorted.syscalls[1].includes?.arches.sort()
        #expect(q == sorted)
        #expect(q.syscalls[1].args[0].value == UInt64.max)
        #expect(q.syscalls[0].comment == "a \"quoted\"\ncomment")
        sameDecisions(p, q)
        #expect(written.contains(#""names": ["read", "write"]"#))
        #expect(written.hasPrefix("{\n  \"defaultAction\": \"SCMP_ACT_TRACE\",\n  \"defaultErrnoRet\": 7,\n"))
    }
}
