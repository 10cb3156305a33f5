#!/usr/bin/env bash
# l2_ping: three namespaces ping each other through the switch.
#
# a and b sit on veth pairs whose host ends are afpacket ports; c sits on a tap
# port whose interface is moved into c's namespace (as containers get theirs).
# Checks: all six directions ping; `mac ls` shows the three MACs; `port ls`
# counters rise; del-port takes b away while a and c keep pinging.
. "$(dirname "$0")/lib.sh"

IA=$(ifname a) IB=$(ifname b) IT=$(ifname t)
declare -A ADDR=([a]=10.99.0.1 [b]=10.99.0.2 [c]=10.99.0.3)

start_daemon
veth_ns a "$IA" "${ADDR[a]}/24"
veth_ns b "$IB" "${ADDR[b]}/24"
run dpctl add-port pa --type afpacket --iface "$IA"
run dpctl add-port pb --type afpacket --iface "$IB"
run dpctl add-port pc --type tap --iface "$IT"
tap_into_ns c "$IT" "${ADDR[c]}/24"
ok "ports added: pa, pb (afpacket), pc (tap moved into $(ns c))"

declare -A RX0 TX0
for p in pa pb pc; do
	RX0[$p]=$(port_counter $p rx) || fail "no rx counter for $p in 'port ls --json'"
	TX0[$p]=$(port_counter $p tx) || fail "no tx counter for $p in 'port ls --json'"
done

for from in a b c; do
	for to in a b c; do
		[ $from = $to ] && continue
		ping_ok $from "${ADDR[$to]}"
	done
done
ok "all six directions ping"

MACS=$(dpctl mac ls bridge --json) || fail "dpctl mac ls bridge --json failed"
for m in "$(ns_mac a)" "$(ns_mac b)" "$(ns_mac c "$IT")"; do
	grep -qi "$m" <<<"$MACS" || fail "MAC $m not in 'dpctl mac ls bridge': $MACS"
done
HUMAN=$(dpctl mac ls bridge) || fail "dpctl mac ls bridge failed"
for m in "$(ns_mac a)" "$(ns_mac b)" "$(ns_mac c "$IT")"; do
	grep -qi "$m" <<<"$HUMAN" || fail "MAC $m not in 'dpctl mac ls bridge': $HUMAN"
done
ok "mac ls shows the three MACs"

for p in pa pb pc; do
	rx=$(port_counter $p rx) tx=$(port_counter $p tx)
	[ "$rx" -ge $((RX0[$p] + 6)) ] || fail "$p rx counter did not rise: ${RX0[$p]} -> $rx"
	[ "$tx" -ge $((TX0[$p] + 6)) ] || fail "$p tx counter did not rise: ${TX0[$p]} -> $tx"
done
LS=$(dpctl port ls) || fail "dpctl port ls failed"
log "port ls:"; printf '%s\n' "$LS" | sed 's/^/#   /'
for h in NAME TYPE NETWORK MAC STATE RX-PKTS TX-PKTS DROPS; do
	head -n 1 <<<"$LS" | qgrep -w -- "$h" || fail "'port ls' header lacks $h"
done
ok "port ls counters rose on all three ports"

state() { dpctl port ls --json | json "port(d, '$1')['state']"; }
for p in pa pb pc; do
	[ "$(state $p)" = up ] || fail "port $p state is '$(state $p)', expected up"
done
ok "port states: all up (pc's tap interface is in another namespace)"

# stats --perf: each worker's loop and per-stage cycles (pmd-stats-show's view).
PERF=$(dpctl stats --perf --json) || fail "dpctl stats --perf failed"
"$PY" -c '
import json, sys
d = json.load(sys.stdin)
w = d["workers"][0]
s = {x["name"]: x for x in w["stages"]}
assert d["tsc_hz"] > 0, "no TSC frequency"
assert w["rx_pkts"] >= 18 and w["busy_loops"] >= 1 and w["loops"] >= w["busy_loops"], w
assert w["busy_cycles"] > 0 and w["cycles_per_pkt"] > 0, w
assert s["parse"]["pkts"] >= 18 and s["bridge"]["pkts"] >= 18, s
assert s["parse"]["cycles_per_pkt"] > 0, s
' <<<"$PERF" || fail "stats --perf does not add up: $PERF"
TXT=$(dpctl stats --perf) || fail "dpctl stats --perf (text) failed"
log "stats --perf:"; printf '%s\n' "$TXT" | sed 's/^/#   /'
qgrep -E '^worker 0 \(lcore [0-9]+\):$' <<<"$TXT" || fail "stats --perf has no 'worker 0' block: $TXT"
qgrep -E '^parse +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+%$' <<<"$TXT" ||
	fail "stats --perf has no parse row: $TXT"
out=$(dpctl stats --bogus 2>&1) && fail "stats --bogus succeeded: $out"
qgrep '^dpctl: error: ' <<<"$out" || fail "stats --bogus: no one-line error: $out"
ok "stats --perf: per-worker loops, busy cycles and per-stage cycles per packet"

run dpctl del-port pb
dpctl port ls --json | json "port(d, 'pb')" >/dev/null 2>&1 &&
	fail "pb still listed after del-port"
ping_ok a "${ADDR[c]}"
ping_ok c "${ADDR[a]}"
ping_fails a "${ADDR[b]}"
MACS=$(dpctl mac ls bridge --json)
grep -qi "$(ns_mac b)" <<<"$MACS" &&
	fail "b's MAC $(ns_mac b) still in 'mac ls' after its port was removed: $MACS"
ok "del-port pb: pb gone, its MAC flushed, a and c still ping each other"

stop_daemon
