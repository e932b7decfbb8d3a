import Glibc

/// captrace's directory in the user's cache (`$XDG_CACHE_HOME/captrace`, else `~/.cache/captrace`; relative
/// values are ignored, as the XDG base directory specification says), shared by the caches that save work across
/// runs (the seccomp filters, the symbol names). What is read back from it is trusted only from a regular file of
/// this user that no one else may write.
public enum UserCache {
    /// The directory `sub` below captrace's cache directory (itself when nil), or nil when the cache is off:
    /// the variable `disable` set to anything but "" or "0", or neither `$XDG_CACHE_HOME` nor `$HOME` absolute.
    public static func directory(_ sub: String? = nil, disabledBy disable: String) -> String? {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        if let off = env(disable), !off.isEmpty, off != "0" { return nil }
        let base: String
        if let xdg = env("XDG_CACHE_HOME"), xdg.hasPrefix("/") { base = xdg + "/captrace" }
        else if let home = env("HOME"), home.hasPrefix("/") { base = home + "/.cache/captrace" }
        else { return nil }
        return sub.map { base + "/" + $0 } ?? base
    }

    /// Creates `directory` (mode 0700) with what is missing from the cache base's parent down (`~/.cache` or
    /// `$XDG_CACHE_HOME`, never above it: a home directory that does not exist is not made); true when it is a
    /// directory now.
    public static func makeDirectory(_ directory: String) -> Bool {
        var st = stat()
        if stat(directory, &st) == 0 { return st.st_mode & S_IFMT == S_IFDIR }
        let parts = directory.split(separator: "/")
        // From the cache base's parent down; a directory elsewhere (a test's): itself and its parent.
        let base = parts.lastIndex(of: "captrace") ?? max(parts.count - 1, 1)
        var prefix = ""
        for (i, part) in parts.enumerated() {
            prefix += "/" + part
            if i >= base - 1 && mkdir(prefix, 0o700) != 0 && errno != EEXIST { return false }
        }
        return stat(directory, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// Whether the open file `fd` may be trusted: a regular file of this user that no one else may write.
    public static func isOwnFile(_ fd: Int32, _ st: inout stat) -> Bool {
        fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFREG && st.st_uid == geteuid() && st.st_mode & 0o022 == 0
    }

    /// Bounds a cache directory: beyond `limit` regular files whose names `matches`, removes those modified
    /// longest ago (then by name), never `keeping`. Nothing else in the directory is touched; files another run
    /// removes meanwhile are passed over. What a cache loses this way is only work done again.
    public static func prune(_ directory: String, limit: Int, keeping: String, matches: (String) -> Bool) {
        guard let dir = opendir(directory) else { return }
        var files: [(name: String, mtime: timespec)] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard matches(name) else { continue }
            var st = stat()
            guard fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            files.append((name, st.st_mtim))
        }
        closedir(dir)
        guard files.count > limit else { return }
        files.sort { ($0.mtime.tv_sec, $0.mtime.tv_nsec, $0.name) < ($1.mtime.tv_sec, $1.mtime.tv_nsec, $1.name) }
        var excess = files.count - limit
        for f in files where excess > 0 {
            let path = directory + "/" + f.name
            guard path != keeping else { continue }
            unlink(path)
            excess -= 1
        }
    }
}
