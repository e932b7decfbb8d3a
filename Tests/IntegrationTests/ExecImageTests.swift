// The program an exec event names is the file /proc/PID/exe names. With stacks captrace tells it from the
// mappings: under ptrace at the exec stop (the file that does not hold the entry point, or the only one: see
// ct_uw_space_exec_image), under notify at the new image's first trapped call (the lowest file, when it is the
// one the execve named and the call's pc lies in another: ct_uw_space_exec_named); these execs cover each way
// that can go, with /proc/PID/exe's answer as the reference.
import Foundation
import Testing
import TraceModel

@Suite("run: the program an exec event names")
struct ExecImageTests {
    /// Opens its argument, unlinks it and runs it through the descriptor: /proc/PID/exe then says " (deleted)".
    static let deletedSource = """
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <unistd.h>
        extern char **environ;
        int main(int argc, char **argv) {
            int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
            if (fd < 0 || unlink(argv[1]) != 0) return 2;
            char *args[] = {argv[1], 0};
            fexecve(fd, args, environ);
            return 3;
        }
        """

    @Test("""
          a symlinked path, ld.so run as a program, a static program, a script, the legacy layout, a long path, \
          a deleted file
          """, arguments: backends)
    func programs(backend: String) throws {
        let w = try Workdir("exec-image")
        let deleted = try NotifyTests.buildInline("run-deleted", Self.deletedSource, in: w)
        // Both written by other processes (as Harness.copyExecutable): a program forked by a concurrent test must
        // not hold them open for writing, which fails their exec with ETXTBSY.
        let script = w.path("script.sh")
        let made = try Subprocess.run(["/bin/sh", "-c", "printf '#!/bin/sh\\nexit 0\\n' > \"$1\" && chmod 755 \"$1\"",
                                       "sh", script], timeout: 60)
        #expect(made.status == 0, "\(made.stderr)")
        let copy = w.path("true-copy")
        try Harness.copyExecutable("/bin/true", to: copy)
        // A path longer than the unwinder's buffer for it (512 bytes): read from /proc/PID/exe instead.
        let deep = w.path(Array(repeating: String(repeating: "d", count: 100), count: 5).joined(separator: "/"))
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        let long = deep + "/true"
        try Harness.copyExecutable("/bin/true", to: long)
        let loader = "/lib64/ld-linux-x86-64.so.2"
        let command = """
            /bin/true; \(loader) /bin/true; /sbin/ldconfig --version >/dev/null; \(script); \
            setarch x86_64 -L /bin/true; \(long); \(deleted) \(copy)
            """
        let r = try Harness.run(["/bin/sh", "-c", command], backend: backend, options: ["--enter-at", "exec"], in: w)
        #expect(r.status == 0 && !r.stderr.contains("sh: "), "a command failed\n\(r.digest)")
        func real(_ p: String) -> String { URL(fileURLWithPath: p).resolvingSymlinksInPath().path }
        let expected = [real("/bin/sh"), real("/bin/true"), real(loader), real("/sbin/ldconfig"), real("/bin/sh"),
                        real("/usr/bin/setarch"), real("/bin/true"), long, deleted, copy + " (deleted)"]
        let named = r.processes.filter { $0.event == .exec }.map { $0.path ?? "?" }
        #expect(named == expected, "\(r.digest)")
    }

    @Test("notify: the program is told from the mappings, /proc/PID/exe read only where they cannot show it")
    func notifyWithoutExeLink() throws {
        let w = try Workdir("exec-image-notify")
        let readlinks = w.path("readlinks")
        // strace follows captrace's threads (and the program): which /proc/PID/exe links captrace read.
        func exeLinks(_ options: [String]) throws -> (named: [String], links: Int) {
            let r = try Harness.run(["/bin/sh", "-c", "/bin/true; /bin/true; setarch x86_64 -L /bin/true"],
                                    backend: "notify", options: ["--enter-at", "exec"] + options, in: w,
                                    wrapper: ["/usr/bin/strace", "-f", "-qq", "-e", "trace=readlink", "-o", readlinks, "--"])
            #expect(r.status == 0, "\(r.digest)")
            let text = try String(contentsOfFile: readlinks, encoding: .utf8)
            let links = text.split(separator: "\n").filter {
                $0.contains("readlink(\"/proc/") && $0.contains("/exe\"") && !$0.contains("/proc/self/")  // captrace's own
            }
            return (r.processes.filter { $0.event == .exec }.map { $0.path ?? "?" }, links.count)
        }
        let bin = URL(fileURLWithPath: "/bin/true").resolvingSymlinksInPath().path
        let sh = URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path
        let setarch = URL(fileURLWithPath: "/usr/bin/setarch").resolvingSymlinksInPath().path
        let expected = [sh, bin, bin, setarch, bin]
        // With stacks only the legacy layout's exec (the interpreter lies lowest there) reads the link; the others,
        // the launcher's included, are told from the mappings.
        let withStacks = try exeLinks([])
        #expect(withStacks.named == expected)
        #expect(withStacks.links == 1, "readlinks of /proc/PID/exe: \(withStacks.links)")
        // Without stacks there is no unwinder to ask: every exec reads it (the count above can tell).
        let without = try exeLinks(["--stack-depth", "0"])
        #expect(without.named == expected)
        #expect(without.links == 5, "readlinks of /proc/PID/exe: \(without.links)")
    }
}
