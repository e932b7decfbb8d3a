import SyscallCatalog

/// Renders a call's recorded facts (`RawCall`) as reports show them: arguments by the catalog's names and kinds,
/// flags by name, the path made absolute against the recorded directory, the socket address as text. A pure
/// function of the facts and the catalog, shared by every reader: a newer catalog re-renders an old trace.
public enum CallRendering {
    public struct Rendered: Sendable {
        public var args: [(String, ArgValue)] = []
        /// The first path argument, absolute where the recorded base allows (joined and normalised lexically).
        public var path: String?
        /// The socket address the call names: `127.0.0.1:53`, `[::1]:53`, `unix:/path`, `unix:@name`, ...
        public var address: String?
    }

    /// `syscall`: the catalog row for the call's ABI and number (nil for a number the catalog does not know).
    public static func render(_ sc: Syscall?, abi: ABI, raw: RawCall) -> Rendered {
        var out = Rendered()
        let regs = raw.args, mem = raw.memory
        guard let sc else {
            out.args = regs.enumerated().map { ("arg\($0.offset)", .string(hex($0.element))) }
            return out
        }
        var subcall: String? = nil
        if sc.name == "socketcall", let first = regs.first { subcall = Multiplexer.socketcallName(Int(first)) }
        if sc.name == "ipc", let first = regs.first { subcall = Multiplexer.ipcName(Int(first & 0xffff_ffff)) }
        (out.path, out.address) = detail(sc, raw: raw)
        var family: Int? = nil
        for (i, kind) in sc.args.enumerated() where i < regs.count {
            let v = regs[i]
            let name = i < sc.argNames.count ? sc.argNames[i] : "arg\(i)"
            let value: ArgValue
            switch kind {
            case .int, .fd: value = .int(Int64(int32(v)))
            case .uint: value = .int(Int64(bitPattern: v))
            case .ptr, .argv, .openHow: value = .string(hex(v))
            case .dirfd:
                let fd = int32(v)
                value = fd == AtFlags.AT_FDCWD ? .string("AT_FDCWD") : .int(Int64(fd))
            case .path, .string:
                let s = mem.strings[i]
                if let s { value = .string(s) } else if v == 0 { value = .null } else { value = .string("<unreadable \(hex(v))>") }
            case .atFlags: value = .string(AtFlags.describe(v))
            case .openFlags: value = .string(OpenFlags.describe(v))
            case .mode: value = .string(v & 0o7777 == 0 ? "0" : "0" + String(v & 0o7777, radix: 8))
            case .sockaddr:
                value = out.address.map { .string($0) } ?? (v == 0 ? .null : .string(hex(v)))
            case .sockaddrLen: value = .int(Int64(v & 0xffff_ffff))
            case .msghdr: value = .string(hex(v))
            case .pid, .tid: value = .int(Int64(int32(v)))
            case .signal: value = Signals.name(int32(v)).map { .string($0) } ?? .int(Int64(int32(v)))
            case .ipcKey: value = .string(IPCFlags.describeKey(v))
            case .ipcFlags: value = .string(IPCFlags.describe(v))
            case .accessMode: value = .string(AccessMode.describe(v))
            case .statxMask: value = .string(StatxMask.describe(v & 0xffff_ffff))
            case .addressFamily:
                family = Int(int32(v))
                value = AddressFamily.name(Int(int32(v))).map { .string($0) } ?? .int(Int64(int32(v)))
            case .socketType: value = .string(SocketFlags.describeType(v))
            case .cloneFlags: value = .string(CloneFlags.describe(v & 0xffff_ffff))
            case .socketProtocol:
                value = SocketFlags.describeProtocol(v, family: family).map { .string($0) } ?? .int(Int64(int32(v)))
            case .socketcallArgs: value = .string(hex(v))
            case .ipcCall: value = subcall.map { .string($0) } ?? .int(Int64(v))
            case .clockid: value = .int(Int64(int32(v)))
            }
            out.args.append((name, value))
        }
        if let subcall, sc.name == "socketcall" || sc.name == "ipc" {
            out.args.insert(("call", .string(subcall)), at: 0)
        }
        return out
    }

    /// What a call names, without rendering its arguments (the recorder's site of a call without a stack): the
    /// first path argument made absolute against the recorded base (the dirfd before it, else the cwd), and the
    /// socket address read (a sockaddr argument, a msghdr's name, or i386 socketcall's).
    public static func detail(_ sc: Syscall, raw: RawCall) -> (path: String?, address: String?) {
        var dirfd: Int32? = nil
        var path: String? = nil
        var names = false
        for (i, kind) in sc.args.enumerated() where i < raw.args.count {
            switch kind {
            case .dirfd: dirfd = int32(raw.args[i])
            case .path:
                if !names, let s = raw.memory.strings[i] { path = absolutePath(s, dirfd: dirfd, base: raw.base) }
                names = true
            default: break
            }
        }
        let namesAddress = sc.args.contains { $0 == .sockaddr || $0 == .msghdr || $0 == .socketcallArgs }
        return (path, namesAddress ? raw.memory.sockaddr.flatMap(sockaddrText) : nil)
    }

    static func int32(_ v: UInt64) -> Int32 { Int32(truncatingIfNeeded: v) }
    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// Joins a relative path with the directory it was resolved against and normalises it lexically; a
    /// relative path without a known absolute base stays as written.
    public static func absolutePath(_ p: String, dirfd: Int32?, base: String?) -> String {
        if p.hasPrefix("/") { return PathText.normalize(p) }
        guard let b = base, b.hasPrefix("/") else { return p }
        if p.isEmpty || p == "." { return b }
        return PathText.normalize(b + "/" + p)
    }

    /// "127.0.0.1:53", "[::1]:53", "unix:/path", "unix:@name", "netlink:PID", "family:N"; nil for fewer than
    /// two bytes.
    public static func sockaddrText(_ b: [UInt8]) -> String? {
        guard b.count >= 2 else { return nil }
        let family = Int(UInt16(b[0]) | UInt16(b[1]) << 8)
        switch family {
        case AddressFamily.AF_INET where b.count >= 8:
            let port = Int(b[2]) << 8 | Int(b[3])
            return "\(b[4]).\(b[5]).\(b[6]).\(b[7]):\(port)"
        case AddressFamily.AF_INET6 where b.count >= 24:
            let port = Int(b[2]) << 8 | Int(b[3])
            return "[\(ipv6(Array(b[8..<24])))]:\(port)"
        case AddressFamily.AF_UNIX:
            let body = b.count > 2 ? Array(b[2...]) : []
            if body.isEmpty { return "unix:" }
            if body[0] == 0 {
                // Abstract name: the length gives its end; embedded NULs shown as "@" (as ss(8) does).
                return "unix:@" + String(decoding: body.dropFirst().map { $0 == 0 ? UInt8(ascii: "@") : $0 }, as: UTF8.self)
            }
            return "unix:" + String(decoding: body.prefix(while: { $0 != 0 }), as: UTF8.self)
        case AddressFamily.AF_NETLINK where b.count >= 8:
            let nlpid = UInt32(b[4]) | UInt32(b[5]) << 8 | UInt32(b[6]) << 16 | UInt32(b[7]) << 24
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
