#!/usr/bin/env bash
# uplink_nic: dpnet owning a dedicated NIC (issue 5) - an afpacket uplink with
# dpnet's own address, ARP resolution of the gateway, static routes, and the
# host's exception port.
#
# The picture: an "underlay" namespace holds the external host 192.0.2.1 (also
# the gateway) on a veth whose other end is dpnet's afpacket uplink
# (192.0.2.2/24 via 192.0.2.1), plus a second external subnet 203.0.113.0/24
# behind a second address of it, 192.0.2.3. A "hostsim" namespace stands for
# the host: the host port's TAP goes there (netns:) and gets 192.0.2.2/24 and a
# default route via 192.0.2.1 - never the real host's namespace.
#
# Checked now (control plane):
#  - a config with a route via an unreachable gateway, or an uplink gateway
#    outside its subnet, is refused with FILE:LINE: KEY: why;
#  - the uplink is up, status shows its address and the host port; hostsim's
#    TAP has 192.0.2.2/24 and the default route via 192.0.2.1;
#  - route ls: connected, default, the file's static route; neigh ls: the host
#    port's PERMANENT entry; route add/rm at runtime; refusals (unreachable
#    gateway, an address outside the uplink subnet, a route to nowhere, ...);
#  - the external host pings 192.0.2.2 (hostsim answers, through the host port);
#  - the uplink's interface has GRO, LRO, TSO, GSO and TX checksum offload off;
#  - restart (SIGTERM) and kill -9: routes, the host port and its addresses back.
# Traffic (the data-plane half of dataplane/neigh.h: ARP punted to control,
# frames injected, the exception path):
#  - a container reaches 192.0.2.1 (ping, TCP), seen as 192.0.2.2 (MASQUERADE);
#  - the external host reaches a published port on 192.0.2.2;
#  - the external host reaches a TCP service of hostsim via 192.0.2.2 (the
#    exception path), seen with its own address;
#  - neigh ls shows the gateway 192.0.2.1 (REACHABLE, its MAC);
#  - a route added at runtime (203.0.113.0/24 via 192.0.2.3) takes effect:
#    blackholed first (unreachable), then reached through 192.0.2.3, which
#    neigh ls then shows;
#  - all of it again after the restart and after kill -9.
. "$(dirname "$0")/lib.sh"

need_cmd nsenter ss
allow_log 'WARNING: .*request refused'

UP_IF=$(ifname u)          # the uplink: the host end of the veth into the underlay
HOST_IF=$(ifname h)        # the host port's TAP, in hostsim
UNDER=$(ns u)
HOSTSIM=$(ns h)
C=c$E2E_ID
EXT=192.0.2.1 ADDR=192.0.2.2 EXT2=192.0.2.3 FAR=203.0.113.1
nat_peer_write

veth_ns u "$UP_IF" "$EXT/24"
ip -n "$UNDER" addr add "$EXT2/24" dev eth0
ip -n "$UNDER" addr add "$FAR/24" dev lo   # the far subnet, local to the underlay
make_ns h

# ---------------------------------------------------------------- bad config files
# dpnetd refuses them before touching anything (ring uplinks: no interface used).
bad_config() { # WANT YAML: dpnetd exits non-zero, its error names FILE:LINE: KEY: WANT
	local want=$1 f=$E2E_TMP/bad.yaml out
	printf '%s\n' "$2" >"$f"
	out=$(timeout 60 "$DPNETD" --config "$f" --socket "$E2E_TMP/bad.sock" \
		--state-dir "$E2E_TMP/badstate" -- --no-huge -m 256 --no-pci \
		--file-prefix "$E2E_PREFIX-bad" -l 0,1 2>&1 </dev/null) &&
		fail "dpnetd started with $f: $(cat "$f")"
	grep -q "$f:$want" <<<"$out" || fail "dpnetd's error for $f does not say '$f:$want': $out"
	ok "bad config refused: $(grep -o "$f:.*" <<<"$out" | head -n 1)"
}
RING_UP='ports:
  - name: r0
    type: ring
    role: uplink
    address: 192.0.2.2/24'
bad_config "8: routes\[0\]: gateway 10.9.9.9 is unreachable" "$RING_UP
    gateway: 192.0.2.1
routes:
  - {to: 198.51.100.0/24, via: 10.9.9.9}"
bad_config "2: ports\[0\].gateway: gateway 10.0.0.1 is not inside the uplink's subnet" "$RING_UP
    gateway: 10.0.0.1"
bad_config "7: routes\[0\]: a route to nowhere" "$RING_UP
routes:
  - to: 198.51.100.0/24"

# ---------------------------------------------------------------- the daemon
E2E_CONFIG=$E2E_TMP/nic.yaml
cat >"$E2E_CONFIG" <<EOF
# uplink_nic: an afpacket uplink owning the underlay veth, the host port in hostsim
ports:
  - name: host
    type: tap
    role: host
    iface: $HOST_IF
    netns: $HOSTSIM
  - name: up0
    type: afpacket
    iface: $UP_IF
    role: uplink
    address: $ADDR/24
    gateway: $EXT
routes:
  - {to: 198.51.100.0/24, via: $EXT}
EOF
start_daemon

e2e_snapshot() {
	dpctl port ls --json | json "sorted(p['name'] for p in ports(d))"
	dpctl route ls
	dpctl network ls --json
}

# control-plane state that must hold now and after every restart
check_control() {
	local st out
	st=$(dpctl status --json) || fail "status failed"
	[ "$(json "d['uplink']['address']" <<<"$st")" = "$ADDR" ] || fail "status: uplink address: $st"
	[ "$(json "d['uplink']['host_port']['netns']" <<<"$st")" = "$HOSTSIM" ] ||
		fail "status: no host port in $HOSTSIM: $st"
	[ "$(json "d['uplink']['gw_mac']" <<<"$st")" = "$(cat "/sys/class/net/$UP_IF/address")" ] ||
		fail "status: the uplink's gw_mac is not the NIC's own MAC: $st"
	[ "$(table_cell "$(dpctl port ls)" host NETWORK)" = "(host)" ] || fail "port ls: $(dpctl port ls)"
	[ "$(table_cell "$(dpctl port ls)" up0 NETWORK)" = "(uplink)" ] || fail "port ls: $(dpctl port ls)"
	out=$(ip -n "$HOSTSIM" -4 -o addr show dev "$HOST_IF")
	grep -q " $ADDR/24 " <<<"$out" || fail "hostsim's $HOST_IF lacks $ADDR/24: $out"
	out=$(ip -n "$HOSTSIM" route)
	grep -q "^default via $EXT dev $HOST_IF" <<<"$out" ||
		fail "hostsim has no default route via $EXT: $out"
	out=$(dpctl route ls)
	[ "$(table_cell "$out" default GATEWAY)" = "$EXT" ] || fail "route ls: default: $out"
	[ "$(table_cell "$out" 192.0.2.0/24 TYPE)" = connected ] || fail "route ls: $out"
	[ "$(table_cell "$out" 172.17.0.0/16 NETWORK)" = bridge ] || fail "route ls: $out"
	[ "$(table_cell "$out" 198.51.100.0/24 TYPE)" = static ] || fail "route ls: $out"
	out=$(dpctl neigh ls)
	[ "$(table_cell "$out" "$ADDR" STATE)" = PERMANENT ] || fail "neigh ls: no host entry: $out"
	[ "$(table_cell "$out" "$ADDR" MAC)" = "$(ip netns exec "$HOSTSIM" cat "/sys/class/net/$HOST_IF/address")" ] ||
		fail "neigh ls: the host entry is not the TAP's MAC: $out"
}
check_control
ok "NIC uplink $UP_IF ($ADDR/24 via $EXT, the NIC's MAC), host port in $HOSTSIM with $ADDR/24 and the default route; route ls and neigh ls as expected"

ping_ns_ok "$UNDER" "$ADDR"
ok "the external host $EXT pings $ADDR"

# The afpacket uplink's interface: no GRO/LRO super-frames (the PMD would
# truncate them), no TSO/GSO (control/uplink.c, netns.c eth_offloads_off).
feats=$(ethtool -k "$UP_IF") || fail "ethtool -k $UP_IF failed"
for f in generic-receive-offload large-receive-offload tcp-segmentation-offload \
	generic-segmentation-offload tx-checksumming; do
	v=$(awk -F': ' -v f="$f" '$1 == f { print $2 }' <<<"$feats")
	[[ -z "$v" || "$v" == off* ]] || fail "uplink $UP_IF: $f is '$v', expected off"
done
ok "uplink $UP_IF: GRO, LRO, TSO, GSO and TX checksum offloads off"

# ---------------------------------------------------------------- refusals
refused "gateway on no connected subnet" --says "is unreachable" \
	route add 10.50.0.0/16 via 10.9.9.9
refused "route to nowhere" --says "a route to nowhere" route add 10.50.0.0/16
refused "an uplink address outside its gateway's subnet" --says "is not inside the uplink's subnet" \
	add-port x$E2E_ID --type ring --role uplink --address 192.0.2.5/24 --gateway 10.0.0.1
refused "gateway is dpnet's own address" --says "dpnet's own address" \
	route add 10.50.0.0/16 via "$ADDR"
refused "route inside a connected subnet" --says "inside the connected subnet" \
	route add 192.0.2.128/25 via "$EXT"
refused "bad CIDR" --says "has host bits set" route add 10.50.0.1/16 via "$EXT"
refused "connected route" --says "connected route" route rm 192.0.2.0/24
refused "default route" --says "uplink's gateway" route rm default
refused "route from the config file" --says "config file" route rm 198.51.100.0/24
refused "no such route" --says "no such route" route rm 10.51.0.0/16
refused "second host port" --says "already the host port" add-port y$E2E_ID --type tap --role host
refused "uplink under a static route" --says "remove it first" del-port up0

# ---------------------------------------------------------------- routes at runtime
run dpctl route add "${FAR%.1}.0/24" blackhole >/dev/null
[ "$(table_cell "$(dpctl route ls)" 203.0.113.0/24 TYPE)" = blackhole ] || fail "route ls: $(dpctl route ls)"
refused "route exists" --says "exists" route add 203.0.113.0/24 via "$EXT2"
ok "route add 203.0.113.0/24 blackhole: listed"

WWW_PORT=8080
ctr_start "$C" -p "$WWW_PORT:80" -- "$PY" "$NAT_PY" serve-tcp 80
wait_listening "$(cns "$C")" tcp 80
spawn ip netns exec "$UNDER" "$PY" "$NAT_PY" serve-tcp --bind "$EXT" 7000
spawn ip netns exec "$UNDER" "$PY" "$NAT_PY" serve-tcp --bind "$FAR" 7000
spawn ip netns exec "$HOSTSIM" "$PY" "$NAT_PY" serve-tcp 2222
wait_listening "$UNDER" tcp 7000
wait_listening "$HOSTSIM" tcp 2222

# traffic MODE: through the uplink (ARP resolution) and the host port.
traffic() {
	local out n
	ping_ns_ok "$(cns "$C")" "$EXT"
	out=$(nsexec "$(cns "$C")" "$PY" "$NAT_PY" tcp "$EXT" 7000 "m-$1") ||
		fail "$1: TCP from $C to $EXT:7000 failed"
	[ "$(awk '{print $3}' <<<"$out")" = "$ADDR" ] ||
		fail "$1: $EXT saw the container's connection from $(awk '{print $3}' <<<"$out"), not $ADDR (MASQUERADE): $out"
	ok "$1: container $C reaches $EXT (ping, TCP), seen as $ADDR"
	out=$(nsexec "$UNDER" "$PY" "$NAT_PY" tcp "$ADDR" "$WWW_PORT" "p-$1") ||
		fail "$1: the external host cannot reach the published port $ADDR:$WWW_PORT"
	[ "$(awk '{print $3}' <<<"$out")" = "$EXT" ] || fail "$1: published port answer: $out"
	ok "$1: the external host reaches $C through $ADDR:$WWW_PORT (client seen as $EXT)"
	out=$(nsexec "$UNDER" "$PY" "$NAT_PY" tcp "$ADDR" 2222 "h-$1") ||
		fail "$1: the external host cannot reach hostsim's service on $ADDR:2222 (exception path)"
	[ "$(awk '{print $3}' <<<"$out")" = "$EXT" ] || fail "$1: exception path answer: $out"
	ok "$1: the external host reaches hostsim's TCP service on $ADDR:2222 through the host port"
	n=$(dpctl neigh ls)
	[ "$(table_cell "$n" "$EXT" MAC)" = "$(ns_mac u)" ] || fail "$1: neigh ls does not show $EXT at $(ns_mac u): $n"
	[ "$(table_cell "$n" "$EXT" NETWORK)" = "(uplink)" ] || fail "$1: neigh ls: $n"
	ok "$1: neigh ls shows the gateway $EXT ($(table_cell "$n" "$EXT" STATE))"
}
traffic start

ping_ns_fails "$(cns "$C")" "$FAR"
ok "203.0.113.0/24 blackholed: $C does not reach $FAR"
run dpctl route rm 203.0.113.0/24 >/dev/null
run dpctl route add 203.0.113.0/24 via "$EXT2" >/dev/null
[ "$(table_cell "$(dpctl route ls)" 203.0.113.0/24 GATEWAY)" = "$EXT2" ] || fail "route ls: $(dpctl route ls)"
ok "route rm / route add 203.0.113.0/24 via $EXT2 at runtime"
far() {
	local out n
	ping_ns_ok "$(cns "$C")" "$FAR"
	out=$(nsexec "$(cns "$C")" "$PY" "$NAT_PY" tcp "$FAR" 7000 "f-$1") ||
		fail "$1: TCP from $C to $FAR:7000 failed"
	n=$(dpctl neigh ls)
	table_cell "$n" "$EXT2" MAC >/dev/null || fail "$1: neigh ls lacks the next hop $EXT2 of 203.0.113.0/24: $n"
	ok "$1: $C reaches $FAR (ping, TCP) via the static route's next hop $EXT2 (in neigh ls)"
}
far start

# ---------------------------------------------------------------- restart, kill -9
stop_daemon TERM
start_daemon
check_control
[ "$(table_cell "$(dpctl route ls)" 203.0.113.0/24 GATEWAY)" = "$EXT2" ] ||
	fail "after the restart, route ls lacks 203.0.113.0/24 via $EXT2: $(dpctl route ls)"
ok "restart: the uplink, the host port (address, default route) and the routes are back"
ping_ns_ok "$UNDER" "$ADDR"
traffic restart
far restart

kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
ok "dpnetd killed with SIGKILL"
rm -f "$E2E_SOCK"
wait_until 10 sh -c "! ip netns exec '$HOSTSIM' ip link show '$HOST_IF'" ||
	fail "the host port's TAP outlived the daemon"
start_daemon
check_control
[ "$(table_cell "$(dpctl route ls)" 203.0.113.0/24 GATEWAY)" = "$EXT2" ] ||
	fail "after kill -9, route ls lacks 203.0.113.0/24 via $EXT2: $(dpctl route ls)"
ok "kill -9 and restart: the uplink, the host port and the routes are back"
traffic "kill -9"
far "kill -9"

run dpctl route rm 203.0.113.0/24 >/dev/null
stop_daemon TERM
