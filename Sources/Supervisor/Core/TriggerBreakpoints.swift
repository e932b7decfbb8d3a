import CTraceShims
import Glibc
import Unwinding

/// Breakpoints for the `main` and `symbol:NAME` triggers.
///
/// At each exec of a process not yet in capability mode, captrace plants an `int3` at NAME in the executable
/// (or at `main`), and one on the dynamic linker's rendezvous function `_dl_debug_state`, which ld.so calls
/// whenever its list of loaded objects changes (the initial libraries and every `dlopen`). At each rendezvous
/// hit, the newly mapped modules are searched for NAME. For `main` in a stripped executable, the breakpoint
/// goes on libc's `__libc_start_main`, whose first argument is `main`'s address.
///
/// A trigger breakpoint fires once per process: its original byte is restored and the thread rewound. Another
/// thread that hit it at the same moment is rewound too (its address is kept in `retiredBreakpoints`), so
/// several threads hitting it are handled. The rendezvous `ret` is emulated, so that breakpoint never needs
/// single-stepping and other threads can never run past it unseen.
enum Breakpoints {
    static let int3: UInt8 = 0xCC

    static func plantAtExec(_ s: PtraceSupervisor, _ p: ProcessState, tid: Int32) {
        guard let exe = p.exe else { return }
        let maps = ProcFS.maps(p.pid)
        // The executable itself.
        let wanted = targetSymbol(s)
        if let addr = resolve(wanted, module: exe, maps: maps) {
            plant(p, tid: tid, at: addr, purpose: .trigger)
        }
        // The rendezvous in the dynamic linker, for libraries loaded now and later.
        for m in modules(maps) where isDynamicLinker(m.path) {
            if let addr = resolve("_dl_debug_state", module: m.path, maps: maps) {
                var word: UInt64 = 0
                if ct_ptrace_peek(tid, UInt(addr), &word) == 0, UInt8(truncatingIfNeeded: word) == 0xC3 {
                    plant(p, tid: tid, at: addr, purpose: .rendezvous)
                }
            }
        }
        for m in modules(maps) { p.scannedModules.insert(m.key) }
        if p.breakpoints.isEmpty {
            printError("captrace: warning: cannot find \(wanted) in \(exe) and no dynamic linker to watch; capability mode will not begin")
        }
    }

    /// The symbol to break on in the executable: NAME, or `main`.
    static func targetSymbol(_ s: PtraceSupervisor) -> String {
        if case .symbol(let n) = s.options.trigger { return n }
        return "main"
    }

    struct Module { var path: String; var start: UInt64; var key: String }

    /// One entry per mapped ELF file (its lowest mapping).
    static func modules(_ maps: [ProcFS.Mapping]) -> [Module] {
        var seen: Set<String> = []
        var out: [Module] = []
        for m in maps where !seen.contains(m.path) {
            seen.insert(m.path)
            out.append(Module(path: m.path, start: m.start, key: m.path + "@" + String(m.start, radix: 16)))
        }
        return out
    }

    static func isDynamicLinker(_ path: String) -> Bool {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.hasPrefix("ld-linux") || base.hasPrefix("ld64.so") || base.hasPrefix("ld.so")
    }

    /// Runtime address of a function symbol in a mapped module.
    static func resolve(_ name: String, module: String, maps: [ProcFS.Mapping]) -> UInt64? {
        guard let sym = ELFSymbols.lookup(name, inFile: module), sym.value != 0 else { return nil }
        guard let first = maps.first(where: { $0.path == module }) else { return nil }
        guard let bias = ELFSymbols.loadBias(file: module, mapStart: first.start, mapOffset: first.offset) else { return nil }
        return bias &+ sym.value
    }

    static func plant(_ p: ProcessState, tid: Int32, at addr: UInt64, purpose: Breakpoint.Purpose) {
        guard p.breakpoints[addr] == nil else { return }
        var word: UInt64 = 0
        guard ct_ptrace_peek(tid, UInt(addr), &word) == 0 else { return }
        let original = UInt8(truncatingIfNeeded: word)
        let patched = (word & ~0xFF) | UInt64(int3)
        guard ct_ptrace_poke(tid, UInt(addr), patched) == 0 else { return }
        p.breakpoints[addr] = Breakpoint(original: original, purpose: purpose)
        p.retiredBreakpoints.remove(addr)
    }

    static func remove(_ p: ProcessState, tid: Int32, at addr: UInt64) {
        guard let bp = p.breakpoints.removeValue(forKey: addr) else { return }
        var word: UInt64 = 0
        if ct_ptrace_peek(tid, UInt(addr), &word) == 0 {
            _ = ct_ptrace_poke(tid, UInt(addr), (word & ~0xFF) | UInt64(bp.original))
        }
        p.retiredBreakpoints.insert(addr)
    }

    static func removeAll(_ s: PtraceSupervisor, _ p: ProcessState, tid: Int32) {
        for addr in Array(p.breakpoints.keys) { remove(p, tid: tid, at: addr) }
    }

    static func setPC(_ tid: Int32, _ pc: UInt64) {
        var regs = user_regs_struct()
        guard ct_ptrace_getregs(tid, &regs) == 0 else { return }
        regs.rip = pc
        _ = ct_ptrace_setregs(tid, &regs)
    }
}

extension PtraceSupervisor {
    /// A SIGTRAP stop: one of our breakpoints, or a real SIGTRAP for the program (then false).
    func breakpointStop(_ thread: ThreadState) -> Bool {
        guard let p = table.process(thread.pid) else { return false }
        var signo: Int32 = 0, code: Int32 = 0
        guard ct_ptrace_getsiginfo(thread.tid, &signo, &code) == 0, code == 0x80 /* SI_KERNEL: int3 */ else { return false }
        var regs = user_regs_struct()
        guard ct_ptrace_getregs(thread.tid, &regs) == 0 else { return false }
        let addr = regs.rip &- 1
        guard let bp = p.breakpoints[addr] else {
            if p.retiredBreakpoints.contains(addr) {
                // Hit just before another thread removed it: run the original instruction.
                regs.rip = addr
                _ = ct_ptrace_setregs(thread.tid, &regs)
                resume(thread.tid)
                return true
            }
            return false
        }
        switch bp.purpose {
        case .rendezvous:
            // Emulate `ret`, then look at what ld.so has just mapped.
            var ret: UInt64 = 0
            if ct_read_mem(p.pid, UInt(regs.rsp), &ret, 8) == 8 {
                regs.rip = ret
                regs.rsp &+= 8
                _ = ct_ptrace_setregs(thread.tid, &regs)
            }
            scanNewModules(p, tid: thread.tid)
        case .libcStartMain:
            // First argument: main's address. Break there instead.
            Breakpoints.remove(p, tid: thread.tid, at: addr)
            Breakpoints.setPC(thread.tid, addr)
            Breakpoints.plant(p, tid: thread.tid, at: regs.rdi, purpose: .trigger)
        case .trigger:
            Breakpoints.remove(p, tid: thread.tid, at: addr)
            Breakpoints.setPC(thread.tid, addr)
            enterCapabilityMode(p, tid: thread.tid)
        }
        resume(thread.tid)
        return true
    }

    /// After a rendezvous: search modules not seen before for the trigger symbol (or `__libc_start_main`).
    func scanNewModules(_ p: ProcessState, tid: Int32) {
        let maps = ProcFS.maps(p.pid)
        let wanted = Breakpoints.targetSymbol(self)
        let mainMissing: Bool = {
            if case .main = options.trigger { return !p.breakpoints.values.contains { $0.purpose == .trigger } }
            return false
        }()
        for m in Breakpoints.modules(maps) where !p.scannedModules.contains(m.key) {
            p.scannedModules.insert(m.key)
            if case .symbol = options.trigger, let addr = Breakpoints.resolve(wanted, module: m.path, maps: maps) {
                Breakpoints.plant(p, tid: tid, at: addr, purpose: .trigger)
            }
            if mainMissing, m.path.contains("/libc.so"),
               let addr = Breakpoints.resolve("__libc_start_main", module: m.path, maps: maps) {
                Breakpoints.plant(p, tid: tid, at: addr, purpose: .libcStartMain)
            }
        }
    }
}
