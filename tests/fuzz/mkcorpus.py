#!/usr/bin/env python3
"""mkcorpus.py - (re)write the seed corpus of the fuzz targets (tests/fuzz/corpus/).

Plain struct packing, no scapy: a few valid frames per stage in the topology of
fuzz_dp.c (fuzz_neigh: ARP exchanges and misses, neigh_seeds), in the record format of fuzz_dp.h ([ctl][len hi][len lo][frame]...;
ctl & 7 = ingress port: 0,1 network A, 2 B, 3 internal I, 4 uplink), the conf/*.yaml
files for fuzz_config, and JSON requests for fuzz_ctl. Regression seeds (files
named crash-* or regress-*) are kept; everything else is rewritten.

    python3 tests/fuzz/mkcorpus.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip(s):
    return bytes(int(x) for x in s.split("."))


GA, GB, GI, GU = (mac("02:00:00:00:0a:01"), mac("02:00:00:00:0b:01"),
                  mac("02:00:00:00:0c:01"), mac("02:00:00:00:0f:01"))
C1, C2, B1 = mac("02:42:ac:11:00:02"), mac("02:42:ac:11:00:03"), mac("02:42:ac:12:00:02")
I1, R, CL = mac("02:42:ac:13:00:02"), mac("02:00:00:00:99:01"), mac("02:00:00:00:99:50")
NEW = mac("02:42:ac:11:00:09")
BCAST = b"\xff" * 6
IP_C1, IP_C2, IP_B1, IP_I1 = "172.17.0.2", "172.17.0.3", "172.18.0.2", "172.19.0.2"
IP_GA, IP_UP, IP_CL, IP_OUT = "172.17.0.1", "192.168.1.10", "192.168.1.50", "8.8.8.8"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, etype, payload, tags=()):
    h = dst + src
    for tpid, tci in tags:
        h += struct.pack("!HH", tpid, tci)
    return h + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, ttl=64, frag=0, opts=b"", ident=1, tot=None):
    ihl = 5 + len(opts) // 4
    tot = tot if tot is not None else ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, ident, frag, ttl, proto, 0,
                    ip(src), ip(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def phdr(src, dst, proto, l4len):
    return ip(src) + ip(dst) + struct.pack("!BBH", 0, proto, l4len)


def tcp(src, dst, sport, dport, flags, seq=1000, ack=0, data=b"", opts=b""):
    off = (5 + len(opts) // 4) << 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off, flags, 65535, 0, 0) + opts
    c = csum(phdr(src, dst, 6, len(h) + len(data)) + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def udp(src, dst, sport, dport, data=b""):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    c = csum(phdr(src, dst, 17, len(h) + len(data)) + h + data) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + data


def icmp(typ, code, rest, data=b""):
    h = struct.pack("!BBH", typ, code, 0) + rest + data
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def echo(typ, ident, seq=1):
    return icmp(typ, 0, struct.pack("!HH", ident, seq), bytes(range(32)))


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip(spa) + tha + ip(tpa)


def rec(port, frame, ctl=0):
    return bytes([ctl | port]) + struct.pack("!H", len(frame)) + frame


def tcp_frame(dmac, smac, src, dst, sport, dport, flags, **kw):
    return eth(dmac, smac, 0x0800, ipv4(src, dst, 6, tcp(src, dst, sport, dport, flags, **kw)))


def udp_frame(dmac, smac, src, dst, sport, dport, data=b"hello"):
    return eth(dmac, smac, 0x0800, ipv4(src, dst, 17, udp(src, dst, sport, dport, data)))


SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08


def frames():
    """Single frames, named: shared by the parser and the stage corpora."""
    f = {}
    f["eth-unknown-type"] = eth(C2, C1, 0x88B5, b"x" * 46)
    f["eth-8023-len"] = eth(C2, C1, 46, b"\xaa\xaa\x03" + b"\0" * 43)
    f["eth-bcast"] = eth(BCAST, C1, 0x88B5, b"y" * 46)
    f["eth-mcast"] = eth(mac("01:00:5e:00:00:01"), C1, 0x0800,
                         ipv4(IP_C1, "224.0.0.1", 17, udp(IP_C1, "224.0.0.1", 1, 2, b"m")))
    f["l2-udp-c1-c2"] = udp_frame(C2, C1, IP_C1, IP_C2, 4000, 53)
    f["l2-unknown-dst"] = udp_frame(NEW, C1, IP_C1, "172.17.0.9", 4000, 53)
    f["vlan-udp"] = eth(C2, C1, 0x0800, ipv4(IP_C1, IP_C2, 17, udp(IP_C1, IP_C2, 1, 2, b"v")),
                        tags=[(0x8100, 10)])
    f["qinq-udp"] = eth(C2, C1, 0x0800, ipv4(IP_C1, IP_C2, 17, udp(IP_C1, IP_C2, 1, 2, b"q")),
                        tags=[(0x88A8, 100), (0x8100, 10)])
    f["qinq3-malformed"] = eth(C2, C1, 0x0800, ipv4(IP_C1, IP_C2, 17, udp(IP_C1, IP_C2, 1, 2)),
                               tags=[(0x88A8, 1), (0x8100, 2), (0x8100, 3)])
    f["arp-req-gw"] = eth(BCAST, C1, 0x0806, arp(1, C1, IP_C1, b"\0" * 6, IP_GA))
    f["arp-req-peer"] = eth(BCAST, C1, 0x0806, arp(1, C1, IP_C1, b"\0" * 6, IP_C2))
    f["arp-reply-gw"] = eth(GA, C1, 0x0806, arp(2, C1, IP_C1, GA, IP_GA))
    f["arp-vlan"] = eth(BCAST, C1, 0x0806, arp(1, C1, IP_C1, b"\0" * 6, IP_GA),
                        tags=[(0x8100, 5)])
    f["arp-uplink-proxy"] = eth(BCAST, CL, 0x0806, arp(1, CL, IP_CL, b"\0" * 6, IP_UP))
    f["arp-uplink-other"] = eth(BCAST, CL, 0x0806, arp(1, CL, IP_CL, b"\0" * 6, "192.168.1.99"))
    f["ping-gw"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_GA, 1, echo(8, 7)))
    f["ping-routed-b1"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_B1, 1, echo(8, 8)))
    f["ping-out"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_OUT, 1, echo(8, 9)))
    f["ping-ttl1"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_OUT, 1, echo(8, 10), ttl=1))
    f["ping-noroute-neigh"] = eth(GA, C1, 0x0800, ipv4(IP_C1, "10.99.1.1", 1, echo(8, 11)))
    f["ip-opts-rr"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_B1, 17, udp(IP_C1, IP_B1, 5, 6, b"o"),
                                             opts=b"\x07\x07\x04" + b"\0" * 4 + b"\x01"))
    f["ip-bad-ihl"] = eth(GA, C1, 0x0800, b"\x43" + ipv4(IP_C1, IP_B1, 17, udp(IP_C1, IP_B1, 5, 6))[1:])
    f["ip-tot-short"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_B1, 17, udp(IP_C1, IP_B1, 5, 6), tot=24))
    f["ip-tot-long"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_B1, 17, udp(IP_C1, IP_B1, 5, 6), tot=900))
    f["ip-frag-first"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_OUT, 17,
                                                udp(IP_C1, IP_OUT, 7, 8, b"A" * 32)[:24],
                                                frag=0x2000, ident=77))
    f["ip-frag-later"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_OUT, 17, b"B" * 16, frag=3, ident=77))
    f["ip-frag-tiny"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_OUT, 6, b"\0" * 8, frag=0x2000))
    f["tcp-syn-out"] = tcp_frame(GA, C1, IP_C1, IP_OUT, 40000, 443, SYN)
    f["tcp-opts"] = tcp_frame(GA, C1, IP_C1, IP_OUT, 40001, 443, SYN,
                              opts=b"\x02\x04\x05\xb4\x01\x03\x03\x07")
    f["udp-out"] = udp_frame(GA, C1, IP_C1, IP_OUT, 40002, 53)
    f["udp-dnat-5353"] = udp_frame(GU, CL, IP_CL, IP_UP, 40003, 5353)
    f["tcp-dnat-8080"] = tcp_frame(GU, CL, IP_CL, IP_UP, 40004, 8080, SYN)
    f["gre-out"] = eth(GA, C1, 0x0800, ipv4(IP_C1, IP_OUT, 47, b"\0" * 8))
    quoted = ipv4(IP_OUT, IP_UP, 17, udp(IP_OUT, IP_UP, 53, 40002, b""))[:28]
    f["icmp-unreach-udp"] = eth(GU, R, 0x0800, ipv4(IP_OUT, IP_UP, 1,
                                                  icmp(3, 3, b"\0" * 4, ipv4(IP_UP, IP_OUT, 17,
                                                       udp(IP_UP, IP_OUT, 40002, 53, b""))[:28])))
    f["icmp-ttl-tcp"] = eth(GU, R, 0x0800, ipv4("10.0.0.1", IP_UP, 1,
                                              icmp(11, 0, b"\0" * 4, ipv4(IP_UP, IP_OUT, 6,
                                                   tcp(IP_UP, IP_OUT, 40000, 443, SYN))[:48])))
    f["icmp-frag-needed"] = eth(GU, R, 0x0800, ipv4(IP_OUT, IP_UP, 1,
                                                  icmp(3, 4, struct.pack("!HH", 0, 1400),
                                                       ipv4(IP_UP, IP_OUT, 6,
                                                            tcp(IP_UP, IP_OUT, 40000, 443, ACK))[:28])))
    del quoted
    f["ipv6-udp"] = eth(C2, C1, 0x86DD, struct.pack("!IHBB", 0x60000000, 8 + 3, 17, 64) +
                        b"\xfe\x80" + b"\0" * 13 + b"\x01" + b"\xfe\x80" + b"\0" * 13 + b"\x02" +
                        struct.pack("!HHHH", 1, 2, 11, 0) + b"six")
    f["jumbo-udp"] = udp_frame(C2, C1, IP_C1, IP_C2, 4000, 9, b"J" * 8000)
    return f


def stage_seeds(f):
    """Multi-record inputs: exchanges whose state matters (conntrack, learning)."""
    s = {}
    for name, fr in f.items():
        if name == "jumbo-udp":
            continue
        port = 4 if fr[:6] == GU or fr[6:12] in (R, CL) else 0
        s["one-" + name] = rec(port, fr)
    s["learn-then-unicast"] = (rec(0, udp_frame(NEW, C1, IP_C1, "172.17.0.9", 1, 2)) +
                               rec(1, udp_frame(C1, NEW, "172.17.0.9", IP_C1, 2, 1)))
    s["tcp-masq-handshake"] = (
        rec(0, tcp_frame(GA, C1, IP_C1, IP_OUT, 41000, 80, SYN, seq=1)) +
        rec(4, tcp_frame(GU, R, IP_OUT, IP_UP, 80, 41000, SYN | ACK, seq=500, ack=2)) +
        rec(0, tcp_frame(GA, C1, IP_C1, IP_OUT, 41000, 80, ACK, seq=2, ack=501)) +
        rec(0, tcp_frame(GA, C1, IP_C1, IP_OUT, 41000, 80, FIN | ACK, seq=2, ack=501)) +
        rec(4, tcp_frame(GU, R, IP_OUT, IP_UP, 80, 41000, RST, seq=501)))
    s["tcp-dnat-handshake"] = (
        rec(4, tcp_frame(GU, CL, IP_CL, IP_UP, 42000, 8080, SYN, seq=1)) +
        rec(0, tcp_frame(GA, C1, IP_C1, IP_CL, 80, 42000, SYN | ACK, seq=9, ack=2)) +
        rec(4, tcp_frame(GU, CL, IP_CL, IP_UP, 42000, 8080, ACK | PSH, seq=2, ack=10,
                         data=b"GET / HTTP/1.0\r\n\r\n")))
    s["hairpin"] = (rec(1, tcp_frame(GA, C2, IP_C2, IP_UP, 43000, 8080, SYN)) +
                    rec(0, tcp_frame(GA, C1, IP_C1, IP_GA, 80, 43000, SYN | ACK)))
    s["udp-masq-reply-unreach"] = (
        rec(0, udp_frame(GA, C1, IP_C1, IP_OUT, 40002, 53)) +
        rec(4, udp_frame(GU, R, IP_OUT, IP_UP, 53, 40002)) + rec(4, f["icmp-unreach-udp"]))
    s["ping-masq-reply"] = (rec(0, f["ping-out"]) +
                            rec(4, eth(GU, R, 0x0800, ipv4(IP_OUT, IP_UP, 1, echo(0, 9)))))
    s["isolated-a-to-b"] = rec(0, tcp_frame(GA, C1, IP_C1, IP_B1, 44000, 22, SYN))
    s["internal-out"] = rec(3, udp_frame(GI, I1, IP_I1, IP_OUT, 1, 2))
    s["dnat-internal-2222"] = rec(4, tcp_frame(GU, CL, IP_CL, IP_UP, 45000, 2222, SYN))
    s["split-tcp"] = rec(0, tcp_frame(GA, C1, IP_C1, IP_OUT, 46000, 80, SYN), 0x10)
    return s


def orec(port, frame, flags, mss=0, l2=14, l3=20, l4=20, fix=1, ctl=0):
    """fuzz_offload's record: the offload description (fuzz_stage.c) before the frame.
    flags: bits 0-1 L4 checksum kind (1 TCP, 3 UDP), 4 IPv4, 8 IPv6, 16 TSO."""
    return (bytes([ctl | port]) + struct.pack("!H", len(frame)) +
            struct.pack("!BBHBHB", flags, l2, l3, l4, mss, fix) + frame)


TCP4, UDP4, TSO4 = 1 | 4, 3 | 4, 1 | 4 | 16


def offload_seeds():
    """Large segments and partial checksums: bridged (fix 3 keeps the MAC), routed,
    NATed, and descriptions that break the convention."""
    big = bytes(range(256)) * 12
    s = {}
    s["tso-bridged"] = orec(0, tcp_frame(C2, C1, IP_C1, IP_C2, 1, 2, ACK | PSH, data=big),
                            TSO4, mss=1000, fix=3)
    s["tso-bridged-to-offload-port"] = orec(
        0, tcp_frame(C2, C1, IP_C1, IP_C2, 1, 2, ACK, data=big), TSO4, mss=1448, fix=3)
    s["tso-flood"] = orec(0, tcp_frame(NEW, C1, IP_C1, "172.17.0.9", 1, 2, ACK, data=big),
                          TSO4, mss=700, fix=3)
    s["csum-udp-bridged"] = orec(1, udp_frame(C1, C2, IP_C2, IP_C1, 5, 6, big[:999]),
                                 UDP4, l4=8, fix=3)
    s["tso-masq"] = (
        orec(0, tcp_frame(GA, C1, IP_C1, IP_OUT, 41000, 80, SYN, seq=1), 0) +
        orec(4, tcp_frame(GU, R, IP_OUT, IP_UP, 80, 41000, SYN | ACK, seq=500, ack=2), 0) +
        orec(0, tcp_frame(GA, C1, IP_C1, IP_OUT, 41000, 80, ACK, seq=2, ack=501, data=big),
             TSO4, mss=1460))
    s["tso-dnat"] = (
        orec(4, tcp_frame(GU, CL, IP_CL, IP_UP, 42000, 8080, SYN, seq=1), 0) +
        orec(0, tcp_frame(GA, C1, IP_C1, IP_CL, 80, 42000, SYN | ACK, seq=9, ack=2), 0) +
        orec(4, tcp_frame(GU, CL, IP_CL, IP_UP, 42000, 8080, ACK, seq=2, ack=10, data=big),
             TSO4, mss=536))
    s["tso-too-big"] = orec(0, tcp_frame(GA, C1, IP_C1, IP_OUT, 41001, 80, ACK, data=big),
                            TSO4, mss=1500)
    s["bad-start"] = orec(0, tcp_frame(C2, C1, IP_C1, IP_C2, 1, 2, ACK, data=big), TSO4,
                          mss=1000, l3=24, fix=2)
    s["bad-tso-udp"] = orec(0, udp_frame(C2, C1, IP_C1, IP_C2, 5, 6, big), UDP4 | 16,
                            mss=1000, l4=8, fix=2)
    s["bad-many-segs"] = orec(0, tcp_frame(C2, C1, IP_C1, IP_C2, 1, 2, ACK, data=big),
                              TSO4, mss=1, fix=3)
    return s


VTEP, PEER, STRANGER = "192.168.1.10", "192.168.1.50", "192.168.1.77"
RB1, RB2 = mac("02:42:ac:12:00:51"), mac("02:42:ac:12:00:52")
GB_IP = "172.18.0.1"


def vxhdr(vni=42, flags=0x08000000):
    return struct.pack("!II", flags, vni << 8)


def vxlan_seeds(f):
    """fuzz_vxlan: payload records (ctl < 0x80: the target adds Ethernet/IPv4/UDP
    from a peer to our VTEP) and whole frames (ctl & 0x80, port ctl & 7)."""
    s = {}
    inner = {
        "remote-to-b1": udp_frame(B1, RB1, "172.18.0.51", IP_B1, 3000, 53),
        "remote-bcast": eth(BCAST, RB1, 0x88B5, b"z" * 46),
        "remote-arp-gw": eth(BCAST, RB1, 0x0806, arp(1, RB1, "172.18.0.51", b"\0" * 6, GB_IP)),
        "remote-ping-gw": eth(GB, RB1, 0x0800, ipv4("172.18.0.51", GB_IP, 1, echo(8, 3))),
        "remote-routed-out": udp_frame(GB, RB1, "172.18.0.51", IP_OUT, 3001, 53),
        "remote-to-remote": udp_frame(RB2, RB1, "172.18.0.51", "172.18.0.52", 1, 2),
        "remote-vlan": eth(B1, RB1, 0x0800, ipv4("172.18.0.51", IP_B1, 17,
                                              udp("172.18.0.51", IP_B1, 1, 2, b"v")),
                           tags=[(0x8100, 7)]),
    }
    for name, fr in inner.items():
        s["pl-" + name] = rec(0, vxhdr() + fr)
    s["pl-peer2-bad-flags"] = rec(0x41, vxhdr(flags=0x0C000000) + inner["remote-to-b1"])
    s["pl-unknown-vni"] = rec(0x40, vxhdr(vni=43) + inner["remote-to-b1"])
    s["pl-stranger"] = rec(0x08, vxhdr() + inner["remote-to-b1"])
    s["pl-port-8472"] = rec(0x04, vxhdr() + inner["remote-to-b1"])
    s["pl-bad-cksum"] = rec(0x20, vxhdr() + inner["remote-to-b1"])
    s["pl-split"] = rec(0x10, vxhdr() + inner["remote-to-b1"])
    s["pl-short"] = rec(0, vxhdr() + b"\x02" * 10)
    s["pl-learn-then-reply"] = (rec(0, vxhdr() + udp_frame(B1, mac("02:42:ac:12:00:61"),
                                                            "172.18.0.61", IP_B1, 1, 2)) +
                                rec(0x82, udp_frame(mac("02:42:ac:12:00:61"), B1, IP_B1,
                                                    "172.18.0.61", 2, 1)))
    whole = eth(GU, CL, 0x0800, ipv4(PEER, VTEP, 17,
                                     udp(PEER, VTEP, 49152, 4789,
                                         vxhdr() + inner["remote-to-b1"])))
    s["whole-vxlan"] = rec(0x84, whole)
    s["whole-vxlan-padded"] = rec(0x84, whole + b"\0" * 6)
    s["local-to-remote"] = rec(0x82, udp_frame(RB1, B1, IP_B1, "172.18.0.51", 5, 6))
    s["local-bcast"] = rec(0x82, eth(BCAST, B1, 0x88B5, b"b" * 46))
    s["local-arp-suppressed"] = rec(0x82, eth(BCAST, B1, 0x0806,
                                              arp(1, B1, IP_B1, b"\0" * 6, "172.18.0.51")))
    s["local-too-big"] = rec(0x82, udp_frame(RB1, B1, IP_B1, "172.18.0.51", 5, 6, b"T" * 1440))
    return s


def neigh_seeds():
    """fuzz_neigh (fuzz_neigh.c): punts to the control thread. ctl & 3: 0 ARP as is,
    1 ARP fixed up, 2 neighbour miss for 192.168.f[0].f[1], 3 via the worker;
    0x08 ends a step (time: 10 ms, 300 ms, 1 s, 31 s by ctl >> 6)."""
    ARP, FIX, MISS, WORKER = 0, 1, 2, 3
    STEP, S1, S31 = 0x08, 0x80, 0xC0

    def r(ctl, frame):
        return bytes([ctl]) + struct.pack("!H", len(frame)) + frame

    def arpf(op, sha, spa, tpa, dst=GU, tha=b"\0" * 6):
        return eth(dst, sha, 0x0806, arp(op, sha, spa, tha, tpa)).ljust(60, b"\0")

    def miss(nh_lo):
        # A routed frame for 192.168.<nh_lo>: the first two bytes (the destination
        # MAC control fills in) name the next hop.
        return eth(bytes(nh_lo) + b"\0" * 4, GU, 0x0800,
                   ipv4("192.168.1.10", "8.8.8.8", 17, udp("192.168.1.10", "8.8.8.8",
                                                          40000, 53, b"q")))

    gw = "192.168.1.1"
    reply = arpf(2, R, gw, IP_UP, tha=GU)
    req = arpf(1, R, gw, IP_UP, dst=BCAST)
    garp_req = arpf(1, R, gw, gw, dst=BCAST)
    garp_rep = arpf(2, R, gw, gw, dst=BCAST)
    m = miss((1, 1))
    s = {
        "miss-reply": r(MISS, m) + r(MISS | STEP, m) + r(ARP | STEP, reply),
        "miss-request": r(MISS | STEP, m) + r(ARP | STEP, req),
        "miss-garp-request": r(MISS | STEP, m) + r(ARP | STEP, garp_req),
        "miss-garp-reply": r(MISS | STEP, m) + r(ARP | STEP, garp_rep),
        "miss-fixed-reply": r(MISS | STEP, m) + r(FIX | STEP, reply),
        "worker-reply": r(MISS | STEP, m) + r(WORKER | STEP, reply),
        "worker-request": r(MISS | STEP, m) + r(WORKER | STEP, req),
        "worker-garp": r(MISS | STEP, m) + r(WORKER | 0x20 | STEP, garp_req),
        "miss-failed": r(MISS | STEP, m) + r(MISS | S1 | STEP, m) * 4 +
                       r(MISS | STEP, m) + r(MISS | S31 | STEP, m),
        "learn-age": r(MISS | STEP, m) + r(ARP | STEP, reply) +
                     r(ARP | S31 | STEP, reply[:0]) + r(ARP | S1 | STEP, reply[:0]) * 4,
        "learn-move": r(MISS | STEP, m) + r(ARP | STEP, reply) +
                      r(ARP | STEP, arpf(2, NEW, gw, gw, dst=BCAST)),
        "unsolicited-reply": r(ARP | STEP, reply),
        "scan": r(MISS | 0x20 | STEP, miss((0, 0)) [:2] + b"\x8c" + m[3:]) +
                r(MISS | STEP, m),
        "other-domain": r(MISS | 0x04 | STEP, m) + r(ARP | 0x04 | STEP, reply),
        "bad-l3off": r(MISS | STEP, m) + r(ARP | 0x20 | STEP, bytes([30]) + reply[1:]),
        "split": r(MISS | 0x10 | STEP, m) + r(ARP | 0x10 | STEP, reply),
    }
    for n in (0, 1, 13, 14, 15, 21, 28, 41, 42):
        s["truncated-%d" % n] = r(MISS | STEP, m) + r(ARP | STEP, reply[:n])
        s["truncated-miss-%d" % n] = r(MISS | STEP, m[:n]) + r(ARP | STEP, reply)
    return s


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(data)


def clean(d):
    if os.path.isdir(d):
        for n in os.listdir(d):
            if not n.startswith(("crash-", "regress-")):
                os.unlink(os.path.join(d, n))


def main():
    f = frames()
    st = stage_seeds(f)
    for t in ("parse", "bridge", "arp", "l3", "nat", "offload", "vxlan", "neigh", "ctl",
              "config"):
        clean(os.path.join(CORPUS, t))
    for name, data in offload_seeds().items():
        write(os.path.join(CORPUS, "offload"), name, data)
    for name, data in neigh_seeds().items():
        write(os.path.join(CORPUS, "neigh"), name, data)
    for name, data in vxlan_seeds(f).items():
        write(os.path.join(CORPUS, "vxlan"), name, data)
    for name, fr in f.items():
        write(os.path.join(CORPUS, "parse"), name, b"\0" + fr)
    write(os.path.join(CORPUS, "parse"), "split-qinq", b"\x13" + f["qinq-udp"])
    for t in ("bridge", "arp", "l3", "nat"):
        for name, data in st.items():
            if t == "arp" and "arp" not in name:
                continue
            write(os.path.join(CORPUS, t), name, data)
    for n in sorted(os.listdir(os.path.join(ROOT, "conf"))):
        if n.endswith(".yaml"):
            with open(os.path.join(ROOT, "conf", n), "rb") as fh:
                write(os.path.join(CORPUS, "config"), n, fh.read())
    reqs = {
        "hello": '{"v":1,"cmd":"hello"}',
        "status": '{"v":1,"cmd":"status","args":{}}',
        "network-create": '{"v":1,"cmd":"network.create","args":{"name":"backend",'
                          '"subnet":"10.123.0.0/24","gateway":"10.123.0.1","internal":false}}',
        "network-ls-inspect": '{"v":1,"cmd":"network.ls"}\n'
                              '{"v":1,"cmd":"network.inspect","args":{"name":"bridge"}}\n',
        "container-run": '{"v":1,"cmd":"container.run","args":{"name":"web","network":"bridge",'
                         '"publish":["8080:80","127.0.0.1:8081:80/tcp","53/udp"],'
                         '"expose":["5432"],"publish_all":true,"ip":"172.17.0.5",'
                         '"mac":"02:42:ac:11:00:05","cmd":["sleep","1"],"detach":true}}',
        "port-add": '{"v":1,"cmd":"port.add","args":{"name":"up0","type":"afpacket",'
                    '"iface":"eth0","role":"uplink","address":"192.168.1.10/24"}}',
        "route-add": '{"v":1,"cmd":"route.add","args":{"to":"10.0.0.0/8","via":"192.168.1.1"}}',
        "mac-add": '{"v":1,"cmd":"mac.add","args":{"network":"bridge","mac":"02:00:00:00:00:01",'
                   '"port":"p0"}}',
        "conntrack-flush": '{"v":1,"cmd":"conntrack.flush","args":null}\r\n\n   \n',
        "bad-version": '{"v":2,"cmd":"hello"}\n{"cmd":"hello"}\n',
        "unknown-cmd": '{"v":1,"cmd":"nope","args":{"x":[1,2,{"y":"\\u00e9"}]}}',
        "deep": '{"v":1,"cmd":"status","args":{"a":' + "[" * 20 + "]" * 20 + "}}",
        "not-object": '[1,2,3]\n',
        "dup-keys": '{"v":1,"v":1,"cmd":"hello"}',
    }
    for name, text in reqs.items():
        write(os.path.join(CORPUS, "ctl"), name, text.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
