#!/usr/bin/env bash
# barrage: malformed and odd frames into every kind of port (issue 8, item 3).
#
# A scapy script (written below, run with Debian's python) sends, class by
# class, thousands of frames: truncated at every header boundary (Ethernet,
# 802.1Q, QinQ, ARP, IPv4, options, TCP/UDP/ICMP, an ICMP error's quoted
# header), bad IHL and version, IPv4 total length larger and smaller than the
# frame, TCP data offsets and UDP lengths that lie, bad ARP, three VLAN tags,
# bad IPv4 header and L4 checksums, VLAN/QinQ-tagged IP and ARP, IPv6 and
# other EtherTypes to the gateway, multicast/broadcast destinations, IP options
# (valid, bogus, with TTL 1, into a blackhole route), fragments (first,
# middle, last, overlapping) to the uplink address and to a container, ICMP
# errors quoting nothing known, VXLAN-looking UDP/4789 with bad flags and VNI,
# random bytes behind real Ethernet addresses, and 9000-byte frames where the
# sending interface's MTU allows - to the gateway MAC, a container's MAC and
# broadcast: a TAP port's driver drops them (longer than an mbuf: the port's
# rx-errors, which `dpctl port stats` and `dpctl stats` must show), an afpacket
# port's kernel ring cuts them to 2048 bytes (malformed). Ports driven:
#  - a container's veth + afpacket port (scapy on eth0 in its namespace),
#  - a container attached with --attach tap (its TAP is eth0 in its namespace),
#  - a container attached with --attach vtap (the default; a TAP with virtio-net headers),
#  - the TAP-mode uplink dpnet0 (from the host's namespace),
#  - an afpacket NIC uplink (dpnetd restarted with it), from an underlay
#    namespace, as in uplink_nic.sh.
# Per class, `dpctl stats --json` is read before and after: the class's drop
# reason (the one parse.c, bridge.c, arp.c, nat.c or route.c gives it) must
# have risen by at least 90% of the frames sent (85% for truncations: an
# afpacket port's kernel drops tagged frames cut inside their tag). Not
# counted on afpacket ports: fragments to the uplink address, which the
# kernel reassembles for DPDK 22.11's af_packet PMD (PACKET_FANOUT_FLAG_DEFRAG)
# before dpnet sees them. The table of classes, frames
# and drops by reason is printed. Afterwards the daemon is alive and valid
# traffic flows: pings, and TCP through a published port.
. "$(dirname "$0")/lib.sh"

need_cmd ss
allow_log 'WARNING: .*request refused'
"$PY" -c 'import scapy' 2>/dev/null || skip "needs scapy for $PY (python3-scapy)"

A=a$E2E_ID T=t$E2E_ID B=b$E2E_ID V=v$E2E_ID
HOLE_NET=10.99.0.0/16 HOLE=10.99.0.1
BPY=$E2E_SRC/barrage.py
RES=$E2E_TMP/results
mkdir -p "$RES"
nat_peer_write

# gw_mac_of NS GW-IP: the MAC namespace NS resolves its gateway GW-IP to.
gw_mac_of() {
	nsexec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1
	nsexec "$1" ip neigh show "$2" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}

# barrage LABEL NS IFACE key=value...: run barrage.py from namespace NS.
barrage() {
	local label=$1 n=$2 ifc=$3
	shift 3
	nsexec "$n" timeout 120 "$PY" "$BPY" "$RES/$label.json" "$label" "$ifc" \
		dpctl="$DPCTL" sock="$E2E_SOCK" "$@" >"$E2E_TMP/$label.out" 2>&1
	local rc=$?
	cat "$E2E_TMP/$label.out"
	[ $rc -eq 0 ] || fail "barrage from $label failed (status $rc)"
	daemon_alive || fail "dpnetd died during the barrage from $label"
	ok "barrage from $label: $(json "sum(r['sent'] for r in d)" <"$RES/$label.json") frames in $(json "len(d)" <"$RES/$label.json") classes, dpnetd alive"
}

# check_drops LABEL: every class with a drop reason raised it by its fraction.
check_drops() {
	"$PY" - "$RES/$1.json" <<'PYEOF' || fail "$1: drops not counted under their reasons (above)"
import json, sys
bad = 0
for r in json.load(open(sys.argv[1])):
    if not r["expect"] or r["sent"] == 0:
        continue
    got = r["drops"].get(r["expect"], 0)
    if got < r["frac"] * r["sent"]:
        bad += 1
        print("%s %s: %d frames sent, %s rose by %d (want >= %d%%): %s" % (
            r["port"], r["class"], r["sent"], r["expect"], got, r["frac"] * 100, r["drops"]))
sys.exit(1 if bad else 0)
PYEOF
	ok "$1: every class's drops counted under its reason (>= 85-90% of the frames sent)"
}

# ---------------------------------------------------------------- TAP mode
tap_mode
start_daemon
run dpctl route add "$HOLE_NET" blackhole >/dev/null
ctr_start "$A" --attach veth -p 8080:80 -- "$PY" "$NAT_PY" serve-tcp 80
ctr_run "$T" --attach tap >/dev/null
ctr_run "$B" >/dev/null
ctr_run "$V" --attach vtap >/dev/null
wait_listening "$(cns "$A")" tcp 80
AIP=$(ctr_ip "$A") TIP=$(ctr_ip "$T") BIP=$(ctr_ip "$B") VIP=$(ctr_ip "$V")
BMAC=$(ns_if_mac "$(cns "$B")")
GW=172.17.0.1
GWMAC=$(gw_mac_of "$(cns "$A")" "$GW")
[ -n "$GWMAC" ] || fail "container $A did not resolve its gateway $GW"
UPMAC=$(dpctl status --json | json "d['uplink']['gw_mac']")
ping_ns_ok host "$BIP"
ok "TAP mode: containers $A ($AIP, afpacket, -p 8080:80), $T ($TIP, tap), $V ($VIP, vtap), $B ($BIP); gateway MAC $GWMAC, uplink MAC $UPMAC"

valid_traffic() {
	local out
	ping_ns_ok "$(cns "$A")" "$BIP"
	ping_ns_ok "$(cns "$T")" "$GW"
	ping_ns_ok host "$TIP"
	out=$("$PY" "$NAT_PY" tcp "$NAT_UP" 8080 "after-$1") || fail "$1: TCP to the published port $NAT_UP:8080 failed"
	[[ "$out" == *" after-$1" ]] || fail "$1: published port answer: $out"
	ok "$1: valid traffic flows: pings between containers, to the gateway, from the host; TCP through $NAT_UP:8080"
}

COMMON=(gw_ip="$GW" up_ip="$NAT_UP" ctr_mac="$BMAC" ctr_ip="$BIP" route_ip="$BIP" hole_ip="$HOLE" skip=udp-to-uplink-addr)
barrage veth "$(cns "$A")" eth0 defrag=1 src_mac="$(ns_if_mac "$(cns "$A")")" src_ip="$AIP" gw_mac="$GWMAC" "${COMMON[@]}"
# The TAP container's eth0 takes 9000-byte frames (a TAP's MTU is its own).
nsexec "$(cns "$T")" ip link set eth0 mtu 9000 || fail "cannot set $T's eth0 MTU to 9000"
barrage tap "$(cns "$T")" eth0 src_mac="$(ns_if_mac "$(cns "$T")")" src_ip="$TIP" gw_mac="$GWMAC" jumbo=1 \
	jumbo_expect=driver-rx-errors "${COMMON[@]}"
# dpctl names them too: the TAP port's own line and the driver-drop table.
TPORT=$(ctr_get "$T" "c['networks'][0]['port']")
out=$(dpctl port stats "$TPORT")
errs=$(sed -n 's/.*driver drops (before dpnet): rx-errors \([0-9]*\) .*(rx-errors: frames longer than an mbuf, 2048 bytes)$/\1/p' <<<"$out")
[ -n "$errs" ] && [ "$errs" -ge 24 ] ||
	fail "dpctl port stats $TPORT does not show the 24 jumbo frames as driver rx-errors: $out"
dpctl stats | qgrep -E '^rx-errors +[1-9][0-9]*$' || fail "dpctl stats has no driver-drop row rx-errors: $(dpctl stats)"
ok "jumbo frames into a TAP port: driver rx-errors $errs in 'dpctl port stats $TPORT' and in 'dpctl stats'"
nsexec "$(cns "$T")" ip link set eth0 mtu 1500
# A vtap container (the default attachment): frames from a packet socket come
# with a virtio-net header that asks for nothing (drivers/vtap.h).
barrage vtap "$(cns "$V")" eth0 src_mac="$(ns_if_mac "$(cns "$V")")" src_ip="$VIP" gw_mac="$GWMAC" "${COMMON[@]}"
barrage dpnet0 host "$E2E_UPLINK" src_mac="$(cat "/sys/class/net/$E2E_UPLINK/address")" src_ip="$NAT_HOST" \
	gw_mac="$UPMAC" gw_ip="$NAT_UP" up_ip="$NAT_UP" ctr_mac="$BMAC" ctr_ip="$BIP" route_ip="$BIP" \
	hole_ip="$HOLE" skip=udp-to-uplink-addr
for p in veth tap vtap dpnet0; do check_drops "$p"; done
valid_traffic "TAP mode"
stop_daemon TERM

# ---------------------------------------------------------------- NIC uplink
UP_IF=$(ifname u)
UNDER=$(ns u)
EXT=192.0.2.1 ADDR=192.0.2.2
veth_ns u "$UP_IF" "$EXT/24"
ip -n "$UNDER" route add 172.17.0.0/16 via "$ADDR"
E2E_TAPMODE=0
E2E_CONFIG=$E2E_TMP/nic.yaml
cat >"$E2E_CONFIG" <<YEOF
ports:
  - {name: up0, type: afpacket, iface: $UP_IF, role: uplink, address: $ADDR/24, gateway: $EXT}
YEOF
start_daemon
wait_listening "$(cns "$A")" tcp 80
ping_ns_ok "$UNDER" "$ADDR"
# Jumbo frames reach the afpacket port when both ends of the veth take them.
ip link set "$UP_IF" mtu 9000 && nsexec "$UNDER" ip link set eth0 mtu 9000 ||
	fail "cannot set the underlay veth's MTU to 9000"
barrage nic "$UNDER" eth0 defrag=1 src_mac="$(ns_mac u)" src_ip="$EXT" gw_mac="$(cat "/sys/class/net/$UP_IF/address")" \
	gw_ip="$ADDR" up_ip="$ADDR" ctr_mac="$BMAC" ctr_ip="$BIP" route_ip="$BIP" hole_ip="$HOLE" \
	jumbo=1 jumbo_expect=malformed
nsexec "$UNDER" ip link set eth0 mtu 1500
ip link set "$UP_IF" mtu 1500
check_drops nic
ping_ns_ok "$UNDER" "$ADDR"
ping_ns_ok "$UNDER" "$BIP"
ping_ns_ok "$(cns "$A")" "$EXT"
out=$(nsexec "$UNDER" "$PY" "$NAT_PY" tcp "$ADDR" 8080 after-nic) || fail "NIC: TCP to the published port $ADDR:8080 failed"
[[ "$out" == *" after-nic" ]] || fail "NIC: published port answer: $out"
ok "NIC uplink: valid traffic flows: pings from the underlay and out, TCP through $ADDR:8080"

# ---------------------------------------------------------------- the record
"$PY" - "$RES"/*.json <<'PYEOF'
import json, sys
rows = [r for f in sys.argv[1:] for r in json.load(open(f))]
tot, reasons = 0, {}
print("# %-7s %-22s %6s  %s" % ("port", "class", "frames", "drops by reason"))
for r in rows:
    tot += r["sent"]
    for k, v in r["drops"].items():
        reasons[k] = reasons.get(k, 0) + v
    print("# %-7s %-22s %6d  %s" % (r["port"], r["class"], r["sent"],
          " ".join("%s=%d" % kv for kv in sorted(r["drops"].items())) or "-"))
print("# total: %d frames; drops by reason: %s" % (tot, " ".join("%s=%d" % kv for kv in sorted(reasons.items()))))
PYEOF
stop_daemon TERM
