// Results under ptrace cost a second stop (the syscall-exit stop): by default it is made only for the first
// violation of each site and path, so a repeated violation costs one stop; --all-results records every result.
import Foundation
import Testing
import TraceModel

@Suite("run: which violations carry their result")
struct ResultsTests {
    static let source = """
        #include "fixture.h"
        int main(void) {
            (void)cwd();
            cap_enter();
            for (int i = 0; i < 50; i++) mark("same");      /* one site, one path: 50 violations */
            for (int i = 0; i < 3; i++) { char t[16]; snprintf(t, sizeof t, "p%d", i); mark(t); }  /* 3 paths */
            return 0;
        }
        """

    @Test("default: the first of each site and path; --all-results: every one", arguments: [false, true])
    func firstOfEachSiteAndPath(all: Bool) throws {
        let w = try Workdir("results")
        let bin = try NotifyTests.buildInline("results", Self.source, in: w)
        let r = try Harness.run([bin], backend: "ptrace",
                                options: ["--enter-at", "symbol:cap_enter", "-q"] + (all ? ["--all-results"] : []), in: w)
        #expect(r.status == 0, "\(r.digest)")
        let same = r.mark("same"), others = ["p0", "p1", "p2"].flatMap { r.mark($0) }
        #expect(same.count == 50 && others.count == 3, "\(r.digest)")
        let withResult = same.filter { $0.errno == "ENOENT" }
        #expect(withResult.count == (all ? 50 : 1), "\(withResult.count) of 50 carry their result")
        if !all { #expect(same.first?.errno == "ENOENT" && same.dropFirst().allSatisfy { $0.errno == nil && $0.result == nil }) }
        #expect(others.allSatisfy { $0.errno == "ENOENT" }, "each path's first violation has its result")
    }

    /// Two calls from one call site naming one path are two sites (the site names the call): each one's first
    /// violation carries its result.
    static let twoCallsSource = """
        #include "fixture.h"
        #include <sys/stat.h>
        #include <sys/syscall.h>
        __attribute__((noinline)) static long named(long nr, const char *path) {
            struct stat st;
            return syscall(nr, path, &st);
        }
        int main(void) {
            static const long nrs[] = {SYS_stat, SYS_lstat};
            cap_enter();
            for (int i = 0; i < 6; i++) named(nrs[i % 2], "/nonexistent-results-two-calls");  /* one call site */
            return 0;
        }
        """

    @Test("one call site, one path, two calls: the first of each carries its result")
    func twoCallsOneSite() throws {
        let w = try Workdir("results-two-calls")
        let bin = try NotifyTests.buildInline("results-two-calls", Self.twoCallsSource, in: w)
        let r = try Harness.run([bin], backend: "ptrace", options: ["--enter-at", "symbol:cap_enter", "-q"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        let named = r.violations(path: "/nonexistent-results-two-calls")
        for call in ["stat", "lstat"] {
            let these = named.filter { $0.syscall == call }
            #expect(these.count == 3, "\(call): \(these.count) violations\n\(r.digest)")
            #expect(these.first?.errno == "ENOENT", "the first \(call) carries its result")
            #expect(these.dropFirst().allSatisfy { $0.errno == nil && $0.result == nil })
            #expect(Set(these.map(\.site)).count == 1)
        }
        #expect(Set(named.map(\.site)).count == 2, "two sites")
        #expect(Set(named.map { $0.stack.map(\.pc) }).count == 1, "one call site: one stack")
    }
}
