#!/usr/bin/python3
"""Adding a brand is a checklist (README "Adding a protocol"): every protocol
registered in bms/drivers.h must have its driver file, be listed by
`bmsgw --help`, have a simulator responder the simulator lists (so
test_brands.py runs it end to end), a unit test, a fuzz target with seeds,
an example configuration that `bmsgw --check` accepts, a README row and a
row in register-map.md's protocol ids; a protocol spoken over a serial
port also a probe for `bmsgw --detect` (`.probe` in its driver table), a
row in bms/PROTOCOLS.md §26 and its cases in test_detect.py (its usual
and an unusual rate and address).

Adding an inverter protocol is one too (README "Adding an inverter
protocol"): every row of CONF_INV_PROTOCOL_LIST in conf/conf.h must have its
codec file defining inv_codec_<sym> with the row's name, a unit test that
uses the codec, fuzzing (fuzz_inv_can.c runs every CAN protocol of the list;
an RS485 one has its own target), test_inverter.py configuring it, an
example configuration that --check accepts, a README bullet and a row in
its "Which inverter" table, a PROTOCOLS.md section and the name in
bmsgw.ini(5)."""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks  # noqa: E402

c = Checks()


def read(path):
    with open(os.path.join(ROOT, path), errors="replace") as f:
        return f.read()


def registry():
    """The X(sym) entries of BMS_DRIVER_LIST, in order."""
    text = read("bms/drivers.h")
    m = re.search(r"#define BMS_DRIVER_LIST\(X\)(.*?)\n\n", text, re.S)
    return re.findall(r"X\((\w+)\)", m.group(1)) if m else []


def listed(exe):
    out = subprocess.run([os.path.join(ROOT, BIN, exe), "--help"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    m = re.search(r"protocols:\s*(.*)", text) or re.search(r"--protocol NAME\s+protocol spoken by the packs: (.*)", text)
    return m.group(1).split() if m else []


def serial_protocol(name):
    """Does a pack of this protocol on a serial port pass --check (not a
    Bluetooth-only or CAN protocol)?"""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
        f.write("[gateway]\nstate_file = none\n[pack.p]\nprotocol = %s\nport = /dev/ttyUSB0\n" % name)
        f.flush()
        r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", f.name, "--check"], capture_output=True)
    return r.returncode == 0


def check_probe(sym, name, detect_test, probes_doc):
    """A wired protocol has its probe, its §26 row and its test_detect.py cases."""
    src = read("bms/%s.c" % sym) if os.path.exists(os.path.join(ROOT, "bms/%s.c" % sym)) else ""
    table = re.search(r"const struct bms_driver bms_%s_driver = \{(.*?)\n\};" % sym, src, re.S)
    c.ok(table is not None and re.search(r"\.probe = &\w+,", table.group(1)) is not None,
         "%s: a probe for bmsgw --detect (.probe in bms/%s.c's driver table)" % (name, sym))
    c.ok(re.search(r"^\| %s \|" % re.escape(name), probes_doc, re.M) is not None,
         "%s: a row in bms/PROTOCOLS.md §26 (its probe)" % name)
    c.ok(len(re.findall(r'"%s": \(' % re.escape(name), detect_test)) == 2,
         "%s: test_detect.py identifies it at its usual and at an unusual rate and address" % name)


def inverter_rows():
    """(sym, name, kind) of CONF_INV_PROTOCOL_LIST, in order."""
    text = read("conf/conf.h")
    m = re.search(r"#define CONF_INV_PROTOCOL_LIST\(X\)(.*?)\n\n", text, re.S)
    return re.findall(r'X\(\w+, (\w+), "([\w-]+)", CONF_INV_(CAN|RS485)', m.group(1)) if m else []


def inverter_confs():
    """name -> the conf/*.ini with an [inverter.*] section of that protocol."""
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "conf", "*.ini"))):
        section = None
        for line in read(os.path.relpath(path, ROOT)).splitlines():
            h = re.match(r"\s*\[([^\]]+)\]", line)
            if h:
                section = h.group(1)
                continue
            m = re.match(r"\s*protocol\s*=\s*([\w-]+)", line)
            if m and section and section.startswith("inverter."):
                out.setdefault(m.group(1), []).append(path)
    return out


def check_inverters():
    rows = inverter_rows()
    c.ok(len(rows) >= 4, "CONF_INV_PROTOCOL_LIST lists the inverter protocols (%d)" % len(rows))
    readme = read("README.md")
    doc = read("gateway/inverter/PROTOCOLS.md")
    man = read("conf/bmsgw.ini.5").replace("\\-", "-")
    test = read("tests/integration/test_inverter.py")
    fuzz = read("tests/fuzz/fuzz_inv_can.c")
    confs = inverter_confs()
    table = readme[readme.find("**Which inverter, which settings.**"):]
    table = table[:table.find("\n\n", table.find("|---"))]
    for sym, name, kind in rows:
        path = "gateway/inverter/%s.c" % sym
        src = read(path) if os.path.exists(os.path.join(ROOT, path)) else ""
        c.ok(re.search(r"const struct inv_codec inv_codec_%s = \{[^}]*\.name = \"%s\"" % (sym, re.escape(name)),
                       src, re.S) is not None, "%s: %s defines inv_codec_%s named %s" % (name, path, sym, name))
        unit = "tests/unit/test_%s.c" % sym
        c.ok(os.path.exists(os.path.join(ROOT, unit)) and
             re.search(r"\b(CONF_INV_%s|inv_codec_%s)\b" % (sym.upper(), sym), read(unit)) is not None and
             os.path.exists(os.path.join(ROOT, BIN, "tests", "test_%s" % sym)),
             "%s: a unit test (%s) of its codec, built" % (name, unit))
        if kind == "CAN":
            c.ok("CONF_INV_NPROTOCOLS" in fuzz and "inv_codec_of" in fuzz,
                 "%s: fuzzed by fuzz_inv_can.c (every CAN codec of the list)" % name)
        else:
            seeds = glob.glob(os.path.join(ROOT, "tests/fuzz/corpus", sym, "*"))
            c.ok(os.path.exists(os.path.join(ROOT, "tests/fuzz/fuzz_%s.c" % sym)) and len(seeds) > 0,
                 "%s: a fuzz target (tests/fuzz/fuzz_%s.c) with seeds (%d)" % (name, sym, len(seeds)))
        c.ok(re.search(r"protocol = %s\b" % re.escape(name), test) is not None,
             "%s: test_inverter.py configures an output of it" % name)
        good = [p for p in confs.get(name, []) if subprocess.run(
            [os.path.join(ROOT, BIN, "bmsgw"), "-c", p, "--check"], capture_output=True).returncode == 0]
        c.ok(len(good) > 0, "%s: an example configuration in conf/ that --check accepts (%s)" %
             (name, ", ".join(os.path.basename(p) for p in good) or "none"))
        c.ok(re.search(r"^- \*\*`%s`\*\*" % re.escape(name), readme, re.M) is not None,
             "%s: a bullet in README's Inverters" % name)
        c.ok(re.search(r"^\|[^|\n]*\| `%s`" % re.escape(name), table, re.M) is not None,
             "%s: a row of README's \"Which inverter\" table" % name)
        c.ok(re.search(r"^## \d+[a-z]?\. %s:" % re.escape(name), doc, re.M) is not None,
             "%s: a section of gateway/inverter/PROTOCOLS.md" % name)
        c.ok(re.search(r"^\.B %s$" % re.escape(name), man, re.M) is not None, "%s: bmsgw.ini(5) names it" % name)


def main():
    check_inverters()
    syms = registry()
    c.ok(len(syms) >= 10, "the registry lists the protocols (%d)" % len(syms))
    gw_list = listed("bmsgw")
    sim_list = listed("bmsgw-sim")
    readme = read("README.md")
    regmap = read("register-map.md")
    detect_test = read("tests/integration/test_detect.py")
    protocols_md = read("bms/PROTOCOLS.md")
    probes_doc = protocols_md[protocols_md.find("### 26.2"):]
    confs = {}
    for path in glob.glob(os.path.join(ROOT, "conf", "*.ini")):
        m = re.search(r"^protocol\s*=\s*([\w-]+)", read(os.path.relpath(path, ROOT)), re.M)
        if m:
            confs.setdefault(m.group(1), []).append(path)
    for pid, sym in enumerate(syms, 1):
        name = sym.replace("_", "-")
        c.ok(re.search(r"const struct bms_driver bms_%s_driver\b" % sym, read("bms/%s.c" % sym)) is not None
             if os.path.exists(os.path.join(ROOT, "bms/%s.c" % sym)) else False,
             "%s: bms/%s.c defines bms_%s_driver" % (name, sym, sym))
        c.ok(name in gw_list, "%s: bmsgw --help lists it" % name)
        c.ok(os.path.exists(os.path.join(ROOT, "tests/sim/sim_%s.c" % sym)) and name in sim_list,
             "%s: a simulator responder (tests/sim/sim_%s.c), listed by bmsgw-sim" % (name, sym))
        c.ok(os.path.exists(os.path.join(ROOT, "tests/unit/test_%s.c" % sym)) and
             os.path.exists(os.path.join(ROOT, BIN, "tests", "test_%s" % sym)),
             "%s: a unit test (tests/unit/test_%s.c), built" % (name, sym))
        seeds = glob.glob(os.path.join(ROOT, "tests/fuzz/corpus", sym, "*"))
        c.ok(os.path.exists(os.path.join(ROOT, "tests/fuzz/fuzz_%s.c" % sym)) and len(seeds) > 0,
             "%s: a fuzz target (tests/fuzz/fuzz_%s.c) with seeds (%d)" % (name, sym, len(seeds)))
        good = [p for p in confs.get(name, []) if subprocess.run(
            [os.path.join(ROOT, BIN, "bmsgw"), "-c", p, "--check"], capture_output=True).returncode == 0]
        c.ok(len(good) > 0, "%s: an example configuration in conf/ that --check accepts (%s)" %
             (name, ", ".join(os.path.basename(p) for p in good) or "none"))
        c.ok(re.search(r"^\| `%s` \|" % re.escape(name), readme, re.M) is not None,
             "%s: a row in README's Supported BMSs table" % name)
        c.ok(re.search(r"^\| %d \| %s \|" % (pid, re.escape(name)), regmap, re.M) is not None,
             "%s: protocol id %d in register-map.md" % (name, pid))
        if serial_protocol(name):
            check_probe(sym, name, detect_test, probes_doc)
    c.eq(sorted(gw_list), sorted(s.replace("_", "-") for s in syms), "bmsgw lists exactly the registry")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
