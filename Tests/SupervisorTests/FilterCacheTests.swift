// The run-time cache of compiled filters (FilterCache): what it serves is byte for byte what libseccomp compiles
// now for the same rules; a damaged file or one kept for other rules is never served, and is recompiled and
// rewritten; files are 0600 and written whole; with the cache off nothing is written.
// Every test uses a cache directory of its own under /tmp, never the user's.
import CTraceShims
import CapabilityPolicy
import Foundation
import Testing
@testable import Supervisor

func bytes(_ bpf: ct_bpf) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: bpf.filter, count: Int(bpf.len) * 8))
}

/// A fresh directory under /tmp, removed when the test ends.
final class TempDir {
    let path: String
    init() {
        var t = Array("/tmp/captrace-filtercache-XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&t)!)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// One filter configuration: the options captrace builds filters for.
struct Configuration: CustomStringConvertible {
    var trigger: Trigger
    var enforce: Bool
    var action: FilterBuilder.Action
    var rights: Bool
    var policy: FilterBuilder.PolicyTraps? = nil
    var landlock = false
    /// `run --syscalls`.
    var counting = false

    var rightsNames: Set<String> { rights ? RightsTable.syscallNames : [] }
    var rules: [FilterBuilder.Rule] {
        FilterBuilder.rules(trigger: trigger, enforce: enforce, action: action, rights: rightsNames, policy: policy,
                            landlock: landlock, counting: counting)
    }
    /// The key the cache files this configuration's program under.
    var key: [UInt8] {
        FilterBuilder.cacheKey(trigger: trigger, enforce: enforce, action: action, rights: rightsNames, policy: policy,
                               landlock: landlock, counting: counting)
            ?? FilterBuilder.key(rules)
    }
    func build(_ cache: FilterCache?) throws -> ct_bpf {
        try FilterBuilder.build(trigger: trigger, enforce: enforce, action: action, rights: rightsNames, policy: policy,
                                landlock: landlock, counting: counting, cache: cache)
    }
    var description: String {
        "\(action == .trace ? "ptrace" : "notify"), \(enforce ? "enforce" : "observe"), trigger \(trigger)"
            + (rights ? ", --rights" : "") + (policy.map { ", policy \($0.names)" } ?? "") + (landlock ? ", landlock" : "")
    }

    /// The common configurations: each backend and mode, a trigger that adds no syscalls and `sandbox`, and
    /// `--rights` (ptrace only).
    static var common: [Configuration] {
        var all: [Configuration] = []
        for action in [FilterBuilder.Action.trace, .notify] {
            for enforce in [false, true] {
                for trigger in [Trigger.exec, .sandbox] {
                    for rights in action == .trace ? [false, true] : [false] {
                        all.append(Configuration(trigger: trigger, enforce: enforce, action: action, rights: rights))
                    }
                }
            }
        }
        return all
    }
}

func compiled(_ rules: [FilterBuilder.Rule]) throws -> [UInt8] {
    var bpf = try FilterBuilder.compile(rules)
    defer { ct_bpf_free(&bpf) }
    return bytes(bpf)
}

func readFile(_ path: String) -> [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? [] }
func writeFile(_ path: String, _ b: [UInt8]) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }

@Suite struct FilterCacheTests {
    @Test("a program served from the cache is byte for byte what libseccomp compiles now, for each common configuration")
    func servedEqualsCompiled() throws {
        let dir = TempDir()
        let cache = FilterCache(directory: dir.path + "/captrace")
        var seen: Set<[UInt8]> = []
        for c in Configuration.common {
            let rules = c.rules, key = c.key
            let now = try compiled(rules)
            // --rights traps the AT_EMPTY_PATH calls whatever the mode: observe and enforce share their rules.
            if seen.insert(key).inserted { #expect(cache.load(key: key) == nil, "\(c): kept before the first build") }
            var cold = try c.build(cache)  // compiles and keeps
            defer { ct_bpf_free(&cold) }
            #expect(cold.len > 100 && bytes(cold) == now, "\(c): cold")
            var kept = try #require(cache.load(key: key), "\(c): not kept")
            defer { ct_bpf_free(&kept) }
            #expect(bytes(kept) == now, "\(c): kept")
            var warm = try c.build(cache)
            defer { ct_bpf_free(&warm) }
            #expect(bytes(warm) == now, "\(c): warm")
        }
        #expect(dir.entries == ["captrace"])
        #expect(seen.count == ((try? FileManager.default.contentsOfDirectory(atPath: cache.directory)) ?? []).count)
    }

    @Test("the key comes from the options (this test binary has a build-id): configurations with different rules have different keys, the same options the same key")
    func keyFromOptions() throws {
        var byKey: [[UInt8]: [FilterBuilder.Rule]] = [:]
        let all = Configuration.common + [
            Configuration(trigger: .syscall("getpid"), enforce: false, action: .trace, rights: false),
            Configuration(trigger: .syscall("getppid"), enforce: false, action: .trace, rights: false),
            Configuration(trigger: .main, enforce: false, action: .trace, rights: false),
            // A --policy's traps (per ABI) and landlock decide rules too.
            Configuration(trigger: .exec, enforce: false, action: .trace, rights: false,
                          policy: FilterBuilder.PolicyTraps(names: [["add_key", "socket"], ["open"], []])),
            Configuration(trigger: .exec, enforce: false, action: .trace, rights: false,
                          policy: FilterBuilder.PolicyTraps(names: [["add_key"], ["open"], []])),
            Configuration(trigger: .exec, enforce: false, action: .trace, rights: false,
                          policy: FilterBuilder.PolicyTraps(names: [["add_key"], [], ["open"]])),
            Configuration(trigger: .exec, enforce: false, action: .trace, rights: false, landlock: true),
        ]
        for c in all {
            let k = try #require(FilterBuilder.cacheKey(trigger: c.trigger, enforce: c.enforce, action: c.action,
                                                        rights: c.rightsNames, policy: c.policy, landlock: c.landlock),
                                 "\(c): no key from the options")
            #expect(k == c.key, "\(c)")
            let rules = FilterBuilder.key(c.rules)
            if let other = byKey[k] {
                #expect(FilterBuilder.key(other) == rules, "\(c): one key for different rules")
            }
            byKey[k] = c.rules
        }
        // run --syscalls changes the rules (every call traps): another key.
        let plain = Configuration(trigger: .exec, enforce: false, action: .trace, rights: false)
        var counted = plain
        counted.counting = true
        #expect(counted.key != plain.key)
        #expect(FilterBuilder.key(counted.rules) != FilterBuilder.key(plain.rules))
        // main and exec add no syscall: one key; syscall:getpid and syscall:getppid differ.
        #expect(all[all.count - 5].key == Configuration(trigger: .exec, enforce: false, action: .trace, rights: false).key)
        #expect(all[all.count - 6].key != all[all.count - 7].key)
        // Every distinct rule set has a key of its own (options with equal rules may share one, or not).
        let distinctRules = Set(all.map { FilterBuilder.key($0.rules) })
        #expect(distinctRules.count > 4 && Set(all.map(\.key)).count >= distinctRules.count)
    }

    @Test("beyond its limit, a store removes the programs stored longest ago, never the one it stores")
    func boundedByLimit() throws {
        let dir = TempDir()
        var cache = FilterCache(directory: dir.path)
        cache.limit = 4
        var program = try FilterBuilder.compile(Configuration(trigger: .exec, enforce: false, action: .trace,
                                                              rights: false).rules)
        defer { ct_bpf_free(&program) }
        let keys = (0..<7).map { Array("key \($0)".utf8) }
        // Each stored 100 s after the one before (set by hand: a run stores within the same clock tick).
        for (i, key) in keys.enumerated() {
            #expect(cache.store(key: key, program: program))
            var times = [timespec(tv_sec: 1_000_000_000 + 100 * i, tv_nsec: 0),
                         timespec(tv_sec: 1_000_000_000 + 100 * i, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, cache.path(key: key), &times, 0) == 0)
            #expect(dir.entries.filter { $0.hasPrefix("filter-") }.count == min(i + 1, 4))
        }
        for (i, key) in keys.enumerated() {
            var got = cache.load(key: key)
            #expect((got != nil) == (i >= 3), "key \(i)")
            if got != nil { ct_bpf_free(&got!) }
        }
        // Stored long ago (by its time): the next store removes it.
        var old = [timespec(tv_sec: 1, tv_nsec: 0), timespec(tv_sec: 1, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, cache.path(key: keys[6]), &old, 0) == 0)
        let newKey = Array("key 7".utf8)
        #expect(cache.store(key: newKey, program: program))
        #expect(!FileManager.default.fileExists(atPath: cache.path(key: keys[6])), "the oldest is removed")
        #expect([3, 4, 5].allSatisfy { FileManager.default.fileExists(atPath: cache.path(key: keys[$0])) })
        #expect(FileManager.default.fileExists(atPath: cache.path(key: newKey)))
        // The file kept for the store at hand stays even when it is the oldest: the next oldest goes.
        #expect(utimensat(AT_FDCWD, cache.path(key: keys[3]), &old, 0) == 0)
        try writeFile(cache.path(key: Array("key 9".utf8)), readFile(cache.path(key: newKey)))
        cache.prune(keeping: cache.path(key: keys[3]))
        #expect(FileManager.default.fileExists(atPath: cache.path(key: keys[3])))
        #expect(!FileManager.default.fileExists(atPath: cache.path(key: keys[4])), "the next oldest is removed")
        #expect(dir.entries.filter { $0.hasPrefix("filter-") }.count == 4)
        // Nothing but the cache's own files is touched.
        try writeFile(dir.path + "/other.txt", [1])
        #expect(cache.store(key: Array("key 8".utf8), program: program))
        #expect(dir.entries.contains("other.txt"))
    }

    @Test("a corrupted, truncated or lengthened file, or one of another format, is rejected, recompiled and rewritten")
    func damagedFilesAreRecompiled() throws {
        let dir = TempDir()
        let cache = FilterCache(directory: dir.path)
        let c = Configuration(trigger: .exec, enforce: false, action: .trace, rights: false)
        let rules = c.rules, key = c.key, path = cache.path(key: key)
        let now = try compiled(rules)
        var first = try c.build(cache)
        ct_bpf_free(&first)
        let good = readFile(path)
        #expect(good.count == FilterCache.headerSize + key.count + now.count)

        func flipped(_ at: Int) -> [UInt8] { var b = good; b[at] ^= 0x40; return b }
        var header = good
        header[8] = 2  // format version 2
        let damaged: [(String, [UInt8])] = [
            ("magic", flipped(0)),
            ("format", header),
            ("key length", flipped(12)),
            ("program length", flipped(16)),
            ("checksum", flipped(24)),
            ("key byte", flipped(FilterCache.headerSize + key.count / 2)),
            ("program byte", flipped(good.count - now.count / 2)),
            ("last byte", flipped(good.count - 1)),
            ("truncated by one", Array(good.dropLast())),
            ("truncated to the header", Array(good.prefix(FilterCache.headerSize))),
            ("empty", []),
            ("one byte too many", good + [0]),
            ("one instruction too many", good + [0, 0, 0, 0, 0, 0, 0, 0]),
        ]
        for (what, b) in damaged {
            try writeFile(path, b)
            chmod(path, 0o600)
            #expect(cache.load(key: key) == nil, "\(what): served")
            var built = try c.build(cache)
            defer { ct_bpf_free(&built) }
            #expect(bytes(built) == now, "\(what): not libseccomp's program")
            #expect(readFile(path) == good, "\(what): not rewritten")
        }
    }

    @Test("a file others may write, or not a regular file, is not served")
    func unsafeFilesAreRejected() throws {
        let dir = TempDir()
        let cache = FilterCache(directory: dir.path)
        let c = Configuration(trigger: .exec, enforce: true, action: .trace, rights: false)
        let key = c.key, path = cache.path(key: key)
        var first = try c.build(cache)
        ct_bpf_free(&first)
        var kept = try #require(cache.load(key: key))
        ct_bpf_free(&kept)
        chmod(path, 0o620)
        #expect(cache.load(key: key) == nil, "group-writable")
        chmod(path, 0o602)
        #expect(cache.load(key: key) == nil, "writable by others")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".real")
        chmod(path + ".real", 0o600)
        symlink(path + ".real", path)
        #expect(cache.load(key: key) == nil, "a symbolic link")
        unlink(path)
        mkdir(path, 0o700)
        #expect(cache.load(key: key) == nil, "a directory")
    }

    @Test("a file kept for other rules is not served under these, and a changed rule changes the key")
    func otherRulesAreRejected() throws {
        let dir = TempDir()
        let cache = FilterCache(directory: dir.path)
        let a = Configuration(trigger: .exec, enforce: false, action: .trace, rights: false)
        let b = Configuration(trigger: .syscall("getpid"), enforce: false, action: .trace, rights: false)
        let keyA = a.key, keyB = b.key
        #expect(keyA != keyB && cache.path(key: keyA) != cache.path(key: keyB))
        var progB = try b.build(cache)
        defer { ct_bpf_free(&progB) }
        // B's file (its key, its program) where A's would be: as if the two file names collided.
        try writeFile(cache.path(key: keyA), readFile(cache.path(key: keyB)))
        #expect(cache.load(key: keyA) == nil)
        var built = try a.build(cache)
        defer { ct_bpf_free(&built) }
        #expect(bytes(built) == (try compiled(a.rules)))
        // The rules' own key (an executable without a build-id): one of the same length differing in one rule's
        // action is another key, and a file kept under the first is not served under it.
        let rulesA = FilterBuilder.key(a.rules)
        var stored = try a.build(nil)
        defer { ct_bpf_free(&stored) }
        #expect(cache.store(key: rulesA, program: stored))
        var changed = a.rules
        changed[changed.count / 2].action ^= 1
        let keyC = FilterBuilder.key(changed)
        #expect(keyC.count == rulesA.count && keyC != rulesA)
        #expect(FilterCache.decode(readFile(cache.path(key: rulesA)), key: keyC) == nil)
    }

    @Test("the file is created with mode 0600 (whatever the umask) and no temporary file remains")
    func modeAndNoTemporary() throws {
        let dir = TempDir()
        let cache = FilterCache(directory: dir.path + "/xdg/captrace")  // both levels created
        let c = Configuration(trigger: .sandbox, enforce: true, action: .notify, rights: false)
        let old = umask(0o022)
        defer { umask(old) }
        var bpf = try c.build(cache)
        ct_bpf_free(&bpf)
        let path = cache.path(key: c.key)
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
        #expect(entries == [String(path.split(separator: "/").last!)])
        #expect(stat(cache.directory, &st) == 0 && st.st_mode & 0o777 == 0o700)
    }

    /// Sets the environment of this test process only, and restores it; nothing else in this test process reads
    /// these variables (the other tests name their cache directory).
    @Test("the cache directory comes from XDG_CACHE_HOME, else HOME; CAPTRACE_NO_FILTER_CACHE=1 writes nothing")
    func environment() throws {
        let names = ["XDG_CACHE_HOME", "HOME", "CAPTRACE_NO_FILTER_CACHE"]
        let saved = names.map { getenv($0).map { String(cString: $0) } }
        defer { for (n, v) in zip(names, saved) { if let v { setenv(n, v, 1) } else { unsetenv(n) } } }
        let dir = TempDir()
        let c = Configuration(trigger: .exec, enforce: false, action: .notify, rights: false)

        setenv("XDG_CACHE_HOME", dir.path, 1)
        setenv("CAPTRACE_NO_FILTER_CACHE", "1", 1)
        #expect(FilterCache.standard() == nil)
        var off = try FilterBuilder.build(trigger: c.trigger, enforce: c.enforce, action: c.action)
        ct_bpf_free(&off)
        #expect(dir.entries.isEmpty, "written with the cache disabled")

        setenv("CAPTRACE_NO_FILTER_CACHE", "0", 1)
        #expect(FilterCache.standard()?.directory == dir.path + "/captrace")
        unsetenv("CAPTRACE_NO_FILTER_CACHE")
        #expect(FilterCache.standard()?.directory == dir.path + "/captrace")
        var on = try FilterBuilder.build(trigger: c.trigger, enforce: c.enforce, action: c.action)
        ct_bpf_free(&on)
        #expect(dir.entries == ["captrace"])
        #expect(FileManager.default.fileExists(atPath: FilterCache.standard()!.path(key: c.key)))

        setenv("XDG_CACHE_HOME", "relative/dir", 1)  // not absolute: ignored, as the XDG specification says
        setenv("HOME", "/nonexistent-home", 1)
        #expect(FilterCache.standard()?.directory == "/nonexistent-home/.cache/captrace")
        unsetenv("XDG_CACHE_HOME")
        #expect(FilterCache.standard()?.directory == "/nonexistent-home/.cache/captrace")
        // Neither usable: no cache, and building still works.
        unsetenv("HOME")
        #expect(FilterCache.standard() == nil)
        setenv("HOME", "/nonexistent-home", 1)
        var unusable = try FilterBuilder.build(trigger: c.trigger, enforce: c.enforce, action: c.action)
        defer { ct_bpf_free(&unusable) }
        #expect(bytes(unusable) == (try compiled(c.rules)))
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-home"))
    }
}

@Suite struct PollTests {
    @Test("ct_poll_in watches more than 256 descriptors: 300 pipes, only the 290th readable")
    func pollsPast256() throws {
        var pipes: [(r: Int32, w: Int32)] = []
        defer { for p in pipes { close(p.r); close(p.w) } }
        for _ in 0..<300 {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            pipes.append((fds[0], fds[1]))
        }
        let readable = 289
        #expect(write(pipes[readable].w, [UInt8(ascii: "x")], 1) == 1)
        let fds = pipes.map(\.r)
        var rev = [Int16](repeating: -1, count: fds.count)
        #expect(ct_poll_in(fds, &rev, Int32(fds.count), 1000) == 1)
        #expect(rev[readable] & Int16(POLLIN) != 0)
        #expect(rev.enumerated().allSatisfy { $0.offset == readable || $0.element == 0 })
    }
}
