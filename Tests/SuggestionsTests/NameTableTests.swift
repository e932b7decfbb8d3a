import SyscallCatalog
import Testing
@testable import Diagnosis
@testable import Suggestions

/// Per-syscall facts are catalog columns; the few tables outside the catalog that still list syscall names
/// (orders for readers, knowledge-base patterns) must name only syscalls the catalog has.
@Suite struct NameTables {
    static let tables: [(String, [String])] = [
        ("FilterModel.pidCallsFirst", FilterModel.pidCallsFirst),
        ("KnowledgeBase.openCalls", KnowledgeBase.openCalls),
    ]

    @Test func everyListedNameIsACatalogSyscall() {
        for (table, names) in Self.tables {
            let unknown = names.filter { Catalog.shared.syscall(named: $0) == nil }
            #expect(unknown.isEmpty, "\(table) names syscalls the catalog lacks: \(unknown)")
        }
    }
}
