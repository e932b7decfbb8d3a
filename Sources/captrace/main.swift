// `captrace`. A plain `captrace run` command line (FastRun) runs here; any other command line (help, the other
// commands, run's options in forms FastRun leaves alone) is handed to `captrace-cli` beside this program. So the
// run that a test suite or build script starts thousands of times loads no command-line framework: linking
// ArgumentParser (and with it FoundationEssentials) doubled the relocations every start pays
// (Docs/performance-history.md, (e)).
import Glibc
import RunCommand

let args = CommandLine.arguments
warmUpCatalog()
if args.count > 2, args[1] == "run", let (flags, program) = FastRun.parse(args[2...]) {
    let status: Int32
    do {
        status = try RunCommand.execute(flags, argv: { program })
    } catch {
        warn("\(error)")
        status = 125
    }
    // The trace is written and closed; what exit() would add is the C++ runtime's and libraries' teardown
    // (atexit handlers, static destructors): ~17 µs of every run's end (uprobes, 80 runs). Only stdio is flushed.
    fflush(nil)
    _exit(status)
}
exit(execCommandLineProgram(args))
