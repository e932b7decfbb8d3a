import Baselines
import TraceModel

/// A trace read for analysis, the one reading every report and suggestion starts from: the violations with the
/// actions they stand with (`judgedViolations`: the recorded baseline applied), grouped by call site and rule in
/// order of first occurrence, each site with its hint and culprit; and every process with its program.
public struct SiteAnalysis: Sendable {
    /// Every violation in trace order, judged against the baseline the trace was recorded with.
    public let violations: [ViolationEvent]
    public let sites: [SiteGroup]
    /// Every pid that appears, in order of appearance, with its program (exec'd path, else argv[0]).
    public let processes: [(pid: Int32, program: String?)]

    public init(_ trace: Trace) {
        let judged = judgedViolations(trace)
        var next = judged.makeIterator()
        var all: [ViolationEvent] = []
        var order: [SiteKey] = []
        var members: [SiteKey: [ViolationEvent]] = [:]
        var images: [SiteKey: [Image]] = [:]
        /// Per pid: its current image, and the image before its latest exec while that exec's own call may
        /// still be recorded (the supervisor may write the execve after the exec event).
        var exe: [Int32: Image] = [:]
        var beforeExec: [Int32: Image] = [:]
        /// Without stacks: pids whose image was exec'd in capability mode and whose violations so far are all
        /// loader-like (its library opens); those violations are the exec's loader work.
        var loading = Set<Int32>()
        var loaderSeqs = Set<Int>()
        var procs: [(pid: Int32, program: String?)] = []
        var seenPid = Set<Int32>()
        let argv0 = trace.header?.argv.first
        let context = HintContext(argv: trace.header?.argv ?? [])
        /// The program the command line names: the spawned path and the path of its first exec.
        var spawned: Set<String> = []
        var initialPid: Int32?
        var initialExecs = 0
        func sawPid(_ pid: Int32) {
            if seenPid.insert(pid).inserted { procs.append((pid, exe[pid]?.path ?? argv0)) }
        }
        for e in trace.events {
            switch e {
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
                if let i = procs.firstIndex(where: { $0.pid == p.pid }), let path = exe[p.pid]?.path { procs[i].program = path }
            case .enter(let en):
                sawPid(en.pid)
            case .violation:
                guard let v = next.next() else { break }
                sawPid(v.pid)
                all.append(v)
                // An execve belongs to the image that called it, even when its exec event came first.
                var image = exe[v.pid]
                if v.rule == .exec, let old = beforeExec[v.pid], let cur = image,
                   !v.stack.contains(where: { Culprit.isInProgram($0, cur.path) }) {
                    image = old
                }
                if v.rule != .exec { beforeExec[v.pid] = nil }
                if loading.contains(v.pid), v.rule != .exec {
                    let id = v.stack.isEmpty ? Hints.diagnose(v)?.hint.id : nil
                    if id == "exec-loader" || id == "dlopen-after-entry" { loaderSeqs.insert(v.seq) } else { loading.remove(v.pid) }
                }
                let key = SiteKey(site: v.site, rule: v.rule)
                if members[key] == nil { order.append(key) }
                members[key, default: []].append(v)
                images[key, default: []].append(image ?? Image(path: argv0 ?? "", execInCapabilityMode: false, pid: v.pid))
            case .header, .fdop, .summary:
                break
            }
        }
        // A stack that shows more than one rule is one site per rule: the first rule seen keeps the stack's id.
        var firstRule: [String: Rule] = [:]
        for k in order where firstRule[k.site] == nil { firstRule[k.site] = k.rule }
        violations = all
        sites = order.map { key in
            let events = members[key]!
            let id = firstRule[key.site] == key.rule ? key.site : key.site + "-" + key.rule.rawValue
            let imgs = images[key]!
            let ctx = { (i: Int) in spawned.contains(imgs[i].path) ? context : HintContext.none }
            let match = SiteAnalysis.hint(events, context: ctx, loader: loaderSeqs)
            let image = imgs[0]
            let program = displayProgram(image.path.isEmpty ? argv0 : image.path, argv0: argv0)
            var culprit = Culprit(events[0].stack, program: program, hint: match?.hint)
            if match?.hint.id == "exec-loader", image.execInCapabilityMode {
                culprit.exec = ExecCause(pid: image.pid, path: image.path)
            }
            return SiteGroup(id: id, events: events, hint: match?.hint, hintInferred: match?.inferred ?? false,
                             culprit: culprit)
        }
        processes = procs
    }

    /// A site's hint from all its violations: the entry most of them match (the earliest on a tie); violations
    /// no entry explains do not outvote those one does.
    /// `loader`: violations recorded without a stack that are the loader's work after an exec in capability mode
    /// (inferred as exec-loader, not as a dlopen).
    static func hint(_ events: [ViolationEvent], context: (Int) -> HintContext, loader: Set<Int> = []) -> HintMatch? {
        var counts: [(HintMatch, Int)] = []
        for (i, v) in events.enumerated() {
            let execLoader = loader.contains(v.seq) ? Hints.entry(id: "exec-loader").map { HintMatch(hint: $0, inferred: true) } : nil
            guard let m = execLoader ?? Hints.diagnose(v, context: context(i)) else { continue }
            if let j = counts.firstIndex(where: { $0.0 == m }) { counts[j].1 += 1 } else { counts.append((m, 1)) }
        }
        var best: (HintMatch, Int)?
        for c in counts where c.1 > (best?.1 ?? 0) { best = c }
        return best?.0
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
    public internal(set) var events: [ViolationEvent]
    public let hint: Hint?
    /// True when the hint was recognised from the path alone (the site has no stack).
    public let hintInferred: Bool
    public let culprit: Culprit

    public var first: ViolationEvent { events[0] }
    public var count: Int { events.count }
    /// Distinct values in order of first occurrence.
    public var pids: [Int32] { distinct(events.map(\.pid)) }
    public var paths: [String] { distinct(events.compactMap(\.path)) }
    public var addresses: [String] { distinct(events.compactMap(\.address)) }
    public var actions: [Action] { distinct(events.map(\.action)) }
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

func distinct<T: Hashable>(_ xs: [T]) -> [T] {
    var seen = Set<T>()
    return xs.filter { seen.insert($0).inserted }
}
