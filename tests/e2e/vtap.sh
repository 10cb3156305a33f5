#!/usr/bin/env bash
# vtap: containers attached with `--attach vtap` (drivers/vtap.h, issue 7 item
# 5): a TAP with virtio-net headers, so a container's TCP crosses the switch in
# segments of up to 64 KB with partial checksums (dataplane/offload.h).
#
# Two vtap containers A and B on `bridge` and a veth container V:
#   - A's eth0 is a TAP with vnet_hdr, TSO, scatter-gather and TX checksum on,
#     gso_max_size at most 65000; its port is of type vtap;
#   - A and B ping each other, also with 1472-byte DF pings (a full 1500 MTU);
#   - idle, the worker blocks on the vtap queues' TAP descriptors (status says
#     so) and a ping wakes it;
#   - iperf3 A -> B for 3 s gets through, and `port stats` shows rx_gso > 0 on
#     A's port and tx_gso > 0 on B's (64 KB segments crossed whole), no frame
#     refused (rx_bad_vnet 0); 4 MiB over TCP arrive intact both ways;
#   - dpnetd restarted on its state: A and B come back as vtap (new TAPs moved
#     in), ping and TCP again;
#   - three more (default-attached) vtap containers: with five on one worker,
#     it reads only the TAPs epoll says have frames; pings and TCP still flow;
#   - rm B: its namespace, port and TAP are gone;
#   - A (vtap, offloads on) and V (veth, offloads off) exchange TCP: A's
#     segments and partial checksums must be finished by the dispatcher
#     (dp_offload_finish, offload.h) before the afpacket port;
#   - a vtap container's namespace destroyed outside dpnet: the idle worker
#     drops the dead TAP from its wake set and stays idle.
. "$(dirname "$0")/lib.sh"

need_cmd iperf3 socat ss cmp flock
# The last step destroys a container's namespace behind dpnet's back.
allow_log 'no longer waited on|vtap: .*(readv|Bad file descriptor)'

A=a$E2E_ID B=b$E2E_ID V=v$E2E_ID

# No TAP uplink is needed (the containers talk among themselves), but iperf3
# wants the machine to itself: one e2e at a time, as the TAP-mode tests.
exec {E2E_LOCK_FD}>>"$E2E_LOCK" || fail "cannot open the lock $E2E_LOCK"
flock -w 200 "$E2E_LOCK_FD" || skip "another e2e test held $E2E_LOCK for 200 s"

# port stats NAME, one field of its vtap object.
vstat() {
	dpctl port stats "$1" --json | json "d['vtap']['$2']"
}

check_vtap_if() { # CONTAINER
	local n=$(cns "$1") d k gso
	d=$(nsexec "$n" ip -d link show eth0)
	[[ "$d" == *"tun type tap"*"vnet_hdr on"* ]] ||
		fail "$1: eth0 is not a TAP with vnet_hdr: $d"
	gso=$(grep -o 'gso_max_size [0-9]*' <<<"$d" | awk '{print $2}')
	[ -n "$gso" ] && [ "$gso" -le 65000 ] || fail "$1: eth0 gso_max_size '$gso', expected <= 65000"
	k=$(nsexec "$n" ethtool -k eth0)
	for f in tcp-segmentation-offload scatter-gather tx-checksumming; do
		grep -q "^$f: on" <<<"$k" || fail "$1: eth0 has $f off (vtap keeps it on): $k"
	done
	[ "$(ctr_get "$1" "c['networks'][0]['attach']")" = vtap ] ||
		fail "$1: ps --json does not say attach vtap"
}

ping_df() { # NS IP: 1472 bytes of ICMP payload, DF: a full 1500-byte packet
	local out
	if ! out=$(nsexec "$1" ping -c 3 -i 0.2 -W 2 -M do -s 1472 "$2" 2>&1) ||
		! grep -q ' 0% packet loss' <<<"$out"; then
		printf '%s\n' "$out" >&2
		fail "1472-byte DF ping from $1 to $2 failed"
	fi
}

start_daemon
ctr_run "$A" --attach vtap >/dev/null
ctr_run "$B" --attach vtap >/dev/null
IPA=$(ctr_ip "$A") IPB=$(ctr_ip "$B")
PA=$(ctr_get "$A" "c['networks'][0]['port']") PB=$(ctr_get "$B" "c['networks'][0]['port']")
[ "$(dpctl port ls --json | json "port(d, '$PA')['type']")" = vtap ] || fail "port $PA is not of type vtap"
check_vtap_if "$A"
check_vtap_if "$B"
ok "$A and $B attached by vtap ($PA, $PB): TAP with vnet_hdr, TSO/SG/checksum on, gso_max_size <= 65000"

ping_ns_ok "$(cns "$A")" "$IPB"
ping_ns_ok "$(cns "$B")" "$IPA"
ping_df "$(cns "$A")" "$IPB"
ping_df "$(cns "$B")" "$IPA"
ok "$A and $B ping each other, also 1472 bytes with DF"

# An idle worker blocks on the vtap queues' TAP descriptors (interrupt wake,
# worker.c) and a frame wakes it.
status_blocks() { dpctl status | qgrep -E '^poll mode: +adaptive \(interrupt wake on 2/2 queues, 1/1 workers block\)$'; }
dpctl status | qgrep -E '^containers: +attach with vtap by default$' ||
	fail "status does not say containers attach with vtap by default: $(dpctl status)"
wait_until 5 status_blocks || fail "status does not say the worker blocks on 2/2 vtap queues: $(dpctl status | grep 'poll mode')"
sleep 1
ping_ns_ok "$(cns "$A")" "$IPB"
ok "idle: the worker blocks on the 2 vtap queues' TAPs; a ping after 1 s idle wakes it"

ctr_run "$V" --attach veth >/dev/null
IPV=$(ctr_ip "$V")
ping_ns_ok "$(cns "$A")" "$IPV"
ping_ns_ok "$(cns "$V")" "$IPA"
ok "$A (vtap) and $V (veth) ping each other"

# iperf3: what the application saw, then what the ports counted.
iperf_ab() {
	local out bps
	nsexec "$(cns "$B")" timeout 20 iperf3 -s -1 -B "$IPB" -p 5201 >/dev/null 2>&1 &
	E2E_PIDS+=($!)
	wait_until 5 nsexec "$(cns "$B")" sh -c "ss -ltnH | grep -q '$IPB:5201 '" ||
		fail "iperf3 server in $B did not start"
	out=$(nsexec "$(cns "$A")" timeout 20 iperf3 -c "$IPB" -p 5201 -t 3 -J 2>&1) ||
		{ printf '%s\n' "$out" >&2; fail "iperf3 $A -> $B failed"; }
	bps=$(json "int(d['end']['sum_received']['bits_per_second'])" <<<"$out") ||
		fail "iperf3 $A -> $B: no result: $out"
	[ "$bps" -gt 0 ] || fail "iperf3 $A -> $B: nothing received"
	log "iperf3 $A -> $B: $((bps / 1000000)) Mbit/s"
}
iperf_ab
rx_gso=$(vstat "$PA" rx_gso) tx_gso=$(vstat "$PB" tx_gso)
[ "$rx_gso" -gt 0 ] || fail "port $PA: vtap rx_gso is $rx_gso after iperf3: no segment came whole from $A"
[ "$tx_gso" -gt 0 ] || fail "port $PB: vtap tx_gso is $tx_gso after iperf3: no segment went whole to $B"
for p in "$PA" "$PB"; do
	# (tx_errors may count frames flooded to a TAP before its link was up)
	for k in rx_bad_vnet rx_no_mbuf; do
		[ "$(vstat "$p" "$k")" = 0 ] || fail "port $p: vtap $k is $(vstat "$p" "$k")"
	done
done
dpctl port stats "$PA" | qgrep 'vtap: *rx-gso [1-9]' || fail "dpctl port stats $PA does not show rx-gso"
ok "iperf3 $A -> $B: $rx_gso segments in whole from $A, $tx_gso out whole to $B, none refused"
tcp_ok "$(cns "$A")" "$(cns "$B")" "$IPB"
tcp_ok "$(cns "$B")" "$(cns "$A")" "$IPA"
ok "TCP (4 MiB, intact) $A -> $B and $B -> $A"

# ---- restart: the TAPs died with the daemon; new ones are moved in
stop_daemon
start_daemon
check_vtap_if "$A"
check_vtap_if "$B"
ping_ns_ok "$(cns "$A")" "$IPB"
ping_df "$(cns "$B")" "$IPA"
tcp_ok "$(cns "$A")" "$(cns "$B")" "$IPB"
[ "$(vstat "$PA" rx_gso)" -gt 0 ] || fail "after the restart, $PA received no segment whole"
ok "after a restart $A and $B are vtap again: ping, DF ping, TCP with segments whole"

# ---- many vtaps on one worker: it asks epoll which TAPs have frames
# (worker.c, WK_VTAP_EPOLL_MIN) instead of reading each one every loop.
for x in 1 2 3; do ctr_run "m$x$E2E_ID" >/dev/null; done
IPM3=$(ctr_ip "m3$E2E_ID")
ping_ns_ok "$(cns "$A")" "$IPM3"
ping_ns_ok "$(cns "m3$E2E_ID")" "$IPB"
ping_ns_ok "$(cns "m1$E2E_ID")" "$(ctr_ip "m2$E2E_ID")"
tcp_ok "$(cns "$A")" "$(cns "$B")" "$IPB"
for x in 1 2 3; do run dpctl rm -f "m$x$E2E_ID" >/dev/null; done
ok "5 vtap containers on one worker (default attachment): pings among them, TCP $A -> $B intact"

# ---- rm: namespace, port and TAP go
run dpctl rm -f "$B" >/dev/null
[ ! -e "/run/netns/$(cns "$B")" ] || fail "rm $B left its namespace"
dpctl port ls --json | json "any(p['name'] == '$PB' for p in ports(d))" | qgrep -x False ||
	fail "rm $B left its port $PB"
ip -o link | grep -q ' dpx' && fail "a dpx* TAP is left in the host's namespace: $(ip -o link | grep ' dpx')"
ok "rm $B: namespace, port and TAP gone"

# ---- vtap <-> veth: the dispatcher's finishing
# A's kernel sends 64 KB segments and partial checksums; the afpacket port of
# V cannot take them, so pl_dispatch segments and completes them
# (dp_offload_finish).
tcp_ok "$(cns "$A")" "$(cns "$V")" "$IPV"
tcp_ok "$(cns "$V")" "$(cns "$A")" "$IPA"
ok "TCP (4 MiB, intact) $A (vtap) -> $V (veth) and back"

# ---- a vtap whose namespace is destroyed outside dpnet: its TAP goes with it
# and its fd polls as an error for ever; the idle worker must drop it from its
# epoll set and block on the rest, not spin (worker.c).
run dpctl rm -f "$V" >/dev/null
for p in $(ip netns pids "$(cns "$A")"); do kill -KILL "$p" 2>/dev/null || true; done
ip netns del "$(cns "$A")" || fail "cannot delete $(cns "$A")"
ticks() { awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat"; }
sleep 1
t0=$(ticks)
sleep 3
t1=$(ticks)
cpu=$(( (t1 - t0) * 100 / $(getconf CLK_TCK) / 3 ))
[ "$cpu" -lt 20 ] || fail "dpnetd uses $cpu % of a core after $A's namespace vanished (spinning on its dead TAP?)"
qgrep 'no longer waited on' <"$E2E_LOG" || fail "the worker did not report dropping $A's dead TAP from its wake set"
ok "$A's namespace destroyed outside dpnet: the worker drops its dead TAP from the wake set and stays idle ($cpu % of a core)"

stop_daemon
