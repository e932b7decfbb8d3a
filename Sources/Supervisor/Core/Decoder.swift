import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog
import TraceModel

/// Turns a stopped syscall (number, ABI, raw arguments) into the classifier's `DecodedCall` and, for
/// violations only, into the trace's decoded `args`, `path` and `address`. All reads of the program's memory
/// happen here, bounded, and a bad pointer is recorded as unreadable — never a crash.
struct Decoder {
    static let atFDCWD: Int32 = -100
    static let maxPath = 4096

    /// Reads a NUL-terminated string from the tracee. `.unreadable` on a bad pointer, `.null` for NULL.
    static func readPath(pid: Int32, addr: UInt64) -> PathArg {
        if addr == 0 { return .null }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: maxPath + 1) { buf in
            let n = ct_read_string(pid, UInt(addr), buf.baseAddress, maxPath)
            guard n >= 0 else { return .unreadable }
            let bytes = UnsafeRawBufferPointer(start: buf.baseAddress, count: n)
            return .string(String(decoding: bytes, as: UTF8.self))
        }
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
        let raw = stop.args, abi = stop.abi
        var call = DecodedCall(abi: abi, nr: stop.nr, syscall: stop.syscall, args: raw, pid: pid, tid: tid)
        guard let sc = stop.syscall else { return call }
        var sawPath = false
        for (i, kind) in sc.args.enumerated() where i < raw.count {
            switch kind {
            case .path:
                let p = readPath(pid: pid, addr: raw[i])
                if !sawPath { call.path = p; sawPath = true } else if call.path2 == nil { call.path2 = p }
            case .pid, .tid:
                if call.targetInCallerGroup == nil {
                    let target = int32(raw[i])
                    if target > 0 { call.targetInCallerGroup = target == pid || sameProcess(target) }
                }
            case .sockaddr:
                let len = i + 1 < raw.count ? raw[i + 1] : 0
                call.hasAddress = raw[i] != 0 && (sc.args.count > i + 1 ? len != 0 : true)
            case .msghdr:
                call.hasAddress = msgName(pid: pid, abi: abi, msghdr: raw[i]).map { $0.ptr != 0 && $0.len != 0 } ?? false
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
        return call
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
        switch call.subcall {
        case "bind", "connect": call.hasAddress = a[1] != 0
        case "sendto": call.hasAddress = a[4] != 0 && a[5] != 0
        case "sendmsg": call.hasAddress = msgName(pid: pid, abi: .i386, msghdr: a[1]).map { $0.ptr != 0 && $0.len != 0 } ?? false
        default: break
        }
    }

    // MARK: - Rendering a violation's arguments (only for violations: off the common path)

    struct Rendered {
        var args: [(String, ArgValue)] = []
        var path: String?
        var address: String?
    }

    /// `cwd` gives the caller's current directory (the ptrace backend caches it per thread).
    static func render(_ call: DecodedCall, pid: Int32, cwd: () -> String?) -> Rendered {
        var out = Rendered()
        guard let sc = call.syscall else {
            out.args = call.args.enumerated().map { ("arg\($0.offset)", .string(hex($0.element))) }
            return out
        }
        var dirfd: Int32? = nil
        var firstPath = true
        for (i, kind) in sc.args.enumerated() where i < call.args.count {
            let v = call.args[i]
            let name = i < sc.argNames.count ? sc.argNames[i] : "arg\(i)"
            let value: ArgValue
            switch kind {
            case .int, .fd: value = .int(Int64(int32(v)))
            case .uint: value = .int(Int64(bitPattern: v))
            case .ptr, .argv, .openHow: value = .string(hex(v))
            case .dirfd:
                let fd = int32(v)
                dirfd = fd
                value = fd == atFDCWD ? .string("AT_FDCWD") : .int(Int64(fd))
            case .path, .string:
                let p = (kind == .path && firstPath) ? call.path : (kind == .path ? call.path2 : readPath(pid: pid, addr: v))
                switch p {
                case .string(let s)?: value = .string(s)
                case .null?: value = .null
                default: value = .string("<unreadable \(hex(v))>")
                }
                if kind == .path {
                    if firstPath, case .string(let s)? = p { out.path = absolutePath(s, dirfd: dirfd, pid: pid, cwd: cwd) }
                    firstPath = false
                }
            case .atFlags: value = .string(AtFlags.describe(v))
            case .openFlags: value = .string(OpenFlags.describe(v))
            case .mode: value = .string(v & 0o7777 == 0 ? "0" : "0" + String(v & 0o7777, radix: 8))
            case .sockaddr:
                let len = i + 1 < call.args.count ? Int(call.args[i + 1] & 0xffff_ffff) : 128
                let a = sockaddr(pid: pid, addr: v, len: len)
                out.address = a
                value = a.map { .string($0) } ?? (v == 0 ? .null : .string(hex(v)))
            case .sockaddrLen: value = .int(Int64(v & 0xffff_ffff))
            case .msghdr:
                if let m = msgName(pid: pid, abi: call.abi, msghdr: v), m.ptr != 0, m.len != 0 {
                    out.address = sockaddr(pid: pid, addr: m.ptr, len: Int(m.len))
                }
                value = .string(hex(v))
            case .pid, .tid: value = .int(Int64(int32(v)))
            case .signal: value = Signals.name(int32(v)).map { .string($0) } ?? .int(Int64(int32(v)))
            case .ipcKey: value = .int(Int64(int32(v)))
            case .socketcallArgs:
                value = .string(hex(v))
                if let a = socketcallArgs(pid: pid, ptr: v) {
                    switch call.subcall {
                    case "bind", "connect": out.address = sockaddr(pid: pid, addr: a[1], len: Int(a[2]))
                    case "sendto": out.address = sockaddr(pid: pid, addr: a[4], len: Int(a[5]))
                    case "sendmsg":
                        if let m = msgName(pid: pid, abi: .i386, msghdr: a[1]), m.ptr != 0 {
                            out.address = sockaddr(pid: pid, addr: m.ptr, len: Int(m.len))
                        }
                    default: break
                    }
                }
            case .ipcCall: value = call.subcall.map { .string($0) } ?? .int(Int64(v))
            case .clockid: value = .int(Int64(int32(v)))
            }
            out.args.append((name, value))
        }
        if let sub = call.subcall, sc.name == "socketcall" || sc.name == "ipc" {
            out.args.insert(("call", .string(sub)), at: 0)
        }
        return out
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// Joins a relative path with its directory (the dirfd's path, or the cwd for AT_FDCWD and non-at calls)
    /// and normalises it lexically.
    static func absolutePath(_ p: String, dirfd: Int32?, pid: Int32, cwd: () -> String?) -> String {
        if p.hasPrefix("/") { return PathText.normalize(p) }
        let base: String?
        if let fd = dirfd, fd != atFDCWD { base = ProcFS.fdPath(pid, fd) } else { base = cwd() }
        guard let b = base, b.hasPrefix("/") else { return p }
        if p.isEmpty || p == "." { return b }
        return PathText.normalize(b + "/" + p)
    }

    /// "127.0.0.1:53", "[::1]:53", "unix:/path", "unix:@name", "netlink:PID", "family N".
    static func sockaddr(pid: Int32, addr: UInt64, len: Int) -> String? {
        guard addr != 0, len >= 2 else { return nil }
        guard let b = readBytes(pid: pid, addr: addr, count: min(len, 128)) else { return nil }
        let family = Int32(UInt16(b[0]) | UInt16(b[1]) << 8)
        switch family {
        case AF_INET where b.count >= 8:
            let port = Int(b[2]) << 8 | Int(b[3])
            return "\(b[4]).\(b[5]).\(b[6]).\(b[7]):\(port)"
        case AF_INET6 where b.count >= 24:
            let port = Int(b[2]) << 8 | Int(b[3])
            return "[\(ipv6(Array(b[8..<24])))]:\(port)"
        case AF_UNIX:
            let body = b.count > 2 ? Array(b[2...]) : []
            if body.isEmpty { return "unix:" }
            if body[0] == 0 {
                // Abstract name: the length gives its end; embedded NULs shown as "@" (as ss(8) does).
                return "unix:@" + String(decoding: body.dropFirst().map { $0 == 0 ? UInt8(ascii: "@") : $0 }, as: UTF8.self)
            }
            return "unix:" + String(decoding: body.prefix(while: { $0 != 0 }), as: UTF8.self)
        case AF_NETLINK where b.count >= 8:
            let nlpid = b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
            return "netlink:\(nlpid)"
        default:
            return "family:\(family)"
        }
    }

    static func ipv6(_ a: [UInt8]) -> String {
        var groups: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(a[i]) << 8 | UInt16(a[i + 1])) }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xffff {
            return "::ffff:\(a[12]).\(a[13]).\(a[14]).\(a[15])"
        }
        // Longest run of zero groups (length >= 2) becomes "::".
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hexs(_ g: ArraySlice<UInt16>) -> String { g.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hexs(groups[...]) }
        return hexs(groups[0..<bestStart]) + "::" + hexs(groups[(bestStart + bestLen)...])
    }
}
