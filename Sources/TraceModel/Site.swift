/// Call-site identity: a hash of the stack's (module, file offset) pairs, stable across runs and ASLR.
public enum Site {
    /// FNV-1a 64 over each frame's module path and file offset; frames without a module contribute their pc
    /// only if nothing else is known. With no stack (`--stack-depth 0`) the site is the syscall and its path
    /// or address, so reports still group equal calls. 16 lowercase hex digits.
    public static func id(stack: [Frame], syscall: String, detail: String?) -> String {
        var h = FNV1a()
        h.mix(syscall)
        if stack.isEmpty {
            h.mix(detail ?? "")
        } else {
            for f in stack {
                if let m = f.module, let o = f.offset { h.mix(m); h.mix(o) } else { h.mix(f.pc) }
            }
        }
        // Written digit by digit: the recorder names a site for every new stack (each new process's, under ASLR).
        let v = h.value
        return String(unsafeUninitializedCapacity: 16) { out in
            for i in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: v >> (60 - 4 * UInt64(i))) & 0xf
                out[i] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            }
            return 16
        }
    }

    /// FNV-1a 64: a string's UTF-8 bytes and a 0, or a number's 8 bytes, least significant first.
    private struct FNV1a {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func byte(_ b: UInt8) { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        mutating func mix(_ s: String) {
            var s = s
            s.withUTF8 { for b in $0 { byte(b) } }
            byte(0)
        }
        mutating func mix(_ v: UInt64) {
            var x = v
            for _ in 0..<8 { byte(UInt8(truncatingIfNeeded: x)); x >>= 8 }
        }
    }
}
