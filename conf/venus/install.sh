#!/bin/sh
# SPDX-License-Identifier: MIT
# install.sh - bmsgw on Venus OS (a GX device, a Raspberry Pi with Venus OS),
# from its bundle (`make venus`):
#   tar -xzf bmsgw-venus_VERSION_ARCH.tar.gz -C /tmp && sh /tmp/bmsgw/install.sh
# The bundle goes to /data/bmsgw, which a firmware update keeps; the one
# line it adds to /data/rc.local runs /data/bmsgw/boot.sh at every boot,
# which makes again what an update removes (the service /service/bmsgw, the
# udev rule that withholds bmsgw's serial ports from serial-starter).  The
# configuration /data/bmsgw/etc/bmsgw.ini is made from the example when
# there is none, the Setup tab on and [venus] on (each pack and the bank a
# battery service for the GX's systemcalc and DVCC): the page at
# http://GX:8080/ adds the packs.  Run again (a new version): the programs are replaced, the
# configuration, the state and the line kept, the service restarted.  Run
# twice: the same.  sh /data/bmsgw/uninstall.sh removes it all.
# ROOT prefixes every path (default /): the tests install into a fake Venus root.
set -eu
ROOT=${ROOT-}
src=$(cd "$(dirname "$0")" && pwd)
DEST=$ROOT/data/bmsgw
RC=$ROOT/data/rc.local
line="[ -f $DEST/boot.sh ] && sh $DEST/boot.sh >$DEST/state/boot.log 2>&1 &"
die() { echo "bmsgw install: $*" >&2; exit 1; }

[ -f "$src/lib/bmsgw" ] && [ -f "$src/VERSION" ] || die "$src is not a bmsgw bundle (no lib/bmsgw, VERSION)"
[ -d "$ROOT/data" ] || die "no $ROOT/data: this is not Venus OS (its /data partition)"
# the bundle's architecture must be this machine's: its loader runs here
ver=$("$src/bin/bmsgw" --version 2>/dev/null) ||
	die "$(cat "$src/VERSION") does not run on this $(uname -m) machine (armhf: 32-bit ARM GX devices; arm64)"

# the files (the running bmsgw keeps its own until the restart below)
if [ "$src" != "$DEST" ]; then
	mkdir -p "$DEST"
	rm -rf "$DEST/bin" "$DEST/lib" "$DEST/share"
	cp -R "$src/bin" "$src/lib" "$src/share" "$DEST/"
	for f in install.sh uninstall.sh boot.sh LICENSE VERSION; do cp "$src/$f" "$DEST/$f"; done
fi
mkdir -p "$DEST/etc" "$DEST/state"
chmod 700 "$DEST/state"

# the configuration: yours if there is one; else the example, for Venus OS
if [ ! -e "$DEST/etc/bmsgw.ini" ]; then
	{
		echo "; Made by /data/bmsgw/install.sh from /data/bmsgw/share/examples/bmsgw.ini, for"
		echo "; Venus OS: open http://THIS-GX:8080/ and enter the setup code of"
		echo "; /data/bmsgw/state/setup-code (also in the log: tail -F /var/log/bmsgw/current)."
		echo "; Modbus TCP on 1502: 502 is the GX's own Modbus TCP server (Settings > Services)."
		echo "; By hand: /data/bmsgw/bin/bmsgw -c /data/bmsgw/etc/bmsgw.ini --check, then"
		echo "; svc -h /service/bmsgw (a reload) or svc -t /service/bmsgw (a restart: new ports withheld)."
		echo ";"
		sed -e 's|^;listen = 0\.0\.0\.0:502  |listen = 0.0.0.0:1502 |' -e 's|^;setup = true  |setup = true  |' \
			-e 's|^;\[venus\]$|[venus]|' -e 's|^;enabled = true  |enabled = true  |' \
			"$DEST/share/examples/bmsgw.ini"
	} >"$DEST/etc/bmsgw.ini.new"
	mv "$DEST/etc/bmsgw.ini.new" "$DEST/etc/bmsgw.ini"
	echo "bmsgw: made $DEST/etc/bmsgw.ini (no pack yet: the page's Setup tab adds them)"
fi
"$DEST/bin/bmsgw" -c "$DEST/etc/bmsgw.ini" --check >/dev/null ||
	echo "bmsgw: $DEST/etc/bmsgw.ini does not pass --check: bmsgw will not start until it does" >&2

# one line in /data/rc.local, before a closing exit if it has one
if [ ! -e "$RC" ]; then
	printf '#!/bin/sh\n%s\n' "$line" >"$RC"
	chmod 755 "$RC"
	: >"$DEST/state/made-rc.local"
elif ! grep -qF "sh $DEST/boot.sh" "$RC"; then
	awk -v l="$line" '{ a[NR] = $0 } END {
		n = NR; while (n > 0 && a[n] ~ /^[ \t]*$/) n--
		last = (n > 0 && a[n] ~ /^[ \t]*exit([ \t]|$)/) ? n : n + 1
		for (i = 1; i <= NR; i++) { if (i == last) print l; print a[i] }
		if (last > NR) print l }' "$RC" >"$RC.new"
	chmod "$(stat -c %a "$RC")" "$RC.new" 2>/dev/null || chmod 755 "$RC.new"
	mv "$RC.new" "$RC"
fi
if [ ! -x "$RC" ]; then
	chmod +x "$RC"
	: >"$DEST/state/made-rc.local-executable"
fi

# now: the ports, the service (started by svscan), or its restart on the new programs
sh "$DEST/boot.sh"
if [ "$src" != "$DEST" ]; then svc -t "$ROOT/service/bmsgw" 2>/dev/null || true; fi
echo "bmsgw: $ver installed in $DEST; its log: tail -F $ROOT/var/log/bmsgw/current"
echo "bmsgw: the page: http://THIS-GX:8080/ (the setup code: cat $DEST/state/setup-code)"
echo "bmsgw: to remove it all: sh $DEST/uninstall.sh"
