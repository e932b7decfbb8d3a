import Diagnosis
import TraceModel

/// The output formats of `captrace report --format`.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, json, sarif, folded, html
}

/// Renders a parsed trace. Pure: the same trace always gives the same bytes (no clock, no environment).
/// `color` applies to `text` only; the CLI passes `isatty(stdout) && NO_COLOR unset`.
/// The trace's warnings (e.g. an incomplete last line) are noted inside every format.
/// `analysis`: the trace's analysis when it was made while reading the trace (`SiteAnalysis.Builder`), so that
/// `trace` need not hold the violations.
public func renderReport(_ trace: Trace, analysis: SiteAnalysis? = nil, format: ReportFormat, color: Bool = false) -> String {
    let model = ReportModel(trace, analysis: analysis)
    switch format {
    case .text: return TextReport(model: model, color: color).render()
    case .json: return JSONReport.render(model)
    case .sarif: return SARIFReport.render(model)
    case .folded: return FoldedReport.render(model)
    case .html: return HTMLReport.render(model)
    }
}

/// A few lines for stderr at the end of `captrace run`: totals per namespace and the first sites.
public func renderRunSummary(_ trace: Trace, analysis: SiteAnalysis? = nil, maxSites: Int = 5) -> String {
    let m = ReportModel(trace, analysis: analysis)
    var out = "captrace: " + plural(m.violations.count, "violation")
    if m.landlockPolicyRun {
        out = "captrace: " + plural(m.landlock.refusals.count, "Landlock refusal") + " under --policy"
    } else if m.violations.isEmpty {
        out += m.header?.policy == nil ? " after entry into capability mode" : " after the policy began"
    } else {
        out += " at " + plural(m.sites.count, "site") + " in " + plural(m.violatingPids.count, "process", "processes")
        out += " (" + m.namespaceTotals.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ") + ")"
    }
    if m.neverEntered { out += "; " + neverEnteredNote(m.header?.trigger, policy: m.header?.policy != nil) }
    if !m.landlockPolicyRun, !m.landlock.refusals.isEmpty { out += "; " + plural(m.landlock.refusals.count, "Landlock refusal") }
    if let s = m.summary { out += "; exit status \(s.exitStatus)" + (s.interrupted == true ? " (interrupted)" : "") }
    out += "\n"
    for (i, s) in m.sites.prefix(maxSites).enumerated() {
        let what = s.first.path ?? s.first.address ?? ""
        out += "  #\(i + 1) \(s.first.syscall)" + (what.isEmpty ? "" : " \(what)") + " ×\(s.count)"
        if let h = s.hint { out += "  [\(h.id)]" }
        if let f = s.culprit.programFrame { out += "  from \(frameName(f))" }
        out += "\n"
    }
    if m.sites.count > maxSites { out += "  … and \(plural(m.sites.count - maxSites, "more site"))\n" }
    for w in trace.warnings { out += "  warning: \(w)\n" }
    return out
}
