#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: the simulator (a Daly BMS behind a "TCP serial server" on
# 127.0.0.1:15020, a JBD BMS on 15022) plus the gateway on 127.0.0.1:1502
# with (a copy of) conf/demo.ini, its status page on http://127.0.0.1:8080/ and a
# private Mosquitto on 127.0.0.1:15024.  Once the JBD pack's settings are
# read, one of them (balance_start_v) is changed end to end over MQTT:
# the request, the outcome once the BMS confirmed it by read-back, and the
# gateway's log line old -> new.
#
# The ports move with BMSGW_DEMO_MODBUS_PORT (1502), BMSGW_DEMO_HTTP_PORT
# (8080), BMSGW_DEMO_MQTT_PORT (15024) and BMSGW_DEMO_SIM_PORT (15020: the
# Daly simulator; its control port the next one, the JBD's the two after).
# A port taken, or a part that does not start, ends the demo at once with
# a message that names it and exit status 1.  The state (the copy of the
# configuration, history, users file, the page's certificate, log) is in
# BMSGW_DEMO_STATE (build/demo-state), made afresh at each start, so that
# the Setup tab's first admin can be made again; BMSGW_DEMO_KEEP=1 keeps
# it (and the admin made, the page then on HTTPS).
# Ctrl-C stops them all.
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-build}
MODBUS_PORT=${BMSGW_DEMO_MODBUS_PORT:-1502}
HTTP_PORT=${BMSGW_DEMO_HTTP_PORT:-8080}
MQTT_PORT=${BMSGW_DEMO_MQTT_PORT:-15024}
SIM_PORT=${BMSGW_DEMO_SIM_PORT:-15020}
STATE=${BMSGW_DEMO_STATE:-$PWD/build/demo-state}
KEEP=${BMSGW_DEMO_KEEP:-0}

fail() {
	echo "make demo: $*" >&2
	exit 1
}

pids=()
stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
# Ctrl-C (or a kill) is the demo's normal end; anything else keeps its status
trap 'stop_all; trap - EXIT; exit 0' INT TERM
trap 'rc=$?; stop_all; exit $rc' EXIT

# ---- the ports: numbers, apart, free
for v in MODBUS_PORT HTTP_PORT MQTT_PORT SIM_PORT; do
	p=${!v}
	if ! [[ $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535 - 3)); then
		fail "BMSGW_DEMO_$v=$p is no port (1-65532)"
	fi
done
DALY_PORT=$SIM_PORT DALY_CTL=$((SIM_PORT + 1)) JBD_PORT=$((SIM_PORT + 2)) JBD_CTL=$((SIM_PORT + 3))
declare -A names=([MODBUS_PORT]="gateway's Modbus TCP port (BMSGW_DEMO_MODBUS_PORT)"
	[HTTP_PORT]="status page's port (BMSGW_DEMO_HTTP_PORT)" [MQTT_PORT]="Mosquitto's port (BMSGW_DEMO_MQTT_PORT)"
	[DALY_PORT]="Daly simulator's port (BMSGW_DEMO_SIM_PORT)"
	[DALY_CTL]="Daly simulator's control port (BMSGW_DEMO_SIM_PORT + 1)"
	[JBD_PORT]="JBD simulator's port (BMSGW_DEMO_SIM_PORT + 2)"
	[JBD_CTL]="JBD simulator's control port (BMSGW_DEMO_SIM_PORT + 3)")
declare -A seen=()
taken=
for v in MODBUS_PORT HTTP_PORT MQTT_PORT DALY_PORT DALY_CTL JBD_PORT JBD_CTL; do
	p=${!v}
	if [ -n "${seen[$p]:-}" ]; then
		fail "port $p is both the ${seen[$p]} and the ${names[$v]}: give them apart"
	fi
	seen[$p]=${names[$v]}
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		taken+="    127.0.0.1:$p, the ${names[$v]}"$'\n'
	fi
done
if [ -n "$taken" ]; then
	fail "$(printf 'something else listens on\n%s' "$taken")
Stop it, or move the demo's ports, e.g.
    BMSGW_DEMO_MODBUS_PORT=1602 BMSGW_DEMO_HTTP_PORT=8180 BMSGW_DEMO_MQTT_PORT=15124 BMSGW_DEMO_SIM_PORT=15120 make demo"
fi

# ---- the state: afresh, unless kept
mark=$STATE/.bmsgw-demo
if [ "$KEEP" != 1 ] && [ -d "$STATE" ] && [ -n "$(ls -A "$STATE")" ]; then
	[ -e "$mark" ] || [ "$STATE" = "$PWD/build/demo-state" ] ||
		fail "$STATE holds files that are not a demo's state: not removed (choose another BMSGW_DEMO_STATE)"
	rm -rf "$STATE"
fi
mkdir -p "$STATE" || fail "cannot make $STATE"
: >"$mark"
# the history, the energy counters, the setup code, users and certificate stay there
export STATE_DIRECTORY=$STATE
log=$STATE/bmsgw.log
: >"$log"
# a copy of conf/demo.ini (which the page's Setup tab may rewrite: the
# repository's file stays as it is) on the demo's ports; a kept one keeps
# the Setup tab's changes, its ports set anew
ini=$STATE/bmsgw.ini
[ -f "$ini" ] || cp conf/demo.ini "$ini"
awk -v mb="$MODBUS_PORT" -v http="$HTTP_PORT" -v mq="$MQTT_PORT" -v daly="$DALY_PORT" -v jbd="$JBD_PORT" '
/^\[/ { sect = $1 }
sect == "[gateway]" && /^listen *= *127\.0\.0\.1:[0-9]+/ { sub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:" mb) }
sect == "[http]" && /^listen *= *127\.0\.0\.1:[0-9]+/ { sub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:" http) }
sect == "[mqtt]" && /^port *= *[0-9]+/ { sub(/= *[0-9]+/, "= " mq) }
sect == "[pack.demo]" && /^port *= *tcp:\/\/127\.0\.0\.1:[0-9]+/ { sub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:" daly) }
sect == "[pack.van]" && /^port *= *tcp:\/\/127\.0\.0\.1:[0-9]+/ { sub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:" jbd) }
{ print }' "$ini" >"$ini.new" && mv "$ini.new" "$ini" || fail "cannot write $ini"
scheme=http
grep -q '^tls_cert *= *[^ ;]' "$ini" && scheme=https

# ---- the parts, each known to be up before the next
# up PID PORT WHAT LOG: wait until PORT accepts while PID runs
up() {
	for _ in $(seq 1 200); do
		if ! kill -0 "$1" 2>/dev/null; then
			fail "the $3 did not start:
$(grep -v '^$' "$4" 2>/dev/null | tail -n 5 | sed 's/^/    /')
$hint"
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	fail "the $3 does not accept on 127.0.0.1:$2 after 20 s (see $4)"
}
hint="(a port another program holds: move it with BMSGW_DEMO_MODBUS_PORT, BMSGW_DEMO_HTTP_PORT,
BMSGW_DEMO_MQTT_PORT or BMSGW_DEMO_SIM_PORT)"
"$BIN/bmsgw-sim" --protocol daly --tcp "127.0.0.1:$DALY_PORT" --control "127.0.0.1:$DALY_CTL" \
	--pack address=1,cells=16,sensors=2,soc=62,current=8.5 >/dev/null 2>"$STATE/sim-daly.log" &
pids+=($!)
up $! "$DALY_PORT" "Daly simulator" "$STATE/sim-daly.log"
"$BIN/bmsgw-sim" --protocol jbd --tcp "127.0.0.1:$JBD_PORT" --control "127.0.0.1:$JBD_CTL" \
	--pack cells=4,sensors=2,soc=75,current=-3.2 >/dev/null 2>"$STATE/sim-jbd.log" &
pids+=($!)
up $! "$JBD_PORT" "JBD simulator" "$STATE/sim-jbd.log"
broker=
if command -v mosquitto >/dev/null; then
	mosquitto -p "$MQTT_PORT" >"$STATE/mosquitto.log" 2>&1 &
	broker=$!
	pids+=($broker)
	up "$broker" "$MQTT_PORT" "Mosquitto" "$STATE/mosquitto.log"
fi
"$BIN/bmsgw" -c "$ini" 2> >(tee -a "$log" >&2) &
gw=$!
pids+=($gw)
up "$gw" "$MODBUS_PORT" "gateway (bmsgw)" "$log"
up "$gw" "$HTTP_PORT" "gateway's status page" "$log"

# seconds (two decimals) from $1 to now, both `date +%s%N`
since() {
	local ms=$((($(date +%s%N) - $1) / 1000000))
	printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}

# One BMS setting changed end to end: pack van's balance_start_v, 3.400 V ->
# 3.450 V, once the gateway has read the JBD's settings (its factory mode:
# enter, read, leave) and published them.
change_setting() {
	local t0 t1 out=$STATE/mqtt-out result line sub waited
	t0=$(date +%s%N)
	mosquitto_sub -p "$MQTT_PORT" -t bmsgw/van/state -W 30 2>/dev/null |
		grep -q -m 1 '"balance_start_v":{"value":[0-9]'
	waited=$(since "$t0")
	# the outcome's subscription, known in place once it hears its own probe
	mosquitto_sub -p "$MQTT_PORT" -v -t bmsgw/van/set/result -t bmsgw-demo/ready -W 40 >"$out" 2>/dev/null &
	sub=$!
	for _ in $(seq 1 50); do
		mosquitto_pub -p "$MQTT_PORT" -t bmsgw-demo/ready -m 1
		if grep -q '^bmsgw-demo/ready' "$out"; then break; fi
		sleep 0.1
	done
	t1=$(date +%s%N)
	mosquitto_pub -p "$MQTT_PORT" -t bmsgw/van/set/bms_balance_start_v -m 3.45
	for _ in $(seq 1 300); do
		result=$(sed -n 's|^bmsgw/van/set/result ||p' "$out")
		if [ -n "$result" ]; then break; fi
		sleep 0.1
	done
	local took
	took=$(since "$t1")
	kill "$sub" 2>/dev/null
	wait "$sub" 2>/dev/null
	line=$(grep -o 'bms-settings: mqtt: pack van: balance_start_v .*' "$log" | tail -n 1)
	cat <<MSG

A BMS setting changed end to end on the simulator (pack van, a JBD BMS whose
bms_settings allow balance_start_v and balancer, within LFP's cell range):

    request:  mosquitto_pub -p $MQTT_PORT -t bmsgw/van/set/bms_balance_start_v -m 3.45
    outcome:  ${result:-(none within 30 s)}
    log:      ${line:-(no log line)}

Factory mode entered, the register written and acknowledged, read back equal,
factory mode left with saving: $took s from the request to its outcome (after
$waited s for the pack's first settings read).
MSG
}

if [ -n "$broker" ] && command -v mosquitto_sub >/dev/null; then
	change_setting
else
	echo "(mosquitto and mosquitto-clients are not installed: no BMS setting is changed; make deps installs them)"
fi
kill -0 "$gw" 2>/dev/null || fail "bmsgw stopped: see $log"
page="$scheme://127.0.0.1:$HTTP_PORT/"
if [ "$scheme" = https ]; then
	admin="The page is on HTTPS with logins (the admin made before: BMSGW_DEMO_KEEP=1)."
else
	admin="Its Setup tab makes the first admin with the setup code of the log; the page is
then on https://127.0.0.1:$HTTP_PORT/ (the http:// address leads there)."
fi
cat <<MSG

bmsgw demo is running: a simulated 16S Daly pack served as Modbus unit 1 and a
simulated 4S JBD pack as unit 2 on 127.0.0.1:$MODBUS_PORT.
Read the whole map (125 holding registers from 290, 0-based addresses) with:

    mbpoll -m tcp -p $MODBUS_PORT -a 1 -0 -r 290 -c 125 -1 127.0.0.1

pack voltage / current / power as floats (CDAB word order, mbpoll's default):

    mbpoll -m tcp -p $MODBUS_PORT -a 1 -0 -r 300 -c 3 -t 4:float -1 127.0.0.1

The status page (live values, cells, the van's writable settings, history
charts, CSV) is on

    $page

with its JSON at ${page}api/state and Prometheus metrics at
${page}metrics.  $admin
MQTT (with Home Assistant discovery: the van's two settings are a number and a
switch) on 127.0.0.1:$MQTT_PORT:

    mosquitto_sub -p $MQTT_PORT -t 'bmsgw/#' -v
    mosquitto_pub -p $MQTT_PORT -t bmsgw/van/set/bms_balancer -m OFF

The simulators' control ports are 127.0.0.1:$DALY_CTL (Daly) and $JBD_CTL (JBD) (line
commands such as "state", "set 1 soc 20", "fault 1 silent"; see
tests/sim/README.md) -- e.g. "fault 1 silent" makes the pack go stale: reads of
its data then get exception 0x0B.
The state (history, users, the page's certificate, the log) is in $STATE,
made afresh at each start (BMSGW_DEMO_KEEP=1 keeps it).
Ctrl-C stops the demo.
MSG
wait "$gw"
rc=$?
fail "bmsgw stopped (exit status $rc): see $log"
