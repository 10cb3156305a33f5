#!/usr/bin/env bash
# perf/bench.sh [quick|full] - L2 forwarding rate of dpnetd against dpdk-testpmd
# on the same virtual devices in the same run, and dpnetd's idle CPU.
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
# Environment: DPNETD, DPCTL (default: build tree, then PATH), BENCH_FRAMES,
# BENCH_SRCS, BENCH_DSTS (pcap shape, defaults 256/4/4), BENCH_L2=flood|unicast
# (destination MACs unknown, or known through static entries; default flood).
# Writes perf/results/bench-<time>.json and prints a table. Needs root.
set -euo pipefail

MODE=${1:-quick}
case "$MODE" in
quick) SECS=5 RUNS=1 ;;
full) SECS=10 RUNS=3 ;;
*) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
IDLE_SECS=10
WARMUP=2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PY=/usr/bin/python3
pick() { # ENVVAL BUILDPATH NAME
	if [ -n "$1" ]; then echo "$1"
	elif [ -x "$2" ]; then echo "$2"
	else command -v "$3" || true; fi
}
DPNETD=$(pick "${DPNETD:-}" "$ROOT/build/control/dpnetd" dpnetd)
DPCTL=$(pick "${DPCTL:-}" "$ROOT/build/control/dpctl" dpctl)
FRAMES=${BENCH_FRAMES:-256} SRCS=${BENCH_SRCS:-4} DSTS=${BENCH_DSTS:-4}
# flood: destinations unknown (flooded to the one other port); unicast: known.
L2MODE=${BENCH_L2:-flood}
case "$L2MODE" in flood|unicast) ;; *) echo "bench.sh: BENCH_L2 is flood or unicast" >&2; exit 2 ;; esac

[ "$(id -u)" -eq 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }
command -v dpdk-testpmd >/dev/null || { echo "bench.sh: needs dpdk-testpmd (dpdk-dev)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/dpnet-bench.XXXXXX)
ID=$$
DPID=""
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"; sleep 1; kill -KILL "$DPID" 2>/dev/null || true
	fi
	if [ -n "${HUGE_MNT:-}" ]; then
		rm -f "$HUGE_MNT"/* 2>/dev/null || true
		umount "$HUGE_MNT" 2>/dev/null || true
		echo "$HUGE_OLD" >"$HUGE_NR"
	fi
	rm -rf /var/run/dpdk/dpbench-* "$TMP"
}
trap cleanup EXIT

if [ "${HUGE:-0}" = 1 ]; then
	# 1.2 GB of 2 MB pages: testpmd's -m 1024 or dpnetd's -m 512, one at a time.
	HUGE_NR=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	HUGE_OLD=$(cat "$HUGE_NR")
	echo $((HUGE_OLD + 640)) >"$HUGE_NR"
	HUGE_MNT="$TMP/huge"
	mkdir -p "$HUGE_MNT"
	mount -t hugetlbfs -o pagesize=2M none "$HUGE_MNT"
	EAL=(--huge-dir "$HUGE_MNT" --no-pci -l 0,1)
	MEMNOTE="2 MB hugepages"
else
	EAL=(--no-huge --no-pci -l 0,1)
	MEMNOTE="no hugepages"
fi
PCAP="$TMP/in.pcap"
$PY "$HERE/gen.py" "$PCAP" --frames "$FRAMES" --srcs "$SRCS" --dsts "$DSTS"

median() { # numbers on stdin -> median
	sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- testpmd
TESTPMD_CMD="dpdk-testpmd ${EAL[*]} -m 1024 --file-prefix dpbench-tp --vdev net_pcap0,rx_pcap=IN.pcap,infinite_rx=1 --vdev net_null0,no-rx=1 -- --forward-mode=io --total-num-mbufs=16384 --stats-period 1"
tp_runs=()
for r in $(seq 1 "$RUNS"); do
	log="$TMP/testpmd-$r.log"
	timeout -s INT $((SECS + WARMUP + 2)) dpdk-testpmd "${EAL[@]}" -m 1024 \
		--file-prefix "dpbench-tp-$ID" \
		--vdev "net_pcap0,rx_pcap=$PCAP,infinite_rx=1" --vdev net_null0,no-rx=1 \
		-- --forward-mode=io --total-num-mbufs=16384 --stats-period 1 >"$log" 2>&1 || true
	# Rx-pps of port 0 (the pcap port), one line per second; skip the warm-up.
	samples=$(awk '/NIC statistics for port/ { port = $6 } /Rx-pps:/ && port == 0 { print $2 }' "$log" |
		tail -n +$((WARMUP + 1)) | head -n "$SECS")
	[ -n "$samples" ] || { tail -n 20 "$log" >&2; echo "bench.sh: testpmd gave no samples" >&2; exit 1; }
	m=$(median <<<"$samples")
	echo "testpmd run $r: median $(awk -v x="$m" 'BEGIN { printf "%.2f", x / 1e6 }') Mpps over $(wc -l <<<"$samples") samples"
	tp_runs+=("$m")
	rm -rf "/var/run/dpdk/dpbench-tp-$ID"
done
TP_PPS=$(printf '%s\n' "${tp_runs[@]}" | median)

# ---------------------------------------------------------------- dpnetd
DP_PPS="" IDLE_PCT="" DP_NOTE=""
dp_runs=()
if [ -x "$DPNETD" ] && [ -x "$DPCTL" ]; then
	SOCK="$TMP/dpnet.sock"
	cat >"$TMP/dpnet.yaml" <<EOF
# perf/bench.sh: no ports at start, adaptive polling (a loaded worker never sleeps)
poll:
  mode: adaptive
EOF
	DPNETD_CMD="dpnetd --config CONF -- ${EAL[*]} -m 512 --file-prefix dpbench-dp; dpctl add-port in --type pcap --devargs rx_pcap=IN.pcap,infinite_rx=1; dpctl add-port out --type null --devargs no-rx=1"
	dctl() { "$DPCTL" --socket "$SOCK" "$@"; }
	start_dp() {
		"$DPNETD" --socket "$SOCK" --state-dir "$TMP/state" --config "$TMP/dpnet.yaml" \
			-- "${EAL[@]}" -m 512 --file-prefix "dpbench-dp-$ID" >>"$TMP/dpnetd.log" 2>&1 &
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
	for r in $(seq 1 "$RUNS"); do
		mkdir -p "$TMP/state"
		start_dp
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
		sleep "$WARMUP"
		: >"$TMP/samples"
		for _ in $(seq 0 "$SECS"); do
			sample out >>"$TMP/samples"
			sleep 1
		done
		samples=$(awk 'NR > 1 { print ($2 - p2) / ($1 - p1) } { p1 = $1; p2 = $2 }' "$TMP/samples")
		m=$(median <<<"$samples")
		echo "dpnetd  run $r: median $(awk -v x="$m" 'BEGIN { printf "%.2f", x / 1e6 }') Mpps over $(wc -l <<<"$samples") samples"
		dp_runs+=("$m")
		if [ "$r" -eq "$RUNS" ]; then
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
else
	DP_NOTE="dpnetd/dpctl not built: only the testpmd baseline was measured"
	echo "bench.sh: $DP_NOTE" >&2
	DPNETD_CMD=""
fi

# ---------------------------------------------------------------- report
mkdir -p "$HERE/results"
OUT="$HERE/results/bench-$(date +%Y%m%d-%H%M%S).json"
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
$PY - "$OUT" "$TMP/stats.json" <<EOF
import json, os, sys
tp = float("$TP_PPS")
stats = None
if os.path.exists(sys.argv[2]):
    try:
        stats = json.load(open(sys.argv[2]))
    except ValueError:
        pass
dp = float("${DP_PPS:-0}") or None
doc = {
    "mode": "$MODE", "seconds": $SECS, "runs": $RUNS,
    "frames": {"count": $FRAMES, "bytes": 60, "src_macs": $SRCS, "dst_macs": $DSTS},
    "machine": {"cpu": "$CPU", "cores": $(nproc), "hugepages": ${HUGE:-0} == 1,
                "kernel": "$(uname -r)"},
    "testpmd_io": {"mpps": tp / 1e6, "runs_mpps": [float(x) / 1e6 for x in "${tp_runs[*]}".split()],
                   "command": "$TESTPMD_CMD"},
    "dpnetd_l2": None if dp is None else {
        "mode": "$L2MODE", "mpps": dp / 1e6, "runs_mpps": [float(x) / 1e6 for x in "${dp_runs[*]}".split()],
        "command": "$DPNETD_CMD"},
    "ratio": None if dp is None else dp / tp,
    "dpnetd_idle_cpu_pct": ${IDLE_PCT:-None},
    "note": "$DP_NOTE",
    "dpnetd_stats": stats,   # dpctl stats --json at the end of the last run
}
json.dump(doc, open(sys.argv[1], "w"), indent=2)
print()
print("| contender (60-byte frames, pcap -> null, ${MEMNOTE}) | Mpps | ratio to testpmd |")
print("|---|---|---|")
print("| dpdk-testpmd --forward-mode=io | %.2f | 1.00 |" % (tp / 1e6))
if dp is not None:
    print("| dpnetd, L2 bridge, ${L2MODE} | %.2f | %.2f |" % (dp / 1e6, dp / tp))
    print()
    print("dpnetd idle CPU, adaptive polling, %d s: %s %% of one core" % ($IDLE_SECS, "${IDLE_PCT}"))
    for st in (stats or {}).get("stages", []):
        if st.get("pkts"):
            print("dpnetd stage %-8s %6.1f cycles/packet" % (st.get("name"), st["cycles"] / st["pkts"]))
print()
print("results: %s" % sys.argv[1])
EOF
