#!/usr/bin/env bash
# containers: `dpctl run` in Docker's network modes, in the default TAP mode
# (issue 3).
#
# Two containers on `bridge` get 172.17.x.y addresses, Docker's MACs (02:42 +
# the address), lo up and a default route via 172.17.0.1; they ping each other
# and the gateway, the host pings them through dpnet0; `dpctl ps` shows NAME
# NETWORK IP. `--network none` has only lo; `--network container:A` runs in A's
# namespace (A's address), and refuses -p with Docker's message; `--network
# host` discards -p with Docker's warning; `--ip` is honoured, and refused
# outside the subnet, for the gateway and when in use; a duplicate --name is
# refused; `rm` frees the namespace, the port and the address, which the next
# container gets.
. "$(dirname "$0")/lib.sh"

need_cmd nsenter stat readlink socat ss cmp
# Refusing input is a WARNING by the logging rules: expected here.
allow_log 'WARNING: .*request refused'

A=a$E2E_ID B=b$E2E_ID T=t$E2E_ID Z=z$E2E_ID S=s$E2E_ID H=h$E2E_ID E=e$E2E_ID
F=f$E2E_ID G=g$E2E_ID
track_ctr "$F"   # every refused run uses this name: cleaned up if one is not refused

tap_mode
start_daemon
ip link show "$E2E_UPLINK" >/dev/null 2>&1 || fail "no $E2E_UPLINK in the host's namespace in TAP mode"
ip -4 -o addr show dev "$E2E_UPLINK" | qgrep ' 172\.17\.0\.1/16 ' ||
	fail "$E2E_UPLINK has no 172.17.0.1/16 (as docker0): $(ip -4 -o addr show dev "$E2E_UPLINK")"
ok "TAP mode: $E2E_UPLINK in the host's namespace with 172.17.0.1/16"

# ---- two containers on bridge
ctr_run "$A" >/dev/null
ctr_run "$B" >/dev/null
ctr_run "$T" --attach tap >/dev/null
declare -A IP
for c in "$A" "$B" "$T"; do
	n=$(cns "$c")
	ip netns list | qgrep -E "^$n( |$)" || fail "no namespace $n in 'ip netns list' for container $c"
	cidr=$(ns_ip "$n")
	[[ "$cidr" =~ ^172\.17\.[0-9]+\.[0-9]+/16$ ]] || fail "$c: eth0 has '$cidr', expected 172.17.x.y/16"
	IP[$c]=${cidr%/*}
	[ "$(ctr_ip "$c")" = "${IP[$c]}" ] || fail "$c: ps --json says $(ctr_ip "$c"), eth0 has ${IP[$c]}"
	mac=$(ns_if_mac "$n")
	[ "$mac" = "$(docker_mac "${IP[$c]}")" ] ||
		fail "$c: eth0 MAC $mac, expected $(docker_mac "${IP[$c]}") (02:42 + ${IP[$c]})"
	route=$(ip -n "$n" route show default)
	[[ "$route" == "default via 172.17.0.1 dev eth0"* ]] ||
		fail "$c: default route is '$route', expected 'default via 172.17.0.1 dev eth0'"
	ip -n "$n" -o link show lo | qgrep '[<,]UP[,>]' || fail "$c: lo is not up"
	[ "$(nsexec "$n" cat /sys/class/net/eth0/mtu)" = 1500 ] || fail "$c: eth0 MTU is not 1500"
	[ "$(ctr_get "$c" "c['network']")" = bridge ] || fail "$c: ps --json network is not bridge"
	ok "$c: namespace $n, eth0 ${IP[$c]}/16, MAC $mac, lo up, default via 172.17.0.1"
done
[ "${IP[$A]}" != "${IP[$B]}" ] && [ "${IP[$A]}" != "${IP[$T]}" ] && [ "${IP[$B]}" != "${IP[$T]}" ] ||
	fail "two containers got the same address: ${IP[*]}"

ping_ns_ok "$(cns "$A")" "${IP[$B]}"
ping_ns_ok "$(cns "$B")" "${IP[$A]}"
ok "$A and $B ping each other"
ping_ns_ok "$(cns "$A")" 172.17.0.1
ping_ns_ok "$(cns "$B")" 172.17.0.1
ok "$A and $B ping their gateway 172.17.0.1"
ping_ns_ok "$(cns "$T")" "${IP[$A]}"
ping_ns_ok "$(cns "$A")" "${IP[$T]}"
ping_ns_ok "$(cns "$T")" 172.17.0.1
ok "$T (--attach tap) pings $A and the gateway, and $A pings it"

for c in "$A" "$B" "$T"; do
	dev=$(ip route get "${IP[$c]}" | grep -o 'dev [^ ]*')
	[ "$dev" = "dev $E2E_UPLINK" ] || fail "the host routes ${IP[$c]} via '$dev', expected $E2E_UPLINK"
	ping_ns_ok host "${IP[$c]}"
done
ok "the host pings $A, $B and $T through $E2E_UPLINK"

tcp_ok "$(cns "$A")" "$(cns "$B")" "${IP[$B]}"
tcp_ok "$(cns "$T")" "$(cns "$A")" "${IP[$A]}"
tcp_ok "$(cns "$B")" "$(cns "$T")" "${IP[$T]}"
ok "TCP (4 MiB, intact) $A -> $B (veth to veth), $T -> $A (tap to veth), $B -> $T"
tcp_ok host "$(cns "$B")" "${IP[$B]}"
tcp_ok "$(cns "$A")" host 172.17.0.1
ok "TCP host -> $B through $E2E_UPLINK, and $A -> the host on its gateway address 172.17.0.1"

PS=$(dpctl ps) || fail "dpctl ps failed"
log "dpctl ps:"; printf '%s\n' "$PS" | sed 's/^/#   /'
read -r -a head <<<"$(head -n 1 <<<"$PS")"
[ "${head[*]:0:4}" = "NAME NETWORK IP PORTS" ] || fail "'dpctl ps' header is '${head[*]}', expected NAME NETWORK IP PORTS"
for c in "$A" "$B"; do
	[ "$(table_cell "$PS" "$c" NETWORK)" = bridge ] || fail "'dpctl ps': $c's NETWORK is not bridge"
	[ "$(table_cell "$PS" "$c" IP)" = "${IP[$c]}" ] || fail "'dpctl ps': $c's IP is not ${IP[$c]}"
done
ok "dpctl ps: NAME NETWORK IP PORTS, $A and $B on bridge with their addresses"

# ---- none: loopback only
ctr_run "$Z" --network none >/dev/null
nz=$(cns "$Z")
links=$(ip -n "$nz" -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
[ "$links" = "lo " ] || fail "$Z (--network none) has interfaces '$links', expected only lo"
ip -n "$nz" -o link show lo | qgrep '[<,]UP[,>]' || fail "$Z: lo is not up"
addrs=$(ip -n "$nz" -4 -o addr show | awk '{print $4}' | tr '\n' ' ')
[ "$addrs" = "127.0.0.1/8 " ] || fail "$Z: IPv4 addresses '$addrs', expected only 127.0.0.1/8"
[ "$(ctr_get "$Z" "c['network']")" = none ] || fail "$Z: ps --json network is not none"
[ -z "$(ctr_get "$Z" "c['ip']")" ] || fail "$Z: ps --json shows an address"
ok "--network none: only lo (up), no eth0, no address"

# ---- container:A shares A's namespace
ctr_run "$S" --network "container:$A" >/dev/null
pid=$(ctr_get "$S" "c['pid']")
[ "${pid:-0}" -gt 0 ] && kill -0 "$pid" 2>/dev/null || fail "$S: no running process (pid '$pid')"
[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$(cns "$A")")" ] ||
	fail "$S's process (pid $pid) is not in $A's namespace"
[ "$(ns_ip "/proc/$pid/ns/net")" = "${IP[$A]}/16" ] ||
	fail "inside $S, eth0 has '$(ns_ip "/proc/$pid/ns/net")', expected $A's ${IP[$A]}/16"
[ "$(ctr_get "$S" "c['network']")" = "container:$A" ] || fail "$S: ps --json network is not container:$A"
[ "$(ctr_ip "$S")" = "${IP[$A]}" ] || fail "$S: ps --json shows '$(ctr_ip "$S")', expected $A's ${IP[$A]}"
[ ! -e "/run/netns/$(cns "$S")" ] || fail "$S got a namespace of its own"
ping_ns_ok "/proc/$pid/ns/net" "${IP[$B]}"
ok "--network container:$A: same namespace and address (${IP[$A]}), pings $B"

refused "-p with container: mode" \
	--says "conflicting options: port publishing and the container type network mode" \
	run -d --name "$F" --network "container:$A" -p 8080:80 -- sleep 600

# ---- host: -p discarded with Docker's warning
track_ctr "$H"
out=$(dpctl run -d --name "$H" --network host -p 8080:80 -- sleep 600 2>"$E2E_TMP/err") ||
	fail "run --network host -p 8080:80 failed: $(cat "$E2E_TMP/err")"
ctr_remember
grep -qx 'WARNING: Published ports are discarded when using host network mode' "$E2E_TMP/err" ||
	fail "run --network host -p: no Docker warning on stderr (stderr: $(cat "$E2E_TMP/err"), stdout: $out)"
pid=$(ctr_get "$H" "c['pid']")
[ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ] ||
	fail "$H's process is not in the host's namespace"
[ "$(ctr_get "$H" "c['network']")" = host ] || fail "$H: ps --json network is not host"
[ "$(ctr_get "$H" "len(c['published'])")" = 0 ] || fail "$H: the discarded -p is still published"
[ -z "$(dpctl port "$H")" ] || fail "dpctl port $H shows a mapping: $(dpctl port "$H")"
allow_log "$H"
ok "--network host -p 8080:80: Docker's warning, runs in the host's namespace, nothing published"

# ---- --ip
ctr_run "$E" --ip 172.17.0.200 >/dev/null
[ "$(ns_ip "$(cns "$E")")" = 172.17.0.200/16 ] || fail "$E: eth0 has '$(ns_ip "$(cns "$E")")', expected 172.17.0.200/16"
[ "$(ns_if_mac "$(cns "$E")")" = 02:42:ac:11:00:c8 ] || fail "$E: MAC is not 02:42:ac:11:00:c8"
ping_ns_ok "$(cns "$A")" 172.17.0.200
ok "--ip 172.17.0.200 honoured (MAC 02:42:ac:11:00:c8), reachable"

# --mac
M=m$E2E_ID
ctr_run "$M" --mac 02:42:de:ad:be:ef >/dev/null
[ "$(ns_if_mac "$(cns "$M")")" = 02:42:de:ad:be:ef ] || fail "$M: --mac 02:42:de:ad:be:ef not honoured: $(ns_if_mac "$(cns "$M")")"
ping_ns_ok "$(cns "$M")" "${IP[$A]}"
run dpctl rm -f "$M" >/dev/null
ok "--mac 02:42:de:ad:be:ef honoured, reachable"

# Foreground run: dpctl becomes the command, inside the container.
V=v$E2E_ID
track_ctr "$V"
out=$(timeout 20 "$DPCTL" --socket "$E2E_SOCK" run --name "$V" -- ip -4 -o addr show dev eth0) ||
	fail "foreground run failed: $out"
vip=$(ctr_ip "$V")
[[ "$out" == *" inet $vip/16 "* ]] || fail "foreground run printed '$out', expected eth0 with $vip/16"
run dpctl rm -f "$V" >/dev/null
ok "foreground run: the command ran in the container ($vip) and dpctl returned its output"

refused "--mac not a MAC"            run -d --name "$F" --mac banana -- sleep 600
refused "--mac multicast"            run -d --name "$F" --mac 03:42:ac:11:00:99 -- sleep 600
refused "--ip outside the subnet"    run -d --name "$F" --ip 10.1.2.3 -- sleep 600
refused "--ip in use"                run -d --name "$F" --ip 172.17.0.200 -- sleep 600
refused "--ip of the gateway"        run -d --name "$F" --ip 172.17.0.1 -- sleep 600
refused "--ip not an address"        run -d --name "$F" --ip 172.17.0.300 -- sleep 600
refused "duplicate --name"           run -d --name "$A" -- sleep 600
refused "unknown container:NAME"     run -d --name "$F" --network "container:nosuch$E2E_ID" -- sleep 600
refused "rm of a running container" --says "running container" rm "$B"
refused "rm of an unknown container" rm "nosuch$E2E_ID"
[ ! -e "/run/netns/$(cns "$F")" ] || fail "a refused run left the namespace $(cns "$F")"

# A namespace of that name made by someone else is refused, and left alone.
ip netns add "$(cns "$F")" || fail "cannot create $(cns "$F")"
E2E_NETNS+=("$(cns "$F")")
refused "namespace dpnet-NAME exists" run -d --name "$F" -- sleep 600
[ -e "/run/netns/$(cns "$F")" ] || fail "a refused run deleted the existing namespace $(cns "$F")"
ip -n "$(cns "$F")" link show eth0 >/dev/null 2>&1 && fail "a refused run left eth0 in $(cns "$F")"
ip netns del "$(cns "$F")"

# ---- rm frees namespace, port and address
oldip=${IP[$B]}
port=$(ctr_get "$B" "c['networks'][0]['port']")
hostif=$(ctr_get "$B" "c['networks'][0]['host_interface']")
bpid=$(ctr_get "$B" "c['pid']")
run dpctl rm -f "$B" >/dev/null
ctr_listed "$B" && fail "$B still in 'ps' after rm -f"
[ ! -e "/run/netns/$(cns "$B")" ] || fail "rm -f $B left its namespace"
dpctl port ls --json | json "port(d, '$port')" >/dev/null 2>&1 && fail "rm -f $B left its port $port"
[ -z "$hostif" ] || ! ip link show "$hostif" >/dev/null 2>&1 || fail "rm -f $B left its host interface $hostif"
wait_until 5 sh -c "! kill -0 $bpid" || fail "rm -f $B left its process $bpid running"
ping_ns_fails "$(cns "$A")" "$oldip"
ctr_run "$G" >/dev/null
[ "$(ctr_ip "$G")" = "$oldip" ] || fail "the next container got $(ctr_ip "$G"), expected $B's freed $oldip"
ping_ns_ok "$(cns "$G")" "${IP[$A]}"
ok "rm -f $B: process, namespace, port and host interface gone; $G got the freed $oldip"

# ---- everything removed
for c in "$S" "$A" "$T" "$Z" "$H" "$E" "$G"; do
	run dpctl rm -f "$c" >/dev/null
done
[ "$(dpctl ps --json | json "len(d)")" = 0 ] || fail "ps not empty after removing all: $(dpctl ps)"
ip netns list | qgrep "^dpnet-.$E2E_ID" && fail "namespaces left: $(ip netns list | grep "$E2E_ID")"
[ "$(dpctl port ls --json | json "len(ports(d))")" = 1 ] ||
	fail "ports other than the uplink left: $(dpctl port ls)"
ok "all containers removed: ps empty, no namespace, only the uplink port"

stop_daemon
ip route show 172.17.0.0/16 | qgrep . && fail "a route to 172.17.0.0/16 outlived dpnetd"
ok "$E2E_UPLINK and its routes gone with the daemon"
