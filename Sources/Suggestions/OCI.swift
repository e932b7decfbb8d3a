import SyscallCatalog
import TraceModel

/// `suggest --format oci`: an OCI runtime seccomp profile (the `linux.seccomp` object of config.json; Docker's
/// `--security-opt seccomp=FILE`, Podman and Kubernetes' security-profiles-operator read the same shape).
///
/// Explanations go in `comment` fields: the runtime spec's JSON schema does not forbid extra properties, Go's
/// encoding/json (runc, crun's Go callers, Docker, Podman's containers-common) ignores unknown fields, and Docker
/// and containers-common define `comment` on each syscall rule themselves. Every comment value is a string.
func renderOCI(_ m: FilterModel) -> String {
    var syscalls: [JSONValue] = []
    func rule(_ names: [String], comment: String, args: [ArgTest] = []) -> JSONValue {
        var o: [(String, JSONValue)] = [("names", .array(names.map { .string($0) })), ("action", "SCMP_ACT_ALLOW")]
        if !args.isEmpty {
            o.append(("args", .array(args.map { c in
                let (value, valueTwo) = c.operands
                var a: [(String, JSONValue)] = [("index", .int(Int64(c.index))), ("value", .int(Int64(bitPattern: value)))]
                if case .maskedEqual = c.op { a.append(("valueTwo", .int(Int64(bitPattern: valueTwo)))) }
                a.append(("op", .string(c.libseccompOperator)))
                return .object(a)
            })))
        }
        o.append(("comment", .string(comment)))
        return .object(o)
    }
    syscalls.append(rule(m.capabilityNames, comment: "allowed in capability mode (for some or all arguments)"))
    if !m.traceNames.isEmpty {
        syscalls.append(rule(m.traceNames.map(\.name),
                             comment: "needed by the traced program after entry: "
                                 + m.traceNames.map { "\($0.name) (\($0.why))" }.joined(separator: "; ")))
    }
    for c in m.conditional { syscalls.append(rule([c.name], comment: c.comment, args: c.conditions)) }

    var comment = "captrace suggest --format oci for: \(m.facts.commandLine) (capability mode from \(m.facts.trigger)). "
    comment += "Denies every other syscall with EPERM."
    for n in m.notes + [m.fromStartNote] { comment += "\n" + n }
    let profile: JSONValue = .object([
        ("comment", .string(comment)),
        ("defaultAction", "SCMP_ACT_ERRNO"),
        ("defaultErrnoRet", .int(1)),
        ("architectures", .array(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])),
        ("syscalls", .array(syscalls)),
    ])
    return profile.pretty() + "\n"
}
