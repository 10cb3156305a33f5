#!/usr/bin/env bash
# static_macs: `dpctl mac add|rm` (static entries, as ovs-appctl fdb/add).
#
# Checks: a static MAC is listed as local and steers unicast to its port (a
# namespace's frames to that MAC reach the port's namespace, not the third one);
# bad input is refused and changes nothing; the entry survives a SIGTERM restart
# and a kill -9 (state file "macs" section); `mac rm` forgets it for good.
. "$(dirname "$0")/lib.sh"

IA=$(ifname a) IB=$(ifname b) IC=$(ifname c)
SMAC=02:00:5e:77:00:01
allow_log 'WARNING: .*request refused'   # the refusals below are logged, by design

start_daemon
veth_ns a "$IA" 10.99.0.1/24
veth_ns b "$IB" 10.99.0.2/24
veth_ns c "$IC" 10.99.0.3/24
run dpctl add-port pa --type afpacket --iface "$IA"
run dpctl add-port pb --type afpacket --iface "$IB"
run dpctl add-port pc --type afpacket --iface "$IC"

refused "multicast MAC"     mac add bridge 01:00:5e:00:00:01 pb
refused "bad MAC"           mac add bridge 02:00:5e:77 pb
refused "unknown port"      mac add bridge "$SMAC" nosuch
refused "unknown network"   mac add "nosuch$E2E_ID" "$SMAC" pb
refused "rm of an unknown MAC" mac rm bridge "$SMAC"
run dpctl mac add bridge "$SMAC" pb

is_static() { dpctl mac ls bridge --json | json "[e for e in d if e['mac'] == '$SMAC' and e['port'] == 'pb' and e['local']] != []"; }
[ "$(is_static)" = True ] || fail "static MAC not listed as local behind pb: $(dpctl mac ls bridge)"
ok "mac add: $SMAC listed as local behind pb"

# Unicast to the static MAC goes to pb only (no flooding to pc).
tx_c0=$(port_counter pc tx) tx_b0=$(port_counter pb tx)
in_ns a "$PY" - "$SMAC" <<'PYEOF' || fail "scapy could not send"
import sys
from scapy.all import Ether, IP, UDP, sendp
sendp([Ether(dst=sys.argv[1]) / IP(src="10.99.0.1", dst="10.99.0.250") / UDP(dport=9)] * 20,
      iface="eth0", verbose=0)
PYEOF
pb_sent() { [ "$(port_counter pb tx)" -ge "$1" ]; }
wait_until 5 pb_sent $((tx_b0 + 20)) || fail "pb did not transmit the 20 frames sent to its static MAC"
tx_c=$(port_counter pc tx)
[ "$tx_c" -lt $((tx_c0 + 20)) ] || fail "frames to the static MAC were flooded to pc ($tx_c0 -> $tx_c)"
ok "unicast to the static MAC leaves through pb only"

stop_daemon TERM
start_daemon
[ "$(is_static)" = True ] || fail "static MAC lost across a SIGTERM restart: $(dpctl mac ls bridge)"
ok "SIGTERM and start: the static MAC is back"

kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
start_daemon
[ "$(is_static)" = True ] || fail "static MAC lost across kill -9: $(dpctl mac ls bridge)"
ok "kill -9 and start: the static MAC is back"

run dpctl mac rm bridge "$SMAC"
[ "$(is_static)" = False ] || fail "mac rm left it"
stop_daemon TERM
start_daemon
[ "$(is_static)" = False ] || fail "a removed static MAC came back after a restart"
ok "mac rm: gone, and stays gone after a restart"
stop_daemon TERM
