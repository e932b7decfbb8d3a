// The notify backend has no registers but a notification's pc: a thread's stack pointer comes from its
// /proc/TID/syscall ("nr a0..a5 sp pc", ct_syscall_regs), read at every violation with a stack.
import CTraceShims
import Glibc
import Testing

@Suite struct SyscallRegsTests {
    /// `text` as a /proc/TID/syscall would give it, read by ct_syscall_regs: (status, pc, sp).
    func parse(_ text: String) throws -> (Int32, UInt64, UInt64) {
        var name = Array("/tmp/captrace-syscall-regs-XXXXXX".utf8CString)
        let fd = mkstemp(&name)
        try #require(fd >= 0)
        defer { close(fd); unlink(name) }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        var pc: UInt64 = 0, sp: UInt64 = 0
        let r = ct_syscall_regs(fd, &pc, &sp)
        return (r, pc, sp)
    }

    func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("the stack pointer and pc are the last two of nine fields, decimal number then hex")
    func fields() throws {
        let (r, pc, sp) = try parse("257 0xffffff9c 0x7ff25c84a0b1 0x80000 0x0 0x0 0x563d89fd6ada 0x7ffc15415158 0x7ff25c841b1d\n")
        #expect(r == 0)
        #expect(sp == 0x7ffc1541_5158)
        #expect(pc == 0x7ff2_5c84_1b1d)
        let (r2, pc2, sp2) = try parse("0 0x0 0x0 0x0 0x0 0x0 0x0 0xffffffffffffffff 0xFFFFFFFFFFFFFFFF")
        #expect(r2 == 0 && sp2 == .max && pc2 == .max)
    }

    @Test("a thread not in a syscall, or text that is not the kernel's, is refused", arguments: [
        "running\n", "-1 0x7ffd5c1f0a28 0x7f0c2b8e1b1d\n", "", "\n",
        "257 0xffffff9c 0x7ff25c84a0b1 0x80000 0x0 0x0 0x563d89fd6ada 0x7ffc15415158\n",  // eight fields
        "257 0xffffff9c 0x7ff25c84a0b1 0x80000 0x0 0x0 0x563d89fd6ada 0x7ffc15415158 0x\n",  // no digits
        "257 0xffffff9c 0x7ff25c84a0b1 0x80000 0x0 0x0 0x563d89fd6ada 0x7ffc15415158 zz\n",
        "257 0xffffff9c 0x7ff25c84a0b1 0x80000 0x0 0x0 0x563d89fd6ada 0x7ffc15415158 0x7ff25c841b1dq\n",
        "257 0xffffff9c 0x7ff25c84a0b1 0x80000 0x0 0x0 0x563d89fd6ada 0x7ffc15415158 0x17ff25c841b1d0000\n",  // 17 digits
    ])
    func refused(text: String) throws {
        let (r, _, _) = try parse(text)
        #expect(r == -EINVAL)
    }

    @Test("a real thread blocked in read(2): its pc is in its code, its stack pointer in writable memory")
    func realThread() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let child = fork()
        if child == 0 {
            close(fds[1])  // the parent's close of its end is then the read's end of file
            var b: UInt8 = 0
            _ = read(fds[0], &b, 1)
            _exit(0)
        }
        defer {
            close(fds[1]); close(fds[0])
            var st: Int32 = 0
            waitpid(child, &st, 0)
        }
        // Wait until the child blocks in read (its /proc/PID/syscall then starts with read's number, 0).
        let fd = open("/proc/\(child)/syscall", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var pc: UInt64 = 0, sp: UInt64 = 0, r: Int32 = -1
        for _ in 0..<2000 {
            var buf = [CChar](repeating: 0, count: 64)
            let n = pread(fd, &buf, 63, 0)
            if n > 2, buf[0] == 0x30, buf[1] == 0x20 {  // "0 "
                r = ct_syscall_regs(fd, &pc, &sp)
                break
            }
            usleep(1000)
        }
        try #require(r == 0, "the child never blocked in read, or its line was refused")
        let maps = try #require(readFile("/proc/\(child)/maps"))
        func mapping(of a: UInt64) -> Substring? {
            maps.split(separator: "\n").first { line in
                let range = line.prefix { $0 != " " }.split(separator: "-")
                guard range.count == 2, let lo = UInt64(range[0], radix: 16), let hi = UInt64(range[1], radix: 16)
                else { return false }
                return lo <= a && a < hi
            }
        }
        let code = try #require(mapping(of: pc), "pc \(String(pc, radix: 16)) in no mapping")
        #expect(code.split(separator: " ")[1].contains("x"), "pc's mapping is not executable: \(code)")
        let stack = try #require(mapping(of: sp), "sp \(String(sp, radix: 16)) in no mapping")
        // The forking thread's stack: [stack], or a thread stack (an anonymous mapping) when a worker forked.
        #expect(stack.split(separator: " ")[1].hasPrefix("rw"), "sp's mapping is not writable: \(stack)")
    }
}
