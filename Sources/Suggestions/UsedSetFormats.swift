import SeccompProfiles
import SyscallCatalog
import TraceModel

// The oci, spo, systemd and libseccomp outputs of a trace recorded with `run --syscalls`: one `UsedSetProfile`,
// rendered four ways.

/// `suggest --format oci`: the profile as OCI JSON (`Profile.ociJSON`), which `SeccompProfiles` loads as is.
func renderUsedOCI(_ m: UsedSetProfile, _ f: TraceFacts) -> String {
    m.profile(commandLine: f.commandLine).ociJSON()
}

/// `suggest --format spo`: a Security Profiles Operator `SeccompProfile` resource with the OCI profile's
/// default action, architectures and syscalls (SPO's spec has no `defaultErrnoRet`: the runtime's EPERM applies).
func renderSPO(_ m: UsedSetProfile, _ f: TraceFacts) -> String {
    let p = m.profile(commandLine: f.commandLine)
    var out = ""
    for line in m.headerLines(commandLine: f.commandLine) { out += yamlComment(line) }
    out += """
        apiVersion: security-profiles-operator.x-k8s.io/v1beta1
        kind: SeccompProfile
        metadata:
          name: \(resourceName(f.trace.header?.argv.first))
        spec:
          defaultAction: \(p.defaultAction.rawValue)
          architectures:

        """
    for a in p.architectures { out += "  - \(a)\n" }
    out += "  syscalls:\n"
    for e in p.syscalls {
        out += "  - action: \(e.action.rawValue)\n"
        if let r = e.errnoRet { out += "    errnoRet: \(r)\n" }
        out += "    names:\n"
        for n in e.names.sorted() { out += "    - \(n)\n" }
        if !e.args.isEmpty {
            out += "    args:\n"
            for a in e.args {
                out += "    - index: \(a.index)\n      value: \(a.value)\n"
                if a.op == .maskedEqual || a.valueTwo != 0 { out += "      valueTwo: \(a.valueTwo)\n" }
                out += "      op: \(a.op.rawValue)\n"
            }
        }
    }
    return out
}

/// A Kubernetes object name (RFC 1123 label) from the program's name.
func resourceName(_ program: String?) -> String {
    let base = PathText.basename(program ?? "program").lowercased()
    var s = ""
    for c in base.unicodeScalars {
        if ("a"..."z").contains(c) || ("0"..."9").contains(c) { s.unicodeScalars.append(c) }
        else if !s.hasSuffix("-") { s += "-" }
    }
    while s.hasSuffix("-") { s.removeLast() }
    while s.hasPrefix("-") { s.removeFirst() }
    return (s.isEmpty ? "program" : String(s.prefix(50))) + "-captrace"
}

func yamlComment(_ text: String) -> String {
    var out = "", line = "#"
    for w in text.split(separator: " ") {
        if line.count + w.count + 1 > 100 { out += line + "\n"; line = "#" }
        line += " " + w
    }
    return out + line + "\n"
}

/// `suggest --format systemd`: the same set as unit directives. systemd's SystemCallFilter= takes no argument
/// conditions: socket domains become RestrictAddressFamilies=, clone's namespace flags RestrictNamespaces=.
func renderUsedSystemd(_ m: UsedSetProfile, _ f: TraceFacts) -> String {
    var out = ""
    for line in m.headerLines(commandLine: f.commandLine) { out += yamlComment(line) }
    out += "[Service]\nNoNewPrivileges=yes\n"
    let arches = m.used.abis.map { abi -> String in
        switch abi {
        case .x86_64: return "native"
        case .i386: return "x86"
        case .x32: return "x32"
        }
    }
    out += "SystemCallArchitectures=\(arches.joined(separator: " "))\n"
    out += "SystemCallErrorNumber=EPERM\n"
    out += wrapDirective("SystemCallFilter", m.systemdNames)
    if m.used.allNames.contains("clone3") {
        out += "# clone3 is not granted (its flags are in memory): glibc falls back to clone only when clone3 fails\n"
        out += "# with ENOSYS, while this unit answers refused calls with EPERM.\n"
    }
    var families = Set(m.socketDomains + m.socketpairDomains).sorted().map(domainName)
    if families.contains(where: { Int($0) != nil }) {
        out += "# Domains systemd has no name for here are left out of RestrictAddressFamilies=.\n"
        families.removeAll { Int($0) != nil }
    }
    out += "RestrictAddressFamilies=\(families.isEmpty ? "none" : families.joined(separator: " "))\n"
    if let mask = m.cloneForbiddenMask {
        let used = UsedSetProfile.namespaceFlags.filter { mask & $0.bit == 0 }.map { systemdNamespace($0.name) }
        out += "RestrictNamespaces=\(used.isEmpty ? "yes" : used.joined(separator: " "))\n"
    } else {
        out += "RestrictNamespaces=yes\n"
    }
    return out
}

extension UsedSetProfile {
    /// The names SystemCallFilter= allows: the OCI profile's allowed names (argument conditions dropped).
    public var systemdNames: [String] {
        var names = unconditional
        if !socketDomains.isEmpty { names.append("socket") }
        if !socketpairDomains.isEmpty { names.append("socketpair") }
        if cloneForbiddenMask != nil { names.append("clone") }
        return names.sorted()
    }
}

func systemdNamespace(_ flag: String) -> String {
    switch flag {
    case "CLONE_NEWNS": "mnt"
    case "CLONE_NEWCGROUP": "cgroup"
    case "CLONE_NEWUTS": "uts"
    case "CLONE_NEWIPC": "ipc"
    case "CLONE_NEWUSER": "user"
    case "CLONE_NEWPID": "pid"
    default: "net"
    }
}

/// `suggest --format libseccomp`: C source of `int captrace_install_filter(void)` installing the OCI profile's
/// rules with libseccomp. Call it right before exec (or at the start of main, after which only calls the
/// program made in the trace from exec on are allowed).
func renderUsedLibseccomp(_ m: UsedSetProfile, _ f: TraceFacts) -> String {
    var out = "/*\n * Generated by captrace suggest --format libseccomp (from run --syscalls) for:\n *   \(f.commandLine.replacingStars())\n"
    for l in m.headerLines(commandLine: f.commandLine).dropFirst() { out += wrapComment(l) }
    out += """
         *
         * Installs the syscalls the program used from exec on; every other call fails with EPERM. Call it right
         * before execve (which the list includes). Build with -lseccomp. Returns 0, or a negative errno.
         */
        #include <errno.h>
        #include <seccomp.h>
        #include <stddef.h>

        int captrace_install_filter(void);

        static const char *const captrace_allowed[] = {

        """
    out += cStringLines(m.unconditional)
    out += "    NULL,\n};\n\nint captrace_install_filter(void)\n{\n"
    out += "    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));\n    int rc = 0;\n\n    if (ctx == NULL)\n        return -ENOMEM;\n"
    for abi in m.used.abis where abi != .x86_64 {
        out += "    rc = seccomp_arch_add(ctx, \(abi == .i386 ? "SCMP_ARCH_X86" : "SCMP_ARCH_X32"));\n"
        out += "    if (rc < 0 && rc != -EEXIST)\n        goto out;\n"
    }
    if !m.used.abis.contains(.x86_64) {
        out += "    rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);\n    if (rc < 0)\n        goto out;\n"
    }
    out += """
            for (size_t i = 0; captrace_allowed[i] != NULL; i++) {
                int nr = seccomp_syscall_resolve_name(captrace_allowed[i]);

                if (nr == __NR_SCMP_ERROR)
                    continue; /* unknown to this libseccomp: stays refused */
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (rc < 0)
                    goto out;
            }

        """
    func rule(_ comment: String, _ action: String, _ name: String, _ conds: [String]) {
        out += "    /* \(comment.replacingStars()) */\n"
        out += "    rc = seccomp_rule_add(ctx, \(action), seccomp_syscall_resolve_name(\"\(name)\"), \(conds.count)\(conds.map { ", " + $0 }.joined()));\n"
        out += "    if (rc < 0)\n        goto out;\n"
    }
    for d in m.socketDomains { rule("socket(\(domainName(d)), ...)", "SCMP_ACT_ALLOW", "socket", ["SCMP_A0(SCMP_CMP_EQ, \(d))"]) }
    for d in m.socketpairDomains { rule("socketpair(\(domainName(d)), ...)", "SCMP_ACT_ALLOW", "socketpair", ["SCMP_A0(SCMP_CMP_EQ, \(d))"]) }
    if let mask = m.cloneForbiddenMask {
        rule(m.cloneComment(mask), "SCMP_ACT_ALLOW", "clone", ["SCMP_A0(SCMP_CMP_MASKED_EQ, \(hexC(mask)), 0)"])
    }
    rule("clone3 fails with ENOSYS: glibc falls back to clone", "SCMP_ACT_ERRNO(ENOSYS)", "clone3", [])
    out += "    rc = seccomp_load(ctx);\nout:\n    seccomp_release(ctx);\n    return rc;\n}\n"
    return out
}
