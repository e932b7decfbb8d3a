// The seccomp programs compiled ahead (Sources/CTraceShims/filters.generated.c) are exactly what libseccomp
// compiles now for the same rules, and FilterBuilder.build serves them only for those rules.
import CTraceShims
import Foundation
import Testing
@testable import Supervisor

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func bytes(_ bpf: ct_bpf) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: bpf.filter, count: Int(bpf.len) * 8))
}

@Suite struct PrebuiltFilters {
    @Test("filters.generated.c is what the generator writes now (CAPTRACE_UPDATE_GENERATED=1 rewrites it)")
    func committedFileEqualsGeneratorOutput() throws {
        let file = repoRoot.appendingPathComponent("Sources/CTraceShims/filters.generated.c")
        let generated = try FilterBuilder.prebuiltSource()
        if ProcessInfo.processInfo.environment["CAPTRACE_UPDATE_GENERATED"] != nil {
            try generated.write(to: file, atomically: true, encoding: .utf8)
        }
        let onDisk = try String(contentsOf: file, encoding: .utf8)
        #expect(generated == onDisk, "run `CAPTRACE_UPDATE_GENERATED=1 swift test --filter PrebuiltFilters` and commit the result")
    }

    @Test("every kept configuration is served ahead, byte for byte what libseccomp compiles now")
    func servedAheadEqualsCompiled() throws {
        for c in FilterBuilder.prebuiltConfigurations {
            let rules = c.rules
            var ahead = ct_bpf()
            #expect(ct_prebuilt_filter_copy(FilterBuilder.rulesHash(rules), &ahead) == 0, "\(c): not kept")
            defer { ct_bpf_free(&ahead) }
            var now = try FilterBuilder.compile(rules)
            defer { ct_bpf_free(&now) }
            #expect(ahead.len > 100 && bytes(ahead) == bytes(now), "\(c)")
        }
    }

    @Test("other rules are compiled at start-up, and a changed rule changes the hash")
    func otherRulesAreCompiled() throws {
        let rules = FilterBuilder.rules(trigger: .syscall("getpid"), enforce: false, action: .trace)
        var none = ct_bpf()
        #expect(ct_prebuilt_filter_copy(FilterBuilder.rulesHash(rules), &none) == -ENOENT)
        var built = try FilterBuilder.build(trigger: .syscall("getpid"), enforce: false, action: .trace)
        defer { ct_bpf_free(&built) }
        var compiled = try FilterBuilder.compile(rules)
        defer { ct_bpf_free(&compiled) }
        #expect(built.len > 100 && bytes(built) == bytes(compiled))

        var changed = FilterBuilder.rules(trigger: .exec, enforce: false, action: .trace)
        let h = FilterBuilder.rulesHash(changed)
        changed[changed.count / 2].action ^= 1
        #expect(FilterBuilder.rulesHash(changed) != h)
    }
}
