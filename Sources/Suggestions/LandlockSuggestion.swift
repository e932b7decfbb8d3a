import Diagnosis
import Landlock
import SyscallCatalog
import TraceModel

/// What `suggest --format landlock` needs to know about files that a trace does not say: what a path names now
/// and which interpreter the kernel loads to execute a file (an ELF's PT_INTERP, a script's `#!` line). The CLI
/// looks on the machine; tests give fixed answers. Pure: the renderer never touches a file itself.
public struct FileFacts: Sendable {
    public var fileType: @Sendable (String) -> FileType?
    public var interpreter: @Sendable (String) -> String?
    public init(fileType: @escaping @Sendable (String) -> FileType?, interpreter: @escaping @Sendable (String) -> String?) {
        self.fileType = fileType; self.interpreter = interpreter
    }
    /// Knows nothing: every path's type is taken from the call alone, and no interpreter is added.
    public static let unknown = FileFacts(fileType: { _ in nil }, interpreter: { _ in nil })
}

/// The Landlock ruleset (landlockconfig TOML) a recorded run needs: every right for the machine's ABI handled,
/// path-beneath rules with the narrowest rights each path needed, TCP port rules for recorded bind/connect,
/// and both scopes unless the program signalled another process or reached an abstract unix socket.
/// Needs a trace recorded with `--enter-at exec` (every lookup after exec is then a recorded violation).
public func renderLandlock(_ trace: Trace, analysis: SiteAnalysis? = nil, files: FileFacts = .unknown) -> String {
    LandlockSuggestion(trace, analysis: analysis, files: files).config().toml()
}

struct LandlockSuggestion {
    let trace: Trace
    let violations: ViolationList
    let files: FileFacts
    /// Rights per path (directory or file), in order of first need.
    var rights: [String: FSAccess] = [:]
    var order: [String] = []
    var ports: [UInt64: NetAccess] = [:]
    var signalsOthers = false
    var abstractUnix = false
    /// Paths a call needed whose rule captrace cannot make (e.g. unreadable), for the comment.
    var notes: [String] = []
    var procWidened = false

    init(_ trace: Trace, analysis: SiteAnalysis?, files: FileFacts) {
        self.trace = trace
        self.violations = (analysis ?? SiteAnalysis(trace)).violations
        self.files = files
        collect()
    }

    mutating func grant(_ a: FSAccess, _ path: String) {
        var p = LandlockPath.normalise(path)
        // /proc/PID/...: that process's directory exists only while it lives, and a rule names an inode when the
        // ruleset is built; the rule goes on /proc itself (said in the file's comment).
        let parts = p.split(separator: "/")
        if parts.count >= 2, parts[0] == "proc", parts[1].allSatisfy(\.isNumber) {
            if !procWidened { notes.append("rules for /proc/PID/... paths are given on /proc (a process's directory is not there before it runs)") }
            procWidened = true
            p = "/proc"
        }
        if rights[p] == nil { order.append(p) }
        rights[p, default: []].formUnion(a)
    }

    mutating func executes(_ path: String) {
        grant([.execute, .readFile], path)
        if let i = files.interpreter(path), LandlockPath.normalise(i) != LandlockPath.normalise(path) {
            grant([.execute, .readFile], i)
        }
    }

    mutating func collect() {
        // The programs exec'd: the first is exec'd before any lookup is recorded (the policy is applied then).
        for p in trace.processes where p.event == .spawn || p.event == .exec {
            if let path = p.path { executes(path) }
        }
        for v in violations {
            if v.errno != nil { continue }  // a failed call needs no rule (Landlock refuses only what would work)
            // The open flags: from the registers (format 2), or from the rendered names (a version-1 trace).
            let flagsArg = v.raw.flatMap { raw in Catalog.shared.syscall(named: v.syscall)?.args.firstIndex(of: .openFlags).flatMap { $0 < raw.args.count ? raw.args[$0] : nil } }
                ?? { if case .string(let s)? = v.arg("flags") { return Self.openFlags(s) }; return nil }()
            switch v.namespace {
            case .process:
                if ["kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"].contains(v.syscall) {
                    signalsOthers = true
                }
                continue
            case .network:
                if let a = v.address {
                    if a.hasPrefix("unix:@") { abstractUnix = true }
                    if let port = Self.port(a) {
                        if v.syscall == "bind" { ports[port, default: []].insert(.bindTCP) }
                        if v.syscall == "connect" { ports[port, default: []].insert(.connectTCP) }
                    }
                }
                continue
            default: break
            }
            guard let path = v.path, path.hasPrefix("/") else { continue }
            let parent = LandlockPath.parent(path)
            let type = files.fileType(path)
            switch v.syscall {
            case "open", "openat", "openat2", "creat":
                let flags: UInt64 = v.syscall == "creat" ? 0o1101 : (flagsArg ?? 0)
                if flags & 0o10000000 != 0 { continue }  // O_PATH: Landlock checks nothing
                let acc = flags & 3
                if flags & 0o200000 != 0 || type == .directory { grant(.readDir, path); continue }
                var a = FSAccess()
                if acc == 0 || acc == 2 { a.insert(.readFile) }
                if acc == 1 || acc == 2 { a.insert(.writeFile) }
                if flags & 0o1000 != 0, acc != 0 { a.insert(.truncate) }
                if type == .other, path.hasPrefix("/dev/") { a.insert(.ioctlDev) }
                if flags & 0o100 != 0 {
                    // It may have been created: the directory must allow making it, and the rights hold beneath it.
                    grant(a.union(.makeReg), parent)
                } else {
                    grant(a, path)
                }
            case "execve", "execveat": executes(path)
            case "mkdir", "mkdirat": grant(.makeDir, parent)
            case "mknod", "mknodat":
                let mode = v.raw.flatMap { raw in Catalog.shared.syscall(named: v.syscall)?.args.firstIndex(of: .mode).map { raw.args[$0] } } ?? 0
                switch mode & 0o170000 {
                case 0o020000: grant(.makeChar, parent)
                case 0o060000: grant(.makeBlock, parent)
                case 0o010000: grant(.makeFifo, parent)
                case 0o140000: grant(.makeSock, parent)
                default: grant(.makeReg, parent)
                }
            case "symlink", "symlinkat": grant(.makeSym, parent)
            case "unlink": grant(.removeFile, parent)
            case "rmdir": grant(.removeDir, parent)
            case "unlinkat":
                let flags = v.raw.flatMap { raw in Catalog.shared.syscall(named: v.syscall)?.args.firstIndex(of: .atFlags).map { raw.args[$0] } } ?? 0
                grant(flags & 0x200 != 0 ? .removeDir : .removeFile, parent)
            case "truncate": grant(.truncate, path)
            case "rename", "renameat", "renameat2", "link", "linkat":
                let second = v.raw.flatMap { raw -> String? in
                    guard let sc = Catalog.shared.syscall(named: v.syscall) else { return nil }
                    let idx = sc.args.enumerated().filter { $0.element == .path }.map(\.offset)
                    return idx.count > 1 ? raw.memory.strings[idx[1]] : nil
                }
                let isDir = type == .directory
                if !v.syscall.hasPrefix("link") { grant(isDir ? .removeDir : .removeFile, parent) }
                if let s = second {
                    let to = s.hasPrefix("/") ? s : (v.raw?.base ?? "/") + "/" + s
                    let toParent = LandlockPath.parent(to)
                    grant(isDir ? .makeDir : .makeReg, toParent)
                    if toParent != parent { grant(.refer, parent); grant(.refer, toParent) }
                } else {
                    notes.append("\(v.syscall) \(path): the second path was not recorded; grant its directory by hand")
                }
            default:
                break  // stat, access, readlink, chdir, ...: Landlock governs no lookup by itself
            }
        }
    }

    /// Open flags from their rendered names ("O_WRONLY|O_CREAT|O_TRUNC"): the bits this suggestion reads.
    static func openFlags(_ names: String) -> UInt64 {
        let bits: [Substring: UInt64] = ["O_WRONLY": 1, "O_RDWR": 2, "O_CREAT": 0o100, "O_TRUNC": 0o1000,
                                         "O_DIRECTORY": 0o200000, "O_PATH": 0o10000000]
        return names.split(separator: "|").reduce(0) { $0 | (bits[$1] ?? 0) }
    }

    /// The port of an address as the trace writes it: "127.0.0.1:53", "[::1]:53".
    static func port(_ address: String) -> UInt64? {
        guard !address.hasPrefix("unix:"), let colon = address.lastIndex(of: ":") else { return nil }
        return UInt64(address[address.index(after: colon)...])
    }

    func config() -> LandlockConfig {
        let h = trace.header
        let abi = LandlockABI(h?.landlockABI.flatMap { $0 > 0 ? $0 : nil } ?? LandlockABI.newestKnown.version)
        var c = LandlockConfig()
        var top = [" Landlock ruleset suggested by captrace from: " + (h?.argv.joined(separator: " ") ?? "?"),
                   " for the machine's Landlock \(abi)" + (h?.landlockABI == nil ? " (not recorded in the trace: assumed)" : "")
                       + "; every right of that ABI is handled, and granted only where the run needed it."]
        if h?.trigger != "exec" {
            top.append(" warning: the trace was recorded with --enter-at \(h?.trigger ?? "?"), so lookups before that point are")
            top.append(" missing; record with --enter-at exec for a complete ruleset.")
        }
        top.append(" TCP port rules come from recorded bind/connect; the trace does not say whether a socket was TCP")
        top.append(" (Landlock governs TCP only). Descriptor operations captrace does not trap (ftruncate, ioctl on a")
        top.append(" device) may need truncate or ioctl_dev added by hand.")
        top += notes.map { " note: " + $0 }
        c.comment = top.joined(separator: "\n")
        // Variables: the run's working, home and temporary directories (the nearest one names a path).
        var vars: [(name: String, value: String)] = []
        if let v = h?.cwd, v != "/" { vars.append(("cwd", LandlockPath.normalise(v))) }
        if let v = h?.home, v != "/" { vars.append(("home", LandlockPath.normalise(v))) }
        if let v = h?.tmpdir, v != "/" { vars.append(("tmp", LandlockPath.normalise(v))) }
        func templated(_ p: String) -> (String, String?) {
            let best = vars.filter { LandlockPath.isBeneath(p, $0.value) }.max { $0.value.count < $1.value.count }
            guard let b = best else { return (p.replacingDollars, nil) }
            return ("${\(b.name)}" + String(p.dropFirst(b.value.count)).replacingDollars, b.name)
        }
        var used = Set<String>()
        var groups: [FSAccess: [String]] = [:]
        var groupOrder: [FSAccess] = []
        for p in order {
            let a = rights[p]!.intersection(abi.fs)
            guard !a.isEmpty else { continue }
            let (t, v) = templated(p)
            if let v { used.insert(v) }
            if groups[a] == nil { groupOrder.append(a) }
            groups[a, default: []].append(t)
        }
        c.variables = vars.filter { used.contains($0.name) }.map { LandlockConfig.Variable(name: $0.name, literal: [$0.value]) }
        let scopes = abi.scopes.subtracting(signalsOthers ? .signal : []).subtracting(abstractUnix ? .abstractUnixSocket : [])
        c.rulesets = [LandlockConfig.RulesetEntry(handledAccessFS: abi.fs.names, handledAccessNet: abi.net.isEmpty ? nil : abi.net.names,
                                                  scoped: scopes.isEmpty ? nil : scopes.names,
                                                  comment: signalsOthers || abstractUnix
                                                      ? " not scoped: " + [signalsOthers ? "signal (the program signalled another process)" : nil,
                                                                           abstractUnix ? "abstract_unix_socket (it reached an abstract socket)" : nil]
                                                          .compactMap { $0 }.joined(separator: ", ")
                                                      : nil)]
        for a in groupOrder.sorted(by: { Self.describe($0) < Self.describe($1) }) {
            c.pathBeneath.append(.init(allowedAccess: a.names, parent: groups[a]!.sorted(), comment: " " + Self.describe(a)))
        }
        if !abi.net.isEmpty {
            var byAccess: [NetAccess: [UInt64]] = [:]
            for (port, a) in ports { byAccess[a, default: []].append(port) }
            for (a, p) in byAccess.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                c.netPorts.append(.init(allowedAccess: a.names, port: p.sorted()))
            }
        }
        return c
    }

    static func describe(_ a: FSAccess) -> String {
        if a == [.execute, .readFile] { return "programs and interpreters executed" }
        if a == .readFile { return "files read" }
        if a == .readDir { return "directories listed" }
        return "needed: " + a.names.joined(separator: ", ")
    }
}

extension String {
    /// `$` written as landlockconfig's `$$`.
    var replacingDollars: String { split(separator: "$", omittingEmptySubsequences: false).joined(separator: "$$") }
}
