import Diagnosis
import Foundation
import Reports
import Testing
import TraceModel

/// Golden outputs of `report --rights` on recorded traces. Set CAPTRACE_UPDATE_GOLDEN=1 to rewrite them.
@Suite struct GoldenTests {
    static func check(_ actual: String, _ name: String) throws {
        let url = Paths.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["CAPTRACE_UPDATE_GOLDEN"] != nil {
            try actual.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "\(name) differs from its golden file (CAPTRACE_UPDATE_GOLDEN=1 rewrites it)")
    }

    @Test func fixtureTable() throws { try Self.check(renderRightsTable(try fixtureTrace()), "rights-fixture.text") }
    @Test func tcpdumpTable() throws { try Self.check(renderRightsTable(try tcpdumpTrace()), "tcpdump-rights.text") }

    @Test func jsonCarriesTheRows() throws {
        let t = try fixtureTrace()
        let text = try #require(renderRightsReport(t, format: .json))
        let v = try JSONValue.parse(text)
        #expect(v["sites"] != nil)  // the ordinary report is still there
        let rows = try #require(v["rights"]?["descriptors"]?.arrayValue)
        #expect(rows.count == RightsAnalysis(t).rows.count)
        let stdin = try #require(rows.first { $0["fd"]?.intValue == 0 })
        #expect(stdin["verdict"]?.stringValue == "unused")
        #expect(stdin["limit"]?["capsicum"]?.stringValue == "cap_rights_limit(0, CAP_FSTAT)")
    }

    @Test func htmlHasTheSectionInsideBody() throws {
        let html = try #require(renderRightsReport(try tcpdumpTrace(), format: .html))
        let section = try #require(html.range(of: "<section id=\"rights\">"))
        let body = try #require(html.range(of: "</body>"))
        #expect(section.lowerBound < body.lowerBound)
        #expect(html.contains("cap_rights_limit(0, CAP_FSTAT)"))
        #expect(renderRightsReport(try tcpdumpTrace(), format: .sarif) == nil)
    }
}
