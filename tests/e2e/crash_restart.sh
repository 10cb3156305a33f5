#!/usr/bin/env bash
# crash_restart: kill -9 during a burst of configuration changes (issue 8,
# item 5). Five trials; in each, crash_restart.py makes random valid changes
# one at a time through dpctl - network create/rm, run (with -p) / rm -f,
# connect/disconnect, route add/rm, mac add/rm - writing each to a journal
# (fsync'ed) before it is sent and when it is acknowledged (dpctl exit 0);
# the daemon is killed with SIGKILL at a random moment (1-4 s in) and
# started again on the same state directory. Then:
#  - state.json parses (no half-written file) and no temporary file is left;
#  - the daemon's networks, containers (their networks and published ports),
#    static routes and static MACs are exactly the acknowledged changes, plus
#    or minus the one change in flight when it died;
#  - every container's address in its namespace is the one `dpctl ps` shows;
# and at the end a published port of a surviving container answers (hairpin
# through the gateway, from a probe container that lives through every trial).
. "$(dirname "$0")/lib.sh"

need_cmd ss
allow_log 'WARNING: .*request refused'

CP=$E2E_SRC/crash_restart.py
PFX=k$E2E_ID
JOURNAL=$E2E_TMP/journal
PROBE=p$E2E_ID
TRIALS=${CRASH_TRIALS:-5}
export DPCTL CHURN_PREFIX=$PFX
nat_peer_write
# every name the churn may give a container (c1..c6 at most at once, reused)
for i in $(seq 1 13); do track_ctr "${PFX}c$i"; done

start_daemon
ctr_run "$PROBE" >/dev/null
PROBE_PORT=$(ctr_get "$PROBE" "c['networks'][0]['port']")

# addresses_match: each container's eth0.. in its namespace has the address
# dpctl ps gives it on that network.
addresses_match() {
	dpctl ps --json | "$PY" -c '
import json, subprocess, sys
bad = 0
for c in json.load(sys.stdin):
    for f in c.get("networks") or []:
        out = subprocess.run(["ip", "-n", "dpnet-" + c["name"], "-4", "-o", "addr", "show",
                              "dev", f["interface"]], capture_output=True, text=True).stdout
        want = "%s/%d" % (f["ip"], f["prefix_len"])
        if " %s " % want not in out:
            bad += 1
            print("%s %s: ps says %s, the namespace has: %s" % (c["name"], f["interface"], want, out.strip() or "nothing"))
sys.exit(1 if bad else 0)
'
}

# state_file_ok WHEN [started]: state.json parses; once the daemon has
# started again, the temporary file of a save it interrupted is gone.
state_file_ok() {
	"$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$E2E_STATE/state.json" ||
		fail "$1: $E2E_STATE/state.json does not parse"
	if [ "${2:-}" = started ] && [ -e "$E2E_STATE/.state.json.tmp" ]; then
		fail "$1: $E2E_STATE/.state.json.tmp left after the restart"
	fi
}

for t in $(seq 1 "$TRIALS"); do
	"$PY" "$CP" churn "$JOURNAL" "$PFX" "$PROBE_PORT" "$RANDOM" >"$E2E_TMP/churn.$t" 2>&1 &
	CHURN=$!
	E2E_PIDS+=("$CHURN")
	sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
	wait_until 30 sh -c "! kill -0 $CHURN" || fail "trial $t: the churn did not stop within 30 s of the kill"
	wait "$CHURN"
	rm -f "$E2E_SOCK"
	state_file_ok "trial $t (before the restart)"
	start_daemon
	state_file_ok "trial $t (after the restart)" started
	out=$("$PY" "$CP" check "$JOURNAL" "$PFX" 2>&1) || {
		cat "$E2E_TMP/churn.$t"
		printf '%s\n' "$out"
		fail "trial $t: the state after kill -9 is not the last acknowledged change"
	}
	err=$(addresses_match) || fail "trial $t: addresses in namespaces differ from dpctl ps: $err"
	ctr_remember
	orphans=$(for i in $(seq 1 12); do n=$(cns "${PFX}c$i"); [ -e "/run/netns/$n" ] && ! ctr_listed "${PFX}c$i" && echo "$n"; done)
	[ -z "$orphans" ] || log "trial $t: namespaces of runs cut by the kill, not in the state: $orphans"
	ok "trial $t: $(cat "$E2E_TMP/churn.$t"), kill -9, restart: $out; addresses in the namespaces = ps"
done

# A published port of a container that lived through the kills still works.
pub=$(dpctl ps --json | json "next(('%s %d' % (c['name'], c['published'][0]['host_port']) for c in d if c['name'].startswith('$PFX') and c['published']), '')")
if [ -z "$pub" ]; then
	ctr_start "${PFX}c13" -p 18199:80 -- sleep 600
	pub="${PFX}c13 18199"
fi
read -r PC HP <<<"$pub"
spawn ip netns exec "$(cns "$PC")" "$PY" "$NAT_PY" serve-tcp 80
wait_listening "$(cns "$PC")" tcp 80
out=$(nsexec "$(cns "$PROBE")" "$PY" "$NAT_PY" tcp 172.17.0.1 "$HP" crash-survivor) ||
	fail "the published port $HP of $PC does not answer after the kills"
[[ "$out" == *" crash-survivor" ]] || fail "published port answer: $out"
ok "published port $HP of $PC, made before a kill -9, answers through 172.17.0.1:$HP"
stop_daemon TERM
