import Diagnosis
import Landlock
import TraceModel

/// SARIF 2.1.0: one result per site, `ruleId` = namespace/rule, the location at the program's own frame, and
/// the whole stack in `result.stacks[0]`; one per Landlock refusal (`landlock/refused`) and per site a seccomp
/// filter the program installed refused (`seccomp/program-filter`), located at their stack's first frame. Shaped
/// for GitHub code scanning (stable `partialFingerprints` from the site hash, `region.startLine` where the
/// program's frame has a source line).
enum SARIFReport {
    static let schema = "https://json.schemastore.org/sarif-2.1.0.json"
    static let informationUri = "https://github.com/captrace/captrace"

    /// What each rule means, for the SARIF rule descriptors.
    static func describe(_ r: Rule) -> (short: String, help: String) {
        switch r {
        case .absolutePath: ("Path lookup by absolute path in capability mode",
                             "A process in capability mode looked up an absolute path. Only descriptors held at entry may be used: open what is needed before entry and use openat() relative to a held directory descriptor.")
        case .cwdRelative: ("Path lookup relative to the current directory in capability mode",
                            "A relative path was resolved against the current directory (AT_FDCWD), a global name. Open the directory before entry and use *at() calls relative to its descriptor.")
        case .dotdotEscape: ("Path escapes its directory descriptor with '..'",
                             "A path relative to a held directory descriptor climbed out of it with '..'. Capability mode confines lookups below the descriptor.")
        case .symlinkEscape: ("Path leaves its directory descriptor through a symlink or magic link",
                              "A path relative to a held directory descriptor, resolved as the kernel does, left it: a symlink to an absolute path or climbing out with '..', or a magic link such as /proc/self/fd/N. Capability mode confines lookups below the descriptor.")
        case .rawSocket: ("Raw IP or packet socket created in capability mode",
                          "socket() with SOCK_RAW on AF_INET/AF_INET6, or an AF_PACKET socket, sees and forges any host's traffic; capability mode refuses it (FreeBSD: CAPFAIL_PROTO). Create it before entry and keep the descriptor.")
        case .unreadablePath: ("Path lookup whose path could not be read",
                               "A path-taking call was made in capability mode but its path could not be read from the program's memory.")
        case .exec: ("Program executed by path in capability mode",
                     "execve() names a program in the global filesystem. Open the executable before entry and use fexecve()/execveat(AT_EMPTY_PATH).")
        case .socketAddress: ("Socket call naming a global address in capability mode",
                              "bind(), connect() or a send with a destination names an address in a global namespace. Create and connect sockets before entry, or receive them from a helper.")
        case .otherProcess: ("Operation on another process by pid in capability mode",
                             "A signal, ptrace or scheduling call named another process by pid. Use process descriptors (pidfd) held before entry.")
        case .processGroup: ("Operation on a process group or on all processes in capability mode",
                             "A call named a process group or all processes (pid 0, -1 or negative).")
        case .sysvIPC: ("System V IPC object named by key in capability mode",
                        "shmget/semget/msgget name objects in a global IPC namespace. Use anonymous shared memory (memfd_create) created before entry.")
        case .posixMQ: ("POSIX message queue named in capability mode",
                        "mq_open/mq_unlink name queues in a global namespace. Open the queue before entry.")
        case .systemState: ("Global system state changed or queried in capability mode",
                            "Mounts, modules, clocks, host names, namespaces, bpf, keyrings and the kernel log are global system state, outside any descriptor.")
        case .ioUring: ("io_uring set up in capability mode",
                        "io_uring operations escape syscall filtering; capability mode cannot confine them.")
        case .seccompProfile: ("Call refused by the seccomp profile",
                               "The seccomp profile given with --policy refuses this call (the result says which entry or default action decides it).")
        }
    }

    static func render(_ m: ReportModel) -> String {
        var ruleKeys: [String] = []
        var rules: [JSONValue] = []
        for s in m.sites {
            let key = "\(s.first.namespace.rawValue)/\(s.first.rule.rawValue)"
            if ruleKeys.contains(key) { continue }
            ruleKeys.append(key)
            let d = describe(s.first.rule)
            rules.append(.object([
                ("id", .string(key)),
                ("name", .string(camel(s.first.rule.rawValue))),
                ("shortDescription", .object([("text", .string(d.short))])),
                ("fullDescription", .object([("text", .string(d.help))])),
                ("help", .object([("text", .string(d.help))])),
                ("defaultConfiguration", .object([("level", "warning")])),
                ("properties", .object([("tags", .array(["security", "sandbox", .string(s.first.namespace.rawValue)]))])),
            ]))
        }
        var results: [JSONValue] = m.sites.map { s in
            let key = "\(s.first.namespace.rawValue)/\(s.first.rule.rawValue)"
            return result(s, ruleIndex: ruleKeys.firstIndex(of: key)!, ruleId: key)
        }
        // What else refused calls: each needs its rule described once.
        for (id, name, short, help, any) in [
            ("landlock/refused", "LandlockRefused", "Access refused by a Landlock domain",
             "A Landlock domain in effect (the ruleset given with --policy, or one the program restricted itself with) refused this access; the message names the missing right and the rule that would grant it.",
             !m.landlock.refusals.isEmpty),
            ("seccomp/program-filter", "ProgramFilterRefused", "Call refused by a seccomp filter the program installed",
             "A seccomp filter the program installed itself decided this call (the text and HTML reports disassemble the filter).",
             !m.refusals.isEmpty),
        ] where any {
            ruleKeys.append(id)
            rules.append(.object([
                ("id", .string(id)), ("name", .string(name)),
                ("shortDescription", .object([("text", .string(short))])),
                ("fullDescription", .object([("text", .string(help))])),
                ("help", .object([("text", .string(help))])),
                ("defaultConfiguration", .object([("level", "error")])),
                ("properties", .object([("tags", .array(["security", "sandbox"]))])),
            ]))
        }
        for r in m.landlock.refusals {
            let c = r.event.call
            let text = m.landlock.describe(c) + ". " + LandlockExplain.lines(r.explanation).joined(separator: " ")
            results.append(refusal(text: text, ruleId: "landlock/refused", ruleIndex: ruleKeys.firstIndex(of: "landlock/refused")!,
                                   fingerprint: [c.syscall, c.path ?? "", c.path2 ?? "", c.port.map(String.init) ?? ""]
                                       + r.event.stack.map(moduleOffset),
                                   stack: r.event.stack, tid: r.event.tid, pids: [r.event.pid], count: 1, syscall: c.syscall))
        }
        let text = TextReport(model: m, color: false)
        for g in m.refusals {
            let r = g.first
            let installer = m.filter(r.filter).map { f in
                "the filter pid \(f.pid) installed at "
                    + (text.installSite(f.stack).map { symbolWithOffset($0) ?? moduleOffset($0) } ?? "an unknown site")
            } ?? "filter \(r.filter)"
            let message = "\(r.syscall) refused by \(installer): \(r.action) (\(plural(g.count, "time")), pid "
                + g.pids.sorted().map(String.init).joined(separator: ",") + ")."
            results.append(refusal(text: message, ruleId: "seccomp/program-filter",
                                   ruleIndex: ruleKeys.firstIndex(of: "seccomp/program-filter")!,
                                   fingerprint: [String(r.filter), r.syscall, String(r.value)] + r.stack.map(moduleOffset),
                                   stack: r.stack, tid: r.tid, pids: g.pids.sorted(), count: g.count, syscall: r.syscall))
        }
        var runProps: [(String, JSONValue)] = []
        if let h = m.header {
            runProps.append(("argv", .array(h.argv.map { .string($0) })))
            runProps.append(("trigger", .string(h.trigger)))
            runProps.append(("mode", .string(h.mode.rawValue)))
        }
        runProps.append(("warnings", .array(m.warnings.map { .string($0) })))
        var invocation: [(String, JSONValue)] = [("executionSuccessful", .bool(m.warnings.isEmpty))]
        if !m.warnings.isEmpty {
            invocation.append(("toolExecutionNotifications", .array(m.warnings.map {
                .object([("level", "warning"), ("message", .object([("text", .string($0))]))])
            })))
        }
        let run: JSONValue = .object([
            ("tool", .object([("driver", .object([
                ("name", "captrace"),
                ("informationUri", .string(informationUri)),
                ("semanticVersion", "1.0.0"),
                ("rules", .array(rules)),
            ]))])),
            ("invocations", .array([.object(invocation)])),
            ("columnKind", "unicodeCodePoints"),
            ("results", .array(results)),
            ("properties", .object(runProps)),
        ])
        let log: JSONValue = .object([("$schema", .string(schema)), ("version", "2.1.0"), ("runs", .array([run]))])
        return log.pretty() + "\n"
    }

    static func result(_ s: SiteGroup, ruleIndex: Int, ruleId: String) -> JSONValue {
        let v = s.first
        var text = "\(v.syscall)"
        if let p = v.path { text += " \(p)" } else if let a = v.address { text += " \(a)" }
        let verdicts = ReportModel.verdicts(s)
        text += (verdicts.isEmpty ? " in capability mode" : " refused by the seccomp profile")
            + " (\(plural(s.count, "time")), pid \(s.pids.map(String.init).joined(separator: ",")), \(s.worstAction.rawValue))."
        for d in verdicts { text += " Refused by \(d.sourceText): \(d.actionText)." }
        if let c = s.culprit.line { text += " Culprit: \(c)." }
        if let h = s.hint {
            text += " \(h.title) [\(h.id)]" + (s.hintInferred ? " (\(inferredNote))" : "") + ": \(h.explanation) Fix: \(h.fix)"
        }

        var locations: [JSONValue] = []
        if let f = s.culprit.programFrame ?? v.stack.first { locations.append(location(f)) }
        var props: [(String, JSONValue)] = [
            ("count", .int(Int64(s.count))), ("syscall", .string(v.syscall)),
            ("seqs", .array(s.events.map { .int(Int64($0.seq)) })),
            ("pids", .array(s.pids.map { .int(Int64($0)) })),
        ]
        if !s.paths.isEmpty { props.append(("paths", .array(s.paths.map { .string($0) }))) }
        if !s.addresses.isEmpty { props.append(("addresses", .array(s.addresses.map { .string($0) }))) }
        props.append(("hint", s.hint.map { .string($0.id) } ?? .null))
        var o: [(String, JSONValue)] = [
            ("ruleId", .string(ruleId)),
            ("ruleIndex", .int(Int64(ruleIndex))),
            ("level", s.worstAction == .denied ? "error" : "warning"),
            ("message", .object([("text", .string(text))])),
            ("locations", .array(locations)),
            ("partialFingerprints", .object([("captraceSite/v1", .string(s.id))])),
        ]
        if !v.stack.isEmpty { o.append(("stacks", stacks(v.stack, syscall: v.syscall, tid: v.tid))) }
        o.append(("properties", .object(props)))
        return .object(o)
    }

    /// A result for a call something else refused (a Landlock domain, the program's own seccomp filter).
    static func refusal(text: String, ruleId: String, ruleIndex: Int, fingerprint: [String], stack: [Frame], tid: Int32,
                        pids: [Int32], count: Int, syscall: String) -> JSONValue {
        let id = Site.id(stack: [], syscall: ruleId, detail: fingerprint.joined(separator: "\u{1f}"))
        var o: [(String, JSONValue)] = [
            ("ruleId", .string(ruleId)),
            ("ruleIndex", .int(Int64(ruleIndex))),
            ("level", "error"),
            ("message", .object([("text", .string(text))])),
            ("locations", .array(stack.first.map { [location($0)] } ?? [])),
            ("partialFingerprints", .object([("captraceRefusal/v1", .string(id))])),
        ]
        if !stack.isEmpty { o.append(("stacks", stacks(stack, syscall: syscall, tid: tid))) }
        o.append(("properties", .object([("count", .int(Int64(count))), ("syscall", .string(syscall)),
                                         ("pids", .array(pids.map { .int(Int64($0)) }))])))
        return .object(o)
    }

    /// `result.stacks`: the call's stack, innermost frame first.
    static func stacks(_ stack: [Frame], syscall: String, tid: Int32) -> JSONValue {
        .array([.object([
            ("message", .object([("text", .string("call stack of \(syscall), innermost frame first"))])),
            ("frames", .array(stack.map { f in
                var fo: [(String, JSONValue)] = [("location", location(f))]
                if let mod = f.module { fo.append(("module", .string(mod))) }
                fo.append(("threadId", .int(Int64(tid))))
                return .object(fo)
            })),
        ])])
    }

    /// A frame's location: its source line when known, else the module file and the offset in it.
    static func location(_ f: Frame) -> JSONValue {
        var o: [(String, JSONValue)] = []
        let mo = moduleOffset(f)
        o.append(("message", .object([("text", .string(mo + (symbolWithOffset(f).map { " " + $0 } ?? "")))])))
        if let file = f.file, let line = f.line, line >= 1 {
            o.append(("physicalLocation", .object([
                ("artifactLocation", .object([("uri", .string(uri(file)))])),
                ("region", .object([("startLine", .int(Int64(line)))])),
            ])))
        } else if let mod = f.module, let off = f.offset {
            o.append(("physicalLocation", .object([
                ("artifactLocation", .object([("uri", .string(uri(mod)))])),
                ("region", .object([("byteOffset", .int(Int64(bitPattern: off))), ("byteLength", .int(1))])),
            ])))
        }
        if let sym = f.symbol {
            var l: [(String, JSONValue)] = [("name", .string(sym)), ("kind", "function")]
            if let mod = f.module { l.append(("fullyQualifiedName", .string(PathText.basename(mod) + "!" + sym))) }
            o.append(("logicalLocations", .array([.object(l)])))
        }
        return .object(o)
    }

    /// A URI reference for a path: absolute paths as file:// URIs, relative ones as relative references;
    /// characters outside RFC 3986's unreserved set and "/" are percent-encoded.
    static func uri(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
                || b == UInt8(ascii: "/")
            if ok {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count < 2 ? "0" + h : h)
            }
        }
        if out.hasPrefix("./") { out.removeFirst(2) }
        return path.hasPrefix("/") ? "file://" + out : out
    }

    static func camel(_ s: String) -> String {
        var out = "", up = true
        for c in s {
            if c == "-" { up = true; continue }
            out += up ? c.uppercased() : String(c)
            up = false
        }
        return out
    }
}
