#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: the simulator (a Daly BMS behind a "TCP serial server" on
# 127.0.0.1:15020) plus the gateway on 127.0.0.1:1502 with conf/demo.ini,
# and its status page on http://127.0.0.1:8080/.
# Ctrl-C stops both.
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-build}
"$BIN/bmsgw-sim" --protocol daly --tcp 127.0.0.1:15020 --control 127.0.0.1:15021 \
	--pack address=1,cells=16,sensors=2,soc=62,current=8.5 &
sim=$!
# the history and the energy counters stay in the build directory
export STATE_DIRECTORY=$PWD/build/demo-state
mkdir -p "$STATE_DIRECTORY"
"$BIN/bmsgw" -c conf/demo.ini &
gw=$!
trap 'kill $gw $sim 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM EXIT
# wait until the gateway accepts connections
for _ in $(seq 1 100); do
	if (exec 3<>/dev/tcp/127.0.0.1/1502) 2>/dev/null; then break; fi
	sleep 0.1
done
cat <<MSG

bmsgw demo is running: a simulated 16S Daly pack served as Modbus unit 1 on 127.0.0.1:1502.
Read the whole map (125 holding registers from 290, 0-based addresses) with:

    mbpoll -m tcp -p 1502 -a 1 -0 -r 290 -c 125 -1 127.0.0.1

pack voltage / current / power as floats (CDAB word order, mbpoll's default):

    mbpoll -m tcp -p 1502 -a 1 -0 -r 300 -c 3 -t 4:float -1 127.0.0.1

The status page (live values, cells, history charts, CSV) is on

    http://127.0.0.1:8080/

with its JSON at http://127.0.0.1:8080/api/state and Prometheus metrics at
http://127.0.0.1:8080/metrics.

The simulator's control port is 127.0.0.1:15021 (line commands such as
"state", "set 1 soc 20", "fault 1 silent"; see tests/sim/README.md) -- e.g.
"fault 1 silent" makes the pack go stale: reads of its data then get exception 0x0B.
Ctrl-C stops the demo.
MSG
wait $gw
