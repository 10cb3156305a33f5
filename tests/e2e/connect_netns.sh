#!/usr/bin/env bash
# connect_netns: namespaces made by another runtime join a dpnet network with
# `dpctl connect --netns PATH NETWORK NAME` (issue 3).
#
# X is a namespace the test makes with `ip netns add`, U the namespace of an
# `unshare -n sleep` process (/proc/PID/ns/net). Each gets eth0 with an address
# of bridge, Docker's MAC and the default route, shows in `dpctl ps`, and pings
# the dpnet container A and the gateway (and A pings them). `disconnect`
# removes the interface and frees the address; `rm` forgets the record but
# never deletes a namespace dpnet did not make. Bad paths and name clashes are
# refused. No uplink (conf/no-ports.yaml): nothing here touches the host.
. "$(dirname "$0")/lib.sh"

need_cmd nsenter unshare
allow_log 'WARNING: .*request refused'

A=a$E2E_ID X=x$E2E_ID U=u$E2E_ID F=f$E2E_ID
track_ctr "$X" "$U" "$F"

start_daemon
ctr_run "$A" >/dev/null
IPA=$(ctr_ip "$A")

# ---- a namespace made with ip netns add
make_ns x
NSX=$(ns x)
run dpctl connect --netns "/run/netns/$NSX" bridge "$X" >/dev/null
cidr=$(ns_ip "$NSX")
[[ "$cidr" == 172.17.*/16 ]] || fail "$NSX: eth0 has '$cidr' after connect, expected 172.17.x.y/16"
IPX=${cidr%/*}
[ "$(ctr_ip "$X")" = "$IPX" ] || fail "ps --json shows $X at $(ctr_ip "$X"), eth0 has $IPX"
[ "$(ns_if_mac "$NSX")" = "$(docker_mac "$IPX")" ] || fail "$NSX: eth0 MAC is not Docker's for $IPX"
[[ "$(ip -n "$NSX" route show default)" == "default via 172.17.0.1 dev eth0"* ]] ||
	fail "$NSX: no default route via 172.17.0.1: $(ip -n "$NSX" route show default)"
[ "$(table_cell "$(dpctl ps)" "$X" IP)" = "$IPX" ] || fail "'dpctl ps' does not show $X at $IPX"
ping_ns_ok "$NSX" "$IPA"
ping_ns_ok "$NSX" 172.17.0.1
ping_ns_ok "$(cns "$A")" "$IPX"
ok "connect --netns /run/netns/$NSX bridge $X: eth0 $IPX, pings $A ($IPA) and the gateway"

# No uplink here: anything outside the networks has no route; the gateway says
# so (ICMP destination unreachable) and counts it. (198.18.0.1 never leaves dpnet.)
r0=$(dpctl stats --json | json "d['drops']['no-route']")
out=$(nsexec "$NSX" ping -c 1 -W 2 198.18.0.1 2>&1)
[[ "$out" == *"From 172.17.0.1 "*"Unreachable"* ]] ||
	fail "ping to 198.18.0.1 without an uplink: no 'Unreachable' from 172.17.0.1: $out"
[ "$(dpctl stats --json | json "d['drops']['no-route']")" -gt "$r0" ] || fail "no-route drop not counted"
ok "no uplink: ICMP unreachable from the gateway for 198.18.0.1, counted as no-route"

# ---- the namespace of an unshare'd process
spawn unshare -n sleep 600
UPID=$!
NSU=/proc/$UPID/ns/net
wait_until 5 sh -c "[ \"\$(readlink $NSU)\" != \"\$(readlink /proc/self/ns/net)\" ]" ||
	fail "unshare -n (pid $UPID) has no namespace of its own"
nsexec "$NSU" ip link set lo up
nsexec "$NSU" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
run dpctl connect --netns "$NSU" bridge "$U" >/dev/null
cidr=$(ns_ip "$NSU")
[[ "$cidr" == 172.17.*/16 ]] || fail "unshare'd namespace: eth0 has '$cidr' after connect"
IPU=${cidr%/*}
[ "$IPU" != "$IPX" ] && [ "$IPU" != "$IPA" ] || fail "$U got an address already in use: $IPU"
[ "$(ctr_ip "$U")" = "$IPU" ] || fail "ps --json shows $U at $(ctr_ip "$U"), eth0 has $IPU"
ping_ns_ok "$NSU" "$IPA"
ping_ns_ok "$NSU" "$IPX"
ping_ns_ok "$(cns "$A")" "$IPU"
ok "connect --netns $NSU bridge $U: eth0 $IPU, pings $A and $X"

# ---- refusals
refused "--netns not a namespace"    connect --netns "$E2E_TMP" bridge "$F"
refused "--netns missing"            connect --netns "/run/netns/nosuch$E2E_ID" bridge "$F"
refused "--netns of another name"    connect --netns "/run/netns/$NSX" bridge "$A"
refused "--netns of the host itself" --says "is the host's own namespace" \
	connect --netns "/proc/$$/ns/net" bridge "$F"
# A FIFO must be refused at once: opening it for reading would block the daemon.
mkfifo "$E2E_TMP/fifo"
refused "--netns of a FIFO" --says "is not a network namespace" \
	connect --netns "$E2E_TMP/fifo" bridge "$F"
refused "unknown network"            connect --netns "$NSU" "nosuch$E2E_ID" "$F"
refused "connected twice"            connect bridge "$X"
refused "disconnect unknown container" disconnect bridge "nosuch$E2E_ID"

# ---- disconnect
run dpctl disconnect bridge "$X" >/dev/null
ip -n "$NSX" link show eth0 >/dev/null 2>&1 && fail "disconnect bridge $X left eth0 in $NSX"
[ -z "$(ns_ip "$NSX")" ] || fail "disconnect left an address in $NSX"
[ -e "/run/netns/$NSX" ] || fail "disconnect deleted the namespace $NSX, which dpnet did not make"
ping_ns_fails "$(cns "$A")" "$IPX"
refused "disconnect not connected" disconnect bridge "$X"
ok "disconnect bridge $X: eth0 gone from $NSX, the namespace kept"

run dpctl rm -f "$U" >/dev/null
ctr_listed "$U" && fail "$U still listed after rm -f"
kill -0 "$UPID" 2>/dev/null || fail "rm -f $U killed pid $UPID, a process dpnet did not start"
nsexec "$NSU" ip link show eth0 >/dev/null 2>&1 && fail "rm -f $U left eth0 in the namespace of pid $UPID"
ok "rm -f $U: record and interface gone, the namespace's own process untouched"

# The addresses are free again: a connect gets the lowest, as a run would.
run dpctl connect --netns "/run/netns/$NSX" bridge "$F" >/dev/null
got=$(ctr_ip "$F")
[ "$got" = "$IPX" ] || fail "the next connect got $got, expected the freed $IPX"
ping_ns_ok "$NSX" "$IPA"
run dpctl rm -f "$F" >/dev/null
ctr_listed "$X" && { run dpctl rm -f "$X" >/dev/null; }
[ -e "/run/netns/$NSX" ] || fail "rm deleted the namespace $NSX, which dpnet did not make"
ok "the freed address is given again; rm keeps namespaces dpnet did not make"

run dpctl rm -f "$A" >/dev/null
stop_daemon
