import Diagnosis
import Foundation
import Reports
import Testing
import TraceModel

/// Analysis at read time: several traces as one analysis, and hints from today's knowledge base on old traces.
struct ManyTracesTests {
    static func read(_ names: [String]) throws -> (trace: Trace, analysis: SiteAnalysis) {
        var b = SiteAnalysis.Builder()
        var events: [TraceEvent] = []
        for name in names {
            if names.count > 1 { b.beginTrace(name) }
            for e in try TraceReader.parse(Repo.read(Repo.tracesV1.appendingPathComponent(name))).events {
                b.add(e)
                if case .violation = e {} else { events.append(e) }
            }
        }
        return (Trace(events: events), b.finish())
    }

    static func totals(_ r: (trace: Trace, analysis: SiteAnalysis)) throws -> JSONValue {
        try #require(try JSONValue.parse(renderReport(r.trace, analysis: r.analysis, format: .json))["totals"])
    }

    @Test func mergedTotalsAreTheSums() throws {
        let names = ["getent-hosts.jsonl", "resolver-demo.jsonl", "tcpdump-pcap_loop.jsonl"]
        let merged = try Self.read(names)
        let parts = try names.map { try Self.read([$0]) }
        let m = try Self.totals(merged)
        let each = try parts.map(Self.totals)
        #expect(m["violations"]?.intValue == each.compactMap { $0["violations"]?.intValue }.reduce(0, +))
        for ns in ["filesystem", "network"] {
            let sum = each.compactMap { $0["by_namespace"]?[ns]?["violations"]?.intValue }.reduce(0, +)
            #expect(m["by_namespace"]?[ns]?["violations"]?.intValue == sum, "\(ns)")
        }
        // Sites are matched across traces: never more than the sum, and each counts its violations per trace.
        #expect(merged.analysis.sites.count <= parts.map { $0.analysis.sites.count }.reduce(0, +))
        for s in merged.analysis.sites {
            #expect(!s.traces.isEmpty && s.traces.map(\.count).reduce(0, +) == s.count, "\(s.id)")
        }
        #expect(merged.analysis.traces == names)
        // Per trace, the counts are the trace's own.
        for (name, part) in zip(names, parts) {
            let own = merged.analysis.sites.compactMap { s in s.traces.first { $0.trace == name }?.count }
            #expect(own.reduce(0, +) == part.analysis.violations.count, "\(name)")
        }
        let text = renderReport(merged.trace, analysis: merged.analysis, format: .text)
        #expect(text.contains("3 traces read together") && text.contains("  traces getent-hosts.jsonl ×"))
        // The same traces read one by one render exactly as before (no per-trace lines).
        #expect(renderReport(parts[0].trace, analysis: parts[0].analysis, format: .text)
                == (try Repo.read(Repo.golden.appendingPathComponent("getent-hosts.text"))))
    }

    /// Hints are the knowledge base's of the reading captrace, whatever the recording one knew: a trace recorded
    /// before an entry existed (its violations carry no hint) is diagnosed by the entry now.
    @Test func aHintAddedLaterAppliesToAnOldTrace() throws {
        let url = Repo.tracesV1.appendingPathComponent("getent-hosts.jsonl")
        let recorded = try Repo.read(url)
        #expect(recorded.contains(#""hint":"locale-iconv""#))
        let older = recorded.replacingOccurrences(of: #""hint":"locale-iconv""#, with: #""hint":null"#)
            .replacingOccurrences(of: #""hint":"glibc-resolver""#, with: #""hint":"an-entry-since-removed""#)
        let trace = try TraceReader.parse(older)
        #expect(trace.violations.allSatisfy { $0.hint != "locale-iconv" })
        let sites = SiteAnalysis(trace).sites
        #expect(sites.contains { $0.hint?.id == "locale-iconv" })
        #expect(!sites.contains { $0.hint?.id == "an-entry-since-removed" })
        for format in ReportFormat.allCases {
            #expect(renderReport(trace, format: format) == renderReport(try TraceReader.parse(recorded), format: format))
        }
    }
}
