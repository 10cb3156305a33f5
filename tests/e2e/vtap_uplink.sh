#!/usr/bin/env bash
# vtap_uplink: TAP mode with a vtap uplink (drivers/vtap.h) instead of a tap.
#
# The daemon runs in a namespace of its own that stands for the host (as in
# tap_mode.sh), its uplink a vtap there with the transfer network of the
# built-in config (dpnet 169.254.17.2/30, the host side .1). Checked: the host
# side is set up as in TAP mode (addresses, offloads kept on: TSO), the host
# pings the uplink address, reaches a published port of a vtap container and
# sends it 8 MB that cross the switch as large segments (the uplink's rx-gso
# grows: they were not cut into MTU frames before dpnet), a container's TCP to
# the host leaves masqueraded as 169.254.17.2 (and its segments go to the host
# whole: tx-gso), kill -9 and a restart bring it all back; then `dpctl add-port
# --type vtap --role uplink` does the same from the command line, and refuses
# an address without a gateway with a one-line error.
. "$(dirname "$0")/lib.sh"

allow_log 'WARNING: .*request refused'
need_cmd nsenter python3

HOSTNS=$(ns h)
make_ns h
UP=$(ifname u)
cat >"$E2E_TMP/dpnetd-in-ns" <<EOF
#!/bin/sh
exec nsenter --net=/run/netns/$HOSTNS "$DPNETD" "\$@"
EOF
chmod +x "$E2E_TMP/dpnetd-in-ns"
DPNETD="$E2E_TMP/dpnetd-in-ns"
NOPORTS=$E2E_CONFIG
E2E_CONFIG="$E2E_TMP/vtap-uplink.yaml"
cat >"$E2E_CONFIG" <<EOF
# TAP mode with a vtap uplink (in the test's namespace)
poll:
  mode: adaptive
ports:
  - name: up0
    type: vtap
    iface: $UP
    role: uplink
    address: 169.254.17.2/30
    gateway: 169.254.17.1
EOF

C1=v${E2E_ID}s
track_ctr "$C1"
E2E_NETNS+=("dpnet-$C1")

hx() { ip netns exec "$HOSTNS" "$@"; }
addrs() { ip -n "$HOSTNS" -4 -o addr show dev "$UP" | awk '{print $4}' | sort | tr '\n' ' '; }
vtap_stat() { # PORT KEY: a counter of `port stats --json`'s vtap object
	dpctl port stats "$1" --json | json "d['vtap']['$2']"
}

# A TCP sink in the container: reads a connection to its end, answers "got N".
SINK='
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(4)
while True:
    c, a = s.accept()
    n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        n += len(b)
    c.sendall(b"got %d" % n); c.close()
'
# send_to IP PORT BYTES: from the host's namespace; prints the answer.
send_to() {
	hx timeout 20 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
buf = b"x" * (1 << 20); left = int(sys.argv[3])
while left > 0:
    k = s.send(buf[:min(left, len(buf))]); left -= k
s.shutdown(socket.SHUT_WR)
print(s.recv(64).decode())' "$@" 2>&1
}

start_daemon

# ---------------------------------------------------------------- the uplink
st=$(dpctl status --json) || fail "status failed"
[ "$(json "d['uplink']['mode']" <<<"$st")" = tap ] || fail "status: uplink not in TAP mode: $st"
[ "$(json "d['uplink']['address']" <<<"$st")" = 169.254.17.2 ] || fail "status: $st"
[ "$(dpctl port ls --json | json "port(d, 'up0')['type']")" = vtap ] ||
	fail "port ls does not show up0 as a vtap"
[ "$(addrs)" = "169.254.17.1/30 172.17.0.1/16 " ] ||
	fail "$UP has '$(addrs)', expected 169.254.17.1/30 172.17.0.1/16"
hx ethtool -k "$UP" | qgrep '^tcp-segmentation-offload: on' ||
	fail "TSO is off on the host side of the vtap uplink: $(hx ethtool -k "$UP" | head -20)"
hx ping -c 2 -i 0.2 -W 2 169.254.17.2 >/dev/null 2>&1 || fail "the host does not ping 169.254.17.2"
ok "vtap uplink in TAP mode: host side 169.254.17.1/30 + 172.17.0.1/16, TSO on, pings .2"

# ---------------------------------------------------------------- published port
run dpctl run -d --name "$C1" --attach vtap -p 8080:8080 -- python3 -c "$SINK" >/dev/null
ctr_remember
gso0=$(vtap_stat up0 rx_gso)
got=""
for _ in $(seq 1 25); do
	got=$(send_to 169.254.17.2 8080 8388608)
	[ "$got" = "got 8388608" ] && break
	sleep 0.2
done
[ "$got" = "got 8388608" ] || fail "8 MB from the host to 169.254.17.2:8080 got '$got'"
gso1=$(vtap_stat up0 rx_gso)
[ "$gso1" -gt "$gso0" ] ||
	fail "rx-gso of the uplink did not grow ($gso0 -> $gso1): segments were cut before dpnet"
dpctl port stats up0 | qgrep 'rx-gso [1-9]' || fail "port stats shows no rx-gso"
ok "the host sends 8 MB to a published port through the vtap uplink (rx-gso $gso0 -> $gso1)"

# ---------------------------------------------------------------- MASQUERADE
hx timeout 20 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("169.254.17.1", 8099)); s.listen(1); c, a = s.accept(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    n += len(b)
c.sendall(("%s %d" % (a[0], n)).encode()); c.close()
' &
E2E_PIDS+=($!)
sleep 0.5
tx0=$(vtap_stat up0 tx_gso)
got=$(ip netns exec "dpnet-$C1" timeout 20 python3 -c '
import socket
s = socket.create_connection(("169.254.17.1", 8099), timeout=10)
s.sendall(b"y" * 8388608); s.shutdown(socket.SHUT_WR); print(s.recv(64).decode())' 2>&1)
[ "$got" = "169.254.17.2 8388608" ] ||
	fail "8 MB from $C1 to the host's 169.254.17.1:8099: '$got' (expected masqueraded as .2)"
tx1=$(vtap_stat up0 tx_gso)
[ "$tx1" -gt "$tx0" ] || fail "tx-gso of the uplink did not grow ($tx0 -> $tx1)"
ok "a container's TCP to the host leaves masqueraded as 169.254.17.2, segments whole (tx-gso)"

# ---------------------------------------------------------------- restart
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
wait_until 5 sh -c "! ip -n $HOSTNS link show $UP" || fail "$UP outlived kill -9"
start_daemon
[ "$(addrs)" = "169.254.17.1/30 172.17.0.1/16 " ] || fail "$UP has '$(addrs)' after restart"
hx ethtool -k "$UP" | qgrep '^tcp-segmentation-offload: on' || fail "TSO off after restart"
hx ping -c 2 -i 0.2 -W 2 169.254.17.2 >/dev/null 2>&1 || fail "no ping of .2 after restart"
got=""
for _ in $(seq 1 25); do
	got=$(send_to 169.254.17.2 8080 8388608)
	[ "$got" = "got 8388608" ] && break
	sleep 0.2
done
[ "$got" = "got 8388608" ] || fail "after kill -9 and restart the published port got '$got'"
[ "$(vtap_stat up0 rx_gso)" -gt 0 ] || fail "no rx-gso after restart"
ok "kill -9 and restart: the vtap uplink, its host side and the published port are back"
run dpctl rm -f "$C1" >/dev/null
stop_daemon TERM
ip -n "$HOSTNS" link show "$UP" >/dev/null 2>&1 && fail "$UP outlived dpnetd"

# ---------------------------------------------------------------- dpctl add-port
E2E_CONFIG=$NOPORTS
rm -rf "$E2E_STATE"/*
start_daemon
dpctl add-port up1 --type vtap --iface "$UP" --role uplink --address 169.254.17.2/30 \
	>/dev/null 2>"$E2E_TMP/err" && fail "a vtap uplink with an address and no gateway was added"
[ "$(wc -l <"$E2E_TMP/err")" = 1 ] && qgrep '^dpctl: error: a vtap uplink with an address needs --gateway IP' \
	<"$E2E_TMP/err" || fail "no gateway: dpctl said '$(cat "$E2E_TMP/err")'"
run dpctl add-port up1 --type vtap --iface "$UP" --role uplink --address 169.254.17.2/30 \
	--gateway 169.254.17.1 >/dev/null
[ "$(dpctl status --json | json "d['uplink']['mode']")" = tap ] || fail "add-port: not TAP mode"
[ "$(addrs)" = "169.254.17.1/30 172.17.0.1/16 " ] || fail "add-port: $UP has '$(addrs)'"
hx ping -c 2 -i 0.2 -W 2 169.254.17.2 >/dev/null 2>&1 || fail "add-port: no ping of .2"
run dpctl del-port up1
wait_until 5 sh -c "! ip -n $HOSTNS link show $UP" || fail "$UP outlived del-port"
ok "add-port --type vtap --role uplink: TAP mode; no --gateway: a one-line error"
stop_daemon TERM
