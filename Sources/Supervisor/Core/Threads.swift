import CTraceShims
import Glibc

// Threads, a lock and an atomic flag for code that runs on threads of its own (the notify backend's workers, the
// recording thread): plain pthreads, which Swift concurrency knows nothing about and which can block in system calls.

/// A pthread mutex (the lock must be usable from threads Swift concurrency knows nothing about).
final class PosixMutex: @unchecked Sendable {
    private let m: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        m = .allocate(capacity: 1)
        pthread_mutex_init(m, nil)
    }
    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}

/// A value another thread computes: `value` waits until `set` has given it (once). Once given, a read is one
/// acquire load of `given` (AtomicFlag): it is read on the per-call path (notify's count of every call).
final class Pending<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let ready = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let given = AtomicFlag()
    private var stored: Value?

    /// Waits for `set`.
    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(ready, nil)
    }

    /// Already given.
    convenience init(_ value: Value) {
        self.init()
        stored = value
        given.set()
    }

    deinit {
        pthread_cond_destroy(ready)
        pthread_mutex_destroy(mutex)
        ready.deallocate()
        mutex.deallocate()
    }

    /// Gives the value; called once.
    func set(_ value: Value) {
        pthread_mutex_lock(mutex)
        stored = value
        given.set()  // release: a reader that sees the flag sees the value
        pthread_cond_broadcast(ready)
        pthread_mutex_unlock(mutex)
    }

    var value: Value {
        if given.isSet { return stored! }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while stored == nil { pthread_cond_wait(ready, mutex) }
        return stored!
    }
}

/// Starting pthreads with a closure body.
package enum PosixThreads {
    final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// `awayFromPinnedCPU`: the thread starts on, and keeps to, the CPUs other than the supervisor's pinned one
    /// (`CPUAffinity`; before the pin, the caller's current one), when there is another.
    static func start(awayFromPinnedCPU: Bool = false, _ body: @escaping () -> Void) -> pthread_t {
        let t = create(awayFromPinnedCPU: awayFromPinnedCPU, body)
        precondition(t != nil, "pthread_create failed")
        return t!
    }

    /// Starts `body` detached, on the CPUs other than the caller's current one when there is another (a helper
    /// started before the supervisor pins its thread to that CPU), with every signal blocked. False when the
    /// thread could not be created.
    package static func startHelper(_ body: @escaping () -> Void) -> Bool {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        guard let t = create(awayFromPinnedCPU: true, body) else { return false }
        pthread_detach(t)
        return true
    }

    private static func create(awayFromPinnedCPU: Bool, _ body: @escaping () -> Void) -> pthread_t? {
        var t = pthread_t()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        if awayFromPinnedCPU { _ = ct_attr_away_from_cpu(&attr, -1) }
        let box = Unmanaged.passRetained(Box(body))
        let rc = pthread_create(&t, &attr, { raw in
            let b = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            b.body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return nil
        }
        return t
    }

    /// Runs `body` (which starts threads) with SIGINT/SIGTERM/SIGHUP blocked, so the threads inherit the mask.
    static func withInterruptsBlocked<R>(_ body: () -> R) -> R {
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        return body()
    }
}

/// A flag set once by one thread and polled by others (and by the C receive loop), with atomic access.
final class AtomicFlag: @unchecked Sendable {
    private let v = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    init() { v.initialize(to: 0) }
    deinit { v.deallocate() }
    func set() { ct_flag_set(v) }
    var isSet: Bool { ct_flag_get(v) != 0 }
    var pointer: UnsafePointer<Int32> { UnsafePointer(v) }
}
