#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tools/testbase.sh [ARCH] - the base image the container tests build
# on, made here once and kept: no registry is reachable from the machines
# the suite runs on, Debian's archive is.  `debootstrap --variant=minbase
# bookworm` (what debian:bookworm-slim is made of) for ARCH, a Debian
# architecture (amd64, arm64 or armhf; the machine's own by default),
# imported into podman's own store as the image of that architecture
# localhost/bmsgw-testbase:bookworm[-ARCH]-HASH (no -ARCH for the machine's
# own), HASH the sha256 of this file: a new recipe makes a new base, the old
# one stays until `podman rmi`.  Another architecture's is made in two
# stages: debootstrap --foreign unpacks it here, then its second stage runs
# in it under qemu-user (binfmt_misc: qemu-user-static registers it).  It
# survives `make clean` (nothing is under build/).  Two runs at once make it
# once (an flock); prints the image's name.
set -eu
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
native=$(dpkg --print-architecture)
arch=${1:-$native}
case $arch in
amd64) platform=amd64 variant= ;;
arm64) platform=arm64 variant=v8 ;;
armhf) platform=arm variant=v7 ;;
*) echo "testbase.sh: no base for architecture $arch (amd64, arm64, armhf)" >&2; exit 1 ;;
esac
hash=$(sha256sum "$0" | cut -c1-12)
if [ "$arch" = "$native" ]; then tag=localhost/bmsgw-testbase:bookworm-$hash
else tag=localhost/bmsgw-testbase:bookworm-$arch-$hash; fi
if podman image exists "$tag"; then echo "$tag"; exit 0; fi
command -v debootstrap >/dev/null || { echo "testbase.sh: debootstrap is missing (make deps)" >&2; exit 1; }
exec 9>"${TMPDIR:-/tmp}/bmsgw-testbase-$arch.lock"
flock 9
if podman image exists "$tag"; then echo "$tag"; exit 0; fi
root=$(mktemp -d "${TMPDIR:-/var/tmp}/bmsgw-testbase.XXXXXX")
trap 'rm -rf "$root" "$root.log"' EXIT
fail() { tail -n 20 "$root.log" >&2; exit 1; }
echo "testbase.sh: debootstrap --variant=minbase --arch=$arch bookworm (once; then $tag is kept)" >&2
if [ "$arch" = "$native" ]; then
	debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || fail
else
	# its programs run here under qemu-user: the kernel must know them
	qemu=qemu-$([ "$arch" = arm64 ] && echo aarch64 || echo arm)
	grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/$qemu" || {
		echo "testbase.sh: no $qemu in binfmt_misc: apt-get install qemu-user-static binfmt-support" \
			"(after mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc where it is not mounted)" >&2
		exit 1
	}
	debootstrap --variant=minbase --foreign --arch="$arch" bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || fail
	chroot "$root" /debootstrap/debootstrap --second-stage >>"$root.log" 2>&1 || fail
fi
# as the slim image: no apt lists, no caches
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | podman import --quiet --os linux --arch "$platform" ${variant:+--variant "$variant"} - "$tag" \
	>/dev/null
echo "$tag"
