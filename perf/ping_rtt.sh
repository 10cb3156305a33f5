#!/usr/bin/env bash
# perf/ping_rtt.sh [COUNT] - ping RTT container to container (issue 7: "no worse
# than the kernel bridge"), each contender back to back in one run:
#
#   kernel bridge   two namespaces on veth pairs into a Linux bridge in a third
#                   namespace, the kernel's default offloads (as perf/attach.sh)
#   dpnet adaptive  two `dpctl run -d` containers (the default attachment, vtap)
#                   on a dpnetd with conf/no-ports.yaml: adaptive polling, the
#                   worker blocks on the TAPs' interrupts when idle
#   dpnet busy      the same with `poll: {mode: busy}` (the worker never sleeps)
#
# Two patterns from container A to container B, after a warm-up (wait_ping and
# 10 quick pings):
#   back-to-back  COUNT (default 200) pings, -i 0.01: a steady stream (the
#                 kernel's caches and the CPUs warm)
#   after idle    20 pings, -i 0.3, after 1 s of silence: in adaptive mode each
#                 echo request finds the worker asleep
# In adaptive mode the worker blocks after 64 empty polls (microseconds), so
# even 10 ms between pings finds it asleep: the `sleeps` column (its idle
# sleeps over the series, `dpctl stats --perf`) shows it, one or more a ping.
# Reported: ping's min/avg/max/mdev and loss, the median of the replies' times
# (the shared machine's outliers move the avg), and dpnet's avg and median over
# the kernel bridge's for each pattern (< 1: faster than the bridge).
#
# dpnetd runs with --no-huge (HUGE=1: 2 MB pages, perf/lib.sh), EAL lcores 0,1
# (one worker on CPU 1), as perf/attach.sh; ping is not pinned. Holds the
# benchmark lock; every namespace, container, process and EAL prefix is the
# script's own and goes at exit, also on failure or ^C.
#
# Environment: DPNETD, DPCTL or DPNET_BUILD_DIR (default: build/, then PATH).
# Writes perf/results/ping_rtt-<time>.json and prints a table. Needs root.
set -euo pipefail

COUNT=${1:-200}
IDLE_COUNT=20
BENCH_NAME=ping_rtt.sh
# shellcheck source=perf/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_tools

case $COUNT in
'' | *[!0-9]*) bench_die "COUNT must be a number of pings (1-100000)" ;;
esac
if [ "$COUNT" -lt 1 ] || [ "$COUNT" -gt 100000 ]; then bench_die "COUNT must be 1-100000"; fi
[ "$(id -u)" -eq 0 ] || bench_die "run as root"
for c in ping ip flock timeout; do
	command -v $c >/dev/null || bench_die "needs $c"
done
if [ ! -x "$DPNETD" ] || [ ! -x "$DPCTL" ]; then
	bench_die "dpnetd/dpctl not found (build, or set DPNET_BUILD_DIR)"
fi
bench_lock   # one benchmark at a time (perf/lib.sh)

ID=$(od -An -N2 -tx2 /dev/urandom | tr -dc '0-9a-f')
TMP=$(mktemp -d /tmp/dpnet-ping.XXXXXX)
SOCK="$TMP/dpnet.sock"
PREFIX="dpping-$ID"
RES="$TMP/results.tsv"
NSS=() CTRS=()
DPID=""

dctl() { "$DPCTL" --socket "$SOCK" "$@"; }
cleanup() {
	local c n
	set +e
	if [ -n "$DPID" ]; then
		for c in "${CTRS[@]}"; do dctl rm -f "$c" >/dev/null 2>&1; done
		bench_kill "$DPID"
	fi
	# A container's namespace outlives a daemon killed before its rm.
	for c in "${CTRS[@]}"; do ip netns del "dpnet-$c" 2>/dev/null; done
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "/var/run/dpdk/$PREFIX"-*
	bench_eal_undo
	if [ "${PING_KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_eal "$TMP"

# The workers' idle sleeps, those blocked on interrupts, packets received and
# busy cycles, summed (dpctl stats --perf), tab-separated; "- - - -" without
# a daemon.
SNAP=0
dp_snap() {
	local js
	if [ "$SNAP" = 0 ]; then printf -- '-\t-\t-\t-\n'; return; fi
	js=$(dctl --json stats --perf 2>&1) || bench_die "dpnetd does not answer: $js"
	$PY -c 'import json, sys
w = json.load(sys.stdin)["workers"]
print("\t".join(str(sum(x[k] for x in w)) for k in ("sleeps", "intr_sleeps", "rx_pkts", "busy_cycles")))' <<<"$js"
}

# pingrun CONTENDER PATTERN NS IP N INTERVAL: one ping series, its summary
# appended to $RES (contender pattern n interval sent received min avg max mdev
# median, then dp_snap before and after).
pingrun() {
	local who=$1 pat=$2 ns=$3 ip=$4 n=$5 iv=$6 out sent recv rtt med s0 s1
	s0=$(dp_snap)
	out=$(ip netns exec "$ns" timeout "$(awk -v n="$n" -v i="$iv" 'BEGIN { printf "%d", n * i + 15 }')" \
		ping -n -c "$n" -i "$iv" -W 1 "$ip" 2>&1 || true)
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$out")
	recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
	rtt=$(sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\) ms$|\1 \2 \3 \4|p' <<<"$out")
	if [ -z "$rtt" ] || [ -z "$sent" ] || [ -z "$recv" ]; then
		echo "$out" >&2
		bench_die "$who $pat: no RTT summary from ping"
	fi
	s1=$(dp_snap)
	med=$(sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' <<<"$out" | median)
	[ "$recv" -eq "$sent" ] || echo "$BENCH_NAME: warning: $who $pat: $recv of $sent answered" >&2
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$who" "$pat" "$n" "$iv" "$sent" "$recv" \
		"${rtt// /$'\t'}"$'\t'"$med" "$s0" "$s1" >>"$RES"
	printf '%-15s %-13s %5s pings -i %-4s min/avg/max/mdev %s ms, median %s ms\n' "$who" "$pat" "$n" \
		"$iv" "${rtt// //}" "$med"
}

# measure CONTENDER NS IP: warm-up, then both patterns.
measure() {
	wait_ping "$2" "$3" 20 || bench_die "$1: $2 cannot ping $3"
	ip netns exec "$2" timeout 15 ping -q -n -c 10 -i 0.01 -W 1 "$3" >/dev/null 2>&1 || true
	pingrun "$1" back-to-back "$2" "$3" "$COUNT" 0.01
	sleep 1
	pingrun "$1" after-idle "$2" "$3" "$IDLE_COUNT" 0.3
}

# ---------------------------------------------------------------- kernel bridge
K=pk$ID
kbridge "$K" 10.253.7
measure kernel-bridge "$K-a" 10.253.7.2
for n in "$K-a" "$K-b" "$K-br"; do ip netns del "$n"; done
NSS=()

# ---------------------------------------------------------------- dpnet
ctr_field() { # NAME FIELD: of its first network in `dpctl --json ps`
	dctl --json ps | $PY -c 'import json, sys
c = next(c for c in json.load(sys.stdin) if c["name"] == sys.argv[1])
print(c["networks"][0][sys.argv[2]])' "$1" "$2"
}
declare -A POLL ATTACH CONF
CONF[dpnet-adaptive]="$ROOT/conf/no-ports.yaml"
CONF[dpnet-busy]="$TMP/busy.yaml"
sed 's/^\(  mode:\) adaptive$/\1 busy/' "$ROOT/conf/no-ports.yaml" >"$TMP/busy.yaml"
grep -q '^  mode: busy$' "$TMP/busy.yaml" || bench_die "could not derive a busy config from conf/no-ports.yaml"

i=0
for who in dpnet-adaptive dpnet-busy; do
	i=$((i + 1))
	mode=${who#dpnet-}
	dp_start "$PREFIX-$i" "${CONF[$who]}" 512 "$SOCK" "$TMP/state-$i" "$TMP/dpnetd-$i.log"
	a="pr$ID-${i}a" b="pr$ID-${i}b"
	CTRS+=("$a" "$b")
	dctl run -d --name "$a" >/dev/null
	dctl run -d --name "$b" >/dev/null
	ATTACH[$who]=$(ctr_field "$a" attach)/$(ctr_field "$b" attach)
	[ "${ATTACH[$who]}" = vtap/vtap ] ||
		echo "$BENCH_NAME: warning: $who: containers attached as ${ATTACH[$who]}, not vtap" >&2
	# With the containers' queues: "adaptive (interrupt wake on 2/2 queues...".
	POLL[$who]=$(dctl status | sed -n 's/^poll mode: *//p')
	case ${POLL[$who]} in
	"$mode"*) ;;
	*) bench_die "$who: dpnetd says poll mode '${POLL[$who]}'" ;;
	esac
	TSC_HZ=$(dctl --json stats --perf | $PY -c 'import json, sys; print(json.load(sys.stdin)["tsc_hz"])')
	SNAP=1
	measure "$who" "dpnet-$a" "$(ctr_field "$b" ip)"
	SNAP=0
	dctl rm -f "$a" >/dev/null
	dctl rm -f "$b" >/dev/null
	CTRS=()
	dp_stop "$PREFIX-$i"
done

# ---------------------------------------------------------------- report
mkdir -p "$HERE/results"
OUT="$HERE/results/ping_rtt-$(date +%Y%m%d-%H%M%S).json"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] || COMMIT="$COMMIT-dirty"
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
$PY - "$RES" "$OUT" "$COMMIT" "$CPU" "$(nproc)" "$(uname -r)" "$MEMNOTE" "$NFCALL" \
	"${POLL[dpnet-adaptive]}" "${POLL[dpnet-busy]}" "${ATTACH[dpnet-adaptive]}" "${ATTACH[dpnet-busy]}" \
	"${EAL[*]} -m 512" "$TSC_HZ" <<'EOF'
import json, sys
res, out, commit, cpu, cores, kernel, mem, nf, poll_a, poll_b, att_a, att_b, eal, tsc = sys.argv[1:15]
fig = {}
for line in open(res):
    f = line.rstrip("\n").split("\t")
    who, pat, n, iv, sent, recv, mn, avg, mx, mdev = f[:10]
    fig.setdefault(who, {})[pat] = d = {
        "count": int(n), "interval_s": float(iv), "sent": int(sent), "received": int(recv),
        "min_ms": float(mn), "avg_ms": float(avg), "max_ms": float(mx), "mdev_ms": float(mdev),
        "median_ms": float(f[10])}
    if f[11] != "-":
        s0, s1 = [int(x) for x in f[11:15]], [int(x) for x in f[15:19]]
        dl = [b - a for a, b in zip(s0, s1)]
        d["worker"] = {"sleeps": dl[0], "intr_sleeps": dl[1], "rx_pkts": dl[2], "busy_cycles": dl[3],
                       "busy_cycles_per_pkt": round(dl[3] / dl[2]) if dl[2] else None}
pats = ("back-to-back", "after-idle")
ratio = lambda a, b: round(a / b, 3) if b > 0 else None
ratios = {"%s/kernel-bridge" % who: {p: ratio(fig[who][p]["avg_ms"], fig["kernel-bridge"][p]["avg_ms"])
                                      for p in pats}
          for who in ("dpnet-adaptive", "dpnet-busy")}
mratios = {"%s/kernel-bridge" % who: {p: ratio(fig[who][p]["median_ms"], fig["kernel-bridge"][p]["median_ms"])
                                       for p in pats}
           for who in ("dpnet-adaptive", "dpnet-busy")}
doc = {
    "what": "ping RTT container A -> container B (issue 7: no worse than the kernel bridge)",
    "commit": commit,
    "machine": {"cpu": cpu, "cores": int(cores), "kernel": kernel, "memory": mem},
    "counts": {"back-to-back": {"count": fig["kernel-bridge"]["back-to-back"]["count"], "interval_s": 0.01},
               "after-idle": {"count": fig["kernel-bridge"]["after-idle"]["count"], "interval_s": 0.3,
                              "silence_before_s": 1},
               "warmup": "wait_ping, then 10 pings -i 0.01"},
    "contenders": {
        "kernel-bridge": {"setup": "veth pairs on a Linux bridge in a third namespace, default offloads",
                          "bridge_nf_call_iptables": nf},
        "dpnet-adaptive": {"config": "conf/no-ports.yaml", "poll_mode": poll_a, "attach": att_a, "eal": eal},
        "dpnet-busy": {"config": "conf/no-ports.yaml with poll.mode busy", "poll_mode": poll_b,
                       "attach": att_b, "eal": eal}},
    "rtt": fig,
    "ratios_avg": ratios,
    "ratios_median": mratios,
    "tsc_hz": int(tsc),
}
json.dump(doc, open(out, "w"), indent=2)
print()
print("%-15s %-13s %5s %7s %7s %7s %7s %7s %4s %7s %7s %6s" %
      ("contender", "pattern", "pings", "min ms", "avg ms", "max ms", "mdev ms", "med ms", "loss",
       "avg/br", "med/br", "sleeps"))
for who in ("kernel-bridge", "dpnet-adaptive", "dpnet-busy"):
    for p in pats:
        f = fig[who][p]
        k = "%s/kernel-bridge" % who
        r, m = (1.0, 1.0) if who == "kernel-bridge" else (ratios[k][p], mratios[k][p])
        x = lambda v: "-" if v is None else "%.2fx" % v
        print("%-15s %-13s %5d %7.3f %7.3f %7.3f %7.3f %7.3f %4d %7s %7s %6s" %
              (who, p, f["count"], f["min_ms"], f["avg_ms"], f["max_ms"], f["mdev_ms"], f["median_ms"],
               f["sent"] - f["received"], x(r), x(m), f["worker"]["sleeps"] if "worker" in f else "-"))
print("avg/br, med/br: dpnet's avg, median over the kernel bridge's; sleeps: the dpnet worker's idle")
print("sleeps during the series (as many as pings or more: every ping found it asleep)")
print("dpnet poll mode: %s | %s; containers attached %s" % (poll_a, poll_b, att_a))
print("commit %s, %s, %s cores, kernel %s" % (commit, cpu, cores, kernel))
print("written: %s" % out)
EOF
