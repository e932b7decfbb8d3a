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
  captrace=$CAPTRACE
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
python3 - demo.jsonl <<'PY' >&2
import json, sys
seen = []
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") != "violation":
        continue
    what = e.get("path") or e.get("address") or ""
    frames = [f.get("symbol") for f in e.get("stack") or [] if f.get("symbol")]
    via = " <- ".join(frames[:4])
    print("  %-10s %-12s %-28s %s" % (e["namespace"], e["syscall"], what, ("via " + via) if via else ""))
    seen.append(what)
for want in ("/etc/nsswitch.conf", "/etc/hosts", "/etc/resolv.conf"):
    print("  %s %s" % ("found  " if want in seen else "MISSING", want))
PY
echo >&2
echo "demo: full report:      $captrace report .build/demo/demo.jsonl" >&2
echo "demo: what to do first: $captrace suggest .build/demo/demo.jsonl --format plan" >&2
exit "$status"
