# SPDX-License-Identifier: MIT
"""A release installed where its users run it (`make test-release`: this
script on the build/release of `make release` made in a fresh clone).

- SHA256SUMS holds every artifact, and each matches;
- the add-on as the Supervisor installs it, for each architecture of
  ha-addon/config.yaml: a podman store of its own with no image in it, the
  add-on's OCI archive loaded and found under the name config.yaml's
  `image` gives for that architecture ({arch}: aarch64, amd64, armv7), at
  its `version` (what the Supervisor pulls), labelled for it; started as
  the Supervisor starts it (options.json with one pack, SUPERVISOR_TOKEN,
  the hassio network; under qemu-user where the architecture is not this
  machine's) against the simulator: the pack read over Modbus TCP on its
  published port 502, and its panel served through the ingress proxy with
  the pack online;
- the image's archive of each architecture loaded there too: bmsgw
  --version runs in it;
- each Debian package: its Architecture the target's, its Depends the
  target's libraries, installed by apt into that architecture's Debian
  (tests/tools/testbase.sh's base, under qemu-user), where bmsgw --version
  runs and its unit is installed;
- the Venus OS bundles (armhf, arm64) run in an empty root under qemu-user
  (tests/integration/test_venus_bundle.py).
  python3 tests/integration/addon_release.py [RELEASE_DIR]
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Checks, Proc, free_port, mbread, system_env, wait_port, wait_until  # noqa: E402
from addon_harness import (HASS, HASSIO_GW, INGRESS, PLATFORMS, PODMAN, Hassio, Podman, native_arch,  # noqa: E402
                           why)

c = Checks()
RELEASE = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "release"))
RUN_ID = "%d" % os.getpid()
NATIVE = native_arch()
VERSION = re.search(r"^VERSION := (\S+)", open(os.path.join(ROOT, "Makefile")).read(), re.M).group(1)
CONFIG = open(os.path.join(ROOT, "ha-addon", "config.yaml")).read()
IMAGE = re.search(r"^image: *(\S+)", CONFIG, re.M).group(1)
TMP = tempfile.mkdtemp(prefix="bmsgw-release-")


def sums():
    print("== SHA256SUMS")
    lines = open(os.path.join(RELEASE, "SHA256SUMS")).read().split("\n")
    listed = {}
    for line in filter(None, lines):
        digest, name = line.split(None, 1)
        listed[name.lstrip("*")] = digest
    files = sorted(f for f in os.listdir(RELEASE) if f != "SHA256SUMS")
    c.eq(sorted(listed), files, "SHA256SUMS lists every artifact")
    for name in files:
        h = hashlib.sha256()
        with open(os.path.join(RELEASE, name), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        c.eq(h.hexdigest(), listed.get(name), "%s matches (%.1f MB)" % (name, os.path.getsize(f.name) / 1e6))


def load(pm, archive):
    """The archive loaded into pm's store: the names it gave."""
    r = pm("load", "-i", archive, timeout=600)
    c.ok(r.returncode == 0, "%s loaded%s" % (os.path.basename(archive), why(r)))
    return re.findall(r"Loaded image(?:\(s\))?: *(\S+)", r.stdout + r.stderr)


def addon(arch):
    """The add-on of arch from its archive in an empty store, run."""
    name = IMAGE.replace("{arch}", HASS[arch])
    archive = os.path.join(RELEASE, "%s-%s.oci.tar" % (os.path.basename(name), VERSION))
    print("== the add-on for %s (%s)%s" % (HASS[arch], arch, "" if arch == NATIVE else ", under qemu-user"))
    # podman wants a runroot of at most 50 characters: both under /var/tmp
    pm = Podman(tempfile.mkdtemp(prefix="bmsgw-store-", dir="/var/tmp"))
    try:
        c.eq(pm("images", "-q").stdout.strip(), "", "a store with no image")
        ref = "%s:%s" % (name, VERSION)
        loaded = load(pm, archive)
        c.ok(ref in loaded or "docker.io/" + ref in loaded, "named as config.yaml's image says: %s (%s)"
             % (ref, loaded))
        info = json.loads(pm("image", "inspect", ref).stdout or "[{}]")[0]
        labels = (info.get("Config") or {}).get("Labels") or {}
        c.ok(info.get("Architecture") == PLATFORMS[arch].split("/")[1] and labels.get("io.hass.arch") == HASS[arch]
             and labels.get("io.hass.version") == VERSION,
             "of its architecture (%s), labelled %s %s" % (info.get("Architecture"), labels.get("io.hass.arch"),
                                                        labels.get("io.hass.version")))
        with Hassio(pm, ref, RUN_ID) as ha:
            run_addon(pm, ha, ref, arch)
        image_archive(pm, arch)
    except RuntimeError as e:
        c.ok(False, str(e))
    finally:
        pm.remove_store()


def run_addon(pm, ha, ref, arch):
    sim_port, ctl, mb = free_port(), free_port(), free_port()
    sim = Proc([os.path.join(ROOT, "build", "bmsgw-sim"), "--protocol", "daly", "--control",
                "127.0.0.1:%d" % ctl, "--static", "--tcp", "%s:%d" % (HASSIO_GW, sim_port), "--pack", "address=1"],
               "sim-" + arch)
    try:
        wait_port(sim_port, 10, HASSIO_GW)
        options = {"packs": [{"name": "house", "protocol": "daly", "port": "tcp://%s:%d" % (HASSIO_GW, sim_port),
                              "address": 1}], "log_level": "info"}
        t0 = time.monotonic()
        name = "bmsgw-release-" + arch + "-" + RUN_ID
        r = ha.start_addon(name, ref, os.path.join(TMP, "data-" + arch), options, "-p", "127.0.0.1:%d:502" % mb)
        if not c.ok(r.returncode == 0, "started with options.json%s" % why(r)):
            return
        online = wait_until(lambda: ha.online() == ["house"], 90, 0.5)
        print("   its pack online through the panel %.1f s after the start" % (time.monotonic() - t0))
        c.ok(online, "its panel, through the ingress proxy: pack house online (%s)" % ha.online())
        status, _, html = ha.curl("/", [INGRESS])
        c.ok(status == 200 and "<html" in html.lower(), "the page itself through the proxy (%s)" % status)
        got = wait_until(lambda: mbread(mb, 1, 290, 1).startswith("ok "), 30)
        c.ok(got, "the pack read over Modbus TCP on the published port 502 (%s)" % mbread(mb, 1, 290, 1))
        if not online:
            print(pm("logs", name).stdout[-3000:])
    finally:
        sim.stop()


def image_archive(pm, arch):
    archive = os.path.join(RELEASE, "bmsgw-%s-%s.oci.tar" % (VERSION, arch))
    loaded = load(pm, archive)
    r = pm("run", "--rm", "--network", "none", loaded[0] if loaded else "none", "--version", timeout=120)
    c.eq(r.stdout.strip().splitlines()[-1:], ["bmsgw " + VERSION], "the %s image runs bmsgw (%s)" % (arch, loaded))


def field(arch, name):
    deb = os.path.join(RELEASE, "bmsgw_%s_%s.deb" % (VERSION, arch))
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True).stdout.strip()


def package(arch):
    deb = os.path.join(RELEASE, "bmsgw_%s_%s.deb" % (VERSION, arch))
    print("== %s" % os.path.basename(deb))
    c.eq(field(arch, "Architecture"), arch, "Architecture: %s" % arch)
    depends = field(arch, "Depends")
    c.ok("libserialport0" in depends and "libc6 (>=" in depends and "libssl3" in depends,
         "Depends names the libraries bmsgw links (%s...)" % depends[:70])
    names = lambda d: sorted(re.sub(r"\s*\(.*?\)", "", x).strip() for x in d.split(","))  # noqa: E731
    c.eq(names(depends), names(field("amd64", "Depends")),
         "the packages of the amd64 one's Depends (one Debian, one set of libraries; a symbol's least version may "
         "differ by architecture)")
    r = subprocess.run(["sh", os.path.join(ROOT, "tests/tools/testbase.sh"), arch], capture_output=True,
                       text=True, timeout=3600, env=system_env())
    base = r.stdout.strip()
    if not c.ok(r.returncode == 0 and base, "the Debian of %s (testbase.sh)%s" % (arch, r.stderr[-300:])):
        return
    pm = Podman()
    script = ("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
              "/r/%s >/dev/null && bmsgw --version && ls /lib/systemd/system/bmsgw.service" % os.path.basename(deb))
    r = pm("run", "--rm", "--network", "host", "-v", RELEASE + ":/r:ro", base, "sh", "-c", script, timeout=1800)
    c.ok(r.returncode == 0 and ("bmsgw " + VERSION) in r.stdout,
         "apt installs it with its Depends in %s's Debian, and it runs (%s)" % (arch, (r.stdout + r.stderr)[-300:]))


def venus():
    """The Venus OS bundles of the release run alone: test_venus_bundle.py's
    empty root for each (VENUS_DIR: the release's, not build/)."""
    print("== the Venus OS bundles")
    env = dict(os.environ, VENUS_ARCHS="armhf arm64", VENUS_DIR=RELEASE)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tests/integration/test_venus_bundle.py")],
                       capture_output=True, text=True, timeout=900, env=env)
    c.ok(r.returncode == 0, "armhf's and arm64's run in an empty root (%s)" % r.stdout.strip()[-200:])


def main():
    if not PODMAN:
        print("podman is not installed (make deps installs it)")
        return 1
    print("   the release in %s" % RELEASE)
    sums()
    import yaml
    hass = yaml.safe_load(CONFIG)["arch"]
    arches = [a for a in ("amd64", "arm64", "armhf") if HASS[a] in hass]
    try:
        for arch in arches:
            addon(arch)
        for arch in arches:
            package(arch)
        venus()
    finally:
        subprocess.run(["rm", "-rf", TMP])
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
