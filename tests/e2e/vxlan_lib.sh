# tests/e2e/vxlan_lib.sh - several dpnet "hosts" in one test (sourced after
# lib.sh by the vxlan tests, not run).
#
# A host is one dpnetd with its own socket, state directory, log, EAL file
# prefix and config, whose uplink is an afpacket port on a veth into the shared
# "underlay" namespace $UNDER, where a Linux bridge joins them (and anything
# else a test plugs in). Host I has the uplink address 192.0.2.1I/24.
#
# lib.sh's helpers act on "the" daemon ($E2E_SOCK, $DAEMON_PID, $E2E_LOG...):
# use_host I points them at host I, so start_daemon, stop_daemon, dpctl,
# ctr_run, refused... work on it. Every host's containers are removed and
# every daemon is stopped by the EXIT trap (vx_cleanup, then lib.sh's), also
# when the test fails half-way; a failing test shows the tail of every log.

need_cmd bridge

UNDER=$(ns u)                    # the underlay namespace
VX_BR=br0                        # its bridge
VX_BASE_PREFIX=$E2E_PREFIX       # EAL prefixes are $VX_BASE_PREFIX-hI (lib.sh's
                                 # cleanup removes "$E2E_PREFIX"-*)
declare -A H_PID=() H_IF=() H_CTRS=()
VX_CUR=""                        # the host lib.sh's helpers act on

# vx_addr I: host I's uplink (VTEP) address.
vx_addr() { printf '192.0.2.1%s' "$1"; }

# use_host I: lib.sh's helpers act on host I from now on.
use_host() {
	if [ -n "$VX_CUR" ]; then
		H_PID[$VX_CUR]=$DAEMON_PID
	fi
	VX_CUR=$1
	E2E_SOCK="$E2E_TMP/h$1.sock"
	export DPNET_SOCKET="$E2E_SOCK"
	E2E_STATE="$E2E_TMP/h$1.state"
	E2E_LOG="$E2E_TMP/h$1.log"
	E2E_PREFIX="$VX_BASE_PREFIX-h$1"
	E2E_CONFIG="$E2E_TMP/h$1.yaml"
	DAEMON_PID=${H_PID[$1]:-}
	mkdir -p "$E2E_STATE"
}

# hctl I ARGS...: dpctl against host I (whichever host is current).
hctl() {
	local h=$1
	shift
	"$DPCTL" --socket "$E2E_TMP/h$h.sock" "$@"
}

# vx_underlay: the underlay namespace with its bridge.
vx_underlay() {
	make_ns u
	ip -n "$UNDER" link add "$VX_BR" type bridge || fail "cannot create the underlay bridge"
	ip -n "$UNDER" link set "$VX_BR" type bridge stp_state 0 forward_delay 0 2>/dev/null
	ip -n "$UNDER" link set "$VX_BR" up
}

# vx_plug IF: a veth whose end IF stays in the host's namespace (up, offloads
# off) and whose peer is a port of the underlay bridge.
vx_plug() {
	local host=$1 peer="${1}p"
	ip link add "$host" type veth peer name "$peer" || fail "cannot create veth $host"
	E2E_LINKS+=("$host")
	ip link set "$peer" netns "$UNDER"
	ip -n "$UNDER" link set "$peer" master "$VX_BR"
	ip -n "$UNDER" link set "$peer" up
	ip netns exec "$UNDER" ethtool -K "$peer" tx off rx off gso off tso off gro off \
		>/dev/null 2>&1
	sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" 2>/dev/null
	ip link set "$host" up
	offloads_off "$host"
}

# vx_ns_plug NAME ADDR/LEN: namespace NAME (created if needed) gets eth0 on the
# underlay bridge with ADDR (a kernel host of the underlay).
vx_ns_plug() {
	local n l=$(ifname "k$1")
	n=$(ns "$1")
	ip netns list | qgrep -w "^$n" || make_ns "$1"
	ip link add "$l" type veth peer name "${l}p" || fail "cannot create veth $l"
	E2E_LINKS+=("$l")
	ip link set "$l" netns "$UNDER"
	ip -n "$UNDER" link set "$l" master "$VX_BR"
	ip -n "$UNDER" link set "$l" up
	ip link set "${l}p" netns "$n"
	ip -n "$n" link set "${l}p" name eth0
	ip -n "$n" addr add "$2" dev eth0
	ip -n "$n" link set eth0 up
	ip netns exec "$n" ethtool -K eth0 tx off rx off gso off tso off gro off >/dev/null 2>&1
	ip netns exec "$UNDER" ethtool -K "$l" tx off rx off gso off tso off gro off \
		>/dev/null 2>&1
}

# vx_host I [YAML...]: write host I's config (its afpacket uplink on a new
# veth into the underlay, address 192.0.2.1I/24, plus the extra YAML lines).
vx_host() {
	local i=$1 f
	shift
	H_IF[$i]=$(ifname "v$i")
	vx_plug "${H_IF[$i]}"
	f="$E2E_TMP/h$i.yaml"
	{
		echo "# $E2E_NAME: host $i"
		echo "mbufs: 8192"
		echo "poll:"
		echo "  mode: adaptive"
		echo "ports:"
		echo "  - name: up0"
		echo "    type: afpacket"
		echo "    iface: ${H_IF[$i]}"
		echo "    role: uplink"
		echo "    address: $(vx_addr "$i")/24"
		printf '%s\n' "$@"
	} >"$f"
}

# hstart I: start host I's dpnetd (host I is current afterwards).
hstart() {
	use_host "$1"
	start_daemon
	H_PID[$1]=$DAEMON_PID
}

# hstop I [SIGNAL]: stop host I's dpnetd as lib.sh's stop_daemon does (exit
# 0, socket gone, log clean).
hstop() {
	use_host "$1"
	stop_daemon "${2:-TERM}"
	H_PID[$1]=""
}

# hrun I NAME [RUN-OPTIONS...]: a container on host I (sleep 600), removed at exit.
hrun() {
	local i=$1
	use_host "$i"
	H_CTRS[$i]="${H_CTRS[$i]:-} $2"
	shift
	ctr_run "$@" >/dev/null
}

vx_cleanup() {
	local rc=$? i c p k
	trap - EXIT
	for i in "${!H_PID[@]}"; do
		[ "$i" = "$VX_CUR" ] && H_PID[$i]=$DAEMON_PID
	done
	for i in "${!H_PID[@]}"; do
		p=${H_PID[$i]}
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
		for c in ${H_CTRS[$i]:-}; do
			timeout 15 "$DPCTL" --socket "$E2E_TMP/h$i.sock" rm -f "$c" >/dev/null 2>&1
		done
		kill -TERM "$p" 2>/dev/null
		for k in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for i in "${!H_PID[@]}"; do
		[ $rc -eq 0 ] && [ -f "$E2E_TMP/h$i.log" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$E2E_TMP/h$i.log"; then
			grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
				"$E2E_TMP/h$i.log" >&2
			echo "FAIL: $E2E_NAME: a sanitizer reported the above in host $i's log" >&2
			rc=1
		fi
	done
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		for i in "${!H_PID[@]}"; do
			[ -f "$E2E_TMP/h$i.log" ] || continue
			echo "----- last lines of host $i's log ($E2E_TMP/h$i.log) -----" >&2
			tail -n 25 "$E2E_TMP/h$i.log" >&2
		done
	fi
	# lib.sh's part: namespaces, links, helpers, what the containers left.
	DAEMON_PID=""
	E2E_PREFIX=$VX_BASE_PREFIX
	E2E_LOG=/dev/null/none
	(exit $rc)
	e2e_cleanup
}
trap vx_cleanup EXIT

# stat_drop I REASON: drop counter REASON of host I (dpctl stats --json).
stat_drop() {
	hctl "$1" stats --json | json "d['drops']['$2']"
}

# vx_stat I KEY: a member of host I's "vxlan" stats object.
vx_stat() {
	hctl "$1" stats --json | json "d['vxlan']['$2']"
}

# fdb_vtep I NETWORK MAC: the VTEP host I's `vxlan fdb ls` gives MAC ("" if none).
fdb_vtep() {
	hctl "$1" vxlan fdb ls "$2" --json |
		json "next((e['vtep'] for e in d if e['mac'] == '$3'), '')"
}
