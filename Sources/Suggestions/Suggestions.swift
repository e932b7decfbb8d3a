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
}

/// Renders a suggestion from a recorded trace: a pure function of the trace.
/// `analysis`: the trace's analysis when it was made while reading the trace, so `trace` need not hold the
/// violations.
public func renderSuggestion(_ trace: Trace, analysis: SiteAnalysis? = nil, format: SuggestFormat) -> String {
    let facts = TraceFacts(trace, analysis: analysis)
    switch format {
    case .plan: return renderPlan(facts)
    case .allowlist: return renderAllowlist(facts)
    case .oci: return renderOCI(FilterModel(facts))
    case .systemd: return renderSystemd(FilterModel(facts))
    case .libseccomp: return renderLibseccomp(FilterModel(facts))
    case .landlock: return renderLandlock(trace, analysis: analysis)
    }
}
