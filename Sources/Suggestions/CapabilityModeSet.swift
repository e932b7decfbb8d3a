import CapabilityPolicy
import SyscallCatalog

/// What capability mode allows, from `CapabilityPolicy.standard`: every syscall it allows for at least some
/// arguments, and for the conditional ones the condition (which decides how a seccomp profile can express it).
struct CapabilityModeSet {
    /// Allowed always or under a condition, sorted.
    let allowed: [String]
    /// The conditional subset with its condition.
    let conditions: [String: Condition]

    static let standard = CapabilityModeSet(policy: .standard)
    let policy: CapabilityPolicy

    init(policy: CapabilityPolicy) {
        self.policy = policy
        var allowed: [String] = [], conditions: [String: Condition] = [:]
        for e in policy.entries {
            switch e.decision {
            case .allow: allowed.append(e.name)
            case .conditional(.noAddress) where CapabilityModeSet.alwaysNamesAddress(e.name, policy):
                break  // bind, connect: the address is the call's point, so capability mode never allows them
            case .conditional(let c): allowed.append(e.name); conditions[e.name] = c
            case .deny: break
            }
        }
        self.allowed = allowed.sorted()
        self.conditions = conditions
    }

    /// A "no address" call whose address is a register argument but that no register test can let through:
    /// it has no address-free form (bind, connect).
    static func alwaysNamesAddress(_ name: String, _ policy: CapabilityPolicy) -> Bool {
        guard let row = Catalog.shared.syscall(named: name), row.index(of: .sockaddr) != nil else { return false }
        return policy.filterShortcuts(for: name, abi: .x86_64).isEmpty
    }

    /// Names under a condition, sorted.
    func names(_ which: Set<Condition>) -> [String] {
        conditions.filter { which.contains($0.value) }.map(\.key).sorted()
    }

    /// Argument conditions that say exactly what capability mode allows, for conditions the registers decide
    /// (no CLONE_NEW* flag; no destination address). nil when the condition depends on memory or on who the
    /// caller is, which a seccomp profile cannot check.
    func exactRules(_ name: String) -> [FilterShortcut]? {
        guard let c = conditions[name], c == .noNamespaceFlags || c == .noAddress else { return nil }
        let rules = policy.filterShortcuts(for: name, abi: .x86_64)
        guard !rules.isEmpty, rules.allSatisfy(\.sound) else { return nil }
        return rules
    }
}
