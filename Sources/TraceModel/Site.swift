/// Call-site identity: a hash of the stack's (module, file offset) pairs, stable across runs and ASLR.
public enum Site {
    /// FNV-1a 64 over each frame's module path and file offset; frames without a module contribute their pc
    /// only if nothing else is known. With no stack (`--stack-depth 0`) the site is the syscall and its path
    /// or address, so reports still group equal calls.
    public static func id(stack: [Frame], syscall: String, detail: String?) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func byte(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        func mix(_ s: String) { for b in s.utf8 { byte(b) }; byte(0) }
        func mix(_ v: UInt64) { var x = v; for _ in 0..<8 { byte(UInt8(truncatingIfNeeded: x)); x >>= 8 } }
        mix(syscall)
        if stack.isEmpty {
            mix(detail ?? "")
        } else {
            for f in stack {
                if let m = f.module, let o = f.offset { mix(m); mix(o) } else { mix(f.pc) }
            }
        }
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
