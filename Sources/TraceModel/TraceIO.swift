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

    public init(sink: TraceSink) {
        self.sink = sink
        buffer.reserveCapacity(4096)
    }

    /// Encodes and writes one event as one line.
    public func write(_ event: TraceEvent) throws {
        append(event)
        try flush()
    }

    /// Encodes one event as one line into the pending buffer (written by `flush`).
    public func append(_ event: TraceEvent) {
        if case .violation(let v) = event { TraceCodec.appendViolation(v, to: &buffer) }
        else { TraceCodec.json(event).append(to: &buffer) }
        buffer.append(0x0A)
    }

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
    public var summary: SummaryEvent? {
        for e in events.reversed() { if case .summary(let s) = e { return s } }
        return nil
    }
}

public struct TraceReadError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let reason: String
    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

public enum TraceReader {
    /// Parses a whole trace file's text. An incomplete last line (no terminating newline and not valid JSON,
    /// what a crash or a kill leaves) is dropped with a warning; any other malformed line is an error naming it.
    public static func parse(_ text: String) throws(TraceReadError) -> Trace {
        // Split on the UTF-8 bytes: String.split over Characters is several times slower on large traces.
        let bytes = Array(text.utf8)
        var lines: [String] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            lines.append(String(decoding: bytes[start..<i], as: UTF8.self))
            start = i + 1
        }
        let endsWithNewline = start == bytes.count
        if !endsWithNewline { lines.append(String(decoding: bytes[start...], as: UTF8.self)) }
        var events: [TraceEvent] = []
        var warnings: [String] = []
        events.reserveCapacity(lines.count)
        for (i, raw) in lines.enumerated() {
            let n = i + 1
            let isLast = i == lines.count - 1
            if raw.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                if isLast { continue }
                throw TraceReadError(line: n, reason: "empty line")
            }
            let value: JSONValue
            do {
                value = try JSONValue.parse(raw)
            } catch {
                if isLast && !endsWithNewline {
                    warnings.append("line \(n) is incomplete (the trace was cut short); read the \(events.count) events before it")
                    break
                }
                throw TraceReadError(line: n, reason: "malformed JSON: \(error)")
            }
            let e: TraceEvent
            do {
                e = try TraceCodec.event(from: value)
            } catch {
                throw TraceReadError(line: n, reason: error.reason)
            }
            if n == 1, e.typeName != "header" {
                throw TraceReadError(line: 1, reason: "the first line is not a captrace header")
            }
            events.append(e)
        }
        guard !events.isEmpty else { throw TraceReadError(line: 0, reason: "the trace is empty") }
        if case .summary = events.last! {} else {
            warnings.append("the trace has no summary line (the run was cut short)")
        }
        return Trace(events: events, warnings: warnings)
    }
}
