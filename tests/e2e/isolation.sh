#!/usr/bin/env bash
# isolation: bridge networks are isolated from each other as Docker isolates
# them, a container on two networks reaches both through its own interfaces,
# and an --internal network does not reach the uplink (issue 3). TAP mode: the
# host is on the other side of the uplink.
#
# A is on a user network N1, B on bridge: A and B cannot ping each other and
# `dpctl stats` counts the drops as "isolated". C (bridge) connected to N1 gets
# eth1 and reaches A through it and B through eth0 (nothing routed, nothing
# dropped); disconnected, it no longer reaches A. D and E are on an --internal
# network: they reach each other, get no default route, and even with one
# (added by the test) D cannot reach an address of the host outside its network
# (counted as "internal"); A, on a normal network, reaches the same address.
. "$(dirname "$0")/lib.sh"

need_cmd nsenter

N1=i1$E2E_ID NI=i2$E2E_ID
A=a$E2E_ID B=b$E2E_ID C=c$E2E_ID D=d$E2E_ID E=e$E2E_ID

# An address of the host's, outside every network: a veth pair of the test's
# in the host namespace carries 198.18.X.Y/32 (RFC 2544's benchmark range).
HL=$(ifname h)
HOSTIP=198.18.$((16#${E2E_ID:0:2})).$((16#${E2E_ID:2:2} % 254 + 1))

# drops REASON-PART: the sum of `dpctl stats --json` drop counters whose reason
# contains REASON-PART ("isolat", "internal").
drops() {
	dpctl stats --json | json "sum(v for k, v in d['drops'].items() if '$1' in k)"
}

tap_mode
start_daemon
ip link add "$HL" type veth peer name "${HL}p" || fail "cannot create veth $HL"
E2E_LINKS+=("$HL")
ip addr add "$HOSTIP/32" dev "$HL"
ip link set "$HL" up
ip link set "${HL}p" up

run dpctl network create --subnet 10.92.0.0/24 "$N1" >/dev/null
run dpctl network create --internal --subnet 10.93.0.0/24 "$NI" >/dev/null
ctr_run "$A" --network "$N1" >/dev/null
ctr_run "$B" >/dev/null
ctr_run "$C" >/dev/null
ctr_run "$D" --network "$NI" >/dev/null
ctr_run "$E" --network "$NI" >/dev/null
IPA=$(ctr_ip "$A") IPB=$(ctr_ip "$B") IPC=$(ctr_ip "$C") IPD=$(ctr_ip "$D") IPE=$(ctr_ip "$E")
[[ "$IPA" == 10.92.0.* && "$IPB" == 172.17.* && "$IPD" == 10.93.0.* && "$IPE" == 10.93.0.* ]] ||
	fail "unexpected addresses: A $IPA, B $IPB, D $IPD, E $IPE"
ok "networks $N1 (10.92.0.0/24), $NI (--internal, 10.93.0.0/24); A $IPA, B $IPB, C $IPC, D $IPD, E $IPE"

ping_ns_ok "$(cns "$A")" 10.92.0.1
ping_ns_ok "$(cns "$B")" 172.17.0.1
ok "A and B reach their own gateways"

# ---- a user network and bridge are isolated
i0=$(drops isolat) || fail "no drop counters in 'dpctl stats --json'"
ping_ns_fails "$(cns "$A")" "$IPB"
ping_ns_fails "$(cns "$B")" "$IPA"
i1=$(drops isolat)
[ "$i1" -ge $((i0 + 4)) ] ||
	fail "isolation drops went $i0 -> $i1 for 4 pings between $N1 and bridge: $(dpctl stats --json | json "d['drops']")"
ok "A ($N1) and B (bridge) cannot ping each other; $((i1 - i0)) drops counted as isolated"

# ---- a container on both networks
run dpctl connect "$N1" "$C" >/dev/null
nc=$(cns "$C")
c1=$(ns_ip "$nc" eth1)
[[ "$c1" == 10.92.0.*/24 ]] || fail "after connect $N1 $C: eth1 has '$c1', expected 10.92.0.x/24"
[ "$(ns_ip "$nc" eth0)" = "$IPC/16" ] || fail "after connect: $C's eth0 changed: $(ns_ip "$nc" eth0)"
[ "$(ns_if_mac "$nc" eth1)" = "$(docker_mac "${c1%/*}")" ] || fail "$C's eth1 MAC is not Docker's for ${c1%/*}"
[ "$(ctr_get "$C" "len(c['networks'])")" = 2 ] || fail "ps --json: $C is not on two networks"
[[ "$(ip -n "$nc" route show default)" == "default via 172.17.0.1 dev eth0"* ]] ||
	fail "$C's default route moved: $(ip -n "$nc" route show default)"
[[ "$(ip -n "$nc" route get "$IPA")" == *" dev eth1 "* ]] || fail "$C does not route $IPA via eth1"
[[ "$(ip -n "$nc" route get "$IPB")" == *" dev eth0 "* ]] || fail "$C does not route $IPB via eth0"
ok "connect $N1 $C: eth1 ${c1} (Docker MAC), eth0 and the default route unchanged"

ping_ns_ok "$nc" "$IPA"
ping_ns_ok "$nc" "$IPB"
ping_ns_ok "$(cns "$A")" "${c1%/*}"
ping_ns_ok "$(cns "$B")" "$IPC"
i2=$(drops isolat)
[ "$i2" = "$i1" ] || fail "pings through C's own interfaces were counted as isolation drops ($i1 -> $i2)"
ok "C reaches A through eth1 and B through eth0, and both reach C; nothing dropped"
ping_ns_fails "$(cns "$A")" "$IPB"
ok "A still cannot reach B"

run dpctl disconnect "$N1" "$C" >/dev/null
ip -n "$nc" link show eth1 >/dev/null 2>&1 && fail "disconnect $N1 $C left eth1"
ping_ns_fails "$nc" "$IPA"
ping_ns_ok "$nc" "$IPB"
ok "disconnect $N1 $C: eth1 gone, A unreachable again, B still reached"

# ---- --internal: peers yes, uplink no
nd=$(cns "$D")
[ -z "$(ip -n "$nd" route show default)" ] ||
	fail "$D on an --internal network has a default route: $(ip -n "$nd" route show default)"
ping_ns_ok "$nd" "$IPE"
ping_ns_ok "$(cns "$E")" "$IPD"
ok "D and E (--internal) reach each other; no default route"

ping_ns_ok "$(cns "$A")" "$HOSTIP"
ping_ns_ok "$(cns "$B")" "$HOSTIP"
ok "A ($N1) and B (bridge) reach the host's $HOSTIP through the uplink"

# A routed packet whose TTL runs out at the gateway: ICMP time exceeded from it.
t0=$(drops ttl)
out=$(nsexec "$(cns "$A")" ping -c 1 -t 1 -W 2 "$HOSTIP" 2>&1)
[[ "$out" == *"From 10.92.0.1 "*"Time to live exceeded"* ]] ||
	fail "ping -t 1 from A to $HOSTIP: no 'Time to live exceeded' from 10.92.0.1: $out"
[ "$(drops ttl)" -gt "$t0" ] || fail "the TTL drop was not counted: $(dpctl stats --json | json "d['drops']")"
ok "TTL 1 through the gateway: ICMP time exceeded from 10.92.0.1, counted"

# Even a container that routes out itself stays inside.
ip -n "$nd" route add default via 10.93.0.1 dev eth0 || fail "cannot add a default route in $nd"
n0=$(drops internal)
ping_ns_fails "$nd" "$HOSTIP"
n1=$(drops internal)
[ "$n1" -ge $((n0 + 2)) ] ||
	fail "internal drops went $n0 -> $n1 for 2 pings from $D to the host: $(dpctl stats --json | json "d['drops']")"
ping_ns_ok "$nd" "$IPE"
ok "D (--internal, default route added by hand) cannot reach the host's $HOSTIP ($((n1 - n0)) drops counted as internal)"
# (The host itself may still talk to D from the network's gateway address on
# dpnet0, as Docker's host does through an internal network's bridge: not
# asserted either way.)

for c in "$A" "$B" "$C" "$D" "$E"; do
	run dpctl rm -f "$c" >/dev/null
done
run dpctl network rm "$N1" >/dev/null
run dpctl network rm "$NI" >/dev/null
ok "containers and networks removed"
stop_daemon
