#!/usr/bin/env bash
# portmaps: what `run -p/-P/--expose` records and shows (ps --json and port
# --json say "nat": "active": the maps are DNAT rules, tests/e2e/nat*.sh send
# traffic through them; `dpctl nat ls` lists one chain per container), the
# interfaces `connect`/`disconnect` add and remove (the default route moves to
# the next network), and the offloads dpnet switches off on veth attachments.
#
# Checks: ps PORTS and `dpctl port NAME` in Docker's formats; ranges; -P picks
# distinct ephemeral host ports; a host port taken twice is refused with Docker's
# message (also 127.0.0.1 against 0.0.0.0), bad specs are refused and change
# nothing; maps survive a restart; rm frees the host ports; connect gives eth1 an
# address of the second network without moving the default route, disconnect of
# the first moves it; both veth ends have no TX checksum, TSO, GSO or GRO; an
# uplink added with --address/--gateway is checked, shown by status and kept;
# -p on an --internal network publishes nothing (nat "internal", run warns).
. "$(dirname "$0")/lib.sh"

allow_log 'WARNING: .*request refused'

P1=p$E2E_ID P2=q$E2E_ID P3=r$E2E_ID C1=c$E2E_ID F=f$E2E_ID NET=n$E2E_ID
track_ctr "$F"

start_daemon

# ---- -p, --expose, ranges
ctr_run "$P1" -p 8080:80 -p 127.0.0.1:5353:53/udp --expose 9000 -p 7000-7001:70-71 >/dev/null
PS=$(dpctl ps) || fail "dpctl ps failed"
log "dpctl ps:"; printf '%s\n' "$PS" | sed 's/^/#   /'
cell=$(table_cell "$PS" "$P1" PORTS) || fail "no PORTS cell for $P1"
for want in "0.0.0.0:8080->80/tcp" "127.0.0.1:5353->53/udp" "0.0.0.0:7000->70/tcp" \
	"0.0.0.0:7001->71/tcp" "9000/tcp"; do
	[[ "$cell" == *"$want"* ]] || fail "ps PORTS of $P1 lacks '$want': $cell"
done
PORT=$(dpctl port "$P1") || fail "dpctl port $P1 failed"
want=$'80/tcp -> 0.0.0.0:8080\n53/udp -> 127.0.0.1:5353\n70/tcp -> 0.0.0.0:7000\n71/tcp -> 0.0.0.0:7001'
[ "$PORT" = "$want" ] || fail "dpctl port $P1 printed:
$PORT
expected:
$want"
[ "$(ctr_get "$P1" "c['nat']")" = active ] || fail "ps --json of $P1 does not say nat: active"
[ "$(dpctl port "$P1" --json | json "d['nat']")" = active ] || fail "port --json does not say nat: active"
NAT=$(dpctl nat ls) || fail "dpctl nat ls failed"
for rule in "DPNET-$P1" "tcp dpt:8080 to:" "udp dpt:5353 to:" "tcp dpt:7001 to:"; do
	[[ "$NAT" == *"$rule"* ]] || fail "nat ls lacks '$rule':
$NAT"
done
[ "$(dpctl nat ls --json | json "sum(len(c['rules']) for c in d['chains'] if c['name'] == 'DPNET-$P1')")" = 4 ] ||
	fail "nat ls --json: chain DPNET-$P1 does not have 4 DNAT rules"
ok "-p/--expose/ranges: ps PORTS and 'dpctl port' as Docker shows them; NAT active, 4 DNAT rules"

# ---- -P: every exposed port gets its own ephemeral host port
ctr_run "$P2" -P --expose 80 --expose 443/tcp >/dev/null
hp=$(dpctl port "$P2" --json | json "' '.join(str(m['host_port']) for m in d['ports'])")
read -r h1 h2 <<<"$hp"
[ -n "$h2" ] && [ "$h1" != "$h2" ] || fail "-P: expected two distinct host ports, got '$hp'"
for h in $h1 $h2; do
	[ "$h" -ge 32768 ] && [ "$h" -le 60999 ] || fail "-P picked $h, outside 32768-60999"
done
ok "-P: exposed 80 and 443 published on distinct ephemeral ports ($h1, $h2)"

# ---- a container whose network is --internal: nothing published (as Docker), run warns
INT=i$E2E_ID
run dpctl network create --internal --subnet 10.96.0.0/24 "$INT" >/dev/null
track_ctr "$INT"
out=$(dpctl run -d --name "$INT" --network "$INT" -p 8090:80 -- sleep 600 2>&1) ||
	fail "run on the internal network $INT failed: $out"
ctr_remember
[[ "$out" == *"network $INT is internal"* ]] || fail "run on $INT does not warn: $out"
[ "$(ctr_get "$INT" "c['nat']")" = internal ] || fail "ps --json of $INT: nat is not 'internal'"
[[ "$(dpctl nat ls)" != *"DPNET-$INT"* ]] || fail "nat ls has a chain for $INT (internal network)"
run dpctl rm -f "$INT" >/dev/null
run dpctl network rm "$INT" >/dev/null
ok "-p on an --internal network: no DNAT rule, nat 'internal', run warns"

# ---- refused, nothing changed
refused "host port taken" --says "Bind for 0.0.0.0:8080 failed: port is already allocated" \
	run -d --name "$F" -p 8080:81 -- sleep 600
refused "host port taken (one address)" --says "Bind for 127.0.0.1:8080 failed" \
	run -d --name "$F" -p 127.0.0.1:8080:81 -- sleep 600
refused "same host port twice in one run" --says "port is already allocated" \
	run -d --name "$F" -p 9100:80 -p 9100:81 -- sleep 600
refused "host port 0"            --says "Invalid hostPort" run -d --name "$F" -p 0:80 -- sleep 600
refused "container port 70000"   --says "Invalid containerPort" run -d --name "$F" -p 8081:70000 -- sleep 600
refused "sctp"                   --says "Invalid proto" run -d --name "$F" -p 8081:80/sctp -- sleep 600
refused "ranges of other sizes"  --says "Invalid ranges" run -d --name "$F" -p 8000-8001:80-82 -- sleep 600
refused "bad host address"       --says "Invalid ip address" run -d --name "$F" -p 1.2.3:8081:80 -- sleep 600
refused "bad --expose"           run -d --name "$F" --expose http -- sleep 600
ctr_run "$F" -p 127.0.0.2:5353:53/udp >/dev/null
run dpctl rm -f "$F" >/dev/null
ok "the same port on another host address (127.0.0.2:5353/udp) is fine"

# ---- maps survive a restart; rm frees them
stop_daemon
start_daemon
PORT2=$(dpctl port "$P1") || fail "dpctl port $P1 failed after the restart"
[ "$PORT2" = "$want" ] || fail "after a restart, dpctl port $P1 printed: $PORT2"
[ "$(ctr_get "$P1" "c['nat']")" = active ] || fail "after a restart, $P1's NAT is not active"
[[ "$(dpctl nat ls)" == *"tcp dpt:8080 to:"* ]] || fail "after a restart, nat ls lacks 8080"
run dpctl rm -f "$P1" >/dev/null
[[ "$(dpctl nat ls)" != *"DPNET-$P1"* ]] || fail "rm left the chain DPNET-$P1 in nat ls"
ctr_run "$P3" -p 8080:80 -p 127.0.0.1:5353:53/udp >/dev/null
ok "maps and their DNAT rules survive a restart; rm frees 8080 and 5353 for the next container"

# ---- connect / disconnect, the default route
run dpctl network create --subnet 10.97.0.0/24 "$NET" >/dev/null
ctr_run "$C1" >/dev/null
n=$(cns "$C1")
run dpctl connect "$NET" "$C1" >/dev/null
[[ "$(ns_ip "$n" eth1)" == 10.97.0.*/24 ]] || fail "connect: eth1 has '$(ns_ip "$n" eth1)'"
[[ "$(ip -n "$n" route show default)" == "default via 172.17.0.1 dev eth0"* ]] ||
	fail "connect moved the default route: $(ip -n "$n" route show default)"
[ "$(ctr_get "$C1" "c['network']")" = "bridge,$NET" ] || fail "ps network is not bridge,$NET"
refused "connect twice" --says "already exists in network" connect "$NET" "$C1"
run dpctl disconnect bridge "$C1" >/dev/null
ip -n "$n" link show eth0 >/dev/null 2>&1 && fail "disconnect bridge left eth0"
[[ "$(ip -n "$n" route show default)" == "default via 10.97.0.1 dev eth1"* ]] ||
	fail "after disconnect bridge, the default route is '$(ip -n "$n" route show default)'"
refused "disconnect twice" --says "is not connected" disconnect bridge "$C1"
run dpctl disconnect "$NET" "$C1" >/dev/null
[ "$(ip -n "$n" -o link show | grep -vc ': lo:')" = 0 ] || fail "interfaces left after disconnecting all"
run dpctl connect --attach veth bridge "$C1" >/dev/null
[[ "$(ip -n "$n" route show default)" == "default via 172.17.0.1 dev eth0"* ]] ||
	fail "reconnected: default route '$(ip -n "$n" route show default)'"
ok "connect adds eth1 (default route stays), disconnect moves it to the next network"

# ---- offloads on veth attachments (control/netns.c)
hostif=$(ctr_get "$C1" "c['networks'][0]['host_interface']")
for where in "$n eth0" "host $hostif"; do
	read -r ns ifn <<<"$where"
	feats=$(nsexec "$ns" ethtool -k "$ifn") || fail "ethtool -k $ifn in $ns failed"
	for f in tx-checksumming tcp-segmentation-offload generic-segmentation-offload \
		generic-receive-offload tx-udp-segmentation; do
		v=$(awk -F': ' -v f="$f" '$1 == f { print $2 }' <<<"$feats")
		[[ -z "$v" || "$v" == off* ]] || fail "$ifn ($ns): $f is '$v', expected off"
	done
done
ok "veth ends ($n eth0, $hostif): TX checksum, TSO, GSO, USO and GRO off"

# ---- an uplink's own address (add-port --address/--gateway): kept across a restart
U=u$E2E_ID
refused "address on an access port" --says "only the uplink has an address" \
	add-port "$U" --type null --address 192.0.2.10/24
refused "gateway without address" --says "a gateway needs the uplink's own address" \
	add-port "$U" --type null --role uplink --gateway 192.0.2.1
refused "gateway outside the subnet" --says "is not inside the uplink's subnet 192.0.2.0/24" \
	add-port "$U" --type null --role uplink --address 192.0.2.10/24 --gateway 192.0.3.1
refused "address without prefix" --says "write it as A.B.C.D/N" \
	add-port "$U" --type null --role uplink --address 192.0.2.10
refused "uplink inside bridge" --says "overlaps network bridge" \
	add-port "$U" --type null --role uplink --address 172.17.200.1/24
run dpctl add-port "$U" --type null --role uplink --address 192.0.2.10/24 --gateway 192.0.2.1
st() { dpctl status --json | json "d['uplink']['address_cidr'] + ' ' + d['uplink']['gateway']"; }
[ "$(st)" = "192.0.2.10/24 192.0.2.1" ] || fail "status: uplink address/gateway '$(st)'"
dpctl status | qgrep '^address: *192.0.2.10/24 (published ports answer here)$' ||
	fail "dpctl status does not show the uplink address: $(dpctl status)"
refused "network in the uplink's subnet" --says "the uplink network 192.0.2.0/24" \
	network create --subnet 192.0.2.0/25 "x$E2E_ID"
stop_daemon
start_daemon
[ "$(st)" = "192.0.2.10/24 192.0.2.1" ] || fail "after a restart, status: uplink address/gateway '$(st)'"
run dpctl del-port "$U" >/dev/null
[ "$(dpctl status --json | json "d['uplink']")" = None ] || fail "del-port left an uplink"
ok "add-port --role uplink --address/--gateway: checked, shown by status, kept across a restart"

for c in "$P2" "$P3" "$C1"; do run dpctl rm -f "$c" >/dev/null; done
run dpctl network rm "$NET" >/dev/null
stop_daemon
