#!/usr/bin/env bash
# perf/suite.sh [quick|full] - the benchmark suite in one command (issue 7):
# every pipeline at every frame size, dpnetd against dpdk-testpmd io on the
# same virtual devices with the same pcap, the two measured back to back in
# this invocation; a table, a JSON file and PNG plots.
#
#   quick: 64 and 1518-byte frames, 1 s warm-up + 2 s of samples (< 2 min)
#   full:  64 128 256 512 1024 1518 and IMIX (7:4:1 of 64/570/1518),
#          2 s warm-up + 5 s of samples (~11 min)
#
# Pipelines (dpnetd is a fresh daemon for each measurement, adaptive polling;
# frames come from a net_pcap port with infinite_rx and leave by a port whose
# TX drops; every rate is the median of 1-second deltas of the output port's
# TX counter after the warm-up; each run checks it measured the path it names):
#   l2      L2 bridging, known unicast: 256 frames (IMIX: 264), 4 source and 4 destination
#           MACs, the destinations static MACs behind the null port
#   flood   the same frames, destinations unknown: flooded to the one other port
#   routed  256 UDP flows from a container (172.17.0.2, its MAC pinned on the
#           pcap port) to 16 addresses of 10.99.0.0/16, addressed to the
#           gateway MAC; a static route 10.99.0.0/16 via a second container
#           (172.17.0.3, its MAC pinned on the null port): LPM, TTL, neighbour,
#           L2 out; no NAT
#   nat     65536 established UDP flows (SUITE_FLOWS) from outside to a
#           published port on a pcap uplink (DNAT + conntrack hit + routing),
#           as perf/bench.sh BENCH=nat; the first pass creates the entries
#   encap   the l2 frames in an overlay network, their destinations remote MACs
#           behind a VXLAN peer: encapsulated to a NIC-mode pcap uplink
#   decap   the l2 frames inside VXLAN from the peer (50 bytes more) arriving
#           on the uplink, decapsulated to static MACs behind a null port
# Frame sizes are those of the pcap's frames with the FCS (64 = 60 bytes in
# the file); for encap and decap the size is the inner frame's. Gbit/s is the
# input frames' rate in bits (mean size with FCS, from the pcap itself; the
# outer frames for decap), without preamble and gap.
# Peers: testpmd io on the pipeline's own vdevs and file (encap: pcap -> pcap
# as dpnetd's uplink, the rest pcap -> null); Open vSwitch with DPDK when
# installed is only detected (noted in the table), not run.
#
# Outputs: the table on stdout; perf/results/suite-<UTC time>-<commit>.json
# (every figure, the per-stage cycles, the checks, the commands); with gnuplot
# (Debian gnuplot-nox) perf/results/suite-<UTC time>-<commit>-mpps.png (Mpps
# by frame size, one panel per pipeline, testpmd on the same panel) and
# ...-ratio.png (dpnetd / testpmd by frame size, every pipeline).
#
# Environment: DPNETD, DPCTL, DPNET_BUILD_DIR (see perf/lib.sh), HUGE=1,
# SUITE_PIPES (a subset, e.g. "l2 nat"), SUITE_SIZES (e.g. "64 imix"),
# SUITE_SECS, SUITE_WARMUP, SUITE_FLOWS, SUITE_GNUPLOT (default gnuplot). Needs root.
set -euo pipefail
BENCH_NAME=suite.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE=${1:-quick}
case "$MODE" in
quick) SIZES="64 1518" SECS=2 WARMUP=1 ;;
full) SIZES="64 128 256 512 1024 1518 imix" SECS=5 WARMUP=2 ;;
*) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
SIZES=${SUITE_SIZES:-$SIZES} SECS=${SUITE_SECS:-$SECS} WARMUP=${SUITE_WARMUP:-$WARMUP}
PIPES=${SUITE_PIPES:-l2 flood routed nat encap decap}
for p in $PIPES; do
	case $p in l2|flood|routed|nat|encap|decap) ;; *) bench_die "unknown pipeline '$p'" ;; esac
done
for s in $SIZES; do
	[ "$s" = imix ] || { [[ "$s" =~ ^[0-9]+$ ]] && [ "$s" -ge 64 ] && [ "$s" -le 1518 ]; } ||
		bench_die "frame size '$s': 64 to 1518 or imix"
done

bench_tools
bench_require
[ -x "$DPNETD" ] && [ -x "$DPCTL" ] || bench_die "dpnetd/dpctl not found: build dpnet first (bash scripts/run.sh build)"
bench_lock
T_START=$(date +%s)
# What was measured: the tree as it is now (-dirty: uncommitted changes).
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || COMMIT="$COMMIT-dirty"

FRAMES=256 SRCS=4 DSTS=4
FLOWS=${SUITE_FLOWS:-65536}
NAT_ADDR=198.19.0.1/24 NAT_PORT=8080
# routed: the first two containers of a fresh daemon (checked every run).
RT_C1_IP=172.17.0.2 RT_C1_MAC=02:42:ac:11:00:02 RT_C2_IP=172.17.0.3 RT_C2_MAC=02:42:ac:11:00:03
RT_GW_MAC=02:42:ac:11:00:01 RT_NET=10.99.0.0 RT_PREFIX=10.99.0.0/16
VNI=42 UP_ADDR=198.19.0.1/24 PEER=198.19.0.2 PEER_MAC=02:00:c6:13:00:02
ARP_FRAMES=500000
# 1518-byte inner frames: encapsulation takes what fits the uplink MTU (1550).
UP_MTU=1550

TMP=$(mktemp -d /tmp/dpnet-suite.XXXXXX)
ID=$$
PFX=dpsuite-$ID
SOCK="$TMP/dpnet.sock"
CTRS=() DPID=""
dctl() { "$DPCTL" --socket "$SOCK" "$@"; }
cleanup() {
	local c p
	set +e
	if [ -n "$TP_PID" ]; then bench_kill "$TP_PID"; fi
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		for c in "${CTRS[@]}"; do timeout 10 "$DPCTL" --socket "$SOCK" rm -f "$c" >/dev/null 2>&1; done
	fi
	for c in "${CTRS[@]}"; do
		if [ -e "/run/netns/dpnet-$c" ]; then
			for p in $(ip netns pids "dpnet-$c" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
			ip netns del "dpnet-$c" 2>/dev/null
		fi
	done
	if [ -n "$DPID" ]; then bench_kill "$DPID"; fi
	bench_eal_undo
	rm -rf /var/run/dpdk/"$PFX"-* "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench_eal "$TMP"

# ---------------------------------------------------------------- dpnetd helpers
# conf MEMORY_MB [MBUFS CT_MAX]: no ports at start, adaptive polling.
conf() {
	{
		echo "poll:"
		echo "  mode: adaptive"
		if [ $# -gt 1 ]; then
			echo "eal:"
			echo "  memory_mb: $1"
			echo "mbufs: $2"
			echo "conntrack:"
			echo "  max: $3"
		fi
	} >"$TMP/dpnet.yaml"
	DP_MEM=$1
}
start_dp() {
	mkdir -p "$TMP/state"
	dp_start "$PFX-dp" "$TMP/dpnet.yaml" "$DP_MEM" "$SOCK" "$TMP/state" "$TMP/dpnetd.log"
}
stop_dp() {
	local c
	for c in "${CTRS[@]}"; do dctl rm -f "$c" >/dev/null || true; done
	CTRS=()
	dp_stop "$PFX-dp"
	rm -rf "$TMP/state"
}
json_get() { $PY -c 'import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1:]:
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d)' "$@"; }
up_mac() { dctl status --json | json_get uplink gw_mac; }
ctr_ip() { dctl ps --json | $PY -c 'import json, sys
print(next(c["ip"] for c in json.load(sys.stdin) if c["name"] == sys.argv[1]))' "$1"; }
run_ctr() { # NAME [dpctl run options]: a container that sleeps; sets CTR ("IP MAC")
	local n=$1 ip mac
	shift
	CTRS+=("$n")
	dctl run -d --name "$n" "$@" -- sleep infinity >/dev/null
	ip=$(ctr_ip "$n")
	mac=$(ip netns exec "dpnet-$n" cat /sys/class/net/eth0/address)
	CTR="$ip $mac"
}
dmac() { printf '02:00:5e:02:%02x:%02x' $(($1 >> 8)) $(($1 & 255)); }

# The uplink MACs of a fresh daemon's first and second pcap devices (net_pcap
# numbers its MACs by device): nat's and decap's uplink is the first, encap's
# the second (its pcap port "in" comes first). Every run checks it again.
probe() {
	$PY "$HERE/gen.py" "$TMP/probe.pcap" --frames 1 >/dev/null
	conf 512
	start_dp
	dctl add-port up --type pcap --devargs "rx_pcap=$TMP/probe.pcap" --role uplink --address "$UP_ADDR" >/dev/null
	UP_MAC0=$(up_mac)
	dctl del-port up >/dev/null
	dctl add-port up --type pcap --devargs "rx_pcap=$TMP/probe.pcap" --role uplink --address "$UP_ADDR" >/dev/null
	UP_MAC1=$(up_mac)
	stop_dp
	for m in "$UP_MAC0" "$UP_MAC1"; do
		[[ "$m" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || bench_die "cannot learn the pcap uplink's MAC (got '$m')"
	done
}

# ---------------------------------------------------------------- inputs
# gen_inputs SIZE: the pcaps of every pipeline for one frame size, in $TMP/S/.
gen_inputs() {
	local s=$1 d="$TMP/$1" sz n=$FRAMES
	mkdir -p "$d"
	# IMIX: a whole number of 12-frame cycles (the exact 7:4:1 mix; NAT's
	# 65536 flows are 4 frames short of a cycle, which the mean size shows).
	if [ "$s" = imix ]; then sz=(--imix) n=$(((FRAMES + 11) / 12 * 12)); else sz=(--size $((s - 4))); fi
	$PY "$HERE/gen.py" "$d/l2.pcap" --frames "$n" --srcs "$SRCS" --dsts "$DSTS" "${sz[@]}" >/dev/null
	$PY "$HERE/gen.py" "$d/routed.pcap" --flows "$n" --from-ip "$RT_C1_IP" --from-mac "$RT_C1_MAC" \
		--to-net "$RT_NET" --to-addrs 16 --dst-port 9000 --dst-mac "$RT_GW_MAC" "${sz[@]}" >/dev/null
	$PY "$HERE/gen.py" "$d/nat.pcap" --flows "$FLOWS" --dst-ip "${NAT_ADDR%/*}" --dst-port "$NAT_PORT" \
		--dst-mac "$UP_MAC0" "${sz[@]}" >/dev/null
	$PY "$HERE/gen.py" "$d/outer.pcap" --frames "$n" --srcs "$SRCS" --dsts "$DSTS" "${sz[@]}" \
		--vxlan "$PEER_MAC,$UP_MAC0,$PEER,${UP_ADDR%/*},$VNI" >/dev/null
}
# The encap uplink's input, size-independent: the peer's ARP replies (read
# once: the first encapsulated frames ask for it), then one VXLAN frame from
# each destination MAC, which teaches ov1 that they live behind the peer.
gen_uprx() {
	$PY "$HERE/gen.py" "$TMP/teach.pcap" --frames "$DSTS" --srcs "$DSTS" --dsts "$SRCS" \
		--src-mac-base 02:00:5e:02 --dst-mac-base 02:00:5e:01 \
		--vxlan "$PEER_MAC,$UP_MAC1,$PEER,${UP_ADDR%/*},$VNI" >/dev/null
	$PY "$HERE/gen.py" "$TMP/uprx.pcap" --arp-reply "$PEER,$PEER_MAC,${UP_ADDR%/*}" --frames "$ARP_FRAMES" >/dev/null
	tail -c +25 "$TMP/teach.pcap" >>"$TMP/uprx.pcap"
}
# wire_bytes PCAP: the mean frame size with the FCS.
wire_bytes() {
	$PY - "$1" <<'PYEOF'
import struct, sys
n = tot = 0
with open(sys.argv[1], "rb") as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        incl = struct.unpack("<IIII", h)[2]
        f.seek(incl, 1)
        n += 1
        tot += incl + 4
print("%.1f" % (tot / n))
PYEOF
}
# input PIPE SIZE: the pcap the pipeline replays.
input() {
	case $1 in
	l2|flood|encap) echo "$TMP/$2/l2.pcap" ;;
	routed) echo "$TMP/$2/routed.pcap" ;;
	nat) echo "$TMP/$2/nat.pcap" ;;
	decap) echo "$TMP/$2/outer.pcap" ;;
	esac
}

# ---------------------------------------------------------------- testpmd
# tp PIPE SIZE: testpmd io on the pipeline's vdevs and file -> TP_RATE.
tp() {
	local f mbufs=16384 out=net_null0,no-rx=1
	f=$(input "$1" "$2")
	[ "$1" = nat ] && mbufs=$((FLOWS + 65536))   # infinite_rx keeps every frame in an mbuf
	[ "$1" = encap ] && out="net_pcap1,rx_pcap=$TMP/uprx.pcap"
	testpmd_pps "$TMP/testpmd.log" "$PFX-tp" "$mbufs" "$SECS" "$WARMUP" \
		"net_pcap0,rx_pcap=$f,infinite_rx=1" "$out"
}
tp_cmd() {
	local mbufs=16384 out=net_null0,no-rx=1
	[ "$1" = nat ] && mbufs=$((FLOWS + 65536))
	[ "$1" = encap ] && out="net_pcap1,rx_pcap=UPRX.pcap"
	echo "dpdk-testpmd ${EAL[*]} -m 1024 --vdev net_pcap0,rx_pcap=$(basename "$(input "$1" 64)" ),infinite_rx=1 --vdev $out -- --forward-mode=io --total-num-mbufs=$mbufs --stats-period 1"
}

# ---------------------------------------------------------------- dpnetd set-ups
# setup PIPE PCAP: a fresh daemon with the pipeline's ports; sets OUT and IN.
setup() {
	local f=$2 d r
	case $1 in
	l2|flood)
		conf 512
		start_dp
		dctl add-port out --type null --devargs no-rx=1 >/dev/null
		if [ "$1" = l2 ]; then
			for d in $(seq 0 $((DSTS - 1))); do dctl mac add bridge "$(dmac "$d")" out >/dev/null; done
		fi
		dctl add-port in --type pcap --devargs "rx_pcap=$f,infinite_rx=1" >/dev/null
		IN=in OUT=out
		;;
	routed)
		conf 512
		start_dp
		run_ctr "sr1$ID"
		[ "$CTR" = "$RT_C1_IP $RT_C1_MAC" ] || bench_die "routed: the first container is '$CTR', the pcap's frames come from $RT_C1_IP $RT_C1_MAC"
		run_ctr "sr2$ID"
		[ "$CTR" = "$RT_C2_IP $RT_C2_MAC" ] || bench_die "routed: the second container is '$CTR', expected $RT_C2_IP $RT_C2_MAC"
		dctl add-port out --type null --devargs no-rx=1 >/dev/null
		dctl mac add bridge "$RT_C2_MAC" out >/dev/null
		dctl route add "$RT_PREFIX" via "$RT_C2_IP" >/dev/null
		dctl add-port in --type pcap --devargs "rx_pcap=$f,infinite_rx=1" >/dev/null
		# The first container's MAC lives on the pcap port from now on.
		dctl mac add bridge "$RT_C1_MAC" in >/dev/null
		IN=in OUT=out
		;;
	nat)
		conf 1024 $((FLOWS + 65536)) $((FLOWS * 2))
		start_dp
		dctl add-port out --type null --devargs no-rx=1 >/dev/null
		run_ctr "sn$ID" -p "$NAT_PORT:80/udp"
		# The DNAT target's MAC behind the null port, then the uplink (which
		# starts the traffic) once the rule exists.
		dctl mac add bridge "${CTR#* }" out >/dev/null
		dctl add-port in --type pcap --devargs "rx_pcap=$f,infinite_rx=1" --role uplink \
			--address "$NAT_ADDR" >/dev/null
		[ "$(up_mac)" = "$UP_MAC0" ] || bench_die "nat: the uplink's MAC is $(up_mac), the frames go to $UP_MAC0"
		IN=in OUT=out
		;;
	encap)
		conf 512
		start_dp
		dctl network create --driver overlay --vni "$VNI" --subnet 10.242.0.0/24 ov1 >/dev/null
		dctl vxlan peer add ov1 "$PEER" >/dev/null
		dctl add-port in --type pcap --devargs "rx_pcap=$f,infinite_rx=1" --network ov1 >/dev/null
		dctl add-port up --type pcap --devargs "rx_pcap=$TMP/uprx.pcap" --role uplink \
			--address "$UP_ADDR" --mtu "$UP_MTU" >/dev/null
		[ "$(up_mac)" = "$UP_MAC1" ] || bench_die "encap: the uplink's MAC is $(up_mac), the teachers go to $UP_MAC1"
		# The peer resolved and the destinations learned behind it.
		for _ in $(seq 1 50); do
			r=$(dctl vxlan fdb ls ov1 --json | $PY -c 'import json, sys; print(len(json.load(sys.stdin)))')
			[ "$r" -ge "$DSTS" ] && break
			sleep 0.1
		done
		[ "$r" -ge "$DSTS" ] || bench_die "encap: the remote MACs were not learned"
		IN=in OUT=up
		;;
	decap)
		conf 512
		start_dp
		dctl network create --driver overlay --vni "$VNI" --subnet 10.242.0.0/24 ov1 >/dev/null
		dctl vxlan peer add ov1 "$PEER" >/dev/null
		dctl add-port out --type null --devargs no-rx=1 --network ov1 >/dev/null
		for d in $(seq 0 $((DSTS - 1))); do dctl mac add ov1 "$(dmac "$d")" out >/dev/null; done
		dctl add-port up --type pcap --devargs "rx_pcap=$f,infinite_rx=1" --role uplink \
			--address "$UP_ADDR" --mtu "$UP_MTU" >/dev/null
		[ "$(up_mac)" = "$UP_MAC0" ] || bench_die "decap: the uplink's MAC is $(up_mac), the frames go to $UP_MAC0"
		IN=up OUT=out
		;;
	esac
}

# dp PIPE SIZE: one dpnetd measurement; writes $TMP/dp.json (pps, check,
# per-stage cycles) computed from `dpctl stats --perf --json` taken every
# second of the window. Never in a subshell: cleanup must see DPID and CTRS.
dp() {
	local f i
	f=$(input "$1" "$2")
	setup "$1" "$f"
	sleep "$WARMUP"
	rm -f "$TMP"/s-*.json
	for i in $(seq 0 "$SECS"); do
		{ date +%s.%N; dctl stats --perf --json; } >"$TMP/s-$i.json"
		if [ "$i" -lt "$SECS" ]; then sleep 1; fi
	done
	stop_dp
	$PY - "$1" "$IN" "$OUT" "$FLOWS" "$TMP"/s-*.json >"$TMP/dp.json" <<'PYEOF'
import json, statistics, sys
pipe, pin, pout, flows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
snaps = []
for p in sorted(sys.argv[5:], key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
    t, body = open(p).read().split("\n", 1)
    snaps.append((float(t), json.loads(body)))
port = lambda s, n, k: next((p[k] for p in s["ports"] if p["name"] == n), 0)
rates = [(port(b, pout, "tx_pkts") - port(a, pout, "tx_pkts")) / (tb - ta)
         for (ta, a), (tb, b) in zip(snaps, snaps[1:])]
(t0, s0), (t1, s1) = snaps[0], snaps[-1]
d = lambda *k: (lambda g: g(s1) - g(s0))(lambda s: _get(s, k))
def _get(s, k):
    for x in k:
        s = s.get(x, 0) if isinstance(s, dict) else 0
    return s
tx = port(s1, pout, "tx_pkts") - port(s0, pout, "tx_pkts")
rx = port(s1, pin, "rx_pkts") - port(s0, pin, "rx_pkts")
near = lambda a, b: abs(a - b) <= max(1024, b // 1000)
bad = []
drops = {k: v - s0["drops"].get(k, 0) for k, v in s1["drops"].items() if v != s0["drops"].get(k, 0)}
if drops:
    bad.append("drops in the window: %s" % drops)
if tx <= 0:
    bad.append("nothing sent by %s" % pout)
floods = d("floods")
if pipe in ("l2", "encap", "decap") and floods > tx // 1000:
    bad.append("%d of %d frames flooded (destinations not known)" % (floods, tx))
if pipe == "flood" and not near(floods, tx):
    bad.append("%d frames flooded but %d sent" % (floods, tx))
if pipe == "routed" and not near(d("l3", "routed"), tx):
    bad.append("%d frames routed but %d sent" % (d("l3", "routed"), tx))
if pipe == "nat":
    n = s1.get("nat", {})
    if n.get("conntrack_entries") != flows or n.get("dnat_connections") != flows:
        bad.append("conntrack %s entries, %s DNAT connections (expected %d)" %
                   (n.get("conntrack_entries"), n.get("dnat_connections"), flows))
    if not near(d("nat", "translated"), tx):
        bad.append("%d packets translated but %d sent" % (d("nat", "translated"), tx))
if pipe == "encap" and not near(d("vxlan", "encapsulated"), tx):
    bad.append("%d frames encapsulated but %d sent" % (d("vxlan", "encapsulated"), tx))
if pipe == "decap" and not near(d("vxlan", "decapsulated"), rx):
    bad.append("%d frames decapsulated but %d received" % (d("vxlan", "decapsulated"), rx))
stages = {}
for w in s1.get("workers", []):
    for st in w.get("stages", []):
        if st.get("pkts"):
            stages[st["name"]] = round(st["cycles_per_pkt"], 1)
print(json.dumps({"pps": statistics.median(rates) if rates else 0, "samples": [round(r) for r in rates],
                  "ok": not bad, "why": "; ".join(bad), "rx": rx, "tx": tx, "stages": stages}))
PYEOF
}
dp_cmds() {
	case $1 in
	l2) echo "dpctl add-port out --type null --devargs no-rx=1; dpctl mac add bridge 02:00:5e:02:00:0{0..3} out; dpctl add-port in --type pcap --devargs rx_pcap=l2.pcap,infinite_rx=1" ;;
	flood) echo "dpctl add-port out --type null --devargs no-rx=1; dpctl add-port in --type pcap --devargs rx_pcap=l2.pcap,infinite_rx=1" ;;
	routed) echo "dpctl run -d C1 (172.17.0.2); dpctl run -d C2 (172.17.0.3); dpctl add-port out --type null --devargs no-rx=1; dpctl mac add bridge $RT_C2_MAC out; dpctl route add $RT_PREFIX via $RT_C2_IP; dpctl add-port in --type pcap --devargs rx_pcap=routed.pcap,infinite_rx=1; dpctl mac add bridge $RT_C1_MAC in" ;;
	nat) echo "config mbufs $((FLOWS + 65536)), conntrack.max $((FLOWS * 2)), -m 1024; dpctl add-port out --type null --devargs no-rx=1; dpctl run -d -p $NAT_PORT:80/udp CTR; dpctl mac add bridge CTR-MAC out; dpctl add-port in --type pcap --devargs rx_pcap=nat.pcap,infinite_rx=1 --role uplink --address $NAT_ADDR" ;;
	encap) echo "dpctl network create --driver overlay --vni $VNI --subnet 10.242.0.0/24 ov1; dpctl vxlan peer add ov1 $PEER; dpctl add-port in --type pcap --devargs rx_pcap=l2.pcap,infinite_rx=1 --network ov1; dpctl add-port up --type pcap --devargs rx_pcap=UPRX.pcap --role uplink --address $UP_ADDR --mtu $UP_MTU" ;;
	decap) echo "dpctl network create --driver overlay --vni $VNI --subnet 10.242.0.0/24 ov1; dpctl vxlan peer add ov1 $PEER; dpctl add-port out --type null --devargs no-rx=1 --network ov1; dpctl mac add ov1 02:00:5e:02:00:0{0..3} out; dpctl add-port up --type pcap --devargs rx_pcap=outer.pcap,infinite_rx=1 --role uplink --address $UP_ADDR --mtu $UP_MTU" ;;
	esac
}

# ---------------------------------------------------------------- peers
OVS_NOTE="not installed"
if command -v ovs-vswitchd >/dev/null; then
	if ovs-vswitchd --version 2>/dev/null | qgrep -i dpdk; then
		OVS_NOTE="installed ($(ovs-vswitchd --version | head -n 1)), not run by this suite"
	else
		OVS_NOTE="installed without DPDK, not run"
	fi
fi

# ---------------------------------------------------------------- run
echo "perf/suite.sh $MODE: pipelines: $PIPES; frame sizes: $SIZES; ${WARMUP} s warm-up + ${SECS} s per contender; $MEMNOTE"
probe
gen_uprx
: >"$TMP/results.tsv"
for s in $SIZES; do
	gen_inputs "$s"
	for p in $PIPES; do
		wb=$(wire_bytes "$(input "$p" "$s")")
		tp "$p" "$s"
		tpps=$TP_RATE
		[ "$tpps" != 0 ] || { tail -n 20 "$TMP/testpmd.log" >&2; bench_die "testpmd gave no samples ($p, $s)"; }
		dp "$p" "$s"
		res=$(cat "$TMP/dp.json")
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$s" "$wb" "$tpps" "$TP_SAMPLES" "$res" >>"$TMP/results.tsv"
		$PY - "$p" "$s" "$tpps" "$res" <<'PYEOF'
import json, sys
r = json.loads(sys.argv[4]); tp = float(sys.argv[3])
print("  %-7s %5s  testpmd %6.2f Mpps  dpnetd %6.2f Mpps  %.2fx  %s" % (
    sys.argv[1], sys.argv[2], tp / 1e6, r["pps"] / 1e6, r["pps"] / tp if tp else 0,
    "ok" if r["ok"] else "CHECK FAILED: " + r["why"]), flush=True)
PYEOF
	done
	rm -rf "${TMP:?}/$s"
done
ELAPSED=$(($(date +%s) - T_START))

# ---------------------------------------------------------------- report
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
mkdir -p "$ROOT/perf/results"
BASE="$ROOT/perf/results/suite-$STAMP-$COMMIT"
{
	for p in $PIPES; do printf '%s\t%s\t%s\n' "$p" "$(tp_cmd "$p")" "$(dp_cmds "$p")"; done
} >"$TMP/cmds.tsv"
$PY - "$BASE" "$TMP/results.tsv" "$TMP/cmds.tsv" <<PYEOF
import json, sys
base, rows, cmds = sys.argv[1], sys.argv[2], sys.argv[3]
names = {"l2": "L2 known unicast", "flood": "L2 flood (unknown unicast)", "routed": "routed (static route, no NAT)",
         "nat": "NAT, $FLOWS established flows", "encap": "VXLAN encap", "decap": "VXLAN decap"}
# (max - min) / median of a contender's per-second samples: how steady it was.
spread = lambda xs, med: (max(xs) - min(xs)) / med if xs and med else 0
res = []
for line in open(rows):
    p, s, wb, tp, tps, dp = line.rstrip("\n").split("\t")
    dp = json.loads(dp); tp, wb = float(tp), float(wb)
    tps = [float(x) for x in tps.split()]
    res.append({"pipeline": p, "size": s, "wire_bytes": wb, "testpmd_pps": tp,
                "testpmd_samples": tps, "testpmd_spread": spread(tps, tp),
                "dpnetd_spread": spread(dp["samples"], dp["pps"]),
                "testpmd_gbps": tp * wb * 8 / 1e9, "dpnetd_pps": dp["pps"],
                "dpnetd_gbps": dp["pps"] * wb * 8 / 1e9, "ratio": dp["pps"] / tp if tp else 0,
                "dpnetd_samples": dp["samples"], "check_ok": dp["ok"], "check": dp["why"],
                "stages_cycles_per_pkt": dp["stages"]})
commands = {}
for line in open(cmds):
    p, t, d = line.rstrip("\n").split("\t")
    commands[p] = {"testpmd": t, "dpnetd": "dpnetd --config CONF -- ${EAL[*]} -m MEM; " + d}
out = {"suite": "perf/suite.sh", "mode": "$MODE", "when": "$STAMP", "commit": "$COMMIT",
       "cpu": "$CPU", "memory": "$MEMNOTE", "warmup_s": $WARMUP, "secs": $SECS,
       "elapsed_s": $ELAPSED, "peers": {"testpmd io": "measured", "Open vSwitch (DPDK)": "$OVS_NOTE"},
       "results": res, "commands": commands}
json.dump(out, open(base + ".json", "w"), indent=1)
print()
print("perf/suite.sh %s, commit %s, %s, %s; %d s" % ("$MODE", "$COMMIT", "$MEMNOTE", "$CPU", $ELAPSED))
hdr = "%-30s %5s %9s %9s %9s %9s %7s %9s  %s" % ("pipeline", "size", "tp Mpps", "tp Gb/s", "dp Mpps",
                                                   "dp Gb/s", "dp/tp", "spread %", "check")
print(hdr); print("-" * len(hdr))
for r in res:
    print("%-30s %5s %9.2f %9.2f %9.2f %9.2f %6.2fx %9s  %s" % (
        names[r["pipeline"]], r["size"], r["testpmd_pps"] / 1e6, r["testpmd_gbps"],
        r["dpnetd_pps"] / 1e6, r["dpnetd_gbps"], r["ratio"],
        "%d/%d" % (round(100 * r["testpmd_spread"]), round(100 * r["dpnetd_spread"])),
        "ok" if r["check_ok"] else "FAILED: " + r["check"]))
print("%-30s %s" % ("Open vSwitch (DPDK)", "$OVS_NOTE"))
print("sizes: frame bytes with FCS (VXLAN: the inner frame); Gb/s: input frames, mean size from the pcap;")
print("spread: (max - min) / median of the per-second samples, testpmd/dpnetd (large: the machine was busy in that window)")
# gnuplot's data: one block per pipeline (x index, label, testpmd, dpnetd, ratio).
with open(base + ".dat", "w") as f:
    for p in dict.fromkeys(r["pipeline"] for r in res):
        f.write("# %s\n" % names[p])
        for i, r in enumerate(x for x in res if x["pipeline"] == p):
            f.write("%d %s %.4f %.4f %.4f\n" % (i, "IMIX" if r["size"] == "imix" else r["size"],
                                                r["testpmd_pps"] / 1e6, r["dpnetd_pps"] / 1e6, r["ratio"]))
        f.write("\n\n")
PYEOF

# ---------------------------------------------------------------- plots
GNUPLOT=${SUITE_GNUPLOT:-gnuplot}
if command -v "$GNUPLOT" >/dev/null; then
	mapfile -t TITLES < <(sed -n 's/^# //p' "$BASE.dat")
	np=${#TITLES[@]}
	cols=$((np < 3 ? np : 3))
	rows=$(((np + cols - 1) / cols))
	{
		echo "set terminal pngcairo size $((cols * 520)),$((rows * 400 + 60)) font 'sans,10'"
		echo "set output '$BASE-mpps.png'"
		echo "set multiplot layout $rows,$cols title 'dpnet vs testpmd io, Mpps by frame size ($MODE, $COMMIT, $STAMP, $MEMNOTE)'"
		echo "set grid ytics; set key top right; set yrange [0:*]; set xlabel 'frame size (bytes, FCS incl.)'; set ylabel 'Mpps'"
		echo "set style data linespoints; set offsets 0.3, 0.3, 0, 0"
		# IMIX is not a size: its point stands apart, not on the line.
		echo "sz(c) = strcol(2) eq 'IMIX' ? NaN : column(c); mix(c) = strcol(2) eq 'IMIX' ? column(c) : NaN"
		for i in "${!TITLES[@]}"; do
			echo "set title '${TITLES[$i]}'"
			echo "plot '$BASE.dat' index $i using 1:(sz(3)):xtic(2) title 'testpmd io' lw 2 pt 7 lc 1," \
				"'' index $i using 1:(mix(3)):xtic(2) notitle with points pt 7 ps 1.3 lc 1," \
				"'' index $i using 1:(sz(4)):xtic(2) title 'dpnetd' lw 2 pt 5 lc 2," \
				"'' index $i using 1:(mix(4)):xtic(2) notitle with points pt 5 ps 1.3 lc 2"
		done
		echo "unset multiplot"
		echo "set terminal pngcairo size 900,560 font 'sans,10'"
		echo "set output '$BASE-ratio.png'"
		echo "set title 'dpnetd / testpmd io by frame size ($MODE, $COMMIT, $STAMP)'; set ylabel 'dpnetd / testpmd io'; set key below maxrows 2"
		printf "plot "
		for i in "${!TITLES[@]}"; do
			[ "$i" -gt 0 ] && printf ", "
			printf "'%s' index %d using 1:(sz(5)):xtic(2) title '%s' lw 2 pt 7 lc %d, '' index %d using 1:(mix(5)):xtic(2) notitle with points pt 7 ps 1.3 lc %d" \
				"$BASE.dat" "$i" "${TITLES[$i]}" $((i + 1)) "$i" $((i + 1))
		done
		echo
	} >"$TMP/plot.gp"
	if "$GNUPLOT" "$TMP/plot.gp" 2>"$TMP/gnuplot.err"; then
		echo "plots: $BASE-mpps.png $BASE-ratio.png"
	else
		cat "$TMP/gnuplot.err" >&2
		echo "plots: gnuplot failed (table and JSON written)" >&2
	fi
else
	echo "plots: NOT drawn: gnuplot is not installed (Debian gnuplot-nox; bash scripts/run.sh deps); table and JSON written"
fi
echo "wrote $BASE.json"
