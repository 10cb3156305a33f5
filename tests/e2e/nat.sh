#!/usr/bin/env bash
# nat: published ports, MASQUERADE and hairpin in the default TAP mode (issue 4).
#
# The host reaches containers' published ports on dpnet's uplink address
# 169.254.17.2 (the host's side of dpnet0 is 169.254.17.1), with real traffic:
#  - `run -p 8080:80 -- python3 -m http.server 80`: curl from the host gets the
#    page, and the server sees the host's own address (DNAT keeps the source);
#  - 200 connections open at once through the DNAT all work (200 entries);
#  - a UDP publish (-p 5353:53/udp) answers from the published address;
#  - a lone TCP ACK (ct-invalid) and fragments (nat-fragment) to published
#    ports are dropped and counted;
#  - -P --expose 80 picks an ephemeral port that `dpctl port` shows and that works;
#    a range -p 9000-9001:80-81 maps each port;
#  - a second -p 8080 is refused with Docker's message and changes nothing;
#  - a container reaching a server of the host on 169.254.17.1 (TCP, UDP, ping)
#    is seen with the source 169.254.17.2, its source port kept (MASQUERADE),
#    and a second container using the same source port gets another one;
#  - hairpin: a container fetching 169.254.17.2:8080 (or its gateway's :8080)
#    gets its own page, with the source 172.17.0.1; a sibling and a container
#    of another network reach it too;
#  - -p 127.0.0.1:8081:80 never answers from the network, while 8082 of the
#    same container does;
#  - `nat ls` DNAT and MASQUERADE counters rise by one per connection;
#    `conntrack ls` shows a held connection with both tuples;
#  - kill -9 and restart: the published ports work again; rm frees them.
. "$(dirname "$0")/lib.sh"

need_cmd curl ss nsenter
allow_log 'WARNING: .*request refused'

WEB=w$E2E_ID ECHO=e$E2E_ID UDPC=u$E2E_ID PUB=p$E2E_ID LOC=l$E2E_ID OTH=o$E2E_ID
F=f$E2E_ID NET=n$E2E_ID
track_ctr "$F"   # refused runs use this name: cleaned up if one is not refused

tap_mode
start_daemon
nat_peer_write

# ---------------------------------------------------------------- the uplink
ip -4 -o addr show dev "$E2E_UPLINK" | qgrep " $NAT_HOST/30 " ||
	fail "$E2E_UPLINK lacks $NAT_HOST/30: $(ip -4 -o addr show dev "$E2E_UPLINK")"
dpctl status | qgrep -w "$NAT_UP" || fail "dpctl status does not show the uplink address $NAT_UP:
$(dpctl status)"
ok "TAP mode: $E2E_UPLINK has $NAT_HOST/30, dpctl status shows the uplink address $NAT_UP"

# ---------------------------------------------------------------- 1. -p 8080:80, http.server
WWW=$E2E_TMP/www
mkdir -p "$WWW"
TOKEN="dpnet-nat-$E2E_ID-$RANDOM$RANDOM"
echo "$TOKEN" >"$WWW/index.html"
ctr_start "$WEB" -p 8080:80 -- "$PY" -m http.server 80 --directory "$WWW"
wait_listening "$(cns "$WEB")" tcp 80
WEBIP=$(ctr_ip "$WEB")
WEBLOG=$E2E_STATE/containers/$WEB.log
# get URL [CURL-OPTIONS...] (namespace via NS=...): the body, or fail.
get() {
	local url=$1
	shift
	nsexec "${NS:-host}" curl -sS --noproxy '*' --max-time 10 "$@" "$url"
}
body=$(get "http://$NAT_UP:8080/") || fail "curl http://$NAT_UP:8080/ from the host failed"
[ "$body" = "$TOKEN" ] || fail "http://$NAT_UP:8080/ returned '$body', expected '$TOKEN'"
# The server saw the host's own address: DNAT changes the destination only.
wait_until 5 grep -q "GET / HTTP" "$WEBLOG" || fail "no request in $WEBLOG"
last=$(grep "GET / HTTP" "$WEBLOG" | tail -n 1)
[ "${last%% *}" = "$NAT_HOST" ] || fail "the server saw the request from '${last%% *}', expected $NAT_HOST: $last"
ok "run -p 8080:80 -- python3 -m http.server: the host gets the page from $NAT_UP:8080 (client seen as $NAT_HOST)"

# ---------------------------------------------------------------- 9. nat ls, conntrack ls
read -r p0 b0 <<<"$(nat_counter DNAT dpt:8080 "to:$WEBIP:80")" || fail "nat ls has no DNAT rule for 8080"
for i in 1 2 3 4 5; do
	[ "$(get "http://$NAT_UP:8080/")" = "$TOKEN" ] || fail "GET $i of 5 to $NAT_UP:8080 failed"
done
read -r p1 b1 <<<"$(nat_counter DNAT dpt:8080 "to:$WEBIP:80")"
[ $((p1 - p0)) -eq 5 ] || fail "nat ls: the 8080 DNAT rule counted $((p1 - p0)) packets for 5 connections (iptables counts each connection's first packet): $p0 -> $p1"
[ $((b1 - b0)) -ge 200 ] && [ $((b1 - b0)) -le 500 ] ||
	fail "nat ls: the 8080 DNAT rule counted $((b1 - b0)) bytes for 5 SYNs (expected 5 x 40..100)"
jp=$(dpctl nat ls --json | json "[r['pkts'] for c in d['chains'] for r in c['rules'] if r['target'] == 'DNAT' and r.get('host_port') == 8080]")
[ "$jp" = "[$p1]" ] || fail "nat ls --json counts $jp for the 8080 rule, the table $p1"
ok "nat ls: the DNAT rule of 8080 counted the 5 connections ($p0 -> $p1 pkts, +$((b1 - b0)) bytes), --json agrees"

# A connection held open shows in conntrack ls with both tuples, as conntrack -L.
ctr_start "$ECHO" -p 8090:80 -- "$PY" "$NAT_PY" serve-tcp 80
wait_listening "$(cns "$ECHO")" tcp 80
ECHOIP=$(ctr_ip "$ECHO")
spawn "$PY" "$NAT_PY" hold "$NAT_UP" 8090 "$E2E_TMP/hold.ready" "$E2E_TMP/hold.go" >"$E2E_TMP/hold.out" 2>&1
HOLDPID=$!
wait_until 10 test -f "$E2E_TMP/hold.ready" || fail "the held connection to $NAT_UP:8090 did not come up: $(cat "$E2E_TMP/hold.out")"
LP=$(cat "$E2E_TMP/hold.ready")
line=$(ct_find tcp "$NAT_HOST" "$NAT_UP" "$LP" 8090 "$ECHOIP" "$NAT_HOST" 80 "$LP") ||
	fail "conntrack ls does not show $NAT_HOST:$LP -> $NAT_UP:8090 (reply $ECHOIP:80 -> $NAT_HOST:$LP):
$(dpctl conntrack ls)"
grep -q ESTABLISHED <<<"$line" || fail "the held connection is not ESTABLISHED: $line"
touch "$E2E_TMP/hold.go"
wait "$HOLDPID" || fail "the held connection failed its second exchange: $(cat "$E2E_TMP/hold.out")"
ok "conntrack ls: $line"

# ---------------------------------------------------------------- 2. 200 at once
rm -f "$E2E_TMP/many.ready" "$E2E_TMP/many.go"
spawn "$PY" "$NAT_PY" many "$NAT_UP" 8090 200 "$E2E_TMP/many.ready" "$E2E_TMP/many.go" >"$E2E_TMP/many.out" 2>&1
MANYPID=$!
wait_until 60 test -f "$E2E_TMP/many.ready" || fail "200 connections not attempted within 60 s"
up=$(cat "$E2E_TMP/many.ready")
[ "$up" = 200 ] || { touch "$E2E_TMP/many.go"; wait "$MANYPID"; fail "only $up of 200 concurrent connections to $NAT_UP:8090 came up: $(cat "$E2E_TMP/many.out")"; }
n=$(ct_count "dport=8090 .*ESTABLISHED|ESTABLISHED.*dport=8090")
touch "$E2E_TMP/many.go"
wait "$MANYPID" || fail "200 concurrent connections: $(cat "$E2E_TMP/many.out")"
[ "$n" -ge 200 ] || fail "with 200 connections open to 8090, conntrack ls shows $n established ones"
ok "200 concurrent connections through the DNAT of 8090: all up at once ($n entries), all exchanged"

# ---------------------------------------------------------------- 3. UDP publish
ctr_start "$UDPC" -p 5353:53/udp -- "$PY" "$NAT_PY" serve-udp 53
wait_listening "$(cns "$UDPC")" udp 53
out=$("$PY" "$NAT_PY" udp "$NAT_UP" 5353 "u-$TOKEN") || fail "UDP to $NAT_UP:5353 got no answer"
read -r lip lport fip fport pip pport msg <<<"$out"
[ "$fip:$fport" = "$NAT_UP:5353" ] || fail "the UDP answer came from $fip:$fport, not $NAT_UP:5353 ($out)"
[ "$pip:$pport" = "$NAT_HOST:$lport" ] || fail "the UDP server saw $pip:$pport, expected $NAT_HOST:$lport ($out)"
[ "$msg" = "u-$TOKEN" ] || fail "UDP answer '$msg'"
ok "-p 5353:53/udp: a datagram from the host is answered from $NAT_UP:5353 (server saw $pip:$pport)"

# What NAT cannot translate is dropped and counted, never passed on half-done:
# a TCP segment without SYN opening nothing (ct-invalid), and the fragments of
# a datagram too big for the MTU to the published UDP port (nat-fragment).
drop() { dpctl stats --json | json "d['drops']['$1']"; }
for r in ct-full ct-invalid nat-fragment nat-proto nat-no-port; do
	drop "$r" >/dev/null || fail "dpctl stats --json has no drop reason $r"
done
i0=$(drop ct-invalid) f0=$(drop nat-fragment)
"$PY" - "$NAT_UP" <<'PYEOF' || fail "scapy could not send the ACK"
import sys
from scapy.all import IP, TCP, send
send(IP(dst=sys.argv[1]) / TCP(sport=40999, dport=8090, flags="A", seq=1, ack=1), verbose=0)
PYEOF
"$PY" - "$NAT_UP" <<'PYEOF' || fail "cannot send the big datagram"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"x" * 3000, (sys.argv[1], 5353))
try:
    s.recvfrom(4096)
    sys.exit("a fragmented datagram to the published port was answered")
except socket.timeout:
    pass
PYEOF
frag_counted() { [ "$(drop nat-fragment)" -ge $((f0 + 3)) ]; }
wait_until 5 frag_counted ||
	fail "nat-fragment went $f0 -> $(drop nat-fragment) for the 3 fragments of a 3000-byte datagram"
[ "$(drop ct-invalid)" -ge $((i0 + 1)) ] || fail "ct-invalid went $i0 -> $(drop ct-invalid) for a lone ACK to 8090"
ok "dropped and counted: a lone ACK to 8090 (ct-invalid $i0 -> $(drop ct-invalid)), the 3 fragments to 5353/udp (nat-fragment $f0 -> $(drop nat-fragment))"

# ---------------------------------------------------------------- 4. -P --expose 80
ctr_start "$PUB" -P --expose 80 -- "$PY" "$NAT_PY" serve-tcp 80
wait_listening "$(cns "$PUB")" tcp 80
pm=$(dpctl port "$PUB") || fail "dpctl port $PUB failed"
[[ "$pm" =~ ^80/tcp\ -\>\ 0\.0\.0\.0:([0-9]+)$ ]] || fail "dpctl port $PUB printed '$pm'"
EPH=${BASH_REMATCH[1]}
[ "$EPH" -ge 32768 ] && [ "$EPH" -le 60999 ] || fail "-P picked $EPH, outside 32768-60999"
out=$("$PY" "$NAT_PY" tcp "$NAT_UP" "$EPH" eph) || fail "TCP to $NAT_UP:$EPH (-P) failed"
[ "${out##* }" = eph ] || fail "TCP to $NAT_UP:$EPH answered '$out'"
ok "-P --expose 80: dpctl port shows 80/tcp -> 0.0.0.0:$EPH, and it works"

# A range, as Docker accepts it: 9000-9001:80-81, each host port to its own.
RNG=r$E2E_ID
ctr_start "$RNG" -p 9000-9001:80-81 -- sh -c "\"$PY\" \"$NAT_PY\" serve-tcp 80 & exec \"$PY\" \"$NAT_PY\" serve-tcp 81"
wait_listening "$(cns "$RNG")" tcp 80
wait_listening "$(cns "$RNG")" tcp 81
for hp in 9000 9001; do
	out=$("$PY" "$NAT_PY" tcp "$NAT_UP" "$hp" "r$hp") || fail "TCP to $NAT_UP:$hp (-p 9000-9001:80-81) failed"
	[ "${out##* }" = "r$hp" ] || fail "$NAT_UP:$hp answered '$out'"
done
nat_counter DNAT dpt:9000 "to:$(ctr_ip "$RNG"):80" >/dev/null && nat_counter DNAT dpt:9001 "to:$(ctr_ip "$RNG"):81" >/dev/null ||
	fail "nat ls lacks the rules of -p 9000-9001:80-81"
run dpctl rm -f "$RNG" >/dev/null
ok "-p 9000-9001:80-81: both host ports reach their container port"

# ---------------------------------------------------------------- 5. 8080 twice
e2e_snapshot() {
	dpctl ps --json
	dpctl port ls --json | json "sorted(p['name'] for p in ports(d))"
	dpctl nat ls
}
refused "host port 8080 taken" --says "Bind for 0.0.0.0:8080 failed: port is already allocated" \
	run -d --name "$F" -p 8080:80 -- sleep 600
[ "$(get "http://$NAT_UP:8080/")" = "$TOKEN" ] || fail "after the refusal, 8080 no longer reaches $WEB"
ok "after the refused run, $NAT_UP:8080 still reaches $WEB"

# ---------------------------------------------------------------- 6. MASQUERADE
SP=$((20000 + RANDOM % 10000))
spawn "$PY" "$NAT_PY" serve-tcp --bind "$NAT_HOST" "$SP"
spawn "$PY" "$NAT_PY" serve-udp --bind "$NAT_HOST" "$SP"
wait_listening host tcp "$SP"
wait_listening host udp "$SP"
WNS=$(cns "$WEB")
# POSTROUTING: MASQUERADE all -- * dpnet0 172.17.0.0/16 0.0.0.0/0 (as Docker's
# rule for docker0), and the hairpin one, MASQUERADE ... !dpnet0 ... ctstate DNAT.
MASQ=(MASQUERADE "$E2E_UPLINK" 172.17.0.0/16 0.0.0.0/0)
HAIR=(MASQUERADE "!$E2E_UPLINK" 172.17.0.0/16 DNAT)
m0=$(nat_counter "${MASQ[@]}") || fail "nat ls has no MASQUERADE rule for 172.17.0.0/16 out of $E2E_UPLINK"
out=$(nsexec "$WNS" "$PY" "$NAT_PY" tcp "$NAT_HOST" "$SP" masq) ||
	fail "TCP from $WEB to the host's $NAT_HOST:$SP failed"
read -r lip lport sip sport msg <<<"$out"
[ "$lip" = "$WEBIP" ] || fail "$WEB's socket is bound to $lip, not $WEBIP"
[ "$sip" = "$NAT_UP" ] || fail "the host saw $WEB's TCP connection from $sip, expected $NAT_UP (MASQUERADE): $out"
[ "$sport" = "$lport" ] || fail "MASQUERADE changed the free source port $lport to $sport"
m1=$(nat_counter "${MASQ[@]}")
[ $((${m1% *} - ${m0% *})) -eq 1 ] || fail "nat ls: MASQUERADE of 172.17.0.0/16 counted $m0 -> $m1 for one connection"
ok "MASQUERADE: $WEB ($WEBIP:$lport) reaches $NAT_HOST:$SP as $sip:$sport; nat ls counted it"
out=$(nsexec "$WNS" "$PY" "$NAT_PY" udp "$NAT_HOST" "$SP" masq) ||
	fail "UDP from $WEB to the host's $NAT_HOST:$SP got no answer"
read -r lip lport fip fport sip sport msg <<<"$out"
[ "$sip:$sport" = "$NAT_UP:$lport" ] || fail "the host saw $WEB's UDP from $sip:$sport, expected $NAT_UP:$lport: $out"
[ "$fip:$fport" = "$NAT_HOST:$SP" ] || fail "$WEB got the UDP answer from $fip:$fport: $out"
nsexec "$WNS" ping -c 2 -i 0.2 -W 2 "$NAT_HOST" >/dev/null || fail "$WEB cannot ping $NAT_HOST"
ok "MASQUERADE: UDP (seen as $sip:$sport, answer back) and ping from $WEB to $NAT_HOST"

# The source port is kept when free, another one chosen when not: two
# containers connecting from the same port to the same server both get through.
out1=$(nsexec "$WNS" "$PY" "$NAT_PY" tcp "$NAT_HOST" "$SP" one --sport 41000) ||
	fail "TCP from $WEB port 41000 to $NAT_HOST:$SP failed"
out2=$(nsexec "$(cns "$UDPC")" "$PY" "$NAT_PY" tcp "$NAT_HOST" "$SP" two --sport 41000) ||
	fail "TCP from $UDPC port 41000 to $NAT_HOST:$SP (the port MASQUERADE already uses) failed"
read -r _ _ s1 p1 _ <<<"$out1"
read -r _ _ s2 p2 _ <<<"$out2"
[ "$s1:$p1" = "$NAT_UP:41000" ] || fail "the first connection from port 41000 was seen as $s1:$p1"
[ "$s2" = "$NAT_UP" ] && [ "$p2" != 41000 ] ||
	fail "the second connection from port 41000 was seen as $s2:$p2 (expected $NAT_UP, another port)"
ok "MASQUERADE keeps a free source port ($s1:$p1) and picks another when it is taken ($s2:$p2)"

# ---------------------------------------------------------------- 7. hairpin
hairpin() { # NS URL WHO
	local n0 body last
	n0=$(grep -c "GET /hairpin" "$WEBLOG")
	body=$(NS=$1 get "$2") || fail "$3: curl $2 failed"
	[ "$body" = "$TOKEN" ] || fail "$3: $2 returned '$body', expected $WEB's page"
	more_gets() { [ "$(grep -c "GET /hairpin" "$WEBLOG")" -gt "$1" ]; }
	wait_until 5 more_gets "$n0" || fail "$3: no request in $WEBLOG"
	last=$(grep "GET /hairpin" "$WEBLOG" | tail -n 1)
	[ "${last%% *}" = 172.17.0.1 ] || fail "$3: $WEB saw the request from '${last%% *}', expected its gateway 172.17.0.1"
}
cp "$WWW/index.html" "$WWW/hairpin"
h0=$(nat_counter "${HAIR[@]}") || fail "nat ls has no hairpin MASQUERADE rule for 172.17.0.0/16"
hairpin "$WNS" "http://$NAT_UP:8080/hairpin" "$WEB itself via $NAT_UP"
hairpin "$WNS" "http://172.17.0.1:8080/hairpin" "$WEB itself via its gateway"
ok "hairpin: $WEB gets its own page from $NAT_UP:8080 and 172.17.0.1:8080, seen from 172.17.0.1"
hairpin "$(cns "$UDPC")" "http://$NAT_UP:8080/hairpin" "sibling $UDPC"
run dpctl network create "$NET" >/dev/null
ctr_start "$OTH" --network "$NET" -- sleep 600
hairpin "$(cns "$OTH")" "http://$NAT_UP:8080/hairpin" "$OTH on network $NET"
ok "a sibling on bridge and a container of network $NET reach $WEB through $NAT_UP:8080"
h1=$(nat_counter "${HAIR[@]}")
[ $((${h1% *} - ${h0% *})) -eq 4 ] || fail "nat ls: the hairpin MASQUERADE of 172.17.0.0/16 counted $h0 -> $h1 for 4 connections"
ok "nat ls: the hairpin MASQUERADE rule counted the 4 connections ($h0 -> $h1)"

# ---------------------------------------------------------------- 8. -p 127.0.0.1:8081
ctr_start "$LOC" -p 127.0.0.1:8081:80 -p 8082:80 -- "$PY" "$NAT_PY" serve-tcp 80
wait_listening "$(cns "$LOC")" tcp 80
LOCIP=$(ctr_ip "$LOC")
out=$("$PY" "$NAT_PY" tcp "$NAT_UP" 8082 loc) || fail "TCP to $NAT_UP:8082 failed"
[ "${out##* }" = loc ] || fail "8082 answered '$out'"
read -r l0 _ <<<"$(nat_counter DNAT 127.0.0.1 dpt:8081 "to:$LOCIP:80")" ||
	fail "nat ls has no DNAT rule for 127.0.0.1:8081"
for where in host "$WNS"; do
	for addr in "$NAT_UP" 172.17.0.1; do
		[ "$where:$addr" = host:172.17.0.1 ] && continue   # the host's own address
		if out=$(nsexec "$where" timeout 8 "$PY" "$NAT_PY" tcp "$addr" 8081 loc 2>&1) &&
			[ "${out##* }" = loc ]; then
			fail "-p 127.0.0.1:8081:80 answered on $addr:8081 from $where: $out"
		fi
	done
done
read -r l1 _ <<<"$(nat_counter DNAT 127.0.0.1 dpt:8081 "to:$LOCIP:80")"
[ "$l1" = "$l0" ] || fail "the 127.0.0.1:8081 rule counted packets from the network ($l0 -> $l1)"
ok "-p 127.0.0.1:8081:80: never answers on $NAT_UP or 172.17.0.1 (rule untouched); 8082 does"

# ---------------------------------------------------------------- 11. kill -9, restart
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
wait_until 5 uplink_gone || fail "$E2E_UPLINK outlived kill -9"
start_daemon
wait_until 20 sh -c "curl -s --noproxy '*' --max-time 2 http://$NAT_UP:8080/ | grep -qx '$TOKEN'" ||
	fail "after kill -9 and restart, http://$NAT_UP:8080/ does not answer with $WEB's page"
out=$("$PY" "$NAT_PY" udp "$NAT_UP" 5353 again) || fail "after the restart, UDP 5353 got no answer"
[ "${out##* }" = again ] || fail "after the restart, UDP 5353 answered '$out'"
[ "$(dpctl port "$PUB")" = "80/tcp -> 0.0.0.0:$EPH" ] || fail "after the restart, $PUB's -P port changed: $(dpctl port "$PUB")"
out=$("$PY" "$NAT_PY" tcp "$NAT_UP" "$EPH" eph) || fail "after the restart, $NAT_UP:$EPH (-P) failed"
ok "kill -9 and restart: 8080 (TCP), 5353/udp and the -P port $EPH work again"

# ---------------------------------------------------------------- rm frees the port
run dpctl rm -f "$WEB" >/dev/null
curl -s --noproxy '*' --max-time 3 "http://$NAT_UP:8080/" | qgrep "$TOKEN" &&
	fail "after rm -f $WEB, $NAT_UP:8080 still serves its page"
dpctl nat ls | qgrep "to:$WEBIP:80" && fail "after rm -f $WEB, nat ls still has its rule:
$(dpctl nat ls)"
[ "$(ct_count "=$WEBIP ")" = 0 ] || fail "after rm -f $WEB, conntrack still has entries of $WEBIP:
$(dpctl conntrack ls | grep "=$WEBIP ")"
ok "rm -f $WEB: its rule and its connections are gone, 8080 no longer answers"

for c in "$ECHO" "$UDPC" "$PUB" "$LOC" "$OTH"; do run dpctl rm -f "$c" >/dev/null; done
run dpctl network rm "$NET" >/dev/null
stop_daemon TERM
