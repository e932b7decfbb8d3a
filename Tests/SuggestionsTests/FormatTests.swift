import Foundation
import Suggestions
import SyscallCatalog
import Testing
import TraceModel

@Suite struct OCITests {
    /// Field names of the OCI runtime spec's `linux.seccomp` (config-linux.md), plus `comment` (documented).
    static let topKeys: Set<String> = ["defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath",
                                       "listenerMetadata", "syscalls", "comment"]
    static let ruleKeys: Set<String> = ["names", "action", "errnoRet", "args", "comment"]
    static let argKeys: Set<String> = ["index", "value", "valueTwo", "op"]
    static let ops: Set<String> = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                                   "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]
    static let actions: Set<String> = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                       "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]

    static func profile(_ trace: String) throws -> JSONValue {
        try JSONValue.parse(renderSuggestion(try fixtureTrace(trace), format: .oci))
    }

    @Test(arguments: ["demo.jsonl", "tcpdump-like.jsonl", "resolver-demo-rights.jsonl"])
    func followsTheRuntimeSpec(trace: String) throws {
        let p = try Self.profile(trace)
        let top = try #require(p.objectValue)
        #expect(Set(top.map(\.0)).isSubset(of: Self.topKeys), "unknown top-level keys \(top.map(\.0))")
        #expect(p["defaultAction"]?.stringValue == "SCMP_ACT_ERRNO")
        #expect(p["defaultErrnoRet"]?.intValue == 1)  // EPERM
        let arches = (p["architectures"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(arches == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        #expect(p["comment"]?.stringValue != nil, "comments are strings, as Docker and containers-common type them")
        let rules = try #require(p["syscalls"]?.arrayValue)
        #expect(!rules.isEmpty)
        var seen = Set<String>()
        for r in rules {
            let o = try #require(r.objectValue)
            #expect(Set(o.map(\.0)).isSubset(of: Self.ruleKeys), "unknown rule keys \(o.map(\.0))")
            #expect(Self.actions.contains(r["action"]?.stringValue ?? ""))
            let names = (r["names"]?.arrayValue ?? []).compactMap(\.stringValue)
            #expect(!names.isEmpty)
            for n in names {
                #expect(Catalog.shared.syscall(named: n) != nil, "\(n) is not a syscall")
                if r["args"] == nil { #expect(seen.insert(n).inserted, "\(n) listed twice") }
            }
            for a in r["args"]?.arrayValue ?? [] {
                let ao = try #require(a.objectValue)
                #expect(Set(ao.map(\.0)).isSubset(of: Self.argKeys))
                #expect(Self.ops.contains(a["op"]?.stringValue ?? ""))
                #expect((0...5).contains(a["index"]?.intValue ?? -1))
                #expect(a["value"]?.intValue != nil)
            }
        }
        // Everything the trace shows is allowed somewhere, or said to be left out (calls never granted unscoped).
        let comment = p["comment"]?.stringValue ?? ""
        let leftOut = comment.components(separatedBy: "\n").first { $0.hasPrefix("Left out") } ?? ""
        for v in try fixtureTrace(trace).violations {
            let allowed = rules.contains { r in r["names"]?.arrayValue?.contains(.string(v.syscall)) ?? false }
            let named = leftOut.contains(" \(v.syscall) ") || leftOut.contains(" \(v.syscall),")
            #expect(allowed != named, "\(v.syscall): allowed \(allowed), named as left out \(named)")
        }
    }

    @Test func socketFamiliesFromTheTrace() throws {
        // demo connects to 127.0.0.1:9 only: socket is allowed for AF_INET (2) and nothing else.
        let rules = try #require(try Self.profile("demo.jsonl")["syscalls"]?.arrayValue)
        let socketRules = rules.filter { $0["names"]?.arrayValue?.contains("socket") ?? false }
        #expect(socketRules.count == 1)
        #expect(socketRules.first?["args"]?.arrayValue?.first?["value"]?.intValue == 2)
        // tcpdump-like names unix:/var/run/nscd/socket and 127.0.0.53:53: AF_UNIX (1) and AF_INET (2).
        let t = try #require(try Self.profile("tcpdump-like.jsonl")["syscalls"]?.arrayValue)
        let families = t.filter { $0["names"]?.arrayValue?.contains("socket") ?? false }
            .compactMap { $0["args"]?.arrayValue?.first?["value"]?.intValue }
        #expect(Set(families) == [1, 2])
    }

    @Test func aTraceWithoutAddressesSaysWhySocketIsOpen() throws {
        var t = try fixtureTrace("demo.jsonl")
        t.events.removeAll { if case .violation(let v) = $0 { v.namespace == .network } else { false } }
        let text = renderSuggestion(t, format: .oci)
        #expect(text.contains("cannot justify a narrower rule"))
        let p = try JSONValue.parse(text)
        let socketRules = p["syscalls"]?.arrayValue?.filter { $0["names"]?.arrayValue?.contains("socket") ?? false } ?? []
        #expect(socketRules.count == 1 && socketRules[0]["args"] == nil)
    }
}

@Suite struct LibseccompTests {
    /// Compiles the generated filter with the C fixture, runs it with and without the filter.
    @Test func compilesLinksAndFiltersAtEntry() throws {
        guard let gcc = which("gcc") else { Issue.record("gcc is not installed"); return }
        let dir = try temporaryDirectory("libseccomp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = renderSuggestion(try fixtureTrace("demo.jsonl"), format: .libseccomp)
        let filterC = dir.appendingPathComponent("captrace_filter.c")
        try source.write(to: filterC, atomically: true, encoding: .utf8)
        let exe = dir.appendingPathComponent("fixture").path
        let build = try run(gcc, ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", exe,
                                  Paths.cFixtures.appendingPathComponent("filter-fixture.c").path, filterC.path, "-lseccomp"])
        #expect(build.status == 0, "gcc failed: \(build.err)")
        guard build.status == 0 else { return }

        let scratch = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let filtered = try run(exe, ["--filter", scratch.path])
        #expect(filtered.status == 0, "fixture did not run to completion: \(filtered.out) \(filtered.err)")
        let lines = filtered.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "install: 0")
        #expect(lines.contains("socket-inet: ok"))
        #expect(lines.contains { $0.hasPrefix("connect: ") && $0 != "connect: EPERM" })
        #expect(lines.contains("socket-inet6: EPERM"))
        #expect(lines.contains("mkdir: EPERM"))
        #expect(lines.contains("openat-dirfd: ok"))
        #expect(lines.contains("mkdir-i386: EPERM"))
        #expect(lines.last == "done")
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("made-by-mkdir").path))

        // Control: without the filter the same calls succeed, so EPERM above came from the filter.
        let scratch2 = dir.appendingPathComponent("control")
        try FileManager.default.createDirectory(at: scratch2, withIntermediateDirectories: true)
        let control = try run(exe, ["--no-filter", scratch2.path])
        #expect(control.status == 0)
        #expect(control.out.contains("socket-inet6: ok"))
        #expect(control.out.contains("mkdir: ok"))
        // The i386 ABI exists on this kernel (else the filtered EPERM would prove nothing).
        #expect(control.out.contains("mkdir-i386: ok"))
    }
}

@Suite struct SystemdTests {
    static func directives(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { l in
            guard !l.hasPrefix("#"), !l.hasPrefix("["), let eq = l.firstIndex(of: "=") else { return nil }
            return (String(l[..<eq]), String(l[l.index(after: eq)...]))
        }
    }

    @Test func directivesAreTheDocumentedOnes() throws {
        let text = renderSuggestion(try fixtureTrace("demo.jsonl"), format: .systemd)
        let d = Self.directives(text)
        let known: Set<String> = ["NoNewPrivileges", "SystemCallArchitectures", "SystemCallErrorNumber", "SystemCallFilter",
                                  "RestrictAddressFamilies", "ReadOnlyPaths", "ReadWritePaths", "InaccessiblePaths",
                                  "TemporaryFileSystem", "ProtectSystem", "ExecPaths"]
        #expect(Set(d.map(\.0)).isSubset(of: known))
        #expect(d.contains { $0 == ("NoNewPrivileges", "yes") })
        #expect(d.contains { $0 == ("SystemCallArchitectures", "native") })
        #expect(d.contains { $0 == ("RestrictAddressFamilies", "AF_INET") })
        let filter = d.filter { $0.0 == "SystemCallFilter" }.flatMap { $0.1.split(separator: " ").map(String.init) }
        for name in ["connect", "execve", "read", "openat", "socket"] { #expect(filter.contains(name)) }
        for name in filter { #expect(Catalog.shared.number(of: name, abi: .x86_64) != nil, "\(name) is not an x86_64 syscall") }
        #expect(d.contains { $0 == ("ReadWritePaths", "-/tmp") })
        #expect(d.contains { $0.0 == "ReadOnlyPaths" && $0.1.contains("-/etc/demo.conf") })
    }

    /// systemd-analyze verify on a unit built from the output (Debian's systemd package provides it).
    @Test(arguments: ["demo.jsonl", "tcpdump-like.jsonl", "resolver-demo-rights.jsonl", "syscalls-sh.jsonl", "syscalls-getent.jsonl"])
    func systemdAnalyzeVerify(trace: String) throws {
        guard let analyze = which("systemd-analyze") else {
            Issue.record("systemd-analyze is not installed (apt-get install systemd)")
            return
        }
        let dir = try temporaryDirectory("systemd")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = renderSuggestion(try fixtureTrace(trace), format: .systemd)
        let unit = "[Unit]\nDescription=captrace suggestion check\n\n" + text + "ExecStart=/bin/true\n"
        let file = dir.appendingPathComponent("captrace-suggest-check.service")
        try unit.write(to: file, atomically: true, encoding: .utf8)
        let r = try run(analyze, ["verify", file.path])
        let complaints = (r.out + r.err).split(separator: "\n").filter { $0.contains("captrace-suggest-check.service") }
        #expect(r.status == 0, "systemd-analyze verify failed: \(r.out)\(r.err)")
        #expect(complaints.isEmpty, "systemd-analyze complained: \(complaints.joined(separator: "\n"))")
    }
}
