import Foundation
import Suggestions
import Testing
import TraceModel

/// Snapshot tests: every format on the synthetic traces in Fixtures/, and on every recorded trace in the
/// repository's Traces/ that has a golden file. Regenerate with CAPTRACE_UPDATE_GOLDEN=1 (then review the diff).
@Suite struct GoldenTests {
    static let update = ProcessInfo.processInfo.environment["CAPTRACE_UPDATE_GOLDEN"] == "1"

    static func goldenURL(_ trace: URL, _ format: SuggestFormat) -> URL {
        let base = trace.deletingPathExtension().lastPathComponent
        return Paths.golden.appendingPathComponent("\(base).\(format.rawValue).golden")
    }

    static func check(_ trace: URL, required: Bool) throws {
        let t = try loadTrace(trace)
        for format in SuggestFormat.allCases {
            let got = renderSuggestion(t, format: format)
            let url = goldenURL(trace, format)
            if update {
                try FileManager.default.createDirectory(at: Paths.golden, withIntermediateDirectories: true)
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

    /// The two synthetic traces, and resolver-demo-rights.jsonl: Examples/resolver-demo.c recorded by captrace
    /// (`run --rights --enter-at symbol:enter_sandbox -- ./resolver-demo localhost`).
    @Test func fixtureTraces() throws {
        for name in ["demo.jsonl", "tcpdump-like.jsonl", "resolver-demo-rights.jsonl"] {
            try Self.check(Paths.fixtures.appendingPathComponent(name), required: true)
        }
    }

    /// Real traces recorded into Traces/: compared where a golden exists (all of them when updating).
    @Test func recordedTraces() throws {
        let files = (try? FileManager.default.contentsOfDirectory(at: Paths.traces, includingPropertiesForKeys: nil)) ?? []
        for url in files where url.pathExtension == "jsonl" {
            try Self.check(url, required: false)
        }
    }

    /// Rendering is a pure function: the same trace gives the same bytes.
    @Test func deterministic() throws {
        let t = try fixtureTrace("demo.jsonl")
        for f in SuggestFormat.allCases { #expect(renderSuggestion(t, format: f) == renderSuggestion(t, format: f)) }
    }
}
