import Diagnosis
import TraceModel

/// `captrace report --rights`: the report in `format` with the per-descriptor rights table added (procstat -C
/// for capability mode, from `RightsAnalysis`). Text gets the table after the report, JSON a `rights` member,
/// HTML a section before the page's script. nil for formats without a place for it (sarif, folded).
public func renderRightsReport(_ trace: Trace, analysis sites: SiteAnalysis? = nil, format: ReportFormat,
                               color: Bool = false) -> String? {
    let base = renderReport(trace, analysis: sites, format: format, color: color)
    let analysis = RightsAnalysis(trace)
    switch format {
    case .text:
        return base + "\n" + RightsReport.text(analysis)
    case .json:
        guard case .object(var members)? = try? JSONValue.parse(base) else { return nil }
        members.append(("rights", RightsReport.json(analysis)))
        return JSONValue.object(members).pretty() + "\n"
    case .html:
        let section = RightsReport.html(analysis)
        // Before the page's closing script, so the section sits inside <body>.
        var lines = base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let at = lines.lastIndex(where: { $0.hasPrefix("<script>") }) else { return base + section }
        lines.insert(String(section.dropLast()), at: at)
        return lines.joined(separator: "\n")
    case .sarif, .folded:
        return nil
    }
}

/// The descriptor-rights table alone, as text (the README and tests show it).
public func renderRightsTable(_ trace: Trace) -> String { RightsReport.text(RightsAnalysis(trace)) }

enum RightsReport {
    /// Rights without the CAP_ prefix, as procstat prints them.
    static func short(_ rights: [String]) -> String {
        rights.isEmpty ? "-" : rights.map { $0.hasPrefix("CAP_") ? String($0.dropFirst(4)) : $0 }.joined(separator: " ")
    }

    static func text(_ a: RightsAnalysis) -> String {
        var out = "DESCRIPTOR RIGHTS (Capsicum rights used after entry; CAP_ prefix dropped)\n"
        guard a.recorded else {
            return out + "  The trace has no rights data: record it with `captrace run --rights`.\n"
        }
        guard !a.rows.isEmpty else { return out + "  No descriptors: capability mode was never entered.\n" }
        var pids: [Int32] = []
        for p in a.processes where !pids.contains(p.pid) { pids.append(p.pid) }
        for r in a.rows where !pids.contains(r.pid) { pids.append(r.pid) }
        for pid in pids {
            let rows = a.rows(pid: pid)
            let how = a.processes.first { $0.pid == pid }?.how ?? "descriptors seen in use"
            out += "  pid \(pid), \(how)\n"
            let shown = rows.filter { $0.origin != .inheritedUnused }
            let kindW = max(4, shown.map(\.kind.rawValue.count).max() ?? 0)
            let modeW = max(4, shown.map(\.accessMode.count).max() ?? 0)
            let pathW = min(48, max(4, shown.map(\.path.count).max() ?? 0))
            out += "    " + pad("FD", 4, right: true) + "  " + pad("KIND", kindW) + "  " + pad("MODE", modeW) + "  "
                + pad("PATH", pathW) + "  USED\n"
            for r in shown {
                var used = short(r.used)
                if r.used.isEmpty { used += "  (never used after entry)" }
                out += "    " + pad(String(r.fd), 4, right: true) + "  " + pad(r.kind.rawValue, kindW) + "  " + pad(r.accessMode, modeW)
                    + "  " + pad(r.path, pathW) + "  " + used + "\n"
                let indent = "          "
                var notes: [String] = []
                if r.origin != .entry { notes.append(r.originText) }
                if !r.aliases.isEmpty { notes.append("also fd " + r.aliases.map(String.init).joined(separator: ", ")) }
                if r.closed { notes.append("closed") }
                if !notes.isEmpty { out += indent + notes.joined(separator: "; ") + "\n" }
                let detailed = r.details.keys.filter { ["CAP_IOCTL", "CAP_FCNTL", "CAP_FLOCK", "CAP_MMAP_R", "CAP_MMAP_W", "CAP_MMAP_X", "CAP_LOOKUP"].contains($0) }
                for k in detailed.sorted() {
                    out += indent + "\(short([k])): " + r.details[k]!.prefix(6).joined(separator: ", ")
                        + (r.details[k]!.count > 6 ? ", ..." : "") + "\n"
                }
                if !r.unused.isEmpty { out += indent + "unused: " + short(r.unused) + "\n" }
                out += indent + "limit:  " + r.capsicum + "\n"
                out += indent + "linux:  " + r.linux + "\n"
            }
            let quiet = rows.filter { $0.origin == .inheritedUnused }
            if !quiet.isEmpty {
                out += "    inherited and never used by this process: fd " + quiet.map { String($0.fd) }.joined(separator: ", ")
                    + " (close them in the child after fork)\n"
            }
        }
        let unused = a.rows.filter { $0.advice == .unused && $0.origin != .inheritedUnused }.count
        let narrow = a.rows.filter { $0.advice == .narrow }.count
        out += "  \(a.rows.count) descriptor\(a.rows.count == 1 ? "" : "s"): \(unused) never used, \(narrow) to narrow\n"
        return out
    }

    static func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
        let n = s.count
        if n >= w { return s }
        let fill = String(repeating: " ", count: w - n)
        return right ? fill + s : s + fill
    }

    static func origin(_ r: DescriptorRights) -> JSONValue {
        switch r.origin {
        case .entry: return .object([("type", "entry")])
        case .inherited(let p): return .object([("type", "inherited"), ("pid", .int(Int64(p)))])
        case .inheritedUnused: return .object([("type", "inherited")])
        case .derived(let fd, let path, let sc):
            return .object([("type", "derived"), ("fd", .int(Int64(fd))), ("path", .string(path)), ("syscall", .string(sc))])
        case .created(let sc): return .object([("type", "created"), ("syscall", .string(sc))])
        case .unknown: return .object([("type", "unknown")])
        }
    }

    static func json(_ a: RightsAnalysis) -> JSONValue {
        func strings(_ s: [String]) -> JSONValue { .array(s.map { .string($0) }) }
        let rows: [JSONValue] = a.rows.map { r in
            .object([
                ("pid", .int(Int64(r.pid))), ("fd", .int(Int64(r.fd))),
                ("aliases", .array(r.aliases.map { .int(Int64($0)) })),
                ("kind", .string(r.kind.rawValue)), ("path", .string(r.path)), ("flags", .string(r.flags)),
                ("origin", origin(r)), ("used", strings(r.used)),
                ("details", .object(r.details.keys.sorted().map { ($0, strings(r.details[$0]!)) })),
                ("syscalls", strings(r.syscalls)), ("held", strings(r.held)), ("unused", strings(r.unused)),
                ("closed", .bool(r.closed)), ("verdict", .string(r.advice.rawValue)),
                ("limit", .object([("capsicum", .string(r.capsicum)), ("linux", .string(r.linux))])),
            ])
        }
        return .object([("recorded", .bool(a.recorded)), ("descriptors", .array(rows))])
    }

    static func html(_ a: RightsAnalysis) -> String {
        let esc = HTMLReport.esc
        var h = "<section id=\"rights\"><h2>Descriptor rights</h2>\n"
        guard a.recorded else {
            return h + "<p class=\"note\">The trace has no rights data: record it with <code>captrace run --rights</code>.</p></section>\n"
        }
        h += "<table class=\"fds rights\"><thead><tr><th>pid</th><th>fd</th><th>kind</th><th>mode</th><th>path</th>"
        h += "<th>used</th><th>unused</th><th>limit (Capsicum)</th><th>Linux</th></tr></thead><tbody>\n"
        for r in a.rows where r.origin != .inheritedUnused {
            var fd = String(r.fd)
            if !r.aliases.isEmpty { fd += " (" + r.aliases.map(String.init).joined(separator: ", ") + ")" }
            var path = esc(r.path)
            if r.origin != .entry { path += "<br><small>" + esc(r.originText) + "</small>" }
            h += "<tr class=\"verdict-\(r.advice.rawValue)\"><td>\(r.pid)</td><td>\(esc(fd))</td><td>\(esc(r.kind.rawValue))</td>"
            h += "<td>\(esc(r.accessMode))</td><td>\(path)</td><td>\(esc(short(r.used)))</td><td>\(esc(short(r.unused)))</td>"
            h += "<td><code>\(esc(r.capsicum))</code></td><td>\(esc(r.linux))</td></tr>\n"
        }
        return h + "</tbody></table></section>\n"
    }
}
