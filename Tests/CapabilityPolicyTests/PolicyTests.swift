import CapabilityPolicy
import SyscallCatalog
import Testing
import TraceModel

@Suite struct PolicyCompleteness {
    let policy = CapabilityPolicy.standard

    @Test func everyCatalogSyscallHasAnEntry() {
        let missing = Catalog.shared.allNames.filter { policy.entry(for: $0).line == 0 }
        #expect(missing == [], "syscalls without a policy entry: \(missing)")
        #expect(policy.entries.count == Catalog.shared.allNames.count)
    }

    @Test func everyABIEntryResolvesByNumber() {
        for abi in ABI.allCases {
            for (nr, sc) in Catalog.shared.entries(abi: abi) {
                #expect(policy.entry(abi: abi, nr: nr)?.name == sc.name, "\(abi) \(nr)")
            }
        }
    }

    @Test func deniedCallsGiveTheirReasonAndLinuxOnlyCallsAreMarked() {
        for e in policy.entries where e.decision.kind == .deny { #expect(e.note != nil, "\(e.name) is denied without a reason") }
        let linuxOnly = Set(policy.entries.filter(\.linuxOnly).map(\.name))
        for name in ["openat2", "io_uring_setup", "epoll_wait", "clone3", "pidfd_open", "landlock_create_ruleset",
                     "unshare", "bpf", "perf_event_open", "keyctl", "statx", "socketcall", "ipc", "memfd_create"] {
            #expect(linuxOnly.contains(name), "\(name) should be marked linux-only")
        }
        for name in ["read", "openat", "kill", "execve", "bind", "mmap", "fork"] {
            #expect(!linuxOnly.contains(name), "\(name) has a FreeBSD counterpart")
        }
    }

    @Test func contractExamplesHaveTheirVerdicts() {
        let violations = ["open", "openat", "openat2", "newfstatat", "access", "readlink", "mkdir", "unlink", "rename",
                          "link", "symlink", "chmod", "chown", "utimes", "truncate", "statfs", "getxattr",
                          "inotify_add_watch", "fanotify_mark", "chdir", "execve", "bind", "connect", "sendto",
                          "sendmsg", "kill", "ptrace", "process_vm_readv", "pidfd_open", "prlimit64", "shmget",
                          "semget", "msgget", "mq_open", "mq_unlink", "mount", "init_module", "reboot",
                          "clock_settime", "sethostname", "chroot", "pivot_root", "unshare", "setns", "bpf",
                          "perf_event_open", "add_key", "syslog", "io_uring_setup", "socket"]
        for name in violations { #expect(policy.mayViolate(name), "\(name) must be trapped") }
        // socket may violate (raw IP and packet sockets), but the filter stops only those: see RawSocketTraps.
        let quiet = ["read", "write", "close", "fstat", "mmap", "socketpair", "listen", "accept",
                     "accept4", "wait4", "waitid", "memfd_create", "futex", "getpid", "exit_group", "recvfrom"]
        for name in quiet { #expect(!policy.mayViolate(name), "\(name) needs no stop") }
        #expect(policy.mayViolate("no_such_syscall"))
        #expect(policy.entry(for: "no_such_syscall").decision.kind == .deny)
    }

    @Test func groupsAreDocumented() {
        let groups = Set(policy.entries.map(\.group))
        #expect(groups.count >= 15)
        for g in groups { #expect(PolicyDataProbe.paragraph(of: g), "[\(g)] has no ## paragraph") }
    }
}

/// Reads the policy text through the public loader's input: each group header must be followed by a `##` line.
enum PolicyDataProbe {
    static func paragraph(of group: String) -> Bool {
        let lines = CapabilityPolicy.standardText.split(separator: "\n", omittingEmptySubsequences: false)
        guard let i = lines.firstIndex(where: { $0 == "[\(group)]" }), i + 1 < lines.count else { return false }
        return lines[i + 1].hasPrefix("## ")
    }
}

@Suite struct PolicyLoaderRejects {
    static let header = "[test]\n"

    func error(_ body: String, complete: Bool = false) -> PolicyError? {
        do {
            _ = try PolicyLoader.parse(body, requireComplete: complete)
            return nil
        } catch {
            return error
        }
    }

    @Test func aWellFormedFragmentParses() throws {
        let entries = try PolicyLoader.parse("""
            # comment
            [files]
            ## why
            close   allow  -  -
            open    deny  filesystem  by-path  # global
            openat  conditional  filesystem  path-relative-to-dirfd
            [other]
            mount   deny  system  system-state  # global state
            tkill   conditional  process  target-is-self  # linux-only: by tid
            """)
        #expect(entries.map(\.name) == ["close", "open", "openat", "mount", "tkill"])
        #expect(entries[2].decision == .conditional(.pathRelativeToDirfd))
        #expect(entries[1].decision == .deny(nil) && entries[1].line == 5)
        #expect(entries[3].decision == .deny(.systemState) && entries[3].namespace == .system)
        #expect(entries[4].linuxOnly && entries[4].note == "linux-only: by tid" && entries[4].group == "other")
    }

    @Test(arguments: [
        ("read allow -", "expected NAME VERDICT NAMESPACE DETAIL"),
        ("read allow - - extra", "expected NAME VERDICT NAMESPACE DETAIL"),
        ("no_such_call allow - -", "unknown syscall 'no_such_call'"),
        ("read permit - -", "unknown verdict 'permit'"),
        ("read allow galaxy -", "unknown namespace 'galaxy'"),
        ("read allow - absolute-path", "an allowed call takes no detail"),
        ("read allow filesystem -", "an allowed call reaches no namespace"),
        ("open deny filesystem by-path", "needs a # reason"),
        ("open deny - by-path # x", "needs a namespace"),
        ("open deny filesystem not-a-rule # x", "unknown rule 'not-a-rule'"),
        ("open deny network absolute-path # x", "belongs to filesystem, not network"),
        ("mount deny system by-path # x", "by-path is a filesystem rule"),
        ("openat conditional - path-relative-to-dirfd", "needs the namespace"),
        ("openat conditional filesystem when-i-feel-like-it", "unknown condition"),
        ("read conditional process target-is-self", "needs a known target shape"),
    ])
    func malformedLine(line: String, message: String) {
        let e = error(Self.header + line)
        #expect(e?.line == 2, "\(line)")
        #expect(e?.message.contains(message) == true, "\(line): \(String(describing: e))")
        #expect(e?.description.hasPrefix("policy line 2: ") == true)
    }

    @Test func structuralErrors() {
        #expect(error("read allow - -")?.message.contains("before any [group]") == true)
        #expect(error("[bad group]\nread allow - -")?.message.contains("malformed group name") == true)
        #expect(error("[x\nread allow - -")?.message.contains("malformed group header") == true)
        let dup = error("[a]\nread allow - -\n[b]\nread allow - -")
        #expect(dup?.line == 4 && dup?.message.contains("already has an entry on line 2") == true)
        let order = error("[a]\nwrite allow - -\nread allow - -")
        #expect(order?.line == 3 && order?.message.contains("out of order") == true)
        let incomplete = error("[a]\nread allow - -", complete: true)
        #expect(incomplete?.line == 0 && incomplete?.message.contains("no entry for:") == true)
        #expect(incomplete?.message.contains("openat") == true)
    }

    @Test func theStandardPolicyIsWhatTheLoaderAccepts() throws {
        let reparsed = try PolicyLoader.parse(CapabilityPolicy.standardText, requireComplete: true)
        #expect(reparsed == CapabilityPolicy.standard.entries)
    }
}

@Suite struct FilterShortcuts {
    let policy = CapabilityPolicy.standard

    @Test func fstatFamilyShortcutIsTheAtEmptyPathBitAndIsMarkedUnsound() throws {
        let x = policy.filterShortcuts(for: "newfstatat", abi: .x86_64)
        #expect(x.count == 1)
        let shortcut = try #require(x.first)
        #expect(!shortcut.sound)
        #expect(shortcut.tests == [ArgTest(index: 3, op: .maskedEqual(mask: 0x1000), value: 0x1000)])
        #expect(shortcut.unless == ArgTest(index: 0, op: .maskedEqual(mask: 0xFFFF_FFFF), value: 0xFFFF_FF9C))
        #expect(shortcut.passes([3, 1, 1, 0x1000, 0, 0]))  // glibc's fstat
        #expect(!shortcut.passes([0xFFFF_FF9C, 1, 1, 0x1000, 0, 0]))  // AT_FDCWD is trapped
        #expect(!shortcut.passes([3, 1, 1, 0x100, 0, 0]))  // no AT_EMPTY_PATH
        #expect(policy.filterShortcuts(for: "statx", abi: .x86_64).first?.tests.first?.index == 2)
        #expect(policy.filterShortcuts(for: "fstatat64", abi: .i386).first?.tests.first?.index == 3)
        #expect(policy.filterShortcuts(for: "fstatat64", abi: .x86_64) == [])  // not an x86_64 syscall
    }

    @Test func callsThatNeedMemoryHaveNoShortcut() {
        for name in ["openat", "openat2", "execveat", "connect", "bind", "sendmsg", "kill", "tgkill", "clone3",
                     "read", "execve", "socketcall"] {
            #expect(policy.filterShortcuts(for: name, abi: .x86_64).isEmpty || name == "socketcall", "\(name)")
        }
        #expect(policy.filterShortcuts(for: "socketcall", abi: .i386).isEmpty)
    }

    @Test func commonSelfCallsPassSoundly() {
        #expect(policy.filterShortcuts(for: "prlimit64", abi: .x86_64).contains { $0.sound && $0.passes([0, 7, 0, 1, 0, 0]) })
        #expect(policy.filterShortcuts(for: "sched_getaffinity", abi: .x86_64).contains { $0.passes([0, 128, 1, 0, 0, 0]) })
        #expect(policy.filterShortcuts(for: "sendto", abi: .x86_64).contains { $0.passes([3, 1, 10, 0, 0, 0]) })
        #expect(policy.filterShortcuts(for: "clone", abi: .x86_64).contains { $0.passes([0x003D_0F00, 0, 0, 0, 0, 0]) })
        #expect(!policy.filterShortcuts(for: "clone", abi: .x86_64).contains { $0.passes([0x4000_0011, 0, 0, 0, 0, 0]) })
        #expect(policy.filterShortcuts(for: "clock_gettime", abi: .x86_64).contains { $0.passes([1, 0, 0, 0, 0, 0]) })
    }

    /// Every sound shortcut, on many register sets, passes only calls the classifier allows.
    @Test func soundShortcutsNeverPassAViolation() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let small: [UInt64] = [0, 1, 2, 3, 17, 1000, 1001, 1234, 0xFFFF_FFFF, 0xFFFF_FF9C, 0x4000_0000, 0x1000]
            return seed >> 60 < 8 ? small[Int(seed >> 33) % small.count] : seed
        }
        var checked = 0
        for abi in ABI.allCases {
            for (nr, sc) in Catalog.shared.entries(abi: abi) {
                let shortcuts = policy.filterShortcuts(for: sc.name, abi: abi).filter(\.sound)
                for shortcut in shortcuts {
                    for _ in 0..<300 {
                        var args = (0..<6).map { _ in next() }
                        for t in shortcut.tests {  // make the tests hold, keeping the other bits random
                            switch t.op {
                            case .equal: args[t.index] = t.value
                            case .maskedEqual(let mask): args[t.index] = (args[t.index] & ~mask) | t.value
                            }
                        }
                        if let u = shortcut.unless, u.holds(args) { continue }
                        #expect(shortcut.passes(args))
                        let call = DecodedCall(abi: abi, nr: nr, syscall: sc, args: args, pid: 1000, tid: 1001)
                        #expect(Classifier.classify(call) == .allowed, "\(abi) \(sc.name) \(args)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 3000)
    }
}

@Suite struct PolicyTableRendering {
    @Test func textListsEveryCallWithItsVerdict() {
        let text = PolicyTable.render(abi: .x86_64, json: false)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 384 + 2)
        #expect(lines[0].hasPrefix("# x86_64: 384 syscalls; "))
        let openat = lines.first { $0.split(separator: " ").dropFirst().first == "openat" }
        #expect(openat?.split(separator: " ").map(String.init) == ["257", "openat", "conditional", "filesystem", "path-relative-to-dirfd"])
        let execve = lines.first { $0.split(separator: " ").dropFirst().first == "execve" }
        #expect(execve?.split(separator: " ").map(String.init) == ["59", "execve", "deny", "filesystem", "exec"])
    }

    @Test func i386JSONIsAnArrayOfObjects() throws {
        let json = try JSONValue.parse(PolicyTable.render(abi: .i386, json: true))
        let array = try #require(json.arrayValue)
        #expect(array.count == Catalog.shared.entries(abi: .i386).count)
        let open = try #require(array.first { $0["name"]?.stringValue == "open" })
        #expect(open["nr"]?.intValue == 5 && open["abi"]?.stringValue == "i386")
        #expect(open["verdict"]?.stringValue == "deny" && open["namespace"]?.stringValue == "filesystem")
        #expect(open["rule"]?.stringValue == "by-path" && open["condition"]?.isNull == true)
        let socketcall = try #require(array.first { $0["name"]?.stringValue == "socketcall" })
        #expect(socketcall["condition"]?.stringValue == "subcall" && socketcall["linux_only"]?.boolValue == true)
        let read = try #require(array.first { $0["name"]?.stringValue == "read" })
        #expect(read["verdict"]?.stringValue == "allow" && read["namespace"]?.isNull == true)
        let numbers = array.compactMap { $0["nr"]?.intValue }
        #expect(numbers == numbers.sorted())
    }
}

@Suite struct RawSocketTraps {
    /// Whether the filter's trap tests (ORed conjunctions) stop `socket(family, type, 0)`.
    func traps(_ family: Int32, _ type: Int32) -> Bool {
        let args: [UInt64] = [UInt64(UInt32(bitPattern: family)), UInt64(UInt32(bitPattern: type)), 0, 0, 0, 0]
        return RawSockets.trapTests.contains { $0.allSatisfy { $0.holds(args) } }
    }

    @Test func theFilterStopsExactlyTheSocketsTheClassifierRefuses() {
        let families: [Int32] = [1, 2, 10, 16, 17, 0x1_02 /* high bits */]
        let types: [Int32] = [1, 2, 3, 5, 3 | 0o2000000, 3 | 0o4000, 10]
        for f in families {
            for t in types {
                #expect(traps(f, t) == RawSockets.isRaw(family: f, type: t), "family \(f) type \(t)")
            }
        }
        #expect(!traps(1, 1) && !traps(2, 1) && !traps(10, 2) && !traps(16, 3), "ordinary sockets never stop")
        #expect(traps(2, 3) && traps(10, 3 | 0o2000000) && traps(17, 2))
    }
}
