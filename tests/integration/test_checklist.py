#!/usr/bin/python3
"""Adding a brand is a checklist (README "Adding a protocol"): every protocol
registered in bms/drivers.h must have its driver file, be listed by
`bmsgw --help`, have a simulator responder the simulator lists (so
test_brands.py runs it end to end), a unit test, a fuzz target with seeds,
an example configuration that `bmsgw --check` accepts, a README row and a
row in register-map.md's protocol ids."""
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


def main():
    syms = registry()
    c.ok(len(syms) >= 10, "the registry lists the protocols (%d)" % len(syms))
    gw_list = listed("bmsgw")
    sim_list = listed("bmsgw-sim")
    readme = read("README.md")
    regmap = read("register-map.md")
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
    c.eq(sorted(gw_list), sorted(s.replace("_", "-") for s in syms), "bmsgw lists exactly the registry")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
