import CTraceShims
import Glibc

/// Runs `body` with a NULL-terminated C string array.
package func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
}

enum ProgramPath {
    /// Finds the program like execvp would: a name with a slash is used as is, otherwise PATH is searched.
    static func resolve(_ name: String) throws(SupervisorError) -> String {
        if name.isEmpty { throw SupervisorError("no program given", status: 127) }
        if name.contains("/") {
            guard access(name, F_OK) == 0 else { throw SupervisorError("cannot execute \(name): no such file", status: 127) }
            return name
        }
        let path = String(cString: getenv("PATH") ?? strdup("/usr/local/bin:/usr/bin:/bin"))
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        throw SupervisorError("cannot execute \(name): not found in PATH", status: 127)
    }

    /// captrace's own environment, which the program is given as it is: the C array itself (a copy through Swift
    /// strings cost a decoding and two copies of every variable at every start, and changed bytes that are not
    /// UTF-8). Nothing in captrace changes its environment.
    static var environment: UnsafePointer<UnsafeMutablePointer<CChar>?> { UnsafePointer(environ) }
}

/// Cross-CPU wake-ups dominate a round trip on this kind of VM (about 55 µs against 11.5 µs when supervisor and
/// program share a CPU: an idle virtual CPU halts, and waking it costs the hypervisor). The supervisor pins its
/// tracer thread (ptrace) or its notification workers (notify) to the CPU it started on, and the program runs
/// there too (under notify it inherits the pin; under ptrace it sets itself up on the other CPU while captrace
/// does, and `ct_spawn_go` moves it to the pinned one before its exec): pinning captrace alone left most of the
/// cost in place (ptrace, 100000 stops: ~2.9 s against ~1.6 s with the program on the same CPU; notify, a shell
/// running /bin/true 300 times: each exec
/// moved the new image to the other CPU, and every process paid cross-CPU wake-ups, ~1.3x strace's time against
/// ~0.8x pinned). The price: the program and its children run on one CPU, and sched_getaffinity (nproc) shows
/// that one CPU.
/// `CAPTRACE_NO_PIN=1` turns pinning off (the program then runs exactly where it would without captrace).
enum CPUAffinity {
    /// The CPU the supervisor will pin its tracer thread to: the one it runs on (-1: none, no pinning).
    static func tracerCPU() -> Int32 {
        if let v = getenv("CAPTRACE_NO_PIN"), String(cString: v) == "1" { return -1 }
        return ct_current_cpu()
    }

    static func pin(_ cpu: Int32) {
        if cpu >= 0 { _ = ct_pin_self_to_cpu(cpu) }
    }
}
