// The notify backend's own cases: a program that is already under another tracer, enforce with a custom errno,
// a storm of threads making violations at once (no event lost or duplicated), and SIGKILL of captrace taking the
// whole program with it. Programs that exist only for these tests are written out from here and built with gcc.
import Foundation
import Testing
import TraceModel

#if canImport(Glibc)
import Glibc
#endif

@Suite("run: notify backend")
struct NotifyTests {
    /// Writes `source` into `work` and builds it with the fixtures' header (Fixtures/run/fixture.h).
    static func buildInline(_ name: String, _ source: String, in work: Workdir, flags: [String] = []) throws -> String {
        let src = work.path("\(name).c")
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        let out = work.path(name)
        let r = try Subprocess.run(["/usr/bin/gcc", "-O1", "-g", "-Wall", "-Werror", "-I", Harness.fixturesDir.path]
                                    + flags + ["-o", out, src, "-lpthread"], timeout: 120)
        guard r.status == 0 else { throw HarnessError("gcc \(name).c failed:\n\(r.stderr)") }
        return out
    }

    /// Parent enters, then forks a child that asks to be traced (PTRACE_TRACEME) and is traced by the parent
    /// with PTRACE_SYSCALL to its end: the program uses ptrace itself, which the notify backend leaves free.
    static let tracemeSource = """
        #include "fixture.h"
        #include <signal.h>
        #include <sys/ptrace.h>
        #include <sys/wait.h>
        int main(void) {
            (void)cwd();
            cap_enter();
            pid_t c = fork();
            CHECK(c >= 0);
            if (c == 0) {
                CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
                raise(SIGSTOP);
                mark("traced-child");
                _exit(0);
            }
            int st, stops = 0;
            CHECK(waitpid(c, &st, 0) == c && WIFSTOPPED(st));
            for (;;) {
                CHECK(ptrace(PTRACE_SYSCALL, c, 0, 0) == 0);
                CHECK(waitpid(c, &st, 0) == c);
                if (WIFEXITED(st)) break;
                stops++;
            }
            printf("child=%d stops=%d status=%d\\n", (int)c, stops, WEXITSTATUS(st));
            return 0;
        }
        """

    @Test("a program that ptraces its own child: the tracing works and the child's violations are recorded")
    func programUsesPtrace() throws {
        let w = try Workdir("notify-traceme")
        let bin = try Self.buildInline("traceme", Self.tracemeSource, in: w)
        let r = try Harness.run([bin], backend: "notify", options: ["--enter-at", capEnter], in: w)
        expectRun(r, backend: "notify", trigger: capEnter)
        let child = try #require(r.int("child").map(Int32.init), "\(r.digest)")
        #expect((r.int("stops") ?? 0) > 2, "the program's own tracer saw no syscall stops\n\(r.digest)")
        #expect(r.int("status") == 0, "\(r.digest)")
        #expect(r.mark("traced-child").map(\.pid) == [child], "\(r.digest)")
        #expect(r.processes.contains { $0.event == .fork && $0.pid == child && $0.capabilityMode }, "\(r.digest)")
    }

    @Test("a program already under another tracer: strace -f runs the fixture, captrace still records it")
    func underStrace() throws {
        let w = try Workdir("notify-strace")
        let bin = try Harness.fixture("triggers")
        let r = try Harness.run(["/usr/bin/strace", "-f", "-o", "/dev/null", bin], backend: "notify",
                                options: ["--enter-at", "exec"], in: w)
        expectRun(r, backend: "notify", trigger: "exec")
        #expect(r.marks == ["ctor", "main", "after-symbol", "after-syscall"], "\(r.digest)")
        let strace = try #require(r.programPid)
        let fixturePids = Set(r.mark("main").map(\.pid))
        #expect(fixturePids.count == 1 && !fixturePids.contains(strace),
                "the markers are not the traced fixture's\n\(r.digest)")
        #expect(r.violations.contains { $0.pid == strace && $0.syscall == "ptrace" }, "strace's ptrace is not recorded")
    }

    @Test("enforce with a custom errno (EROFS): violations and exec fail with it, relative opens work")
    func enforceCustomErrno() throws {
        let w = try Workdir("notify-erofs")
        let r = try Harness.run([try Harness.fixture("enforce")], backend: "notify",
                                options: ["--enter-at", capEnter, "--mode", "enforce", "--deny-errno", "EROFS"], in: w)
        expectRun(r, backend: "notify", trigger: capEnter, mode: "enforce")
        #expect(r.value("absolute") == "EROFS", "\(r.digest)")
        #expect(r.value("relative") == "ok", "\(r.digest)")
        #expect(r.value("fstat") == "ok", "\(r.digest)")
        #expect(r.value("exec") == "EROFS", "\(r.digest)")
        #expect(r.violations.count == 2 && r.violations.allSatisfy { $0.action == .denied && $0.errno == "EROFS" },
                "\(r.digest)")
    }

    /// Paths named from one static buffer of a static non-PIE program, so that every image of it, and every
    /// process sharing its memory, names them from the same address, and the first string an image reads is
    /// one of them (a dynamic loader's first reads, at randomised addresses, would fail in a stale file and have
    /// it dropped anyway: they would hide what this tests). Before its exec, each process makes more path
    /// violations than captrace needs to keep its /proc/PID/mem open (NotifyProcess.memoryFileAfter).
    /// `vfork`: the parent names parent-N, its vfork child names vchild-N (in the shared memory) and execs the
    /// program again as `image vfork`; the parent, resumed, writes parent-after into the buffer and waits.
    /// `clonevm`: the parent starts a CLONE_VM child that lives on in the parent's memory (it waits on a pipe)
    /// and execs itself as `image clonevm`, the old memory still alive and holding parent-9.
    /// `image TAG`: names image-TAG-N, 20 times.
    static let memExecSource = """
        #include "fixture.h"
        #include <sched.h>
        #include <signal.h>
        #include <sys/wait.h>
        static char buf[PATH_MAX + 64];
        static void name(const char *tag, int i) {
            snprintf(buf, sizeof buf, "%s/mark-%s-%d", cwd(), tag, i);
            (void)access(buf, F_OK);
        }
        static int pipefd[2];
        static int waiter(void *arg) {
            char c;
            (void)arg;
            close(pipefd[1]);  // its own copy (no CLONE_FILES): only the program's then holds the pipe open
            while (read(pipefd[0], &c, 1) > 0) {}
            _exit(0);
        }
        int main(int argc, char **argv) {
            if (argc == 3 && strcmp(argv[1], "image") == 0) {
                char tag[64];
                snprintf(tag, sizeof tag, "image-%s", argv[2]);
                for (int i = 0; i < 20; i++) name(tag, i);
                printf("image=%d\\n", (int)getpid());
                return 0;
            }
            CHECK(argc == 2);
            for (int i = 0; i < 10; i++) name("parent", i);
            if (strcmp(argv[1], "vfork") == 0) {
                pid_t c = vfork();
                CHECK(c >= 0);
                if (c == 0) {
                    for (int i = 0; i < 10; i++) name("vchild", i);
                    execl("/proc/self/exe", argv[0], "image", "vfork", (char *)NULL);
                    _exit(98);
                }
                snprintf(buf, sizeof buf, "%s/mark-parent-after", cwd());
                int st;
                CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
                (void)access(buf, F_OK);
                printf("vchild=%d\\n", (int)c);
                return 0;
            }
            CHECK(strcmp(argv[1], "clonevm") == 0);
            CHECK(pipe(pipefd) == 0);
            static char stack[65536];
            pid_t w = clone(waiter, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL);
            CHECK(w > 0);
            printf("waiter=%d\\n", (int)w);
            fflush(stdout);
            // The write end stays open in the new image (no O_CLOEXEC): the waiter ends when the image does.
            execl("/proc/self/exe", argv[0], "image", "clonevm", (char *)NULL);
            return 98;
        }
        """

    @Test("exec after /proc/PID/mem was opened: the new image's paths are read, never the old or a shared memory's",
          arguments: ["vfork", "clonevm"])
    func memoryFileAcrossExec(_ mode: String) throws {
        let w = try Workdir("notify-memexec-\(mode)")
        let bin = try Self.buildInline("memexec", Self.memExecSource, in: w, flags: ["-static", "-no-pie"])
        let r = try Harness.run([bin, mode], backend: "notify", options: ["--enter-at", "exec", "-q"], in: w)
        expectRun(r, backend: "notify", trigger: "exec")
        let imagePid = try #require(r.int("image").map(Int32.init), "\(r.digest)")
        let prefix = r.cwd + "/mark-"
        let named = r.violations.filter { $0.pid == imagePid && ($0.path?.hasPrefix(prefix) ?? false) }
        let image = named.filter { $0.path!.hasPrefix(prefix + "image-") }.compactMap(\.path)
        #expect(image == (0..<20).map { prefix + "image-\(mode)-\($0)" }, "\(r.digest)")
        let before = named.filter { !$0.path!.hasPrefix(prefix + "image-") }.compactMap(\.path)
        if mode == "vfork" {
            // Before its exec the child shares its parent's memory: its own names, then the image's; never the
            // parent's, which the same address holds after the exec.
            #expect(before == (0..<10).map { prefix + "vchild-\($0)" }, "\(r.digest)")
            #expect(r.int("vchild").map(Int32.init) == imagePid, "\(r.digest)")
            #expect(r.mark("parent-after").count == 1, "\(r.digest)")
        } else {
            // The same pid before its exec; after it, the old memory (kept by the waiter) holds parent-9.
            #expect(before == (0..<10).map { prefix + "parent-\($0)" }, "\(r.digest)")
            #expect(r.int("waiter") != nil, "\(r.digest)")
        }
    }

    /// A forked child's unwinder starts from a copy of its parent's only while the child runs the parent's image
    /// (NotifyLoop.startUnwinderFromParent). Here the parent (`forker`) walks a stack, forks a child that waits on
    /// a pipe, and execs `execed`, which walks a stack of its own image, releases the child and waits for it. Both
    /// are static and not position-independent: the same addresses hold `forker`'s code in the child and
    /// `execed`'s in the parent. The child's first call, from child_site, must be named in `forker`'s code; a
    /// copy of the parent's unwinder (its modules now `execed`'s) would name it in `execed`'s.
    static let forkerSource = """
        #include "fixture.h"
        __attribute__((noinline)) void child_site(void) { (void)access("/captrace-child-site", F_OK); }
        __attribute__((noinline)) void parent_site(void) { (void)access("/captrace-parent-site", F_OK); }
        int main(int argc, char **argv) {
            CHECK(argc == 2);
            parent_site();
            int p[2];
            CHECK(pipe(p) == 0);
            pid_t c = fork();
            CHECK(c >= 0);
            if (c == 0) {
                char ch;
                close(p[1]);
                if (read(p[0], &ch, 1) != 1) _exit(97);
                child_site();
                _exit(0);
            }
            close(p[0]);
            char fd[16];
            snprintf(fd, sizeof fd, "%d", p[1]);
            execl(argv[1], argv[1], fd, (char *)NULL);
            return 98;
        }
        """
    static let execedSource = """
        #include "fixture.h"
        #include <sys/wait.h>
        __attribute__((noinline)) void execed_site(void) { (void)access("/captrace-execed-site", F_OK); }
        int main(int argc, char **argv) {
            CHECK(argc == 2);
            execed_site();
            CHECK(write(atoi(argv[1]), "g", 1) == 1);
            int st;
            pid_t w = wait(&st);
            CHECK(w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
            printf("child=%d\\n", (int)w);
            return 0;
        }
        """

    @Test("a child forked before its parent's exec is unwound in its own image, not the parent's new one")
    func forkedChildAfterParentExec() throws {
        let w = try Workdir("notify-fork-exec")
        let forker = try Self.buildInline("forker", Self.forkerSource, in: w, flags: ["-static", "-no-pie"])
        let execed = try Self.buildInline("execed", Self.execedSource, in: w, flags: ["-static", "-no-pie"])
        for backend in ["notify", "ptrace"] {
            let r = try Harness.run([forker, execed], backend: backend, options: ["--enter-at", "exec", "-q"], in: w)
            expectRun(r, backend: backend, trigger: "exec")
            let child = try #require(r.int("child").map(Int32.init), "\(backend): \(r.digest)")
            let v = try #require(r.violations.first { $0.path == "/captrace-child-site" }, "\(backend): \(r.digest)")
            #expect(v.pid == child, "\(backend): \(r.digest)")
            #expect(v.stack.contains { $0.symbol == "child_site" }, "\(backend): \(v.stack)")
            #expect(v.stack.allSatisfy { $0.module.map { $0.hasSuffix("/forker") } ?? true }, "\(backend): \(v.stack)")
            let p = try #require(r.violations.first { $0.path == "/captrace-execed-site" }, "\(backend): \(r.digest)")
            #expect(p.stack.contains { $0.symbol == "execed_site" }, "\(backend): \(p.stack)")
        }
    }

    static let threads = 8, perThread = 400

    /// THREADS threads released together, each making PER violations access("/captrace-storm/T/K").
    static let stormSource = """
        #include "fixture.h"
        #include <pthread.h>
        static pthread_barrier_t go;
        static void *run(void *arg) {
            long t = (long)arg;
            char p[64];
            pthread_barrier_wait(&go);
            for (int k = 0; k < \(perThread); k++) {
                snprintf(p, sizeof p, "/captrace-storm/%ld/%d", t, k);
                (void)access(p, F_OK);
            }
            return NULL;
        }
        int main(void) {
            pthread_t th[\(threads)];
            pthread_barrier_init(&go, NULL, \(threads));
            cap_enter();
            for (long i = 0; i < \(threads); i++) CHECK(pthread_create(&th[i], NULL, run, (void *)i) == 0);
            for (int i = 0; i < \(threads); i++) pthread_join(th[i], NULL);
            printf("done\\n");
            return 0;
        }
        """

    @Test("a storm of threads making violations at once: none lost, none duplicated, seq continuous")
    func threadStorm() throws {
        let w = try Workdir("notify-storm")
        let bin = try Self.buildInline("storm", Self.stormSource, in: w)
        for stacks in ["0", "8"] {
            let r = try Harness.run([bin], backend: "notify", options: ["--enter-at", capEnter, "--stack-depth", stacks, "-q"],
                                    in: w, timeout: 120)
            expectRun(r, backend: "notify", trigger: capEnter)
            let storm = r.violations.filter { $0.path?.hasPrefix("/captrace-storm/") ?? false }
            var expected: [String] = []
            for t in 0..<Self.threads { for k in 0..<Self.perThread { expected.append("/captrace-storm/\(t)/\(k)") } }
            #expect(storm.compactMap(\.path).sorted() == expected.sorted(),
                    "stacks \(stacks): \(storm.count) storm violations, expected \(expected.count)")
            #expect(Set(storm.map(\.tid)).count == Self.threads, "stacks \(stacks): not every thread is recorded")
            // Per thread, its calls are recorded in the order it made them.
            for tid in Set(storm.map(\.tid)) {
                let ks = storm.filter { $0.tid == tid }.compactMap { $0.path?.split(separator: "/").last.flatMap { Int($0) } }
                #expect(ks == ks.sorted(), "stacks \(stacks): thread \(tid) out of order")
            }
            if stacks != "0" {
                #expect(storm.allSatisfy { !$0.stack.isEmpty }, "stacks \(stacks): a storm violation has no stack")
            }
        }
    }

    static let perGroup = 20

    /// Groups of PER equal calls newfstatat(AT_FDCWD, path, &st, 0) with one static buffer and one static stat,
    /// so that every call has the same registers; between the groups the path is rewritten in place (another path,
    /// then a prefix of it), made relative, and the directory changed; the last group is another thread's, whose
    /// first call follows the main thread's last with nothing trapped between them (the thread waits in read).
    static let repeatsSource = """
        #include "fixture.h"
        #include <fcntl.h>
        #include <pthread.h>
        #include <sys/stat.h>
        #include <sys/syscall.h>
        static char path[64];
        static struct stat st;
        static int go[2];
        static long thread_tid;
        /* syscall(2) sets all six argument registers: fstatat(3) leaves the last two as they were. */
        static void stats(void) {
            for (int i = 0; i < \(perGroup); i++) (void)syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0, 0, 0);
        }
        static void *other(void *arg) {
            (void)arg;
            char c;
            thread_tid = syscall(SYS_gettid);
            CHECK(read(go[0], &c, 1) == 1);
            stats();
            return NULL;
        }
        int main(void) {
            pthread_t t;
            CHECK(pipe(go) == 0);
            CHECK(pthread_create(&t, NULL, other, NULL) == 0);
            (void)cwd();
            cap_enter();
            strcpy(path, "/etc/hosts"); stats();
            strcpy(path, "/etc/passwd"); stats();
            path[9] = 0; stats();
            strcpy(path, "rel"); stats();
            CHECK(chdir("/tmp") == 0);
            stats();
            CHECK(write(go[1], "g", 1) == 1);
            CHECK(pthread_join(t, NULL) == 0);
            printf("main=%ld thread=%ld\\n", (long)syscall(SYS_gettid), thread_tid);
            return 0;
        }
        """

    @Test("repeats of one call: each recorded with the path its memory held, its directory and its thread",
          arguments: ["notify", "ptrace"])
    func repeatedCalls(_ backend: String) throws {
        let w = try Workdir("notify-repeats-\(backend)")
        let bin = try Self.buildInline("repeats", Self.repeatsSource, in: w)
        // Without stacks: the notify worker then records a call equal to the one before as its repeat, and has to
        // see every one of these changes.
        let r = try Harness.run([bin], backend: backend, options: ["--enter-at", capEnter, "--stack-depth", "0", "-q"], in: w)
        expectRun(r, backend: backend, trigger: capEnter)
        let main = try #require(r.int("main").map(Int32.init), "\(r.digest)")
        let thread = try #require(r.int("thread").map(Int32.init), "\(r.digest)")
        struct Call: Equatable, CustomStringConvertible {
            var path: String?, base: String?, tid: Int32
            var description: String { "\(path ?? "-") from \(base ?? "-") by \(tid)" }
        }
        let calls = r.violations.filter { $0.syscall == "newfstatat" }.map { Call(path: $0.raw?.memory.strings[1], base: $0.raw?.base, tid: $0.tid) }
        let groups: [Call] = [Call(path: "/etc/hosts", base: nil, tid: main), Call(path: "/etc/passwd", base: nil, tid: main),
                              Call(path: "/etc/pass", base: nil, tid: main), Call(path: "rel", base: r.cwd, tid: main),
                              Call(path: "rel", base: "/tmp", tid: main), Call(path: "rel", base: "/tmp", tid: thread)]
        let expected = groups.flatMap { Array(repeating: $0, count: Self.perGroup) }
        let difference = zip(calls, expected).first { $0 != $1 }.map { "\($0) instead of \($1)" } ?? "none"
        #expect(calls == expected, "\(calls.count) calls, expected \(expected.count); first difference: \(difference)\n\(r.digest)")
        #expect(r.violations.contains { $0.syscall == "chdir" }, "\(r.digest)")
        #expect(r.summary?.violations == r.violations.count, "\(r.digest)")
    }

    /// `exec`: the main thread watches the keeper's pidfd; `main`: it waits for ptrace stops until main, and for the
    /// keeper as a child.
    @Test("SIGKILL of the keeper: the program goes with it, captrace says so and ends 125 with its trace whole",
          arguments: ["exec", "main"])
    func keeperKilled(trigger: String) throws {
        let w = try Workdir("notify-keeper-kill-\(trigger)")
        let bin = try Harness.fixture("loop")
        let run = try Harness.start([bin], backend: "notify", options: ["--enter-at", trigger, "-q"], in: w)
        waitForViolations(run, moreThan: 20)
        // The keeper: captrace's child named captrace-keeper (the program is the keeper's child).
        let children = (try? String(contentsOfFile: "/proc/\(run.pid)/task/\(run.pid)/children", encoding: .utf8)) ?? ""
        let keeper = try #require(children.split(separator: " ").compactMap { Int32($0) }.first {
            ((try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("captrace-keeper")
        }, "no keeper among captrace's children: \(children)")
        kill(keeper, SIGKILL)
        let r = try run.finish(timeout: 30)
        #expect(!r.timedOut && r.status == 125, "\(r.digest)")
        #expect(r.stderr.contains("the keeper process (pid \(keeper))") && r.stderr.contains("killed by SIGKILL"),
                "stderr: \(r.stderr)")
        #expect(r.traceIsComplete && r.summary?.exitStatus == 125, "\(r.digest)")
        let pids = Set([r.int("pid"), r.int("child")].compactMap { $0.map(Int32.init) })
        #expect(pids.count == 2, "\(r.digest)")
        let left = leftBehind(pids, executable: bin)
        #expect(left.isEmpty, "processes of the program outlived their keeper (pid, state): \(left)")
    }

    @Test("SIGKILL of captrace kills the whole program (the program and its child)")
    func sigkillTakesProgram() throws {
        let w = try Workdir("notify-kill")
        let bin = try Harness.fixture("loop")
        let run = try Harness.start([bin], backend: "notify", options: ["--enter-at", "main", "-q"], in: w)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if run.traceSoFar().components(separatedBy: "\"type\":\"violation\"").count > 20 { break }
            usleep(20_000)
        }
        // The pids, from the program's own output (unbuffered).
        let out = (try? String(contentsOfFile: run.work.path("captrace.stdout"), encoding: .utf8)) ?? ""
        func value(_ key: String) -> Int32? {
            out.split(whereSeparator: { $0 == "\n" || $0 == " " }).compactMap { tok -> Int32? in
                let kv = tok.split(separator: "=")
                return kv.count == 2 && kv[0] == key ? Int32(kv[1]) : nil
            }.first
        }
        let pid = try #require(value("pid"), "no pid printed: \(out)")
        let child = try #require(value("child"), "no child printed: \(out)")
        #expect(procExe(pid) == bin && procExe(child) == bin, "the program is not running")
        kill(run.pid, SIGKILL)
        _ = run.process.wait(timeout: 10)
        var left: [Int32] = []
        for _ in 0..<250 {
            left = [pid, child].filter { p in
                guard let s = procState(p), s != "Z", s != "X" else { return false }
                return procExe(p) == bin
            }
            if left.isEmpty { break }
            usleep(20_000)
        }
        #expect(left.isEmpty, "processes of the program outlived a SIGKILLed captrace: \(left)")
        for p in left { kill(p, SIGKILL) }
    }

    @Test("children reaped by their own parent: each exit is recorded when it happens, and captrace keeps nothing of them")
    func exitsReapedByParent() throws {
        let w = try Workdir("notify-reaped")
        // sh reaps its children before captrace can read their status. At the end sh counts captrace's open
        // descriptors of processes (captrace is the parent of the keeper, sh's parent): pidfds and /proc files.
        // One kept per ended process would be hundreds. (Not every descriptor: captrace holds what it inherited,
        // such as a test runner's sockets, ~20 when the suite runs.)
        let script = "for i in $(seq 200); do /bin/true; done; "
            + "gp=$(awk '/^PPid/ {print $2}' /proc/$PPID/status); ls -l /proc/$gp/fd | grep -c -e pidfd -e ' /proc/'"
        let r = try Harness.run(["/bin/sh", "-c", script], backend: "notify", options: ["--enter-at", "exec"], in: w)
        expectRun(r, backend: "notify", trigger: "exec")
        let fds = try #require(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.digest)")
        #expect(fds < 60, "captrace holds \(fds) descriptors after 200 ended processes\n\(r.digest)")
        let sh = try #require(r.programPid)
        let shExit = try #require(r.processes.first { $0.event == .exit && $0.pid == sh }, "\(r.digest)")
        let children = r.processes.filter { $0.event == .exit && $0.pid != sh }
        #expect(children.count >= 200, "\(children.count) exits of sh's children\n\(r.digest)")
        // Recorded as they ended, not all at the end of the run.
        let late = children.filter { $0.tNs >= shExit.tNs }
        #expect(late.count <= 2, "\(late.count) children's exits recorded after sh's own\n\(r.digest)")
        // With their status: from /proc while a zombie, from the pidfd once sh reaped it (Linux 6.15, this
        // machine's kind; before, most of these exits had none).
        let withStatus = children.filter { $0.exitStatus == 0 }
        // Which ones, when not: the process (its exec path, from the trace), its parent, the status or signal.
        let without = children.filter { $0.exitStatus != 0 }.map { e in
            let path = r.processes.last { $0.pid == e.pid && $0.event == .exec }?.path ?? "?"
            return "pid \(e.pid) (\(path)) ppid \(e.ppid) status \(e.exitStatus.map(String.init) ?? "none") signal \(e.signal ?? "none")"
        }
        #expect(withStatus.count == children.count,
                "\(children.count - withStatus.count) exits without status 0: \(without)\n\(r.digest)")
    }
}
