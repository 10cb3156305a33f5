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
# grep -q for the end of a pipeline: reads all its input first. Under pipefail,
# "cmd | grep -q" fails at random when grep exits on the first match and cmd,
# still writing, dies of SIGPIPE (seen in CI: containers.sh, 'ip addr' with two
# addresses).
qgrep() { local in; in=$(cat); grep -q "$@" <<<"$in"; }
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
E2E_TAPMODE=0       # 1: dpnetd runs its built-in config (TAP uplink dpnet0), see tap_mode
E2E_UPLINK=dpnet0   # the built-in config's TAP uplink in the host's namespace
E2E_CTRS=()         # dpnet containers to remove (dpctl rm -f), see ctr_run
E2E_UPLINK_IDX=""   # ifindex of the dpnet0 our daemon made (only that one is ours)
# Machine-wide lock of the tests that run dpnetd in TAP mode (dpnet0 in the
# host's namespace): taken by tap_mode, held until the test exits. The daemon
# never inherits it (start_daemon closes it); /dev/null until then.
E2E_LOCK=/run/lock/dpnet-e2e-uplink.lock
exec {E2E_LOCK_FD}</dev/null

# Extended regular expression of daemon log lines that are expected in this
# test (tests append with allow_log). Known DPDK PMD noise is always allowed.
E2E_LOG_ALLOW='failed to create multiq qdisc|Unable to .* qdisc|Could not .* qdisc'

allow_log() { E2E_LOG_ALLOW="$E2E_LOG_ALLOW|$1"; }

e2e_cleanup() {
	local rc=$? p ns l i
	trap - EXIT INT TERM
	ctr_cleanup_begin
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
	ctr_cleanup_end
	# Under -Dsanitize=true: whatever a sanitizer reported in any daemon of this
	# test (also one stopped here, or by kill -9's successor) fails it.
	if [ $rc -eq 0 ] && [ -f "$E2E_LOG" ] &&
		grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$E2E_LOG"; then
		grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$E2E_LOG" >&2
		echo "FAIL: $E2E_NAME: a sanitizer reported the above in the daemon log" >&2
		rc=1
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
	local i cfg=()
	if [ "$E2E_TAPMODE" != 1 ]; then
		[ -f "$E2E_CONFIG" ] || write_config
		cfg=(--config "$E2E_CONFIG")
	fi
	"$DPNETD" --socket "$E2E_SOCK" --state-dir "$E2E_STATE" "${cfg[@]}" "$@" \
		-- --no-huge -m 512 --no-pci --file-prefix "$E2E_PREFIX" ${E2E_LCORES:--l 0,1} ${E2E_EAL_EXTRA:-} \
		>>"$E2E_LOG" 2>&1 </dev/null {E2E_LOCK_FD}>&- &
	DAEMON_PID=$!
	for i in $(seq 1 150); do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID"
			fail "dpnetd exited during start-up (status $?)"
		fi
		if dpctl status >/dev/null 2>&1; then
			if [ "$E2E_TAPMODE" = 1 ]; then
				E2E_UPLINK_IDX=$(cat "/sys/class/net/$E2E_UPLINK/ifindex" 2>/dev/null)
			fi
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
	if [ "$E2E_TAPMODE" = 1 ] && ! wait_until 5 uplink_gone; then
		fail "the TAP uplink $E2E_UPLINK still exists 5 s after dpnetd exited"
	fi
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
	ip netns list | qgrep -w "^$n" || make_ns "$1"
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
	ip netns list | qgrep -w "^$n" || make_ns "$1"
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

# ---------------------------------------------------------------- TAP mode, containers
#
# Containers (issue 3) are dpnet's own objects: `dpctl run --name NAME` makes
# the namespace dpnet-NAME (visible to `ip netns`), an interface eth0 whose
# host end is a dpnet port, and maybe a process. Tests name their containers
# with $E2E_ID in the name and register them (ctr_run does, track_ctr for
# anything else), so that the EXIT trap removes them with `dpctl rm -f` while
# the daemon still answers and then deletes whatever is left: processes in
# their namespaces, the namespaces, host interfaces, and the TAP uplink.

E2E_CTR_PIDS=()     # processes of containers seen in `ps --json` (killed at cleanup)
E2E_CTR_IFS=()      # host ends of container interfaces seen in `ps --json`

# uplink_gone: the TAP uplink of the built-in config is not in the host's namespace.
uplink_gone() { ! ip link show "$E2E_UPLINK" >/dev/null 2>&1; }

# tap_mode: the next start_daemon runs dpnetd without --config, in the built-in
# TAP mode: its uplink dpnet0 is in the host's namespace with the networks'
# gateway addresses, so the host reaches 172.17.0.x as through docker0. Only one
# daemon can own dpnet0: the test waits (at most 200 s) for the machine-wide
# lock $E2E_LOCK, which such tests of every build tree and session take, then
# gives a leftover dpnet0 10 s to disappear; if it stays (a dpnetd in TAP mode
# that is not a test, e.g. the demo), the test is skipped.
tap_mode() {
	exec {E2E_LOCK_FD}>>"$E2E_LOCK" || fail "cannot open the lock $E2E_LOCK"
	if ! flock -w 200 "$E2E_LOCK_FD"; then
		skip "another TAP-mode test held $E2E_LOCK for 200 s"
	fi
	if ! wait_until 10 uplink_gone; then
		skip "$E2E_UPLINK exists: another dpnetd runs in TAP mode (the demo? stop it with 'bash scripts/run.sh stop')"
	fi
	E2E_TAPMODE=1
}

# cns NAME: the namespace dpnet gives container NAME.
cns() { printf 'dpnet-%s' "$1"; }

# nsexec NS CMD...: run CMD in namespace NS: a name under /run/netns, a path
# such as /proc/PID/ns/net, or "host" (the host's namespace).
nsexec() {
	local n=$1
	shift
	case $n in
	host) "$@" ;;
	/*) nsenter --net="$n" "$@" ;;
	*) ip netns exec "$n" "$@" ;;
	esac
}

# ns_ip NS [IF]: the IPv4 address/prefix of IF (eth0) in NS ("" if none).
ns_ip() {
	nsexec "$1" ip -4 -o addr show dev "${2:-eth0}" 2>/dev/null | awk '{print $4; exit}'
}

# ns_if_mac NS [IF]: the MAC of IF (eth0) in NS.
ns_if_mac() {
	nsexec "$1" cat "/sys/class/net/${2:-eth0}/address"
}

# docker_mac IP: the MAC Docker derives from an IPv4 address (02:42 + its bytes).
docker_mac() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '02:42:%02x:%02x:%02x:%02x' "$a" "$b" "$c" "$d"
}

# ping_ns_ok NS ADDR: from namespace NS (see nsexec), ADDR answers. A warm-up
# ping may be lost while ARP resolves; then 3 pings must all come back.
ping_ns_ok() {
	local out
	nsexec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1 ||
		nsexec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1
	if ! out=$(nsexec "$1" ping -c 3 -i 0.2 -W 2 "$2" 2>&1) ||
		! grep -q ' 0% packet loss' <<<"$out"; then
		printf '%s\n' "$out" >&2
		e2e_diag
		fail "ping from $1 to $2 failed"
	fi
}

# e2e_diag: on a failure, what the switch saw (non-zero drop counters, ports).
e2e_diag() {
	daemon_alive || return 0
	{
		echo "# dpctl stats drops (non-zero):"
		timeout 5 "$DPCTL" --socket "$E2E_SOCK" stats --json 2>&1 |
			json "{k: v for k, v in d['drops'].items() if v}" 2>&1
		echo "# dpctl port ls:"
		timeout 5 "$DPCTL" --socket "$E2E_SOCK" port ls 2>&1
	} | sed 's/^/# /' >&2
}

# ping_ns_fails NS ADDR: from NS, ADDR does not answer (2 pings, both lost).
ping_ns_fails() {
	if nsexec "$1" ping -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1; then
		fail "ping from $1 to $2 unexpectedly succeeded"
	fi
}

# track_ctr NAME...: remove these containers (and their namespaces) at exit.
track_ctr() { E2E_CTRS+=("$@"); }

# ctr_remember: note the processes and host interfaces of this test's
# containers from `ps --json`, to clean them up even if the daemon dies.
ctr_remember() {
	local names line
	[ ${#E2E_CTRS[@]} -gt 0 ] || return 0
	names=$(printf '%s\n' "${E2E_CTRS[@]}")
	while read -r line; do
		case $line in
		pid:*) E2E_CTR_PIDS+=("${line#pid:}") ;;
		if:*) E2E_CTR_IFS+=("${line#if:}") ;;
		esac
	done < <(timeout 10 "$DPCTL" --socket "$E2E_SOCK" ps --json 2>/dev/null |
		"$PY" -c '
import json, sys
names = set(sys.argv[1].split())
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for c in d if isinstance(d, list) else []:
    if c.get("name") not in names:
        continue
    if c.get("pid"):
        print("pid:%d" % c["pid"])
    for f in c.get("networks") or []:
        if f.get("host_interface"):
            print("if:%s" % f["host_interface"])
' "$names")
}

# ctr_run NAME [RUN-OPTIONS...]: `dpctl run -d --name NAME OPTIONS -- sleep 600`;
# fails the test if refused. Prints what dpctl printed.
ctr_run() {
	local name=$1
	shift
	track_ctr "$name"
	run dpctl run -d --name "$name" "$@" -- sleep 600
	ctr_remember
}

# ctr_get NAME EXPR: EXPR (Python, the container's `ps --json` object bound to c).
ctr_get() {
	dpctl ps --json | json "(lambda c: $2)(next((c for c in d if c.get('name') == '$1'), None) or sys.exit('no container $1 in dpctl ps --json: %s' % json.dumps(d)))"
}

# ctr_listed NAME: container NAME is in `dpctl ps --json`.
ctr_listed() {
	dpctl ps --json | json "any(c.get('name') == '$1' for c in d)" | qgrep -x True
}

# ctr_ip NAME: the (first) address of container NAME as `dpctl ps --json` shows it.
ctr_ip() { ctr_get "$1" "c['ip']"; }

# table_cell TEXT KEY COLUMN: in a docker-style table (columns found by the
# header's words, separated by two spaces or more), COLUMN of the row whose
# first cell is KEY. Fails when there is no such row or column.
table_cell() {
	"$PY" -c '
import re, sys
lines = sys.argv[1].splitlines()
if not lines:
    sys.exit("empty table")
cols = [(m.group(0), m.start()) for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
names = [c[0] for c in cols]
if sys.argv[3] not in names:
    sys.exit("no column %r in header %r" % (sys.argv[3], lines[0]))
k = names.index(sys.argv[3])
for l in lines[1:]:
    cells = [l[s:(cols[i + 1][1] if i + 1 < len(cols) else None)].strip()
             for i, (_, s) in enumerate(cols)]
    if cells[0] == sys.argv[2]:
        print(cells[k])
        sys.exit(0)
sys.exit("no row %r in table:\n%s" % (sys.argv[2], sys.argv[1]))
' "$1" "$2" "$3"
}

# e2e_snapshot: what a refused command must leave unchanged (tests may redefine).
e2e_snapshot() {
	dpctl network ls --json
	dpctl ps --json
	dpctl port ls --json | json "sorted(p['name'] for p in ports(d))"
}

# refused WHAT [--says TEXT] DPCTL-ARGS...: the command fails as INTERFACE.md
# says: non-zero exit, one line "dpctl: error: ..." on stderr (containing TEXT
# when given), nothing on stdout, e2e_snapshot unchanged, daemon alive.
refused() {
	local what=$1 says="" rc out err lines before
	shift
	if [ "${1:-}" = --says ]; then
		says=$2
		shift 2
	fi
	before=$(e2e_snapshot) || fail "$what: cannot take a snapshot before"
	out=$(dpctl "$@" 2>"$E2E_TMP/err")
	rc=$?
	err=$(cat "$E2E_TMP/err")
	[ $rc -ne 0 ] || fail "$what: 'dpctl $*' exited 0 (stdout: $out)"
	lines=$(printf '%s\n' "$err" | grep -c .)
	[ "$lines" -eq 1 ] || fail "$what: 'dpctl $*': expected one line on stderr, got $lines: $err"
	[[ "$err" == "dpctl: error: "?* ]] ||
		fail "$what: 'dpctl $*': stderr does not start with 'dpctl: error: ': $err"
	[ -z "$says" ] || [[ "$err" == *"$says"* ]] ||
		fail "$what: 'dpctl $*': the error does not say '$says': $err"
	[ -z "$out" ] || fail "$what: 'dpctl $*': unexpected stdout: $out"
	daemon_alive || fail "$what: dpnetd died"
	[ "$(e2e_snapshot)" = "$before" ] || fail "$what: 'dpctl $*' changed something: before:
$before
after:
$(e2e_snapshot)"
	ok "refused, $what: $err"
}

# ctr_cleanup_begin (EXIT trap, daemon still up): dpctl rm -f every container.
ctr_cleanup_begin() {
	local c
	[ ${#E2E_CTRS[@]} -gt 0 ] || return 0
	daemon_alive || return 0
	ctr_remember
	for c in "${E2E_CTRS[@]}"; do
		timeout 15 "$DPCTL" --socket "$E2E_SOCK" rm -f "$c" >/dev/null 2>&1
	done
}

# ctr_cleanup_end (EXIT trap, daemon gone): whatever the containers left
# behind: processes (only those this test's containers ran: sleep), their
# namespaces, host interfaces; in TAP mode, dpnet0 if it outlived the daemon.
ctr_cleanup_end() {
	local c n p l
	for c in "${E2E_CTRS[@]}"; do
		n=$(cns "$c")
		[ -e "/run/netns/$n" ] || continue
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	for p in "${E2E_CTR_PIDS[@]}"; do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && kill -KILL "$p" 2>/dev/null
	done
	for l in "${E2E_CTR_IFS[@]}"; do
		ip link del "$l" 2>/dev/null
	done
	# Only the dpnet0 our daemon made (same ifindex), never another's.
	if [ "$E2E_TAPMODE" = 1 ] && [ -n "$E2E_UPLINK_IDX" ] && ! wait_until 5 uplink_gone &&
		[ "$(cat "/sys/class/net/$E2E_UPLINK/ifindex" 2>/dev/null)" = "$E2E_UPLINK_IDX" ]; then
		echo "# $E2E_UPLINK outlived dpnetd: deleting it" >&2
		ip link del "$E2E_UPLINK" 2>/dev/null
	fi
}

# tcp_ok FROM TO ADDR: 4 MiB sent over TCP from namespace FROM to a listener
# in namespace TO bound to ADDR (namespaces as nsexec takes them) arrive
# intact, within 30 s. The interfaces keep whatever offloads dpnet gave them.
tcp_ok() {
	local from=$1 to=$2 addr=$3 port pid rc src=$E2E_TMP/tcp.src dst=$E2E_TMP/tcp.dst
	port=$((20000 + RANDOM % 20000))
	[ -f "$src" ] || head -c 4194304 /dev/urandom >"$src"
	rm -f "$dst"
	nsexec "$to" timeout 30 socat -u "TCP-LISTEN:$port,bind=$addr,reuseaddr" "CREATE:$dst" &
	pid=$!
	E2E_PIDS+=("$pid")
	wait_until 5 nsexec "$to" sh -c "ss -ltnH | grep -q '$addr:$port '" ||
		fail "TCP listener on $addr:$port in $to did not start"
	nsexec "$from" timeout 25 socat -u "OPEN:$src" "TCP:$addr:$port,connect-timeout=5" ||
		fail "TCP from $from to $addr:$port failed (socat status $?)"
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] || fail "TCP listener on $addr:$port in $to exited with status $rc"
	cmp -s "$src" "$dst" || fail "TCP from $from to $addr:$port: $(stat -c %s "$dst" 2>/dev/null || echo 0) bytes arrived, not the 4 MiB sent"
}

# ---------------------------------------------------------------- NAT (issue 4)
#
# In TAP mode dpnet's uplink address is NAT_UP on the link-local /30 whose other
# end, NAT_HOST, is the host's side of dpnet0: published ports answer on NAT_UP
# (and on the networks' gateway addresses, for containers), and MASQUERADE gives
# container traffic leaving through dpnet0 the source NAT_UP.

NAT_UP=169.254.17.2
NAT_HOST=169.254.17.1
NAT_PY="$E2E_TMP/natpeer.py"

# nat_peer_write: write $NAT_PY, the servers and clients of the NAT tests (run
# with $PY, in the host's namespace or a container's):
#   serve-tcp [--bind A] PORT   per line received, answer "PEER-IP PEER-PORT LINE"
#   serve-udp [--bind A] PORT   per datagram, answer "PEER-IP PEER-PORT DATA"
#   tcp HOST PORT MSG [--sport P]  one connection (from port P), one exchange;
#                               prints "LOCAL-IP LOCAL-PORT <the server's answer>"
#   udp HOST PORT MSG           one datagram (3 tries, 2 s each); prints
#                               "LOCAL-IP LOCAL-PORT FROM-IP FROM-PORT <answer>"
#   many HOST PORT N READY GO   N connections at once; when all are attempted the
#                               number up goes to the file READY; after the file GO
#                               appears (<= 60 s), one exchange on each; exit 0 iff
#                               all N worked
#   hold HOST PORT READY GO     one connection: an exchange, then "LOCAL-PORT" in
#                               READY, wait for GO, a second exchange on it
# Every socket has a timeout: nothing waits for ever.
nat_peer_write() {
	[ -f "$NAT_PY" ] && return 0
	cat >"$NAT_PY" <<'PYEOF'
import os, socket, sys, threading, time

def answer_tcp(c, a):
    try:
        f = c.makefile("rb")
        for line in f:
            c.sendall(b"%s %d %s\n" % (a[0].encode(), a[1], line.strip()))
    except OSError:
        pass
    finally:
        c.close()

def serve(args, kind):
    bind = ""
    if args[0] == "--bind":
        bind, args = args[1], args[2:]
    port = int(args[0])
    if kind == "tcp":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((bind, port))
        s.listen(1024)
        while True:
            c, a = s.accept()
            threading.Thread(target=answer_tcp, args=(c, a), daemon=True).start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    while True:
        d, a = s.recvfrom(4096)
        s.sendto(b"%s %d %s" % (a[0].encode(), a[1], d), a)

def readline(s):
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(4096)
        if not b:
            raise OSError("connection closed after %r" % buf)
        buf += b
    return buf.decode().strip()

def exchange(s, msg):
    s.sendall(msg.encode() + b"\n")
    return readline(s)

def wait_file(path, secs):
    end = time.time() + secs
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit("no %s within %d s" % (path, secs))
        time.sleep(0.05)

def put(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)

def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd in ("serve-tcp", "serve-udp"):
        serve(a, cmd[6:])
    host, port = a[0], int(a[1])
    if cmd == "tcp":
        src = ("", int(a[4])) if len(a) > 4 and a[3] == "--sport" else None
        s = socket.create_connection((host, port), timeout=5, source_address=src)
        s.settimeout(5)
        l = s.getsockname()
        print("%s %d %s" % (l[0], l[1], exchange(s, a[2])))
    elif cmd == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.connect((host, port))
        for _ in range(3):
            s.send(a[2].encode())
            try:
                d, f = s.recvfrom(4096)
            except socket.timeout:
                continue
            l = s.getsockname()
            print("%s %d %s %d %s" % (l[0], l[1], f[0], f[1], d.decode()))
            return
        sys.exit("udp %s:%d: no answer to 3 datagrams" % (host, port))
    elif cmd == "many":
        n, ready, go = int(a[2]), a[3], a[4]
        socks, errs = [None] * n, []
        def conn(i):
            try:
                s = socket.create_connection((host, port), timeout=20)
                s.settimeout(20)
                socks[i] = s
            except OSError as e:
                errs.append("connect %d: %s" % (i, e))
        ts = [threading.Thread(target=conn, args=(i,)) for i in range(n)]
        for t in ts: t.start()
        for t in ts: t.join()
        put(ready, str(sum(s is not None for s in socks)))
        wait_file(go, 60)
        good = [False] * n
        def talk(i):
            try:
                r = exchange(socks[i], "m%d" % i)
                if r.endswith(" m%d" % i):
                    good[i] = True
                else:
                    errs.append("connection %d: answer %r" % (i, r))
            except OSError as e:
                errs.append("exchange %d: %s" % (i, e))
        ts = [threading.Thread(target=talk, args=(i,)) for i in range(n) if socks[i]]
        for t in ts: t.start()
        for t in ts: t.join()
        print("%d of %d connections worked" % (sum(good), n))
        for e in errs[:10]:
            print(e, file=sys.stderr)
        sys.exit(0 if all(good) else 1)
    elif cmd == "hold":
        ready, go = a[2], a[3]
        s = socket.create_connection((host, port), timeout=5)
        s.settimeout(5)
        r1 = exchange(s, "first")
        put(ready, str(s.getsockname()[1]))
        wait_file(go, 60)
        r2 = exchange(s, "second")
        print(r1)
        print(r2)
        if not (r1.endswith(" first") and r2.endswith(" second")):
            sys.exit("hold: answers %r, %r" % (r1, r2))
    else:
        sys.exit("natpeer.py: unknown command %s" % cmd)

main()
PYEOF
}

# ctr_start NAME [RUN-OPTIONS...] -- CMD...: `dpctl run -d --name NAME OPTIONS
# -- CMD`, tracked for clean-up; fails the test if refused.
ctr_start() {
	local name=$1
	shift
	track_ctr "$name"
	run dpctl run -d --name "$name" "$@" >/dev/null
	ctr_remember
}

# listening NS tcp|udp PORT: something listens on PORT in namespace NS.
listening() {
	local opt=-ltnH
	[ "$2" = udp ] && opt=-lunH
	nsexec "$1" ss "$opt" | awk '{print $4}' | qgrep -E "[:.]$3\$"
}

# wait_listening NS tcp|udp PORT: wait (at most 10 s) for a listener.
wait_listening() {
	wait_until 10 listening "$@" || fail "nothing listens on $2 port $3 in $1 after 10 s"
}

# ct_count [GREP-E-PATTERN]: the number of `dpctl conntrack ls` lines (matching).
ct_count() {
	local out
	out=$(dpctl conntrack ls 2>"$E2E_TMP/ct.err") || fail "dpctl conntrack ls failed: $(cat "$E2E_TMP/ct.err")"
	grep -cE "${1:-.}" <<<"$out" || true
}

# ct_find PROTO ORIG-SRC ORIG-DST SPORT DPORT [REPLY-SRC REPLY-DST RSPORT RDPORT]:
# print the `dpctl conntrack ls` lines (conntrack -L layout) of the connection
# whose original tuple is that (and whose reply tuple is that, when given); a
# field "-" matches anything; for ICMP the echo id plays both ports. Status 1
# when there is none.
ct_find() {
	# (stderr: conntrack's "N flow entries have been shown." and errors, kept aside)
	dpctl conntrack ls 2>"$E2E_TMP/ct.err" | "$PY" -c '
import re, sys
want = sys.argv[1:]
found = False
tup = re.compile(r"src=(\S+) dst=(\S+) (?:sport=(\d+) dport=(\d+)|type=\d+ code=\d+ id=(\d+))")
def same(got, w):
    return all(x == "-" or x == y for x, y in zip(w, got))
for line in sys.stdin:
    f = line.split()
    if not f or f[0] != want[0]:
        continue
    t = [(m[0], m[1], m[2] or m[4], m[3] or m[4]) for m in tup.findall(line)]
    if not t or not same(t[0], want[1:5]):
        continue
    if len(want) > 5 and (len(t) < 2 or not same(t[1], want[5:9])):
        continue
    found = True
    print(line.rstrip())
sys.exit(0 if found else 1)
' "$@"
}

# ct_stat NAME: counter NAME (entries, created, expired...) of `dpctl conntrack stats --json`.
ct_stat() {
	dpctl conntrack stats --json | json "(d.get('stats') or d.get('result') or d)['$1']"
}

# nat_counter WORD...: "PKTS BYTES" of the one `dpctl nat ls` rule line holding
# every WORD as a whole field (iptables -vnL layout: pkts and bytes first; K/M/G expanded).
nat_counter() {
	dpctl nat ls | "$PY" -c '
import sys
words = sys.argv[1:]
text = sys.stdin.read()
rows = [l for l in text.splitlines() if all(w in l.split() for w in words)
        and l.split() and l.split()[0][:1].isdigit()]
if len(rows) != 1:
    sys.exit("nat ls: %d rule lines hold %s:\n%s" % (len(rows), words, text))
def num(s):
    m = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    return int(float(s[:-1]) * m[s[-1]]) if s[-1] in m else int(s)
f = rows[0].split()
print(num(f[0]), num(f[1]))
' "$@"
}
