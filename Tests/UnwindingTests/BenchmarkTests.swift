import Foundation
import Testing
import TraceModel
import Unwinding

/// Prints the median cost of one symbolised stack for each unwinder on the 9-frame chain fixture
/// (read f3 f2 f1 f0 main __libc_start_call_main __libc_start_main _start). Asserts only correctness:
/// timings on a shared VM are reported, not enforced.
@Suite struct BenchmarkTests {
    func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    @Test func medianMicrosecondsPerStack() throws {
        let exe = try FixtureBuilder.build("bench-chain", sources: chainSources, flags: ["-O2", "-g"])
        let report = try Tracee.run(exe) { pid -> String in
            var lines: [String] = []
            for kind in UnwinderKind.allCases {
                let walker = StackWalker(kind: kind, maxDepth: 64)
                let c0 = now()
                let first = walker.stack(pid: pid, tid: pid)  // cold: modules, unwind tables, symbols
                let cold = Double(now() - c0) / 1000
                #expect(first.hasConsecutive(chain), "\(first.rendered)")
                var samples: [Double] = []
                for _ in 0..<2000 {
                    let t0 = now()
                    let s = walker.stack(pid: pid, tid: pid)
                    samples.append(Double(now() - t0) / 1000)
                    if s.count != first.count { Issue.record("stack changed: \(s.count) frames") }
                }
                samples.sort()
                let med = samples[samples.count / 2], p90 = samples[samples.count * 9 / 10]
                lines.append("\(kind.rawValue): \(first.count) frames, median \(String(format: "%.1f", med)) µs, "
                             + "p90 \(String(format: "%.1f", p90)) µs per symbolised stack; "
                             + "first (cold) stack \(String(format: "%.0f", cold)) µs")
            }
            return lines.joined(separator: "\n")
        }
        print("unwinder benchmark:\n" + report)
    }
}
