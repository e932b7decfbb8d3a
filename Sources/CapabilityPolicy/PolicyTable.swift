import SyscallCatalog
import TraceModel

/// `captrace syscalls`: the classification table the tracer applies, per ABI, as text or JSON.
public enum PolicyTable {
    /// One row per syscall of `abi`, sorted by number: number, name, verdict, namespace, and the rule (deny) or
    /// condition (conditional). JSON is an array of objects with the keys `nr`, `name`, `abi`, `verdict`,
    /// `namespace`, `rule`, `condition`, `linux_only` (absent values are null).
    public static func render(abi: ABI, json: Bool, policy: CapabilityPolicy = .standard,
                              catalog: Catalog = .shared) -> String {
        let rows = catalog.entries(abi: abi).map { (nr: $0.nr, entry: policy.entry(for: $0.syscall.name)) }
        if json {
            let array = rows.map { row -> JSONValue in
                let e = row.entry
                var rule: JSONValue = .null, condition: JSONValue = .null
                switch e.decision {
                case .allow: break
                case .deny(let r): rule = .string(r?.rawValue ?? "by-path")
                case .conditional(let c): condition = .string(c.rawValue)
                }
                return .object([
                    ("nr", .int(Int64(row.nr))),
                    ("name", .string(e.name)),
                    ("abi", .string(abi.rawValue)),
                    ("verdict", .string(e.decision.kind.rawValue)),
                    ("namespace", e.namespace.map { .string($0.rawValue) } ?? .null),
                    ("rule", rule),
                    ("condition", condition),
                    ("linux_only", .bool(e.linuxOnly)),
                ])
            }
            return JSONValue.array(array).pretty() + "\n"
        }
        let nameWidth = max(4, rows.map(\.entry.name.utf8.count).max() ?? 0)
        var out = "# \(abi.rawValue): \(rows.count) syscalls; "
        let counts = Dictionary(grouping: rows, by: { $0.entry.decision.kind }).mapValues(\.count)
        out += Decision.Kind.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ") + "\n"
        out += pad("NR", 5) + "  " + pad("NAME", nameWidth) + "  " + pad("VERDICT", 11) + "  " + pad("NAMESPACE", 10)
            + "  RULE/CONDITION\n"
        for (nr, e) in rows {
            let line = pad(String(nr), 5) + "  " + pad(e.name, nameWidth) + "  " + pad(e.decision.kind.rawValue, 11) + "  "
                + pad(e.namespace?.rawValue ?? "-", 10) + "  " + (e.detail ?? "-")
            out += line + "\n"
        }
        return out
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        let n = s.utf8.count
        return n >= width ? s : s + String(repeating: " ", count: width - n)
    }
}
