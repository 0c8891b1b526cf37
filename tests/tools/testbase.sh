#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tools/testbase.sh - the base image the container tests build on,
# made here once and kept: no registry is reachable from the machines the
# suite runs on, Debian's archive is.  `debootstrap --variant=minbase
# bookworm` (what debian:bookworm-slim is made of), imported into podman's
# own store as localhost/bmsgw-testbase:bookworm-HASH, HASH the sha256 of
# this file: a new recipe makes a new base, the old one stays until
# `podman rmi`.  It survives `make clean` (nothing is under build/).  Two
# runs at once make it once (an flock); prints the image's name.
set -eu
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
hash=$(sha256sum "$0" | cut -c1-12)
tag=localhost/bmsgw-testbase:bookworm-$hash
if podman image exists "$tag"; then echo "$tag"; exit 0; fi
command -v debootstrap >/dev/null || { echo "testbase.sh: debootstrap is missing (make deps)" >&2; exit 1; }
exec 9>"${TMPDIR:-/tmp}/bmsgw-testbase.lock"
flock 9
if podman image exists "$tag"; then echo "$tag"; exit 0; fi
root=$(mktemp -d "${TMPDIR:-/var/tmp}/bmsgw-testbase.XXXXXX")
trap 'rm -rf "$root"' EXIT
echo "testbase.sh: debootstrap --variant=minbase bookworm (once; then $tag is kept)" >&2
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 ||
	{ tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# as the slim image: no apt lists, no caches
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | podman import --quiet - "$tag" >/dev/null
echo "$tag"
