import Glibc
import Landlock
import Suggestions
import Supervisor
import TraceModel

/// `--policy FILE`: whether the file is a Landlock ruleset in landlockconfig's TOML form (by its name, or by
/// content that is not a JSON object).
func isLandlockRuleset(path: String, bytes: [UInt8]) -> Bool {
    if path.hasSuffix(".toml") { return true }
    if path.hasSuffix(".json") { return false }
    var inComment = false
    for b in bytes {
        if inComment { if b == 0x0A { inComment = false }; continue }
        if b == UInt8(ascii: "#") { inComment = true; continue }
        if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { continue }
        return b != UInt8(ascii: "{")
    }
    return true
}

/// Reads and resolves a landlockconfig TOML file for this machine (bad files: status 2, naming the line).
func loadLandlockPolicy(path: String, bytes: [UInt8]) throws -> LandlockPolicy {
    let config: LandlockConfig
    do { config = try LandlockConfig(toml: String(decoding: bytes, as: UTF8.self)) } catch {
        throw fail("\(path): \(error)")
    }
    let abi = landlockABI()
    guard abi > 0 else { throw fail("--policy \(path): Landlock is not available on this kernel", status: 125) }
    var cwd = "/"
    if let p = getcwd(nil, 0) { cwd = String(cString: p); free(p) }
    do {
        var (ruleset, leftOut) = try config.resolve(machine: LandlockABI(abi), cwd: cwd)
        // The kernel opens each parent following symlinks: the rule is on where it leads, and is recorded so.
        for i in ruleset.paths.indices {
            if let p = realpath(ruleset.paths[i].path, nil) { ruleset.paths[i].path = String(cString: p); free(p) }
        }
        if !leftOut.isEmpty {
            warn("warning: \(path): this kernel's Landlock ABI \(abi) lacks \(leftOut.joined(separator: ", ")): left out (best effort)")
        }
        return LandlockPolicy(ruleset: ruleset, file: path,
                              info: PolicyInfo(kind: "landlock-ruleset", path: path, sha256: SHA256.hex(bytes)))
    } catch {
        throw fail("\(path): \(error)")
    }
}

/// What `suggest --format landlock` asks of this machine's files: their type now, and the interpreter the
/// kernel loads to execute one (an ELF's PT_INTERP, or a script's `#!` line).
package let machineFileFacts = FileFacts(
    fileType: { path in
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        default: return .other
        }
    },
    interpreter: { path in executableInterpreter(path) })

/// The program the kernel loads to run `path`: PT_INTERP of a 64-bit little-endian ELF, or a script's `#!`
/// interpreter; nil for a static ELF or an unreadable file.
func executableInterpreter(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    func read(_ count: Int, at offset: Int) -> [UInt8]? {
        var b = [UInt8](repeating: 0, count: count)
        let n = b.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        return n == count ? b : nil
    }
    guard let head = read(64, at: 0) ?? read(2, at: 0) else { return nil }
    if head.count >= 2, head[0] == UInt8(ascii: "#"), head[1] == UInt8(ascii: "!") {
        guard let line = read(256, at: 0) ?? read(head.count, at: 0) else { return nil }
        let text = String(decoding: line.dropFirst(2).prefix { $0 != 0x0A }, as: UTF8.self)
        return text.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init)
    }
    guard head.count == 64, head[0] == 0x7f, head[1] == UInt8(ascii: "E"), head[4] == 2, head[5] == 1 else { return nil }
    func u(_ b: [UInt8], _ o: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) } }
    let phoff = u(head, 32, 8), phentsize = u(head, 54, 2), phnum = u(head, 56, 2)
    for i in 0..<min(phnum, 64) {
        guard let ph = read(56, at: phoff + i * phentsize), u(ph, 0, 4) == 3 else { continue }  // PT_INTERP
        guard let s = read(min(u(ph, 32, 8), 4096), at: u(ph, 8, 8)) else { return nil }
        return String(decoding: s.prefix { $0 != 0 }, as: UTF8.self)
    }
    return nil
}
