// Shared expectations on a run: a complete trace, one entry with the right trigger, violations by shape.
import Foundation
import Testing
import TraceModel

extension RunResult {
    /// One line per violation that is not a marker lookup: "syscall namespace/rule target", where target is the
    /// lexically normalised path or the address. Tests compare these lists exactly, in order.
    var shapes: [String] { nonMarkViolations.map(Self.shape) }

    static func shape(_ v: ViolationEvent) -> String {
        var s = "\(v.syscall) \(v.namespace.rawValue)/\(v.rule.rawValue)"
        if let p = v.path { s += " " + (p.hasPrefix("/") ? URL(fileURLWithPath: p).standardized.path : p) }
        if let a = v.address { s += " " + a }
        return s
    }
}

/// The run ended with status `status`, its trace is complete (header ... summary, no warning), the header names
/// the backend and the trigger, the summary agrees with the exit status and the violation count, and exactly one
/// process entered capability mode by `trigger` (the program itself, when `enteredBy` is nil).
func expectRun(_ r: RunResult, backend: String, trigger: String, status: Int32 = 0, mode: String = "observe",
               enteredBy: Int32? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    let timedOut = r.timedOut, exitStatus = r.status, complete = r.traceIsComplete
    #expect(!timedOut, "captrace did not finish in time\n\(r.digest)", sourceLocation: sourceLocation)
    #expect(exitStatus == status, "exit status\n\(r.digest)", sourceLocation: sourceLocation)
    #expect(complete, "the trace is not complete\n\(r.digest)", sourceLocation: sourceLocation)
    guard let t = r.trace else { return }
    #expect(t.header?.backend.rawValue == backend, "header backend", sourceLocation: sourceLocation)
    #expect(t.header?.trigger == trigger, "header trigger", sourceLocation: sourceLocation)
    #expect(t.header?.mode.rawValue == mode, "header mode", sourceLocation: sourceLocation)
    if let s = r.summary {
        #expect(s.exitStatus == status, "summary exit_status \(s.exitStatus)", sourceLocation: sourceLocation)
        #expect(s.violations == r.violations.count, "summary violations \(s.violations) vs \(r.violations.count) lines",
                sourceLocation: sourceLocation)
    }
    let seqs = r.violations.map(\.seq)
    #expect(seqs == Array(seqs.indices.map { $0 + 1 }), "seq is not continuous from 1: \(seqs.prefix(20))",
            sourceLocation: sourceLocation)
    let ts = r.violations.map(\.tNs)
    #expect(ts == ts.sorted(), "t_ns is not monotonic", sourceLocation: sourceLocation)
    let spawned = r.programPid
    #expect(spawned != nil, "no spawn process event\n\(r.digest)", sourceLocation: sourceLocation)
    let triggered = r.enters.filter { $0.inheritedFrom == nil }
    #expect(triggered.count == 1, "expected one enter event by the trigger\n\(r.digest)", sourceLocation: sourceLocation)
    if let e = triggered.first {
        #expect(e.trigger == trigger, "enter trigger \(e.trigger)", sourceLocation: sourceLocation)
        #expect(e.pid == (enteredBy ?? spawned), "enter pid \(e.pid), program \(spawned ?? -1)",
                sourceLocation: sourceLocation)
    }
}

/// Every marker violation is an allowed absolute-path lookup by the program (pid `pid`, default the spawned
/// program), failing with ENOENT where the backend sees results.
func expectMarkerShape(_ r: RunResult, backend: String, pid: Int32? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    for v in r.violations where v.path?.hasPrefix(r.cwd + "/mark-") ?? false {
        let d = RunResult.describe(v)
        #expect(["access", "faccessat", "faccessat2"].contains(v.syscall), "\(d)", sourceLocation: sourceLocation)
        #expect(v.namespace == .filesystem && v.rule == .absolutePath, "\(d)", sourceLocation: sourceLocation)
        #expect(v.abi == .x86_64 && v.action == .allowed, "\(d)", sourceLocation: sourceLocation)
        if let pid { #expect(v.pid == pid, "\(d)", sourceLocation: sourceLocation) }
        if backend == "ptrace" {
            #expect(v.errno == "ENOENT", "\(d)", sourceLocation: sourceLocation)
        }
    }
}
