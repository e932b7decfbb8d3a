#!/usr/bin/env bash
# A benchmark, not a test: traces of millions of events (issue 13). Records N violations of one site with stacks
# (Tools/bench/fstatat-loop.c, entry at main, ptrace backend), then reports the trace; prints bytes per violation,
# the recording's and the report's wall time and peak RSS (/usr/bin/time -v), and report time / record time.
#
#   Tools/bench-trace.sh [-n RUNS]     (default 1; env: CAPTRACE=binary to measure (default: a release build),
#                                       BASE=another captrace to record with in the same rounds (e.g. main's
#                                       release build, for "recording no slower"), BENCH_TRACE_N=1000000,
#                                       BASE_REPORT=1 to also report the BASE trace, which a format-1 captrace
#                                       reads whole: gigabytes of RSS)
#
# Targets (issue 13): <= 200 bytes per repeated violation; report <= 100 MiB peak RSS and <= 0.2x the recording
# time; recording no slower than BASE.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=1
while getopts "n:" o; do case $o in n) runs=$OPTARG ;; *) echo "usage: $0 [-n RUNS]" >&2; exit 2 ;; esac; done
export PATH="/opt/swift/usr/bin:$PATH"
n=${BENCH_TRACE_N:-1000000}
out=.build/bench
mkdir -p "$out"
if [[ -z "${CAPTRACE:-}" ]]; then
  echo "bench-trace: building captrace (release)..." >&2
  CAPTRACE=$(bash Tools/release-build.sh)
fi
gcc -O1 -g -Wall -o "$out/fstatat-loop" Tools/bench/fstatat-loop.c
loop="$out/fstatat-loop"

# measure LABEL COMMAND...: runs it under /usr/bin/time -v; sets $wall (s) and $rss (KiB).
measure() {
  local label=$1; shift
  /usr/bin/time -v -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" || {
    echo "bench-trace: $label failed:" >&2; cat "$out/stderr.txt" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$out/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time.txt")
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo "bench-trace: $n violations of one site with stacks; captrace $CAPTRACE${BASE:+, base $BASE}; $runs run(s)" >&2
for ((r = 1; r <= runs; r++)); do
  trace="$out/trace-$n.jsonl"
  measure record "$CAPTRACE" run -q --enter-at main -o "$trace" -- "$loop" "$n"
  rec=$wall; rec_rss=$rss
  bytes=$(stat -c %s "$trace")
  measure report "$CAPTRACE" report "$trace"
  rep=$wall; rep_rss=$rss
  printf 'run %d: record %.2f s (%s RSS); %d bytes, %.1f bytes/violation; report %.2f s (%s peak RSS) = %.3fx the recording\n' \
    "$r" "$rec" "$(mib "$rec_rss")" "$bytes" "$(awk -v b="$bytes" -v n="$n" 'BEGIN { print b / n }')" \
    "$rep" "$(mib "$rep_rss")" "$(awk -v a="$rep" -v b="$rec" 'BEGIN { print a / b }')"
  if [[ -n "${BASE:-}" ]]; then
    btrace="$out/trace-$n-base.jsonl"
    measure "base record" "$BASE" run -q --enter-at main -o "$btrace" -- "$loop" "$n"
    line=$(printf 'run %d: base record %.2f s (%s RSS); %d bytes, %.1f bytes/violation; record/base %.3f' \
      "$r" "$wall" "$(mib "$rss")" "$(stat -c %s "$btrace")" "$(awk -v b="$(stat -c %s "$btrace")" -v n="$n" 'BEGIN { print b / n }')" \
      "$(awk -v a="$rec" -v b="$wall" 'BEGIN { print a / b }')")
    if [[ "${BASE_REPORT:-0}" == 1 ]]; then
      measure "base report" "$BASE" report "$btrace"
      line+=$(printf '; base report %.2f s (%s peak RSS)' "$wall" "$(mib "$rss")")
    fi
    echo "$line"
    rm -f "$btrace"
  fi
  rm -f "$trace"
done
