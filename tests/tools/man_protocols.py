#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The man pages' lists of protocols, from the driver table.

    man_protocols.py BMSGW          rewrite the blocks of conf/bmsgw.8 and
                                    conf/bmsgw.ini.5 (make man)
    man_protocols.py --check BMSGW  exit 1, naming the page, where a block
                                    differs from `BMSGW --man-protocols N`

A block sits between the lines '.\\" BEGIN protocols...' and
'.\\" END protocols' of each page.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PAGES = {8: "conf/bmsgw.8", 5: "conf/bmsgw.ini.5"}
BLOCK = re.compile(r'(^\.\\" BEGIN protocols[^\n]*\n)(.*?)(^\.\\" END protocols\n)', re.S | re.M)


def expected(bmsgw, section):
    return subprocess.run([bmsgw, "--man-protocols", str(section)], check=True, capture_output=True,
                          text=True).stdout


def main(argv):
    check = argv[1:2] == ["--check"]
    args = argv[2:] if check else argv[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for section, page in PAGES.items():
        path = os.path.join(ROOT, page)
        with open(path) as f:
            text = f.read()
        m = BLOCK.search(text)
        if not m:
            print("%s: no BEGIN protocols / END protocols block" % page, file=sys.stderr)
            return 1
        want = expected(args[0], section)
        if m.group(2) == want:
            continue
        stale.append(page)
        if not check:
            with open(path, "w") as f:
                f.write(text[:m.start(2)] + want + text[m.end(2):])
            print("%s: the list of protocols rewritten" % page)
    if check and stale:
        print("not generated from the driver table (make man): " + " ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
