/// Linux capability names and the set a profile's `caps` conditions are judged against.
public enum Capabilities {
    /// Every capability of linux/capability.h, in number order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
    public static let all: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// The bounding set Docker gives a container that is not `--privileged` and has no `--cap-add`/`--cap-drop`:
    /// moby `daemon/pkg/oci/caps/defaults.go` `DefaultCapabilities()`. Entries whose `includes.caps` name a
    /// capability outside this set (CAP_SYS_ADMIN, CAP_SYS_PTRACE, ...) are left out, as Docker leaves them out.
    public static let dockerDefault: Set<String> = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    /// A capability as a user may write it ("sys_admin", "CAP_SYS_ADMIN", "cap_sys_admin"), or nil when unknown.
    public static func named(_ text: String) -> String? {
        var upper = text.uppercased()
        if !upper.hasPrefix("CAP_") { upper = "CAP_" + upper }
        return all.contains(upper) ? upper : nil
    }
}
