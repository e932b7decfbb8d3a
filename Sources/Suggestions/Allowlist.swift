import Baselines
import TraceModel

/// `suggest --format allowlist`: every violation site of the trace as a `Baseline` entry, with comments for the
/// reviewer. The output parses back with `Baseline(parsing:)` and matches every violation of the trace.
func renderAllowlist(_ facts: TraceFacts) -> String {
    var out = """
        # captrace baseline (allowlist) for: \(facts.commandLine)
        # trigger \(facts.trigger); \(facts.violations.count) violations at \(facts.sites.count) sites.
        # Review every entry: each one lets `captrace run --allow FILE` record that violation as
        # allowed-by-baseline, so --fail-on-violation fails only on new ones.
        # Format: SYSCALL NAMESPACE/RULE [path=GLOB] [address=GLOB] [abi=ABI], then the stack signature,
        # innermost frame first, one "at" line per frame: MODULE!SYMBOL, MODULE+0xOFFSET or * (any frame).
        # The listed frames must be the innermost frames of the violation's stack; outer frames are not compared.
        # Globs: * within a path component, ** across components, ? one character, [0-9] one of a class,
        # {pid} the violating pid, \\ escapes.

        """
    if let n = facts.neverEnteredNote { out += "# " + n + "\n" }
    if facts.sites.isEmpty { out += "# The trace has no violations: this baseline allows nothing.\n" }
    for group in facts.sites {
        let v = group.first
        out += "\n# site \(group.id): \(group.events.count) call\(group.events.count == 1 ? "" : "s")"
        out += " (pid \(group.pids.map(String.init).joined(separator: ", "))), first at seq \(v.seq)"
        if let h = group.hint { out += "; hint \(h.id)" }
        out += "\n"
        if let own = group.culprit.programFrame { out += "# from \(describe(own))\n" }
        if v.stack.isEmpty { out += "# recorded without a stack: the entry matches this call from any site\n" }
        let values: [(key: String, pattern: String)]
        let paths = group.paths, addresses = group.addresses
        if !paths.isEmpty {
            values = generalize(paths, pids: facts.pids).map { ("path", $0) }
        } else if !addresses.isEmpty {
            values = generalize(addresses, pids: []).map { ("address", $0) }
        } else {
            values = [("", "")]
        }
        if values.count == 1, (paths.count > 1 || addresses.count > 1) {
            out += "# \(max(paths.count, addresses.count)) distinct values at this site, generalised to one pattern\n"
        }
        for (key, pattern) in values {
            out += "\(v.syscall) \(v.namespace.rawValue)/\(v.rule.rawValue)"
            if !key.isEmpty { out += " \(key)=\(quoteValue(pattern))" }
            if v.abi != .x86_64 { out += " abi=\(v.abi.rawValue)" }
            out += "\n"
            for f in v.stack { out += "    at \(Baseline.FramePattern(f))\n" }
        }
    }
    return out
}

/// Patterns covering the values seen at one site: each value exactly (with `/proc/PID/` of a traced process
/// as `/proc/*/`), or, past three distinct values, one pattern from their common prefix and suffix.
func generalize(_ values: [String], pids: Set<Int32>) -> [String] {
    let patterns = distinct(values.map { procPattern($0, pids: pids) })
    guard patterns.count > 3 else { return patterns }
    let arrays = values.map { Array($0) }
    var prefix = arrays[0]
    for a in arrays.dropFirst() {
        var n = 0
        while n < prefix.count, n < a.count, prefix[n] == a[n] { n += 1 }
        prefix = Array(prefix[..<n])
    }
    var suffix = Array(arrays[0].dropFirst(prefix.count))
    for a in arrays.dropFirst() {
        let rest = Array(a.dropFirst(prefix.count))
        var n = 0
        while n < suffix.count, n < rest.count, suffix[suffix.count - 1 - n] == rest[rest.count - 1 - n] { n += 1 }
        suffix = Array(suffix.suffix(n))
    }
    let crossesSlash = arrays.contains { a in a.dropFirst(prefix.count).dropLast(suffix.count).contains("/") }
    return [Glob.escape(String(prefix)) + (crossesSlash ? "**" : "*") + Glob.escape(String(suffix))]
}

/// `/proc/1234/...` for a pid of the trace becomes `/proc/*/...` (pids differ between runs); else the value
/// escaped as an exact pattern.
func procPattern(_ path: String, pids: Set<Int32>) -> String {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count >= 3, parts[0].isEmpty, parts[1] == "proc", let pid = Int32(parts[2]), pids.contains(pid) {
        var rest = parts.map { Glob.escape(String($0)) }
        rest[2] = "*"
        return rest.joined(separator: "/")
    }
    return Glob.escape(path)
}

/// A value as the baseline tokenizer reads it back: bare when it has no blank, quote or backslash-quote issue.
func quoteValue(_ s: String) -> String {
    if !s.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" }) && !s.isEmpty { return s }
    var out = "\""
    for c in s {
        if c == "\"" || c == "\\" { out.append("\\") }
        out.append(c)
    }
    return out + "\""
}
