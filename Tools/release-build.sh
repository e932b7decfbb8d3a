#!/usr/bin/env bash
# Builds the release captrace the Tools scripts run (demo, bench, record-traces) and prints its path.
# The Swift runtime is linked statically: ~3.5 ms less start-up per run, and no Swift runtime needed to run it.
# Kept position-independent: -no-pie was measured (43,000 fewer relative relocations at start, ~120 fewer page
# faults, 0-0.6 ms of CPU a run) but captrace runs as root and parses untrusted programs' memory, so its own
# image stays randomised (README, Performance (e)).
# Build output goes to stderr. Expects PATH to hold swift (the callers set it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Start-up (README, Performance (e)): concrete generic metadata through direct accessors instead of mangled
# names, so the first use of a type such as Dictionary<String, X> neither demangles nor scans the ~3,900
# protocol conformance records for its requirements (~0.3 ms a run). Packing relative relocations (lld,
# -z pack-relative-relocs) was measured too and made no difference.
flags=(-c release --static-swift-stdlib
       -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors)
swift build "${flags[@]}" --product captrace >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/captrace"
