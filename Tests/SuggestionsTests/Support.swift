import Foundation
import TraceModel

/// Paths and helpers shared by the Suggestions tests.
enum Paths {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsDir.appendingPathComponent("Fixtures")
    static let golden = testsDir.appendingPathComponent("Golden")
    static let repo = testsDir.deletingLastPathComponent().deletingLastPathComponent()
    static let traces = repo.appendingPathComponent("Traces").resolvingSymlinksInPath()
    static let cFixtures = repo.appendingPathComponent("Fixtures/suggest")
}

func loadTrace(_ url: URL) throws -> Trace {
    try TraceReader.parse(String(contentsOf: url, encoding: .utf8))
}

func fixtureTrace(_ name: String) throws -> Trace {
    try loadTrace(Paths.fixtures.appendingPathComponent(name))
}

/// Runs a program, returning its exit status and combined output.
@discardableResult
func run(_ exe: String, _ args: [String], cwd: URL? = nil) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let dirs: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
    for dir in dirs {
        let p = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

func temporaryDirectory(_ tag: String) throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("captrace-suggest-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}
