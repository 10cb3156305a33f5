#!/usr/bin/env bash
# perf/bench.sh [quick|full] - forwarding rate of dpnetd against dpdk-testpmd
# on the same virtual devices in the same run: L2 bridging (BENCH=l2, the
# default, with dpnetd's idle CPU), the NAT path (BENCH=nat) or the routed
# + MASQUERADE path to a NIC-mode uplink (BENCH=masq).
#
#   quick: 1 run of 5 s per contender;  full: 3 runs of 10 s, median of runs.
#
# Path: net_pcap (rx_pcap=F, infinite_rx=1, 60-byte UDP frames from perf/gen.py)
# -> switch -> net_null (no-rx=1, so it generates nothing). testpmd forwards
# with --forward-mode=io; dpnetd bridges the two as ports of the network
# `bridge` (destinations never learned on a no-rx port: unknown unicast,
# flooded to the one other port, as Open vSwitch NORMAL does without fdb/add).
# Rates are medians of 1-second samples (testpmd's --stats-period output,
# dpnetd's per-port TX counter from `dpctl port ls --json`) after a warm-up.
# No hugepages (--no-huge) for either by default; HUGE=1 runs both with 2 MB
# hugepages instead (reserved and mounted on a private hugetlbfs for the run,
# restored afterwards). Never compare across that line: report both.
#
# BENCH=nat: the pcap holds BENCH_FLOWS (65536) UDP flows, one 60-byte frame
# each, from "outside" to a published port on the uplink address; the pcap
# port is dpnetd's uplink (add-port --role uplink --address 198.19.0.1/24), a
# container `run -d -p 8080:80/udp -- sleep infinity` is the DNAT target and a
# static MAC (`mac add`) steers its frames to the null port. The first pass over
# the file creates one conntrack entry per flow; every later pass is DNAT +
# conntrack hits + routing. testpmd io replays the same file. Then, once: new
# connections per second (a first pass over BENCH_NEW_FLOWS (524288) distinct
# flows into an empty table, conntrack's "created" counter sampled every
# millisecond by perf/sample.py) and memory per conntrack entry (DPDK heap in
# use, from the EAL telemetry socket, of two idle daemons with conntrack.max
# 65536 and 1048576).
#
# BENCH=masq: the pcap holds BENCH_FLOWS (65536) UDP flows, one 60-byte frame
# each, from a container (172.17.0.2, 02:42:ac:11:00:02: the first container
# of a fresh daemon, `run -d -- sleep infinity`) to 16 outside addresses,
# addressed to the bridge network's gateway MAC (02:42:ac:11:00:01): routed by
# the default route through a NIC-mode uplink (--role uplink --address
# 198.19.0.1/24 --gateway 198.19.0.254), masqueraded to 198.19.0.1, out. The
# container side is a pcap port in `bridge` (infinite_rx) with the container's
# MAC pinned to it (`mac add`). The uplink is a pcap port too, not net_null: a
# NIC-mode uplink resolves its gateway with ARP and a null port cannot answer,
# and dpctl has no static neighbour. Its rx_pcap is BENCH_ARP_FRAMES (500000)
# copies of the gateway's ARP reply, read once (no infinite_rx; then the port
# is silent); with no tx_* devargs net_pcap's TX counts and frees, as
# net_null's does. It is added last, while the container's frames already
# flow, so that its replies meet the INCOMPLETE entry their misses made (an
# unsolicited reply creates nothing). The learned gateway is probed 30 s later
# and, with nobody answering, dropped at ~33 s: every run (a fresh daemon)
# ends well before. Rates and per-stage cycles come from the measured window
# only (the set-up's no-route and no-neighbour drops are not in it).
#
# Environment: DPNETD, DPCTL (default: build tree, then PATH), BENCH=l2|nat|masq,
# BENCH_FRAMES, BENCH_SRCS, BENCH_DSTS (L2 pcap shape, defaults 256/4/4),
# BENCH_L2=flood|unicast (destination MACs unknown, or known through static
# entries; default flood), BENCH_FLOWS, BENCH_NEW_FLOWS, BENCH_SAMPLE_MS (NAT;
# the last: how often perf/sample.py reads conntrack, default 1 ms),
# BENCH_ARP_FRAMES (masq: copies of the gateway's ARP reply).
# Writes perf/results/bench-<time>.json and prints a table. Needs root.
set -euo pipefail
BENCH_NAME=bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE=${1:-quick}
case "$MODE" in
quick) SECS=5 RUNS=1 ;;
full) SECS=10 RUNS=3 ;;
*) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
IDLE_SECS=10
WARMUP=2

# One benchmark at a time on this machine (perf/lib.sh).
bench_lock
bench_tools
FRAMES=${BENCH_FRAMES:-256} SRCS=${BENCH_SRCS:-4} DSTS=${BENCH_DSTS:-4}
BENCH=${BENCH:-l2}
case "$BENCH" in l2|nat|masq) ;; *) echo "bench.sh: BENCH is l2, nat or masq" >&2; exit 2 ;; esac
FLOWS=${BENCH_FLOWS:-65536} NEW_FLOWS=${BENCH_NEW_FLOWS:-524288}
# NAT: dpnet's address on the uplink (the pcap port) and the published port.
# The MAC dpnet owns there (what the pcap's frames must be addressed to) is the
# uplink port's own for a non-TAP uplink: learnt below from a probe daemon.
NAT_ADDR=198.19.0.1/24 NAT_PORT=8080 NAT_MAC=""
# MASQUERADE: the uplink (address, gateway and the MAC its ARP replies give),
# the container the frames come from (what a fresh daemon's first container
# gets: checked every run), the bridge gateway's MAC, where the flows go.
MASQ_ADDR=198.19.0.1/24 MASQ_GW=198.19.0.254 MASQ_GW_MAC=02:00:c6:13:00:fe
MASQ_CTR_IP=172.17.0.2 MASQ_CTR_MAC=02:42:ac:11:00:02 MASQ_BR_MAC=02:42:ac:11:00:01
MASQ_TO=198.51.100.0 MASQ_TO_ADDRS=16 MASQ_PORT=9000
ARP_FRAMES=${BENCH_ARP_FRAMES:-500000}
# flood: destinations unknown (flooded to the one other port); unicast: known.
L2MODE=${BENCH_L2:-flood}
case "$L2MODE" in flood|unicast) ;; *) echo "bench.sh: BENCH_L2 is flood or unicast" >&2; exit 2 ;; esac

bench_require

TMP=$(mktemp -d /tmp/dpnet-bench.XXXXXX)
ID=$$
DPID=""
CTR=""          # the NAT benchmark's container (removed at exit)
cleanup() {
	if [ -n "$CTR" ] && [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		timeout 10 "$DPCTL" --socket "$SOCK" rm -f "$CTR" >/dev/null 2>&1 || true
	fi
	if [ -n "$CTR" ] && [ -e "/run/netns/dpnet-$CTR" ]; then
		for p in $(ip netns pids "dpnet-$CTR" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "dpnet-$CTR" 2>/dev/null || true
	fi
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"; sleep 1; kill -KILL "$DPID" 2>/dev/null || true
	fi
	if [ -n "$TP_PID" ]; then bench_kill "$TP_PID"; fi
	bench_eal_undo
	rm -rf /var/run/dpdk/dpbench-* "$TMP"
}
trap cleanup EXIT
bench_eal "$TMP"    # EAL and MEMNOTE: --no-huge, or HUGE=1's 2 MB pages
# uplink_mac SOCKET: dpnet's MAC on the uplink, from `dpctl status --json`.
uplink_mac() {
	"$DPCTL" --socket "$1" status --json | $PY -c '
import json, sys
print(json.load(sys.stdin)["uplink"]["gw_mac"])'
}
if [ "$BENCH" = nat ] && [ -x "$DPNETD" ] && [ -x "$DPCTL" ]; then
	# Probe: a daemon with the pcap uplink exactly as the runs add it (the
	# first pcap device of a fresh process: net_pcap numbers its MACs).
	printf 'poll:\n  mode: adaptive\n' >"$TMP/probe.yaml"
	$PY "$HERE/gen.py" "$TMP/probe.pcap" --frames 1 >/dev/null
	"$DPNETD" --socket "$TMP/probe.sock" --state-dir "$TMP/probe-state" --config "$TMP/probe.yaml" \
		-- "${EAL[@]}" -m 512 --file-prefix "dpbench-probe-$ID" >>"$TMP/dpnetd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 150); do
		"$DPCTL" --socket "$TMP/probe.sock" status >/dev/null 2>&1 && break
		sleep 0.2
	done
	"$DPCTL" --socket "$TMP/probe.sock" add-port in --type pcap --devargs "rx_pcap=$TMP/probe.pcap" \
		--role uplink --address "$NAT_ADDR" >/dev/null
	NAT_MAC=$(uplink_mac "$TMP/probe.sock")
	kill -TERM "$DPID"
	wait "$DPID" 2>/dev/null || true
	DPID=""
	rm -rf "/var/run/dpdk/dpbench-probe-$ID" "$TMP/probe-state"
	[[ "$NAT_MAC" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] ||
		{ echo "bench.sh: cannot learn dpnet's uplink MAC (got '$NAT_MAC')" >&2; exit 1; }
	echo "dpnet's MAC on a pcap uplink: $NAT_MAC"
fi
NAT_MAC=${NAT_MAC:-02:00:5e:02:00:00}   # testpmd alone: any unicast MAC

PCAP="$TMP/in.pcap"
if [ "$BENCH" = nat ]; then
	$PY "$HERE/gen.py" "$PCAP" --flows "$FLOWS" --dst-ip "${NAT_ADDR%/*}" \
		--dst-port "$NAT_PORT" --dst-mac "$NAT_MAC"
	# infinite_rx keeps every frame of the file in an mbuf: room for them all.
	TP_MBUFS=$((FLOWS + 65536))
	FRAMES=$FLOWS
elif [ "$BENCH" = masq ]; then
	$PY "$HERE/gen.py" "$PCAP" --flows "$FLOWS" --from-ip "$MASQ_CTR_IP" --from-mac "$MASQ_CTR_MAC" \
		--to-net "$MASQ_TO" --to-addrs "$MASQ_TO_ADDRS" --dst-port "$MASQ_PORT" --dst-mac "$MASQ_BR_MAC"
	ARPPCAP="$TMP/arp.pcap"
	$PY "$HERE/gen.py" "$ARPPCAP" --arp-reply "$MASQ_GW,$MASQ_GW_MAC,${MASQ_ADDR%/*}" --frames "$ARP_FRAMES"
	TP_MBUFS=$((FLOWS + 65536))
	FRAMES=$FLOWS
else
	$PY "$HERE/gen.py" "$PCAP" --frames "$FRAMES" --srcs "$SRCS" --dsts "$DSTS"
	TP_MBUFS=16384
fi

# ---------------------------------------------------------------- testpmd
TESTPMD_CMD="dpdk-testpmd ${EAL[*]} -m 1024 --file-prefix dpbench-tp --vdev net_pcap0,rx_pcap=IN.pcap,infinite_rx=1 --vdev net_null0,no-rx=1 -- --forward-mode=io --total-num-mbufs=$TP_MBUFS --stats-period 1"
tp_runs=()
for r in $(seq 1 "$RUNS"); do
	log="$TMP/testpmd-$r.log"
	# Rx-pps of port 0 (the pcap port), one line per second; skip the warm-up.
	testpmd_pps "$log" "dpbench-tp-$ID" "$TP_MBUFS" "$SECS" "$WARMUP" \
		"net_pcap0,rx_pcap=$PCAP,infinite_rx=1" net_null0,no-rx=1
	[ "$TP_N" -gt 0 ] || { tail -n 20 "$log" >&2; echo "bench.sh: testpmd gave no samples" >&2; exit 1; }
	m=$TP_RATE
	echo "testpmd run $r: median $(mpps "$m") Mpps over $TP_N samples"
	tp_runs+=("$m")
done
TP_PPS=$(printf '%s\n' "${tp_runs[@]}" | median)
# masq: testpmd once more on dpnetd's own vdevs (the uplink a pcap port whose
# TX drops, its rx_pcap the ARP replies; io forwards them to port 0's TX,
# which drops too): shows what the pcap uplink's TX costs against net_null's.
TP_SAME=""
if [ "$BENCH" = masq ]; then
	testpmd_pps "$TMP/testpmd-same.log" "dpbench-tp-$ID" "$TP_MBUFS" "$SECS" "$WARMUP" \
		"net_pcap0,rx_pcap=$PCAP,infinite_rx=1" "net_pcap1,rx_pcap=$ARPPCAP"
	TP_SAME=$TP_RATE
	echo "testpmd on dpnetd's vdevs (pcap -> pcap, TX drop): median $(mpps "$TP_SAME") Mpps"
fi

# ---------------------------------------------------------------- dpnetd
DP_PPS="" IDLE_PCT="" DP_NOTE="" NEWCONN="" NEWCONN_RUNS="" CT_BYTES="" NAT_CHECK=""
dp_runs=()
if [ -x "$DPNETD" ] && [ -x "$DPCTL" ]; then
	SOCK="$TMP/dpnet.sock"
	DP_MEM=512
	# write_conf MEMORY_MB MBUFS CT_MAX: dpnetd's config (no ports at start,
	# adaptive polling: a loaded worker never sleeps).
	write_conf() {
		DP_MEM=$1
		{
			echo "# perf/bench.sh: no ports at start, adaptive polling"
			echo "poll:"
			echo "  mode: adaptive"
			if [ "$BENCH" != l2 ]; then
				echo "eal:"
				echo "  memory_mb: $1    # as -m below (conntrack.max is checked against it)"
				echo "mbufs: $2"
				echo "conntrack:"
				echo "  max: $3"
			fi
		} >"$TMP/dpnet.yaml"
	}
	if [ "$BENCH" = masq ]; then
		write_conf 1024 $((FLOWS + 65536)) $((FLOWS * 2))
		DPNETD_CMD="dpnetd --config CONF(mbufs: $((FLOWS + 65536)), conntrack.max: $((FLOWS * 2))) -- ${EAL[*]} -m 1024 --file-prefix dpbench-dp; dpctl run -d --name CTR -- sleep infinity; dpctl add-port in --type pcap --devargs rx_pcap=IN.pcap,infinite_rx=1; dpctl mac add bridge $MASQ_CTR_MAC in; dpctl add-port up --type pcap --devargs rx_pcap=ARP.pcap --role uplink --address $MASQ_ADDR --gateway $MASQ_GW"
	elif [ "$BENCH" = nat ]; then
		write_conf 1024 $((FLOWS + 65536)) $((FLOWS * 2))
		DPNETD_CMD="dpnetd --config CONF(mbufs: $((FLOWS + 65536)), conntrack.max: $((FLOWS * 2))) -- ${EAL[*]} -m 1024 --file-prefix dpbench-dp; dpctl add-port out --type null --devargs no-rx=1; dpctl run -d --name CTR -p $NAT_PORT:80/udp -- sleep infinity; dpctl mac add bridge CTR-MAC out; dpctl add-port in --type pcap --devargs rx_pcap=IN.pcap,infinite_rx=1 --role uplink --address $NAT_ADDR"
	else
		write_conf 512
		DPNETD_CMD="dpnetd --config CONF -- ${EAL[*]} -m 512 --file-prefix dpbench-dp; dpctl add-port in --type pcap --devargs rx_pcap=IN.pcap,infinite_rx=1; dpctl add-port out --type null --devargs no-rx=1"
	fi
	dctl() { "$DPCTL" --socket "$SOCK" "$@"; }
	start_dp() {
		"$DPNETD" --socket "$SOCK" --state-dir "$TMP/state" --config "$TMP/dpnet.yaml" \
			-- "${EAL[@]}" -m "$DP_MEM" --file-prefix "dpbench-dp-$ID" >>"$TMP/dpnetd.log" 2>&1 &
		DPID=$!
		for _ in $(seq 1 150); do
			dctl status >/dev/null 2>&1 && return 0
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.2
		done
		tail -n 20 "$TMP/dpnetd.log" >&2
		echo "bench.sh: dpnetd did not start" >&2
		exit 1
	}
	stop_dp() {
		if [ -n "$CTR" ]; then
			dctl rm -f "$CTR" >/dev/null || true
			CTR=""
		fi
		kill -TERM "$DPID"
		for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
		DPID=""
		rm -rf "/var/run/dpdk/dpbench-dp-$ID"
	}
	# tx_pkts of port NAME from `dpctl port ls --json`, with a timestamp.
	sample() {
		local t
		t=$(date +%s.%N)
		dctl port ls --json | $PY -c '
import json, sys
d = json.load(sys.stdin)
if isinstance(d, dict):
    d = d.get("ports", d.get("result", d))
p = next(p for p in d if p.get("name") == sys.argv[1])
print(sys.argv[2], next(p[k] for k in ("tx_pkts", "tx-pkts", "tx_packets", "tx") if k in p))
' "$1" "$t"
	}
	# nat_setup PCAP: the NAT path's ports and container; the uplink (the
	# pcap port, which starts the traffic) comes last, once the DNAT rule and
	# the static MAC exist, so that the first packet of every flow is DNATed.
	nat_setup() {
		local ip mac
		dctl add-port out --type null --devargs no-rx=1 >/dev/null
		CTR=nb$ID
		dctl run -d --name "$CTR" -p "$NAT_PORT:80/udp" -- sleep infinity >/dev/null
		ip=$(dctl ps --json | $PY -c '
import json, sys
print(next(c["ip"] for c in json.load(sys.stdin) if c["name"] == sys.argv[1]))' "$CTR")
		# The container's MAC (Docker's: 02:42 + its address) behind the null
		# port: the routed frames leave there instead of into the namespace.
		mac=$(ip netns exec "dpnet-$CTR" cat /sys/class/net/eth0/address)
		dctl mac add bridge "$mac" out >/dev/null
		dctl add-port in --type pcap --devargs "rx_pcap=$1,infinite_rx=1" --role uplink \
			--address "$NAT_ADDR" >/dev/null
		mac=$(uplink_mac "$SOCK")
		[ "$mac" = "$NAT_MAC" ] || {
			echo "bench.sh: dpnet's uplink MAC is $mac, the pcap's frames go to $NAT_MAC" >&2
			exit 1
		}
		NAT_CTR_IP=$ip
	}
	# masq_setup: the container, its network's pcap port (traffic starts:
	# no route yet), its MAC pinned there, then the uplink, whose file of
	# ARP replies resolves the gateway the first misses asked for.
	masq_setup() {
		local ip mac st=""
		CTR=mb$ID
		dctl run -d --name "$CTR" -- sleep infinity >/dev/null
		ip=$(dctl ps --json | $PY -c '
import json, sys
print(next(c["ip"] for c in json.load(sys.stdin) if c["name"] == sys.argv[1]))' "$CTR")
		mac=$(ip netns exec "dpnet-$CTR" cat /sys/class/net/eth0/address)
		[ "$ip" = "$MASQ_CTR_IP" ] && [ "$mac" = "$MASQ_CTR_MAC" ] || {
			echo "bench.sh: the container is $ip at $mac, the pcap's frames come from $MASQ_CTR_IP at $MASQ_CTR_MAC" >&2
			exit 1
		}
		dctl add-port in --type pcap --devargs "rx_pcap=$PCAP,infinite_rx=1" >/dev/null
		# Its MAC lives on the pcap port from now on: a static entry, never
		# learned, moved or aged (the container's veth sends nothing anyway).
		dctl mac add bridge "$mac" in >/dev/null
		dctl add-port up --type pcap --devargs "rx_pcap=$ARPPCAP" --role uplink \
			--address "$MASQ_ADDR" --gateway "$MASQ_GW" >/dev/null
		for _ in $(seq 1 50); do
			st=$(gw_state)
			[ "$st" = REACHABLE ] && break
			sleep 0.1
		done
		[ "$st" = REACHABLE ] || {
			dctl neigh ls >&2; dctl stats >&2
			echo "bench.sh: the uplink's gateway $MASQ_GW was not resolved (state '$st')" >&2
			exit 1
		}
	}
	# gw_state: the uplink gateway's state in `dpctl neigh ls` ("" if absent).
	gw_state() {
		dctl neigh ls --json | $PY -c '
import json, sys
print(next((n["state"] + ("" if n["mac"] == sys.argv[2] else "-wrong-mac") for n in json.load(sys.stdin)
            if n["address"] == sys.argv[1] and n["network"] == "(uplink)"), ""))' "$MASQ_GW" "$MASQ_GW_MAC"
	}
	OUTPORT=out
	[ "$BENCH" = masq ] && OUTPORT=up
	for r in $(seq 1 "$RUNS"); do
		mkdir -p "$TMP/state"
		start_dp
		if [ "$BENCH" = nat ]; then
			nat_setup "$PCAP"
		elif [ "$BENCH" = masq ]; then
			masq_setup
		else
			dctl add-port out --type null --devargs no-rx=1 >/dev/null
			if [ "$L2MODE" = unicast ]; then
				# Known destinations: static MACs behind the null port (a no-rx
				# port never teaches its MACs), as ovs-appctl fdb/add for OVS.
				for d in $(seq 0 $((DSTS - 1))); do
					dctl mac add bridge "$(printf '02:00:5e:02:%02x:%02x' $((d >> 8)) $((d & 255)))" \
						out >/dev/null
				done
			fi
			dctl add-port in --type pcap --devargs "rx_pcap=$PCAP,infinite_rx=1" >/dev/null
		fi
		sleep "$WARMUP"
		: >"$TMP/samples"
		[ "$BENCH" = masq ] && dctl stats --json >"$TMP/stats0.json"
		for _ in $(seq 0 "$SECS"); do
			sample "$OUTPORT" >>"$TMP/samples"
			sleep 1
		done
		samples=$(awk 'NR > 1 { print ($2 - p2) / ($1 - p1) } { p1 = $1; p2 = $2 }' "$TMP/samples")
		m=$(median <<<"$samples")
		echo "dpnetd  run $r: median $(awk -v x="$m" 'BEGIN { printf "%.2f", x / 1e6 }') Mpps over $(wc -l <<<"$samples") samples"
		dp_runs+=("$m")
		if [ "$r" -eq "$RUNS" ] && [ "$BENCH" = nat ]; then
			dctl stats --json >"$TMP/stats.json" 2>/dev/null || true
			dctl conntrack stats --json >"$TMP/ct.json" 2>/dev/null || true
			dctl nat ls --json >"$TMP/nat.json" 2>/dev/null || true
			dctl nat ls >"$TMP/nat.txt" 2>/dev/null || true
			dctl conntrack stats >"$TMP/ct.txt" 2>/dev/null || true
			printf '%s\n' "--- dpctl nat ls (after the last run)" "$(cat "$TMP/nat.txt")" \
				"--- dpctl conntrack stats" "$(cat "$TMP/ct.txt")"
			# What was measured is the NAT path: one connection per flow, each
			# opened by a DNATed first packet, nothing dropped by NAT.
			NAT_CHECK=$($PY - "$TMP/ct.json" "$TMP/nat.json" "$FLOWS" <<'PYEOF'
import json, sys
ct, nat, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
dnat = sum(r["pkts"] for c in nat["chains"] for r in c["rules"] if r["target"] == "DNAT")
bad = []
if ct["created"] != n or ct["entries"] != n:
    bad.append("conntrack created %d, entries %d (expected %d)" % (ct["created"], ct["entries"], n))
if dnat != n:
    bad.append("the DNAT rule counted %d first packets (expected %d)" % (dnat, n))
if ct["drops_total"]:
    bad.append("NAT drops %s" % ct["drops"])
print("; ".join(bad) if bad else "ok: %d connections, each DNATed on its first packet; "
      "%d packets translated; no NAT drops" % (n, ct["translated"]))
PYEOF
)
			echo "check: $NAT_CHECK"
		elif [ "$BENCH" = masq ]; then
			# Every run: what was measured is the masqueraded path, resolved
			# all along (the window's drops, the gateway still REACHABLE).
			dctl stats --json >"$TMP/stats.json"
			dctl conntrack stats --json >"$TMP/ct.json"
			dctl nat ls --json >"$TMP/nat.json"
			st=$(gw_state)
			if [ "$r" -eq "$RUNS" ]; then
				printf '%s\n' "--- dpctl nat ls (after the last run)" "$(dctl nat ls)" \
					"--- dpctl conntrack stats" "$(dctl conntrack stats)" \
					"--- dpctl neigh ls" "$(dctl neigh ls)" \
					"--- dpctl stats (set-up included)" "$(dctl stats)"
			fi
			NAT_CHECK=$($PY - "$TMP/stats0.json" "$TMP/stats.json" "$TMP/ct.json" "$TMP/nat.json" \
				"$FLOWS" "$st" <<'PYEOF'
import json, sys
s0, s1, ct, nat = (json.load(open(p)) for p in sys.argv[1:5])
n, gw = int(sys.argv[5]), sys.argv[6]
masq = sum(r["pkts"] for c in nat["chains"] for r in c["rules"] if r["target"] == "MASQUERADE")
port = lambda s, name: next(p for p in s["ports"] if p["name"] == name)
tx = port(s1, "up")["tx_pkts"] - port(s0, "up")["tx_pkts"]
rx = port(s1, "in")["rx_pkts"] - port(s0, "in")["rx_pkts"]
xl = s1["nat"]["translated"] - s0["nat"]["translated"]
dr = {k: v - s0["drops"].get(k, 0) for k, v in s1["drops"].items() if v != s0["drops"].get(k, 0)}
bad = []
if ct["created"] != n or ct["entries"] != n:
    bad.append("conntrack created %d, entries %d (expected %d)" % (ct["created"], ct["entries"], n))
if masq != n or s1["nat"]["masquerade_connections"] != n:
    bad.append("MASQUERADE counted %d connections, stats %d (expected %d)" %
               (masq, s1["nat"]["masquerade_connections"], n))
if ct["drops_total"]:
    bad.append("NAT drops %s" % ct["drops"])
if dr:
    bad.append("drops during the window: %s" % dr)
if abs(xl - tx) > max(1024, tx // 1000):
    bad.append("the window translated %d packets but the uplink sent %d" % (xl, tx))
if gw != "REACHABLE":
    bad.append("the gateway is %s at the end" % (gw or "gone"))
print("; ".join(bad) if bad else "ok: %d connections, each masqueraded once (MASQUERADE %d); "
      "window: %d frames in, %d translated, %d out of the uplink, no drops; gateway REACHABLE, "
      "%d ARP request(s) in all" % (n, masq, rx, xl, tx, s1["neigh"]["requests"]))
PYEOF
)
			echo "check run $r: $NAT_CHECK"
			[[ "$NAT_CHECK" == ok:* ]] || MASQ_BAD="${MASQ_BAD:+$MASQ_BAD / }run $r: $NAT_CHECK"
		elif [ "$r" -eq "$RUNS" ]; then
			dctl stats --json >"$TMP/stats.json" 2>/dev/null || true
			# Idle: the pcap port gone, the null port (no-rx) still polled.
			dctl del-port in >/dev/null
			sleep 2
			read -r u0 s0 < <(awk '{ print $14, $15 }' "/proc/$DPID/stat")
			sleep "$IDLE_SECS"
			read -r u1 s1 < <(awk '{ print $14, $15 }' "/proc/$DPID/stat")
			IDLE_PCT=$(awk -v d=$((u1 + s1 - u0 - s0)) -v hz="$(getconf CLK_TCK)" -v s=$IDLE_SECS \
				'BEGIN { printf "%.2f", 100 * d / hz / s }')
			echo "dpnetd idle (adaptive, one null port, ${IDLE_SECS} s): ${IDLE_PCT} % of one core"
		fi
		stop_dp
		rm -rf "$TMP/state"
	done
	DP_PPS=$(printf '%s\n' "${dp_runs[@]}" | median)
	[ -z "${MASQ_BAD:-}" ] || NAT_CHECK="FAILED: $MASQ_BAD"

	if [ "$BENCH" = nat ]; then
		# ---- new connections per second: one pass over NEW_FLOWS distinct
		# flows into an empty table big enough for them all.
		NEWPCAP="$TMP/new.pcap"
		$PY "$HERE/gen.py" "$NEWPCAP" --flows "$NEW_FLOWS" --dst-ip "${NAT_ADDR%/*}" \
			--dst-port "$NAT_PORT" --dst-mac "$NAT_MAC" >/dev/null
		# mbufs for every frame of the file (~4.3 KB each in the heap) and the table.
		mem=$(((NEW_FLOWS + 65536) * 45 / 10 / 1024 + NEW_FLOWS * 2 * 320 / 1048576 * 2 + 512))
		write_conf "$mem" $((NEW_FLOWS + 65536)) $((NEW_FLOWS * 2))
		echo "new connections: dpnetd -m $mem, mbufs $((NEW_FLOWS + 65536)), conntrack.max $((NEW_FLOWS * 2))"
		nc_runs=() nc_lines=()
		for r in $(seq 1 "$RUNS"); do
			mkdir -p "$TMP/state"
			start_dp
			taskset -c 0 $PY "$HERE/sample.py" "$SOCK" conntrack.stats created 30 --until "$NEW_FLOWS" --every "${BENCH_SAMPLE_MS:-1}" \
				>"$TMP/created" 2>"$TMP/sample.err" &
			SPID=$!
			nat_setup "$NEWPCAP"
			wait "$SPID" || { cat "$TMP/sample.err" >&2; echo "bench.sh: sampling conntrack failed" >&2; }
			line=$($PY - "$TMP/created" "$NEW_FLOWS" <<'PYEOF'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
def when(x):
    return next((t for t, v in rows if v >= x), None)
t10, t90 = when(0.1 * n), when(0.9 * n)
last = rows[-1][1] if rows else 0
ramp = sum(1 for t, v in rows if 0.1 * n <= v <= 0.9 * n)
if t10 is None or t90 is None or t90 <= t10:
    print("0 %d 0 %d" % (last, ramp))
else:
    print("%.0f %d %.4f %d" % (0.8 * n / (t90 - t10), last, t90 - t10, ramp))
PYEOF
)
			read -r nc_rate nc_total nc_secs nc_samples <<<"$line"
			echo "new connections run $r: $nc_total created; $(awk -v x="$nc_rate" 'BEGIN { printf "%.2f", x / 1e6 }') M/s from 10 % to 90 % of $NEW_FLOWS ($nc_secs s, $nc_samples samples)"
			nc_runs+=("$nc_rate")
			nc_lines+=("$line")
			stop_dp
			rm -rf "$TMP/state"
		done
		# The median run's figures (rate, created, seconds, samples).
		med=$(printf '%s\n' "${nc_runs[@]}" | median)
		for line in "${nc_lines[@]}"; do
			[ "${line%% *}" = "$med" ] && NEWCONN=$line
		done
		[ -n "$NEWCONN" ] || NEWCONN="$med 0 0 0"
		NEWCONN_RUNS="${nc_runs[*]}"

		# ---- memory per conntrack entry: DPDK heap in use (EAL telemetry) of
		# two idle daemons that differ only in conntrack.max.
		heap=()
		for max in 65536 1048576; do
			write_conf 2048 16384 "$max"
			mkdir -p "$TMP/state"
			start_dp
			heap+=("$($PY - "/var/run/dpdk/dpbench-dp-$ID/dpdk_telemetry.v2" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)
s.send(b"/eal/heap_info,0")
print(json.loads(s.recv(16384))["/eal/heap_info"]["Alloc_size"])
PYEOF
)")
			stop_dp
			rm -rf "$TMP/state"
		done
		CT_BYTES=$(( (heap[1] - heap[0]) / (1048576 - 65536) ))
		echo "conntrack memory: DPDK heap in use ${heap[0]} B (max 65536) -> ${heap[1]} B (max 1048576): $CT_BYTES B per entry"
	fi
else
	DP_NOTE="dpnetd/dpctl not built: only the testpmd baseline was measured"
	echo "bench.sh: $DP_NOTE" >&2
	DPNETD_CMD=""
fi

# ---------------------------------------------------------------- report
mkdir -p "$HERE/results"
OUT="$HERE/results/bench-$(date +%Y%m%d-%H%M%S).json"
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
$PY - "$OUT" "$TMP/stats.json" "$TMP/ct.json" "$TMP/nat.json" "$TMP/stats0.json" <<EOF
import json, os, sys
bench = "$BENCH"
def load(p):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None
tp = float("$TP_PPS")
stats, ct, nat = load(sys.argv[2]), load(sys.argv[3]), load(sys.argv[4])
stats0 = load(sys.argv[5]) if bench == "masq" else None
dp = float("${DP_PPS:-0}") or None
doc = {
    "bench": bench, "mode": "$MODE", "seconds": $SECS, "runs": $RUNS,
    "frames": {"count": $FRAMES, "bytes": 60, "src_macs": $SRCS, "dst_macs": $DSTS}
        if bench == "l2" else {"count": $FLOWS, "bytes": 60, "flows": $FLOWS,
                                "to": "${NAT_ADDR%/*}:$NAT_PORT/udp"} if bench == "nat" else
        {"count": $FLOWS, "bytes": 60, "flows": $FLOWS, "from": "$MASQ_CTR_IP ($MASQ_CTR_MAC)",
         "to": "$MASQ_TO_ADDRS addresses after $MASQ_TO, port $MASQ_PORT/udp",
         "uplink": "$MASQ_ADDR via $MASQ_GW", "arp_replies": $ARP_FRAMES},
    "machine": {"cpu": "$CPU", "cores": $(nproc), "hugepages": ${HUGE:-0} == 1,
                "kernel": "$(uname -r)"},
    "testpmd_io": {"mpps": tp / 1e6, "runs_mpps": [float(x) / 1e6 for x in "${tp_runs[*]}".split()],
                   "command": "$TESTPMD_CMD"},
    "dpnetd_" + bench: None if dp is None else {
        "mode": "$L2MODE" if bench == "l2" else "DNAT + conntrack hit, $FLOWS flows"
            if bench == "nat" else "routed + MASQUERADE (conntrack hit) to a NIC-mode uplink, $FLOWS flows",
        "mpps": dp / 1e6, "runs_mpps": [float(x) / 1e6 for x in "${dp_runs[*]}".split()],
        "command": "$DPNETD_CMD"},
    "ratio": None if dp is None else dp / tp,
    "dpnetd_idle_cpu_pct": ${IDLE_PCT:-None},
    "note": "$DP_NOTE",
    "dpnetd_stats": stats,   # dpctl stats --json at the end of the last run
}
if bench == "nat":
    r = "${NEWCONN}".split()
    doc["new_connections"] = None if len(r) < 3 else {
        "per_second": float(r[0]), "created": int(r[1]), "seconds_10_to_90": float(r[2]),
        "samples_10_to_90": int(r[3]),
        "runs_per_second": [float(x) for x in "${NEWCONN_RUNS:-}".split()],
        "flows": $NEW_FLOWS,
        "method": "first pass over a pcap of distinct UDP flows (infinite_rx) into an empty "
                  "table; conntrack.stats 'created' sampled every ms (perf/sample.py); "
                  "rate = 80 % of the flows / time from 10 % to 90 % created"}
    doc["conntrack_bytes_per_entry"] = ${CT_BYTES:-None}
    doc["check"] = """$NAT_CHECK"""
    doc["conntrack_stats"] = ct
    doc["nat_ls"] = nat
# masq: per-stage cycles and drops of the measured window (the last run's).
window = None
if bench == "masq" and stats and stats0:
    st0 = {s["name"]: s for s in stats0.get("stages", [])}
    window = {"stages": {}, "drops": {}}
    for s in stats.get("stages", []):
        a = st0.get(s["name"], {"pkts": 0, "cycles": 0, "calls": 0, "timed_pkts": 0})
        dp_ = s["pkts"] - a["pkts"]
        # cycles are measured in one burst of 8 (pipeline.c): per timed packet.
        dt_ = s.get("timed_pkts", s["pkts"]) - a.get("timed_pkts", a["pkts"])
        if dp_ and dt_:
            window["stages"][s["name"]] = {"pkts": dp_, "cycles_per_pkt": (s["cycles"] - a["cycles"]) / dt_,
                                           "pkts_per_call": dp_ / max(1, s["calls"] - a["calls"])}
    window["drops"] = {k: v - stats0["drops"].get(k, 0) for k, v in stats["drops"].items()
                       if v != stats0["drops"].get(k, 0)}
if bench == "masq":
    doc["check"] = """$NAT_CHECK"""
    doc["window"] = window
    doc["dpnetd_stats_window_start"] = stats0
    doc["testpmd_io_same_vdevs"] = {"mpps": float("${TP_SAME:-0}") / 1e6,
        "command": "as testpmd_io with --vdev net_pcap1,rx_pcap=ARP.pcap instead of net_null0,no-rx=1"}
    doc["conntrack_stats"] = ct
    doc["nat_ls"] = nat
json.dump(doc, open(sys.argv[1], "w"), indent=2)
print()
what = "60-byte frames, pcap -> null, ${MEMNOTE}" if bench == "l2" else \
    "60-byte frames, $FLOWS UDP flows, pcap -> null, ${MEMNOTE}" if bench == "nat" else \
    "60-byte frames, $FLOWS UDP flows; testpmd pcap -> null, dpnetd pcap -> pcap uplink (TX drop), ${MEMNOTE}"
print("| contender (%s) | Mpps | ratio to testpmd |" % what)
print("|---|---|---|")
print("| dpdk-testpmd --forward-mode=io | %.2f | 1.00 |" % (tp / 1e6))
if dp is not None:
    if bench == "l2":
        print("| dpnetd, L2 bridge, ${L2MODE} | %.2f | %.2f |" % (dp / 1e6, dp / tp))
        print()
        print("dpnetd idle CPU, adaptive polling, %d s: %s %% of one core" % ($IDLE_SECS, "${IDLE_PCT}"))
    elif bench == "masq":
        same = doc["testpmd_io_same_vdevs"]["mpps"]
        if same:
            print("| dpdk-testpmd --forward-mode=io on dpnetd's vdevs (pcap -> pcap, TX drop) | %.2f | %.2f |" %
                  (same, same * 1e6 / tp))
        print("| dpnetd, routed + MASQUERADE to a NIC-mode uplink | %.2f | %.2f |" % (dp / 1e6, dp / tp))
        print()
        print("check: %s" % doc["check"])
        for k, v in sorted((window or {}).get("drops", {}).items()):
            print("dpnetd drops during the window %s: %s" % (k, v))
        for k, v in (window or {}).get("stages", {}).items():
            print("dpnetd stage %-8s %6.1f cycles/packet (window, %.1f packets/call)" %
                  (k, v["cycles_per_pkt"], v["pkts_per_call"]))
    else:
        print("| dpnetd, NAT: DNAT + conntrack hit + route | %.2f | %.2f |" % (dp / 1e6, dp / tp))
        print()
        nc = doc["new_connections"]
        if nc:
            print("new connections: %.2f M/s (median of runs %s; %d created from %d flows)" %
                  (nc["per_second"] / 1e6, " / ".join("%.2f" % (x / 1e6) for x in nc["runs_per_second"]),
                   nc["created"], nc["flows"]))
        print("memory per conntrack entry: %s bytes (DPDK heap, conntrack.max 65536 vs 1048576)" %
              doc["conntrack_bytes_per_entry"])
        print("check: %s" % doc["check"])
        for k, v in sorted(((stats or {}).get("drops") or {}).items()):
            if v:
                print("dpnetd drops %s: %s" % (k, v))
    for st in (stats or {}).get("stages", []) if bench != "masq" else []:
        if st.get("pkts"):
            print("dpnetd stage %-8s %6.1f cycles/packet" % (st.get("name"), st["cycles_per_pkt"]))
print()
print("results: %s" % sys.argv[1])
EOF
