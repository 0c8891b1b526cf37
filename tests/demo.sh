#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: the simulator (a Daly BMS behind a "TCP serial server" on
# 127.0.0.1:15020, a JBD BMS on 15022) plus the gateway on 127.0.0.1:1502
# with (a copy of) conf/demo.ini, its status page on http://127.0.0.1:8080/ and a
# private Mosquitto on 127.0.0.1:15024.  Once the JBD pack's settings are
# read, one of them (balance_start_v) is changed end to end over MQTT:
# the request, the outcome once the BMS confirmed it by read-back, and the
# gateway's log line old -> new.
# Ctrl-C stops them all.
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-build}
MQTT_PORT=15024
"$BIN/bmsgw-sim" --protocol daly --tcp 127.0.0.1:15020 --control 127.0.0.1:15021 \
	--pack address=1,cells=16,sensors=2,soc=62,current=8.5 >/dev/null &
sim=$!
"$BIN/bmsgw-sim" --protocol jbd --tcp 127.0.0.1:15022 --control 127.0.0.1:15023 \
	--pack cells=4,sensors=2,soc=75,current=-3.2 >/dev/null &
sim2=$!
broker=
if command -v mosquitto >/dev/null; then
	mosquitto -p "$MQTT_PORT" 2>/dev/null &
	broker=$!
fi
# the history and the energy counters stay in the build directory
export STATE_DIRECTORY=$PWD/build/demo-state
mkdir -p "$STATE_DIRECTORY"
log=$STATE_DIRECTORY/bmsgw.log
: >"$log"
# a copy of conf/demo.ini, which the page's Setup tab may rewrite: the
# repository's file stays as it is
cp conf/demo.ini "$STATE_DIRECTORY/bmsgw.ini"
"$BIN/bmsgw" -c "$STATE_DIRECTORY/bmsgw.ini" 2> >(tee -a "$log" >&2) &
gw=$!
trap 'kill $gw $sim $sim2 $broker 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM EXIT
# wait until the gateway accepts connections
for _ in $(seq 1 100); do
	if (exec 3<>/dev/tcp/127.0.0.1/1502) 2>/dev/null; then break; fi
	sleep 0.1
done

# seconds (two decimals) from $1 to now, both `date +%s%N`
since() {
	local ms=$((($(date +%s%N) - $1) / 1000000))
	printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}

# One BMS setting changed end to end: pack van's balance_start_v, 3.400 V ->
# 3.450 V, once the gateway has read the JBD's settings (its factory mode:
# enter, read, leave) and published them.
change_setting() {
	local t0 t1 out=$STATE_DIRECTORY/mqtt-out result line sub waited
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
cat <<MSG

bmsgw demo is running: a simulated 16S Daly pack served as Modbus unit 1 and a
simulated 4S JBD pack as unit 2 on 127.0.0.1:1502.
Read the whole map (125 holding registers from 290, 0-based addresses) with:

    mbpoll -m tcp -p 1502 -a 1 -0 -r 290 -c 125 -1 127.0.0.1

pack voltage / current / power as floats (CDAB word order, mbpoll's default):

    mbpoll -m tcp -p 1502 -a 1 -0 -r 300 -c 3 -t 4:float -1 127.0.0.1

The status page (live values, cells, the van's writable settings, history
charts, CSV) is on

    http://127.0.0.1:8080/

with its JSON at http://127.0.0.1:8080/api/state and Prometheus metrics at
http://127.0.0.1:8080/metrics.  MQTT (with Home Assistant discovery: the van's
two settings are a number and a switch) on 127.0.0.1:$MQTT_PORT:

    mosquitto_sub -p $MQTT_PORT -t 'bmsgw/#' -v
    mosquitto_pub -p $MQTT_PORT -t bmsgw/van/set/bms_balancer -m OFF

The simulators' control ports are 127.0.0.1:15021 (Daly) and 15023 (JBD) (line
commands such as "state", "set 1 soc 20", "fault 1 silent"; see
tests/sim/README.md) -- e.g. "fault 1 silent" makes the pack go stale: reads of
its data then get exception 0x0B.
Ctrl-C stops the demo.
MSG
wait $gw
