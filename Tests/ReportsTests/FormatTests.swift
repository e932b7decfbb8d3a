import Foundation
import Reports
import Testing
import TraceModel

/// Structural checks of each format beyond the goldens: SARIF 2.1.0's required fields, the folded format as a
/// consumer parses it, JSON counts, colour, truncated and malformed traces, and the run summary.
struct FormatTests {
    static let traces = ["synthetic-demo.jsonl", "synthetic-enforce-truncated.jsonl"]

    // MARK: SARIF

    /// Checks the properties SARIF 2.1.0's schema requires (sarifLog.version/runs, run.tool, toolComponent.name,
    /// reportingDescriptor.id, result.message, message.text|id, physicalLocation.artifactLocation|address,
    /// region start >= 1, stack.frames, artifactLocation.uri as a URI reference) and what GitHub code scanning
    /// reads (ruleId resolving to a rule, level, partialFingerprints). Returns the problems found.
    static func sarifProblems(_ doc: JSONValue) -> [String] {
        var p: [String] = []
        func need(_ ok: Bool, _ what: String) { if !ok { p.append(what) } }
        need(doc["version"]?.stringValue == "2.1.0", "version must be \"2.1.0\"")
        need(doc["$schema"]?.stringValue?.hasPrefix("https://") == true, "$schema must be a URI")
        guard let runs = doc["runs"]?.arrayValue else { return p + ["runs must be an array"] }
        need(runs.count == 1, "one run")
        for run in runs {
            guard let driver = run["tool"]?["driver"] else { p.append("run.tool.driver is required"); continue }
            need(driver["name"]?.stringValue == "captrace", "tool.driver.name")
            need(driver["informationUri"]?.stringValue?.hasPrefix("https://") == true, "informationUri")
            let rules = driver["rules"]?.arrayValue ?? []
            var ruleIds: [String] = []
            for r in rules {
                guard let id = r["id"]?.stringValue else { p.append("rule without id"); continue }
                ruleIds.append(id)
                need(r["shortDescription"]?["text"]?.stringValue?.isEmpty == false, "\(id): shortDescription.text")
                need(r["help"]?["text"]?.stringValue?.isEmpty == false, "\(id): help.text")
                need(id.split(separator: "/").count == 2, "\(id): namespace/rule")
            }
            need(Set(ruleIds).count == ruleIds.count, "rule ids are unique")
            for (i, r) in (run["results"]?.arrayValue ?? []).enumerated() {
                let where_ = "results[\(i)]"
                guard let text = r["message"]?["text"]?.stringValue, !text.isEmpty else {
                    p.append("\(where_).message.text is required"); continue
                }
                guard let ruleId = r["ruleId"]?.stringValue, let ri = ruleIds.firstIndex(of: ruleId) else {
                    p.append("\(where_).ruleId must name a rule"); continue
                }
                if let idx = r["ruleIndex"]?.intValue { need(Int(idx) == ri, "\(where_).ruleIndex") }
                need(["none", "note", "warning", "error"].contains(r["level"]?.stringValue ?? ""), "\(where_).level")
                need(r["partialFingerprints"]?.objectValue?.isEmpty == false, "\(where_).partialFingerprints")
                var locs = r["locations"]?.arrayValue ?? []
                for s in r["stacks"]?.arrayValue ?? [] {
                    guard let frames = s["frames"]?.arrayValue else { p.append("\(where_): stack.frames is required"); continue }
                    locs += frames.compactMap { $0["location"] }
                }
                for l in locs {
                    if let msg = l["message"] { need(msg["text"]?.stringValue != nil, "\(where_): message.text") }
                    guard let pl = l["physicalLocation"] else { continue }
                    need(pl["artifactLocation"] != nil || pl["address"] != nil, "\(where_): physicalLocation needs artifactLocation or address")
                    if let uri = pl["artifactLocation"]?["uri"]?.stringValue {
                        need(!uri.isEmpty && !uri.contains(" ") && URL(string: uri) != nil, "\(where_): uri \(uri)")
                    }
                    if let region = pl["region"] {
                        let start = region["startLine"]?.intValue, byte = region["byteOffset"]?.intValue
                        need(start.map { $0 >= 1 } ?? (byte.map { $0 >= 0 } ?? false), "\(where_): region needs startLine>=1 or byteOffset")
                    }
                }
            }
        }
        return p
    }

    @Test(arguments: traces)
    func sarifHasTheRequiredFields(_ name: String) throws {
        let trace = try Repo.trace(name)
        let doc = try JSONValue.parse(renderReport(trace, format: .sarif))
        #expect(Self.sarifProblems(doc) == [])
        let results = doc["runs"]?.arrayValue?.first?["results"]?.arrayValue ?? []
        #expect(results.count == Set(trace.violations.map(\.site)).count, "one result per site")
    }

    @Test func sarifLocatesTheProgramsOwnFrame() throws {
        let doc = try JSONValue.parse(renderReport(try Repo.trace("synthetic-demo.jsonl"), format: .sarif))
        let first = doc["runs"]?.arrayValue?.first?["results"]?.arrayValue?.first
        let pl = first?["locations"]?.arrayValue?.first?["physicalLocation"]
        #expect(pl?["artifactLocation"]?["uri"]?.stringValue == "demo.c")
        #expect(pl?["region"]?["startLine"]?.intValue == 24)
        #expect(first?["stacks"]?.arrayValue?.first?["frames"]?.arrayValue?.count == 15)
        #expect(first?["level"]?.stringValue == "warning")
        #expect(first?["message"]?["text"]?.stringValue?.contains("glibc-resolver") == true)
        let denied = try JSONValue.parse(renderReport(try Repo.trace("synthetic-enforce-truncated.jsonl"), format: .sarif))
        #expect(denied["runs"]?.arrayValue?.first?["results"]?.arrayValue?.first?["level"]?.stringValue == "error")
    }

    @Test func sarifCheckerCatchesMistakes() throws {
        // The checker itself must be able to fail.
        let bad = try JSONValue.parse(#"{"version":"2.0.0","runs":[{"tool":{"driver":{"rules":[{"id":"x/y","shortDescription":{"text":"s"},"help":{"text":"h"}}]}},"results":[{"ruleId":"a/b","message":{"text":"m"},"level":"fatal","locations":[{"physicalLocation":{"region":{"startLine":0}}}]}]}]}"#)
        let problems = Self.sarifProblems(bad)
        #expect(problems.contains("version must be \"2.1.0\""))
        #expect(problems.contains("tool.driver.name"))
        #expect(problems.contains { $0.contains("ruleId must name a rule") })
    }

    // MARK: folded

    /// Parses folded stacks as flamegraph.pl/inferno do: the count after the last space, frames split on ';';
    /// lines that do not end in a count are skipped (as those tools skip them).
    static func parseFolded(_ text: String) -> [([String], Int)] {
        text.split(separator: "\n").compactMap { line in
            guard let sp = line.lastIndex(of: " "), let n = Int(line[line.index(after: sp)...]) else { return nil }
            return (line[..<sp].split(separator: ";", omittingEmptySubsequences: false).map(String.init), n)
        }
    }

    @Test(arguments: traces)
    func foldedStacksAddUpToTheViolations(_ name: String) throws {
        let trace = try Repo.trace(name)
        let text = renderReport(trace, format: .folded)
        let stacks = Self.parseFolded(text)
        #expect(stacks.map(\.1).reduce(0, +) == trace.violations.count)
        #expect(Set(stacks.map { $0.0 }).count == stacks.count, "one line per unique stack")
        for (frames, n) in stacks {
            #expect(n > 0 && frames.allSatisfy { !$0.isEmpty })
        }
        // Every line is either a stack or a comment (no half-lines a consumer would drop silently).
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.last?.isNumber == true, "\(line)")
        }
    }

    @Test func foldedIsOutermostFirstWithTheSyscallAsLeaf() throws {
        let stacks = Self.parseFolded(renderReport(try Repo.trace("synthetic-demo.jsonl"), format: .folded))
        let first = try #require(stacks.first)
        #expect(first.0.first == "_start")
        #expect(first.0.last == "openat /etc/host.conf")
        #expect(first.0.contains("lookup_peer"))
        let mo = try #require(stacks.first { $0.0.last?.hasSuffix("C/LC_MESSAGES/libc.mo") == true })
        #expect(mo.1 == 1)
        #expect(stacks.contains { $0.0.last == "connect unix:/var/run/nscd/socket" && $0.1 == 2 })
        // Without stacks the leaf alone remains, and the warning is a comment consumers skip.
        let t = renderReport(try Repo.trace("synthetic-enforce-truncated.jsonl"), format: .folded)
        #expect(t.hasPrefix("# captrace warning: ["))
        #expect(Self.parseFolded(t).first! == (["openat /etc/resolv.conf"], 2))
    }

    // MARK: JSON, text, colour, summary

    @Test(arguments: traces)
    func jsonCountsMatchTheTrace(_ name: String) throws {
        let trace = try Repo.trace(name)
        let doc = try JSONValue.parse(renderReport(trace, format: .json))
        let sites = doc["sites"]?.arrayValue ?? []
        // A site is a stack and the rule its calls broke.
        #expect(sites.count == Set(trace.violations.map { $0.site + " " + $0.rule.rawValue }).count)
        #expect(sites.compactMap { $0["count"]?.intValue }.reduce(0, +) == Int64(trace.violations.count))
        #expect(sites.flatMap { $0["seqs"]?.arrayValue ?? [] }.compactMap(\.intValue).sorted()
                == trace.violations.map { Int64($0.seq) }.sorted())
        #expect(doc["totals"]?["violations"]?.intValue == Int64(trace.violations.count))
        #expect(doc["warnings"]?.arrayValue?.count == trace.warnings.count)
    }

    @Test func textNamesTheCulpritAndTheFix() throws {
        let text = renderReport(try Repo.trace("synthetic-demo.jsonl"), format: .text, color: false)
        #expect(text.contains("culprit: libc resolver, called from `lookup_peer` in `./demo` (demo.c:24)"))
        #expect(text.contains("hint glibc-resolver"))
        #expect(text.contains("fix: Resolve every name"))
        #expect(text.contains("culprit: glibc NSS, called from `who` in `./demo`"))
        #expect(text.contains("descriptors held:"))
        #expect(text.contains("pid 4243 entered by inheritance from pid 4242"))
        #expect(!text.contains("\u{1b}["))
    }

    @Test func colourOnlyWhenAsked() throws {
        let trace = try Repo.trace("synthetic-demo.jsonl")
        let plain = renderReport(trace, format: .text, color: false)
        let coloured = renderReport(trace, format: .text, color: true)
        #expect(coloured.contains("\u{1b}[1m"))
        #expect(stripANSI(coloured) == plain)
        for f in ReportFormat.allCases where f != .text {
            #expect(renderReport(trace, format: f, color: true) == renderReport(trace, format: f, color: false))
        }
    }

    func stripANSI(_ s: String) -> String {
        var out = "", it = s.makeIterator()
        while let c = it.next() {
            if c == "\u{1b}" { while let d = it.next(), d != "m" {}; continue }
            out.append(c)
        }
        return out
    }

    @Test func truncatedTracesRenderWithTheirWarning() throws {
        let trace = try Repo.trace("synthetic-enforce-truncated.jsonl")
        #expect(trace.warnings.count == 2)
        for f in ReportFormat.allCases {
            let out = renderReport(trace, format: f)
            #expect(out.contains("line 8 is incomplete"), "\(f) does not note the warning")
        }
        #expect(renderRunSummary(trace).contains("warning: line 8 is incomplete"))
    }

    @Test func malformedTracesAreRefused() {
        let header = #"{"type":"header","format":"captrace","version":1,"argv":["x"],"trigger":"main","mode":"observe","backend":"ptrace","started":"2026-11-29T04:20:00Z"}"#
        // A bad line in the middle is an error naming the line, not a warning.
        #expect(throws: TraceReadError.self) { try TraceReader.parse(header + "\n{not json\n" + header + "\n") }
        #expect(throws: TraceReadError.self) { try TraceReader.parse(#"{"type":"violation"}"# + "\n") }
        #expect(throws: TraceReadError.self) { try TraceReader.parse("") }
        do {
            _ = try TraceReader.parse(header + "\n{not json\n" + header + "\n")
        } catch {
            #expect(error.line == 2)
        }
    }

    @Test func runSummaryIsShort() throws {
        let s = renderRunSummary(try Repo.trace("synthetic-demo.jsonl"))
        let lines = s.split(separator: "\n")
        #expect(lines.first == "captrace: 27 violations at 24 sites in 2 processes (filesystem 21, network 5, process 1); exit status 0")
        #expect(lines.count == 7)
        #expect(lines[1] == "  #1 openat /etc/host.conf ×1  [glibc-resolver]  from lookup_peer")
        #expect(lines.last == "  … and 19 more sites")
        let none = Trace(events: [.header(HeaderEvent(argv: ["x"], trigger: "main", mode: .observe, backend: .ptrace,
                                                      started: "2026-11-29T04:20:00Z"))])
        #expect(renderRunSummary(none).hasPrefix("captrace: 0 violations after entry into capability mode; capability mode never began (no process reached main), so nothing was judged"))
    }

    @Test func everyFormatRendersAnEmptyTrace() throws {
        let t = Trace(events: [.header(HeaderEvent(argv: ["x"], trigger: "main", mode: .observe, backend: .ptrace,
                                                   started: "2026-11-29T04:20:00Z"))])
        for f in ReportFormat.allCases where f != .folded { #expect(!renderReport(t, format: f).isEmpty) }
        #expect(Self.sarifProblems(try JSONValue.parse(renderReport(t, format: .sarif))) == [])
        // Folded stacks have no data to show, only the note that nothing was judged (as a comment line).
        #expect(renderReport(t, format: .folded) == "# captrace warning: [capability mode never began (no process reached main), so nothing was judged]\n")
    }
}
