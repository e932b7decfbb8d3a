import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// Turns a stopped syscall (number, ABI, raw arguments) into the classifier's `DecodedCall`, and for violations
/// into the trace's facts (`RawCall`). All reads of the program's memory happen here, once, bounded, in
/// `decode`: the bytes the classifier judges are the bytes the trace records (`DecodedCall.memory`). A bad
/// pointer is recorded as unreadable — never a crash. Rendering the facts is `CallRendering`, a pure function.
struct Decoder {
    static let atFDCWD: Int32 = -100
    static let maxPath = 4096
    /// What `readPath` reads first, into a buffer on the stack (most paths are shorter).
    static let shortPath = 255

    /// Where strings are read from: the process's /proc/PID/mem kept open by the transport (`fd`, -1 for none:
    /// then process_vm_readv). `fdFailed`: the file read nothing that process_vm_readv could (its address space
    /// is gone), so its owner drops it.
    /// `previous`: what the caller's last call read; a call that reads the same single string shares it.
    struct Memory {
        let pid: Int32
        var fd: Int32 = -1
        var fdFailed = false
        var previous: MemoryRead? = nil
    }

    /// Records string argument `i` as read, sharing `m.previous` when it is the same single string.
    static func record(_ s: String, at i: Int, in memory: inout MemoryRead, _ m: Memory) {
        if memory.strings.isEmpty, memory.sockaddr == nil, memory.socketcall == nil, let p = m.previous,
           p.strings.count == 1, p.sockaddr == nil, p.socketcall == nil, p.strings[i] == s {
            memory = p
            return
        }
        memory.strings[i] = s
    }

    /// Reads a NUL-terminated string from the tracee. `.unreadable` on a bad pointer, `.null` for NULL.
    static func readPath(pid: Int32, addr: UInt64) -> PathArg {
        var m = Memory(pid: pid)
        return readPath(&m, addr: addr)
    }

    static func readPath(_ m: inout Memory, addr: UInt64) -> PathArg {
        if addr == 0 { return .null }
        // Most paths are short: read into a buffer on the stack, copying at most that much out of the program; a
        // longer one is read again whole (a buffer of PATH_MAX is a heap allocation in Swift: one per path read).
        // nil: longer than `max` (only asked of the short read).
        func read(_ m: inout Memory, max: Int) -> PathArg? {
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: max + 1) { buf in
                var failed: Int32 = 0
                let n = ct_read_string_memfd(m.fd, m.pid, UInt(addr), buf.baseAddress, max, &failed)
                if failed != 0 { m.fdFailed = true; m.fd = -1 }
                if n == -Int(ENAMETOOLONG), max < maxPath { return nil }
                guard n >= 0 else { return .unreadable }
                return .string(String(decoding: UnsafeRawBufferPointer(start: buf.baseAddress, count: n), as: UTF8.self))
            }
        }
        return read(&m, max: shortPath) ?? read(&m, max: maxPath) ?? .unreadable
    }

    /// Reads `count` bytes (at most 16 KiB: sockaddrs, msghdrs, poll arrays, fd_sets) in one process_vm_readv.
    static func readBytes(pid: Int32, addr: UInt64, count: Int) -> [UInt8]? {
        guard addr != 0, count > 0, count <= 16384 else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        let n = out.withUnsafeMutableBytes { ct_read_mem(pid, UInt(addr), $0.baseAddress, count) }
        guard n == count else { return nil }
        return out
    }

    static func int32(_ v: UInt64) -> Int32 { Int32(truncatingIfNeeded: v) }

    /// Builds the classifier's view of a call. Reads the path arguments and, for socket calls, whether an
    /// address is named. Only called for syscalls the filter trapped as possible violations.
    /// `sameProcess(target)`: whether a pid/tid argument names a thread of the caller's own process.
    static func decode(_ stop: SyscallStop, pid: Int32, tid: Int32, sameProcess: (Int32) -> Bool) -> DecodedCall {
        var m = Memory(pid: pid)
        return decode(stop, memory: &m, tid: tid, sameProcess: sameProcess)
    }

    /// `decode` reading strings through `memory` (see `Memory`).
    static func decode(_ stop: SyscallStop, memory m: inout Memory, tid: Int32, sameProcess: (Int32) -> Bool) -> DecodedCall {
        var call = DecodedCall(abi: stop.abi, nr: stop.nr, syscall: stop.syscall, args: stop.args, pid: m.pid, tid: tid)
        if let sc = stop.syscall { read(&call, sc, memory: &m, sameProcess: sameProcess) }
        return call
    }

    /// `decode`'s reads, into `call` in place (building the call as a value here copied it, ~12 reference counts).
    private static func read(_ call: inout DecodedCall, _ sc: Syscall, memory m: inout Memory,
                             sameProcess: (Int32) -> Bool) {
        let raw = call.args, abi = call.abi, pid = m.pid
        var sawPath = false
        for (i, kind) in sc.args.enumerated() where i < raw.count {
            switch kind {
            case .path:
                let p = readPath(&m, addr: raw[i])
                if case .string(let s) = p { record(s, at: i, in: &call.memory, m) }
                if !sawPath { call.path = p; sawPath = true } else if call.path2 == nil { call.path2 = p }
            case .string:
                if case .string(let s) = readPath(&m, addr: raw[i]) { record(s, at: i, in: &call.memory, m) }
            case .pid, .tid:
                if call.targetInCallerGroup == nil {
                    let target = int32(raw[i])
                    if target > 0 { call.targetInCallerGroup = target == pid || sameProcess(target) }
                }
            case .sockaddr:
                let hasLength = sc.args.count > i + 1
                let len = i + 1 < raw.count ? raw[i + 1] : 0
                call.hasAddress = raw[i] != 0 && (hasLength ? len != 0 : true)
                if call.hasAddress == true {
                    let count = hasLength ? min(Int(len & 0xffff_ffff), 128) : 128
                    call.memory.sockaddr = readBytes(pid: pid, addr: raw[i], count: count)
                }
            case .msghdr:
                let m = msgName(pid: pid, abi: abi, msghdr: raw[i])
                call.hasAddress = m.map { $0.ptr != 0 && $0.len != 0 } ?? false
                if let m, call.hasAddress == true {
                    call.memory.sockaddr = readBytes(pid: pid, addr: m.ptr, count: min(Int(m.len & 0xffff_ffff), 128))
                }
            case .openHow:
                if let b = readBytes(pid: pid, addr: raw[i], count: 24) {
                    call.resolveFlags = b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
                }
            case .socketcallArgs:
                decodeSocketcall(&call, pid: pid)
            case .ipcCall:
                call.subcall = Multiplexer.ipcName(Int(truncatingIfNeeded: raw[i]))
            default:
                break
            }
        }
    }

    /// The index of the call's one path argument when that path is all `read` takes from the program: no other
    /// string, address, open_how or packed array read, no pid looked up. Such a call's `DecodedCall` is a function
    /// of its registers and that path's bytes alone. nil otherwise. Follows `read`'s switch: a kind `read` gains
    /// must be listed here too.
    static func onlyPathRead(_ sc: Syscall) -> Int? {
        var index: Int? = nil
        for (i, kind) in sc.args.enumerated() {
            switch kind {
            case .path:
                if index != nil { return nil }
                index = i
            case .string, .pid, .tid, .sockaddr, .msghdr, .openHow, .socketcallArgs, .ipcCall:
                return nil
            default:
                break
            }
        }
        return index
    }

    /// msg_name and msg_namelen of a struct msghdr (64-bit or i386 layout).
    static func msgName(pid: Int32, abi: ABI, msghdr: UInt64) -> (ptr: UInt64, len: UInt64)? {
        if abi == .i386 {
            guard let b = readBytes(pid: pid, addr: msghdr, count: 8) else { return nil }
            return b.withUnsafeBytes { (UInt64($0.loadUnaligned(as: UInt32.self)), UInt64($0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) }
        }
        guard let b = readBytes(pid: pid, addr: msghdr, count: 12) else { return nil }
        return b.withUnsafeBytes { ($0.loadUnaligned(as: UInt64.self), UInt64($0.loadUnaligned(fromByteOffset: 8, as: UInt32.self))) }
    }

    static func socketcallArgs(pid: Int32, ptr: UInt64) -> [UInt64]? {
        guard let b = readBytes(pid: pid, addr: ptr, count: 24) else { return nil }
        return b.withUnsafeBytes { r in (0..<6).map { UInt64(r.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
    }

    static func decodeSocketcall(_ call: inout DecodedCall, pid: Int32) {
        guard let sub = Multiplexer.socketcallName(Int(call.args[0])) else { return }
        call.subcall = sub
        guard let a = socketcallArgs(pid: pid, ptr: call.args[1]) else { return }
        call.subcallArgs = a
        call.memory.socketcall = a
        var name: (ptr: UInt64, len: UInt64)? = nil
        switch call.subcall {
        case "bind", "connect": call.hasAddress = a[1] != 0; name = (a[1], a[2])
        case "sendto": call.hasAddress = a[4] != 0 && a[5] != 0; name = (a[4], a[5])
        case "sendmsg":
            name = msgName(pid: pid, abi: .i386, msghdr: a[1])
            call.hasAddress = name.map { $0.ptr != 0 && $0.len != 0 } ?? false
        default: break
        }
        if call.hasAddress == true, let name, name.ptr != 0 {
            call.memory.sockaddr = readBytes(pid: pid, addr: name.ptr, count: min(Int(name.len & 0xffff_ffff), 128))
        }
    }

    // MARK: - The facts of a violation (only for violations: off the common path)

    /// The call's facts for the trace are its registers, the memory `decode` read (`DecodedCall.memory`) and
    /// this, `RawCall.base`: the directory a relative first path is resolved against — the path of the dirfd
    /// before it (the catalog's `dirfdIndex`) from /proc, or `cwd` for AT_FDCWD and calls without a dirfd (the
    /// backends cache it); nil for an absolute or unread path.
    static func base(_ call: DecodedCall, pid: Int32, cwd: () -> String?) -> String? {
        guard let sc = call.syscall, case .string(let p)? = call.path, !p.hasPrefix("/") else { return nil }
        if let d = sc.dirfdIndex, d < call.args.count, int32(call.args[d]) != atFDCWD {
            return ProcFS.fdPath(pid, int32(call.args[d]))
        }
        return cwd()
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}
