#!/usr/bin/env bash
# A benchmark, not a test: wall time of captrace against the untraced program, the seccomp floor and strace,
# side by side in one run. Prints the median of N runs per row and ratios.
#
#   Tools/bench.sh [-n RUNS]            (default 3; env: CAPTRACE=path to use a given binary, BENCH_DD_COUNT,
#                                        BENCH_FSTATAT=100000, BENCH_STACKS=10000, BENCH_SLOW_RUNS=1 for the
#                                        ~2-minute `strace -f` row; BENCH_SKIP_SLOW=1 to leave that row out;
#                                        BENCH_RIGHTS_DD=20000 bytes for the --rights row)
#
# (a) dd if=/dev/zero of=/dev/null bs=1 count=500000 (1M syscalls, none a violation): untraced, under an
#     allow-all seccomp filter (the floor for any seccomp-based tracer), captrace --enter-at exec, strace -f,
#     strace -f --seccomp-bpf -e trace=%file.  Target: captrace <= 1.05x the floor.
# (b) 100000 fstatat(AT_FDCWD, ".") violations after entry, no stacks: captrace (each backend it has, and
#     pinned to one CPU with taskset for comparison) vs strace -f --seccomp-bpf -e trace=newfstatat, and the
#     notify mechanism's floor (Tools/bench/notify-floor.c: bare receive/continue round trips).
#     Target: captrace <= 0.5x strace (notify: 0.1x).
# (c) 10000 violations with stacks: captrace --unwinder libdw / libunwind vs strace -f --seccomp-bpf -k.
# (d) the cost of --rights: dd with every read/write trapped, and tcpdump -r with entry at pcap_loop.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
while getopts "n:" o; do case $o in n) runs=$OPTARG ;; *) echo "usage: $0 [-n RUNS]" >&2; exit 2 ;; esac; done
export PATH="/opt/swift/usr/bin:$PATH"
dd_count=${BENCH_DD_COUNT:-500000}
n_fstatat=${BENCH_FSTATAT:-100000}
n_stacks=${BENCH_STACKS:-10000}
slow_runs=${BENCH_SLOW_RUNS:-1}

out=.build/bench
mkdir -p "$out"
if [[ -z "${CAPTRACE:-}" ]]; then
  echo "bench: building captrace (release)..." >&2
  swift build -c release --product captrace >&2
  CAPTRACE="$(swift build -c release --show-bin-path)/captrace"
fi
gcc -O2 -Wall -o "$out/seccomp-floor" Tools/bench/seccomp-floor.c -lseccomp
gcc -O1 -g -Wall -o "$out/fstatat-loop" Tools/bench/fstatat-loop.c
gcc -O2 -Wall -o "$out/notify-floor" Tools/bench/notify-floor.c -lseccomp
floor="$out/seccomp-floor"
loop="$out/fstatat-loop"
dd=(dd if=/dev/zero of=/dev/null bs=1 count="$dd_count" status=none)

# The backends this captrace build accepts.
backends=()
for b in ptrace notify; do
  if "$CAPTRACE" run --backend "$b" --enter-at exec -q -o /dev/null -- /bin/true >/dev/null 2>&1; then backends+=("$b"); fi
done
echo "bench: captrace $CAPTRACE, backends: ${backends[*]:-none}, $runs run(s) per row, $(nproc) CPUs" >&2

declare -A secs
rows=()

# measure KEY RUNS COMMAND...: median wall seconds of RUNS runs (stdout/stderr of the command discarded).
measure() {
  local key=$1 n=$2; shift 2
  local times=() i t0 t1 rc
  for ((i = 0; i < n; i++)); do
    t0=$(date +%s.%N)
    rc=0; "$@" >/dev/null 2>"$out/last.err" || rc=$?
    t1=$(date +%s.%N)
    if ((rc != 0)); then
      echo "bench: $key: exit status $rc: $(head -c 300 "$out/last.err")" >&2
      secs[$key]=fail; rows+=("$key"); return 0
    fi
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
  done
  secs[$key]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}')
  rows+=("$key")
  echo "bench: $key: ${secs[$key]} s" >&2
}

ratio() {  # ratio KEY BASEKEY
  local a=${secs[$1]:-fail} b=${secs[$2]:-fail}
  if [[ $a == fail || $b == fail ]]; then echo "-"; else echo "$a $b" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "-" }'; fi
}

# (a)
measure "a untraced" "$runs" "${dd[@]}"
measure "a seccomp floor" "$runs" "$floor" "${dd[@]}"
for b in "${backends[@]}"; do
  measure "a captrace $b" "$runs" "$CAPTRACE" run --backend "$b" --enter-at exec -q -o /dev/null -- "${dd[@]}"
  # The same without stacks: separates the per-syscall cost from unwinding dd's ~30 start-up violations.
  measure "a captrace $b --stack-depth 0" "$runs" "$CAPTRACE" run --backend "$b" --enter-at exec --stack-depth 0 -q -o /dev/null -- "${dd[@]}"
done
measure "a strace --seccomp-bpf %file" "$runs" strace -f --seccomp-bpf -e trace=%file -o /dev/null "${dd[@]}"
if [[ -z "${BENCH_SKIP_SLOW:-}" ]]; then
  measure "a strace -f" "$slow_runs" strace -f -o /dev/null "${dd[@]}"
fi

# (b)
measure "b untraced" "$runs" "$loop" "$n_fstatat"
for b in "${backends[@]}"; do
  measure "b captrace $b" "$runs" "$CAPTRACE" run --backend "$b" --enter-at main --stack-depth 0 -q -o /dev/null -- "$loop" "$n_fstatat"
  measure "b captrace $b, taskset -c 0" "$runs" taskset -c 0 "$CAPTRACE" run --backend "$b" --enter-at main --stack-depth 0 -q -o /dev/null -- "$loop" "$n_fstatat"
done
measure "b strace --seccomp-bpf" "$runs" strace -f --seccomp-bpf -e trace=newfstatat -o /dev/null "$loop" "$n_fstatat"
# The notify mechanism's own floor: a C supervisor that answers each notification without reading anything.
measure "b notify floor (bare round trips)" "$runs" "$out/notify-floor" "$loop" "$n_fstatat"

# (c)
for b in "${backends[@]}"; do
  for u in libdw libunwind; do
    measure "c captrace $b --unwinder $u" "$runs" "$CAPTRACE" run --backend "$b" --enter-at main --unwinder "$u" -q -o /dev/null -- "$loop" "$n_stacks"
  done
done
measure "c strace --seccomp-bpf -k" "$runs" strace -f --seccomp-bpf -k -e trace=newfstatat -o /dev/null "$loop" "$n_stacks"

# (d) the cost of --rights (ptrace): every descriptor operation stops the program (dd: a read and a write per
#     byte), only the first use of each right is written.
if [[ " ${backends[*]} " == *" ptrace "* ]]; then
  ddr=(dd if=/dev/zero of=/dev/null bs=1 count="${BENCH_RIGHTS_DD:-20000}" status=none)
  measure "d untraced" "$runs" "${ddr[@]}"
  measure "d captrace ptrace" "$runs" "$CAPTRACE" run --enter-at exec -q -o /dev/null -- "${ddr[@]}"
  measure "d captrace ptrace --rights" "$runs" "$CAPTRACE" run --rights --enter-at exec -q -o /dev/null -- "${ddr[@]}"
  tcp=(tcpdump -r Examples/loopback.pcap)
  measure "d tcpdump untraced" "$runs" "${tcp[@]}"
  measure "d tcpdump captrace" "$runs" "$CAPTRACE" run --enter-at symbol:pcap_loop -q -o /dev/null -- "${tcp[@]}"
  measure "d tcpdump captrace --rights" "$runs" "$CAPTRACE" run --rights --enter-at symbol:pcap_loop -q -o /dev/null -- "${tcp[@]}"
fi

# The table.
printf '\n%-40s %10s  %-28s\n' "case" "seconds" "ratios"
for key in "${rows[@]}"; do
  case $key in
    "a untraced"|"b untraced") r="" ;;
    "a seccomp floor") r="$(ratio "$key" "a untraced") untraced" ;;
    a\ captrace*) r="$(ratio "$key" "a seccomp floor") floor (target <= 1.05x), $(ratio "$key" "a untraced") untraced" ;;
    a\ *) r="$(ratio "$key" "a seccomp floor") floor, $(ratio "$key" "a untraced") untraced" ;;
    b\ captrace\ notify*) r="$(ratio "$key" "b strace --seccomp-bpf") strace (target <= 0.1x)" ;;
    b\ captrace*) r="$(ratio "$key" "b strace --seccomp-bpf") strace (target <= 0.5x)" ;;
    "b notify floor"*) r="$(ratio "$key" "b strace --seccomp-bpf") strace" ;;
    b\ *) r="$(ratio "$key" "b untraced") untraced" ;;
    c\ captrace*) r="$(ratio "$key" "c strace --seccomp-bpf -k") strace -k" ;;
    "d captrace ptrace"*) r="$(ratio "$key" "d untraced") untraced, $(ratio "$key" "d captrace ptrace") without --rights" ;;
    "d tcpdump captrace"*) r="$(ratio "$key" "d tcpdump untraced") untraced, $(ratio "$key" "d tcpdump captrace") without --rights" ;;
    *) r="" ;;
  esac
  printf '%-40s %10s  %s\n' "$key" "${secs[$key]}" "$r"
done
printf '\n(a) %s syscalls of dd bs=1 count=%s; (b) %s violations, --stack-depth 0; (c) %s violations with stacks.\n' \
  "$((dd_count * 2))" "$dd_count" "$n_fstatat" "$n_stacks"
printf '(d) --rights: dd bs=1 count=%s (%s descriptor operations after entry); tcpdump -r Examples/loopback.pcap.\n' \
  "${BENCH_RIGHTS_DD:-20000}" "$((${BENCH_RIGHTS_DD:-20000} * 2))"
