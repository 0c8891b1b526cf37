#!/bin/sh
# SPDX-License-Identifier: MIT
# ha-addon/run.sh - the add-on's entry point, on Home Assistant's Debian
# base or Debian's (no bashio, no s6: sh, jq, curl and setpriv).
#
# It starts as root only to read what the Supervisor keeps root's
# (/data/options.json, 0600, and its token) and to hand /data to the
# add-on's user; then it runs bmsgw as that user (bmsgw, uid 990, group
# dialout for the serial adapters), with one capability: to bind port 502.
#   - /config/bmsgw.ini (the add-on's configuration folder, yours) is used
#     whole when it exists, and the Setup tab may write it (group bmsgw);
#   - else /data/bmsgw.ini is made from the options (options.jq): the
#     packs, the page on 8099 for the ingress proxy, and [mqtt] from the
#     Supervisor's MQTT service when it offers one (Mosquitto), with Home
#     Assistant discovery.  At the first start it is that; from then on
#     it is the file bmsgw left (the page's Setup tab rewrites it) with the
#     changes of the options since the last start merged in (merge.awk:
#     the keys they changed, the packs they added or removed), so that what
#     the Setup tab applied is still in use after a restart.
# Its own messages go to the log (standard output, as bmsgw's) with the
# prefix "bmsgw add-on:".
set -eu
exec 2>&1 # the log on standard output: this script's and bmsgw's
OPTIONS=/data/options.json
USER_INI=/config/bmsgw.ini
INI=/data/bmsgw.ini
LAST=/data/bmsgw.ini.options # the .ini made from the options at the last start
# the add-on's own keys, the options' whatever the Setup tab wrote: its
# ports (502 published, 8099 the ingress proxy's) and the ingress
PINNED="gateway listen,http listen,http ingress,http clients"
SUPERVISOR=http://supervisor

say() { echo "bmsgw add-on: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "starts as root (to read $OPTIONS), then runs bmsgw as its user"
mkdir -p /data
chown bmsgw:bmsgw /data
chmod 0750 /data

# the Supervisor's MQTT service ("data" of its answer), or null
mqtt_service() {
	if [ -z "${SUPERVISOR_TOKEN:-}" ]; then
		say "no SUPERVISOR_TOKEN: not run by the Supervisor, no [mqtt]"
		echo null
		return
	fi
	if ! answer=$(curl -fsS --max-time 15 -H "Authorization: Bearer $SUPERVISOR_TOKEN" \
		"$SUPERVISOR/services/mqtt" 2>/dev/null); then
		say "the Supervisor offers no MQTT service (is Mosquitto installed?): no [mqtt]"
		echo null
		return
	fi
	if ! printf '%s' "$answer" | jq -ce '.data | select(type == "object" and has("host"))' 2>/dev/null; then
		say "the Supervisor's MQTT service has no host: no [mqtt]"
		echo null
	fi
}

# $INI from the options' .ini NEW: NEW itself at the first start, else
# NEW's changes since $LAST merged into $INI (without $LAST, $INI is taken
# for the last one made: an earlier add-on made it at every start)
from_options() { # new
	if [ ! -f "$INI" ]; then
		cp "$1" "$LAST"
		mv "$1" "$INI"
		return
	fi
	[ -f "$LAST" ] || cp "$INI" "$LAST"
	awk -v pin="$PINNED" -f /usr/lib/bmsgw/merge.awk "$LAST" "$1" "$INI" >"$INI.merged" 2>"$INI.merge-log" ||
		die "cannot merge the options into $INI"
	while IFS= read -r line; do say "$line"; done <"$INI.merge-log"
	rm -f "$INI.merge-log"
	chown bmsgw:bmsgw "$INI.merged"
	mv "$1" "$LAST"
	if cmp -s "$INI.merged" "$INI"; then rm -f "$INI.merged"; else mv "$INI.merged" "$INI"; fi
}

if [ -f "$USER_INI" ]; then
	say "using $USER_INI (yours, whole: the add-on's options are not used)"
	# the Setup tab writes it as bmsgw does on a host (group bmsgw): the
	# file, its backups and secret files beside it in /config
	chgrp bmsgw /config "$USER_INI" && chmod g+w /config "$USER_INI" ||
		say "cannot let the Setup tab write $USER_INI: its changes are not applied"
	ini=$USER_INI
else
	[ -r "$OPTIONS" ] || die "no $OPTIONS: the Supervisor writes it"
	mqtt=$(mqtt_service)
	umask 077
	jq -r --argjson mqtt "$mqtt" -f /usr/lib/bmsgw/options.jq "$OPTIONS" >"$INI.new" ||
		die "cannot make $INI from $OPTIONS (above)"
	pw=$(printf '%s' "$mqtt" | jq -r '.password // empty' 2>/dev/null || true)
	if [ -n "$pw" ]; then
		printf '%s\n' "$pw" >/data/mqtt-password
		chown bmsgw:bmsgw /data/mqtt-password
	fi
	chown bmsgw:bmsgw "$INI.new"
	first=$([ -f "$INI" ] || echo 1)
	from_options "$INI.new"
	host=$(printf '%s' "$mqtt" | jq -r '.host // empty')
	if [ -n "$first" ]; then say "made $INI from the options${host:+, MQTT at $host with discovery}"
	else say "using $INI (the Setup tab's changes kept) with the options merged in${host:+, MQTT at $host with discovery}"; fi
	ini=$INI
fi
# the user's, with one capability left, as the systemd unit: Modbus TCP's
# port 502 (the Supervisor's docker may not lower the unprivileged ports)
exec setpriv --reuid=bmsgw --regid=bmsgw --init-groups --inh-caps=-all,+net_bind_service \
	--ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service \
	-- /usr/bin/bmsgw -c "$ini"
