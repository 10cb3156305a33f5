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
# grep -q for the end of a pipeline: reads all its input first. Under pipefail,
# "cmd | grep -q" fails at random when grep exits on the first match and cmd,
# still writing, dies of SIGPIPE (seen in CI: containers.sh, 'ip addr' with two
# addresses).
qgrep() { local in; in=$(cat); grep -q "$@" <<<"$in"; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${DPNET_BUILD_DIR:-$ROOT/build}
SAN_BUILD=${DPNET_SAN_BUILD_DIR:-$ROOT/build-san}

PACKAGES=(build-essential meson ninja-build pkg-config libdpdk-dev dpdk dpdk-dev
	libyaml-dev libpcap-dev libcunit1-dev libjansson-dev libmnl-dev iproute2
	iputils-ping iperf3 python3-scapy tcpdump ethtool curl procps socat
	strace                      # e2e state_fail: holds a save to kill -9 inside it
	iptables                    # perf/dnat_tcp.sh: the kernel DNAT baseline (in a namespace)
	clang libclang-rt-14-dev    # fuzz targets: libFuzzer comes with libclang-rt
	libcurl4-openssl-dev etcd-server etcd-client    # cluster mode: etcd v3 over HTTP
	gnuplot-nox)                # perf/suite.sh's plots

# The demo's fixed names: short (interface names are at most 15 characters) and
# distinct from anything the tests create (those use a random id).
DEMO_RUN=/run/dpnet-demo
DEMO_PIDFILE=$DEMO_RUN/dpnetd.pid
DEMO_LOG=$DEMO_RUN/dpnetd.log
DEMO_STATE=$DEMO_RUN/state          # the demo's own state: a rerun starts clean
DEMO_SOCK=/run/dpnet/dpnet.sock      # the default socket: plain `dpctl` talks to the demo
DEMO_CTRS=(web db app shell)         # containers (namespaces dpnet-web, ...); shell: the tip below

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
dctl() { dpctl --socket "$DEMO_SOCK" "$@"; }

cmd_stop() {
	need_root stop
	local pid i c
	if pid=$(demo_daemon_pid); then
		for c in "${DEMO_CTRS[@]}"; do
			dctl rm -f "$c" >/dev/null 2>&1 || true
		done
		dctl network rm demo-net >/dev/null 2>&1 || true
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
	rm -rf "$DEMO_STATE" /var/run/dpdk/dpnet-demo   # state and EAL runtime files of the demo
	for c in "${DEMO_CTRS[@]}"; do
		ip netns del "dpnet-$c" 2>/dev/null || true
	done
	echo "stop: done"
}


cmd_demo() {
	need_root demo
	cmd_deps
	cmd_build
	if demo_daemon_pid >/dev/null; then
		echo "demo: a demo dpnetd is already running; stopping it first"
	fi
	cmd_stop >/dev/null
	if ip link show dpnet0 >/dev/null 2>&1; then
		die "an interface dpnet0 already exists (another dpnetd in TAP mode?): stop it first"
	fi
	mkdir -p "$DEMO_RUN"

	say "starting dpnetd in its default TAP mode (uplink dpnet0, adaptive polling)"
	setsid dpnetd --state-dir "$DEMO_STATE" --socket "$DEMO_SOCK" \
		-- --no-huge -m 512 --no-pci --file-prefix dpnet-demo -l 0,1 \
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
	say "dpctl network ls"; dctl network ls

	local rc=0 web db app
	demo_step() { echo "\$ $*"; "$@" || rc=1; }
	ctr_ip() { ip -n "dpnet-$1" -4 -o addr show eth0 | awk '{ sub("/.*", "", $4); print $4 }'; }
	say "containers: web (publishing 8080 -> 80) and db on the default bridge, app on a network of its own"
	mkdir -p "$DEMO_RUN/www"
	echo "hello from the web container, through dpnet's DNAT" >"$DEMO_RUN/www/index.html"
	demo_step dctl run -d --name web -p 8080:80 -- /usr/bin/python3 -m http.server 80 \
		--directory "$DEMO_RUN/www"
	demo_step dctl run -d --name db -- sleep infinity
	demo_step dctl network create --subnet 10.123.0.0/24 demo-net
	demo_step dctl run -d --name app --network demo-net -- sleep infinity
	dctl ps
	web=$(ctr_ip web) db=$(ctr_ip db) app=$(ctr_ip app)

	say "web -> db, web -> its gateway, the host -> web and app (through dpnet0, routed by dpnet)"
	demo_step ip netns exec dpnet-web ping -c 2 -i 0.2 -W 2 "$db"
	demo_step ip netns exec dpnet-web ping -c 2 -i 0.2 -W 2 172.17.0.1
	demo_step ping -c 2 -i 0.2 -W 2 "$web"
	demo_step ping -c 2 -i 0.2 -W 2 "$app"
	say "app -> web must fail: bridge networks are isolated from each other, as in Docker"
	if ip netns exec dpnet-app ping -c 1 -W 1 "$web" >/dev/null 2>&1; then
		echo "app reached web: isolation is broken"
		rc=1
	else
		echo "app -> web: no reply (dropped by dpnet, counted as 'isolated' below)"
	fi

	say "published port: the host fetches http://169.254.17.2:8080/ (dpnet's uplink address in TAP mode; DNAT to web:80)"
	for i in $(seq 1 50); do
		ip netns exec dpnet-web ss -Hltn 'sport = :80' 2>/dev/null | qgrep . && break
		sleep 0.1
	done
	demo_step curl -sS --max-time 5 http://169.254.17.2:8080/
	say "MASQUERADE: db pings the host side of dpnet0 (169.254.17.1), seen from 169.254.17.2"
	demo_step ip netns exec dpnet-db ping -c 2 -i 0.2 -W 2 169.254.17.1
	say "dpctl nat ls"; dctl nat ls
	say "dpctl conntrack ls"; dctl conntrack ls

	say "dpctl port ls";  dctl port ls
	say "dpctl mac ls bridge"; dctl mac ls bridge
	say "dpctl stats"; dctl stats

	cat <<EOF

The switch is still running (pid $(cat "$DEMO_PIDFILE"), log $DEMO_LOG).
Try:   curl http://169.254.17.2:8080/ ; dpctl port web ; dpctl nat ls
       ip netns exec dpnet-web ping $db
       dpctl run --name shell -- ip addr      # a foreground container
       dpctl ps ; dpctl network inspect demo-net ; dpctl stats
Stop:  bash scripts/run.sh stop
EOF
	[ $rc -eq 0 ] || die "a demo step failed (see above)"
}

cmd_test() {
	cmd_deps
	cmd_build
	need_root test
	cd "$ROOT"
	local rc=0
	rm -f "$BUILD/meson-logs/testlog.json"
	meson test -C "$BUILD" --print-errorlogs || rc=$?
	# The whole suite again under ASan + UBSan in its own build dir: LeakSanitizer
	# checks every daemon at exit, any undefined behaviour aborts. DPNET_SANITIZE=0 skips it.
	local san_log=()
	if [ "${DPNET_SANITIZE:-1}" = 1 ]; then
		local w=false
		[ "${CI:-}" = true ] && w=true
		san_log=("$SAN_BUILD/meson-logs/testlog.json")
		rm -f "${san_log[0]}"   # a failed build must not leave an old run's results counted
		if { [ -f "$SAN_BUILD/build.ninja" ] && meson configure "$SAN_BUILD" -Dwerror=$w ||
		     meson setup "$SAN_BUILD" -Dsanitize=true -Dwerror=$w; } && ninja -C "$SAN_BUILD"; then
			meson test -C "$SAN_BUILD" --print-errorlogs || rc=$?
		else
			echo "test: the sanitized build failed" >&2
			rc=1
		fi
	fi
	# Short fuzz runs (FUZZ_SECONDS per target, clang + libFuzzer, own build dir);
	# counted as one more test in the closing line.
	local fuzz=OK
	bash "$ROOT/tests/fuzz/run.sh" || { fuzz=FAIL; rc=1; }
	# One plain closing line, whatever the runner printed above it.
	/usr/bin/python3 - "$fuzz" "$BUILD/meson-logs/testlog.json" "${san_log[@]}" <<'PY' || rc=1
import json, sys
n = {"OK": 0, "FAIL": 0, "SKIP": 0}
n[sys.argv[1]] += 1     # the fuzz run
for log in sys.argv[2:]:
    try:
        f = open(log)
    except OSError:
        print("test: no results in %s (the run or its build failed)" % log)
        n["FAIL"] += 1
        continue
    with f:
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
