#!/bin/sh
# SPDX-License-Identifier: MIT
# conf/container/cross-setup.sh ARCH [VARIANT] - the compilers and
# the target's -dev packages for building bmsgw for another architecture on
# this Debian, with Debian's cross compilers: the Containerfile's stage
# `cross` runs it on the build machine's own architecture (podman's
# TARGETARCH and TARGETVARIANT: amd64, arm64, arm v7; or Debian's name:
# amd64, arm64, armhf), so nothing is compiled under emulation.  The target's architecture is added to dpkg
# (multiarch) and its -dev packages installed beside the machine's; the
# machine's own architecture gets its native gcc.  It writes
# /etc/bmsgw-cross: ARCH (Debian's name of the target: amd64, arm64,
# armhf), TRIPLET (its GNU type), STRIP, for the stages' make and strip.
#   cross-setup.sh arm64        cross-setup.sh arm v7        cross-setup.sh armhf
set -eu
case "$1${2:+/$2}" in
amd64) arch=amd64 ;;
arm64 | arm64/v8) arch=arm64 ;;
arm/v7 | arm | armhf) arch=armhf ;;
*) echo "cross-setup.sh: no Debian architecture for the platform $1${2:+/$2} (amd64, arm64, arm/v7)" >&2; exit 1 ;;
esac
native=$(dpkg --print-architecture)
export DEBIAN_FRONTEND=noninteractive
# the packages of the libraries bmsgw links (the Makefile's PKGS, and libev)
dev="libc6-dev libmodbus-dev libserialport-dev libinih-dev libev-dev libc-ares-dev libsystemd-dev libmosquitto-dev
libssl-dev libsqlite3-dev libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libjansson-dev libprotobuf-c-dev"
if [ "$arch" = "$native" ]; then
	tools="gcc pkgconf"
	pkgs=$dev
else
	dpkg --add-architecture "$arch"
	triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null) ||
		case $arch in arm64) triplet=aarch64-linux-gnu ;; armhf) triplet=arm-linux-gnueabihf ;; esac
	# gcc-TRIPLET brings its binutils (TRIPLET-strip); pkgconf:ARCH the
	# TRIPLET-pkg-config that finds the target's .pc files; the
	# sanitizer's library where the target's loader finds it (UBSan)
	tools="gcc-$triplet pkgconf pkgconf:$arch libubsan1:$arch"
	pkgs=$(for p in $dev; do printf '%s:%s ' "$p" "$arch"; done)
fi
apt-get update
# shellcheck disable=SC2086 # word lists
apt-get install -y --no-install-recommends make dpkg-dev protobuf-c-compiler $tools $pkgs
rm -rf /var/lib/apt/lists/*
triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE)
printf 'ARCH=%s\nTRIPLET=%s\nSTRIP=%s-strip\n' "$arch" "$triplet" "$triplet" >/etc/bmsgw-cross
cat /etc/bmsgw-cross
