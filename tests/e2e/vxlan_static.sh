#!/usr/bin/env bash
# vxlan_static: an overlay network over three dpnet hosts with static peers
# (issue 6).
#
# The picture: the underlay namespace holds a Linux bridge; each host is a
# dpnetd whose afpacket uplink is a veth into it, with the uplink (VTEP)
# address 192.0.2.1I/24. Each host has the overlay ov1 (VNI 4242,
# 10.77.0.0/24) with its own --ip-range, so container addresses never clash,
# and the other hosts as static peers; one container per host.
#
# Checked:
#  - network ls (DRIVER overlay, SCOPE global), inspect (vxlanid_list, MTU
#    1450 = the uplink's 1500 - 50), the containers' eth0 MTU 1450, vxlan0 in
#    port ls, peer ls;
#  - hosts 1 and 2: the containers ping each other; a 1450-byte packet with DF
#    (ping -M do -s 1422) passes and a 1451-byte one cannot leave; 4 MiB of TCP
#    arrive intact; `vxlan fdb ls` shows the other container's MAC behind the
#    other host's VTEP (learned), `mac ls` the same behind vxlan0;
#  - host 3 joins late (started after hosts 1 and 2 exchanged traffic): once
#    the peers are added on every host, all pairs of containers ping;
#  - a peer removed stops the traffic to it (and host 1 counts host 3's
#    frames as vxlan-unknown-peer); added again, it flows again;
#  - host 1 restarted (SIGTERM): its overlay, peers and container come back
#    from the state file and all pairs ping again;
#  - host 4, whose uplink (MTU 9000) was added by dpctl: an overlay with
#    --mtu 8950 keeps it over a restart (the uplink is restored after the
#    networks);
#  - every daemon stops cleanly, its log without unexpected warnings.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vxlan_lib.sh"

need_cmd socat ss
allow_log 'WARNING: .*request refused'

VNI=4242
SUBNET=10.77.0.0/24
declare -A RANGE=([1]=10.77.0.16/28 [2]=10.77.0.32/28 [3]=10.77.0.48/28)
declare -A CTR=([1]=a$E2E_ID [2]=b$E2E_ID [3]=c$E2E_ID)
declare -A CIP=() CMAC=()

vx_underlay
for i in 1 2 3; do
	vx_host "$i"
done

# overlay I: ov1 on host I, its container, and what it got.
overlay() {
	local i=$1 out
	run hctl "$i" network create --driver overlay --vni "$VNI" --subnet "$SUBNET" \
		--ip-range "${RANGE[$i]}" ov1 >/dev/null
	hrun "$i" "${CTR[$i]}" --network ov1
	CIP[$i]=$(ctr_ip "${CTR[$i]}")
	CMAC[$i]=$(ns_if_mac "$(cns "${CTR[$i]}")")
	out=$(nsexec "$(cns "${CTR[$i]}")" cat /sys/class/net/eth0/mtu)
	[ "$out" = 1450 ] || fail "host $i: container ${CTR[$i]}'s eth0 has MTU $out, not 1450"
	ok "host $i: ov1 (VNI $VNI, range ${RANGE[$i]}), container ${CTR[$i]} at ${CIP[$i]} with MTU 1450"
}

# peers I J...: host I gets the hosts J... as static peers.
peers() {
	local i=$1 j
	shift
	for j in "$@"; do
		run hctl "$i" vxlan peer add ov1 "$(vx_addr "$j")" >/dev/null
	done
}

# pings I J: host I's container pings host J's.
pings() {
	ping_ns_ok "$(cns "${CTR[$1]}")" "${CIP[$2]}"
}

hstart 1
hstart 2
overlay 1
overlay 2

out=$(hctl 1 network ls)
[ "$(table_cell "$out" "$(hctl 1 network ls --json | json "next(n['id'] for n in d if n['name'] == 'ov1')")" DRIVER)" = overlay ] ||
	fail "network ls: ov1 is not DRIVER overlay: $out"
grep -E '\sov1\s+overlay\s+global$' <<<"$out" >/dev/null || fail "network ls: ov1 is not SCOPE global: $out"
insp=$(hctl 1 network inspect ov1)
[ "$(json "d[0]['Options']['com.docker.network.driver.overlay.vxlanid_list']" <<<"$insp")" = "$VNI" ] ||
	fail "inspect: no vxlanid_list $VNI: $insp"
[ "$(json "d[0]['Options']['com.docker.network.driver.mtu']" <<<"$insp")" = 1450 ] ||
	fail "inspect: the MTU is not 1450: $insp"
[ "$(json "d[0]['Scope'] + ' ' + d[0]['Driver']" <<<"$insp")" = "global overlay" ] ||
	fail "inspect: Scope/Driver: $insp"
[ "$(table_cell "$(hctl 1 port ls)" vxlan0 TYPE)" = vxlan ] || fail "port ls lacks vxlan0: $(hctl 1 port ls)"
[ "$(table_cell "$(hctl 1 port ls)" vxlan0 STATE)" = up ] || fail "port ls: vxlan0 is not up: $(hctl 1 port ls)"
ok "network ls: ov1 overlay/global; inspect: vxlanid_list $VNI, MTU 1450; port ls: vxlan0 up"

peers 1 2
peers 2 1
out=$(hctl 1 vxlan peer ls)
[ "$(table_cell "$out" ov1 PEER)" = "$(vx_addr 2)" ] || fail "host 1: peer ls: $out"
[ "$(table_cell "$out" ov1 SOURCE)" = static ] || fail "host 1: peer ls: $out"
ok "static peers: host 1 <-> host 2"

pings 1 2
pings 2 1
ok "hosts 1 and 2: the containers ping each other over VXLAN"

# 1450 bytes of IPv4 with DF fit the overlay; 1451 do not leave the container.
nsexec "$(cns "${CTR[1]}")" ping -c 2 -W 3 -M do -s 1422 "${CIP[2]}" >/dev/null ||
	fail "a 1450-byte packet with DF from ${CTR[1]} to ${CIP[2]} did not come back"
if nsexec "$(cns "${CTR[1]}")" ping -c 1 -W 2 -M do -s 1423 "${CIP[2]}" >/dev/null 2>&1; then
	fail "a 1451-byte packet with DF left a container whose MTU is 1450"
fi
ok "ping -M do -s 1422 (1450 bytes) crosses the overlay; 1451 bytes cannot leave"
tcp_ok "$(cns "${CTR[1]}")" "$(cns "${CTR[2]}")" "${CIP[2]}"
tcp_ok "$(cns "${CTR[2]}")" "$(cns "${CTR[1]}")" "${CIP[1]}"
ok "4 MiB of TCP (full 1450-byte segments) each way between hosts 1 and 2, intact"

[ "$(fdb_vtep 1 ov1 "${CMAC[2]}")" = "$(vx_addr 2)" ] ||
	fail "host 1: vxlan fdb ls does not show ${CMAC[2]} behind $(vx_addr 2): $(hctl 1 vxlan fdb ls ov1)"
[ "$(fdb_vtep 2 ov1 "${CMAC[1]}")" = "$(vx_addr 1)" ] ||
	fail "host 2: vxlan fdb ls does not show ${CMAC[1]} behind $(vx_addr 1): $(hctl 2 vxlan fdb ls ov1)"
out=$(hctl 1 vxlan fdb ls ov1)
[ "$(table_cell "$out" "${CMAC[2]}" TYPE)" = learned ] || fail "host 1: fdb ls: $out"
out=$(hctl 1 mac ls ov1)
[ "$(hctl 1 mac ls ov1 --json | json "next(m['port'] + ' ' + m['vtep'] for m in d if m['mac'] == '${CMAC[2]}')")" = "vxlan0 $(vx_addr 2)" ] ||
	fail "host 1: mac ls does not show ${CMAC[2]} behind vxlan0 with VTEP $(vx_addr 2): $out"
grep -q VTEP <<<"$out" || fail "host 1: mac ls has no VTEP column: $out"
[ "$(hctl 1 vxlan peer ls --json | json "d[0]['macs']")" -ge 1 ] ||
	fail "host 1: peer ls counts no MAC behind $(vx_addr 2): $(hctl 1 vxlan peer ls)"
[ "$(vx_stat 1 decapsulated)" -gt 0 ] && [ "$(vx_stat 1 encapsulated)" -gt 0 ] ||
	fail "host 1: stats: nothing en/decapsulated: $(hctl 1 stats --json | json "d['vxlan']")"
ok "vxlan fdb ls / mac ls: each container's MAC learned behind the other host's VTEP; stats count"

# ---------------------------------------------------------------- a late host
hstart 3
overlay 3
peers 3 1 2
peers 1 3
peers 2 3
for i in 1 2 3; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] || pings "$i" "$j"
	done
done
ok "host 3 joined late: all six pairs of containers ping"
[ "$(fdb_vtep 1 ov1 "${CMAC[3]}")" = "$(vx_addr 3)" ] ||
	fail "host 1: vxlan fdb ls does not show ${CMAC[3]} behind $(vx_addr 3): $(hctl 1 vxlan fdb ls ov1)"

# ---------------------------------------------------------------- a peer removed
before=$(stat_drop 1 vxlan-unknown-peer)
run hctl 1 vxlan peer rm ov1 "$(vx_addr 3)" >/dev/null
[ -z "$(fdb_vtep 1 ov1 "${CMAC[3]}")" ] ||
	fail "host 1: ${CMAC[3]} is still behind the removed peer: $(hctl 1 vxlan fdb ls ov1)"
ping_ns_fails "$(cns "${CTR[1]}")" "${CIP[3]}"
ping_ns_fails "$(cns "${CTR[3]}")" "${CIP[1]}"
after=$(stat_drop 1 vxlan-unknown-peer)
[ "$after" -gt "$before" ] ||
	fail "host 1 did not count host 3's frames as vxlan-unknown-peer ($before -> $after)"
pings 1 2
pings 2 3
ok "peer $(vx_addr 3) removed on host 1: no traffic between hosts 1 and 3 (vxlan-unknown-peer $before -> $after), the others still flow"
run hctl 1 vxlan peer add ov1 "$(vx_addr 3)" >/dev/null
pings 1 3
pings 3 1
ok "peer added again: hosts 1 and 3 reach each other"

# ---------------------------------------------------------------- restart
hstop 1
hstart 1
out=$(hctl 1 vxlan peer ls --json)
[ "$(json "sorted(p['peer'] for p in d if p['network'] == 'ov1')" <<<"$out")" = "[\"$(vx_addr 2)\", \"$(vx_addr 3)\"]" ] ||
	fail "after the restart, host 1's peers are not back: $out"
[ "$(hctl 1 network ls --json | json "next(n['vni'] for n in d if n['name'] == 'ov1')")" = "$VNI" ] ||
	fail "after the restart, ov1 has lost its VNI: $(hctl 1 network ls --json)"
for j in 2 3; do
	pings 1 "$j"
	pings "$j" 1
done
ok "host 1 restarted: ov1 (VNI $VNI), its peers and its container are back; traffic flows"

# ---------------------------------------------------------------- an uplink added by dpctl
# Host 4 has no uplink in its config: one added at runtime (MTU 9000; a null
# port: afpacket cannot go past 1500, and no traffic is needed) comes back
# from the state file after the networks, so an overlay saved with --mtu 8950
# must not be cut to what a 1500 uplink would allow at restore.
printf '%s\n' "# $E2E_NAME: host 4" "mbufs: 8192" "poll:" "  mode: adaptive" "ports: []" \
	>"$E2E_TMP/h4.yaml"
hstart 4
run hctl 4 add-port up0 --type null --role uplink --address "$(vx_addr 4)/24" --mtu 9000 >/dev/null
run hctl 4 network create --driver overlay --vni 99 --subnet 10.99.0.0/24 --mtu 8950 ov9 >/dev/null
mtu9() { hctl 4 network inspect ov9 --json | json "d[0]['Options']['com.docker.network.driver.mtu']"; }
[ "$(mtu9)" = 8950 ] || fail "ov9's MTU is $(mtu9), not 8950"
hstop 4
hstart 4
[ "$(mtu9)" = 8950 ] || fail "after a restart ov9's MTU is $(mtu9), not its 8950 (the uplink, added by dpctl, comes back after the networks)"
run hctl 4 network rm ov9 >/dev/null
hstop 4
ok "an overlay with --mtu 8950 under a 9000 uplink added by dpctl keeps its MTU over a restart"

for i in 3 2 1; do
	for c in ${H_CTRS[$i]}; do
		hctl "$i" rm -f "$c" >/dev/null || fail "host $i: rm $c failed"
	done
	H_CTRS[$i]=""
	run hctl "$i" network rm ov1 >/dev/null
	[ -z "$(hctl "$i" port ls --json | json "[p for p in d if p['name'] == 'vxlan0']" | tr -d '[]')" ] ||
		fail "host $i: vxlan0 outlived the last overlay: $(hctl "$i" port ls)"
	hstop "$i"
done
ok "overlays removed (vxlan0 gone with them); every host stopped cleanly"
