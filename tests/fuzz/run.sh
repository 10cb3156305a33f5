#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer targets with clang in their own build
# directory and run each for a short while on its seed corpus; fails on any crash,
# sanitizer report, leak or timeout.
#
#   bash tests/fuzz/run.sh                 every target, FUZZ_SECONDS each (default 20)
#   bash tests/fuzz/run.sh nat ctl         only these (names without fuzz_)
#   FUZZ_SECONDS=3600 FUZZ_JOBS=2 bash tests/fuzz/run.sh nat   longer (README.md)
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz at the top of the checkout),
# FUZZ_SECONDS, FUZZ_JOBS (parallel fuzzing processes per target, default 1),
# FUZZ_OUT (where new corpus entries, crashes and logs go; default
# $FUZZ_BUILD_DIR/fuzz-out). The committed seeds in tests/fuzz/corpus/ are read,
# never written. Needs clang and libclang-rt-14-dev (libclang_rt.fuzzer).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-20}
JOBS=${FUZZ_JOBS:-1}
OUT=${FUZZ_OUT:-$BUILD/fuzz-out}
ALL=(parse bridge arp l3 nat offload vxlan neigh ctl config)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

command -v clang >/dev/null || { echo "fuzz: clang is not installed" >&2; exit 1; }
if [ -f "$BUILD/build.ninja" ]; then
	meson configure "$BUILD" -Dfuzz=true -Dtests=false >/dev/null
else
	CC=clang meson setup "$BUILD" "$ROOT" -Dfuzz=true -Dtests=false -Dwerror=true \
		>"$BUILD.setup.log" 2>&1 || { cat "$BUILD.setup.log" >&2; exit 1; }
fi
# Compiler errors go to stdout: keep them in a log and show it on failure.
ninja -C "$BUILD" "${TARGETS[@]/#/tests/fuzz/fuzz_}" >"$BUILD.ninja.log" 2>&1 ||
	{ tail -n 60 "$BUILD.ninja.log" >&2; echo "fuzz: building the targets failed" >&2; exit 1; }

# DPDK's memory is not malloc'd: LSan sees only the control code's own leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for t in "${TARGETS[@]}"; do
	bin=$BUILD/tests/fuzz/fuzz_$t
	seeds=$ROOT/tests/fuzz/corpus/$t
	work=$OUT/$t
	mkdir -p "$work/corpus" "$work/artifacts"
	log=$work/fuzz.log
	# Frames up to a jumbo's size plus record headers; requests and files up to 16 KB.
	maxlen=9300
	[ "$t" = config ] || [ "$t" = ctl ] && maxlen=16384
	opts=(-max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096
	      -max_len="$maxlen" -artifact_prefix="$work/artifacts/")
	if [ "$JOBS" -gt 1 ]; then
		opts+=(-jobs="$JOBS" -workers="$JOBS")
	fi
	start=$(date +%s)
	rc=0
	(cd "$work" && "$bin" "${opts[@]}" "$work/corpus" "$seeds") >"$log" 2>&1 || rc=$?
	# With -jobs the workers log to fuzz-N.log in the working directory.
	execs=$({ cat "$log"; cat "$work"/fuzz-*.log 2>/dev/null || true; } |
		awk '/stat::number_of_executed_units/ { s += $2 } END { print s + 0 }')
	cov=$(awk '/cov: [0-9]+/ { for (i = 1; i < NF; i++) if ($i == "cov:") c = $(i + 1) }
		END { print c }' "$log")
	printf 'fuzz_%-7s %4ss  %10s execs  cov %s  %s\n' "$t" "$(( $(date +%s) - start ))" \
		"$execs" "${cov:-?}" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (rc $rc, $log)")"
	if [ $rc -ne 0 ]; then
		failed+=("$t")
		grep -E 'ERROR|SUMMARY|runtime error|fuzz_[a-z_]*: |Test unit written' "$log" |
			head -n 20 >&2 || true
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]} (inputs in $OUT/<target>/artifacts/)" >&2
	exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets ok, ${SECONDS_EACH}s each"
