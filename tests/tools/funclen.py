#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Functions fit a screen: no function in gateway/ or conf/ longer than
LIMIT lines (from its first line to its closing brace).

    funclen.py [ROOT]        check (N passed, N failed; every long one named)
    funclen.py --top N       the N longest, for the record
"""
import os
import re
import sys

LIMIT = 90
DIRS = ("gateway", "conf")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def functions(path):
    """(lines, first line, name) of each function defined in a C file (the
    house style: the definition starts in column 0, its body ends with a
    '}' in column 0)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^[A-Za-z_][^;]*\(", line) and not line.startswith(("#", "static const", "const")):
            j = i
            while j < len(lines) and not lines[j].endswith("{") and not lines[j].rstrip().endswith(";"):
                j += 1
            if j < len(lines) and lines[j].endswith("{") and (lines[j] == "{" or j == i):
                k = j
                while k < len(lines) and lines[k] != "}":
                    k += 1
                m = re.search(r"(\w+)\s*\(", line)
                yield k - i + 1, i + 1, m.group(1) if m else line
                i = k
        i += 1


def all_functions():
    for top in DIRS:
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            for n in sorted(names):
                if n.endswith(".c"):
                    p = os.path.join(d, n)
                    for length, line, name in functions(p):
                        yield length, os.path.relpath(p, ROOT), line, name


def main():
    global ROOT
    if len(sys.argv) == 2:
        ROOT = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[1] == "--top":
        for length, p, line, name in sorted(all_functions(), reverse=True)[:int(sys.argv[2])]:
            print("%4d  %s:%d  %s" % (length, p, line, name))
        return 0
    passed = failed = 0
    for length, p, line, name in all_functions():
        if length > LIMIT:
            failed += 1
            print("FAIL %s:%d: %s is %d lines (at most %d)" % (p, line, name, length, LIMIT))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
