import Foundation
import Reports
import Testing
import TraceModel

/// Every format of every trace is compared byte for byte with its golden file in Golden/<trace>.<format>.
/// Traces: the synthetic fixtures in Fixtures/, the format-1 recordings in Traces/v1/ (goldens unchanged since
/// format 1 was the one written), and every format-2 recording in Traces/ that has goldens (Golden/format2/).
/// Regenerate after an intended change: `CAPTRACE_UPDATE_GOLDEN=1 swift test --filter GoldenTests`
/// (this also creates goldens for new traces in Traces/), then review the diff.
struct GoldenTests {
    static func cases() -> [URL] {
        let fixtures = Repo.jsonl(in: Repo.fixtures)
        let recorded = (Repo.jsonl(in: Repo.tracesV1) + Repo.jsonl(in: Repo.traces)).filter { url in
            Repo.updating || FileManager.default.fileExists(atPath: goldenURL(url, .text).path)
        }
        return fixtures + recorded
    }

    static func goldenURL(_ trace: URL, _ format: ReportFormat) -> URL {
        let dir = trace.deletingLastPathComponent().standardizedFileURL == Repo.traces.standardizedFileURL
            ? Repo.golden.appendingPathComponent("format2") : Repo.golden
        return dir.appendingPathComponent(trace.deletingPathExtension().lastPathComponent + "." + format.rawValue)
    }

    @Test(arguments: cases())
    func goldens(_ url: URL) throws {
        let trace = try TraceReader.parse(Repo.read(url))
        for format in ReportFormat.allCases {
            let out = renderReport(trace, format: format, color: false)
            // Rendering is pure: twice gives the same bytes.
            #expect(out == renderReport(trace, format: format, color: false))
            #expect(!out.contains(Repo.root.path + "/"), "\(format) output names the checkout")
            let g = Self.goldenURL(url, format)
            if Repo.updating {
                try FileManager.default.createDirectory(at: g.deletingLastPathComponent(), withIntermediateDirectories: true)
                try out.write(to: g, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try Repo.read(g)
            if out != expected {
                let a = out.split(separator: "\n", omittingEmptySubsequences: false)
                let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
                let i = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                Issue.record("""
                    \(g.lastPathComponent) differs at line \(i + 1):
                      got:      \(i < a.count ? String(a[i]) : "<end>")
                      expected: \(i < b.count ? String(b[i]) : "<end>")
                    (CAPTRACE_UPDATE_GOLDEN=1 regenerates)
                    """)
            }
        }
    }

    /// A version-1 trace written again as format 2 (its rendered arguments kept as they were) and read back
    /// gives every report byte for byte as the version-1 file does.
    @Test(arguments: Repo.jsonl(in: Repo.tracesV1) + Repo.jsonl(in: Repo.fixtures))
    func version1ConvertedToFormat2ReportsTheSame(_ url: URL) throws {
        let v1 = try TraceReader.parse(Repo.read(url))
        #expect(v1.header?.version == 1)
        let sink = MemorySink()
        let writer = TraceWriter(sink: sink)
        for e in v1.events { try writer.write(e) }
        var v2 = try TraceReader.parse(sink.text)
        #expect(v2.header?.version == 2)
        #expect(sink.bytes.count < Array(try Repo.read(url).utf8).count, "format 2 is smaller")
        v2.warnings = v1.warnings
        for format in ReportFormat.allCases {
            let a = renderReport(v1, format: format, color: false)
            let b = renderReport(v2, format: format, color: false)
            #expect(a == b, "\(url.lastPathComponent) \(format)")
        }
    }
}
