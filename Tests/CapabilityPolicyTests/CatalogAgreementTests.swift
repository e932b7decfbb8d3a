import CapabilityPolicy
import SyscallCatalog
import Testing
import TraceModel

/// The catalog's facts (SyscallCatalog) and the policy's opinions (PolicyData) are written in different places;
/// these tests keep them in step.
@Suite struct CatalogPolicyAgreement {
    let policy = CapabilityPolicy.standard

    /// The namespace a violation of a call reaches follows from what the catalog says it touches.
    static func namespace(_ t: Touch) -> Namespace? {
        switch t {
        case .none: return nil
        case .path, .exec: return .filesystem
        case .socketAddress: return .network
        case .process: return .process
        case .ipc: return .ipc
        case .system: return .system
        case .bypass: return .bypass
        }
    }

    @Test func policyNamespacesFollowTheTouchColumn() {
        for e in policy.entries {
            guard let sc = Catalog.shared.syscall(named: e.name) else { Issue.record("\(e.name) not in the catalog"); continue }
            // Waiting for a child names it by pid, but reaches only the caller's own children: allowed.
            if e.decision == .allow, sc.touches == .process, sc.processTarget == nil { continue }
            // Creating a socket names nothing; only its protocol (raw IP, packet) reaches the network.
            if e.decision == .conditional(.noRawProtocol) {
                #expect(e.namespace == .network && sc.touches == .none, "\(e.name)")
                continue
            }
            #expect(e.namespace == Self.namespace(sc.touches),
                    "\(e.name): touches \(sc.touches.rawValue) but the policy says \(e.namespace?.rawValue ?? "-")")
        }
    }

    @Test func conditionsFindTheColumnsTheyNeed() {
        for e in policy.entries {
            guard case .conditional(let c) = e.decision, let sc = Catalog.shared.syscall(named: e.name) else { continue }
            switch c {
            case .pathRelativeToDirfd, .resolveBeneath, .execDescriptor:
                #expect(sc.dirfdIndex != nil && sc.pathIndex != nil, "\(e.name): \(c.rawValue) without (dirfd, path)")
            case .targetIsSelf:
                #expect(sc.processTarget != nil, "\(e.name): target-is-self without a pid: column")
            case .noAddress:
                #expect(sc.index(of: .sockaddr) != nil || sc.index(of: .msghdr) != nil, "\(e.name): no address argument")
            case .noNamespaceFlags:
                #expect(sc.touches == .system, "\(e.name)")
            case .noRawProtocol:
                #expect(sc.name == "socket" && sc.argNames.prefix(2) == ["domain", "type"], "\(e.name): no family and type")
            case .subcall:
                #expect(sc.index(of: .socketcallArgs) != nil || sc.index(of: .ipcCall) != nil, "\(e.name)")
            }
        }
        // And the other way: every call with a pid shape is judged by it.
        for sc in Catalog.shared.rows where sc.processTarget != nil {
            #expect(policy.entry(for: sc.name).decision == .conditional(.targetIsSelf), "\(sc.name)")
        }
        for e in policy.entries where e.decision == .deny(nil) {
            #expect(Catalog.shared.syscall(named: e.name)?.pathIndex != nil, "\(e.name): by-path without a path")
        }
    }

    @Test func rightsCoverEveryDescriptorUseRow() {
        let rows = Set(Catalog.shared.rows.filter { $0.descriptorUse != nil }.map(\.name))
        #expect(RightsTable.syscallNames == rows)
        #expect(RightsTable.syscallNames.contains("openat") && !RightsTable.syscallNames.contains("getpid"))
    }
}
