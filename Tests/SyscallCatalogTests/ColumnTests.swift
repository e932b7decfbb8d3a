import Testing
@testable import SyscallCatalog

/// The catalog's fact columns agree with its argument kinds: a column that names an argument position or a
/// kind of argument must find it in the row.
@Suite struct CatalogColumns {
    let rows = Catalog.shared.rows

    @Test func pathOperationsHaveAPathArgument() {
        for sc in rows where sc.pathOp != nil {
            #expect(sc.pathIndex != nil, "\(sc.name): op: without a path argument")
            #expect(sc.touches == .path, "\(sc.name): op: on a call that does not touch a path")
        }
        #expect(Catalog.shared.syscall(named: "openat")?.pathOp == .open)
        #expect(Catalog.shared.syscall(named: "unlinkat")?.mutatesPath == true)
        #expect(Catalog.shared.syscall(named: "newfstatat")?.mutatesPath == false)
    }

    @Test func processTargetsNameAnIdArgument() {
        for sc in rows {
            guard let target = sc.processTarget else { continue }
            #expect(sc.touches == .process, "\(sc.name): pid: on a call that does not touch a process")
            let ids: Set<ArgKind> = [.pid, .tid]
            func kind(_ i: Int) -> ArgKind? { i < sc.args.count ? sc.args[i] : nil }
            switch target {
            case .kill, .setpgid, .kcmp: #expect(kind(0) == .pid, "\(sc.name)")
            case .zeroIsSelf(let i), .positive(let i): #expect(kind(i).map(ids.contains) == true, "\(sc.name)")
            case .threadGroup: #expect(kind(0) == .pid && kind(1) == .tid, "\(sc.name)")
            case .priority: #expect(kind(1) == .pid, "\(sc.name)")
            case .ptrace: #expect(kind(1) == .pid, "\(sc.name)")
            case .clock(let i): #expect(kind(i) == .clockid, "\(sc.name)")
            }
        }
        // Every call that reaches a process names its target shape, except waiting for the caller's children.
        let unshaped = rows.filter { $0.touches == .process && $0.processTarget == nil }.map(\.name)
        #expect(Set(unshaped) == ["wait4", "waitid", "waitpid"])
    }

    @Test func descriptorUsesFindTheirArguments() {
        for sc in rows {
            guard let use = sc.descriptorUse else { continue }
            func kind(_ i: Int) -> ArgKind? { i < sc.args.count ? sc.args[i] : nil }
            switch use {
            case .rights, .ioctl, .fcntl, .epollCtl, .epollWait, .sendto, .accept, .dup, .dupTo, .close, .inotifyAddWatch:
                #expect(kind(0) == .fd, "\(sc.name): the descriptor is not argument 0")
            case .signalfd:
                #expect(kind(0) == .fd, "\(sc.name)")
            case .transfer(let from, let to):
                #expect(kind(from) == .fd && kind(to) == .fd, "\(sc.name)")
            case .createPair(let at):
                #expect(kind(at) == .ptr, "\(sc.name)")
            case .open:
                #expect(sc.pathIndex != nil, "\(sc.name)")
                #expect(sc.index(of: .openFlags) != nil || sc.index(of: .openHow) != nil || sc.pathOp == .creat, "\(sc.name)")
            case .lookup(_, let onDescriptor):
                #expect(sc.dirfdIndex != nil && sc.pathIndex != nil, "\(sc.name): a lookup without (dirfd, path)")
                if onDescriptor != nil { #expect(sc.atFlagsIndex != nil, "\(sc.name): AT_EMPTY_PATH form without AT_* flags") }
            case .mknodat, .unlinkat, .utimensat:
                #expect(sc.dirfdIndex != nil && sc.pathIndex != nil, "\(sc.name)")
            case .twoPaths:
                #expect(sc.dirfdIndex != nil && sc.dirfd2Index != nil && sc.path2Index != nil, "\(sc.name)")
            case .mmap, .poll, .select, .create, .pidfdGetfd, .closeRange:
                break
            }
        }
    }

    @Test func descriptorCreators() {
        let creators = Set(rows.filter { $0.descriptorUse?.createsDescriptor == true }.map(\.name))
        #expect(creators.isSuperset(of: ["socket", "openat", "openat2", "pipe2", "accept4", "dup", "eventfd2", "pidfd_getfd"]))
        #expect(creators.isDisjoint(with: ["read", "close", "newfstatat", "mmap", "unlinkat"]))
    }

    @Test func sandboxStepsAndDirectoryChangers() {
        #expect(Set(rows.filter { $0.sandboxStep != nil }.map(\.name))
            == ["chroot", "landlock_restrict_self", "prctl", "seccomp", "unshare"])
        let prctl = Catalog.shared.syscall(named: "prctl")?.sandboxStep
        #expect(prctl?.matches([38, 1, 0, 0, 0, 0]) == true)  // PR_SET_NO_NEW_PRIVS
        #expect(prctl?.matches([22, 2, 0, 0, 0, 0]) == true)  // PR_SET_SECCOMP
        #expect(prctl?.matches([15, 0, 0, 0, 0, 0]) == false)  // PR_SET_NAME
        #expect(Set(rows.filter(\.changesWorkingDirectory).map(\.name)) == ["chdir", "fchdir", "setns", "unshare"])
    }

    @Test func i386LayoutsKeepTheRowsFacts() {
        guard let nr = Catalog.shared.number(of: "fanotify_mark", abi: .i386),
              let sc = Catalog.shared.syscall(abi: .i386, nr: nr) else { Issue.record("no i386 fanotify_mark"); return }
        #expect(sc.touches == .path && sc.args.count == 6)
        let mmap = Catalog.shared.number(of: "mmap", abi: .i386).flatMap { Catalog.shared.syscall(abi: .i386, nr: $0) }
        #expect(mmap?.descriptorUse == .mmap)
    }

    /// The one name-keyed table the catalog keeps besides its rows: the i386 multiplexers' sub-calls. Each is a
    /// catalog syscall, except socketcall's `send` and `recv`, which Linux has only as sub-calls.
    @Test func multiplexedCallsAreCatalogSyscalls() {
        let names = Multiplexer.socketcalls.dropFirst() + Array(Multiplexer.ipcCalls.values)
        let unknown = names.filter { Catalog.shared.syscall(named: $0) == nil }
        #expect(Set(unknown) == ["send", "recv"])
    }

    @Test func argTestOperandsAreLibseccomps() {
        let eq = ArgTest(index: 0, op: .equal, value: 38)
        #expect(eq.operands == (38, 0) && eq.libseccompOperator == "SCMP_CMP_EQ")
        let masked = ArgTest(index: 3, op: .maskedEqual(mask: 0x20), value: 0)
        #expect(masked.operands == (0x20, 0) && masked.libseccompOperator == "SCMP_CMP_MASKED_EQ")
        #expect(masked.holds([0, 0, 0, 0x22]) == false && masked.holds([0, 0, 0, 0x2]) == true)
    }
}
