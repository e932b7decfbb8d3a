import SyscallCatalog

/// What a runtime knows when it turns a profile into a filter: the container's capabilities and the kernel.
/// The host architecture is always x86_64 (`Architectures.host`), the only one captrace runs on.
public struct ProfileContext: Sendable, Equatable {
    /// The bounding set `includes.caps` / `excludes.caps` are judged against (moby reads
    /// `Process.Capabilities.Bounding`). Default: Docker's set for a container that is not privileged.
    public var capabilities: Set<String>
    /// The kernel `minKernel` is judged against; nil counts every `minKernel` as met (a current kernel).
    public var kernel: KernelVersion?

    public init(capabilities: Set<String> = Capabilities.dockerDefault, kernel: KernelVersion? = nil) {
        self.capabilities = capabilities
        self.kernel = kernel
    }
}

/// What the profile does with one call, and why.
public struct Decision: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `syscalls[index]` decided, through `name`.
        case entry(index: Int, name: String)
        /// No entry matched: the profile's `defaultAction`.
        case defaultAction
        /// The call's ABI is not among the filter's architectures: libseccomp's bad-architecture action,
        /// which runc leaves at its default, SCMP_ACT_KILL (the thread).
        case architectureNotInFilter
    }

    /// The action as the profile writes it (`SCMP_ACT_KILL` kills the thread, as `SCMP_ACT_KILL_THREAD`).
    public let action: Action
    /// The errno of ERRNO (or the message of TRACE): the entry's `errnoRet`, else EPERM as in runc; nil for
    /// actions without one.
    public let errnoRet: UInt32?
    public let source: Source
    /// Other entries whose conditional rules matched the call with a different action or errno. libseccomp does
    /// not order such rules (see `ResolvedProfile`); non-empty means the profile is ambiguous for this call.
    public let conflicting: [Int]

    /// Whether the call runs (ALLOW or LOG).
    public var letsCallRun: Bool { action.letsCallRun }
}

/// A profile resolved for one context, as runc would install it: ready to decide calls.
///
/// Resolution follows moby `setupSeccomp` then runc `InitSeccomp`/`matchCall`:
/// - Architectures: `architectures` if given, else the `archMap` group whose `architecture` is SCMP_ARCH_X86_64
///   with its `subArchitectures`. The native x86_64 is always in the filter (seccomp_init adds it); an i386 or
///   x32 call outside the list meets the bad-architecture action (kill).
/// - Entries whose `includes`/`excludes` do not hold for the context are dropped (see `Condition`);
///   `includes.arches`/`excludes.arches` are compared with the host's name, `amd64`, whatever the call's ABI.
/// - Each name becomes one rule per ABI that has it (i386-only names such as `socketcall` apply to i386 calls
///   only; a name no ABI has is skipped). A rule whose action and errno equal the default's is skipped, as runc
///   skips it ("redundant").
/// - Arguments: i386 and x32 filters are 32-bit in libseccomp, so only the low 32 bits are compared there.
///
/// Several rules for one syscall. libseccomp documents no precedence between rules of one filter: its
/// seccomp_rule_add(3) says rules "are combined into a union, with additional logic to eliminate redundant
/// syscall filters", and its maintainers state that ordering between rules is "not something libseccomp has ever
/// guaranteed" (seccomp/libseccomp#148; #118 and PR #225 asked for a specification). "Most restrictive wins" is
/// the kernel's rule between stacked filters (seccomp(2)), not within one. What libseccomp's `db_rule_add`
/// (src/db.c) does, and what this models:
/// 1. An unconditional rule for a syscall wins over its conditional rules, whatever the order (an unconditional
///    rule clears the existing argument chains; a rule added after one is dropped as redundant), and the first
///    unconditional rule in profile order wins over later ones.
/// 2. Otherwise the conditional rules whose comparisons hold are the candidates; none: the default action.
///    When they disagree, libseccomp's result depends on its tree layout (or it refuses the profile with EEXIST
///    for identical comparisons): this takes the most restrictive by the kernel's precedence (the first such
///    entry in profile order) and lists the others in `Decision.conflicting`.
///
/// Not modelled: runc's patch that makes syscalls newer than libseccomp's tables fail with ENOSYS instead of the
/// default action, and libseccomp's rewriting of i386 socket calls into `socketcall` rules.
public struct ResolvedProfile: Sendable {
    public let profile: Profile
    public let context: ProfileContext
    /// The ABIs the filter covers.
    public let abis: Set<ABI>
    /// Indices of the entries that hold for the context.
    public let activeEntries: [Int]

    struct Rule: Sendable {
        let entry: Int
        let name: String
        let action: Action
        let errnoRet: UInt32?
        /// Empty: unconditional. Else any alternative whose comparisons all hold matches.
        let alternatives: [[ArgumentRule]]
    }

    /// Per ABI (`ABI.ordinal`): syscall number -> rules in profile order.
    let rules: [[Int: [Rule]]]

    public init(_ profile: Profile, context: ProfileContext = ProfileContext()) {
        self.profile = profile
        self.context = context
        var archNames = Set(profile.architectures)
        if archNames.isEmpty, let group = profile.archMap.first(where: { $0.architecture == Architectures.host }) {
            archNames = Set([group.architecture] + group.subArchitectures)
        }
        abis = Set(ABI.allCases.filter { $0 == .x86_64 || archNames.contains(Architectures.name(of: $0)) })

        let defaultRet = profile.defaultAction.takesErrnoRet ? (profile.defaultErrnoRet ?? 1) : nil
        var active: [Int] = []
        var rules = [[Int: [Rule]]](repeating: [:], count: ABI.allCases.count)
        for (index, entry) in profile.syscalls.enumerated() where ResolvedProfile.holds(entry, context) {
            active.append(index)
            let ret = entry.action.takesErrnoRet ? (entry.errnoRet ?? 1) : nil
            if ResolvedProfile.same(entry.action, profile.defaultAction), ret == defaultRet { continue }
            for name in entry.names {
                for abi in ABI.allCases {
                    guard let nr = Catalog.shared.number(of: name, abi: abi) else { continue }
                    rules[abi.ordinal][nr, default: []].append(
                        Rule(entry: index, name: name, action: entry.action, errnoRet: ret,
                             alternatives: entry.alternatives))
                }
            }
        }
        self.activeEntries = active
        self.rules = rules
    }

    /// KILL and KILL_THREAD are one libseccomp action.
    static func same(_ a: Action, _ b: Action) -> Bool { a.kernelPrecedence == b.kernelPrecedence }

    /// moby `setupSeccomp`: `excludes` drops the entry when any part holds, `includes` keeps it only when every
    /// stated part holds.
    static func holds(_ entry: Entry, _ context: ProfileContext) -> Bool {
        func kernelAtLeast(_ v: KernelVersion) -> Bool { context.kernel.map { $0 >= v } ?? true }
        if let ex = entry.excludes {
            if ex.arches.contains(Architectures.hostNativeName) { return false }
            if ex.caps.contains(where: context.capabilities.contains) { return false }
            if let v = ex.minKernel, kernelAtLeast(v) { return false }
        }
        if let inc = entry.includes {
            if !inc.arches.isEmpty, !inc.arches.contains(Architectures.hostNativeName) { return false }
            if !inc.caps.allSatisfy(context.capabilities.contains) { return false }
            if let v = inc.minKernel, !kernelAtLeast(v) { return false }
        }
        return true
    }

    /// The decision for syscall number `nr` of `abi` (x32: without the x32 bit) with arguments `args`
    /// (missing arguments count as 0).
    public func decide(abi: ABI, nr: Int, args: [UInt64] = []) -> Decision {
        guard abis.contains(abi) else {
            return Decision(action: .kill, errnoRet: nil, source: .architectureNotInFilter, conflicting: [])
        }
        let fallback = Decision(action: profile.defaultAction,
                                errnoRet: profile.defaultAction.takesErrnoRet ? (profile.defaultErrnoRet ?? 1) : nil,
                                source: .defaultAction, conflicting: [])
        guard let candidates = rules[abi.ordinal][nr] else { return fallback }
        func decision(_ r: Rule, _ conflicting: [Int] = []) -> Decision {
            Decision(action: r.action, errnoRet: r.errnoRet, source: .entry(index: r.entry, name: r.name),
                     conflicting: conflicting)
        }
        if let unconditional = candidates.first(where: { $0.alternatives.isEmpty }) { return decision(unconditional) }
        let width32 = abi != .x86_64
        let matching = candidates.filter { rule in
            rule.alternatives.contains { alt in
                alt.allSatisfy { $0.matches($0.index < args.count ? args[$0.index] : 0, width32: width32) }
            }
        }
        guard let winner = matching.min(by: { $0.action.kernelPrecedence < $1.action.kernelPrecedence }) else {
            return fallback
        }
        let others = matching.filter {
            !ResolvedProfile.same($0.action, winner.action) || $0.errnoRet != winner.errnoRet
        }
        return decision(winner, others.map(\.entry))
    }

    /// The decision for `name` in `abi`, or nil when that ABI has no such syscall.
    public func decide(abi: ABI, syscall name: String, args: [UInt64] = []) -> Decision? {
        guard let nr = Catalog.shared.number(of: name, abi: abi) else { return nil }
        return decide(abi: abi, nr: nr, args: args)
    }
}

extension Profile {
    /// Resolves the profile for `context`; resolve once and reuse it to decide many calls.
    public func resolved(for context: ProfileContext = ProfileContext()) -> ResolvedProfile {
        ResolvedProfile(self, context: context)
    }

    /// The decision for one call (resolves the profile each time: for many calls, use `resolved(for:)`).
    public func decide(abi: ABI, nr: Int, args: [UInt64] = [], context: ProfileContext = ProfileContext()) -> Decision {
        resolved(for: context).decide(abi: abi, nr: nr, args: args)
    }

    /// The decision for `name` in `abi`, or nil when that ABI has no such syscall.
    public func decide(abi: ABI, syscall name: String, args: [UInt64] = [],
                       context: ProfileContext = ProfileContext()) -> Decision? {
        resolved(for: context).decide(abi: abi, syscall: name, args: args)
    }
}

extension ResolvedProfile {
    /// The decision for call `nr` of `abi` when the arguments cannot change it, else nil.
    public func fixedDecision(abi: ABI, nr: Int) -> Decision? {
        guard abis.contains(abi), let candidates = rules[abi.ordinal][nr],
              !candidates.contains(where: { $0.alternatives.isEmpty }) else {
            return decide(abi: abi, nr: nr)  // no rules, an unconditional rule, or not in the filter
        }
        return nil
    }

    /// Whether the profile refuses (any action but ALLOW and LOG) call `nr` of `abi` for some arguments: a
    /// refusing fixed decision, a refusing argument rule, or argument rules that allow and a refusing default.
    public func mayRefuse(abi: ABI, nr: Int) -> Bool {
        if let fixed = fixedDecision(abi: abi, nr: nr) { return !fixed.letsCallRun }
        let candidates = rules[abi.ordinal][nr] ?? []
        return candidates.contains { !$0.action.letsCallRun } || !profile.defaultAction.letsCallRun
    }
}

/// A resolved profile as a table per (ABI, number), built once: a call whose decision does not depend on its
/// arguments is one array read; only calls with argument rules evaluate them.
public struct DecisionTable: Sendable {
    public let resolved: ResolvedProfile
    enum Slot: Sendable {
        case fixed(Decision)
        case byArguments
    }
    /// Per ABI (`ABI.ordinal`), indexed by number (x32 without the x32 bit) up to the catalog's highest.
    let slots: [[Slot]]

    public init(_ resolved: ResolvedProfile) {
        self.resolved = resolved
        slots = ABI.allCases.map { abi in
            let top = Catalog.shared.entries(abi: abi).map(\.nr).max() ?? 0
            return (0...top).map { nr in resolved.fixedDecision(abi: abi, nr: nr).map(Slot.fixed) ?? .byArguments }
        }
    }

    public func decide(abi: ABI, nr: Int, args: [UInt64]) -> Decision {
        let row = slots[abi.ordinal]
        if nr >= 0, nr < row.count, case .fixed(let d) = row[nr] { return d }
        return resolved.decide(abi: abi, nr: nr, args: args)
    }

    /// The names of `abi` the filter must trap: every call the profile refuses for some arguments, and every
    /// call of an ABI the profile's filter does not cover.
    public func trappedNames(abi: ABI) -> Set<String> {
        var out: Set<String> = []
        for (nr, sc) in Catalog.shared.entries(abi: abi) where resolved.mayRefuse(abi: abi, nr: nr) { out.insert(sc.name) }
        return out
    }
}
