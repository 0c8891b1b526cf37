#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsgw is under the MIT licence, and says so where a packager looks.

LICENSE at the top is the MIT text; every tracked source file (C, headers,
Python, shell, the Makefile, the page's files, the man pages, the unit and
the example configurations) names it in an SPDX-License-Identifier line
among its first three lines; conf/debian/copyright is in Debian's
machine-readable format (copyright-format 1.0) with License: MIT and the
licence's text; README.md names the licence.  Prints "N passed, N failed".
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Checks  # noqa: E402

c = Checks()
TAG = "SPDX-License-Identifier: MIT"
SOURCE = re.compile(r"(\.(c|h|py|sh|js|css|html|svg|ini|5|7|8|in)$|(^|/)(Makefile|run|postinst|postrm|prerm)$)")


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def tracked():
    out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True)
    if out.returncode == 0 and out.stdout.strip():
        return out.stdout.split()
    files = []
    for top, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".git", "build", "__pycache__")]
        files += [os.path.relpath(os.path.join(top, n), ROOT) for n in names]
    return files


def main():
    lic = read("LICENSE")
    c.ok(lic.startswith("MIT License") and "Permission is hereby granted, free of charge" in lic,
         "LICENSE is the MIT licence")
    files = [f for f in tracked() if SOURCE.search(f) and "/corpus/" not in f and "/fixtures/" not in f]
    c.ok(len(files) > 300, "%d source files found" % len(files))
    missing = [f for f in files if TAG not in "\n".join(read(f).split("\n")[:3])]
    c.eq(missing, [], "every source file has its SPDX line among its first three lines")
    cp = read("conf/debian/copyright")
    c.ok(cp.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"),
         "debian/copyright: machine-readable format")
    c.ok(re.search(r"^Files: \*\nCopyright: .+\nLicense: MIT$", cp, re.M) is not None,
         "debian/copyright: Files: * under License: MIT")
    c.ok("Permission is hereby granted" in cp, "debian/copyright: the licence's text")
    c.ok(re.search(r"MIT licen[cs]e", read("README.md"), re.I) is not None, "README names the MIT licence")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
