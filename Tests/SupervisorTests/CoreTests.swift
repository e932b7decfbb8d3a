// The supervisor core without real processes: the trigger breakpoints over an in-memory TaskControl (the races
// that are hard to reproduce: a thread vanishing mid-stop, a second thread hitting a removed breakpoint), the
// stop and syscall models, exec from a non-leader thread, and inheritance. Plus the typed wrappers on a real
// pid that is gone.
import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import Testing
import TraceModel
@testable import Supervisor

/// One fake address space and register file per tid. `gone` tids answer ESRCH to everything.
final class FakeTasks: TaskControl {
    var memory: [UInt64: UInt64] = [:]
    var regs: [Int32: user_regs_struct] = [:]
    var code: Int32 = TriggerBreakpoints.siKernel
    var gone: Set<Int32> = []
    /// Pokes that fail (the thread vanished between peek and poke).
    var failPokes = false

    func peek(_ tid: Int32, _ addr: UInt64) throws(TaskError) -> UInt64 {
        if gone.contains(tid) { throw .gone }
        return memory[addr] ?? 0x9090_9090_9090_9055
    }
    func poke(_ tid: Int32, _ addr: UInt64, _ word: UInt64) throws(TaskError) {
        if gone.contains(tid) || failPokes { throw .gone }
        memory[addr] = word
    }
    func registers(_ tid: Int32) throws(TaskError) -> user_regs_struct {
        if gone.contains(tid) { throw .gone }
        return regs[tid] ?? user_regs_struct()
    }
    func setRegisters(_ tid: Int32, _ r: user_regs_struct) throws(TaskError) {
        if gone.contains(tid) { throw .gone }
        regs[tid] = r
    }
    func signalCode(_ tid: Int32) throws(TaskError) -> Int32 {
        if gone.contains(tid) { throw .gone }
        return code
    }
    func readWord(pid: Int32, _ addr: UInt64) throws(TaskError) -> UInt64 {
        guard let w = memory[addr] else { throw .failed(EFAULT) }
        return w
    }

    /// The thread stopped just after executing the int3 at `addr`.
    func trap(_ tid: Int32, at addr: UInt64) {
        var r = regs[tid] ?? user_regs_struct()
        r.rip = addr + 1
        regs[tid] = r
    }
}

@Suite struct CoreTests {
    /// A pid no process has (the breakpoint code reads /proc/PID/maps only after a rendezvous: empty here).
    static let pid: Int32 = 0x3fff_fff0
    static let addr: UInt64 = 0x40_1000

    func setUp(_ trigger: Trigger = .main) -> (TriggerBreakpoints, FakeTasks, ProcessState) {
        let fake = FakeTasks()
        fake.memory[Self.addr] = 0x1122_3344_5566_7755  // original first byte 0x55 (push rbp)
        let bp = TriggerBreakpoints(trigger: trigger, control: fake)
        return (bp, fake, ProcessState(pid: Self.pid, ppid: 1))
    }

    @Test("a trigger breakpoint fires once: original byte back, thread rewound, address retired")
    func triggerFiresOnce() {
        let (bp, fake, p) = setUp()
        bp.plant(p, tid: Self.pid, at: Self.addr, purpose: .trigger)
        #expect(fake.memory[Self.addr] == 0x1122_3344_5566_77CC)
        fake.trap(Self.pid, at: Self.addr)
        #expect(bp.hit(p, tid: Self.pid) == .fired)
        #expect(fake.memory[Self.addr] == 0x1122_3344_5566_7755)
        #expect(fake.regs[Self.pid]?.rip == Self.addr)
        #expect(p.breakpoints.isEmpty && p.retiredBreakpoints.contains(Self.addr))
        // A second thread that hit it in the same moment is rewound, not given a SIGTRAP.
        let other = Self.pid + 1
        fake.trap(other, at: Self.addr)
        #expect(bp.hit(p, tid: other) == .handled)
        #expect(fake.regs[other]?.rip == Self.addr)
    }

    @Test("a thread that vanishes while a breakpoint is planted leaves none recorded")
    func vanishingWhilePlanting() {
        let (bp, fake, p) = setUp()
        fake.failPokes = true
        bp.plant(p, tid: Self.pid, at: Self.addr, purpose: .trigger)
        #expect(p.breakpoints.isEmpty)
        #expect(fake.memory[Self.addr] == 0x1122_3344_5566_7755)
        fake.failPokes = false
        fake.gone.insert(Self.pid)
        bp.plant(p, tid: Self.pid, at: Self.addr, purpose: .trigger)
        #expect(p.breakpoints.isEmpty)
    }

    @Test("a thread that vanishes at its SIGTRAP stop, or a SIGTRAP that is not an int3, is not ours")
    func notOurs() {
        let (bp, fake, p) = setUp()
        bp.plant(p, tid: Self.pid, at: Self.addr, purpose: .trigger)
        fake.trap(Self.pid, at: Self.addr)
        fake.code = 0  // SI_USER: kill(pid, SIGTRAP)
        #expect(bp.hit(p, tid: Self.pid) == .notOurs)
        fake.code = TriggerBreakpoints.siKernel
        fake.gone.insert(Self.pid)
        #expect(bp.hit(p, tid: Self.pid) == .notOurs)
        #expect(p.breakpoints[Self.addr] != nil)  // still armed for the next thread
        // An int3 of the program's own at another address is the program's.
        fake.gone = []
        fake.trap(Self.pid, at: Self.addr + 0x40)
        #expect(bp.hit(p, tid: Self.pid) == .notOurs)
    }

    @Test("the rendezvous breakpoint emulates ret; __libc_start_main moves the trigger to main (rdi)")
    func rendezvousAndLibcStartMain() {
        let (bp, fake, p) = setUp()
        bp.plant(p, tid: Self.pid, at: Self.addr, purpose: .rendezvous)
        fake.trap(Self.pid, at: Self.addr)
        fake.regs[Self.pid]!.rsp = 0x7ffd_0000
        fake.memory[0x7ffd_0000] = 0x40_2222  // the return address
        #expect(bp.hit(p, tid: Self.pid) == .handled)
        #expect(fake.regs[Self.pid]?.rip == 0x40_2222 && fake.regs[Self.pid]?.rsp == 0x7ffd_0008)
        #expect(p.breakpoints[Self.addr]?.purpose == .rendezvous)  // stays for the next dlopen

        let start: UInt64 = 0x40_3000, main: UInt64 = 0x40_4000
        fake.memory[start] = 0xF3
        fake.memory[main] = 0x55
        bp.plant(p, tid: Self.pid, at: start, purpose: .libcStartMain)
        fake.trap(Self.pid, at: start)
        fake.regs[Self.pid]!.rdi = main
        #expect(bp.hit(p, tid: Self.pid) == .handled)
        #expect(fake.regs[Self.pid]?.rip == start && fake.memory[start] == 0xF3)
        #expect(p.breakpoints[main]?.purpose == .trigger && fake.memory[main] == 0xCC)
    }

    @Test("exec from a non-leader thread: the leader's tid takes over what the thread was waiting for")
    func execFromNonLeader() {
        let table = ProcessTable()
        table.addProcess(pid: 100, ppid: 1)
        let leader = table.addThread(tid: 100, pid: 100)
        let worker = table.addThread(tid: 101, pid: 100)
        worker.awaitingExit = true
        worker.pendingViolation = ViolationEventDraft(event: ViolationEvent(
            seq: 0, tNs: 0, pid: 100, tid: 101, abi: .x86_64, syscall: "execve", nr: 59, namespace: .filesystem,
            rule: .absolutePath, args: [], action: .allowed, site: "s", stack: []))
        table.execTookOver(former: 101, by: leader)
        #expect(leader.awaitingExit && leader.pendingViolation?.event.syscall == "execve")
        #expect(table.thread(101) == nil && table.process(100)?.threads == [100])
    }

    @Test("wait statuses and ptrace stops decoded once")
    func stops() {
        #expect(PtraceStop(WaitStatus(3 << 8)) == .exited && WaitStatus(3 << 8).programStatus == 3)
        #expect(WaitStatus(SIGKILL).programStatus == 137 && WaitStatus(SIGKILL).signalName == "SIGKILL")
        func stopped(_ sig: Int32, event: Int32 = 0) -> WaitStatus { WaitStatus(0x7f | sig << 8 | event << 16) }
        #expect(PtraceStop(stopped(SIGTRAP | 0x80)) == .syscallExit)
        #expect(PtraceStop(stopped(SIGTRAP, event: Tracee.eventSeccomp)) == .seccomp)
        #expect(PtraceStop(stopped(SIGTRAP, event: Tracee.eventClone)) == .newTask)
        #expect(PtraceStop(stopped(SIGTRAP, event: Tracee.eventExec)) == .exec)
        #expect(PtraceStop(stopped(SIGTSTP, event: Tracee.eventStop)) == .groupStop)
        #expect(PtraceStop(stopped(SIGTRAP, event: Tracee.eventStop)) == .interruptStop(signal: SIGTRAP))
        #expect(PtraceStop(stopped(SIGSEGV)) == .signal(SIGSEGV))
    }

    @Test("a trapped call's ABI comes from the catalog's one split")
    func syscallStops() throws {
        let i386 = try #require(SyscallStop(auditArch: ABI.i386.auditArch, rawNumber: 5, args: []))
        #expect(i386.abi == .i386 && i386.name == "open")
        let x32 = try #require(SyscallStop(auditArch: ABI.x86_64.auditArch, rawNumber: 0x4000_0000 | 2, args: []))
        #expect(x32.abi == .x32 && x32.nr == 2 && x32.name == "open")
        let x64 = try #require(SyscallStop(auditArch: ABI.x86_64.auditArch, rawNumber: 257, args: []))
        #expect(x64.abi == .x86_64 && x64.name == "openat")
        #expect(SyscallStop(auditArch: 0xC000_00B7 /* aarch64 */, rawNumber: 56, args: []) == nil)
    }

    @Test("a new process inherits capability mode as told, and breakpoints only outside it")
    func inheritance() throws {
        var o = RunOptions(argv: ["/bin/true"])
        o.stackDepth = 0
        let core = try SupervisorCore(options: o)
        let parent = core.table.addProcess(pid: 10, ppid: 1)
        parent.exe = "/bin/sh"
        parent.breakpoints[0x1000] = Breakpoint(original: 0x55, purpose: .trigger)
        let child = core.addProcess(pid: 11, ppid: 10, inCapabilityMode: false)
        #expect(child.exe == "/bin/sh" && child.breakpoints[0x1000] != nil && !child.capabilityMode)
        parent.capabilityMode = true
        let later = core.addProcess(pid: 12, ppid: 10, inCapabilityMode: true)
        #expect(later.capabilityMode && later.breakpoints.isEmpty)
        // Entering twice writes one enter event.
        #expect(core.enterCapabilityMode(child, tid: 11, stack: .none))
        #expect(!core.enterCapabilityMode(child, tid: 11, stack: .none))
    }

    /// newfstatat(AT_FDCWD, `path`, ...) of pid 10 as the Decoder would give it, with its path read.
    static func fstatatCall(_ path: String, tid: Int32 = 10, args: [UInt64]? = nil) -> DecodedCall {
        // x86_64's 262 is newfstatat in every catalog.
        let sc = SyscallStop(auditArch: ABI.x86_64.auditArch, rawNumber: 262,
                             args: [UInt64(bitPattern: -100), 0x1000, 0x2000, 0, 0, 0])!
        var c = DecodedCall(abi: sc.abi, nr: sc.nr, syscall: sc.syscall, args: args ?? sc.args, pid: 10, tid: tid)
        c.path = .string(path)
        c.memory.strings[1] = path
        return c
    }

    @Test("the recorder: a repeated violation shares the last one's call; one differing in any fact gets its own")
    func repeatsShareTheirCall() throws {
        var o = RunOptions(argv: ["/bin/true"])
        o.stackDepth = 0
        let recorder = try Recorder(options: o)
        func call(_ path: String, tid: Int32 = 10, args: [UInt64]? = nil) -> DecodedCall {
            Self.fstatatCall(path, tid: tid, args: args)
        }
        func draft(_ c: DecodedCall, _ rule: Rule = .cwdRelative, cwd: String = "/w") -> ViolationEvent {
            recorder.draft(c, namespace: rule.namespace, rule: rule, cwd: { cwd }).event
        }
        let first = draft(call("."))
        let again = draft(call(".", tid: 11))
        #expect(again.sharesCall(with: first) && again.tid == 11 && again.seq == 0 && again.action == .allowed)
        #expect(again.raw == first.raw && again.site == first.site && again.path == "/w")
        #expect(!draft(call("x")).sharesCall(with: first))
        let x = draft(call("x"))
        #expect(!draft(call("x"), cwd: "/v").sharesCall(with: x))
        let v = draft(call("x"), cwd: "/v")
        #expect(!draft(call("x", args: [UInt64(bitPattern: -100), 0x1008, 0x2000, 0, 0, 0]), cwd: "/v").sharesCall(with: v))
        let moved = draft(call("x", args: [UInt64(bitPattern: -100), 0x1008, 0x2000, 0, 0, 0]), cwd: "/v")
        #expect(!draft(call("x", args: [UInt64(bitPattern: -100), 0x1008, 0x2000, 0, 0, 0]), .unreadablePath, cwd: "/v").sharesCall(with: moved))
        // A draft changed afterwards (its result, a policy verdict) leaves the shared call as it was.
        var changed = draft(call("."))
        changed.verdict = PolicyVerdict(source: .defaultAction, action: "SCMP_ACT_ERRNO", errno: "EPERM")
        changed.result = 0
        #expect(draft(call(".")).verdict == nil && draft(call(".")).result == nil)
    }

    @Test("the recorder's redraft is what draft gives a repeat, and nothing once another call was drafted or with a baseline")
    func redraft() throws {
        var o = RunOptions(argv: ["/bin/true"])
        o.stackDepth = 0
        let recorder = try Recorder(options: o)
        func call(_ path: String) -> DecodedCall { Self.fstatatCall(path) }
        let first = recorder.draft(call("."), namespace: .filesystem, rule: .cwdRelative, cwd: { "/w" }).event
        let serial = recorder.draftSerial
        let again = try #require(recorder.redraft(serial: serial, pid: 12, tid: 13)).event
        let drafted = recorder.draft(call("."), namespace: .filesystem, rule: .cwdRelative, cwd: { "/w" }).event
        #expect(again.sharesCall(with: first) && again.pid == 12 && again.tid == 13 && again.seq == 0)
        #expect(drafted.sharesCall(with: first) && recorder.draftSerial == serial, "a repeat drafted is no new draft")
        _ = recorder.draft(call("x"), namespace: .filesystem, rule: .cwdRelative, cwd: { "/w" })
        #expect(recorder.draftSerial != serial && recorder.redraft(serial: serial, pid: 12, tid: 13) == nil)
        o.mode = .enforce
        o.allowlistText = "openat filesystem/absolute-path path=/etc/hosts\n"
        let judging = try Recorder(options: o)
        _ = judging.draft(call("."), namespace: .filesystem, rule: .cwdRelative, cwd: { "/w" })
        #expect(judging.redraft(serial: judging.draftSerial, pid: 12, tid: 13) == nil)
    }

    @Test("the notify repeat path's calls: one path the only thing read from the program")
    func onlyPathRead() throws {
        let catalog = Catalog.shared
        func index(_ name: String) throws -> Int? { Decoder.onlyPathRead(try #require(catalog.syscall(named: name))) }
        #expect(try index("newfstatat") == 1 && index("access") == 0 && index("openat") == 1 && index("chdir") == 0)
        // Two paths, a path and an open_how, addresses, pids, names that are not paths, i386's packed arrays.
        for name in ["renameat2", "linkat", "openat2", "connect", "sendmsg", "kill", "mq_open", "fchdir", "socketcall"] {
            #expect(try index(name) == nil, "\(name)")
        }
    }

    @Test("the recorder counts violations by namespace: every namespace at its own place")
    func namespaceCounts() throws {
        var o = RunOptions(argv: ["/bin/true"])
        o.stackDepth = 0
        let recorder = try Recorder(options: o)
        #expect(Namespace.allCases.enumerated().allSatisfy { Recorder.ordinal($0.element) == $0.offset })
        let sc = try #require(SyscallStop(auditArch: ABI.x86_64.auditArch, rawNumber: 262,
                                          args: [UInt64(bitPattern: -100), 0x1000, 0x2000, 0, 0, 0]))
        var expected: [Namespace: Int] = [:]
        for (i, n) in Namespace.allCases.enumerated() {
            for _ in 0...i {
                let c = DecodedCall(abi: sc.abi, nr: sc.nr, syscall: sc.syscall, args: sc.args, pid: 10, tid: 10)
                recorder.write(recorder.draft(c, namespace: n, rule: .systemState, cwd: { "/w" }))
            }
            expected[n] = i + 1
        }
        #expect(recorder.perNamespace == expected)
        #expect(recorder.violationCount == expected.values.reduce(0, +))
    }

    @Test("the recorder's namespace slots are Namespace.allCases.count, one per namespace")
    func namespaceSlots() {
        #expect(Recorder.namespaceSlots == Namespace.allCases.count)
        #expect(Set(Namespace.allCases.map(Recorder.ordinal)) == Set(0..<Recorder.namespaceSlots))
    }

    @Test("the header's UTC timestamp is gmtime_r's, from before 1970 to after 2100 and across leap days")
    func utcTimestamp() {
        var times = [0, -1, 59, 86_399, 86_400, -86_400, -86_401, 951_782_400, 951_868_799, 4_107_542_400,
                     4_107_628_800, 1_798_761_600, Int(time(nil)), 2_147_483_647, -2_147_483_648]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            times.append(Int(x >> 30) % 9_000_000_000 - 2_000_000_000)
        }
        for t in times {
            var now = t, tm = tm()
            gmtime_r(&now, &tm)
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let libc = "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))Z"
            #expect(Recorder.utcTimestamp(t) == libc, "at \(t)")
        }
    }

    @Test("the recorder names a site the same before and after its site cache is used, in one process and across")
    func sitesNamedAlike() throws {
        var o = RunOptions(argv: ["/bin/true"])
        o.stackDepth = 0
        let recorder = try Recorder(options: o)
        // Within one image a pc names one module and offset (what the cache relies on).
        func frames(_ i: Int) -> [Frame] {
            [Frame(pc: 0x1000 + UInt64(i % 5), module: "/lib/m\(i % 5 % 3).so", offset: UInt64(i % 5)),
             Frame(pc: 0x2000, module: "/bin/p", offset: 0x20)]
        }
        for i in 0..<(3 * Recorder.siteCacheAfter) {
            let pid = Int32(10 + i % 2)
            let name = i % 4 == 0 ? "openat" : "stat"
            #expect(recorder.site(pid: pid, frames: frames(i), syscall: name, detail: nil)
                    == Site.id(stack: frames(i), syscall: name, detail: nil))
            if i == 2 * Recorder.siteCacheAfter { recorder.unwinderExeced(pid: 10) }
        }
        #expect(recorder.site(pid: 10, frames: [], syscall: "stat", detail: "/x") == Site.id(stack: [], syscall: "stat", detail: "/x"))
    }

    @Test("the decoder shares the caller's last memory read when it read the same single string, else records its own")
    func memoryShared() {
        var last = MemoryRead()
        last.strings[1] = "."
        let m = Decoder.Memory(pid: 1, previous: last)
        var same = MemoryRead()
        Decoder.record(".", at: 1, in: &same, m)
        #expect(same == last)
        var other = MemoryRead()
        Decoder.record("..", at: 1, in: &other, m)
        var otherIndex = MemoryRead()
        Decoder.record(".", at: 2, in: &otherIndex, m)
        #expect(other.strings == [1: ".."] && otherIndex.strings == [2: "."])
        var second = same
        Decoder.record("/x", at: 3, in: &second, m)
        #expect(second.strings == [1: ".", 3: "/x"] && last.strings == [1: "."])
    }

    @Test("ptrace requests on a thread that does not exist say gone (ESRCH), not failed")
    func goneIsTyped() {
        var result: TaskError?
        do { try Tracee.cont(Self.pid) } catch { result = error }
        #expect(result == .gone)
        #expect(throws: TaskError.gone) { try Tracee().registers(Self.pid) }
    }
}
