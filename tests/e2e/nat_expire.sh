#!/usr/bin/env bash
# nat_expire: conntrack entries expire after their configured timeouts (issue 4).
#
# dpnetd runs TAP mode from conf/nat-short-timeouts.yaml (udp 2 s, udp_stream
# 3 s, tcp_time_wait 2 s, icmp 2 s; everything else Linux's defaults). With
# real traffic through published ports and MASQUERADE:
#  - a UDP datagram nobody answers: its entry is listed at once with at most
#    2 s left, still there after 1 s, gone within a bounded wait;
#  - an answered UDP exchange (udp_stream, 3 s), a closed TCP connection
#    (TIME_WAIT, 2 s) and a ping of the host (icmp, 2 s) go the same way;
#  - an idle ESTABLISHED connection (Linux's 5 days) outlives them all and
#    still carries data; `conntrack stats` counted the expiries;
#  - `conntrack flush` empties the table and new connections work after it.
. "$(dirname "$0")/lib.sh"

need_cmd ss nsenter
allow_log 'WARNING: .*request refused'

CONF=$(cd "$E2E_SRC/../../conf" && pwd)/nat-short-timeouts.yaml
[ -f "$CONF" ] || fail "no $CONF"
ECHO=e$E2E_ID SINK=s$E2E_ID TCPC=t$E2E_ID

tap_mode
start_daemon --config "$CONF"
nat_peer_write
dpctl status | qgrep -w "$NAT_UP" || fail "dpctl status does not show the uplink address $NAT_UP"
to=$(dpctl conntrack stats --json | json "' '.join('%s=%s' % (k, d['timeouts'][k]) for k in ('udp', 'udp_stream', 'tcp_time_wait', 'icmp', 'tcp_established'))")
[ "$to" = "udp=2 udp_stream=3 tcp_time_wait=2 icmp=2 tcp_established=432000" ] ||
	fail "conntrack stats --json shows the timeouts $to, not those of $CONF (and Linux's 432000 for tcp_established)"
ok "conntrack stats shows the configured timeouts: $to"

ctr_start "$ECHO" -p 5353:53/udp -- "$PY" "$NAT_PY" serve-udp 53
ctr_start "$SINK" -p 5354:53/udp -- "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 53))
while True:
    s.recv(4096)'
ctr_start "$TCPC" -p 8090:80 -- "$PY" "$NAT_PY" serve-tcp 80
wait_listening "$(cns "$ECHO")" udp 53
wait_listening "$(cns "$SINK")" udp 53
wait_listening "$(cns "$TCPC")" tcp 80
TCPIP=$(ctr_ip "$TCPC")

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# expires WHAT LIMIT FIND-ARGS...: the entry `ct_find FIND-ARGS` shows is
# listed now with at most LIMIT seconds left (conntrack -L's third field), is
# still there 1 s later (if that check comes before LIMIT - 0.3 s), and is gone
# within LIMIT + 8 s (expiry runs in slices on the control thread).
expires() {
	local what=$1 limit=$2 t0 line left i gone=0
	shift 2
	t0=$(now)
	line=$(ct_find "$@") || fail "$what: no entry in conntrack ls right after the traffic:
$(dpctl conntrack ls)"
	left=$(awk '{print $3}' <<<"$line")
	[[ "$left" =~ ^[0-9]+$ ]] && [ "$left" -le "$limit" ] ||
		fail "$what: the entry has '$left' seconds left, expected at most $limit: $line"
	sleep 1
	if awk -v t="$(since "$t0")" -v l="$limit" 'BEGIN { exit !(t < l - 0.3) }'; then
		ct_find "$@" >/dev/null ||
			fail "$what: the entry was gone after 1 s, before its timeout of $limit s"
	else
		log "$what: the 1 s check came late ($(since "$t0") s): not judged"
	fi
	for i in $(seq 1 $(((limit + 8) * 5))); do
		ct_find "$@" >/dev/null || { gone=1; break; }
		sleep 0.2
	done
	[ $gone = 1 ] || fail "$what: the entry is still listed $((limit + 8)) s later: $(ct_find "$@")"
	ok "$what: listed with $left s left, gone $(since "$t0") s later (timeout $limit s)"
}

# An ESTABLISHED connection that stays idle through everything below.
spawn "$PY" "$NAT_PY" hold "$NAT_UP" 8090 "$E2E_TMP/hold.ready" "$E2E_TMP/hold.go" >"$E2E_TMP/hold.out" 2>&1
HOLDPID=$!
wait_until 10 test -f "$E2E_TMP/hold.ready" || fail "the held connection to $NAT_UP:8090 did not come up: $(cat "$E2E_TMP/hold.out")"
HP=$(cat "$E2E_TMP/hold.ready")
HOLD=(tcp "$NAT_HOST" "$NAT_UP" "$HP" 8090 "$TCPIP" "$NAT_HOST" 80 "$HP")
ct_find "${HOLD[@]}" | qgrep ESTABLISHED || fail "the held connection is not listed ESTABLISHED: $(dpctl conntrack ls)"
HOLD_T0=$(now)
expired0=$(ct_stat expired)

# ---------------------------------------------------------------- UDP, unanswered (udp: 2)
"$PY" - "$NAT_UP" <<'PYEOF' >"$E2E_TMP/sink.port" || fail "cannot send to the sink"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))
s.sendto(b"nobody answers", (sys.argv[1], 5354))
print(s.getsockname()[1])
PYEOF
SPT=$(cat "$E2E_TMP/sink.port")
expires "UDP never answered (udp: 2)" 2 udp "$NAT_HOST" "$NAT_UP" "$SPT" 5354

# ---------------------------------------------------------------- UDP, answered (udp_stream: 3)
out=$("$PY" "$NAT_PY" udp "$NAT_UP" 5353 stream) || fail "UDP to $NAT_UP:5353 got no answer"
read -r _ lport fip fport _ <<<"$out"
[ "$fip:$fport" = "$NAT_UP:5353" ] || fail "UDP answer from $fip:$fport: $out"
expires "UDP answered (udp_stream: 3)" 3 udp "$NAT_HOST" "$NAT_UP" "$lport" 5353

# ---------------------------------------------------------------- TCP closed (tcp_time_wait: 2)
out=$("$PY" "$NAT_PY" tcp "$NAT_UP" 8090 bye) || fail "TCP to $NAT_UP:8090 failed"
read -r _ lport _ <<<"$out"
TW=(tcp "$NAT_HOST" "$NAT_UP" "$lport" 8090 "$TCPIP" "$NAT_HOST" 80 "$lport")
for i in $(seq 1 15); do ct_find "${TW[@]}" | qgrep TIME_WAIT && break; sleep 0.2; done
ct_find "${TW[@]}" | qgrep TIME_WAIT ||
	fail "the closed connection did not reach TIME_WAIT: $(ct_find "${TW[@]}")"
expires "TCP closed by both sides (tcp_time_wait: 2)" 2 "${TW[@]}"

# ---------------------------------------------------------------- ICMP (icmp: 2)
nsexec "$(cns "$ECHO")" ping -c 1 -W 2 "$NAT_HOST" >/dev/null || fail "$ECHO cannot ping $NAT_HOST"
expires "ping of the host, MASQUERADE (icmp: 2)" 2 icmp "$(ctr_ip "$ECHO")" "$NAT_HOST" - -

# ---------------------------------------------------------------- the idle established one
line=$(ct_find "${HOLD[@]}") || fail "the idle ESTABLISHED connection expired after $(since "$HOLD_T0") s"
grep -q ESTABLISHED <<<"$line" || fail "the idle connection is no longer ESTABLISHED: $line"
touch "$E2E_TMP/hold.go"
wait "$HOLDPID" || fail "the idle connection no longer carries data: $(cat "$E2E_TMP/hold.out")"
ok "an idle ESTABLISHED connection outlived the short timeouts ($(since "$HOLD_T0") s) and still works"
expired1=$(ct_stat expired)
[ $((expired1 - expired0)) -ge 4 ] || fail "conntrack stats: expired went $expired0 -> $expired1, 4 entries expired"
ok "conntrack stats: expired $expired0 -> $expired1"

# ---------------------------------------------------------------- flush
"$PY" "$NAT_PY" udp "$NAT_UP" 5353 before-flush >/dev/null || fail "UDP to 5353 failed"
[ "$(ct_count)" -gt 0 ] || fail "conntrack ls is empty with a fresh UDP exchange"
run dpctl conntrack flush >/dev/null
[ "$(ct_count)" = 0 ] || fail "conntrack flush left entries: $(dpctl conntrack ls)"
out=$("$PY" "$NAT_PY" udp "$NAT_UP" 5353 after-flush) || fail "UDP to 5353 failed after the flush"
[ "${out##* }" = after-flush ] || fail "UDP after the flush answered '$out'"
ok "conntrack flush empties the table; new connections work after it"

for c in "$ECHO" "$SINK" "$TCPC"; do run dpctl rm -f "$c" >/dev/null; done
stop_daemon TERM
