#!/usr/bin/env bash
# networks: `dpctl network` as INTERFACE.md and Docker behave (issue 3).
#
# `network ls` shows exactly the three default networks of INTERFACE.md;
# `network create` makes a bridge network that ls and inspect show (subnet,
# gateway, driver, endpoints with name, IP and MAC); every bad input is refused
# with one line `dpctl: error: ...`, a non-zero exit and nothing changed:
# duplicate name, overlapping subnet, bad CIDR, gateway or ip-range outside the
# subnet, rm of a default network, rm with an endpoint attached, unknown
# network; `network rm` works once the endpoint has left.
# No uplink (conf/no-ports.yaml): nothing of this touches the host.
. "$(dirname "$0")/lib.sh"

# Refusing input is a WARNING by the logging rules: expected here.
allow_log 'WARNING: .*request refused'

N1=n1$E2E_ID N2=n2$E2E_ID N3=n3$E2E_ID C=c$E2E_ID

start_daemon

# ---- the defaults, exactly as INTERFACE.md shows them
LS=$(dpctl network ls) || fail "dpctl network ls failed"
EXPECTED='NETWORK ID     NAME      DRIVER    SCOPE
9e3c441ad16e   bridge    bridge    local
fdfd4abed1a0   host      host      local
8a93bc235b8d   none      null      local'
if [ "$LS" != "$EXPECTED" ]; then
	printf 'expected:\n%s\ngot:\n%s\n' "$EXPECTED" "$LS" >&2
	fail "'dpctl network ls' differs from INTERFACE.md"
fi
ok "network ls: bridge, host, none with INTERFACE.md's ids, drivers and scopes"

got=$(dpctl network ls --json | json "sorted((n['id'], n['name'], n['driver'], n['scope']) for n in d)") ||
	fail "network ls --json is not a list of networks"
want='[["8a93bc235b8d", "none", "null", "local"], ["9e3c441ad16e", "bridge", "bridge", "local"], ["fdfd4abed1a0", "host", "host", "local"]]'
[ "$got" = "$want" ] || fail "network ls --json: got $got, expected $want"
ok "network ls --json: the same three networks"

# inspect JSON: docker's (a list of one object) or the bare object.
inspect() { # NAME EXPR (Python over the network object n)
	dpctl network inspect "$1" | json "(lambda n: $2)(d[0] if isinstance(d, list) else d)"
}
[ "$(inspect bridge "n['IPAM']['Config'][0]['Subnet']")" = 172.17.0.0/16 ] ||
	fail "bridge's subnet is not 172.17.0.0/16: $(dpctl network inspect bridge)"
[ "$(inspect bridge "n['IPAM']['Config'][0]['Gateway']")" = 172.17.0.1 ] ||
	fail "bridge's gateway is not 172.17.0.1: $(dpctl network inspect bridge)"
ok "inspect bridge: 172.17.0.0/16, gateway 172.17.0.1"

# ---- create
ID1=$(dpctl network create --subnet 10.91.0.0/24 "$N1") || fail "network create $N1 failed"
[[ "$ID1" =~ ^[0-9a-f]{64}$ ]] || fail "network create printed '$ID1', expected a 64-hex-digit id"
LS=$(dpctl network ls) || fail "dpctl network ls failed"
row=$(grep -E "^[0-9a-f]{12} +$N1 " <<<"$LS") || fail "$N1 not in 'network ls':
$LS"
read -r sid _ driver scope extra <<<"$row"
[ "$sid" = "${ID1:0:12}" ] || fail "ls shows id $sid for $N1, create printed $ID1"
[ "$driver/$scope/${extra:-}" = bridge/local/ ] || fail "ls row of $N1: '$row', expected bridge local"
[ "$(table_cell "$LS" "$sid" NAME)" = "$N1" ] || fail "'network ls' columns misaligned:
$LS"
ok "network create --subnet 10.91.0.0/24 $N1: id ${ID1:0:12}, listed as bridge local"

[ "$(inspect "$N1" "n['Name']")" = "$N1" ] || fail "inspect $N1: wrong Name"
[ "$(inspect "$N1" "n['Id']")" = "$ID1" ] || fail "inspect $N1: Id is not $ID1"
[ "$(inspect "$N1" "n['Driver']")" = bridge ] || fail "inspect $N1: Driver is not bridge"
[ "$(inspect "$N1" "n['Scope']")" = local ] || fail "inspect $N1: Scope is not local"
[ "$(inspect "$N1" "n['IPAM']['Config'][0]['Subnet']")" = 10.91.0.0/24 ] ||
	fail "inspect $N1: Subnet is not 10.91.0.0/24: $(dpctl network inspect "$N1")"
[ "$(inspect "$N1" "n['IPAM']['Config'][0]['Gateway']")" = 10.91.0.1 ] ||
	fail "inspect $N1: Gateway is not 10.91.0.1 (the subnet's first address)"
[ "$(inspect "$N1" "len(n['Containers'])")" = 0 ] || fail "inspect $N1: endpoints before any container"
[ "$(inspect "${ID1:0:12}" "n['Name']")" = "$N1" ] || fail "inspect by short id does not find $N1"
ok "inspect $N1: name, id, driver, scope, subnet, default gateway 10.91.0.1, no endpoints"

run dpctl network create --subnet 10.91.1.0/24 --gateway 10.91.1.254 --ip-range 10.91.1.128/25 \
	--internal "$N2" >/dev/null
[ "$(inspect "$N2" "n['IPAM']['Config'][0]['Gateway']")" = 10.91.1.254 ] || fail "inspect $N2: gateway not 10.91.1.254"
[ "$(inspect "$N2" "n['IPAM']['Config'][0]['IPRange']")" = 10.91.1.128/25 ] || fail "inspect $N2: IPRange not 10.91.1.128/25"
[ "$(inspect "$N2" "n['Internal']")" = True ] || fail "inspect $N2: Internal is not true"
ok "network create with --gateway, --ip-range, --internal: inspect shows them"

# ---- an endpoint
ctr_run "$C" --network "$N1" >/dev/null
cip=$(ctr_ip "$C")
[ "$cip" = 10.91.0.2 ] || fail "container $C on $N1 got '$cip', expected 10.91.0.2 (the first free address)"
[ "$(inspect "$N1" "len(n['Containers'])")" = 1 ] || fail "inspect $N1: expected one endpoint: $(dpctl network inspect "$N1")"
[ "$(inspect "$N1" "list(n['Containers'].values())[0]['Name']")" = "$C" ] || fail "inspect $N1: endpoint name is not $C"
[ "$(inspect "$N1" "list(n['Containers'].values())[0]['IPv4Address']")" = 10.91.0.2/24 ] ||
	fail "inspect $N1: endpoint IPv4Address is not 10.91.0.2/24: $(dpctl network inspect "$N1")"
[ "$(inspect "$N1" "list(n['Containers'].values())[0]['MacAddress']")" = 02:42:0a:5b:00:02 ] ||
	fail "inspect $N1: endpoint MacAddress is not 02:42:0a:5b:00:02: $(dpctl network inspect "$N1")"
[ "$(dpctl network ls --json | json "next(n['endpoints'] for n in d if n['name'] == '$N1')")" = 1 ] ||
	fail "network ls --json: $N1 does not count one endpoint"
ok "container $C on $N1: inspect lists it (10.91.0.2/24, 02:42:0a:5b:00:02)"

# A container on N2 gets an address of its ip-range.
ctr_run "r$E2E_ID" --network "$N2" >/dev/null
rip=$(ctr_ip "r$E2E_ID")
"$PY" -c 'import ipaddress, sys; sys.exit(ipaddress.ip_address(sys.argv[1]) not in ipaddress.ip_network("10.91.1.128/25") or sys.argv[1] == "10.91.1.254")' "$rip" ||
	fail "container on $N2 got '$rip', not inside its ip-range 10.91.1.128/25 (gateway excluded)"
run dpctl rm -f "r$E2E_ID" >/dev/null
ok "container on $N2 got $rip from the ip-range"

# --mtu: the container's interface gets it.
N4=n4$E2E_ID
run dpctl network create --subnet 10.91.2.0/24 --mtu 1400 "$N4" >/dev/null
[ "$(inspect "$N4" "n['Options']['com.docker.network.driver.mtu']")" = 1400 ] || fail "inspect $N4: mtu option is not 1400"
ctr_run "m$E2E_ID" --network "$N4" >/dev/null
[ "$(nsexec "$(cns "m$E2E_ID")" cat /sys/class/net/eth0/mtu)" = 1400 ] || fail "container on $N4 (--mtu 1400): eth0 MTU is not 1400"
ping_ns_ok "$(cns "m$E2E_ID")" 10.91.2.1
run dpctl rm -f "m$E2E_ID" >/dev/null
run dpctl network rm "$N4" >/dev/null
ok "network create --mtu 1400: inspect shows it, a container's eth0 gets it"

# ---- refusals: one error line, non-zero, nothing changed (refused checks
# network ls --json, ps --json and the port names before and after)
refused "duplicate name"             network create --subnet 10.91.5.0/24 "$N1"
refused "duplicate of a default"     network create --subnet 10.91.5.0/24 bridge
refused "overlapping subnet"         network create --subnet 10.91.0.128/25 "$N3"
refused "subnet containing another"  network create --subnet 10.0.0.0/8 "$N3"
refused "overlapping bridge's"       network create --subnet 172.17.5.0/24 "$N3"
refused "bad CIDR /33"               network create --subnet 10.0.0.0/33 "$N3"
refused "bad CIDR banana"            network create --subnet banana "$N3"
refused "gateway outside the subnet" network create --subnet 10.91.7.0/24 --gateway 10.91.8.1 "$N3"
refused "ip-range outside the subnet" network create --subnet 10.91.7.0/24 --ip-range 10.91.8.0/25 "$N3"
refused "gateway without subnet"     network create --gateway 10.91.8.1 "$N3"
refused "bad gateway"                network create --subnet 10.91.7.0/24 --gateway banana "$N3"
refused "subnet with host bits"      network create --subnet 10.91.7.5/24 "$N3"
refused "bad MTU"                    network create --subnet 10.91.7.0/24 --mtu 10 "$N3"
refused "rm default bridge"          network rm bridge
refused "rm default host"            network rm host
refused "rm default none"            network rm none
refused "rm with an endpoint" --says "$N1" network rm "$N1"
refused "rm unknown network"         network rm "nosuch$E2E_ID"
refused "inspect unknown network"    network inspect "nosuch$E2E_ID"
refused "run on unknown network"     run -d --name "x$E2E_ID" --network "nosuch$E2E_ID" -- sleep 1
ip netns list | qgrep "$(cns "x$E2E_ID")" && fail "a refused run left namespace $(cns "x$E2E_ID")"

# ---- rm once the endpoint left
run dpctl rm -f "$C" >/dev/null
[ "$(inspect "$N1" "len(n['Containers'])")" = 0 ] || fail "inspect $N1: endpoint still listed after rm"
run dpctl network rm "$N1" >/dev/null
dpctl network ls | qgrep -w "$N1" && fail "$N1 still in 'network ls' after network rm"
refused "inspect removed network"    network inspect "$N1"
ok "network rm $N1 after its endpoint left: gone from ls and inspect"

# The subnet is free again; rm by id works too.
ID3=$(dpctl network create --subnet 10.91.0.0/24 "$N3") || fail "cannot create $N3 on the freed subnet"
run dpctl network rm "${ID3:0:12}" >/dev/null
run dpctl network rm "$N2" >/dev/null
got=$(dpctl network ls --json | json "sorted(n['name'] for n in d)")
[ "$got" = '["bridge", "host", "none"]' ] || fail "after removing all user networks: $got"
ok "the freed subnet can be used again; rm by short id; back to the three defaults"

stop_daemon
