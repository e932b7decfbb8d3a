import SyscallCatalog
import TraceModel

/// Facts about a recorded violation's call that several writers need: its path argument as written, its open
/// flags, and whether it modifies the filesystem.
struct CallFacts {
    /// The path argument as the program passed it (relative for cwd-relative lookups).
    let rawPath: String?
    /// The open flags as decoded (`O_RDONLY|O_CLOEXEC`), when the call has them.
    let openFlags: String?
    /// True when the call creates, changes or removes something at the path (or opens it for writing).
    let writes: Bool

    init(_ v: ViolationEvent) {
        var raw: String? = nil
        var flags: String? = nil
        if let row = Catalog.shared.syscall(named: v.syscall) {
            func arg(_ i: Int?) -> ArgValue? {
                guard let i, i < row.argNames.count else { return nil }
                return v.arg(row.argNames[i])
            }
            if case .string(let s)? = arg(row.pathIndex) { raw = s }
            switch arg(row.index(of: .openFlags)) {
            case .string(let s)?: flags = s
            case .int(let i)?: flags = OpenFlagsText.describe(i)
            default: break
            }
        }
        rawPath = raw
        openFlags = flags
        if let f = flags {
            let names = Set(f.split(separator: "|").map(String.init))
            writes = !names.isDisjoint(with: ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE"])
        } else {
            writes = mutatingPathSyscalls.contains(v.syscall)
        }
    }
}


/// Path syscalls that change the filesystem (create, remove, rename, change metadata); a fact about Linux.
let mutatingPathSyscalls: Set<String> = [
    "creat", "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "fchmodat2", "chown", "lchown",
    "fchownat", "chown32", "lchown32", "utime", "utimes", "futimesat", "utimensat", "utimensat_time64", "truncate",
    "truncate64", "setxattr", "lsetxattr", "removexattr", "lremovexattr", "setxattrat", "removexattrat",
]

/// Open flags from a raw integer (x86 values), for traces that recorded them as numbers.
enum OpenFlagsText {
    static let bits: [(Int64, String)] = [
        (0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"), (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"), (0o10000, "O_DSYNC"), (0o200000, "O_DIRECTORY"), (0o400000, "O_NOFOLLOW"),
        (0o2000000, "O_CLOEXEC"), (0o10000000, "O_PATH"),
    ]

    static func describe(_ v: Int64) -> String {
        var parts = [["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(v & 3)]]
        for (bit, name) in bits where v & bit != 0 { parts.append(name) }
        return parts.joined(separator: "|")
    }
}
