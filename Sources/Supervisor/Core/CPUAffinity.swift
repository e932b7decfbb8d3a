import CTraceShims
import Glibc

/// Cross-CPU wake-ups dominate a round trip on this kind of VM (about 55 µs against 11.5 µs when supervisor and
/// program share a CPU: an idle virtual CPU halts, and waking it costs the hypervisor). The supervisor pins its
/// tracer thread (ptrace) or its notification workers (notify) to the CPU it started on, and the program runs
/// there too (under notify it inherits the pin; under ptrace it sets itself up on the other CPU while captrace
/// does, and `ct_spawn_go` moves it to the pinned one before its exec): pinning captrace alone left most of the
/// cost in place (ptrace, 100000 stops: ~2.9 s against ~1.6 s with the program on the same CPU; notify, a shell
/// running /bin/true 300 times: each exec moved the new image to the other CPU, and every process paid cross-CPU
/// wake-ups, ~1.3x strace's time against ~0.8x pinned). The program is pinned only while it stops: see
/// `ProgramPins`. `CAPTRACE_NO_PIN=1` turns pinning off (the program then runs exactly where it would without
/// captrace).
enum CPUAffinity {
    /// The CPU the supervisor will pin its tracer thread to: the one it runs on (-1: none, no pinning).
    static func tracerCPU() -> Int32 {
        if let v = getenv("CAPTRACE_NO_PIN"), String(cString: v) == "1" { return -1 }
        return ct_current_cpu()
    }

    static func pin(_ cpu: Int32) {
        if cpu >= 0 { _ = ct_pin_self_to_cpu(cpu) }
    }
}

/// The program shares the supervisor's CPU only while it stops. Once no stop has come for `quietInterval`, every
/// thread of the program gets back the CPUs it would have without captrace; its next stop pins it again (every
/// thread, before that stop is answered: that one stop pays a cross-CPU wake-up and a walk of /proc, the ones
/// after it are cheap again). Without this a program that runs between its stops — a computation, `xz -T2`, a
/// server between requests — ran on one CPU for the whole run (`xz -T2` took 2.1x its time under either backend).
/// Only threads with the affinity captrace gave them move either way: one the program set its own (`taskset`,
/// `sched_setaffinity`) keeps it — unless it chose exactly the pinned CPU, which cannot be told from the pin.
///
/// `noteStop` is called for every stop by the threads that answer them (ptrace: the tracer; notify: the workers
/// and the tracer of a ptrace phase); `tick` by one thread, about every `quietInterval` while `isPinned` (ptrace:
/// the tracer, woken from its wait4 by a timer signal, `ct_tick_timer_create`; notify: the exit watcher, which
/// waits with a timeout anyway). When `noteStop` pins again it says so, and the caller wakes the ticking thread
/// (which waits without ticks while the program is unpinned).
final class ProgramPins: @unchecked Sendable {
    /// How long without a stop before the program is unpinned (20 ms: a program stopping just less often pays, per
    /// 20-40 ms, a cross-CPU wake-up and two walks of /proc — 25 µs each for a one-process program in a C loop,
    /// 150-190 µs measured in place with uprobes, cold).
    static let quietInterval: UInt64 = 20_000_000
    static var quietMillis: Int32 { Int32(quietInterval / 1_000_000) }
    /// The CPU the program is pinned to; -1 when pinning is off (then nothing here does anything).
    let cpu: Int32
    /// The process whose descendants are the program: captrace itself (ptrace), the keeper (notify).
    let top: Int32
    private let stops = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private let unpinned = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private let mutex = PosixMutex()
    /// The ticking thread's own.
    private var lastLook: UInt64
    private var stopsAtLastLook = 0

    /// `cpu` -1, or a machine with one CPU: off.
    init(cpu: Int32, top: Int32) {
        self.cpu = cpu >= 0 && ct_original_cpu_count() > 1 ? cpu : -1
        self.top = top
        stops.initialize(to: 0)
        unpinned.initialize(to: 0)
        lastLook = ct_monotonic_ns()
    }

    static let off = ProgramPins(cpu: -1, top: 0)

    deinit {
        stops.deallocate()
        unpinned.deallocate()
    }

    /// Whether the program is pinned now (while it is not, `tick` has nothing to do).
    var isPinned: Bool { cpu >= 0 && ct_flag_get(unpinned) == 0 }

    /// The program stopped: counted; pins the program again if it was unpinned (then true).
    @inline(__always) @discardableResult func noteStop() -> Bool {
        guard cpu >= 0 else { return false }
        ct_count_add(stops)
        return ct_flag_get(unpinned) != 0 && repin()
    }

    /// Unpins the program when no stop came since the last look, about `quietInterval` or more ago (a quarter's
    /// slack: a periodic tick arrives a little early or late).
    func tick(now: UInt64 = ct_monotonic_ns()) {
        guard isPinned, now &- lastLook >= Self.quietInterval / 4 * 3 else { return }
        let count = ct_count_get(stops)
        defer { (lastLook, stopsAtLastLook) = (now, count) }
        guard count == stopsAtLastLook else { return }
        mutex.locked {
            // A stop that came meanwhile keeps the pin.
            guard ct_flag_get(unpinned) == 0, ct_count_get(stops) == count else { return }
            _ = ct_tree_move_affinity(top, cpu, 0)
            ct_flag_set(unpinned)
        }
    }

    private func repin() -> Bool {
        mutex.locked {
            guard ct_flag_get(unpinned) != 0 else { return false }
            _ = ct_tree_move_affinity(top, cpu, 1)
            ct_flag_clear(unpinned)
            return true
        }
    }
}
