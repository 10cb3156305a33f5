#!/usr/bin/env bash
# perf/dnat_tcp.sh [SECONDS [RUNS]] - the host's TCP to a published port of a
# container (issue 7: "DNAT'd TCP >= 1.0x kernel DNAT"), against the kernel's
# own DNAT, in one run:
#
#   kernel       Docker's host -> published-port path: a namespace K with a
#                Linux bridge br0 (10.254.71.1/24) and a "host address"
#                10.254.72.1 (on lo); a container namespace on a veth into br0 runs
#                `iperf3 -s`; in K `iptables -t nat` OUTPUT and PREROUTING
#                rules DNAT tcp/5201 to 10.254.72.1 to the container, as
#                Docker's DOCKER chain does; the iperf3 client runs in K against
#                10.254.72.1:5201. The kernel's default offloads everywhere;
#                bridge-nf-call-iptables as a new namespace has it (reported).
#   dpnet vtap   dpnetd in TAP mode with a vtap uplink (drivers/vtap.h): the
#                daemon runs in a namespace H of its own (as tests/e2e/tap_mode.sh
#                does), so the uplink's host side, 169.254.17.1/30, is in H;
#                a vtap container (`run -d --attach vtap -p 5201:5201 -- iperf3
#                -s`); the client in H against 169.254.17.2:5201. The host side
#                keeps its offloads: 64 KB segments cross the switch.
#   dpnet tap    the same with a tap (net_tap) uplink, today's default.
#
# iperf3 TCP, one stream, SECONDS (default 5) per run, RUNS runs (default 3)
# per contender and direction; the figure is the median of the receiver's
# rates. "upload" is host -> container (iperf3 default), "download" is -R.
#
# Every namespace, link and process is the script's own and goes at exit; the
# root namespace's iptables and routes are never touched. dpnetd runs with
# --no-huge, EAL lcores 0,1 (one worker on CPU 1), as perf/attach.sh; the
# benchmark lock /run/dpnet-bench.lock is held throughout.
#
# Environment: DPNETD, DPCTL (default: build tree, then PATH).
# Writes perf/results/dnat_tcp-<time>.json and prints a table. Needs root.
set -euo pipefail

SECS=${1:-5}
RUNS=${2:-3}
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

[ "$(id -u)" -eq 0 ] || { echo "dnat_tcp.sh: run as root" >&2; exit 1; }
for c in iperf3 ip iptables nsenter flock; do
	command -v $c >/dev/null || { echo "dnat_tcp.sh: needs $c" >&2; exit 1; }
done
[ -x "$DPNETD" ] && [ -x "$DPCTL" ] || { echo "dnat_tcp.sh: dpnetd/dpctl not found" >&2; exit 1; }

exec 9>>/run/dpnet-bench.lock
flock -w "${BENCH_LOCK_WAIT:-900}" 9 ||
	{ echo "dnat_tcp.sh: another benchmark holds /run/dpnet-bench.lock" >&2; exit 1; }

ID=$(od -An -N2 -tx2 /dev/urandom | tr -dc '0-9a-f')
TMP=$(mktemp -d /tmp/dpnet-dnat.XXXXXX)
SOCK="$TMP/dpnet.sock"
PREFIX="dpdnat-$ID"
NSS=() PIDS=() CTRS=()
DPID=""

dctl() { "$DPCTL" --socket "$SOCK" "$@"; }
stop_pid() { # PID
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local c n p
	set +e
	for c in "${CTRS[@]}"; do dctl rm -f "$c" >/dev/null 2>&1; done
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	[ -n "$DPID" ] && stop_pid "$DPID"
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "/var/run/dpdk/$PREFIX"-*
	if [ "${DNAT_KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# iperf_once NS-CLIENT IP [-R] -> Gbit/s at the receiver ("0" on failure)
iperf_once() {
	local cli=$1 ip=$2 out
	shift 2
	out=$(ip netns exec "$cli" timeout $((SECS + 20)) iperf3 -c "$ip" -p 5201 -t "$SECS" \
		-J "$@" 2>/dev/null || true)
	$PY -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
    print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("0")
' "$out"
}
# iperf NS-CLIENT IP [-R] -> "median run1/run2/..."
iperf() {
	local r v=()
	for r in $(seq 1 "$RUNS"); do
		v+=("$(iperf_once "$@")")
		sleep 0.5
	done
	printf '%s\n' "${v[@]}" | sort -g |
		awk -v all="$(IFS=/; echo "${v[*]}")" \
			'{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], all }'
}
wait_tcp() { # NS IP PORT: until a TCP connect works (at most ~10 s)
	local i
	for i in $(seq 1 50); do
		ip netns exec "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

declare -A GBPS RUNSOF
record() { # KEY "median all"
	GBPS[$1]=${2%% *}
	RUNSOF[$1]=${2#* }
}
echo "# TCP to a published port, one stream, ${SECS} s per run, median of $RUNS runs;" \
	"receiver's rate"

# ---------------------------------------------------------------- kernel DNAT
K=dnk$ID C=dnc$ID
mkns "$K"; mkns "$C"
NFCALL=absent
if ip netns exec "$K" sysctl -n net.bridge.bridge-nf-call-iptables >/dev/null 2>&1; then
	NFCALL=$(ip netns exec "$K" sysctl -n net.bridge.bridge-nf-call-iptables)
fi
ip -n "$K" link add br0 type bridge
ip -n "$K" addr add 10.254.71.1/24 dev br0
ip -n "$K" link set br0 up
ip -n "$K" addr add 10.254.72.1/32 dev lo   # the host's address (no dummy module needed)
ip -n "$K" link add veth0 type veth peer name eth0 netns "$C"
ip -n "$K" link set veth0 master br0 up
ip -n "$C" addr add 10.254.71.2/24 dev eth0
ip -n "$C" link set eth0 up
ip -n "$C" route add default via 10.254.71.1
ip netns exec "$K" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$K" iptables -t nat -A PREROUTING -d 10.254.72.1/32 -p tcp --dport 5201 \
	-j DNAT --to-destination 10.254.71.2:5201
ip netns exec "$K" iptables -t nat -A OUTPUT -d 10.254.72.1/32 -p tcp --dport 5201 \
	-j DNAT --to-destination 10.254.71.2:5201
ip netns exec "$C" iperf3 -s -p 5201 >/dev/null 2>&1 &
PIDS+=($!)
wait_tcp "$K" 10.254.72.1 5201 || { echo "dnat_tcp.sh: kernel DNAT path does not connect" >&2; exit 1; }
record kernel_up "$(iperf "$K" 10.254.72.1)"
echo "kernel DNAT, upload: ${GBPS[kernel_up]} Gbit/s (${RUNSOF[kernel_up]})"
record kernel_down "$(iperf "$K" 10.254.72.1 -R)"
echo "kernel DNAT, download: ${GBPS[kernel_down]} Gbit/s (${RUNSOF[kernel_down]})"
DNATS=$(ip netns exec "$K" iptables -t nat -vnL OUTPUT | awk '/DNAT/ { print $1 }')
stop_pid "${PIDS[-1]}"
ip netns del "$K"; ip netns del "$C"

# ---------------------------------------------------------------- dpnet
H=dnh$ID
mkns "$H"
# dpnetd joins H's network namespace only: its container namespaces are bind
# mounts in the real mount namespace, visible to ip netns.
dpnet_run() { # KIND(tap|vtap) -> records dpnet_KIND_up / _down and rx_gso
	local kind=$1 ifn="dn$ID${1:0:1}" ctr="dn$ID-$1" st
	cat >"$TMP/$kind.yaml" <<EOF
poll:
  mode: adaptive
ports:
  - name: up0
    type: $kind
    iface: $ifn
    role: uplink
    address: 169.254.17.2/30
    gateway: 169.254.17.1
EOF
	nsenter --net="/run/netns/$H" "$DPNETD" --config "$TMP/$kind.yaml" --socket "$SOCK" \
		--state-dir "$TMP/state-$kind" -- --no-huge -m 512 --no-pci -l 0,1 \
		--file-prefix "$PREFIX-$kind" >"$TMP/dpnetd-$kind.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 150); do dctl status >/dev/null 2>&1 && break; sleep 0.2; done
	dctl status >/dev/null || { tail "$TMP/dpnetd-$kind.log" >&2
		echo "dnat_tcp.sh: dpnetd ($kind uplink) did not start" >&2; exit 1; }
	CTRS+=("$ctr")
	dctl run -d --name "$ctr" --attach vtap -p 5201:5201 -- iperf3 -s -p 5201 >/dev/null
	wait_tcp "$H" 169.254.17.2 5201 ||
		{ echo "dnat_tcp.sh: dpnet ($kind uplink) published port does not connect" >&2
		  exit 1; }
	record "dpnet_${kind}_up" "$(iperf "$H" 169.254.17.2)"
	echo "dpnet, $kind uplink, upload: ${GBPS[dpnet_${kind}_up]} Gbit/s" \
		"(${RUNSOF[dpnet_${kind}_up]})"
	record "dpnet_${kind}_down" "$(iperf "$H" 169.254.17.2 -R)"
	echo "dpnet, $kind uplink, download: ${GBPS[dpnet_${kind}_down]} Gbit/s" \
		"(${RUNSOF[dpnet_${kind}_down]})"
	st=$(dctl port stats up0 --json 2>/dev/null || true)
	GBPS[${kind}_rx_gso]=$($PY -c '
import json, sys
try: print(json.loads(sys.argv[1]).get("vtap", {}).get("rx_gso", "-"))
except Exception: print("-")' "$st")
	dctl rm -f "$ctr" >/dev/null
	stop_pid "$DPID"
	DPID=""
	rm -rf "/var/run/dpdk/$PREFIX-$kind"
}
dpnet_run vtap
dpnet_run tap

# ---------------------------------------------------------------- report
mkdir -p "$HERE/results"
OUT="$HERE/results/dnat_tcp-$(date +%Y%m%d-%H%M%S).json"
$PY - "$OUT" "$SECS" "$RUNS" "$NFCALL" "$ROOT" "${DNATS:-0}" "${GBPS[vtap_rx_gso]}" \
	"kernel_up=${GBPS[kernel_up]}=${RUNSOF[kernel_up]}" \
	"kernel_down=${GBPS[kernel_down]}=${RUNSOF[kernel_down]}" \
	"dpnet_vtap_up=${GBPS[dpnet_vtap_up]}=${RUNSOF[dpnet_vtap_up]}" \
	"dpnet_vtap_down=${GBPS[dpnet_vtap_down]}=${RUNSOF[dpnet_vtap_down]}" \
	"dpnet_tap_up=${GBPS[dpnet_tap_up]}=${RUNSOF[dpnet_tap_up]}" \
	"dpnet_tap_down=${GBPS[dpnet_tap_down]}=${RUNSOF[dpnet_tap_down]}" <<'EOF'
import json, sys, subprocess
out, secs, runs, nf, root, dnats, gso = sys.argv[1:8]
g, r = {}, {}
for a in sys.argv[8:]:
    k, v, allr = a.split("=")
    g[k] = float(v)
    r[k] = allr
ratio = lambda a, b: round(a / b, 3) if b > 0 else None
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                        capture_output=True, text=True).stdout.strip()
doc = {
    "what": "iperf3 TCP from the host to a container's published port (DNAT), one stream",
    "seconds": int(secs), "runs": int(runs), "figure": "median of runs", "commit": commit,
    "gbit_s": g, "runs_gbit_s": r, "bridge_nf_call_iptables": nf,
    "kernel_output_dnat_connections": dnats, "vtap_uplink_rx_gso": gso,
    "ratios": {d: {"dpnet_vtap/kernel": ratio(g["dpnet_vtap_" + d], g["kernel_" + d]),
                   "dpnet_tap/kernel": ratio(g["dpnet_tap_" + d], g["kernel_" + d]),
                   "dpnet_vtap/dpnet_tap": ratio(g["dpnet_vtap_" + d], g["dpnet_tap_" + d])}
               for d in ("up", "down")},
}
json.dump(doc, open(out, "w"), indent=2)
print()
print("%-40s %12s %12s" % ("path (Gbit/s)", "upload", "download"))
for k, label in (("kernel", "kernel DNAT (iptables OUTPUT, bridge)"),
                 ("dpnet_vtap", "dpnet, vtap uplink -> vtap container"),
                 ("dpnet_tap", "dpnet, tap uplink -> vtap container")):
    print("%-40s %12.2f %12.2f" % (label, g[k + "_up"], g[k + "_down"]))
for k in ("dpnet_vtap/kernel", "dpnet_tap/kernel", "dpnet_vtap/dpnet_tap"):
    f = lambda v: "-" if v is None else "%.2fx" % v
    print("%-40s %12s %12s" % (k, f(doc["ratios"]["up"][k]), f(doc["ratios"]["down"][k])))
print("bridge-nf-call-iptables in K: %s; kernel OUTPUT DNAT connections: %s; "
      "vtap uplink rx-gso after the runs: %s" % (nf, dnats, gso))
print("written: %s" % out)
EOF
