#!/bin/sh
# SPDX-License-Identifier: MIT
# conf/venus/mkbundle.sh - `make venus`: the Venus OS bundle, a tarball that
# runs on a root with no Debian library at all (a GX device's):
#   mkbundle.sh VERSION ARCH BINDIR OUT.tar.gz
# BINDIR holds bmsgw and bmsgw-sim of the normal build for ARCH (Debian's
# name: armhf, arm64, amd64).  The tarball's one folder bmsgw/ holds:
#   bin/bmsgw, bin/bmsgw-sim   shell wrappers: exec lib/'s loader on lib/'s
#                              program with lib/ as the only library path
#   lib/                       the programs, every library they need (their
#                              DT_NEEDED, recursively, from this machine's
#                              multiarch directories: ARCH's -dev packages),
#                              libgcc_s (glibc loads it for a thread's end)
#                              and the dynamic loader of ARCH
#   share/                     the man pages, the examples, Chart.js for the
#                              page, the libraries' copyright files
#   install.sh uninstall.sh boot.sh   the installer (conf/venus/)
#   LICENSE                    bmsgw's, then each library with its package,
#                              version and copyright file
# Nothing of the target's /lib is used: the loader is run by path, with
# --inhibit-cache (the GX's ld.so.cache is not read).
set -eu
version=$1 arch=$2 bindir=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
die() { echo "make venus: $*" >&2; exit 1; }
multi=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null) || die "no Debian architecture $arch"
gnu=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)
if [ "$arch" = "$(dpkg --print-architecture)" ]; then tool=; else tool=$gnu-; fi
readelf=${tool}readelf strip=${tool}strip
command -v "$readelf" >/dev/null || die "no $readelf (binutils for $arch: conf/container/cross-setup.sh)"
for p in bmsgw bmsgw-sim; do [ -f "$bindir/$p" ] || die "no $bindir/$p (the normal build for $arch)"; done

stage=$(dirname "$out")/venus-$arch
rm -rf "$stage"
b=$stage/bmsgw
mkdir -p "$b/bin" "$b/lib" "$b/share/man/man5" "$b/share/man/man7" "$b/share/man/man8" \
	"$b/share/examples" "$b/share/copyright" "$b/share/javascript"

# the library NAME of ARCH, as its loader would find it (multiarch first)
find_lib() {
	for d in /lib/$multi /usr/lib/$multi /lib /usr/lib; do
		if [ -e "$d/$1" ]; then echo "$d/$1"; return 0; fi
	done
	return 1
}
needed() { "$readelf" -dW "$1" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p'; }

# the programs, without their debug symbols
for p in bmsgw bmsgw-sim; do
	"$strip" --strip-unneeded --remove-section=.comment --remove-section=.note -o "$b/lib/$p" "$bindir/$p"
	chmod 755 "$b/lib/$p"
done
interp=$("$readelf" -lW "$b/lib/bmsgw" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
loader=$(basename "$interp")
[ -n "$loader" ] || die "$bindir/bmsgw names no program interpreter"

# every library, breadth first: a list of sonames to take, one a line
todo=$(needed "$b/lib/bmsgw"; needed "$b/lib/bmsgw-sim"; echo libgcc_s.so.1; echo "$loader")
: >"$stage/libs"
: >"$stage/paths"
while [ -n "$todo" ]; do
	next=
	for so in $todo; do
		grep -qxF "$so" "$stage/libs" && continue
		path=$(find_lib "$so") || die "$so ($arch) is not on this machine: its package for $arch is missing"
		echo "$so" >>"$stage/libs"
		echo "$path" >>"$stage/paths"
		cp -L "$path" "$b/lib/$so"
		chmod 644 "$b/lib/$so"
		next="$next $(needed "$b/lib/$so")"
	done
	todo=$next
done
chmod 755 "$b/lib/$loader"

# the wrappers: no /lib of the target, no LD_LIBRARY_PATH left to children
for p in bmsgw bmsgw-sim; do
	sed -e "s|@LOADER@|$loader|" -e "s|@PROGRAM@|$p|" "$here/wrapper.in" >"$b/bin/$p"
	chmod 755 "$b/bin/$p"
done

# the documents, the examples (bmsgw.ini the installer's), Chart.js
cp "$top/conf/bmsgw.8" "$b/share/man/man8/"
cp "$top/conf/bmsgw.ini.5" "$b/share/man/man5/"
cp "$top"/conf/bmsgw-*.7 "$b/share/man/man7/"
cp "$top"/conf/*.ini "$b/share/examples/"
cp "$top/README.md" "$b/share/"
chart=/usr/share/javascript/chart.js
[ -f "$chart/chart.min.js" ] || die "no $chart/chart.min.js (Debian's libjs-chart.js: make deps)"
mkdir -p "$b/share/javascript/chart.js"
cp -L "$chart/chart.min.js" "$b/share/javascript/chart.js/"
for f in install.sh uninstall.sh boot.sh; do install -m 755 "$here/$f" "$b/$f"; done
printf 'bmsgw %s %s\n' "$version" "$arch" >"$b/VERSION"

# the licences: bmsgw's, then each library's package and copyright file
pkg_of() {
	for f in "$1" "$(realpath "$1")" "/usr${1#/usr}" "${1#/usr}"; do
		p=$(dpkg-query -S "$f" 2>/dev/null | sed -n '1s/: .*//p') && [ -n "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}
{
	cat "$top/LICENSE"
	echo
	echo "The libraries in lib/ are Debian 12's, unchanged; each under its own licence,"
	echo "its package's copyright file in share/copyright/PACKAGE:"
	echo
} >"$b/LICENSE"
copy_copyright() {
	name=${1%%:*}
	[ -f "$b/share/copyright/$name" ] && return 0
	src=/usr/share/doc/$name/copyright
	[ -f "$src" ] || die "no $src: the licence of $name cannot ship with it"
	cp -L "$src" "$b/share/copyright/$name"
}
paste -d ' ' "$stage/libs" "$stage/paths" | while read -r so path; do
	pkg=$(pkg_of "$path") || die "no Debian package owns $path ($so)"
	ver=$(dpkg-query -W -f='${Version}' "$pkg")
	copy_copyright "$pkg"
	printf '  %-28s %s %s\n' "$so" "${pkg%%:*}" "$ver" >>"$b/LICENSE"
done
copy_copyright libjs-chart.js
printf '\nshare/javascript/chart.js: Chart.js from libjs-chart.js %s, share/copyright/libjs-chart.js\n' \
	"$(dpkg-query -W -f='${Version}' libjs-chart.js)" >>"$b/LICENSE"

rm -f "$out"
tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "$out" bmsgw
echo "$out: $(du -k "$out" | cut -f1) kB, $(du -sk "$b" | cut -f1) kB installed, $(wc -l <"$stage/libs") libraries"
