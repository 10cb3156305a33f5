#!/usr/bin/env bash
# scripts/run.sh - the one entry point for people and CI.
#
#   bash scripts/run.sh deps    install the Debian 12 packages dpnet needs (skipped when present)
#   bash scripts/run.sh build   configure (warnings as errors when CI=true), build, install
#   bash scripts/run.sh demo    deps + build, start dpnetd and three pinging namespaces
#   bash scripts/run.sh stop    stop the demo daemon and delete the demo namespaces
#   bash scripts/run.sh test    deps + build, then every test suite (unit, pkt, e2e)
#
# Run as root: the switch owns network interfaces and the tests create namespaces.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${DPNET_BUILD_DIR:-$ROOT/build}

PACKAGES=(build-essential meson ninja-build pkg-config libdpdk-dev dpdk dpdk-dev
	libyaml-dev libpcap-dev libcunit1-dev libjansson-dev libmnl-dev iproute2
	iputils-ping iperf3 python3-scapy tcpdump ethtool curl procps socat)

# The demo's fixed names: short (interface names are at most 15 characters) and
# distinct from anything the tests create (those use a random id).
DEMO_RUN=/run/dpnet-demo
DEMO_PIDFILE=$DEMO_RUN/dpnetd.pid
DEMO_LOG=$DEMO_RUN/dpnetd.log
DEMO_NS=(dpdemo1 dpdemo2 dpdemo3)
DEMO_IPS=(172.17.0.11 172.17.0.12 172.17.0.13)   # in the default bridge network's subnet

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "'$1' must run as root (try: sudo bash scripts/run.sh $1)"
}

cmd_deps() {
	local missing=() p st
	for p in "${PACKAGES[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		echo "deps: all ${#PACKAGES[@]} packages already installed"
		return 0
	fi
	need_root deps
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${PACKAGES[@]}"
}

cmd_build() {
	local werror=false
	[ "${CI:-}" = true ] && werror=true
	cd "$ROOT"
	if [ -f "$BUILD/build.ninja" ]; then
		meson configure "$BUILD" -Dwerror=$werror
	else
		meson setup "$BUILD" -Dwerror=$werror
	fi
	ninja -C "$BUILD"
	if [ "$(id -u)" -eq 0 ]; then
		meson install -C "$BUILD" --quiet
		hash -r
		echo "build: installed $(command -v dpnetd) and $(command -v dpctl)"
	else
		echo "build: not root, skipping 'meson install' (binaries are in $BUILD)"
	fi
}

demo_daemon_pid() {
	local pid
	[ -f "$DEMO_PIDFILE" ] || return 1
	pid=$(cat "$DEMO_PIDFILE")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

# dpctl against the demo daemon (default socket).
dctl() { dpctl "$@"; }

cmd_stop() {
	need_root stop
	local pid i ns
	if pid=$(demo_daemon_pid); then
		# Remove the demo's ports first so that the daemon's saved state does
		# not bring them back on its next start.
		for i in demo3 demo2 demo1; do
			dctl del-port "$i" >/dev/null 2>&1 || true
		done
		say "stopping dpnetd (pid $pid)"
		kill -TERM "$pid"
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "dpnetd did not stop within 10 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	else
		echo "stop: no demo dpnetd running"
	fi
	rm -f "$DEMO_PIDFILE"
	rm -rf /var/run/dpdk/dpnet-demo   # the EAL runtime files of the demo's file prefix
	for ns in "${DEMO_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	for i in 1 2; do
		ip link del "dpdemo${i}h" 2>/dev/null || true
	done
	ip link del dpdemo3t 2>/dev/null || true
	echo "stop: done"
}

demo_veth_ns() { # NS HOSTIF IP
	local ns=$1 host=$2 ip=$3
	ip netns add "$ns"
	ip link add "$host" type veth peer name "${host%h}p"
	ip link set "${host%h}p" netns "$ns"
	ip -n "$ns" link set "${host%h}p" name eth0
	# The host end is only a wire into the switch: no IPv6 chatter from it.
	sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" 2>/dev/null || true
	ip link set "$host" up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" addr add "$ip/24" dev eth0
	ethtool -K "$host" tx off rx off gso off tso off gro off >/dev/null 2>&1 || true
	ip netns exec "$ns" ethtool -K eth0 tx off rx off gso off tso off gro off >/dev/null 2>&1 || true
}

cmd_demo() {
	need_root demo
	cmd_deps
	cmd_build
	if demo_daemon_pid >/dev/null; then
		echo "demo: a demo dpnetd is already running; stopping it first"
	fi
	cmd_stop >/dev/null
	mkdir -p "$DEMO_RUN"

	say "starting dpnetd (default TAP mode, adaptive polling) in the background"
	# The built-in defaults already mean no hugepages and no PCI; the EAL
	# arguments below only pin the two lcores and a file prefix of its own.
	setsid dpnetd -- --no-huge -m 512 --no-pci --file-prefix dpnet-demo -l 0,1 \
		>"$DEMO_LOG" 2>&1 </dev/null &
	echo $! >"$DEMO_PIDFILE"
	local i ok=0
	for i in $(seq 1 100); do
		if dctl status >/dev/null 2>&1; then ok=1; break; fi
		demo_daemon_pid >/dev/null || break
		sleep 0.2
	done
	if [ $ok -ne 1 ]; then
		tail -n 30 "$DEMO_LOG" >&2 || true
		cmd_stop >/dev/null 2>&1 || true
		die "dpnetd did not answer within 20 s (log above, full log in $DEMO_LOG)"
	fi
	dctl status

	say "two namespaces on veth pairs (afpacket ports), one on a tap port"
	demo_veth_ns dpdemo1 dpdemo1h "${DEMO_IPS[0]}"
	demo_veth_ns dpdemo2 dpdemo2h "${DEMO_IPS[1]}"
	dctl add-port demo1 --type afpacket --iface dpdemo1h
	dctl add-port demo2 --type afpacket --iface dpdemo2h
	dctl add-port demo3 --type tap --iface dpdemo3t
	ip netns add dpdemo3
	ip link set dpdemo3t netns dpdemo3
	ip -n dpdemo3 link set lo up
	ip netns exec dpdemo3 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec dpdemo3 sysctl -qw net.ipv6.conf.dpdemo3t.disable_ipv6=1
	ip -n dpdemo3 addr add "${DEMO_IPS[2]}/24" dev dpdemo3t
	ip -n dpdemo3 link set dpdemo3t up

	say "pinging between the namespaces through the switch"
	local a b rc=0
	for a in 0 1 2; do
		for b in 0 1 2; do
			[ $a -eq $b ] && continue
			echo "--- ${DEMO_NS[$a]} -> ${DEMO_IPS[$b]}"
			if ! ip netns exec "${DEMO_NS[$a]}" ping -c 2 -i 0.2 -W 2 "${DEMO_IPS[$b]}" |
				tail -n 2; then
				rc=1
			fi
		done
	done

	say "dpctl port ls";  dctl port ls
	say "dpctl mac ls bridge"; dctl mac ls bridge
	say "dpctl stats"; dctl stats

	cat <<EOF

The switch is still running (pid $(cat "$DEMO_PIDFILE"), log $DEMO_LOG).
Try:   ip netns exec dpdemo1 ping ${DEMO_IPS[2]}
       dpctl port ls ; dpctl mac ls bridge ; dpctl stats
Stop:  bash scripts/run.sh stop
EOF
	[ $rc -eq 0 ] || die "some pings failed (see above)"
}

cmd_test() {
	cmd_deps
	cmd_build
	need_root test
	cd "$ROOT"
	local rc=0
	meson test -C "$BUILD" --print-errorlogs || rc=$?
	# One plain closing line, whatever the runner printed above it.
	/usr/bin/python3 - "$BUILD/meson-logs/testlog.json" <<'PY' || rc=1
import json, sys
n = {"OK": 0, "FAIL": 0, "SKIP": 0}
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line).get("result", "FAIL")
        n["OK" if r in ("OK", "EXPECTEDFAIL") else "SKIP" if r == "SKIP" else "FAIL"] += 1
print("tests: %d passed, %d failed, %d skipped" % (n["OK"], n["FAIL"], n["SKIP"]))
sys.exit(1 if n["FAIL"] or n["OK"] == 0 else 0)
PY
	return $rc
}

usage() {
	sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
deps) cmd_deps ;;
build) cmd_deps; cmd_build ;;
demo) cmd_demo ;;
stop) cmd_stop ;;
test) cmd_test ;;
-h|--help|help) usage ;;
*) usage >&2; exit 2 ;;
esac
