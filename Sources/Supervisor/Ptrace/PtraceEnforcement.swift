import CTraceShims
import CapabilityPolicy
import Glibc
import SyscallCatalog

/// Enforce mode must not be fooled by another thread rewriting a path between captrace's check and the
/// kernel's use of it. An approved descriptor-relative `openat` becomes `openat2(..., RESOLVE_BENEATH)`, so
/// the kernel itself refuses `..` escapes and absolute paths whatever the buffer holds by then. Other approved
/// descriptor-relative path calls get the checked path copied below the thread's stack red zone and their path
/// argument pointed at the copy; the program's own buffer is no longer read.
enum PtraceEnforcement {
    static let nrOpenat2 = UInt64(Catalog.shared.number(of: "openat2", abi: .x86_64)!)
    static let redZone: UInt64 = 128

    static func confine(_ call: DecodedCall, tid: Int32) {
        guard call.abi == .x86_64, let sc = call.syscall, sc.touches == .path,
              let dirIndex = sc.args.firstIndex(of: .dirfd), let pathIndex = sc.args.firstIndex(of: .path),
              case .string(let path)? = call.path, !path.isEmpty else { return }
        // Only calls the classifier allowed because they are relative to a held directory descriptor.
        guard Int32(truncatingIfNeeded: call.args[dirIndex]) != AtFlags.AT_FDCWD, !path.hasPrefix("/") else { return }
        var regs = user_regs_struct()
        guard ct_ptrace_getregs(tid, &regs) == 0 else { return }
        if sc.pathOp == .open, sc.index(of: .openFlags) != nil {  // openat (open has no dirfd, openat2 a struct)
            let flags = call.args[2]
            let creates = flags & (OpenFlags.O_CREAT | OpenFlags.O_TMPFILE) != 0
            var how: (UInt64, UInt64, UInt64) = (flags, creates ? call.args[3] & 0o7777 : 0, ResolveFlags.RESOLVE_BENEATH)
            let addr = (regs.rsp &- redZone &- 24) & ~15
            guard withUnsafeBytes(of: &how, { ct_write_mem(call.pid, UInt(addr), $0.baseAddress, 24) }) == 24 else { return }
            regs.orig_rax = nrOpenat2
            regs.rdx = addr
            regs.r10 = 24
            _ = ct_ptrace_setregs(tid, &regs)
            return
        }
        // Copy the checked path where the call will read it.
        var bytes = Array(path.utf8)
        bytes.append(0)
        let addr = (regs.rsp &- redZone &- UInt64(bytes.count)) & ~15
        guard bytes.withUnsafeBytes({ ct_write_mem(call.pid, UInt(addr), $0.baseAddress, $0.count) }) == bytes.count else { return }
        switch pathIndex {
        case 0: regs.rdi = addr
        case 1: regs.rsi = addr
        case 2: regs.rdx = addr
        case 3: regs.r10 = addr
        case 4: regs.r8 = addr
        default: regs.r9 = addr
        }
        _ = ct_ptrace_setregs(tid, &regs)
    }
}
