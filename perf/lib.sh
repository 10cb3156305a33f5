# perf/lib.sh - what the benchmark scripts share; sourced, never run:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets HERE (perf/), ROOT (the tree), PY (/usr/bin/python3: scapy's) and
# defines the helpers below. The caller sets BENCH_NAME (its name in
# messages) first and keeps `set -euo pipefail`.
#
#   qgrep ARGS          grep -q at the end of a pipeline (reads all its input:
#                       no SIGPIPE for the writer under pipefail)
#   bench_die MSG       the message on stderr, exit 1
#   bench_tools         DPNETD, DPCTL: $DPNETD/$DPCTL, else the build tree
#                       ($DPNET_BUILD_DIR, default build/), else PATH ("" if none)
#   bench_require       root and dpdk-testpmd, or exit
#   bench_lock          one benchmark at a time: /run/dpnet-bench.lock held on
#                       fd 9 until exit (waits BENCH_LOCK_WAIT s, default 900)
#   bench_eal TMP       EAL (--no-huge, or HUGE=1: 2 MB pages reserved and a
#                       private hugetlbfs under TMP) and MEMNOTE; bench_eal_undo
#                       (from the caller's cleanup) gives the pages back
#   median              numbers on stdin -> their median (0 if none)
#   mpps PPS            PPS in Mpps, 2 decimals
#   testpmd_pps LOG PREFIX MBUFS SECS WARMUP VDEV...
#                       dpdk-testpmd --forward-mode=io on the VDEVs (EAL from
#                       bench_eal), until it printed WARMUP + SECS per-second
#                       stats; TP_RATE: the median Rx-pps of port 0 over the
#                       last SECS of them (0 if there were none), TP_N: how
#                       many samples that is, TP_SAMPLES: them. Not in a
#                       subshell: the caller's cleanup kills TP_PID.
#   dp_start PREFIX CONF MEM SOCK STATE LOG
#                       dpnetd in the background (DPID: the caller initialises
#                       it for its cleanup), waits until it answers
#   dp_stop PREFIX      SIGTERM (SIGKILL after 10 s), its EAL files removed
#   bench_kill PID      the same for any process of ours

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PY=/usr/bin/python3
BENCH_NAME=${BENCH_NAME:-perf}

qgrep() { local in; in=$(cat); grep -q "$@" <<<"$in"; }

# A network namespace with lo up and IPv6 off; its name goes on the caller's
# NSS array, which the caller's exit trap deletes.
mkns() { # NAME
	ip netns add "$1"
	NSS+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}

# Until one ping from namespace NS to IP answers (each waits at most 1 s).
wait_ping() { # NS IP [TRIES]: until one ping answers
	local i
	for i in $(seq 1 "${3:-100}"); do
		ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}

# The kernel's docker0 path, the peer of perf/attach.sh and perf/ping_rtt.sh:
# namespaces K-a and K-b on veth pairs (eth0: NET.1/24 and NET.2/24) into a
# Linux bridge br0 in K-br, the kernel's default offloads. NFCALL says what
# became of bridge-nf-call-iptables there ("off", or "absent").
kbridge() { # K NET
	local k=$1 x n=0
	mkns "$k-br"; mkns "$k-a"; mkns "$k-b"
	ip -n "$k-br" link add br0 type bridge
	ip -n "$k-br" link set br0 up
	NFCALL="absent"
	if ip netns exec "$k-br" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null; then
		NFCALL="off"
	fi
	for x in a b; do
		n=$((n + 1))
		ip -n "$k-br" link add "v$x" type veth peer name eth0 netns "$k-$x"
		ip -n "$k-br" link set "v$x" master br0 up
		ip -n "$k-$x" addr add "$2.$n/24" dev eth0
		ip -n "$k-$x" link set eth0 up
	done
}

bench_die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

bench_pick() { # ENVVAL BUILDPATH NAME
	if [ -n "$1" ]; then echo "$1"
	elif [ -x "$2" ]; then echo "$2"
	else command -v "$3" || true; fi
}
bench_tools() {
	local b=${DPNET_BUILD_DIR:-$ROOT/build}
	DPNETD=$(bench_pick "${DPNETD:-}" "$b/control/dpnetd" dpnetd)
	DPCTL=$(bench_pick "${DPCTL:-}" "$b/control/dpctl" dpctl)
}

bench_require() {
	[ "$(id -u)" -eq 0 ] || bench_die "run as root"
	command -v dpdk-testpmd >/dev/null || bench_die "needs dpdk-testpmd (Debian dpdk-dev)"
}

# Two runs on the same forwarding lcore halve each other's figures without
# saying so: every benchmark takes this lock (append: never truncates it).
bench_lock() {
	exec 9>>/run/dpnet-bench.lock
	flock -w "${BENCH_LOCK_WAIT:-900}" 9 ||
		bench_die "another benchmark holds /run/dpnet-bench.lock; try again later"
}

bench_eal() { # TMP
	if [ "${HUGE:-0}" = 1 ]; then
		# 1.2 GB of 2 MB pages: testpmd's -m 1024 or dpnetd's, one at a time.
		HUGE_NR=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
		HUGE_OLD=$(cat "$HUGE_NR")
		echo $((HUGE_OLD + 640)) >"$HUGE_NR"
		HUGE_MNT="$1/huge"
		mkdir -p "$HUGE_MNT"
		mount -t hugetlbfs -o pagesize=2M none "$HUGE_MNT"
		EAL=(--huge-dir "$HUGE_MNT" --no-pci -l 0,1)
		MEMNOTE="2 MB hugepages"
	else
		EAL=(--no-huge --no-pci -l 0,1)
		MEMNOTE="no hugepages"
	fi
}
bench_eal_undo() {
	if [ -n "${HUGE_MNT:-}" ]; then
		rm -f "$HUGE_MNT"/* 2>/dev/null || true
		umount "$HUGE_MNT" 2>/dev/null || true
		echo "$HUGE_OLD" >"$HUGE_NR"
		HUGE_MNT=""
	fi
}

median() {
	sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
mpps() { awk -v x="$1" 'BEGIN { printf "%.2f", x / 1e6 }'; }

bench_kill() { # PID
	local p=$1
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

# The per-second Rx-pps lines of port 0 in a testpmd --stats-period 1 log.
testpmd_samples() { # LOG
	awk '/NIC statistics for port/ { port = $6 } /Rx-pps:/ && port == 0 { print $2 }' "$1"
}
TP_PID=""
testpmd_pps() { # LOG PREFIX MBUFS SECS WARMUP VDEV...
	local log=$1 prefix=$2 mbufs=$3 secs=$4 warm=$5 n=0 v
	shift 5
	local vdevs=()
	for v in "$@"; do vdevs+=(--vdev "$v"); done
	# --stats-period: testpmd ignores stdin and runs until a signal.
	dpdk-testpmd "${EAL[@]}" -m 1024 --file-prefix "$prefix" "${vdevs[@]}" \
		-- --forward-mode=io --total-num-mbufs="$mbufs" --stats-period 1 >"$log" 2>&1 &
	TP_PID=$!
	# Start-up (the pcap loaded into mbufs) + WARMUP + SECS samples, bounded.
	for _ in $(seq 1 $(((warm + secs + 60) * 10))); do
		n=$(testpmd_samples "$log" | wc -l)
		[ "$n" -ge $((warm + secs)) ] && break
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.1
	done
	# Its orderly exit (ports closed, totals printed) takes ~1 s here and
	# tells nothing the samples did not: SIGKILL, its EAL files removed below.
	kill -KILL "$TP_PID" 2>/dev/null || true
	wait "$TP_PID" 2>/dev/null || true
	TP_PID=""
	rm -rf "/var/run/dpdk/$prefix"
	local samples
	samples=$(testpmd_samples "$log" | sed -n "$((warm + 1)),$((warm + secs))p")
	TP_N=$(grep -c . <<<"$samples" || true)
	TP_SAMPLES=$(tr '\n' ' ' <<<"$samples")
	TP_RATE=$(median <<<"$samples")
}

dp_start() { # PREFIX CONF MEM SOCK STATE LOG
	"$DPNETD" --socket "$4" --state-dir "$5" --config "$2" \
		-- "${EAL[@]}" -m "$3" --file-prefix "$1" >>"$6" 2>&1 &
	DPID=$!
	for _ in $(seq 1 150); do
		"$DPCTL" --socket "$4" status >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.2
	done
	tail -n 20 "$6" >&2
	bench_die "dpnetd did not start"
}
dp_stop() { # PREFIX
	if [ -n "${DPID:-}" ]; then bench_kill "$DPID"; fi
	DPID=""
	rm -rf "/var/run/dpdk/$1"
}
