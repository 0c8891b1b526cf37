#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What a test file says it proves: the first sentence of its opening comment.

Usage: about.py FILE...  prints "FILE<TAB>sentence" for each (tests/run.sh
--list shows it beside every step).  A C file's opening comment is the block
after the SPDX line, without its "path - " head; a Python file's is its
docstring; a shell script's the comment lines after the SPDX line.  The
sentence ends at the first ". " or at the end of the first paragraph, and is
cut at a word near 110 characters."""
import re
import sys


def opening(text, path):
    if path.endswith(".py"):
        m = re.search(r'"""(.*?)(?:"""|\n\s*\n)', text, re.S)
        return m.group(1) if m else ""
    lines = []
    for line in text.splitlines():
        s = line.strip()
        if not s or "SPDX" in s or s.startswith("#!") or s.startswith("# run.sh:"):
            if lines and not s:
                break
            continue
        if path.endswith(".c") or path.endswith(".h"):
            if not (s.startswith("/*") or s.startswith("*")):
                break
            s = s.lstrip("/*").rstrip("*/").strip()
        else:
            if not s.startswith("#"):
                break
            s = s.lstrip("#").strip()
        if not s and lines:
            break
        lines.append(s)
        if line.rstrip().endswith("*/"):
            break
    return " ".join(lines)


def sentence(text, path):
    t = re.sub(r"\s+", " ", opening(text, path)).strip()
    t = re.sub(r"^\S*" + re.escape(path.rsplit("/", 1)[-1]) + r" - ", "", t)
    m = re.search(r"(?<!e\.g)(?<!i\.e)(?<!etc)\.(\s|$)", t)
    if m:
        t = t[:m.start() + 1]
    if len(t) > 110:
        t = t[:110].rsplit(" ", 1)[0] + " …"
    return t


def main():
    for path in sys.argv[1:]:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read(8192)
        except OSError:
            text = ""
        print(f"{path}\t{sentence(text, path)}")


if __name__ == "__main__":
    main()
