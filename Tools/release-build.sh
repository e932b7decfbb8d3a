#!/usr/bin/env bash
# Builds the release captrace (and captrace-cli beside it) that the Tools scripts run (demo, bench, record-traces)
# and prints captrace's path.
# The Swift runtime is linked statically: ~3.5 ms less start-up per run, and no Swift runtime needed to run it.
# Kept position-independent: -no-pie was measured (43,000 fewer relative relocations at start, ~120 fewer page
# faults, 0-0.6 ms of CPU a run) but captrace runs as root and parses untrusted programs' memory, so its own
# image stays randomised (Docs/performance-history.md, (e)).
# Build output goes to stderr. Expects PATH to hold swift (the callers set it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Concrete type metadata through direct accessors instead of demangling its mangled name at first use: each
# first use of a type such as Dictionary<Int32, ProcessState> otherwise demangles the name and checks its generic
# requirements by scanning the conformance records (~13% of a short run's CPU; `run --enter-at exec -- /bin/true`:
# 3.94 -> 3.56 ms of CPU, 1.23x -> 1.14x strace's wall time over 21 interleaved rounds of 20 runs).
# Measured for start-up and not taken (Docs/performance-history.md, (e)): prespecialized generic metadata
# (-Xfrontend -prespecialize-generic-metadata: no difference).
flags=(-c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors)
# Each function in its own section, so that the link can lay out the functions a start runs together
# (Tools/text-order.txt, made by Tools/text-order.sh; the linker wrapper below passes it to lld): a start maps
# 3.9 MB of captrace's text instead of 5.6-6.0 MB, with ~25 fewer page faults; `run --enter-at exec -- /bin/true`
# took 0.98x the time on both backends over 101 interleaved rounds (Docs/performance-history.md, (e)).
flags+=(-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections)
# The C shims' data each in its own section too, so that the link can move the unwinder's large buffers ahead of
# the part of .bss that the first constructor populates (Sources/CTraceShims/self.c).
flags+=(-Xcc -fdata-sections)
# The Swift frontend keeps an object whose LLVM module is unchanged without generating it again, and codegen options
# such as -function-sections are not part of that check: in a build directory made without them the objects kept
# their old layout (found by their missing sections). Always generate.
flags+=(-Xswiftc -Xfrontend -Xswiftc -disable-incremental-llvm-codegen)
# The C libraries (libdw, libelf, libseccomp, their libz/liblzma/libbz2, libstdc++ which the static Swift runtime
# needs, and libgcc_s's unwinder) are linked statically too, by a linker wrapper (Tools/ld-static-libs, which says
# what each costs at start when loaded as a shared library, and why it links with lld and packed relocations).
flags+=(-Xswiftc "-ld-path=$PWD/Tools/ld-static-libs")
# Both executables: captrace runs plain `run` lines and hands every other command line to captrace-cli beside it.
swift build "${flags[@]}" --product captrace >&2
swift build "${flags[@]}" --product captrace-cli >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/captrace"
