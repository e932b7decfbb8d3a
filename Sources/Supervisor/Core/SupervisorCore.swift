import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// Runs `captrace run`: the supervisor core with the transport `options.backend` names.
public func supervise(_ options: RunOptions) throws(SupervisorError) -> RunResult {
    let core = try SupervisorCore(options: options)
    let transport: Transport = options.backend == .ptrace ? PtraceTransport(core) : NotifyTransport(core)
    let result = try core.run(transport)
    if options.processEndsAfterRun {
        _ = Unmanaged.passRetained(core)
        _ = Unmanaged.passRetained(transport as AnyObject)
    }
    return result
}

/// How a backend sees the program: ptrace stops, or seccomp notifications (with ptrace only until a
/// breakpoint trigger fires). The core owns everything else: the run's skeleton, the process table,
/// capability state (entry, inheritance, exec) and the trigger breakpoints.
protocol Transport: AnyObject {
    /// What the filter does with a trapped call (`SECCOMP_RET_TRACE` or `SECCOMP_RET_USER_NOTIF`).
    var filterAction: FilterBuilder.Action { get }
    /// May start the program's set-up early, before the supervisor pins itself to `cpu` (-1: no pin) and opens
    /// the trace: it then runs off that CPU, beside the supervisor's own set-up. `launch` or `abandonLaunch`
    /// follows.
    func prepareLaunch(path: String, bpf: inout ct_bpf, awayFrom cpu: Int32) throws(SupervisorError)
    /// Starts the program (`path`, argv, environment) under `bpf`, on `cpu` (-1: anywhere); returns its pid. The
    /// core adds it to the table. Throws after cleaning up what it started.
    func launch(path: String, bpf: inout ct_bpf, pinnedTo cpu: Int32) throws(SupervisorError) -> Int32
    /// The process whose descendants are the program (see ProgramPins), once launched.
    var programTop: Int32 { get }
    /// Kills and reaps what `prepareLaunch` started (the run failed before `launch`).
    func abandonLaunch()
    /// Serves the program until every process is gone (or captrace was interrupted and they were killed).
    func serve()
    /// The errno of the program's failed execve, if it failed (then nothing of the program ran).
    func execFailure() -> Int32?
    /// The program's status (exit code or 128+N), nil if it was never seen to end.
    var rootStatus: Int32? { get }
    /// After `serve`: release what the transport holds, write what it still owes (before the summary).
    func finish()
    /// After the summary: warnings for the user (stderr).
    func warnings()
}

/// The part of the supervisor both transports share. The notify transport calls it with its lock held; the
/// ptrace transport from its one tracer thread.
final class SupervisorCore {
    let options: RunOptions
    let enforce: Bool
    let recorder: Recorder
    let table = ProcessTable()
    let breakpoints: TriggerBreakpoints
    var rootPid: Int32 = 0
    /// The signal that interrupted captrace (SIGINT/SIGTERM/SIGHUP), or 0.
    var interruptedBy: Int32 = 0
    /// Execs whose privileges no_new_privs withheld (also recorded on their exec events).
    var withheldPrivileges: [WithheldPrivileges] = []
    /// What exec'ing each file would grant (files with nothing to grant remembered).
    var privileges = PrivilegeCheck()
    /// Under --policy: what captrace could not do as the kernel does (said on stderr at the end).
    var policyNotes: Set<String> = []
    /// Called when a process enters capability mode, before its enter event (notify: remembers its children).
    var onEnter: ((ProcessState) -> Void)?
    /// Keeps the program on the supervisor's CPU while it stops (set at launch).
    private(set) var pins = ProgramPins.off
    /// `run --syscalls`: what the counting filter traps for more than counting. Computed from the filter's rules
    /// on a helper thread while the program is launched (~1.6 ms at every start, the catalog's building waited
    /// for included), and waited for at its first use, a counted call.
    var counting: CountingConditions { countingConditions.value }
    private var countingConditions = Pending(CountingConditions([]))
    /// The rules the run's filter is made of (computed only when asked: a kept filter needs none).
    private(set) var filterRules: () -> [FilterBuilder.Rule] = { [] }
    /// Per call (ABI ordinal << 32 | number), the tags the run's filter stops it with: for a stop whose
    /// SECCOMP_RET_DATA is not captrace's (the program's own filters returned TRACE too).
    lazy var ruleTags: [Int: FilterBuilder.Tag] = {
        var tags: [Int: FilterBuilder.Tag] = [:]
        for r in filterRules() { tags[r.abi.ordinal << 32 | Int(r.nr), default: []].formUnion(r.tag) }
        return tags
    }()

    init(options: RunOptions) throws(SupervisorError) {
        self.options = options
        self.enforce = options.mode == .enforce
        self.recorder = try Recorder(options: options)
        self.breakpoints = TriggerBreakpoints(trigger: options.trigger)
    }

    /// Whether the trigger needs breakpoints (`main`, `symbol:NAME`).
    var usesBreakpoints: Bool {
        if options.landlockPolicy != nil { return false }
        switch options.trigger {
        case .main, .symbol: return true
        default: return false
        }
    }

    // MARK: - The run's skeleton

    func run(_ transport: Transport) throws(SupervisorError) -> RunResult {
        let path = try ProgramPath.resolve(options.argv[0])
        var bpf: ct_bpf
        do {
            let rights = options.rights && transport.filterAction == .trace ? RightsTable.syscallNames : []
            let (trigger, enforce, action, policy) = (options.trigger, enforce, transport.filterAction, options.policy?.traps)
            let (landlock, counts, mappings) = (action == .trace, options.syscalls, options.stackDepth > 0)
            bpf = try FilterBuilder.build(trigger: trigger, enforce: enforce, action: action, rights: rights,
                                         policy: policy, landlock: landlock, counting: counts, mappings: mappings)
            filterRules = {
                FilterBuilder.rules(trigger: trigger, enforce: enforce, action: action, rights: rights, policy: policy,
                                    landlock: landlock, counting: counts, mappings: mappings)
            }
            if counts {
                let pending = Pending<CountingConditions>(), rules = filterRules
                countingConditions = pending
                if !PosixThreads.startHelper({ pending.set(CountingConditions(rules())) }) {
                    pending.set(CountingConditions(rules()))
                }
            }
        } catch {
            throw SupervisorError("cannot build the seccomp filter: \(error)")
        }
        defer { ct_bpf_free(&bpf) }

        let cpu = CPUAffinity.tracerCPU()
        try transport.prepareLaunch(path: path, bpf: &bpf, awayFrom: cpu)
        CPUAffinity.pin(cpu)  // before the recording thread starts: it keeps off this CPU
        do throws(SupervisorError) { try recorder.open() } catch {
            transport.abandonLaunch()
            throw error
        }
        ct_install_interrupt_handlers()
        do throws(SupervisorError) {
            rootPid = try transport.launch(path: path, bpf: &bpf, pinnedTo: cpu)
        } catch {
            recorder.discard()
            throw error
        }
        ct_set_root_pid(rootPid)
        pins = ProgramPins(cpu: cpu, top: transport.programTop)

        transport.serve()
        transport.finish()
        if let failure = transport.execFailure() {
            recorder.discard()
            throw execError(failure)
        }
        let status = transport.rootStatus ?? 125
        recorder.finish(exitStatus: status, processes: table.processCount, interrupted: interruptedBy != 0)
        transport.warnings()
        for n in policyNotes.sorted() { printError("captrace: warning: \(n)") }
        return RunResult(programStatus: status, violations: recorder.violationCount,
                         interruptedBy: interruptedBy,
                         entered: recorder.enterCount, traceWriteError: recorder.writeError,
                         withheldPrivileges: withheldPrivileges)
    }

    /// A failed exec of the program: 127 when it does not exist, 126 otherwise (as env(1) and timeout(1)).
    func execError(_ errno: Int32) -> SupervisorError {
        SupervisorError("cannot execute \(options.argv[0]): \(String(cString: strerror(errno)))",
                        status: errno == ENOENT ? 127 : 126)
    }

    // MARK: - Processes and threads

    /// The program itself, just started (its parent is captrace, or the notify backend's keeper).
    func addRoot(pid: Int32, ppid: Int32, path: String) {
        let p = table.addProcess(pid: pid, ppid: ppid)
        if options.syscalls { p.syscalls = SyscallCounter() }
        table.addThread(tid: pid, pid: pid).sawFirstStop = true  // seized before it ran: no auto-attach stop
        recorder.processEvent(.spawn, pid: pid, tid: pid, ppid: ppid, capabilityMode: false, path: path)
    }

    /// A new process. `inCapabilityMode`: whether it was forked after its parent entered (the contract's rule;
    /// ptrace knows it from the fork event, notify works it out from the children the parent had at entry).
    /// Outside capability mode it inherits its parent's breakpoints (fork copied the bytes).
    @discardableResult
    func addProcess(pid: Int32, ppid: Int32, inCapabilityMode: Bool) -> ProcessState {
        let p = table.addProcess(pid: pid, ppid: ppid)
        p.capabilityMode = inCapabilityMode
        if options.syscalls && p.syscalls == nil { p.syscalls = SyscallCounter() }
        if let parent = table.process(ppid) {
            p.exe = parent.exe
            p.execed = parent.execed
            p.landlock = parent.landlock
            p.seccompFilters = parent.seccompFilters
            if !p.capabilityMode && !parent.capabilityMode {
                p.breakpoints = parent.breakpoints
                p.retiredBreakpoints = parent.retiredBreakpoints
                p.scannedModules = parent.scannedModules
            }
        }
        recorder.processEvent(.fork, pid: pid, tid: pid, ppid: ppid, capabilityMode: p.capabilityMode)
        return p
    }

    /// A thread seen for the first time, in a known process.
    @discardableResult
    func addThread(tid: Int32, pid: Int32) -> ThreadState {
        let t = table.addThread(tid: tid, pid: pid)
        if tid != pid, let p = table.process(pid) {
            recorder.processEvent(.thread, pid: pid, tid: tid, ppid: p.ppid, capabilityMode: p.capabilityMode)
        }
        return t
    }

    /// The process's image was replaced. Returns whether this was its first exec (the spawned child's own
    /// execve of the program counts as the first). Breakpoints are the transport's to reset and re-plant.
    /// `entry`: at the exec stop itself (ptrace), its pc; then the unwinder may tell the program from the
    /// mappings (`StackWalker.execImage`) instead of /proc/PID/exe.
    /// `named`: under notify, the file the execve named and the pc of the new image's first trapped call; the
    /// unwinder then may tell the program from the mappings (`StackWalker.execImage(pid:pc:file:)`).
    func execed(_ p: ProcessState, tid: Int32, entry: UInt64? = nil, named: NamedExec? = nil) -> Bool {
        let first = !p.execed
        p.execed = true
        p.landlock.rulesets = [:]  // ruleset descriptors are close-on-exec; the domain stays
        recorder.unwinderExeced(pid: p.pid)
        var known: stat?  // the program's status, when `named` is the program
        var exe = entry.flatMap { recorder.execImage(pid: p.pid, entry: $0) }
        if exe == nil, let named, let e = recorder.execImage(pid: p.pid, pc: named.pc, file: named.file) {
            exe = e
            known = named.status
        }
        p.exe = exe ?? ProcFS.exe(p.pid)
        let withheld = p.exe.flatMap { privileges.withheld(path: $0, pid: p.pid, status: known) }
        if let withheld, let exe = p.exe { withheldPrivileges.append(WithheldPrivileges(pid: p.pid, path: exe, what: withheld)) }
        recorder.processEvent(.exec, pid: p.pid, tid: tid, ppid: p.ppid, capabilityMode: p.capabilityMode, path: p.exe,
                              withheldPrivileges: withheld)
        return first
    }

    /// The file an execve named, as stat() showed it after the exec, and the pc of the new image's first trapped
    /// call (notify).
    struct NamedExec {
        var pc: UInt64
        var status: stat
        var file: (major: UInt32, minor: UInt32, ino: UInt64) {
            let dev = UInt64(status.st_dev)
            return (UInt32(truncatingIfNeeded: ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000)),
                    UInt32(truncatingIfNeeded: (dev & 0xff) | ((dev >> 12) & 0xffff_ff00)), UInt64(status.st_ino))
        }
    }

    /// Whether capability mode begins at this exec (`--enter-at exec`: the program's first exec; `exec:NAME`:
    /// any traced process's exec of NAME).
    func entersAtExec(_ p: ProcessState, firstExec: Bool) -> Bool {
        guard !p.capabilityMode else { return false }
        switch options.trigger {
        case .exec: return firstExec && p.pid == rootPid
        case .execOf: return p.exe.map { options.trigger.matchesExec(path: $0, resolved: ProcFS.realPath) } ?? false
        default: return false
        }
    }

    /// Forgets the breakpoints of an image that was replaced.
    func resetBreakpoints(_ p: ProcessState) {
        p.breakpoints = [:]
        p.retiredBreakpoints = []
        p.scannedModules = []
    }

    /// A process ended (`status`: its wait status when known). `closeMapsLater`: its unwinder's /proc/PID/maps
    /// is left to `Recorder.closeExitedMaps` (or the recording thread) instead of closed here; nil: the
    /// backend's default (`Recorder.unwinderForget`).
    func processExited(_ pid: Int32, tid: Int32, status: WaitStatus?, closeMapsLater: Bool? = nil) {
        guard let p = table.process(pid) else { return }
        // The last process known: the run is most likely ending, and `finish` writes these events itself; waking the
        // recording thread for them only had it start a batch beside the closing one (an unknown process's next
        // event still wakes it).
        let wake = table.processCount > 1
        if let c = p.syscalls { recorder.emit(.syscalls(c.event(pid: pid, tNs: recorder.now())), wake: wake) }
        recorder.processEvent(.exit, pid: pid, tid: tid, ppid: p.ppid, capabilityMode: p.capabilityMode,
                              exitStatus: status?.programStatus, signal: status?.signalName, wake: wake)
        recorder.unwinderForget(pid: pid, closeMapsLater: closeMapsLater)
        table.removeProcess(pid)
    }

    // MARK: - Capability mode

    /// Where the stack of an enter event comes from.
    enum EnterStack {
        /// The thread is ptrace-stopped by the calling thread.
        case stopped
        /// The thread waits in a syscall: unwind from these registers.
        case registers(pc: UInt64, sp: UInt64)
        case none
    }

    /// Process `p` enters capability mode now (once: later calls return false). Writes the enter event with
    /// the descriptors the process holds and the entering thread's stack.
    @discardableResult
    func enterCapabilityMode(_ p: ProcessState, tid: Int32, stack: EnterStack) -> Bool {
        // A Landlock `--policy` replaces capability mode as the run's policy: nothing enters.
        guard !p.capabilityMode, options.landlockPolicy == nil else { return false }
        p.capabilityMode = true
        onEnter?(p)
        let fds = ProcFS.descriptors(p.pid).map {
            FDInfo(fd: $0.fd, kind: $0.kind, path: $0.path, flags: OpenFlags.describe($0.flags))
        }
        let frames: [Frame]
        switch stack {
        case .stopped: frames = recorder.stack(pid: p.pid, tid: tid)
        case .registers(let pc, let sp): frames = recorder.walker?.stack(pid: p.pid, tid: tid, pc: pc, sp: sp) ?? []
        case .none: frames = []
        }
        recorder.emit(.enter(EnterEvent(pid: p.pid, tid: tid, trigger: options.trigger.description,
                                        tNs: recorder.now(), stack: frames, fds: fds)))
        return true
    }
}
