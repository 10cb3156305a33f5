#!/usr/bin/env bash
# idle_wake: interrupt wake of idle workers (issue 7: < 1 % of a core idle,
# the first packet after idle forwarded promptly) in TAP mode.
#
# dpnetd runs in a namespace of its own standing for the host (as tap_mode.sh)
# with the TAP uplink dpnet0 and poll.interrupt_timeout_ms 60000: a wake-up
# that does not come costs a minute, so every ping below that answers within
# 2 s was forwarded by a worker woken by an interrupt or by control. Checked:
#  - `dpctl status` says the worker blocks on interrupts (3 TAP queues);
#  - idle: the daemon's CPU over IDLE_S seconds is below IDLE_CPU_MAX_PCT
#    (default 3 %, generous for a shared machine and the sanitized pass; ~0.5
#    measured), the worker only blocked (no timer sleep), few loops;
#  - after idle, pings between two --attach tap containers all answer;
#  - (not here: control's frames on dp->inject. In TAP mode every neighbour
#    is PERMANENT, so nothing is resolved through control; the NIC uplinks
#    that resolve are afpacket or PCI, and an afpacket queue keeps its worker
#    on the timer. dp_wake is the same call for inject, publish and quit.)
#  - a view published while the worker is blocked: a container added after a
#    quiet spell is reached at once (its queue joins the epoll set);
#  - with poll.interrupts: off (a second daemon) the worker sleeps on the timer
#    and status says so;
#  - SIGTERM stops the blocked worker at once (dp_stop wakes it).
. "$(dirname "$0")/lib.sh"

allow_log 'WARNING: .*request refused'
need_cmd nsenter python3
IDLE_S=${IDLE_S:-4}
IDLE_CPU_MAX_PCT=${IDLE_CPU_MAX_PCT:-3}

HOSTNS=$(ns h)
make_ns h
cat >"$E2E_TMP/dpnetd-in-ns" <<EOF
#!/bin/sh
exec nsenter --net=/run/netns/$HOSTNS "$DPNETD" "\$@"
EOF
chmod +x "$E2E_TMP/dpnetd-in-ns"
DPNETD="$E2E_TMP/dpnetd-in-ns"
E2E_CONFIG="$E2E_TMP/tap.yaml"
write_tap_config() { # INTERRUPTS
	cat >"$E2E_CONFIG" <<EOF
# idle_wake: TAP mode with a TAP uplink dpnet0 in the test's namespace
poll:
  mode: adaptive
  interrupts: $1
  interrupt_timeout_ms: 60000
ports:
  - name: dpnet0
    type: tap
    iface: dpnet0
    role: uplink
EOF
}
write_tap_config auto

A=a$E2E_ID B=b$E2E_ID D=d$E2E_ID
start_daemon

# perf counter of worker 0: perf KEY
perf() { dpctl stats --perf --json | json "d['workers'][0]['$1']"; }
# CPU ticks (user + system) of the daemon
ticks() { awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat"; }
# ping_after NS ADDR: one echo after the worker has blocked; 2 s or fail
ping_after() {
	local out
	if ! out=$(ip netns exec "$1" ping -c 1 -W 2 "$2" 2>&1); then
		printf '%s\n' "$out" >&2
		e2e_diag
		fail "$3"
	fi
	log "$(grep -o 'time=[0-9.]* ms' <<<"$out")"
}
# woke NAME CMD...: the worker blocks within microseconds of the last frame
# (spin_polls empty loops); its block counter grows when it wakes, so after
# 0.5 s quiet, CMD's frame must end one block.
woke() {
	local b0 b1 what=$1
	shift
	sleep 0.5
	b0=$(perf intr_sleeps)
	"$@"
	b1=$(perf intr_sleeps)
	[ "$b1" -gt "$b0" ] || fail "$what: the worker was not blocked ($b0 -> $b1 blocks)"
}

ctr_run "$A" --attach tap >/dev/null
ctr_run "$B" --attach tap >/dev/null
IPA=$(ctr_ip "$A") IPB=$(ctr_ip "$B")
ping_ns_ok "$(cns "$A")" "$IPB"
ok "$A and $B (--attach tap) ping each other"

status_blocks() { dpctl status | qgrep -E '^poll mode: +adaptive \(interrupt wake on 3/3 queues, 1/1 workers block\)$'; }
wait_until 5 status_blocks || fail "status does not say the worker blocks on 3/3 queues: $(dpctl status | grep 'poll mode')"
ok "status: interrupt wake on 3/3 queues, the worker blocks"

# ---- idle
sleep 1
s0=$(perf sleeps) b0=$(perf intr_sleeps) l0=$(perf loops) t0=$(ticks)
sleep "$IDLE_S"
t1=$(ticks) s1=$(perf sleeps) b1=$(perf intr_sleeps) l1=$(perf loops)
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v s="$IDLE_S" \
	'BEGIN { printf "%.2f", (b - a) / hz / s * 100 }')
log "idle ${IDLE_S} s: CPU $cpu % of a core, $((l1 - l0)) loops, $((b1 - b0)) blocks, $((s1 - s0)) sleeps"
[ $((b1 - b0)) -ge 1 ] || fail "the worker never blocked on interrupts while idle"
[ $((s1 - s0)) -eq $((b1 - b0)) ] ||
	fail "the worker slept on the timer while idle ($((s1 - s0)) sleeps, $((b1 - b0)) blocks)"
# 60 s timeout: wake-ups while idle come from stray frames (IPv6 on the TAPs),
# each worth ~spin_polls loops; a worker sleeping on a 1 ms timer makes ~1000/s.
[ $((l1 - l0)) -lt $((IDLE_S * 500)) ] || fail "$((l1 - l0)) worker loops in $IDLE_S s idle"
awk -v c="$cpu" -v m="$IDLE_CPU_MAX_PCT" 'BEGIN { exit !(c < m) }' ||
	fail "idle CPU $cpu % of a core, expected < $IDLE_CPU_MAX_PCT %"
ok "idle: $cpu % of a core, the worker blocked (no timer sleeps)"

# ---- the first packet after idle
for i in 1 2 3; do
	woke "ping $i" ping_after "$(cns "$A")" "$IPB" "ping $A -> $B after idle ($i) not answered within 2 s"
done
ok "pings after idle answered (woken by the TAP queue)"

# ---- a view published while blocked
sleep 1
ctr_run "$D" --attach tap >/dev/null
IPD=$(ctr_ip "$D")
woke "new container" ping_after "$(cns "$D")" "$IPA" "the new container $D does not reach $A within 2 s"
ok "a container added while the worker was blocked is served at once"

# ---- quit wakes the worker
t0=$(date +%s%N)
sleep 1
for c in "$A" "$B" "$D"; do dpctl rm -f "$c" >/dev/null 2>&1; done
stop_daemon
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 15000 ] || fail "stopping took $ms ms"
ok "SIGTERM stops the blocked worker ($ms ms, timeout 60 s)"

# ---- interrupts off: the timer sleeps as before
write_tap_config off
start_daemon
dpctl status | qgrep -E '^poll mode: +adaptive \(timer sleeps: poll.interrupts off\)$' ||
	fail "status with interrupts off: $(dpctl status | grep 'poll mode')"
sleep 1
s0=$(perf sleeps) b0=$(perf intr_sleeps)
sleep 1
s1=$(perf sleeps) b1=$(perf intr_sleeps)
[ $((b1 - b0)) -eq 0 ] && [ $((s1 - s0)) -gt 100 ] ||
	fail "interrupts off: $((s1 - s0)) sleeps, $((b1 - b0)) blocks in 1 s"
stop_daemon
ok "poll.interrupts: off sleeps on the timer ($((s1 - s0)) sleeps/s), status says so"
