import CTraceShims
import Glibc
import Unwinding

/// Breakpoints for the `main` and `symbol:NAME` triggers, shared by both transports (the ptrace backend
/// traces the program throughout; the notify backend traces it only until its trigger fires).
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
///
/// A thread that vanishes in the middle (`TaskError.gone`) leaves no breakpoint recorded that was not planted.
struct TriggerBreakpoints {
    static let int3: UInt8 = 0xCC
    static let ret: UInt8 = 0xC3
    static let siKernel: Int32 = 0x80

    let trigger: Trigger
    var control: TaskControl = Tracee()

    /// What a SIGTRAP stop was.
    enum Hit: Equatable {
        /// Not one of captrace's breakpoints: a real SIGTRAP for the program.
        case notOurs
        /// Handled (rendezvous, `__libc_start_main`, a retired breakpoint): resume the thread.
        case handled
        /// The trigger: the thread is rewound to the original instruction, the breakpoint removed. Capability
        /// mode begins now; then resume (ptrace) or detach (notify).
        case fired
    }

    /// The symbol to break on in the executable: NAME, or `main`.
    var wanted: String {
        if case .symbol(let n) = trigger { return n }
        return "main"
    }

    /// At exec: NAME (or main) in the executable, ld.so's rendezvous for the libraries loaded now and later.
    func plantAtExec(_ p: ProcessState, tid: Int32) {
        guard let exe = p.exe else { return }
        let maps = ProcFS.maps(p.pid)
        if let addr = Self.resolve(wanted, module: exe, maps: maps) {
            plant(p, tid: tid, at: addr, purpose: .trigger)
        }
        for m in Self.modules(maps) where Self.isDynamicLinker(m.path) {
            if let addr = Self.resolve("_dl_debug_state", module: m.path, maps: maps),
               let word = try? control.peek(tid, addr), UInt8(truncatingIfNeeded: word) == Self.ret {
                plant(p, tid: tid, at: addr, purpose: .rendezvous)
            }
        }
        for m in Self.modules(maps) { p.scannedModules.insert(m.key) }
        if p.breakpoints.isEmpty {
            printError("captrace: warning: cannot find \(wanted) in \(exe) and no dynamic linker to watch; capability mode will not begin")
        }
    }

    /// A SIGTRAP stop of `tid` in process `p`.
    func hit(_ p: ProcessState, tid: Int32) -> Hit {
        guard let code = try? control.signalCode(tid), code == Self.siKernel,  // int3
              var regs = try? control.registers(tid) else { return .notOurs }
        let addr = regs.rip &- 1
        guard let bp = p.breakpoints[addr] else {
            guard p.retiredBreakpoints.contains(addr) else { return .notOurs }
            // Hit just before another thread removed it: run the original instruction.
            setPC(tid, addr)
            return .handled
        }
        switch bp.purpose {
        case .rendezvous:
            // Emulate `ret`, then look at what ld.so has just mapped.
            if let ret = try? control.readWord(pid: p.pid, regs.rsp) {
                regs.rip = ret
                regs.rsp &+= 8
                try? control.setRegisters(tid, regs)
            }
            scanNewModules(p, tid: tid)
            return .handled
        case .libcStartMain:
            // First argument: main's address. Break there instead.
            remove(p, tid: tid, at: addr)
            setPC(tid, addr)
            plant(p, tid: tid, at: regs.rdi, purpose: .trigger)
            return .handled
        case .trigger:
            remove(p, tid: tid, at: addr)
            setPC(tid, addr)
            return .fired
        }
    }

    /// Whether a SIGTRAP stop at `pc` (after the int3) is a retired breakpoint: rewinds the thread if so.
    func rewindIfRetired(_ p: ProcessState, tid: Int32) -> Bool {
        guard let code = try? control.signalCode(tid), code == Self.siKernel,
              let regs = try? control.registers(tid), p.retiredBreakpoints.contains(regs.rip &- 1) else { return false }
        setPC(tid, regs.rip &- 1)
        return true
    }

    /// After a rendezvous: search modules not seen before for the trigger symbol (or `__libc_start_main`).
    func scanNewModules(_ p: ProcessState, tid: Int32) {
        let maps = ProcFS.maps(p.pid)
        let mainMissing: Bool = {
            if case .main = trigger { return !p.breakpoints.values.contains { $0.purpose == .trigger } }
            return false
        }()
        for m in Self.modules(maps) where !p.scannedModules.contains(m.key) {
            p.scannedModules.insert(m.key)
            if case .symbol = trigger, let addr = Self.resolve(wanted, module: m.path, maps: maps) {
                plant(p, tid: tid, at: addr, purpose: .trigger)
            }
            if mainMissing, m.path.split(separator: "/").last?.hasPrefix("libc.so") == true,
               let addr = Self.resolve("__libc_start_main", module: m.path, maps: maps) {
                plant(p, tid: tid, at: addr, purpose: .libcStartMain)
            }
        }
    }

    func plant(_ p: ProcessState, tid: Int32, at addr: UInt64, purpose: Breakpoint.Purpose) {
        guard p.breakpoints[addr] == nil, let word = try? control.peek(tid, addr) else { return }
        let original = UInt8(truncatingIfNeeded: word)
        guard (try? control.poke(tid, addr, (word & ~0xFF) | UInt64(Self.int3))) != nil else { return }
        p.breakpoints[addr] = Breakpoint(original: original, purpose: purpose)
        p.retiredBreakpoints.remove(addr)
    }

    func remove(_ p: ProcessState, tid: Int32, at addr: UInt64) {
        guard let bp = p.breakpoints.removeValue(forKey: addr) else { return }
        if let word = try? control.peek(tid, addr) {
            try? control.poke(tid, addr, (word & ~0xFF) | UInt64(bp.original))
        }
        p.retiredBreakpoints.insert(addr)
    }

    func removeAll(_ p: ProcessState, tid: Int32) {
        for addr in Array(p.breakpoints.keys) { remove(p, tid: tid, at: addr) }
    }

    func setPC(_ tid: Int32, _ pc: UInt64) {
        guard var regs = try? control.registers(tid) else { return }
        regs.rip = pc
        try? control.setRegisters(tid, regs)
    }

    // MARK: - Finding the addresses

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
}
