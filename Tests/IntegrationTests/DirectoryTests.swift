// Relative paths are recorded joined with the directory the program was in at that moment. Both backends cache
// the current directory (a readlink of /proc per violation costs more than the rest of the event) and must
// forget it when the program changes directory: chdir (itself a violation), fchdir to a held descriptor (not
// one, but trapped for this), and another thread's chdir.
import Foundation
import Testing
import TraceModel

@Suite("run: relative paths after changing directory")
struct DirectoryTests {
    static let source = """
        #include "fixture.h"
        #include <pthread.h>
        static void *other(void *arg) { (void)arg; CHECK(chdir("/usr") == 0); return NULL; }
        int main(void) {
            int held = open("/tmp", O_RDONLY | O_DIRECTORY);
            CHECK(held >= 0);
            CHECK(chdir("/") == 0);
            cap_enter();
            (void)access("rel-a", F_OK);             /* "/" + rel-a */
            (void)access("rel-a", F_OK);             /* again: the cached directory */
            CHECK(chdir("/etc") == 0);               /* a violation; the directory changes */
            (void)access("rel-b", F_OK);
            CHECK(fchdir(held) == 0);                /* allowed: a held descriptor */
            (void)access("rel-c", F_OK);
            pthread_t t;
            CHECK(pthread_create(&t, NULL, other, NULL) == 0);
            CHECK(pthread_join(t, NULL) == 0);       /* another thread moved the whole process */
            (void)access("rel-d", F_OK);
            return 0;
        }
        """

    @Test("each relative path is joined with the directory of its moment", arguments: ["ptrace", "notify"])
    func joinedWithTheCurrentDirectory(backend: String) throws {
        let w = try Workdir("cwd")
        let bin = try NotifyTests.buildInline("cwd", Self.source, in: w)
        let r = try Harness.run([bin], backend: backend, options: ["--enter-at", "symbol:cap_enter", "-q"], in: w)
        #expect(r.status == 0, "\(r.digest)")
        let paths = r.violations.filter { $0.syscall == "access" || $0.syscall == "faccessat" }.compactMap(\.path)
        #expect(paths == ["/rel-a", "/rel-a", "/etc/rel-b", "/tmp/rel-c", "/usr/rel-d"], "\(paths)\n\(r.digest)")
    }
}
