#!/usr/bin/env python3
"""Writes a tiny, deterministic pcap capture: a few UDP datagrams between 127.0.0.1 ports.

Reading it with tcpdump (`tcpdump -r Examples/loopback.pcap`, no -n) makes tcpdump look up 127.0.0.1's name
lazily, after it has entered its packet loop (pcap_loop): the lookup is answered from /etc/hosts, so tracing
`captrace run --enter-at symbol:pcap_loop -- tcpdump -r ...` shows the resolver's late opens without any
network. Pure Python (struct), fixed timestamps: the output is byte-for-byte reproducible.

usage: Tools/make-pcap.py [OUTPUT]   (default: Examples/loopback.pcap next to this script's parent)
"""
import os
import struct
import sys

LINKTYPE_ETHERNET = 1
START = 1_767_225_600  # 2026-01-01T00:00:00Z

# (seconds after START, microseconds, source port, destination port, payload)
PACKETS = [
    (0, 0, 40000, 9, b"hello, discard\n"),
    (0, 250_000, 40001, 7, b"ping\n"),
    (0, 250_412, 7, 40001, b"ping\n"),
    (1, 0, 40002, 9, b"captrace loopback capture\n"),
]


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_checksum(src: bytes, dst: bytes, udp: bytes) -> int:
    pseudo = src + dst + struct.pack("!BBH", 0, 17, len(udp))
    c = checksum(pseudo + udp)
    return c or 0xFFFF


def frame(ident: int, sport: int, dport: int, payload: bytes) -> bytes:
    lo = bytes([127, 0, 0, 1])
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    udp = udp[:6] + struct.pack("!H", udp_checksum(lo, lo, udp)) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0x4000, 64, 17, 0, lo, lo)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\0" * 6 + b"\0" * 6 + struct.pack("!H", 0x0800)  # loopback frames carry zero MACs
    return eth + ip + udp


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "Examples", "loopback.pcap")
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)
    for i, (sec, usec, sport, dport, payload) in enumerate(PACKETS):
        f = frame(0x1000 + i, sport, dport, payload)
        data += struct.pack("<IIII", START + sec, usec, len(f), len(f)) + f
    with open(out, "wb") as fh:
        fh.write(data)
    print("wrote %s (%d packets, %d bytes)" % (os.path.normpath(out), len(PACKETS), len(data)))


if __name__ == "__main__":
    main()
