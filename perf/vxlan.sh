#!/usr/bin/env bash
# perf/vxlan.sh [quick|full] - the overlay's cost (issue 6): VXLAN
# encapsulation and decapsulation against plain L2 bridging of the same inner
# frames, with testpmd io on those frames as the I/O limit, all in one run.
#
#   quick: 1 run of 5 s per contender;  full: 3 runs of 10 s, median of runs.
#
# The inner frames are perf/gen.py's L2 frames (BENCH_FRAMES 256, 60 bytes,
# BENCH_SRCS 4 source MACs 02:00:5e:01:00:0x, BENCH_DSTS 4 destinations
# 02:00:5e:02:00:0x). Each dpnet contender is a fresh dpnetd (adaptive
# polling, no hugepages unless HUGE=1) with an overlay network ov1 (VNI 42):
#  l2     in (pcap, infinite_rx, in ov1) -> out (null, no-rx, in ov1); the
#         destinations are static MACs behind out: known unicast, bridged.
#  encap  in (pcap, infinite_rx, in ov1) -> VXLAN to the peer 198.19.0.2 -> up,
#         a NIC-mode uplink (pcap, address 198.19.0.1/24) whose TX counts and
#         frees like net_null's. The destinations are remote MACs: up's
#         rx_pcap (read once) holds BENCH_ARP_FRAMES (500000) ARP replies of
#         the peer (the first encapsulated frames ask for it: its address is
#         on the uplink's subnet) and then one VXLAN frame from each
#         destination MAC, which teaches ov1 that they live behind the peer.
#         It is added after in, while frames already flow, as perf/bench.sh's
#         masq does, so that a reply meets the request.
#  decap  up (pcap, infinite_rx: the same inner frames inside VXLAN from the
#         peer to 198.19.0.1, 110 bytes) -> out (null, in ov1), the inner
#         destinations static MACs behind out.
# Rates: medians of 1-second samples of the output port's TX counter after a
# warm-up; the stage cycles per packet come from `dpctl stats --perf`. Each run
# checks that what was measured is that path (encap: every frame out of up was
# encapsulated, nothing dropped in the window; decap: every frame in was
# decapsulated). Writes perf/results/vxlan-<time>.json and prints a table.
#
# Environment: DPNETD, DPCTL (default: build tree, then PATH), HUGE=1,
# BENCH_FRAMES/SRCS/DSTS, BENCH_ARP_FRAMES. Needs root.
set -euo pipefail
BENCH_NAME=vxlan.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MODE=${1:-quick}
case "$MODE" in
quick) RUNS=1 SECS=5 ;;
full) RUNS=3 SECS=10 ;;
*) echo "usage: perf/vxlan.sh [quick|full]" >&2; exit 2 ;;
esac
WARMUP=2
bench_tools
[ -x "$DPNETD" ] && [ -x "$DPCTL" ] || { echo "vxlan.sh: build dpnet first (bash scripts/run.sh build)" >&2; exit 1; }
bench_require
# One benchmark at a time on this machine (perf/lib.sh).
bench_lock

FRAMES=${BENCH_FRAMES:-256} SRCS=${BENCH_SRCS:-4} DSTS=${BENCH_DSTS:-4}
ARP_FRAMES=${BENCH_ARP_FRAMES:-500000}
VNI=42 UP_ADDR=198.19.0.1/24 PEER=198.19.0.2 PEER_MAC=02:00:c6:13:00:02

TMP=$(mktemp -d /tmp/dpnet-vxbench.XXXXXX)
ID=$$
DPID=""
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"; sleep 1; kill -KILL "$DPID" 2>/dev/null || true
	fi
	if [ -n "$TP_PID" ]; then bench_kill "$TP_PID"; fi
	bench_eal_undo
	rm -rf /var/run/dpdk/dpvx-* "$TMP"
}
trap cleanup EXIT
bench_eal "$TMP"    # EAL and MEMNOTE: --no-huge, or HUGE=1's 2 MB pages

dmac() { printf '02:00:5e:02:%02x:%02x' $(($1 >> 8)) $(($1 & 255)); }

SOCK="$TMP/dpnet.sock"
dctl() { "$DPCTL" --socket "$SOCK" "$@"; }
start_dp() {
	printf 'poll:\n  mode: adaptive\n' >"$TMP/dpnet.yaml"
	"$DPNETD" --socket "$SOCK" --state-dir "$TMP/state" --config "$TMP/dpnet.yaml" \
		-- "${EAL[@]}" -m 512 --file-prefix "dpvx-dp-$ID" >>"$TMP/dpnetd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 150); do
		dctl status >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.2
	done
	tail -n 20 "$TMP/dpnetd.log" >&2
	echo "vxlan.sh: dpnetd did not start" >&2
	exit 1
}
stop_dp() {
	kill -TERM "$DPID"
	for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=""
	rm -rf "/var/run/dpdk/dpvx-dp-$ID" "$TMP/state"
}
# port_field NAME FIELD: a field of port NAME in `dpctl stats --json`.
port_field() {
	dctl stats --json | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(next(p for p in d["ports"] if p["name"] == sys.argv[1])[sys.argv[2]])' "$1" "$2"
}
sample() { printf '%s %s\n' "$(date +%s.%N)" "$(port_field "$1" tx_pkts)"; }
# measure PORT: the median rate of PORT's TX over SECS 1-second samples.
measure() {
	: >"$TMP/samples"
	for _ in $(seq 0 "$SECS"); do
		sample "$1" >>"$TMP/samples"
		sleep 1
	done
	awk 'NR > 1 { print ($2 - p2) / ($1 - p1) } { p1 = $1; p2 = $2 }' "$TMP/samples" | median
}
# The uplink MAC of a fresh daemon's first and second pcap devices (net_pcap
# numbers its MACs by device; decap's uplink is the first, encap's the second):
# probed once, as perf/bench.sh does.
up_mac() {
	dctl status --json | $PY -c 'import json, sys; print(json.load(sys.stdin)["uplink"]["gw_mac"])'
}
probe_up_macs() {
	$PY "$HERE/gen.py" "$TMP/probe.pcap" --frames 1 >/dev/null
	mkdir -p "$TMP/state"
	start_dp
	dctl add-port up --type pcap --devargs "rx_pcap=$TMP/probe.pcap" --role uplink \
		--address "$UP_ADDR" >/dev/null
	UP_MAC0=$(up_mac)
	dctl del-port up >/dev/null
	dctl add-port up --type pcap --devargs "rx_pcap=$TMP/probe.pcap" --role uplink \
		--address "$UP_ADDR" >/dev/null
	UP_MAC1=$(up_mac)
	stop_dp
	for m in "$UP_MAC0" "$UP_MAC1"; do
		[[ "$m" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || { echo "vxlan.sh: cannot learn the uplink MAC ($m)" >&2; exit 1; }
	done
}
overlay() {
	dctl network create --driver overlay --vni "$VNI" --subnet 10.242.0.0/24 ov1 >/dev/null
}

# ---------------------------------------------------------------- inputs
probe_up_macs
INNER="$TMP/inner.pcap" OUTER="$TMP/outer.pcap" TEACH="$TMP/teach.pcap" UPRX="$TMP/uprx.pcap"
$PY "$HERE/gen.py" "$INNER" --frames "$FRAMES" --srcs "$SRCS" --dsts "$DSTS"
$PY "$HERE/gen.py" "$OUTER" --frames "$FRAMES" --srcs "$SRCS" --dsts "$DSTS" \
	--vxlan "$PEER_MAC,$UP_MAC0,$PEER,${UP_ADDR%/*},$VNI"
# The remote MACs' teachers: inner source = each destination of the inner frames.
$PY "$HERE/gen.py" "$TEACH" --frames "$DSTS" --srcs "$DSTS" --dsts "$SRCS" \
	--src-mac-base 02:00:5e:02 --dst-mac-base 02:00:5e:01 \
	--vxlan "$PEER_MAC,$UP_MAC1,$PEER,${UP_ADDR%/*},$VNI" >/dev/null
$PY "$HERE/gen.py" "$UPRX" --arp-reply "$PEER,$PEER_MAC,${UP_ADDR%/*}" --frames "$ARP_FRAMES" >/dev/null
tail -c +25 "$TEACH" >>"$UPRX"    # the teachers after the replies (pcap records only)

# ---------------------------------------------------------------- testpmd io
tp_runs=()
for r in $(seq 1 "$RUNS"); do
	log="$TMP/testpmd-$r.log"
	testpmd_pps "$log" "dpvx-tp-$ID" 16384 "$SECS" "$WARMUP" \
		"net_pcap0,rx_pcap=$INNER,infinite_rx=1" net_null0,no-rx=1
	[ "$TP_N" -gt 0 ] || { tail -n 20 "$log" >&2; echo "vxlan.sh: testpmd gave no samples" >&2; exit 1; }
	m=$TP_RATE
	echo "testpmd io  run $r: $(mpps "$m") Mpps"
	tp_runs+=("$m")
done
TP=$(printf '%s\n' "${tp_runs[@]}" | median)

# ---------------------------------------------------------------- dpnetd
declare -A RATE
for what in l2 encap decap; do
	runs=()
	for r in $(seq 1 "$RUNS"); do
		mkdir -p "$TMP/state"
		start_dp
		overlay
		case $what in
		l2)
			dctl add-port out --type null --devargs no-rx=1 --network ov1 >/dev/null
			for d in $(seq 0 $((DSTS - 1))); do dctl mac add ov1 "$(dmac "$d")" out >/dev/null; done
			dctl add-port in --type pcap --devargs "rx_pcap=$INNER,infinite_rx=1" --network ov1 >/dev/null
			OUT=out
			;;
		encap)
			dctl vxlan peer add ov1 "$PEER" >/dev/null
			dctl add-port in --type pcap --devargs "rx_pcap=$INNER,infinite_rx=1" --network ov1 >/dev/null
			dctl add-port up --type pcap --devargs "rx_pcap=$UPRX" --role uplink --address "$UP_ADDR" >/dev/null
			[ "$(up_mac)" = "$UP_MAC1" ] || { echo "vxlan.sh: encap: the uplink's MAC is $(up_mac), the teachers go to $UP_MAC1" >&2; exit 1; }
			OUT=up
			# The peer resolved and the destinations learned behind it.
			for _ in $(seq 1 50); do
				n=$(dctl vxlan fdb ls ov1 --json | $PY -c 'import json, sys; print(len(json.load(sys.stdin)))')
				[ "$n" -ge "$DSTS" ] && break
				sleep 0.1
			done
			[ "$n" -ge "$DSTS" ] || { dctl vxlan fdb ls ov1 >&2; dctl neigh ls >&2; dctl stats >&2; echo "vxlan.sh: encap: the remote MACs were not learned" >&2; exit 1; }
			;;
		decap)
			dctl vxlan peer add ov1 "$PEER" >/dev/null
			dctl add-port out --type null --devargs no-rx=1 --network ov1 >/dev/null
			for d in $(seq 0 $((DSTS - 1))); do dctl mac add ov1 "$(dmac "$d")" out >/dev/null; done
			dctl add-port up --type pcap --devargs "rx_pcap=$OUTER,infinite_rx=1" --role uplink --address "$UP_ADDR" >/dev/null
			[ "$(up_mac)" = "$UP_MAC0" ] || { echo "vxlan.sh: decap: the uplink's MAC is $(up_mac), the frames go to $UP_MAC0" >&2; exit 1; }
			OUT=out
			;;
		esac
		sleep "$WARMUP"
		dctl stats --json >"$TMP/s0.json"
		m=$(measure "$OUT")
		dctl stats --perf --json >"$TMP/s1.json"
		$PY - "$TMP/s0.json" "$TMP/s1.json" "$what" >"$TMP/check-$what.json" <<'PYEOF'
import json, sys
s0, s1 = (json.load(open(p)) for p in sys.argv[1:3])
what = sys.argv[3]
port = lambda s, n: next((p for p in s["ports"] if p["name"] == n), None)
d = lambda s_, n, k: (port(s1, n) or {}).get(k, 0) - (port(s0, n) or {}).get(k, 0)
drops = {k: v - s0["drops"].get(k, 0) for k, v in s1["drops"].items() if v != s0["drops"].get(k, 0)}
vx1, vx0 = s1.get("vxlan", {}), s0.get("vxlan", {})
bad = []
if what == "encap":
    tx, enc = d(None, "up", "tx_pkts"), vx1.get("encapsulated", 0) - vx0.get("encapsulated", 0)
    if abs(tx - enc) > max(1024, tx // 1000):
        bad.append("up sent %d frames but %d were encapsulated" % (tx, enc))
    floods = s1["floods"] - s0["floods"]
    if floods > tx // 1000:
        bad.append("%d frames flooded (destinations not known remote)" % floods)
elif what == "decap":
    rx, dec = d(None, "up", "rx_pkts"), vx1.get("decapsulated", 0) - vx0.get("decapsulated", 0)
    if abs(rx - dec) > max(1024, rx // 1000):
        bad.append("up received %d frames but %d were decapsulated" % (rx, dec))
if drops:
    bad.append("drops in the window: %s" % drops)
stages = {}
for w in s1.get("workers", []):
    for st in w["stages"]:
        if st["pkts"]:
            stages[st["name"]] = round(st["cycles_per_pkt"], 1)
print(json.dumps({"ok": not bad, "why": "; ".join(bad), "stages": stages}))
PYEOF
		echo "dpnetd $what run $r: $(mpps "$m") Mpps  $(cat "$TMP/check-$what.json")"
		runs+=("$m")
		stop_dp
	done
	RATE[$what]=$(printf '%s\n' "${runs[@]}" | median)
done

# ---------------------------------------------------------------- report
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$ROOT/perf/results"
OUTJSON="$ROOT/perf/results/vxlan-$STAMP.json"
$PY - "$OUTJSON" <<PYEOF
import json, sys
tp, l2, en, de = $TP, ${RATE[l2]}, ${RATE[encap]}, ${RATE[decap]}
checks = {k: json.load(open("$TMP/check-%s.json" % k)) for k in ("l2", "encap", "decap")}
res = {"bench": "vxlan", "mode": "$MODE", "when": "$STAMP", "cpu": "$CPU", "memory": "$MEMNOTE",
       "frames": $FRAMES, "testpmd_io_pps": tp, "l2_pps": l2, "encap_pps": en, "decap_pps": de,
       "encap_vs_l2": en / l2 if l2 else 0, "decap_vs_l2": de / l2 if l2 else 0, "checks": checks}
json.dump(res, open(sys.argv[1], "w"), indent=1)
print()
print("perf/vxlan.sh %s, %s, %s, 60-byte inner frames (110 outer)" % ("$MODE", "$MEMNOTE", "$CPU"))
print("%-34s %10s %12s %12s" % ("path", "Mpps", "vs L2", "vs testpmd"))
for name, v in (("testpmd io, inner frames", tp), ("dpnet L2 bridging (ov1, local)", l2),
                ("dpnet VXLAN encap", en), ("dpnet VXLAN decap", de)):
    print("%-34s %10.2f %12s %12.2f" % (name, v / 1e6, "%.2fx" % (v / l2) if l2 else "-", v / tp if tp else 0))
for k, c in checks.items():
    print("check %-6s %s  cycles/pkt by stage: %s" % (k, "ok" if c["ok"] else "FAILED: " + c["why"], c["stages"]))
print("overlay cost: encap %.0f %%, decap %.0f %% below L2 (target: at most 20 %%)" %
      (100 * (1 - en / l2) if l2 else 0, 100 * (1 - de / l2) if l2 else 0))
print("wrote %s" % sys.argv[1])
PYEOF
