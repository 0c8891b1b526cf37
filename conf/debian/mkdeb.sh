#!/bin/sh
# SPDX-License-Identifier: MIT
# conf/debian/mkdeb.sh - `make deb`: turn the staging of
#   make install DESTDIR=STAGE PREFIX=/usr sysconfdir=/etc
# into OUTDIR/bmsgw_VERSION_ARCH.deb with dpkg-deb, offline, doing what
# debhelper would (dh_strip, dh_compress, dh_installdocs, dh_shlibdeps,
# dh_md5sums, dh_gencontrol).  ARCH: the Debian architecture the staging's
# binary is built for (a cross build: its Depends are the target's
# libraries, multiarch; its --version runs under qemu-user), this machine's
# by default.
#   mkdeb.sh VERSION STAGE OUTDIR [ARCH]
set -eu
version=$1 stage=$(realpath "$2") out=$3 arch=${4:-$(dpkg --print-architecture)}
here=$(realpath "$(dirname "$0")")
work=$(dirname "$stage")
die() { echo "make deb: $*" >&2; exit 1; }
# DEB_HOST_ARCH and the rest for dpkg-shlibdeps and dpkg-gencontrol
eval "$(dpkg-architecture -a"$arch" -s 2>/dev/null)"
[ "$DEB_HOST_ARCH" = "$arch" ] || die "dpkg-architecture knows no architecture $arch"
strip=strip
[ "$arch" = "$(dpkg --print-architecture)" ] || strip=$DEB_HOST_GNU_TYPE-strip

bin=$stage/usr/bin/bmsgw
doc=$stage/usr/share/doc/bmsgw
[ -x "$bin" ] || die "no $bin: stage it with make install DESTDIR=$stage PREFIX=/usr sysconfdir=/etc"

# one version: the Makefile's; the binary and the changelog must agree
[ "$("$bin" --version)" = "bmsgw $version" ] ||
	die "$bin --version is not bmsgw $version$([ "$DEB_HOST_ARCH" = "$DEB_BUILD_ARCH" ] ||
		echo " (an $arch binary: it runs under qemu-user, binfmt_misc)")"
cl=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
[ "$cl" = "$version" ] || die "conf/debian/changelog starts at $cl, the Makefile's VERSION is $version: add an entry"
# the unit is Type=notify with a watchdog: a build without sd_notify would never start
readelf -d "$bin" | grep -q 'NEEDED.*libsystemd' ||
	die "$bin is built without libsystemd (Type=notify needs it): make deps; make clean; make deb"

# no debug symbols in the package (dh_strip)
"$strip" --strip-unneeded --remove-section=.comment --remove-section=.note "$bin"
# policy 12.3: man pages and documentation over 4 kB gzipped; examples as they are
gzip -9n "$stage"/usr/share/man/man*/*
find "$doc" -maxdepth 1 -type f -size +4k -exec gzip -9n {} +
# the licence is in copyright (policy 12.5: no extra licence file)
rm -f "$doc/LICENSE"
install -m 644 "$here/copyright" "$doc/copyright"
# a native package (no Debian revision): its changelog is changelog.gz
gzip -9nc "$here/changelog" >"$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"

install -d -m 755 "$stage/DEBIAN"
for f in postinst prerm postrm; do install -m 755 "$here/$f" "$stage/DEBIAN/$f"; done
install -m 644 "$here/conffiles" "$stage/DEBIAN/conffiles"
while read -r f; do
	[ -f "$stage$f" ] || die "conffile $f is not in the staging"
done <"$here/conffiles"
# md5sums of every file but the conffiles (dh_md5sums)
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	grep -vxF "$(sed 's|^/||' "$here/conffiles")" | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 644 "$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 755 {} +

# Depends from the libraries the binary links (dpkg-shlibdeps), then the
# control file; both want a debian/ directory to work in
src=$work/src
rm -rf "$src"
install -d "$src/debian"
cp "$here/control" "$here/changelog" "$src/debian/"
(cd "$src" && dpkg-shlibdeps -Tdebian/substvars "$bin" &&
	dpkg-gencontrol -v"$version" -P"$stage" -Tdebian/substvars -fdebian/files)

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)}
export SOURCE_DATE_EPOCH
deb=$out/bmsgw_${version}_$arch.deb
dpkg-deb --root-owner-group --build "$stage" "$deb"
