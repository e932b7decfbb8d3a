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
            case .int(let i)?: flags = OpenFlags.describe(UInt64(bitPattern: i))
            default: break
            }
        }
        rawPath = raw
        openFlags = flags
        if let f = flags {
            let names = Set(f.split(separator: "|").map(String.init))
            writes = !names.isDisjoint(with: ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE"])
        } else {
            writes = Catalog.shared.syscall(named: v.syscall)?.mutatesPath ?? false
        }
    }
}

