import Foundation
import Testing
@testable import SyscallCatalog

/// The checkout's root (resolving symlinks, so the test also works from a package that links these sources).
private let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct CatalogNumbers {
    let catalog = Catalog.shared

    @Test(arguments: [
        // (abi, name, number) checked against asm/unistd_64.h, unistd_32.h, unistd_x32.h
        (ABI.x86_64, "read", 0), (.x86_64, "open", 2), (.x86_64, "openat", 257), (.x86_64, "newfstatat", 262),
        (.x86_64, "execve", 59), (.x86_64, "connect", 42), (.x86_64, "io_uring_setup", 425), (.x86_64, "openat2", 437),
        (.x86_64, "clone3", 435), (.x86_64, "set_mempolicy_home_node", 450),
        (.i386, "restart_syscall", 0), (.i386, "exit", 1), (.i386, "open", 5), (.i386, "socketcall", 102),
        (.i386, "ipc", 117), (.i386, "fstatat64", 300), (.i386, "_llseek", 140), (.i386, "openat", 295),
        (.i386, "connect", 362), (.i386, "clock_gettime64", 403),
        (.x32, "read", 0), (.x32, "openat", 257), (.x32, "rt_sigaction", 512), (.x32, "execve", 520),
        (.x32, "execveat", 545), (.x32, "preadv2", 546), (.x32, "pwritev2", 547),
        // newer than the headers (Tools/syscall-numbers-newer.tbl, from the kernel's syscall_64.tbl/syscall_32.tbl)
        (.x86_64, "fchmodat2", 452), (.x86_64, "setxattrat", 463), (.x86_64, "file_setattr", 469),
        (.x86_64, "uretprobe", 335), (.i386, "fchmodat2", 452), (.i386, "removexattrat", 466), (.x32, "fchmodat2", 452),
    ])
    func numberMatchesHeader(abi: ABI, name: String, nr: Int) {
        #expect(catalog.number(of: name, abi: abi) == nr)
        #expect(catalog.syscall(abi: abi, nr: nr)?.name == name)
    }

    /// `number(of:abi:)` reads the rows' numbers off the generated row index; the name index has them from the
    /// headers' numbers by name: the two agree for every name, in every ABI.
    @Test func numberByRowAgreesWithTheHeadersNumbers() {
        let index = Catalog.NameIndex.shared
        var names = Set(index.numbers.keys)
        names.formUnion(SyscallTable.rows.map(\.name))
        names.insert("no_such_call")
        #expect(names.count > 470)
        for name in names {
            for abi in ABI.allCases {
                #expect(catalog.number(of: name, abi: abi) == index.numbers[name]?[abi.ordinal] ?? nil, "\(abi) \(name)")
            }
        }
    }

    @Test func namesAnABILacksHaveNoNumber() {
        #expect(catalog.number(of: "socketcall", abi: .x86_64) == nil)
        #expect(catalog.number(of: "newfstatat", abi: .i386) == nil)
        #expect(catalog.number(of: "fstatat64", abi: .x86_64) == nil)
        #expect(catalog.number(of: "uselib", abi: .x32) == nil)  // x86_64-only
        #expect(catalog.syscall(abi: .x86_64, nr: 100_000) == nil)
        #expect(catalog.syscall(abi: .x86_64, nr: -1) == nil)
        #expect(catalog.syscall(abi: .x32, nr: 13) == nil)  // rt_sigaction's native slot, moved to 512 in x32
    }

    @Test func seccompArchAndNumberSplitIntoABI() {
        let x32 = Catalog.abi(auditArch: 0xC000_003E, rawNumber: 0x4000_0000 | 0)
        #expect(x32?.abi == .x32 && x32?.nr == 0)
        let native = Catalog.abi(auditArch: 0xC000_003E, rawNumber: 257)
        #expect(native?.abi == .x86_64 && native?.nr == 257)
        let i386 = Catalog.abi(auditArch: 0x4000_0003, rawNumber: 5)
        #expect(i386?.abi == .i386 && catalog.syscall(abi: .i386, nr: i386?.nr ?? -1)?.name == "open")
        #expect(Catalog.abi(auditArch: 0xC000_00B7, rawNumber: 56) == nil)  // aarch64 is not ours
    }

    @Test func entriesAreSortedAndComplete() {
        for abi in ABI.allCases {
            let entries = catalog.entries(abi: abi)
            #expect(entries.count == Catalog.generated(abi).count, "\(abi) lost entries")
            #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.nr < $1.nr })
        }
        #expect(catalog.entries(abi: .x86_64).count == 384)
        #expect(catalog.entries(abi: .i386).count == 460)
        #expect(catalog.entries(abi: .x32).count == 373)
    }
}

@Suite struct CatalogRows {
    let catalog = Catalog.shared

    var headerNames: Set<String> {
        var names = Set<String>()
        for abi in ABI.allCases { for (_, name) in Catalog.generated(abi) { names.insert(name) } }
        return names
    }

    @Test func everyHeaderNameHasARow() {
        #expect(catalog.namesWithoutRows == [])
        let missing = headerNames.filter { catalog.syscall(named: $0) == nil }.sorted()
        #expect(missing == [], "syscalls in the headers without a SyscallTable row: \(missing)")
        #expect(headerNames.count == 471)
    }

    @Test func noRowWithoutAHeaderNameAndNoDuplicates() {
        let names = SyscallTable.rows.map(\.name)
        #expect(Set(names).count == names.count, "duplicate rows")
        #expect(names == names.sorted(), "rows are kept in alphabetical order")
        #expect(Set(names).subtracting(headerNames).sorted() == [])
        for (name, _) in SyscallTable.i386Layouts {
            #expect(catalog.number(of: name, abi: .i386) != nil, "\(name)")
            #expect(SyscallTable.rowIndex(of: name).map { SyscallTable.rows[$0].name } == name, "\(name)")
        }
        let layoutNames = SyscallTable.i386Layouts.map(\.name)
        #expect(layoutNames == layoutNames.sorted() && Set(layoutNames).count == layoutNames.count)
        #expect(SyscallTable.rowIndex(of: "no_such_call") == nil && SyscallTable.rowIndex(of: "") == nil)
    }

    @Test func rowsAreWellFormed() {
        for row in SyscallTable.rows {
            #expect(row.args.count <= 6, "\(row.name) has more than 6 arguments")
            #expect(Set(row.argNames).count == row.argNames.count, "\(row.name) repeats an argument name")
            // getcwd reveals the current directory's path without taking one.
            if (row.touches == .path || row.touches == .exec) && row.name != "getcwd" {
                #expect(row.pathIndex != nil, "\(row.name) touches a path but has none")
            }
            if row.args.contains(.sockaddr) { #expect(row.args.contains(.sockaddrLen), "\(row.name)") }
        }
    }

    @Test func pathAndDirfdIndicesArePaired() throws {
        let openat = try #require(catalog.syscall(named: "openat"))
        #expect(openat.dirfdIndex == 0 && openat.pathIndex == 1 && openat.atFlagsIndex == nil)
        let renameat2 = try #require(catalog.syscall(named: "renameat2"))
        #expect(renameat2.dirfdIndex == 0 && renameat2.pathIndex == 1)
        #expect(renameat2.dirfd2Index == 2 && renameat2.path2Index == 3)
        let symlinkat = try #require(catalog.syscall(named: "symlinkat"))  // the target is stored, not looked up
        #expect(symlinkat.pathIndex == 2 && symlinkat.dirfdIndex == 1 && symlinkat.path2Index == nil)
        let open = try #require(catalog.syscall(named: "open"))
        #expect(open.pathIndex == 0 && open.dirfdIndex == nil)
        #expect(catalog.syscall(named: "newfstatat")?.atFlagsIndex == 3)
        #expect(catalog.syscall(named: "statx")?.atFlagsIndex == 2)
    }

    @Test func i386LayoutsReplaceTheNativeOnes() throws {
        let native = try #require(catalog.syscall(abi: .x86_64, nr: 301))  // fanotify_mark
        let i386 = try #require(catalog.syscall(abi: .i386, nr: 339))
        #expect(native.name == "fanotify_mark" && i386.name == "fanotify_mark")
        #expect(native.dirfdIndex == 3 && native.pathIndex == 4)
        #expect(i386.dirfdIndex == 4 && i386.pathIndex == 5)
        #expect(catalog.syscall(abi: .i386, nr: 90)?.args == [.ptr])  // old_mmap takes one struct pointer
    }
}

@Suite struct GeneratedNumbers {
    @Test func committedFileEqualsGeneratorOutput() throws {
        let script = repoRoot.appendingPathComponent("Tools/gen-syscall-numbers").path
        let committed = repoRoot.appendingPathComponent("Sources/SyscallCatalog/SyscallNumbers.generated.swift")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "--stdout"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "generator failed: \(errText)")
        let generated = String(decoding: data, as: UTF8.self)
        let onDisk = try String(contentsOf: committed, encoding: .utf8)
        #expect(!generated.isEmpty)
        #expect(generated == onDisk, "run `python3 Tools/gen-syscall-numbers` and commit the result")
    }
}

@Suite struct FlagDecoding {
    @Test func openFlags() {
        #expect(OpenFlags.describe(0) == "O_RDONLY")
        #expect(OpenFlags.describe(0o2000000) == "O_RDONLY|O_CLOEXEC")
        #expect(OpenFlags.describe(0o1 | 0o100 | 0o1000) == "O_WRONLY|O_CREAT|O_TRUNC")
        #expect(OpenFlags.describe(0o2 | 0o4010000) == "O_RDWR|O_SYNC")
        #expect(OpenFlags.describe(0o2 | 0o10000) == "O_RDWR|O_DSYNC")
        #expect(OpenFlags.describe(0o2 | 0o20200000) == "O_RDWR|O_TMPFILE")
        #expect(OpenFlags.describe(0o200000 | 0o2000000) == "O_RDONLY|O_DIRECTORY|O_CLOEXEC")
        #expect(OpenFlags.describe(0o10000000 | 0x4000_0000) == "O_RDONLY|O_PATH|0x40000000")
    }

    @Test func atAndResolveFlags() {
        #expect(AtFlags.describe(0x1000) == "AT_EMPTY_PATH")
        #expect(AtFlags.describe(0x1100) == "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH")
        #expect(AtFlags.describe(0) == "0")
        #expect(AtFlags.isFDCWD(0xFFFF_FF9C))  // mov $-100, %edi zero-extends
        #expect(AtFlags.isFDCWD(UInt64(bitPattern: -100)))
        #expect(!AtFlags.isFDCWD(0x1_0000_0003))
        #expect(AtFlags.describeDirfd(0xFFFF_FF9C) == "AT_FDCWD")
        #expect(ResolveFlags.describe(0x18) == "RESOLVE_BENEATH|RESOLVE_IN_ROOT")
        #expect(CloneFlags.describeClone(0x0100_0000 | 0x0020_0000 | 17)
                == "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD")
    }

    @Test func signals() {
        #expect(Signals.name(9) == "SIGKILL")
        #expect(Signals.name(31) == "SIGSYS")
        #expect(Signals.name(32) == "SIGRTMIN")
        #expect(Signals.name(35) == "SIGRTMIN+3")
        #expect(Signals.name(0) == nil && Signals.name(65) == nil)
        #expect(Signals.number(named: "SIGTERM") == 15 && Signals.number(named: "HUP") == 1)
        #expect(Signals.number(named: "SIGRTMIN+2") == 34 && Signals.number(named: "SIGBOGUS") == nil)
    }

    @Test func errnoBothWays() {
        #expect(Errno.name(1) == "EPERM" && Errno.name(2) == "ENOENT" && Errno.name(38) == "ENOSYS")
        #expect(Errno.name(13) == "EACCES" && Errno.name(133) == "EHWPOISON" && Errno.name(111) == "ECONNREFUSED")
        #expect(Errno.name(41) == nil && Errno.name(0) == nil && Errno.name(134) == nil)
        #expect(Errno.number(named: "EPERM") == 1 && Errno.number(named: "EHWPOISON") == 133)
        #expect(Errno.number(named: "EWOULDBLOCK") == 11 && Errno.number(named: "ENOTSUP") == 95)
        #expect(Errno.number(named: "eperm") == nil && Errno.number(named: "") == nil)
        #expect(Errno.all.count == 131)
        for (name, number) in Errno.all { #expect(Errno.number(named: name) == number) }
    }

    @Test func familiesAndMultiplexers() {
        #expect(AddressFamily.name(2) == "AF_INET" && AddressFamily.name(10) == "AF_INET6")
        #expect(AddressFamily.name(1) == "AF_UNIX" && AddressFamily.name(99) == nil)
        #expect(Multiplexer.socketcallName(3) == "connect" && Multiplexer.socketcallName(11) == "sendto")
        #expect(Multiplexer.socketcallName(0) == nil && Multiplexer.socketcallName(21) == nil)
        #expect(Multiplexer.ipcName(23) == "shmget" && Multiplexer.ipcName(0x1_0000 | 21) == "shmat")
        #expect(Multiplexer.ipcName(5) == nil)
    }
}
