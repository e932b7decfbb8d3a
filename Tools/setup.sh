#!/usr/bin/env bash
# Installs what captrace needs to build, test and run its demo on a fresh Debian 12 machine (idempotent).
set -euo pipefail
pkgs=(libseccomp-dev libdw-dev libelf-dev libunwind-dev liblzma-dev zlib1g-dev libbz2-dev libc6-dbg pkg-config gcc g++ tcpdump strace bubblewrap
      libpcap0.8 chromium systemd python3 util-linux
      # the hint tests: curl (a library's connect), libssl-dev (OpenSSL's fix), libc-l10n (translated libc
      # messages), libcap2-bin (setcap, for withheld file capabilities), libc6-dev's libc.a (a static program), gzip
      curl libssl-dev libc-l10n libcap2-bin libc6-dev gzip
      # the benchmark's row (h): a multi-threaded program (xz -T2)
      xz-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export PATH="/opt/swift/usr/bin:$PATH"
