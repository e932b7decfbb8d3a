import Baselines
import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel
import Unwinding

/// Turns the loop's observations into trace events: walked stacks, sequence numbers, counts and the live status
/// line, on the thread that keeps the program stopped. Making and naming the frames, the sites, encoding and
/// writing happen on a `RecordingThread` (`draft`). The recorder concludes nothing: hints, culprits and (in observe mode) the baseline's
/// verdicts are analysis of the trace, which records the allowlist text in its header. The one decision made
/// during the run is enforce mode's with `--allow`: the baseline decides whether a call is denied, so it is
/// matched here, with named frames, before the program goes on.
final class Recorder {
    let options: RunOptions
    var output: RecordingThread?
    var createdOutput = false
    /// Made by `open`, after the ptrace backend has started the program's child: its set-up (the unwind cache, a
    /// rule table) then overlaps the child's own (installing the filter) instead of delaying the child's start.
    private(set) var walker: StackWalker?
    /// Enforce mode with a baseline: frames are named and violations judged here, before the deny decision.
    let enforcedBaseline: Baseline?
    /// `enforcedBaseline != nil`, read per violation without copying the baseline.
    private let judges: Bool
    let t0 = ct_monotonic_ns()
    let started: String
    var seq = 0
    var violationCount = 0
    /// Violations by namespace, at `ordinal(namespace)`: counted per violation without hashing.
    private var namespaceCounts = [Int](repeating: 0, count: Recorder.namespaceSlots)
    /// How many namespaces there are (`Namespace.allCases.count`, which a test checks): reading `allCases` builds
    /// an array of a type nothing else at start makes, whose generic metadata costs more than the count.
    static let namespaceSlots = 7
    /// A distinct index below `namespaceSlots` per namespace (a switch: hashing the raw value costs more
    /// than the count).
    static func ordinal(_ n: Namespace) -> Int {
        switch n {
        case .filesystem: 0
        case .network: 1
        case .process: 2
        case .ipc: 3
        case .system: 4
        case .bypass: 5
        case .policy: 6
        }
    }
    var perNamespace: [Namespace: Int] {
        var out: [Namespace: Int] = [:]
        for n in Namespace.allCases where namespaceCounts[Self.ordinal(n)] > 0 { out[n] = namespaceCounts[Self.ordinal(n)] }
        return out
    }
    /// How many processes reached the trigger (enter events written).
    var enterCount = 0
    var writeError: String?
    /// The live status line (a terminal only, never with -q).
    var statusLine: StatusLine?

    init(options: RunOptions) throws(SupervisorError) {
        self.options = options
        // Parsed in both modes, so a malformed allowlist stops the run before the program starts.
        var baseline: Baseline?
        if let text = options.allowlistText {
            do { baseline = try Baseline(parsing: text) } catch {
                throw SupervisorError("bad allowlist: \(error)")
            }
        }
        enforcedBaseline = options.mode == .enforce ? baseline : nil
        judges = enforcedBaseline != nil
        started = Recorder.utcTimestamp(time(nil))
        statusLine = options.quiet ? nil : StatusLine()
    }

    /// `seconds` since the epoch as an ISO 8601 UTC timestamp ("2026-12-01T20:51:00Z"), worked out here: glibc's
    /// `gmtime_r` loads the time zone (`/etc/localtime`: seven system calls and its parsing) on its first call,
    /// and a UTC timestamp needs none.
    static func utcTimestamp(_ seconds: Int) -> String {
        var days = seconds / 86_400, rest = seconds % 86_400
        if rest < 0 { (days, rest) = (days - 1, rest + 86_400) }
        func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }
        var year = 1970
        while days < 0 { year -= 1; days += isLeap(year) ? 366 : 365 }
        while days >= (isLeap(year) ? 366 : 365) { days -= isLeap(year) ? 366 : 365; year += 1 }
        let monthDays = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var month = 0
        while days >= monthDays[month] { days -= monthDays[month]; month += 1 }
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month + 1))-\(two(days + 1))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }

    /// A recorder dropped on an error path still writes what it queued.
    deinit { _ = output?.close() }

    func open() throws(SupervisorError) {
        let sink = try FileSink(path: options.output)
        if options.stackDepth > 0 {
            walker = StackWalker(kind: UnwinderKind(rawValue: options.unwinder) ?? .libdw, maxDepth: options.stackDepth,
                                 symbolise: judges)
        }
        createdOutput = true
        let thread = RecordingThread(writer: TraceWriter(sink: sink), symbolise: walker.map { !$0.symbolises } ?? false,
                                     exitedMaps: walker?.exitedMaps)
        thread.start()
        output = thread
        var h = HeaderEvent(argv: options.argv, trigger: options.trigger.description, mode: options.mode,
                            backend: options.backend, started: started)
        if options.mode == .enforce, options.policy == nil { h.denyErrno = options.denyErrnoName }
        h.policy = options.policy?.info ?? options.landlockPolicy?.info
        h.stackDepth = options.stackDepth
        h.unwinder = options.stackDepth > 0 ? options.unwinder : nil
        if options.rights { h.rights = true }
        if options.syscalls { h.syscalls = true }
        h.allowlist = options.allowlistText
        h.landlockABI = LandlockLaunch.machineABI
        h.cwd = ProcFS.cwd(getpid())
        h.home = getenv("HOME").map { String(cString: $0) }
        h.tmpdir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        emit(.header(h))
    }

    /// Removes a trace that holds nothing of the program (it never started).
    func discard() {
        _ = output?.close()
        output = nil
        if createdOutput { unlink(options.output) }
    }

    func now() -> UInt64 { ct_monotonic_ns() &- t0 }

    /// `wake`: see RecordingThread.submit.
    func emit(_ e: consuming TraceEvent, wake: Bool = true) {
        guard let out = output else { return }
        if case .enter = e { enterCount += 1 }
        out.submit(consume e, wake: wake)
    }

    func processEvent(_ kind: ProcessEventKind, pid: Int32, tid: Int32, ppid: Int32, capabilityMode: Bool,
                      path: String? = nil, exitStatus: Int32? = nil, signal: String? = nil,
                      withheldPrivileges: String? = nil, wake: Bool = true) {
        var e = ProcessEvent(event: kind, pid: pid, tid: tid, ppid: ppid, capabilityMode: capabilityMode, tNs: now())
        e.path = path
        e.withheldPrivileges = withheldPrivileges
        e.exitStatus = exitStatus
        e.signal = signal
        emit(.process(e), wake: wake)
    }

    func stack(pid: Int32, tid: Int32) -> [Frame] { walker?.stack(pid: pid, tid: tid) ?? [] }

    func unwinderForget(pid: Int32, closeMapsLater: Bool? = nil) {
        // Under ptrace the stopping thread shares the program's CPU: the recording thread closes the maps instead.
        walker?.processExited(pid: pid, closeMapsLater: closeMapsLater ?? (options.backend == .ptrace))
        forgetSites(pid)
    }
    /// Closes the /proc/PID/maps descriptors of ended processes left open by `unwinderForget` (closeMapsLater).
    func closeExitedMaps() { walker?.exitedMaps.closeAll() }
    func unwinderForked(parent: Int32, child: Int32) { walker?.processForked(parent: parent, child: child) }
    func unwinderExeced(pid: Int32) {
        walker?.processExeced(pid: pid)
        forgetSites(pid)
    }
    /// At an exec stop, after `unwinderExeced`: the program's path told by its mappings, when the unwinder can.
    func execImage(pid: Int32, entry: UInt64) -> String? { walker?.execImage(pid: pid, entry: entry) }
    /// Whether the unwinder can tell an exec'd program from its mappings (`StackWalker.tellsExecImages`).
    var unwinderTellsExecImages: Bool { walker?.tellsExecImages ?? false }
    /// Under notify, at a new image's first trapped call, after `unwinderExeced`: the program's path when the
    /// mappings show it is the file the execve named (`StackWalker.execImage(pid:pc:file:)`).
    func execImage(pid: Int32, pc: UInt64, file: (major: UInt32, minor: UInt32, ino: UInt64)) -> String? {
        walker?.execImage(pid: pid, pc: pc, file: file)
    }
    /// The process may have mapped code over earlier code (`FilterBuilder.Tag.mappings`).
    func unwinderMappingsChanged(pid: Int32) {
        walker?.mappingsChanged(pid: pid)
        forgetSites(pid)
    }
    private func forgetSites(_ pid: Int32) { if !siteCache.isEmpty { siteCache[pid] = nil } }

    /// Builds a violation event while its thread is stopped (the stack is walked here).
    /// `pcSp`: for a thread that is not ptrace-stopped (notify backend), the registers to unwind from.
    /// `cwd`: the caller's current directory (asked only for a relative path; the backends cache it).
    func draft(_ call: DecodedCall, namespace: Namespace, rule: Rule, pcSp: (pc: UInt64, sp: UInt64)? = nil,
               stoppedAt: (pc: UInt64, sp: UInt64)? = nil, cwd: () -> String?) -> ViolationEventDraft
    {
        let base = Decoder.base(call, pid: call.pid, cwd: cwd)
        // Without a baseline to judge, the stack is walked here and made frames, with its site, on the recording
        // thread (`RawStack`); with one, the frames are named now, for the judgement.
        var rawStack: RawStack?
        var walked = false
        if !judges, let w = walker, let (pc, sp) = pcSp.map({ ($0.pc, $0.sp) }) ?? stoppedAt.map({ ($0.pc, $0.sp) }) {
            walked = true  // an empty stack (the walk could not start) is not walked again below
            let r = w.rawStack(pid: call.pid, tid: call.tid, pc: pc, sp: sp, stopped: pcSp == nil)
            if !r.isEmpty { rawStack = r }
        }
        let frames = walked ? []
            : pcSp.map { walker?.stack(pid: call.pid, tid: call.tid, pc: $0.pc, sp: $0.sp) ?? [] }
            ?? stoppedAt.map { walker?.stack(pid: call.pid, tid: call.tid, stoppedAt: $0.pc, sp: $0.sp) ?? [] }
            ?? stack(pid: call.pid, tid: call.tid)
        let name = call.syscall?.name ?? "syscall_\(call.nr)"
        let resolved: String?
        if case .escapes(let to)? = call.beneath { resolved = to } else { resolved = nil }
        // A repeat of the last violation's facts shares its call (no allocation here, none freed by the
        // recording thread). Only without a baseline: with one, the rendered arguments and the action are judged.
        // Compared with `lastFacts`, a copy of what the last draft holds, so that no field is copied out of it,
        // and its raw facts one by one, so that none is built for a repeat.
        if !judges, let k = lastFacts, k.nr == call.nr, k.abi == call.abi, k.namespace == namespace,
           k.rule == rule, k.syscall == name, k.resolved == resolved, k.raw.args == call.args,
           k.raw.memory == call.memory, k.raw.base == base, k.stack == frames, k.rawStack == rawStack,
           var e = lastDraft
        {
            // t_ns: set by `write`
            e.pid = call.pid
            e.tid = call.tid
            return ViolationEventDraft(event: e, rawStack: rawStack)
        }
        let raw = RawCall(args: call.args, memory: call.memory, base: base)
        // The trace records the facts (`raw`). Rendering the arguments is only needed here to judge a baseline
        // (enforce mode); a site without a stack needs only what the call names.
        let r = enforcedBaseline != nil ? CallRendering.render(call.syscall, abi: call.abi, raw: raw) : nil
        let named = r.map { ($0.path, $0.address) }
            ?? (frames.isEmpty && rawStack == nil ? call.syscall.map { CallRendering.detail($0, raw: raw) } : nil)
        let site = rawStack != nil ? "" : site(pid: call.pid, frames: frames, syscall: name, detail: named?.0 ?? named?.1)
        var e = ViolationEvent(seq: 0, tNs: now(), pid: call.pid, tid: call.tid, abi: call.abi, syscall: name,
                               nr: call.nr, namespace: namespace, rule: rule, args: r?.args ?? [], action: .allowed,
                               site: site, stack: frames)
        e.path = named?.0
        e.address = named?.1
        e.raw = raw
        e.resolved = resolved
        if let b = enforcedBaseline {
            e.action = b.action(for: e)
        } else {
            lastDraft = e
            draftSerial &+= 1
            lastFacts = DraftFacts(nr: call.nr, abi: call.abi, namespace: namespace, rule: rule, syscall: name,
                                  resolved: resolved, raw: raw, stack: frames, rawStack: rawStack)
        }
        return ViolationEventDraft(event: e, rawStack: rawStack)
    }

    /// The last violation drafted without a baseline, as drafted (seq 0, allowed, no result, no verdict): a
    /// repeat shares its call.
    private var lastDraft: ViolationEvent?
    /// Changes whenever `lastDraft` does.
    private(set) var draftSerial = 0

    /// What `draft` returns for a repeat of the last violation drafted, while `draftSerial` is still `serial`:
    /// for a caller that has checked every fact `draft` compares against the call it drafted then (the notify
    /// worker's repeat path, NotifyLoop.repeatViolation). nil with a baseline, or once another was drafted.
    func redraft(serial: Int, pid: Int32, tid: Int32) -> ViolationEventDraft? {
        guard !judges, serial == draftSerial, var e = lastDraft else { return nil }
        e.pid = pid
        e.tid = tid
        return ViolationEventDraft(event: e, rawStack: lastFacts?.rawStack)
    }
    /// What `lastDraft` was drafted from.
    private var lastFacts: DraftFacts?
    /// A class: looking at it costs one reference count, not one per field.
    private final class DraftFacts {
        let nr: Int
        let abi: ABI
        let namespace: Namespace
        let rule: Rule
        let syscall: String
        let resolved: String?
        let raw: RawCall
        let stack: [Frame]
        let rawStack: RawStack?

        init(nr: Int, abi: ABI, namespace: Namespace, rule: Rule, syscall: String, resolved: String?, raw: RawCall,
             stack: [Frame], rawStack: RawStack?) {
            self.nr = nr; self.abi = abi; self.namespace = namespace; self.rule = rule; self.syscall = syscall
            self.resolved = resolved; self.raw = raw; self.stack = stack; self.rawStack = rawStack
        }
    }

    /// Sites by process, then syscall and pcs: hashing module paths for every event costs more than the lookup.
    /// Valid while the process's image stays (dropped at exec and exit; and when one grows large).
    private var siteCache: [Int32: [SiteKey: String]] = [:]
    private struct SiteKey: Hashable { var syscall: String; var pcs: [UInt64] }
    /// Sites named with a stack so far. The cache is used from the `siteCacheAfter`-th on: a short run (a
    /// program's loader, a few calls) names its sites directly and never builds the cache's dictionaries, whose
    /// first use costs generic metadata at every start. The ids are the same either way.
    private var sitesNamed = 0
    static let siteCacheAfter = 64

    func site(pid: Int32, frames: [Frame], syscall: String, detail: String?) -> String {
        guard !frames.isEmpty else { return Site.id(stack: frames, syscall: syscall, detail: detail) }
        sitesNamed += 1
        guard sitesNamed > Self.siteCacheAfter else { return Site.id(stack: frames, syscall: syscall, detail: detail) }
        let key = SiteKey(syscall: syscall, pcs: frames.map(\.pc))
        if let s = siteCache[pid]?[key] { return s }
        if siteCache[pid]?.count ?? 0 >= 1 << 16 { siteCache[pid] = nil }
        let s = Site.id(stack: frames, syscall: syscall, detail: detail)
        siteCache[pid, default: [:]][key] = s
        return s
    }

    func write(_ d: consuming ViolationEventDraft) {
        var e = d.event
        seq += 1
        e.seq = seq
        e.tNs = now()  // when it was recorded (with its result): t_ns grows with seq
        violationCount += 1
        namespaceCounts[Self.ordinal(e.namespace)] += 1
        // Sites are counted by the recording thread, which names those of raw stacks.
        guard let out = output else { return }
        out.submit(.violation(e), rawStack: d.rawStack)
    }

    func finish(exitStatus: Int32, processes: Int, interrupted: Bool) {
        clearStatus()
        // `sites`: counted by the recording thread as it writes the violations (RecordingThread.append).
        var s = SummaryEvent(violations: violationCount, sites: 0, processes: processes,
                             exitStatus: exitStatus, durationMs: Int(now() / 1_000_000))
        if interrupted { s.interrupted = true }
        emit(.summary(s), wake: false)  // written by the close below
        if let out = output {
            writeError = out.close(release: !options.processEndsAfterRun)
            // Left to the exit when the process ends after the run: freeing its symboliser unmapped each module
            // file it had opened, after the trace was closed (~40 µs of a ptrace run's end, one munmap a file).
            if options.processEndsAfterRun { _ = Unmanaged.passRetained(out) }
            output = nil
        }
    }

    // MARK: live status (StatusLine)

    func tickStatus(processes: Int) {
        statusLine?.tick(elapsedNs: now(), processes: processes, violations: violationCount, perNamespace: self.perNamespace)
    }

    func clearStatus() { statusLine?.clear() }
}
