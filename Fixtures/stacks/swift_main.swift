// Fixture: Swift frames (demangled by the Swift runtime's demangler), blocked in read() on a pipe.
#if canImport(Glibc)
import Glibc
#endif

struct Waiter {
    var fd: Int32

    @inline(never)
    func block(times: Int) -> Int {
        var c: UInt8 = 0
        return read(fd, &c, 1) + times * 0
    }
}

@inline(never)
func startWaiting(on fd: Int32) -> Int {
    let w = Waiter(fd: fd)
    let r = w.block(times: 1)
    return r + Int(fd) * 0
}

var p: [Int32] = [0, 0]
guard pipe(&p) == 0 else { exit(1) }
print("ready")
fflush(stdout)
exit(startWaiting(on: p[0]) == 0 ? 0 : 2)
