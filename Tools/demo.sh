#!/usr/bin/env bash
# The README's first command: builds captrace and the bundled example (Examples/resolver-demo.c), traces it from
# the moment it "enters capability mode" (its enter_sandbox() function), and shows what the C library's resolver
# looked up in the global filesystem after that: /etc/nsswitch.conf, /etc/hosts, /etc/resolv.conf...
# Artifacts go to .build/demo/ (the example binary and demo.jsonl, the trace).
# CAPTRACE=path uses a given captrace binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash Tools/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

if [[ -n "${CAPTRACE:-}" ]]; then
  captrace=$(realpath "$CAPTRACE")
else
  echo "demo: building captrace (release)..." >&2
  captrace=$(bash Tools/release-build.sh)
fi

out="$root/.build/demo"
mkdir -p "$out"
gcc -g -O1 -Wall -o "$out/resolver-demo" Examples/resolver-demo.c

echo >&2
echo "demo: \$ captrace run --enter-at symbol:enter_sandbox -o .build/demo/demo.jsonl -- ./resolver-demo localhost" >&2
cd "$out"
status=0
"$captrace" run --enter-at symbol:enter_sandbox -o demo.jsonl -- ./resolver-demo localhost || status=$?

echo >&2
echo "demo: global lookups made after enter_sandbox() (from .build/demo/demo.jsonl):" >&2
"$captrace" report demo.jsonl --format json | python3 -c '
import json, sys
seen = []
for s in json.load(sys.stdin)["sites"]:
    frames = [f.get("symbol") for f in s.get("stack") or [] if f.get("symbol")]
    via = " <- ".join(frames[:4])
    for what in (s.get("paths") or []) + (s.get("addresses") or []) or [""]:
        print("  %-10s %-12s %-28s %s" % (s["namespace"], s["syscall"], what, ("via " + via) if via else ""))
        seen.append(what)
missing = [w for w in ("/etc/nsswitch.conf", "/etc/hosts", "/etc/resolv.conf") if w not in seen]
for want in ("/etc/nsswitch.conf", "/etc/hosts", "/etc/resolv.conf"):
    print("  %s %s" % ("MISSING" if want in missing else "found  ", want))
sys.exit(1 if missing else 0)
' >&2 || status=1
echo >&2
echo "demo: full report:      $captrace report .build/demo/demo.jsonl" >&2
echo "demo: what to do first: $captrace suggest .build/demo/demo.jsonl --format plan" >&2
exit "$status"
