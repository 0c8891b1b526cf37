# SPDX-License-Identifier: MIT
# run.sh: uses=podman-hassio
"""The container image and the Home Assistant add-on, built and run with
podman as their users run them (`make test-image`; a step of the suite when
podman is there, `make deps` installs it).  PLATFORM=linux/arm64 or
linux/arm/v7 (`make test-image PLATFORM=...`) builds and runs them for that
architecture, under qemu-user; the suite's is this machine's.

- the bases: Debian bookworm minbase of the target's architecture and of
  this machine's, made once by tests/tools/testbase.sh and kept in podman's
  store (no registry is reachable here), found without a pull
  (--pull=never): the build stage on this machine's, with Debian's cross
  compiler where the target is another;
- the image (Containerfile) on it: a non-root user, /data a volume it owns,
  the ports, a HEALTHCHECK (kept by --format docker); no compiler, no -dev
  package, no apt lists; Debian's Chart.js inside; its size over the base;
- run --read-only with no tmpfs against the simulator: the pack read over
  Modbus TCP and /api/state, its history and state written in /data only,
  healthy on the configured ports and unhealthy on a port nothing serves,
  stopped by SIGTERM within 2 s with exit 0;
- a bad configuration ends the container with the file's line in its log;
- the add-on's image (the Containerfile's stage addon, as `make
  addon-image` builds it), labelled as ha-addon/config.yaml names it, run
  as the Supervisor runs it (addon_harness.py): /data/options.json (root's,
  0600), SUPERVISOR_TOKEN and a fake Supervisor at http://supervisor
  answering /services/mqtt, on a network like Home Assistant's hassio
  (172.30.32.0/23): bmsgw.ini made from the options, bmsgw run as the
  add-on's user, the MQTT password in a file and not in the .ini, Home
  Assistant discovery received by a real mosquitto; the page through the
  ingress proxy's address (172.30.32.2) with X-Ingress-Path: every link,
  script and API call of the page resolves under the prefix and is served,
  framed by Home Assistant allowed, whatever Host the proxy forwards (its
  user's, a name the add-on cannot know); X-Ingress-Path from another
  address refused (403 from an allowed address, closed from another
  add-on's), and that name without it 421;
- a pack added in the Setup tab through ingress is still polled after the
  add-on's restart, beside the options' pack; an option changed then
  (another pack's address, the log level) is merged in, the Setup tab's
  pack kept; a pack removed from the options goes;
- a whole bmsgw.ini in /config used instead of the options, which the
  Setup tab may write.
Everything it starts or makes is removed at the end (the base and the
build's cached layers stay: they are what makes the next run quick).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, Sim, free_port, mbread, system_env, wait_port, wait_until  # noqa: E402
from addon_harness import (ADDON_IP, HASS, HASSIO_GW, INGRESS, OTHER_IP, PLATFORMS, PODMAN, PREFIX,  # noqa: E402
                           SUPERVISOR_TOKEN, Hassio, Podman, Supervisor, arch_of, native_arch, why)

c = Checks()
podman = Podman()
RUN_ID = "%d" % os.getpid()
NATIVE = native_arch()
PLATFORM = os.environ.get("PLATFORM") or PLATFORMS.get(NATIVE, "linux/" + NATIVE)
ARCH = arch_of(PLATFORM)
EMULATED = ARCH != NATIVE  # its programs run under qemu-user
# this run's names of the images; the names :cache keep the newest build's
# layers for the next run
SUFFIX = "" if not EMULATED else "-" + ARCH
IMAGE = "localhost/bmsgw-test%s:%s" % (SUFFIX, RUN_ID)
ADDON = "localhost/bmsgw-addon-test%s:%s" % (SUFFIX, RUN_ID)
CACHE_TAG = ":cache"
MQTT_USER, MQTT_PASSWORD = "addons", "Pw-of-the-mqtt-service-42"
TMP = tempfile.mkdtemp(prefix="bmsgw-image-")
VERSION = re.search(r"^VERSION := (\S+)", open(os.path.join(ROOT, "Makefile")).read(), re.M).group(1)
_cleanup = []


def build(tag, target, base, builder, *extra):
    """The Containerfile's stage target for PLATFORM, as the Makefile builds
    it, from the local bases only: (built, seconds)."""
    t0 = time.monotonic()
    cache = tag.rsplit(":", 1)[0] + CACHE_TAG
    r = podman("build", "--format", "docker", "--pull=never", "--platform", PLATFORM,
               "--build-arg", "BUILDPLATFORM=" + PLATFORMS.get(NATIVE, "linux/" + NATIVE),
               "--build-arg", "BUILD_FROM=" + base, "--build-arg", "BUILDER_FROM=" + builder,
               "--target", target, "-t", tag, "-t", cache, *extra, "-f", os.path.join(ROOT, "Containerfile"), ROOT,
               timeout=3600)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        print(r.stdout[-4000:], r.stderr[-4000:])
    return r.returncode == 0, secs


def size_of(tag):
    r = podman("image", "inspect", "--format", "{{.Size}}", tag)
    return int(r.stdout.strip() or 0)


def inspect(tag):
    r = podman("image", "inspect", tag)
    return json.loads(r.stdout)[0] if r.returncode == 0 else {}


def sh_in(tag, script, *opts):
    """A shell in a fresh container of tag: (exit code, output)."""
    r = podman("run", "--rm", "--entrypoint", "/bin/sh", *opts, tag, "-c", script)
    return r.returncode, r.stdout + r.stderr


# ----------------------------------------------------------------- the image

def check_image(base):
    cfg = inspect(IMAGE).get("Config", {})
    c.eq(cfg.get("User"), "bmsgw", "the image runs as its user bmsgw")
    c.ok(set(cfg.get("ExposedPorts", {})) >= {"502/tcp", "8080/tcp", "802/tcp"},
         "ports 502, 802 and 8080 exposed (%s)" % sorted(cfg.get("ExposedPorts", {})))
    c.ok("/data" in cfg.get("Volumes", {}), "/data is a volume")
    hc = inspect(IMAGE).get("Healthcheck") or cfg.get("Healthcheck") or {}
    c.ok("/usr/lib/bmsgw/healthcheck" in " ".join(hc.get("Test", [])),
         "a HEALTHCHECK is kept (--format docker): %s" % hc.get("Test"))
    c.ok("exec /usr/bin/bmsgw" in " ".join(cfg.get("Entrypoint") or []),
         "the entry point execs bmsgw (PID 1, SIGTERM to it): %s" % cfg.get("Entrypoint"))
    rc, out = sh_in(IMAGE, "id -un; id -u; id -Gn; stat -c '%U %a' /data; "
                    "ls /usr/share/javascript/chart.js/chart.min.js; "
                    "for t in gcc cc make pkg-config ld as; do command -v $t; done; "
                    "echo lists=$(ls /var/lib/apt/lists | grep -v -e '^lock$' -e '^partial$' | wc -l); "
                    "echo archives=$(ls /var/cache/apt/archives 2>/dev/null | grep -c deb); "
                    "echo dev=$(dpkg-query -W -f '${Package}\\n' | grep -c -e '-dev$'); "
                    "dpkg-query -W -f '${Package}\\n' | grep -e '^gcc-12$' -e '^cpp' -e 'binutils' || true")
    lines = out.split("\n")
    c.eq(lines[:3], ["bmsgw", "990", "bmsgw dialout"], "user bmsgw (uid 990) in group dialout (serial adapters)")
    c.ok("bmsgw 750" in out, "/data is the user's, 0750")
    c.ok("/usr/share/javascript/chart.js/chart.min.js" in out, "Debian's Chart.js is inside (the page's charts)")
    c.ok(not re.search(r"^/usr/bin/(gcc|cc|make|pkg-config|ld|as)$", out, re.M),
         "no compiler, make or pkg-config in the runtime stage")
    c.ok("lists=0" in out and "archives=0" in out, "no apt lists, no .deb cache")
    c.ok("dev=0" in out and not re.search(r"^(gcc-12|cpp.*|binutils.*)$", out, re.M), "no -dev package, no gcc")
    grow = (size_of(IMAGE) - size_of(base)) / 1e6
    print("   the image: %.1f MB over its base (%.1f MB)" % (grow, size_of(base) / 1e6))
    c.ok(0 < grow <= 40, "the image adds %.1f MB to its base (at most 40)" % grow)


def gw_conf(sim_port, mb, http):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 5
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.5
[http]
listen = 127.0.0.1:%d
[history]
interval = 1
""" % (mb, sim_port, http)


def http_get(url, headers=None, timeout=10):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def finished_at(name):
    r = podman("inspect", "--format", "{{.State.FinishedAt}}|{{.State.ExitCode}}", name)
    when, code = r.stdout.strip().split("|")
    # 2026-11-01 13:20:01.123456789 +0000 UTC
    m = re.match(r"(\d+-\d+-\d+ \d+:\d+:\d+)(\.\d+)? ([+-]\d{4})", when)
    frac = float("0" + (m.group(2) or ".0"))
    t = datetime.strptime(m.group(1) + " " + m.group(3), "%Y-%m-%d %H:%M:%S %z").timestamp()
    return t + frac, int(code)


def run_image():
    print("== the image, read-only, against the simulator")
    sim = Sim(protocol="daly")
    mb, http = free_port(), free_port()
    conf = os.path.join(TMP, "bmsgw.ini")
    with open(conf, "w") as f:
        f.write(gw_conf(sim.port, mb, http))
    os.chmod(conf, 0o644)
    vol = "bmsgw-test-data-" + RUN_ID
    name = "bmsgw-test-" + RUN_ID
    podman("volume", "create", vol, check=True)
    _cleanup.append(("volume", vol))
    r = podman("run", "-d", "--name", name, "--read-only", "--read-only-tmpfs=false", "--network", "host",
               "--health-interval", "disable",
               "-v", conf + ":/config/bmsgw.ini:ro", "-v", vol + ":/data", IMAGE)
    _cleanup.append(("container", name))
    if not c.ok(r.returncode == 0, "podman run --read-only (no tmpfs) starts%s" % why(r)):
        return
    try:
        c.ok(wait_port(mb, 30) and wait_port(http, 30), "its Modbus and HTTP ports open")
        st = sim.state()["packs"][0]
        want_soc = "ok %d" % round(st["soc"])
        got = wait_until(lambda: mbread(mb, 1, 290, 1) == want_soc or None, 20)
        c.ok(got, "the pack read over Modbus TCP: SOC %s (%s)" % (want_soc, mbread(mb, 1, 290, 1)))
        status, _, body = http_get("http://127.0.0.1:%d/api/state" % http)
        js = json.loads(body) if status == 200 else {}
        p = (js.get("packs") or [{}])[0]
        c.ok(status == 200 and p.get("pack") == "house" and p.get("online"),
             "/api/state: pack house online (%s)" % status)
        c.near(p.get("voltage"), st["voltage"], 0.05, "/api/state: the simulator's voltage")
        # the history database and the state file, in /data: the one writable place
        files = wait_until(lambda: (lambda o: o if "history.db" in o else None)(
            podman("exec", name, "ls", "/data").stdout), 20)
        c.ok(files, "history.db written in /data (%s)" % (files or "").split())
        r = podman("exec", name, "/bin/sh", "-c", "for d in /etc /tmp /var/tmp /run /usr/lib/bmsgw; do "
                   "touch $d/x 2>/dev/null && echo wrote $d; done; echo done")
        c.ok(r.stdout.strip() == "done", "nothing but /data is writable, /tmp and /run too (%s)" % r.stdout.split())
        r = podman("healthcheck", "run", name)
        c.ok(r.returncode == 0, "healthy on the configured ports (%s)" % (r.stdout + r.stderr).strip())
        dead = free_port()
        r = podman("exec", name, "/bin/sh", "-c",
                   "printf '[gateway]\\nlisten = 127.0.0.1:%d\\n' >/data/dead.conf && "
                   "/usr/lib/bmsgw/healthcheck /data/dead.conf; echo rc=$?; rm -f /data/dead.conf" % dead)
        c.ok("rc=1" in r.stdout and "port %d" % dead in r.stdout,
             "unhealthy when a configured port does not answer, naming it (%s)" % r.stdout.strip().splitlines()[0])
        pid = podman("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
        with open("/proc/%s/comm" % pid) as f:
            comm = f.read().strip()
        t0 = time.time()
        podman("kill", "--signal", "TERM", name)
        podman("wait", name, timeout=30)
        t1, code = finished_at(name)
        print("   SIGTERM to exit: %.2f s" % (t1 - t0))
        c.ok(t1 - t0 <= 2.0, "SIGTERM stops it within 2 s (%.2f s)" % (t1 - t0))
        c.eq(code, 0, "and it exits 0")
        logs = podman("logs", name)
        log = logs.stdout
        c.ok("bmsgw %s started" % VERSION in log and "signal 15: shutting down" in log and not logs.stderr.strip(),
             "its log is the container's, on standard output: started, SIGTERM, shutting down (%d lines)"
             % len(log.splitlines()))
        c.eq(comm, "bmsgw", "PID 1 of the container is bmsgw itself")
    finally:
        sim.stop()


def bad_config():
    print("== a bad configuration")
    conf = os.path.join(TMP, "bad.conf")
    with open(conf, "w") as f:
        f.write("[gateway]\nlisten = 127.0.0.1:%d\n[pack.house]\nprotocol = nosuchbms\nport = /dev/null\n"
                % free_port())
    os.chmod(conf, 0o644)
    r = podman("run", "--rm", "--read-only", "--network", "none", "-v", conf + ":/config/bmsgw.ini:ro", IMAGE,
               timeout=60)
    out = r.stdout + r.stderr
    c.ok(r.returncode != 0, "the container ends (exit %d)" % r.returncode)
    c.ok("/config/bmsgw.ini:4" in out, "its log names the file and line: %s" % out.strip().splitlines()[-1:])


# ----------------------------------------------------------------- the add-on

ADDON_NAME = "bmsgw-addon-test-" + RUN_ID


def page_urls(html, js):
    """Every URL the page's HTML and script ask for."""
    urls = re.findall(r'(?:href|src)="([^"#][^"]*)"', html)
    urls += re.findall(r"(?:fetch|EventSource)\('([^']+)'", js)
    urls += re.findall(r"href = '([^']+)'", js)
    return urls


def addon_ingress(ha, name):
    print("== the page under ingress")
    hdr = [INGRESS, "X-Remote-User-Name: ada"]
    status, head, html = ha.curl("/", hdr)
    c.eq(status, 200, "the page through the ingress proxy's address (172.30.32.2)")
    c.ok(re.search(r"^X-Frame-Options: SAMEORIGIN", head, re.M | re.I) is not None,
         "Home Assistant may frame it (X-Frame-Options: SAMEORIGIN)")
    _, _, js = ha.curl("/app.js", hdr)
    urls = page_urls(html, js)
    c.ok(len(urls) >= 6, "the page's links, scripts and API calls found (%s)" % urls)
    panel = "http://homeassistant.local:8123" + PREFIX + "/"
    for u in urls:
        full = urllib.parse.urljoin(panel, u)
        path = urllib.parse.urlparse(full).path
        c.ok(path.startswith(PREFIX + "/"), "%s resolves under the prefix (%s)" % (u, path))
    # what the proxy forwards: the path after the prefix, with the header
    # (the history's with a unit, the event stream for a moment)
    for u in sorted(set(urls)):
        path = "/" + u + ("unit=house&range=24h" if u.endswith("?") else "")
        hd = hdr + (["Accept: text/event-stream"] if u == "api/events" else [])
        status, head, _ = ha.curl(path, hd, max_time=3 if u == "api/events" else 10)
        c.eq(status, 200, "%s%s is served through the proxy" % (PREFIX, path))
    status, _, body = ha.curl("/api/config", hdr)
    c.ok(status == 200 and "pack.house" in body, "/api/config too: Home Assistant's user is an admin")
    # the Supervisor forwards the Host its user's browser sent Home Assistant
    # (a name the add-on cannot know): the proxy's requests are not judged by it
    for h in ("homeassistant.local:8123", "abcdef.ui.nabu.casa"):
        status, _, body = ha.curl("/api/setup/session", hdr + ["Host: " + h])
        c.ok(status == 200 and '"csrf"' in body, "through the proxy with Host: %s (%s)" % (h, status))
    # every user of Home Assistant comes from the proxy's address: twelve
    # live pages at once, more than the quarter of max_clients (32) another
    # address may hold, each answered
    args = ["curl", "-sS", "-Z", "--parallel-immediate", "--parallel-max", "12", "--max-time", "4",
            "-w", "%{http_code}\n", "-H", hdr[0], "-H", "Accept: text/event-stream"]
    for _ in range(12):
        args += ["-o", "/dev/null", "http://%s:8099/api/events" % ADDON_IP]
    r = podman("exec", ha.proxy, *args, timeout=120)
    codes = r.stdout.split()
    c.eq(codes, ["200"] * 12, "twelve event streams at once from the proxy's address, each answered")
    # the header from anywhere else
    r = podman("exec", name, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", hdr[0],
               "http://127.0.0.1:8099/api/config")
    c.eq(r.stdout.strip(), "403", "X-Ingress-Path from 127.0.0.1 (an allowed client) is refused")
    r = podman("exec", name, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
               "http://127.0.0.1:8099/api/state")
    c.eq(r.stdout.strip(), "200", "without the header 127.0.0.1 is served as before")
    r = podman("exec", name, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
               "Host: homeassistant.local:8123", "http://127.0.0.1:8099/api/state")
    c.eq(r.stdout.strip(), "421", "... but not for a name that is not the add-on's (DNS rebinding)")
    status, head, _ = ha.curl("/api/config", hdr, ip=OTHER_IP)
    c.ok(status is None, "X-Ingress-Path from another add-on's address gets no answer (closed: %s)"
         % head.strip().splitlines()[-1:])


def addon_files(name, data):
    ini = open(os.path.join(data, "bmsgw.ini")).read()
    c.ok("[pack.house]" in ini and "protocol = daly" in ini and "address = 1" in ini,
         "bmsgw.ini made from options.json's pack")
    c.ok("ingress = true" in ini and "listen = 0.0.0.0:8099" in ini, "[http] on the ingress port, ingress on")
    c.ok("host = %s" % HASSIO_GW in ini and "username = " + MQTT_USER in ini and "discovery = true" in ini,
         "[mqtt] from the Supervisor's MQTT service, with discovery")
    c.ok(MQTT_PASSWORD not in ini, "the MQTT password is not in bmsgw.ini")
    pw = os.path.join(data, "mqtt-password")
    stt = os.stat(pw)
    c.ok(open(pw).read().strip() == MQTT_PASSWORD and stt.st_uid == 990 and stt.st_mode & 0o077 == 0,
         "it is in /data/mqtt-password, the add-on user's, 0600 (%o)" % (stt.st_mode & 0o777))
    c.ok(("/services/mqtt", "Bearer " + SUPERVISOR_TOKEN) in Supervisor.asked,
         "the Supervisor was asked with SUPERVISOR_TOKEN (%s)" % Supervisor.asked)
    pid = podman("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
    with open("/proc/%s/status" % pid) as f:
        status = f.read()
    uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M).groups()
    with open("/proc/%s/comm" % pid) as f:
        comm = f.read().strip()
    c.ok(comm == "bmsgw" and uid == ("990", "990"), "bmsgw runs as the add-on's user (%s, uid %s)" % (comm, uid))
    caps = {k: int(v, 16) for k, v in re.findall(r"^(Cap\w+):\s+([0-9a-f]+)", status, re.M)}
    c.ok(caps.get("CapEff") == 1 << 10 and caps.get("CapBnd") == 1 << 10,
         "with one capability, to bind port 502 (CAP_NET_BIND_SERVICE): %s" % caps)


def build_addon(base, builder):
    ok, secs = build(ADDON, "addon", base, builder, "--build-arg", "VERSION=" + VERSION,
                     "--build-arg", "HASS_ARCH=" + HASS[ARCH])
    print("   the add-on's image built in %.0f s" % secs)
    if not c.ok(ok, "the add-on's image builds (the Containerfile's stage addon on the local base)"):
        return False
    _cleanup.append(("image", ADDON))
    labels = inspect(ADDON).get("Config", {}).get("Labels") or {}
    c.ok(labels.get("io.hass.version") == VERSION and labels.get("io.hass.arch") == HASS[ARCH]
         and labels.get("io.hass.type") == "addon", "labelled as an add-on of this version and architecture (%s)"
         % {k: v for k, v in labels.items() if k.startswith("io.hass")})
    grow = (size_of(ADDON) - size_of(base)) / 1e6
    print("   the add-on's image: %.1f MB over its base, %.1f MB over the image" % (grow, (size_of(ADDON) -
                                                                                   size_of(IMAGE)) / 1e6))
    return True


def run_addon(base, builder):
    print("== the add-on, as the Supervisor runs it")
    if not build_addon(base, builder):
        return
    try:
        with Hassio(podman, ADDON, RUN_ID) as ha:
            on_hassio(ha)
    except RuntimeError as e:
        c.ok(False, str(e))


def on_hassio(ha):
    from mqtt_harness import Broker, Subscriber
    sim_port, ctl = free_port(), free_port()
    # three packs on the simulator's bus: the options name the first (then
    # the third), the Setup tab adds the second
    sim = Proc([os.path.join(ROOT, BIN, "bmsgw-sim"), "--protocol", "daly", "--control", "127.0.0.1:%d" % ctl,
                "--static", "--tcp", "%s:%d" % (HASSIO_GW, sim_port), "--pack", "address=1", "--pack", "address=2",
                "--pack", "address=3"], "sim")
    wait_port(sim_port, 10, HASSIO_GW)
    mq = free_port()
    broker = Broker(users={MQTT_USER: MQTT_PASSWORD}, extra_conf=["listener %d %s" % (mq, HASSIO_GW)])
    Supervisor.mqtt = {"host": HASSIO_GW, "port": mq, "ssl": False, "protocol": "3.1.1",
                       "username": MQTT_USER, "password": MQTT_PASSWORD, "addon": "core_mosquitto"}
    sub = Subscriber(broker, topics=("homeassistant/#",), username=MQTT_USER, password=MQTT_PASSWORD)
    data = os.path.join(TMP, "addon-data")
    house = {"name": "house", "protocol": "daly", "port": "tcp://%s:%d" % (HASSIO_GW, sim_port), "address": 1}
    options = {"packs": [house], "log_level": "info"}
    r = ha.start_addon(ADDON_NAME, ADDON, data, options)
    try:
        if not c.ok(r.returncode == 0, "the add-on starts%s" % why(r)):
            return
        up = wait_until(lambda: ha.curl("/api/state")[0] == 200, 60, 0.5)
        if not c.ok(up, "its page answers on 8099"):
            print(podman("logs", ADDON_NAME).stderr[-3000:])
            return
        addon_files(ADDON_NAME, data)
        got = sub.wait_for("homeassistant/#", lambda m: b"house" in m.payload, timeout=30)
        c.ok(got is not None, "Home Assistant discovery of pack house received by mosquitto (%s)"
             % (got.topic if got else sorted(sub.topics_seen())[:5]))
        addon_ingress(ha, ADDON_NAME)
        logs = podman("logs", ADDON_NAME)
        c.ok("bmsgw add-on: made /data/bmsgw.ini from the options, MQTT at %s" % HASSIO_GW in logs.stdout
             and "bmsgw %s started" % VERSION in logs.stdout,
             "its log (standard output) says where the configuration came from, then bmsgw's")
        setup_survives(ha, data, options, sim_port)
        user_ini(ha, data)
    finally:
        sub.close()
        broker.stop()
        sim.stop()


def restart(ha, options=None, data=None):
    """The add-on stopped and started again, as at a reboot or an update of
    its options (written first): its page up again."""
    if options is not None:
        with open(os.path.join(data, "options.json"), "w") as f:
            json.dump(options, f)
    r = podman("restart", "-t", "10", ADDON_NAME, timeout=120)
    if not c.ok(r.returncode == 0, "the add-on restarted%s" % why(r)):
        return False
    return c.ok(wait_until(lambda: ha.curl("/api/state", [INGRESS])[0] == 200, 60, 0.5), "its page answers again")


def setup_survives(ha, data, options, sim_port):
    """A pack the Setup tab adds is still polled after a restart."""
    print("== the Setup tab's changes after a restart")
    garage = {"protocol": "daly", "port": "tcp://%s:%d" % (HASSIO_GW, sim_port), "address": "2"}
    st, a = ha.apply(lambda secs: secs.append({"name": "pack.garage", "keys": dict(garage)}))
    c.ok(st == 200 and a.get("applied"), "pack garage applied in the Setup tab through ingress (%s %s)" % (st, a))
    both = ["garage", "house"]
    c.ok(wait_until(lambda: ha.online() == both, 30, 0.5), "both packs polled (%s)" % ha.online())
    if not restart(ha):
        return
    c.ok(wait_until(lambda: ha.online() == both, 30, 0.5), "after a restart both are polled (%s)" % ha.online())
    log = podman("logs", "--since", "60s", ADDON_NAME).stdout
    c.ok("using /data/bmsgw.ini (the Setup tab's changes kept)" in log,
         "the log says the Setup tab's file is used, the options merged in")
    # an option changed since: the pack's address and the log level are
    # merged in, garage stays
    house = dict(options["packs"][0], address=3)
    opts = dict(options, packs=[house], log_level="debug")
    if not restart(ha, opts, data):
        return
    ini = open(os.path.join(data, "bmsgw.ini")).read()
    sect = ini.split("[pack.house]")[1].split("[")[0]
    c.ok("address = 3" in sect and "log_level = debug" in ini and "[pack.garage]" in ini,
         "a change of the options is merged in: house's address, the log level; garage kept")
    log = podman("logs", "--since", "60s", ADDON_NAME).stdout
    c.ok("[pack.house] address set from the options" in log, "the log names the option merged in")
    c.ok(wait_until(lambda: ha.online() == both, 30, 0.5), "both packs polled (%s)" % ha.online())
    # the options' pack removed: it goes, the Setup tab's stays
    opts = dict(opts, packs=[dict(house, name="shed")])
    if restart(ha, opts, data):
        c.ok(wait_until(lambda: ha.online() == ["garage", "shed"], 30, 0.5),
             "a pack renamed in the options replaces its old name, garage stays (%s)" % ha.online())


def user_ini(ha, data):
    conf = os.path.join(TMP, "addon-config")
    os.makedirs(conf)
    with open(os.path.join(conf, "bmsgw.ini"), "w") as f:
        f.write("[gateway]\nlisten = 127.0.0.1:1502\n[pack.mine]\nprotocol = nosuchbms\nport = /dev/null\n")
    r = podman("run", "--rm", "--network", "none", "-v", data + ":/data", "-v", conf + ":/config", ADDON,
               timeout=120)
    out = r.stdout + r.stderr
    c.ok("using /config/bmsgw.ini" in out and "/config/bmsgw.ini:4" in out and r.returncode != 0,
         "a bmsgw.ini in /config is used whole (its error, line 4, ends the add-on)")
    st = os.stat(os.path.join(conf, "bmsgw.ini"))
    c.ok(st.st_gid == 990 and st.st_mode & 0o020 and os.stat(conf).st_mode & 0o020,
         "the Setup tab may write it and its folder (group bmsgw, g+w)")


def check_versions():
    """The add-on is the project's version, everywhere it is written, and
    the Supervisor can pull it for each of its architectures."""
    import yaml
    addon = os.path.join(ROOT, "ha-addon")
    cfg = yaml.safe_load(open(os.path.join(addon, "config.yaml")))
    c.eq(cfg.get("version"), VERSION, "ha-addon/config.yaml's version is the Makefile's")
    c.eq(cfg.get("arch"), ["aarch64", "amd64", "armv7"], "its architectures")
    c.ok(re.fullmatch(r"[a-z0-9.-]+(/[a-z0-9._-]+)+/\{arch\}-[a-z0-9._-]+", cfg.get("image", "")) is not None,
         "its image is pulled from a registry, one for each architecture ({arch}): %s" % cfg.get("image"))
    c.eq(cfg.get("services"), ["mqtt:want"], "it wants the MQTT service")
    c.eq(cfg.get("ports"), {"502/tcp": 502}, "it publishes Modbus TCP only")
    c.ok(cfg.get("ingress") is True and cfg.get("ingress_port") == 8099, "the page under ingress on 8099")
    c.ok(all(cfg.get(k) is True for k in ("uart", "usb", "host_dbus")), "serial adapters and BlueZ")
    c.ok(cfg.get("startup") == "services" and cfg.get("boot") == "auto", "started with the services, at boot")
    build_yaml = yaml.safe_load(open(os.path.join(addon, "build.yaml")))
    c.eq(sorted(build_yaml.get("build_from", {})), cfg.get("arch"), "build.yaml names a base for each architecture")
    c.ok(not os.path.exists(os.path.join(addon, "Dockerfile")),
         "no Dockerfile in ha-addon/: the Supervisor pulls the image, builds nothing")
    c.ok(os.path.exists(os.path.join(ROOT, "repository.yaml")), "repository.yaml at the root")


def cleanup():
    for kind, what in reversed(_cleanup):
        if kind == "container":
            podman("rm", "-f", "-t", "0", what)
        elif kind == "volume":
            podman("volume", "rm", "-f", what)
        elif kind == "image":
            podman("untag", what, what)
    subprocess.run(["rm", "-rf", TMP])


def bases():
    """The target's base and this machine's (testbase.sh), or Nones."""
    t0 = time.monotonic()
    got = []
    for arch in [ARCH] + ([NATIVE] if EMULATED else []):
        r = subprocess.run(["sh", os.path.join(ROOT, "tests/tools/testbase.sh"), arch], capture_output=True,
                           text=True, timeout=3600, env=system_env())
        base = r.stdout.strip()
        if not c.ok(r.returncode == 0 and base, "the local base of %s (debootstrap, kept in podman's store): %s"
                    % (arch, r.stderr.strip()[-500:])):
            return None, None
        got.append(base)
    print("   the bases %s in %.0f s" % (got, time.monotonic() - t0))
    return got[0], got[-1]


def main():
    check_versions()
    if not PODMAN:
        print("skipped: podman is not installed (make deps installs it)")
        return c.report()
    t0 = time.monotonic()
    base, builder = bases()
    if not base:
        return c.report()
    print("   %s (%s%s)" % (PLATFORM, ARCH, ", under qemu-user" if EMULATED else ""))
    try:
        # compiled at -O0 without the hardening flags (MAKE_ARGS), a quicker compile (uncached, this test took
        # 77 s of CPU so, 93.5 s at -O2 in a fresh clone's loaded run); the image is the same but for its
        # binary's code
        ok, secs = build(IMAGE, "image", base, builder, "--build-arg", "MAKE_ARGS=OPT=-O0 HARDEN=")
        print("   the image built in %.0f s" % secs)
        if c.ok(ok, "the image builds (Containerfile, BUILD_FROM the local base)"):
            _cleanup.append(("image", IMAGE))
            check_image(base)
            run_image()
            bad_config()
            run_addon(base, builder)
    finally:
        cleanup()
    print("   all in %.0f s" % (time.monotonic() - t0))
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
