import Baselines
import TraceModel

/// A trace read for analysis, the one reading every report and suggestion starts from: the violations with the
/// actions they stand with (judged against the baseline the trace was recorded with, as `judgedViolations`),
/// grouped by call site and rule in order of first occurrence, each site with its hint (from all its violations)
/// and culprit; and every process with its program. Built in one pass over the events (`Builder`), holding
/// violations compactly (`ViolationStore`), so a trace of millions of violations is analysed as it is read.
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
        var order: [SiteKey] = []
        var groups: [SiteKey: Aggregate] = [:]
        /// The traces read, in order (`beginTrace`); empty when only one trace is read.
        var traceNames: [String] = []
        var current = 0
        /// Per pid: its current image, and the image before its latest exec while that exec's own call may
        /// still be recorded (the supervisor may write the execve after the exec event).
        var exe: [Int32: Image] = [:]
        var beforeExec: [Int32: Image] = [:]
        /// Without stacks: pids whose image was exec'd in capability mode and whose violations so far are all
        /// loader-like (its library opens); those violations are the exec's loader work.
        var loading = Set<Int32>()
        var procs: [(pid: Int32, program: String?)] = []
        var procIndex: [Int32: Int] = [:]
        var argv0: String?
        var context = HintContext.none
        /// The program the command line names: the spawned path and the path of its first exec.
        var spawned: Set<String> = []
        var initialPid: Int32?
        var initialExecs = 0
        var times: (first: UInt64, last: UInt64)?
        /// Diagnoses already made: a repeated violation (same site, rule, path or address, context) is
        /// diagnosed once.
        var diagnosed: [DiagnosisKey: HintMatch?] = [:]

        public init() { lists = ViolationListBuilder(store: ViolationStore()) }

        /// Starts the next of several traces read into one analysis (`report A B ...`): sites are the same
        /// site across traces when they are the same call from the same code (`Site.id`: syscall, and the
        /// frames' modules and offsets, or the path or address without stacks) and rule, and each site counts
        /// its violations per trace. Processes are told apart per trace only by pid.
        public mutating func beginTrace(_ name: String) {
            traceNames.append(name)
            current = traceNames.count - 1
            exe = [:]
            beforeExec = [:]
            loading = []
            initialPid = nil
            initialExecs = 0
        }

        mutating func sawPid(_ pid: Int32) {
            if procIndex[pid] == nil {
                procIndex[pid] = procs.count
                procs.append((pid, exe[pid]?.path ?? argv0))
            }
        }

        public mutating func add(_ e: TraceEvent) {
            switch e {
            case .header(let h):
                argv0 = h.argv.first
                context = HintContext(argv: h.argv)
                baseline = h.allowlist.flatMap { try? Baseline(parsing: $0) }
            case .process(let p):
                switch p.event {
                case .spawn:
                    if let path = p.path { exe[p.pid] = Image(path: path, execInCapabilityMode: p.capabilityMode, pid: p.pid) }
                    if initialPid == nil, let path = p.path { initialPid = p.pid; spawned.insert(path) }
                case .exec:
                    if let path = p.path {
                        if p.pid == initialPid, initialExecs == 0 { spawned.insert(path) }
                        if p.pid == initialPid { initialExecs += 1 }
                        if let old = exe[p.pid] { beforeExec[p.pid] = old }
                        if p.capabilityMode { loading.insert(p.pid) } else { loading.remove(p.pid) }
                        exe[p.pid] = Image(path: path, execInCapabilityMode: p.capabilityMode, pid: p.pid)
                    }
                case .fork, .thread:
                    if exe[p.pid] == nil, let parent = exe[p.ppid] { exe[p.pid] = parent.inherited }
                case .exit: break
                }
                sawPid(p.pid)
                if let i = procIndex[p.pid], let path = exe[p.pid]?.path { procs[i].program = path }
            case .enter(let en):
                sawPid(en.pid)
            case .violation(var v):
                if let baseline { v.action = baseline.action(for: v) }
                sawPid(v.pid)
                times = (min(times?.first ?? v.tNs, v.tNs), max(times?.last ?? v.tNs, v.tNs))
                // An execve belongs to the image that called it, even when its exec event came first.
                var image = exe[v.pid]
                if v.rule == .exec, let old = beforeExec[v.pid], let cur = image,
                   !v.stack.contains(where: { Culprit.isInProgram($0, cur.path) }) {
                    image = old
                }
                if v.rule != .exec { beforeExec[v.pid] = nil }
                var loader = false
                if loading.contains(v.pid), v.rule != .exec {
                    let id = v.stack.isEmpty ? Hints.diagnose(v)?.hint.id : nil
                    if id == "exec-loader" || id == "dlopen-after-entry" { loader = true } else { loading.remove(v.pid) }
                }
                let img = image ?? Image(path: argv0 ?? "", execInCapabilityMode: false, pid: v.pid)
                let key = SiteKey(site: v.site, rule: v.rule)
                let index = lists.store.append(v)
                let g: Aggregate
                if let known = groups[key] {
                    g = known
                } else {
                    order.append(key)
                    g = Aggregate(subset: lists.newSubset(), firstStack: v.stack, image: img)
                    groups[key] = g
                }
                lists.add(index, to: g.subset)
                g.add(v, trace: current)
                g.vote(diagnose(v, key: key, spawned: spawned.contains(img.path), loader: loader))
            case .fdop, .syscalls, .landlock, .landlockDenial, .seccompFilter, .refusal, .summary:
                break
            }
        }

        /// The knowledge base's match for one violation (`loader`: the loader's work after an exec in
        /// capability mode, recorded without a stack: inferred as exec-loader, not as a dlopen).
        mutating func diagnose(_ v: ViolationEvent, key: SiteKey, spawned: Bool, loader: Bool) -> HintMatch? {
            let k = DiagnosisKey(site: key, detail: v.path ?? v.address, spawned: spawned, loader: loader)
            if let known = diagnosed[k] { return known }
            let m = loader ? Hints.entry(id: "exec-loader").map { HintMatch(hint: $0, inferred: true) }
                : Hints.diagnose(v, context: spawned ? context : .none)
            diagnosed[k] = m
            return m
        }

        public func finish() -> SiteAnalysis {
            let names = traceNames
            // A stack that shows more than one rule is one site per rule: the first rule seen keeps the stack's id.
            var firstRule: [String: Rule] = [:]
            for k in order where firstRule[k.site] == nil { firstRule[k.site] = k.rule }
            return SiteAnalysis(violations: lists.all, sites: order.map { key in
                let g = groups[key]!
                let id = firstRule[key.site] == key.rule ? key.site : key.site + "-" + key.rule.rawValue
                let traces = names.count > 1
                    ? g.perTrace.enumerated().filter { $0.element > 0 }.map { (trace: names[$0.offset], count: $0.element) } : []
                let match = g.hint
                let program = displayProgram(g.image.path.isEmpty ? argv0 : g.image.path, argv0: argv0)
                var culprit = Culprit(g.firstStack, program: program, hint: match?.hint)
                if match?.hint.id == "exec-loader", g.image.execInCapabilityMode {
                    culprit.exec = ExecCause(pid: g.image.pid, path: g.image.path)
                }
                return SiteGroup(id: id, events: lists.list(g.subset), hint: match?.hint,
                                 hintInferred: match?.inferred ?? false, culprit: culprit, traces: traces,
                                 pids: g.pids.values, paths: g.paths.values, addresses: g.addresses.values,
                                 actions: g.actions.values)
            }, processes: procs, violationTimes: times, traces: names)
        }
    }

    struct DiagnosisKey: Hashable {
        let site: SiteKey
        let detail: String?
        let spawned: Bool
        let loader: Bool
    }

    /// What a site gathers as its violations are read: distinct values in order of first occurrence, and counts
    /// per trace (a class, so that the builder updates it in place).
    final class Aggregate {
        let subset: Int
        /// The first violation's stack and the image that made it: the culprit's.
        let firstStack: [Frame]
        let image: Image
        var perTrace: [Int] = []
        var pids = Distinct<Int32>(), paths = Distinct<String>(), addresses = Distinct<String>()
        var actions = Distinct<Action>()
        /// How many violations each hint explains, in order of first appearance.
        var votes: [(HintMatch, Int)] = []

        init(subset: Int, firstStack: [Frame], image: Image) {
            self.subset = subset; self.firstStack = firstStack; self.image = image
        }

        func add(_ v: ViolationEvent, trace: Int) {
            while perTrace.count <= trace { perTrace.append(0) }
            perTrace[trace] += 1
            pids.add(v.pid)
            if let p = v.path { paths.add(p) }
            if let a = v.address { addresses.add(a) }
            actions.add(v.action)
        }

        func vote(_ m: HintMatch?) {
            guard let m else { return }
            if let j = votes.firstIndex(where: { $0.0 == m }) { votes[j].1 += 1 } else { votes.append((m, 1)) }
        }

        /// The site's hint from all its violations: the entry most of them match (the earliest on a tie);
        /// violations no entry explains do not outvote those one does.
        var hint: HintMatch? {
            var best: (HintMatch, Int)?
            for c in votes where c.1 > (best?.1 ?? 0) { best = c }
            return best?.0
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

/// A site is a call site (equal stacks) and the rule its calls broke.
struct SiteKey: Hashable {
    let site: String
    let rule: Rule
}

/// A program image a process runs: its path, and whether it was exec'd in capability mode.
struct Image {
    let path: String
    let execInCapabilityMode: Bool
    /// The process that exec'd it.
    let pid: Int32

    /// The image as a forked child sees it: the same program, not exec'd by the child.
    var inherited: Image { Image(path: path, execInCapabilityMode: false, pid: pid) }
}

/// The violations made from one call site (equal stacks) under one rule, in order of occurrence, with the site's
/// hint (from all its violations) and its culprit.
public struct SiteGroup: Sendable {
    public let id: String
    public let events: ViolationList
    public let hint: Hint?
    /// True when the hint was recognised from the path alone (the site has no stack).
    public let hintInferred: Bool
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

/// The exec whose new image's loader made a call: the cause of loader activity after an exec in capability mode.
public struct ExecCause: Sendable, Hashable {
    public let pid: Int32
    /// The program exec'd.
    public let path: String

    public init(pid: Int32, path: String) { self.pid = pid; self.path = path }
}

/// Who is to blame for a site: the code that decided to make the call, and the program's own frame — the
/// innermost frame in the executable of the image that made the call. The one definition of "the program's own
/// frame": the reports' `>` marker and culprit line, the plan, the allowlist's comments and the CI gate all use it.
public struct Culprit: Sendable {
    /// The library whose code decided to make the call: the hint's caller; else the innermost frame, inside the
    /// program's frame, of a library other than the C library (whose wrappers and stdio only carry out what their
    /// caller decided); nil when the program makes the call itself.
    public let library: String?
    /// Index of the program's own frame in the stack, if any frame is in the program's executable.
    public let programFrameIndex: Int?
    public let programFrame: Frame?
    /// The program as the trace names it for the image that made the call (exec'd path, else argv[0]).
    public let program: String?
    public let hasStack: Bool
    /// Set for loader activity right after an exec in capability mode: that exec is the cause.
    public internal(set) var exec: ExecCause?

    public init(_ stack: [Frame], program: String?, hint: Hint?) {
        self.program = program
        hasStack = !stack.isEmpty
        let own = stack.firstIndex { Culprit.isInProgram($0, program) }
        programFrameIndex = own
        programFrame = own.map { stack[$0] }
        if let caller = hint?.caller {
            library = caller
        } else {
            let inner = stack[..<(own ?? stack.endIndex)].compactMap { $0.module.map(PathText.basename) }
            if let decider = inner.first(where: { !Culprit.isCLibrary($0) }) {
                library = decider
            } else if own == nil {
                library = inner.first
            } else {
                library = nil
            }
        }
    }

    /// True when no library decided: the program's own code makes the call (through the C library's wrapper).
    public var programMakesCall: Bool { library == nil && programFrame != nil }

    /// Whether the frame runs code of the program's executable (same path, or same basename).
    public func isInProgram(_ f: Frame) -> Bool { Culprit.isInProgram(f, program) }

    static func isInProgram(_ f: Frame, _ program: String?) -> Bool {
        guard let program, let m = f.module else { return false }
        return m == program || PathText.basename(m) == PathText.basename(program)
    }

    /// The C library's modules: their frames carry out a call someone else decided on.
    static func isCLibrary(_ basename: String) -> Bool {
        ["libc.so", "libc-", "libpthread.so", "libpthread-", "librt.so"].contains { basename.hasPrefix($0) }
    }
}

/// The program as the user named it: argv[0] when it names the same file as the exec'd path, else the path.
func displayProgram(_ path: String?, argv0: String?) -> String? {
    guard let path else { return argv0 }
    if let argv0, PathText.basename(argv0) == PathText.basename(path) { return argv0 }
    return path
}
