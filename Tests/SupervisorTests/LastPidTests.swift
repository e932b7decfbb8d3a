// The notify backend compares a forked child's pid with the last pid handed out when its parent last mapped code
// (NotifyLoop.startUnwinderFromParent). LastPid reads that number from /proc/sys/kernel/ns_last_pid.
import Glibc
import Testing
@testable import Supervisor

@Suite struct LastPidTests {
    @Test("the last pid handed out: not below a child started before the read, below one started after")
    func ordersChildren() throws {
        let last = LastPid()
        func spawnTrue() throws -> pid_t {
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
            defer { free(argv[0]) }
            let rc = posix_spawn(&pid, "/bin/true", nil, nil, argv, environ)
            try #require(rc == 0, "posix_spawn: \(rc)")
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return pid
        }
        let before = try spawnTrue()
        let read = last.read()
        let after = try spawnTrue()
        #expect(read >= before, "ns_last_pid \(read) below a pid handed out before it was read (\(before))")
        // Pids wrap around only at pid_max: unless they just did, the later pid is above what was read.
        let wrapped = read - after > 1 << 20
        #expect(after > read || wrapped, "a pid handed out after the read (\(after)) is not above it (\(read))")
        #expect(last.read() >= after)
    }
}
