import Baselines
import Suggestions
import Testing
import TraceModel

@Suite struct PlanTests {
    @Test func oneItemPerSiteInOrder() throws {
        let t = try fixtureTrace("demo.jsonl")
        let plan = renderSuggestion(t, format: .plan)
        let sites = t.violations.reduce(into: [String]()) { if !$0.contains($1.site) { $0.append($1.site) } }
        for (i, site) in sites.enumerated() {
            let v = try #require(t.violations.first { $0.site == site })
            #expect(plan.contains("\n\(i + 1). \(v.syscall)"), "item \(i + 1) is not \(v.syscall)")
        }
        #expect(!plan.contains("\n\(sites.count + 1). "))
    }

    @Test func actionsForEachKind() throws {
        let plan = renderSuggestion(try fixtureTrace("demo.jsonl"), format: .plan)
        #expect(plan.contains("Set TZ before entering capability mode"))  // from the hint knowledge base
        #expect(plan.contains("int etc_fd = open(\"/etc\", O_PATH|O_DIRECTORY|O_CLOEXEC);"))
        #expect(plan.contains("openat(etc_fd, \"demo.conf\", O_RDONLY)"))
        #expect(plan.contains("fstatat(home_user_fd, \"data.txt\", &st, 0)"))
        #expect(plan.contains("openat(tmp_fd, \"demo-out.txt\", O_WRONLY|O_CREAT|O_TRUNC)"))
        #expect(plan.contains("connect it to 127.0.0.1:9 before entry"))
        #expect(plan.contains("pidfd_send_signal(pidfd, SIGTERM, NULL, 0)"))
        #expect(plan.contains("fexecve(exe_fd, argv, envp)"))
        #expect(plan.contains("at demo!write_output+0x28 (demo.c:58)  (the program's own frame)"))
    }

    @Test func descriptorsFromRightsData() throws {
        let plan = renderSuggestion(try fixtureTrace("demo.jsonl"), format: .plan)
        // Items from Diagnosis' RightsAnalysis (the rights analysis owns their wording).
        #expect(plan.contains("fd 0 /dev/pts/0 (tty, O_RDWR): never used after entry — limit to CAP_FSTAT: cap_rights_limit(0, CAP_FSTAT)"))
        #expect(plan.contains("fd 1 /dev/pts/0 (tty, O_RDWR): used only for write, fstat — limit to CAP_WRITE, CAP_FSTAT"))
        #expect(plan.contains("reopen it O_WRONLY through /proc/self/fd/1"))
        #expect(plan.contains("fd 3 /var/log/demo.log (file, O_WRONLY): used only for write — limit to CAP_WRITE"))
        #expect(plan.contains("fd 4 /srv/demo (directory, O_RDONLY): never used after entry — close it"))
    }

    @Test func withoutRightsDataSaysSo() throws {
        let plan = renderSuggestion(try fixtureTrace("tcpdump-like.jsonl"), format: .plan)
        #expect(plan.contains("The trace has no --rights data"))
        #expect(!plan.contains("never used after entry (stdin)"))
        #expect(plan.contains("Delegate:\n    name lookups after entry: a resolver helper process"))
    }

    @Test func emptyTrace() throws {
        var t = try fixtureTrace("demo.jsonl")
        t.events.removeAll { if case .violation = $0 { true } else { false } }
        let plan = renderSuggestion(t, format: .plan)
        #expect(plan.contains("0 violations at 0 sites: nothing to change."))
        let b = try Baseline(parsing: renderSuggestion(t, format: .allowlist))
        #expect(b.entries.isEmpty)
    }
}

@Suite struct AllowlistTests {
    /// Many names at one site (mkstemp-style) become one pattern from their common prefix and suffix.
    @Test func manyValuesAtOneSiteAreGeneralised() throws {
        var t = try fixtureTrace("demo.jsonl")
        let template = try #require(t.violations.first { $0.path == "/tmp/demo-out.txt" })
        for (i, suffix) in ["a1B2c3", "Zz09xy", "q8W7e6", "LmNoPq"].enumerated() {
            var v = template
            v.seq = 100 + i
            v.path = "/tmp/demo-\(suffix).out"
            t.events.append(.violation(v))
        }
        let text = renderSuggestion(t, format: .allowlist)
        #expect(text.contains("path=/tmp/demo-*"))
        let b = try Baseline(parsing: text)
        var fresh = template
        fresh.path = "/tmp/demo-NEWONE.out"
        #expect(b.matches(fresh))
        fresh.path = "/tmp/other/demo-x.out"
        #expect(!b.matches(fresh))
    }

    @Test func fewValuesStayExact() throws {
        var t = try fixtureTrace("demo.jsonl")
        let template = try #require(t.violations.first { $0.path == "/etc/demo.conf" })
        var v = template
        v.path = "/etc/demo.d/extra.conf"
        t.events.append(.violation(v))
        let text = renderSuggestion(t, format: .allowlist)
        #expect(text.contains("path=/etc/demo.conf\n"))
        #expect(text.contains("path=/etc/demo.d/extra.conf\n"))
    }

    @Test func specialCharactersRoundTrip() throws {
        var t = try fixtureTrace("demo.jsonl")
        var v = try #require(t.violations.first { $0.path == "/etc/demo.conf" })
        v.path = "/srv/a b/\"quoted\" *star?\\back"
        t.events = t.events.filter { if case .violation = $0 { false } else { true } } + [.violation(v)]
        let b = try Baseline(parsing: renderSuggestion(t, format: .allowlist))
        #expect(b.matches(v))
        var w = v
        w.path = "/srv/a b/\"quoted\" Xstar?\\back"
        #expect(!b.matches(w), "a literal * in the path must not act as a wildcard")
    }

    /// The supervisor calls `matches` for every violation: it must stay cheap with a realistic baseline.
    @Test func matchingIsCheap() throws {
        let t = try fixtureTrace("tcpdump-like.jsonl")
        let b = try Baseline(parsing: renderSuggestion(t, format: .allowlist) + renderSuggestion(try fixtureTrace("demo.jsonl"), format: .allowlist))
        let vs = t.violations
        var miss = vs[0]
        miss.path = "/etc/not-in-baseline"
        let clock = ContinuousClock()
        let n = 20_000
        var hits = 0
        let elapsed = clock.measure {
            for i in 0..<n { if b.matches(i % 7 == 0 ? miss : vs[i % vs.count]) { hits += 1 } }
        }
        #expect(hits == n - (n + 6) / 7)
        let perCall = elapsed / n
        print("Baseline.matches: \(perCall) per call (\(b.entries.count) entries)")
        #expect(perCall < .milliseconds(1), "a generous bound for a debug build on a loaded machine (release: ~3 µs)")
    }
}
