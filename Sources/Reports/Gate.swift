import Diagnosis
import TraceModel

/// The CI gate (`run --fail-on-violation`), judged from the trace: the violations the baseline the trace was
/// recorded with does not cover (the same `Baseline.action(for:)` verdict the reports show), and lines naming
/// their sites for stderr (the first ten, each with the program's own frames from the site's culprit).
public struct GateVerdict: Sendable {
    /// Violations not allowed by the baseline; the gate fails when there is any.
    public let violations: Int
    /// What to say when it fails, one line each, without the "captrace: " prefix.
    public let lines: [String]

    public init(_ trace: Trace, analysis: SiteAnalysis? = nil) {
        let analysis = analysis ?? SiteAnalysis(trace)
        var fresh = 0
        for v in analysis.violations where v.action != .allowedByBaseline { fresh += 1 }
        let sites = analysis.sites.filter { $0.actions.contains { $0 != .allowedByBaseline } }
        violations = fresh
        var lines = ["\(fresh) violation(s) at \(sites.count) site(s) not in the baseline:"]
        for s in sites.prefix(10) {
            let v = s.events.first { $0.action != .allowedByBaseline } ?? s.first
            // The program's own frames from the culprit outwards, innermost first; else the innermost frame.
            let own = s.culprit.programFrameIndex.map { v.stack[$0...].filter(s.culprit.isInProgram).prefix(3) } ?? []
            let frames = own.isEmpty ? Array(v.stack.prefix(1)) : Array(own)
            let at = frames.isEmpty ? "" : " at " + frames.map(gateFrameName).joined(separator: " < ")
            lines.append("  new site \(s.id): \(v.syscall) \(v.namespace.rawValue)/\(v.rule.rawValue) \(v.path ?? v.address ?? "")\(at)")
        }
        if sites.count > 10 { lines.append("  ... and \(sites.count - 10) more (captrace report shows them all)") }
        self.lines = lines
    }
}

/// `module!symbol`, else `module+0xoffset` (module basename).
private func gateFrameName(_ f: Frame) -> String {
    PathText.basename(f.module ?? "?") + (f.symbol.map { "!" + $0 } ?? "+0x" + String(f.offset ?? f.pc, radix: 16))
}
