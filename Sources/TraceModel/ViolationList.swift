import SyscallCatalog

/// Violations held compactly for analysis: what differs between two violations of one call (seq, time, thread,
/// action, result) in a row of about 40 bytes, the rest shared by every violation of that call. A million
/// violations of one site take tens of megabytes, not gigabytes. Append-only while a trace is read; a
/// `ViolationList` reads it.
public final class ViolationStore: @unchecked Sendable {
    struct Row {
        var seq: Int
        var tNs: UInt64
        var result: Int64
        var call: Int32
        var pid: Int32
        var tid: Int32
        /// Index into `errnos` (0: none).
        var errno: Int16
        var action: Action
        var hasResult: Bool
    }

    private var calls: [ViolationEvent] = []
    private var rows: [Row] = []
    private var errnos: [String] = [""]
    private var errnoIndex: [String: Int16] = [:]
    /// The last call of each site: a violation equal to it apart from the row's fields shares it.
    private var lastCall: [String: Int32] = [:]

    public init() {}

    public var count: Int { rows.count }

    /// Appends a violation; returns its index.
    @discardableResult
    public func append(_ v: ViolationEvent) -> Int {
        let call: Int32
        if let c = lastCall[v.site], Self.sameCall(calls[Int(c)], v) {
            call = c
        } else {
            call = Int32(calls.count)
            calls.append(v)
            lastCall[v.site] = call
        }
        var e: Int16 = 0
        if let name = v.errno {
            if let i = errnoIndex[name] { e = i } else {
                e = Int16(truncatingIfNeeded: errnos.count)
                errnos.append(name)
                errnoIndex[name] = e
            }
        }
        rows.append(Row(seq: v.seq, tNs: v.tNs, result: v.result ?? 0, call: call, pid: v.pid, tid: v.tid, errno: e,
                        action: v.action, hasResult: v.result != nil))
        return rows.count - 1
    }

    public subscript(i: Int) -> ViolationEvent {
        let r = rows[i]
        var v = calls[Int(r.call)]
        v.seq = r.seq
        v.tNs = r.tNs
        v.pid = r.pid
        v.tid = r.tid
        v.action = r.action
        v.result = r.hasResult ? r.result : nil
        v.errno = r.errno == 0 ? nil : errnos[Int(r.errno)]
        return v
    }

    /// Whether two violations are of the same call: everything equal but seq, time, thread, action and result.
    static func sameCall(_ a: ViolationEvent, _ b: ViolationEvent) -> Bool {
        if a.sharesCall(with: b) { return true }
        return a.syscall == b.syscall && a.nr == b.nr && a.abi == b.abi && a.rule == b.rule && a.namespace == b.namespace
            && a.path == b.path && a.address == b.address && a.site == b.site && a.hint == b.hint && a.raw == b.raw
            && a.args.count == b.args.count && zip(a.args, b.args).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            && a.stack == b.stack
    }
}

/// A list of violations read from a `ViolationStore` (all of them, or a subset by index), in order. Each
/// element is built when read.
public struct ViolationList: RandomAccessCollection, Sendable {
    let store: ViolationStore
    let subset: [Int32]?

    /// Every violation of `store`.
    public init(_ store: ViolationStore) { self.store = store; subset = nil }

    init(_ store: ViolationStore, subset: [Int32]) { self.store = store; self.subset = subset }

    /// A list of these violations (tests, and traces built in memory).
    public init(_ violations: [ViolationEvent]) {
        let s = ViolationStore()
        for v in violations { s.append(v) }
        self.init(s)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { subset?.count ?? store.count }
    public subscript(i: Int) -> ViolationEvent { store[subset.map { Int($0[i]) } ?? i] }
}

/// Builds the lists of a store: one over everything, and subsets (e.g. one per site).
public struct ViolationListBuilder: Sendable {
    public let store: ViolationStore
    var subsets: [[Int32]] = []

    public init(store: ViolationStore) { self.store = store }

    /// A new, empty subset; returns its number.
    public mutating func newSubset() -> Int {
        subsets.append([])
        return subsets.count - 1
    }

    /// Adds violation `index` of the store to subset `n`.
    public mutating func add(_ index: Int, to n: Int) { subsets[n].append(Int32(index)) }

    public func list(_ n: Int) -> ViolationList { ViolationList(store, subset: subsets[n]) }
    public var all: ViolationList { ViolationList(store) }
}
