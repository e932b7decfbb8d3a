import CTestSupport
import Foundation
import TraceModel

/// Builds fixture programs from Fixtures/stacks with the system compilers, once per distinct command.
enum FixtureBuilder {
    static let sourceDir: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/stacks")

    /// This test process's directory for builds and scratch files. Those left by earlier test processes that no
    /// longer exist are removed first (as the integration tests' Harness.base).
    static let outDir: String = {
        let tmp = NSTemporaryDirectory()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
        where name.hasPrefix("captrace-unwind-") {
            if let pid = Int32(name.dropFirst("captrace-unwind-".count)), pid != getpid(), kill(pid, 0) != 0,
               errno == ESRCH {
                try? FileManager.default.removeItem(atPath: (tmp as NSString).appendingPathComponent(name))
            }
        }
        let dir = (tmp as NSString).appendingPathComponent("captrace-unwind-\(getpid())")
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

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: String] = [:]

    /// Compiles `sources` (file names in Fixtures/stacks) into an executable named `name` with `flags`, once per
    /// name for the whole test run (tests run in parallel: a file is never rewritten while another test runs it).
    static func build(_ name: String, sources: [String], flags: [String], compiler: String = "/usr/bin/gcc",
                      libs: [String] = [], strip: Bool = false) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let done = built[name] { return done }
        let out = outDir + "/" + name
        let tmp = out + ".tmp"
        let srcs = sources.map { sourceDir.appendingPathComponent($0).path }
        try run(compiler, flags + srcs + libs + ["-o", tmp])
        if strip { try run("/usr/bin/strip", ["--strip-all", tmp]) }
        guard rename(tmp, out) == 0 else { throw BuildError(description: "rename \(tmp) failed") }
        built[name] = out
        return out
    }
}

/// A fixture process blocked in a syscall, for the duration of one synchronous test body.
enum Tracee {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Starts `exe`, waits for its "ready" line and until it is blocked in syscall `nr`, then runs `body`
    /// with its pid. With `stop` the test thread PTRACE_SEIZEs and interrupts it first (and detaches after):
    /// every ptrace call happens on this thread, inside this synchronous function.
    static func run<T>(_ exe: String, args: [String] = [], blockedIn nr: Int = 0, stop: Bool = true,
                       _ body: (Int32) throws -> T) throws -> T {
        try run(exe, args: args, blockedIn: nr, stop: stop, otherThread: false) { pid, _ in try body(pid) }
    }

    /// As `run`, for a thread other than the main one: `body` gets (pid, tid).
    static func runThread<T>(_ exe: String, args: [String] = [], blockedIn nr: Int = 0,
                             _ body: (Int32, Int32) throws -> T) throws -> T {
        try run(exe, args: args, blockedIn: nr, stop: true, otherThread: true, body)
    }

    static func start(_ exe: String, args: [String]) throws -> (pid: Int32, fd: Int32) {
        var fd: Int32 = -1
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let pid = ct_test_spawn(exe, argv, &fd)
        guard pid > 0 else { throw Failure(description: "spawn \(exe) failed") }
        return (pid, fd)
    }

    /// Reads one "ready\n" line from the fixture.
    static func awaitReady(_ fd: Int32) throws {
        var buf = [UInt8](repeating: 0, count: 6)
        var got = 0
        while got < 6 {
            let r = read(fd, &buf[got], 6 - got)
            guard r > 0 else { throw Failure(description: "fixture exited before ready") }
            got += r
        }
    }

    /// Waits until thread `tid` of `pid` is parked in syscall `nr`.
    static func awaitBlocked(pid: Int32, tid: Int32, nr: Int) throws {
        for _ in 0..<400 {
            if let s = FixtureBuilder.readFile("/proc/\(pid)/task/\(tid)/syscall"),
               s.split(separator: " ").first == "\(nr)" { return }
            usleep(5000)
        }
        throw Failure(description: "thread \(tid) never blocked in syscall \(nr)")
    }

    private static func run<T>(_ exe: String, args: [String], blockedIn nr: Int, stop: Bool, otherThread: Bool,
                               _ body: (Int32, Int32) throws -> T) throws -> T {
        let (pid, fd) = try start(exe, args: args)
        defer { ct_test_kill(pid); close(fd) }
        try awaitReady(fd)
        var tid = pid
        if otherThread {
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
            guard let t = tasks.compactMap({ Int32($0) }).first(where: { $0 != pid }) else {
                throw Failure(description: "no second thread in \(pid)")
            }
            tid = t
        }
        try awaitBlocked(pid: pid, tid: tid, nr: nr)
        if stop {
            guard ct_test_seize_and_stop(tid) == 0 else { throw Failure(description: "seize \(tid) failed") }
        }
        defer { if stop { _ = ct_test_detach(tid) } }
        return try body(pid, tid)
    }
}

extension Array where Element == Frame {
    /// Symbols, with "?" for unnamed frames, for messages.
    var names: [String] { map { $0.symbol ?? "?" } }

    /// Whether `chain` appears as consecutive symbols.
    func hasConsecutive(_ chain: [String]) -> Bool {
        let n = names
        guard n.count >= chain.count else { return false }
        for start in 0...(n.count - chain.count) where [String](n[start..<(start + chain.count)]) == chain {
            return true
        }
        return false
    }

    var rendered: String {
        map { (f: Frame) -> String in
            let pc = "0x" + String(f.pc, radix: 16)
            let sym = (f.symbol ?? "?") + "+" + (f.symbolOffset.map { String($0) } ?? "?")
            let mod = (f.module ?? "?") + "+0x" + (f.offset.map { String($0, radix: 16) } ?? "?")
            let src = (f.file ?? "-") + ":" + (f.line.map { String($0) } ?? "-")
            return [pc, sym, mod, src].joined(separator: " ")
        }.joined(separator: "\n")
    }
}
