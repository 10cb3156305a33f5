#!/usr/bin/env bash
# cluster: cluster mode (issue 6): dpnet hosts find each other through etcd in
# Flannel's layout and carry their containers' traffic over VXLAN.
#
# The picture: an etcd of the test's own (127.0.0.1, random ports, data in the
# scratch directory; the daemons run in the host's namespace, so loopback
# reaches it), Flannel's config under a prefix of this test (Network
# 10.244.0.0/16, vxlan, VNI 7, Port left to its default 8472), and dpnet hosts
# 1-3 (vxlan_lib.sh: afpacket uplinks 192.0.2.1I/24 on one underlay bridge)
# with `cluster:` in their config and a lease TTL of 8 s.
#
# Checked:
#  - each host leases a distinct /24; the keys in etcd are Flannel's
#    (<prefix>/subnets/A.B.C.D-24) with Flannel's JSON (PublicIP, BackendType
#    vxlan, BackendData VNI and VtepMAC = the host's overlay gateway MAC),
#    attached to a lease of TTL <= 8 s; `dpctl cluster status|ls`;
#  - containers on network flannel (MTU 1450) ping each other across hosts,
#    1450-byte packets with DF pass, 4 MiB of TCP arrive intact; route ls has
#    the other hosts' subnets;
#  - a host that joins late gets a subnet of its own and works with the others;
#  - a dpnetd restart (SIGTERM) keeps its subnet and its container's address;
#  - a host that stops is removed from the others when its lease expires (not
#    before), from cluster ls and route ls; started again later, it gets its
#    subnet back (the state file) and works;
#  - a lease revoked in etcd: its host registers again (same subnet);
#  - values under subnets/ that are not Flannel leases are ignored with one
#    log line each;
#  - etcd killed and started again with the same data: traffic goes on while
#    it is away; the hosts register again; a lease written after that reaches
#    them (the watches work again);
#  - Flannel compatibility without flanneld: namespace "fl" set up exactly as
#    flanneld sets up a Linux host (flannel.1: kernel vxlan, VNI 7, port 8472,
#    nolearning, its VtepMAC; its subnet's .0/32 on it; for each dpnet host
#    the onlink route, the permanent neighbour and the FDB entry flanneld
#    derives from the lease), its lease written to etcd in Flannel's JSON:
#    fl and a dpnet container ping each other;
#  - a second key with a host's VtepMAC comes and goes: the others keep that
#    MAC static behind the host; a key changed to a value the others refuse
#    leaves nothing of its old programming;
#  - a host's uplink address changes: same subnet and lease, its key rewritten
#    with the new PublicIP/VtepMAC, none left behind; the others follow; its
#    containers get the new gateway MAC by gratuitous ARP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vxlan_lib.sh"

need_cmd etcd etcdctl socat ss
# etcd going away is reported once per cause; values we ignore, once each.
allow_log 'cluster: etcd: .*; retrying'
allow_log 'cluster: .*: ignored: '

TTL=8
VNI=7
ID=$E2E_ID
PFX=/dpnet-e2e-$ID/network
ETCD_DIR=$E2E_TMP/etcd
ETCD_PID=""
# etcd_ports: two free loopback ports for etcd (client, peer) in CPORT, PPORT.
# They are free when probed, not reserved: etcd_start tries others if one is
# taken before etcd binds it.
etcd_ports() {
	read -r CPORT PPORT < <("$PY" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
	ETCD_URL=http://127.0.0.1:$CPORT
}
etcd_ports

ectl() {
	ETCDCTL_API=3 timeout 15 etcdctl --endpoints "$ETCD_URL" --dial-timeout 2s \
		--command-timeout 5s "$@"
}

# etcd_start [same]: start etcd and wait until it is healthy. When it exits
# because a port was taken meanwhile ("address already in use"), it is tried
# again (5 times at most): on two new ports the first time, on the same ones
# (the daemons' configs name them) with "same", after a pause.
etcd_start() {
	local try ok=""
	for try in 1 2 3 4 5; do
		env -u ETCD_NAME -u ETCD_DATA_DIR etcd --name "e2e$ID" --data-dir "$ETCD_DIR" \
			--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
			--listen-peer-urls "http://127.0.0.1:$PPORT" \
			--initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
			--initial-cluster "e2e$ID=http://127.0.0.1:$PPORT" \
			>>"$E2E_TMP/etcd.log" 2>&1 </dev/null {E2E_LOCK_FD}>&- &
		ETCD_PID=$!
		E2E_PIDS+=("$ETCD_PID")
		# Healthy, or gone (bounded: 30 s).
		for _ in $(seq 1 150); do
			kill -0 "$ETCD_PID" 2>/dev/null || break
			ectl endpoint health >/dev/null 2>&1 && { ok=1; break; }
			sleep 0.2
		done
		[ -n "$ok" ] && return 0
		kill -0 "$ETCD_PID" 2>/dev/null &&
			fail "etcd did not become healthy within 30 s: $(tail -n 5 "$E2E_TMP/etcd.log")"
		wait "$ETCD_PID" 2>/dev/null
		ETCD_PID=""
		tail -n 20 "$E2E_TMP/etcd.log" | qgrep "address already in use" ||
			fail "etcd exited at start: $(tail -n 5 "$E2E_TMP/etcd.log")"
		echo "etcd: a port was taken before etcd bound it (try $try): trying again" >&2
		if [ "${1:-}" = same ]; then
			sleep 1
		else
			rm -rf "$ETCD_DIR"
			etcd_ports
		fi
	done
	fail "etcd could not bind its ports in 5 tries: $(tail -n 5 "$E2E_TMP/etcd.log")"
}

etcd_kill() {
	kill -KILL "$ETCD_PID"
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=""
}

# cl I KEY: member KEY of host I's `dpctl cluster status --json`.
cl() { hctl "$1" cluster status --json | json "d['$2']"; }

# registered I: host I holds a lease and its overlay network is ready.
registered() {
	[ "$(hctl "$1" cluster status --json | json "d['state'] == 'registered' and d['network_ready'] and d['last_error'] == ''")" = True ]
}

wait_registered() {
	wait_until 30 registered "$1" ||
		fail "host $1 not registered within 30 s: $(hctl "$1" cluster status 2>&1)"
}

# lists I SUBNET: host I's cluster ls has SUBNET (a host other than itself).
lists() {
	hctl "$1" cluster ls --json | json "any(h['subnet'] == '$2' and not h['self'] for h in d)" |
		qgrep -x True
}
# routes I SUBNET: host I's route ls has a route to SUBNET.
routes() { hctl "$1" route ls | awk '{print $1}' | qgrep -x "$2"; }

# keys: the leases under subnets/ as "SUBNET PUBLICIP VNI VTEPMAC LEASE" lines
# (LEASE in hex, "-" when none); fails on a value that is not Flannel's JSON.
keys() {
	ectl get --prefix "$PFX/subnets/" -w json | "$PY" -c '
import base64, json, sys
d = json.load(sys.stdin)
for kv in d.get("kvs", []):
    k = base64.b64decode(kv["key"]).decode()
    sub = k.rsplit("/", 1)[1]
    if sub in ("garbage", "10.244.250.0-24"):   # bad values put by this test
        continue
    v = json.loads(base64.b64decode(kv["value"]))
    assert set(v) >= {"PublicIP", "BackendType", "BackendData"}, v
    assert v["BackendType"] == "vxlan", v
    print(sub.replace("-", "/"), v["PublicIP"], v["BackendData"].get("VNI"),
          v["BackendData"]["VtepMAC"], "%x" % kv["lease"] if kv.get("lease") else "-")
'
}

# key_of SUBNET: the keys line of SUBNET ("" if none).
key_of() { keys | awk -v s="$1" '$1 == s'; }

# check_host I: host I's lease in etcd is Flannel's: its subnet's key, PublicIP
# = its uplink address, VNI, VtepMAC = the MAC it reports, a lease of <= TTL.
check_host() {
	local i=$1 s line ttl
	s=$(cl "$i" subnet)
	line=$(key_of "$s")
	[ -n "$line" ] || fail "no key $PFX/subnets/${s/\//-} for host $i in etcd: $(keys)"
	read -r _ pub vni mac lease <<<"$line"
	[ "$pub" = "$(vx_addr "$i")" ] || fail "host $i: PublicIP $pub, not $(vx_addr "$i")"
	[ "$vni" = "$VNI" ] || fail "host $i: BackendData.VNI $vni, not $VNI"
	[ "$mac" = "$(cl "$i" vtep_mac)" ] || fail "host $i: VtepMAC $mac, status says $(cl "$i" vtep_mac)"
	[ "$lease" != - ] || fail "host $i: key without a lease: $line"
	ttl=$(ectl lease timetolive "$lease" | sed -n 's/.*remaining(\([0-9-]*\)s).*/\1/p')
	[ -n "$ttl" ] && [ "$ttl" -gt 0 ] && [ "$ttl" -le "$TTL" ] ||
		fail "host $i: lease $lease has remaining TTL '$ttl' (want 1..$TTL): $(ectl lease timetolive "$lease")"
}

# pings A B: container A pings container B's address (3 of 3), and a 1450-byte
# packet with DF passes.
pings() {
	local ip
	ip=$(hctl "$3" ps --json | json "next(c['ip'] for c in d if c['name'] == '$2')")
	ping_ns_ok "$(cns "$1")" "$ip"
	nsexec "$(cns "$1")" ping -c 2 -W 2 -M do -s 1422 "$ip" >/dev/null ||
		fail "1450-byte ping with DF from $1 to $2 ($ip) failed"
}

# ---------------------------------------------------------------- bad config files
# dpnetd refuses them before touching anything (ring uplink: no interface).
bad_config() { # WANT YAML: dpnetd exits non-zero, its error names FILE:LINE: KEY: WANT
	local want=$1 f=$E2E_TMP/bad.yaml out
	printf '%s\n' "$2" >"$f"
	out=$(timeout 60 "$DPNETD" --config "$f" --socket "$E2E_TMP/bad.sock" \
		--state-dir "$E2E_TMP/badstate" -- --no-huge -m 256 --no-pci \
		--file-prefix "$E2E_PREFIX-bad" -l 0,1 2>&1 </dev/null) &&
		fail "dpnetd started with $f: $(cat "$f")"
	grep -q "$f:$want" <<<"$out" || fail "dpnetd's error for $f does not say '$f:$want': $out"
	ok "bad config refused: $(grep -o "$f:.*" <<<"$out" | head -n 1)"
}
bad_config "3: cluster.etcd: invalid etcd URL \"127.0.0.1:2379\"" "ports: []
cluster:
  etcd: 127.0.0.1:2379"
bad_config "4: cluster.prefix: invalid key prefix \"coreos.com/network\"" "ports: []
cluster:
  etcd: http://127.0.0.1:2379
  prefix: coreos.com/network"
bad_config "4: cluster.lease_ttl: 0 is out of range" "ports: []
cluster:
  etcd: http://127.0.0.1:2379
  lease_ttl: 0"
bad_config "2: cluster: missing key etcd" "ports: []
cluster:
  network: ov"

# ---------------------------------------------------------------- set-up
etcd_start
ok "etcd on $ETCD_URL (data in $ETCD_DIR)"
# Not Flannel leases: ignored, one log line each.
ectl put "$PFX/subnets/10.244.250.0-24" 'not json' >/dev/null
ectl put "$PFX/subnets/garbage" '{}' >/dev/null

vx_underlay
CLUSTER=("cluster:" "  etcd: $ETCD_URL" "  prefix: $PFX" "  lease_ttl: $TTL")
for i in 1 2 3; do
	vx_host "$i" "${CLUSTER[@]}"
done

# ---------------------------------------------------------------- no config in etcd yet
allow_log "cluster: $PFX/config: absent: "
hstart 1
wait_until 10 sh -c "$DPCTL --socket $E2E_TMP/h1.sock cluster status | grep -q '^state: *waiting-config'" ||
	fail "host 1 without a config in etcd: $(hctl 1 cluster status)"
sleep 2
[ "$(grep -c "config: absent" "$E2E_TMP/h1.log")" = 1 ] ||
	fail "the absent config is not logged exactly once: $(grep "config: absent" "$E2E_TMP/h1.log")"
[ "$(cl 1 subnet)" = None ] &&
	[ "$(hctl 1 network ls --json | json "any(n['name'] == 'flannel' for n in d)")" = False ] ||
	fail "host 1 leased or made a network without a config: $(hctl 1 cluster status)"
use_host 1
refused "no cluster ls argument" --says "unexpected argument" cluster ls x
refused "unknown cluster command" --says "unknown cluster command" cluster frob
ok "without a config in etcd: state waiting-config, logged once, nothing leased"
ectl put "$PFX/config" "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"VNI\": $VNI}}" >/dev/null ||
	fail "cannot put the network config"

# ---------------------------------------------------------------- two hosts
hstart 2
wait_registered 1
wait_registered 2
S1=$(cl 1 subnet)
S2=$(cl 2 subnet)
[ "$S1" != "$S2" ] || fail "hosts 1 and 2 leased the same subnet $S1"
for s in "$S1" "$S2"; do
	[[ $s == 10.244.*.0/24 ]] && [ "$s" != 10.244.0.0/24 ] || fail "leased subnet $s is not a /24 of 10.244.0.0/16 (the first skipped)"
done
[ "$(cl 1 port)" = 8472 ] && [ "$(cl 1 vni)" = "$VNI" ] || fail "status: $(hctl 1 cluster status --json)"
check_host 1
check_host 2
ok "hosts 1, 2 leased $S1, $S2: Flannel's keys and JSON in etcd, leases of TTL <= $TTL s"

wait_until 10 lists 1 "$S2" || fail "host 1 does not list host 2: $(hctl 1 cluster ls)"
wait_until 10 lists 2 "$S1" || fail "host 2 does not list host 1: $(hctl 2 cluster ls)"
out=$(hctl 1 cluster ls)
[ "$(table_cell "$out" "$S2" PUBLIC-IP)" = "$(vx_addr 2)" ] || fail "cluster ls: $out"
[ "$(table_cell "$out" "$S2" VTEP-MAC)" = "$(cl 2 vtep_mac)" ] || fail "cluster ls: $out"
[ "$(hctl 1 cluster ls --json | json "len(d)")" = 2 ] || fail "cluster ls: $out"
routes 1 "$S2" || fail "host 1 has no route to $S2: $(hctl 1 route ls)"
routes 2 "$S1" || fail "host 2 has no route to $S1: $(hctl 2 route ls)"
ok "cluster ls and route ls of each host show the other"

C1=c1$ID C2=c2$ID C3=c3$ID
hrun 1 "$C1" --network flannel
hrun 2 "$C2" --network flannel
IP1=$(use_host 1; ctr_ip "$C1")
IP2=$(use_host 2; ctr_ip "$C2")
[[ $IP1 == "${S1%.0/24}".* ]] || fail "container $C1 got $IP1, outside $S1"
[ "$(nsexec "$(cns "$C1")" cat /sys/class/net/eth0/mtu)" = 1450 ] || fail "$C1's eth0 MTU is not 1450"
pings "$C1" "$C2" 2
pings "$C2" "$C1" 1
tcp_ok "$(cns "$C1")" "$(cns "$C2")" "$IP2"
tcp_ok "$(cns "$C2")" "$(cns "$C1")" "$IP1"
for i in 1 2; do
	c=C$i s=S$i
	gwmac=$(nsexec "$(cns "${!c}")" ip neigh show "${!s%.0/24}.1" | awk '{print $5}')
	[ "$gwmac" = "$(cl "$i" vtep_mac)" ] ||
		fail "${!c}'s gateway ${!s%.0/24}.1 is at '$gwmac', not at host $i's VtepMAC $(cl "$i" vtep_mac)"
done
ok "containers $C1 ($IP1) and $C2 ($IP2) ping each other (also 1450 bytes, DF) and move 4 MiB over TCP both ways"

for i in 1 2; do
	n=$(grep -c "ignored: " "$E2E_TMP/h$i.log")
	[ "$n" = 2 ] || fail "host $i: $n 'ignored' log lines, expected 2 (one per bad value): $(grep "ignored: " "$E2E_TMP/h$i.log")"
done
ok "the two values that are not Flannel leases are ignored, one log line each"

# ---------------------------------------------------------------- a late joiner
hstart 3
wait_registered 3
S3=$(cl 3 subnet)
[ "$S3" != "$S1" ] && [ "$S3" != "$S2" ] || fail "host 3 leased $S3, already taken"
check_host 3
for i in 1 2; do
	wait_until 10 lists "$i" "$S3" || fail "host $i does not list the late host 3: $(hctl "$i" cluster ls)"
done
[ "$(cl 3 hosts)" = 2 ] || fail "host 3 knows $(cl 3 hosts) hosts, not 2"
hrun 3 "$C3" --network flannel
IP3=$(use_host 3; ctr_ip "$C3")
pings "$C3" "$C1" 1
pings "$C2" "$C3" 3
tcp_ok "$(cns "$C3")" "$(cns "$C1")" "$IP1"
ok "late host 3 leased $S3; $C3 ($IP3) reaches $C1 and $C2"

# ---------------------------------------------------------------- restart keeps the subnet
hstop 2
[ -n "$(key_of "$S2")" ] || fail "host 2's lease went with its shutdown (it should be kept)"
hstart 2
wait_registered 2
[ "$(cl 2 subnet)" = "$S2" ] || fail "host 2 restarted with $(cl 2 subnet), not its $S2"
[ "$(use_host 2; ctr_ip "$C2")" = "$IP2" ] || fail "$C2 lost its address $IP2 over the restart"
check_host 2
pings "$C1" "$C2" 2
pings "$C2" "$C3" 3
ok "dpnetd restart: host 2 keeps $S2, $C2 keeps $IP2, traffic flows"

# ---------------------------------------------------------------- a host stops
# t0 before the stop: however long stopping takes, host 3's last keepalive
# (every TTL/3 s) was sent less than TTL/3 s before t0, so its lease expires
# no earlier than t0 + 2*TTL/3 (5.3 s); the removal cannot come before.
t0=$(date +%s)
hstop 3
lists 1 "$S3" || fail "host 1 dropped host 3 at once: its lease should last up to $TTL s"
wait_until $((TTL + 8)) sh -c "! $DPCTL --socket $E2E_TMP/h1.sock cluster ls | grep -q '^${S3} '" ||
	fail "host 1 still lists host 3 $((TTL + 8)) s after it stopped: $(hctl 1 cluster ls)"
t1=$(date +%s)
[ $((t1 - t0)) -ge $((2 * TTL / 3 - 1)) ] ||
	fail "host 3 was removed $((t1 - t0)) s after its stop began, before its lease could expire (>= $((2 * TTL / 3)) s)"
wait_until 5 sh -c "! $DPCTL --socket $E2E_TMP/h2.sock cluster ls | grep -q '^${S3} '" ||
	fail "host 2 still lists host 3: $(hctl 2 cluster ls)"
! routes 1 "$S3" || fail "host 1 still routes $S3: $(hctl 1 route ls)"
! routes 2 "$S3" || fail "host 2 still routes $S3: $(hctl 2 route ls)"
[ -z "$(key_of "$S3")" ] || fail "host 3's key outlived its lease: $(keys)"
ok "stopped host 3 removed from hosts 1, 2 (cluster ls, route ls) when its lease expired, $((t1 - t0)) s after"

hstart 3
wait_registered 3
[ "$(cl 3 subnet)" = "$S3" ] || fail "host 3 came back with $(cl 3 subnet), not $S3 (its state file's)"
wait_until 10 lists 1 "$S3" || fail "host 1 does not list host 3 again"
pings "$C1" "$C3" 3
ok "host 3 started again after its lease expired: $S3 again (state file), traffic flows"

# ---------------------------------------------------------------- lease revoked
lease1=$(key_of "$S1" | awk '{print $5}')
ectl lease revoke "$lease1" >/dev/null || fail "cannot revoke host 1's lease $lease1"
wait_until 15 sh -c "[ -n \"\$(ETCDCTL_API=3 etcdctl --endpoints $ETCD_URL get $PFX/subnets/${S1/\//-} --print-value-only)\" ]" ||
	fail "host 1 did not register again after its lease was revoked"
wait_registered 1
[ "$(cl 1 subnet)" = "$S1" ] || fail "host 1 re-registered with $(cl 1 subnet), not $S1"
[ "$(key_of "$S1" | awk '{print $5}')" != "$lease1" ] || fail "host 1's key still has the revoked lease"
check_host 1
wait_until 10 lists 2 "$S1" || fail "host 2 lost host 1 after its re-registration"
pings "$C2" "$C1" 1
ok "lease of host 1 revoked: it registered $S1 again with a new lease, traffic flows"

# ---------------------------------------------------------------- etcd restarted
etcd_kill
ok "etcd killed (SIGKILL)"
pings "$C1" "$C2" 2
wait_until 10 sh -c "[ \"\$($DPCTL --socket $E2E_TMP/h1.sock cluster status --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"last_error\"] != \"\")')\" = True ]" ||
	fail "host 1 does not report etcd's absence: $(hctl 1 cluster status)"
ok "traffic goes on while etcd is away; status reports it: $(cl 1 last_error)"
etcd_start same
for i in 1 2 3; do
	wait_registered "$i"
	check_host "$i"
done
[ "$(cl 1 subnet) $(cl 2 subnet) $(cl 3 subnet)" = "$S1 $S2 $S3" ] || fail "subnets changed over the etcd restart"
pings "$C3" "$C2" 2
ok "etcd started again (same data): hosts registered again, same subnets, traffic flows"

# (since each daemon's last start: the logs of restarted hosts go on)
for i in 1 2 3; do
	n=$(tac "$E2E_TMP/h$i.log" | sed '/ ready on /q' | grep -c "ignored: ")
	[ "$n" = 2 ] || fail "host $i: $n 'ignored' lines since its start, after the resyncs, expected 2: $(grep "ignored: " "$E2E_TMP/h$i.log")"
done

# ---------------------------------------------------------------- a Linux host as flanneld sets it up
FL=$(ns fl)
FLADDR=192.0.2.50
FLMAC=0a:58:c0:00:02:32
vx_ns_plug fl "$FLADDR/24"
used=$(keys | awk '{print $1}')
FS=""
for x in $(seq 200 -1 100); do
	grep -qx "10.244.$x.0/24" <<<"$used" || { FS=10.244.$x.0/24; break; }
done
[ -n "$FS" ] || fail "no free subnet for the flannel host"
FS0=${FS%/24}
ip -n "$FL" link add flannel.1 type vxlan id "$VNI" local "$FLADDR" dev eth0 dstport 8472 nolearning ||
	skip "the kernel cannot make a vxlan device here"
ip -n "$FL" link set flannel.1 address "$FLMAC" mtu 1450
ip -n "$FL" addr add "$FS0/32" dev flannel.1
ip -n "$FL" link set flannel.1 up
ip netns exec "$FL" ethtool -K flannel.1 tx off gso off tso off gro off >/dev/null 2>&1
# What flanneld programs for each lease it sees (pkg/backend/vxlan: AddARP,
# AddFDB, the onlink route via the subnet's .0).
for i in 1 2 3; do
	s=$(cl "$i" subnet)
	ip -n "$FL" neigh add "${s%/24}" lladdr "$(cl "$i" vtep_mac)" dev flannel.1 nud permanent
	ip netns exec "$FL" bridge fdb add "$(cl "$i" vtep_mac)" dev flannel.1 dst "$(vx_addr "$i")" self permanent
	ip -n "$FL" route add "$s" via "${s%/24}" dev flannel.1 onlink
done
fl_lease=$(ectl lease grant 600 | awk '{print $2}')
ectl put --lease="$fl_lease" "$PFX/subnets/${FS0}-24" \
	"{\"PublicIP\":\"$FLADDR\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":$VNI,\"VtepMAC\":\"$FLMAC\"}}" >/dev/null ||
	fail "cannot write the flannel host's lease"
for i in 1 2 3; do
	wait_until 10 lists "$i" "$FS" || fail "host $i does not list the flannel host's $FS: $(hctl "$i" cluster ls)"
done
out=$(hctl 1 cluster ls)
[ "$(table_cell "$out" "$FS" PUBLIC-IP)" = "$FLADDR" ] && [ "$(table_cell "$out" "$FS" VTEP-MAC)" = "$FLMAC" ] ||
	fail "cluster ls: $out"
ok "flannel host: flannel.1 (VNI $VNI, port 8472, nolearning, $FLMAC) with $FS0/32, routes/neigh/fdb per dpnet lease; its lease $FS reaches every dpnet host"
ping_ns_ok "$FL" "$IP1"
ping_ns_ok "$FL" "$IP3"
ping_ns_ok "$(cns "$C1")" "$FS0"
ping_ns_ok "$(cns "$C2")" "$FS0"
ok "the flannel host and dpnet's containers ping each other"

ectl lease revoke "$fl_lease" >/dev/null
for i in 1 2 3; do
	wait_until 10 sh -c "! $DPCTL --socket $E2E_TMP/h$i.sock cluster ls | grep -q '^$FS '" ||
		fail "host $i still lists $FS after its lease was revoked"
done
ok "the flannel host's lease revoked: every dpnet host forgets it"

# ---------------------------------------------------------------- two keys, one VtepMAC
# A host holding two keys (flanneld restarted onto a new subnet while its old
# lease lives): a second lease with host 2's PublicIP and VtepMAC. When it goes,
# host 1 keeps host 2's VtepMAC as a static entry behind host 2 (deleting it
# would flood every routed frame for host 2's subnet).
used=$(keys | awk '{print $1}')
XS=""
for x in $(seq 210 -1 150); do
	grep -qx "10.244.$x.0/24" <<<"$used" || { XS=10.244.$x.0/24; break; }
done
[ -n "$XS" ] || fail "no free subnet for a second key of host 2"
M2=$(cl 2 vtep_mac)
x_lease=$(ectl lease grant 600 | awk '{print $2}')
ectl put --lease="$x_lease" "$PFX/subnets/${XS%/24}-24" \
	"{\"PublicIP\":\"$(vx_addr 2)\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":$VNI,\"VtepMAC\":\"$M2\"}}" >/dev/null ||
	fail "cannot write a second key for host 2"
wait_until 10 lists 1 "$XS" || fail "host 1 does not list host 2's second key $XS: $(hctl 1 cluster ls)"
ectl lease revoke "$x_lease" >/dev/null
wait_until 10 sh -c "! $DPCTL --socket $E2E_TMP/h1.sock cluster ls | grep -q '^$XS '" ||
	fail "host 1 still lists $XS after its lease was revoked"
[ "$(fdb_vtep 1 flannel "$M2")" = "$(vx_addr 2)" ] &&
	[ "$(hctl 1 vxlan fdb ls flannel --json | json "next((e['type'] for e in d if e['mac'] == '$M2'), '')")" = static ] ||
	fail "host 1 lost host 2's static VtepMAC $M2 with the second key: $(hctl 1 vxlan fdb ls flannel)"
pings "$C1" "$C2" 2
ok "a second key of host 2 (same VtepMAC) came and went: host 1 keeps $M2 static behind $(vx_addr 2)"

# ---------------------------------------------------------------- a host's key changes to a refused value
# The old programming (route, neighbour, static MAC, peer) goes even though
# the new value is refused (127.0.0.1 is no VTEP address): nothing stale stays.
allow_log 'cluster: host 127\.0\.0\.1 .*not programmed'
XM=02:00:5e:aa:bb:cc
x_lease=$(ectl lease grant 600 | awk '{print $2}')
xput() {
	ectl put --lease="$x_lease" "$PFX/subnets/${XS%/24}-24" \
		"{\"PublicIP\":\"$1\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":$VNI,\"VtepMAC\":\"$XM\"}}" >/dev/null ||
		fail "cannot write the key $XS"
}
xput 192.0.2.99
wait_until 10 routes 1 "$XS" || fail "host 1 does not route $XS: $(hctl 1 route ls)"
[ "$(fdb_vtep 1 flannel "$XM")" = 192.0.2.99 ] || fail "host 1 has no static $XM: $(hctl 1 vxlan fdb ls flannel)"
xput 127.0.0.1
wait_until 10 sh -c "$DPCTL --socket $E2E_TMP/h1.sock cluster ls --json | $PY -c 'import json,sys; sys.exit(not any(h[\"subnet\"] == \"$XS\" and h[\"public_ip\"] == \"127.0.0.1\" and not h[\"programmed\"] for h in json.load(sys.stdin)))'" ||
	fail "host 1 does not show $XS at 127.0.0.1, unprogrammed: $(hctl 1 cluster ls)"
! routes 1 "$XS" || fail "host 1 still routes $XS to its old VTEP 192.0.2.99: $(hctl 1 route ls)"
[ -z "$(fdb_vtep 1 flannel "$XM")" ] || fail "host 1 still has $XM behind 192.0.2.99: $(hctl 1 vxlan fdb ls flannel)"
[ "$(hctl 1 vxlan peer ls --json | json "any(p['peer'] == '192.0.2.99' for p in d)")" = False ] ||
	fail "host 1 still has peer 192.0.2.99: $(hctl 1 vxlan peer ls)"
ectl lease revoke "$x_lease" >/dev/null
wait_until 10 sh -c "! $DPCTL --socket $E2E_TMP/h1.sock cluster ls | grep -q '^$XS '" ||
	fail "host 1 still lists $XS after its lease was revoked"
ok "a host's key changed to a refused value: its old route, MAC and peer are gone"

# ---------------------------------------------------------------- the VTEP address changes
# Host 1's uplink comes back with another address: its key is rewritten in
# place (same subnet, same lease, the new PublicIP and VtepMAC), no key of the
# old address is left, host 2 follows, and host 1's container learns the new
# gateway MAC from a gratuitous ARP, before sending anything.
NEWADDR=192.0.2.21
lease1=$(key_of "$S1" | awk '{print $5}')
oldmac=$(cl 1 vtep_mac)
pings "$C1" "$C2" 2
gw1=${S1%.0/24}.1
[ "$(nsexec "$(cns "$C1")" ip neigh show "$gw1" | awk '{print $5}')" = "$oldmac" ] ||
	fail "$C1's gateway $gw1 is not at $oldmac before the change: $(nsexec "$(cns "$C1")" ip neigh show "$gw1")"
sleep 1.2  # past the kernel's ARP locktime (1 s) since the last update
hctl 1 del-port up0 >/dev/null || fail "cannot remove host 1's uplink"
hctl 1 add-port up0 --type afpacket --iface "${H_IF[1]}" --role uplink --address "$NEWADDR/24" >/dev/null ||
	fail "cannot add host 1's uplink again with $NEWADDR"
wait_until 20 sh -c "[ \"\$($DPCTL --socket $E2E_TMP/h1.sock cluster status --json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d[\"public_ip\"], d[\"state\"])')\" = '$NEWADDR registered' ]" ||
	fail "host 1 did not register $NEWADDR: $(hctl 1 cluster status)"
wait_registered 1
newmac=$(cl 1 vtep_mac)
[ "$newmac" != "$oldmac" ] || fail "host 1's VtepMAC did not change with its address ($newmac)"
# The containers' gateway MAC, from the gratuitous ARP (no traffic from $C1 since).
wait_until 5 sh -c "[ \"\$(ip netns exec $(cns "$C1") ip neigh show $gw1 | awk '{print \$5}')\" = $newmac ]" ||
	fail "$C1's gateway $gw1 is still at '$(nsexec "$(cns "$C1")" ip neigh show "$gw1")', not at the new $newmac: no gratuitous ARP"
[ "$(cl 1 subnet)" = "$S1" ] || fail "host 1 moved to $(cl 1 subnet) with its new address, not keeping $S1"
line=$(key_of "$S1")
read -r _ pub _ mac lease <<<"$line"
[ "$pub $mac $lease" = "$NEWADDR $newmac $lease1" ] ||
	fail "host 1's key after the change: '$line', want PublicIP $NEWADDR, VtepMAC $newmac, lease $lease1 (the same)"
[ "$(cl 1 lease_id)" = "$lease1" ] || fail "host 1's status shows lease $(cl 1 lease_id), not $lease1"
[ -z "$(keys | awk -v a="$(vx_addr 1)" '$2 == a')" ] || fail "a key with host 1's old address is left: $(keys)"
[ "$(keys | awk -v l="$lease1" '$5 == l' | wc -l)" = 1 ] || fail "more than one key on host 1's lease: $(keys)"
wait_until 10 sh -c "$DPCTL --socket $E2E_TMP/h2.sock cluster ls --json | $PY -c 'import json,sys; sys.exit(not any(h[\"subnet\"] == \"$S1\" and h[\"public_ip\"] == \"$NEWADDR\" and h[\"vtep_mac\"] == \"$newmac\" and h[\"programmed\"] for h in json.load(sys.stdin)))'" ||
	fail "host 2 does not see host 1 at $NEWADDR/$newmac: $(hctl 2 cluster ls)"
[ "$(fdb_vtep 2 flannel "$newmac")" = "$NEWADDR" ] || fail "host 2's static MAC of host 1: $(hctl 2 vxlan fdb ls flannel)"
[ -z "$(fdb_vtep 2 flannel "$oldmac")" ] || fail "host 2 still has host 1's old VtepMAC $oldmac: $(hctl 2 vxlan fdb ls flannel)"
[ "$(hctl 1 network ls --json | json "sum(n['name'] == 'flannel' for n in d)")" = 1 ] || fail "host 1's network flannel: $(hctl 1 network ls)"
pings "$C1" "$C2" 2
pings "$C3" "$C1" 1
ok "host 1's VTEP address changed to $NEWADDR: same subnet $S1 and lease $lease1, key rewritten ($newmac), no stale key; $C1 got the new gateway MAC by gratuitous ARP; traffic flows"

# One lease per host: none granted per attempt or per re-registration is left
# (the empty ones of earlier runs expire within TTL s).
nleases() { ectl lease list | sed -n 's/^found \([0-9]*\) leases*$/\1/p'; }
wait_until $((TTL + 4)) sh -c "ETCDCTL_API=3 etcdctl --endpoints $ETCD_URL lease list | grep -qx 'found 3 leases'" ||
	fail "etcd holds $(nleases) leases, not 3 (one per host): $(ectl lease list)"
ok "etcd holds one lease per dpnet host"

for i in 3 2 1; do
	hstop "$i"
done
