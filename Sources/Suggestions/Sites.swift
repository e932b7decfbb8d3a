import Diagnosis
import TraceModel

func distinct<T: Hashable>(_ xs: [T]) -> [T] {
    var seen = Set<T>()
    return xs.filter { seen.insert($0).inserted }
}

/// What the suggestion writers need to know about the traced program, read once from the trace.
struct TraceFacts {
    let trace: Trace
    /// Every violation, judged against the baseline the trace was recorded with.
    let violations: ViolationList
    /// The sites with their hints and culprits (`SiteAnalysis`, as the reports see them).
    let sites: [SiteGroup]
    /// Every pid the trace mentions.
    let pids: Set<Int32>

    init(_ trace: Trace, analysis: SiteAnalysis? = nil) {
        self.trace = trace
        let analysis = analysis ?? SiteAnalysis(trace)
        violations = analysis.violations
        sites = analysis.sites
        var pids = Set<Int32>()
        for p in trace.processes { pids.insert(p.pid) }
        for v in violations { pids.insert(v.pid) }
        for e in trace.enters { pids.insert(e.pid) }
        self.pids = pids
    }

    var commandLine: String {
        guard let argv = trace.header?.argv, !argv.isEmpty else { return "(unknown program)" }
        return argv.map(shellQuote).joined(separator: " ")
    }

    var trigger: String { trace.header?.trigger ?? "?" }

    /// Said first by every suggestion from a run in which no process reached the trigger (`Trace.neverEntered`):
    /// nothing was judged.
    var neverEnteredNote: String? {
        guard trace.neverEntered else { return nil }
        return "Capability mode never began: no process reached \(trigger), so nothing was judged and this suggestion rests on no observation of the program in capability mode. Check the trigger (--enter-at) and run again."
    }

}


/// A frame for people: `module!symbol+0x2a (file.c:12)`, or `module+0xoffset`.
func describe(_ f: Frame) -> String {
    let module = f.module.map(PathText.basename) ?? "?"
    var s: String
    if let sym = f.symbol {
        s = "\(module)!\(sym)"
        if let o = f.symbolOffset, o > 0 { s += "+0x" + String(o, radix: 16) }
    } else if let o = f.offset {
        s = "\(module)+0x" + String(o, radix: 16)
    } else {
        s = "\(module)@0x" + String(f.pc, radix: 16)
    }
    if let file = f.file {
        s += " (\(PathText.basename(file))" + (f.line.map { ":\($0)" } ?? "") + ")"
    }
    return s
}

/// Quotes a word for a POSIX shell when it needs it.
func shellQuote(_ s: String) -> String {
    let safe = s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
    if safe && !s.isEmpty { return s }
    return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}

/// A C string literal.
func cString(_ s: String) -> String {
    var out = "\""
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "\""): out += "\\\""
        case UInt8(ascii: "\\"): out += "\\\\"
        case 0x0A: out += "\\n"
        case 0x20..<0x7F: out.append(Character(Unicode.Scalar(b)))
        default:
            let o = String(b, radix: 8)
            out += "\\" + String(repeating: "0", count: 3 - o.count) + o
        }
    }
    return out + "\""
}

/// The directory part of an absolute path ("/" for a file in the root).
func dirName(_ path: String) -> String {
    guard let i = path.lastIndex(of: "/") else { return "." }
    if i == path.startIndex { return "/" }
    return String(path[..<i])
}

/// Parses a socket address as traces write it, returning its family name.
func addressFamily(_ address: String) -> String? {
    if address.hasPrefix("unix:") { return "AF_UNIX" }
    if address.hasPrefix("[") { return "AF_INET6" }
    if address.hasPrefix("netlink:") { return "AF_NETLINK" }
    let host = address.split(separator: ":").first ?? ""
    let parts = host.split(separator: ".")
    if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return "AF_INET" }
    return nil
}

/// The port of an `ip:port` / `[ip6]:port` address.
func addressPort(_ address: String) -> Int? {
    guard !address.hasPrefix("unix:"), let c = address.lastIndex(of: ":") else { return nil }
    return Int(address[address.index(after: c)...])
}
