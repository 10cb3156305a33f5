#!/usr/bin/env bash
# perf/idle_latency.sh [MAX_US...] - the price of adaptive polling's sleep ceiling.
# perf/idle_latency.sh --tap - the same for TAP-attached containers, with the
#   timer sleeps (poll.interrupts: off), interrupt wake (auto) and busy polling
#   (the latency floor) in one run: dpnetd in a namespace of its own, two
#   containers `dpctl run --attach tap`; one line per mode.
#
# For each poll.sleep_max_us value (default: 50 100 250 1000) starts dpnetd with
# two namespaces on veth/afpacket ports, measures the daemon's CPU while idle
# (5 s, from /proc/PID/stat) and the ping RTT between the namespaces with 0.3 s
# between pings, so that every echo request finds the worker asleep. Prints one
# line per value. Run as root; cleans up after itself.
set -euo pipefail
BENCH_NAME=idle_latency.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_tools
[ "$(id -u)" -eq 0 ] || { echo "idle_latency.sh: run as root" >&2; exit 1; }
[ -x "$DPNETD" ] || { echo "idle_latency.sh: build first ($DPNETD missing)" >&2; exit 1; }
bench_lock   # one benchmark at a time (perf/lib.sh)

one() {
	local m=$1 d pid x t0 t1 rtt cpu
	d=$(mktemp -d /tmp/dpnet-idle.XXXXXX)
	local id=il$$${m}
	cleanup() {
		[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		for x in a b; do
			ip netns del "$id$x" 2>/dev/null || true
			ip link del "$id$x" 2>/dev/null || true
		done
		rm -rf "$d"
	}
	trap cleanup RETURN
	printf 'poll:\n  mode: adaptive\n  sleep_max_us: %s\n' "$m" >"$d/c.yaml"
	"$DPNETD" --config "$d/c.yaml" --socket "$d/s" --state-dir "$d/st" -- --no-huge \
		--no-pci -l 0,1 -m 512 --file-prefix "$id" >"$d/log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do "$DPCTL" --socket "$d/s" status >/dev/null 2>&1 && break; sleep 0.1; done
	for x in a b; do
		ip netns add "$id$x"
		ip link add "$id$x" type veth peer name eth0 netns "$id$x"
		ip -n "$id$x" addr add "10.98.0.$([ $x = a ] && echo 1 || echo 2)/24" dev eth0
		ip -n "$id$x" link set eth0 up
		ip link set "$id$x" up
		"$DPCTL" --socket "$d/s" add-port "p$x" --type afpacket --iface "$id$x" >/dev/null
	done
	ip netns exec "${id}a" ping -c 2 -W 1 10.98.0.2 >/dev/null
	t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	sleep 5
	t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz / 5 * 100 }')
	rtt=$(ip netns exec "${id}a" ping -c 10 -i 0.3 10.98.0.2 | awk -F/ '/^rtt/ { print $5 }')
	printf 'sleep_max_us=%-5s idle CPU %5s %% of a core   ping RTT avg %s ms\n' "$m" "$cpu" "$rtt"
}

# one_tap LABEL POLL-YAML: TAP mode, two --attach tap containers.
one_tap() {
	local label=$1 poll=$2 d pid ip cpu rtt t0 t1 b0 b1
	d=$(mktemp -d /tmp/dpnet-idle.XXXXXX)
	local id=it$$$RANDOM
	cleanup() {
		for x in a b; do "$DPCTL" --socket "$d/s" rm -f "$id$x" >/dev/null 2>&1 || true; done
		[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		ip netns del "$id" 2>/dev/null || true
		rm -rf "$d"
	}
	trap cleanup RETURN
	printf 'poll:\n%s\n' "$poll" >"$d/c.yaml"
	ip netns add "$id"
	nsenter --net="/run/netns/$id" "$DPNETD" --config "$d/c.yaml" --socket "$d/s" \
		--state-dir "$d/st" -- --no-huge --no-pci -l 0,1 -m 512 --file-prefix "$id" \
		>"$d/log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do "$DPCTL" --socket "$d/s" status >/dev/null 2>&1 && break; sleep 0.1; done
	for x in a b; do
		"$DPCTL" --socket "$d/s" run -d --name "$id$x" --attach tap >/dev/null
	done
	ip=$("$DPCTL" --socket "$d/s" ps --json |
		python3 -c "import json,sys; print([c['ip'] for c in json.load(sys.stdin) if c['name'] == '${id}b'][0])")
	ip netns exec "dpnet-${id}a" ping -c 2 -W 1 "$ip" >/dev/null
	sleep 1
	t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	sleep 5
	t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz / 5 * 100 }')
	rtt=$(ip netns exec "dpnet-${id}a" ping -c 20 -i 0.3 "$ip" | awk '/^rtt/ { split($4, a, "/"); print a[1] "/" a[2] "/" a[3] }')
	printf '%-28s idle CPU %5s %% of a core   ping RTT min/avg/max %s ms   (%s)\n' "$label" \
		"$cpu" "$rtt" "$("$DPCTL" --socket "$d/s" status | sed -n 's/^poll mode: *//p')"
}

if [ "${1:-}" = --tap ]; then
	one_tap "timer (interrupts: off)" "  mode: adaptive
  interrupts: off"
	one_tap "interrupt wake (auto)" "  mode: adaptive
  interrupts: auto"
	one_tap "busy" "  mode: busy"
	exit 0
fi

for m in "${@:-50 100 250 1000}"; do
	for v in $m; do one "$v"; done
done
