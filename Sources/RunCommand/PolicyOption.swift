import SeccompProfiles
import Supervisor
import TraceModel

/// `run --policy FILE [--caps SET]`: the file's kind is told from its name (`.json`), else from its first
/// character; each kind is one case below.
enum PolicyOption {
    /// The policy in `path`, with the loader's warnings said on stderr. Bad input fails with status 2.
    static func load(path: String, caps: String?) throws -> RunPolicy {
        let bytes = try readInput(path, what: "the policy ")
        let lower = path.lowercased()
        let firstChar = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        if lower.hasSuffix(".json") || (!lower.hasSuffix(".toml") && firstChar == UInt8(ascii: "{")) {
            return try seccompProfile(path: path, bytes: bytes, caps: caps)
        }
        // (A Landlock ruleset, TOML, is told apart before: `isLandlockRuleset`, Run.)
        throw fail("\(path): not a policy captrace knows: expected an OCI runtime seccomp profile (JSON, .json) or a Landlock ruleset (TOML, .toml)")
    }

    static func seccompProfile(path: String, bytes: [UInt8], caps: String?) throws -> RunPolicy {
        let loaded: LoadedProfile
        do { loaded = try Profile.load(json: String(decoding: bytes, as: UTF8.self)) } catch {
            throw fail("\(path): bad seccomp profile: \(error)")
        }
        // Unknown names, one line for all (Docker's profile names other architectures' calls); others one each.
        let unknown = loaded.warnings.filter { $0.kind == .unknownSyscall }
        if !unknown.isEmpty {
            warn("warning: \(path): \(unknown.count) syscall name\(unknown.count == 1 ? "" : "s") unknown for x86_64, i386 and x32, ignored as runc ignores them: "
                 + unknown.map(unknownName).joined(separator: ", "))
        }
        for w in loaded.warnings where w.kind != .unknownSyscall { warn("warning: \(path): \(w)") }
        let (setName, set) = try capabilitySet(caps ?? "docker-default")
        var context = ProfileContext(capabilities: set)
        // minKernel is judged against the running kernel, as moby does.
        if case .success(let r) = FileIO.read("/proc/sys/kernel/osrelease") {
            context.kernel = KernelVersion(release: String(decoding: r, as: UTF8.self))
        }
        let table = DecisionTable(loaded.profile.resolved(for: context))
        let info = PolicyInfo(kind: "seccomp-profile", path: path, sha256: SHA256.hex(bytes), capabilitySet: setName,
                              capabilities: Capabilities.all.filter(set.contains))
        return .seccompProfile(table, info)
    }

    /// "syscalls[0] recv" from a warning located at "syscalls[0] (accept)" about `unknown syscall "recv" ...`.
    static func unknownName(_ w: ProfileWarning) -> String {
        let entry = w.location.split(separator: " ").first.map(String.init) ?? w.location
        let parts = w.message.split(separator: "\"", omittingEmptySubsequences: false)
        return parts.count >= 2 ? "\(entry) \(parts[1])" : w.description
    }

    /// `--caps`: docker-default, all, none, or a comma list of names (CAP_SYS_ADMIN, sys_admin, NET_RAW).
    static func capabilitySet(_ text: String) throws -> (String, Set<String>) {
        switch text {
        case "docker-default": return (text, Capabilities.dockerDefault)
        case "all": return (text, Set(Capabilities.all))
        case "none": return (text, [])
        default:
            var set: Set<String> = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let name = String(part.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
                guard let cap = Capabilities.named(name) else {
                    throw fail("bad --caps \"\(text)\": unknown capability \"\(name)\" (docker-default, all, none, or names such as CAP_SYS_ADMIN,NET_RAW)")
                }
                set.insert(cap)
            }
            return (Capabilities.all.filter(set.contains).joined(separator: ","), set)
        }
    }
}
