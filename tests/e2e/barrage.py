# barrage.py - malformed and odd frames into one dpnet port, class by class,
# with dpnet's drop counters read before and after each class.
#   barrage.py OUT.json LABEL IFACE key=value...
# keys: src_mac src_ip gw_mac up_ip ctr_mac ctr_ip route_ip hole_ip dpctl sock
#       classes (comma list, default all) jumbo (1: try 9000-byte frames)
import json, os, random, subprocess, sys, time
import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Dot1AD, Ether, IPv6, Raw,
                       IPOption_RR, IPOption_Timestamp, IPOption, conf, fragment)

out_path, label, iface = sys.argv[1], sys.argv[2], sys.argv[3]
A = dict(a.split("=", 1) for a in sys.argv[4:])
R = random.Random(int(A.get("seed", "8")))
SM, SIP = A["src_mac"], A["src_ip"]
GW, UP = A["gw_mac"], A["up_ip"]
CM, CIP = A["ctr_mac"], A["ctr_ip"]
RIP, HOLE = A["route_ip"], A["hole_ip"]
BC = "ff:ff:ff:ff:ff:ff"
conf.verb = 0

def stats():
    for _ in range(5):
        try:
            o = subprocess.run([A["dpctl"], "--socket", A["sock"], "stats", "--json"],
                               capture_output=True, timeout=10, check=True).stdout
            d = json.loads(o)
            r = dict(d["drops"])
            r["fdb_full"] = (d.get("fdb") or {}).get("full", 0)
            # what the ports' drivers dropped before dpnet saw it
            for k, v in (d.get("driver_drops") or {}).items():
                r["driver-" + k] = v
            return r
        except Exception:
            time.sleep(0.2)
    sys.exit("dpctl stats failed")

def pay(n):
    return bytes(R.getrandbits(8) for _ in range(n))

def eth(dst):
    return Ether(dst=dst, src=SM)

# Well-formed bases to be cut, bent and broken.
def bases(dst, dip):
    return [
        eth(dst) / IP(src=SIP, dst=dip) / TCP(sport=R.randint(1024, 65000), dport=80, flags="S") / Raw(pay(16)),
        eth(dst) / IP(src=SIP, dst=dip) / UDP(sport=R.randint(1024, 65000), dport=53) / Raw(pay(16)),
        eth(dst) / IP(src=SIP, dst=dip) / ICMP(id=R.randint(1, 65000)) / Raw(pay(16)),
        eth(dst) / IP(src=SIP, dst=UP) / ICMP(type=3, code=3) /
            IP(src=UP, dst=SIP) / UDP(sport=53, dport=R.randint(1024, 65000)) / Raw(pay(8)),
        eth(dst) / ARP(psrc=SIP, hwsrc=SM, pdst=A["gw_ip"]),
        eth(dst) / Dot1Q(vlan=10) / IP(src=SIP, dst=dip) / UDP(dport=53) / Raw(pay(8)),
        eth(dst) / Dot1AD(vlan=20) / Dot1Q(vlan=10) / IP(src=SIP, dst=dip) / TCP(dport=80) / Raw(pay(8)),
        eth(dst) / IP(src=SIP, dst=dip, options=[IPOption_RR(), IPOption_Timestamp()]) / UDP(dport=53) / Raw(pay(8)),
    ]

def boundaries(p):
    """Offsets where each header starts, plus a byte into each."""
    offs, o, l = set(), 0, p
    while l is not None and not isinstance(l, Raw) and l.name != "NoPayload":
        n = len(l) - len(l.payload)
        offs.update((o, o + 1, o + 4, o + n - 1))
        o += n
        l = l.payload if l.payload and l.payload.name != "NoPayload" else None
    offs.add(o)
    return sorted(x for x in offs if 14 <= x < len(p))

def mk_trunc(dst):
    r = []
    for b in bases(dst, CIP):
        raw = bytes(b)
        r += [raw[:k] for k in boundaries(b)]
    return r

def mk_runt(dst):
    raw = bytes(eth(dst) / IP(dst=CIP) / UDP())
    return [raw[:k] for k in range(1, 14)]

def ipraw(p):
    return bytes(p)

def mk_badihl(dst):
    r = []
    for ihl in (0, 1, 2, 3, 4, 13, 14, 15):
        p = eth(dst) / IP(src=SIP, dst=CIP, ihl=ihl) / UDP(dport=53) / Raw(pay(20))
        r.append(bytes(p))
    for ver in (0, 5, 6, 15):
        p = eth(dst) / IP(src=SIP, dst=CIP, version=ver) / UDP(dport=53) / Raw(pay(20))
        r.append(bytes(p))
    return r

def mk_totlen(dst):
    r = []
    for proto in ("tcp", "udp", "icmp"):
        l4 = {"tcp": TCP(dport=80, flags="S"), "udp": UDP(dport=53), "icmp": ICMP()}[proto]
        base = IP(src=SIP, dst=CIP) / l4 / Raw(pay(24))
        n = len(base)
        for tot in (n + 1, n + 60, 1500, 65535, 0, 1, 19, 20 + 4, 20 + 7):
            if proto == "icmp" and tot in (20 + 4, 20 + 7, 1):
                pass
            if proto == "udp" and tot == 20 + 7:
                pass
            p = IP(bytes(base))
            p.len = tot
            del p.chksum
            r.append(bytes(eth(dst) / p))
        if proto == "tcp":  # TCP data offset past the IP payload, or below 5
            for do in (0, 4, 15):
                p = eth(dst) / IP(src=SIP, dst=CIP) / TCP(dport=80, dataofs=do) / Raw(pay(4))
                r.append(bytes(p))
        if proto == "udp":  # UDP length below 8 or past the IP payload
            for ul in (0, 7, 200):
                p = eth(dst) / IP(src=SIP, dst=CIP) / UDP(dport=53, len=ul) / Raw(pay(8))
                r.append(bytes(p))
    return r

def mk_arpbad(dst):
    r = []
    for kw in ({"hwtype": 6}, {"ptype": 0x86dd}, {"hwlen": 8}, {"plen": 16}, {"hwlen": 0, "plen": 0}):
        r.append(bytes(eth(dst) / ARP(psrc=SIP, hwsrc=SM, pdst=A["gw_ip"], **kw)))
    return r

def mk_qinq3(dst):
    return [bytes(eth(dst) / Dot1AD(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP(src=SIP, dst=CIP) / UDP() / Raw(pay(8))),
            bytes(eth(dst) / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / Dot1Q(vlan=4) / Raw(pay(30)))]

def mk_badcksum(dst):
    r = []
    for l4 in (UDP(dport=53) / Raw(pay(10)), TCP(dport=80, flags="S"), ICMP() / Raw(pay(10))):
        p = IP(bytes(IP(src=SIP, dst=RIP) / l4))
        p.chksum = (p.chksum + R.randint(1, 0xfffe)) & 0xffff
        r.append(bytes(eth(dst) / p))
    return r

def mk_vlan_gw(dst):
    return [bytes(eth(dst) / Dot1Q(vlan=R.randint(1, 4094)) / IP(src=SIP, dst=RIP) / UDP(dport=53) / Raw(pay(8))),
            bytes(eth(dst) / Dot1AD(vlan=5) / Dot1Q(vlan=6) / IP(src=SIP, dst=RIP) / ICMP())]

def mk_vlan_arp(dst):
    return [bytes(eth(dst) / Dot1Q(vlan=R.randint(1, 4094)) / ARP(psrc=SIP, hwsrc=SM, pdst=A["gw_ip"]))]

def mk_nonip_gw(dst):
    return [bytes(Ether(dst=dst, src=SM, type=t) / Raw(pay(46))) for t in (0x88b5, 0x8847, 0x9000)]

def mk_ipv6_gw(dst):
    return [bytes(eth(dst) / IPv6(src="fd00::1", dst="fd00::2") / UDP(dport=53) / Raw(pay(8)))]

def mk_mcast_dst(dst):
    return [bytes(eth(dst) / IP(src=SIP, dst=d) / UDP(dport=53) / Raw(pay(8)))
            for d in ("224.0.0.5", "239.1.2.3", "255.255.255.255", "0.0.0.0", "240.0.0.1")]

def frags(dst, dip, dport):
    p = IP(src=SIP, dst=dip, id=R.randint(1, 65000)) / UDP(sport=R.randint(1024, 65000), dport=dport) / Raw(pay(600))
    fs = fragment(p, fragsize=256)            # first, middle, last
    ov = IP(bytes(fs[1]))                     # an overlapping copy of the middle, shifted
    ov.frag = max(0, ov.frag - 8)
    del ov.chksum
    return [bytes(eth(dst) / f) for f in fs + [ov]]

def mk_frag_up(dst):
    return frags(dst, UP, 8080 if R.random() < 0.5 else R.randint(1, 65000))

def mk_icmperr_up(dst):
    q = [IP(src=UP, dst=SIP) / UDP(sport=R.randint(1, 65000), dport=R.randint(1, 65000)),
         IP(src=UP, dst=SIP) / TCP(sport=R.randint(1, 65000), dport=R.randint(1, 65000)),
         IP(src=UP, dst=SIP) / ICMP(type=8, id=R.randint(1, 65000)),
         IP(src=UP, dst=SIP, ihl=15) / Raw(pay(4))]        # a quoted header that lies
    return [bytes(eth(dst) / IP(src=SIP, dst=UP) / ICMP(type=t, code=c) / Raw(bytes(x)[:28]))
            for x in q for t, c in ((3, 3), (11, 0))]

def mk_opts_ttl(dst):
    return [bytes(eth(dst) / IP(src=SIP, dst=RIP, ttl=1, options=o) / UDP(dport=53) / Raw(pay(8)))
            for o in ([IPOption_RR()], [IPOption_Timestamp()], [IPOption(b"\x01" * 40)])]

def mk_opts_noroute(dst):
    return [bytes(eth(dst) / IP(src=SIP, dst=HOLE, options=o) / UDP(dport=53) / Raw(pay(8)))
            for o in ([IPOption_RR()], [IPOption(b"\x07\x27\x04" + b"\x00" * 37)], [])]

def mk_gwlocal(dst):
    return [bytes(eth(dst) / IP(src=SIP, dst=UP) / UDP(sport=R.randint(1024, 65000), dport=R.randint(1, 7000)) / Raw(pay(8)))]

# Frames that are odd but legitimate: passed on (or answered), no drop expected.
def mk_frag_ctr(dst):
    return frags(dst, CIP, R.randint(1, 65000))

def mk_l4cksum(dst):
    r = []
    for l4, dip in ((TCP(dport=8080, flags="S", chksum=0x1234), UP), (UDP(dport=53, chksum=0x4321), CIP),
                    (ICMP(chksum=0x1111), CIP), (TCP(dport=80, flags="S", chksum=0), CIP)):
        r.append(bytes(eth(dst) / IP(src=SIP, dst=dip) / l4 / Raw(pay(12))))
    return r

def mk_opts_ok(dst):
    return [bytes(eth(dst) / IP(src=SIP, dst=d, options=o) / ICMP(id=R.randint(1, 999)) / Raw(pay(8)))
            for d in (CIP, A["gw_ip"]) for o in ([IPOption_RR()], [IPOption(b"\x44\x00\x05\x00")], [IPOption(b"\x83\xff")])]

def mk_vxlan(dst):
    r = []
    for flags, vni in ((0x00, 42), (0xff, 0xffffff), (0x08, 0), (0x0c, 1 << 23)):
        hdr = bytes([flags, 0, 0, 0]) + vni.to_bytes(3, "big") + b"\x00"
        inner = bytes(Ether(src="02:00:00:00:00:01", dst=BC) / ARP())[:R.choice((0, 14, 42))]
        for d in (CIP, UP):
            r.append(bytes(eth(dst) / IP(src=SIP, dst=d) / UDP(sport=R.randint(1024, 65000), dport=4789) / Raw(hdr + inner)))
    return r

def mk_random(dst):
    r = []
    for _ in range(20):
        et = R.choice((b"\x08\x00", b"\x08\x06", b"\x81\x00", b"\x88\xa8", b"\x86\xdd", pay(2)))
        body = pay(R.randint(0, 200))
        if et == b"\x08\x00" and body:
            body = bytes([0x40 | R.randint(0, 15)]) + body[1:]
        r.append(bytes(Ether(dst=dst, src=SM)) [:12] + et + body)
    return r

def mk_jumbo(dst):
    return [bytes(eth(dst) / IP(src=SIP, dst=d, flags=f) / UDP(dport=53) / Raw(pay(9000 - 14 - 28)))
            for d in (CIP, RIP) for f in (0, 2)]

GWT, CTRT = [GW], [GW, CM, BC]
# name: (builder, targets, reps, expected drop reason or None, min fraction)
CLASSES = [
    # (an afpacket port's kernel side drops tagged frames cut inside their tag:
    # rx VLAN untagging needs the whole tag - 30 of the 252)
    ("trunc", mk_trunc, CTRT, 1, "malformed", 0.85),
    # (the kernel pads a frame shorter than 14 bytes with zeros: a zero
    # source MAC, bad-src-mac, or whatever the padding makes of it)
    ("runt", mk_runt, CTRT, 1, None, 0),
    ("bad-ihl-version", mk_badihl, CTRT, 3, "malformed", 0.9),
    ("total-length", mk_totlen, CTRT, 2, "malformed", 0.9),
    ("arp-bad", mk_arpbad, CTRT, 4, "malformed", 0.9),
    ("three-tags", mk_qinq3, CTRT, 8, "malformed", 0.9),
    ("bad-ip-checksum", mk_badcksum, GWT, 30, "bad-ip-checksum", 0.9),
    ("vlan-qinq-to-gw", mk_vlan_gw, GWT, 40, "not-routable", 0.9),
    ("vlan-arp-to-gw", mk_vlan_arp, GWT, 60, "arp-ignored", 0.9),
    ("not-ip-to-gw", mk_nonip_gw, GWT, 30, "not-routable", 0.9),
    ("ipv6-to-gw", mk_ipv6_gw, GWT, 60, "ipv6-not-routed", 0.9),
    ("mcast-bcast-dst", mk_mcast_dst, GWT, 20, "not-routable", 0.9),
    ("frag-to-uplink", mk_frag_up, GWT, 25, "nat-fragment", 0.9),
    ("icmp-error-to-uplink", mk_icmperr_up, GWT, 10, "ct-invalid", 0.9),
    ("ip-options-ttl1", mk_opts_ttl, GWT, 20, "ttl-exceeded", 0.9),
    ("ip-options-blackhole", mk_opts_noroute, GWT, 20, "no-route", 0.9),
    ("udp-to-uplink-addr", mk_gwlocal, GWT, 60, "gateway-local", 0.9),
    ("frag-to-container", mk_frag_ctr, CTRT, 10, None, 0),
    ("bad-l4-checksum", mk_l4cksum, CTRT, 10, None, 0),
    ("ip-options-ok", mk_opts_ok, CTRT, 5, None, 0),
    ("vxlan-looking", mk_vxlan, CTRT, 4, None, 0),
    ("random", mk_random, CTRT, 5, None, 0),
    ("jumbo", mk_jumbo, CTRT, 2, None, 0),
]
# DPDK 22.11's af_packet PMD joins its socket to a fanout group with
# PACKET_FANOUT_FLAG_DEFRAG: the kernel reassembles IPv4 fragments before an
# afpacket port sees them, so there dpnet gets whole datagrams (nat-fragment
# cannot count what never arrives as a fragment).
if A.get("defrag") == "1":
    CLASSES = [c if c[0] != "frag-to-uplink" else c[:4] + (None, 0) for c in CLASSES]
# Jumbo frames (9000 bytes, larger than an mbuf's 2048 bytes of data) where they
# go: a TAP port's driver reads a frame into one mbuf (no scatter) and drops the
# rest, counted in its rx errors (jumbo_expect=driver-rx-errors); an afpacket
# port's kernel ring cuts the frame to its 2048-byte slot and the PMD delivers
# the cut frame, which parse.c finds shorter than its IPv4 total length
# (jumbo_expect=malformed).
if A.get("jumbo_expect"):
    CLASSES = [c if c[0] != "jumbo" else c[:3] + (2, A["jumbo_expect"], 0.9) for c in CLASSES]
want = A.get("classes", "").split(",") if A.get("classes") else None
skipc = set(A.get("skip", "").split(","))
res = []
from scapy.arch.linux import L2Socket
s = L2Socket(iface=iface)
for name, fn, targets, reps, reason, frac in CLASSES:
    if (want and name not in want) or name in skipc:
        continue
    if name == "jumbo" and A.get("jumbo") != "1":
        continue
    frames = [f for _ in range(reps) for t in targets for f in fn(t)]
    before = stats()
    sent = refused = 0
    for f in frames:
        try:
            s.send(f)
            sent += 1
        except OSError:
            refused += 1
        if sent % 200 == 0:
            time.sleep(0.01)
    # counters settle: two equal reads 0.3 s apart (at most 5 s)
    last, end = None, time.time() + 5
    while time.time() < end:
        time.sleep(0.3)
        cur = stats()
        if cur == last and (reason is None or cur[reason] - before[reason] >= frac * sent):
            break
        last = cur
    after = stats()
    delta = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    res.append({"port": label, "class": name, "sent": sent, "refused": refused,
                "expect": reason, "frac": frac, "drops": delta})
    print("%-12s %-22s sent %5d%s  drops %s" % (label, name, sent,
          " (kernel refused %d)" % refused if refused else "",
          " ".join("%s=%d" % kv for kv in sorted(delta.items())) or "-"), flush=True)
s.close()
with open(out_path, "w") as f:
    json.dump(res, f)
