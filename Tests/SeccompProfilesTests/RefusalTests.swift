import SeccompProfiles
import Testing

/// Bad profiles are refused with the entry (index and first name) and the field named: one test per kind.
@Suite struct RefusalTests {
    /// A profile whose one entry is `entry`.
    func withEntry(_ entry: String) -> String {
        #"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, "# + entry + "]}"
    }

    @Test func syntax() throws {
        let e = try #require(refusal("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [}\n"))
        #expect(e.kind == .syntax)
        #expect(e.description == "profile: line 3, column 16: unexpected character")
        #expect(refusal(#"{"defaultAction": "SCMP_ACT_ERRNO"} x"#)?.kind == .syntax)
        #expect(refusal(#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 01}"#)?.kind == .syntax)
    }

    @Test func wrongType() throws {
        let e = try #require(refusal(withEntry(#"{"names": ["clone", "fork"], "action": "SCMP_ACT_ALLOW", "errnoRet": "1"}"#)))
        #expect(e.kind == .wrongType)
        #expect(e.description == "syscalls[1] (clone): errnoRet: expected an unsigned integer, found a string")
        #expect(refusal(withEntry(#"{"names": "clone", "action": "SCMP_ACT_ALLOW"}"#))?.description
            == "syscalls[1]: names: expected an array of strings, found a string")
        #expect(refusal(withEntry(#"{"names": ["clone", 3], "action": "SCMP_ACT_ALLOW"}"#))?.field == "names[1]")
        #expect(refusal(withEntry(#"{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "CAP_SYS_ADMIN"}}"#))?
            .field == "includes.caps")
        #expect(refusal(#"{"syscalls": []}"#)?.description == "profile: defaultAction: missing")
        #expect(refusal(withEntry(#"{"names": ["clone"]}"#))?.description == "syscalls[1] (clone): action: missing")
        #expect(refusal("[]")?.kind == .wrongType)
    }

    @Test func outOfRange() throws {
        let e = try #require(refusal(withEntry(#"{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}"#)))
        #expect(e.kind == .outOfRange && e.location == "syscalls[1] (kill)" && e.field == "errnoRet")
        let neg = try #require(refusal(withEntry(
            #"{"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}"#)))
        #expect(neg.kind == .outOfRange && neg.field == "args[0].value")
        #expect(refusal(withEntry(
            #"{"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}"#))?
            .kind == .outOfRange)
    }

    @Test func unknownAction() throws {
        let e = try #require(refusal(withEntry(#"{"names": ["ptrace"], "action": "SCMP_ACT_DENY"}"#)))
        #expect(e.kind == .unknownAction)
        #expect(e.description == #"syscalls[1] (ptrace): action: unknown action "SCMP_ACT_DENY""#)
        #expect(refusal(#"{"defaultAction": "ALLOW"}"#)?.field == "defaultAction")
    }

    @Test func unknownOperator() throws {
        let e = try #require(refusal(withEntry(
            #"{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_MASKED_NE"}]}"#)))
        #expect(e.kind == .unknownOperator)
        #expect(e.description == #"syscalls[1] (socket): args[1].op: unknown operator "SCMP_CMP_MASKED_NE""#)
    }

    @Test func malformedArgs() throws {
        let high = try #require(refusal(withEntry(
            #"{"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}"#)))
        #expect(high.kind == .malformedArgs && high.field == "args[0].index")
        #expect(high.message == "6 is above 5 (a syscall has 6 arguments)")
        let noValue = try #require(refusal(withEntry(
            #"{"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "op": "SCMP_CMP_EQ"}]}"#)))
        #expect(noValue.kind == .malformedArgs && noValue.description == "syscalls[1] (mmap): args[0].value: missing")
        #expect(refusal(withEntry(#"{"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 1}]}"#))?
            .field == "args[0].op")
        #expect(refusal(withEntry(#"{"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [3]}"#))?.kind == .wrongType)
    }

    @Test func unknownArchitecture() throws {
        let e = try #require(refusal(#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]}"#))
        #expect(e.kind == .unknownArchitecture && e.field == "architectures[1]")
        #expect(refusal("""
            {"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["X32"]}]}
            """)?.field == "archMap[0].subArchitectures[0]")
    }

    @Test func conflictingFields() throws {
        let arch = try #require(refusal("""
            {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
             "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": null}]}
            """))
        #expect(arch.kind == .conflictingFields && arch.location == "profile" && arch.field == "archMap")
        let names = try #require(refusal(withEntry(#"{"name": "open", "names": ["openat"], "action": "SCMP_ACT_ALLOW"}"#)))
        #expect(names.kind == .conflictingFields && names.location == "syscalls[1] (openat)" && names.field == "name")
        #expect(refusal(withEntry(#"{"names": ["open"], "action": "SCMP_ACT_ALLOW", "action": "SCMP_ACT_KILL"}"#))?
            .description == "syscalls[1] (open): action: the key appears twice")
    }

    @Test func invalidKernelVersion() throws {
        for text in ["4", "4.8.1", "0.0", "4.x", "300.1"] {
            let e = try #require(refusal(withEntry(
                #"{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "\#(text)"}}"#)))
            #expect(e.kind == .invalidKernelVersion && e.field == "includes.minKernel", "\(text)")
        }
    }

    @Test func unusableAction() throws {
        let e = try #require(refusal(#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#))
        #expect(e.kind == .unusableAction && e.field == "defaultAction")
        let w = try #require(refusal(withEntry(#"{"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}"#)))
        #expect(w.description == "syscalls[1] (read): names[1]: runc refuses SCMP_ACT_NOTIFY for write")
        #expect(refusal(withEntry(#"{"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}"#)) == nil)
    }

    @Test func noNames() throws {
        let e = try #require(refusal(withEntry(#"{"names": [], "action": "SCMP_ACT_ALLOW"}"#)))
        #expect(e.kind == .noNames && e.description == "syscalls[1]: names: no syscall named")
        #expect(refusal(withEntry(#"{"action": "SCMP_ACT_ALLOW"}"#))?.kind == .noNames)
    }
}
