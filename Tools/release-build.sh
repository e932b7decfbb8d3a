#!/usr/bin/env bash
# Builds the release captrace the Tools scripts run (demo, bench, record-traces) and prints its path.
# The Swift runtime is linked statically: ~3.5 ms less start-up per run, and no Swift runtime needed to run it.
# Kept position-independent: -no-pie was measured (43,000 fewer relative relocations at start, ~120 fewer page
# faults, 0-0.6 ms of CPU a run) but captrace runs as root and parses untrusted programs' memory, so its own
# image stays randomised (README, Performance (e)).
# Build output goes to stderr. Expects PATH to hold swift (the callers set it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Measured for start-up and not taken (README, Performance (e)): concrete type metadata through direct accessors
# (-Xfrontend -disable-concrete-type-metadata-mangled-name-accessors: ~0.3 ms less metadata instantiation, but
# ~30 more page faults of a larger text, no faster in 30 interleaved rounds), and lld with packed relative
# relocations (-z pack-relative-relocs: no difference), and prespecialized generic metadata
# (-Xfrontend -prespecialize-generic-metadata: no difference).
flags=(-c release --static-swift-stdlib)
# libstdc++ (which the static Swift runtime needs) is linked statically too: loading libstdc++.so and its ~1,700
# symbol relocations cost ~0.45 ms of CPU and ~40 page faults at every start (README, Performance (e)). swiftc's
# static-stdlib link line asks for -lstdc++; a linker script of that name in a directory searched first hands the
# linker the archive instead. Without the archive (no libstdc++ -dev package) the shared library is used.
archive=$(cc -print-file-name=libstdc++.a 2>/dev/null || true)
if [[ "$archive" == /* && -f "$archive" ]]; then
    mkdir -p .build/static-libstdc++
    echo "INPUT($archive)" > .build/static-libstdc++/libstdc++.so
    flags+=(-Xlinker "-L$PWD/.build/static-libstdc++")
fi
swift build "${flags[@]}" --product captrace >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/captrace"
