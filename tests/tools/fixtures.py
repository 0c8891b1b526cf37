#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A protocol's fixtures: the rows of tests/fixtures/vectors.tsv that its
unit test tests/unit/test_<sym>.c embeds (the test, or a header it
includes, holds the frame as a C string literal; a `can` or `hvcan`
row's frames become the CAN transport's records), so that what the tests
of a protocol need beside its unit test comes from its recorded frames:
test_ble.py's generic case takes its request rows (ids with -REQ-) as the
only writes allowed, the generic fuzz target its seeds, the decoder bench
its frames.

    fixtures.py frames SYM        the answer rows' ids and hex, one a line
    fixtures.py requests SYM      the request rows' ids and hex
    fixtures.py seeds SYM DIR     seeds for build/fuzz/fuzz_SYM made from the
                                  generic harness (tests/fuzz/generic_driver.c),
                                  from `$BIN/bmsgw --list-protocols --json`
    fixtures.py bench-cases       the C rows of the decoder bench's generated
                                  cases (tests/tools/bench_decode.c): every
                                  driver its answer frames, one row each
"""
import functools
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TSV = os.path.join(ROOT, "tests", "fixtures", "vectors.tsv")


def rows():
    """(line number, id, family, frame) of every data row with its three
    columns; comment lines and blank lines are skipped, and so is a row
    that is not three tab-separated columns (test_fixtures.py fails it)."""
    out = []
    with open(TSV, encoding="ascii") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) == 3:
                out.append((no, cols[0], cols[1], cols[2]))
    return out


def unit_sources():
    """{the path of each unit test: its text with the text of every tests/unit
    header it includes after it}: a capture kept in a header two
    tests share counts for each test that includes it."""
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "test_*.c"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for inc in re.findall(r'^#include "([a-z0-9_]+\.h)"', text, re.M):
            hp = os.path.join(ROOT, "tests", "unit", inc)
            if os.path.exists(hp):
                with open(hp, encoding="utf-8", errors="replace") as f:
                    text += "\n" + f.read()
        out[path] = text
    return out


def literals_of(text):
    """The C string literals of a text, adjacent ones joined (also across
    lines and backslash-newlines), without blanks, in lower case."""
    lit = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
    joined, cur, end = [], None, None
    for m in lit.finditer(text):
        if cur is not None and re.fullmatch(r"[\s\\]*", text[end:m.start()]):
            cur += m.group(1)
        else:
            if cur is not None:
                joined.append(cur)
            cur = m.group(1)
        end = m.end()
    if cur is not None:
        joined.append(cur)
    return [re.sub(r"\s+", "", s).lower() for s in joined]


@functools.lru_cache(maxsize=None)
def unit_literals():
    """Every C string literal of tests/unit/test_*.c and the headers each
    includes (literals_of()): {file relative to the root: [literal, ...]};
    read once."""
    return {os.path.relpath(path, ROOT): literals_of(text) for path, text in unit_sources().items()}


def of(sym):
    """The hex rows (id, bytes) of vectors.tsv whose frame test_<sym>.c (or a
    header it includes) embeds, in the file's order."""
    path = os.path.join(ROOT, "tests", "unit", "test_%s.c" % sym)
    if not os.path.exists(path):
        return []
    lits = unit_literals()[os.path.relpath(path, ROOT)]
    out = []
    for _, rid, family, frame in rows():
        f = frame.lower()
        # a frame of one or two bytes (a ping, a keep-alive's answer) is in
        # every hex literal: only a literal of its own is it
        if re.fullmatch(r"(?:[0-9a-f]{2})+", f) and any(f == s or (len(f) > 4 and f in s) for s in lits):
            out.append((rid, bytes.fromhex(f)))
        elif family in ("can", "hvcan") and CAN_ROW.fullmatch(f) and any(re.sub(r"\s+", "", f) in s for s in lits):
            out.append((rid, can_records(f)))
    return out


CAN_ROW = re.compile(r"[0-9a-f]{3}(?:[0-9a-f]{5})?#(?:[0-9a-f]{2}){0,8}(?: [0-9a-f]{3}(?:[0-9a-f]{5})?#(?:[0-9a-f]{2}){0,8})*")


def can_records(frame):
    """A `can` row's frames ("ID#DATA ..."; an id of 8 digits is extended,
    as candump writes it) as the records the CAN transport hands a driver
    (bms/bms.h: BMS_CAN_MAGIC0 0xCA, BMS_CAN_MAGIC1 0x4E, flags, the id little
    endian, the DLC, the data)."""
    out = b""
    for tok in frame.split():
        i, d = tok.split("#")
        data = bytes.fromhex(d)
        out += bytes([0xCA, 0x4E, 0x01 if len(i) == 8 else 0x00]) + int(i, 16).to_bytes(4, "little") + \
            bytes([len(data)]) + data
    return out


def requests(sym):
    """The request rows of sym's fixtures (ids with -REQ-): what it writes."""
    return [(rid, b) for rid, b in of(sym) if "-REQ" in rid]


def answers(sym):
    """The other rows: what the BMS sends."""
    return [(rid, b) for rid, b in of(sym) if "-REQ" not in rid]


def table():
    """{name: protocol} of `$BIN/bmsgw --list-protocols --json`."""
    exe = os.path.join(ROOT, os.environ.get("BIN", "build"), "bmsgw")
    out = subprocess.run([exe, "--list-protocols", "--json"], capture_output=True, text=True, check=True).stdout
    return {p["name"]: p for p in json.loads(out)}


def chunks(frame, most):
    """The events of a frame arriving in reads of at most `most` bytes: each
    its length byte, then its bytes."""
    out = b""
    for i in range(0, len(frame), most):
        part = frame[i:i + most]
        out += bytes([len(part)]) + part
    return out


def seeds(sym, where):
    """Seeds of the generic fuzz target of sym (tests/fuzz/generic_driver.c:
    its input layout): every answer of its fixtures alone, and all of them
    in one poll, after the configuration bytes (the default address, and
    over Bluetooth LE the link bit of a protocol that exists only there).
    The number written."""
    p = table()[sym.replace("_", "-")]
    ans = [b for _, b in answers(sym)]
    if p.get("modbus"):
        head = bytes([(p["address"] or {}).get("default", 1), 0x00, 0x00])  # fuzz_mbtable.h's three bytes
    else:
        head = (bytes([p["address"]["default"]]) if p["address"] else b"") + \
            bytes([0x00, 0x40 if "ble" in p["links"] and "serial" not in p["links"] else 0x00])
    os.makedirs(where, exist_ok=True)
    made = [("fixture_%d" % i, head + chunks(b, 200)) for i, b in enumerate(ans)]
    if len(ans) > 1:
        made.append(("fixtures_all", head + b"".join(chunks(b, 200) for b in ans)))
    for name, data in made:
        with open(os.path.join(where, name), "wb") as f:
            f.write(data)
    return len(made)


def c_string(b):
    return '"' + b.hex() + '"'


def bench_cases():
    """The rows of the decoder bench's generated table: { "name",
    &bms_<sym>_driver, { "hex", ..., NULL } } for every driver of
    bms/drivers.h with fixtures, at most 12 frames each (a Greenway poll is eleven)."""
    with open(os.path.join(ROOT, "bms", "drivers.h")) as f:
        syms = re.findall(r"X\((\w+)\)", f.read())
    out = []
    for sym in syms:
        frames = [b for _, b in answers(sym)][:12]
        if not frames:
            continue
        out.append('\t{ "%s", &bms_%s_driver, { %s, NULL } },' % (sym.replace("_", "-"), sym,
                                                             ", ".join(c_string(b) for b in frames)))
    return out


def main(argv):
    if len(argv) == 3 and argv[1] in ("frames", "requests"):
        for rid, b in (answers if argv[1] == "frames" else requests)(argv[2]):
            print("%s\t%s" % (rid, b.hex()))
        return 0
    if len(argv) == 4 and argv[1] == "seeds":
        n = seeds(argv[2], argv[3])
        print("%d seeds from the fixtures of %s" % (n, argv[2]))
        return 0 if n else 1
    if len(argv) == 2 and argv[1] == "bench-cases":
        print("\n".join(bench_cases()))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
