import CapabilityPolicy
import SyscallCatalog
import TraceModel

/// The syscall allowlist the oci, systemd and libseccomp writers share: what capability mode allows, plus what
/// the trace shows the program needs, with argument conditions only where the trace justifies them, and notes
/// where a seccomp filter cannot express the capability-mode rule.
struct FilterModel {
    /// A rule allowing one syscall only when all its conditions hold (rules for the same syscall are alternatives).
    struct ConditionalRule {
        var name: String
        var conditions: [ArgTest]
        var comment: String
        /// C names for the compared values, by argument index (AF_INET), for the libseccomp writer.
        var cNames: [Int: String] = [:]
    }

    let facts: TraceFacts
    /// Allowed without conditions because capability mode allows them (always, or for some arguments).
    var capabilityNames: [String] = []
    /// Names capability mode allows only for some arguments (a subset of `capabilityNames`).
    var conditionalInCapabilityMode: [String] = []
    /// Allowed without conditions because the trace shows the program making them: name -> why.
    var traceNames: [(name: String, why: String)] = []
    var conditional: [ConditionalRule] = []
    /// Address families seen in the trace's socket addresses (AF_* names), in order of first occurrence.
    var families: [String] = []
    /// Statements about what the trace cannot justify or seccomp cannot express.
    var notes: [String] = []

    /// For profiles applied from exec (oci, systemd) rather than at the entry point.
    var fromStartNote: String {
        "The profile applies from the program's start, while capability mode began at \(facts.trigger): calls the program makes only before that point (e.g. open, stat or access by path in the loader or in initialisation) are not in the trace and are refused; run the program under the profile, and add what it needs before entry."
    }

    /// Every unconditionally allowed name, sorted.
    var allowedNames: [String] { (capabilityNames + traceNames.map(\.name)).sorted() }

    init(_ facts: TraceFacts) {
        self.facts = facts
        if let n = facts.neverEnteredNote { notes.append(n) }
        let policy = CapabilityModeSet.standard
        var capability = Set(policy.allowed)
        conditionalInCapabilityMode = policy.conditions.keys.sorted()

        // What the trace shows, beyond capability mode.
        // Per syscall, in order of first occurrence: violations, sites, and the first four distinct targets.
        var seen: [String: (count: Int, sites: Set<String>, targets: [String])] = [:]
        var order: [String] = []
        for v in facts.violations {
            if seen[v.syscall] == nil { order.append(v.syscall); seen[v.syscall] = (0, [], []) }
            seen[v.syscall]!.count += 1
            seen[v.syscall]!.sites.insert(v.site)
            if let t = v.path ?? v.address, seen[v.syscall]!.targets.count < 4, !seen[v.syscall]!.targets.contains(t) {
                seen[v.syscall]!.targets.append(t)
            }
        }
        for name in order where !capability.contains(name) {
            let s = seen[name]!
            let sites = s.sites.count
            var why = "\(s.count) violation\(s.count == 1 ? "" : "s") at \(sites) site\(sites == 1 ? "" : "s")"
            let targets = s.targets
            if !targets.isEmpty { why += ": " + targets.prefix(3).joined(separator: ", ") + (targets.count > 3 ? ", ..." : "") }
            traceNames.append((name, why))
        }

        // socket(): narrowed to the families of the addresses the program named.
        var familySet = Set<String>()
        families = []
        for v in facts.violations {
            if let a = v.address, let f = addressFamily(a), familySet.insert(f).inserted { families.append(f) }
        }
        if capability.contains("socket") {
            if families.isEmpty {
                notes.append("socket: allowed for every address family — the trace names no socket address, so it cannot justify a narrower rule (socket() itself is not a violation and is not recorded).")
            } else {
                capability.remove("socket")
                for f in families {
                    guard let n = addressFamilies[f] else { continue }
                    conditional.append(ConditionalRule(
                        name: "socket", conditions: [ArgTest(index: 0, op: .equal, value: n)],
                        comment: "socket(\(f), ...): the family of addresses the trace shows", cNames: [0: f]))
                }
                notes.append("socket: only the families of the addresses the program named after entry (\(families.joined(separator: ", "))); socket() calls are not recorded, so add any family the program creates without naming an address (e.g. AF_NETLINK for getaddrinfo's AI_ADDRCONFIG).")
            }
        }
        // Conditions the registers decide exactly (clone without CLONE_NEW*, sendto without an address) become
        // argument conditions, unless the trace shows the program needs the call beyond them.
        let shown = Set(order)
        for name in capability.sorted() where !shown.contains(name) {
            guard let rules = policy.exactRules(name) else { continue }
            capability.remove(name)
            for r in rules {
                conditional.append(ConditionalRule(name: name, conditions: r.tests, comment: "\(name): \(r.note) (what capability mode allows)"))
            }
        }
        // What no suggestion grants unscoped (UsedSetProfile.neverGranted), even where capability mode allows the
        // call on the caller itself or the trace shows the program making it.
        var withheld: [String] = []
        for group in UsedSetProfile.neverGranted {
            let names = group.names.filter { capability.contains($0) || shown.contains($0) }
            guard !names.isEmpty else { continue }
            for n in names { capability.remove(n) }
            withheld.append("\(names.joined(separator: ", ")) (\(group.why))")
        }
        let withheldNames = Set(UsedSetProfile.neverGranted.flatMap(\.names))
        traceNames.removeAll { withheldNames.contains($0.name) }
        conditional.removeAll { withheldNames.contains($0.name) }
        if !withheld.isEmpty {
            notes.append("Left out, never granted by a suggestion because seccomp cannot limit them to the program itself: \(withheld.joined(separator: "; ")). A program that signals itself (raise, abort) or uses them gets EPERM.")
        }
        capabilityNames = capability.sorted()

        // Signals first: they are what a reader looks for.
        let first = FilterModel.pidCallsFirst
        let targeted = policy.names([.targetIsSelf]).filter { !withheldNames.contains($0) }
        let pidCalls = first.filter(targeted.contains) + targeted.filter { !first.contains($0) }
        if !pidCalls.isEmpty {
            notes.append("\(pidCalls.count) calls naming a process (\(pidCalls.prefix(6).joined(separator: ", "))\(pidCalls.count > 6 ? ", ..." : "")): capability mode allows them only on the caller itself; a seccomp profile cannot compare a pid argument with the caller's own pid, so they are allowed for every pid.")
        }
        let pathCalls = policy.names([.pathRelativeToDirfd, .resolveBeneath, .execDescriptor])
        if !pathCalls.isEmpty {
            notes.append("\(pathCalls.count) path calls (\(pathCalls.prefix(6).joined(separator: ", "))\(pathCalls.count > 6 ? ", ..." : "")): capability mode allows them relative to a held directory (execveat: of a held descriptor); seccomp cannot read path strings, so they are allowed for every path — restrict paths with the filesystem view (mount namespace, Landlock, systemd path directives).")
        }
        let headers = policy.names([.noAddress]).filter { capability.contains($0) && policy.exactRules($0) == nil }
        if !headers.isEmpty {
            notes.append("\(headers.joined(separator: ", ")): capability mode allows them without a destination address; the address sits in a struct in memory seccomp cannot read, so they are allowed with any address.")
        }
        let multiplexed = policy.names([.subcall])
        if !multiplexed.isEmpty {
            notes.append("\(multiplexed.joined(separator: ", ")) (i386): the multiplexed call's arguments are in memory, so they are allowed whatever the sub-call.")
        }
        let denied = facts.violations.count { $0.action == .denied }
        if denied > 0 {
            notes.append("\(denied) violation\(denied == 1 ? " was" : "s were") denied when recorded (enforce mode); they are allowed here because the program attempted them — drop them if the program works without.")
        }
    }
}

extension FilterModel {
    /// The calls naming a process that the notes list first (an order for readers, not a fact; the tests check
    /// the names against the catalog).
    static let pidCallsFirst = ["kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "prlimit64"]
}

/// x86 Linux address family numbers.
let addressFamilies: [String: UInt64] = ["AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17]

func hexC(_ v: UInt64) -> String { v < 10 ? String(v) : "0x" + String(v, radix: 16) + (v > 0x7fff_ffff ? "ULL" : "") }
