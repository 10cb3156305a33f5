#!/usr/bin/env bash
# vhost: a DPDK-speaking "container" on a vhost port exchanges traffic with a
# namespace on an afpacket port.
#
# The container is a second DPDK process: dpdk-testpmd with a virtio_user
# device on the vhost port's socket (its own file prefix, --no-huge and
# --single-file-segments, which vhost-user without hugepages needs). Both
# directions are proven by counting what the application on the far side saw:
#   testpmd -> namespace: `start tx_first` sends 32 UDP frames addressed to the
#     namespace's MAC; tcpdump in the namespace must capture all 32;
#   namespace -> testpmd: scapy sends 50 UDP frames to testpmd's MAC (learned
#     from the frames above); testpmd's RX-packets must reach 50.
. "$(dirname "$0")/lib.sh"
need_cmd dpdk-testpmd tcpdump
"$PY" -c 'import scapy' 2>/dev/null || skip "needs python3-scapy"

# Peer disconnects and feature negotiation are reported by the vhost library.
allow_log 'VHOST_CONFIG'

IA=$(ifname a)
MAC_A=02:00:5e:10:00:0a
MAC_TP=02:00:5e:10:00:0b
VSOCK="$E2E_TMP/vh0.sock"
TP_LOG="$E2E_TMP/testpmd.log"
TP_IN="$E2E_TMP/testpmd.in"
N_NS=50

start_daemon
veth_ns a "$IA" 10.99.0.1/24 "$MAC_A"
run dpctl add-port pa --type afpacket --iface "$IA"
run dpctl add-port vh0 --type vhost --iface "$VSOCK"
wait_until 10 test -S "$VSOCK" || fail "vhost port did not create its socket $VSOCK"
ok "afpacket port pa and vhost port vh0 ($VSOCK)"

# testpmd in interactive mode, fed through a FIFO so that each step happens
# when the test says so. Both its lcores run on CPU 0, which dpnetd's control
# thread leaves idle, so that its polling does not steal CPU 1 from dpnetd's
# worker on a 2-core machine.
mkfifo "$TP_IN"
exec 3<>"$TP_IN"   # read-write: opening does not wait for a reader
stdbuf -o0 -e0 dpdk-testpmd --no-huge -m 1024 --single-file-segments --no-pci \
	--file-prefix "$E2E_PREFIX-tp" --lcores 0@0,1@0 \
	--vdev "net_virtio_user0,path=$VSOCK,queues=1,mac=$MAC_TP" \
	-- -i --total-num-mbufs=16384 --eth-peer=0,$MAC_A <"$TP_IN" >"$TP_LOG" 2>&1 3>&- &
TP_PID=$!
E2E_PIDS+=($TP_PID)
tp() { printf '%s\n' "$*" >&3; }

wait_until 30 grep -q 'testpmd>' "$TP_LOG" || {
	cat "$TP_LOG" >&2
	fail "testpmd did not reach its prompt"
}
wait_until 10 sh -c "'$DPCTL' --socket '$E2E_SOCK' port ls --json | grep -q vh0" ||
	fail "vh0 not listed"
link_up() {
	dpctl port ls --json | json "port(d, 'vh0').get('state', '')" | qgrep -i up
}
wait_until 15 link_up || fail "vh0 link did not come up after testpmd connected"
ok "testpmd connected through virtio_user, vh0 link up"

# testpmd -> namespace
in_ns a timeout 30 tcpdump -l -n -i eth0 -c 32 -w "$E2E_TMP/a.pcap" \
	'udp and src host 198.18.0.1' 2>"$E2E_TMP/tcpdump.err" &
TD_PID=$!
E2E_PIDS+=($TD_PID)
wait_until 10 grep -q 'listening on' "$E2E_TMP/tcpdump.err" || fail "tcpdump did not start"
tp "set fwd rxonly"
tp "start tx_first"
for i in $(seq 1 150); do kill -0 $TD_PID 2>/dev/null || break; sleep 0.1; done
got=$(tcpdump -r "$E2E_TMP/a.pcap" -n 2>/dev/null | grep -c 'UDP')
[ "$got" -ge 32 ] || {
	tail -n 30 "$TP_LOG" >&2
	fail "namespace captured $got of the 32 frames testpmd sent"
}
ok "testpmd -> namespace: $got frames captured by tcpdump in $(ns a)"

# namespace -> testpmd
rx_tp() {
	tp "show port stats 0"
	sleep 0.3
	awk '/RX-packets:/ { n = $2 } END { print n + 0 }' "$TP_LOG"
}
rx0=$(rx_tp)
in_ns a "$PY" - "$MAC_A" "$MAC_TP" "$N_NS" <<'EOF' || fail "scapy could not send"
import sys
from scapy.all import Ether, IP, UDP, sendp
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = Ether(src=src, dst=dst) / IP(src="10.99.0.1", dst="10.99.0.200") / UDP(sport=4000, dport=9) / (b"x" * 18)
sendp([f] * n, iface="eth0", verbose=0)
EOF
rx=0
for i in $(seq 1 50); do
	rx=$(rx_tp)
	[ "$rx" -ge $((rx0 + N_NS)) ] && break
done
[ "$rx" -ge $((rx0 + N_NS)) ] || {
	tail -n 30 "$TP_LOG" >&2
	fail "testpmd received $((rx - rx0)) of the $N_NS frames sent from the namespace"
}
ok "namespace -> testpmd: testpmd RX-packets $rx0 -> $rx"

vrx=$(port_counter vh0 rx) vtx=$(port_counter vh0 tx)
[ "$vrx" -ge 32 ] && [ "$vtx" -ge $N_NS ] ||
	fail "vh0 counters: rx $vrx (expected >= 32), tx $vtx (expected >= $N_NS)"
ok "vh0 counters: rx $vrx, tx $vtx"

tp "stop"
tp "quit"
exec 3>&-
for i in $(seq 1 100); do kill -0 "$TP_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$TP_PID" 2>/dev/null && fail "testpmd did not quit"
wait "$TP_PID"
ok "testpmd quit"
sleep 0.5
daemon_alive || fail "dpnetd died when the virtio_user peer went away"
run dpctl del-port vh0
stop_daemon
