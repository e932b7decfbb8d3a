/// Streaming trace writer and tolerant reader. The writer emits complete lines through a sink, one event per
/// line, one or several lines per write (a crash leaves whole lines, at worst an incomplete last one, which the
/// reader drops with a warning).

/// Where encoded lines go. The supervisor provides a file-descriptor sink; tests collect into memory.
public protocol TraceSink: AnyObject {
    /// Writes the bytes of one or more complete lines. Must not return before they reached the file.
    func write(_ bytes: [UInt8]) throws
}

public final class TraceWriter {
    let sink: TraceSink
    var buffer: [UInt8] = []
    /// The format written: 2 (definitions once, events by reference), or 1 (every event self-contained).
    public let version: Int
    let encoder: TraceEncoderV2?

    public init(sink: TraceSink, version: Int = TraceFormat.version) {
        self.sink = sink
        self.version = version
        encoder = version >= 2 ? TraceEncoderV2() : nil
        buffer.reserveCapacity(4096)
    }

    /// Encodes and writes one event (with the definitions it needs first, in format 2).
    public func write(_ event: TraceEvent) throws {
        append(event)
        try flush()
    }

    /// Encodes one event as one line, preceded by the definition lines it needs, into the pending buffer
    /// (written by `flush`). `name` fills in the symbols of a stack not written before (format 2 names each
    /// distinct stack once); without it, stacks are written as given.
    public func append(_ event: TraceEvent, name: ((inout [Frame]) -> Void)? = nil) {
        if let encoder {
            encoder.append(event, name: name, to: &buffer)
            return
        }
        var e = event
        if let name {
            switch e {
            case .violation(var v): name(&v.stack); e = .violation(v)
            case .enter(var en): name(&en.stack); e = .enter(en)
            case .fdop(var f): if var s = f.stack { name(&s); f.stack = s; e = .fdop(f) }
            case .landlock(var l): name(&l.stack); e = .landlock(l)
            case .landlockDenial(var d): name(&d.stack); e = .landlockDenial(d)
            default: break
            }
        }
        if case .header(var h) = e { h.version = 1; e = .header(h) }
        if case .violation(let v) = e { TraceCodec.appendViolation(v, to: &buffer) }
        else { TraceCodec.json(e).append(to: &buffer) }
        buffer.append(0x0A)
    }

    /// Format 2: where module definitions get their build-id (hex) from.
    public func setBuildIDs(_ lookup: @escaping (String) -> String?) { encoder?.buildID = lookup }

    /// Writes the pending lines, all complete, in one go.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try sink.write(buffer)
    }
}

/// An in-memory sink, for tests and for rendering traces without a file.
public final class MemorySink: TraceSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ b: [UInt8]) throws { bytes.append(contentsOf: b) }
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// A parsed trace: the events in order, and warnings (e.g. an incomplete last line was dropped).
public struct Trace: Sendable {
    public var events: [TraceEvent]
    public var warnings: [String]

    public init(events: [TraceEvent], warnings: [String] = []) {
        self.events = events
        self.warnings = warnings
    }

    public var header: HeaderEvent? {
        for e in events { if case .header(let h) = e { return h } }
        return nil
    }
    public var violations: [ViolationEvent] { events.compactMap { if case .violation(let v) = $0 { v } else { nil } } }
    public var enters: [EnterEvent] { events.compactMap { if case .enter(let v) = $0 { v } else { nil } } }
    public var processes: [ProcessEvent] { events.compactMap { if case .process(let v) = $0 { v } else { nil } } }
    public var fdops: [FDOpEvent] { events.compactMap { if case .fdop(let v) = $0 { v } else { nil } } }
    /// `run --syscalls`: each process's syscall set.
    public var syscallSets: [SyscallSetEvent] { events.compactMap { if case .syscalls(let v) = $0 { v } else { nil } } }
    public var landlockDomains: [LandlockEvent] { events.compactMap { if case .landlock(let v) = $0 { v } else { nil } } }
    /// No process reached the trigger, so nothing was judged. Not a run under a Landlock `--policy`, which has no
    /// trigger: the kernel enforces the ruleset from exec.
    public var neverEntered: Bool { enters.isEmpty && !landlockDomains.contains { $0.source == .policy } }
    public var landlockDenials: [LandlockDenialEvent] { events.compactMap { if case .landlockDenial(let v) = $0 { v } else { nil } } }
    public var summary: SummaryEvent? {
        for e in events.reversed() { if case .summary(let s) = e { return s } }
        return nil
    }
}

public struct TraceReadError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let reason: String
    /// How many events the lines before it held: all valid, the reader stopped at this line.
    public var eventsBefore = 0
    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }

    public init(line: Int, reason: String) { self.line = line; self.reason = reason }
}

/// Reads a trace line by line, in either format, holding only format 2's definitions: events are handed out
/// as they are read, so a caller that aggregates reads a trace of any length in bounded memory.
public struct TraceLineReader: Sendable {
    public private(set) var warnings: [String] = []
    /// Events read so far (definition lines excluded).
    public private(set) var eventCount = 0
    /// The trace's format version, once the header is read.
    public private(set) var version: Int?
    public private(set) var sawSummary = false
    private var lineNumber = 0
    private var v2 = TraceDecoderV2()
    private var stopped = false

    public init() {}

    /// The event of the next line (nil for a definition line, a blank last line, or after an incomplete last
    /// line). `isLast`/`complete`: whether this is the file's last line and whether a newline ended it — an
    /// incomplete last line that does not parse (what a crash or a kill leaves) is dropped with a warning.
    public mutating func read(line: [UInt8], isLast: Bool, complete: Bool) throws(TraceReadError) -> TraceEvent? {
        guard !stopped else { return nil }
        lineNumber += 1
        let n = lineNumber
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
            if isLast { return nil }
            throw TraceReadError(line: n, reason: "empty line")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: line)
        } catch {
            if isLast && !complete {
                warnings.append("line \(n) is incomplete (the trace was cut short); read the \(eventCount) events before it")
                stopped = true
                return nil
            }
            var e = TraceReadError(line: n, reason: "malformed JSON: \(error)")
            e.eventsBefore = eventCount
            throw e
        }
        let e: TraceEvent?
        do {
            if n == 1 {
                guard value["type"]?.stringValue == "header" else {
                    if case .object = value {} else { throw TraceCodec.DecodeError(reason: "not a JSON object") }
                    throw TraceReadError(line: 1, reason: "the first line is not a captrace header")
                }
                e = try TraceCodec.event(from: value)
                if case .header(let h)? = e { version = h.version }
            } else if version == 1 {
                e = try TraceCodec.event(from: value)
            } else {
                e = try v2.event(from: value)
            }
        } catch {
            var e = (error as? TraceReadError)
                ?? TraceReadError(line: n, reason: (error as? TraceCodec.DecodeError)?.reason ?? "\(error)")
            e.eventsBefore = eventCount
            throw e
        }
        guard let e else { return nil }
        if case .header = e, n != 1 { throw TraceReadError(line: n, reason: "a second header") }
        eventCount += 1
        sawSummary = { if case .summary = e { return true }; return false }()
        return e
    }

    /// Call after the last line: adds the warnings about how the trace ended.
    public mutating func finish() throws(TraceReadError) {
        guard eventCount > 0 else { throw TraceReadError(line: 0, reason: "the trace is empty") }
        if !sawSummary { warnings.append("the trace has no summary line (the run was cut short)") }
    }

    /// Reads the next bytes of a trace file (any cut between chunks), calling `visit` for every event of the
    /// lines completed. Call `end` after the last chunk.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, visit: (TraceEvent) throws -> Void) throws {
        var start = 0
        for i in 0..<chunk.count where chunk[i] == 0x0A {
            if pending.isEmpty {
                try line(Array(chunk[start..<i]), visit: visit)
            } else {
                pending.append(contentsOf: chunk[start..<i])
                let l = pending
                pending.removeAll(keepingCapacity: true)
                try line(l, visit: visit)
            }
            start = i + 1
        }
        if start < chunk.count { pending.append(contentsOf: chunk[start...]) }
    }

    /// Reads what is left after the last chunk (a last line without a newline), then `finish`es.
    public mutating func end(visit: (TraceEvent) throws -> Void) throws {
        if !pending.isEmpty {
            let l = pending
            pending = []
            if !l.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                try blankBefore()
                if let e = try read(line: l, isLast: true, complete: false) { try visit(e) }
            }
        }
        try finish()
    }

    private var pending: [UInt8] = []
    /// A blank line seen (an error unless only blank lines follow it).
    private var blank: Int?

    private mutating func line(_ l: [UInt8], visit: (TraceEvent) throws -> Void) throws {
        if l.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
            lineNumber += 1
            if blank == nil { blank = lineNumber }
            return
        }
        try blankBefore()
        if let e = try read(line: l, isLast: false, complete: true) { try visit(e) }
    }

    private func blankBefore() throws(TraceReadError) {
        guard let b = blank else { return }
        var e = TraceReadError(line: b, reason: "empty line")
        e.eventsBefore = eventCount
        throw e
    }

    /// Splits `bytes` into lines and reads each, calling `visit` for every event.
    public mutating func read(bytes: [UInt8], visit: (TraceEvent) throws -> Void) throws {
        var start = 0
        var lines: [(Int, Int)] = []
        var i = 0
        let count = bytes.count
        // Split on the UTF-8 bytes: String.split over Characters is several times slower on large traces.
        bytes.withUnsafeBufferPointer { b in
            while i < count {
                if b[i] == 0x0A { lines.append((start, i)); start = i + 1 }
                i += 1
            }
        }
        let complete = start == count
        if !complete { lines.append((start, count)) }
        for (k, (a, z)) in lines.enumerated() {
            if let e = try read(line: Array(bytes[a..<z]), isLast: k == lines.count - 1, complete: complete || k < lines.count - 1) {
                try visit(e)
            }
        }
    }
}

public enum TraceReader {
    /// Parses a whole trace file's text (format 1 or 2). An incomplete last line (no terminating newline and not
    /// valid JSON, what a crash or a kill leaves) is dropped with a warning; any other malformed line is an
    /// error naming it.
    public static func parse(_ text: String) throws(TraceReadError) -> Trace {
        try parse(bytes: Array(text.utf8))
    }

    public static func parse(bytes: [UInt8]) throws(TraceReadError) -> Trace {
        var reader = TraceLineReader()
        var events: [TraceEvent] = []
        do {
            try reader.read(bytes: bytes) { events.append($0) }
        } catch let e as TraceReadError {
            throw e
        } catch {
            throw TraceReadError(line: 0, reason: "\(error)")
        }
        try reader.finish()
        return Trace(events: events, warnings: reader.warnings)
    }
}
