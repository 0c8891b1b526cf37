#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Every cell's voltage in the history ([history] cells), end to end: the
real bmsgw against the simulator.

- each row holds every cell's voltage as the simulator sets it, and which
  cells balance (the Daly's balancing bits);
- /api/history?cells=1 gives each cell's column and the balancing;
  without cells=1 the answer has none;
- /api/history.csv and `bmsgw --history-csv` have the columns cell_01_mv ...
  cell_08_mv, balance_bits and balancing, and agree;
- step buckets average each cell as the pack's values are averaged;
- rows older than raw_days are folded into 15-minute rows with each cell
  the mean of the online samples and balancing the OR (the pack's rules),
  rows beyond the retention dropped with their cells;
- cells = false stores none: no cell columns anywhere.
"""
import csv
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, wait_until  # noqa: E402

c = Checks()
DAY = 86400


def conf(gw_port, http_port, sim_port, hist, extra=""):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
timeout = 0.5
retries = 0
[http]
listen = 127.0.0.1:%d
[history]
file = %s
interval = 1
%s
""" % (gw_port, sim_port, http_port, hist, extra)


def fetch(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.status, r.read()


def rows(db, unit="house"):
    if not os.path.exists(db):
        return []
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        con.row_factory = sqlite3.Row
        r = [dict(x) for x in con.execute("SELECT s.* FROM samples s JOIN units u ON u.id = s.unit "
                                          "WHERE u.name = ? ORDER BY ts", (unit,))]
        con.close()
        return r
    except sqlite3.OperationalError:
        return []


def blob(mv):
    return struct.pack("<%dH" % len(mv), *mv)


def unblob(b):
    return None if b is None else list(struct.unpack("<%dH" % (len(b) // 2), b))


def cli_csv(conf_path, *args):
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf_path, "--history-csv", "house"] + list(args),
                         capture_output=True, timeout=60)
    return out.returncode, out.stdout.decode(), out.stderr.decode()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-hcells-")
    try:
        live(tmp)
        folding(tmp)
        off(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.report()


PINS = (3301, 3302, 3290, 3350, 3310, 3305, 3299, 3320)


def live(tmp):
    hist = os.path.join(tmp, "live.db")
    sim = Sim("daly", packs=("address=1,cells=8,sensors=2,soc=60,current=5",))
    gw_port, http_port = free_port(), free_port()
    for i, mv in enumerate(PINS):
        sim.ctl("set 1 cell %d %d" % (i + 1, mv))
    sim.ctl("set 1 balance %d" % 0b00001010)  # cells 2 and 4
    gw = Gateway(conf(gw_port, http_port, sim.port, hist), gw_port)
    try:
        def settled():
            r = [x for x in rows(hist) if x["online"] and x["cells"]]
            return r if len(r) >= 3 else None
        rs = wait_until(settled, 15)
        c.ok(rs, "rows with cells are written")
        want = sim.state()["packs"][0]
        last = rs[-1] if rs else {}
        c.eq(unblob(last.get("cells")), list(want["cells_mv"]), "a row holds every cell as the simulator sets it")
        c.eq(last.get("balance"), 0b1010, "and which cells balance (2 and 4)")
        c.eq((last.get("cell_min"), last.get("cell_max")), (min(PINS), max(PINS)), "the lowest / highest as before")
        # a change of one cell and of the balancing reaches the rows
        sim.ctl("set 1 cell 3 3100")
        sim.ctl("set 1 balance 0")
        c.ok(wait_until(lambda: [x for x in rows(hist)[-2:] if x["cells"] and unblob(x["cells"])[2] == 3100
                                 and x["balance"] == 0], 10), "a changed cell and balancing are stored")

        rs = rows(hist)
        frm, to = rs[0]["ts"], rs[-1]["ts"] + 1
        st, body = fetch(http_port, "/api/history?unit=house&from=%d&to=%d&points=2000&cells=1" % (frm, to))
        ch = json.loads(body)
        c.eq((st, ch.get("ncells")), (200, 8), "/api/history cells=1: 8 cells")
        c.ok(len(ch.get("cells", [])) == 8 and all(len(col) == len(ch["t"]) for col in ch["cells"]),
             "one column a cell, as long as the times")
        byts = {r["ts"]: r for r in rs}
        good = True
        for i, t in enumerate(ch["t"]):
            r = byts.get(t)
            if not r or not r["cells"]:
                continue
            if [col[i] for col in ch["cells"]] != unblob(r["cells"]) or ch["balance"][i] != r["balance"]:
                good = False
        c.ok(good, "each chart point's cells and balancing equal the stored row's (1 s buckets)")
        st, body = fetch(http_port, "/api/history?unit=house&from=%d&to=%d&points=2000" % (frm, to))
        c.ok("cells" not in json.loads(body), "without cells=1 no cells in the answer")
        try:
            fetch(http_port, "/api/history?unit=house&cells=yes")
            st = 200
        except urllib.error.HTTPError as e:
            st = e.code
        c.eq(st, 400, "cells=yes: 400")

        st, body = fetch(http_port, "/api/history.csv?unit=house&from=%d&to=%d" % (frm, to))
        text = body.decode()
        head = text.split("\r\n", 1)[0].split(",")
        c.eq(head[-10:], ["cell_%02d_mv" % i for i in range(1, 9)] + ["balance_bits", "balancing"],
             "CSV header: cell_01_mv ... cell_08_mv, balance_bits, balancing")
        got = list(csv.DictReader(io.StringIO(text)))
        on = [r for r in got if r["online"] == "1" and r["cell_01_mv"]]
        good = all([int(r["cell_%02d_mv" % i]) for i in range(1, 9)] == unblob(byts[int(r["unix"])]["cells"])
                   for r in on)
        c.ok(on and good, "CSV cells equal the stored rows (%d rows)" % len(on))
        c.ok(any(r["balance_bits"] == "10" and r["balancing"] == "2 4" for r in on), "CSV balancing: \"2 4\"")
        c.ok(any(r["balance_bits"] == "0" and r["balancing"] == "" for r in on), "CSV balancing none: 0 and empty")
        rc, out, err = cli_csv(gw.conf, "--from", str(frm), "--to", str(to))
        c.eq((rc, out == text), (0, True), "--history-csv prints the same CSV with the cells (%s)" % err.strip())
        step = 4
        st, body = fetch(http_port, "/api/history.csv?unit=house&from=%d&to=%d&step=%d" % (frm, to, step))
        agg = list(csv.DictReader(io.StringIO(body.decode())))
        good = bool(agg)
        for b in agg:
            t0 = int(b["unix"])
            inb = [r for r in on if t0 <= int(r["unix"]) < t0 + step]
            for i in range(1, 9):
                k = "cell_%02d_mv" % i
                if inb:
                    mean = sum(int(r[k]) for r in inb) / len(inb)
                    if abs(int(b[k]) - mean) > 0.5:
                        good = False
                        print("bucket %d %s: %s, mean %.2f" % (t0, k, b[k], mean))
        c.ok(good, "step=%d: each cell the mean of its bucket's rows (%d buckets)" % (step, len(agg)))
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


def folding(tmp):
    """Rows put in before the start: folded as the pack's, dropped with the retention."""
    hist = os.path.join(tmp, "fold.db")
    sim = Sim("daly", packs=("address=1,cells=4",))
    gw_port, http_port = free_port(), free_port()
    text = conf(gw_port, http_port, sim.port, hist, "raw_days = 7\nretention = 180\n")
    gw = Gateway(text, gw_port)
    c.ok(wait_until(lambda: rows(hist), 10), "a database to add old rows to")
    gw.stop()
    now = int(time.time())
    old = (now - 10 * DAY) // 900 * 900
    con = sqlite3.connect(hist)
    uid = con.execute("SELECT id FROM units WHERE name = 'house'").fetchone()[0]
    ins = []
    for i in range(30):
        online = 0 if (i < 15 and i % 2) else 1
        cells = [3300 + i, 3400 - i, 3350, 3200 + 2 * i]
        ins.append((uid, old + 60 * i, 0, 1, online, 52.0 if online else None,
                    blob(cells) if online else None, (1 << ((i // 2) % 4)) if online and i < 15 else (0 if online else None)))
    ins.append((uid, now - 200 * DAY, 0, 1, 1, 52.0, blob([3300] * 4), 0))  # beyond retention
    con.executemany("INSERT INTO samples(unit, ts, span, n, online, voltage, cells, balance) VALUES "
                    "(?,?,?,?,?,?,?,?)", ins)
    con.commit()
    con.close()
    gw = Gateway(text, gw_port)
    try:
        def folded():
            allr = rows(hist)
            if [x for x in allr if x["ts"] < now - 180 * DAY]:
                return None
            r = [x for x in allr if x["ts"] < now - 7 * DAY]
            return r if r and all(x["span"] == 900 for x in r) else None
        f = wait_until(folded, 20)
        c.ok(f, "old rows folded into 15-minute rows, the one beyond the retention dropped")
        if f:
            c.eq(len(f), 2, "two 15-minute rows")
            a, b = f[0], f[1]
            on = [i for i in range(15) if not i % 2]
            want = [round(sum(v) / len(on)) for v in zip(*[[3300 + i, 3400 - i, 3350, 3200 + 2 * i] for i in on])]
            c.eq(unblob(a["cells"]), want, "first row: each cell the mean of the 8 online samples")
            c.eq(a["balance"], 0b1111, "its balancing: the OR of every sample (cells 1 to 4)")
            want = [round(sum(v) / 15) for v in zip(*[[3300 + i, 3400 - i, 3350, 3200 + 2 * i]
                                                       for i in range(15, 30)])]
            c.eq(unblob(b["cells"]), want, "second row: the mean of 15 samples")
            c.eq(b["balance"], 0, "no cell balanced: 0")
        st, body = fetch(http_port, "/api/history.csv?unit=house&from=%d&to=%d" % (old, old + 1800))
        got = list(csv.DictReader(io.StringIO(body.decode())))
        c.eq([(r["span_s"], r["cell_01_mv"], r["balancing"]) for r in got],
             [("900", str(round(sum(3300 + i for i in range(0, 15, 2)) / 8)), "1 2 3 4"),
              ("900", str(round(sum(3300 + i for i in range(15, 30)) / 15)), "")],
             "the CSV shows the folded cells")
        st, body = fetch(http_port, "/api/history?unit=house&range=30d&points=500&cells=1")
        ch = json.loads(body)
        c.ok(ch.get("ncells") == 4 and any(v is not None for v in ch["cells"][0]),
             "the 30-day chart with cells reaches the folded rows")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


def off(tmp):
    hist = os.path.join(tmp, "off.db")
    sim = Sim("daly", packs=("address=1,cells=8",))
    sim.ctl("set 1 balance 3")
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, hist, "cells = false\n"), gw_port)
    try:
        rs = wait_until(lambda: [x for x in rows(hist) if x["online"]][3:] or None, 15)
        c.ok(rs and all(x["cells"] is None and x["balance"] is None for x in rs) and rs[-1]["cell_min"],
             "cells = false: no cells stored, the lowest / highest still")
        st, body = fetch(http_port, "/api/history.csv?unit=house&range=1h")
        c.ok("cell_01_mv" not in body.decode().split("\r\n", 1)[0] and "balanc" not in body.decode(),
             "cells = false: no cell columns in the CSV")
        st, body = fetch(http_port, "/api/history?unit=house&range=1h&cells=1")
        ch = json.loads(body)
        c.ok(ch.get("ncells") == 0 and ch.get("cells") == [], "cells = false: the chart has no cells")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


if __name__ == "__main__":
    sys.exit(main())
