#!/usr/bin/env bash
# perf/overlay_tcp.sh [SECONDS [RUNS]] - container-to-container TCP across two
# dpnet hosts through the VXLAN overlay against the same two hosts without it,
# in one run (issue 6), with the kernel's own VXLAN cost beside it:
#
#   overlay      container a on host 1 -> container b on host 2, both on the
#                overlay network ov1 (VNI 4242, static peers): VXLAN in dpnet's
#                data plane, MTU 1450
#   published    the same hosts without the overlay, as Docker users cross hosts
#                without one: a on host 1's default bridge network -> host 2's
#                uplink address, port published by b (-p 5201:5201); host 1
#                MASQUERADEs, host 2 DNATs; MTU 1500
#   kernel vxlan two namespaces on the same underlay bridge through Linux vxlan
#                devices (VNI 4243, dstport 4789), MTU 1450 - the kernel's overlay
#   kernel plain the same two namespaces over the underlay directly, MTU 1500
#
# The hosts are two dpnetd (one worker each, adaptive polling) whose uplinks
# are afpacket ports on veths into an "underlay" namespace holding a Linux
# bridge (192.0.2.11/24 and .12/24), as tests/e2e/vxlan_lib.sh builds them.
# iperf3, one stream, SECONDS (default 10) per run, RUNS (default 3) runs; the
# figure is the median of the receiver's rates. On a 2-core machine both hosts'
# workers, both iperf3 ends and the kernel's softirqs share the CPUs: absolute
# numbers are the machine's, the ratios are the point.
#
# Environment: DPNETD, DPCTL (default: build tree, then PATH).
# Writes perf/results/overlay-tcp-<time>.json and prints a table. Needs root.
set -euo pipefail

SECS=${1:-10}
RUNS=${2:-3}
BENCH_NAME=overlay_tcp.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_tools
[ "$(id -u)" -eq 0 ] || { echo "overlay_tcp.sh: run as root" >&2; exit 1; }
for c in iperf3 ip ethtool bridge; do
	command -v $c >/dev/null || { echo "overlay_tcp.sh: needs $c" >&2; exit 1; }
done
[ -x "$DPNETD" ] && [ -x "$DPCTL" ] || { echo "overlay_tcp.sh: dpnetd/dpctl not found" >&2; exit 1; }
bench_lock   # one benchmark at a time (perf/lib.sh)

ID=$(od -An -N2 -tx2 /dev/urandom | tr -dc '0-9a-f')
TMP=$(mktemp -d /tmp/dpnet-ovtcp.XXXXXX)
PREFIX="dpovt-$ID"
UNDER="ovt$ID-u"
NSS=() LINKS=() PIDS=()
declare -A DPID=()

hctl() { local h=$1; shift; "$DPCTL" --socket "$TMP/h$h.sock" "$@"; }
stop_pid() {
	local p=$1
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	set +e
	for h in "${!DPID[@]}"; do
		for c in a b; do hctl "$h" rm -f "ovt$ID$c" >/dev/null 2>&1; done
		stop_pid "${DPID[$h]}"
	done
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	for l in "${LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	rm -rf "/var/run/dpdk/$PREFIX"-*
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkns() {
	ip netns add "$1"
	NSS+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}
ethoff() { # NS IF: the offloads dpnet's links have off
	ip netns exec "$1" ethtool -K "$2" tx off rx off sg off tso off gso off gro off >/dev/null 2>&1 || true
}

# The underlay: a bridge in its own namespace; plug IF makes a veth whose end IF
# stays in the root namespace and whose peer joins the bridge.
mkns "$UNDER"
ip -n "$UNDER" link add br0 type bridge
ip -n "$UNDER" link set br0 type bridge stp_state 0 forward_delay 0 2>/dev/null || true
ip -n "$UNDER" link set br0 up
plug() {
	ip link add "$1" type veth peer name "${1}p"
	LINKS+=("$1")
	ip link set "${1}p" netns "$UNDER"
	ip -n "$UNDER" link set "${1}p" master br0 up
	ethoff "$UNDER" "${1}p"
	ethtool -K "$1" tx off rx off sg off tso off gso off gro off >/dev/null 2>&1 || true
	ip link set "$1" up
}

# Two dpnet hosts.
for h in 1 2; do
	plug "ovt$ID$h"
	printf 'poll:\n  mode: adaptive\n' >"$TMP/h$h.yaml"
	"$DPNETD" --config "$TMP/h$h.yaml" --socket "$TMP/h$h.sock" --state-dir "$TMP/h$h.state" \
		-- --no-huge -m 512 --no-pci -l 0,1 --file-prefix "$PREFIX-h$h" >"$TMP/h$h.log" 2>&1 &
	DPID[$h]=$!
	for _ in $(seq 1 150); do hctl "$h" status >/dev/null 2>&1 && break; sleep 0.2; done
	hctl "$h" status >/dev/null || { tail "$TMP/h$h.log" >&2; echo "overlay_tcp.sh: host $h did not start" >&2; exit 1; }
	hctl "$h" add-port up --type afpacket --iface "ovt$ID$h" --role uplink --address "192.0.2.1$h/24" >/dev/null
	hctl "$h" network create --driver overlay --vni 4242 --subnet 10.77.0.0/24 --ip-range "10.77.0.$((h * 16))/28" ov1 >/dev/null
done
hctl 1 vxlan peer add ov1 192.0.2.12 >/dev/null
hctl 2 vxlan peer add ov1 192.0.2.11 >/dev/null
ctr_ip() { hctl "$1" --json ps | $PY -c 'import json,sys; print(next(c["ip"] for c in json.load(sys.stdin) if c["name"]==sys.argv[1]))' "$2"; }
wait_ping() { # NS IP
	for _ in $(seq 1 60); do
		ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}

iperf_once() { # SERVER-NS CLIENT-NS ADDR [PORT]
	local out sp
	ip netns exec "$1" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	sp=$!
	PIDS+=("$sp")
	sleep 0.5
	out=$(ip netns exec "$2" timeout $((SECS + 15)) iperf3 -c "$3" -p "${4:-5201}" -t "$SECS" -J 2>/dev/null || true)
	wait "$sp" 2>/dev/null || true
	$PY -c '
import json, sys
try:
    print("%.3f" % (json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("0")' "$out"
}
declare -A GBPS
# measure NAME SERVER-NS CLIENT-NS ADDR [PORT]: the median of RUNS runs.
measure() {
	local name=$1 v=()
	shift
	for _ in $(seq 1 "$RUNS"); do v+=("$(iperf_once "$@")"); done
	GBPS[$name]=$(printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	echo "$name: ${GBPS[$name]} Gbit/s (runs: ${v[*]})"
}

echo "# TCP, one stream, ${SECS} s per run, median of $RUNS runs; receiver's rate"

# ---------------------------------------------------------------- overlay
hctl 1 run -d --name "ovt${ID}a" --network ov1 -- sleep infinity >/dev/null
hctl 2 run -d --name "ovt${ID}b" --network ov1 -- sleep infinity >/dev/null
BIP=$(ctr_ip 2 "ovt${ID}b")
wait_ping "dpnet-ovt${ID}a" "$BIP" || { echo "overlay_tcp.sh: a cannot ping b over the overlay" >&2; exit 1; }
measure overlay "dpnet-ovt${ID}b" "dpnet-ovt${ID}a" "$BIP"
hctl 1 rm -f "ovt${ID}a" >/dev/null
hctl 2 rm -f "ovt${ID}b" >/dev/null

# ---------------------------------------------------------------- published port
hctl 1 run -d --name "ovt${ID}a" -- sleep infinity >/dev/null
hctl 2 run -d --name "ovt${ID}b" -p 5201:5201 -- sleep infinity >/dev/null
wait_ping "dpnet-ovt${ID}a" 192.0.2.12 || { echo "overlay_tcp.sh: a cannot reach host 2" >&2; exit 1; }
measure published "dpnet-ovt${ID}b" "dpnet-ovt${ID}a" 192.0.2.12
hctl 1 rm -f "ovt${ID}a" >/dev/null
hctl 2 rm -f "ovt${ID}b" >/dev/null
for h in 1 2; do stop_pid "${DPID[$h]}"; unset "DPID[$h]"; done

# ---------------------------------------------------------------- the kernel
for k in 1 2; do
	n="ovt$ID-k$k"
	mkns "$n"
	ip link add "ovt$ID-k$k" type veth peer name "ovt$ID-k${k}p"
	ip link set "ovt$ID-k${k}p" netns "$UNDER"
	ip -n "$UNDER" link set "ovt$ID-k${k}p" master br0 up
	ip link set "ovt$ID-k$k" netns "$n"
	ip -n "$n" link set "ovt$ID-k$k" name eth0
	ip -n "$n" addr add "192.0.2.2$k/24" dev eth0
	ip -n "$n" link set eth0 up
	ip -n "$n" link add vx0 type vxlan id 4243 dstport 4789 local "192.0.2.2$k" dev eth0 nolearning
	ip -n "$n" addr add "10.78.0.$k/24" dev vx0
	ip -n "$n" link set vx0 mtu 1450 up
done
ip netns exec "ovt$ID-k1" bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.22
ip netns exec "ovt$ID-k2" bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.21
wait_ping "ovt$ID-k1" 10.78.0.2 || { echo "overlay_tcp.sh: kernel vxlan does not ping" >&2; exit 1; }
measure kernel_vxlan "ovt$ID-k2" "ovt$ID-k1" 10.78.0.2
measure kernel_plain "ovt$ID-k2" "ovt$ID-k1" 192.0.2.22

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$ROOT/perf/results"
OUT="$ROOT/perf/results/overlay-tcp-$STAMP.json"
$PY - "$OUT" "${GBPS[overlay]}" "${GBPS[published]}" "${GBPS[kernel_vxlan]}" "${GBPS[kernel_plain]}" "$SECS" "$RUNS" <<'PYEOF'
import json, sys
out, ov, pub, kv, kp = sys.argv[1], *map(float, sys.argv[2:6])
secs, runs = int(sys.argv[6]), int(sys.argv[7])
json.dump({"bench": "overlay_tcp", "secs": secs, "runs": runs, "overlay_gbps": ov,
           "published_gbps": pub, "kernel_vxlan_gbps": kv, "kernel_plain_gbps": kp},
          open(out, "w"), indent=1)
print()
print("%-44s %10s %10s" % ("path", "Gbit/s", "ratio"))
print("%-44s %10.2f %10s" % ("dpnet, two hosts, overlay (VXLAN, MTU 1450)", ov, "%.2f" % (ov / pub) if pub else "-"))
print("%-44s %10.2f %10s" % ("dpnet, two hosts, published port (no overlay)", pub, "1.00"))
print("%-44s %10.2f %10s" % ("kernel vxlan, two namespaces", kv, "%.2f" % (kv / kp) if kp else "-"))
print("%-44s %10.2f %10s" % ("kernel, same namespaces, no overlay", kp, "1.00"))
if pub and kp:
    print("overlay cost: dpnet %.0f %%, kernel %.0f %%" % (100 * (1 - ov / pub), 100 * (1 - kv / kp)))
print("wrote %s" % out)
PYEOF
