#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: Modbus TCP throughput and latency of bmsgw serving a simulated
# Daly pack, and the daemon's memory (VmHWM); the charge limit engine's
# cost per pack and per bank (tests/tools/bench_limits.c) and the time from a
# cell over-voltage on the wire to CCL = 0 in the registers
# (tests/tools/bench_limits_wire.py); the SOC estimator's cost per pack
# step (tests/tools/bench_soc.c) and the time of bmsgw --soc-replay over 30
# days at 10 s; the cell-health estimators' cost per step of a 16-cell pack
# and per output (tests/tools/bench_health.c); FC04 against FC03 (mbbench -f 4); the
# Modbus RTU server's turnaround at 9600 and 115200 bit/s over a pty pair
# (tests/tools/bench_rtu.py); MQTT publish latency; the
# wire of every protocol (tests/tools/bench_wire.py); Modbus latency while the
# status page is busy and history goes to a slow disk (tests/tools/bench_http.py);
# the HTTPS page under three attacks: abandoned guesses from one address,
# five addresses holding 8 idle TLS connections each (each page load's time
# from a sixth address, bmsgw's CPU), guesses from rotating addresses (each
# real user's first login's time) (tests/tools/bench_page_attacks.py;
# `bash tests/bench.sh attacks` runs only that; ATTACK_SECONDS, GUESSERS);
# Modbus/TCP Security under a flood of silent connections (32 addresses
# holding 8 each): how many of a good Operator's connections, one every
# 50 ms, succeed, their times, bmsgw's CPU (tests/tools/bench_mbtls_flood.py;
# `bash tests/bench.sh tlsflood` runs only that; TLSFLOOD_SECONDS, BMSGW=
# another binary to compare);
# listen mode: the delay from an answer heard on a bus with another master to
# its registers (tests/tools/bench_listen.py);
# Bluetooth LE reconnects and Modbus latency while a BLE link flaps
# (tests/tools/bench_ble.py, a fake BlueZ); a 16-pack BLE site through one
# adapter: each pack's first data and the longest age of a pack's data
# (tests/tools/bench_ble_site.py); ESPHome Bluetooth proxies (a fake proxy):
# the first reading through a proxy after start, plaintext and Noise, a
# poll's round trip through the proxy against BlueZ's, the round of 2, 4 and
# 8 packs through one slot and each pack's longest data age, and the memory
# with 3 proxies and 12 packs (tests/tools/bench_esphome.py; `bash
# tests/bench.sh esphome` runs only that; ESPHOME_SECONDS); the inverter
# outputs' frame period jitter (byd-hvs-can's 0x110 too), RS485 reply latency,
# the answer latency of growatt-can, pylon-hv-can and the answering HV
# dialects (solax-can, foxess-can ...: ANSWERERS there),
# byd-hvs-can's identification latency and the time from a cell over-voltage
# to CCL = 0 in a 0x351 (tests/tools/bench_inverter.py; INV_SECONDS=600 for
# the ten minutes of its goal); `bmsgw --detect`: the time to identify each
# protocol at its default settings and to give up on a silent port
# (tests/tools/bench_detect.py; DETECT_TRIALS, DETECT_SWEEP=1 measures a
# whole address sweep); the history's SQLite bytes per pack-day with 16 cells,
# with and without [history] cells (tests/tools/bench_history.c), and the
# page's cells chart for 30 days of 16 cells in headless Chromium
# (tests/tools/bench_cells_page.py; CELLS_TRIALS); [mqtt] backfill: the rate
# achieved and the broker-side lag after an hour's outage (an hour made in
# seconds with a wall clock that jumps, tests/tools/bench_backfill.py and
# timeshift.c); the influx output's line
# writer and pusher (points a second to a local receiver,
# tests/tools/bench_influx.c) and bmsgw's CPU at idle with [influx] on, and
# with every fleet feature on at once (site, MQTT backfill and victron, the
# history, influx, /metrics scraped, an mqtt-json pack)
# (tests/tools/bench_influx_idle.py; INFLUX_SECONDS); the memory of 64
# packs (tests/tools/bench_mem_packs.py; MEM_SECONDS); bmsgw's CPU while it
# reads each high-voltage pack's whole broadcast over slcan, 300 frames a
# second or more (tests/tools/bench_hv.py; HV_SECONDS); the setup API: the
# time from a detection on a pty to the pack's first reading over Modbus,
# and an apply (the file checked, written, reloaded) with 16 packs
# (tests/tools/bench_setup.py; SETUP_TRIALS); [venus] on a private
# dbus-daemon: the time from a pack's poll to its change on D-Bus, and
# bmsgw's CPU with 16 packs' services and the bank's against none
# (tests/tools/bench_venus.py; VENUS_SECONDS, VENUS_TRIALS).  Figures, not
# assertions.
# Modbus serving is also measured against the loopback bound
# (tests/tools/mbbound.c, a minimal epoll responder) side by side: the same
# mbbench load alternates between the two (0.2 s slices), so that the machine's other load
# falls on both alike, and the ratio bmsgw/bound is printed (`bash
# tests/bench.sh bound` runs only that; BOUND_SECONDS).  Modbus/TCP Security
# against plain Modbus TCP the same way, the ratio TLS/plain at 1, 16 and 64
# connections, the CPU per request of bmsgw and of the client, and the
# client's share (`bash tests/bench.sh tls`; TLS_SECONDS).
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-build}
esphome() { BIN=$BIN /usr/bin/python3 tests/tools/bench_esphome.py "${ESPHOME_SECONDS:-20}"; }
attacks() { BIN=$BIN /usr/bin/python3 tests/tools/bench_page_attacks.py "${ATTACK_SECONDS:-10}"; }
tlsflood() { BIN=$BIN /usr/bin/python3 tests/tools/bench_mbtls_flood.py "${TLSFLOOD_SECONDS:-6}" 2; }
# `tests/bench.sh esphome`: only the ESPHome proxies' figures; `attacks`: only the page's; `tlsflood`: only 802's
if [ "${1:-}" = esphome ]; then esphome; exit; fi
if [ "${1:-}" = attacks ]; then attacks; exit; fi
if [ "${1:-}" = tlsflood ]; then tlsflood; exit; fi
conf=$(mktemp --suffix=.ini)
# Modbus/TCP Security on 15802: a CA, the server's and a client's certificates
tlsdir=$(mktemp -d)
(cd "$tlsdir"
 mk() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -days 2 -out "$1.pem" ${2:+-extfile "$2"}; }
 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca -keyout ca.key -out ca.pem
 printf '1.3.6.1.4.1.50316.802.1 = ASN1:UTF8String:Viewer\n' >client.ext
 mk server && mk client client.ext && chmod 600 server.key) >/dev/null 2>&1
cat >"$conf" <<INI
[gateway]
listen = 127.0.0.1:15502
max_clients = 300
log_level = warn
state_file = none
[pack.bench]
protocol = daly
port = tcp://127.0.0.1:15520
poll_interval = 1
[modbus_tls]
listen = 127.0.0.1:15802
cert = $tlsdir/server.pem
key = $tlsdir/server.key
ca = $tlsdir/ca.pem
INI
"$BIN/bmsgw-sim" --protocol daly --tcp 127.0.0.1:15520 --control 127.0.0.1:15521 >/dev/null &
sim=$!
"$BIN/bmsgw" -c "$conf" &
gw=$!
"$BIN/mbbound" 127.0.0.1 15503 &
bound=$!
trap 'kill $gw $sim $bound 2>/dev/null; wait 2>/dev/null; rm -rf "$conf" "$tlsdir"' EXIT
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/15502) 2>/dev/null && break; sleep 0.1; done
# wait for the first good poll (online flag at offset 58)
for _ in $(seq 1 100); do
	out=$("$BIN/mbread" 127.0.0.1 15502 1 348 1 || true)
	[ "$out" = "ok 1" ] && break
	sleep 0.1
done
echo "rss at start: $(grep VmRSS /proc/$gw/status | awk '{print $2, $3}')"
# the same load on the bound (port 15503) and on bmsgw (15502) in turn, 0.2 s
# slices for BOUND_SECONDS: requests/s of each, the ratio bmsgw/bound; and the
# CPU time each server took per request (utime + stime), which the machine's
# other load disturbs less
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
vs_bound() {
	local b0 g0 out
	b0=$(cpu $bound); g0=$(cpu $gw)
	out=$("$BIN/mbbench" 127.0.0.1 15503,15502 1 290 125 "$1" "${BOUND_SECONDS:-20}") ||
		{ echo "vs bound, $1 connections: mbbench failed"; return 0; }
	echo "$out" | sed -e 's/^port 15503: /bound: /' -e 's/^port 15502: /bmsgw: /' \
		-e 's/^ratio 15502\/15503/ratio bmsgw\/bound/'
	echo "$out" | awk -v b="$(($(cpu $bound) - b0))" -v g="$(($(cpu $gw) - g0))" -v hz="$(getconf CLK_TCK)" '
		/^port 15503:/ { nb = $5 } /^port 15502:/ { ng = $5 }
		END { printf "CPU per request: bound %.2f us, bmsgw %.2f us (bmsgw/bound %.2f)\n",
			b / hz / nb * 1e6, g / hz / ng * 1e6, (g / ng) / (b / nb) }'
}
# Modbus/TCP Security against plain Modbus TCP, side by side in the same way
# (the same mbbench load on 502 and 802 in turn, 0.2 s slices for
# TLS_SECONDS): requests/s of each and the ratio TLS/plain at 1, 16 and 64
# connections; the CPU per request of bmsgw's loop (mbbench -p: its time on
# a CPU, split by the slices) and of the client itself, which shares the
# cores: their ratio TLS/plain is the cost the requests/s ratio follows, and
# the machine's other load (the load average is printed) disturbs it less.
# The client is GnuTLS, as the server (mbbench.c says why)
vs_tls() {
	local out
	echo "TLS vs plain, $1 connection(s), load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores:"
	out=$("$BIN/mbbench" -p "$gw" -T "$tlsdir" 127.0.0.1 15502,15802 1 290 125 "$1" "${TLS_SECONDS:-10}") ||
		{ echo "TLS vs plain, $1 connections: mbbench failed"; return 0; }
	echo "$out" | sed -e 's/^port 15502: /502: /' -e 's/^port 15802: /802 (TLS): /' \
		-e 's/^ratio 15802\/15502/ratio TLS\/plain/' -e 's/^CPU per request 15502\/15802/CPU per request plain\/TLS/' \
		-e 's/(15502)/(502)/' -e 's/(15802)/(802)/'
}
# `tests/bench.sh tls`: only that
if [ "${1:-}" = tls ]; then
	for c in 1 16 64; do vs_tls "$c"; done
	exit 0
fi
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/15503) 2>/dev/null && break; sleep 0.1; done
for c in 16 256; do
	vs_bound "$c"
done
# `tests/bench.sh bound`: only that
[ "${1:-}" = bound ] && exit 0
"$BIN/bench_decode"
"$BIN/bench_limits"
# the SOC estimator: a pack's step (tests/tools/bench_soc.c), and bmsgw
# --soc-replay over 30 days at 10 s of the simulator's battery model
"$BIN/bench_soc"
# the cell-health estimators ([health]): a 16-cell pack's step and output
"$BIN/bench_health"
soc_trace=$(mktemp --suffix=.csv)
"$BIN/bmsgw-sim" --trace 30 --step 10 --seed 1 --pack capacity=280 >"$soc_trace"
soc_rows=$(($(wc -l <"$soc_trace") - 1))
soc_time=$( { TIMEFORMAT='%R %U %S'; time "$BIN/bmsgw" --soc-replay "$soc_trace" --capacity 280 >/dev/null; } 2>&1 )
rm -f "$soc_trace"
echo "$soc_time" | awk -v n="$soc_rows" '{ printf "soc replay: %d rows (30 days at 10 s) in %.2f s (CPU %.2f s); budget 2 s\n",
	n, $1, $2 + $3 }'
# the influx output: the line writer, the pusher to a local receiver
# (tests/tools/bench_influx.c), and bmsgw's CPU at idle with [influx] on
"$BIN/bench_influx"
BIN=$BIN /usr/bin/python3 tests/tools/bench_influx_idle.py "${INFLUX_SECONDS:-20}"
# 64 packs' memory (a snapshot holds 192 cells: tests/tools/bench_mem_packs.py)
BIN=$BIN /usr/bin/python3 tests/tools/bench_mem_packs.py "${MEM_SECONDS:-20}"
# a high-voltage pack's whole broadcast (a Tesla's 108 bricks ...): bmsgw's CPU, each family
BIN=$BIN /usr/bin/python3 tests/tools/bench_hv.py "${HV_SECONDS:-10}"
# [venus]: a pack's change on D-Bus after its poll, and bmsgw's CPU with 16
# packs' services and the bank's (tests/tools/bench_venus.py)
BIN=$BIN /usr/bin/python3 tests/tools/bench_venus.py "${VENUS_SECONDS:-20}" "${VENUS_TRIALS:-10}"
# the history with every cell: bytes on disk, the page's cells chart
"$BIN/bench_history"
BIN=$BIN /usr/bin/python3 tests/tools/bench_cells_page.py "${CELLS_TRIALS:-5}"
BIN=$BIN /usr/bin/python3 tests/tools/bench_limits_wire.py "${LIMIT_TRIALS:-10}"
BIN=$BIN /usr/bin/python3 tests/tools/bench_inverter.py
for c in 1 8 64; do
	"$BIN/mbbench" 127.0.0.1 15502 1 290 125 "$c" 3
done
# Modbus/TCP Security (802) beside 502, side by side: one kept-alive
# connection, 16 and 64
for c in 1 16 64; do vs_tls "$c"; done
echo "exception path (unknown unit 9 -> 0x0A):"; "$BIN/mbbench" 127.0.0.1 15502 9 290 125 8 2
# FC04 serves the same image as FC03: the same throughput is expected
for fc in 3 4; do
	echo -n "FC0$fc: "; "$BIN/mbbench" -f $fc 127.0.0.1 15502 1 290 125 8 3
done
BIN=$BIN /usr/bin/python3 tests/tools/bench_rtu.py "${RTU_REQUESTS:-2000}"
echo "memory: $(grep -E 'VmHWM|VmRSS' /proc/$gw/status | tr -s ' \t' ' ' | paste -sd' ')"
# five reloads (SIGHUP: a configuration of over 500 KiB made and the old
# one freed each time): the resident size before and after (gateway/core/heap.c
# keeps glibc from growing the heap by it at the first)
rss() { awk '/^VmRSS/ { print $2 }' /proc/$gw/status; }
r0=$(rss)
for _ in 1 2 3 4 5; do kill -HUP $gw; sleep 1; done
echo "rss across 5 reloads: $r0 -> $(rss) kB"
/usr/bin/python3 tests/tools/bench_mqtt.py "${MQTT_SECONDS:-30}"
BIN=$BIN /usr/bin/python3 tests/tools/bench_backfill.py
BIN=$BIN /usr/bin/python3 tests/tools/bench_wire.py "${WIRE_SECONDS:-10}"
BIN=$BIN /usr/bin/python3 tests/tools/bench_http.py "${HTTP_SECONDS:-10}"
attacks
tlsflood
BIN=$BIN /usr/bin/python3 tests/tools/bench_listen.py "${LISTEN_ROUNDS:-40}"
# a build with Bluetooth (libsystemd) and a dbus-daemon for the fake BlueZ
if command -v dbus-daemon >/dev/null && ! "$BIN/bmsgw" --ble-scan=1 2>&1 | grep -q "without Bluetooth"; then
	BIN=$BIN /usr/bin/python3 tests/tools/bench_ble.py "${BLE_SECONDS:-10}"
	BIN=$BIN /usr/bin/python3 tests/tools/bench_ble_site.py "${BLE_SECONDS:-20}"
fi
# the fake ESPHome proxy builds its messages with protoc (the BlueZ comparison
# skips itself without a dbus-daemon or Bluetooth)
if command -v protoc >/dev/null; then
	esphome
fi
BIN=$BIN /usr/bin/python3 tests/tools/bench_detect.py
BIN=$BIN /usr/bin/python3 tests/tools/bench_setup.py "${SETUP_TRIALS:-5}"
