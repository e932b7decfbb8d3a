import CTraceShims
import Diagnosis
import Glibc
import Suggestions
import TraceModel
import Unwinding

/// The second half of recording, on a thread of its own: names the frames of stacks (loading symbol tables and
/// DWARF, tens of milliseconds for glibc's compressed debug file), matches hints and the baseline, encodes the
/// events and writes them. The thread that keeps the program stopped only queues events, so the program's stops
/// pay for none of that.
///
/// Events are written in the order they were queued. The queue is handed over in batches: an idle writer is
/// woken by the first event and then waits `batchDelay` for more, so a busy trace costs one wake-up per batch,
/// not one per event. Events reach the file within about `batchDelay`; SIGKILL of captrace loses at most the
/// batch in flight (the file then ends with whole lines, or one incomplete line that `TraceReader` drops).
/// Interruption by SIGINT/SIGTERM/SIGHUP and every normal end go through `close()`, which writes everything.
final class RecordingThread: @unchecked Sendable {
    struct Item {
        var event: TraceEvent
        /// A violation whose hint and baseline match are still to be found (after its frames are named).
        var judge: Bool
    }

    static let batchDelayNs = 5_000_000

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [Item] = []
    private var idle = false
    private var closing = false
    private var thread: pthread_t?

    // Owned by the recording thread until `close()` returns.
    private let writer: TraceWriter
    private let symboliser: FrameSymboliser?
    private let judge: ViolationJudge
    private var countedViolations = 0
    private var writeError: String?

    /// `symbolise`: name the frames of every stack (the walker left them as module and offset).
    init(writer: TraceWriter, symbolise: Bool, baseline: Baseline?) {
        self.writer = writer
        self.symboliser = symbolise ? FrameSymboliser() : nil
        self.judge = ViolationJudge(baseline: baseline)
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
        queue.reserveCapacity(1024)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    func start() {
        // Interrupts belong to the supervisor's thread; the writer keeps off the CPU the supervisor pinned.
        thread = PosixThreads.withInterruptsBlocked {
            PosixThreads.start { [self] in
                _ = ct_unpin_self()
                run()
            }
        }
    }

    func submit(_ event: TraceEvent, judge: Bool = false) {
        pthread_mutex_lock(mutex)
        queue.append(Item(event: event, judge: judge))
        let wake = idle
        idle = false
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(cond) }
    }

    /// Writes everything queued, stops the thread, and returns the violations not covered by the baseline and
    /// the first write error.
    func close() -> (countedViolations: Int, writeError: String?) {
        guard let t = thread else { return (0, nil) }
        pthread_mutex_lock(mutex)
        closing = true
        pthread_mutex_unlock(mutex)
        pthread_cond_signal(cond)
        pthread_join(t, nil)
        thread = nil
        return (countedViolations, writeError)
    }

    private func run() {
        var batch: [Item] = []
        batch.reserveCapacity(1024)
        pthread_mutex_lock(mutex)
        while true {
            while queue.isEmpty && !closing {
                idle = true
                pthread_cond_wait(cond, mutex)
            }
            idle = false
            if queue.isEmpty && closing { break }
            if !closing {
                // Let a batch gather: one wake-up per batch, not per event (submit does not signal meanwhile;
                // close does, and ends the wait).
                var deadline = timespec()
                clock_gettime(CLOCK_MONOTONIC, &deadline)
                deadline.tv_nsec += Self.batchDelayNs
                if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
                while !closing && pthread_cond_timedwait(cond, mutex, &deadline) != ETIMEDOUT {}
            }
            swap(&batch, &queue)
            pthread_mutex_unlock(mutex)
            for item in batch { writer.append(finished(item)) }
            batch.removeAll(keepingCapacity: true)
            do { try writer.flush() } catch {
                if writeError == nil {
                    writeError = "\(error)"
                    printError("captrace: \(error)")
                }
            }
            pthread_mutex_lock(mutex)
        }
        pthread_mutex_unlock(mutex)
    }

    /// The event as written: frames named, and for a violation its hint and baseline verdict.
    private func finished(_ item: Item) -> TraceEvent {
        switch item.event {
        case .violation(var v):
            symboliser?.symbolise(&v.stack)
            if item.judge { judge.judge(&v) }
            if v.action != .allowedByBaseline { countedViolations += 1 }
            return .violation(v)
        case .enter(var e):
            symboliser?.symbolise(&e.stack)
            return .enter(e)
        case .fdop(var e):
            if let symboliser, var s = e.stack {
                symboliser.symbolise(&s)
                e.stack = s
            }
            return .fdop(e)
        default:
            return item.event
        }
    }

}

/// The hint of a violation and whether the baseline (`--allow`) covers it; needs the frames' names.
final class ViolationJudge {
    let baseline: Baseline?
    private var hintCache: [HintKey: String?] = [:]
    private struct HintKey: Hashable { var site: String; var detail: String? }

    init(baseline: Baseline?) { self.baseline = baseline }

    /// Hint matching is pure but not cheap (globs over paths and frames): once per site and path.
    func judge(_ e: inout ViolationEvent) {
        let key = HintKey(site: e.site, detail: e.path ?? e.address)
        if let cached = hintCache[key] { e.hint = cached } else {
            e.hint = Hints.match(e)?.id
            hintCache[key] = e.hint
        }
        if e.action == .allowed, let b = baseline, b.matches(e) { e.action = .allowedByBaseline }
    }
}
