import Foundation
import SeccompProfiles

enum Fixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }

    static func load(_ name: String) throws -> LoadedProfile { try Profile.load(json: text(name)) }
}

/// Loads inline profile text, failing the test with the loader's message.
func profile(_ json: String) throws -> Profile { try Profile.load(json: json).profile }

/// The error `json` is refused with (nil when it loads).
func refusal(_ json: String) -> ProfileError? {
    do { _ = try Profile.load(json: json); return nil } catch { return error }
}

let EPERM: UInt32 = 1
let ENOSYS: UInt32 = 38
