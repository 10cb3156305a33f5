#!/usr/bin/env bash
# tap_mode: the default TAP mode and the state file (issue 3).
#
# The daemon runs in a network namespace of its own that stands for the host, with
# the uplink dpnet0 there (as the built-in config makes it): dpnet0 gets every
# bridge network's gateway address with its prefix (and loses it on `network
# rm`), so "the host" pings containers on bridge and on a user network through
# dpnet0 as it would through docker0, and containers reach their gateway and a
# TCP service of the host on the gateway address. State: kill -9 and restart
# bring back networks (same ids), ports added with add-port and the containers,
# which answer again without being re-run; a corrupt state file is moved aside
# with an ERR line and the daemon starts clean.
. "$(dirname "$0")/lib.sh"

allow_log 'WARNING: .*request refused'
need_cmd nsenter python3

HOSTNS=$(ns h)
make_ns h
# dpnetd joins $HOSTNS's network namespace only: the container namespaces it
# makes are bind mounts in the real mount namespace, visible to `ip netns`.
cat >"$E2E_TMP/dpnetd-in-ns" <<EOF
#!/bin/sh
exec nsenter --net=/run/netns/$HOSTNS "$DPNETD" "\$@"
EOF
chmod +x "$E2E_TMP/dpnetd-in-ns"
DPNETD="$E2E_TMP/dpnetd-in-ns"
E2E_CONFIG="$E2E_TMP/tap.yaml"
cat >"$E2E_CONFIG" <<EOF
# TAP mode as built in: the uplink dpnet0 (in the test's namespace)
ports:
  - name: dpnet0
    type: tap
    iface: dpnet0
    role: uplink
EOF

N1=f$E2E_ID N2=b$E2E_ID C1=e${E2E_ID}a C2=e${E2E_ID}b
E2E_NETNS+=("dpnet-$C1" "dpnet-$C2")

start_daemon

# ---------------------------------------------------------------- the uplink
addrs() { ip -n "$HOSTNS" -4 -o addr show dev dpnet0 | awk '{print $4}' | sort | tr '\n' ' '; }
[ "$(addrs)" = "172.17.0.1/16 " ] || fail "dpnet0 has '$(addrs)', expected 172.17.0.1/16"
ip -n "$HOSTNS" route | qgrep '^172.17.0.0/16 dev dpnet0' ||
	fail "no kernel route to 172.17.0.0/16 via dpnet0"
st=$(dpctl status --json) || fail "status failed"
[ "$(json "d['uplink']['address']" <<<"$st")" = 172.17.0.1 ] || fail "status: $st"
[ "$(json "d['uplink']['domain']" <<<"$st")" = 255 ] || fail "status: uplink domain: $st"
dpctl status | qgrep '^address: *172.17.0.1$' || fail "dpctl status shows no address"
ok "TAP uplink dpnet0 has 172.17.0.1/16 and the route, status shows it"

N1ID=$(dpctl network create "$N1") || fail "network create $N1 failed"
[[ "$N1ID" =~ ^[0-9a-f]{64}$ ]] || fail "network create printed '$N1ID', not a 64-hex id"
N2ID=$(dpctl network create --subnet 10.30.0.0/24 --gateway 10.30.0.254 \
	--ip-range 10.30.0.128/25 --mtu 1400 --internal "$N2") || fail "create $N2 failed"
[ "$(dpctl network inspect "$N1" | json "d[0]['IPAM']['Config'][0]['Subnet']")" = \
	172.18.0.0/16 ] || fail "$N1 did not get Docker's next pool 172.18.0.0/16"
[ "$(addrs)" = "10.30.0.254/24 172.17.0.1/16 172.18.0.1/16 " ] ||
	fail "dpnet0 has '$(addrs)' after create"
ok "network create adds the gateway addresses to dpnet0"

# ---------------------------------------------------------------- traffic
run dpctl run -d --name "$C1" >/dev/null
run dpctl run -d --name "$C2" --network "$N1" >/dev/null
IP1=$(dpctl ps --json | json "[c for c in d if c['name'] == '$C1'][0]['ip']")
IP2=$(dpctl ps --json | json "[c for c in d if c['name'] == '$C2'][0]['ip']")
[ "$IP1" = 172.17.0.2 ] || fail "$C1 got $IP1"
[ "$IP2" = 172.18.0.2 ] || fail "$C2 got $IP2"
host_ping() {
	ip netns exec "$HOSTNS" ping -c 1 -W 2 "$1" >/dev/null 2>&1 ||
		ip netns exec "$HOSTNS" ping -c 3 -i 0.2 -W 2 "$1" >/dev/null 2>&1 ||
		fail "the host does not reach $1 through dpnet0"
}
ctr_ping() { # CONTAINER ADDR
	ip netns exec "dpnet-$1" ping -c 2 -i 0.2 -W 2 "$2" >/dev/null 2>&1 ||
		fail "container $1 does not reach $2"
}
host_ping "$IP1"
host_ping "$IP2"
ctr_ping "$C1" 172.17.0.1
ctr_ping "$C2" 172.18.0.1
# The gateway MAC a container sees is dpnet's (02:42 + the gateway's address),
# never the host's: the host's kernel must not answer the ARP itself.
mac=$(ip -n "dpnet-$C2" neigh show 172.18.0.1 | awk '{print $5}')
[ "$mac" = 02:42:ac:12:00:01 ] || fail "$C2 resolved its gateway to $mac"
ip netns exec "dpnet-$C2" ping -c 2 -i 0.2 -W 1 "$IP1" >/dev/null 2>&1 &&
	fail "$N1 reaches bridge: networks are not isolated"
ok "host pings containers on bridge and $N1 via dpnet0; containers ping their gateways"

# A container reaches a service of the host on its gateway address (not a ping).
ip netns exec "$HOSTNS" timeout 10 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("172.18.0.1", 8099)); s.listen(1); c, a = s.accept(); c.sendall(b"hello " + a[0].encode())
' &
E2E_PIDS+=($!)
sleep 0.5
got=$(ip netns exec "dpnet-$C2" timeout 5 python3 -c '
import socket
s = socket.create_connection(("172.18.0.1", 8099), timeout=3); print(s.recv(64).decode())')
[ "$got" = "hello $IP2" ] || fail "TCP from $C2 to the host's 172.18.0.1 got '$got'"
ok "a container reaches a TCP service of the host on its gateway address"

insp=$(dpctl network inspect "$N1")
[ "$(json "[v['Name'] for v in d[0]['Containers'].values()]" <<<"$insp")" = "[\"$C2\"]" ] ||
	fail "inspect $N1 does not list $C2: $insp"
[ "$(json "list(d[0]['Containers'].values())[0]['IPv4Address']" <<<"$insp")" = \
	"$IP2/16" ] || fail "inspect $N1: address of $C2"
dpctl network rm "$N1" 2>"$E2E_TMP/err" && fail "network rm $N1 with a container worked"
grep -q "error while removing network: network $N1 id $N1ID has active endpoints" \
	"$E2E_TMP/err" || fail "network rm with an endpoint said: $(cat "$E2E_TMP/err")"
ok "inspect lists the endpoint; rm is refused while it is there"

# ---------------------------------------------------------------- state
run dpctl add-port n2 --type null --devargs no-rx=1 --network "$N2" >/dev/null
[ -f "$E2E_STATE/state.json" ] || fail "no $E2E_STATE/state.json after changes"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
wait_until 5 sh -c "! ip -n $HOSTNS link show dpnet0" || fail "dpnet0 outlived kill -9"
start_daemon
[ "$(dpctl network inspect "$N1" | json "d[0]['Id']")" = "$N1ID" ] ||
	fail "$N1 not restored with its id"
[ "$(dpctl network inspect "$N2" | json "d[0]['Id']")" = "$N2ID" ] ||
	fail "$N2 not restored with its id"
[ "$(dpctl network inspect "$N2" | json "d[0]['IPAM']['Config'][0]['IPRange']")" = \
	10.30.0.128/25 ] || fail "$N2 lost its ip-range"
[ "$(dpctl port ls --json | json "port(d, 'n2')['network']")" = "$N2" ] ||
	fail "port n2 not restored in $N2"
[ "$(addrs)" = "10.30.0.254/24 172.17.0.1/16 172.18.0.1/16 " ] ||
	fail "dpnet0 has '$(addrs)' after restart"
ok "kill -9 and restart: networks (same ids), ports and dpnet0's addresses are back"
host_ping "$IP1"
host_ping "$IP2"
ctr_ping "$C2" 172.18.0.1
ok "after kill -9 and restart the containers answer again, without being re-run"

run dpctl rm -f "$C1" >/dev/null
run dpctl rm -f "$C2" >/dev/null
run dpctl del-port n2
run dpctl network rm "$N2" >/dev/null
[ "$(addrs)" = "172.17.0.1/16 172.18.0.1/16 " ] || fail "dpnet0 has '$(addrs)' after rm"
ip -n "$HOSTNS" route | qgrep '^10.30.0.0/24' && fail "kernel route to $N2 remains"
ok "network rm removes the gateway address and the route from dpnet0"
stop_daemon TERM

# ---------------------------------------------------------------- corrupt state
printf '{"version": 1, "networks": [' >"$E2E_STATE/state.json"
allow_log 'ERR: state: .*state.json is unusable'
start_daemon
ls "$E2E_STATE"/state.json.corrupt-* >/dev/null 2>&1 || fail "corrupt file not moved aside"
[ "$(cat "$E2E_STATE"/state.json.corrupt-*)" = '{"version": 1, "networks": [' ] ||
	fail "the corrupt file's bytes were changed"
grep -q "ERR: state: .*state.json is unusable" "$E2E_LOG" || fail "no ERR line for it"
dpctl network inspect "$N1" >/dev/null 2>&1 && fail "$N1 restored from a corrupt file"
ok "corrupt state file: moved aside, ERR line, clean start"
stop_daemon TERM
