import Diagnosis
import TraceModel

/// The outputs of `captrace suggest --format F`.
public enum SuggestFormat: String, CaseIterable, Sendable {
    /// The Capsicum way: what to acquire, initialise or replace before entry, per site; descriptors to narrow.
    case plan
    /// An OCI runtime seccomp profile (JSON), as Docker, Podman, runc and Kubernetes read it.
    case oci
    /// systemd unit hardening directives.
    case systemd
    /// C source of `int captrace_install_filter(void)`, installing the equivalent filter with libseccomp.
    case libseccomp
    /// A baseline allowlist for `captrace run --allow FILE` (format: `Baseline`).
    case allowlist
    /// A Landlock ruleset in landlockconfig's TOML form, for `run --policy FILE.toml` (`renderLandlock`).
    case landlock
    /// A Security Profiles Operator `SeccompProfile` resource (YAML), from a trace recorded with `run --syscalls`.
    case spo

    /// Formats built from the syscalls the program used when the trace has them (`run --syscalls`).
    public var usesSyscallSets: Bool { self == .oci || self == .systemd || self == .libseccomp || self == .spo }
}

/// Why `format` cannot be made from `trace`, or nil. spo needs `syscalls` records (`run --syscalls`); oci, systemd
/// and libseccomp fall back to the capability-mode allowlist without them (see `legacyWarning`).
public func suggestionProblem(_ trace: Trace, format: SuggestFormat) -> String? {
    guard format == .spo, UsedSyscalls(trace) == nil else { return nil }
    return "the trace has no syscalls record: --format spo needs the syscalls the program used; record it with `captrace run --syscalls --enter-at exec -- PROGRAM`"
}

/// Said on stderr when oci, systemd or libseccomp is made from a trace without `syscalls` records.
public func legacyWarning(_ trace: Trace, format: SuggestFormat) -> String? {
    guard format.usesSyscallSets, format != .spo, UsedSyscalls(trace) == nil else { return nil }
    return "warning: the trace has no syscalls record, so this \(format.rawValue) profile is capability mode plus the violations recorded, not the set the program used (it grants calls the program never made, and calls it made before entry are missing); record with `captrace run --syscalls --enter-at exec` for a profile that runs the program"
}

/// Said on stderr for a profile made from `syscalls` records: every call the program used that is left out.
public func suggestionWarnings(_ trace: Trace, analysis: SiteAnalysis? = nil, format: SuggestFormat) -> [String] {
    guard format.usesSyscallSets, let used = UsedSyscalls(trace) else { return [] }
    let facts = TraceFacts(trace, analysis: analysis)
    return usedProfile(used, facts).warnings
}

func usedProfile(_ used: UsedSyscalls, _ facts: TraceFacts) -> UsedSetProfile {
    UsedSetProfile(used, violations: Array(facts.violations), fromExec: facts.trigger == "exec")
}

/// Renders a suggestion from a recorded trace: a pure function of the trace.
/// `analysis`: the trace's analysis when it was made while reading the trace, so `trace` need not hold the
/// violations.
public func renderSuggestion(_ trace: Trace, analysis: SiteAnalysis? = nil, format: SuggestFormat) -> String {
    let facts = TraceFacts(trace, analysis: analysis)
    if format.usesSyscallSets, let used = UsedSyscalls(trace) {
        let m = usedProfile(used, facts)
        switch format {
        case .systemd: return renderUsedSystemd(m, facts)
        case .libseccomp: return renderUsedLibseccomp(m, facts)
        case .spo: return renderSPO(m, facts)
        default: return renderUsedOCI(m, facts)
        }
    }
    switch format {
    case .spo: return "# " + (suggestionProblem(trace, format: .spo) ?? "") + "\n"
    case .plan: return renderPlan(facts)
    case .allowlist: return renderAllowlist(facts)
    case .oci: return renderOCI(FilterModel(facts))
    case .systemd: return renderSystemd(FilterModel(facts))
    case .libseccomp: return renderLibseccomp(FilterModel(facts))
    case .landlock: return renderLandlock(trace, analysis: analysis)
    }
}
