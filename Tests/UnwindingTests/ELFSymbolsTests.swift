import Foundation
import Testing
import Unwinding

@Suite struct ELFSymbolsTests {
    /// The mapping of `path` in this process with the lowest start address (its first PT_LOAD).
    func firstMapping(of path: String) -> (start: UInt64, offset: UInt64)? {
        guard let maps = FixtureBuilder.readFile("/proc/self/maps") else { return nil }
        for line in maps.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, String(f[5]) == path else { continue }
            let range = f[0].split(separator: "-")
            return (UInt64(range[0], radix: 16)!, UInt64(f[2], radix: 16)!)
        }
        return nil
    }

    @Test func libcSymbolPlusBiasIsItsRuntimeAddress() throws {
        let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
        let realLibc = (try? FileManager.default.destinationOfSymbolicLink(atPath: libc)).map {
            $0.hasPrefix("/") ? $0 : "/usr/lib/x86_64-linux-gnu/" + $0 } ?? libc
        // /proc/self/maps names the file the loader opened; accept either spelling.
        let mapping = firstMapping(of: libc) ?? firstMapping(of: "/lib/x86_64-linux-gnu/libc.so.6")
            ?? firstMapping(of: realLibc)
        let m = try #require(mapping)
        let sym = try #require(ELFSymbols.lookup("getpid", inFile: libc))
        #expect(sym.size > 0)
        let bias = try #require(ELFSymbols.loadBias(file: libc, mapStart: m.start, mapOffset: m.offset))
        let handle = dlopen(nil, RTLD_NOW)
        let real = try #require(dlsym(handle, "getpid"))
        #expect(bias &+ sym.value == UInt64(UInt(bitPattern: real)))
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
