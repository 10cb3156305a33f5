#!/usr/bin/env bash
# static_neigh: `dpctl neigh add | rm` - static (PERMANENT) neighbours on the
# uplink's network and on a bridge network (control/neigh.h).
#
# The picture: an "underlay" namespace holds the gateway 192.0.2.1 on a veth
# whose other end is dpnet's afpacket uplink (192.0.2.2/24 via 192.0.2.1), and
# that link does no ARP at all (`ip link set eth0 arp off` in the underlay, a
# static entry for dpnet there): a link with static ARP on both ends. A "vm"
# namespace sits on a port of its own in the bridge network vmnet with a fixed
# address outside the network's --ip-range, 10.77.0.5, default route via the
# gateway 10.77.0.1.
#
# Checked:
#  - before: a container cannot reach 192.0.2.1 (ARP unanswered: the gateway
#    is INCOMPLETE/FAILED in neigh ls);
#  - neigh add 192.0.2.1 MAC: the container reaches it (ping, TCP, seen as
#    192.0.2.2); neigh ls shows it PERMANENT with that MAC;
#  - a forged gratuitous ARP for 192.0.2.1 with another MAC changes nothing;
#  - the vm's pings to 192.0.2.1 go out but the replies cannot come back (no
#    neighbour for 10.77.0.5 in vmnet: counted no-neighbour); after neigh add
#    10.77.0.5 MAC --network vmnet they do;
#  - refusals, each one line and nothing changed: dpnet's own addresses, a
#    container's address, a multicast MAC, not an address, no connected subnet,
#    a duplicate, the network address, an unknown network, rm of nothing, the
#    uplink and vmnet cannot go while their static neighbours are there, and a
#    container cannot take 10.77.0.5;
#  - restart and kill -9: both static neighbours back (PERMANENT, same MAC) and
#    the traffic flows again; neigh rm: gone, and saved so.
. "$(dirname "$0")/lib.sh"

need_cmd ethtool
allow_log 'WARNING: .*request refused'

UP_IF=$(ifname u)
VM_IF=$(ifname v)
UNDER=$(ns u)
VM=$(ns v)
C=c$E2E_ID
EXT=192.0.2.1 ADDR=192.0.2.2
VMIP=10.77.0.5
nat_peer_write

veth_ns u "$UP_IF" "$EXT/24"
veth_ns v "$VM_IF" "$VMIP/24"
ip -n "$VM" route add default via 10.77.0.1

E2E_CONFIG=$E2E_TMP/neigh.yaml
cat >"$E2E_CONFIG" <<EOF
# static_neigh: an afpacket uplink on a link without ARP
ports:
  - name: up0
    type: afpacket
    iface: $UP_IF
    role: uplink
    address: $ADDR/24
    gateway: $EXT
EOF
start_daemon

# The underlay: no ARP on its link; it knows dpnet's MAC statically.
UP_MAC=$(cat "/sys/class/net/$UP_IF/address")
EXT_MAC=$(ns_mac u)
VM_MAC=$(ns_mac v)
ip -n "$UNDER" link set eth0 arp off
ip -n "$UNDER" neigh replace "$ADDR" lladdr "$UP_MAC" dev eth0 nud permanent
spawn ip netns exec "$UNDER" "$PY" "$NAT_PY" serve-tcp --bind "$EXT" 7000
wait_listening "$UNDER" tcp 7000

run dpctl network create --subnet 10.77.0.0/24 --ip-range 10.77.0.128/25 vmnet >/dev/null
run dpctl add-port vm --type afpacket --iface "$VM_IF" --network vmnet >/dev/null
ctr_start "$C" -- sleep 600

# ---------------------------------------------------------------- before
ping_ns_fails "$(cns "$C")" "$EXT"
st=$(table_cell "$(dpctl neigh ls)" "$EXT" STATE) || fail "neigh ls has no $EXT: $(dpctl neigh ls)"
[ "$st" = INCOMPLETE ] || [ "$st" = FAILED ] || fail "neigh ls: $EXT is $st, expected INCOMPLETE or FAILED"
ok "without ARP on the link, $C does not reach $EXT ($st in neigh ls)"

# ---------------------------------------------------------------- refusals
e2e_snapshot() {
	dpctl neigh ls
	dpctl network ls --json
	dpctl port ls --json | json "sorted(p['name'] for p in ports(d))"
}
refused "dpnet's own uplink address" --says "dpnet's own address" neigh add "$ADDR" 02:00:00:00:00:01
refused "a gateway address" --says "dpnet's own address" neigh add 10.77.0.1 02:00:00:00:00:01 --network vmnet
CIP=$(ctr_ip "$C")
refused "an address in a network's container range" --says "container range" neigh add "$CIP" 02:00:00:00:00:01
ctr_start v$E2E_ID --network vmnet --ip 10.77.0.6 -- sleep 600
refused "a container's address" --says "container v$E2E_ID's address" neigh add 10.77.0.6 02:00:00:00:00:01 --network vmnet
refused "a multicast MAC" --says "invalid MAC" neigh add 192.0.2.9 01:00:5e:00:00:01
refused "a zero MAC" --says "invalid MAC" neigh add 192.0.2.9 00:00:00:00:00:00
refused "not an address" --says "invalid neighbour address" neigh add 192.0.2.300 02:00:00:00:00:01
refused "multicast address" --says "invalid neighbour address" neigh add 224.0.0.5 02:00:00:00:00:01
refused "no connected subnet" --says "no connected subnet" neigh add 198.51.100.7 02:00:00:00:00:01
refused "outside the named network" --says "not in network vmnet" neigh add 192.0.2.9 02:00:00:00:00:01 --network vmnet
refused "the network address" --says "network or broadcast" neigh add 10.77.0.0 02:00:00:00:00:01 --network vmnet
refused "the broadcast address" --says "network or broadcast" neigh add 10.77.0.255 02:00:00:00:00:01
refused "an unknown network" --says "no network" neigh add 10.77.0.9 02:00:00:00:00:01 --network nosuch$E2E_ID
refused "host network" --says "no subnet of its own" neigh add 10.77.0.9 02:00:00:00:00:01 --network host
refused "rm of nothing" --says "no neighbour" neigh rm 192.0.2.77
refused "rm of a container's" --says "goes with its container" neigh rm "$CIP"
refused "neigh add without a MAC" --says "MAC" neigh add 192.0.2.9
refused "neigh add with an extra word" --says "unexpected argument" neigh add 192.0.2.9 02:00:00:00:00:01 x

# ---------------------------------------------------------------- the gateway, static
run dpctl neigh add "$EXT" lladdr "$EXT_MAC" >/dev/null
n=$(dpctl neigh ls)
[ "$(table_cell "$n" "$EXT" STATE)" = PERMANENT ] || fail "neigh ls: $EXT not PERMANENT: $n"
[ "$(table_cell "$n" "$EXT" MAC)" = "$EXT_MAC" ] || fail "neigh ls: $EXT not at $EXT_MAC: $n"
[ "$(table_cell "$n" "$EXT" NETWORK)" = "(uplink)" ] || fail "neigh ls: $n"
refused "a duplicate" --says "static neighbour already" neigh add "$EXT" 02:00:00:00:00:01
refused "the uplink under a static neighbour" --says "remove it first" del-port up0

traffic() { # WHEN
	local out
	ping_ns_ok "$(cns "$C")" "$EXT"
	out=$(nsexec "$(cns "$C")" "$PY" "$NAT_PY" tcp "$EXT" 7000 "m-$1") ||
		fail "$1: TCP from $C to $EXT:7000 failed"
	[ "$(awk '{print $3}' <<<"$out")" = "$ADDR" ] || fail "$1: $EXT saw $out, expected $ADDR"
	ok "$1: $C reaches $EXT through its static neighbour entry (ping, TCP, seen as $ADDR)"
}
traffic "neigh add"

# ARP cannot change a static entry (a forged gratuitous ARP, sent as a reply
# for the gateway's own address, which would update a learned entry).
rx_before=$(port_counter up0 rx)
in_ns u "$PY" - "$EXT" <<'PYEOF' || fail "cannot send the forged ARP"
import sys
from scapy.all import ARP, Ether, sendp
ip = sys.argv[1]
bad = "02:de:ad:be:ef:01"
sendp(Ether(src=bad, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=bad, psrc=ip, hwdst="ff:ff:ff:ff:ff:ff", pdst=ip),
      iface="eth0", count=3, verbose=False)
PYEOF
up0_rx_reached() { [ "$(port_counter up0 rx)" -ge "$1" ]; }
wait_until 5 up0_rx_reached $((rx_before + 3)) ||
	fail "the forged ARP frames did not reach up0 (rx $rx_before -> $(port_counter up0 rx))"
sleep 0.3 # punted ARP is handled on control's 10 ms timer
[ "$(table_cell "$(dpctl neigh ls)" "$EXT" MAC)" = "$EXT_MAC" ] ||
	fail "a gratuitous ARP changed the static entry: $(dpctl neigh ls)"
traffic "forged ARP"

# ---------------------------------------------------------------- a VM in a bridge network
drops_before=$(dpctl stats --json | json "d['drops']['no-neighbour']")
ping_fails v "$EXT"
drops_after=$(dpctl stats --json | json "d['drops']['no-neighbour']")
[ "$drops_after" -gt "$drops_before" ] ||
	fail "the vm's replies were not counted no-neighbour ($drops_before -> $drops_after)"
ok "without a neighbour entry for $VMIP, the replies to the vm cannot be routed back (no-neighbour $drops_before -> $drops_after)"
run dpctl neigh add "$VMIP" "$VM_MAC" --network vmnet >/dev/null
[ "$(table_cell "$(dpctl neigh ls)" "$VMIP" NETWORK)" = vmnet ] || fail "neigh ls: $(dpctl neigh ls)"
ping_ok v "$EXT"
ok "neigh add $VMIP --network vmnet: the vm reaches $EXT"
refused "a container taking a static neighbour's address" --says "static neighbour" \
	run -d --name x$E2E_ID --network vmnet --ip "$VMIP" -- sleep 1
[ "$(dpctl ps --json | json "any(c.get('name') == 'x$E2E_ID' for c in d)")" = False ] ||
	fail "the refused container exists"

# ---------------------------------------------------------------- restart, kill -9
check_static() { # WHEN
	local n
	n=$(dpctl neigh ls)
	[ "$(table_cell "$n" "$EXT" STATE)" = PERMANENT ] && [ "$(table_cell "$n" "$EXT" MAC)" = "$EXT_MAC" ] ||
		fail "$1: $EXT not back as PERMANENT at $EXT_MAC: $n"
	[ "$(table_cell "$n" "$VMIP" STATE)" = PERMANENT ] && [ "$(table_cell "$n" "$VMIP" MAC)" = "$VM_MAC" ] ||
		fail "$1: $VMIP not back as PERMANENT at $VM_MAC: $n"
	ok "$1: both static neighbours are back"
	traffic "$1"
	ping_ok v "$EXT"
}
stop_daemon TERM
start_daemon
check_static restart
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
rm -f "$E2E_SOCK"
start_daemon
check_static "kill -9"

# ---------------------------------------------------------------- rm
run dpctl del-port vm >/dev/null
run dpctl rm -f "v$E2E_ID" >/dev/null
refused "vmnet under a static neighbour" --says "remove it first" network rm vmnet
run dpctl neigh rm "$VMIP" --network vmnet >/dev/null
run dpctl network rm vmnet >/dev/null
run dpctl neigh rm "$EXT" >/dev/null
table_cell "$(dpctl neigh ls)" "$EXT" STATE >/dev/null 2>&1 &&
	[ "$(table_cell "$(dpctl neigh ls)" "$EXT" STATE)" = PERMANENT ] &&
	fail "neigh rm: $EXT still PERMANENT: $(dpctl neigh ls)"
stop_daemon TERM
start_daemon
n=$(dpctl neigh ls)
if st=$(table_cell "$n" "$EXT" STATE 2>/dev/null); then
	[ "$st" != PERMANENT ] || fail "after neigh rm and a restart, $EXT is PERMANENT again: $n"
fi
ping_ns_fails "$(cns "$C")" "$EXT"
ok "neigh rm: gone, saved so (not back after a restart; $C cannot reach $EXT again)"
stop_daemon TERM
