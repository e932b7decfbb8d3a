import TraceModel

/// Folded stacks (Brendan Gregg's format, read by flamegraph.pl, inferno and speedscope): one line per unique
/// stack, frames outermost first joined by `;`, the syscall and its path or address as the leaf, a space, the
/// count. Lines in order of first occurrence.
enum FoldedReport {
    static func render(_ m: ReportModel) -> String {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for v in m.violations {
            var frames = v.stack.reversed().map { clean(frameName($0)) }
            var leaf = v.syscall
            if let p = v.path ?? v.address { leaf += " " + p }
            frames.append(clean(leaf))
            let key = frames.joined(separator: ";")
            if counts[key] == nil { order.append(key) }
            counts[key, default: 0] += 1
        }
        var out = ""
        // Consumers skip lines that do not end in " <count>"; the bracket keeps a note from ever looking like one.
        for w in m.warnings { out += "# captrace warning: [" + clean(w) + "]\n" }
        for k in order { out += "\(k) \(counts[k]!)\n" }
        return out
    }

    /// A frame name safe for the format: no `;` (the separator) and no line breaks.
    static func clean(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case ";": out += ":"
            case "\n", "\r", "\t": out += " "
            default: out.append(c)
            }
        }
        return out
    }
}
