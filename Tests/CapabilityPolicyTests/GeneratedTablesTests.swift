import Foundation
import Testing
import TraceModel
@testable import CapabilityPolicy
@testable import SyscallCatalog

/// The checkout's root (resolving symlinks, so the test also works from a package that links these sources).
private let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The generated tables that spare a run parsing the policy text and hashing the catalog's names at start
/// (`PolicyDecisions`, `SyscallRowIndex`): each equals what the source of truth says, for every syscall of
/// every ABI, and the committed files equal their rendering (CAPTRACE_REGENERATE=1 rewrites them).
@Suite struct GeneratedTables {
    @Test func policyDecisionsEqualTheParsedTextForEverySyscall() throws {
        let parsed = try CapabilityPolicy(text: CapabilityPolicy.standardText)
        var checked = 0
        for abi in ABI.allCases {
            let codes = PolicyDecisions.codes(abi)
            let entries = Catalog.shared.entries(abi: abi)
            #expect(codes.count == (entries.last?.nr ?? -1) + 1, "\(abi)")
            var numbered = Set<Int>()
            for (nr, sc) in entries {
                numbered.insert(nr)
                let expected = parsed.entry(for: sc.name).decision
                #expect(CapabilityPolicy.standard.decision(abi: abi, nr: nr) == expected, "\(abi) \(nr) \(sc.name)")
                #expect(CapabilityPolicy.standard.mayViolate(abi: abi, nr: nr) == parsed.mayViolate(sc.name))
                checked += 1
            }
            for nr in -1...codes.count + 1 where !numbered.contains(nr) {
                #expect(CapabilityPolicy.standard.decision(abi: abi, nr: nr) == nil, "\(abi) \(nr)")
                #expect(CapabilityPolicy.standard.mayViolate(abi: abi, nr: nr))
            }
        }
        #expect(checked == 384 + 460 + 373)
        // The built-in policy's name lookups parse the same text.
        #expect(CapabilityPolicy.standard.entries == parsed.entries)
    }

    /// What the filter's rules read by name (`FilterBuilder.plan`, `filterShortcuts`): the built-in policy's
    /// decision for each of its entries, from the tables, equals the parsed entry's; its entries are the catalog's
    /// rows, and every row has a number in some ABI (so no name sends the lookup to the text).
    @Test func decisionsByNameEqualTheParsedText() throws {
        let parsed = try CapabilityPolicy(text: CapabilityPolicy.standardText)
        #expect(Set(parsed.entries.map(\.name)) == Set(Catalog.shared.rows.map(\.name)))
        for row in Catalog.shared.rows {
            #expect(ABI.allCases.contains { Catalog.shared.number(of: row.name, abi: $0) != nil }, "\(row.name)")
        }
        for e in parsed.entries {
            #expect(CapabilityPolicy.standard.decision(named: e.name) == e.decision, "\(e.name)")
            #expect(parsed.decision(named: e.name) == e.decision, "\(e.name)")
            #expect(CapabilityPolicy.standard.mayViolate(e.name) == (e.decision != .allow), "\(e.name)")
            for abi in ABI.allCases {
                #expect(CapabilityPolicy.standard.filterShortcuts(for: e.name, abi: abi)
                        == parsed.filterShortcuts(for: e.name, abi: abi), "\(abi) \(e.name)")
            }
        }
        #expect(CapabilityPolicy.standard.decision(named: "no_such_call") == nil)
        #expect(CapabilityPolicy.standard.mayViolate("no_such_call"))
    }

    /// `Catalog.entries(abi:)`, read off the number table, lists what the name index lists.
    @Test func entriesEqualTheNameIndexLists() {
        for abi in ABI.allCases {
            let fromNumbers = Catalog.shared.entries(abi: abi), fromNames = Catalog.NameIndex.shared.sorted[abi.ordinal]
            #expect(fromNumbers.map(\.nr) == fromNames.map(\.nr), "\(abi)")
            #expect(fromNumbers.map(\.syscall) == fromNames.map(\.syscall), "\(abi)")
        }
    }

    @Test func everyDecisionHasItsOwnCode() {
        var decisions: [Decision] = [.allow, .deny(nil)]
        decisions += Rule.allCases.map { .deny($0) }
        decisions += Condition.allCases.map { .conditional($0) }
        let codes = decisions.map(\.code)
        #expect(Set(codes).count == decisions.count)
        #expect(!codes.contains(0))
        for d in decisions { #expect(Decision(code: d.code) == d, "\(d)") }
        #expect(Decision(code: 0) == nil)
        #expect((0...255).compactMap { Decision(code: UInt8($0)) }.count == decisions.count)
    }

    @Test func rowIndexEqualsTheNameLookup() throws {
        let rows = Dictionary(uniqueKeysWithValues: SyscallTable.rows.map { ($0.name, $0) })
        for abi in ABI.allCases {
            let generated = Catalog.generated(abi)
            let byNumber = Dictionary(uniqueKeysWithValues: generated)
            let top = try #require(generated.map(\.0).max())
            #expect(SyscallRowIndex.rows(abi).count == top + 1)
            for nr in -1...top + 2 {
                let sc = Catalog.shared.syscall(abi: abi, nr: nr)
                guard let name = byNumber[nr] else {
                    #expect(sc == nil, "\(abi) \(nr)")
                    continue
                }
                let row = try #require(rows[name], "\(name)")
                let layout = abi == .i386 ? SyscallTable.i386Layout(name) : nil
                #expect(sc?.name == name, "\(abi) \(nr)")
                #expect(sc?.args == layout?.map(\.1) ?? row.args, "\(abi) \(nr) \(name)")
                #expect(sc?.argNames == layout?.map(\.0) ?? row.argNames, "\(abi) \(nr) \(name)")
                #expect(sc?.touches == row.touches && sc?.traits == row.traits, "\(abi) \(nr) \(name)")
            }
        }
    }

    @Test func committedFilesEqualTheirRendering() throws {
        let files = [
            ("Sources/SyscallCatalog/SyscallRowIndex.generated.swift", Self.renderRowIndex()),
            ("Sources/CapabilityPolicy/PolicyDecisions.generated.swift", try Self.renderPolicyDecisions()),
        ]
        let regenerate = ProcessInfo.processInfo.environment["CAPTRACE_REGENERATE"] == "1"
        for (path, rendered) in files {
            let url = repoRoot.appendingPathComponent(path)
            let onDisk = try String(contentsOf: url, encoding: .utf8)
            if regenerate && onDisk != rendered { try rendered.write(to: url, atomically: true, encoding: .utf8) }
            #expect(onDisk == rendered, "\(path) is stale: run CAPTRACE_REGENERATE=1 swift test --filter GeneratedTables and commit it")
        }
    }

    static let header = """
        // Regenerate: CAPTRACE_REGENERATE=1 swift test --filter GeneratedTables, then commit the result.

        """

    /// Sixteen values a line, each line headed by its first index.
    static func lines(_ values: [Int]) -> String {
        stride(from: 0, to: values.count, by: 16).map { k in
            "        /* \(k) */ " + values[k..<min(k + 16, values.count)].map { "\($0)," }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    static func renderRowIndex() -> String {
        let position = Dictionary(uniqueKeysWithValues: SyscallTable.rows.enumerated().map { ($1.name, $0) })
        var out = "// Generated from SyscallTable.rows and SyscallNumbers by the tests (GeneratedTables) — do not edit.\n"
        out += header + """

            /// For each ABI, the position in `SyscallTable.rows` of each syscall number's row (`none`: no syscall there), so
            /// that building the number lookup at start needs no hashing.
            enum SyscallRowIndex {
                static let none: UInt16 = 0xFFFF

                static func rows(_ abi: ABI) -> [UInt16] {
                    switch abi {
                    case .x86_64: return x86_64
                    case .i386: return i386
                    case .x32: return x32
                    }
                }

            """
        for abi in ABI.allCases {
            let generated = Catalog.generated(abi)
            var values = [Int](repeating: 0xFFFF, count: (generated.map(\.0).max() ?? -1) + 1)
            for (nr, name) in generated { values[nr] = position[name] ?? 0xFFFF }
            out += "\n    static let \(abi.rawValue): [UInt16] = [\n\(lines(values))\n    ]\n"
        }
        return out + "}\n"
    }

    static func renderPolicyDecisions() throws -> String {
        let parsed = try CapabilityPolicy(text: CapabilityPolicy.standardText)
        var out = "// Generated from PolicyData.text and the catalog by the tests (GeneratedTables) — do not edit.\n"
        out += header + """
            import SyscallCatalog

            /// The built-in policy's decision for each syscall number of each ABI, as `Decision.code`s (0: no syscall
            /// there): what the classifier reads at run time, without parsing the policy text.
            enum PolicyDecisions {
                static func codes(_ abi: ABI) -> [UInt8] {
                    switch abi {
                    case .x86_64: return x86_64
                    case .i386: return i386
                    case .x32: return x32
                    }
                }

            """
        for abi in ABI.allCases {
            let entries = Catalog.shared.entries(abi: abi)
            var values = [Int](repeating: 0, count: (Catalog.generated(abi).map(\.0).max() ?? -1) + 1)
            for (nr, sc) in entries { values[nr] = Int(parsed.entry(for: sc.name).decision.code) }
            out += "\n    static let \(abi.rawValue): [UInt8] = [\n\(lines(values))\n    ]\n"
        }
        return out + "}\n"
    }
}
