#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: nice=5
"""The build configuration cannot go stale (Makefile: each build directory
records its flags in build.flags), in a fresh copy of the tree (the files
git knows, as the working tree has them; no build/):

- a make with SYSTEMD=0 records flags without -DHAVE_SYSTEMD (two objects
  of it, main.c and daly.c, are enough to stand for a build made before
  libsystemd-dev was installed); a plain `make` (no target: `all`, the
  daemon, the simulator and the tools) then notices the new flags,
  compiles every object again (those two among them) and links a bmsgw
  with libsystemd (what `make demo` on a fresh machine does: its deps
  install libsystemd-dev, then make runs again), and `make install`
  installs that binary (sd_notify, a Type=notify unit) without building;
- an unchanged configuration builds nothing;
- WERROR=1 rebuilds a build made without it; a build made with it is good
  without it.

A whole build without libsystemd, and that it links no libsystemd, is
test_notify's (`make nosystemd`, which sets SYSTEMD=0 too).  The builds are
quick ones (-O0, no hardening flags), the same in every step but for what
a step changes; the tree is compiled once."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Checks  # noqa: E402

c = Checks()
# a make of its own: no jobserver or flags of the suite's make, no WERROR
ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "WERROR", "SYSTEMD",
                                                         "SANITIZE", "NOSYSTEMD", "CFLAGS", "LDFLAGS")}
ENV["LC_ALL"] = "C"
QUICK = ["OPT=-O0", "HARDEN="]


def tree_files():
    """The files git knows in ROOT (tracked and new, not ignored); a plain
    walk of the tree but build/ when there is no git checkout."""
    r = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       capture_output=True)
    if r.returncode == 0:
        return list(filter(None, r.stdout.decode().split("\0")))
    files = []
    for d, dirs, fs in os.walk(ROOT):
        dirs[:] = [x for x in dirs if x not in (".git", "build", "__pycache__")]
        files += [os.path.relpath(os.path.join(d, f), ROOT) for f in fs]
    return files


def copy_tree(dest):
    """A fresh copy of the tree: its files as they are, no build/."""
    files = tree_files()
    for rel in files:
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):  # deleted in the working tree
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))
    return "Makefile" in files


def make(tree, *args):
    r = subprocess.run(["make", "-j2"] + QUICK + list(args), cwd=tree, env=ENV, capture_output=True, text=True,
                       timeout=600)
    return r.returncode, r.stdout + r.stderr


def compiled(out):
    """The sources a make's output compiled."""
    return re.findall(r" -c (\S+\.c) -o ", out)


def tree_sources(tree):
    """The sources of the daemon and the simulator: bms/ and bms/base/,
    registers/, conf/, gateway/ and its rooms, tests/sim/."""
    out = []
    for top in ("bms", "bms/base", "registers", "conf", "gateway", "tests/sim"):
        for d, dirs, fs in os.walk(os.path.join(tree, top)):
            if top in ("bms", "bms/base", "registers", "conf", "tests/sim"):
                dirs[:] = []
            out += [os.path.relpath(os.path.join(d, f), tree) for f in fs if f.endswith(".c")]
    return out


def links_systemd(exe):
    r = subprocess.run(["objdump", "-p", exe], capture_output=True, text=True)
    needed = re.findall(r"^\s*NEEDED\s+(\S+)", r.stdout, re.M)
    return needed and any(n.startswith("libsystemd.") for n in needed)


def show(out, what):
    for line in out.splitlines()[-15:]:
        print("     %s: %s" % (what, line))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-build-")
    tree = os.path.join(tmp, "tree")
    try:
        if not c.ok(copy_tree(tree), "a fresh copy of the tree"):
            return c.report()
        exe = os.path.join(tree, "build", "bmsgw")
        before = ["build/gateway/main.o", "build/bms/daly.o"]
        rc, out = make(tree, "SYSTEMD=0", *before)
        if not c.ok(rc == 0 and all(os.path.exists(os.path.join(tree, o)) for o in before),
                    "make SYSTEMD=0 compiles %s" % " ".join(before)):
            show(out, "make")
            return c.report()
        c.ok("-DHAVE_SYSTEMD" not in open(os.path.join(tree, "build", "build.flags")).read(),
             "build/build.flags records the flags (no -DHAVE_SYSTEMD)")

        rc, out = make(tree)
        c.ok(rc == 0 and "build: new build flags, rebuilding" in out, "make: the new flags are noticed")
        built = [f for f in ("bmsgw", "bmsgw-sim", "mbread", "mbbench") if os.path.exists(os.path.join(tree, "build", f))]
        c.eq(built, ["bmsgw", "bmsgw-sim", "mbread", "mbbench"], "a plain make builds `all`, not only the flags")
        sources = sorted(set(compiled(out)))
        c.ok("gateway/main.c" in sources and "bms/daly.c" in sources,
             "... and compiles again what was made with the old flags (%d sources)" % len(sources))
        missing = sorted(set(tree_sources(tree)) - set(sources))
        c.ok(not missing, "... every source of the daemon and the simulator (not compiled: %s)" % missing[:5])
        c.ok(links_systemd(exe), "make after make SYSTEMD=0: build/bmsgw links libsystemd")

        mtime = os.stat(exe).st_mtime_ns
        rc, out = make(tree, "build/bmsgw")
        c.ok(rc == 0 and compiled(out) == [] and os.stat(exe).st_mtime_ns == mtime,
             "make again: nothing is built (%s)" % compiled(out)[:3])

        dest = os.path.join(tmp, "stage")
        rc, out = make(tree, "install", "DESTDIR=" + dest)
        installed = os.path.join(dest, "usr/local/bin/bmsgw")
        c.ok(rc == 0 and compiled(out) == [], "make install builds nothing more")
        c.ok(os.path.exists(installed) and links_systemd(installed), "make install installs a bmsgw with sd_notify")
        unit = os.path.join(dest, "usr/local/lib/systemd/system/bmsgw.service")
        c.ok(os.path.exists(unit) and "Type=notify" in open(unit).read(), "... and a Type=notify unit")

        obj = "build/gateway/core/clock.o"
        rc, out = make(tree, "WERROR=1", obj)
        c.ok(rc == 0 and compiled(out) == ["gateway/core/clock.c"] and " -Werror " in out,
             "WERROR=1 compiles again, with -Werror (%s)" % compiled(out))
        rc, out = make(tree, obj)
        c.ok(rc == 0 and compiled(out) == [], "without WERROR, what was made with -Werror is kept (%s)"
             % compiled(out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
