#!/usr/bin/env bash
# perf/soak.sh - container churn and traffic for SOAK_SECONDS; memory must stay flat.
#
#   sudo bash perf/soak.sh                    # 10 minutes (SOAK_SECONDS=600)
#   sudo SOAK_SECONDS=60 bash perf/soak.sh    # a smoke run
#
# Starts its own dpnetd in TAP mode (the built-in config written out, adaptive
# polling, short conntrack timeouts and MAC aging, see write_config) inside a
# network namespace of its own that stands for the host - dpnet0 and every
# host-side veth live there, so the run never meets the host's dpnet0, the
# demo or the tests - with its own socket, state directory and EAL file prefix.
#
# Then, for SOAK_SECONDS:
#  - churn (the main loop, one cycle after another): network create; run -d
#    with -p HOSTPORT:80 (every other one --attach tap); a second container on
#    the new network; connect the first to the new network and to a long-lived
#    second network; ping across both; TCP through the published port from the
#    host; disconnect both; rm -f both; network rm;
#  - traffic all along (a background loop): ping container -> container and
#    host -> container, HTTP from the host to a published port on 169.254.17.2
#    (DNAT), TCP and UDP from a container to a server on the host's side
#    169.254.17.1 (MASQUERADE, the source must be 169.254.17.2), and every
#    SOAK_IPERF_EVERY rounds a 2 s iperf3 burst (host -> published port, or
#    container -> container);
#  - every ~SOAK_SAMPLE s, between two churn cycles (no container of the churn
#    alive, so that every sample sees the same set of objects): dpnetd's VmRSS,
#    the DPDK heap in use (Alloc_size of /eal/heap_info,0 on the EAL telemetry
#    socket), mbufs in use (`dpctl stats --json`: mbufs.in_use, the pool's
#    mbufs out of it, lcore caches counted free; DPDK 22.11's /mempool/info
#    telemetry has no counts), conntrack entries, MAC table entries, dpnetd's
#    open fds and threads, the run's container namespaces and the links of its
#    host namespace.
#
# At the end: the table of samples and a verdict per metric. The first
# SOAK_WARMUP seconds (default: a fifth of the run, at most 60 s: the
# conntrack timeouts (10 s) and MAC aging (30 s) of the config reach their
# steady state) are left out; the rest is cut in thirds; a metric is flat when
# the last third's maximum <= the first third's maximum + its tolerance:
#   rss   4096 kB   anon 1024 kB   heap 256 KiB   mbufs 64
#   ct    25 % of the first third's max + 32    fdb 4   fds 2   threads 0   ns 0   links 0
# rss is VmRSS; anon its RssAnon part (malloc, the control plane's own memory,
# where a leak of the C code shows); the rest is mostly RssShmem, EAL's memory
# (--no-huge: shared pages), which grows during the warm-up as the DPDK heap
# first touches pages of its free space (its in-use bytes stay flat) and is
# bounded by -m 512: shown (shmem), judged only through rss's tolerance.
# SOAK_TOL_<METRIC> overrides a tolerance (SOAK_TOL_CT_PCT the ct percentage).
# FAIL names the metrics that grew. The run
# also fails when a kind of traffic check (or the churn's dpctl commands)
# failed more than SOAK_MAX_FAIL_PCT % (default 1) of the time (and more than
# once: one lost ping of a 60 s run is not 1 %), when dpnetd
# dies, or when it does not exit 0 on SIGTERM. Every namespace, link, process
# and file the run made is removed on exit (also on failure or ^C).
#
# Environment: SOAK_SECONDS (600), SOAK_SAMPLE (10), SOAK_WARMUP, SOAK_MAX_FAIL_PCT
# (1), SOAK_IPERF (1; 0: no iperf3), SOAK_IPERF_EVERY (20), SOAK_TIMERS=linux
# (Linux's conntrack timeouts and MAC aging instead of the short ones: give it
# SOAK_WARMUP >= 330), SOAK_KEEP=1 (keep the scratch directory), DPNETD, DPCTL.
# Exit: 0 flat and traffic good, 1 FAIL, 2 could not start.
set -uo pipefail
# grep -q for the end of a pipeline: reads all its input first. Under pipefail,
# "cmd | grep -q" fails at random when grep exits on the first match and cmd,
# still writing, dies of SIGPIPE (seen in CI: containers.sh, 'ip addr' with two
# addresses).
qgrep() { local in; in=$(cat); grep -q "$@" <<<"$in"; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DPNETD=${DPNETD:-$ROOT/build/control/dpnetd}
DPCTL=${DPCTL:-$ROOT/build/control/dpctl}
PY=/usr/bin/python3
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_SAMPLE=${SOAK_SAMPLE:-10}
SOAK_MAX_FAIL_PCT=${SOAK_MAX_FAIL_PCT:-1}
SOAK_IPERF=${SOAK_IPERF:-1}
SOAK_IPERF_EVERY=${SOAK_IPERF_EVERY:-20}
SOAK_TIMERS=${SOAK_TIMERS:-short}
if [ -z "${SOAK_WARMUP:-}" ]; then
	SOAK_WARMUP=$((SOAK_SECONDS / 5))
	[ "$SOAK_WARMUP" -le 60 ] || SOAK_WARMUP=60
fi

say() { printf 'soak: %s\n' "$*"; }
die() {
	printf 'soak: error: %s\n' "$*" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, interfaces, DPDK)"
[ -x "$DPNETD" ] || die "dpnetd not built ($DPNETD): bash scripts/run.sh build, or DPNETD=..."
[ -x "$DPCTL" ] || die "dpctl not built ($DPCTL)"
for c in ip nsenter curl ping timeout "$PY"; do
	command -v "$c" >/dev/null 2>&1 || die "needs $c"
done
[ "$SOAK_IPERF" = 1 ] && ! command -v iperf3 >/dev/null 2>&1 && SOAK_IPERF=0

# ---------------------------------------------------------------- names, scratch
ID=$(od -An -N2 -tx2 /dev/urandom | tr -dc '0-9a-f')
K=k$ID                                   # every container and network name starts so
HOSTNS=dpsoak-$ID                        # the stand-in for the host's namespace
PREFIX=dpsoak-$ID                        # EAL file prefix
TMP=$(mktemp -d /tmp/dpnet-soak.XXXXXX)
SOCK=$TMP/dpnet.sock
STATE=$TMP/state
LOG=$TMP/dpnetd.log
CONF=$TMP/soak.yaml
TELE=/var/run/dpdk/$PREFIX/dpdk_telemetry.v2
RESULTS=$TMP/results                     # traffic and churn checks: "T KIND ok|fail [DETAIL]"
SAMPLES=$TMP/samples                     # "T RSS HEAP MBUFS CT FDB FDS THREADS NS LINKS ANON SHMEM"
UP=169.254.17.2 HOSTSIDE=169.254.17.1
WEB=${K}w PEER=${K}p OTHER=${K}o NET2=${K}b
DPID="" BG_PIDS=() CYCLES=0
mkdir -p "$STATE"
: >"$RESULTS"
: >"$SAMPLES"

dctl() { timeout 30 "$DPCTL" --socket "$SOCK" "$@"; }
hx() { ip netns exec "$HOSTNS" "$@"; }             # in the stand-in host namespace
cx() { local c=$1; shift; ip netns exec "dpnet-$c" "$@"; }   # in container C's namespace
alive() { [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; }
# rec KIND OK|FAIL [DETAIL]: one check's result.
rec() { printf '%s %s %s %s\n' "$(date +%s)" "$1" "$2" "$(tr '\n' ' ' <<<"${3:-}" | cut -c1-300)" >>"$RESULTS"; }
# op CMD...: a churn dpctl command, recorded as kind "churn" (status 1 when refused).
op() {
	local out
	if out=$(dctl "$@" 2>&1); then
		rec churn ok
		return 0
	fi
	rec churn fail "dpctl $*: $(tr '\n' ' ' <<<"$out" | cut -c1-200)"
	return 1
}

cleanup() {
	local rc=$? p n i
	trap - EXIT INT TERM
	for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if alive; then
		for n in $(dctl ps --json 2>/dev/null | "$PY" -c '
import json, sys
try: d = json.load(sys.stdin)
except ValueError: d = []
print(" ".join(c["name"] for c in d if c.get("name", "").startswith(sys.argv[1])))' "$K"); do
			dctl rm -f "$n" >/dev/null 2>&1
		done
		for n in $(dctl network ls --json 2>/dev/null | "$PY" -c '
import json, sys
try: d = json.load(sys.stdin)
except ValueError: d = []
d = d.get("networks", d) if isinstance(d, dict) else d
print(" ".join(x.get("Name", x.get("name", "")) for x in d if x.get("Name", x.get("name", "")).startswith(sys.argv[1])))' "$K"); do
			dctl network rm "$n" >/dev/null 2>&1
		done
		kill -TERM "$DPID" 2>/dev/null
		for i in $(seq 1 100); do alive || break; sleep 0.2; done
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	# Whatever is left: processes in our namespaces, the namespaces (deleting the
	# host stand-in deletes dpnet0 and the veths' host ends), DPDK's run files.
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^(dpnet-$K|$HOSTNS\$)"); do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "/var/run/dpdk/$PREFIX" 2>/dev/null
	left=$(ip netns list 2>/dev/null | grep -cE "^(dpnet-$K|$HOSTNS )" || true)
	[ "$left" = 0 ] || { echo "soak: $left namespaces of this run are left" >&2; [ $rc -ne 0 ] || rc=1; }
	if [ "${SOAK_KEEP:-0}" = 1 ] || { [ $rc -ne 0 ] && [ $rc -ne 2 ]; }; then
		echo "soak: scratch directory kept: $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
STOP=""
trap cleanup EXIT
# ^C or SIGTERM: the loops stop at their next step, then the EXIT trap cleans
# up (dpnetd runs in a session of its own: a ^C at the terminal is not its).
trap 'STOP=130' INT
trap 'STOP=143' TERM

# ---------------------------------------------------------------- helpers (python)
cat >"$TMP/peer.py" <<'PYEOF'
# serve-tcp [--bind A] PORT: per line, answer "PEER-IP PEER-PORT LINE"
# serve-udp [--bind A] PORT: per datagram, answer "PEER-IP PEER-PORT DATA"
# tcp HOST PORT MSG: one exchange, prints the answer; udp HOST PORT MSG: idem (2 tries)
import socket, sys, threading
def answer(c, a):
    try:
        for line in c.makefile("rb"):
            c.sendall(b"%s %d %s\n" % (a[0].encode(), a[1], line.strip()))
    except OSError:
        pass
    finally:
        c.close()
cmd, a = sys.argv[1], sys.argv[2:]
if cmd.startswith("serve-"):
    bind = ""
    if a[0] == "--bind":
        bind, a = a[1], a[2:]
    if cmd == "serve-tcp":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((bind, int(a[0])))
        s.listen(128)
        while True:
            c, p = s.accept()
            c.settimeout(10)
            threading.Thread(target=answer, args=(c, p), daemon=True).start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind, int(a[0])))
    while True:
        d, p = s.recvfrom(4096)
        s.sendto(b"%s %d %s" % (p[0].encode(), p[1], d), p)
host, port, msg = a[0], int(a[1]), a[2]
if cmd == "tcp":
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(5)
    s.sendall(msg.encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(4096)
        if not b:
            break
        buf += b
    print(buf.decode().strip())
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((host, port))
    for _ in range(2):
        s.send(msg.encode())
        try:
            print(s.recv(4096).decode())
            sys.exit(0)
        except socket.timeout:
            pass
    sys.exit("no answer")
PYEOF

# probe.py TELEMETRY-SOCKET DPCTL SOCKET: "HEAP MBUFS CT FDB" (- when unknown).
cat >"$TMP/probe.py" <<'PYEOF'
import json, socket, subprocess, sys
tele, dpctl, sock = sys.argv[1:4]
out = {"heap": "-", "mbufs": "-", "ct": "-", "fdb": "-"}
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(tele)
    s.recv(65536)
    def q(cmd):
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 20))
    out["heap"] = q("/eal/heap_info,0")["/eal/heap_info"]["Alloc_size"]
except (OSError, ValueError, KeyError, TypeError):
    pass
def dp(*args):
    r = subprocess.run([dpctl, "--socket", sock, "--json"] + list(args),
                       capture_output=True, timeout=20, text=True)
    return json.loads(r.stdout)
try:
    d = dp("conntrack", "stats")
    out["ct"] = (d.get("stats") or d.get("result") or d)["entries"]
except (OSError, ValueError, KeyError, subprocess.SubprocessError):
    pass
try:
    st = dp("stats")
    out["fdb"] = st["fdb"]["entries"]
    out["mbufs"] = st["mbufs"]["in_use"]   # DPDK 22.11's /mempool/info has no counts
except (OSError, ValueError, KeyError, subprocess.SubprocessError):
    pass
print(out["heap"], out["mbufs"], out["ct"], out["fdb"])
PYEOF

# sample: one line of $SAMPLES (T is seconds since the start of the soak).
sample() {
	local t rss anon shm thr fds nsn links probe
	alive || return 1
	t=$(($(date +%s) - T0))
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status")
	anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$DPID/status")
	shm=$(awk '/^RssShmem:/ {print $2}' "/proc/$DPID/status")
	thr=$(awk '/^Threads:/ {print $2}' "/proc/$DPID/status")
	fds=$(find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	probe=$(timeout 60 "$PY" "$TMP/probe.py" "$TELE" "$DPCTL" "$SOCK")
	nsn=$(ip netns list | grep -c "^dpnet-$K" || true)
	links=$(ip -n "$HOSTNS" -o link 2>/dev/null | wc -l)
	echo "$t $rss ${probe:-- - - -} $fds $thr $nsn $links $anon $shm" >>"$SAMPLES"
	read -r _ _ h m c f _ <<<"$(tail -n 1 "$SAMPLES")"
	say "sample t=${t}s rss=${rss}kB (anon $anon, shmem $shm) heap=$h mbufs=$m ct=$c fdb=$f fds=$fds threads=$thr ns=$nsn links=$links"
}

# ---------------------------------------------------------------- the daemon
write_config() {
	cat >"$CONF" <<EOF
# perf/soak.sh: TAP mode as built in (conf/tap-mode.yaml), adaptive polling.
ports:
  - name: dpnet0
    type: tap
    iface: dpnet0
    role: uplink
    address: $UP/30
    gateway: $HOSTSIDE
poll:
  mode: adaptive
EOF
	if [ "$SOAK_TIMERS" != linux ]; then
		# Seconds instead of Linux's minutes: entries expire all along the run
		# (the expiry paths are soaked too) and the tables reach their steady
		# state within the warm-up.
		cat >>"$CONF" <<EOF
fdb:
  aging_s: 30
conntrack:
  timeouts:
    udp: 10
    udp_stream: 10
    tcp_time_wait: 10
    tcp_close: 10
    tcp_fin_wait: 10
    tcp_syn_sent: 10
    tcp_syn_recv: 10
    tcp_close_wait: 10
    tcp_last_ack: 10
    icmp: 10
EOF
	fi
}

ip netns add "$HOSTNS" || die "cannot create namespace $HOSTNS"
ip -n "$HOSTNS" link set lo up
hx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
write_config
say "dpnetd in namespace $HOSTNS, file prefix $PREFIX, scratch $TMP, ${SOAK_SECONDS}s"
setsid nsenter --net="/run/netns/$HOSTNS" "$DPNETD" --config "$CONF" --socket "$SOCK" \
	--state-dir "$STATE" -- --no-huge -m 512 --no-pci --file-prefix "$PREFIX" -l 0,1 \
	>>"$LOG" 2>&1 </dev/null &
DPID=$!
for i in $(seq 1 150); do
	alive || die "dpnetd exited during start-up: $(tail -n 5 "$LOG")"
	dctl status >/dev/null 2>&1 && break
	sleep 0.2
done
dctl status >/dev/null 2>&1 || die "dpnetd did not answer within 30 s"
[ "$(cat "/proc/$DPID/comm")" = dpnetd ] || die "pid $DPID is $(cat "/proc/$DPID/comm"), not dpnetd"
for i in $(seq 1 50); do
	hx ip -4 -o addr show dev dpnet0 | qgrep " $HOSTSIDE/30 " && break
	sleep 0.2
done
T0=$(date +%s)
sample || die "no first sample"    # the empty switch, before any container

# ---------------------------------------------------------------- long-lived containers, servers
WWW=$TMP/www
mkdir -p "$WWW"
TOKEN="soak-$ID-$RANDOM$RANDOM"
echo "$TOKEN" >"$WWW/index.html"
SP=$((20000 + RANDOM % 10000))           # the host's TCP and UDP servers on 169.254.17.1
hx "$PY" "$TMP/peer.py" serve-tcp --bind "$HOSTSIDE" "$SP" >/dev/null 2>&1 &
BG_PIDS+=($!)
hx "$PY" "$TMP/peer.py" serve-udp --bind "$HOSTSIDE" "$SP" >/dev/null 2>&1 &
BG_PIDS+=($!)
dctl network create "$NET2" >/dev/null || die "network create $NET2 failed"
dctl run -d --name "$WEB" -p 8080:80 -- "$PY" -m http.server 80 --directory "$WWW" >/dev/null ||
	die "run $WEB failed"
if [ "$SOAK_IPERF" = 1 ]; then
	dctl run -d --name "$PEER" -p 5201:5201 -- iperf3 -s >/dev/null || die "run $PEER failed"
else
	dctl run -d --name "$PEER" -- sleep 100000 >/dev/null || die "run $PEER failed"
fi
dctl run -d --name "$OTHER" --network "$NET2" -- sleep 100000 >/dev/null || die "run $OTHER failed"
cip() { ip -n "dpnet-$1" -4 -o addr show dev "${2:-eth0}" 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}'; }
WIP=$(cip "$WEB") PIP=$(cip "$PEER") OIP=$(cip "$OTHER")
[ -n "$WIP" ] && [ -n "$PIP" ] && [ -n "$OIP" ] || die "containers without addresses: '$WIP' '$PIP' '$OIP'"
for i in $(seq 1 50); do
	hx curl -s --noproxy '*' --max-time 2 "http://$UP:8080/" 2>/dev/null | qgrep -x "$TOKEN" && break
	sleep 0.2
done
say "long-lived: $WEB $WIP (-p 8080:80, http.server), $PEER $PIP$([ "$SOAK_IPERF" = 1 ] && echo ' (-p 5201, iperf3 -s)'), $OTHER $OIP on $NET2; host servers $HOSTSIDE:$SP tcp+udp"
DEADLINE=$((T0 + SOAK_SECONDS))

# ---------------------------------------------------------------- traffic, all along
traffic() {
	local r=0 out
	trap 'exit 0' TERM
	while [ "$(date +%s)" -lt "$DEADLINE" ] && [ $r -lt 100000 ]; do
		r=$((r + 1))
		if cx "$WEB" ping -c 1 -W 2 "$PIP" >/dev/null 2>&1; then rec ping-c2c ok; else rec ping-c2c fail "$WEB -> $PIP"; fi
		if hx ping -c 1 -W 2 "$WIP" >/dev/null 2>&1; then rec ping-host ok; else rec ping-host fail "host -> $WIP"; fi
		out=$(hx curl -sS --noproxy '*' --max-time 5 "http://$UP:8080/" 2>&1)
		if [ "$out" = "$TOKEN" ]; then rec http-dnat ok; else rec http-dnat fail "$(head -c 150 <<<"$out")"; fi
		out=$(cx "$PEER" timeout 10 "$PY" "$TMP/peer.py" tcp "$HOSTSIDE" "$SP" t$r 2>&1)
		if [[ "$out" == "$UP "*" t$r" ]]; then rec masq-tcp ok; else rec masq-tcp fail "$(head -c 150 <<<"$out")"; fi
		out=$(cx "$PEER" timeout 10 "$PY" "$TMP/peer.py" udp "$HOSTSIDE" "$SP" u$r 2>&1)
		if [[ "$out" == "$UP "*" u$r" ]]; then rec masq-udp ok; else rec masq-udp fail "$(head -c 150 <<<"$out")"; fi
		if [ "$SOAK_IPERF" = 1 ] && [ $((r % SOAK_IPERF_EVERY)) = 0 ]; then
			if [ $((r / SOAK_IPERF_EVERY % 2)) = 1 ]; then    # host -> published port (DNAT)
				out=$(hx timeout 15 iperf3 -c "$UP" -p 5201 -t 2 -f m 2>&1)
			else                                              # container -> container
				out=$(cx "$WEB" timeout 15 iperf3 -c "$PIP" -t 2 -f m 2>&1)
			fi
			if grep -q 'receiver$' <<<"$out"; then
				rec iperf3 ok "$(awk '/receiver$/ {print $7; exit}' <<<"$out")"
			else
				rec iperf3 fail "$(tail -n 1 <<<"$out" | head -c 150)"
			fi
		fi
		sleep 0.5
	done
}
traffic &
TRAFFIC_PID=$!
BG_PIDS+=($!)

# ---------------------------------------------------------------- churn
# cycle I: one network and two containers made, used and removed.
cycle() {
	local i=$1 n=${K}n$1 c=${K}c$1 d=${K}d$1 hp=$((9000 + $1 % 100)) att=() dip cip2 out j
	[ $((i % 2)) = 1 ] && att=(--attach tap)
	op network create "$n" || return 0
	if op run -d --name "$c" "${att[@]}" -p "$hp:80" -- "$PY" "$TMP/peer.py" serve-tcp 80; then
		op run -d --name "$d" --network "$n" -- sleep 100000
		op connect "$n" "$c"
		op connect "$NET2" "$c"
		dip=$(cip "$d")
		if [ -n "$dip" ] && cx "$c" ping -c 1 -W 2 "$dip" >/dev/null 2>&1; then
			rec ping-newnet ok
		else
			rec ping-newnet fail "$c -> $d '$dip' on $n"
		fi
		if cx "$c" ping -c 1 -W 2 "$OIP" >/dev/null 2>&1; then rec ping-net2 ok; else rec ping-net2 fail "$c -> $OIP on $NET2"; fi
		for j in $(seq 1 50); do   # the server's python is starting
			cx "$c" ss -ltnH 2>/dev/null | qgrep ':80 ' && break
			sleep 0.1
		done
		out=$(hx timeout 10 "$PY" "$TMP/peer.py" tcp "$UP" "$hp" c$i 2>&1)
		if [[ "$out" == "$HOSTSIDE "*" c$i" ]]; then rec publish ok; else rec publish fail "$UP:$hp ${att[*]}: $(head -c 150 <<<"$out")"; fi
		op disconnect "$NET2" "$c"
		op disconnect "$n" "$c"
		op rm -f "$d"
		op rm -f "$c"
	fi
	op network rm "$n"
}

say "churn and traffic until $(date -d "@$DEADLINE" +%H:%M:%S)"
LAST=0
while [ "$(date +%s)" -lt "$DEADLINE" ] && [ $CYCLES -lt 100000 ]; do
	alive && [ -z "$STOP" ] || break
	CYCLES=$((CYCLES + 1))
	cycle $CYCLES
	if [ $(($(date +%s) - LAST)) -ge "$SOAK_SAMPLE" ]; then
		sample
		LAST=$(date +%s)
	fi
done
[ -z "$STOP" ] || { say "interrupted after $CYCLES cycles"; exit "$STOP"; }
DIED=0
if ! alive; then
	DIED=1
	wait "$DPID"
	DSTATUS=$?
	DPID=""
	say "dpnetd DIED (status $DSTATUS) after $CYCLES cycles; last lines of its log:"
	tail -n 30 "$LOG" | sed 's/^/  /'
else
	wait "$TRAFFIC_PID" 2>/dev/null   # the traffic loop ends at the deadline
	[ $(($(date +%s) - LAST)) -lt 2 ] || sample
fi

# ---------------------------------------------------------------- tear down, stop
EMPTY_AFTER="" DROPS="(dpnetd died)"
if [ $DIED = 0 ]; then
	dctl rm -f "$WEB" >/dev/null; dctl rm -f "$PEER" >/dev/null; dctl rm -f "$OTHER" >/dev/null
	dctl network rm "$NET2" >/dev/null
	DROPS=$(dctl stats --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(", ".join("%s %d" % kv for kv in sorted(d["drops"].items()) if kv[1]) or "none")' 2>&1)
	dctl conntrack flush >/dev/null 2>&1
	sleep 1
	EMPTY_AFTER=$($PY "$TMP/probe.py" "$TELE" "$DPCTL" "$SOCK")
	EMPTY_AFTER="$EMPTY_AFTER $(awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status") $(find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 | wc -l)"
	kill -TERM "$DPID"
	for i in $(seq 1 100); do alive || break; sleep 0.2; done
	if alive; then
		STOPPED="did not exit within 20 s of SIGTERM"
	else
		wait "$DPID"
		DSTATUS=$?
		STOPPED="exit status $DSTATUS on SIGTERM"
		[ "$DSTATUS" = 0 ] || DIED=1
	fi
	DPID_OLD=$DPID
	DPID=""
	[ "$STOPPED" = "exit status 0 on SIGTERM" ] || DIED=1
	say "dpnetd (pid $DPID_OLD): $STOPPED"
fi
LOGBAD=$(grep -cE '(^|[^A-Za-z])(WARNING|ERR|ERROR|CRIT)([^A-Za-z]|$)|Sanitizer|runtime error' "$LOG" || true)

# ---------------------------------------------------------------- report
"$PY" - "$SAMPLES" "$RESULTS" "$SOAK_WARMUP" "$SOAK_MAX_FAIL_PCT" "$CYCLES" "$DIED" "$LOGBAD" "$LOG" "$EMPTY_AFTER" "$DROPS" <<'PYEOF'
import os, sys
samples_f, results_f, warm, maxpct, cycles, died, logbad, logf, empty_after, drops = sys.argv[1:11]
warm, maxpct, cycles, died = int(warm), float(maxpct), int(cycles), died == "1"
cols = ["t", "rss", "heap", "mbufs", "ct", "fdb", "fds", "threads", "ns", "links", "anon", "shmem"]
rows = []
for line in open(samples_f):
    f = line.split()
    if len(f) != len(cols):
        continue
    rows.append({c: (None if v == "-" else int(v)) for c, v in zip(cols, f)})
print()
print("%6s %10s %12s %6s %6s %5s %5s %7s %4s %5s %9s %9s" % ("t(s)", "rss(kB)", "heap(B)", "mbufs", "ct", "fdb", "fds", "threads", "ns", "links", "anon(kB)", "shmem(kB)"))
for r in rows:
    print("%6d %10s %12s %6s %6s %5s %5s %7s %4s %5s %9s %9s" % tuple("-" if r[c] is None else r[c] for c in cols))

def env(name, default):
    return float(os.environ.get("SOAK_TOL_" + name.upper(), default))
tol = {"rss": lambda m: env("rss", 4096), "heap": lambda m: env("heap", 262144),
       "mbufs": lambda m: env("mbufs", 64), "ct": lambda m: m * env("ct_pct", 25) / 100 + env("ct", 32),
       "fdb": lambda m: env("fdb", 4), "fds": lambda m: env("fds", 2),
       "threads": lambda m: env("threads", 0), "ns": lambda m: env("ns", 0),
       "links": lambda m: env("links", 0), "anon": lambda m: env("anon", 1024)}
gated = cols[1:11]    # shmem (DPDK's memory touched, see the header) is shown, not judged
fails = []
body = [r for r in rows[1:] if r["t"] >= warm]   # rows[0]: the empty switch
print()
if len(body) < 3:
    print("verdict: FAIL: %d samples after the %d s warm-up, at least 3 needed" % (len(body), warm))
    fails.append("samples")
else:
    k = len(body) // 3
    first, last = body[:k], body[-k:]
    print("flatness: %d samples after a %d s warm-up; first third t=%d..%d s, last third t=%d..%d s"
          % (len(body), warm, first[0]["t"], first[-1]["t"], last[0]["t"], last[-1]["t"]))
    for c in cols[1:]:
        if c not in gated:
            continue
        a = [r[c] for r in first if r[c] is not None]
        b = [r[c] for r in last if r[c] is not None]
        if not a or not b:
            print("  %-8s no data" % c)
            continue
        t = tol[c](max(a))
        ok = max(b) <= max(a) + t
        if not ok:
            fails.append(c)
        print("  %-8s first-third max %12d  last-third max %12d  growth %+10d  tolerance %10d  %s"
              % (c, max(a), max(b), max(b) - max(a), t, "flat" if ok else "GREW"))
    a, b = first[-1], last[-1]
    if b["t"] > a["t"]:
        print("  rss slope from t=%d to t=%d s: %+.1f kB/min (anon %+.1f, shmem %+.1f)" % (
            a["t"], b["t"], (b["rss"] - a["rss"]) * 60.0 / (b["t"] - a["t"]),
            (b["anon"] - a["anon"]) * 60.0 / (b["t"] - a["t"]), (b["shmem"] - a["shmem"]) * 60.0 / (b["t"] - a["t"])))
if empty_after.strip():
    h, m, c, f, rss, fds = (empty_after.split() + ["-"] * 6)[:6]
    r0 = rows[0]
    print("empty switch before -> after (every container and network removed, conntrack flushed):"
          " heap %s -> %s B, mbufs %s -> %s, ct %s -> %s, fdb %s -> %s, rss %s -> %s kB, fds %s -> %s"
          % (r0["heap"], h, r0["mbufs"], m, r0["ct"], c, r0["fdb"], f, r0["rss"], rss, r0["fds"], fds))

kinds = {}
details = {}
for line in open(results_f):
    f = line.rstrip("\n").split(" ", 3)
    if len(f) < 3:
        continue
    o = kinds.setdefault(f[1], [0, 0])
    o[0 if f[2] == "ok" else 1] += 1
    if f[2] != "ok":
        details.setdefault(f[1], []).append(f[3] if len(f) > 3 else "")
iperf = [float(l.split()[3]) for l in open(results_f) if l.split()[1:3] == ["iperf3", "ok"] and len(l.split()) > 3
         and l.split()[3].replace(".", "", 1).isdigit()]
print()
print("churn: %d cycles (network create, 2 x run -d, 2 x connect, 2 x disconnect, 2 x rm -f, network rm)" % cycles)
print("checks:")
for kind in sorted(kinds):
    ok, bad = kinds[kind]
    pct = 100.0 * bad / max(1, ok + bad)
    flag = pct > maxpct and bad > 1
    if flag:
        fails.append("%s %.1f%% failed" % (kind, pct))
    print("  %-11s %6d ok %4d failed (%.2f %%)%s" % (kind, ok, bad, pct, "  > %g %%" % maxpct if flag else ""))
    for d in details.get(kind, [])[:3]:
        print("      e.g. %s" % d)
if iperf:
    print("  iperf3 bursts: %d, %.0f-%.0f Mbit/s (median %.0f)" % (len(iperf), min(iperf), max(iperf), sorted(iperf)[len(iperf) // 2]))
for need in ("ping-c2c", "http-dnat", "masq-tcp", "masq-udp", "publish", "churn"):
    if need not in kinds and not died:
        fails.append("no %s check ran" % need)
if died:
    fails.append("dpnetd died or did not exit 0 on SIGTERM")
print("switch drops over the run (dpctl stats): %s" % drops)
print("daemon log: %s lines at WARNING or worse (%s)" % (logbad, logf))
print()
if fails:
    print("verdict: FAIL: " + ", ".join(fails))
    sys.exit(1)
print("verdict: flat (every metric within its tolerance), traffic checks within %g %%" % maxpct)
PYEOF
