// `captrace run`'s fast command-line path (FastRun): whatever it accepts, ArgumentParser parses to the same
// options and program; whatever else, it leaves to ArgumentParser (nil), so the messages stay ArgumentParser's.
import Testing
@testable import CaptraceCLI
import RunCommand

@Suite("run's plain command lines: the fast parse agrees with ArgumentParser")
struct FastRunTests {
    /// ArgumentParser's reading of `run ARGS...` (options and the program's argv).
    func parsedByArgumentParser(_ args: [String]) throws -> (RunArguments, [String]) {
        let run = try Run.parse(args)
        return (RunArguments(run.flags), try run.programArgv())
    }

    @Test("the defaults are RunFlags' defaults")
    func defaults() throws {
        let (a, argv) = try parsedByArgumentParser(["true"])
        #expect(a == RunArguments())
        #expect(argv == ["true"])
    }

    @Test("accepted command lines parse as ArgumentParser parses them", arguments: [
        ["--", "/bin/true"],
        ["/bin/true"],
        ["--enter-at", "exec", "-q", "-o", "/dev/null", "--", "/bin/true"],
        ["--enter-at=symbol:pcap_loop", "--output=t.jsonl", "tcpdump", "-r", "in.pcap"],
        ["--mode", "enforce", "--deny-errno", "EACCES", "--backend", "notify", "--", "./prog", "--mode", "x"],
        ["--stack-depth", "-1", "--", "true"],
        ["--stack-depth=0", "--unwinder", "libunwind", "--allow", "b.allow", "--fail-on-violation", "date", "-u"],
        ["--rights", "--all-results", "--quiet", "--", "--", "x"],
        ["--syscalls", "--enter-at", "exec", "-q", "--", "/bin/true"],
        ["-q", "--", "-"],
        ["-", "a"],
        ["--mode", "bogus", "--", "true"],  // a bad value is run's own check, after parsing
        ["--policy", "profile.json", "--caps=all", "--mode", "enforce", "--", "true"],
    ])
    func agrees(args: [String]) throws {
        let fast = try #require(FastRun.parse(args[...]), "not accepted: \(args)")
        let slow = try parsedByArgumentParser(args)
        #expect(fast.0 == slow.0, "\(args)")
        #expect(fast.1 == slow.1, "\(args)")
    }

    @Test("anything else is left to ArgumentParser", arguments: [
        [], ["--"], ["-q"], ["--help"], ["-h"], ["-q", "--help", "true"], ["--version"],
        ["--mdoe", "enforce", "--", "date"], ["-qo", "x", "--", "true"], ["-o=x", "--", "true"],
        ["-q", "-q", "--", "true"], ["--quiet", "-q", "true"], ["-o", "a", "--output", "b", "true"],
        ["--mode"], ["--mode", "--", "true"], ["--mode=", "true"], ["--mode", "-x", "true"],
        ["--stack-depth", "many", "--", "true"], ["--enter-at", "exec"],
    ])
    func declines(args: [String]) {
        #expect(FastRun.parse(args[...]) == nil, "\(args)")
    }
}
