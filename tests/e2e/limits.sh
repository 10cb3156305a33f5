#!/usr/bin/env bash
# limits: resource limits degrade with counters and recover, without a stall
# (issue 8, item 6). TAP mode, every pool at its configured minimum
# (`mbufs: 1024`, `fdb: {size: 1024}`, `conntrack: {max: 1024}`), two daemons
# one after the other, each with its own containers:
#
#  1. a full MAC table (fdb size 1024, aging_s 2): a container sends frames
#     from 1,500 distinct source MACs (scapy). Checked: `stats --json` fdb.full
#     counts the refused adds, entries never exceed the size; two containers
#     whose MACs were known before ping each other every 50 ms throughout,
#     none lost; while full, a new source MAC is not learned and frames to it
#     are flooded (a third container sees them); once the spoofed MACs have
#     aged out, a new source MAC is learned again.
#  2. a port that stops draining, with 1024 mbufs: a `--attach tap` container
#     (which the pool must hold at all next to the TAP uplink: a TAP port used
#     to pin 1024 mbufs) sets its eth0 down, so net_tap's writes fail, while
#     another container sends it UDP (~40k/s for 3 s). Checked: the frames are
#     dropped as tx-full and counted on that port's tx_drops; two other
#     containers ping each other every 50 ms, at most 5% lost (a stall loses
#     them all); `dpctl status` answers in < 1 s each time it is asked during
#     the flood; after eth0 is up again the container is pinged, a second burst
#     reaches it and tx-full stays still; no frame lacked an mbuf (no-mbuf,
#     rx_nombuf), though both bursts were many times the pool: none leaked.
#  3. a full conntrack table (max 1024): a container holds a TCP connection to
#     the host (MASQUERADE), then sends UDP to 1,500 ports of the host's
#     169.254.17.1. Checked: entries stop at 1024, ct-full counts the rest; a
#     new UDP exchange with the host fails (counted as ct-full); the held TCP
#     connection still exchanges; after `dpctl conntrack flush` a new UDP
#     exchange works and ct-full stays still.
# Each daemon stops cleanly (exit 0, log clean).
. "$(dirname "$0")/lib.sh"

need_cmd ss
"$PY" -c 'import scapy' 2>/dev/null || skip "needs scapy for $PY (python3-scapy)"
allow_log 'WARNING: .*request refused'

nat_peer_write
tap_mode

# daemon CONFIG-BODY: start dpnetd in TAP mode with the given config lines.
daemon() {
	E2E_CONFIG=$E2E_TMP/limits-$1.yaml
	cat >"$E2E_CONFIG" <<EOF
# tests/e2e/limits.sh, part $1
$2
ports:
  - {name: dpnet0, type: tap, iface: dpnet0, role: uplink, address: $NAT_UP/30, gateway: $NAT_HOST}
EOF
	start_daemon --config "$E2E_CONFIG"
}

dstat() { dpctl stats --json | json "$1"; }
drop() { dstat "d['drops']['$1']"; }

# ping_bg FROM-NS ADDR COUNT OUT: ping every 50 ms in the background (PING_PID).
ping_bg() {
	ip netns exec "$1" ping -n -i 0.05 -W 1 -c "$3" "$2" >"$4" 2>&1 &
	PING_PID=$!
	E2E_PIDS+=("$PING_PID")
}
# ping_loss OUT: the loss percentage ping printed.
ping_loss() { sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$1"; }

# ================================================================ 1. MAC table
daemon fdb "mbufs: 1024
fdb: {size: 1024, aging_s: 2}"
A=a$E2E_ID B=b$E2E_ID F=f$E2E_ID
ctr_run "$A" >/dev/null
ctr_run "$B" >/dev/null
ctr_run "$F" >/dev/null
AIP=$(ctr_ip "$A") BIP=$(ctr_ip "$B")
ping_ns_ok "$(cns "$A")" "$BIP"
ping_ns_ok "$(cns "$F")" "$AIP"
[ "$(dstat "d['fdb']['size']")" = 1024 ] || fail "fdb size is not 1024: $(dstat "d['fdb']")"

# spoof NS SRC-MAC-PREFIX N DST-MAC: N frames (EtherType 0x88b5) from
# SRC-MAC-PREFIX:xx:xx (distinct) to DST-MAC, out of eth0 of NS.
spoof() {
	nsexec "$1" timeout 60 "$PY" - "$2" "$3" "$4" <<'PYEOF' || fail "scapy could not send from $1"
import sys
from scapy.all import Ether, Raw, sendp, conf
pre, n, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
frames = [Ether(src="%s:%02x:%02x" % (pre, i >> 8, i & 255), dst=dst, type=0x88b5) / Raw(b"limits" * 8)
          for i in range(n)]
s = conf.L2socket(iface="eth0")
for i in range(0, n, 100):
    for f in frames[i:i + 100]:
        s.send(f)
    __import__("time").sleep(0.01)
PYEOF
}
f0=$(dstat "d['fdb']['full']")
ping_bg "$(cns "$A")" "$BIP" 160 "$E2E_TMP/ping-fdb.txt"
sleep 0.5
spoof "$(cns "$F")" 02:5e:00:00 1500 02:ee:00:00:00:01
fdb_full() { [ "$(dstat "d['fdb']['full']")" -gt "$f0" ]; }
wait_until 5 fdb_full || fail "1,500 source MACs into a 1024-MAC table: fdb.full did not rise: $(dstat "d['fdb']")"
st=$(dstat "d['fdb']")
log "fdb after 1,500 spoofed sources: $st"
[ "$(json "d['entries']" <<<"$st")" -le 1024 ] || fail "the MAC table holds more than its size: $st"
[ "$(json "d['entries']" <<<"$st")" -ge 1000 ] || fail "the MAC table was not filled: $st"
ok "MAC table full: entries $(json "d['entries']" <<<"$st") of 1024, fdb.full $f0 -> $(json "d['full']" <<<"$st") (learn_full $(dstat "d['learn_full']"))"

# While full: a new source is not learned, and frames to it are flooded.
X=02:5f:00:00:00:00   # spoof PREFIX 1 sends from PREFIX:00:00
f1=$(dstat "d['fdb']['full']")
spoof "$(cns "$F")" 02:5f:00:00 1 02:ee:00:00:00:01
refused_x() { [ "$(dstat "d['fdb']['full']")" -gt "$f1" ]; }
wait_until 5 refused_x || fail "a new source MAC while the table is full: fdb.full stayed $f1"
dpctl mac ls | qgrep -i "$X" && fail "$X was learned although the table is full"
nsexec "$(cns "$B")" timeout 10 "$PY" - "$X" >"$E2E_TMP/sniff.txt" 2>&1 <<'PYEOF' &
import sys
from scapy.all import sniff
print(len(sniff(iface="eth0", timeout=4, lfilter=lambda p: p.dst == sys.argv[1])))
PYEOF
SNIFF=$!
sleep 1.5
nsexec "$(cns "$A")" "$PY" - "$X" <<'PYEOF' || fail "scapy could not send from $A"
import sys
from scapy.all import Ether, Raw, sendp
sendp([Ether(dst=sys.argv[1], type=0x88b5) / Raw(b"to-unknown" * 5)] * 5, iface="eth0", verbose=0)
PYEOF
wait "$SNIFF" || fail "the sniffer in $B failed: $(cat "$E2E_TMP/sniff.txt")"
got=$(tail -n 1 "$E2E_TMP/sniff.txt")
[ "$got" -ge 5 ] || fail "$B saw $got of the 5 frames to the unlearned $X (flooded?): $(cat "$E2E_TMP/sniff.txt")"
ok "while full: the new source $X is refused (fdb.full $f1 -> $(dstat "d['fdb']['full']")), the 5 frames to it are flooded ($B saw $got)"

wait "$PING_PID"
loss=$(ping_loss "$E2E_TMP/ping-fdb.txt")
[ "$loss" = 0 ] || { tail -n 3 "$E2E_TMP/ping-fdb.txt" >&2; fail "pings between the known $A and $B were lost while the MAC table was full ($loss %)"; }
ok "known MACs kept forwarding: $(grep transmitted "$E2E_TMP/ping-fdb.txt")"

# Ageing (2 s, checked every second) empties the table of the spoofed MACs.
aged() { [ "$(dstat "d['fdb']['entries']")" -le 16 ]; }
wait_until 15 aged || fail "the spoofed MACs did not age out within 15 s: $(dstat "d['fdb']")"
f2=$(dstat "d['fdb']['full']")
Y=02:60:00:00:00:00
spoof "$(cns "$F")" 02:60:00:00 1 02:ee:00:00:00:01
learned_y() { dpctl mac ls | qgrep -i "$Y"; }
wait_until 5 learned_y || fail "after ageing, the new source $Y was not learned: fdb $(dstat "d['fdb']"), learn_events $(dstat "d['learn_events']"), learn_full $(dstat "d['learn_full']"); mac ls: $(dpctl mac ls | head -n 20)"
[ "$(dstat "d['fdb']['full']")" = "$f2" ] || fail "fdb.full rose after ageing: $f2 -> $(dstat "d['fdb']['full']")"
ping_ns_ok "$(cns "$A")" "$BIP"
ok "after ageing: $(dstat "d['fdb']['aged']") MACs aged, $(dstat "d['fdb']['entries']") left; the new source $Y is learned, fdb.full stays $f2; $A pings $B"
for c in "$A" "$B" "$F"; do run dpctl rm -f "$c" >/dev/null; done
stop_daemon TERM

# ================================================================ 2. a port that stops draining, 1024 mbufs
daemon tx "mbufs: 1024"
S=s$E2E_ID T=t$E2E_ID P=p$E2E_ID Q=q$E2E_ID
ctr_run "$S" >/dev/null
ctr_run "$T" --attach tap >/dev/null
ctr_run "$P" >/dev/null
ctr_run "$Q" >/dev/null
TIP=$(ctr_ip "$T") QIP=$(ctr_ip "$Q")
TPORT=$(ctr_get "$T" "c['networks'][0]['port']")
ping_ns_ok "$(cns "$S")" "$TIP"
ping_ns_ok "$(cns "$P")" "$QIP"
TMAC=$(ns_if_mac "$(cns "$T")")
nsexec "$(cns "$S")" ip neigh replace "$TIP" lladdr "$TMAC" dev eth0 nud permanent
ok "1024 mbufs: the TAP uplink and a --attach tap container ($T, port $TPORT) side by side, pinged"

# pool_size: the mbufs of dpnet's pool (EAL telemetry; DPDK 22.11 does not say
# how many are free: a leak shows as RX without mbufs once the pool is dry).
pool_size() {
	"$PY" - "/var/run/dpdk/$E2E_PREFIX/dpdk_telemetry.v2" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)
s.send(b"/mempool/info,dpnet_mbufs")
print(json.loads(s.recv(65536))["/mempool/info"]["size"])
PYEOF
}
# blast SECONDS: UDP from S to T at ~40k datagrams a second (background, BLAST_PID).
blast() {
	nsexec "$(cns "$S")" timeout $(($1 + 5)) "$PY" - "$TIP" "$1" >"$E2E_TMP/blast.txt" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n, end = 0, time.time() + float(sys.argv[2])
while time.time() < end:
    for _ in range(400):
        try:
            s.sendto(b"x" * 200, (sys.argv[1], 9))
            n += 1
        except OSError:
            pass
    time.sleep(0.01)
print(n)
PYEOF
	BLAST_PID=$!
	E2E_PIDS+=("$BLAST_PID")
}
tx_drops() { dpctl stats --json | json "port(d, '$TPORT')['tx_drops']"; }
nombuf() { dstat "d['drops']['no-mbuf'] + sum(p['rx_nombuf'] for p in d['ports'])"; }

POOL=$(pool_size) || fail "cannot read dpnet_mbufs from EAL telemetry"
[ "$POOL" = 1024 ] || fail "the pool has $POOL mbufs, not 1024"
t0=$(drop tx-full) d0=$(tx_drops)
nsexec "$(cns "$T")" ip link set eth0 down
ping_bg "$(cns "$P")" "$QIP" 80 "$E2E_TMP/ping-tx.txt"
blast 3
slow=0
for i in 1 2 3 4 5; do
	sleep 0.5
	s0=$(date +%s%N)
	timeout 5 "$DPCTL" --socket "$E2E_SOCK" status >/dev/null || fail "dpctl status failed during the flood"
	ms=$((($(date +%s%N) - s0) / 1000000))
	[ "$ms" -lt 1000 ] || slow=$ms
	log "dpctl status during the flood: $ms ms"
done
[ "$slow" = 0 ] || fail "dpctl status took $slow ms during the flood"
wait "$BLAST_PID" || fail "the UDP sender failed: $(cat "$E2E_TMP/blast.txt")"
wait "$PING_PID"
sent=$(cat "$E2E_TMP/blast.txt")
t1=$(drop tx-full) d1=$(tx_drops)
loss=$(ping_loss "$E2E_TMP/ping-tx.txt")
log "while $T's eth0 was down: $sent datagrams sent, tx-full $t0 -> $t1, $TPORT tx_drops $d0 -> $d1; $P -> $Q: $(grep transmitted "$E2E_TMP/ping-tx.txt")"
[ $((t1 - t0)) -ge $((sent / 2)) ] || fail "tx-full rose by $((t1 - t0)) for $sent datagrams to a port that does not drain"
[ $((d1 - d0)) -eq $((t1 - t0)) ] || fail "$TPORT's tx_drops rose by $((d1 - d0)), tx-full by $((t1 - t0))"
awk -v l="$loss" 'BEGIN { exit !(l <= 5) }' || fail "$loss % of the pings $P -> $Q lost while $T did not drain"
ok "a port that stops draining: tx-full +$((t1 - t0)) of $sent datagrams (its tx_drops alike); $P -> $Q lost $loss %; dpctl status < 1 s"

nsexec "$(cns "$T")" ip link set eth0 up
ping_ns_ok "$(cns "$S")" "$TIP"
t2=$(drop tx-full)
tx0=$(dpctl stats --json | json "port(d, '$TPORT')['sw_tx_pkts']")
blast 1
wait "$BLAST_PID"
sleep 0.5
t3=$(drop tx-full)
tx1=$(dpctl stats --json | json "port(d, '$TPORT')['sw_tx_pkts']")
[ "$t3" = "$t2" ] || fail "tx-full still rose after $T's eth0 came up: $t2 -> $t3"
[ $((tx1 - tx0)) -ge $(($(cat "$E2E_TMP/blast.txt") / 2)) ] ||
	fail "after eth0 came up, $TPORT sent $((tx1 - tx0)) of $(cat "$E2E_TMP/blast.txt") datagrams"
nm=$(nombuf)
log "mbufs: pool $POOL; frames lost for want of an mbuf: $nm"
[ "$nm" = 0 ] || fail "$nm frames lost for want of an mbuf (no-mbuf + rx_nombuf)"
ok "drains again: $T pinged, $((tx1 - tx0)) datagrams of a second burst sent to it, tx-full stays $t3; no frame lacked an mbuf in either burst ($(($(cat "$E2E_TMP/blast.txt") + sent)) datagrams through a pool of $POOL: none leaked)"
for c in "$S" "$T" "$P" "$Q"; do run dpctl rm -f "$c" >/dev/null; done
stop_daemon TERM

# ================================================================ 3. conntrack table
daemon ct "mbufs: 1024
conntrack: {max: 1024}"
C=c$E2E_ID
ctr_run "$C" >/dev/null
TCPP=$((20000 + RANDOM % 5000)) UDPP=$((26000 + RANDOM % 2000)) FILL0=$((30000 + RANDOM % 20000))
spawn "$PY" "$NAT_PY" serve-tcp --bind "$NAT_HOST" "$TCPP"
spawn "$PY" "$NAT_PY" serve-udp --bind "$NAT_HOST" "$UDPP"
wait_listening host tcp "$TCPP"
wait_listening host udp "$UDPP"
[ "$(ct_stat max)" = 1024 ] || fail "conntrack max is not 1024: $(dpctl conntrack stats)"
rm -f "$E2E_TMP/hold.ready" "$E2E_TMP/hold.go"
ip netns exec "$(cns "$C")" "$PY" "$NAT_PY" hold "$NAT_HOST" "$TCPP" "$E2E_TMP/hold.ready" "$E2E_TMP/hold.go" >"$E2E_TMP/hold.out" 2>&1 &
HOLD=$!
E2E_PIDS+=("$HOLD")
wait_until 10 test -f "$E2E_TMP/hold.ready" || fail "the held TCP connection did not come up: $(cat "$E2E_TMP/hold.out")"

cf0=$(drop ct-full)
nsexec "$(cns "$C")" timeout 60 "$PY" - "$NAT_HOST" "$FILL0" <<'PYEOF' || fail "the UDP filler failed"
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1500):
    s.sendto(b"fill", (sys.argv[1], int(sys.argv[2]) + i))
    if i % 50 == 49:
        time.sleep(0.005)
PYEOF
ct_filled() { [ "$(ct_stat entries)" -ge 1024 ]; }
wait_until 5 ct_filled || fail "1,500 UDP flows: conntrack holds $(ct_stat entries) of 1024"
cf1=$(drop ct-full)
[ "$(ct_stat entries)" -le 1024 ] || fail "conntrack holds more than its max: $(dpctl conntrack stats)"
[ $((cf1 - cf0)) -ge 400 ] || fail "1,500 UDP flows into a 1024-entry table: ct-full rose by $((cf1 - cf0))"
ok "conntrack full: $(ct_stat entries) of 1024 entries, ct-full $cf0 -> $cf1, refused_full $(ct_stat refused_full)"

if out=$(ip netns exec "$(cns "$C")" "$PY" "$NAT_PY" udp "$NAT_HOST" "$UDPP" new 2>&1); then
	fail "a new UDP exchange worked with the conntrack table full: $out"
fi
cf2=$(drop ct-full)
[ "$cf2" -gt "$cf1" ] || fail "the refused new UDP exchange was not counted as ct-full ($cf1 -> $cf2)"
touch "$E2E_TMP/hold.go"
wait "$HOLD" || fail "the TCP connection opened before the table filled stopped working: $(cat "$E2E_TMP/hold.out")"
ok "while full: a new UDP exchange is refused (ct-full $cf1 -> $cf2), the TCP connection opened before still exchanges"

run dpctl conntrack flush >/dev/null
[ "$(ct_stat entries)" -le 1 ] || fail "entries after flush: $(dpctl conntrack stats)"
cf3=$(drop ct-full)
out=$(ip netns exec "$(cns "$C")" "$PY" "$NAT_PY" udp "$NAT_HOST" "$UDPP" after-flush) ||
	fail "after conntrack flush, a new UDP exchange still fails: $out"
[[ "$out" == *" after-flush" ]] || fail "after flush: UDP answer $out"
[ "$(drop ct-full)" = "$cf3" ] || fail "ct-full rose after the flush: $cf3 -> $(drop ct-full)"
ok "after conntrack flush: a new UDP exchange works ($out), ct-full stays $cf3"
run dpctl rm -f "$C" >/dev/null
stop_daemon TERM
