import Glibc
import TraceModel

/// Readers for /proc: small, allocation-light, and tolerant of processes that vanish (nil, never a crash).
enum ProcFS {
    /// Reads a whole small file (status, maps, ...). nil if it cannot be read.
    static func read(_ path: String, limit: Int = 1 << 22) -> String? {
        bytes(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The bytes of a whole small file (at least `limit` of them when it is longer). nil if it cannot be read.
    static func bytes(_ path: String, limit: Int = 1 << 22) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        // An uninitialised buffer the size of the limit (at most 64 KiB; on the stack for the small files the
        // notify backend reads per call and per exec): zeroing 64 KiB per read showed in exec-heavy profiles.
        let ok = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: min(limit, 65536)) { buf -> Bool in
            while out.count < limit {
                let n = Glibc.read(fd, buf.baseAddress, buf.count)
                if n < 0 { if errno == EINTR { continue }; return false }
                if n == 0 { break }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<n]))
            }
            return true
        }
        return ok ? out : nil
    }

    static func readlink(_ path: String) -> String? {
        // Into a buffer on the stack first (a link read per exec; 4 KiB would be a heap allocation in Swift); a
        // longer target is read again whole. A target that fills the buffer may have been cut: asked again.
        for size in [512, 4096] {
            let got = withUnsafeTemporaryAllocation(of: CChar.self, capacity: size) { buf -> String?? in
                let n = Glibc.readlink(path, buf.baseAddress!, size)
                guard n >= 0 else { return .some(nil) }
                guard n < size || size == 4096 else { return nil }
                return .some(String(decoding: UnsafeRawBufferPointer(start: buf.baseAddress, count: n), as: UTF8.self))
            }
            if let got { return got }
        }
        return nil
    }

    /// (Tgid, PPid) from /proc/TID/status: both are in its first lines (after Name, whose value the kernel
    /// escapes, so it holds no newline), read into a buffer on the stack.
    static func tgidAndPPid(_ tid: Int32) -> (tgid: Int32, ppid: Int32)? {
        let fd = open("/proc/\(tid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buf -> (tgid: Int32, ppid: Int32)? in
            var n = 0
            while n < buf.count {
                let r = Glibc.read(fd, buf.baseAddress! + n, buf.count - n)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { break }
                n += r
            }
            var tgid: Int32?, ppid: Int32?
            var line = 0
            while line < n, tgid == nil || ppid == nil {
                var end = line
                while end < n && buf[end] != 0x0A { end += 1 }
                if end == n { break }  // an incomplete last line
                func value(_ key: String) -> Int32? {
                    let k = Array(key.utf8)
                    guard end - line > k.count, (0..<k.count).allSatisfy({ buf[line + $0] == k[$0] }) else { return nil }
                    var i = line + k.count, v: Int32 = 0, digits = 0
                    while i < end && (buf[i] == 0x20 || buf[i] == 0x09) { i += 1 }
                    while i < end, buf[i] >= 0x30, buf[i] <= 0x39, digits < 10 { v = v &* 10 &+ Int32(buf[i] - 0x30); i += 1; digits += 1 }
                    return digits > 0 && i == end ? v : nil
                }
                if tgid == nil, let v = value("Tgid:") { tgid = v }
                else if ppid == nil, let v = value("PPid:") { ppid = v }
                line = end + 1
            }
            guard let tgid, let ppid else { return nil }
            return (tgid, ppid)
        }
    }

    static func exe(_ pid: Int32) -> String? { readlink("/proc/\(pid)/exe") }
    /// `path` with every symlink resolved (realpath(3), relative to captrace's directory); nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let r = Glibc.realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
    static func cwd(_ pid: Int32) -> String? { readlink("/proc/\(pid)/cwd") }
    static func fdPath(_ pid: Int32, _ fd: Int32) -> String? { readlink("/proc/\(pid)/fd/\(fd)") }

    /// A mapping of /proc/PID/maps with a file behind it.
    struct Mapping {
        var start: UInt64
        var end: UInt64
        var perms: Substring
        var offset: UInt64
        var path: String
    }

    static func maps(_ pid: Int32) -> [Mapping] {
        guard let s = read("/proc/\(pid)/maps") else { return [] }
        var out: [Mapping] = []
        for line in s.split(separator: "\n") {
            // start-end perms offset dev inode path
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count >= 6 else { continue }
            let path = f[5].trimmingCharacters(in: " ")
            guard path.hasPrefix("/") else { continue }
            let range = f[0].split(separator: "-")
            guard range.count == 2, let a = UInt64(range[0], radix: 16), let b = UInt64(range[1], radix: 16),
                  let off = UInt64(f[2], radix: 16) else { continue }
            out.append(Mapping(start: a, end: b, perms: f[1], offset: off, path: path))
        }
        return out
    }

    /// The descriptors a process holds, as for the `enter` event (kind, path, flags from /proc/PID/fdinfo).
    /// Everything is read relative to one descriptor of /proc/PID: the kernel then resolves "/proc/PID" once,
    /// not for each of the three files of each descriptor (capability entry stops the program while this runs).
    static func descriptors(_ pid: Int32) -> [FDEntry] {
        let dir = open("/proc/\(pid)", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return [] }
        defer { close(dir) }
        let at = ProcDir(fd: dir, base: "")
        return descriptorNumbers(at).compactMap { fd in
            describe(at, fd: fd).map { FDEntry(fd: fd, kind: $0.kind, path: $0.path, flags: $0.flags) }
        }
    }

    /// The descriptor numbers a process holds (from /proc/PID/fd), sorted.
    static func descriptorNumbers(_ pid: Int32) -> [Int32] { descriptorNumbers(ProcDir(pid)) }

    /// Kind, path and open flags of one descriptor, as the `enter` event describes descriptors. By absolute
    /// paths: for one descriptor (`--rights`, per call that creates one) a descriptor of /proc/PID would cost
    /// two more system calls than it saves.
    static func describe(pid: Int32, fd: Int32) -> (kind: DescriptorKind, path: String, flags: UInt64)? {
        describe(ProcDir(pid), fd: fd)
    }

    /// Where a process's /proc files are read: `base` + name relative to `fd` (a descriptor of /proc/PID and
    /// no base, or AT_FDCWD and "/proc/PID/").
    private struct ProcDir {
        var fd: Int32
        var base: String
        init(fd: Int32, base: String) { self.fd = fd; self.base = base }
        init(_ pid: Int32) { self.init(fd: AT_FDCWD, base: "/proc/\(pid)/") }
    }

    private static func descriptorNumbers(_ at: ProcDir) -> [Int32] {
        let fdDir = openat(at.fd, at.base + "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fdDir >= 0, let d = fdopendir(fdDir) else {
            if fdDir >= 0 { close(fdDir) }
            return []
        }
        defer { closedir(d) }
        var fds: [Int32] = []
        while let ent = readdir(d) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let fd = Int32(name) { fds.append(fd) }
        }
        return fds.sorted()
    }

    private static func describe(_ at: ProcDir, fd: Int32) -> (kind: DescriptorKind, path: String, flags: UInt64)? {
        guard fd >= 0 else { return nil }
        let link = at.base + "fd/\(fd)"
        let target: String? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buf in
            let chars = UnsafeMutableRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            let n = readlinkat(at.fd, link, chars, 4096)
            return n < 0 ? nil : String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
        guard let target else { return nil }
        let flags = fdinfoFlags(at, fd: fd)
        let kind: DescriptorKind
        var st = stat()
        if target.hasPrefix("socket:") { kind = .socket }
        else if target.hasPrefix("pipe:") { kind = .pipe }
        else if target.hasPrefix("anon_inode:") { kind = .anon }
        else if fstatat(at.fd, link, &st, 0) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFDIR: kind = .directory
            case S_IFREG: kind = .file
            case S_IFCHR:
                kind = target.hasPrefix("/dev/pts/") || target.hasPrefix("/dev/tty") || target == "/dev/console" ? .tty : .device
            case S_IFIFO: kind = .pipe
            case S_IFSOCK: kind = .socket
            default: kind = .other
            }
        } else { kind = .other }
        return (kind, target, flags)
    }

    /// The octal `flags:` of /proc/PID/fdinfo/FD (0 when unreadable). It is the file's second line ("pos:"
    /// first), so one read of its start is enough: what follows (epoll or inotify entries) can be long.
    private static func fdinfoFlags(_ at: ProcDir, fd: Int32) -> UInt64 {
        let f = openat(at.fd, at.base + "fdinfo/\(fd)", O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { return 0 }
        defer { close(f) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buf -> UInt64 in
            var n = 0
            repeat { n = Glibc.read(f, buf.baseAddress, buf.count) } while n < 0 && errno == EINTR
            guard n > 0 else { return 0 }
            let key = Array("flags:".utf8)
            var line = 0
            while line < n {
                var end = line
                while end < n && buf[end] != 0x0A { end += 1 }
                if end - line > key.count, (0..<key.count).allSatisfy({ buf[line + $0] == key[$0] }) {
                    var v: UInt64 = 0, i = line + key.count
                    while i < end && (buf[i] == 0x20 || buf[i] == 0x09) { i += 1 }
                    while i < end, buf[i] >= 0x30, buf[i] <= 0x37 { v = v << 3 | UInt64(buf[i] - 0x30); i += 1 }
                    return v
                }
                line = end + 1
            }
            return 0
        }
    }

    struct FDEntry {
        var fd: Int32
        var kind: DescriptorKind
        var path: String
        var flags: UInt64
    }
}

extension Substring {
    func trimmingCharacters(in chars: String) -> String {
        var s = self[...]
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
extension String {
    func trimmingCharacters(in chars: String) -> String { self[...].trimmingCharacters(in: chars) }
}
