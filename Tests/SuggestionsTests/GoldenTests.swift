import Foundation
import Suggestions
import Testing
import TraceModel

/// Snapshot tests: every format on the synthetic traces in Fixtures/, and on every recorded trace in the
/// repository's Traces/ that has a golden file. Regenerate with CAPTRACE_UPDATE_GOLDEN=1 (then review the diff).
@Suite struct GoldenTests {
    static let update = ProcessInfo.processInfo.environment["CAPTRACE_UPDATE_GOLDEN"] == "1"

    /// Golden/<trace>.<format>.golden for fixtures and the format-1 recordings in Traces/v1/;
    /// Golden/format2/... for the format-2 recordings in Traces/.
    static func goldenURL(_ trace: URL, _ format: SuggestFormat) -> URL {
        let base = trace.deletingPathExtension().lastPathComponent
        let dir = trace.deletingLastPathComponent().standardizedFileURL == Paths.traces.standardizedFileURL
            ? Paths.golden.appendingPathComponent("format2") : Paths.golden
        return dir.appendingPathComponent("\(base).\(format.rawValue).golden")
    }

    static func check(_ trace: URL, required: Bool) throws {
        let t = try loadTrace(trace)
        // spo is made only from traces recorded with `run --syscalls` (the CLI refuses the others).
        for format in SuggestFormat.allCases where format != .spo || suggestionProblem(t, format: .spo) == nil {
            let got = renderSuggestion(t, format: format)
            let url = goldenURL(trace, format)
            if update {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try got.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            guard let want = try? String(contentsOf: url, encoding: .utf8) else {
                if required { Issue.record("missing golden \(url.path): run with CAPTRACE_UPDATE_GOLDEN=1") }
                continue
            }
            #expect(got == want, "\(trace.lastPathComponent) --format \(format.rawValue) differs from \(url.lastPathComponent)")
        }
    }

    /// The two synthetic traces, resolver-demo-rights.jsonl: Examples/resolver-demo.c recorded by captrace
    /// (`run --rights --enter-at symbol:enter_sandbox -- ./resolver-demo localhost`), and two traces recorded with
    /// `run --syscalls --enter-at exec --stack-depth 0` (sh -c ..., getent hosts localhost).
    @Test func fixtureTraces() throws {
        for name in ["demo.jsonl", "tcpdump-like.jsonl", "resolver-demo-rights.jsonl", "syscalls-sh.jsonl", "syscalls-getent.jsonl"] {
            try Self.check(Paths.fixtures.appendingPathComponent(name), required: true)
        }
    }

    /// Real traces recorded into Traces/ (format 2) and Traces/v1/ (format 1, kept as they were): compared where a
    /// golden exists (all of them when updating).
    @Test func recordedTraces() throws {
        let files = [Paths.traces, Paths.traces.appendingPathComponent("v1")].flatMap {
            (try? FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil)) ?? []
        }
        for url in files where url.pathExtension == "jsonl" {
            try Self.check(url, required: false)
        }
    }

    /// A version-1 trace written again as format 2 and read back gives the same suggestions in every format.
    @Test func version1ConvertedToFormat2SuggestsTheSame() throws {
        let dir = Paths.traces.appendingPathComponent("v1")
        let files = ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? [])
            + ["demo.jsonl", "tcpdump-like.jsonl", "resolver-demo-rights.jsonl"].map { Paths.fixtures.appendingPathComponent($0) }
        for url in files where url.pathExtension == "jsonl" {
            let v1 = try loadTrace(url)
            let sink = MemorySink()
            let writer = TraceWriter(sink: sink)
            for e in v1.events { try writer.write(e) }
            let v2 = try TraceReader.parse(sink.text)
            for f in SuggestFormat.allCases {
                #expect(renderSuggestion(v1, format: f) == renderSuggestion(v2, format: f), "\(url.lastPathComponent) \(f)")
            }
        }
    }

    /// Rendering is a pure function: the same trace gives the same bytes.
    @Test func deterministic() throws {
        let t = try fixtureTrace("demo.jsonl")
        for f in SuggestFormat.allCases { #expect(renderSuggestion(t, format: f) == renderSuggestion(t, format: f)) }
    }
}
