import CTraceShims
import Glibc

/// Runs `body` with a NULL-terminated C string array.
package func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
}

enum ProgramPath {
    /// Finds the program like execvp would: a name with a slash is used as is, otherwise PATH is searched.
    static func resolve(_ name: String) throws(SupervisorError) -> String {
        if name.isEmpty { throw SupervisorError("no program given", status: 127) }
        if name.contains("/") {
            guard access(name, F_OK) == 0 else { throw SupervisorError("cannot execute \(name): no such file", status: 127) }
            return name
        }
        let path = String(cString: getenv("PATH") ?? strdup("/usr/local/bin:/usr/bin:/bin"))
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        throw SupervisorError("cannot execute \(name): not found in PATH", status: 127)
    }

    /// captrace's own environment, which the program is given as it is: the C array itself (a copy through Swift
    /// strings cost a decoding and two copies of every variable at every start, and changed bytes that are not
    /// UTF-8). Nothing in captrace changes its environment.
    static var environment: UnsafePointer<UnsafeMutablePointer<CChar>?> { UnsafePointer(environ) }
}
