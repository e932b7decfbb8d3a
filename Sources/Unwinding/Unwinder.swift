import CUnwindShims
import TraceModel

/// Which library walks the stack; both share one symboliser, so they differ only in unwinding.
public enum UnwinderKind: String, Sendable, CaseIterable {
    case libdw, libunwind
}

/// Walks and symbolises the user-space stacks of traced threads.
///
/// Not thread-safe: use it from one thread at a time, the one that makes the ptrace calls (the tracer thread);
/// `@unchecked Sendable` only so that it can be handed to that thread. `pid` is the thread-group id. Per address
/// space it keeps the mappings, the unwinder's module and unwind-table caches, and the frame of every pc seen
/// (per-site economy: the walk runs every time, the lookups once per pc). Symbol tables are loaded once per
/// module file, shared by every process mapping it (keyed by build-id).
///
/// With `symbolise: false` the frames carry only pc, module and offset (what the mappings of the moment say);
/// a `FrameSymboliser`, on another thread, adds names and lines later. Loading a module's symbols and DWARF
/// (glibc's compressed debug file: tens of milliseconds) then stays off the thread that keeps the program stopped.
public final class StackWalker: @unchecked Sendable {
    public let kind: UnwinderKind
    public let maxDepth: Int
    public let symbolises: Bool
    /// libdw walks replay unwind rules cached by module file and address (the same frames; see unwind.c).
    public let ruleCache: Bool
    private var spaces: [Int32: AddressSpace] = [:]
    /// One string per module path for the whole run (`FrameMaker.module`): a new process's frames share their
    /// module's string instead of each making one.
    private let frameMaker = FrameMaker()
    private let symboliser = Symboliser()
    private var pcs: [UInt64]

    /// `maxDepth` 0 records no stacks and costs nothing. `ruleCache: false` has libdw walk every frame itself
    /// (the reference the cached rules are tested against).
    public init(kind: UnwinderKind, maxDepth: Int, symbolise: Bool = true, ruleCache: Bool = true) {
        self.kind = kind
        self.ruleCache = ruleCache
        self.maxDepth = max(0, maxDepth)
        self.symbolises = symbolise
        self.pcs = [UInt64](repeating: 0, count: max(1, maxDepth))
        if maxDepth > 0 { _ = Self.defaultScanMemo }
    }

    /// Where a walk from only rsp and rip (notify) had to scan the stack for rbp, what it found is kept across runs
    /// in `$XDG_CACHE_HOME/captrace/rbp-memo` (else `~/.cache/captrace/`; `CAPTRACE_NO_UNWIND_CACHE=1` turns it
    /// off): the first stack of every notify run of a program stops at the same frames of ld.so, and the scan
    /// there was more than half of that stack's cost. Only ever tried, never trusted: see rbp_memo in unwind.c.
    private static let defaultScanMemo: Void = {
        guard let dir = UserCache.directory(disabledBy: "CAPTRACE_NO_UNWIND_CACHE") else { return }
        _ = UserCache.makeDirectory(dir)
        ct_uw_memo_file(dir + "/rbp-memo")
    }()

    /// Keeps the scans' findings in `path` instead (nil: not across runs), and forgets those of this process, as a
    /// new run would start (tests).
    public static func keepScans(in path: String?) {
        _ = defaultScanMemo
        ct_uw_memo_file(path)
        ct_uw_memo_forget()
    }

    deinit {
        for s in spaces.values { ct_uw_space_free(s.space) }
    }

    /// The /proc/PID/maps descriptors of processes that exited (`processExited`), for another thread to close.
    public let exitedMaps = ExitedMaps()

    /// What this walker's walks did, summed over its spaces (ct_uw_counts), for the properties below.
    private var counts = ct_uw_counts()
    /// How many walks of this walker were replayed from cached unwind rules rather than walked by libdw.
    public var ruleCacheWalks: Int { Int(counts.rule_walks) }
    /// How many times a walk read a process's whole /proc/PID/maps text (a replayed walk looks up only the
    /// mappings it needs where it can; see unwind.c, "Mappings looked up one at a time").
    public var mapsTextReads: Int { Int(counts.maps_reads) }
    /// How many walks from rsp and rip scanned the stack for rbp: their caller needed it, and neither this run nor
    /// the kept file (`keepScans`) knew where it was.
    public var stackScans: Int { Int(counts.scans) }
    /// How many 8-byte reads of code (and of .eh_frame_hdr) those walks' rbp recovery made, served from the
    /// modules' files and from the programs' memory (unwind.c, `code_word`).
    public var codeReads: (fromFile: Int, fromMemory: Int) { (Int(counts.code_file), Int(counts.code_memory)) }

    /// Whether the chosen unwinder could be loaded (libunwind is dlopen'ed on first use); nil, or the reason.
    public var unavailableReason: String? {
        guard kind == .libunwind else { return nil }
        var buf = [CChar](repeating: 0, count: 256)
        return ct_uw_libunwind_load(&buf, buf.count) == 0 ? nil : cString(buf)
    }

    /// The stack of thread `tid` of process `pid`, innermost first, symbolised. The thread must be
    /// ptrace-stopped by the calling thread.
    public func stack(pid: Int32, tid: Int32) -> [Frame] {
        walk(pid: pid, tid: tid, pcSp: nil)
    }

    /// `stack(pid:tid:)` of a ptrace-stopped thread whose pc and sp its stop already told: its other registers
    /// are asked for only when a frame needs one (the same frames either way).
    public func stack(pid: Int32, tid: Int32, stoppedAt pc: UInt64, sp: UInt64) -> [Frame] {
        walk(pid: pid, tid: tid, pcSp: (pc, sp), stopped: true)
    }

    /// The stack of a thread as pcs placed in their mappings, not yet made `Frame`s (`RawStack`): what a stop must
    /// know of a stack, with the frames made later, on another thread (`RawStack.frames`). `stopped`: the thread is
    /// ptrace-stopped by the calling thread and `pc`/`sp` come from its stop (as `stack(pid:tid:stoppedAt:sp:)`);
    /// else it waits in a syscall (as `stack(pid:tid:pc:sp:)`). Only for a walker that does not symbolise.
    public func rawStack(pid: Int32, tid: Int32, pc: UInt64, sp: UInt64, stopped: Bool) -> RawStack {
        guard let (s, n) = rawWalk(pid: pid, tid: tid, pcSp: (pc, sp), stopped: stopped) else { return RawStack() }
        var out = RawStack()
        out.frames.reserveCapacity(n)
        for i in 0..<n { out.frames.append(rawFrame(s, pc: pcs[i])) }
        return out
    }

    /// Unwind from given registers of a thread that is NOT ptrace-stopped (seccomp user-notification backend:
    /// rip/rsp from /proc/TID/syscall; memory read with process_vm_readv). Best effort: a frame whose caller
    /// needs a register other than rsp/rip to be found ends the stack.
    public func stack(pid: Int32, tid: Int32, pc: UInt64, sp: UInt64) -> [Frame] {
        walk(pid: pid, tid: tid, pcSp: (pc, sp))
    }

    /// The program counters only (the unwinder's raw output), innermost first.
    public func pcs(pid: Int32, tid: Int32) -> [UInt64] {
        rawWalk(pid: pid, tid: tid, pcSp: nil).map { Array(pcs[0..<$0.count]) } ?? []
    }

    /// Drop everything known about the address space of `pid` (its image was replaced).
    public func processExeced(pid: Int32) {
        if let s = spaces[pid] {
            ct_uw_space_reset(s.space)
            s.frames.removeAll(keepingCapacity: true)  // the new image's frames fill it again without regrowing
        } else if maxDepth > 0 {
            newImages.insert(pid)
        }
    }

    /// At process `pid`'s exec stop, after `processExeced`: the path of the file it now runs, as /proc/PID/exe
    /// names it, told by its mappings (`ct_uw_space_exec_image`); `entry` is the pc at that stop. nil when they
    /// cannot tell it, or the path is longer than a buffer on the stack holds (then read /proc/PID/exe).
    public func execImage(pid: Int32, entry: UInt64) -> String? {
        execPath(pid) { ct_uw_space_exec_image($0, entry, $1, $2) }
    }

    /// Under notify, at the first trapped call of process `pid` after an exec, after `processExeced`: the path of
    /// the file it now runs, when its mappings show it is the file the execve named (`file`: that path's device and
    /// inode, as stat gave them; `pc`: the call's); see `ct_uw_space_exec_named`. nil: read /proc/PID/exe.
    public func execImage(pid: Int32, pc: UInt64, file: (major: UInt32, minor: UInt32, ino: UInt64)) -> String? {
        execPath(pid) { ct_uw_space_exec_named($0, pc, file.major, file.minor, file.ino, $1, $2) }
    }

    /// Whether `execImage` can ever tell a program (the C side asks the libdw walker's rule cache): a caller that
    /// must prepare its question (notify's `stat` of the exec'd path) does so only then.
    public var tellsExecImages: Bool { maxDepth > 0 && kind == .libdw }

    /// The path `ask` writes for `pid`'s space into a buffer on the stack (its length, or < 0: none).
    private func execPath(_ pid: Int32, _ ask: (OpaquePointer, UnsafeMutablePointer<CChar>, Int) -> Int) -> String? {
        guard tellsExecImages, let s = space(pid) else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { b in
            let n = ask(s.space, b.baseAddress!, b.count)
            return n < 0 ? nil : String(decoding: UnsafeRawBufferPointer(start: b.baseAddress!, count: n), as: UTF8.self)
        }
    }

    /// Process `pid` may have mapped code where other code was (an mmap or mprotect making memory executable, an
    /// mremap): the frames named by pc and the mappings learned are forgotten, and read again at its next walk.
    /// Without this a library dlopen'ed where a dlclose'd one had been was named as the old one.
    public func mappingsChanged(pid: Int32) {
        guard let s = spaces[pid] else { return }
        ct_uw_space_mappings_changed(s.space)
        s.frames.removeAll(keepingCapacity: true)
    }

    /// Processes told to have exec'd before their first walk (their space is made at that walk).
    private var newImages: Set<Int32> = []

    /// Process `child` was just forked by `parent` (the parent stopped in the call, the child not yet run): the
    /// child starts with the parent's mappings and named frames, as its address space is a copy of the parent's,
    /// instead of reading /proc/PID/maps again at its first stack. Only a caller that knows the very process that
    /// forked (ptrace's fork event) may say so: a process's parent is not always the one that created it.
    public func processForked(parent: Int32, child: Int32) {
        guard maxDepth > 0, spaces[child] == nil, let p = spaces[parent],
              let c = ct_uw_space_fork(p.space, child) else { return }
        let s = AddressSpace(space: c)
        s.frames = p.frames
        spaces[child] = s
    }

    /// Forgets process `pid`, which has exited. `closeMapsLater`: its /proc/PID/maps descriptor is left to
    /// `exitedMaps` instead of closed here.
    public func processExited(pid: Int32, closeMapsLater: Bool = false) {
        if let s = spaces.removeValue(forKey: pid) {
            if closeMapsLater { exitedMaps.park(ct_uw_space_free_keeping_maps(s.space)) } else { ct_uw_space_free(s.space) }
        }
        newImages.remove(pid)
    }

    private func space(_ pid: Int32) -> AddressSpace? {
        if let s = spaces[pid] { return s }
        guard let p = ct_uw_space_new(pid) else { return nil }
        ct_uw_space_set_rule_cache(p, ruleCache ? 1 : 0)
        if newImages.remove(pid) != nil { ct_uw_space_mark_new_image(p) }
        let s = AddressSpace(space: p)
        spaces[pid] = s
        return s
    }

    private func rawWalk(pid: Int32, tid: Int32, pcSp: (UInt64, UInt64)?, stopped: Bool = false)
        -> (space: AddressSpace, count: Int)?
    {
        guard maxDepth > 0, let s = space(pid) else { return nil }
        let backend = Int32(kind == .libdw ? CT_UW_LIBDW : CT_UW_LIBUNWIND)
        let n: Int32 = pcs.withUnsafeMutableBufferPointer { buf in
            if let (pc, sp) = pcSp {
                return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2) { regs in
                    regs[0] = pc
                    regs[1] = sp
                    return stopped ? ct_uw_walk_stopped(s.space, backend, tid, regs.baseAddress, buf.baseAddress, Int32(maxDepth))
                        : ct_uw_walk(s.space, backend, tid, regs.baseAddress, buf.baseAddress, Int32(maxDepth))
                }
            }
            return ct_uw_walk(s.space, backend, tid, nil, buf.baseAddress, Int32(maxDepth))
        }
        ct_uw_space_take_counts(s.space, &counts)
        return n > 0 ? (s, Int(n)) : nil
    }

    private func walk(pid: Int32, tid: Int32, pcSp: (UInt64, UInt64)?, stopped: Bool = false) -> [Frame] {
        guard let (s, n) = rawWalk(pid: pid, tid: tid, pcSp: pcSp, stopped: stopped) else { return [] }
        var frames: [Frame] = []
        frames.reserveCapacity(n)
        for i in 0..<n {
            let pc = pcs[i]
            // A caller's pc is a return address: look up pc-1, the call instruction, but report pc.
            let key = FrameKey(pc: pc, isReturnAddress: i > 0)
            if let f = s.frames[key] {
                frames.append(f)
                continue
            }
            let f = symbolises ? symboliser.frame(space: s.space, pc: pc, isReturnAddress: i > 0)
                : placed(s, pc: pc)
            s.frames[key] = f
            frames.append(f)
        }
        return frames
    }
}

extension StackWalker {
    /// `pc` placed in the mapping of the space that holds it (module nil when none does).
    fileprivate func rawFrame(_ s: AddressSpace, pc: UInt64) -> RawFrame {
        var path: UnsafePointer<CChar>?
        var start: UInt64 = 0
        var offset: UInt64 = 0
        guard ct_uw_space_mapping(s.space, pc, &path, &start, &offset) == 0, let path else {
            return RawFrame(pc: pc, module: nil, offset: 0)
        }
        return RawFrame(pc: pc, module: path, offset: pc - start + offset)
    }

    /// `Symboliser.placed` with the module's string from `frameMaker`.
    fileprivate func placed(_ s: AddressSpace, pc: UInt64) -> Frame { frameMaker.frame(rawFrame(s, pc: pc)) }
}

/// A frame as a walk leaves it: its pc, and the mapping's path (interned by the unwinder: one pointer per text for
/// the whole run, so it stays valid on any thread) and file offset; nil when no file mapping holds the pc.
public struct RawFrame: Hashable, @unchecked Sendable {
    public var pc: UInt64
    public var module: UnsafePointer<CChar>?
    public var offset: UInt64
}

/// A stack of `RawFrame`s, innermost first. Two are equal exactly when the `Frame`s made of them are (a module is
/// known by its interned path).
public struct RawStack: Hashable, Sendable {
    public var frames: [RawFrame] = []
    public init() {}
    public var isEmpty: Bool { frames.isEmpty }

}

/// Makes `Frame`s (module and offset) of `RawStack`s, one string per module path. Not thread-safe: one thread (the
/// recording thread's, and the walker's own for the frames it makes at a stop).
public final class FrameMaker: @unchecked Sendable {
    private var modules: [UnsafePointer<CChar>: String] = [:]
    public init() {}

    public func frames(_ raw: RawStack) -> [Frame] {
        var out: [Frame] = []
        out.reserveCapacity(raw.frames.count)
        for r in raw.frames { out.append(frame(r)) }
        return out
    }

    /// The `Frame` of one raw frame: module and offset, or the pc alone.
    public func frame(_ r: RawFrame) -> Frame {
        var f = Frame(pc: r.pc)
        if let path = r.module {
            f.module = module(path)
            f.offset = r.offset
        }
        return f
    }

    /// The string of an interned module path (the unwinder's: one pointer per text for the run, never freed).
    public func module(_ path: UnsafePointer<CChar>) -> String {
        if let m = modules[path] { return m }
        let m = String(cString: path)
        modules[path] = m
        return m
    }
}

/// Adds symbol, file and line to frames that carry module and offset (a `StackWalker` made with
/// `symbolise: false`). Independent of any traced process: usable from a thread other than the tracer's.
/// Not thread-safe itself; one thread at a time.
public final class FrameSymboliser: @unchecked Sendable {
    private let symboliser = Symboliser()

    public init() {}

    /// The GNU build-id of a module file, in hex (nil without one).
    public func buildID(module: String) -> String? { symboliser.buildID(module) }

    /// Fills in the names of a stack, innermost first (every frame but the first holds a return address).
    public func symbolise(_ frames: inout [Frame]) {
        for i in frames.indices {
            guard let module = frames[i].module, let offset = frames[i].offset else { continue }
            symboliser.fill(&frames[i], module: module, offset: offset, isReturnAddress: i > 0)
        }
    }
}

struct FrameKey: Hashable {
    var pc: UInt64
    var isReturnAddress: Bool
}

/// One traced address space: the C side's state and the symbolised frames by pc.
final class AddressSpace {
    let space: OpaquePointer
    var frames: [FrameKey: Frame] = [:]
    init(space: OpaquePointer) { self.space = space }
}

/// The /proc/PID/maps descriptors of exited processes, closed by a thread other than the tracer's: closing the
/// last one open on an exited process's memory has the kernel free that memory's descriptor there and then (~8-10 µs
/// a process here: a C tracer doing only that, 300 `/bin/true`), which under ptrace would be time the program waits
/// for on the CPU it shares with the tracer. The recording thread closes them between batches (README, Performance
/// (f)). At most `CT_UW_PARKED_MAX` wait; beyond that the tracer closes them itself. Thread-safe. Under notify the
/// exit watcher, off the program's CPU already, parks an exit's maps only while it holds the transport's lock and
/// closes them as soon as it lets the lock go (`Recorder.closeExitedMaps`), so that captrace's descriptors stay
/// those of live processes and no worker waits for those closes.
public final class ExitedMaps: @unchecked Sendable {
    private let parked: OpaquePointer?
    init() { parked = ct_uw_parked_new() }
    deinit { ct_uw_parked_free(parked) }
    /// Leaves `fd` (ignored when negative) to be closed later, or closes it now when `CT_UW_PARKED_MAX` wait.
    func park(_ fd: Int32) { ct_uw_parked_put(parked, fd) }
    /// Closes every descriptor parked so far (any thread).
    public func closeAll() { ct_uw_parked_close(parked) }
    /// How many wait to be closed.
    public var count: Int { Int(ct_uw_parked_count(parked)) }
}
