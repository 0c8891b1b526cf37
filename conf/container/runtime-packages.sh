#!/bin/sh
# SPDX-License-Identifier: MIT
# conf/container/runtime-packages.sh BINARY [ARCH] - the Debian packages of
# the shared libraries BINARY links, one a line, as dpkg-shlibdeps finds
# them (the build stage of the Containerfile: its runtime stage installs
# them, whatever the architecture).  ARCH: the Debian architecture BINARY
# is built for where it is not this machine's (a cross build: the
# target's libraries, multiarch).
set -eu
bin=$(realpath "$1")
if [ -n "${2:-}" ]; then eval "$(dpkg-architecture -a"$2" -s 2>/dev/null)"; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/debian"
printf 'Source: bmsgw\n\nPackage: bmsgw\nArchitecture: any\n' >"$dir/debian/control"
deps=$(cd "$dir" && dpkg-shlibdeps -O "$bin")
# shlibs:Depends=libc6 (>= 2.34), libcurl4 (>= 7.16.2), ... -> libc6 libcurl4 ...
printf '%s\n' "${deps#shlibs:Depends=}" | tr ',' '\n' | sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/[[:space:]]//g' |
	grep -v '^$' | sort -u
