/// Why a profile was refused: where (the entry's index and first name, or the top level), which field, and what
/// is wrong with it.
public struct ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The text is not JSON.
        case syntax
        /// A field has the wrong JSON type (a string where a number belongs, ...), or is missing.
        case wrongType
        /// A number outside what the field can hold (errnoRet above 65535, a negative value...).
        case outOfRange
        /// `action` / `defaultAction` is not an `SCMP_ACT_*` runc knows.
        case unknownAction
        /// `op` is not an `SCMP_CMP_*` runc knows.
        case unknownOperator
        /// An argument rule without `index`, `value` or `op`, or with an index above 5.
        case malformedArgs
        /// An `SCMP_ARCH_*` runc does not know.
        case unknownArchitecture
        /// Fields that exclude each other: `architectures` and `archMap`, `name` and `names`.
        case conflictingFields
        /// `minKernel` not in the form "<kernel>.<major>".
        case invalidKernelVersion
        /// An entry without any syscall name.
        case noNames
        /// An action runc refuses where it stands: SCMP_ACT_NOTIFY as the default action or for `write` (runc
        /// writes the listener descriptor to its parent after the filter is loaded).
        case unusableAction
    }

    public let kind: Kind
    /// "syscalls[12] (clone)", or "profile" for top-level fields.
    public let location: String
    /// The field, with its path inside the entry ("args[1].op", "includes.minKernel").
    public let field: String
    public let message: String

    public var description: String { "\(location): \(field): \(message)" }
}

/// Something a runtime accepts but a reader should know: an unknown syscall name (runc ignores it, "unknown
/// seccomp syscall ... ignored"), a field the runtime ignores, a rule libseccomp would refuse to add.
public struct ProfileWarning: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A name the syscall catalog has for no ABI of this architecture (x86_64, i386, x32): the name is skipped,
        /// as runc skips a name its libseccomp cannot resolve. Another architecture's calls (`arm_fadvise64_64`)
        /// land here, and so do calls newer than the catalog's kernel headers.
        case unknownSyscall
        /// A field no runtime reads, or `errnoRet` on an action that takes none.
        case ignoredField
        /// A capability name that is not a Linux capability: a condition on it never holds.
        case unknownCapability
    }

    public let kind: Kind
    public let location: String
    public let message: String

    public var description: String { "\(location): \(message)" }
}
