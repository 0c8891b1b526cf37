# SPDX-License-Identifier: MIT
# bmsgw - BMS serial to Modbus TCP gateway.
#   make            (all) build/bmsgw, the simulator build/bmsgw-sim and the test tools
#   make deps       install missing Debian packages (apt-get, as root) and the
#                   npm clients of tests/ble/esphome-check; no-op when present
#   make test       ASan+UBSan build + unit, fuzz-smoke and integration tests (tests/run.sh)
#   make demo       make deps, then simulator + gateway on 127.0.0.1:1502
#   make fuzz       libFuzzer targets (clang) in build/fuzz/
#   make bench      throughput / memory benchmark
#   make soak       ten minutes with every output live, health printed each minute
#   make register-map.md   regenerate the register map document
#   make man               regenerate the man pages' lists of protocols
#   make SANITIZE=1 sanitizer build in build/san/;  make WERROR=1 adds -Werror
#   make nosystemd  build/nosystemd/bmsgw without libsystemd (no sd_notify)
#   make install    binary, unit, man pages, docs, config (PREFIX DESTDIR sysconfdir); make uninstall
#   make deb        build/bmsgw_$(VERSION)_ARCH.deb from a PREFIX=/usr staging (dpkg-deb, offline);
#                   ARCH=arm64 or armhf cross-builds it
#   make image      the container image bmsgw:$(VERSION) and bmsgw:latest (Containerfile; podman, else docker);
#                   PLATFORM=linux/arm64 or linux/arm/v7 for a Raspberry Pi (cross-compiled, qemu-user)
#   make addon-image   the Home Assistant add-on's image, named as ha-addon/config.yaml's image: says
#   make test-image the image and the add-on built on a local Debian base and run (tests/integration/test_image.py)
#   make test-cross ARCH=armhf   the unit tests cross-built for armhf (or arm64) and run under qemu-user
#   make venus ARCH=armhf   build/bmsgw-venus_$(VERSION)_ARCH.tar.gz: the Venus OS bundle (its own libraries
#                   and loader, the installer for /data/bmsgw); make venus-check ARCH= runs it in an empty root
#   make release    every artifact of a release in build/release/ (images, add-on images, .debs, the
#                   Venus OS bundles, SHA256SUMS);
#                   make test-release makes it in a fresh clone and installs it as its users do
# Each build directory records the flags it was made with (build.flags):
# a change of SYSTEMD, SANITIZE, WERROR, CC, CFLAGS or the pkg-config flags
# rebuilds it.

# `make` alone builds `all` (below), whatever rule comes first
.DEFAULT_GOAL := all

# the one version: --version, the log, the Debian package
VERSION := 0.1.0
CC      ?= cc
PKG_CONFIG ?= pkg-config

# ---- another architecture: ARCH=arm64 or armhf (Debian's names) builds
# with Debian's cross compiler TRIPLET-gcc and the target's -dev packages
# (multiarch: TRIPLET-pkg-config finds them) into build/ARCH (build/ARCH/san
# with SANITIZE=1).  conf/container/cross-setup.sh installs them; where they
# are not here, `make deb ARCH=` and `make test-cross ARCH=` run in the image
# of its stage (BUILDER=podman, below).
HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
ARCH    ?= $(HOST_ARCH)
ifneq ($(ARCH),$(HOST_ARCH))
TRIPLET := $(shell dpkg-architecture -a$(ARCH) -qDEB_HOST_GNU_TYPE 2>/dev/null)
ifeq ($(TRIPLET),)
$(error ARCH=$(ARCH): dpkg-architecture knows no such architecture (arm64, armhf, amd64; dpkg-dev))
endif
ifeq ($(origin CC),default)
CC      := $(TRIPLET)-gcc
endif
ifeq ($(origin PKG_CONFIG),file)
PKG_CONFIG := $(TRIPLET)-pkg-config
endif
BROOT   := build/$(ARCH)
else
BROOT   := build
endif
PKGS    := libmodbus libserialport inih libcares libmosquitto openssl sqlite3 libmicrohttpd gnutls \
           libprotobuf-c libcurl jansson
DEB_PKGS := build-essential pkg-config libmodbus-dev libserialport-dev libinih-dev libev-dev \
            libc-ares-dev libsystemd-dev libmosquitto-dev libssl-dev libsqlite3-dev libmicrohttpd-dev \
            libgnutls28-dev \
            mosquitto mosquitto-clients python3-paho-mqtt openssl \
            mbpoll python3 python3-pymodbus python3-serial python3-yaml clang socat util-linux procps iproute2 \
            libjs-chart.js chromium chromium-driver python3-selenium python3-prometheus-client sqlite3 \
            dpkg-dev lintian man-db groff-base systemd \
            dbus-daemon python3-dbus python3-gi python3-lxml python3-psutil python3-can adduser \
            protobuf-c-compiler libprotobuf-c-dev protobuf-compiler python3-protobuf python3-cryptography \
            libcurl4-openssl-dev python3-aiosmtpd influxdb prometheus libjansson-dev \
            podman runc debootstrap lld qemu-user-static binfmt-support daemontools busybox
# optional: sd_notify (Type=notify, watchdog) when libsystemd is there; SYSTEMD=0 builds
# without it; `make nosystemd` builds build/nosystemd/bmsgw that way (tested by the suite).
# Decided when this file is read: a target that installs packages first (demo,
# soak, test) runs make again after `deps`, which then sees libsystemd-dev.
ifeq ($(NOSYSTEMD),1)
SYSTEMD := 0
endif
SYSTEMD ?= $(shell $(PKG_CONFIG) --exists libsystemd 2>/dev/null && echo 1 || echo 0)
ifeq ($(SYSTEMD),1)
PKGS    += libsystemd
CSTD_EXTRA := -DHAVE_SYSTEMD
endif
CSTD    := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -DBMSGW_VERSION='"$(VERSION)"' $(CSTD_EXTRA)
WARN    := -Wall -Wextra -Wmissing-prototypes -Wmissing-declarations -Wshadow \
           -Wstrict-prototypes -Wpointer-arith -Wformat=2
OPT     ?= -O2 -g
ifeq ($(WERROR),1)
WARN    += -Werror
endif

# the sanitizers of the test build and of the fuzz targets: undefined
# behaviour ends the program (without -fno-sanitize-recover UBSan prints its
# report and the run goes on, to exit 0)
SAN_CHECKS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# the test builds (sanitizers, fuzz targets) link with LLVM's lld where it is
# installed (make deps installs it): their 250 links take 13 s of CPU with it,
# 60 s with the system's ld; bmsgw itself and the package keep the system's
TEST_LD := $(if $(and $(filter $(HOST_ARCH),$(ARCH)),$(shell command -v ld.lld 2>/dev/null)),-fuse-ld=lld)

ifeq ($(SANITIZE),1)
B       := $(BROOT)/san
SANFLAGS := $(SAN_CHECKS)
# not position-independent: the loader relocates none of the binary's own
# pointers (200,000 of them in bmsgw with the sanitizers' tables), which
# took a third of each start (37 ms of CPU; 25 ms so), and the suite
# starts the sanitized bmsgw and bmsgw-sim about 2,400 times
LDFLAGS += $(TEST_LD) -no-pie
# line tables are all a sanitizer's report needs (-g1: a third less time
# than -g); the unit tests' own code at -O0 (it drives the code under test,
# which keeps -O1: a third of the time of -O1 for the same checks)
OPT     := -O1 -g1
$(B)/tests/unit/%.o: OPT := -O0 -g1
else ifeq ($(NOSYSTEMD),1)
B       := build/nosystemd
SANFLAGS :=
else
B       := $(BROOT)
SANFLAGS :=
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lev -lm -pthread

# Debian's hardening flags (dpkg-buildflags), but not under the sanitizers
ifneq ($(SANITIZE),1)
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2
LDFLAGS += -Wl,-z,relro -Wl,-z,now
endif

CFLAGS  += $(CSTD) $(WARN) $(OPT) $(HARDEN) $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)

# ---- the configuration a build was made with, as git records GIT-CFLAGS:
# DIR/build.flags holds the flags (compiler, CFLAGS with SYSTEMD's and
# SANITIZE's, the pkg-config flags, LDFLAGS and the libraries).  It is
# rewritten only when they change, and every object depends on it, so
# `make SYSTEMD=0` then `make` rebuilds.  -Werror changes no object: a build
# made with it stays good without it (its record loses -Werror but keeps its
# time), one made without it is rebuilt when WERROR=1 asks for it.
# $(call build_flags,FILE,FLAGS without -Werror,WERROR)
define build_flags
$(1): export FLAGS_NOW := $(2)
$(1): export FLAGS_WANT := $(2)$(if $(filter 1,$(3)), -Werror)
$(1): FORCE
	@mkdir -p $$(@D)
	@old=$$$$(cat $$@ 2>/dev/null); \
	if [ "$$$$old" = "$$$$FLAGS_WANT" ]; then :; \
	elif [ "$$$$old" = "$$$$FLAGS_NOW -Werror" ]; then \
		touch -r $$@ $$@.t && printf '%s\n' "$$$$FLAGS_WANT" >$$@ && touch -r $$@.t $$@ && rm -f $$@.t; \
	else \
		if [ -n "$$$$old" ]; then echo "$$(@D): new build flags, rebuilding"; fi; \
		printf '%s\n' "$$$$FLAGS_WANT" >$$@; \
	fi
endef
$(eval $(call build_flags,$(B)/build.flags,$(strip $(CC) $(filter-out -Werror,$(CFLAGS)) $(PKG_CFLAGS) \
	/ $(LDFLAGS) $(PKG_LIBS)),$(WERROR)))
.PHONY: FORCE
FORCE:

# pure code (no I/O): decoders, register map, configuration
CORE_SRC := $(wildcard bms/*.c) $(wildcard bms/base/*.c) $(wildcard registers/*.c) $(wildcard conf/*.c)
# the daemon: gateway/ and its rooms (gateway/core/, gateway/wire/ble/ ...)
GW_DIRS  := gateway gateway/* gateway/*/*
GW_SRC   := $(filter-out gateway/main.c,$(wildcard $(addsuffix /*.c,$(GW_DIRS))))
SIM_SRC  := $(wildcard tests/sim/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

# The build without libsystemd compiles again only the files that test
# HAVE_SYSTEMD (no header does) and links the normal build's objects for the
# rest, which are the same with it or without: `make nosystemd` makes them
# first.
ifeq ($(NOSYSTEMD),1)
SD_TEST  := '^[[:space:]]*\#[[:space:]]*(if|elif).*HAVE_SYSTEMD'
SD_HDR   := $(shell grep -lE $(SD_TEST) $(wildcard bms/*.h conf/*.h registers/*.h $(addsuffix /*.h,$(GW_DIRS))))
ifneq ($(SD_HDR),)
$(warning $(SD_HDR) test HAVE_SYSTEMD: $(B) compiles every file)
SD_SRC   := $(CORE_SRC) $(GW_SRC) gateway/main.c gen/www.c
else
SD_SRC   := $(shell grep -lE $(SD_TEST) $(CORE_SRC) $(GW_SRC) gateway/main.c)
endif
objs = $(foreach f,$(1),$(if $(filter $(f),$(SD_SRC)),$(B),build)/$(f:.c=.o))
else
objs = $(patsubst %.c,$(B)/%.o,$(1))
endif
CORE_OBJ := $(call objs,$(CORE_SRC))
MAIN_OBJ := $(call objs,gateway/main.c)
# the status page's files, built into the binary (gateway/web/www/embed.sh)
WWW_SRC  := $(sort $(wildcard gateway/web/www/*.html gateway/web/www/*.js gateway/web/www/*.css gateway/web/www/*.svg))
# the ESPHome native API's messages (gateway/wire/esphome/): C from the
# .proto by protoc-c, into each build's gen/ (esphome_api.pb-c.c and .h;
# the sources include "esphome_api.pb-c.h" through -I$(B)/gen)
ESP_PROTO := gateway/wire/esphome/esphome_api.proto
ESP_PBC  := gen/esphome_api.pb-c.c
GW_OBJ   := $(call objs,$(GW_SRC) gen/www.c $(ESP_PBC))
SIM_OBJ  := $(SIM_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps test unit demo fuzz bench soak clean check-map man nosystemd install uninstall deb objects
all: $(B)/bmsgw $(B)/bmsgw-sim $(B)/mbread $(B)/mbbench $(B)/health_trace

$(B)/%.o: %.c $(B)/build.flags | $(B)/gen/esphome_api.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(B)/gen -c $< -o $@

# one protoc-c run makes both files (a pattern rule's targets are one group)
%/gen/esphome_api.pb-c.c %/gen/esphome_api.pb-c.h: $(ESP_PROTO)
	@mkdir -p $*/gen
	protoc-c --c_out=$*/gen --proto_path=$(dir $(ESP_PROTO)) $(ESP_PROTO)

$(B)/gen/esphome_api.pb-c.o: $(B)/gen/esphome_api.pb-c.c $(B)/build.flags
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(B)/gen -c $< -o $@

%/gen/www.c: gateway/web/www/embed.sh $(WWW_SRC)
	@mkdir -p $(dir $@)
	sh gateway/web/www/embed.sh $@ $(WWW_SRC)

$(B)/gen/www.o: $(B)/gen/www.c gateway/web/http.h $(B)/build.flags
	$(CC) $(CFLAGS) -I. -c $< -o $@

# the version is compiled in
$(B)/gateway/main.o: Makefile

$(B)/bmsgw: $(MAIN_OBJ) $(GW_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# the capture file's reader (--replay) is bmsgw's own, of the room that captures
$(B)/bmsgw-sim: $(SIM_OBJ) $(CORE_OBJ) $(call objs,gateway/detect/capfile.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lutil

$(B)/mbread: $(B)/tests/tools/mbread.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/mbbench: $(B)/tests/tools/mbbench.o
	$(CC) $(LDFLAGS) -o $@ $^ -lgnutls

# the Modbus RTU server's turnaround (tests/tools/bench_rtu.py)
$(B)/rtubench: $(B)/tests/tools/rtubench.o
	$(CC) $(LDFLAGS) -o $@ $^

# the loopback bound the bench measures bmsgw's Modbus serving against
$(B)/mbbound: $(B)/tests/tools/mbbound.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/bench_decode: $(B)/tests/tools/bench_decode.o $(B)/gateway/wire/slcan.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# the decoder bench's cases of the drivers it has none for, from their
# fixtures (tests/tools/fixtures.py)
$(B)/gen/bench_cases.h: tests/tools/fixtures.py tests/fixtures/vectors.tsv bms/drivers.h $(UNIT_SRC)
	@mkdir -p $(dir $@)
	/usr/bin/python3 tests/tools/fixtures.py bench-cases > $@.t && mv $@.t $@
$(B)/tests/tools/bench_decode.o: $(B)/gen/bench_cases.h

$(B)/bench_limits: $(B)/tests/tools/bench_limits.o $(B)/gateway/engine/pack_limits.o $(B)/gateway/engine/bank_limits.o \
		$(B)/gateway/engine/settings.o $(B)/gateway/engine/bank_strings.o $(B)/gateway/engine/string_limits.o \
		$(B)/gateway/engine/cellext.o $(B)/bms/base/bms.o
	$(CC) $(LDFLAGS) -o $@ $^ -lm

$(B)/bench_soc: $(B)/tests/tools/bench_soc.o $(B)/gateway/engine/soc.o $(B)/gateway/engine/soc_curve.o \
		$(B)/gateway/engine/soc_record.o $(B)/gateway/engine/soc_light.o $(B)/gateway/engine/soc_band.o \
		$(B)/gateway/engine/soc_step.o
	$(CC) $(LDFLAGS) -o $@ $^ -lm

$(B)/bench_health: $(B)/tests/tools/bench_health.o $(B)/gateway/engine/health.o $(B)/gateway/engine/health_ir.o
	$(CC) $(LDFLAGS) -o $@ $^ -lm

# the daemon's cell-health estimators over a trace of the battery model (test_health_model)
$(B)/health_trace: $(B)/tests/tools/health_trace.o $(B)/bmsgw.a
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(B)/bmsgw.a -Wl,--end-group $(PKG_LIBS)

# the history's bytes per pack-day, and a 30-day history for the page's cells chart
$(B)/bench_history: $(B)/tests/tools/bench_history.o $(B)/bmsgw.a
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(B)/bmsgw.a -Wl,--end-group $(PKG_LIBS)

# the influx output's line writer and pusher to a local receiver
$(B)/bench_influx: $(B)/tests/tools/bench_influx.o $(B)/bmsgw.a
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(B)/bmsgw.a -Wl,--end-group $(PKG_LIBS)

# a unit test links what it uses of the daemon's objects (an archive)
$(B)/bmsgw.a: $(GW_OBJ) $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/bmsgw.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(B)/bmsgw.a -Wl,--end-group $(PKG_LIBS)

# the simulator's responders, without its main (sim.c), in their unit test
$(B)/tests/test_sim_view: $(B)/tests/unit/test_sim_view.o $(filter-out %/sim.o,$(SIM_OBJ)) $(B)/bmsgw.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(B)/bmsgw.a -Wl,--end-group $(PKG_LIBS)

unit: $(UNIT_BIN)

# the objects of bmsgw (those of the build without libsystemd come from here)
objects: $(MAIN_OBJ) $(GW_OBJ) $(CORE_OBJ)

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get install$$missing)" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all Debian packages present"; fi
	@$(MAKE) --no-print-directory esphome-check containers-conf test-base binfmt

# the base image test_image builds on (tests/tools/testbase.sh: Debian's
# minbase by debootstrap, kept in podman's store), fetched with the other
# dependencies so that the suite does not wait for it; nothing without
# podman or root, nothing when it is there
.PHONY: test-base
test-base:
	@if command -v podman >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  if base=$$(sh tests/tools/testbase.sh); then echo "deps: the test image base $$base"; \
	  else echo "deps: no test image base now (test_image makes it)"; fi; fi

# qemu-user runs another architecture's programs (the ARM images' runtime
# stage, make test-cross, make deb ARCH=) through the kernel's binfmt_misc,
# which qemu-user-static registers with binfmt-support: mounted and its
# formats enabled where the machine had not mounted it (as root; nothing
# where it is, or cannot be)
.PHONY: binfmt
binfmt:
	@if [ -d /proc/sys/fs/binfmt_misc ] && [ ! -e /proc/sys/fs/binfmt_misc/status ] && [ "$$(id -u)" = 0 ]; then \
	  if mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null; then \
	    update-binfmts --enable >/dev/null 2>&1; echo "deps: mounted binfmt_misc (qemu-user for other architectures)"; \
	  else echo "deps: binfmt_misc cannot be mounted here: no qemu-user for other architectures"; fi; fi

# podman's limits for every container (runc; crun refuses some machines'
# cgroups), written only where the machine has no containers.conf of its own
CONTAINERS_CONF := /etc/containers/containers.conf
.PHONY: containers-conf
containers-conf:
	@if [ -e $(CONTAINERS_CONF) ]; then :; \
	elif [ "$$(id -u)" != 0 ]; then echo "make deps: no $(CONTAINERS_CONF) (as root, deps writes one)" >&2; \
	else mkdir -p $(dir $(CONTAINERS_CONF)) && \
	  printf '%s\n' '# written by bmsgw'"'"'s make deps (where there was none): the limits of every container' \
	    '[containers]' 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' \
	    '[engine]' 'runtime = "runc"' >$(CONTAINERS_CONF) && \
	  echo "deps: wrote $(CONTAINERS_CONF)"; fi

# The real ESPHome clients the fake Bluetooth proxy is checked against
# (tests/ble/esphome-check: two npm packages, pinned by its
# package-lock.json) installed into its node_modules (not in git) when the
# lock file is newer; Debian's nodejs and npm when there is no npm at all.
ESPCHECK := tests/ble/esphome-check
.PHONY: esphome-check
esphome-check: $(ESPCHECK)/node_modules/.package-lock.json
$(ESPCHECK)/node_modules/.package-lock.json: $(ESPCHECK)/package.json $(ESPCHECK)/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: npm is missing (apt-get install nodejs npm, as root)" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; fi
	cd $(ESPCHECK) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The whole suite runs on the ASan+UBSan build.  The sanitizer build, the
# clang fuzz objects, the normal build and the one without libsystemd (which
# reuses the normal objects) are made first, side by side on one jobserver:
# as a step of the run beside 15 others (tests/run.sh NORMAL_BUILD), the
# normal build of a fresh clone took 255 s, and the steps that wait for it
# (build=normal: the package, test_build, the BLE tests) ended the run 200 s
# later.  T=PATTERN runs only the matching steps (tests/run.sh PATTERN)
# after the same builds.
NPROC := $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) -j$(NPROC) -Otarget test-san test-fuzz test-normal
	BIN=build/san FUZZ=build/fuzz bash tests/run.sh $(foreach p,$(T),'$(p)')

BENCH_TOOLS = $(B)/mbbound $(B)/rtubench $(B)/bench_decode $(B)/bench_limits $(B)/bench_soc $(B)/bench_history \
	$(B)/bench_health $(B)/bench_influx $(B)/slowdisk.so $(B)/timeshift.so
.PHONY: test-builds test-san test-fuzz test-normal bench-tools
test-builds: test-san test-fuzz test-normal
test-san:
	$(MAKE) SANITIZE=1 all unit build/san/slowdisk.so build/san/nothread.so
test-fuzz:
	$(MAKE) fuzz
test-normal:
	$(MAKE) all bench-tools
	$(MAKE) nosystemd

# the bench's tools, built by the tests' builds so that a change that breaks
# one is seen before `make bench`
bench-tools: $(BENCH_TOOLS)

nosystemd:
	$(MAKE) objects
	$(MAKE) NOSYSTEMD=1 build/nosystemd/bmsgw

# make runs again after deps: its packages (libsystemd-dev) are seen
demo: deps
	$(MAKE) all
	bash tests/demo.sh

register-map.md: $(B)/bmsgw
	$(B)/bmsgw --register-map > $@

# the man pages' lists of protocols, from the driver table
man: $(B)/bmsgw
	/usr/bin/python3 tests/tools/man_protocols.py $(B)/bmsgw

check-map: $(B)/bmsgw
	$(B)/bmsgw --register-map | diff -u register-map.md - && echo "register-map.md is up to date"

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
# every driver of bms/drivers.h without a target of its own gets the generic
# one, tests/fuzz/generic_driver.c built for it (build/fuzz/fuzz_<sym>)
DRIVER_SYMS := $(shell sed -n 's/^[[:space:]]*X(\([a-z0-9_]*\)).*/\1/p' bms/drivers.h)
GEN_FUZZ := $(filter-out $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%),$(DRIVER_SYMS))
GEN_FUZZ_BIN := $(GEN_FUZZ:%=build/fuzz/fuzz_%)
# and ubprobe, built as they are, with undefined behaviour on purpose: the
# suite's proof that undefined behaviour ends a run (tests/run.sh)
fuzz: $(FUZZ_BIN) $(GEN_FUZZ_BIN) build/fuzz/ubprobe
# the code under test is compiled once, with coverage (fuzzer-no-link),
# into an archive: each target links the objects it uses.  Their headers come
# from -MMD as in the other builds, and they are kept (.SECONDARY: make
# deleted them as the intermediate files of a chain, so that any change
# compiled all of them again).  FUZZ_OPT: -O0 compiles them with half the
# CPU of -O1 (63 s against 112 s on two cores, a third of the suite's
# builds), for the suite's smoke runs of a few seconds each, whose use is
# the corpus and the inputs near it; `make fuzz FUZZ_OPT=-O1` for a long
# campaign, where executions a second count.
FUZZ_OPT ?= -O0
FUZZ_CFLAGS := $(CSTD) -I. -Ibuild/fuzz/gen -gline-tables-only $(FUZZ_OPT) -fsanitize=fuzzer-no-link $(SAN_CHECKS) \
	-MMD -MP
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(CORE_SRC) $(GW_SRC)) build/fuzz/obj/gen/www.o \
	build/fuzz/obj/gen/esphome_api.pb-c.o
FUZZ_MAIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/obj/tests/fuzz/%.o) build/fuzz/obj/tests/fuzz/ubprobe.o \
	$(GEN_FUZZ:%=build/fuzz/obj/gen/fuzz_%.o)
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_MAIN) build/fuzz/gen/esphome_api.pb-c.c build/fuzz/gen/esphome_api.pb-c.h \
	$(B)/gen/esphome_api.pb-c.c $(B)/gen/esphome_api.pb-c.h
$(eval $(call build_flags,build/fuzz/build.flags,$(strip clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) / $(PKG_LIBS) $(TEST_LD)),))
build/fuzz/obj/gen/www.o: build/fuzz/gen/www.c build/fuzz/build.flags
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/obj/gen/esphome_api.pb-c.o: build/fuzz/gen/esphome_api.pb-c.c build/fuzz/build.flags
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@
build/fuzz/obj/%.o: %.c build/fuzz/build.flags | build/fuzz/gen/esphome_api.pb-c.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@
build/fuzz/fuzzed.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^
build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o build/fuzz/fuzzed.a
	clang $(TEST_LD) -fsanitize=fuzzer $(SAN_CHECKS) -o $@ $< -Wl,--start-group build/fuzz/fuzzed.a \
		-Wl,--end-group $(PKG_LIBS)
build/fuzz/obj/gen/fuzz_%.o: tests/fuzz/generic_driver.c build/fuzz/build.flags | build/fuzz/gen/esphome_api.pb-c.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -DFUZZ_DRIVER=bms_$*_driver -c $< -o $@
$(GEN_FUZZ_BIN): build/fuzz/fuzz_%: build/fuzz/obj/gen/fuzz_%.o build/fuzz/fuzzed.a
	clang $(TEST_LD) -fsanitize=fuzzer $(SAN_CHECKS) -o $@ $< -Wl,--start-group build/fuzz/fuzzed.a \
		-Wl,--end-group $(PKG_LIBS)

# a slow disk for the history's part of the bench (LD_PRELOAD)
$(B)/slowdisk.so: tests/tools/slowdisk.c $(B)/build.flags
	$(CC) $(CSTD) $(WARN) -O2 -shared -fPIC -o $@ $< -ldl

# a wall clock that jumps, for the backfill's part of the bench (LD_PRELOAD)
$(B)/timeshift.so: tests/tools/timeshift.c $(B)/build.flags
	$(CC) $(CSTD) $(WARN) -O2 -shared -fPIC -o $@ $< -ldl

# pthread_create() failing on demand, for test_https (LD_PRELOAD)
$(B)/nothread.so: tests/tools/nothread.c $(B)/build.flags
	$(CC) $(CSTD) $(WARN) -O2 -shared -fPIC -o $@ $< -ldl

# SOAK_SECONDS (600) of every output live: tests/soak/soak.py
soak: deps
	$(MAKE) all
	BIN=$(B) /usr/bin/python3 tests/soak/soak.py

bench: all $(BENCH_TOOLS)
	bash tests/bench.sh

# ---- install: GNU directory variables.  PREFIX=/usr (the package) puts the
# configuration in /etc and the unit where systemd.pc says; any other PREFIX
# keeps both under it ($(PREFIX)/etc, $(PREFIX)/lib/systemd/system).
PREFIX  ?= /usr/local
bindir  ?= $(PREFIX)/bin
mandir  ?= $(PREFIX)/share/man
docdir  ?= $(PREFIX)/share/doc/bmsgw
ifeq ($(PREFIX),/usr)
sysconfdir ?= /etc
unitdir ?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
else
sysconfdir ?= $(PREFIX)/etc
unitdir ?= $(PREFIX)/lib/systemd/system
endif
EXAMPLES  := $(wildcard conf/*.ini)
# the man pages: bmsgw(8), bmsgw.ini(5) and the topic pages bmsgw-*(7)
MAN5      := conf/bmsgw.ini.5
MAN7      := $(sort $(wildcard conf/bmsgw-*.7))
MAN8      := conf/bmsgw.8
CONF_FILE  = $(DESTDIR)$(sysconfdir)/bmsgw/bmsgw.ini
UNIT_SED   = -e 's|@bindir@|$(bindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g'
ifneq ($(sysconfdir),/etc)
UNIT_SED  += -e '/^ConfigurationDirectory=/d'
endif
ifneq ($(SYSTEMD),1)
UNIT_SED  += -e 's/^Type=notify/Type=exec/' -e '/^WatchdogSec=/d'
endif

install: $(B)/bmsgw
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man7 \
		$(DESTDIR)$(mandir)/man8 $(DESTDIR)$(unitdir) $(DESTDIR)$(docdir)/examples \
		$(DESTDIR)$(sysconfdir)/bmsgw
	install -m 755 $(B)/bmsgw $(DESTDIR)$(bindir)/bmsgw
	install -m 644 $(MAN8) $(DESTDIR)$(mandir)/man8/
	install -m 644 $(MAN5) $(DESTDIR)$(mandir)/man5/
	install -m 644 $(MAN7) $(DESTDIR)$(mandir)/man7/
	sed $(UNIT_SED) conf/bmsgw.service.in > $(B)/bmsgw.service
	install -m 644 $(B)/bmsgw.service $(DESTDIR)$(unitdir)/bmsgw.service
	@# the unit's group for the secrets (root:bmsgw 0640): systemd refuses a
	@# unit whose group does not exist, so a real install makes it
	@if [ -z "$(DESTDIR)" ] && ! getent group bmsgw >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then echo "groupadd --system bmsgw"; groupadd --system bmsgw; \
	  else echo "make install: create the group bmsgw (groupadd --system bmsgw) before starting the unit" >&2; fi; fi
	@# the Setup tab writes the configuration directory (the unit's ReadWritePaths=)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && getent group bmsgw >/dev/null; then \
	  echo "chgrp bmsgw $(sysconfdir)/bmsgw; chmod 2775 $(sysconfdir)/bmsgw"; \
	  chgrp bmsgw $(sysconfdir)/bmsgw && chmod 2775 $(sysconfdir)/bmsgw; fi
	install -m 644 README.md LICENSE register-map.md bms/PROTOCOLS.md $(DESTDIR)$(docdir)/
	install -m 644 $(EXAMPLES) $(DESTDIR)$(docdir)/examples/
	@# the configuration is the user's: installed only where there is none
	@if [ -e $(CONF_FILE) ]; then echo "$(CONF_FILE) exists: kept"; \
	else echo "install -m 644 conf/bmsgw.ini $(CONF_FILE)"; install -m 644 conf/bmsgw.ini $(CONF_FILE); fi

# everything install added but the configuration, edited or not (remove it by hand)
uninstall:
	rm -f $(DESTDIR)$(bindir)/bmsgw $(DESTDIR)$(unitdir)/bmsgw.service \
		$(addprefix $(DESTDIR)$(mandir)/man8/,$(notdir $(MAN8))) \
		$(addprefix $(DESTDIR)$(mandir)/man5/,$(notdir $(MAN5))) \
		$(addprefix $(DESTDIR)$(mandir)/man7/,$(notdir $(MAN7))) \
		$(DESTDIR)$(docdir)/README.md $(DESTDIR)$(docdir)/LICENSE $(DESTDIR)$(docdir)/register-map.md \
		$(DESTDIR)$(docdir)/PROTOCOLS.md \
		$(addprefix $(DESTDIR)$(docdir)/examples/,$(notdir $(EXAMPLES)))
	@rmdir $(DESTDIR)$(docdir)/examples $(DESTDIR)$(docdir) 2>/dev/null || true
	@if [ -e $(CONF_FILE) ]; then echo "$(CONF_FILE) kept (yours: remove it by hand)"; fi

# where `make deb ARCH=` and `make test-cross` build: here, with this
# machine's compilers and ARCH's -dev packages, or in the cross image
BUILDER  ?= $(if $(filter $(HOST_ARCH),$(ARCH)),here,$(if $(shell command -v $(CC) >/dev/null && \
	$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && echo y),here,podman))

# ---- Debian package of the normal build (never the sanitizer one), from a
# fresh staging; conf/debian/mkdeb.sh does what debhelper would.  lintian
# --pedantic -I leaves one note: package-supports-alternative-init-but-no-init.d-script
# (the package is for systemd; without it run bmsgw from any supervisor).
# ARCH=arm64 or armhf: build/bmsgw_$(VERSION)_ARCH.deb cross-built, its
# Depends the target's libraries (BUILDER=podman: in the cross image, in
# build/ARCH whatever the architecture: Debian 12's compiler and libraries).
deb:
ifeq ($(BUILDER),podman)
	$(MAKE) cross-image
	$(IN_CROSS) make deb ARCH=$(ARCH) BUILDER=here BROOT=build/$(ARCH)
else
	rm -rf $(BROOT)/deb
	$(MAKE) SANITIZE=0 NOSYSTEMD=0 install DESTDIR=$(CURDIR)/$(BROOT)/deb/root PREFIX=/usr sysconfdir=/etc
	sh conf/debian/mkdeb.sh $(VERSION) $(BROOT)/deb/root build $(ARCH)
endif

# ---- the Venus OS bundle (conf/venus/mkbundle.sh, bmsgw(8) VENUS OS):
# build/bmsgw-venus_$(VERSION)_ARCH.tar.gz, the normal build for ARCH
# (armhf: Cerbo GX, Ekrano GX, a Raspberry Pi; arm64; this machine's by
# default), its libraries and its own loader, which runs on a root with no
# Debian library, and the installer for /data/bmsgw.  BUILDER=podman: in
# the cross image, as `make deb ARCH=`.  `make venus-check ARCH=` runs the
# bundle extracted into an empty root (a chroot; qemu-user for another
# architecture): --version, --check, the daemon against bmsgw-sim, a Modbus
# read (tests/integration/test_venus_bundle.py, which the suite runs for
# this machine's architecture).
VENUS_TGZ = build/bmsgw-venus_$(VERSION)_$(ARCH).tar.gz
# the architectures of Venus OS (the release's bundles)
VENUS_ARCHS := armhf arm64
.PHONY: venus venus-check
venus:
ifeq ($(BUILDER),podman)
	$(MAKE) cross-image
	$(IN_CROSS) make venus ARCH=$(ARCH) BUILDER=here BROOT=build/$(ARCH)
else
	$(MAKE) -j$(NPROC) SANITIZE=0 NOSYSTEMD=0 $(BROOT)/bmsgw $(BROOT)/bmsgw-sim
	sh conf/venus/mkbundle.sh $(VERSION) $(ARCH) $(BROOT) $(VENUS_TGZ)
endif

venus-check: venus
	VENUS_ARCHS=$(ARCH) /usr/bin/python3 tests/integration/test_venus_bundle.py

# ---- the unit tests built for ARCH (arm64, armhf) with Debian's cross
# compiler, -Wall -Wextra as here (WERROR=1 too), under UBSan (misaligned
# reads too), and run under qemu-user (binfmt_misc) by tests/run.sh: `N
# passed, N failed`.  Without ASan: under qemu-arm the tests whose OpenSSL
# PBKDF2 churns the heap (test_auth, test_b64 ...) hung in futex waits,
# their CPU time still after 20 minutes.  32-bit armhf is the one that finds a
# 32-bit long, time_t or a misaligned read.  BUILDER=podman (where this
# machine has no cross compiler and -dev packages of ARCH): in the cross
# image, this tree mounted.
CROSS_SAN := -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
.PHONY: test-cross cross-image
test-cross:
ifeq ($(BUILDER),podman)
	$(MAKE) cross-image
	$(IN_CROSS) make test-cross ARCH=$(ARCH) BUILDER=here BROOT=build/$(ARCH) $(if $(WERROR),WERROR=$(WERROR))
else
	$(MAKE) -j$(NPROC) SANITIZE=1 SAN_CHECKS='$(CROSS_SAN)' unit
	BIN=$(BROOT)/san bash tests/run.sh '^unit '
endif

# ---- the container images (Containerfile) and the Home Assistant add-on's
# (ha-addon/): podman (--format docker: it keeps HEALTHCHECK only so), else
# docker.  PLATFORM=linux/arm64, linux/arm/v7 or linux/amd64 (ARCH's, this
# machine's by default): compiled here by Debian's cross compiler, the
# runtime stage on the target's base BUILD_FROM (BUILD_FROM_arm64 ... for
# `make release`; ha-addon/build.yaml's by default) under qemu-user
# (binfmt_misc: qemu-user-static).  BUILDER_FROM is this machine's Debian
# (debian:bookworm-slim by default); PULL=never builds from local images.
# The image is bmsgw:$(VERSION) (and :latest) for this machine's
# architecture, bmsgw:$(VERSION)-ARCH for another; the add-on's is named as
# ha-addon/config.yaml's `image:` says, the Supervisor's {arch} in it.
ENGINE   ?= $(if $(shell command -v podman 2>/dev/null),podman,docker)
ARCHS    := amd64 arm64 armhf
# an architecture's platform, Home Assistant's name of it; a platform's architecture
plat_of   = $(if $(filter arm64,$1),linux/arm64,$(if $(filter armhf,$1),linux/arm/v7,linux/amd64))
hass_of   = $(if $(filter arm64,$1),aarch64,$(if $(filter armhf,$1),armv7,amd64))
arch_of   = $(if $(filter linux/arm64%,$1),arm64,$(if $(filter linux/arm/v7 linux/arm,$1),armhf,amd64))
PLATFORM ?= $(call plat_of,$(ARCH))
IMG_ARCH  = $(call arch_of,$(PLATFORM))
BUILD_FROM ?= $(or $(BUILD_FROM_$(IMG_ARCH)),$(shell sed -n 's/^  $(call hass_of,$(IMG_ARCH)): *//p' ha-addon/build.yaml))
IMAGE_TAG = bmsgw:$(VERSION)$(if $(filter $(HOST_ARCH),$(IMG_ARCH)),,-$(IMG_ARCH))
ADDON_REPO = $(subst {arch},$(call hass_of,$(IMG_ARCH)),$(shell sed -n 's/^image: *//p' ha-addon/config.yaml))
IMG_ARGS  = $(if $(filter podman,$(ENGINE)),--format docker) --platform $(PLATFORM) \
	--build-arg BUILDPLATFORM=$(call plat_of,$(HOST_ARCH)) --build-arg BUILD_FROM=$(BUILD_FROM) \
	$(if $(BUILDER_FROM),--build-arg BUILDER_FROM=$(BUILDER_FROM)) $(if $(PULL),--pull=$(PULL))
.PHONY: image addon-image test-image release
image:
	$(ENGINE) build $(IMG_ARGS) --target image -t $(IMAGE_TAG) \
		$(if $(filter $(HOST_ARCH),$(IMG_ARCH)),-t bmsgw:latest) -f Containerfile .

addon-image:
	$(ENGINE) build $(IMG_ARGS) --target addon --build-arg VERSION=$(VERSION) \
		--build-arg HASS_ARCH=$(call hass_of,$(IMG_ARCH)) -t $(ADDON_REPO):$(VERSION) -f Containerfile .

# the stage `cross-test`, an image of this machine's platform that builds
# for ARCH (CROSS_ARCH), and make run in it with this tree mounted, as root
# with CAP_SYS_ADMIN as the suite runs the unit tests (test_link opens again
# a pty that libserialport holds exclusive, TIOCEXCL, which only that
# capability passes)
CROSS_IMAGE = localhost/bmsgw-cross:$(ARCH)
IN_CROSS  = $(ENGINE) run --rm --pull=never --network host --cap-add SYS_ADMIN -v $(CURDIR):/src -w /src \
	$(CROSS_IMAGE)
cross-image:
	$(ENGINE) build $(if $(filter podman,$(ENGINE)),--format docker) --platform $(call plat_of,$(HOST_ARCH)) \
		--build-arg BUILDPLATFORM=$(call plat_of,$(HOST_ARCH)) --build-arg CROSS_ARCH=$(ARCH) \
		$(if $(BUILDER_FROM),--build-arg BUILDER_FROM=$(BUILDER_FROM)) $(if $(PULL),--pull=$(PULL)) \
		--target cross-test -t $(CROSS_IMAGE) -f Containerfile .

# ---- every artifact of a release in build/release/: for each of $(ARCHS)
# the image and the add-on's as OCI archives (`podman load -i` gives them
# their names: the add-on's as ha-addon/config.yaml says), the Debian
# package (built in the cross image: a bookworm package whatever this
# machine is), for each of $(VENUS_ARCHS) the Venus OS bundle (in the cross
# image too), and SHA256SUMS.  .github/workflows/release.yml runs it on a
# version tag and pushes the images.
RELEASE  := build/release
release:
	rm -rf $(RELEASE)
	mkdir -p $(RELEASE)
	$(foreach a,$(ARCHS),$(MAKE) --no-print-directory release-one ARCH=$(a) PLATFORM=$(call plat_of,$(a)) &&) true
	cd $(RELEASE) && sha256sum -- *.tar *.deb *.tar.gz >SHA256SUMS && cat SHA256SUMS

.PHONY: release-one
release-one: image addon-image
	$(ENGINE) save $(if $(filter podman,$(ENGINE)),--format oci-archive) \
		-o $(RELEASE)/bmsgw-$(VERSION)-$(ARCH).oci.tar $(IMAGE_TAG)
	$(ENGINE) save $(if $(filter podman,$(ENGINE)),--format oci-archive) \
		-o $(RELEASE)/$(notdir $(ADDON_REPO))-$(VERSION).oci.tar $(ADDON_REPO):$(VERSION)
	$(MAKE) --no-print-directory deb BUILDER=podman
	cp build/bmsgw_$(VERSION)_$(ARCH).deb $(RELEASE)/
	$(if $(filter $(ARCH),$(VENUS_ARCHS)),$(MAKE) --no-print-directory venus BUILDER=podman)
	$(if $(filter $(ARCH),$(VENUS_ARCHS)),cp $(VENUS_TGZ) $(RELEASE)/)

# the image's name for PLATFORM (the release workflow's)
.PHONY: print-image-tag test-release
print-image-tag:
	@echo $(IMAGE_TAG)

# the bases (tests/tools/testbase.sh, kept in podman's store), the image and
# the add-on built for PLATFORM and run (under qemu-user for another
# architecture); only the images' layers stay (the suite's step
# integration test_image is the same script, for this machine's)
test-image: all
	PLATFORM=$(PLATFORM) BIN=$(B) /usr/bin/python3 tests/integration/test_image.py

# `make release` in a fresh clone of HEAD (its artifacts then in
# build/release/), and the release installed as its users install it:
# the add-on of each architecture loaded into a store with no image and run
# as the Supervisor runs it, the packages installed by apt
# (tests/integration/addon_release.py)
test-release: all
	rm -rf $(RELEASE)
	d=$$(mktemp -d /var/tmp/bmsgw-clone.XXXXXX) && trap 'rm -rf "$$d"' EXIT && \
	git clone --quiet $(CURDIR) "$$d" && $(MAKE) -C "$$d" release && mkdir -p build && mv "$$d/$(RELEASE)" $(RELEASE)
	BIN=$(B) /usr/bin/python3 tests/integration/addon_release.py $(RELEASE)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
