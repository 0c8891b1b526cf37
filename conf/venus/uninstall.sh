#!/bin/sh
# SPDX-License-Identifier: MIT
# uninstall.sh - remove bmsgw from Venus OS, all that install.sh and
# boot.sh made: the service (stopped first), its log, the line of
# /data/rc.local (the file too if the installer made it), the udev rule
# that withheld the serial ports (serial-starter gets them back) and
# /data/bmsgw with its configuration, state and history.  Run twice: the
# second finds nothing to do.
#   sh /data/bmsgw/uninstall.sh
# ROOT prefixes every path (default /, or the root this file is installed
# under): the tests uninstall from a fake Venus root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
case $here in */data/bmsgw) ROOT=${ROOT-${here%/data/bmsgw}} ;; *) ROOT=${ROOT-} ;; esac
DEST=$ROOT/data/bmsgw
RC=$ROOT/data/rc.local
SVC=$ROOT/service/bmsgw
RULES=$ROOT/etc/udev/rules.d/99-bmsgw-ports.rules
SS=$ROOT/opt/victronenergy/serial-starter
say() { echo "bmsgw: $*"; }

# the service: hidden from svscan (a dot name), bmsgw and its logger
# stopped, their supervise processes ended, then removed
if [ -d "$SVC" ] || [ -d "$ROOT/service/.bmsgw" ]; then
	[ ! -d "$SVC" ] || mv "$SVC" "$ROOT/service/.bmsgw"
	gone=$ROOT/service/.bmsgw
	if command -v svc >/dev/null; then
		svc -dx "$gone" "$gone/log" 2>/dev/null || true
		n=0
		while { svok "$gone" || svok "$gone/log"; } 2>/dev/null && [ $n -lt 30 ]; do
			sleep 1
			n=$((n + 1))
		done
	fi
	rm -rf "$gone"
	say "service stopped and removed"
fi
rm -rf "$ROOT/service/.bmsgw.new" "$ROOT/var/log/bmsgw"

# the line of /data/rc.local; the file if install.sh made it and it holds nothing else
if [ -f "$RC" ] && grep -qF "sh $DEST/boot.sh" "$RC"; then
	grep -vF "sh $DEST/boot.sh" "$RC" >"$RC.new" || true
	chmod "$(stat -c %a "$RC")" "$RC.new"
	mv "$RC.new" "$RC"
	say "its line of $RC removed"
fi
if [ -f "$DEST/state/made-rc.local" ] && [ -f "$RC" ] && [ -z "$(grep -v '^#!' "$RC" | tr -d ' \t\n')" ]; then
	rm -f "$RC"
elif [ -f "$DEST/state/made-rc.local-executable" ] && [ -f "$RC" ]; then
	chmod -x "$RC"
fi

# the serial ports back to serial-starter
if [ -e "$RULES" ]; then
	if [ -z "$ROOT" ] && [ ! -w "${RULES%/*}" ] && [ -x /opt/victronenergy/swupdate-scripts/remount-rw.sh ]; then
		/opt/victronenergy/swupdate-scripts/remount-rw.sh || true
	fi
	rm -f "$RULES"
	if [ -z "$ROOT" ] && command -v udevadm >/dev/null; then udevadm control --reload-rules || true; fi
fi
if [ -f "$DEST/state/withheld" ]; then
	while read -r tty; do
		[ ! -x "$SS/start-tty.sh" ] || "$SS/start-tty.sh" "$tty" >/dev/null 2>&1 || true
	done <"$DEST/state/withheld"
fi

if [ -d "$DEST" ]; then
	rm -rf "$DEST"
	say "$DEST removed (its configuration and history too)"
fi
