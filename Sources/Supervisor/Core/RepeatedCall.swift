import CTraceShims
import CapabilityPolicy
import Glibc

/// The part both backends' repeat paths share (NotifyLoop.repeatViolation, PtraceTransport.repeatViolation): a
/// violation just recorded, kept so that a next call equal to it can be recorded as its repeat without being
/// decoded, classified or drafted. The call is one whose `DecodedCall` is a function of its registers and its one
/// path's bytes (`Decoder.onlyPathRead`), absolute or relative to the current directory (a descriptor's directory
/// is named anew from /proc each time), and that changes no directory. Each backend adds what it must find
/// unchanged about the caller (thread, process, memory file, filter tag).
struct RepeatedCall {
    let arch: UInt32
    let nr: UInt64
    let args: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    let pathAddress: UInt64
    /// The bytes read at `pathAddress`, without the NUL.
    let path: [UInt8]
    /// The path is relative to the current directory, `base` (as the draft named it).
    let relative: Bool
    let base: String?
    /// The recorder's `draftSerial` after the violation was drafted.
    let draftSerial: Int

    /// nil when a call equal in its registers could be decoded or judged differently. `base`: the drafted call's.
    init?(arch: UInt32, nr: UInt64, args: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64), call: DecodedCall,
          base: String?, draftSerial: Int) {
        guard call.beneath == nil, let sc = call.syscall, !sc.changesWorkingDirectory,
              let i = Decoder.onlyPathRead(sc), i < call.args.count, case .string(let p)? = call.path else { return nil }
        relative = !p.hasPrefix("/")
        if relative, let d = sc.dirfdIndex, d < call.args.count, Decoder.int32(call.args[d]) != Decoder.atFDCWD { return nil }
        self.arch = arch; self.nr = nr; self.args = args
        pathAddress = call.args[i]; path = Array(p.utf8); self.base = base; self.draftSerial = draftSerial
    }

    /// The same call with the same registers.
    func matches(arch: UInt32, nr: UInt64, args a: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) -> Bool {
        nr == self.nr && arch == self.arch && a.0 == args.0 && a.1 == args.1 && a.2 == args.2 && a.3 == args.3
            && a.4 == args.4 && a.5 == args.5
    }

    /// Reads the path again as the Decoder reads it (`memFd` -1: process_vm_readv) into `buffer`
    /// (`Decoder.maxPath` + 1 bytes): whether it holds the same bytes, which decode to the same path.
    func samePath(memFd: Int32, pid: Int32, buffer: UnsafeMutablePointer<CChar>) -> Bool {
        var failed: Int32 = 0
        let got = ct_read_string_memfd(memFd, pid, UInt(pathAddress), buffer, Decoder.maxPath, &failed)
        return failed == 0 && got == path.count
            && (got == 0 || path.withUnsafeBytes { memcmp($0.baseAddress!, buffer, got) } == 0)
    }

    /// The directory a relative path is joined with is still `base` (`cwd` asked only for a relative path).
    func sameDirectory(_ cwd: () -> String?) -> Bool { !relative || cwd() == base }
}
