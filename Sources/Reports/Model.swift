import Diagnosis
import Quoting
import TraceModel

/// What every report format shows, computed once from a trace: the violation sites in order of first
/// occurrence with their hints and culprits (`SiteAnalysis`), the entries into capability mode, and the totals.
struct ReportModel {
    let header: HeaderEvent?
    let warnings: [String]
    let enters: [EnterEvent]
    let sites: [SiteGroup]
    let violations: ViolationList
    let summary: SummaryEvent?
    /// Earliest timestamp in the trace; times are shown relative to it.
    let t0: UInt64
    /// Every pid that appears, in order of appearance, with its program (exec'd path).
    let processes: [(pid: Int32, program: String?)]
    /// The latest timestamp of any event.
    let lastEventNs: UInt64?
    /// The traces read together, when there are several.
    let traces: [String]
    /// Landlock domains and refusals (empty for a run without Landlock).
    let landlock: LandlockSection
    /// Seccomp filters the program installed itself, and the calls they refused (ptrace backend).
    let seccompFilters: [SeccompFilterEvent]
    let refusals: [RefusalGroup]

    /// `analysis`: the trace's, when it was made while reading (then `trace` need not hold the violations).
    init(_ trace: Trace, analysis: SiteAnalysis? = nil) {
        header = trace.header
        landlock = LandlockSection(trace)
        warnings = trace.warnings
            + (trace.neverEntered ? [neverEnteredNote(trace.header?.trigger, policy: trace.header?.policy != nil)] : [])
            + trace.processes.compactMap { p in
                guard p.event == .exec, let what = p.withheldPrivileges else { return nil }
                return withheldPrivilegesNote(pid: p.pid, path: p.path ?? "?", what: what)
            }
        summary = trace.summary
        let analysis = analysis ?? SiteAnalysis(trace)
        sites = analysis.sites
        traces = analysis.traces
        violations = analysis.violations
        processes = analysis.processes
        var enters: [EnterEvent] = []
        var filters: [SeccompFilterEvent] = []
        var refusalGroups: [RefusalGroup] = []
        var refusalIndex: [RefusalGroup.Key: Int] = [:]
        var t0 = UInt64.max
        var last: UInt64?
        func saw(_ t: UInt64) { last = max(last ?? t, t) }
        for e in trace.events {
            switch e {
            case .process(let p): t0 = min(t0, p.tNs); saw(p.tNs)
            case .enter(let en): t0 = min(t0, en.tNs); saw(en.tNs); enters.append(en)
            case .violation(let v): t0 = min(t0, v.tNs); saw(v.tNs)
            case .seccompFilter(let f): t0 = min(t0, f.tNs); saw(f.tNs); filters.append(f)
            case .refusal(let r):
                t0 = min(t0, r.tNs); saw(r.tNs)
                let key = RefusalGroup.Key(r)
                if let i = refusalIndex[key] { refusalGroups[i].count += 1; refusalGroups[i].pids.insert(r.pid) }
                else { refusalIndex[key] = refusalGroups.count; refusalGroups.append(RefusalGroup(first: r)) }
            case .header, .fdop, .syscalls, .summary: break
            case .landlock(let l): t0 = min(t0, l.tNs); saw(l.tNs)
            case .landlockDenial(let d): t0 = min(t0, d.tNs); saw(d.tNs)
            }
        }
        self.seccompFilters = filters
        self.refusals = refusalGroups
        if let (first, last) = analysis.violationTimes { t0 = min(t0, first); saw(last) }
        self.enters = enters
        self.t0 = t0 == .max ? 0 : t0
        self.lastEventNs = last
    }

    /// The filter a refusal names.
    func filter(_ id: Int) -> SeccompFilterEvent? { seccompFilters.first { $0.id == id } }

    /// No process reached the trigger: nothing was judged (said by every format, instead of zero totals).
    /// `Trace.neverEntered`: never for a run under a Landlock `--policy`, which has no trigger.
    var neverEntered: Bool { enters.isEmpty && !landlockPolicyRun }
    /// `run --policy FILE.toml`: the Landlock ruleset, not capability mode, was the run's policy.
    var landlockPolicyRun: Bool { landlock.policy != nil }

    /// The span the timeline shows: from the first entry into capability mode (the trace's start when there is
    /// none) to the end of the run (the last event, or the summary's duration), relative to `t0`, in ns.
    var timelineSpan: (from: UInt64, to: UInt64) {
        let from = (enters.map(\.tNs).min() ?? t0) - t0
        var to = from
        if let last = lastEventNs, last >= t0 { to = max(to, last - t0) }
        // The summary's duration counts from the recording's start (t_ns 0), t0 from the first event.
        if let s = summary, UInt64(max(0, s.durationMs)) * 1_000_000 > t0 { to = max(to, UInt64(s.durationMs) * 1_000_000 - t0) }
        return (from, to)
    }

    var violatingPids: [Int32] {
        var seen = Set<Int32>(), out: [Int32] = []
        for v in violations where seen.insert(v.pid).inserted { out.append(v.pid) }
        return out
    }

    /// (namespace, violations, sites) for each namespace that occurs, in the contract's order.
    /// What in the run's --policy refused a site's calls: each distinct verdict, in order of first occurrence.
    static func verdicts(_ s: SiteGroup) -> [PolicyVerdict] {
        var out: [PolicyVerdict] = []
        for e in s.events { if let d = e.verdict, !out.contains(d) { out.append(d) } }
        return out
    }

    var namespaceTotals: [(Namespace, Int, Int)] {
        var count: [Namespace: Int] = [:]
        for v in violations { count[v.namespace, default: 0] += 1 }
        return Namespace.allCases.compactMap { ns in
            guard let n = count[ns], n > 0 else { return nil }
            return (ns, n, sites.filter { $0.first.namespace == ns }.count)
        }
    }

    /// (hint id or nil, violations) in order of first occurrence.
    var hintTotals: [(String?, Int)] {
        var out: [(String?, Int)] = []
        for s in sites {
            if let i = out.firstIndex(where: { $0.0 == s.hint?.id }) { out[i].1 += s.count } else { out.append((s.hint?.id, s.count)) }
        }
        return out
    }

    func relative(_ t: UInt64) -> String { formatSeconds(t >= t0 ? t - t0 : 0) }
}

extension SiteGroup {
    /// Distinct outcomes with their counts, e.g. [("3", 1), ("-1 ENOENT", 2)].
    var outcomes: [(String, Int)] {
        var out: [(String, Int)] = []
        for e in events {
            let o = outcome(e)
            if let i = out.firstIndex(where: { $0.0 == o }) { out[i].1 += 1 } else { out.append((o, 1)) }
        }
        return out
    }
}

extension Culprit {
    /// "libc resolver, called from `lookup_peer` in `./demo`"; "`cat` makes this call itself, at `main`";
    /// for loader activity after an exec in capability mode, that exec.
    var line: String? {
        if let x = exec {
            return "the exec of `\(x.path)` in capability mode (pid \(x.pid)): its dynamic loader opens what the new program needs"
        }
        if let f = programFrame, let program {
            let line = fileLine(f).map { " (\($0))" } ?? ""
            guard let library else { return "`\(program)` makes this call itself, at `\(frameName(f))`" + line }
            return library + ", called from `\(frameName(f))` in `\(program)`" + line
        }
        guard let library else { return nil }
        if !hasStack { return library + " (no stack recorded)" }
        return library + (program.map { ", with no frame in `\($0)` itself" } ?? "")
    }
}

/// What every report (and `run` at its end) says of an exec whose privileges captrace's no_new_privs withheld.
public func withheldPrivilegesNote(pid: Int32, path: String, what: String) -> String {
    "pid \(pid) exec'd \(path) without the privileges it would have gained (\(what)): captrace sets no_new_privs, "
        + "so this traced run differs from an untraced one, in observe mode too"
}

/// Said of a hint recognised from the path alone, for a site recorded without a stack.
let inferredNote = "inferred from the path alone: no stack was recorded"

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// `symbol` if known, else `module+0xoffset`, else the pc.
func frameName(_ f: Frame) -> String {
    if let s = f.symbol { return s }
    return moduleOffset(f)
}

/// `libc.so.6+0x10f3a0` (module basename), or the bare pc when the module is unknown.
func moduleOffset(_ f: Frame) -> String {
    if let m = f.module, let o = f.offset { return PathText.basename(m) + "+" + hex(o) }
    if let m = f.module { return PathText.basename(m) + "@" + hex(f.pc) }
    return hex(f.pc)
}

func symbolWithOffset(_ f: Frame) -> String? {
    guard let s = f.symbol else { return nil }
    if let o = f.symbolOffset, o != 0 { return "\(s)+\(o)" }
    return s
}

func fileLine(_ f: Frame) -> String? {
    guard let file = f.file else { return nil }
    return f.line.map { "\(file):\($0)" } ?? file
}

/// "3", "-1 ENOENT", or "?" where the backend could not see the result.
func outcome(_ v: ViolationEvent) -> String {
    if let e = v.errno { return "-1 \(e)" }
    if let r = v.result { return r < 0 ? "-1 errno \(-r)" : "\(r)" }
    return "?"
}

/// One decoded argument: integers in decimal, flag and constant names bare, other strings quoted.
func renderArg(_ a: ArgValue) -> String {
    switch a {
    case .int(let i): return String(i)
    case .null: return "NULL"
    case .string(let s):
        let bare = !s.isEmpty && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "|") || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
        }
        if bare || s.hasPrefix("{") || s.hasPrefix("[") { return s }
        return Quoting.quoted(s, as: .c)
    }
}


/// `openat(dirfd=AT_FDCWD, pathname="/etc/hosts", flags=O_RDONLY|O_CLOEXEC)`.
func renderCall(_ v: ViolationEvent) -> String {
    v.syscall + "(" + v.args.map { "\($0.0)=\(renderArg($0.1))" }.joined(separator: ", ") + ")"
}

/// Nanoseconds as seconds with six decimals: "+1.002345s".
func formatSeconds(_ ns: UInt64) -> String {
    let us = ns / 1000
    let frac = String(us % 1_000_000)
    return "+\(us / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac + "s"
}

func plural(_ n: Int, _ word: String, _ many: String? = nil) -> String {
    "\(n) " + (n == 1 ? word : (many ?? word + "s"))
}

/// What the text and HTML reports say of a notify run on a kernel with Landlock.
let landlockNotifyNote = "landlock: refusals are recorded under --backend ptrace only; this run's are not"

/// What every report says of a run in which no process reached the trigger.
func neverEnteredNote(_ trigger: String?, policy: Bool = false) -> String {
    (policy ? "the policy never began" : "capability mode never began") + " (no process reached \(trigger ?? "the trigger")), so nothing was judged"
}

/// At most `limit` items, then "… and N more" (N counted in `unit`, e.g. "pids").
func capped(_ items: [String], limit: Int, unit: String = "") -> (shown: [String], rest: String?) {
    guard items.count > limit else { return (items, nil) }
    return (Array(items.prefix(limit)), "… and \(items.count - limit) more" + (unit.isEmpty ? "" : " " + unit))
}

/// A list on one line, capped: "1,2,3 … and 38 more".
func cappedList(_ items: [String], limit: Int, separator: String = ", ", unit: String = "") -> String {
    let c = capped(items, limit: limit, unit: unit)
    return c.shown.joined(separator: separator) + (c.rest.map { " " + $0 } ?? "")
}

/// How many items a capped list in a report shows.
enum ListLimit {
    /// Pids in a site's header.
    static let pids = 8
    /// Paths or addresses of a site.
    static let targets = 8
    /// Runs of sequence numbers ("1-3, 7") in a site's `seq` line.
    static let seqRuns = 12
    /// Descriptors held at entry.
    static let fds = 64
}

/// The refusals of one call site by one filter with one action: the first, and how many.
struct RefusalGroup {
    struct Key: Hashable {
        let filter: Int, syscall: String, value: UInt32, stack: [Frame]
        init(_ r: RefusalEvent) { filter = r.filter; syscall = r.syscall; value = r.value; stack = r.stack }
    }
    let first: RefusalEvent
    var count = 1
    var pids: Set<Int32>
    init(first: RefusalEvent) { self.first = first; pids = [first.pid] }
}
