# tests/e2e/lib.sh - shared helpers of the end-to-end tests (sourced, not run).
#
# Each test gets its own scratch directory, EAL file prefix, control socket and
# state directory, and a short random id that every namespace and interface name
# it creates carries, so a test never collides with another test, an earlier
# failed run or the demo. Everything a test creates is registered here and
# removed by the EXIT trap, also when the test fails half-way.
#
# Environment (set by tests/e2e/meson.build; defaults for running by hand):
#   DPNETD, DPCTL   the programs under test
#   E2E_KEEP=1      keep the scratch directory (logs) after the test
#   E2E_EAL_EXTRA   more EAL arguments for dpnetd (e.g. --log-level=pmd.net.vhost:debug)
#
# Exit codes follow meson: 0 pass, 1 fail, 77 skip.

set -uo pipefail

E2E_NAME=$(basename "${0%.sh}")
E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DPNETD=${DPNETD:-$(command -v dpnetd || echo "$E2E_SRC/../../build/control/dpnetd")}
DPCTL=${DPCTL:-$(command -v dpctl || echo "$E2E_SRC/../../build/control/dpctl")}
PY=/usr/bin/python3   # Debian's, which has scapy

# ---------------------------------------------------------------- reporting

E2E_STEP=0
log() { printf '# %s\n' "$*"; }
ok() { E2E_STEP=$((E2E_STEP + 1)); printf 'ok %d - %s\n' "$E2E_STEP" "$*"; }
fail() {
	printf 'FAIL: %s: %s\n' "$E2E_NAME" "$*" >&2
	exit 1
}
skip() {
	printf 'SKIP: %s: %s\n' "$E2E_NAME" "$*"
	exit 77
}

# Run a command; fail with its output when it fails.
run() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		fail "command failed: $*"
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, interfaces, DPDK)"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

# ---------------------------------------------------------------- scratch state

need_root
need_cmd ip ethtool ping timeout
[ -x "$DPNETD" ] || skip "dpnetd not built ($DPNETD)"
[ -x "$DPCTL" ] || skip "dpctl not built ($DPCTL)"

E2E_ID=$(od -An -N2 -tx2 /dev/urandom | tr -dc '0-9a-f')
E2E_TMP=$(mktemp -d "/tmp/dpnet-e2e-$E2E_NAME.XXXXXX")
E2E_PREFIX="dpe2e-$E2E_NAME-$E2E_ID"
E2E_SOCK="$E2E_TMP/dpnet.sock"
E2E_STATE="$E2E_TMP/state"
E2E_LOG="$E2E_TMP/dpnetd.log"
# conf/no-ports.yaml: a daemon that touches nothing on the host (no TAP
# uplink dpnet0 in the host's namespace, which the built-in config creates).
E2E_CONFIG=$(cd "$E2E_SRC/../../conf" 2>/dev/null && pwd)/no-ports.yaml
[ -f "$E2E_CONFIG" ] || E2E_CONFIG="$E2E_TMP/dpnet.yaml"
export DPNET_SOCKET="$E2E_SOCK"
mkdir -p "$E2E_STATE"

E2E_NETNS=()        # namespaces to delete
E2E_LINKS=()        # host-side links to delete
E2E_PIDS=()         # helper processes to stop
DAEMON_PID=""

# Extended regular expression of daemon log lines that are expected in this
# test (tests append with allow_log). Known DPDK PMD noise is always allowed.
E2E_LOG_ALLOW='failed to create multiq qdisc|Unable to .* qdisc|Could not .* qdisc'

allow_log() { E2E_LOG_ALLOW="$E2E_LOG_ALLOW|$1"; }

e2e_cleanup() {
	local rc=$? p ns l i
	trap - EXIT INT TERM
	for p in "${E2E_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${E2E_PIDS[@]}"; do
		for i in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		for i in $(seq 1 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	for ns in "${E2E_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for l in "${E2E_LINKS[@]}"; do
		ip link del "$l" 2>/dev/null
	done
	rm -rf "/var/run/dpdk/$E2E_PREFIX" "/var/run/dpdk/$E2E_PREFIX"-* 2>/dev/null
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -f "$E2E_LOG" ]; then
		echo "----- last lines of the daemon log ($E2E_LOG) -----" >&2
		tail -n 40 "$E2E_LOG" >&2
		echo "-----" >&2
	fi
	if [ "${E2E_KEEP:-0}" = 1 ] || { [ $rc -ne 0 ] && [ $rc -ne 77 ]; }; then
		echo "# scratch directory kept: $E2E_TMP" >&2
	else
		rm -rf "$E2E_TMP"
	fi
	exit $rc
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- daemon

# dpctl against this test's daemon.
dpctl() { "$DPCTL" --socket "$E2E_SOCK" "$@"; }

# Fallback when the tree has no conf/no-ports.yaml: the same thing.
write_config() {
	cat >"$E2E_CONFIG" <<EOF
# written by tests/e2e/lib.sh for $E2E_NAME
poll:
  mode: adaptive
EOF
}

# start_daemon [DPNETD-OPTIONS...]: start dpnetd in the background on this
# test's socket, state dir and file prefix; wait (at most 30 s) until
# `dpctl status` answers.
start_daemon() {
	local i
	[ -f "$E2E_CONFIG" ] || write_config
	"$DPNETD" --socket "$E2E_SOCK" --state-dir "$E2E_STATE" --config "$E2E_CONFIG" "$@" \
		-- --no-huge -m 512 --no-pci --file-prefix "$E2E_PREFIX" -l 0,1 ${E2E_EAL_EXTRA:-} \
		>>"$E2E_LOG" 2>&1 </dev/null &
	DAEMON_PID=$!
	for i in $(seq 1 150); do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID"
			fail "dpnetd exited during start-up (status $?)"
		fi
		if dpctl status >/dev/null 2>&1; then
			log "dpnetd running, pid $DAEMON_PID"
			return 0
		fi
		sleep 0.2
	done
	fail "dpnetd did not answer 'dpctl status' within 30 s"
}

# Daemon log lines at WARNING or worse that come from dpnet itself and are not
# allowed by this test. dpnet's messages carry a level word; DPDK's own PMD
# messages are judged by the allow list only when they carry one too.
log_problems() {
	[ -f "$E2E_LOG" ] || return 0
	grep -E '(^|[^A-Za-z])(WARNING|WARN|ERR|ERROR|CRIT|ALERT|EMERG)([^A-Za-z]|$)' "$E2E_LOG" |
		grep -Ev "$E2E_LOG_ALLOW" || true
}

# stop_daemon [SIGNAL]: signal the daemon (TERM by default), require exit status
# 0 within 20 s, the socket removed and no unexpected WARNING/ERR in its log.
stop_daemon() {
	local sig=${1:-TERM} i rc bad
	[ -n "$DAEMON_PID" ] || fail "stop_daemon: no daemon"
	kill -"$sig" "$DAEMON_PID" || fail "dpnetd (pid $DAEMON_PID) was not running"
	for i in $(seq 1 200); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		fail "dpnetd did not exit within 20 s of SIG$sig"
	fi
	wait "$DAEMON_PID"
	rc=$?
	DAEMON_PID=""
	[ $rc -eq 0 ] || fail "dpnetd exited with status $rc after SIG$sig (expected 0)"
	[ ! -e "$E2E_SOCK" ] || fail "dpnetd left its socket $E2E_SOCK behind"
	bad=$(log_problems)
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad" >&2
		fail "unexpected WARNING/ERR lines in the daemon log (above)"
	fi
	ok "dpnetd stopped by SIG$sig: exit 0, socket removed, log clean"
}

daemon_alive() {
	[ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null
}

# ---------------------------------------------------------------- JSON

# json EXPR: evaluate a Python expression over the JSON document on stdin
# (bound to d) and print the result (JSON for lists/dicts).
json() {
	"$PY" -c '
import json, sys
d = json.load(sys.stdin)
def ports(d):
    if isinstance(d, dict):
        for k in ("ports", "result"):
            if k in d:
                return ports(d[k])
    return d
def port(d, name):
    for p in ports(d):
        if p.get("name") == name:
            return p
    raise SystemExit("no port %r in %s" % (name, json.dumps(d)))
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (list, dict)) else r)
' "$1"
}

# port_counter NAME rx|tx|drops: a per-port counter from `dpctl port ls --json`.
port_counter() {
	dpctl port ls --json | json "
(lambda p: next(p[k] for k in (
    ('rx_pkts','rx-pkts','rx_packets','rx') if '$2'=='rx' else
    ('tx_pkts','tx-pkts','tx_packets','tx') if '$2'=='tx' else
    ('drops','drop','rx_drops')) if k in p))(port(d, '$1'))"
}

# port_mac NAME: the MAC of a port as dpctl reports it.
port_mac() {
	dpctl port ls --json | json "port(d, '$1')['mac']"
}

# ---------------------------------------------------------------- namespaces

# ns NAME: the full name of this test's namespace NAME.
ns() { printf 'dpe%s%s' "$E2E_ID" "$1"; }

# make_ns NAME: create namespace $(ns NAME) with lo up and IPv6 off (no stray
# router solicitations in counters and captures).
make_ns() {
	local n
	n=$(ns "$1")
	ip netns add "$n" || fail "cannot create namespace $n"
	E2E_NETNS+=("$n")
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}

# ifname SUFFIX: a host interface name for this test (<= 15 characters).
ifname() { printf 'de%s%s' "$E2E_ID" "$1"; }

offloads_off() { # [ip netns exec NS] IF
	ethtool -K "$@" tx off rx off gso off tso off gro off >/dev/null 2>&1 || true
}

# veth_ns NAME HOSTIF ADDR/LEN [MAC]: namespace NAME (created if needed) gets
# eth0, the peer of host interface HOSTIF, with ADDR; both ends up, offloads off.
veth_ns() {
	local n host=$2 addr=$3 mac=${4:-} peer
	n=$(ns "$1")
	ip netns list | grep -qw "^$n" || make_ns "$1"
	peer="${host}p"
	ip link add "$host" type veth peer name "$peer" || fail "cannot create veth $host"
	E2E_LINKS+=("$host")
	ip link set "$peer" netns "$n"
	ip -n "$n" link set "$peer" name eth0
	[ -z "$mac" ] || ip -n "$n" link set eth0 address "$mac"
	ip -n "$n" addr add "$addr" dev eth0
	ip link set "$host" up
	ip -n "$n" link set eth0 up
	ip netns exec "$n" sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" 2>/dev/null
	sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" 2>/dev/null
	offloads_off "$host"
	ip netns exec "$n" ethtool -K eth0 tx off rx off gso off tso off gro off >/dev/null 2>&1
}

# tap_into_ns NAME TAPIF ADDR/LEN: move the tap interface the daemon created
# into namespace NAME (created if needed), address it and bring it up.
tap_into_ns() {
	local n tap=$2 addr=$3 i
	n=$(ns "$1")
	ip netns list | grep -qw "^$n" || make_ns "$1"
	for i in $(seq 1 50); do
		ip link show "$tap" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip link set "$tap" netns "$n" || fail "cannot move $tap into $n"
	ip -n "$n" addr add "$addr" dev "$tap"
	ip -n "$n" link set "$tap" up
	ip netns exec "$n" ethtool -K "$tap" tx off rx off gso off tso off gro off >/dev/null 2>&1
}

# in_ns NAME CMD...: run CMD in namespace NAME.
in_ns() {
	local n
	n=$(ns "$1")
	shift
	ip netns exec "$n" "$@"
}

# ns_mac NAME [IF]: the MAC of IF (eth0) in namespace NAME.
ns_mac() {
	in_ns "$1" cat "/sys/class/net/${2:-eth0}/address"
}

# ping_ok FROM-NS ADDR: FROM reaches ADDR. A warm-up ping may be lost while
# ARP resolves; then 3 pings must all come back.
ping_ok() {
	local out
	in_ns "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1 ||
		in_ns "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1
	if ! out=$(in_ns "$1" ping -c 3 -i 0.2 -W 2 "$2" 2>&1) ||
		! grep -q ' 0% packet loss' <<<"$out"; then
		printf '%s\n' "$out" >&2
		fail "ping from $(ns "$1") to $2 failed"
	fi
}

# ping_fails FROM-NS ADDR: FROM does not reach ADDR (2 pings, both lost).
ping_fails() {
	if in_ns "$1" ping -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1; then
		fail "ping from $(ns "$1") to $2 unexpectedly succeeded"
	fi
}

# spawn CMD...: start a helper process in the background, stopped at cleanup.
# Its stdin is /dev/null (bash does that to background jobs): a helper that
# reads commands gets them with an explicit redirection, `cmd <fifo &` then
# `E2E_PIDS+=($!)`.
spawn() {
	"$@" &
	E2E_PIDS+=($!)
}

# wait_until SECONDS CMD...: poll CMD every 0.2 s until it succeeds; 1 on timeout.
wait_until() {
	local limit=$1 i
	shift
	for i in $(seq 1 $((limit * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
