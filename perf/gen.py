#!/usr/bin/python3
"""perf/gen.py - write the benchmark's input pcap.

Usage:
  /usr/bin/python3 perf/gen.py OUT.pcap [--frames N] [--srcs S] [--dsts D] [--size BYTES | --imix]
  /usr/bin/python3 perf/gen.py OUT.pcap --flows N --dst-ip A --dst-port P --dst-mac M
                               [--src-net A] [--size BYTES]
  /usr/bin/python3 perf/gen.py OUT.pcap --flows N --from-ip A --from-mac M --to-net B
                               --dst-mac G [--to-addrs K] [--dst-port P] [--size BYTES]
  /usr/bin/python3 perf/gen.py OUT.pcap --arp-reply IP,MAC,TO_IP [--frames N]
  /usr/bin/python3 perf/gen.py OUT.pcap [--frames N] [--srcs S] [--dsts D] [--size BYTES]
                               [--src-mac-base M] [--dst-mac-base M]
                               [--vxlan SRC_MAC,DST_MAC,SRC_IP,DST_IP,VNI[,PORT]]

L2 (the default): N Ethernet/IPv4/UDP frames of BYTES bytes (default 60: 64 on
the wire with the FCS), source MACs cycling through S addresses and destination
MACs through D (locally administered unicast, never broadcast), UDP source
ports varying so the frames are not all identical. The UDP payload (zeros)
fills the frame: IPv4 total length and UDP length match the frame, both
checksums are right, whatever the size.

Sizes: --size BYTES is the frame without its FCS (60: 64 on the wire; 1514:
1518). --imix (every mode but --arp-reply) makes frame i's size the i-th of
the simple IMIX cycle of 12, 7:4:1 of 64/570/1518 bytes on the wire (60, 566
and 1514 in the file), in the order 64 570 64 64 570 64 1518 64 570 64 64 570:
N a multiple of 12 gives the exact mix, otherwise the last cycle is cut.

Flows (--flows, the NAT benchmark): one frame per flow, N distinct flows from
"outside" to one address and UDP port (a published port on the uplink
address): flow i comes from address src-net + 1 + (i % 4096) (default from
198.18.0.1 to 198.18.16.0) and source port 1024 + i // 4096 (so N <= 264M),
Ethernet destination M (dpnet's MAC on the uplink), source 02:00:5e:01:00:01,
IPv4 with DF and the id i, correct IPv4 and UDP checksums. Replayed with
infinite_rx=1, the first pass over the file opens N connections and every
later pass hits them. A new-connection mix (--per-flow K, either flows mode):
K frames per flow, the flows in windows of 256 whose frames go round-robin K
times, so that read once (no infinite_rx) 1 frame in K opens a connection and
the others hit established ones. Written without scapy (millions of frames take seconds);
the first frames are checked against scapy's encoding when scapy is there.

Outbound flows (--from-ip, the MASQUERADE benchmark): one frame per flow, N
distinct flows from one container (address A, MAC M) to K (default 16)
"outside" addresses B + 1 .. B + K, UDP destination port P: flow i goes to
B + 1 + (i % K) from source port 1024 + i // K (so N <= K * 64512), Ethernet
destination G (the container network's gateway MAC: the frames are routed),
same IPv4/UDP encoding as above.

ARP replies (--arp-reply, the MASQUERADE benchmark's uplink): N (--frames)
copies of one broadcast ARP reply from IP at MAC to TO_IP (the gateway telling
dpnet's uplink address where it is), 60 bytes.

L2 frames may take their MACs from other bases (--src-mac-base,
--dst-mac-base: the first four bytes, e.g. 02:00:5e:01; the last two count).
With --vxlan each L2 frame is the inner frame of a VXLAN packet (RFC 7348)
from SRC_IP (Ethernet SRC_MAC) to the VTEP DST_IP (Ethernet DST_MAC), VNI,
UDP destination PORT (default 4789), source port 49152 + (frame index % 16384),
DF, TTL 64, UDP checksum 0 (the VXLAN benchmarks' decapsulation input: BYTES
is the inner frame's size, the outer frame is 50 bytes longer; the outer
IPv4 and UDP lengths cover the inner frame, the outer IPv4 checksum is
right).

Deterministic: same arguments, same bytes. net_pcap with infinite_rx=1 loads
the whole file into mbufs once, so the mbuf pool of whoever replays it must
hold N frames plus its rings.
"""
import argparse
import ipaddress
import struct


# The simple IMIX: 7:4:1 of 64/570/1518 bytes on the wire, as frames without FCS.
IMIX_CYCLE = (60, 566, 60, 60, 566, 60, 1514, 60, 566, 60, 60, 566)


def frame_size(a, i):
    """Frame i's size in the file (without FCS): --size, or the IMIX cycle."""
    return IMIX_CYCLE[i % len(IMIX_CYCLE)] if a.imix else a.size


def size_note(a):
    return "IMIX 7:4:1 of 64/570/1518 on the wire" if a.imix else "%d bytes" % a.size


def csum_fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def l2_frames(a, f):
    from scapy.all import Ether, IP, UDP
    from scapy.packet import Raw
    if a.vxlan:
        from scapy.layers.vxlan import VXLAN
        v = a.vxlan.split(",")
        if len(v) not in (5, 6):
            raise SystemExit("gen.py: --vxlan is SRC_MAC,DST_MAC,SRC_IP,DST_IP,VNI[,PORT]")
        vport = int(v[5]) if len(v) == 6 else 4789
    for i in range(a.frames):
        src = "%s:%02x:%02x" % (a.src_mac_base, (i % a.srcs) >> 8, (i % a.srcs) & 0xFF)
        dst = "%s:%02x:%02x" % (a.dst_mac_base, (i % a.dsts) >> 8, (i % a.dsts) & 0xFF)
        # The payload fills the frame: IPv4 and UDP lengths are the frame's.
        f0 = Ether(src=src, dst=dst) / IP(src="198.18.0.1", dst="198.19.0.1") / \
            UDP(sport=1024 + i % 50000, dport=9) / Raw(load=b"\0" * (frame_size(a, i) - 42))
        raw = bytes(f0)
        if a.vxlan:
            raw = bytes(Ether(src=v[0], dst=v[1]) /
                        IP(src=v[2], dst=v[3], flags="DF", ttl=64, id=0) /
                        UDP(sport=49152 + i % 16384, dport=vport, chksum=0) /
                        VXLAN(flags=0x08, vni=int(v[4])) / Raw(load=raw))
        f.write(struct.pack("<IIII", 1700000000, i, len(raw), len(raw)))
        f.write(raw)
    what = "%d frames of %s, %d source and %d destination MACs" % (
        a.frames, size_note(a), a.srcs, a.dsts)
    if a.vxlan:
        what += ", each inside VXLAN (VNI %s, %s -> %s, port %d)" % (v[4], v[2], v[3], vport)
    return what


def flow_frame(i, a, dst_ip, src_base, eth):
    """Frame of flow i (bytes): inbound (to one address) or, with
    --from-ip, outbound (from one address to --to-addrs addresses)."""
    if a.from_ip:
        k = a.to_addrs
        src_ip = int(ipaddress.IPv4Address(a.from_ip))
        dst_ip = int(ipaddress.IPv4Address(a.to_net)) + 1 + (i % k)
        sport = 1024 + i // k
    else:
        src_ip = src_base + 1 + (i % 4096)
        sport = 1024 + i // 4096
    proto, l4len = 17, 8
    pay = frame_size(a, i) - 14 - 20 - l4len
    ip_len = 20 + l4len + pay
    # IPv4 header, checksum over the 10 words.
    hdr = struct.pack("!BBHHHBBHII", 0x45, 0, ip_len, i & 0xFFFF, 0x4000, 64, proto, 0,
                      src_ip, dst_ip)
    s = sum(struct.unpack("!10H", hdr))
    ipck = 0xFFFF - csum_fold(s)
    hdr = hdr[:10] + struct.pack("!H", ipck) + hdr[12:]
    # Pseudo-header + L4 header + zero payload.
    l4_total = l4len + pay
    ps = (src_ip >> 16) + (src_ip & 0xFFFF) + (dst_ip >> 16) + (dst_ip & 0xFFFF) + proto + l4_total
    l4 = struct.pack("!HHHH", sport, a.dst_port, l4_total, 0)
    ck = 0xFFFF - csum_fold(ps + sum(struct.unpack("!4H", l4)))
    l4 = l4[:6] + struct.pack("!H", ck or 0xFFFF)
    return eth + hdr + l4 + b"\0" * pay


def mac_bytes(m):
    return bytes.fromhex(m.replace(":", ""))


def flow_frames(a, f):
    dst_ip = int(ipaddress.IPv4Address(a.dst_ip or "0.0.0.0"))
    src_base = int(ipaddress.IPv4Address(a.src_net))
    src_mac = mac_bytes(a.from_mac) if a.from_ip else bytes.fromhex("02005e010001")
    eth = mac_bytes(a.dst_mac) + src_mac + b"\x08\x00"
    # --per-flow K: windows of 256 flows, each window's frames sent K times
    # round-robin (one pass: 1 frame in K opens a connection).
    for w in range(0, a.flows, 256):
        recs = []
        for i in range(w, min(w + 256, a.flows)):
            raw = flow_frame(i, a, dst_ip, src_base, eth)
            recs.append(struct.pack("<IIII", 1700000000, 0, len(raw), len(raw)) + raw)
        f.write(b"".join(recs) * a.per_flow)
    try:   # the encoding checked against scapy's on a few frames
        from scapy.all import Ether
        for i in (0, 1, 6, 4097, a.flows - 1):
            if 0 <= i < a.flows:
                raw = flow_frame(i, a, dst_ip, src_base, eth)
                p = Ether(raw)
                l4 = p.payload.payload
                del p.payload.chksum
                del l4.chksum
                want = bytes(Ether(bytes(p)))
                if want[:len(raw)] != raw:
                    raise SystemExit("gen.py: frame %d differs from scapy's encoding" % i)
    except ImportError:
        pass
    each = "one frame of %s each" % size_note(a) if a.per_flow == 1 else \
        "%d frames of %s each, windows of 256 flows round-robin (read once: 1 frame in %d " \
        "opens a connection)" % (a.per_flow, size_note(a), a.per_flow)
    if a.from_ip:
        return "%d UDP flows from %s (MAC %s) to %d addresses after %s, port %d (MAC %s), %s" % (
            a.flows, a.from_ip, a.from_mac, a.to_addrs, a.to_net, a.dst_port, a.dst_mac, each)
    return "%d UDP flows to %s:%d (MAC %s), %s" % (a.flows, a.dst_ip, a.dst_port, a.dst_mac, each)


def arp_frames(a, f):
    ip, mac, to_ip = a.arp_reply.split(",")
    sha = mac_bytes(mac)
    raw = b"\xff" * 6 + sha + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + \
        sha + ipaddress.IPv4Address(ip).packed + b"\0" * 6 + ipaddress.IPv4Address(to_ip).packed
    raw += b"\0" * (60 - len(raw))
    hdr = struct.pack("<IIII", 1700000000, 0, len(raw), len(raw))
    f.write((hdr + raw) * a.frames)
    try:   # checked against scapy's encoding when scapy is there
        from scapy.all import Ether, ARP
        want = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) /
                     ARP(op=2, hwsrc=mac, psrc=ip, hwdst="00:00:00:00:00:00", pdst=to_ip))
        if want != raw[:len(want)]:
            raise SystemExit("gen.py: the ARP reply differs from scapy's encoding")
    except ImportError:
        pass
    return "%d broadcast ARP replies: %s is at %s (to %s)" % (a.frames, ip, mac, to_ip)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=256)
    ap.add_argument("--srcs", type=int, default=4)
    ap.add_argument("--dsts", type=int, default=4)
    ap.add_argument("--size", type=int, default=60)
    ap.add_argument("--imix", action="store_true")
    ap.add_argument("--per-flow", type=int, default=1)
    ap.add_argument("--flows", type=int, default=0)
    ap.add_argument("--dst-ip")
    ap.add_argument("--dst-port", type=int, default=8080)
    ap.add_argument("--dst-mac")
    ap.add_argument("--src-net", default="198.18.0.0")
    ap.add_argument("--from-ip")
    ap.add_argument("--from-mac")
    ap.add_argument("--to-net")
    ap.add_argument("--to-addrs", type=int, default=16)
    ap.add_argument("--arp-reply")
    ap.add_argument("--src-mac-base", default="02:00:5e:01")
    ap.add_argument("--dst-mac-base", default="02:00:5e:02")
    ap.add_argument("--vxlan")
    a = ap.parse_args()
    if a.size < 42:
        ap.error("--size must be at least 42 (Ethernet + IPv4 + UDP headers)")
    if a.size > 65535 - (50 if a.vxlan else 0):
        ap.error("--size is too large for a pcap record (65535 bytes, VXLAN's included)")
    if a.per_flow < 1 or (a.per_flow > 1 and not a.flows):
        ap.error("--per-flow K (K >= 1) is for --flows")
    if a.flows and a.from_ip:
        if not a.from_mac or not a.to_net or not a.dst_mac:
            ap.error("--from-ip needs --from-mac, --to-net and --dst-mac")
        if not 1 <= a.to_addrs <= 65535 or a.flows > a.to_addrs * 64512:
            ap.error("--flows must be at most --to-addrs x 64512")
    elif a.flows and (not a.dst_ip or not a.dst_mac):
        ap.error("--flows needs --dst-ip and --dst-mac")
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        what = arp_frames(a, f) if a.arp_reply else \
            flow_frames(a, f) if a.flows else l2_frames(a, f)
    print("%s: %s" % (a.out, what))


if __name__ == "__main__":
    main()
