import SyscallCatalog

/// An OCI runtime seccomp profile: the JSON Docker, Podman, containerd and runc load.
///
/// Two layers share this model, as in moby's `profiles/seccomp` package: the runtime-spec `LinuxSeccomp` object
/// (`defaultAction`, `defaultErrnoRet`, `architectures`, `flags`, `syscalls` with `names`, `action`, `errnoRet`,
/// `args`) and Docker's extensions that a runtime resolves before building the filter (`archMap`, the legacy
/// single `name`, `comment`, and `includes`/`excludes` by `caps`, `arches`, `minKernel`). `Profile.load` reads and
/// validates one; `resolved(for:)` applies the extensions for a `ProfileContext`; `decide` evaluates a syscall;
/// `ociJSON()` writes the profile back.
public struct Profile: Sendable, Equatable {
    public var defaultAction: Action
    /// The errno of an `SCMP_ACT_ERRNO` (or message of `SCMP_ACT_TRACE`) default; runc uses EPERM when absent.
    public var defaultErrnoRet: UInt32?
    /// runtime-spec `architectures` (`SCMP_ARCH_*`). A profile has this or `archMap`, never both (moby refuses).
    public var architectures: [String]
    /// Docker's `archMap`: the entry whose `architecture` is the host's gives the filter's architectures.
    public var archMap: [ArchitectureGroup]
    /// runtime-spec `flags` (`SECCOMP_FILTER_FLAG_*`), kept for writing back; they do not change decisions.
    public var flags: [String]?
    /// runtime-spec `listenerPath` and `listenerMetadata` (where `SCMP_ACT_NOTIFY` is sent), kept for writing back.
    public var listenerPath: String?
    public var listenerMetadata: String?
    /// The entries in file order: order decides between unconditional rules (see `ResolvedProfile`).
    public var syscalls: [Entry]
    /// A top-level `comment` (Docker's convention on entries, used by captrace's suggestions for the whole
    /// profile); it changes no decision.
    public var comment: String? = nil

    public init(defaultAction: Action, defaultErrnoRet: UInt32? = nil, architectures: [String] = [],
                archMap: [ArchitectureGroup] = [], flags: [String]? = nil, listenerPath: String? = nil,
                listenerMetadata: String? = nil, syscalls: [Entry] = []) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.archMap = archMap
        self.flags = flags
        self.listenerPath = listenerPath
        self.listenerMetadata = listenerMetadata
        self.syscalls = syscalls
    }
}

/// A seccomp action as the profile names it.
public enum Action: String, Sendable, CaseIterable {
    case allow = "SCMP_ACT_ALLOW"
    case errno = "SCMP_ACT_ERRNO"
    /// runc maps `SCMP_ACT_KILL` to libseccomp's kill-thread action, like `SCMP_ACT_KILL_THREAD`.
    case kill = "SCMP_ACT_KILL"
    case killProcess = "SCMP_ACT_KILL_PROCESS"
    case killThread = "SCMP_ACT_KILL_THREAD"
    case trap = "SCMP_ACT_TRAP"
    case trace = "SCMP_ACT_TRACE"
    case log = "SCMP_ACT_LOG"
    case notify = "SCMP_ACT_NOTIFY"

    /// Whether the action carries a return code (`errnoRet`): the errno of ERRNO, the ptrace message of TRACE.
    /// runc ignores `errnoRet` on other actions; the loader warns about it.
    public var takesErrnoRet: Bool { self == .errno || self == .trace }

    /// Whether the call runs when this action decides (ALLOW, and LOG which only logs it). NOTIFY and TRACE hand
    /// the call to a supervisor or tracer, which decides; the others refuse it.
    public var letsCallRun: Bool { self == .allow || self == .log }

    /// The kernel's order when several filters return different actions (seccomp(2), "highest precedence"
    /// first): KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW. Lower is more restrictive.
    public var kernelPrecedence: Int {
        switch self {
        case .killProcess: return 0
        case .kill, .killThread: return 1
        case .trap: return 2
        case .errno: return 3
        case .notify: return 4
        case .trace: return 5
        case .log: return 6
        case .allow: return 7
        }
    }
}

/// One comparison of a syscall argument, as libseccomp's `SCMP_CMP_*`. Comparisons are unsigned.
public enum Operator: String, Sendable, CaseIterable {
    case notEqual = "SCMP_CMP_NE"
    case lessThan = "SCMP_CMP_LT"
    case lessOrEqual = "SCMP_CMP_LE"
    case equal = "SCMP_CMP_EQ"
    case greaterOrEqual = "SCMP_CMP_GE"
    case greaterThan = "SCMP_CMP_GT"
    /// `(arg & value) == valueTwo`: `value` is the mask.
    case maskedEqual = "SCMP_CMP_MASKED_EQ"
}

/// An argument comparison: `args[index] op value` (`valueTwo` only for MASKED_EQ).
public struct ArgumentRule: Sendable, Equatable {
    public var index: Int
    public var value: UInt64
    public var valueTwo: UInt64
    public var op: Operator

    public init(index: Int, value: UInt64, valueTwo: UInt64 = 0, op: Operator) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }

    /// Whether `argument` satisfies the comparison. `width32` compares the low 32 bits of the argument and of
    /// both values, as libseccomp does for 32-bit filters (i386 and x32: `_db_rule_gen_32` "implicitly strips off
    /// the upper 32 bit" of mask and datum).
    public func matches(_ argument: UInt64, width32: Bool = false) -> Bool {
        let m: UInt64 = width32 ? 0xFFFF_FFFF : .max
        let a = argument & m, v = value & m
        switch op {
        case .notEqual: return a != v
        case .lessThan: return a < v
        case .lessOrEqual: return a <= v
        case .equal: return a == v
        case .greaterOrEqual: return a >= v
        case .greaterThan: return a > v
        case .maskedEqual: return a & v == valueTwo & m
        }
    }
}

/// One entry of `syscalls`: the same action (and argument rule) for each of its names.
public struct Entry: Sendable, Equatable {
    /// From `names`, or from the legacy `name` (moby accepts one or the other, never both).
    public var names: [String]
    public var action: Action
    public var errnoRet: UInt32?
    /// ANDed when every index appears once. When an index repeats, runc (`matchCall`, "revert to old
    /// behavior") adds each comparison as a rule of its own, so the comparisons are ORed; libseccomp allows one
    /// comparison per argument in a rule (seccomp_rule_add(3)). `alternatives` states the result.
    public var args: [ArgumentRule]
    public var comment: String?
    public var includes: Condition?
    public var excludes: Condition?

    public init(names: [String], action: Action, errnoRet: UInt32? = nil, args: [ArgumentRule] = [],
                comment: String? = nil, includes: Condition? = nil, excludes: Condition? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
        self.comment = comment
        self.includes = includes
        self.excludes = excludes
    }

    /// The argument conditions as runc installs them: one alternative with every comparison (all must hold), or,
    /// when an argument index repeats, one alternative per comparison (any may hold). Empty: unconditional.
    public var alternatives: [[ArgumentRule]] {
        if args.isEmpty { return [] }
        let indices = args.map(\.index)
        if Set(indices).count == indices.count { return [args] }
        return args.map { [$0] }
    }
}

/// Docker's `includes` / `excludes` of an entry. In `includes` every stated part must hold (every cap held, the
/// host arch listed, the kernel at least `minKernel`); in `excludes` any part that holds drops the entry (any cap
/// held, the host arch listed, the kernel at least `minKernel`). moby `setupSeccomp` is the reference.
public struct Condition: Sendable, Equatable {
    public var caps: [String]
    /// Host architecture names as Go spells them after moby's mapping (`amd64`, `x86`, `x32`, `arm64`, ...);
    /// compared with the host's native name only, not with the ABI of the call.
    public var arches: [String]
    public var minKernel: KernelVersion?

    public init(caps: [String] = [], arches: [String] = [], minKernel: KernelVersion? = nil) {
        self.caps = caps
        self.arches = arches
        self.minKernel = minKernel
    }

    public var isEmpty: Bool { caps.isEmpty && arches.isEmpty && minKernel == nil }
}

/// `"<kernel>.<major>"`, as moby's `KernelVersion`: minor revisions and suffixes are ignored.
public struct KernelVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var kernel: Int
    public var major: Int

    public init(_ kernel: Int, _ major: Int) {
        self.kernel = kernel
        self.major = major
    }

    /// Parses `uname -r` style text ("6.8.0-45-generic" gives 6.8), or a profile's "4.8".
    public init?(release: String) {
        let parts = release.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let k = Int(parts[0]),
              let m = Int(parts[1].prefix { $0.isNumber }), !parts[1].prefix(while: { $0.isNumber }).isEmpty
        else { return nil }
        self.init(k, m)
    }

    public static func < (a: KernelVersion, b: KernelVersion) -> Bool { (a.kernel, a.major) < (b.kernel, b.major) }
    public var description: String { "\(kernel).\(major)" }
}

/// One `archMap` element: an architecture and the sub-architectures its filter also covers.
public struct ArchitectureGroup: Sendable, Equatable {
    public var architecture: String
    public var subArchitectures: [String]

    public init(architecture: String, subArchitectures: [String] = []) {
        self.architecture = architecture
        self.subArchitectures = subArchitectures
    }
}

/// The `SCMP_ARCH_*` names runc accepts (`ConvertStringToArch`); any other is an error.
public enum Architectures {
    public static let known: Set<String> = [
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    ]
    /// The host captrace runs on, as the archMap key and as `includes.arches` spell it.
    public static let host = "SCMP_ARCH_X86_64"
    public static let hostNativeName = "amd64"

    /// The `SCMP_ARCH_*` name of each ABI of the host.
    public static func name(of abi: ABI) -> String {
        switch abi {
        case .x86_64: return "SCMP_ARCH_X86_64"
        case .i386: return "SCMP_ARCH_X86"
        case .x32: return "SCMP_ARCH_X32"
        }
    }
}
