// What both executables share: captrace's exit statuses and failures, reading traces and writing output, and
// `run` itself (RunExecution.swift) with its plain command-line parser (FastRun.swift). No ArgumentParser here:
// `captrace` (Sources/captrace) links this module alone, so that a traced run starts without the command-line
// framework; every other command line goes to `captrace-cli` (Sources/CaptraceCLI).
import Baselines
import CapabilityPolicy
import Diagnosis
import Glibc
import Reports
import Supervisor
import TraceModel

/// Exit statuses of captrace itself (documented in the README).
package enum Status {
    /// --fail-on-violation and at least one violation not covered by the baseline.
    package static let violations: Int32 = 3
    /// Bad command line or input file.
    package static let usage: Int32 = 2
}

/// One clear line on stderr and a non-zero status.
package struct Failure: Error {
    package let message: String
    package let status: Int32
    package init(message: String, status: Int32) { self.message = message; self.status = status }
}

package func fail(_ message: String, status: Int32 = Status.usage) -> Failure { Failure(message: message, status: status) }

package func warn(_ message: String) { writeStderr(line: message) }

/// Runs a command's body, turning captrace's failures into one line on stderr: the status to exit with (the
/// body's own, or the failure's documented one). Other errors (the command-line parser's) are rethrown.
package func statusOf(_ body: () throws -> Int32) throws -> Int32 {
    do {
        return try body()
    } catch let f as Failure {
        warn(f.message)
        return f.status
    } catch let e as SupervisorError {
        warn(e.description)
        return e.status
    }
}

/// The bytes of an input file, or a failure (status 2) naming the file and why it cannot be read.
package func readInput(_ path: String, what: String = "") throws -> [UInt8] {
    switch FileIO.read(path) {
    case .success(let data): return data
    case .failure(let e):
        let reason = "\(e)"
        throw fail("cannot read \(what)\(path): " + reason.prefix(1).lowercased() + reason.dropFirst())
    }
}

/// Reads traces, each once and in bounded memory: the analysis (sites, violations held compactly) is made while
/// reading, and the trace returned holds every event but the violations. Several traces are one analysis
/// (sites matched across them, counted per trace); the trace's header is the first one's.
package func readTraces(_ paths: [String]) throws -> (trace: Trace, analysis: SiteAnalysis) {
    var builder = SiteAnalysis.Builder()
    var events: [TraceEvent] = []
    var warnings: [String] = []
    for path in paths {
        if paths.count > 1 { builder.beginTrace(path) }
        let found: [String]
        do {
            found = try readTrace(path, into: &builder, &events)
        } catch let e as FileIO.SystemError {
            let reason = "\(e)"
            throw fail("cannot read \(path): " + reason.prefix(1).lowercased() + reason.dropFirst())
        } catch let e as TraceReadError where e.line > 1 {
            throw fail("\(path): not a valid captrace trace: \(e) (valid before it: \(plural(e.eventsBefore, "event")))")
        } catch {
            throw fail("\(path): not a valid captrace trace: \(error)")
        }
        for w in found {
            warn("\(path): warning: \(w)")
            warnings.append(paths.count > 1 ? "\(path): \(w)" : w)
        }
    }
    return (Trace(events: events, warnings: warnings), builder.finish())
}

/// "1 event", "3 events".
package func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)" + (n == 1 ? "" : "s") }

/// Reads one trace file in chunks into `builder`, keeping its events but the violations in `events`; returns
/// the reader's warnings.
package func readTrace(_ path: String, into builder: inout SiteAnalysis.Builder, _ events: inout [TraceEvent]) throws -> [String] {
    var reader = TraceLineReader()
    try withoutActuallyEscaping({ (e: TraceEvent) in
        builder.add(e)
        if case .violation = e {} else { events.append(e) }
    }) { visit in
        try FileIO.readChunks(path) { chunk in try reader.feed(chunk, visit: visit) }
        try reader.end(visit: visit)
    }
    return reader.warnings
}

/// The trace `run` just wrote, read back in one pass for its report and gate; nil when it cannot be read.
package func readBack(_ path: String) -> (trace: Trace, analysis: SiteAnalysis)? {
    var builder = SiteAnalysis.Builder()
    var events: [TraceEvent] = []
    guard let warnings = try? readTrace(path, into: &builder, &events) else { return nil }
    return (Trace(events: events, warnings: warnings), builder.finish())
}

/// Said on stderr by every analysis of a trace in which no process reached the trigger (the outputs say it too,
/// where their format has room for a note).
package func warnIfNeverEntered(_ trace: Trace) {
    if trace.neverEntered {
        warn("warning: capability mode never began (no process reached \(trace.header?.trigger ?? "the trigger")), so nothing was judged")
    }
}

/// Writes output to a file (all at once, so nothing is half-written) or to stdout.
package func emit(_ text: String, to path: String?) throws {
    if let path {
        if let error = FileIO.writeAtomically(text, to: path) { throw fail("cannot write \(path): \(error)") }
    } else {
        FileIO.writeAll(1, text.utf8)
    }
}

/// One line on stderr, "captrace: " first (never buffered: the report and warnings interleave correctly).
package func writeStderr(line: String) {
    var bytes = Array("captrace: ".utf8)
    bytes.append(contentsOf: line.utf8)
    bytes.append(0x0A)
    FileIO.writeAll(2, bytes)
}
