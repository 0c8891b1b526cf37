#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/run.sh - the whole suite: unit tests, register-map check, the rooms'
# checks, the documents' links, fuzz smoke runs, the simulator's self-test
# and the integration tests against the real binary and the simulator.
#
#   tests/run.sh [PATTERN...]   only the steps whose name matches one of the
#                               patterns (extended regular expressions), e.g.
#                               tests/run.sh test_brands 'unit test_conf'
#   tests/run.sh --list [PATTERN...]   the steps, each with what its file says
#                               it proves (tests/tools/about.py), run nothing
#   BIN=build/san     binaries under test (bmsgw, bmsgw-sim, mbread, tests/test_*)
#   FUZZ=build/fuzz   libFuzzer targets (optional); FUZZ_SECONDS (default 6)
#   JOBS=N            steps at a time (default 8 per core)
#   FUZZ_LANES=N      fuzz targets at a time (default one per core and one)
#   NORMAL_BUILD=CMD  the normal build and the one without libsystemd, made
#                     by the run's first step (the steps of the sanitizer
#                     build start beside it); the scripts marked
#                     build=normal start once it has passed (`make test`
#                     makes it before the run: beside 15 steps it was slow)
#
# The steps run side by side, JOBS at a time, the longest first (their times
# of the last run are kept in $BIN/test-times, those of a whole run in
# tests/step-times for a fresh checkout, when each ran in
# $BIN/test-timeline).  Steps that only compute
# (fuzzing, the checks of the sources, the package) run under nice, so that
# they do not take the CPU from the gateways whose answers other steps time,
# beside the JOBS others: the steps at 5 one per core at a time, the fuzz
# targets at 10 FUZZ_LANES at a time (two lanes, so that neither waits for
# the other while a core is idle; a fuzz target runs for FUZZ_SECONDS of
# wall time whatever CPU it gets, so that the fuzz lane takes as long on a
# busy machine: one more than the cores ends it with the other steps).  Every integration script takes
# its own free ports and temporary directories; in a line "# run.sh: ..." a
# script that shares something else with another names it (uses=NAME[,NAME]:
# two steps that use one NAME never run at once), one that only computes
# says nice=5 (the fuzz targets run at 10), one that runs build/bmsgw or
# build/nosystemd/bmsgw (the normal builds) says build=normal, and a slow
# one is split in N steps with parts=N, each run with PART=i/N
# (harness.my_part() says which work is whose).
#
# Each step's report is one block, in the order of the list below whatever
# the order they finish in; a failed step shows its failed checks and last
# lines, and its whole output is kept in $BIN/test-logs/.  The run ends with
# the failed checks (step: FAIL ...), the 10 slowest steps (with the CPU
# time of their processes), the wall time, and the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-build}
FUZZ=${FUZZ:-}
FUZZ_SECONDS=${FUZZ_SECONDS:-6}
PY=/usr/bin/python3
CORES=$(nproc 2>/dev/null || echo 2)
JOBS=${JOBS:-$((8 * CORES))}
FUZZ_LANES=${FUZZ_LANES:-$((CORES + 1))}
LIST=0
if [ "${1:-}" = --list ]; then LIST=1; shift; fi
PATTERNS=("$@")
T_START=$EPOCHREALTIME
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ------------------------------------------------------------------ the steps
# step i: its section, name, resources (NAME or NAME*capacity), niceness,
# the default rank (higher starts first when there is no time of the last
# run) and the command (a quoted string, run by bash in a subshell)
S_SECT=() S_NAME=() S_USES=() S_NICE=() S_RANK=() S_CMD=() S_FILE=() S_AFTER=()
SRC= # the file the next add()'s step comes from (--list shows what it proves)
AFTER= # the step the next add()'s step waits for (its index; empty: none)

selected() { # name: matches one of PATTERNS (all without)
	local p
	[ ${#PATTERNS[@]} = 0 ] && return 0
	for p in "${PATTERNS[@]}"; do
		[[ $1 =~ $p ]] && return 0
	done
	return 1
}

add() { # section name uses nice rank command...
	local sect=$1 name=$2 uses=$3 nice=$4 rank=$5
	shift 5
	selected "$name" || return 0
	# a niced step runs beside JOBS others, among the steps of its
	# niceness: FUZZ_LANES fuzz targets (at 10), one other per core (at 5)
	if [ "${nice:-0}" = 10 ]; then uses=${uses:+$uses,}nice10*$FUZZ_LANES
	elif [ "${nice:-0}" != 0 ]; then uses=${uses:+$uses,}nice$nice*$CORES; fi
	S_SECT+=("$sect") S_NAME+=("$name") S_USES+=("$uses") S_NICE+=("${nice:-0}") S_RANK+=("$rank")
	S_FILE+=("$SRC") S_AFTER+=("$AFTER")
	local cmd
	printf -v cmd '%q ' "$@"
	S_CMD+=("$cmd")
}

# KEY of a script's line "# run.sh: KEY=VALUE ..." in M_KEY (empty without)
marker() { # line key
	M_KEY=
	if [[ $1 =~ [[:space:]]$2=([^[:space:]]+) ]]; then M_KEY=${BASH_REMATCH[1]}; fi
}

# one fuzz target for FUZZ_SECONDS on a copy of its corpus (or of DIR); a
# driver's generic target without a corpus (tests/fuzz/generic_driver.c)
# starts from seeds made of its protocol's fixtures
fuzz_one() { # target [DIR]
	local n corpus dir
	n=$(basename "$1")
	corpus=${2:-tests/fuzz/corpus/${n#fuzz_}}
	dir=$(mktemp -d "$work/$n.XXXXXX")
	if [ -d "$corpus" ]; then
		cp -r "$corpus"/. "$dir"/
	elif [ ! -f "tests/fuzz/$n.c" ] && [ -z "${2:-}" ]; then
		BIN=$BIN "$PY" tests/tools/fixtures.py seeds "${n#fuzz_}" "$dir" || return 1
	fi
	# a crash's input goes to $BIN/fuzz-crashes/, not into the working tree
	mkdir -p "$BIN/fuzz-crashes"
	"$1" -max_total_time="$FUZZ_SECONDS" -timeout=5 -rss_limit_mb=2048 \
		-artifact_prefix="$BIN/fuzz-crashes/$n-" "$dir"
}

# Undefined behaviour ends a fuzz run, failed, its input kept: ubprobe
# (tests/fuzz/ubprobe.c), built as the targets are, run as fuzz_one runs
# them on an input that loads 66 as a bool.  A build without
# -fno-sanitize-recover=undefined prints the report and exits 0.
fuzz_ub_ends_run() { # ubprobe
	local seeds log rc
	seeds=$(mktemp -d "$work/ubprobe-seeds.XXXXXX")
	log=$work/ubprobe.log
	printf 'B' >"$seeds/bool66"
	rm -f "$BIN/fuzz-crashes/ubprobe-"*
	fuzz_one "$1" "$seeds" >"$log" 2>&1
	rc=$?
	cat "$log"
	if [ "$rc" = 0 ]; then
		echo "FAIL: a run with undefined behaviour exited 0 (-fno-sanitize-recover=undefined missing?)"
		return 1
	fi
	if ! grep -Eq "runtime error: load of value 66, which is not a valid value for type '(_Bool|bool)'" "$log"; then
		echo "FAIL: exit $rc, but not on UBSan's report of the bool"
		return 1
	fi
	if ! ls "$BIN/fuzz-crashes/ubprobe-"* >/dev/null 2>&1; then
		echo "FAIL: the input was not kept in $BIN/fuzz-crashes/"
		return 1
	fi
	rm -f "$BIN/fuzz-crashes/ubprobe-"*
	echo "ok: undefined behaviour ended the run (exit $rc) with UBSan's report, its input kept"
}

# the normal builds, beside the steps that need only $BIN (always, whatever
# the patterns: `make test T=...` makes every build), not niced: the steps
# that wait for it are not to wait for every other step's CPU
NORMAL_STEP=
if [ -n "${NORMAL_BUILD:-}" ]; then
	PATTERNS_ALL=("${PATTERNS[@]}") PATTERNS=()
	SRC=Makefile
	add "the builds" "the normal build and the one without libsystemd" "" 0 1000 bash -c "$NORMAL_BUILD"
	NORMAL_STEP=$((${#S_NAME[@]} - 1))
	PATTERNS=("${PATTERNS_ALL[@]}")
fi

for t in "$BIN"/tests/test_*; do
	[ -x "$t" ] || continue
	SRC=tests/unit/$(basename "$t").c
	add "unit tests ($BIN)" "unit $(basename "$t")" "" 0 2 "$t"
done
SRC=registers/regmap.c
add "register map" "register-map.md up to date" "" 0 1 \
	bash -c "'$BIN/bmsgw' --register-map | diff -u register-map.md -"
SRC=tests/tools/layers.py
add "the rooms of gateway/" "layering (no call up, none between outputs)" "" 5 3 "$PY" tests/tools/layers.py "$BIN"
add "the rooms of gateway/" "the layering check finds the knots it is made to find" "" 5 1 "$PY" tests/tools/layers.py --self-test
SRC=tests/tools/funclen.py
add "the rooms of gateway/" "functions fit a screen (gateway/, conf/)" "" 5 1 "$PY" tests/tools/funclen.py
SRC=tests/tools/links.py
add "the documents" "links and man page references lead somewhere" "" 5 1 "$PY" tests/tools/links.py
if [ -n "$FUZZ" ] && [ -d "$FUZZ" ]; then
	for f in "$FUZZ"/fuzz_*; do
		[ -x "$f" ] || continue
		SRC=tests/fuzz/$(basename "$f").c
		[ -f "$SRC" ] || SRC=tests/fuzz/generic_driver.c
		add "fuzz smoke runs (${FUZZ_SECONDS}s each, $FUZZ_LANES at a time)" "fuzz $(basename "$f")" \
			"" 10 5 fuzz_one "$f"
	done
	SRC=tests/fuzz/ubprobe.c
	add "fuzz smoke runs (${FUZZ_SECONDS}s each, $FUZZ_LANES at a time)" "fuzz: undefined behaviour ends the run" \
		"" 10 5 fuzz_ub_ends_run "$FUZZ/ubprobe"
fi

# a script, or its N parts
add_script() { # section name-prefix file command...
	local sect=$1 name=$2 file=$3 line parts uses nice build i
	shift 3
	SRC=$file
	line=$(grep -m 1 '^# run\.sh:' "$file")
	marker "$line" parts && parts=$M_KEY
	marker "$line" uses && uses=$M_KEY
	marker "$line" nice && nice=$M_KEY
	marker "$line" build && build=$M_KEY
	AFTER=
	if [ "$build" = normal ]; then AFTER=$NORMAL_STEP; fi
	if [ -z "$parts" ] || [ "$parts" -le 1 ]; then
		add "$sect" "$name" "$uses" "$nice" 20 env BIN="$BIN" "$@"
		return
	fi
	for ((i = 1; i <= parts; i++)); do
		add "$sect" "$name $i/$parts" "$uses" "$nice" 20 env BIN="$BIN" PART="$i/$parts" "$@"
	done
}
AFTER=
add_script "simulator self-test" "simulator selftest" tests/sim/selftest.py \
	"$PY" tests/sim/selftest.py "$BIN/bmsgw-sim"
for t in tests/integration/test_*.py tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	case $t in
	*.py) add_script "integration tests" "integration $(basename "$t" .py)" "$t" "$PY" "$t" ;;
	*.sh) add_script "integration tests" "integration $(basename "$t" .sh)" "$t" bash "$t" ;;
	esac
done
AFTER=

N=${#S_NAME[@]}
if [ "$N" = 0 ]; then
	echo "no step matches: ${PATTERNS[*]}" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

if [ "$LIST" = 1 ]; then
	declare -A ABOUT=()
	while IFS=$'\t' read -r f a; do ABOUT[$f]=$a; done < <("$PY" tests/tools/about.py $(printf '%s\n' "${S_FILE[@]}" | sort -u))
	for ((i = 0; i < N; i++)); do
		if [ "$i" = 0 ] || [ "${S_SECT[i]}" != "${S_SECT[i - 1]}" ]; then printf '\n%s\n' "${S_SECT[i]}"; fi
		printf '  %-44s %s\n' "${S_NAME[i]}" "${ABOUT[${S_FILE[i]}]:-}"
	done
	exit 0
fi

# ------------------------------------------------------------------ the order
# the longest first: the times of the last run, else the default ranks
TIMES=$BIN/test-times
declare -A LAST=()
# a fresh checkout has no times of its own: tests/step-times holds those of
# a whole run (wall seconds, name), so that the long steps start first
# there too (a step missing from both starts by its default rank)
for f in tests/step-times "$TIMES"; do
	[ -r "$f" ] || continue
	while IFS=$'\t' read -r secs name; do LAST[$name]=$secs; done <"$f"
done
ORDER=()
while read -r _ i; do ORDER+=("$i"); done < <(
	for ((i = 0; i < N; i++)); do
		w=${LAST[${S_NAME[i]}]:-}
		[ -n "$w" ] || w=${S_RANK[i]}
		[ "$i" != "$NORMAL_STEP" ] || w=100000 # others wait for it: first
		printf '%s %s\n' "$w" "$i"
	done | sort -s -k1,1nr)

# ------------------------------------------------------------------ running
declare -A HELD=()
fits() { # step: the step it waits for has ended, its resources are free
	local u name cap
	[ -z "${S_AFTER[$1]}" ] || [ -e "$work/${S_AFTER[$1]}.rc" ] || return 1
	for u in ${S_USES[$1]//,/ }; do
		name=${u%\**} cap=1
		[ "$name" != "$u" ] && cap=${u#*\*}
		[ "${HELD[$name]:-0}" -lt "$cap" ] || return 1
	done
	return 0
}
hold() { # step +1|-1
	local u
	for u in ${S_USES[$1]//,/ }; do
		u=${u%\**}
		HELD[$u]=$((${HELD[$u]:-0} + $2))
	done
}
start() { # step
	(
		[ "${S_NICE[$1]}" = 0 ] || renice -n "${S_NICE[$1]}" -p "$BASHPID" >/dev/null
		t0=$EPOCHREALTIME
		if [ -n "${S_AFTER[$1]}" ] && [ "$(cut -d' ' -f1 "$work/${S_AFTER[$1]}.rc")" != 0 ]; then
			echo "FAIL: not run: the step it needs failed (${S_NAME[${S_AFTER[$1]}]})" >"$work/$1.log"
			rc=1
		else
			eval "${S_CMD[$1]}" >"$work/$1.log" 2>&1 </dev/null
			rc=$?
		fi
		t1=$EPOCHREALTIME
		# the CPU time of the step's processes (the second line of times,
		# which a pipe or $(...) would run in a subshell of its own)
		times >"$work/$1.times"
		cpu=$(awk 'NR == 2 { gsub(/[ms]/, " "); printf "%.1f", $1 * 60 + $2 + $3 * 60 + $4 }' "$work/$1.times")
		echo "$rc $t0 $t1 ${cpu:-?}" >"$work/$1.tmp"
		mv "$work/$1.tmp" "$work/$1.rc"
	) &
}

passed=0
failed=0
failures=()
fails_log=$work/fails
: >"$fails_log"
STEP_SECS=() STEP_CPU=() STEP_FROM=()

# add the "N passed, N failed" line of a step's output to the totals
tally() { # name logfile rc seconds cpu-seconds
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
	printf '%-40s %s passed, %s failed (%s s, CPU %s s)\n' "$1" "$p" "$f" "$4" "$5"
}

# the whole output of each failed step is kept there
LOGS=$BIN/test-logs
rm -rf "$LOGS"

report() { # name logfile rc seconds cpu-seconds: tally, show what failed
	local name=$1 log=$2 rc=$3 keep
	tally "$name" "$log" "$rc" "$4" "$5"
	grep '^FAIL' "$log" | cut -c1-200 | sed "s|^|$name: |" >>"$fails_log"
	if [ "$rc" != 0 ] || grep -q '^FAIL' "$log"; then
		keep=$LOGS/${name//[^A-Za-z0-9_.-]/_}.log
		mkdir -p "$LOGS" && cp "$log" "$keep" && echo "---- $name: its whole output is in $keep"
	fi
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
}

# TENTHS: tenths of a second from $EPOCHREALTIME $1 to $2
tenths() {
	local a=${1/./} b=${2/./}
	TENTHS=$(((10#$b - 10#$a + 50000) / 100000))
}

section=""
reported=0
report_ready() { # the finished steps at the head of the list, in its order
	local rc t0 t1 cpu secs
	while [ "$reported" -lt "$N" ] && [ -e "$work/$reported.rc" ]; do
		read -r rc t0 t1 cpu <"$work/$reported.rc"
		STEP_CPU[reported]=$cpu
		tenths "$T_START" "$t0"
		STEP_FROM[reported]=$((TENTHS / 10)).$((TENTHS % 10))
		tenths "$t0" "$t1"
		secs=$(((TENTHS + 5) / 10))
		STEP_SECS[reported]=$((TENTHS / 10)).$((TENTHS % 10))
		if [ "${S_SECT[reported]}" != "$section" ]; then
			section=${S_SECT[reported]}
			echo "== $section"
		fi
		report "${S_NAME[reported]}" "$work/$reported.log" "$rc" "$secs" "$cpu"
		rm -f "$work/$reported.log"
		reported=$((reported + 1))
	done
}

running=0
declare -A ACTIVE=()
pending=("${ORDER[@]}")
while [ "$reported" -lt "$N" ]; do
	# start what fits, the longest first
	# (the niced steps take no place of JOBS: their lanes, FUZZ_LANES and one per core)
	for k in "${!pending[@]}"; do
		i=${pending[k]}
		[ "${S_NICE[i]}" != 0 ] || [ "$running" -lt "$JOBS" ] || continue
		fits "$i" || continue
		hold "$i" 1
		start "$i"
		ACTIVE[$i]=1
		unset 'pending[k]'
		[ "${S_NICE[i]}" != 0 ] || running=$((running + 1))
	done
	# wait for one to end (unless one already has)
	done_one=""
	for i in "${!ACTIVE[@]}"; do [ -e "$work/$i.rc" ] && done_one=1 && break; done
	[ -n "$done_one" ] || wait -n
	for i in "${!ACTIVE[@]}"; do
		if [ -e "$work/$i.rc" ]; then
			unset 'ACTIVE[$i]'
			hold "$i" -1
			[ "${S_NICE[i]}" != 0 ] || running=$((running - 1))
		fi
	done
	report_ready
done
wait

# ------------------------------------------------------------------ the end
if [ -z "${PATTERNS[*]}" ] || [ ! -e "$TIMES" ]; then
	for ((i = 0; i < N; i++)); do printf '%s\t%s\n' "${STEP_SECS[i]}" "${S_NAME[i]}"; done >"$TIMES" 2>/dev/null
else # a partial run: keep the others' times
	{
		for ((i = 0; i < N; i++)); do printf '%s\t%s\n' "${STEP_SECS[i]}" "${S_NAME[i]}"; done
		for name in "${!LAST[@]}"; do printf '%s\t%s\n' "${LAST[$name]}" "$name"; done
	} | sort -t $'\t' -k2,2 -u -s >"$work/times" && cp "$work/times" "$TIMES" 2>/dev/null
fi
# when each step ran (seconds from the start: start, wall, CPU, name), for
# finding what the run's end waited for
for ((i = 0; i < N; i++)); do
	printf '%s\t%s\t%s\t%s\n' "${STEP_FROM[i]}" "${STEP_SECS[i]}" "${STEP_CPU[i]}" "${S_NAME[i]}"
done | sort -n >"$BIN/test-timeline" 2>/dev/null
if [ -s "$fails_log" ]; then
	echo "failed checks ($(wc -l <"$fails_log")):"
	head -n 15 "$fails_log"
fi
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed steps: ${failures[*]}"
fi
echo "the 10 slowest steps (wall, CPU):"
for ((i = 0; i < N; i++)); do
	printf '%8s s %7s s  %s\n' "${STEP_SECS[i]}" "${STEP_CPU[i]}" "${S_NAME[i]}"
done | sort -k1,1nr | head -n 10
tenths "$T_START" "$EPOCHREALTIME"
wall=$(((TENTHS + 5) / 10))
cpu_all=$(printf '%s\n' "${STEP_CPU[@]}" | awk '{ s += $1 } END { printf "%d", s + 0.5 }')
printf 'wall time: %d:%02d (%d s; %d steps, %d at a time on %d cores; CPU %d s)\n' $((wall / 60)) $((wall % 60)) \
	"$wall" "$N" "$JOBS" "$CORES" "$cpu_all"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
