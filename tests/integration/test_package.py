# SPDX-License-Identifier: MIT
# run.sh: uses=/var/lib/bmsgw nice=5 build=normal
"""Installation and packaging: make install / uninstall, the systemd unit,
the man pages, make deb, and the package installed and removed with dpkg.

- every key of bmsgw --keys (every section's, conf's and the rooms') is documented in bmsgw.ini(5) in
  its section, with its default, its largest value and its words; every
  option of `bmsgw --help` and every protocol in bmsgw(8) / bmsgw.ini(5);
  every page (bmsgw(8), bmsgw.ini(5), the bmsgw-*(7) topic pages) renders
  without a groff warning; bmsgw(8)'s SYSTEMD section shows lines of the
  packaged unit, each of them in it;
- `make install DESTDIR=...` installs exactly the expected files (every
  page among them), never overwrites a bmsgw.ini that exists, and
  `make uninstall` leaves only it;
- `systemd-analyze verify` is silent on the unit (a prefix where the
  binary and the man pages really are, then the unit dpkg installed);
- `make deb` builds a lintian-clean package of the normal build;
- dpkg -i / -r / -P (as root; a bmsgw package installed before the test
  is a failure, never touched).  No systemd needs to run.
Everything it creates is removed on exit, also on SIGINT/SIGTERM.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-pkg-")
CONF = "/etc/bmsgw/bmsgw.ini"
STATE = ("/var/lib/bmsgw", "/var/lib/private/bmsgw")
# sub-makes must not inherit the suite's make (jobserver descriptors, flags)
ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
ENV["LC_ALL"] = "C"
cleanup = {"dpkg": False, "private": False}


def run(args, **kw):
    kw.setdefault("env", ENV)
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300, **kw)


def show(r, what):
    """Print a failed command's output under the check."""
    for line in (r.stdout + r.stderr).splitlines()[-20:]:
        print("     %s: %s" % (what, line))


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def files_under(top):
    out = set()
    for d, _, fs in os.walk(top):
        for f in fs:
            out.add(os.path.relpath(os.path.join(d, f), top))
    return out


def dpkg_status():
    r = run(["dpkg-query", "-W", "-f=${Status}", "bmsgw"])
    return r.stdout.strip() if r.returncode == 0 else ""


def dpkg(args):
    """dpkg, waiting up to a minute for another apt/dpkg to let go of its lock."""
    for _ in range(60):
        r = run(["dpkg"] + args)
        if r.returncode == 0 or "lock" not in r.stderr:
            return r
        time.sleep(1)
    return r


def on_exit():
    if cleanup["dpkg"] and dpkg_status():
        dpkg(["-P", "bmsgw"])
    if cleanup["private"]:
        for p in STATE:
            if os.path.islink(p):
                os.unlink(p)
            elif os.path.isdir(p):
                shutil.rmtree(p)
        if cleanup["private"] == "created":
            try:
                os.rmdir("/var/lib/private")
            except OSError:
                pass
    shutil.rmtree(TMP, ignore_errors=True)


def on_signal(sig, frame):
    raise SystemExit(128 + sig)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)

VERSION = re.search(r"^VERSION\s*:=\s*(\S+)", read(os.path.join(ROOT, "Makefile")), re.M).group(1)
EXE = os.path.join(ROOT, BIN, "bmsgw")
# the man pages of conf/: {section: [file names]}, bmsgw.8, bmsgw.ini.5 and the topic pages
PAGES = {}
for _f in sorted(os.listdir(os.path.join(ROOT, "conf"))):
    _m = re.fullmatch(r"bmsgw[\w.-]*\.([1-9])", _f)
    if _m:
        PAGES.setdefault(_m.group(1), []).append(_f)


# ------------------------------------------------------------------ man pages

def roff_text(s):
    """Roff source text as a reader sees it: no font escapes, plain hyphens."""
    s = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", s)
    s = s.replace("\\-", "-").replace("\\(en", "-").replace("\\(mu", "x").replace("\\c", "")
    return s.replace('"', "")


def man_sections(path):
    """{heading: {key: entry text}} of a page: .SH/.SS headings, and in each
    the ".TP" entries whose tag is ".B key" (or .BR/.BI)."""
    out, heading, key, prev = {}, "", None, ""
    for line in read(path).splitlines():
        if line.startswith(".\\\""):
            continue
        m = re.match(r"\.(SH|SS)\s+(.*)", line)
        if m:
            heading = roff_text(m.group(2)).strip()
            out.setdefault(heading, {})
            key = None
        elif prev == ".TP" and re.match(r"\.B[IR]?\s", line):
            key = roff_text(line.split(None, 1)[1]).split()[0]
            out[heading][key] = ""
        elif line.startswith(".TP"):
            key = None
        elif key is not None:
            out[heading][key] += roff_text(line) + "\n"
        prev = line.strip()
    return out


def conf_keys():
    """[(section word, key, type, min, max, words, default)] of every section in force, from bmsgw --keys
    (conf's own and the rooms' sections alike)."""
    rows = [ln.split("\t") for ln in run([EXE, "--keys"]).stdout.splitlines()]
    names = [(r[0], r[1]) for r in rows]
    kts = {"int": "KT_INT", "double": "KT_DOUBLE", "range": "KT_RANGE"}
    keys = [(sec, name, kts.get(typ, typ), lo.lstrip(">"), hi, [w for w in words.split(",") if w],
             None if default == "-" else default)
            for sec, name, typ, lo, hi, words, default, _ in (r for r in rows if len(r) == 8)]
    return names, keys


def test_man_pages():
    ini5 = os.path.join(ROOT, "conf/bmsgw.ini.5")
    man8 = os.path.join(ROOT, "conf/bmsgw.8")
    names, keys = conf_keys()
    c.ok(len(names) >= 29, "bmsgw --keys read: %d keys" % len(names))
    c.eq(len(keys), len(names), "every line of bmsgw --keys has the layout this test reads")
    doc = man_sections(ini5)
    # SEC_GATEWAY -> "[gateway]", SEC_PACK -> "[pack.NAME]", a new SEC_MQTT -> "[mqtt]" ...
    head_of = {}
    for sec in dict.fromkeys(k[0] for k in keys):
        heads = [h for h in doc if re.match(r"\[%s(\]|\.)" % re.escape(sec), h)]
        if c.ok(len(heads) == 1, "bmsgw.ini(5) has a subsection for section %s: %s" % (sec, heads)):
            head_of[sec] = heads[0]
    for sec, name, kt, lo, hi, words, default in keys:
        if sec not in head_of:
            c.ok(False, "bmsgw.ini(5) documents %s in [%s]" % (name, sec))
            continue
        where = "%s %s" % (head_of[sec], name)
        entry = doc[head_of[sec]].get(name)
        if not c.ok(entry is not None, "bmsgw.ini(5) documents %s" % where):
            continue
        if default is not None:
            c.ok("Default: " + default in entry, "%s: default %s documented" % (where, default))
        else:
            c.ok("Default:" in entry or "Required" in entry, "%s: its default or Required documented" % where)
        if kt in ("KT_INT", "KT_DOUBLE", "KT_RANGE") and re.fullmatch(r"[0-9.]+", hi):
            # written as %g would (247, 0.5) or in full (1000000, not 1e+06)
            forms = {"%g" % float(hi)} | ({"%d" % float(hi)} if float(hi).is_integer() else set())
            c.ok(any(re.search(r"(?<![0-9.])%s(?![0-9])" % re.escape(f), entry) for f in forms),
                 "%s: largest value %g documented" % (where, float(hi)))
        for w in words:
            c.ok(re.search(r"\b%s\b" % re.escape(w), entry) is not None, "%s: word %s documented" % (where, w))
    table = {(s, n) for s, n, *_ in keys}
    for head, entries in doc.items():
        m = re.match(r"\[(\w+)", head)
        for k in entries if m else ():
            c.ok((m.group(1), k) in table, "bmsgw.ini(5) [%s] %s is a key of bmsgw --keys" % (m.group(1), k))

    help_text = run([EXE, "--help"]).stdout
    opts = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])\b", help_text)))
    c.ok(len(opts) >= 12, "options of bmsgw --help: %s" % " ".join(opts))
    tags = set()
    for tag in man_sections(man8).get("OPTIONS", {}):
        tags.add(tag)
    optlines = re.findall(r"^\.TP\n(\..*)$", read(man8).split(".SH OPTIONS")[1].split("\n.SH")[0], re.M)
    for line in optlines:
        tags.update(re.findall(r"--?[A-Za-z][\w-]*", roff_text(line)))
    for o in opts:
        c.ok(o in tags, "bmsgw(8) OPTIONS documents %s" % o)
    m = re.search(r"^protocols:(.*)$", help_text, re.M)
    protos = m.group(1).split() if m else []
    c.ok(len(protos) >= 10, "protocols of bmsgw --help: %s" % " ".join(protos))
    ini_protocol = man_sections(ini5).get("[pack.NAME]", {}).get("protocol", "")
    for p in protos:
        c.ok(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(p), ini_protocol) is not None,
             "bmsgw.ini(5) protocol lists %s" % p)
    man8_text = roff_text(read(man8))
    for p in protos:
        c.ok(p in man8_text, "bmsgw(8) names protocol %s" % p)

    c.ok(len(PAGES.get("7", [])) >= 3, "topic pages bmsgw-*(7): %s" % PAGES.get("7"))
    for page in [os.path.join(ROOT, "conf", f) for fs in PAGES.values() for f in fs]:
        r = run(["groff", "-ww", "-man", "-z", page])
        if not c.ok(r.returncode == 0 and not r.stderr.strip(), "groff -ww -man: %s renders without warnings"
                    % os.path.basename(page)):
            show(r, "groff")


# ------------------------------------------------------------------ make install

def unit_lines(path):
    return [l.strip() for l in read(path).splitlines() if l.strip() and not l.startswith("#")]


def check_unit(path, bindir, etc, confdir):
    lines = unit_lines(path)
    text = "\n".join(lines)
    c.ok("@" not in text.replace("@system-service", "").replace("@privileged", ""),
         "unit: every @placeholder@ filled in")
    c.ok("ExecStart=%s/bmsgw -c %s/bmsgw/bmsgw.ini" % (bindir, etc) in lines,
         "unit: ExecStart=%s/bmsgw -c %s/bmsgw/bmsgw.ini" % (bindir, etc))
    c.eq("ConfigurationDirectory=bmsgw" in lines, confdir, "unit: ConfigurationDirectory= only for /etc")
    for want in ("Type=notify", "WatchdogSec=30", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                 "DynamicUser=yes", "SupplementaryGroups=dialout bmsgw", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                 "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "DevicePolicy=closed", "DeviceAllow=char-ttyUSB rw", "DeviceAllow=char-ttyACM rw",
                 "DeviceAllow=char-ttyS rw", "DeviceAllow=char-ttyAMA rw", "StateDirectory=bmsgw",
                 "WantedBy=multi-user.target"):
        c.ok(want in lines, "unit: %s" % want)
    fam = [l for l in lines if l.startswith("RestrictAddressFamilies=")]
    c.ok(len(fam) == 1 and set(fam[0].split("=", 1)[1].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"},
         "unit: RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX (sd_notify)")
    nofile = [int(l.split("=")[1]) for l in lines if re.fullmatch(r"LimitNOFILE=\d+", l)]
    c.ok(nofile and nofile[0] >= 10000 + 64, "unit: LimitNOFILE= covers max_clients 10000 (%s)" % nofile)


def verify_unit(unit, manpath, what):
    env = dict(ENV, MANPATH=manpath) if manpath else ENV
    r = run(["systemd-analyze", "verify", unit], env=env)
    out = (r.stdout + r.stderr).strip()
    if not c.ok(r.returncode == 0 and not out, "systemd-analyze verify is silent on %s" % what):
        show(r, "verify")


def test_make_install():
    dest = os.path.join(TMP, "stage")
    r = run(["make", "-s", "install", "DESTDIR=" + dest])
    if not c.ok(r.returncode == 0, "make install DESTDIR=%s" % dest):
        show(r, "make")
        return
    examples = sorted(f for f in os.listdir(os.path.join(ROOT, "conf")) if f.endswith(".ini"))
    want = {"usr/local/bin/bmsgw", "usr/local/lib/systemd/system/bmsgw.service", "usr/local/share/doc/bmsgw/README.md", "usr/local/share/doc/bmsgw/LICENSE",
            "usr/local/share/doc/bmsgw/register-map.md", "usr/local/share/doc/bmsgw/PROTOCOLS.md",
            "usr/local/etc/bmsgw/bmsgw.ini"}
    want |= {"usr/local/share/doc/bmsgw/examples/" + f for f in examples}
    want |= {"usr/local/share/man/man%s/%s" % (sec, f) for sec, fs in PAGES.items() for f in fs}
    c.ok({"usr/local/share/man/man8/bmsgw.8", "usr/local/share/man/man5/bmsgw.ini.5"} <= want,
         "the expected files hold bmsgw(8) and bmsgw.ini(5)")
    got = files_under(dest)
    c.eq(sorted(got - want), [], "make install: no file beyond the expected ones")
    c.eq(sorted(want - got), [], "make install: every expected file")
    b = os.path.join(dest, "usr/local/bin/bmsgw")
    c.ok(os.access(b, os.X_OK) and run([b, "--version"]).stdout.strip() == "bmsgw " + VERSION,
         "installed bmsgw --version says %s" % VERSION)
    conf = os.path.join(dest, "usr/local/etc/bmsgw/bmsgw.ini")
    c.ok(os.path.exists(conf) and read(conf) == read(os.path.join(ROOT, "conf/bmsgw.ini")),
         "make install: bmsgw.ini is conf/bmsgw.ini")
    r = run([b, "-c", conf, "--check"])
    c.ok(r.returncode == 0, "the default bmsgw.ini passes --check")
    check_unit(os.path.join(dest, "usr/local/lib/systemd/system/bmsgw.service"), "/usr/local/bin",
               "/usr/local/etc", False)

    with open(conf, "a") as f:
        f.write("; edited by the user\n")
    mine = read(conf)
    r = run(["make", "-s", "install", "DESTDIR=" + dest])
    c.ok(r.returncode == 0 and read(conf) == mine, "a second make install keeps the user's bmsgw.ini")
    r = run(["make", "-s", "uninstall", "DESTDIR=" + dest])
    c.ok(r.returncode == 0, "make uninstall DESTDIR=%s" % dest)
    c.eq(sorted(files_under(dest)), ["usr/local/etc/bmsgw/bmsgw.ini"], "make uninstall leaves only bmsgw.ini")
    c.ok(os.path.exists(conf) and read(conf) == mine, "make uninstall keeps the user's edit")
    c.ok(not os.path.exists(os.path.join(dest, "usr/local/share/doc/bmsgw")), "make uninstall: docdir removed")

    # a prefix where the files really are: verify sees the binary and the pages
    pre = os.path.join(TMP, "prefix")
    r = run(["make", "-s", "install", "PREFIX=" + pre])
    if not c.ok(r.returncode == 0, "make install PREFIX=%s" % pre):
        show(r, "make")
        return
    verify_unit(os.path.join(pre, "lib/systemd/system/bmsgw.service"), os.path.join(pre, "share/man"),
                "the unit of make install PREFIX=%s" % pre)


# ------------------------------------------------------------------ make deb

def deb_path():
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    return os.path.join(ROOT, "build", "bmsgw_%s_%s.deb" % (VERSION, arch)), arch


def needed_packages(binary):
    """The Debian packages of the libraries the binary needs (its NEEDED
    entries, found by ldd, owned per dpkg -S)."""
    needed = set(re.findall(r"^\s*NEEDED\s+(\S+)", run(["objdump", "-p", binary]).stdout, re.M))
    out = run(["ldd", binary]).stdout
    pkgs = set()
    for m in re.finditer(r"^\s*(\S+) => (\S+)", out, re.M):
        if m.group(1) not in needed:
            continue  # a library of a library: its own package depends on it
        owner = run(["dpkg", "-S", os.path.realpath(m.group(2))]).stdout
        if not owner:
            owner = run(["dpkg", "-S", m.group(2)]).stdout
        if owner:
            pkgs.add(owner.split(":")[0].split(",")[0].strip())
    return pkgs


def test_make_deb():
    deb, arch = deb_path()
    if os.path.exists(deb):
        os.unlink(deb)
    r = run(["make", "deb"])
    if not c.ok(r.returncode == 0 and os.path.exists(deb), "make deb builds %s" % os.path.relpath(deb, ROOT)):
        show(r, "make deb")
        return None
    c.ok("build/san" not in r.stdout, "make deb uses the normal build, not the sanitizer one")
    field = lambda f: run(["dpkg-deb", "-f", deb, f]).stdout.strip()  # noqa: E731
    c.eq(field("Package"), "bmsgw", "package name")
    c.eq(field("Version"), VERSION, "package version is the Makefile's")
    c.eq(field("Architecture"), arch, "package architecture")
    dep = field("Depends")
    want = needed_packages(os.path.join(ROOT, "build", "bmsgw")) | {"procps", "adduser"}
    missing = sorted(d for d in want if not re.search(r"(^|[ ,|])%s\b" % re.escape(d), dep))
    c.ok(len(want) > 5 and not missing, "Depends computed from the binary's libraries (%s): missing %s" %
         (dep, missing))
    listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    c.ok(listing and all(" root/root " in l for l in listing), "every file is root:root")
    paths = {l.split()[-1].lstrip(".") for l in listing}
    pages = ["/usr/share/man/man%s/%s.gz" % (sec, f) for sec, fs in PAGES.items() for f in fs]
    for p in ["/usr/bin/bmsgw", CONF, "/usr/share/doc/bmsgw/copyright", "/usr/share/doc/bmsgw/changelog.gz",
              "/usr/share/doc/bmsgw/examples/bank.ini"] + pages:
        c.ok(p in paths, "package holds %s" % p)
    units = [p for p in paths if p.endswith("/systemd/system/bmsgw.service")]
    c.ok(len(units) == 1, "package holds the unit: %s" % units)
    c.eq([p for p in paths if re.search(r"bmsgw-sim|mbread|mbbench|/tests?/", p)], [], "nothing test-only")
    x = os.path.join(TMP, "deb")
    run(["dpkg-deb", "-x", deb, x])
    sections = run(["readelf", "-S", os.path.join(x, "usr/bin/bmsgw")]).stdout
    c.ok(".text" in sections and ".debug_" not in sections and ".symtab" not in sections,
         "the binary is stripped (no debug sections, no symbol table)")
    if units:
        check_unit(x + units[0], "/usr/bin", "/etc", True)
        # bmsgw(8)'s SYSTEMD section shows the key lines of the shipped unit
        man8 = read(os.path.join(ROOT, "conf/bmsgw.8"))
        m = re.search(r"^\.SH SYSTEMD\n.*?^\.EX\n(.*?)^\.EE", man8, re.S | re.M)
        shown = [roff_text(l) for l in (m.group(1).splitlines() if m else []) if l and not l.startswith(("#", "["))]
        lines = unit_lines(x + units[0])
        c.ok(len(shown) >= 10, "bmsgw(8) SYSTEMD shows %d lines of the unit" % len(shown))
        c.eq([l for l in shown if l not in lines], [], "every unit line bmsgw(8) shows is in the packaged unit")
    ctl = os.path.join(TMP, "control")
    run(["dpkg-deb", "-e", deb, ctl])
    c.eq(read(os.path.join(ctl, "conffiles")).split(), [CONF], "conffiles: %s" % CONF)
    for s in ("postinst", "prerm", "postrm"):
        p = os.path.join(ctl, s)
        c.ok(os.path.exists(p) and os.access(p, os.X_OK) and run(["sh", "-n", p]).returncode == 0,
             "maintainer script %s is there and parses" % s)
    r = run(["lintian", deb])
    tags = [l for l in r.stdout.splitlines() if re.match(r"[EW]: ", l)]
    if not c.eq(tags, [], "lintian: no error and no warning"):
        show(r, "lintian")
    return deb


# ------------------------------------------------------------------ dpkg

def test_dpkg(deb):
    status = dpkg_status()
    if not c.ok(status == "", "no bmsgw package on this machine before the test (dpkg says: %s)" % status):
        print("     a bmsgw package is already here: not installing over it, nor removing it")
        return
    if not c.ok(os.geteuid() == 0, "root, to install the package"):
        return
    cleanup["dpkg"] = True
    r = dpkg(["-i", deb])
    if not c.ok(r.returncode == 0, "dpkg -i %s" % os.path.basename(deb)):
        show(r, "dpkg")
        return
    r = run(["/usr/bin/bmsgw", "--version"])
    c.eq(r.stdout.strip(), "bmsgw " + VERSION, "/usr/bin/bmsgw --version")
    c.eq(run(["man", "-w", "bmsgw"]).stdout.strip(), "/usr/share/man/man8/bmsgw.8.gz", "man -w bmsgw")
    c.eq(run(["man", "-w", "bmsgw.ini"]).stdout.strip(), "/usr/share/man/man5/bmsgw.ini.5.gz", "man -w bmsgw.ini")
    for f in PAGES.get("7", []):
        name = f[:-2]
        c.eq(run(["man", "-w", "7", name]).stdout.strip(), "/usr/share/man/man7/%s.gz" % f, "man -w 7 %s" % name)
    c.ok(os.path.isfile(CONF), "%s in place" % CONF)
    conff = run(["dpkg-query", "-W", "-f=${Conffiles}", "bmsgw"]).stdout.split()
    c.ok(CONF in conff, "dpkg-query lists %s as a conffile" % CONF)
    unit = [p for p in run(["dpkg", "-L", "bmsgw"]).stdout.split() if p.endswith("system/bmsgw.service")]
    if c.ok(len(unit) == 1, "dpkg -L lists the unit"):
        verify_unit(unit[0], None, "the installed unit (man pages included)")
    r = run(["/usr/bin/bmsgw", "-c", CONF, "--check"])
    c.ok(r.returncode == 0, "bmsgw --check passes on the installed %s" % CONF)

    with open(CONF, "a") as f:
        f.write("; edited by the administrator\n")
    mine = read(CONF)
    # the service's state, as StateDirectory= with DynamicUser= leaves it
    if not any(os.path.lexists(p) for p in STATE):
        cleanup["private"] = "created" if not os.path.exists("/var/lib/private") else True
        os.makedirs("/var/lib/private/bmsgw", mode=0o700, exist_ok=True)
        os.symlink("private/bmsgw", "/var/lib/bmsgw")

    r = dpkg(["-r", "bmsgw"])
    c.ok(r.returncode == 0, "dpkg -r bmsgw")
    gone = [p for p in ["/usr/bin/bmsgw", "/usr/share/man/man8/bmsgw.8.gz", "/usr/share/doc/bmsgw"] + unit
            if os.path.exists(p)]
    c.eq(gone, [], "dpkg -r removes the files")
    c.ok(os.path.isfile(CONF) and read(CONF) == mine, "dpkg -r keeps the edited conffile")
    c.ok("config-files" in dpkg_status(), "dpkg: bmsgw is in state config-files")

    r = dpkg(["-P", "bmsgw"])
    c.ok(r.returncode == 0, "dpkg -P bmsgw")
    c.ok(not os.path.exists("/etc/bmsgw"), "dpkg -P removes /etc/bmsgw")
    if cleanup["private"]:
        c.ok(not any(os.path.lexists(p) for p in STATE), "dpkg -P removes the state in /var/lib/bmsgw")
    left = [p for p in ("/etc/systemd/system/bmsgw.service",
                        "/etc/systemd/system/multi-user.target.wants/bmsgw.service",
                        "/var/lib/systemd/deb-systemd-helper-enabled/bmsgw.service",
                        "/var/lib/systemd/deb-systemd-helper-masked/bmsgw.service") if os.path.lexists(p)]
    c.eq(left, [], "dpkg -P leaves no enable or mask link of the unit")
    c.eq(dpkg_status(), "", "dpkg no longer knows bmsgw")
    cleanup["dpkg"] = False


try:
    test_man_pages()
    test_make_install()
    deb = test_make_deb()
    if deb:
        test_dpkg(deb)
    else:
        c.ok(False, "dpkg checks: no package to install")
finally:
    on_exit()
sys.exit(c.report())
