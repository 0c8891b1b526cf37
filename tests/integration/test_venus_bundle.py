# SPDX-License-Identifier: MIT
# run.sh: nice=5 build=normal
"""The Venus OS bundle (make venus, conf/venus/, bmsgw(8) VENUS OS):

- the bundle of this machine's architecture made as `make venus` makes it
  (conf/venus/mkbundle.sh on the normal build, which build=normal waits
  for), its LICENSE listing every library of lib/ with its copyright file;
- the tarball extracted into an empty directory and run there as the root
  (chroot, env -i: no library, no /etc, no /usr but the bundle's) through
  its own loader: --version, --check of the example, bmsgw-sim of the
  bundle as a Daly pack over TCP and bmsgw reading it, mbpoll (outside)
  reading the pack's voltage from bmsgw's Modbus TCP server, the page's
  Chart.js from the bundle (BMSGW_JAVASCRIPT_DIR: 404 before it, the
  root having no /usr/share/javascript).  The bundle of every other
  architecture already built in build/ (make venus ARCH=arm64) is run the
  same way under qemu-user (binfmt_misc); `make venus-check ARCH=` runs
  this part alone for that one (VENUS_ARCHS), and so do the release
  workflow and `make test-release` for the release's (VENUS_DIR);
- the installer against a fake Venus OS root (ROOT=) under busybox sh
  (Venus OS's), with daemontools' svscan on its /service as Venus OS runs
  it: twice (one line in /data/rc.local, before its closing exit; the
  configuration made from the example, setup on, Modbus on 1502; kept the
  second time), the configuration's serial ports withheld from
  serial-starter (its udev rule, stop-tty.sh), bmsgw started by
  supervise and read over Modbus, its log by multilog; a firmware update
  (/service and the rule gone) undone by running /data/rc.local; the
  uninstaller twice: the root as it was, file for file, and no process
  left; a root without rc.local: made, then removed.
"""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Checks, Proc, control_line, free_port, wait_port, wait_until  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-venus-")
ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
ENV["LC_ALL"] = "C"
HOST = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
VERSION = re.search(r"^VERSION := (\S+)", open(os.path.join(ROOT, "Makefile")).read(), re.M).group(1)
# an empty root: no library, no /etc, no PATH; as root a chroot, else in a user namespace
CHROOT = (["env", "-i", "/usr/sbin/chroot"] if os.geteuid() == 0 else
          ["env", "-i", "unshare", "--map-root-user", "/usr/sbin/chroot"])
# Venus OS's shell and tools are busybox's; daemontools' are the real ones
DAEMONTOOLS = ("svc", "svok", "sv", "runsv", "runsvdir", "svlogd", "chpst")


def tgz(arch):
    """The bundle of arch: this machine's made here, the others' in build/,
    or in VENUS_DIR (a release's, make test-release)."""
    top = os.environ.get("VENUS_DIR") or os.path.join(ROOT, "build")
    if arch == HOST and not os.environ.get("VENUS_ARCHS"):
        top = TMP
    return os.path.join(top, "bmsgw-venus_%s_%s.tar.gz" % (VERSION, arch))


def run(args, timeout=120, **kw):
    kw.setdefault("env", ENV)
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def show(r, what):
    for line in (r.stdout + r.stderr).splitlines()[-15:]:
        print("     %s: %s" % (what, line))


def extract(arch, where):
    os.makedirs(where)
    r = run(["tar", "-xzf", tgz(arch), "-C", where])
    return r.returncode == 0 and os.path.isdir(os.path.join(where, "bmsgw"))


def mbpoll(port, reg, count=1):
    r = run(["mbpoll", "-m", "tcp", "-p", str(port), "-a", "1", "-0", "-1", "-r", str(reg), "-c", str(count),
             "127.0.0.1"], timeout=15)
    return [int(v) for v in re.findall(r"\[\d+\]:\s+(-?\d+)", r.stdout)]


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
    except OSError:
        return None, b""


def voltage_served(mb_port, sim_ctl):
    """bmsgw's register 291 (0.01 V) is the simulated pack's voltage."""
    want = __import__("json").loads(control_line(sim_ctl, "state"))["packs"][0]["voltage"]
    got = mbpoll(mb_port, 291)
    return got and abs(got[0] / 100.0 - want) < 0.011 and got[0]


def gateway_conf(sim_port, mb_port, http_port, extra=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\n\n[pack.house]\nprotocol = daly\nport = tcp://127.0.0.1:%d\n"
            "address = 1\npoll_interval = 1\n%s\n[http]\nlisten = 127.0.0.1:%d\nclients = 127.0.0.0/8\n"
            % (mb_port, sim_port, extra, http_port))


# ---- the tarball of this machine's architecture, made here from the
# normal build (build=normal) by what `make venus` runs, into this test's
# directory: no make beside the suite's other steps on build/
def build_host():
    r = run(["sh", os.path.join(ROOT, "conf/venus/mkbundle.sh"), VERSION, HOST, os.path.join(ROOT, "build"),
             tgz(HOST)], timeout=600)
    c.ok(r.returncode == 0 and os.path.isfile(tgz(HOST)),
         "conf/venus/mkbundle.sh (make venus) makes %s: %s" % (os.path.basename(tgz(HOST)), r.stdout.strip()[-80:]))
    if r.returncode != 0:
        show(r, "mkbundle.sh")
        return False
    lic = run(["tar", "-xzOf", tgz(HOST), "bmsgw/LICENSE"]).stdout
    names = run(["tar", "-tzf", tgz(HOST)]).stdout.split()
    libs = sorted(n.split("/")[-1] for n in names if n.startswith("bmsgw/lib/") and ".so" in n)
    c.ok(len(libs) > 20 and all(re.search(r"^  %s\s+\S+ \S+$" % re.escape(so), lic, re.M) for so in libs),
         "LICENSE names each of the %d libraries with its package and version" % len(libs))
    pkgs = set(re.findall(r"^  \S+\s+(\S+) \S+$", lic, re.M))
    c.ok(pkgs and all("bmsgw/share/copyright/" + p in names for p in pkgs),
         "each library's copyright file ships (%d packages)" % len(pkgs))
    c.ok("MIT License" in lic and "bmsgw/share/man/man8/bmsgw.8" in names and
         "bmsgw/share/javascript/chart.js/chart.min.js" in names and "bmsgw/install.sh" in names,
         "bmsgw's licence, the man pages, Chart.js and the installer are in it")
    return True


# ---- the bundle alone in an empty root
def in_root(top, loader, prog, *args):
    return CHROOT + [top, "/bmsgw/lib/" + loader, "--inhibit-cache", "--library-path", "/bmsgw/lib",
                     "/bmsgw/lib/" + prog] + list(args)


def run_alone(arch):
    top = os.path.join(TMP, "root-" + arch)
    if not extract(arch, top):
        c.ok(False, "%s: the tarball extracts" % arch)
        return
    c.eq(sorted(os.listdir(top)), ["bmsgw"], "%s: the empty root holds the bundle only" % arch)
    loader = [f for f in os.listdir(os.path.join(top, "bmsgw", "lib")) if f.startswith("ld-linux")]
    c.eq(len(loader), 1, "%s: one loader in lib/ (%s)" % (arch, loader))
    if len(loader) != 1:
        return
    loader = loader[0]
    r = run(in_root(top, loader, "bmsgw", "--version"))
    c.eq(r.stdout.strip(), "bmsgw " + VERSION, "%s: bmsgw --version in the empty root" % arch)
    if r.returncode != 0:
        show(r, "--version")
    r = run(in_root(top, loader, "bmsgw", "-c", "/bmsgw/share/examples/bmsgw.ini", "--check"))
    c.ok(r.returncode == 0 and "configuration OK" in r.stdout, "%s: --check of the example passes" % arch)
    sim_port, sim_ctl, mb_port, http_port = free_port(), free_port(), free_port(), free_port()
    sim = Proc(in_root(top, loader, "bmsgw-sim", "--protocol", "daly", "--tcp", "127.0.0.1:%d" % sim_port,
                       "--control", "127.0.0.1:%d" % sim_ctl, "--static", "--pack", "address=1"), "sim-" + arch)
    if not c.ok(wait_port(sim_ctl, 60) and wait_port(sim_port, 30), "%s: bmsgw-sim of the bundle listens" % arch):
        sim.dump()
        return
    os.makedirs(os.path.join(top, "state"))
    with open(os.path.join(top, "bmsgw.ini"), "w") as f:
        f.write(gateway_conf(sim_port, mb_port, http_port))

    def gateway(js):
        env = ["STATE_DIRECTORY=/state"] + (["BMSGW_JAVASCRIPT_DIR=/bmsgw/share/javascript"] if js else [])
        cmd = in_root(top, loader, "bmsgw", "-c", "/bmsgw.ini")
        return Proc(cmd[:2] + env + cmd[2:], "gw-" + arch)
    gw = gateway(False)
    up = wait_port(mb_port, 60) and wait_port(http_port, 30)
    c.ok(up, "%s: bmsgw of the bundle serves Modbus TCP and its page" % arch)
    if not up:
        gw.dump()
        return
    v = wait_until(lambda: voltage_served(mb_port, sim_ctl), 60)
    c.ok(v, "%s: mbpoll reads the simulated pack's voltage from it (%s x 0.01 V)" % (arch, v))
    code, _ = http_get(http_port, "/javascript/chart.js/chart.min.js")
    c.eq(code, 404, "%s: without BMSGW_JAVASCRIPT_DIR the empty root has no Chart.js" % arch)
    gw.stop()
    gw = gateway(True)
    c.ok(wait_port(http_port, 60), "%s: bmsgw again, with BMSGW_JAVASCRIPT_DIR" % arch)
    code, body = http_get(http_port, "/javascript/chart.js/chart.min.js")
    with open(os.path.join(top, "bmsgw/share/javascript/chart.js/chart.min.js"), "rb") as f:
        c.ok(code == 200 and body == f.read(), "%s: the page's Chart.js is the bundle's (%s)" % (arch, code))
    code, body = http_get(http_port, "/")
    c.ok(code == 200 and b"chart.min.js" in body, "%s: the page itself (%s)" % (arch, code))
    c.eq(gw.stop(), 0, "%s: bmsgw ends cleanly on SIGTERM" % arch)
    sim.stop()


# ---- the installer against a fake Venus OS root
def snapshot(top):
    """Every path under top: its kind, mode and content (or link target)."""
    seen = {}
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                what = "-> " + os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = hashlib.sha256(f.read()).hexdigest()
            else:
                what = ""
            seen[os.path.relpath(p, top)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), what)
    return seen


def fake_venus(top, rc_local=True):
    """A Venus OS root as the installer sees it: /data (rc.local, another
    driver's serial-starter.d), /service, udev's rules, serial-starter's
    stop-tty.sh and start-tty.sh (they log their tty to SS_LOG), a by-id link."""
    for d in ("data/conf/serial-starter.d", "service", "etc/udev/rules.d", "var/log", "dev/serial/by-id",
              "opt/victronenergy/serial-starter"):
        os.makedirs(os.path.join(top, d))
    if rc_local:
        with open(os.path.join(top, "data/rc.local"), "w") as f:
            f.write("#!/bin/bash\n# the owner's own\necho booted >/dev/null\n\nexit 0\n")
        os.chmod(os.path.join(top, "data/rc.local"), 0o755)
    with open(os.path.join(top, "data/conf/serial-starter.d/other.conf"), "w") as f:
        f.write("service   sbattery    dbus-serialbattery\n")
    with open(os.path.join(top, "etc/udev/rules.d/serial-starter.rules"), "w") as f:
        f.write('ACTION=="add", SUBSYSTEM=="tty", SUBSYSTEMS=="platform|usb-serial", SYMLINK+="serial-starter/%k"\n')
    for verb in ("stop", "start"):
        p = os.path.join(top, "opt/victronenergy/serial-starter/%s-tty.sh" % verb)
        with open(p, "w") as f:
            f.write('#!/bin/sh\necho "%s $1" >>"$SS_LOG"\n' % verb)
        os.chmod(p, 0o755)
    os.symlink(os.path.join("..", "..", "ttyUSB3"), os.path.join(top, "dev/serial/by-id/usb-FTDI_TEST-if00-port0"))


def busybox_path():
    """A PATH whose tools are busybox's, daemontools' after them."""
    bb = os.path.join(TMP, "busybox")
    os.makedirs(bb)
    for name in run(["busybox", "--list"]).stdout.split():
        if name not in DAEMONTOOLS:
            os.symlink(shutil.which("busybox"), os.path.join(bb, name))
    return bb + ":/usr/bin:/bin:/usr/sbin:/sbin"


def venus_sh(script, root, path, ss_log, *args):
    env = {"PATH": path, "ROOT": root, "SS_LOG": ss_log, "LC_ALL": "C"}
    return run(["busybox", "sh", script] + list(args), env=env)


def lines_with(path, text):
    with open(path) as f:
        return [l for l in f.read().splitlines() if text in l]


def check_first_install(r, bundle_dir, dest, rc):
    c.ok(r.returncode == 0, "install.sh under busybox sh")
    if r.returncode != 0:
        show(r, "install.sh")
    for f in ("bin/bmsgw", "bin/bmsgw-sim", "lib/bmsgw", "share/man/man8/bmsgw.8", "LICENSE", "boot.sh",
              "uninstall.sh", "share/javascript/chart.js/chart.min.js"):
        c.ok(os.path.isfile(os.path.join(dest, f)), "installed /data/bmsgw/" + f)
    conf = open(os.path.join(dest, "etc/bmsgw.ini")).read()
    c.ok(re.search(r"^listen = 0\.0\.0\.0:1502 ", conf, re.M) and re.search(r"^setup = true ", conf, re.M)
         and "[pack." not in conf.replace(";[pack.", ""),
         "etc/bmsgw.ini made from the example: no pack, the Setup tab on, Modbus on 1502")
    c.ok(re.search(r"^\[venus\]\nenabled = true ", conf, re.M),
         "etc/bmsgw.ini has [venus] on: each pack a battery service on the GX's D-Bus")
    r = run([os.path.join(dest, "bin/bmsgw"), "-c", os.path.join(dest, "etc/bmsgw.ini"), "--check"])
    c.ok(r.returncode == 0, "the configuration made passes --check")
    c.ok(re.search(r"^venus\n  bus +the system bus", r.stdout, re.M),
         "--check of the configuration made names the venus output on the system bus")
    c.eq(open(rc).read().splitlines()[-1], "exit 0", "rc.local's closing exit stays last")


def install_twice(bundle, root, path, ss_log, ports):
    dest = os.path.join(root, "data/bmsgw")
    rc = os.path.join(root, "data/rc.local")
    check_first_install(venus_sh(bundle, root, path, ss_log), os.path.dirname(bundle), dest, rc)
    with open(os.path.join(dest, "etc/bmsgw.ini"), "w") as f:
        f.write(ports)
    r = venus_sh(bundle, root, path, ss_log)
    c.ok(r.returncode == 0, "install.sh again")
    c.eq(len(lines_with(rc, "boot.sh")), 1, "one line in /data/rc.local after two installs")
    c.ok(open(os.path.join(dest, "etc/bmsgw.ini")).read() == ports, "the second install keeps the configuration")
    rules = os.path.join(root, "etc/udev/rules.d/99-bmsgw-ports.rules")
    text = open(rules).read() if os.path.exists(rules) else ""
    c.ok('KERNEL=="ttyUSB7", ENV{VE_SERVICE}="ignore"' in text and
         'SYMLINK=="serial/by-id/usb-FTDI_TEST-if00-port0", ENV{VE_SERVICE}="ignore"' in text and
         "ttyUSB9" not in text, "the configuration's serial ports withheld from serial-starter (udev rule)")
    log = open(ss_log).read().split("\n") if os.path.exists(ss_log) else []
    c.ok("stop ttyUSB7" in log and "stop ttyUSB3" in log, "serial-starter's stop-tty.sh let go of ttyUSB7, ttyUSB3")
    svc = os.path.join(root, "service/bmsgw")
    run_text = open(os.path.join(svc, "run")).read() if os.path.exists(os.path.join(svc, "run")) else ""
    c.ok("exec %s/bin/bmsgw -c %s/etc/bmsgw.ini" % (dest, dest) in run_text and
         "multilog" in open(os.path.join(svc, "log/run")).read(), "the service's run and log/run")


def service_up(root, mb_port, sim_ctl, what):
    v = wait_until(lambda: voltage_served(mb_port, sim_ctl), 90, 0.5)
    c.ok(v, "%s: bmsgw under supervise serves the pack (%s x 0.01 V)" % (what, v))
    return v


def svstat_pid(svc):
    r = run(["svstat", svc])
    m = re.search(r": up \(pid (\d+)\)", r.stdout)
    return int(m.group(1)) if m else None


def installer():
    top = os.path.join(TMP, "bundle")
    if not extract(HOST, top):
        c.ok(False, "the tarball extracts")
        return
    bundle = os.path.join(top, "bmsgw/install.sh")
    root = os.path.join(TMP, "venus")
    fake_venus(root)
    before = snapshot(root)
    path = busybox_path()
    ss_log = os.path.join(TMP, "serial-starter.log")
    sim_port, sim_ctl, mb_port, http_port = free_port(), free_port(), free_port(), free_port()
    sim = Proc([os.path.join(top, "bmsgw/bin/bmsgw-sim"), "--protocol", "daly", "--tcp", "127.0.0.1:%d" % sim_port,
                "--control", "127.0.0.1:%d" % sim_ctl, "--static", "--pack", "address=1"], "sim")
    wait_port(sim_ctl, 30)
    ports = gateway_conf(sim_port, mb_port, http_port,
                         "\n[pack.rs485]\nprotocol = daly\nport = /dev/ttyUSB7     ; the adapter\n"
                         "\n[pack.usb]\nprotocol = jbd\nport = /dev/serial/by-id/usb-FTDI_TEST-if00-port0\n"
                         ";port = /dev/ttyUSB9\n")
    install_twice(bundle, root, path, ss_log, ports)
    scan = Proc(["svscan", os.path.join(root, "service")], "svscan")
    svc = os.path.join(root, "service/bmsgw")
    try:
        if service_up(root, mb_port, sim_ctl, "installed"):
            c.ok(wait_until(lambda: os.path.exists(os.path.join(root, "data/bmsgw/state/setup-code")), 30),
                 "its state in /data/bmsgw/state (the setup code)")
            code, body = http_get(http_port, "/javascript/chart.js/chart.min.js")
            c.ok(code == 200 and len(body) > 100000, "the page's Chart.js from /data/bmsgw/share (%s)" % code)
            logf = os.path.join(root, "var/log/bmsgw/current")
            c.ok(wait_until(lambda: os.path.exists(logf) and "bmsgw " + VERSION in open(logf).read(), 30),
                 "its log by multilog in /var/log/bmsgw")
        # a firmware update: a new / (no service, no udev rule, a new /var/log), /data kept
        old = svstat_pid(svc)
        run(["svc", "-dx", svc, svc + "/log"])
        wait_until(lambda: run(["svok", svc]).returncode != 0 and run(["svok", svc + "/log"]).returncode != 0, 30)
        for p in (svc, os.path.join(root, "var/log/bmsgw")):
            shutil.rmtree(p)
        os.unlink(os.path.join(root, "etc/udev/rules.d/99-bmsgw-ports.rules"))
        c.ok(old and not os.path.exists("/proc/%d" % old), "the old bmsgw has stopped")
        r = venus_sh(os.path.join(root, "data/rc.local"), root, path, ss_log)
        c.ok(r.returncode == 0, "/data/rc.local at the next boot")
        if service_up(root, mb_port, sim_ctl, "after a firmware update, /data/rc.local"):
            c.ok(os.path.exists(os.path.join(root, "etc/udev/rules.d/99-bmsgw-ports.rules")),
                 "the udev rule made again")
        pid = svstat_pid(svc)
        for n in (1, 2):
            script = os.path.join(root, "data/bmsgw/uninstall.sh") if n == 1 else \
                os.path.join(top, "bmsgw/uninstall.sh")
            r = venus_sh(script, root, path, ss_log)
            c.ok(r.returncode == 0, "uninstall.sh, %s time" % ("a first", "a second")[n - 1])
            if r.returncode != 0:
                show(r, "uninstall.sh")
            after = snapshot(root)
            diff = sorted(set(after.items()) ^ set(before.items()))
            c.eq(diff[:6], [], "the root as it was before the install (%d differences)" % len(diff))
        c.ok(pid and not os.path.exists("/proc/%d" % pid), "bmsgw stopped by the uninstall")
        log = open(ss_log).read().split("\n")
        c.ok("start ttyUSB7" in log and "start ttyUSB3" in log, "the ports given back to serial-starter")
    finally:
        for d in (svc, os.path.join(root, "service/.bmsgw")):
            if os.path.isdir(d):
                run(["svc", "-dx", d, d + "/log"])
        scan.stop()
        sim.stop()


def installer_without_rc_local():
    root = os.path.join(TMP, "venus-bare")
    fake_venus(root, rc_local=False)
    before = snapshot(root)
    path = os.path.join(TMP, "busybox") + ":/usr/bin:/bin:/usr/sbin:/sbin"
    ss_log = os.path.join(TMP, "serial-starter-bare.log")
    r = venus_sh(os.path.join(TMP, "bundle/bmsgw/install.sh"), root, path, ss_log)
    rc = os.path.join(root, "data/rc.local")
    c.ok(r.returncode == 0 and os.access(rc, os.X_OK) and open(rc).read().startswith("#!/bin/sh\n") and
         len(lines_with(rc, "boot.sh")) == 1, "no rc.local: one made, executable, with the line")
    r = venus_sh(os.path.join(root, "data/bmsgw/uninstall.sh"), root, path, ss_log)
    c.ok(r.returncode == 0 and snapshot(root) == before, "its uninstall removes the rc.local it made too")


def main():
    try:
        only = os.environ.get("VENUS_ARCHS")
        if only:
            for arch in only.split():
                if c.ok(os.path.isfile(tgz(arch)), "%s exists" % os.path.basename(tgz(arch))):
                    run_alone(arch)
            return c.report()
        if build_host():
            run_alone(HOST)
            # the other architectures' where they are built already (make venus ARCH=)
            for arch in ("arm64", "armhf"):
                if arch != HOST and os.path.isfile(tgz(arch)):
                    run_alone(arch)
            installer()
            installer_without_rc_local()
        return c.report()
    finally:
        shutil.rmtree(TMP, True)


if __name__ == "__main__":
    sys.exit(main())
