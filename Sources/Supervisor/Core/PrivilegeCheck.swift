import CTraceShims
import Glibc

/// What exec'ing a file would have granted that `no_new_privs` withholds: captrace sets it on every traced
/// program (a seccomp filter needs it without CAP_SYS_ADMIN), so the kernel ignores setuid/setgid bits and file
/// capabilities at exec. Recorded on exec events so that a report can say the traced run differs from an
/// untraced one. A fact about the file and the process's credentials; read at the exec event, after the exec.
struct PrivilegeCheck {
    /// Files seen with neither setuid/setgid bits nor file capabilities, by device, inode and status-change
    /// time: an exec-heavy run execs the same few files again and again, and each is then one `stat`. A change
    /// of mode or of the capabilities attribute moves the ctime, so a file changed since is read again.
    private var plain: Set<FileStamp> = []
    private struct FileStamp: Hashable {
        var dev: UInt, ino: UInt, ctimeSec: Int, ctimeNsec: Int
    }

    /// "setuid uid 65534", "setgid gid 5", "file capabilities", joined by ", "; nil when the exec would have
    /// gained nothing (no such bits, the ids are the process's own, a nosuid mount, or file capabilities for
    /// root, who holds them all).
    /// `status`: the file's, when the caller has just read it (its path was the execve's).
    mutating func withheld(path: String, pid: Int32, status: stat? = nil) -> String? {
        var st = status ?? stat()
        guard status != nil || stat(path, &st) == 0 else { return nil }
        // Most files have neither bits nor capabilities: then nothing else is read (an exec-heavy run asks this
        // at every exec).
        let setuid = st.st_mode & S_ISUID != 0, setgid = st.st_mode & S_ISGID != 0 && st.st_mode & S_IXGRP != 0
        let stamp = FileStamp(dev: UInt(st.st_dev), ino: UInt(st.st_ino), ctimeSec: st.st_ctim.tv_sec,
                              ctimeNsec: st.st_ctim.tv_nsec)
        if !setuid && !setgid && plain.contains(stamp) { return nil }
        let capabilities = ct_file_capabilities_size(path) > 0
        guard setuid || setgid || capabilities else {
            if plain.count >= 4096 { plain.removeAll(keepingCapacity: true) }  // bounded
            plain.insert(stamp)
            return nil
        }
        var vfs = statvfs()
        if statvfs(path, &vfs) == 0, vfs.f_flag & UInt(ST_NOSUID) != 0 { return nil }
        let ids = Self.credentials(pid)
        var out: [String] = []
        if setuid, st.st_uid != ids.euid { out.append("setuid uid \(st.st_uid)") }
        if setgid, st.st_gid != ids.egid { out.append("setgid gid \(st.st_gid)") }
        if ids.euid != 0, capabilities {
            out.append("file capabilities")
        }
        return out.isEmpty ? nil : out.joined(separator: ", ")
    }

    /// The process's effective uid and gid (from /proc/PID/status; captrace's own when unreadable).
    static func credentials(_ pid: Int32) -> (euid: UInt32, egid: UInt32) {
        var euid = geteuid(), egid = getegid()
        guard let f = fopen("/proc/\(pid)/status", "re") else { return (euid, egid) }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fields = s.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "\n" })
            guard fields.count >= 3 else { continue }
            if fields[0] == "Uid:", let v = UInt32(fields[2]) { euid = v }
            if fields[0] == "Gid:", let v = UInt32(fields[2]) { egid = v }
        }
        return (euid, egid)
    }
}
