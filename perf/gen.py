#!/usr/bin/python3
"""perf/gen.py - write the benchmark's input pcap.

Usage: /usr/bin/python3 perf/gen.py OUT.pcap [--frames N] [--srcs S] [--dsts D] [--size BYTES]

N Ethernet/IPv4/UDP frames of BYTES bytes (default 60: 64 on the wire with the
FCS), source MACs cycling through S addresses and destination MACs through D
(locally administered unicast, never broadcast), UDP source ports varying so
the frames are not all identical. Deterministic: same arguments, same bytes.
net_pcap with infinite_rx=1 loads the whole file into mbufs once, so keep N
well below the mbuf pool (default 256).
"""
import argparse
import struct

from scapy.all import Ether, IP, UDP


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=256)
    ap.add_argument("--srcs", type=int, default=4)
    ap.add_argument("--dsts", type=int, default=4)
    ap.add_argument("--size", type=int, default=60)
    a = ap.parse_args()
    if a.size < 42:
        ap.error("--size must be at least 42 (Ethernet + IPv4 + UDP headers)")
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.frames):
            src = "02:00:5e:01:%02x:%02x" % ((i % a.srcs) >> 8, (i % a.srcs) & 0xFF)
            dst = "02:00:5e:02:%02x:%02x" % ((i % a.dsts) >> 8, (i % a.dsts) & 0xFF)
            f0 = Ether(src=src, dst=dst) / IP(src="198.18.0.1", dst="198.19.0.1") / \
                UDP(sport=1024 + i % 50000, dport=9)
            raw = bytes(f0)
            raw += b"\0" * (a.size - len(raw))
            f.write(struct.pack("<IIII", 1700000000, i, len(raw), len(raw)))
            f.write(raw)
    print("%s: %d frames of %d bytes, %d source and %d destination MACs" %
          (a.out, a.frames, a.size, a.srcs, a.dsts))


if __name__ == "__main__":
    main()
