// Profiles from `run --syscalls` traces (issue 16 items 3 and 6): the spo resource parsed back with Yams, the
// systemd set, the libseccomp list and the calls left out. Fixtures/syscalls-sh.jsonl and syscalls-getent.jsonl
// were recorded on this machine with `captrace run --syscalls --enter-at exec --stack-depth 0` (see each header).
import Foundation
import SeccompProfiles
import Suggestions
import SyscallCatalog
import Testing
import TraceModel
import Yams

@Suite("Suggestions from syscall sets")
struct UsedSetTests {
    static let traces = ["syscalls-sh.jsonl", "syscalls-getent.jsonl"]

    func oci(_ t: Trace) throws -> Profile {
        let loaded = try Profile.load(json: renderSuggestion(t, format: .oci))
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        return loaded.profile
    }

    /// Traces merged as `suggest A B` reads them: the events of both, in order.
    func merged(_ names: [String]) throws -> Trace {
        var events: [TraceEvent] = []
        for n in names { events += try fixtureTrace(n).events }
        return Trace(events: events)
    }

    @Test("oci: exactly the names the trace's syscalls records hold, minus the argument-ruled and the refused")
    func ociIsTheUsedSet() throws {
        let t = try fixtureTrace("syscalls-sh.jsonl")
        let p = try oci(t)
        var used = Set<String>()
        for s in t.syscallSets { for c in s.counts { used.insert(c.name) } }
        let allowed = Set(p.syscalls.filter { $0.action == .allow }.flatMap(\.names))
        #expect(allowed == used.subtracting(["clone3"]), "extra: \(allowed.subtracting(used).sorted()), missing: \(used.subtracting(allowed).sorted())")
        #expect(allowed.contains("execve"))
        #expect(p.defaultAction == .errno && p.defaultErrnoRet == 1 && p.architectures == ["SCMP_ARCH_X86_64"])
        #expect(!allowed.contains("clone"), "dash forks with vfork: no clone")
        #expect(allowed.contains("vfork"))
    }

    @Test("clone: allowed without the CLONE_NEW* flags the program did not use; clone3 fails with ENOSYS")
    func cloneRule() throws {
        var t = try fixtureTrace("syscalls-sh.jsonl")
        // The same trace with one process making fork's clone (CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD).
        var found = false
        t.events = t.events.map { e in
            guard case .syscalls(var s) = e, !found else { return e }
            found = true
            s.counts.append(.init(abi: .x86_64, nr: 56, before: 0, after: 1))
            s.cloneFlags = 0x1200011
            return .syscalls(s)
        }
        let p = try oci(t)
        let clone = try #require(p.syscalls.first { $0.names == ["clone"] })
        #expect(clone.args.count == 1 && clone.args[0].op == .maskedEqual && clone.args[0].valueTwo == 0)
        #expect(clone.args[0].value & 0x4000_0000 != 0, "CLONE_NEWNET refused: sh never used it")
        // The profile decides as written: clone for fork passes, clone with CLONE_NEWNET does not.
        let r = p.resolved(for: ProfileContext())
        #expect(r.decide(abi: .x86_64, nr: 56, args: [0x1200011, 0, 0, 0, 0, 0]).letsCallRun)
        #expect(!r.decide(abi: .x86_64, nr: 56, args: [0x4000_0011, 0, 0, 0, 0, 0]).letsCallRun)
        #expect(!r.decide(abi: .x86_64, nr: 101, args: [16, 1, 0, 0, 0, 0]).letsCallRun, "ptrace refused")
    }

    @Test("spo: the YAML parses back (Yams) to the OCI profile's default action, architectures and syscalls",
          arguments: [[traces[0]], [traces[1]], traces])
    func spoParsesBack(names: [String]) throws {
        let t = try merged(names)
        let p = try oci(t)
        let yaml = renderSuggestion(t, format: .spo)
        let doc = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        #expect(doc["apiVersion"] as? String == "security-profiles-operator.x-k8s.io/v1beta1")
        #expect(doc["kind"] as? String == "SeccompProfile")
        let name = try #require((doc["metadata"] as? [String: Any])?["name"] as? String)
        #expect(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } && !name.isEmpty)
        let spec = try #require(doc["spec"] as? [String: Any])
        #expect(spec["defaultAction"] as? String == p.defaultAction.rawValue)
        #expect(spec["architectures"] as? [String] == p.architectures)
        let rules = try #require(spec["syscalls"] as? [[String: Any]])
        #expect(rules.count == p.syscalls.count)
        for (y, e) in zip(rules, p.syscalls) {
            #expect(y["action"] as? String == e.action.rawValue)
            #expect(Set(y["names"] as? [String] ?? []) == Set(e.names))
            #expect((y["errnoRet"] as? Int).map(UInt32.init) == e.errnoRet)
            let args = (y["args"] as? [[String: Any]]) ?? []
            #expect(args.count == e.args.count)
            for (ya, a) in zip(args, e.args) {
                #expect(ya["index"] as? Int == a.index)
                #expect((ya["value"] as? Int).map { UInt64($0) } == a.value)
                #expect((ya["valueTwo"] as? Int).map { UInt64($0) } ?? 0 == a.valueTwo)
                #expect(ya["op"] as? String == a.op.rawValue)
            }
        }
        if names.count == 2 {
            // Merged: the union of both programs' sets.
            let a = Set(try oci(try fixtureTrace(names[0])).syscalls.flatMap(\.names))
            let b = Set(try oci(try fixtureTrace(names[1])).syscalls.flatMap(\.names))
            #expect(Set(p.syscalls.flatMap(\.names)) == a.union(b))
        }
    }

    @Test("systemd: SystemCallFilter= is the OCI profile's allowed names; architectures and families follow",
          arguments: traces)
    func systemdSet(name: String) throws {
        let t = try fixtureTrace(name)
        let p = try oci(t)
        let text = renderSuggestion(t, format: .systemd)
        var filter = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("SystemCallFilter=") {
            for w in line.dropFirst("SystemCallFilter=".count).split(separator: " ") { filter.insert(String(w)) }
        }
        #expect(filter == Set(p.syscalls.filter { $0.action == .allow }.flatMap(\.names)))
        #expect(text.contains("SystemCallArchitectures=native\n"))
        #expect(text.contains("SystemCallErrorNumber=EPERM\n"))
        let sockets = p.syscalls.filter { $0.names == ["socket"] }.compactMap { $0.args.first?.value }
        if sockets.isEmpty { #expect(text.contains("RestrictAddressFamilies=none\n")) }
        else { #expect(!text.contains("RestrictAddressFamilies=none")) }
    }

    @Test("libseccomp: the allowed list is the OCI profile's unconditional names")
    func libseccompList() throws {
        let t = try fixtureTrace("syscalls-getent.jsonl")
        let p = try oci(t)
        let c = renderSuggestion(t, format: .libseccomp)
        let body = try #require(c.range(of: "captrace_allowed[] = {")).upperBound
        let end = try #require(c.range(of: "NULL,", range: body..<c.endIndex)).lowerBound
        let names = c[body..<end].split(whereSeparator: { " \n,\"".contains($0) }).map(String.init)
        let unconditional = p.syscalls.first { $0.action == .allow && $0.args.isEmpty }?.names ?? []
        #expect(Set(names) == Set(unconditional))
        #expect(c.contains("SCMP_ACT_ERRNO(ENOSYS), seccomp_syscall_resolve_name(\"clone3\")"))
    }

    @Test("a process-targeting call the program used is left out, said in the profile and in the warnings")
    func leftOutLoudly() throws {
        var t = try fixtureTrace("syscalls-sh.jsonl")
        // The same trace with kill, ptrace and bpf added to one process's set.
        var found = false
        t.events = t.events.map { e in
            guard case .syscalls(var s) = e, !found else { return e }
            found = true
            for n in ["kill", "ptrace", "bpf"] {
                s.counts.append(.init(abi: .x86_64, nr: Catalog.shared.number(of: n, abi: .x86_64)!, before: 0, after: 1))
            }
            return .syscalls(s)
        }
        let p = try oci(t)
        let allowed = Set(p.syscalls.filter { $0.action == .allow }.flatMap(\.names))
        #expect(allowed.isDisjoint(with: ["kill", "ptrace", "bpf"]))
        let comment = try #require(p.comment)
        for n in ["kill", "ptrace", "bpf"] { #expect(comment.contains("LEFT OUT \(n):"), "\(comment)") }
        #expect(comment.contains("aimed only at the program itself"), "no violation: kill aimed at the program itself")
        #expect(comment.contains("suggest --format landlock"))
        let warnings = suggestionWarnings(t, format: .oci)
        #expect(warnings.count == 3 && warnings.allSatisfy { $0.contains("left out") })
        #expect(renderSuggestion(t, format: .spo).contains("# LEFT OUT kill:"))
    }

    @Test("traces without a syscalls record: spo refused with a reason, oci keeps the capability-mode profile")
    func withoutRecord() throws {
        let t = try fixtureTrace("demo.jsonl")
        #expect(suggestionProblem(t, format: .spo)?.contains("run --syscalls") == true)
        #expect(suggestionProblem(t, format: .oci) == nil)
        #expect(legacyWarning(t, format: .oci)?.contains("no syscalls record") == true)
        #expect(legacyWarning(try fixtureTrace("syscalls-sh.jsonl"), format: .oci) == nil)
    }
}
