#!/bin/sh
# with-dev-log.sh LOGFILE COMMAND...: runs COMMAND in a private mount namespace whose /dev is a tmpfs holding a
# syslog listener at /dev/log (each datagram appended to LOGFILE) and links to the real /dev's nodes. The machine
# has no syslog daemon; this gives the syslog fixture one without touching the real /dev. Needs root (unshare -m):
#   unshare -m --propagation private /bin/sh with-dev-log.sh LOG captrace run ... -- hintfix syslog fixed
set -eu
log=$1; shift
real=$(mktemp -d)
mount --bind /dev "$real"
mount -t tmpfs tmpfs /dev
for n in "$real"/*; do ln -s "$n" "/dev/$(basename "$n")"; done
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
f = open(sys.argv[1], "ab", 0)
while True:
    f.write(s.recv(65536) + b"\n")
' "$log" &
listener=$!
i=0
while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
set +e
"$@"
rc=$?
# Datagrams still queued for the listener would be lost by killing it now: send one more and wait until the
# listener has written it (the socket is a queue, so everything before it is written too).
python3 -c '
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"with-dev-log: end", "/dev/log")
'
i=0
while ! grep -q "with-dev-log: end" "$log" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill "$listener" 2>/dev/null
exit $rc
