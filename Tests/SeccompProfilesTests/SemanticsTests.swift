import SeccompProfiles
import SyscallCatalog
import Testing

/// How entries combine: the rules of moby's resolution, runc's rule building and libseccomp's merging.
@Suite struct SemanticsTests {
    @Test func argumentsInOneEntryAreANDed() throws {
        let p = try profile("""
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]}]}
            """)
        #expect(p.decide(abi: .x86_64, syscall: "socket", args: [1, 1])?.action == .allow)
        #expect(p.decide(abi: .x86_64, syscall: "socket", args: [1, 2])?.action == .errno)
        #expect(p.decide(abi: .x86_64, syscall: "socket", args: [2, 1])?.action == .errno)
    }

    @Test func repeatedIndexMakesOneRulePerComparison() throws {
        // runc: "If two or more arguments have the same condition, revert to old behavior, adding each condition
        // as a separate rule": the comparisons are ORed (libseccomp allows one comparison per argument in a rule).
        let p = try profile("""
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                      {"index": 1, "value": 5, "op": "SCMP_CMP_EQ"}]}]}
            """)
        #expect(p.syscalls[0].alternatives.count == 3)
        #expect(p.decide(abi: .x86_64, syscall: "personality", args: [0])?.action == .allow)
        #expect(p.decide(abi: .x86_64, syscall: "personality", args: [8])?.action == .allow)
        #expect(p.decide(abi: .x86_64, syscall: "personality", args: [3, 5])?.action == .allow)
        #expect(p.decide(abi: .x86_64, syscall: "personality", args: [3, 4])?.action == .errno)
    }

    @Test func everyOperator() throws {
        func decide(_ op: String, _ value: UInt64, _ valueTwo: UInt64 = 0, arg: UInt64) throws -> Bool {
            let p = try profile("""
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["dup"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": \(value), "valueTwo": \(valueTwo), "op": "\(op)"}]}]}
                """)
            return try #require(p.decide(abi: .x86_64, syscall: "dup", args: [arg])).letsCallRun
        }
        #expect(try decide("SCMP_CMP_NE", 5, arg: 4) && !decide("SCMP_CMP_NE", 5, arg: 5))
        #expect(try decide("SCMP_CMP_LT", 5, arg: 4) && !decide("SCMP_CMP_LT", 5, arg: 5))
        #expect(try decide("SCMP_CMP_LE", 5, arg: 5) && !decide("SCMP_CMP_LE", 5, arg: 6))
        #expect(try decide("SCMP_CMP_EQ", 5, arg: 5) && !decide("SCMP_CMP_EQ", 5, arg: 6))
        #expect(try decide("SCMP_CMP_GE", 5, arg: 5) && !decide("SCMP_CMP_GE", 5, arg: 4))
        #expect(try decide("SCMP_CMP_GT", 5, arg: 6) && !decide("SCMP_CMP_GT", 5, arg: 5))
        #expect(try decide("SCMP_CMP_MASKED_EQ", 0xF0, 0x30, arg: 0x134) && !decide("SCMP_CMP_MASKED_EQ", 0xF0, 0x30, arg: 0x40))
        // Unsigned: -1 is the largest value; 64-bit values are exact.
        #expect(try decide("SCMP_CMP_GT", 5, arg: UInt64.max))
        #expect(try decide("SCMP_CMP_EQ", UInt64.max, arg: UInt64.max) && !decide("SCMP_CMP_EQ", UInt64.max, arg: UInt64.max - 1))
    }

    @Test func unconditionalRuleWinsOverConditionalOnesInEitherOrder() throws {
        // libseccomp db_rule_add: an unconditional rule clears a syscall's argument chains, and a rule added
        // after one is dropped as redundant.
        for order in [["errnoArgs", "allow"], ["allow", "errnoArgs"]] {
            let entries = order.map {
                $0 == "allow" ? #"{"names": ["dup"], "action": "SCMP_ACT_ALLOW"}"#
                    : #"{"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]}"#
            }
            let p = try profile(#"{"defaultAction": "SCMP_ACT_KILL", "syscalls": ["# + entries.joined(separator: ",") + "]}")
            let d = try #require(p.decide(abi: .x86_64, syscall: "dup", args: [3]))
            #expect(d.action == .allow && d.source == .entry(index: order.firstIndex(of: "allow")!, name: "dup"))
        }
    }

    @Test func firstUnconditionalRuleWins() throws {
        let p = try profile("""
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
              {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
              {"names": ["dup"], "action": "SCMP_ACT_KILL_PROCESS"}]}
            """)
        let d = try #require(p.decide(abi: .x86_64, syscall: "dup"))
        #expect(d.action == .errno && d.errnoRet == 13 && d.source == .entry(index: 0, name: "dup"))
    }

    @Test func ruleEqualToTheDefaultIsSkipped() throws {
        // runc matchCall: "This rule is redundant, silently skip it". Here it would otherwise win as the first
        // unconditional rule.
        let p = try profile("""
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
              {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
              {"names": ["dup"], "action": "SCMP_ACT_ALLOW"},
              {"names": ["dup2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2},
              {"names": ["dup2"], "action": "SCMP_ACT_ALLOW"}]}
            """)
        #expect(p.decide(abi: .x86_64, syscall: "dup")?.source == .entry(index: 1, name: "dup"))
        #expect(p.decide(abi: .x86_64, syscall: "dup2")?.errnoRet == 2)
    }

    @Test func conflictingConditionalRulesTakeTheMostRestrictiveAndSayso() throws {
        let p = try profile("""
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
              {"names": ["dup"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_LT"}]},
              {"names": ["dup"], "action": "SCMP_ACT_TRAP", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_GE"}]},
              {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}]}
            """)
        let both = try #require(p.decide(abi: .x86_64, syscall: "dup", args: [5, 1]))
        #expect(both.action == .trap && both.source == .entry(index: 1, name: "dup") && both.conflicting == [0])
        let all = try #require(p.decide(abi: .x86_64, syscall: "dup", args: [5, 0]))
        #expect(all.action == .trap && all.conflicting == [0, 2])
        let one = try #require(p.decide(abi: .x86_64, syscall: "dup", args: [1, 1]))
        #expect(one.action == .log && one.conflicting.isEmpty)
        let other = try #require(p.decide(abi: .x86_64, syscall: "dup", args: [20, 1]))
        #expect(other.source == .entry(index: 1, name: "dup") && other.conflicting.isEmpty)
        #expect(p.decide(abi: .x86_64, syscall: "dup2")?.source == .defaultAction)
    }

    @Test func includesAndExcludes() throws {
        let p = try profile("""
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
              {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT", "CAP_SYS_ADMIN"]}},
              {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_NET_RAW", "CAP_SYS_BOOT"]}},
              {"names": ["sync"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
              {"names": ["syncfs"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
              {"names": ["fsync"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["x86", "amd64"]}},
              {"names": ["fdatasync"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}}]}
            """)
        func allows(_ name: String, _ caps: Set<String> = Capabilities.dockerDefault, kernel: KernelVersion? = nil) -> Bool {
            p.decide(abi: .x86_64, syscall: name, context: ProfileContext(capabilities: caps, kernel: kernel))?.letsCallRun == true
        }
        // includes.caps: all of them; excludes.caps: any of them.
        #expect(!allows("reboot", ["CAP_SYS_BOOT"]) && allows("reboot", ["CAP_SYS_BOOT", "CAP_SYS_ADMIN"]))
        #expect(!allows("mount") && allows("mount", ["CAP_SYS_ADMIN"]) && !allows("mount", ["CAP_SYS_BOOT"]))
        // arches: the host's name (amd64), for every ABI of the call.
        #expect(!allows("sync") && !allows("syncfs") && allows("fsync"))
        #expect(p.decide(abi: .i386, syscall: "fsync")?.action == .kill)  // no archMap: i386 is not in the filter
        // excludes.minKernel: dropped from that kernel on.
        #expect(allows("fdatasync", kernel: KernelVersion(5, 4)) && !allows("fdatasync", kernel: KernelVersion(5, 10)))
        #expect(!allows("fdatasync"))  // no stated kernel: every minKernel is met
    }

    @Test func architectures() throws {
        // Only the native ABI: i386 and x32 calls meet the bad-architecture action, kill.
        let native = try profile(#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"]}"#)
        #expect(native.decide(abi: .x86_64, syscall: "read")?.action == .allow)
        for abi in [ABI.i386, .x32] {
            let d = try #require(native.decide(abi: abi, syscall: "read"))
            #expect(d.action == .kill && d.source == .architectureNotInFilter)
        }
        // The native ABI is in every filter, even when `architectures` leaves it out.
        let x86 = try profile(#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"]}"#)
        #expect(x86.resolved().abis == [.x86_64, .i386])
        // An archMap without the host's group adds nothing.
        let arm = try profile("""
            {"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}]}
            """)
        #expect(arm.resolved().abis == [.x86_64])
        let x32 = try profile("""
            {"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X32"]}]}
            """)
        #expect(x32.resolved().abis == [.x86_64, .x32])
    }

    @Test func legacyNameField() throws {
        let p = try profile(#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "getpid", "action": "SCMP_ACT_ALLOW", "args": []}]}"#)
        #expect(p.syscalls[0].names == ["getpid"])
        #expect(p.decide(abi: .x86_64, syscall: "getpid")?.action == .allow)
    }

    @Test func unknownNamesAreWarnedAndSkipped() throws {
        let loaded = try Profile.load(json: """
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
              {"names": ["getpid", "no_such_call", "riscv_flush_icache"], "action": "SCMP_ACT_ALLOW"}]}
            """)
        #expect(loaded.warnings.map(\.kind) == [.unknownSyscall, .unknownSyscall])
        #expect(loaded.warnings[0].description
            == #"syscalls[0] (getpid): unknown syscall "no_such_call" (the catalog has it for none of x86_64, i386, x32): ignored"#)
        #expect(loaded.warnings[1].message.contains("riscv_flush_icache"))
        #expect(loaded.profile.decide(abi: .x86_64, syscall: "getpid")?.action == .allow)
    }

    @Test func otherWarnings() throws {
        let loaded = try Profile.load(json: """
            {"defaultAction": "SCMP_ACT_ERRNO", "futureField": 1, "syscalls": [
              {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "errnoRet": 5, "includes": {"caps": ["CAP_FLY"]}}]}
            """)
        #expect(loaded.warnings.map(\.kind) == [.ignoredField, .ignoredField, .unknownCapability])
        #expect(loaded.warnings[1].description == "syscalls[0] (getpid): errnoRet is ignored with SCMP_ACT_ALLOW")
    }
}
