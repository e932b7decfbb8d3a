import CTraceShims
import Glibc
import Landlock
import TraceModel

/// `run --policy FILE.toml`: the ruleset is built in captrace's own process (a ruleset restricts nobody until
/// a process restricts itself with it) and the launched child restricts itself just before exec (ct_spawn_start).
enum LandlockLaunch {
    /// The machine's Landlock ABI version, 0 when Landlock is unavailable.
    static var machineABI: Int { max(0, Int(ct_landlock_abi())) }

    /// A ruleset descriptor for `policy`, or an error naming what the kernel refused.
    static func rulesetFd(_ policy: LandlockPolicy) throws(SupervisorError) -> Int32 {
        let r = policy.ruleset
        let fd = ct_landlock_create_ruleset(r.handledFS.rawValue, r.handledNet.rawValue, r.scoped.rawValue)
        guard fd >= 0 else {
            throw SupervisorError("cannot create the Landlock ruleset of \(policy.file): \(String(cString: strerror(-fd)))"
                                  + (fd == -ENOSYS || fd == -EOPNOTSUPP ? " (Landlock is not enabled on this kernel)" : ""))
        }
        for rule in r.paths {
            let rc = ct_landlock_add_path(fd, rule.path, rule.access.rawValue)
            guard rc == 0 else {
                close(fd)
                throw SupervisorError("\(policy.file): cannot add the rule for \(rule.path) (\(rule.access.names.joined(separator: ", "))): "
                                      + String(cString: strerror(-rc))
                                      + (rc == -EINVAL ? " (a rule on a file may hold only execute, write_file, read_file, truncate, ioctl_dev)" : ""),
                                      status: 2)
            }
        }
        for rule in r.ports {
            let rc = ct_landlock_add_port(fd, rule.port, rule.access.rawValue)
            guard rc == 0 else {
                close(fd)
                throw SupervisorError("\(policy.file): cannot add the rule for port \(rule.port): \(String(cString: strerror(-rc)))", status: 2)
            }
        }
        return fd
    }

    /// The program runs under `policy` from its exec: its process's domain, and the trace's record of it.
    static func applied(_ policy: LandlockPolicy, pid: Int32, core: SupervisorCore) {
        core.table.process(pid)?.landlock.domain = [policy.ruleset]
        core.recorder.emit(.landlock(LandlockEvent(pid: pid, tid: pid, tNs: core.recorder.now(), source: .policy,
                                                   ruleset: policy.ruleset)))
    }
}

/// The machine's Landlock ABI version (0: Landlock unavailable).
public func landlockABI() -> Int { LandlockLaunch.machineABI }
