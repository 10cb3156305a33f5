#!/usr/bin/env bash
# vxlan_kernel: dpnet's overlay interoperates with the Linux kernel's VXLAN
# (issue 6).
#
# The picture: one dpnet host (uplink 192.0.2.11/24 on the underlay bridge)
# with the overlay ov1 (VNI 4242, 10.77.0.0/24, addresses from 10.77.0.16/28)
# and a container; the namespace "k" on the same underlay (192.0.2.21/24) with
# a kernel vxlan device vx0 (VNI 4242, port 4789, nolearning) addressed
# 10.77.0.200/24, whose default FDB entry sends everything to dpnet's VTEP.
#
# Checked: ping both ways; 4 MiB of TCP both ways (full segments of the
# 1450-byte MTU) arrive intact; dpnet learns vx0's MAC behind 192.0.2.21;
# the kernel accepts dpnet's encapsulation (its rx counters grow, no errors);
# dpnet's outer headers as configured: UDP destination 4789, a source port in
# 49152-65535, DF, TTL 64, UDP checksum 0, VXLAN flags 0x08 and the VNI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vxlan_lib.sh"

need_cmd socat ss tcpdump

VNI=4242
K=$(ns k)
KADDR=192.0.2.21
KOV=10.77.0.200
C=a$E2E_ID

vx_underlay
vx_host 1
vx_ns_plug k "$KADDR/24"
ip -n "$K" link add vx0 type vxlan id "$VNI" dstport 4789 local "$KADDR" dev eth0 nolearning ||
	skip "the kernel cannot make a vxlan device here"
ip -n "$K" link set vx0 mtu 1450
ip -n "$K" addr add "$KOV/24" dev vx0
ip -n "$K" link set vx0 up
ip netns exec "$K" ethtool -K vx0 tx off gso off tso off gro off >/dev/null 2>&1
ip netns exec "$K" bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$(vx_addr 1)" ||
	fail "cannot point vx0's default FDB entry at dpnet"
ok "namespace k: kernel vxlan vx0 (VNI $VNI, port 4789, nolearning) at $KOV, default FDB -> $(vx_addr 1)"

hstart 1
run dpctl network create --driver overlay --vni "$VNI" --subnet 10.77.0.0/24 \
	--ip-range 10.77.0.16/28 ov1 >/dev/null
run dpctl vxlan peer add ov1 "$KADDR" >/dev/null
hrun 1 "$C" --network ov1
CIP=$(ctr_ip "$C")
ok "dpnet: ov1 with peer $KADDR, container $C at $CIP"

# What dpnet sends into the underlay, captured on the kernel side.
cap=$E2E_TMP/k.pcap
ip netns exec "$K" timeout 120 tcpdump -i eth0 -n -U -s 128 -w "$cap" "udp port 4789" \
	2>/dev/null &
TD=$!
E2E_PIDS+=("$TD")
sleep 1

ping_ns_ok "$(cns "$C")" "$KOV"
ping_ns_ok "$K" "$CIP"
ok "ping both ways between dpnet's container and the kernel's vx0"

tcp_ok "$(cns "$C")" "$K" "$KOV"
tcp_ok "$K" "$(cns "$C")" "$CIP"
ok "4 MiB of TCP each way between dpnet's overlay and the kernel's, intact"

kmac=$(ip netns exec "$K" cat /sys/class/net/vx0/address)
[ "$(fdb_vtep 1 ov1 "$kmac")" = "$KADDR" ] ||
	fail "dpnet's vxlan fdb ls does not show vx0's $kmac behind $KADDR: $(dpctl vxlan fdb ls ov1)"
ok "dpnet learned vx0's MAC $kmac behind $KADDR"

errs=$(ip -n "$K" -s -j link show vx0 | json "d[0]['stats64']['rx']['errors'] + d[0]['stats64']['rx']['dropped']")
[ "$errs" = 0 ] || fail "the kernel's vx0 counted $errs receive errors/drops: $(ip -n "$K" -s link show vx0)"

sleep 1
kill -INT "$TD" 2>/dev/null
wait "$TD" 2>/dev/null
"$PY" - "$cap" "$(vx_addr 1)" "$KADDR" "$VNI" <<'PYEOF' || fail "dpnet's VXLAN headers are not as configured (above)"
import sys
from scapy.all import rdpcap, IP, UDP
from scapy.layers.vxlan import VXLAN
pkts = rdpcap(sys.argv[1])
src, dst, vni = sys.argv[2], sys.argv[3], int(sys.argv[4])
ours = [p for p in pkts if IP in p and p[IP].src == src and p[IP].dst == dst and UDP in p]
if len(ours) < 10:
    sys.exit("only %d VXLAN frames from dpnet captured" % len(ours))
for p in ours:
    ip, udp = p[IP], p[UDP]
    bad = []
    if udp.dport != 4789: bad.append("dport %d" % udp.dport)
    if not 49152 <= udp.sport <= 65535: bad.append("sport %d" % udp.sport)
    if not ip.flags.DF: bad.append("no DF")
    if ip.ttl != 64: bad.append("ttl %d" % ip.ttl)
    if udp.chksum != 0: bad.append("udp checksum %#x" % udp.chksum)
    raw = bytes(udp.payload)
    if raw[0] != 0x08 or raw[1:4] != b"\0\0\0" or int.from_bytes(raw[4:7], "big") != vni or raw[7] != 0:
        bad.append("vxlan header %s" % raw[:8].hex())
    if bad:
        sys.exit("frame %s: %s" % (p.summary(), ", ".join(bad)))
print("# %d VXLAN frames from dpnet checked" % len(ours))
PYEOF
ok "dpnet's outer headers: port 4789, source port 49152-65535, DF, TTL 64, UDP checksum 0, flags 0x08, VNI $VNI"

hctl 1 rm -f "$C" >/dev/null || fail "rm $C failed"
H_CTRS[1]=""
run dpctl network rm ov1 >/dev/null
hstop 1
