#!/usr/bin/python3
"""tests/pkt/gen.py - write the golden packet cases: input pcaps, expected output
pcaps and a case.json describing how to drive them.

Usage: /usr/bin/python3 gen.py OUTDIR [CASE...]
Writes OUTDIR/<case>/case.json and the pcaps it names. Nothing here is random:
running it twice gives byte-identical files.

A case is a sequence of phases. Each phase adds ports of type pcap to a running
dpnetd (all in the network `bridge`); a port has a tx pcap (what the switch
sends it) and optionally an rx pcap (what it receives, read once). The runner
waits after each phase until the new ports' frames were all received and the
MACs listed in "learned" appear in `dpctl mac ls bridge`, so the phases happen
in a fixed order even though DPDK polls the ports in no order we control. At
the end the daemon is stopped (which flushes the tx pcaps) and each tx pcap is
compared frame by frame, bytes and count, with the expected one.

case.json:
  {"description": "...",
   "phases": [{"ports": [{"name": "pa", "rx": "in_pa.pcap" | null}],
               "learned": ["02:..."]}],
   "expect": {"pa": "exp_pa.pcap", ...},     # every port has one (maybe empty)
   "drops": {"malformed": 7, ...}}          # reasons not named must stay 0
"""
import json
import os
import struct
import sys

from scapy.all import ARP, Dot1Q, Ether, ICMP, IP, IPv6, Raw, TCP, UDP

A = "02:00:5e:00:00:0a"
B = "02:00:5e:00:00:0b"
C = "02:00:5e:00:00:0c"
BCAST = "ff:ff:ff:ff:ff:ff"
IP_A, IP_B, IP_C = "192.0.2.10", "192.0.2.11", "192.0.2.12"


def udp(src, dst, sport, payload=b"", ipsrc=IP_A, ipdst=IP_B):
    """A 60-byte (or longer) Ethernet/IPv4/UDP frame, built to fixed bytes."""
    f = Ether(src=src, dst=dst) / IP(src=ipsrc, dst=ipdst, id=sport, ttl=64) / \
        UDP(sport=sport, dport=9) / Raw(payload or b"dpnet-pkt-%05d" % sport)
    raw = bytes(f)
    if len(raw) < 60:
        raw += b"\0" * (60 - len(raw))
    return raw


def arp_req(src, ipsrc, ipdst):
    f = Ether(src=src, dst=BCAST) / ARP(op=1, hwsrc=src, psrc=ipsrc, pdst=ipdst)
    raw = bytes(f)
    return raw + b"\0" * max(0, 60 - len(raw))


def write(path, frames):
    """Write raw frames as a classic pcap (Ethernet link type), with fixed
    timestamps one millisecond apart so the files are reproducible."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, raw in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(raw), len(raw)))
            f.write(raw)


# ----------------------------------------------------------------- the cases

def case_learn_forward():
    """Learning, unicast forwarding, no hairpin, and MAC moves.

    pc is a silent observer: it must see only the broadcast, never unicast to
    a learned MAC.
      1. pb: B broadcasts (ARP who-has A)   -> flooded to pc only (not back to pb)
      2. pa: A -> B x3 (B known on pb)       -> pb only
      3. pb2: B -> A (B moves to pb2; A on pa) -> pa only
      4. pa2: A -> B (A moves to pa2; B on pb2) -> pb2 only
    """
    b_arp = arp_req(B, IP_B, IP_A)
    a_to_b = [udp(A, B, 1000 + i) for i in range(3)]
    b_to_a = udp(B, A, 2000, ipsrc=IP_B, ipdst=IP_A)
    a_to_b2 = udp(A, B, 3000)
    inputs = {"in_pb.pcap": [b_arp], "in_pa.pcap": a_to_b,
              "in_pb2.pcap": [b_to_a], "in_pa2.pcap": [a_to_b2]}
    expect = {"pc": [b_arp], "pb": a_to_b, "pa": [b_to_a], "pb2": [a_to_b2], "pa2": []}
    phases = [
        {"ports": [{"name": "pc", "rx": None}], "learned": []},
        {"ports": [{"name": "pb", "rx": "in_pb.pcap"}], "learned": [B]},
        {"ports": [{"name": "pa", "rx": "in_pa.pcap"}], "learned": [A, B]},
        {"ports": [{"name": "pb2", "rx": "in_pb2.pcap"}], "learned": [A, B]},
        {"ports": [{"name": "pa2", "rx": "in_pa2.pcap"}], "learned": [A, B]},
    ]
    return inputs, expect, phases, {}


def case_flood():
    """Broadcast, IPv4 and IPv6 multicast and unknown unicast go to every other
    port of the network, in order, and never back out of the ingress port."""
    frames = [
        arp_req(C, IP_C, IP_A),
        udp(C, "01:00:5e:00:00:fb", 5353, ipsrc=IP_C, ipdst="224.0.0.251"),
        bytes(Ether(src=C, dst="33:33:00:00:00:01") /
              IPv6(src="fe80::1", dst="ff02::1", hlim=1) / UDP(sport=546, dport=547) /
              Raw(b"dpnet-pkt-v6")),
        udp(C, "02:00:5e:00:00:99", 4000, ipsrc=IP_C),   # unknown unicast
        udp(C, BCAST, 4001, ipsrc=IP_C, ipdst="255.255.255.255"),
    ]
    inputs = {"in_p3.pcap": frames}
    expect = {"p1": frames, "p2": frames, "p3": []}
    phases = [
        {"ports": [{"name": "p1", "rx": None}, {"name": "p2", "rx": None}], "learned": []},
        {"ports": [{"name": "p3", "rx": "in_p3.pcap"}], "learned": [C]},
    ]
    return inputs, expect, phases, {}


def case_malformed():
    """Frames the parser refuses are dropped and counted as malformed; the
    frames around them, and frames it merely does not know, still pass."""
    good1 = udp(C, BCAST, 6000, ipsrc=IP_C)
    unknown_ethertype = bytes(Ether(src=C, dst=BCAST, type=0x88B5) / Raw(b"\x01" * 46))
    padded = udp(C, BCAST, 6001, payload=b"x", ipsrc=IP_C) + b"\xee" * 20  # trailer is fine
    good2 = udp(C, BCAST, 6002, ipsrc=IP_C)

    base = udp(C, BCAST, 6100, ipsrc=IP_C)
    ip_too_long = bytearray(base)
    ip_too_long[16:18] = (1000).to_bytes(2, "big")      # IPv4 total length > frame
    ip_bad_ihl = bytearray(base)
    ip_bad_ihl[14] = 0x44                                # IHL 4 (< 5)
    tcp_bad_doff = bytearray(bytes(Ether(src=C, dst=BCAST) / IP(src=IP_C, dst=IP_A) /
                                   TCP(sport=1, dport=2, flags="S")))
    tcp_bad_doff[14 + 20 + 12] = 0xF0                    # data offset 60 bytes > frame
    arp_bad = bytearray(arp_req(C, IP_C, IP_A))
    arp_bad[14 + 4] = 8                                  # hlen 8
    three_tags = bytes(Ether(src=C, dst=BCAST) / Dot1Q(vlan=1) / Dot1Q(vlan=2) /
                       Dot1Q(vlan=3) / IP(src=IP_C, dst=IP_A) / ICMP())
    malformed = [
        bytes.fromhex("ffffffffffff0200"),               # 8 bytes: shorter than Ethernet
        bytes.fromhex("ffffffffffff02005e00000c08"),     # 13 bytes
        bytes(ip_too_long),
        bytes(ip_bad_ihl),
        bytes(tcp_bad_doff),
        bytes(arp_bad),
        three_tags,
    ]
    frames = [good1] + malformed[:3] + [unknown_ethertype] + malformed[3:] + \
        [padded, good2]
    inputs = {"in_p2.pcap": frames}
    expect = {"p1": [good1, unknown_ethertype, padded, good2], "p2": []}
    phases = [
        {"ports": [{"name": "p1", "rx": None}], "learned": []},
        {"ports": [{"name": "p2", "rx": "in_p2.pcap"}], "learned": [C]},
    ]
    return inputs, expect, phases, {"malformed": len(malformed)}


CASES = {
    "learn_forward": case_learn_forward,
    "flood": case_flood,
    "malformed": case_malformed,
}


def generate(outdir, name):
    fn = CASES[name]
    inputs, expect, phases, drops = fn()
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    for fname, frames in inputs.items():
        write(os.path.join(d, fname), frames)
    exp_files = {}
    for port, frames in expect.items():
        exp_files[port] = "exp_%s.pcap" % port
        write(os.path.join(d, exp_files[port]), frames)
    doc = {"description": " ".join(fn.__doc__.split()), "phases": phases,
           "expect": exp_files, "drops": drops}
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return d


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: gen.py OUTDIR [CASE...]  (cases: %s)" % ", ".join(CASES))
    names = sys.argv[2:] or list(CASES)
    for n in names:
        if n not in CASES:
            sys.exit("gen.py: unknown case %r (cases: %s)" % (n, ", ".join(CASES)))
        print(generate(sys.argv[1], n))


if __name__ == "__main__":
    main()
