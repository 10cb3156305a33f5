#!/usr/bin/env bash
# perf/attach.sh [SECONDS [RUNS]] - container-to-container TCP through dpnet with each
# attachment kind, against its peers on the same kind of ports, in one run:
#
#   dpnet veth   two `dpctl run -d --attach veth` containers (veth pair, host end
#                an afpacket port; offloads off on both ends, as dpnet sets them)
#   dpnet tap    two `dpctl run -d --attach tap` containers (net_tap moved in)
#   dpnet vtap   two `dpctl run -d --attach vtap` containers (drivers/vtap.h: a
#                TAP with virtio-net headers, the containers' TSO and checksum
#                offloads on, 64 KB segments cross the switch whole)
#   testpmd veth dpdk-testpmd --forward-mode=io between two net_af_packet ports on
#                the host ends of two veth pairs (offloads off, as above)
#   testpmd tap  testpmd io between two net_tap ports moved into two namespaces
#   bridge       two veth pairs on a Linux bridge, the kernel's default offloads
#                (Docker's docker0 path); bridge-nf-call-iptables off if present
#   bridge/off   the same with the offloads dpnet turns off also off (one MTU
#                frame per packet, the per-frame cost the DPDK paths pay)
#
# iperf3 TCP, one stream, SECONDS (default 10) per run, RUNS runs (default 3)
# per contender; the figure is the median of the receiver's rates. Then the time from `dpctl run -d` to a container that answers
# ping (another container pings its address), for each attachment kind: median
# of 5.
#
# Every DPDK process runs with --no-huge, EAL lcores 0,1 (one forwarding/worker
# lcore on CPU 1), as perf/bench.sh. On a 2-core machine iperf3's two ends and
# the kernel's softirq work share the CPUs with the forwarder: absolute numbers
# are the machine's, the ratios are the point.
#
# Environment: DPNETD, DPCTL (default: build tree, then PATH); ATTACH_CONFIG: the
# dpnetd config (default conf/no-ports.yaml), e.g. to compare poll modes.
# Writes perf/results/attach-<time>.json and prints a table. Needs root.
set -euo pipefail

SECS=${1:-10}
RUNS=${2:-3}
BENCH_NAME=attach.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_tools

[ "$(id -u)" -eq 0 ] || { echo "attach.sh: run as root" >&2; exit 1; }
for c in iperf3 dpdk-testpmd ip ethtool; do
	command -v $c >/dev/null || { echo "attach.sh: needs $c" >&2; exit 1; }
done
[ -x "$DPNETD" ] && [ -x "$DPCTL" ] || { echo "attach.sh: dpnetd/dpctl not found" >&2; exit 1; }
bench_lock   # one benchmark at a time (perf/lib.sh)

ID=$(od -An -N2 -tx2 /dev/urandom | tr -dc '0-9a-f')
TMP=$(mktemp -d /tmp/dpnet-attach.XXXXXX)
SOCK="$TMP/dpnet.sock"
PREFIX="dpatt-$ID"
NSS=() LINKS=() PIDS=() CTRS=()
DPID="" TPID=""

dctl() { "$DPCTL" --socket "$SOCK" "$@"; }
stop_pid() { # PID
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local c n l p
	set +e
	for c in "${CTRS[@]}"; do dctl rm -f "$c" >/dev/null 2>&1; done
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	[ -n "$TPID" ] && stop_pid "$TPID"
	[ -n "$DPID" ] && stop_pid "$DPID"
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	for l in "${LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	rm -rf "/var/run/dpdk/$PREFIX"-*
	if [ "${ATTACH_KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

EAL=(--no-huge -m 512 --no-pci -l 0,1)

ethoff() { # NS IF | "" IF: what dpnet turns off on a veth end
	local pre=()
	[ -n "$1" ] && pre=(ip netns exec "$1")
	"${pre[@]}" ethtool -K "$2" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
	"${pre[@]}" ethtool -K "$2" tx-udp-segmentation off >/dev/null 2>&1 || true
}

# iperf3 NS-SERVER IP NS-CLIENT -> Gbit/s (receiver side), median of RUNS
iperf() {
	local r v=()
	for r in $(seq 1 "$RUNS"); do
		v+=("$(iperf_once "$@")")
	done
	printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

iperf_once() {
	local srv=$1 ip=$2 cli=$3 out
	ip netns exec "$srv" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local sp=$!
	PIDS+=("$sp")
	sleep 0.3
	out=$(ip netns exec "$cli" timeout $((SECS + 15)) iperf3 -c "$ip" -p 5201 -t "$SECS" -J \
		2>/dev/null || true)
	wait "$sp" 2>/dev/null || true
	$PY -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
    print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("0")
' "$out"
}

declare -A GBPS
echo "# TCP, one stream, ${SECS} s per run, median of $RUNS runs; receiver's rate"

# ---------------------------------------------------------------- dpnet
"$DPNETD" --config "${ATTACH_CONFIG:-$ROOT/conf/no-ports.yaml}" --socket "$SOCK" --state-dir "$TMP/state" \
	-- "${EAL[@]}" --file-prefix "$PREFIX-dp" >"$TMP/dpnetd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 150); do dctl status >/dev/null 2>&1 && break; sleep 0.2; done
dctl status >/dev/null || { tail "$TMP/dpnetd.log" >&2; echo "attach.sh: dpnetd did not start" >&2; exit 1; }

ctr_ip() { dctl --json ps | $PY -c 'import json,sys; print(next(c["ip"] for c in json.load(sys.stdin) if c["name"]==sys.argv[1]))' "$1"; }
for kind in veth tap vtap; do
	s="at$ID-s-$kind" c="at$ID-c-$kind"
	CTRS+=("$s" "$c")
	dctl run -d --name "$s" --attach "$kind" >/dev/null
	dctl run -d --name "$c" --attach "$kind" >/dev/null
	sip=$(ctr_ip "$s")
	wait_ping "dpnet-$c" "$sip" 20 || { echo "attach.sh: $c cannot ping $s" >&2; exit 1; }
	GBPS[dpnet_$kind]=$(iperf "dpnet-$s" "$sip" "dpnet-$c")
	echo "dpnet $kind: ${GBPS[dpnet_$kind]} Gbit/s"
	dctl rm -f "$c" >/dev/null
	dctl rm -f "$s" >/dev/null
done

# run -> ping: a peer container pings the new one's address as soon as run returns
declare -A RUNMS PINGMS
CTRS+=("at$ID-peer")
dctl run -d --name "at$ID-peer" >/dev/null
for kind in veth tap vtap; do
	runs=() pings=()
	for k in 1 2 3 4 5; do
		n="at$ID-r$k-$kind"
		CTRS+=("$n")
		t0=$(date +%s%N)
		dctl run -d --name "$n" --attach "$kind" >/dev/null
		t1=$(date +%s%N)
		ip=$(ctr_ip "$n")
		# ping's own resolution: 1 ms between tries, each waits at most 1 s.
		for _ in $(seq 1 2000); do
			ip netns exec "dpnet-at$ID-peer" ping -c 1 -W 1 "$ip" >/dev/null 2>&1 && break
		done
		t2=$(date +%s%N)
		runs+=($(((t1 - t0) / 1000000)))
		pings+=($(((t2 - t0) / 1000000)))
		dctl rm -f "$n" >/dev/null
	done
	RUNMS[$kind]=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)
	PINGMS[$kind]=$(printf '%s\n' "${pings[@]}" | sort -n | sed -n 3p)
	echo "dpnet $kind: dpctl run ${RUNMS[$kind]} ms, pingable after ${PINGMS[$kind]} ms (median of 5)"
done
dctl rm -f "at$ID-peer" >/dev/null
stop_pid "$DPID"
DPID=""

# ---------------------------------------------------------------- testpmd
# testpmd io between two ports; the namespaces hold the iperf3 ends.
testpmd_start() { # VDEV...
	local args=() v
	for v in "$@"; do args+=(--vdev "$v"); done
	dpdk-testpmd "${EAL[@]}" --file-prefix "$PREFIX-tp" "${args[@]}" -- \
		--forward-mode=io --total-num-mbufs=16384 --stats-period 5 \
		>"$TMP/testpmd.log" 2>&1 &
	TPID=$!
	for _ in $(seq 1 100); do
		grep -qi "forwarding" "$TMP/testpmd.log" 2>/dev/null && return 0
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.1
	done
	tail "$TMP/testpmd.log" >&2
	echo "attach.sh: testpmd did not start forwarding" >&2
	exit 1
}

# veth: host ends are net_af_packet ports
A=tp$ID-a B=tp$ID-b
mkns "$A"; mkns "$B"
n=0
for x in a b; do
	ns=tp$ID-$x h=tpv$ID$x n=$((n + 1))
	ip link add "$h" type veth peer name eth0 netns "$ns"
	LINKS+=("$h")
	sysctl -qw "net.ipv6.conf.$h.disable_ipv6=1" 2>/dev/null || true
	ethoff "" "$h"; ethoff "$ns" eth0
	ip link set "$h" up
	ip -n "$ns" addr add "10.251.1.$n/24" dev eth0
	ip -n "$ns" link set eth0 up
done
testpmd_start "net_af_packet0,iface=tpv${ID}a,qdisc_bypass=1" \
	"net_af_packet1,iface=tpv${ID}b,qdisc_bypass=1"
wait_ping "$B" 10.251.1.1 20 || { echo "attach.sh: testpmd veth path does not ping" >&2; exit 1; }
GBPS[testpmd_veth]=$(iperf "$A" 10.251.1.1 "$B")
echo "testpmd afpacket<->afpacket (veth): ${GBPS[testpmd_veth]} Gbit/s"
stop_pid "$TPID"; TPID=""
rm -rf "/var/run/dpdk/$PREFIX-tp"

# tap: net_tap interfaces moved into the namespaces
testpmd_start "net_tap0,iface=tpt${ID}a" "net_tap1,iface=tpt${ID}b"
n=0
for x in a b; do
	ns=tp$ID-$x n=$((n + 1))
	ip link set "tpt$ID$x" netns "$ns" name eth1
	ip -n "$ns" addr add "10.252.1.$n/24" dev eth1
	ip -n "$ns" link set eth1 up
done
wait_ping "$B" 10.252.1.1 20 || { echo "attach.sh: testpmd tap path does not ping" >&2; exit 1; }
GBPS[testpmd_tap]=$(iperf "$A" 10.252.1.1 "$B")
echo "testpmd tap<->tap: ${GBPS[testpmd_tap]} Gbit/s"
stop_pid "$TPID"; TPID=""
rm -rf "/var/run/dpdk/$PREFIX-tp"

# ---------------------------------------------------------------- kernel bridge
K=kb$ID
kbridge "$K" 10.253.1
wait_ping "$K-b" 10.253.1.1 20 || { echo "attach.sh: kernel bridge does not ping" >&2; exit 1; }
GBPS[bridge]=$(iperf "$K-a" 10.253.1.1 "$K-b")
echo "kernel bridge (default offloads, bridge-nf-call-iptables $NFCALL): ${GBPS[bridge]} Gbit/s"
for x in a b; do ethoff "$K-$x" eth0; ethoff "$K-br" "v$x"; done
GBPS[bridge_off]=$(iperf "$K-a" 10.253.1.1 "$K-b")
echo "kernel bridge (offloads off as dpnet sets them): ${GBPS[bridge_off]} Gbit/s"

# ---------------------------------------------------------------- report
mkdir -p "$HERE/results"
OUT="$HERE/results/attach-$(date +%Y%m%d-%H%M%S).json"
$PY - "$OUT" "$SECS" "$NFCALL" "$ROOT" "$RUNS" \
	"${GBPS[dpnet_veth]}" "${GBPS[dpnet_tap]}" "${GBPS[testpmd_veth]}" "${GBPS[testpmd_tap]}" \
	"${GBPS[bridge]}" "${GBPS[bridge_off]}" \
	"${RUNMS[veth]}" "${PINGMS[veth]}" "${RUNMS[tap]}" "${PINGMS[tap]}" \
	"${GBPS[dpnet_vtap]}" "${RUNMS[vtap]}" "${PINGMS[vtap]}" <<'EOF'
import json, sys, subprocess
out, secs, nf, root, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
dv, dt, tv, tt, br, broff = map(float, sys.argv[6:12])
rv, pv, rt, pt = map(int, sys.argv[12:16])
dx = float(sys.argv[16])
rx, px = map(int, sys.argv[17:19])
ratio = lambda a, b: round(a / b, 3) if b > 0 else None
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                        capture_output=True, text=True).stdout.strip()
doc = {
    "what": "iperf3 TCP container to container, one stream",
    "seconds": secs, "runs": runs, "figure": "median of runs", "commit": commit,
    "gbit_s": {"dpnet_veth": dv, "dpnet_tap": dt, "dpnet_vtap": dx,
               "testpmd_veth": tv, "testpmd_tap": tt,
               "kernel_bridge": br, "kernel_bridge_offloads_off": broff},
    "bridge_nf_call_iptables": nf,
    "ratios": {"dpnet_veth/testpmd_veth": ratio(dv, tv), "dpnet_tap/testpmd_tap": ratio(dt, tt),
               "dpnet_veth/kernel_bridge": ratio(dv, br), "dpnet_tap/kernel_bridge": ratio(dt, br),
               "dpnet_veth/dpnet_tap": ratio(dv, dt),
               "dpnet_vtap/kernel_bridge": ratio(dx, br),
               "dpnet_vtap/dpnet_veth": ratio(dx, dv)},
    "faster_attachment": max((("veth", dv), ("tap", dt), ("vtap", dx)), key=lambda k: k[1])[0],
    "run_to_ping_ms": {"veth": {"dpctl_run": rv, "pingable": pv},
                       "tap": {"dpctl_run": rt, "pingable": pt},
                       "vtap": {"dpctl_run": rx, "pingable": px}},
}
json.dump(doc, open(out, "w"), indent=2)
r = doc["ratios"]
print()
print("%-44s %10s" % ("path", "Gbit/s"))
for k, label in (("dpnet_veth", "dpnet, veth + afpacket port"),
                 ("dpnet_tap", "dpnet, tap moved into the namespace"),
                 ("dpnet_vtap", "dpnet, vtap (virtio-net headers, TSO on)"),
                 ("testpmd_veth", "testpmd io, afpacket <-> afpacket (veth)"),
                 ("testpmd_tap", "testpmd io, tap <-> tap"),
                 ("kernel_bridge", "kernel bridge, default offloads"),
                 ("kernel_bridge_offloads_off", "kernel bridge, offloads off")):
    print("%-44s %10.2f" % (label, doc["gbit_s"][k]))
print()
for k, v in r.items():
    print("%-44s %10s" % (k, "-" if v is None else "%.2fx" % v))
print("faster attachment: %s" % doc["faster_attachment"])
print("run -> pingable (median of 5): veth %d ms (dpctl run %d ms), tap %d ms (dpctl run %d ms), "
      "vtap %d ms (dpctl run %d ms)" % (pv, rv, pt, rt, px, rx))
print("written: %s" % out)
EOF
