#!/usr/bin/env bash
# restart: state survives dpnetd (issue 3). In the default TAP mode, with
# containers A and B on bridge, T on bridge through a tap attachment (its
# interface dies with the daemon and is made again), C on a user network N and
# A connected to N too:
#   - SIGTERM, start again on the same state dir: `network ls` and `ps` are as
#     before (same ids, addresses, MACs, processes), the namespaces and the
#     containers' processes lived on, and A, B, C, the gateway and the host ping
#     each other again without anything re-run, TCP works, and B still cannot
#     reach C (isolation restored too);
#   - the same after `kill -9`;
#   - B's namespace deleted while the daemon is down: on start B is dropped
#     with a log line, its port is gone, its address is free for the next
#     container, and the others still work.
. "$(dirname "$0")/lib.sh"

need_cmd nsenter socat ss cmp

N=r$E2E_ID A=a$E2E_ID B=b$E2E_ID C=c$E2E_ID D=d$E2E_ID T=t$E2E_ID

# What must be the same after a restart: the networks and the containers as
# dpctl shows them, sorted by name, everything included but the creation time
# of the three built-in networks (made anew at every start, as Docker's
# default bridge is).
snapshot() {
	dpctl network ls --json |
		json "sorted(({k: v for k, v in n.items() if k != 'created' or n['name'] not in ('bridge', 'host', 'none')} for n in d), key=lambda n: n['name'])"
	dpctl ps --json | json "sorted(d, key=lambda c: c['name'])"
}

# traffic [without-B]: the pings that show the containers work.
traffic() {
	local na nb nc
	na=$(cns "$A") nb=$(cns "$B") nc=$(cns "$C")
	ping_ns_ok "$na" 172.17.0.1
	ping_ns_ok "$na" "$IPC"
	ping_ns_ok "$nc" "$IPA1"
	ping_ns_ok host "$IPA"
	ping_ns_ok host "$IPC"
	ping_ns_ok "$(cns "$T")" "$IPA"
	ping_ns_ok host "$IPT"
	tcp_ok "$(cns "$T")" "$na" "$IPA"
	if [ "${1:-}" != without-B ]; then
		ping_ns_ok "$na" "$IPB"
		ping_ns_ok "$nb" "$IPA"
		ping_ns_ok host "$IPB"
		tcp_ok "$na" "$nb" "$IPB"
		ping_ns_fails "$nb" "$IPC"
	fi
}

# alive_while_down: the daemon is gone, the containers' namespaces and
# processes are not.
alive_while_down() {
	local c
	for c in "$A" "$B" "$C" "$T"; do
		[ -e "/run/netns/$(cns "$c")" ] || fail "namespace $(cns "$c") did not outlive the daemon"
		kill -0 "${PID[$c]}" 2>/dev/null || fail "$c's process ${PID[$c]} did not outlive the daemon"
	done
}

tap_mode
start_daemon
run dpctl network create --subnet 10.94.0.0/24 "$N" >/dev/null
ctr_run "$A" >/dev/null
ctr_run "$B" >/dev/null
ctr_run "$C" --network "$N" >/dev/null
ctr_run "$T" --attach tap >/dev/null
run dpctl connect "$N" "$A" >/dev/null
IPA=$(ctr_ip "$A") IPB=$(ctr_ip "$B") IPC=$(ctr_ip "$C") IPT=$(ctr_ip "$T")
IPA1=$(ns_ip "$(cns "$A")" eth1)
IPA1=${IPA1%/*}
[ -n "$IPA1" ] || fail "$A has no eth1 after connect $N"
declare -A PID
for c in "$A" "$B" "$C" "$T"; do
	PID[$c]=$(ctr_get "$c" "c['pid']")
done
traffic
S0=$(snapshot)
ok "before: A $IPA + $IPA1, B $IPB, C $IPC, T $IPT ping each other, the gateway and the host; TCP; B cannot reach C"

# ---- SIGTERM
stop_daemon TERM
alive_while_down
start_daemon
S1=$(snapshot)
if [ "$S1" != "$S0" ]; then
	diff <(printf '%s\n' "$S0") <(printf '%s\n' "$S1") >&2
	fail "after SIGTERM and start: networks or containers differ (diff above)"
fi
for c in "$A" "$B" "$C" "$T"; do
	[ "$(ctr_get "$c" "c['pid']")" = "${PID[$c]}" ] || fail "$c's process changed on restart"
done
traffic
ok "SIGTERM, start: networks, containers and processes as before; pings work again"

# ---- kill -9
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
wait_until 5 uplink_gone || fail "$E2E_UPLINK outlived the killed dpnetd"
alive_while_down
start_daemon
S2=$(snapshot)
if [ "$S2" != "$S0" ]; then
	diff <(printf '%s\n' "$S0") <(printf '%s\n' "$S2") >&2
	fail "after kill -9 and start: networks or containers differ (diff above)"
fi
traffic
ok "kill -9, start: networks, containers and processes as before; pings work again"

# ---- a namespace deleted while the daemon is down
PORTB=$(ctr_get "$B" "c['networks'][0]['port']")
stop_daemon TERM
alive_while_down
kill -KILL "${PID[$B]}"
ip netns del "$(cns "$B")" || fail "cannot delete $(cns "$B")"
LOGLINES=$(wc -l <"$E2E_LOG")
allow_log "$B"   # the line saying B is dropped may be a WARNING
start_daemon
ctr_listed "$B" && fail "$B is still listed although its namespace was deleted"
tail -n +"$((LOGLINES + 1))" "$E2E_LOG" | qgrep "$B" ||
	fail "no log line about $B on start (its namespace was gone)"
log "$(tail -n +"$((LOGLINES + 1))" "$E2E_LOG" | grep "$B")"
dpctl port ls --json | json "port(d, '$PORTB')" >/dev/null 2>&1 && fail "$B's port $PORTB is back"
traffic without-B
ctr_run "$D" >/dev/null
[ "$(ctr_ip "$D")" = "$IPB" ] || fail "the next container got $(ctr_ip "$D"), expected $B's freed $IPB"
ping_ns_ok "$(cns "$D")" "$IPA"
ok "$B's namespace deleted while down: dropped on start (logged), port gone, $IPB free again"

for c in "$A" "$C" "$D" "$T"; do
	run dpctl rm -f "$c" >/dev/null
done
run dpctl network rm "$N" >/dev/null
stop_daemon
