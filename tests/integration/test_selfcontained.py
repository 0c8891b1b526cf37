#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: nice=5
"""The repository is self-contained: no tracked file names a file outside it.

For every tracked text file (`git ls-files`; a plain walk of the tree when
there is no git checkout):

(a) a path that climbs out of the repository with "..", starts in a home
    directory ("~" and a slash), names the machine it was written on (the
    directory "work" at the top of the file system, or any absolute path
    under the checkout's parent directory), or names a directory called
    "shared" fails unless it resolves to a file of the repository (a ".."
    path relative to the file's own directory; a "shared" one relative to
    it or to the top);
(b) a file name with one of the extensions of EXTS, bare or with a
    relative path, must be the name of a file of the repository: its last
    component is compared with the names of the tracked files.

Addresses (https://...) are not file names of the repository and are left
out, so a file of another project is cited by its address.  ALLOW holds the
few names that look like files but are not repository paths.  Prints one
"ok"/"FAIL" line per file and ends with "N passed, N failed".
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Checks  # noqa: E402

EXTS = ("md", "tsv", "ini", "c", "h", "py", "sh", "in", "5", "7", "8")

# Names that look like files but are not files of this repository.  Keep it
# short; each entry says why it is not one.
ALLOW = {
    # configuration text the unit tests parse from memory under this name
    "t.ini",
    # files the tests name because they must not exist
    "nonexistent.ini", "does-not-exist.ini",
    # not file names: the INI section [pack.c] of the tests, and the
    # Python attribute self.c (a client object) of the MQTT harness
    "pack.c", "self.c",
    # generated into the build directory by gateway/web/www/embed.sh
    "www.c",
    # generated into the build directory by tests/tools/fixtures.py (the
    # decoder bench's cases)
    "bench_cases.h",
    # generated into the build directory by protoc-c from gateway/wire/esphome/esphome_api.proto
    "esphome_api.pb-c.c", "esphome_api.pb-c.h",
    # another project's files that the Victron GX text names (mr-manuel/venus-os_dbus-mqtt-battery:
    # its configuration file and its driver)
    "config.ini", "dbus-mqtt-battery.py",
    # Venus OS's own scripts that the bundle's installer calls (serial-starter's, a read-only root's remount)
    "stop-tty.sh", "start-tty.sh", "remount-rw.sh",
    # Victron's programs test_venus runs from the checkouts BMSGW_VICTRON names (localsettings,
    # dbus-systemcalc-py: MIT, fetched, never committed)
    "localsettings.py", "dbus_systemcalc.py",
}

URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s)>\]\"'`]*")
# (a) word-ish tokens that may be paths
TOKEN = re.compile(r"[A-Za-z0-9_.~/+-]+")
# (b) a name ending in one of EXTS, not glued to a format directive, a glob
# or a placeholder ("%s.c", "*.c", "<sym>.c", "${x}.c"), nor a system header
# ("<string.h>")
NAME = re.compile(r"(?<![\w./%*$>}<+-])([\w./-]*[\w-]\.(?:" + "|".join(EXTS) + r"))(?![\w/-])")


def tracked():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], capture_output=True, check=True)
        files = [f for f in out.stdout.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for top, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".git", "build", "__pycache__")]
        files += [os.path.relpath(os.path.join(top, n), ROOT) for n in names]
    return sorted(files)


def text_of(path):
    try:
        with open(os.path.join(ROOT, path), "rb") as f:
            data = f.read()
    except OSError:
        return None  # tracked but deleted in the work tree
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def inside(path):
    path = os.path.normpath(path)
    return path == ROOT or path.startswith(ROOT + os.sep)


SYSTEM_DIRS = {"/", "/tmp", "/var/tmp", "/root", "/home", "/usr", "/usr/local", "/usr/src", "/opt", "/srv", "/var",
               "/run", "/dev", "/etc"}

# Written in pieces, so that this file does not name them itself.
MACHINE = "/" "work" "/"
HOME = "~" "/"
SHARED = re.compile(r"(^|/)" "shared" "/")


def outside_refs(rel, line):
    """(a): paths in `line` of file `rel` that point outside the repository."""
    bad = []
    here = os.path.dirname(os.path.join(ROOT, rel))
    parent = os.path.dirname(ROOT)
    # a path beside the checkout (its parent's other entries) is outside the
    # repository, unless the checkout sits right in a system directory
    # (a clone in /tmp: /tmp/... in a test is a temporary file, not a sibling)
    sibling = parent not in SYSTEM_DIRS
    for tok in TOKEN.findall(line):
        if tok.endswith(".") and not tok.endswith(".."):
            tok = tok[:-1]  # the full stop of a sentence
        if MACHINE in tok or (sibling and tok.startswith("/") and (tok + "/").startswith(parent + "/")):
            bad.append(tok)
        elif tok.startswith(HOME) and ("/" in tok[2:] or "." in tok[2:]):
            bad.append(tok)  # ("~/state" alone is MQTT's base topic abbreviation, not a path)
        elif re.search(r"(^|[^.])\.\./[\w-]", tok):  # a ".." path to a file, not "cd .." or "..."
            path = os.path.join(here, tok)
            if not inside(path) or not os.path.exists(path):
                bad.append(tok)
        elif SHARED.search(tok):
            if not (os.path.exists(os.path.join(here, tok)) or os.path.exists(os.path.join(ROOT, tok))):
                bad.append(tok)
    return bad


def missing_names(line, names):
    """(b): file names in `line` that no file of the repository has."""
    bad = []
    for tok in NAME.findall(line):
        base = tok.rsplit("/", 1)[-1]
        if tok[-2:] in (".5", ".7", ".8") and not re.search(r"[A-Za-z]\.[578]$", tok):
            continue  # a number or a version ("1.5", "V2.8"), not a man page
        if not re.search(r"[A-Za-z]", base.rsplit(".", 1)[0]):
            continue  # "0.5", "3.in"
        if tok[-2:] in (".c", ".h") and "/" not in tok and "." in tok[:-2]:
            continue  # a C member ("bs.tmin.c"), not a file: no source file has two dots
        if base in names or base in ALLOW:
            continue
        bad.append(tok)
    return bad


def main():
    c = Checks()
    files = tracked()
    names = {f.rsplit("/", 1)[-1] for f in files}
    c.ok(len(files) > 50, "%d tracked files" % len(files))
    checked = 0
    for rel in files:
        text = text_of(rel)
        if text is None:
            continue
        checked += 1
        problems = []
        for no, line in enumerate(text.splitlines(), 1):
            line = URL.sub(" ", line).replace("\\-", "-")  # groff writes "register\-map.md"
            for tok in outside_refs(rel, line):
                problems.append("%s:%d: %r points outside the repository" % (rel, no, tok))
            for tok in missing_names(line, names):
                problems.append("%s:%d: %r is not a file of the repository" % (rel, no, tok))
        if problems:
            for p in problems:
                print("    " + p)
        c.ok(not problems, "%s names only files of the repository" % rel)
    c.ok(checked > 50, "%d text files checked" % checked)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
