import CTraceShims
import Glibc
import TraceModel
import Unwinding

/// The second half of recording, on a thread of its own: makes the frames and sites of stacks left as walked,
/// names the frames (loading symbol tables and DWARF, tens of milliseconds for glibc's compressed debug file),
/// encodes the events and writes them. The thread that keeps the program stopped only queues events, so the program's stops
/// pay for none of that.
///
/// Events are written in the order they were queued. The queue is handed over in batches: an idle writer is
/// woken by the first event and then waits for more, so a busy trace costs one wake-up per batch, not one per
/// event. The wait starts at nothing and doubles from `firstBatchDelayNs` up to `batchDelayNs`, from the first batch
/// with a violation on (`run`): a short run's events are named and written while the program runs (this thread
/// keeps off the supervisor's CPU), not all after it exits, which had made most of the time between the program's
/// exit and captrace's.
/// Events reach the file within about `batchDelayNs`; SIGKILL of captrace loses at most the
/// batch in flight (the file then ends with whole lines, or one incomplete line that `TraceReader` drops).
/// Interruption by SIGINT/SIGTERM/SIGHUP and every normal end go through `close()`, which writes everything.
///
/// At `close()` the thread is usually waiting (for events, or for its batch to gather): the closing thread then
/// writes what is left itself instead of waking it to do so, and detaches it rather than waiting for its exit (it
/// only leaves its loop and returns). On this kind of VM waking a thread on an idle CPU, and being woken back by
/// its exit, each cost tens of microseconds, at the end of every run. When the thread is in the middle of a batch
/// instead (a batch delay ran out as the program exited: its frames were being named), it gives the rest of the
/// batch back after the event at hand and leaves; `close()` polls for that rather than sleeping until woken from the
/// other CPU. It had waited for the whole batch, up to ~280 µs of a notify run of /bin/true (sched events).
///
/// The queue and the batch start with room for 64 events (~19 KB, from the heap): 1,024 made each a mapping of
/// its own (~300 KB), unmapped at the end while the other thread ran, which flushed the other CPU's TLB by an
/// inter-processor interrupt. A busy trace grows them once and keeps the room (Docs/performance-history.md, (e)).
final class RecordingThread: @unchecked Sendable {
    static let batchDelayNs = 5_000_000
    static let firstBatchDelayNs = 100_000

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// An event, and for a violation whose stack was left as walked (`Recorder.draft`), that stack.
    private struct Queued {
        var event: TraceEvent
        var rawStack: RawStack?
        var isViolation: Bool { if case .violation = event { true } else { false } }
    }
    private var queue: [Queued] = []
    private var idle = false
    /// The thread is naming and writing a batch (outside the lock): `close()` waits for it to finish.
    private var processing = false
    /// `close()` took over the writer: the thread touches nothing more and returns.
    private var takenOver = false
    /// Set by `close()` (under the lock); read without it too, between the events of a batch.
    private let closing = AtomicFlag()
    /// Set by the thread as it leaves its loop (its last batch given back or done): `close()` polls it.
    private let left = AtomicFlag()
    /// Events the thread gave back to `close()` from a batch it was in the middle of (tests).
    private(set) var givenBack = 0
    private let parked = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread: pthread_t?

    // Owned by the recording thread until `close()` takes them over.
    private let writer: TraceWriter
    private let symboliser: FrameSymboliser?
    private var writeError: String?
    /// Closed at every batch and at `close()`: the exited processes' /proc/PID/maps descriptors the walker left
    /// (their close frees the process's memory descriptor in the kernel, here rather than on the tracer's CPU).
    private let exitedMaps: ExitedMaps?

    /// `symbolise`: name the frames of every stack (the walker left them as module and offset).
    init(writer: TraceWriter, symbolise: Bool, exitedMaps: ExitedMaps? = nil) {
        self.writer = writer
        self.exitedMaps = exitedMaps
        self.symboliser = symbolise ? FrameSymboliser() : nil
        if let symboliser { writer.setBuildIDs { symboliser.buildID(module: $0) } }
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_cond_init(parked, &attr)
        pthread_condattr_destroy(&attr)
        queue.reserveCapacity(64)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_cond_destroy(parked)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
        parked.deallocate()
    }

    func start() {
        // Interrupts belong to the supervisor's thread; the writer keeps off the CPU the supervisor pinned.
        thread = PosixThreads.withInterruptsBlocked {
            PosixThreads.start(awayFromPinnedCPU: true) { [self] in run() }
        }
    }

    /// `wake` false: an idle thread is left waiting (the event is written with the next one that wakes it, or by
    /// `close()`): for the last events of a run, which `close()` is about to write anyway.
    func submit(_ event: consuming TraceEvent, wake: Bool = true) {
        submit(Queued(event: event, rawStack: nil), wake: wake)
    }

    /// A violation whose frames and site are made here, from the stack as walked.
    func submit(_ event: consuming TraceEvent, rawStack: RawStack?, wake: Bool = true) {
        submit(Queued(event: event, rawStack: rawStack), wake: wake)
    }

    private func submit(_ item: consuming Queued, wake: Bool) {
        pthread_mutex_lock(mutex)
        queue.append(consume item)
        let signal = wake && idle
        if signal { idle = false }
        pthread_mutex_unlock(mutex)
        if signal { pthread_cond_signal(cond) }
    }

    /// Writes everything queued, releases the thread (it touches nothing more and returns), and returns the first
    /// write error. `release` false: the thread, when waiting, is not woken to leave (the process is about to
    /// exit, which ends it: a wake-up on its CPU less).
    func close(release: Bool = true) -> String? {
        guard let t = thread else { return nil }
        pthread_mutex_lock(mutex)
        closing.set()
        if processing {
            // It stops after the event at hand (naming a module's frames for the first time can take a while):
            // poll for that on this CPU, idle now, before sleeping until woken from the thread's.
            pthread_mutex_unlock(mutex)
            for _ in 0..<4096 where !left.isSet { sched_yield() }
            pthread_mutex_lock(mutex)
        }
        while processing { pthread_cond_wait(parked, mutex) }
        // The thread waits (or has not run yet): what it would write next is written here, in order.
        takenOver = true
        let rest = queue
        queue = []
        pthread_mutex_unlock(mutex)
        if release { pthread_cond_signal(cond) }
        for item in rest { append(item) }
        flush()
        exitedMaps?.closeAll()
        pthread_detach(t)
        thread = nil
        return writeError
    }

    private func run() {
        var batch: [Queued] = []
        batch.reserveCapacity(64)
        var delayNs = 0
        pthread_mutex_lock(mutex)
        while true {
            while queue.isEmpty && !closing.isSet {
                idle = true
                pthread_cond_wait(cond, mutex)
            }
            idle = false
            // Closing: what is queued is `close()`'s to write (it waits for no new batch).
            if takenOver || closing.isSet { break }
            if !closing.isSet && delayNs > 0 {
                // Let a batch gather: one wake-up per batch, not per event (submit does not signal meanwhile;
                // close does, and ends the wait).
                var deadline = timespec()
                clock_gettime(CLOCK_MONOTONIC, &deadline)
                deadline.tv_nsec += delayNs
                if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
                while !closing.isSet && pthread_cond_timedwait(cond, mutex, &deadline) != ETIMEDOUT {}
                if takenOver { break }
            }
            swap(&batch, &queue)
            // The wait grows from the first batch that holds a violation (or more than a few events) on: the
            // events before it (header, spawn, exec, entry) come one by one, and had they grown it, the first
            // violations of a short run would wait out a long delay and have their frames named (the symbols of
            // their modules loaded, the long part) after the program's exit instead of while it runs.
            if delayNs == 0 { delayNs = Self.firstBatchDelayNs }
            else if batch.count > 4 || batch.contains(where: \.isViolation) { delayNs = min(2 * delayNs, Self.batchDelayNs) }
            processing = true
            pthread_mutex_unlock(mutex)
            exitedMaps?.closeAll()
            var done = 0
            for item in batch {
                if closing.isSet { break }
                append(item)
                done += 1
            }
            if done == batch.count { flush() }
            pthread_mutex_lock(mutex)
            if done < batch.count {  // `close()` writes them next
                queue.insert(contentsOf: batch[done...], at: 0)
                givenBack = batch.count - done
            }
            batch.removeAll(keepingCapacity: true)
            processing = false
            if closing.isSet { pthread_cond_signal(parked) }
        }
        left.set()
        pthread_mutex_unlock(mutex)
    }

    private func flush() {
        do { try writer.flush() } catch {
            if writeError == nil {
                writeError = "\(error)"
                printError("captrace: \(error)")
            }
        }
    }

    /// Writes an event with its frames named: in format 2 once per distinct stack (the writer asks), in format 1
    /// every time. A violation's stack left as walked is made frames (module and offset) and named its site here
    /// first — once per call: a repeat that shares the call of the one before shares its frames and site too, so
    /// the writer still sees one call (and takes its shortcut for a shared call). The summary's count of sites is
    /// of the violations written.
    private func append(_ item: Queued) {
        var event = item.event
        switch event {
        case .violation(var v):
            if let raw = item.rawStack {
                if let source = lastSource, let made = lastMade, v.sharesCall(with: source) {
                    var m = made
                    m.seq = v.seq; m.tNs = v.tNs; m.pid = v.pid; m.tid = v.tid
                    m.action = v.action; m.result = v.result; m.errno = v.errno
                    v = m
                } else {
                    lastSource = v
                    v.stack = frameMaker.frames(raw)
                    v.site = Site.id(stack: v.stack, syscall: v.syscall, detail: nil)
                    lastMade = v
                    siteIDs.insert(v.site)
                }
            } else {
                siteIDs.insert(v.site)
            }
            event = .violation(v)
        case .summary(var s):
            s.sites = siteIDs.count
            event = .summary(s)
        default:
            break
        }
        guard let symboliser else { return writer.append(event) }
        writer.append(event, name: { symboliser.symbolise(&$0) })
    }

    // Owned by whoever writes (the thread, or `close()` once it took over).
    private let frameMaker = FrameMaker()
    private var siteIDs: Set<String> = []
    /// The last violation whose stack was made here, as submitted and as made.
    private var lastSource: ViolationEvent?
    private var lastMade: ViolationEvent?
}
