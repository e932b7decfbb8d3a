import Baselines
import TraceModel

/// A trace read for analysis, the one reading every report and suggestion starts from: the violations with the
/// actions they stand with (`judgedViolations`: the recorded baseline applied), grouped by call site in order
/// of first occurrence, each site with its hint and culprit; and every process with its program.
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
        var order: [String] = []
        var groups: [String: SiteGroup] = [:]
        var exe: [Int32: String] = [:]
        var procs: [(pid: Int32, program: String?)] = []
        var seenPid = Set<Int32>()
        let argv0 = trace.header?.argv.first
        func sawPid(_ pid: Int32) {
            if seenPid.insert(pid).inserted { procs.append((pid, exe[pid] ?? argv0)) }
        }
        for e in trace.events {
            switch e {
            case .process(let p):
                switch p.event {
                case .spawn, .exec: if let path = p.path { exe[p.pid] = path }
                case .fork, .thread: if exe[p.pid] == nil, let parent = exe[p.ppid] { exe[p.pid] = parent }
                case .exit: break
                }
                sawPid(p.pid)
                if let i = procs.firstIndex(where: { $0.pid == p.pid }), let path = exe[p.pid] { procs[i].program = path }
            case .enter(let en):
                sawPid(en.pid)
            case .violation:
                guard let v = next.next() else { break }
                sawPid(v.pid)
                all.append(v)
                if groups[v.site] == nil {
                    order.append(v.site)
                    let hint = Hints.resolve(v)
                    let program = displayProgram(exe[v.pid] ?? argv0, argv0: argv0)
                    groups[v.site] = SiteGroup(id: v.site, events: [], hint: hint,
                                               culprit: Culprit(v.stack, program: program, hint: hint))
                }
                groups[v.site]!.events.append(v)
            case .header, .fdop, .summary:
                break
            }
        }
        violations = all
        sites = order.map { groups[$0]! }
        processes = procs
    }
}

/// The violations made from one call site (equal stacks), in order of occurrence, with the site's hint (the
/// knowledge base's match for its first violation) and its culprit.
public struct SiteGroup: Sendable {
    public let id: String
    public internal(set) var events: [ViolationEvent]
    public let hint: Hint?
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

func distinct<T: Hashable>(_ xs: [T]) -> [T] {
    var seen = Set<T>()
    return xs.filter { seen.insert($0).inserted }
}
