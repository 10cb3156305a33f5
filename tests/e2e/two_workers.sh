#!/usr/bin/env bash
# two_workers: the shared tables stay correct with two worker lcores (issue 7:
# scale-out, tested on this 2-core machine with the workers sharing CPUs).
#
# dpnetd in TAP mode with `workers: 2` (lcores 0@0,1@0,2@1: main and worker 0
# share CPU 0, worker 1 has CPU 1). Ports are spread over the workers by port
# id, so dpnet0 and the containers' ports land on both, and every path crosses
# workers: MAC learning (learn requests from both workers to the one control
# thread), conntrack entries created by one worker and hit by the other (a
# published port: the host's SYN arrives on dpnet0, the container's answer on
# its own port), MASQUERADE both ways, routing between two networks' gateways.
# Checks: both workers receive traffic (stats --perf), all pairs of containers
# ping, 100 concurrent HTTP fetches through the DNAT all succeed and leave 100
# conntrack entries, containers reach the host MASQUERADEd, TCP moves 4 MiB
# intact between containers on different workers, no frame is counted malformed
# or lost to a full learn ring, and the daemon's log is clean.
. "$(dirname "$0")/lib.sh"

need_cmd curl ss socat

C=(a$E2E_ID b$E2E_ID c$E2E_ID d$E2E_ID)
WEB=w$E2E_ID
NET=n$E2E_ID

tap_mode
CFG=$E2E_TMP/two-workers.yaml
{
	echo "workers: 2"
	echo "poll: {mode: adaptive}"
	sed -n '/^ports:/,$p' "$E2E_SRC/../../conf/tap-mode.yaml"
} >"$CFG"
E2E_LCORES="--lcores 0@0,1@0,2@1"
start_daemon --config "$CFG"

st=$(dpctl status --json) || fail "dpctl status failed"
[ "$(json "d['workers']" <<<"$st")" = 2 ] || fail "dpctl status does not show 2 workers: $st"
ok "dpnetd runs 2 workers"

run dpctl network create --subnet 10.61.0.0/24 "$NET" >/dev/null
for c in "${C[@]}"; do
	ctr_start "$c" -- sleep infinity
done
ctr_start "$WEB" --network "$NET" -p 8080:80 -- "$PY" -m http.server 80 --directory "$E2E_TMP"
echo "two-workers-$E2E_ID" >"$E2E_TMP/index.html"
wait_listening "$(cns "$WEB")" tcp 80

declare -A IP
for c in "${C[@]}" "$WEB"; do
	IP[$c]=$(ctr_ip "$c")
	[ -n "${IP[$c]}" ] || fail "$c has no address"
done

# Every pair, both ways: MACs learned by both workers.
for x in "${C[@]}"; do
	for y in "${C[@]}"; do
		[ "$x" = "$y" ] || ping_ns_ok "$(cns "$x")" "${IP[$y]}"
	done
done
ok "all 12 ordered pairs of 4 containers ping"

# Published port from the host: the SYN comes in on dpnet0, the answer from the
# container's port; 100 at once.
pids=()
for i in $(seq 1 100); do
	curl -s --noproxy '*' --max-time 20 "http://$NAT_UP:8080/index.html" >"$E2E_TMP/get.$i" &
	pids+=($!)
done
bad=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || bad=$((bad + 1))
done
good=$(grep -lx "two-workers-$E2E_ID" "$E2E_TMP"/get.* | wc -l)
[ "$bad" -eq 0 ] && [ "$good" -eq 100 ] ||
	fail "100 concurrent fetches of the published port: $good right, $bad curl failures"
n=$(ct_count "dport=8080")
[ "$n" -ge 100 ] || fail "conntrack shows $n connections to port 8080, expected at least 100"
ok "100 concurrent HTTP fetches through the DNAT all right, $n conntrack entries"

# MASQUERADE: containers reach the host's side of dpnet0, their source is NAT_UP.
for c in "${C[0]}" "${C[1]}" "$WEB"; do
	ping_ns_ok "$(cns "$c")" "$NAT_HOST"
done
n=$(ct_count "src=[0-9.]+ dst=$NAT_HOST .*src=$NAT_HOST dst=$NAT_UP")
[ "$n" -ge 3 ] || fail "conntrack shows $n masqueraded pings to $NAT_HOST, expected 3: $(dpctl conntrack ls 2>&1)"
ok "containers reach the host masqueraded ($n connections)"

# Routed between a bridge network and the default one through the host? No:
# isolation holds with two workers as with one.
ping_ns_fails "$(cns "${C[0]}")" "${IP[$WEB]}"
ok "isolation between two networks holds"

# TCP between containers; their ports are on both workers.
tcp_ok "$(cns "${C[0]}")" "$(cns "${C[3]}")" "${IP[${C[3]}]}"
tcp_ok "$(cns "${C[1]}")" "$(cns "${C[2]}")" "${IP[${C[2]}]}"
ok "4 MiB over TCP arrive intact between containers (twice)"

perf=$(dpctl stats --perf --json) || fail "dpctl stats --perf failed"
"$PY" -c '
import json, sys
d = json.load(sys.stdin)
w = d["workers"]
assert len(w) == 2, "%d workers" % len(w)
for x in w:
    assert x["rx_pkts"] >= 100, "worker %d received only %d frames" % (x["worker"], x["rx_pkts"])
print("# worker rx: %s" % ", ".join("%d: %d" % (x["worker"], x["rx_pkts"]) for x in w))
' <<<"$perf" || fail "both workers did not carry traffic: $perf"
drops=$(dpctl stats --json) || fail "dpctl stats failed"
"$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert d["drops"]["malformed"] == 0, "malformed: %d" % d["drops"]["malformed"]
assert d["learn_full"] == 0, "learn requests lost: %d" % d["learn_full"]
' <<<"$drops" || fail "counters show trouble: $drops"
ok "both workers carried traffic; nothing malformed, no learn request lost"

stop_daemon
