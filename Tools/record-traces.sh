#!/usr/bin/env bash
# Re-records the traces in Traces/ that the README and the golden tests use, with a release build of captrace.
# Real runs of real programs: the demo, getent, and tcpdump reading the bundled loopback capture.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash Tools/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
if [[ -z "${CAPTRACE:-}" ]]; then
  CAPTRACE=$(bash Tools/release-build.sh)
fi
captrace=$CAPTRACE
# Only stdin, stdout and stderr go to the programs: the descriptor tables in the traces are the programs' own.
for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null || true; done
# Outside the checkout, so no trace names the folder the repository happens to be in.
work=/tmp/captrace-traces
rm -rf "$work"
mkdir -p "$work" Traces
gcc -g -O1 -Wall -o "$work/resolver-demo" Examples/resolver-demo.c
cp Examples/loopback.pcap "$work/loopback.pcap"
cd "$work"
"$captrace" run -q --enter-at symbol:enter_sandbox -o "$root/Traces/resolver-demo.jsonl" -- ./resolver-demo localhost >/dev/null
"$captrace" run -q -o "$root/Traces/getent-hosts.jsonl" -- getent hosts localhost >/dev/null
"$captrace" run -q --enter-at symbol:pcap_loop -o "$root/Traces/tcpdump-pcap_loop.jsonl" -- tcpdump -r loopback.pcap >/dev/null 2>&1
"$captrace" run -q --enter-at symbol:pcap_loop -o "$root/Traces/tcpdump-n-pcap_loop.jsonl" -- tcpdump -n -r loopback.pcap >/dev/null 2>&1
"$captrace" run -q --mode enforce --enter-at symbol:enter_sandbox -o "$root/Traces/resolver-demo-enforce.jsonl" -- ./resolver-demo localhost >/dev/null 2>&1 || true
# On a terminal (script(1) gives it one), as in the paper: stdin, stdout and stderr are the user's tty.
script -qec "'$captrace' run -q --rights --enter-at symbol:pcap_loop -o '$root/Traces/tcpdump-rights.jsonl' -- tcpdump -r loopback.pcap" /dev/null >/dev/null
ls -l "$root"/Traces >&2
