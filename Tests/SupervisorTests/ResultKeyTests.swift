// Whether a violation's result is wanted is decided by a key of bytes (PtraceTransport.resultWanted): equal keys
// exactly when the call, site, memory read and base are equal, whatever their length.
import SyscallCatalog
import Testing
import TraceModel
@testable import Supervisor

@Suite struct ResultKeyTests {
    static func draft(path: String, site: String = "", base: String? = nil, nr: Int = 257, abi: ABI = .x86_64,
                      sockaddr: [UInt8]? = nil) -> ViolationEventDraft {
        var v = ViolationEvent(seq: 0, tNs: 0, pid: 1, tid: 1, abi: abi, syscall: "openat", nr: nr,
                               namespace: .filesystem, rule: .absolutePath, args: [], action: .allowed, site: site,
                               stack: [])
        var m = MemoryRead()
        m.strings = [1: path]
        m.sockaddr = sockaddr
        v.raw = RawCall(args: [0, 1, 2], memory: m, base: base)
        return ViolationEventDraft(event: v)
    }

    @Test("keys longer than the writer's room: equal for equal drafts, different for drafts differing at their end")
    func longKeys() {
        var w = ResultKeyWriter()
        var seen: Set<ResultKey> = []
        let long = "/" + String(repeating: "d/", count: 1500)  // 3 KB: the room grows
        let drafts = [Self.draft(path: long + "a"), Self.draft(path: long + "b"), Self.draft(path: "/short"),
                      Self.draft(path: long + "a", base: "/tmp"), Self.draft(path: long + "a", nr: 21),
                      Self.draft(path: long + "a", abi: .i386), Self.draft(path: long + "a", site: "abc"),
                      Self.draft(path: long + "a", sockaddr: [2, 0, 0, 53]), Self.draft(path: "/short", base: "")]
        for d in drafts {
            let k = w.key(of: d)
            #expect(!seen.contains(k))
            seen.insert(k.owned())
        }
        // The same drafts again, after the room grew and was written over: each found, none new.
        for d in drafts.reversed() { #expect(seen.contains(w.key(of: d))) }
        #expect(seen.count == drafts.count)
    }
}
