import TraceModel
import SyscallCatalog

/// A reviewed baseline of known violations (`suggest --format allowlist`, read by `run --allow FILE`).
///
/// The file is line based (UTF-8; `#` starts a comment, on its own line or after the fields of an entry line;
/// blank lines are ignored):
///
///     SYSCALL NAMESPACE/RULE [path=GLOB] [address=GLOB] [abi=ABI]
///         at FRAME
///         at FRAME
///
/// - `SYSCALL` is a syscall name or `*`; `NAMESPACE/RULE` is e.g. `filesystem/absolute-path`,
///   `filesystem/*`, or `*` for any.
/// - `path=`/`address=` take a `Glob` (the one dialect: `*`, `**`, `?`, `[a-z]`, `{pid}`, `\` escapes); a value
///   with spaces or quotes is written in double quotes with `\"` and `\\` escapes.
///   Without them the entry matches any path or address.
/// - `at` lines give the stack signature, innermost frame first: `MODULE!SYMBOL` (module basename and
///   function name: survives ASLR and rebuilds), `MODULE+0xOFFSET` (file offset in the module: survives ASLR,
///   not a rebuild), or `*` (any one frame). The listed frames must equal the innermost frames of the
///   violation's stack; outer frames beyond them are not compared. Without `at` lines the entry matches any
///   stack; a violation recorded without a stack matches only such entries.
///
/// A violation is in the baseline when any entry matches all of its given fields.
public struct Baseline: Sendable {
    public struct Entry: Sendable, Hashable {
        /// nil: any syscall.
        public var syscall: String?
        public var namespace: Namespace?
        public var rule: Rule?
        public var abi: ABI?
        public var path: Glob?
        public var address: Glob?
        /// nil: any stack.
        public var stack: [FramePattern]?
        /// The line the entry starts on (1-based), for messages.
        public var line: Int

        public init(syscall: String?, namespace: Namespace?, rule: Rule?, abi: ABI? = nil, path: Glob? = nil,
                    address: Glob? = nil, stack: [FramePattern]? = nil, line: Int = 0) {
            self.syscall = syscall; self.namespace = namespace; self.rule = rule; self.abi = abi
            self.path = path; self.address = address; self.stack = stack; self.line = line
        }

        public func matches(_ v: ViolationEvent) -> Bool {
            if let syscall, syscall != v.syscall { return false }
            if let namespace, namespace != v.namespace { return false }
            if let rule, rule != v.rule { return false }
            if let abi, abi != v.abi { return false }
            if let path {
                guard let p = v.path, path.matches(p, pid: v.pid) else { return false }
            }
            if let address {
                guard let a = v.address, address.matches(a, pid: v.pid) else { return false }
            }
            if let stack {
                guard v.stack.count >= stack.count else { return false }
                for (pattern, frame) in zip(stack, v.stack) where !pattern.matches(frame) { return false }
            }
            return true
        }
    }

    /// One frame of a stack signature.
    public enum FramePattern: Sendable, Hashable, CustomStringConvertible {
        case any
        case symbol(module: String, symbol: String)
        case offset(module: String, offset: UInt64)

        /// The signature of a recorded frame: by symbol where known, else by file offset, else any.
        public init(_ f: Frame) {
            guard let m = f.module else { self = .any; return }
            if let s = f.symbol { self = .symbol(module: PathText.basename(m), symbol: s) }
            else if let o = f.offset { self = .offset(module: PathText.basename(m), offset: o) }
            else { self = .any }
        }

        public func matches(_ f: Frame) -> Bool {
            switch self {
            case .any: return true
            case .symbol(let module, let symbol):
                guard f.symbol == symbol, let m = f.module else { return false }
                return hasBaseName(m, module)
            case .offset(let module, let offset):
                guard f.offset == offset, let m = f.module else { return false }
                return hasBaseName(m, module)
            }
        }

        public var description: String {
            switch self {
            case .any: return "*"
            case .symbol(let m, let s): return "\(m)!\(s)"
            case .offset(let m, let o): return "\(m)+0x\(String(o, radix: 16))"
            }
        }
    }

    public let entries: [Entry]
    /// Entries by syscall name, so the supervisor's check looks at the few entries that can match.
    let bySyscall: [String: [Entry]]
    let anySyscall: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
        var by: [String: [Entry]] = [:]
        var any: [Entry] = []
        for e in entries {
            if let s = e.syscall { by[s, default: []].append(e) } else { any.append(e) }
        }
        bySyscall = by
        anySyscall = any
    }

    /// Parses a baseline file. Throws `BaselineError` naming the first malformed line.
    public init(parsing text: String) throws(BaselineError) {
        var entries: [Entry] = []
        var n = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.first == "#" { continue }
            if trimmed.hasPrefix("at ") || trimmed.hasPrefix("at\t") || trimmed == "at" {
                guard !entries.isEmpty else { throw BaselineError(line: n, reason: "an 'at' frame before any entry") }
                let frame = trimmed.dropFirst(2).drop { $0 == " " || $0 == "\t" }
                let pattern = try Baseline.parseFrame(String(frame), line: n)
                entries[entries.count - 1].stack = (entries[entries.count - 1].stack ?? []) + [pattern]
                continue
            }
            guard trimmed.startIndex == line.startIndex else {
                throw BaselineError(line: n, reason: "an indented line that is not an 'at' frame")
            }
            entries.append(try Baseline.parseEntry(String(line), line: n))
        }
        self.init(entries: entries)
    }

    /// Whether the violation is in the baseline. Cheap: only entries for its syscall (and `*`) are tried.
    public func matches(_ v: ViolationEvent) -> Bool { matchingEntry(v) != nil }

    /// The action a violation stands with under this baseline: a call that proceeded (`allowed`) and that an
    /// entry matches is `allowed-by-baseline`; `denied` and `allowed-by-baseline` stay. The one baseline
    /// verdict: enforce mode's deny decision, the reports and the CI gate all come from it.
    public func action(for v: ViolationEvent) -> Action {
        v.action == .allowed && matches(v) ? .allowedByBaseline : v.action
    }

    /// The first entry matching the violation, if any.
    public func matchingEntry(_ v: ViolationEvent) -> Entry? {
        if let list = bySyscall[v.syscall] {
            for e in list where e.matches(v) { return e }
        }
        for e in anySyscall where e.matches(v) { return e }
        return nil
    }

    // MARK: parsing

    static func parseEntry(_ text: String, line n: Int) throws(BaselineError) -> Entry {
        let tokens: [String]
        do { tokens = try tokenize(text) } catch { throw BaselineError(line: n, reason: error.reason) }
        guard tokens.count >= 2 else {
            throw BaselineError(line: n, reason: "expected 'SYSCALL NAMESPACE/RULE [key=value...]', got '\(text)'")
        }
        var e = Entry(syscall: tokens[0] == "*" ? nil : tokens[0], namespace: nil, rule: nil, line: n)
        if let s = e.syscall, !s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw BaselineError(line: n, reason: "'\(s)' is not a syscall name")
        }
        // A name the catalog does not know would never match (a typo makes the gate fail later, far from its
        // cause). `syscall_N` is how a trace names a number without a row.
        if let s = e.syscall, Catalog.shared.syscall(named: s) == nil,
           !(s.hasPrefix("syscall_") && Int(s.dropFirst("syscall_".count)) != nil) {
            throw BaselineError(line: n, reason: "unknown syscall '\(s)'")
        }
        let kind = tokens[1]
        if kind != "*" {
            let parts = kind.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let ns = Namespace(rawValue: String(parts[0])) else {
                throw BaselineError(line: n, reason: "unknown namespace '\(parts[0])' (one of \(Namespace.allCases.map(\.rawValue).joined(separator: ", ")), or *)")
            }
            e.namespace = ns
            if parts.count == 2, parts[1] != "*" {
                guard let r = Rule(rawValue: String(parts[1])) else {
                    throw BaselineError(line: n, reason: "unknown rule '\(parts[1])' (one of \(Rule.allCases.map(\.rawValue).joined(separator: ", ")), or *)")
                }
                e.rule = r
            }
        }
        for t in tokens.dropFirst(2) {
            guard let eq = t.firstIndex(of: "=") else {
                throw BaselineError(line: n, reason: "expected key=value, got '\(t)'")
            }
            let key = t[..<eq], value = String(t[t.index(after: eq)...])
            do {
                switch key {
                case "path":
                    guard e.path == nil else { throw BaselineError(line: n, reason: "path= given twice") }
                    e.path = try Glob(value)
                case "address":
                    guard e.address == nil else { throw BaselineError(line: n, reason: "address= given twice") }
                    e.address = try Glob(value)
                case "abi":
                    guard let a = ABI(rawValue: value) else {
                        throw BaselineError(line: n, reason: "unknown abi '\(value)' (one of \(ABI.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    e.abi = a
                default:
                    throw BaselineError(line: n, reason: "unknown key '\(key)' (path, address or abi)")
                }
            } catch let g as GlobError {
                throw BaselineError(line: n, reason: "bad \(key) pattern '\(value)': \(g.reason)")
            } catch let b as BaselineError {
                throw b
            } catch {
                throw BaselineError(line: n, reason: "\(error)")
            }
        }
        return e
    }

    static func parseFrame(_ text: String, line n: Int) throws(BaselineError) -> FramePattern {
        let t = text.trimmingTrailingSpace()
        if t == "*" { return .any }
        if let bang = t.firstIndex(of: "!") {
            let m = t[..<bang], s = t[t.index(after: bang)...]
            guard !m.isEmpty, !s.isEmpty else { throw BaselineError(line: n, reason: "bad frame '\(t)': expected MODULE!SYMBOL") }
            return .symbol(module: String(m), symbol: String(s))
        }
        if let plus = lastRange(of: "+0x", in: t) {
            let m = t[..<plus.lowerBound], o = t[plus.upperBound...]
            guard !m.isEmpty, let off = UInt64(o, radix: 16) else {
                throw BaselineError(line: n, reason: "bad frame '\(t)': expected MODULE+0xOFFSET")
            }
            return .offset(module: String(m), offset: off)
        }
        throw BaselineError(line: n, reason: "bad frame '\(t)': expected MODULE!SYMBOL, MODULE+0xOFFSET or *")
    }

    struct TokenError: Error { let reason: String }

    /// Splits on blanks; a double-quoted run (with `\"` and `\\` escapes) may contain blanks.
    static func tokenize(_ s: String) throws(TokenError) -> [String] {
        var out: [String] = []
        var cur = ""
        var inToken = false, quoted = false, escape = false
        for c in s {
            if quoted {
                if escape {
                    guard c == "\"" || c == "\\" else { throw TokenError(reason: "unknown escape \\\(c) in a quoted value") }
                    cur.append(c); escape = false
                } else if c == "\\" { escape = true }
                else if c == "\"" { quoted = false }
                else { cur.append(c) }
            } else if c == " " || c == "\t" {
                if inToken { out.append(cur); cur = ""; inToken = false }
            } else if c == "#" && !inToken {
                break  // a trailing comment
            } else if c == "\"" {
                quoted = true; inToken = true
            } else {
                cur.append(c); inToken = true
            }
        }
        if quoted { throw TokenError(reason: "unterminated quoted value") }
        if inToken { out.append(cur) }
        return out
    }
}

/// A malformed baseline file: the line (1-based) and what is wrong with it.
public struct BaselineError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let reason: String
    public init(line: Int, reason: String) { self.line = line; self.reason = reason }
    public var description: String { "line \(line): \(reason)" }
}

/// Whether `path`'s last component is `name` (`hasSuffix` is the fastest check the standard library has).
func hasBaseName(_ path: String, _ name: String) -> Bool {
    guard path.hasSuffix(name) else { return false }
    let u = path.utf8, n = name.utf8.count
    guard u.count > n else { return u.count == n }
    return u[u.index(u.endIndex, offsetBy: -n - 1)] == UInt8(ascii: "/")
}

/// The range of the last occurrence of `needle` in `s` (no Foundation).
func lastRange(of needle: String, in s: String) -> Range<String.Index>? {
    var i = s.endIndex
    while i > s.startIndex {
        i = s.index(before: i)
        if s[i...].hasPrefix(needle) { return i..<s.index(i, offsetBy: needle.count) }
    }
    return nil
}

extension StringProtocol {
    func trimmingTrailingSpace() -> String {
        var s = Substring(self)
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
