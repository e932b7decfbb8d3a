import SyscallCatalog
import TraceModel

/// `suggest --format systemd`: hardening directives for the [Service] section of the program's unit.
func renderSystemd(_ m: FilterModel) -> String {
    let f = m.facts
    var out = """
        # captrace suggest --format systemd for: \(f.commandLine)
        # Capability mode begins at \(f.trigger); the trace has \(f.violations.count) violations at \(f.sites.count) sites.
        # Paste into the [Service] section of the program's unit, or into a drop-in (systemctl edit UNIT).
        [Service]
        NoNewPrivileges=yes
        # The profile names x86_64 syscalls; i386 (int 0x80) and x32 calls are refused.
        SystemCallArchitectures=native
        SystemCallErrorNumber=EPERM

        """
    let native = { (name: String) in Catalog.shared.number(of: name, abi: .x86_64) != nil }
    // systemd resolves names with the libseccomp it was built with; one as old as the catalog's headers rejects
    // newer names ("Failed to parse system call"), so they are left out and named in a comment.
    let newer = Catalog.shared.namesNewerThanHeaders
    let tooNew = m.capabilityNames.filter { native($0) && newer.contains($0) }
    let capability = m.capabilityNames.filter { native($0) && !newer.contains($0) }
    let conditionalNames = distinct(m.conditional.map(\.name)).filter(native)
    out += "# Allowed in capability mode (for some or all arguments):\n"
    out += wrapDirective("SystemCallFilter", capability + conditionalNames)
    if !tooNew.isEmpty {
        out += "# Also allowed in capability mode, newer than older systemd versions know (add them if yours does):\n"
        var line = "#  "
        for n in tooNew {
            if line.count + n.count + 1 > 100 { out += line + "\n"; line = "#  " }
            line += " " + n
        }
        out += line + "\n"
    }
    let trace = m.traceNames.filter { native($0.name) }
    if !trace.isEmpty {
        out += "# Needed by the traced program after entry:\n"
        for t in trace { out += "#   \(t.name): \(t.why)\n" }
        out += wrapDirective("SystemCallFilter", trace.map(\.name))
    }
    let foreign = m.traceNames.filter { !native($0.name) }.map(\.name)
    if !foreign.isEmpty {
        out += "# Not x86_64 syscalls, refused by SystemCallArchitectures=native: \(foreign.joined(separator: " "))\n"
    }

    out += "\n"
    if m.families.isEmpty {
        out += "# The trace names no socket address, so it cannot justify RestrictAddressFamilies= (socket() calls\n"
        out += "# are not recorded); RestrictAddressFamilies=none fits a program that creates no sockets.\n"
    } else {
        out += "# The families of the socket addresses the program named after entry; add any it creates without\n"
        out += "# naming an address (e.g. AF_NETLINK for getaddrinfo's AI_ADDRCONFIG).\n"
        out += "RestrictAddressFamilies=\(m.families.joined(separator: " "))\n"
    }

    // Paths looked up after entry, by how they were used.
    var readOnly: [String] = [], readWrite: [String] = [], exec: [String] = []
    for v in f.violations where v.namespace == .filesystem {
        guard let p = v.path, p.hasPrefix("/"), !isPerProcess(p, pids: f.pids) else { continue }
        let call = CallFacts(v)
        if v.rule == .exec { exec.append(p) }
        else if call.writes {
            let creates = (call.openFlags?.split(separator: "|").contains("O_CREAT") ?? false) || (Catalog.shared.syscall(named: v.syscall)?.pathOp?.createsEntry ?? false)
            readWrite.append(creates ? dirName(p) : p)
        } else {
            readOnly.append(p)
        }
    }
    readWrite = distinct(readWrite)
    readOnly = distinct(readOnly).filter { p in !readWrite.contains { p == $0 || p.hasPrefix($0 == "/" ? "/" : $0 + "/") } }
    exec = distinct(exec)
    // "/" itself (glibc stats it to detect a changed root) would make the whole tree read-only: left out.
    let sawRoot = readOnly.contains("/")
    readOnly.removeAll { $0 == "/" }
    out += "\n# Paths the program looked up after entry (\"-\": no error if missing at start).\n"
    out += "# The trace does not show what the program reads before entry, so InaccessiblePaths= and\n"
    out += "# TemporaryFileSystem= are not suggested; with ProtectSystem=strict everything outside\n"
    out += "# ReadWritePaths= becomes read-only — enable it once the program's pre-entry writes are known.\n"
    out += "#ProtectSystem=strict\n"
    if !readOnly.isEmpty { out += wrapDirective("ReadOnlyPaths", readOnly.map { "-" + systemdPath($0) }) }
    if sawRoot { out += "# (a lookup of / itself is left out: ReadOnlyPaths=/ would make the whole tree read-only)\n" }
    if !readWrite.isEmpty {
        out += "# Written after entry (a created file's directory is listed):\n"
        out += wrapDirective("ReadWritePaths", readWrite.map { "-" + systemdPath($0) })
    }
    if !exec.isEmpty {
        out += "# Executed after entry (with NoExecPaths=/ only these may be executed):\n"
        out += "#ExecPaths=\(exec.map(systemdPath).joined(separator: " "))\n"
    }
    if readOnly.isEmpty && readWrite.isEmpty && exec.isEmpty { out += "# (no path lookups after entry)\n" }

    out += "\n"
    for n in m.notes + [m.fromStartNote] { out += "# Note: \(n)\n" }
    return out
}

/// `/proc/PID/...` of a traced process: meaningless in a unit file.
func isPerProcess(_ path: String, pids: Set<Int32>) -> Bool {
    let parts = path.split(separator: "/")
    return parts.count >= 2 && parts[0] == "proc" && (Int32(parts[1]).map(pids.contains) ?? false || parts[1] == "self" || parts[1] == "thread-self")
}

/// A path as a unit-file word: `%` doubled (specifiers), quoted when it has blanks, quotes or backslashes.
func systemdPath(_ p: String) -> String {
    var s = ""
    for c in p { if c == "%" { s += "%%" } else { s.append(c) } }
    guard s.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "\\" || $0 == "'" }) else { return s }
    var q = "\""
    for c in s {
        if c == "\"" || c == "\\" { q.append("\\") }
        q.append(c)
    }
    return q + "\""
}

/// One directive repeated over lines of at most ~100 characters (systemd merges repeated list directives).
func wrapDirective(_ key: String, _ words: [String]) -> String {
    guard !words.isEmpty else { return "" }
    var out = "", line = ""
    for w in words {
        if !line.isEmpty, line.count + w.count + 1 > 100 - key.count { out += "\(key)=\(line)\n"; line = "" }
        line += line.isEmpty ? w : " " + w
    }
    return out + "\(key)=\(line)\n"
}
