import Diagnosis
import SeccompBPF
import SyscallCatalog
import TraceModel

/// The sites as JSON for scripts: one object per site with its events (by seq), counts, hint and culprit.
/// Frames use the trace's frame objects. `report_version` changes only when a field changes meaning.
enum JSONReport {
    static func render(_ m: ReportModel) -> String {
        var o: [(String, JSONValue)] = [("format", "captrace-report"), ("report_version", .int(1))]
        if let h = m.header {
            o.append(("program", .object([
                ("argv", .array(h.argv.map { .string($0) })), ("trigger", .string(h.trigger)),
                ("mode", .string(h.mode.rawValue)), ("backend", .string(h.backend.rawValue)), ("arch", .string(h.arch)),
                ("started", .string(h.started)),
            ] + (h.policy.map { [("policy", $0.json)] } ?? []))))
        }
        if !m.traces.isEmpty { o.append(("traces", .array(m.traces.map { .string($0) }))) }
        o.append(("warnings", .array(m.warnings.map { .string($0) })))
        o.append(("enter", .array(m.enters.map(enter))))
        o.append(("sites", .array(m.sites.map(site))))
        // Only when the program installed seccomp filters of its own (key absent otherwise).
        if !m.seccompFilters.isEmpty || !m.refusals.isEmpty {
            o.append(("seccomp_filters", .array(m.seccompFilters.map { f in
                .object([("id", .int(Int64(f.id))), ("pid", .int(Int64(f.pid))), ("tid", .int(Int64(f.tid))),
                         ("syscall", .string(f.syscall)), ("flags", .int(Int64(bitPattern: f.flags))),
                         ("stack", .array(f.stack.map(TraceCodec.json))),
                         ("disassembly", .array(Disassembler.lines(f.program, errnoName: Errno.name).map { .string($0) }))])
            })))
            o.append(("refusals", .array(m.refusals.map { g in
                .object([("syscall", .string(g.first.syscall)), ("abi", .string(g.first.abi.rawValue)),
                         ("count", .int(Int64(g.count))), ("pids", .array(g.pids.sorted().map { .int(Int64($0)) })),
                         ("action", .string(g.first.action)), ("filter", .int(Int64(g.first.filter))),
                         ("stack", .array(g.first.stack.map(TraceCodec.json)))])
            })))
        }
        o.append(("totals", totals(m)))
        if !m.landlock.isEmpty { o.append(("landlock", m.landlock.json())) }
        if let s = m.summary {
            var so: [(String, JSONValue)] = [("exit_status", .int(Int64(s.exitStatus))), ("duration_ms", .int(Int64(s.durationMs)))]
            if let i = s.interrupted { so.append(("interrupted", .bool(i))) }
            o.append(("summary", .object(so)))
        } else {
            o.append(("summary", .null))
        }
        return JSONValue.object(o).pretty() + "\n"
    }

    static func enter(_ e: EnterEvent) -> JSONValue {
        var o: [(String, JSONValue)] = [("pid", .int(Int64(e.pid))), ("tid", .int(Int64(e.tid))),
                                        ("trigger", .string(e.trigger)), ("t_ns", .int(Int64(bitPattern: e.tNs)))]
        o.append(("inherited_from", e.inheritedFrom.map { .int(Int64($0)) } ?? .null))
        o.append(("stack", .array(e.stack.map(TraceCodec.json))))
        o.append(("fds", .array(e.fds.map(TraceCodec.json))))
        return .object(o)
    }

    static func hint(_ h: Hint?, inferred: Bool) -> JSONValue {
        guard let h else { return .null }
        var o: [(String, JSONValue)] = [("id", .string(h.id)), ("title", .string(h.title)),
                                        ("explanation", .string(h.explanation)), ("fix", .string(h.fix)),
                                        ("references", .array(h.references.map { .string($0) }))]
        if inferred { o.append(("inferred_from_path", .bool(true))) }
        return .object(o)
    }

    static func site(_ s: SiteGroup) -> JSONValue {
        let v = s.first
        let c = s.culprit
        var culprit: [(String, JSONValue)] = [("library", c.library.map { .string($0) } ?? .null),
                                              ("program", c.program.map { .string($0) } ?? .null)]
        culprit.append(("program_frame_index", c.programFrameIndex.map { .int(Int64($0)) } ?? .null))
        culprit.append(("text", c.line.map { .string($0) } ?? .null))
        if let x = c.exec {  // loader work after an exec in capability mode: that exec
            culprit.append(("exec", .object([("pid", .int(Int64(x.pid))), ("path", .string(x.path))])))
        }
        var traces: [(String, JSONValue)] = []
        if !s.traces.isEmpty {
            traces = [("traces", .array(s.traces.map { .object([("trace", .string($0.trace)), ("count", .int(Int64($0.count)))]) }))]
        }
        return .object([
            ("site", .string(s.id)),
            ("count", .int(Int64(s.count))),
        ] + traces + [
            ("pids", .array(s.pids.map { .int(Int64($0)) })),
            ("syscall", .string(v.syscall)),
            ("abi", .string(v.abi.rawValue)),
            ("namespace", .string(v.namespace.rawValue)),
            ("rule", .string(v.rule.rawValue)),
            ("paths", .array(s.paths.map { .string($0) })),
            ("addresses", .array(s.addresses.map { .string($0) })),
            ("actions", .array(s.actions.map { .string($0.rawValue) })),
            ("hint", hint(s.hint, inferred: s.hintInferred)),
        ] + (v.verdict == nil ? [] : [("decided_by", .array(ReportModel.verdicts(s).map(\.json)))]) + [
            ("culprit", .object(culprit)),
            ("seqs", .array(s.events.map { .int(Int64($0.seq)) })),
            ("events", .array(s.events.map(event))),
            ("stack", .array(v.stack.map(TraceCodec.json))),
        ])
    }

    static func event(_ v: ViolationEvent) -> JSONValue {
        var o: [(String, JSONValue)] = [("seq", .int(Int64(v.seq))), ("t_ns", .int(Int64(bitPattern: v.tNs))),
                                        ("pid", .int(Int64(v.pid))), ("tid", .int(Int64(v.tid))),
                                        ("args", .object(v.args.map { ($0.0, TraceCodec.json($0.1)) }))]
        o.append(("path", v.path.map { .string($0) } ?? .null))
        o.append(("address", v.address.map { .string($0) } ?? .null))
        o.append(("action", .string(v.action.rawValue)))
        o.append(("result", v.result.map { .int($0) } ?? .null))
        o.append(("errno", v.errno.map { .string($0) } ?? .null))
        return .object(o)
    }

    static func totals(_ m: ReportModel) -> JSONValue {
        .object([
            ("violations", .int(Int64(m.violations.count))),
            ("sites", .int(Int64(m.sites.count))),
            ("processes", .int(Int64(m.violatingPids.count))),
            ("by_namespace", .object(m.namespaceTotals.map {
                ($0.0.rawValue, .object([("violations", .int(Int64($0.1))), ("sites", .int(Int64($0.2)))]))
            })),
            ("by_hint", .object(m.hintTotals.map { ($0.0 ?? "none", .int(Int64($0.1))) })),
        ])
    }
}
