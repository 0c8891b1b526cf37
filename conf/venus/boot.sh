#!/bin/sh
# SPDX-License-Identifier: MIT
# /data/bmsgw/boot.sh - bmsgw on Venus OS, at every boot (the one line the
# installer adds to /data/rc.local runs it) and at every start of the
# service (ports only).  Venus OS replaces / at a firmware update and keeps
# /data: whatever bmsgw needs outside /data is made again here.
#   boot.sh          the serial ports withheld, then the service /service/bmsgw
#   boot.sh ports    the serial ports withheld only (the service's run script)
# The serial ports: every /dev/... (or slcan:///dev/...) that a key of
# etc/bmsgw.ini names is withheld from serial-starter, which would otherwise
# probe it for Victron products: a udev rule ENV{VE_SERVICE}="ignore" for
# it (/etc/udev/rules.d/99-bmsgw-ports.rules: it holds from the next plug
# or boot on) and serial-starter's stop-tty.sh now (what it runs there
# stops).  The service: daemontools' run and log/run as Venus OS's own,
# bmsgw as root, its log by multilog in /var/log/bmsgw.
# ROOT (default: / where this file is /data/bmsgw/boot.sh) prefixes every
# path: the tests run it against a fake Venus root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT-${here%/data/bmsgw}}
[ "$ROOT" != "$here" ] || ROOT=
DEST=$ROOT/data/bmsgw
CONF=$DEST/etc/bmsgw.ini
SVC=$ROOT/service/bmsgw
RULES=$ROOT/etc/udev/rules.d/99-bmsgw-ports.rules
SS=$ROOT/opt/victronenergy/serial-starter
say() { echo "bmsgw: $*"; }

# the devices of the configuration, one a line: KEY = /dev/... or slcan:///dev/...
ports() {
	[ -f "$CONF" ] || return 0
	sed -n 's|^[[:space:]]*[A-Za-z0-9_]*[[:space:]]*=[[:space:]]*\(slcan://\)\{0,1\}\(/dev/[^[:space:];#]*\).*|\2|p' \
		"$CONF" | sort -u
}

# the udev rule of one device: its kernel name, or the link it is known by
rule() {
	case ${1#/dev/} in
	*/*) match="SYMLINK==\"${1#/dev/}\"" ;;
	*) match="KERNEL==\"${1#/dev/}\"" ;;
	esac
	echo "ACTION==\"add\", SUBSYSTEM==\"tty\", $match, ENV{VE_SERVICE}=\"ignore\""
}

# a file written only where it changed (through a temporary, renamed)
put() {
	if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then return 1; fi
	printf '%s\n' "$2" >"$1.new" && chmod "$3" "$1.new" && mv -f "$1.new" "$1"
}

withhold() {
	list=$(ports)
	dir=${RULES%/*}
	if [ -z "$ROOT" ] && [ -d "$dir" ] && [ ! -w "$dir" ] && [ -n "$list" ] &&
		[ -x /opt/victronenergy/swupdate-scripts/remount-rw.sh ]; then
		/opt/victronenergy/swupdate-scripts/remount-rw.sh || true
	fi
	if [ -z "$list" ]; then
		[ ! -e "$RULES" ] || rm -f "$RULES"
	elif [ -d "$dir" ]; then
		text="# bmsgw's serial ports, withheld from serial-starter (/data/bmsgw/boot.sh; sh /data/bmsgw/uninstall.sh removes it)"
		for p in $list; do text=$text"
$(rule "$p")"; done
		if put "$RULES" "$text" 644 && [ -z "$ROOT" ] && command -v udevadm >/dev/null; then
			udevadm control --reload-rules || true
		fi
	else
		say "no $dir: serial-starter may probe $list"
	fi
	# serial-starter lets go of them now, and the uninstaller gives them back
	mkdir -p "$DEST/state"
	for p in $list; do
		real=$(readlink -f "$ROOT$p" 2>/dev/null) || real=$ROOT$p
		tty=${real##*/}
		grep -qxF "$tty" "$DEST/state/withheld" 2>/dev/null || echo "$tty" >>"$DEST/state/withheld"
		[ ! -x "$SS/stop-tty.sh" ] || "$SS/stop-tty.sh" "$tty" >/dev/null 2>&1 || true
	done
}

service() {
	run="#!/bin/sh
# bmsgw under daemontools: made by $DEST/boot.sh at every boot
exec 2>&1
sh $DEST/boot.sh ports
export STATE_DIRECTORY=$DEST/state BMSGW_JAVASCRIPT_DIR=$DEST/share/javascript
exec $DEST/bin/bmsgw -c $CONF"
	log="#!/bin/sh
exec multilog t s250000 n4 $ROOT/var/log/bmsgw"
	if [ -d "$SVC" ]; then
		# an upgrade's new run script: the running bmsgw is restarted on it
		if put "$SVC/run" "$run" 755; then svc -t "$SVC" 2>/dev/null || true; fi
		put "$SVC/log/run" "$log" 755 || true
		return 0
	fi
	# made aside and renamed: svscan never sees a service without its run
	tmp=$ROOT/service/.bmsgw.new
	rm -rf "$tmp"
	mkdir -p "$tmp/log"
	put "$tmp/run" "$run" 755
	put "$tmp/log/run" "$log" 755
	mv "$tmp" "$SVC"
	say "service $SVC made: svscan starts it within 5 s"
}

[ -x "$DEST/bin/bmsgw" ] || { say "no $DEST/bin/bmsgw: install it first"; exit 1; }
withhold
[ "${1:-}" = ports ] || service
