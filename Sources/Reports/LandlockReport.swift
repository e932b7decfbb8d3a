import Landlock
import SyscallCatalog
import TraceModel

/// The Landlock part of a trace, for the reports: the domains put in effect, and each refusal with the domain
/// its process had then (inherited by forks, kept across exec) and its explanation.
struct LandlockSection {
    struct Refusal {
        let event: LandlockDenialEvent
        /// The domain's rulesets, first to last; nil for one captrace did not see built.
        let domain: [Ruleset?]
        let explanation: Explanation
    }
    var domains: [LandlockEvent] = []
    var refusals: [Refusal] = []
    /// The ruleset given with `run --policy` (it replaces capability mode as the run's policy).
    var policy: LandlockEvent? { domains.first { $0.source == .policy } }
    var isEmpty: Bool { domains.isEmpty && refusals.isEmpty }

    init(_ trace: Trace) {
        var domain: [Int32: [Ruleset?]] = [:]
        for e in trace.events {
            switch e {
            case .process(let p) where p.event == .fork:
                if let d = domain[p.ppid] { domain[p.pid] = d }
            case .landlock(let l):
                domains.append(l)
                domain[l.pid, default: []].append(l.ruleset)
            case .landlockDenial(let d):
                let layers = domain[d.pid] ?? []
                refusals.append(Refusal(event: d, domain: layers,
                                        explanation: LandlockExplain.explain(d.call, domain: layers.compactMap { $0 })))
            default: break
            }
        }
    }

    func describe(_ c: RefusedCall) -> String {
        var s = c.syscall
        var parts: [String] = []
        if let p = c.path { parts.append(p) }
        if let p = c.resolved { parts.append("(resolves to \(p))") }
        if let p = c.path2 { parts.append("-> " + p) }
        if let p = c.port { parts.append("port \(p)") }
        if c.abstractUnix { parts.append("abstract unix socket") }
        if !parts.isEmpty { s += " " + parts.joined(separator: " ") }
        if let f = c.flags, ["open", "openat", "openat2"].contains(c.syscall) { s += " (\(OpenFlags.describe(f)))" }
        s += " = -1 \(c.errno)"
        if let t = c.fileType { s += "  [\(t == .missing ? "did not exist" : t.rawValue == "other" ? "not a regular file or directory" : "a " + (t == .regular ? "regular file" : "directory"))]" }
        return s
    }

    /// The JSON report's `landlock` member: the domains as the trace records them, each refusal with its
    /// explanation (`needs`, and `missing` with the layer, the fix and a TOML rule that grants it).
    func json() -> JSONValue {
        func need(_ n: Need) -> JSONValue {
            .object([("right", .string(n.name)), ("beneath", n.beneath.map { .string($0) } ?? .null),
                     ("port", n.port.map { .int(Int64(bitPattern: $0)) } ?? .null), ("why", .string(n.why))])
        }
        return .object([
            ("domains", .array(domains.map { TraceCodec.json(.landlock($0)) })),
            ("refusals", .array(refusals.map { r in
                .object([
                    ("event", TraceCodec.json(.landlockDenial(r.event))),
                    ("needs", .array(r.explanation.needs.map(need))),
                    ("missing", .array(r.explanation.missing.map { m in
                        .object([("need", need(m.need)), ("layer", .int(Int64(m.layer))), ("fix", .string(m.fix)),
                                 ("toml", m.toml.map { .string($0) } ?? .null)])
                    })),
                    ("unexplained", .bool(r.explanation.unexplained)),
                ])
            })),
        ])
    }

    /// The section's text lines (without the title).
    func textLines(frames: ([Frame]) -> [String]) -> [String] {
        var out: [String] = []
        for d in domains {
            let who = d.source == .policy ? "run --policy, applied at exec" : "landlock_restrict_self(\(d.rulesetFd.map(String.init) ?? "?"), \(d.flags))"
            out.append("  pid \(d.pid): domain layer from \(who)")
            guard let r = d.ruleset else {
                out.append("    ruleset not seen built (its descriptor predates the trace): refusals under it are recorded, not explained")
                continue
            }
            out.append("    handled fs:  " + (r.handledFS.isEmpty ? "-" : r.handledFS.names.joined(separator: ", ")))
            if !r.handledNet.isEmpty { out.append("    handled net: " + r.handledNet.names.joined(separator: ", ")) }
            if !r.scoped.isEmpty { out.append("    scoped:      " + r.scoped.names.joined(separator: ", ")) }
            for p in r.paths.prefix(40) { out.append("    path_beneath \(p.path): \(p.access.names.joined(separator: ", "))") }
            if r.paths.count > 40 { out.append("    ... and \(r.paths.count - 40) more path rules") }
            for p in r.ports { out.append("    net_port \(p.port): \(p.access.names.joined(separator: ", "))") }
            if d.source == .program, !d.stack.isEmpty { out.append("    restricted at:"); out += frames(d.stack).map { "  " + $0 } }
        }
        out.append("  " + plural(refusals.count, "refusal") + " by Landlock")
        for (i, r) in refusals.enumerated() {
            out.append("")
            out.append("  refusal \(i + 1)/\(refusals.count)  pid \(r.event.pid) tid \(r.event.tid)")
            out.append("    " + describe(r.event.call))
            if r.domain.contains(where: { $0 == nil }) {
                out.append("    (a layer of this process's domain was not seen built: it may be the one that refused)")
            }
            out += LandlockExplain.lines(r.explanation).map { "    " + $0 }
            if !r.event.stack.isEmpty {
                out.append("    stack:")
                out += frames(r.event.stack).map { "  " + $0 }
            }
        }
        return out
    }
}
