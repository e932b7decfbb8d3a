import SeccompProfiles
import SyscallCatalog
import Testing

/// Docker's and Podman's published default profiles, loaded unchanged (Fixtures/README.md names their sources).
@Suite struct PublishedProfileTests {
    @Test func dockerDefaultLoadsUnchanged() throws {
        let loaded = try Fixtures.load("docker-default.json")
        let p = loaded.profile
        #expect(p.defaultAction == .errno)
        #expect(p.defaultErrnoRet == EPERM)
        #expect(p.archMap.first?.architecture == "SCMP_ARCH_X86_64")
        #expect(p.syscalls.count == 33)
        // The only warnings are names of other architectures (runc skips them too).
        #expect(loaded.warnings.allSatisfy { $0.kind == .unknownSyscall })
        let warned = loaded.warnings.map(\.message)
        #expect(warned.contains { $0.contains("\"arm_fadvise64_64\"") })
        #expect(warned.contains { $0.contains("\"s390_pci_mmio_read\"") })
        #expect(!warned.contains { $0.contains("\"socketcall\"") })  // i386 has it
        // Exactly the other architectures' calls (arm, riscv, s390, ppc names), once per entry naming one.
        let names = loaded.warnings.map { String($0.message.split(separator: "\"")[1]) }
        #expect(Set(names) == [
            "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "recv", "riscv_flush_icache",
            "riscv_hwprobe", "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr", "send", "set_tls",
            "swapcontext", "sync_file_range2",
        ])
        // Calls newer than Linux 6.1 that the profile allows are in the catalog and allowed.
        for name in ["fchmodat2", "cachestat", "map_shadow_stack", "futex_wait", "mseal"] {
            #expect(p.decide(abi: .x86_64, syscall: name)?.action == .allow, "\(name)")
        }
        #expect(p.resolved().abis == Set(ABI.allCases))
    }

    @Test func podmanDefaultLoadsUnchanged() throws {
        let loaded = try Fixtures.load("podman-default.json")
        let p = loaded.profile
        #expect(p.defaultAction == .errno)
        #expect(p.defaultErrnoRet == ENOSYS)
        #expect(loaded.warnings.allSatisfy { $0.kind == .unknownSyscall })
        let r = p.resolved()
        #expect(r.decide(abi: .x86_64, syscall: "read")?.action == .allow)
        // Unlike Docker's, Podman's default allows unshare to every container.
        #expect(r.decide(abi: .x86_64, syscall: "unshare")?.action == .allow)
        // A name no entry lists gets the default: ENOSYS, so programs fall back as on an older kernel.
        let addKey = try #require(r.decide(abi: .x86_64, syscall: "add_key"))
        #expect(addKey.source == .defaultAction && addKey.action == .errno && addKey.errnoRet == ENOSYS)
        // lookup_dcookie: EPERM by an entry excluded with CAP_SYS_ADMIN, allowed by one included with it.
        let d = try #require(r.decide(abi: .x86_64, syscall: "lookup_dcookie"))
        #expect(d.source == .entry(index: 16, name: "lookup_dcookie") && d.errnoRet == EPERM)
        let admin = ProfileContext(capabilities: Capabilities.dockerDefault.union(["CAP_SYS_ADMIN"]))
        #expect(p.decide(abi: .x86_64, syscall: "lookup_dcookie", context: admin)?.source
            == .entry(index: 15, name: "lookup_dcookie"))
    }

    @Test func dockerRefusesAddKeyAndUnshareWithEPERM() throws {
        let r = try Fixtures.load("docker-default.json").profile.resolved()
        for name in ["add_key", "unshare"] {
            let d = try #require(r.decide(abi: .x86_64, syscall: name))
            #expect(d.action == .errno && d.errnoRet == EPERM && d.source == .defaultAction, "\(name): \(d)")
            #expect(!d.letsCallRun)
        }
        #expect(r.decide(abi: .x86_64, syscall: "read")?.letsCallRun == true)
    }

    @Test func unshareAllowedWithSysAdmin() throws {
        let p = try Fixtures.load("docker-default.json").profile
        var caps = Capabilities.dockerDefault
        caps.insert("CAP_SYS_ADMIN")
        let d = try #require(p.decide(abi: .x86_64, syscall: "unshare", context: ProfileContext(capabilities: caps)))
        #expect(d.action == .allow)
        #expect(d.source == .entry(index: 17, name: "unshare"))
        #expect(p.syscalls[17].includes?.caps == ["CAP_SYS_ADMIN"])
        // add_key stays refused: no capability brings it in.
        let all = ProfileContext(capabilities: Set(Capabilities.all))
        #expect(p.decide(abi: .x86_64, syscall: "add_key", context: all)?.action == .errno)
    }

    @Test func cloneWithNamespaceFlagsRefusedByTheArgumentRule() throws {
        let p = try Fixtures.load("docker-default.json").profile
        let r = p.resolved()
        let SIGCHLD: UInt64 = 17, CLONE_VM: UInt64 = 0x100, CLONE_THREAD: UInt64 = 0x10000
        let CLONE_NEWUSER: UInt64 = 0x1000_0000, CLONE_NEWNS: UInt64 = 0x20000, CLONE_NEWPID: UInt64 = 0x2000_0000
        // fork-like and thread-like clones pass the MASKED_EQ rule (flags & 0x7E020000 == 0).
        for flags in [SIGCHLD, CLONE_VM | CLONE_THREAD | 0x3d0f00] {
            let d = try #require(r.decide(abi: .x86_64, syscall: "clone", args: [flags]))
            #expect(d.action == .allow && d.source == .entry(index: 18, name: "clone"))
        }
        for flags in [CLONE_NEWUSER | SIGCHLD, CLONE_NEWNS, CLONE_NEWPID | SIGCHLD] {
            let d = try #require(r.decide(abi: .x86_64, syscall: "clone", args: [flags]))
            #expect(d.action == .errno && d.errnoRet == EPERM && d.source == .defaultAction)
        }
        // clone3 cannot be filtered by its flags (they are in memory): Docker answers ENOSYS so glibc falls back.
        let c3 = try #require(r.decide(abi: .x86_64, syscall: "clone3"))
        #expect(c3.action == .errno && c3.errnoRet == ENOSYS && c3.source == .entry(index: 20, name: "clone3"))
        // With CAP_SYS_ADMIN the unconditional entry allows every clone.
        let admin = ProfileContext(capabilities: Capabilities.dockerDefault.union(["CAP_SYS_ADMIN"]))
        #expect(p.decide(abi: .x86_64, syscall: "clone", args: [CLONE_NEWUSER], context: admin)?.action == .allow)
        #expect(p.decide(abi: .x86_64, syscall: "clone3", context: admin)?.action == .allow)
    }

    @Test func personalityAllowedOnlyForListedValues() throws {
        let r = try Fixtures.load("docker-default.json").profile.resolved()
        for value: UInt64 in [0, 8, 0x20000, 0x20008, 0xFFFF_FFFF] {
            #expect(r.decide(abi: .x86_64, syscall: "personality", args: [value])?.action == .allow, "\(value)")
        }
        let ADDR_NO_RANDOMIZE: UInt64 = 0x0040000, READ_IMPLIES_EXEC: UInt64 = 0x0400000
        for value in [ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, 1] {
            let d = try #require(r.decide(abi: .x86_64, syscall: "personality", args: [value]))
            #expect(d.action == .errno && d.source == .defaultAction, "\(value)")
        }
    }

    @Test func i386AndX32ThroughArchMap() throws {
        let r = try Fixtures.load("docker-default.json").profile.resolved()
        // archMap's SCMP_ARCH_X86_64 group brings SCMP_ARCH_X86 and SCMP_ARCH_X32 into the filter.
        #expect(r.decide(abi: .i386, syscall: "read")?.action == .allow)
        #expect(r.decide(abi: .x32, syscall: "read")?.action == .allow)
        #expect(r.decide(abi: .i386, syscall: "socketcall")?.action == .allow)  // an i386-only name
        #expect(r.decide(abi: .i386, syscall: "add_key")?.errnoRet == EPERM)
        #expect(r.decide(abi: .x32, syscall: "unshare")?.errnoRet == EPERM)
        // The i386 clone has the flags in the same register: the rule applies there too.
        #expect(r.decide(abi: .i386, syscall: "clone", args: [17])?.action == .allow)
        #expect(r.decide(abi: .i386, syscall: "clone", args: [0x1000_0011])?.action == .errno)
        // 32-bit filters compare the low 32 bits: personality(0x1_ffffffff) is 0xffffffff on i386, not on x86_64.
        #expect(r.decide(abi: .i386, syscall: "personality", args: [0x1_FFFF_FFFF])?.action == .allow)
        #expect(r.decide(abi: .x86_64, syscall: "personality", args: [0x1_FFFF_FFFF])?.action == .errno)
        // Numbers are per ABI: i386's 286 is add_key, x86_64's 286 is timerfd_settime.
        #expect(r.decide(abi: .i386, nr: 286).action == .errno)
        #expect(r.decide(abi: .x86_64, nr: 286).action == .allow)
    }

    @Test func minKernelFollowsTheStatedKernel() throws {
        let p = try Fixtures.load("docker-default.json").profile
        // Entry 1 allows ptrace from 4.8 on (seccomp could be bypassed through ptrace before).
        #expect(p.decide(abi: .x86_64, syscall: "ptrace")?.action == .allow)
        #expect(p.decide(abi: .x86_64, syscall: "ptrace", context: ProfileContext(kernel: KernelVersion(6, 8)))?
            .source == .entry(index: 1, name: "ptrace"))
        #expect(p.decide(abi: .x86_64, syscall: "ptrace", context: ProfileContext(kernel: KernelVersion(4, 7)))?
            .action == .errno)
        #expect(KernelVersion(release: "6.8.0-45-generic") == KernelVersion(6, 8))
        #expect(KernelVersion(release: "4.8") == KernelVersion(4, 8))
        #expect(KernelVersion(release: "6") == nil)
    }

    @Test func defaultCapabilitiesAreDockers() {
        #expect(Capabilities.dockerDefault.count == 14)
        #expect(Capabilities.dockerDefault.isSubset(of: Set(Capabilities.all)))
        #expect(!Capabilities.dockerDefault.contains("CAP_SYS_ADMIN"))
        #expect(Capabilities.all.count == 41)
        #expect(Capabilities.named("sys_admin") == "CAP_SYS_ADMIN")
        #expect(Capabilities.named("cap_net_raw") == "CAP_NET_RAW")
        #expect(Capabilities.named("CAP_NOPE") == nil)
    }
}
