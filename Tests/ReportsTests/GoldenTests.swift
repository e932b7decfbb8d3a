import Foundation
import Reports
import Testing
import TraceModel

/// Every format of every trace is compared byte for byte with its golden file in Golden/<trace>.<format>.
/// Traces: the synthetic fixtures in Fixtures/, and every recorded trace in Traces/ that has goldens.
/// Regenerate after an intended change: `CAPTRACE_UPDATE_GOLDEN=1 swift test --filter GoldenTests`
/// (this also creates goldens for new traces in Traces/), then review the diff.
struct GoldenTests {
    static func cases() -> [URL] {
        let fixtures = Repo.jsonl(in: Repo.fixtures)
        let recorded = Repo.jsonl(in: Repo.traces).filter { url in
            Repo.updating || FileManager.default.fileExists(atPath: goldenURL(url, .text).path)
        }
        return fixtures + recorded
    }

    static func goldenURL(_ trace: URL, _ format: ReportFormat) -> URL {
        Repo.golden.appendingPathComponent(trace.deletingPathExtension().lastPathComponent + "." + format.rawValue)
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
}
