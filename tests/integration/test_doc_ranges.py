#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The ranges the documents give are the ranges the program takes.

[gateway] base in bmsgw.ini(5) and --base in bmsgw(8): the highest value
documented is accepted by `bmsgw --check` and by `--register-map --base`,
the next one is refused with a message that names the key (issue 51 item 10:
both pages said 65411, the program refused above 65375 since the map grew to
offset 160).  Prints "N passed, N failed".
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, write_conf  # noqa: E402

c = Checks()
GW = os.path.join(BIN, "bmsgw")


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def documented_max(page, head):
    """The N of "0 to N" in the paragraph that starts at head."""
    text = read(page)
    i = text.find(head)
    c.ok(i >= 0, "%s documents %r" % (page, head))
    m = re.search(r"0 to (\d+)", text[i:i + 400])
    c.ok(m is not None, "%s gives %r a range" % (page, head))
    return int(m.group(1)) if m else 0


def check_base(base):
    conf = write_conf("[gateway]\nstate_file = none\nbase = %d\n"
                      "[pack.p]\nprotocol = jbd\nport = tcp://127.0.0.1:9\n" % base)
    try:
        return subprocess.run([GW, "-c", conf, "--check"], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(conf)


def register_map(base):
    return subprocess.run([GW, "--register-map", "--base", str(base)], capture_output=True, text=True,
                          timeout=60)


def main():
    top = documented_max("conf/bmsgw.ini.5", ".B base\n")
    r = check_base(top)
    c.eq(r.returncode, 0, "bmsgw.ini(5)'s highest base %d is accepted (%s)" % (top, r.stderr.strip()[-200:]))
    r = check_base(top + 1)
    c.ok(r.returncode != 0 and "base" in r.stderr, "base %d, one past the documented range, is refused" % (top + 1))
    top8 = documented_max("conf/bmsgw.8", ".BI \\-\\-base")
    c.eq(top8, top, "bmsgw(8)'s --base range is bmsgw.ini(5)'s")
    r = register_map(top8)
    c.eq(r.returncode, 0, "--register-map --base %d is accepted" % top8)
    c.ok("| %d |" % (top8 + 160) in r.stdout or str(top8 + 160) in r.stdout,
         "the map at base %d runs to address %d" % (top8, top8 + 160))
    r = register_map(top8 + 1)
    c.ok(r.returncode != 0 and "--base" in r.stderr, "--base %d is refused" % (top8 + 1))
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
