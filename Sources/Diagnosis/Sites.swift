import Baselines
import TraceModel

/// A trace read for analysis, the one reading every report and suggestion starts from: the violations with the
/// actions they stand with (judged against the baseline the trace was recorded with, as `judgedViolations`),
/// grouped by call site in order of first occurrence, each site with its hint and culprit; and every process
/// with its program. Built in one pass over the events (`Builder`), holding violations compactly
/// (`ViolationStore`), so a trace of millions of violations is analysed as it is read.
public struct SiteAnalysis: Sendable {
    /// Every violation in trace order, judged against the baseline the trace was recorded with.
    public let violations: ViolationList
    public let sites: [SiteGroup]
    /// Every pid that appears, in order of appearance, with its program (exec'd path, else argv[0]).
    public let processes: [(pid: Int32, program: String?)]
    /// The earliest and latest `t_ns` of the violations (nil without violations).
    public let violationTimes: (first: UInt64, last: UInt64)?

    public init(_ trace: Trace) {
        var b = Builder()
        for e in trace.events { b.add(e) }
        self = b.finish()
    }

    /// Reads a trace's events in order, one at a time.
    public struct Builder {
        var baseline: Baseline?
        var lists: ViolationListBuilder
        var order: [String] = []
        var groups: [String: Aggregate] = [:]
        /// The traces read, in order (`beginTrace`); empty when only one trace is read.
        var traceNames: [String] = []
        var current = 0
        var exe: [Int32: String] = [:]
        var procs: [(pid: Int32, program: String?)] = []
        var procIndex: [Int32: Int] = [:]
        var argv0: String?
        var times: (first: UInt64, last: UInt64)?

        public init() { lists = ViolationListBuilder(store: ViolationStore()) }

        /// Starts the next of several traces read into one analysis (`report A B ...`): sites are the same
        /// site across traces when they are the same call from the same code (`Site.id`: syscall, and the
        /// frames' modules and offsets, or the path or address without stacks), and each site counts its
        /// violations per trace. Processes are told apart per trace only by pid.
        public mutating func beginTrace(_ name: String) {
            traceNames.append(name)
            current = traceNames.count - 1
            exe = [:]
        }

        mutating func sawPid(_ pid: Int32) {
            if procIndex[pid] == nil {
                procIndex[pid] = procs.count
                procs.append((pid, exe[pid] ?? argv0))
            }
        }

        public mutating func add(_ e: TraceEvent) {
            switch e {
            case .header(let h):
                argv0 = h.argv.first
                baseline = h.allowlist.flatMap { try? Baseline(parsing: $0) }
            case .process(let p):
                switch p.event {
                case .spawn, .exec: if let path = p.path { exe[p.pid] = path }
                case .fork, .thread: if exe[p.pid] == nil, let parent = exe[p.ppid] { exe[p.pid] = parent }
                case .exit: break
                }
                sawPid(p.pid)
                if let i = procIndex[p.pid], let path = exe[p.pid] { procs[i].program = path }
            case .enter(let en):
                sawPid(en.pid)
            case .violation(var v):
                if let baseline { v.action = baseline.action(for: v) }
                sawPid(v.pid)
                times = (min(times?.first ?? v.tNs, v.tNs), max(times?.last ?? v.tNs, v.tNs))
                let index = lists.store.append(v)
                let g: Aggregate
                if let known = groups[v.site] {
                    g = known
                } else {
                    order.append(v.site)
                    let hint = Hints.resolve(v)
                    let program = displayProgram(exe[v.pid] ?? argv0, argv0: argv0)
                    g = Aggregate(subset: lists.newSubset(), hint: hint, culprit: Culprit(v.stack, program: program, hint: hint))
                    groups[v.site] = g
                }
                lists.add(index, to: g.subset)
                g.add(v, trace: current)
            case .fdop, .summary:
                break
            }
        }

        public func finish() -> SiteAnalysis {
            let names = traceNames
            return SiteAnalysis(violations: lists.all, sites: order.map { id in
                let g = groups[id]!
                let traces = names.count > 1
                    ? g.perTrace.enumerated().filter { $0.element > 0 }.map { (trace: names[$0.offset], count: $0.element) } : []
                return SiteGroup(id: id, events: lists.list(g.subset), hint: g.hint, culprit: g.culprit, traces: traces,
                                 pids: g.pids.values, paths: g.paths.values, addresses: g.addresses.values,
                                 actions: g.actions.values)
            }, processes: procs, violationTimes: times, traces: names)
        }
    }

    /// What a site gathers as its violations are read: distinct values in order of first occurrence, and counts
    /// per trace (a class, so that the builder updates it in place).
    final class Aggregate {
        let subset: Int
        let hint: Hint?
        let culprit: Culprit
        var perTrace: [Int] = []
        var pids = Distinct<Int32>(), paths = Distinct<String>(), addresses = Distinct<String>()
        var actions = Distinct<Action>()

        init(subset: Int, hint: Hint?, culprit: Culprit) { self.subset = subset; self.hint = hint; self.culprit = culprit }

        func add(_ v: ViolationEvent, trace: Int) {
            while perTrace.count <= trace { perTrace.append(0) }
            perTrace[trace] += 1
            pids.add(v.pid)
            if let p = v.path { paths.add(p) }
            if let a = v.address { addresses.add(a) }
            actions.add(v.action)
        }
    }

    struct Distinct<T: Hashable> {
        var values: [T] = []
        var seen = Set<T>()
        /// The last value added: a repeat of it (the common case) costs one comparison.
        var last: T?
        mutating func add(_ x: T) {
            if x == last { return }
            last = x
            if seen.insert(x).inserted { values.append(x) }
        }
    }

    /// The traces read into this analysis when there are several (`Builder.beginTrace`), else empty.
    public let traces: [String]

    init(violations: ViolationList, sites: [SiteGroup], processes: [(pid: Int32, program: String?)],
         violationTimes: (first: UInt64, last: UInt64)?, traces: [String]) {
        self.violations = violations; self.sites = sites; self.processes = processes
        self.violationTimes = violationTimes
        self.traces = traces.count > 1 ? traces : []
    }
}

/// The violations made from one call site (equal stacks), in order of occurrence, with the site's hint (the
/// knowledge base's match for its first violation) and its culprit.
public struct SiteGroup: Sendable {
    public let id: String
    public let events: ViolationList
    public let hint: Hint?
    public let culprit: Culprit
    /// With several traces read at once: the traces this site occurs in, with how many violations in each.
    public let traces: [(trace: String, count: Int)]
    /// Distinct values in order of first occurrence (gathered while the trace is read).
    public let pids: [Int32]
    public let paths: [String]
    public let addresses: [String]
    public let actions: [Action]

    public var first: ViolationEvent { events[0] }
    public var count: Int { events.count }
    /// The most severe action at this site: denied, then allowed, then allowed by the baseline.
    public var worstAction: Action {
        if actions.contains(.denied) { return .denied }
        return actions.contains(.allowed) ? .allowed : .allowedByBaseline
    }
}

/// Who is to blame for a site: the library that made the call, and the program's own frame — the innermost
/// frame in the executable of the process that made the call. The one definition of "the program's own frame":
/// the reports' `>` marker and culprit line, the plan, the allowlist's comments and the CI gate all use it.
public struct Culprit: Sendable {
    /// The library that made the call: the hint's caller, else the innermost frame's module basename.
    public let library: String?
    /// Index of the program's own frame in the stack, if any frame is in the program's executable.
    public let programFrameIndex: Int?
    public let programFrame: Frame?
    /// The program as the trace names it for the calling process (exec'd path, else argv[0]).
    public let program: String?
    public let hasStack: Bool

    public init(_ stack: [Frame], program: String?, hint: Hint?) {
        self.program = program
        hasStack = !stack.isEmpty
        programFrameIndex = stack.firstIndex { Culprit.isInProgram($0, program) }
        programFrame = programFrameIndex.map { stack[$0] }
        library = hint?.caller ?? stack.first?.module.map(PathText.basename)
    }

    /// Whether the frame runs code of the program's executable (same path, or same basename).
    public func isInProgram(_ f: Frame) -> Bool { Culprit.isInProgram(f, program) }

    static func isInProgram(_ f: Frame, _ program: String?) -> Bool {
        guard let program, let m = f.module else { return false }
        return m == program || PathText.basename(m) == PathText.basename(program)
    }
}

/// The program as the user named it: argv[0] when it names the same file as the exec'd path, else the path.
func displayProgram(_ path: String?, argv0: String?) -> String? {
    guard let path else { return argv0 }
    if let argv0, PathText.basename(argv0) == PathText.basename(path) { return argv0 }
    return path
}
