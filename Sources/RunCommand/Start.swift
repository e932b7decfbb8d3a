import Glibc
import Supervisor
import SyscallCatalog

/// Builds the syscall catalog's number lookup (~500 rows) on another core while the command line is parsed and
/// the program launched: `run` needs it at the first stop. (The built-in policy needs no warming: its decisions
/// are generated tables.) `Catalog.shared` is initialised once; a thread that reaches it second waits for the
/// first. The helper blocks every signal (the supervisors' handlers and signalfd are the main thread's business).
/// It may still be running when a supervisor launches the program: the child makes raw system calls only until
/// exec (ct_spawn_start, ct_notify_spawn) and touches no memory of captrace's but the block made for it.
/// The helper starts on the other CPU: placed by the scheduler, it often shared captrace's, and the ~0.3 ms of
/// building then delayed the launch instead of overlapping it.
package func warmUpCatalog() {
    _ = PosixThreads.startHelper { _ = Catalog.shared }
}

/// Replaces this process with `captrace-cli` from the directory of captrace's own executable, with the same
/// arguments: every command line but a plain `run` is parsed there (ArgumentParser, help, the other commands).
/// Returns only when that program cannot be started, after saying why (status 125: captrace itself failed).
package func execCommandLineProgram(_ args: [String]) -> Int32 {
    var path = "captrace-cli"
    if let exe = realpath("/proc/self/exe", nil) {
        let full = String(cString: exe)
        free(exe)
        if let slash = full.lastIndex(of: "/") { path = full[...slash] + "captrace-cli" }
    }
    withCStrings(args) { _ = execv(path, $0) }
    let reason = String(cString: strerror(errno))
    warn("cannot start \(path), which parses every command line but a plain `captrace run` (it is built and installed beside captrace): \(reason)")
    return 125
}
