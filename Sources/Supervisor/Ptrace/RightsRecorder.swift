import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// What a descriptor-creating call left for its syscall-exit stop (`ThreadState.pendingFDOp`).
struct PendingFDOp {
    var syscall: String
    var effect: RightsTable.Effect
    var detail: String?
}

/// `run --rights`: at the seccomp stops of processes in capability mode, records which right each
/// descriptor operation needs (`fdop` events), the first time per process, descriptor and right, with the
/// site and stack; and every change to the descriptor table after entry (creation with its parent
/// descriptor, dup, close), so that an analysis of the trace can tell which object a number names.
///
/// Deduplication is by (descriptor number, generation, right): a number's generation changes whenever it is
/// created, duplicated onto or closed. Aliases made by dup are deduplicated separately (a few extra events;
/// the analysis merges them), so no first use of an object is ever lost.
final class RightsRecorder {
    let recorder: Recorder

    struct Key: Hashable {
        var fd: Int32
        var generation: UInt64
        var right: CapRight?
    }

    /// One process's view: the generation of each descriptor number and the uses already recorded.
    final class Descriptors {
        let owner: ObjectIdentifier
        var generation: [Int32: UInt64] = [:]
        var seen: Set<Key> = []
        init(owner: ObjectIdentifier) { self.owner = owner }
    }

    var processes: [Int32: Descriptors] = [:]
    var nextGeneration: UInt64 = 1
    /// Events written (for tests and the benchmark).
    private(set) var events = 0

    init(recorder: Recorder) { self.recorder = recorder }

    /// The state of process `p` (a reused pid gets a fresh one: the ProcessState object differs).
    func descriptors(_ p: ProcessState) -> Descriptors {
        let id = ObjectIdentifier(p)
        if let d = processes[p.pid], d.owner == id { return d }
        let d = Descriptors(owner: id)
        processes[p.pid] = d
        return d
    }

    func bump(_ d: Descriptors, _ fd: Int32) {
        d.generation[fd] = nextGeneration
        nextGeneration += 1
    }

    /// A seccomp stop of a `.rights`-tagged call in a process in capability mode. Records the rights it uses
    /// and returns true when the call changes the descriptor table in a way only its result tells
    /// (then `thread.pendingFDOp` is set and the caller must stop it at the syscall's exit).
    func seccompStop(_ thread: ThreadState, _ p: ProcessState, name: String, args: [UInt64]) -> Bool {
        let pid = p.pid
        let call = RightsTable.call(name, args: args, path: { i in
            guard i < args.count, case .string(let s) = Decoder.readPath(pid: pid, addr: args[i]) else { return nil }
            return s
        }, memory: { addr, count in Decoder.readBytes(pid: pid, addr: addr, count: count) })
        guard let call else { return false }
        let d = descriptors(p)
        var stack: [Frame]? = nil
        for use in call.uses {
            let gen = d.generation[use.fd] ?? 0
            for right in use.rights {
                let key = Key(fd: use.fd, generation: gen, right: right)
                guard !d.seen.contains(key) else { continue }
                d.seen.insert(key)
                if stack == nil { stack = recorder.stack(pid: pid, tid: thread.tid) }
                var e = FDOpEvent(pid: pid, tid: thread.tid, tNs: recorder.now(), fd: use.fd, syscall: name, right: right)
                e.detail = use.detail
                e.site = Site.id(stack: stack!, syscall: name, detail: right.rawValue)
                e.stack = stack
                emit(e)
            }
        }
        switch call.effect {
        case .none:
            return false
        case .close(let fd):
            bump(d, fd)
            emit(FDOpEvent(pid: pid, tid: thread.tid, tNs: recorder.now(), fd: fd, syscall: name, right: nil))
            return false
        case .closeRange(let first, let last):
            for fd in ProcFS.descriptorNumbers(pid) where UInt32(bitPattern: fd) >= first && UInt32(bitPattern: fd) <= last {
                bump(d, fd)
                var e = FDOpEvent(pid: pid, tid: thread.tid, tNs: recorder.now(), fd: fd, syscall: name, right: nil)
                e.detail = "\(first)-\(last)"
                emit(e)
            }
            return false
        case .create, .createPair, .alias, .aliasAt:
            thread.pendingFDOp = PendingFDOp(syscall: name, effect: call.effect, detail: call.detail)
            return true
        }
    }

    /// The syscall-exit stop of a call `seccompStop` left pending: records the descriptors it created, each
    /// with the descriptor it came from (`fd`; -1 for none) and its own kind, path and open flags.
    func exitStop(_ thread: ThreadState, _ p: ProcessState, _ pending: PendingFDOp, result: Int64, isError: Bool) {
        guard !isError else { return }
        let pid = p.pid
        let d = descriptors(p)
        let stack = recorder.stack(pid: pid, tid: thread.tid)
        func created(_ newFd: Int32, from parent: Int32, right: CapRight?) {
            bump(d, newFd)
            let info = ProcFS.describe(pid: pid, fd: newFd)
            var e = FDOpEvent(pid: pid, tid: thread.tid, tNs: recorder.now(), fd: parent, syscall: pending.syscall, right: right)
            e.detail = info.map { OpenFlags.describe($0.flags) } ?? pending.detail
            e.newFd = newFd
            e.newKind = info?.kind
            e.newPath = info?.path
            e.site = Site.id(stack: stack, syscall: pending.syscall, detail: right?.rawValue ?? RightsTable.noRight)
            e.stack = stack
            if parent >= 0 { d.seen.insert(Key(fd: parent, generation: d.generation[parent] ?? 0, right: right)) }
            emit(e)
        }
        let fd = Int32(truncatingIfNeeded: result)
        switch pending.effect {
        case .create(let parent, let right):
            created(fd, from: parent ?? -1, right: right)
        case .createPair(let address):
            guard let b = Decoder.readBytes(pid: pid, addr: address, count: 8) else { return }
            let fds = b.withUnsafeBytes { [$0.loadUnaligned(as: Int32.self), $0.loadUnaligned(fromByteOffset: 4, as: Int32.self)] }
            for f in fds { created(f, from: -1, right: nil) }
        case .alias(let of):
            created(fd, from: of, right: nil)
        case .aliasAt(let of, let newFd):
            guard fd == newFd, of != newFd else { return }
            created(newFd, from: of, right: nil)
        case .none, .close, .closeRange:
            break
        }
    }

    func emit(_ e: FDOpEvent) {
        events += 1
        recorder.emit(.fdop(e))
    }
}
