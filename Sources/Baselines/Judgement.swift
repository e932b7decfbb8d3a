import TraceModel

extension Baseline {
    /// The baseline the trace was recorded with (`run --allow`, kept in the header's `allowlist`); nil when the
    /// run had none, or when the text no longer parses (a run refuses a malformed allowlist before it starts).
    public init?(recordedIn trace: Trace) {
        guard let text = trace.header?.allowlist, let b = try? Baseline(parsing: text) else { return nil }
        self = b
    }
}

/// The trace's violations with the actions they stand with: each one judged by `Baseline.action(for:)` against
/// the baseline the trace was recorded with. Actions the recording decided (denied, and allowed by the baseline
/// in enforce mode or in traces from before this analysis) stay as recorded.
public func judgedViolations(_ trace: Trace) -> [ViolationEvent] {
    guard let baseline = Baseline(recordedIn: trace) else { return trace.violations }
    return trace.violations.map { v in
        var v = v
        v.action = baseline.action(for: v)
        return v
    }
}
