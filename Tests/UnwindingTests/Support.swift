import Foundation

/// Builds fixture programs from Fixtures/stacks with the system compilers, once per distinct command.
enum FixtureBuilder {
    static let sourceDir: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/stacks")

    static let outDir: String = {
        let dir = NSTemporaryDirectory() + "captrace-unwind-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Reads a file whole, including /proc files (which report size 0).
    static func readFile(_ path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let data = try? h.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    struct BuildError: Error, CustomStringConvertible { var description: String }

    /// Runs a tool and returns its exit status and combined output.
    @discardableResult
    static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let out = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw BuildError(description: "\(tool) \(args.joined(separator: " ")) failed:\n\(out)")
        }
        return out
    }

    /// Compiles `sources` (file names in Fixtures/stacks) into an executable named `name` with `flags`.
    static func build(_ name: String, sources: [String], flags: [String], compiler: String = "/usr/bin/gcc",
                      strip: Bool = false) throws -> String {
        let out = outDir + "/" + name
        let srcs = sources.map { sourceDir.appendingPathComponent($0).path }
        try run(compiler, flags + srcs + ["-o", out])
        if strip { try run("/usr/bin/strip", ["--strip-all", out]) }
        return out
    }
}
