#!/usr/bin/env bash
# vxlan_bad: hostile VXLAN and bad overlay commands (issue 6).
#
# The picture: one dpnet host (uplink 192.0.2.11/24 on the underlay bridge,
# `vxlan: {port: 8472}` in its config) with the overlay ov1 (VNI 4242) and a
# container; the namespace "p" on the underlay is its only peer (192.0.2.12),
# with a kernel vxlan device on port 8472 for legitimate traffic, and sends
# crafted VXLAN with scapy from its eth0.
#
# Checked:
#  - config files with a bad vxlan value are refused with FILE:LINE: KEY;
#  - the configured port is in force (stats), traffic flows through the peer;
#  - VXLAN with an unknown VNI, from a non-peer, with bad flags, truncated or
#    with a UDP length beyond the packet: dropped, each counted exactly under
#    its reason (vxlan-unknown-vni, vxlan-unknown-peer, vxlan-bad-flags,
#    vxlan-malformed) and no other vxlan-* reason; the daemon lives on and
#    traffic still flows;
#  - bad commands (a peer on a bridge network, a duplicate peer, our own
#    address, a multicast peer, bad/missing/duplicate VNIs, --mtu too large
#    for an overlay, --vni on a bridge network, ...) print one line, exit
#    non-zero and change nothing; a smaller --mtu is taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vxlan_lib.sh"

allow_log 'WARNING: .*request refused'

VNI=4242
PORT=8472
P=$(ns p)
PADDR=192.0.2.12
POV=10.77.0.200
C=a$E2E_ID
N=5

# ---------------------------------------------------------------- bad config files
bad_config() { # WANT YAML: dpnetd exits non-zero, its error says FILE:WANT
	local want=$1 f=$E2E_TMP/bad.yaml out
	printf '%s\n' "$2" >"$f"
	out=$(timeout 60 "$DPNETD" --config "$f" --socket "$E2E_TMP/bad.sock" \
		--state-dir "$E2E_TMP/badstate" -- --no-huge -m 256 --no-pci \
		--file-prefix "$VX_BASE_PREFIX-bad" -l 0,1 2>&1 </dev/null) &&
		fail "dpnetd started with $f: $(cat "$f")"
	grep -q "$f:$want" <<<"$out" || fail "dpnetd's error for $f does not say '$f:$want': $out"
	ok "bad config refused: $(grep -o "$f:.*" <<<"$out" | head -n 1)"
}
bad_config "3: vxlan.port: 0 is out of range" "# vxlan_bad
vxlan:
  port: 0"
bad_config "3: vxlan.ttl: 256 is out of range" "# vxlan_bad
vxlan:
  ttl: 256"
bad_config "4: vxlan.df: unknown value \"maybe\"" "# vxlan_bad
vxlan:
  port: 4789
  df: maybe"
bad_config "3: vxlan.mtu: unknown key" "# vxlan_bad
vxlan:
  mtu: 1450"

# ---------------------------------------------------------------- the hosts
vx_underlay
vx_host 1 "vxlan:" "  port: $PORT" "  ttl: 64" "  df: true"
vx_ns_plug p "$PADDR/24"
ip -n "$P" link add vx0 type vxlan id "$VNI" dstport "$PORT" local "$PADDR" dev eth0 nolearning ||
	skip "the kernel cannot make a vxlan device here"
ip -n "$P" link set vx0 mtu 1450
ip -n "$P" addr add "$POV/24" dev vx0
ip -n "$P" link set vx0 up
ip netns exec "$P" bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$(vx_addr 1)" ||
	fail "cannot point vx0's default FDB entry at dpnet"

hstart 1
[ "$(vx_stat 1 port)" = "$PORT" ] || fail "stats: the VXLAN port is not the configured $PORT: $(dpctl stats --json | json "d['vxlan']")"
run dpctl network create --driver overlay --vni "$VNI" --subnet 10.77.0.0/24 \
	--ip-range 10.77.0.16/28 ov1 >/dev/null
run dpctl vxlan peer add ov1 "$PADDR" >/dev/null
hrun 1 "$C" --network ov1
CIP=$(ctr_ip "$C")
ping_ns_ok "$(cns "$C")" "$POV"
ping_ns_ok "$P" "$CIP"
ok "port $PORT in force; container $C ($CIP) and the peer's vx0 ($POV) ping each other"

# ---------------------------------------------------------------- hostile VXLAN
UPMAC=$(dpctl status --json | json "d['uplink']['gw_mac']")
REASONS="vxlan-unknown-vni vxlan-unknown-peer vxlan-bad-flags vxlan-malformed vxlan-no-vtep vxlan-no-route"
drops() { # the vxlan-* drop counters, "reason=n ..."
	dpctl stats --json | json "' '.join('%s=%d' % (r, d['drops'][r]) for r in '$REASONS'.split())"
}
# crafted KIND: send N frames of one kind from the peer's namespace.
crafted() {
	ip netns exec "$P" "$PY" - "$1" "$N" "$UPMAC" "$(vx_addr 1)" "$PADDR" "$PORT" "$VNI" <<'PYEOF'
import sys
from scapy.all import Ether, IP, UDP, ICMP, Raw, sendp
kind, n, mac, dst, peer, port, vni = sys.argv[1:]
n, port, vni = int(n), int(port), int(vni)
inner = bytes(Ether(src="02:00:00:00:66:01", dst="ff:ff:ff:ff:ff:ff") /
              IP(src="10.77.0.201", dst="10.77.0.255") / ICMP())
def vx(flags, v, rest=inner):
    return bytes([flags, 0, 0, 0]) + v.to_bytes(3, "big") + b"\0" + rest
src, udp_len = peer, None
if kind == "unknown-vni":
    payload = vx(0x08, vni + 1)
elif kind == "unknown-peer":
    src, payload = "192.0.2.66", vx(0x08, vni)
elif kind == "bad-flags":
    payload = vx(0x00, vni)           # no I bit
elif kind == "bad-flags2":
    payload = vx(0x88, vni)           # a reserved flag bit
elif kind == "truncated":
    payload = bytes([0x08, 0, 0, 0])  # half a VXLAN header
elif kind == "long-udp":
    payload, udp_len = vx(0x08, vni), 8 + 8 + len(inner) + 400
else:
    sys.exit("unknown kind " + kind)
u = UDP(sport=50000, dport=port, chksum=0)
if udp_len is not None:
    u.len = udp_len
f = Ether(dst=mac) / IP(src=src, dst=dst, flags="DF") / u / Raw(payload)
sendp(f, iface="eth0", count=n, inter=0.01, verbose=False)
PYEOF
}
# expect_drops KIND REASON COUNT: after sending KIND, REASON grew by COUNT and
# no other vxlan-* reason moved (within 5 s).
drops_are() { [ "$(drops)" = "$1" ]; }
expect_drops() {
	local before want
	before=$(drops)
	want=$("$PY" -c '
import sys
b = [x.split("=") for x in sys.argv[1].split()]
print(" ".join("%s=%d" % (k, int(v) + (int(sys.argv[3]) if k == sys.argv[2] else 0)) for k, v in b))
' "$before" "$2" "$3")
	crafted "$1" || fail "scapy could not send $1"
	wait_until 5 drops_are "$want" ||
		fail "$1: the vxlan drop counters went from '$before' to '$(drops)', expected '$want'"
	daemon_alive || fail "$1: dpnetd died"
	ok "$1: $3 frames dropped as $2, no other vxlan-* reason moved"
}
expect_drops unknown-vni vxlan-unknown-vni "$N"
expect_drops unknown-peer vxlan-unknown-peer "$N"
expect_drops bad-flags vxlan-bad-flags "$N"
expect_drops bad-flags2 vxlan-bad-flags "$N"
expect_drops truncated vxlan-malformed "$N"
expect_drops long-udp vxlan-malformed "$N"
ping_ns_ok "$(cns "$C")" "$POV"
ping_ns_ok "$P" "$CIP"
[ "$(fdb_vtep 1 ov1 02:00:00:00:66:01)" = "" ] ||
	fail "a MAC from a dropped frame was learned: $(dpctl vxlan fdb ls ov1)"
ok "after the hostile frames: dpnetd alive, nothing learned from them, traffic flows"

# ---------------------------------------------------------------- bad commands
e2e_snapshot() {
	dpctl network ls --json
	dpctl vxlan peer ls --json
	dpctl port ls --json | json "sorted(p['name'] for p in ports(d))"
}
refused "peer on a bridge network" --says "not an overlay network" \
	vxlan peer add bridge 192.0.2.30
refused "peer on an unknown network" --says "not found" vxlan peer add nope 192.0.2.30
refused "duplicate peer" --says "peer $PADDR is already on network ov1" \
	vxlan peer add ov1 "$PADDR"
refused "our own address as a peer" --says "own VTEP address" \
	vxlan peer add ov1 "$(vx_addr 1)"
refused "multicast peer" --says "not a unicast IPv4 address" vxlan peer add ov1 239.1.1.1
refused "peer that is not an address" --says "invalid VTEP address" vxlan peer add ov1 host-b
refused "peer rm of a peer not there" --says "is not on network ov1" \
	vxlan peer rm ov1 192.0.2.77
refused "peer add without an address" --says "missing peer" vxlan peer add ov1
refused "fdb ls of a bridge network" --says "not an overlay network" vxlan fdb ls bridge
refused "VNI 0" --says "invalid VNI" network create --driver overlay --vni 0 ov2
refused "VNI too large" --says "invalid VNI" network create --driver overlay --vni 16777216 ov2
refused "VNI not a number" --says "invalid VNI" network create --driver overlay --vni abc ov2
refused "overlay without a VNI" --says "add --vni" network create --driver overlay ov2
refused "duplicate VNI" --says "vni $VNI is already used by network ov1" \
	network create --driver overlay --vni "$VNI" --subnet 10.88.0.0/24 ov2
refused "--mtu too large for an overlay" --says "--mtu 1451 is too large for an overlay: the uplink's MTU is 1500 and VXLAN takes 50" \
	network create --driver overlay --vni 5 --mtu 1451 ov2
refused "--vni on a bridge network" --says "add --driver overlay" network create --vni 5 ov2
refused "--vlan on an overlay" --says "--vlan is for vlan networks" \
	network create --driver overlay --vni 5 --vlan 7 ov2
daemon_alive || fail "dpnetd died"

run dpctl network create --driver overlay --vni 5 --mtu 1400 --subnet 10.88.0.0/24 ov2 >/dev/null
[ "$(dpctl network inspect ov2 | json "d[0]['Options']['com.docker.network.driver.mtu']")" = 1400 ] ||
	fail "ov2 does not have the MTU 1400 it asked for: $(dpctl network inspect ov2)"
run dpctl network rm ov2 >/dev/null
ok "an overlay with --mtu 1400 (under the limit) is made with it"

ping_ns_ok "$(cns "$C")" "$POV"
hctl 1 rm -f "$C" >/dev/null || fail "rm $C failed"
H_CTRS[1]=""
run dpctl network rm ov1 >/dev/null
[ "$(dpctl vxlan peer ls --json)" = "[]" ] || fail "network rm left peers: $(dpctl vxlan peer ls)"
ok "network rm ov1 takes its peer with it"
hstop 1
