#!/bin/bash
# perf/vxcycles.sh - A/B of perf/vxcycles (cycles per packet of L2, VXLAN encap
# and decap, the data plane alone) between builds, in interleaved rounds.
#
#   bash perf/vxcycles.sh BUILD_A [BUILD_B ...]
#
# Each BUILD is a meson build directory of dpnet with tests enabled (it holds
# perf/vxcycles). Every pass runs each build once (ROUNDS rounds of BURSTS bursts
# of 32 frames each, every case in every round), PASSES passes in all, so noise
# from the shared machine hits every build alike; each run holds the
# benchmark lock (/run/dpnet-bench.lock, as bench.sh) and is pinned to CPU
# $CPU. Compare the medians line by line; trust a difference that every pass shows.
set -euo pipefail
PASSES=${PASSES:-3} ROUNDS=${ROUNDS:-5} BURSTS=${BURSTS:-100000} CPU=${CPU:-1}
[ $# -ge 1 ] || { echo "usage: $0 BUILD_A [BUILD_B ...]" >&2; exit 2; }
for b in "$@"; do
	[ -x "$b/perf/vxcycles" ] || { echo "$b/perf/vxcycles: not built" >&2; exit 2; }
done
for p in $(seq 1 "$PASSES"); do
	for b in "$@"; do
		echo "== pass $p: $b"
		flock /run/dpnet-bench.lock taskset -c "$CPU" "$b/perf/vxcycles" "$ROUNDS" "$BURSTS"
	done
done
