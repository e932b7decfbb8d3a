import Foundation
import TraceModel

/// Paths of the repository, found from this file's location (Tests/ReportsTests/Support.swift).
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/ReportsTests/Fixtures")
    static let golden = root.appendingPathComponent("Tests/ReportsTests/Golden")
    static let traces = root.appendingPathComponent("Traces")
    /// Traces recorded in format 1, kept as they were: their reports must not change (goldens in Golden/).
    static let tracesV1 = root.appendingPathComponent("Traces/v1")

    static func jsonl(in dir: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") }.sorted().map { dir.appendingPathComponent($0) }
    }

    static func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    static func trace(_ name: String) throws -> Trace {
        try TraceReader.parse(read(fixtures.appendingPathComponent(name)))
    }

    /// CAPTRACE_UPDATE_GOLDEN=1 rewrites golden files instead of comparing against them.
    static var updating: Bool { ProcessInfo.processInfo.environment["CAPTRACE_UPDATE_GOLDEN"] == "1" }
}
