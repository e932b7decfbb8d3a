import CUnwindShims

/// ELF symbol lookup for the supervisor's breakpoint triggers (`symbol:NAME`, `main`).
public enum ELFSymbols {
    /// Defined function symbol `name` in an ELF file: st_value (link-time virtual address) and size;
    /// `.symtab` first, then `.dynsym`. nil if absent or the file is not ELF.
    public static func lookup(_ name: String, inFile path: String) -> (value: UInt64, size: UInt64)? {
        var value: UInt64 = 0
        var size: UInt64 = 0
        guard ct_uw_elf_lookup(path, name, &value, &size) == 0 else { return nil }
        return (value, size)
    }

    /// Given a module file and one of its mappings from /proc/PID/maps (start address, file offset), the load
    /// bias such that runtime = bias + st_value (0 for ET_EXEC). nil if no loadable segment covers the offset.
    public static func loadBias(file: String, mapStart: UInt64, mapOffset: UInt64) -> UInt64? {
        var bias: UInt64 = 0
        guard ct_uw_elf_load_bias(file, mapStart, mapOffset, &bias) == 0 else { return nil }
        return bias
    }
}
