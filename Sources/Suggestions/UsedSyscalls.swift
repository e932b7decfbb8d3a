import SeccompProfiles
import SyscallCatalog
import TraceModel

/// What the traced programs used, from the `syscalls` records of `run --syscalls` (one trace or several): every
/// syscall of every process from exec on (before and after entry), per ABI, with socket domains and clone flags.
public struct UsedSyscalls: Sendable, Equatable {
    /// Names used, per ABI.
    public var names: [ABI: Set<String>] = [:]
    /// Numbers the catalog does not name, per ABI (a profile cannot name them).
    public var unnamed: [ABI: Set<Int>] = [:]
    /// socket and socketpair domains used.
    public var socketDomains: Set<Int> = []
    public var socketpairDomains: Set<Int> = []
    /// The union of the flags of every clone and clone3.
    public var cloneFlags: UInt64 = 0
    public var processes = 0

    /// nil when the trace has no `syscalls` record (recorded without `run --syscalls`).
    public init?(_ trace: Trace) {
        let sets = trace.syscallSets
        guard !sets.isEmpty else { return nil }
        for s in sets {
            processes += 1
            for c in s.counts where c.before + c.after > 0 {
                if let sc = Catalog.shared.syscall(abi: c.abi, nr: c.nr) { names[c.abi, default: []].insert(sc.name) }
                else { unnamed[c.abi, default: []].insert(c.nr) }
            }
            for k in s.sockets {
                if k.call == "socket" { socketDomains.insert(k.domain) } else { socketpairDomains.insert(k.domain) }
            }
            cloneFlags |= (s.cloneFlags ?? 0) | (s.clone3Flags ?? 0)
        }
    }

    /// Every name, of every ABI.
    public var allNames: Set<String> { names.values.reduce(into: Set<String>()) { $0.formUnion($1) } }
    public var abis: [ABI] { ABI.allCases.filter { names[$0]?.isEmpty == false || unnamed[$0]?.isEmpty == false } }
}

/// The seccomp allowlist suggested from what the program used: the one model the oci, spo, systemd and
/// libseccomp writers render.
public struct UsedSetProfile: Sendable {
    /// A call the program used that no suggestion grants, and why.
    public struct LeftOut: Sendable, Equatable {
        public var name: String
        public var reason: String
    }

    public let used: UsedSyscalls
    /// Granted for every argument.
    public var unconditional: [String] = []
    /// socket / socketpair: the domains granted.
    public var socketDomains: [Int] = []
    public var socketpairDomains: [Int] = []
    /// clone: granted when no bit of this mask (the CLONE_NEW* flags the program did not use) is set; nil when the
    /// program made neither clone nor clone3.
    public var cloneForbiddenMask: UInt64?
    public var leftOut: [LeftOut] = []
    /// What a seccomp profile cannot express or what the reader must know.
    public var notes: [String] = []

    /// The calls never granted unscoped: they reach other processes, the kernel or the whole system.
    static let neverGranted: [(names: [String], why: String)] = [
        (["ptrace"], "traces and controls other processes"),
        (["process_vm_readv", "process_vm_writev"], "reads or writes another process's memory"),
        (["pidfd_getfd"], "takes descriptors out of another process"),
        (["kill", "tkill", "tgkill", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo"],
         "sends signals to any process"),
        (["bpf"], "loads programs into the kernel"),
        (["perf_event_open"], "observes other processes and the kernel"),
        (["mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
          "open_tree", "mount_setattr"], "changes the mount table"),
        (["kexec_load", "kexec_file_load", "reboot"], "replaces or restarts the kernel"),
        (["init_module", "finit_module", "delete_module", "create_module"], "loads or unloads kernel modules"),
        (["keyctl", "add_key", "request_key"], "reaches the kernel keyrings, shared beyond the program"),
        (["swapon", "swapoff", "iopl", "ioperm", "acct", "quotactl", "syslog", "open_by_handle_at"],
         "acts on the whole system"),
    ]

    /// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (CLONE_NEWTIME is 0x80, the low byte a
    /// clone() call uses for its exit signal: only clone3 and unshare can ask for it).
    static let namespaceFlags: [(bit: UInt64, name: String)] = [
        (0x0002_0000, "CLONE_NEWNS"), (0x0200_0000, "CLONE_NEWCGROUP"), (0x0400_0000, "CLONE_NEWUTS"),
        (0x0800_0000, "CLONE_NEWIPC"), (0x1000_0000, "CLONE_NEWUSER"), (0x2000_0000, "CLONE_NEWPID"),
        (0x4000_0000, "CLONE_NEWNET"),
    ]

    /// The argument-conditioned calls: socket and socketpair by domain, clone by flags, clone3 refused with ENOSYS.
    static let argumentRuled: Set<String> = ["socket", "socketpair", "clone", "clone3"]

    public init(_ used: UsedSyscalls, violations: [ViolationEvent] = [], fromExec: Bool = true) {
        self.used = used
        let all = used.allNames
        var refused: [String: String] = [:]
        for group in Self.neverGranted { for n in group.names { refused[n] = group.why } }
        let signals: Set<String> = ["kill", "tkill", "tgkill", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo"]
        for name in all.sorted() where refused[name] != nil {
            var reason = "\(name) \(refused[name]!)"
            if signals.contains(name) {
                let others = violations.filter { $0.syscall == name }
                if !others.isEmpty {
                    reason += "; the trace shows it aimed at another process (\(others.count) violation\(others.count == 1 ? "" : "s"))"
                } else if fromExec {
                    reason += "; the trace shows it aimed only at the program itself (no violation from exec on), which seccomp cannot express: it cannot compare a pid argument with the caller's own pid"
                } else {
                    reason += "; before entry its targets were not judged"
                }
            }
            leftOut.append(LeftOut(name: name, reason: reason))
        }
        unconditional = all.filter { refused[$0] == nil && !Self.argumentRuled.contains($0) }.sorted()
        if all.contains("socket") { socketDomains = used.socketDomains.sorted() }
        if all.contains("socketpair") { socketpairDomains = used.socketpairDomains.sorted() }
        if all.contains("clone") || all.contains("clone3") {
            cloneForbiddenMask = Self.namespaceFlags.filter { used.cloneFlags & $0.bit == 0 }.reduce(0) { $0 | $1.bit }
        }

        for (abi, nrs) in used.unnamed.sorted(by: { $0.key.ordinal < $1.key.ordinal }) {
            notes.append("\(abi.rawValue) syscall numbers the catalog does not name (\(nrs.sorted().map(String.init).joined(separator: ", "))) cannot be written by name: they stay refused.")
        }
        if used.abis.count > 1 {
            notes.append("Names are granted for every ABI in architectures (\(used.abis.map(\.rawValue).joined(separator: ", "))): a profile cannot grant a name for one ABI only.")
        }
        if all.contains("socketcall") {
            notes.append("socketcall (i386): its sub-call and arguments are in memory, so it is granted whatever the sub-call and domain.")
        }
        notes.append("Paths cannot be expressed in a seccomp profile (the filter cannot read strings): open, stat, exec and the other path calls are granted for every path. Restrict paths with a Landlock ruleset: captrace suggest --format landlock.")
    }

    /// The SCMP_ARCH_* names of the ABIs the program used.
    public var architectures: [String] { used.abis.map(Architectures.name(of:)) }

    func cloneComment(_ mask: UInt64) -> String {
        let kept = Self.namespaceFlags.filter { mask & $0.bit == 0 }.map(\.name)
        return "clone without \(kept.isEmpty ? "any" : "the") CLONE_NEW* flags the program did not use"
            + (kept.isEmpty ? "" : " (it used \(kept.joined(separator: ", ")))")
            + "; flags seen: \(TraceCodec.hex(used.cloneFlags))"
    }

    /// The OCI profile: what `suggest --format oci` writes (JSON) and `SeccompProfiles` loads.
    public func profile(commandLine: String) -> Profile {
        var entries: [Entry] = []
        if !unconditional.isEmpty {
            entries.append(Entry(names: unconditional, action: .allow,
                                 comment: "used by the program (\(used.processes) process\(used.processes == 1 ? "" : "es") recorded with run --syscalls)"))
        }
        for d in socketDomains {
            entries.append(Entry(names: ["socket"], action: .allow, args: [ArgumentRule(index: 0, value: UInt64(d), op: .equal)],
                                 comment: "socket(\(domainName(d)), ...): a domain the program used"))
        }
        for d in socketpairDomains {
            entries.append(Entry(names: ["socketpair"], action: .allow, args: [ArgumentRule(index: 0, value: UInt64(d), op: .equal)],
                                 comment: "socketpair(\(domainName(d)), ...): a domain the program used"))
        }
        if let mask = cloneForbiddenMask {
            entries.append(Entry(names: ["clone"], action: .allow,
                                 args: [ArgumentRule(index: 0, value: mask, valueTwo: 0, op: .maskedEqual)],
                                 comment: cloneComment(mask)))
        }
        entries.append(Entry(names: ["clone3"], action: .errno, errnoRet: 38,
                             comment: "clone3 fails with ENOSYS: its flags are in memory, which seccomp cannot read; glibc then falls back to clone"
                                 + (cloneForbiddenMask == nil ? " (which the program did not use: refused)" : ", whose flags the rule above checks")
                                 + " (Docker's default profile does the same)"))
        var p = Profile(defaultAction: .errno, defaultErrnoRet: 1, architectures: architectures, syscalls: entries)
        p.comment = headerLines(commandLine: commandLine).joined(separator: "\n")
        return p
    }

    /// The explanation every format carries: where the set came from, what was left out and why, the notes.
    func headerLines(commandLine: String) -> [String] {
        var lines = ["captrace suggest from run --syscalls of: \(commandLine). Grants exactly the syscalls the program used from exec on; every other call fails with EPERM."]
        for l in leftOut { lines.append("LEFT OUT \(l.name): \(l.reason).") }
        lines += notes
        return lines
    }

    /// For stderr: one line per call left out.
    public var warnings: [String] {
        leftOut.map { "warning: \($0.name) left out of the profile although the program used it: \($0.reason)" }
    }
}

/// AF_* names of the domains commonly seen (x86 Linux numbers), else the number.
func domainName(_ d: Int) -> String {
    let names: [Int: String] = [1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET"]
    return names[d] ?? String(d)
}
