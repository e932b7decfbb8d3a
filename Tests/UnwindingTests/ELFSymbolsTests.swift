import Foundation
import Testing
import Unwinding

@Suite struct ELFSymbolsTests {
    /// The mapping of this process that holds `address` (the loader's, not a reader's mmap of the same file).
    func mapping(holding address: UInt64) -> (path: String, start: UInt64, offset: UInt64)? {
        guard let maps = FixtureBuilder.readFile("/proc/self/maps") else { return nil }
        for line in maps.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6 else { continue }
            let range = f[0].split(separator: "-").map { UInt64($0, radix: 16)! }
            if range[0] <= address && address < range[1] {
                return (String(f[5]), range[0], UInt64(f[2], radix: 16)!)
            }
        }
        return nil
    }

    @Test func libcSymbolPlusBiasIsItsRuntimeAddress() throws {
        let handle = dlopen(nil, RTLD_NOW)
        let address: UnsafeMutableRawPointer? = dlsym(handle, "getpid")
        let pointer = try #require(address)
        let real = UInt64(UInt(bitPattern: pointer))
        let m = try #require(mapping(holding: real))
        #expect(m.path.hasSuffix("/libc.so.6"))
        let sym = try #require(ELFSymbols.lookup("getpid", inFile: m.path))
        #expect(sym.size > 0)
        let bias = try #require(ELFSymbols.loadBias(file: m.path, mapStart: m.start, mapOffset: m.offset))
        #expect(bias &+ sym.value == real)
    }

    @Test func executableSymbolsStrippedAndNot() throws {
        let pie = try FixtureBuilder.build("elf-pie", sources: ["chain_main.c", "chain_f0.c", "chain_f1.c",
            "chain_f2.c", "chain_f3.c"], flags: ["-O0", "-fPIE", "-pie"])
        let f2 = try #require(ELFSymbols.lookup("f2", inFile: pie))
        #expect(f2.size > 0)
        #expect(ELFSymbols.lookup("main", inFile: pie) != nil)
        #expect(ELFSymbols.lookup("no_such_function", inFile: pie) == nil)
        // PIE: the first mapping at offset 0 has bias = start (vaddr 0).
        #expect(ELFSymbols.loadBias(file: pie, mapStart: 0x5555_0000_0000, mapOffset: 0) == 0x5555_0000_0000)

        let exec = try FixtureBuilder.build("elf-nopie", sources: ["chain_main.c", "chain_f0.c", "chain_f1.c",
            "chain_f2.c", "chain_f3.c"], flags: ["-O0", "-fno-PIE", "-no-pie"], strip: true)
        // Stripped: no .symtab, our functions are gone; imported functions are undefined, so absent too.
        #expect(ELFSymbols.lookup("f2", inFile: exec) == nil)
        #expect(ELFSymbols.lookup("read", inFile: exec) == nil)
        #expect(ELFSymbols.loadBias(file: exec, mapStart: 0x400000, mapOffset: 0) == 0)
        #expect(ELFSymbols.lookup("main", inFile: "/etc/hostname") == nil)
    }

    @Test func dynsymIsUsedWhenSymtabIsAbsent() throws {
        // libc.so.6 on Debian is stripped of .symtab: getaddrinfo must come from .dynsym.
        let sym = ELFSymbols.lookup("getaddrinfo", inFile: "/usr/lib/x86_64-linux-gnu/libc.so.6")
        #expect(sym != nil)
    }
}
