#!/usr/bin/env bash
# tests/run.sh - the whole suite: unit tests, register-map check, fuzz smoke
# runs, integration tests against the real binary and the simulator.
# Ends with the line "N passed, N failed".
#   BIN=build/san  binaries under test (bmsgw, bmsgw-sim, mbread, tests/test_*)
#   FUZZ=build/fuzz  libFuzzer targets (optional); FUZZ_SECONDS (default 6)
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-build}
FUZZ=${FUZZ:-}
FUZZ_SECONDS=${FUZZ_SECONDS:-6}
PY=/usr/bin/python3
passed=0
failed=0
failures=()
# every failed check, "step: FAIL ...", repeated at the end so that the last
# lines of a red run (all a CI page may show) say what failed
fails_log=$(mktemp)
trap 'rm -f "$fails_log"' EXIT

# add the "N passed, N failed" line of a step's output to the totals
tally() { # name logfile rc seconds
	local line p f
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		if [ "$3" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	else
		if [ "$3" = 0 ]; then p=1; f=0; else p=0; f=1; fi
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" != 0 ]; then failures+=("$1"); fi
	printf '%-40s %s passed, %s failed (%s s)\n' "$1" "$p" "$f" "${4:-?}"
}

step() { # name command...
	local name=$1 log rc
	shift
	log=$(mktemp)
	t0=$SECONDS
	"$@" >"$log" 2>&1
	rc=$?
	report "$name" "$log" "$rc" "$((SECONDS - t0))"
}

report() { # name logfile rc seconds: tally, show what failed, remove the log
	local name=$1 log=$2 rc=$3
	tally "$name" "$log" "$rc" "$4"
	grep '^FAIL' "$log" | cut -c1-200 | sed "s|^|$name: |" >>"$fails_log"
	if [ "$rc" != 0 ]; then
		echo "---- $name (exit $rc) ----"
		if grep -q '^FAIL' "$log"; then
			grep -B2 -A3 '^FAIL' "$log" | head -n 60
			echo "---- $name: the last lines ----"
		fi
		tail -n 40 "$log"
		echo "----"
	elif grep -q '^FAIL' "$log"; then
		echo "---- $name: failed checks ----"
		grep -A3 '^FAIL' "$log" | head -n 40
		echo "----"
	fi
	rm -f "$log"
}

echo "== unit tests ($BIN)"
for t in "$BIN"/tests/test_*; do
	[ -x "$t" ] || continue
	step "unit $(basename "$t")" "$t"
done

echo "== register map"
step "register-map.md up to date" bash -c "'$BIN/bmsgw' --register-map | diff -u register-map.md -"

echo "== the rooms of gateway/"
step "layering (no call up, none between outputs)" "$PY" tests/tools/layers.py "$BIN"
step "functions fit a screen (gateway/, conf/)" "$PY" tests/tools/funclen.py

if [ -n "$FUZZ" ] && [ -d "$FUZZ" ]; then
	# one target per core at a time (they are independent), reported in order
	jobs_max=$(nproc 2>/dev/null || echo 2)
	echo "== fuzz smoke runs (${FUZZ_SECONDS}s each, $jobs_max at a time)"
	fuzz_dir=$(mktemp -d)
	names=()
	for f in "$FUZZ"/fuzz_*; do
		[ -x "$f" ] || continue
		n=$(basename "$f")
		names+=("$n")
		corpus=tests/fuzz/corpus/${n#fuzz_}
		mkdir "$fuzz_dir/$n.work"
		[ -d "$corpus" ] && cp -r "$corpus"/. "$fuzz_dir/$n.work"/
		(
			t0=$SECONDS
			"$f" -max_total_time="$FUZZ_SECONDS" -timeout=5 -rss_limit_mb=2048 "$fuzz_dir/$n.work" \
				>"$fuzz_dir/$n.log" 2>&1
			echo "$? $((SECONDS - t0))" >"$fuzz_dir/$n.rc"
		) &
		while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
	done
	wait
	for n in "${names[@]}"; do
		read -r rc secs <"$fuzz_dir/$n.rc" || { rc=1; secs=?; }
		report "fuzz $n" "$fuzz_dir/$n.log" "$rc" "$secs"
	done
	rm -rf "$fuzz_dir"
fi

echo "== simulator self-test"
step "simulator selftest" "$PY" tests/sim/selftest.py "$BIN/bmsgw-sim"

echo "== integration tests"
for t in tests/integration/test_*.py; do
	[ -f "$t" ] || continue
	step "integration $(basename "$t" .py)" env BIN="$BIN" "$PY" "$t"
done
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	step "integration $(basename "$t" .sh)" env BIN="$BIN" bash "$t"
done

if [ -s "$fails_log" ]; then
	echo "failed checks ($(wc -l <"$fails_log")):"
	head -n 15 "$fails_log"
fi
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed steps: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
