#!/usr/bin/env bash
# signals: SIGTERM and SIGINT stop dpnetd cleanly: exit 0, ports stopped (a tap
# port's interface disappears), socket removed, log clean; the daemon starts
# again on the same socket and state directory afterwards.
. "$(dirname "$0")/lib.sh"

IT=$(ifname t)

start_daemon
run dpctl add-port t0 --type tap --iface "$IT"
run dpctl add-port n0 --type null --devargs no-rx=1
ip link show "$IT" >/dev/null 2>&1 || fail "tap port t0 has no interface $IT"
[ -S "$E2E_SOCK" ] || fail "no socket at $E2E_SOCK"
mode=$(stat -c %a "$E2E_SOCK")
[ "$mode" = 660 ] || fail "socket mode is $mode, expected 660"
ok "daemon up with a tap and a null port, socket mode 0660"
stop_daemon TERM
wait_until 5 sh -c "! ip link show $IT" || fail "tap interface $IT still exists after exit"
ok "tap interface removed with the daemon"

# Restart on the same socket and state: whatever the state restores, the
# daemon must come up and answer; then SIGINT.
start_daemon
run dpctl status
stop_daemon INT
ip link del "$IT" 2>/dev/null
ok "restart and SIGINT"
