import Diagnosis
import SeccompBPF
import SyscallCatalog
import TraceModel

/// The kdump-like text report: the run, where capability mode began with the descriptors held, one block per
/// site in order of first occurrence, then totals.
struct TextReport {
    let model: ReportModel
    let color: Bool

    private func sgr(_ code: String, _ s: String) -> String { color ? "\u{1b}[\(code)m\(s)\u{1b}[0m" : s }
    private func bold(_ s: String) -> String { sgr("1", s) }
    private func dim(_ s: String) -> String { sgr("2", s) }
    private func action(_ a: Action) -> String {
        switch a {
        case .denied: sgr("31", a.rawValue)
        case .allowed: sgr("33", a.rawValue)
        case .allowedByBaseline: sgr("32", a.rawValue)
        }
    }

    func render() -> String {
        var out: [String] = []
        if let h = model.header {
            out.append(bold("captrace report") + ": " + h.argv.map(shellWord).joined(separator: " "))
            var meta = ["trigger \(h.trigger)", "mode \(h.mode.rawValue)", "backend \(h.backend.rawValue)", h.arch]
            if model.landlockPolicyRun { meta.removeFirst() }  // no trigger: the kernel enforces from exec; the policy line follows
            if let e = h.denyErrno, h.mode == .enforce, !model.landlockPolicyRun { meta.append("deny \(e)") }
            if let u = h.unwinder { meta.append("unwinder \(u)") }
            meta.append("started \(h.started)")
            out.append("  " + meta.joined(separator: ", "))
            if h.backend == .notify, h.landlockABI != nil {
                out.append("  " + landlockNotifyNote)
            }
            if let p = h.policy {
                out.append("  policy \(p.kind) \(p.path) (sha256 \(p.sha256))"
                           + (p.capabilitySet.map { ", capabilities \($0)" } ?? ""))
            }
        }
        if !model.traces.isEmpty {
            out.append("  \(model.traces.count) traces read together (the run above is the first): "
                       + model.traces.joined(separator: ", "))
        }
        for w in model.warnings { out.append(sgr("35", "warning: ") + w) }
        out.append("")

        if !model.landlock.isEmpty {
            out.append(bold("LANDLOCK"))
            out += model.landlock.textLines { stackLines($0, indent: "    ") }
            out.append("")
        }

        let policy = model.header?.policy
        out.append(bold(policy == nil ? "CAPABILITY MODE" : "POLICY (\(policy!.kind))"))
        if model.landlockPolicyRun {
            out.append("  the kernel enforces the ruleset from exec: what it refused is under LANDLOCK above")
        } else if model.enters.isEmpty { out.append("  never entered: the trigger was not reached") }
        for e in model.enters {
            if let parent = e.inheritedFrom {
                out.append("  pid \(e.pid) entered by inheritance from pid \(parent) at \(model.relative(e.tNs))")
                continue
            }
            out.append("  pid \(e.pid) tid \(e.tid) entered at \(e.trigger), \(model.relative(e.tNs))")
            if !e.stack.isEmpty { out += stackLines(e.stack, indent: "    ") }
            if !e.fds.isEmpty {
                out.append("    descriptors held:")
                out += fdTable(e.fds).map { "      " + $0 }
            }
        }
        out.append("")

        let n = model.sites.count
        out.append(bold("VIOLATIONS") + " (" + plural(model.violations.count, "violation") + " at " + plural(n, "site") + ")")
        var explained: [String: Int] = [:]  // hint id -> the site where its explanation was printed
        for (i, s) in model.sites.enumerated() {
            out.append("")
            out += site(s, index: i + 1, of: n, explainedAt: s.hint.flatMap { explained[$0.id] })
            if let h = s.hint, explained[h.id] == nil { explained[h.id] = i + 1 }
        }
        if n > 0 { out.append("") }

        out += seccompSections()

        out.append(bold("TOTALS"))
        if model.landlockPolicyRun {
            out.append("  " + plural(model.landlock.refusals.count, "Landlock refusal"))
        } else if model.neverEntered {
            out.append("  nothing judged: " + neverEnteredNote(model.header?.trigger, policy: policy != nil))
        } else {
            out.append("  " + plural(model.violations.count, "violation") + " at " + plural(n, "site")
                       + (model.violations.isEmpty ? "" : " in " + plural(model.violatingPids.count, "process", "processes")))
        }
        for (ns, v, s) in model.namespaceTotals {
            out.append("  " + pad(ns.rawValue, 11) + " " + pad(plural(v, "violation"), 14) + " " + plural(s, "site"))
        }
        if !model.hintTotals.isEmpty, policy == nil {
            let text = "hints: " + model.hintTotals.map { "\($0.0 ?? "none") \($0.1)" }.joined(separator: ", ")
            out += wrap(text, width: 100).enumerated().map { ($0.offset == 0 ? "  " : "    ") + $0.element }
        }
        if let s = model.summary {
            out.append("  exit status \(s.exitStatus) after \(s.durationMs) ms" + (s.interrupted == true ? " (interrupted)" : ""))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The seccomp filters the program installed itself, disassembled, and the calls they refused; nothing when
    /// it installed none.
    func seccompSections() -> [String] {
        guard !model.seccompFilters.isEmpty || !model.refusals.isEmpty else { return [] }
        var out = model.sites.isEmpty ? [""] : []
        out += [bold("SECCOMP FILTERS THE PROGRAM INSTALLED") + " (" + plural(model.seccompFilters.count, "filter") + ")"]
        for f in model.seccompFilters {
            out.append("")
            out.append("  filter \(f.id): pid \(f.pid) tid \(f.tid), \(f.syscall)"
                       + (f.flags != 0 ? " flags 0x\(String(f.flags, radix: 16))" : "") + ", "
                       + plural(f.program.count, "instruction") + ", at \(model.relative(f.tNs))")
            if !f.stack.isEmpty {
                out.append("  installed at:")
                out += stackLines(f.stack, indent: "    ")
            }
            out += Disassembler.lines(f.program, errnoName: Errno.name).map { "    " + $0 }
        }
        out.append("")
        out.append(bold("REFUSED BY THOSE FILTERS") + " (" + plural(model.refusals.reduce(0) { $0 + $1.count }, "call")
                   + " at " + plural(model.refusals.count, "site") + ")")
        for g in model.refusals {
            let r = g.first
            out.append("")
            let installer = model.filter(r.filter).map { f in
                "the filter pid \(f.pid) installed at " + (installSite(f.stack).map { symbolWithOffset($0) ?? moduleOffset($0) } ?? "an unknown site")
            } ?? "filter \(r.filter)"
            out.append("  " + plural(g.count, "call") + "  pid " + g.pids.sorted().map(String.init).joined(separator: ",")
                       + "  " + r.syscall + (r.abi == .x86_64 ? "" : " [\(r.abi.rawValue)]"))
            out.append("  refused by \(installer): \(r.action)")
            if r.stack.isEmpty {
                out.append("  (no stack recorded)")
            } else {
                out.append("  stack:")
                out += stackLines(r.stack, indent: "    ")
            }
        }
        out.append("")
        return out
    }

    /// The frame that names where a filter was installed: the first outside the C library (whose `syscall` or
    /// `prctl` made the call), else the innermost.
    func installSite(_ stack: [Frame]) -> Frame? {
        stack.first { f in !(f.module.map { $0.split(separator: "/").last?.hasPrefix("libc.so") ?? false } ?? false) } ?? stack.first
    }

    /// One site; a hint already explained at an earlier site is named with a pointer back to it.
    func site(_ s: SiteGroup, index: Int, of total: Int, explainedAt: Int?) -> [String] {
        let v = s.first
        var out: [String] = []
        out.append(bold("site \(index)/\(total)") + "  " + plural(s.count, "violation") + "  pid "
                   + cappedList(s.pids.map(String.init), limit: ListLimit.pids, separator: ",") + "  \(v.namespace.rawValue)/\(v.rule.rawValue)  "
                   + s.actions.map(action).joined(separator: ",") + dim("  [\(s.id)]"))
        let abi = v.abi == .x86_64 ? "" : " [\(v.abi.rawValue)]"
        out.append("  " + renderCall(v) + " = " + outcome(v) + abi)
        for d in ReportModel.verdicts(s) { out.append("  refused by \(d.sourceText): \(d.actionText)") }
        let paths = capped(s.paths, limit: ListLimit.targets, unit: "paths")
        out += paths.shown.map { "  path " + $0 } + (paths.rest.map { ["  " + $0] } ?? [])
        let addresses = capped(s.addresses, limit: ListLimit.targets, unit: "addresses")
        out += addresses.shown.map { "  address " + $0 } + (addresses.rest.map { ["  " + $0] } ?? [])
        let outcomes = s.outcomes
        if outcomes.count > 1 { out.append("  results " + outcomes.map { "\($0.0) ×\($0.1)" }.joined(separator: ", ")) }
        if s.count > 1 { out.append("  seq " + compactSeqs(s.events.map(\.seq), maxRuns: ListLimit.seqRuns)) }
        if !s.traces.isEmpty { out.append("  traces " + s.traces.map { "\($0.trace) ×\($0.count)" }.joined(separator: ", ")) }
        if let c = s.culprit.line { out.append("  culprit: " + c) }
        if let h = s.hint {
            out.append("  " + sgr("36", "hint \(h.id)") + ": " + h.title + (s.hintInferred ? " (\(inferredNote))" : "") + (explainedAt.map { " (see site \($0))" } ?? ""))
            if explainedAt == nil {
                out += wrap(h.explanation, width: 100).map { "    " + $0 }
                out += wrap("fix: " + h.fix, width: 100).enumerated().map { ($0.offset == 0 ? "  " : "    ") + $0.element }
            }
        }
        if v.stack.isEmpty {
            out.append("  (no stack recorded)")
        } else {
            out.append("  stack:")
            out += stackLines(v.stack, indent: "    ", mark: s.culprit.programFrameIndex)
        }
        return out
    }

    /// `#0  libc.so.6+0x10f3a0  __open64+42  open64.c:41`, columns aligned; the program's frame marked `>`.
    func stackLines(_ stack: [Frame], indent: String, mark: Int? = nil) -> [String] {
        let locs = stack.map(moduleOffset)
        let syms = stack.map { symbolWithOffset($0) ?? "?" }
        let w1 = locs.map(\.count).max() ?? 0, w2 = syms.map(\.count).max() ?? 0
        let wn = String(stack.count - 1).count
        return stack.indices.map { i in
            let num = String(i)
            var line = indent + (i == mark ? ">" : " ") + pad("#" + num, wn + 1)
            line += "  " + pad(locs[i], w1) + "  "
            if let fl = fileLine(stack[i]) { line += pad(syms[i], w2) + "  " + fl } else { line += syms[i] }
            return trimRight(line)
        }
    }

    func fdTable(_ fds: [FDInfo]) -> [String] {
        let wk = max(4, fds.map(\.kind.rawValue.count).max() ?? 0), wf = max(5, fds.map(\.flags.count).max() ?? 0)
        var rows = ["  FD " + pad("KIND", wk) + " " + pad("FLAGS", wf) + " PATH"]
        for d in fds.prefix(ListLimit.fds) {
            let num = String(d.fd)
            rows.append(String(repeating: " ", count: max(0, 4 - num.count)) + num + " " + pad(d.kind.rawValue, wk) + " "
                        + pad(d.flags, wf) + " " + d.path)
        }
        if fds.count > ListLimit.fds { rows.append("  … and \(fds.count - ListLimit.fds) more descriptors") }
        return rows
    }
}

/// Sequence numbers with runs collapsed: "1-3, 7, 9-10"; after `maxRuns` runs, "… and N more" (N numbers).
func compactSeqs(_ seqs: [Int], maxRuns: Int = .max) -> String {
    var parts: [String] = []
    var i = 0
    while i < seqs.count {
        if parts.count == maxRuns { return parts.joined(separator: ", ") + " … and \(seqs.count - i) more" }
        var j = i
        while j + 1 < seqs.count, seqs[j + 1] == seqs[j] + 1 { j += 1 }
        parts.append(j > i ? "\(seqs[i])-\(seqs[j])" : "\(seqs[i])")
        i = j + 1
    }
    return parts.joined(separator: ", ")
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

func trimRight(_ s: String) -> String {
    var s = s
    while s.last == " " { s.removeLast() }
    return s
}

/// Greedy word wrap.
func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = [], cur = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        if !cur.isEmpty, cur.count + 1 + word.count > width { lines.append(cur); cur = "" }
        cur += (cur.isEmpty ? "" : " ") + word
    }
    if !cur.isEmpty { lines.append(cur) }
    return lines
}

/// An argv word as a shell would need it.
func shellWord(_ s: String) -> String {
    let safe = !s.isEmpty && s.unicodeScalars.allSatisfy { u in
        (u.value >= 0x30 && u.value <= 0x39) || (u.value >= 0x41 && u.value <= 0x5a) || (u.value >= 0x61 && u.value <= 0x7a)
            || "-_./:=@,+%".unicodeScalars.contains(u)
    }
    if safe { return s }
    return "'" + s.replacingAllOccurrences("'", "'\\''") + "'"
}

extension String {
    func replacingAllOccurrences(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}
