#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=2
"""History end to end: the real bmsgw against the simulator with [history]
and [http].

- rows written every interval with the simulator's values, a pack without
  data stored as offline (no values);
- /api/history.csv (streamed in chunks) and `bmsgw --history-csv` give the
  same rows; step buckets are the weighted means, minima, maxima and alarm
  ORs of the rows they cover;
- chart columns: at most the points asked for, a gap where a unit was
  offline;
- old rows folded into 15-minute rows after raw_days and dropped after the
  retention (rows put into the database before the start);
- a corrupt database is moved aside and a new one started; a full disk is
  logged once and the gateway goes on serving Modbus, and history resumes
  when there is room again (a tmpfs in a private mount namespace, as root);
- a reload that replaces the history while its worker waits on a slow disk
  applies at once, the old worker finishing on its own;
- a pack of the configuration that has no row yet: the CSV's header alone,
  a chart without points; 404 only for a unit that is not there.

tests/run.sh runs it in parts, each with its share of the tests of main()
(harness.my_part).
"""
import csv
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Proc, Sim, free_port, my_part, wait_port, wait_until,  # noqa: E402
                     write_conf)

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
BASE = 290
DAY = 86400


def conf(gw_port, http_port, sim_port, dead_port, hist, extra_hist=""):
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
[pack.shed]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 1
timeout = 0.3
retries = 0
[http]
listen = 127.0.0.1:%d
[history]
file = %s
interval = 1
%s
""" % (gw_port, sim_port, dead_port, http_port, hist, extra_hist)


def fetch(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.status, r.read()


def rows(db, unit, span=None):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    except sqlite3.OperationalError:  # no file yet
        return []
    con.row_factory = sqlite3.Row
    q = "SELECT s.* FROM samples s JOIN units u ON u.id = s.unit WHERE u.name = ?"
    args = [unit]
    if span is not None:
        q += " AND s.span = ?"
        args.append(span)
    try:
        r = [dict(x) for x in con.execute(q + " ORDER BY ts", args)]
    except sqlite3.OperationalError:  # not created yet
        r = []
    con.close()
    return r


def parse_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def cli_csv(conf_path, unit, *args):
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf_path, "--history-csv", unit] + list(args),
                         capture_output=True, timeout=60)
    return out.returncode, out.stdout.decode(), out.stderr.decode()


def fnum(v):
    return None if v in ("", None) else float(v)


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-hist-")
    try:
        for t in (live, no_rows_yet, folding, corrupt, full_disk, slow_reload, slow_state_file):
            if my_part():
                t(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.report()


def live(tmp):
    hist = os.path.join(tmp, "live.db")
    sim = Sim("daly", packs=("address=1,cells=8,sensors=2,soc=50,current=10",))
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, free_port(), hist), gw_port)
    try:
        c.ok(wait_until(lambda: len(rows(hist, "house")) >= 3 if os.path.exists(hist) else False, 15),
             "samples of house are written")
        # values move: SOC steps, then the pack goes silent for a while
        for soc in (40, 60, 80):
            sim.ctl("set 1 soc %d" % soc)
            time.sleep(1.6)
        sim.ctl("fault 1 silent")
        c.ok(wait_until(lambda: any(not r["online"] for r in rows(hist, "house")[-3:]), 10), "offline rows")
        sim.ctl("fault 1 none")
        c.ok(wait_until(lambda: rows(hist, "house")[-1]["online"] == 1, 10), "online rows again")

        def online_after_outage():
            rs = rows(hist, "house")
            k = max(i for i, r in enumerate(rs) if not r["online"])
            return len(rs) - 1 - k
        c.ok(wait_until(lambda: online_after_outage() >= 2, 10), "two online rows after the outage")
        want = sim.state()["packs"][0]
        rs = rows(hist, "house")
        last = [r for r in rs if r["online"]][-1]
        c.near(last["voltage"], want["voltage"], 0.006, "stored voltage equals the simulator's")
        c.near(last["current"], want["current"], 0.006, "stored current")
        c.near(last["soc"], want["soc"], 0.06, "stored SOC")
        c.eq((last["cell_min"], last["cell_max"]), (min(want["cells_mv"]), max(want["cells_mv"])), "stored cells")
        c.eq(last["cell_delta"], max(want["cells_mv"]) - min(want["cells_mv"]), "stored cell difference")
        c.near(last["temp_max"], max(want["temps_c"]), 0.06, "stored highest temperature")
        c.eq((last["span"], last["n"]), (0, 1), "a raw row is one sample")
        ts = [r["ts"] for r in rs]
        c.ok(all(b - a == 1 for a, b in zip(ts, ts[1:])), "one row a second (interval = 1)")
        offl = [r for r in rs if not r["online"]]
        c.ok(offl and all(r["voltage"] is None and r["soc"] is None for r in offl), "offline rows have no values")
        shed = rows(hist, "shed")
        c.ok(shed and all(r["online"] == 0 and r["voltage"] is None for r in shed), "the dead pack: offline rows")

        # CSV: HTTP and the command line agree
        frm, to = rs[0]["ts"], rs[-1]["ts"] + 1
        st, body = fetch(http_port, "/api/history.csv?unit=house&from=%d&to=%d" % (frm, to))
        c.eq(st, 200, "CSV over HTTP")
        web = parse_csv(body.decode())
        rc, out, err = cli_csv(gw.conf, "house", "--from", str(frm), "--to", str(to))
        c.eq(rc, 0, "--history-csv exits 0 (%s)" % err.strip())
        c.eq(body.decode(), out, "--history-csv prints the same CSV as /api/history.csv")
        c.eq(len(web), len([r for r in rows(hist, "house") if frm <= r["ts"] < to]), "one CSV row per stored row")
        c.eq(web[0]["unit"], "house", "CSV unit column")
        c.near(fnum(web[-1]["voltage_v"]), want["voltage"], 0.006, "CSV voltage")
        # buckets: weighted means, extremes
        step = 4
        st, body = fetch(http_port, "/api/history.csv?unit=house&from=%d&to=%d&step=%d" % (frm, to, step))
        agg = parse_csv(body.decode())
        good = True
        for b in agg:
            t0 = int(b["unix"])
            inb = [r for r in web if t0 <= int(r["unix"]) < t0 + step]
            on = [r for r in inb if r["online"] == "1"]
            if int(b["samples"]) != len(inb) or int(b["online"]) != len(on):
                good = False
                print("bucket %d: samples %s/%d online %s/%d" % (t0, b["samples"], len(inb), b["online"], len(on)))
            if on:
                mean = sum(float(r["soc_pct"]) for r in on) / len(on)
                if abs(float(b["soc_pct"]) - mean) > 0.051:
                    good = False
                    print("bucket %d: soc %s, mean %.2f" % (t0, b["soc_pct"], mean))
                if float(b["cell_min_mv"]) != min(float(r["cell_min_mv"]) for r in on) or \
                        float(b["cell_max_mv"]) != max(float(r["cell_max_mv"]) for r in on):
                    good = False
            elif b["soc_pct"] != "":
                good = False
        c.ok(good and len(agg) >= 3, "step=%d: %d buckets, each the mean / extremes of its rows" % (step, len(agg)))
        rc, out, _ = cli_csv(gw.conf, "house", "--from", str(frm), "--to", str(to), "--step", "4s")
        c.eq(out, body.decode(), "--history-csv --step 4s gives the same buckets")

        # chart columns
        st, body = fetch(http_port, "/api/history?unit=house&range=1h&points=100")
        ch = json.loads(body)
        c.eq(st, 200, "chart JSON")
        c.ok(len(ch["t"]) <= 102 and ch["step"] >= 36, "at most the points asked for (step %d s)" % ch["step"])
        st, body = fetch(http_port, "/api/history?unit=house&from=%d&to=%d&points=2000" % (frm, to))
        ch = json.loads(body)
        c.ok(None in ch["soc"] and any(v is not None for v in ch["soc"]), "the outage is a gap (null) in the chart")
        c.eq(len(ch["t"]), len(ch["voltage"]), "columns of equal length")
        for bad, code in (("/api/history", 400), ("/api/history?unit=nope", 404),
                          ("/api/history?unit=house&range=forever", 400),
                          ("/api/history?unit=house&from=2026-13-01", 400),
                          ("/api/history.csv?unit=house&step=x", 400)):
            try:
                st, _ = fetch(http_port, bad)
            except urllib.error.HTTPError as e:
                st = e.code
            c.eq(st, code, "%s: %d" % (bad, code))
        rc, out, err = cli_csv(gw.conf, "nope")
        c.ok(rc == 1 and "no history of unit" in err, "--history-csv of an unknown unit: a clear error")
        rc, out, err = cli_csv(gw.conf, "house", "--from", "yesterday")
        c.ok(rc == 2 and "--from" in err, "--history-csv --from yesterday: a clear error")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(40)


def no_rows_yet(tmp):
    """A pack of the configuration before its first row: the CSV is its header
    alone and the chart has no points (200); a unit that is not there: 404."""
    hist = os.path.join(tmp, "empty.db")
    now = time.time()
    # the first sample is at the next multiple of the interval: one whose
    # next multiple is at least a minute away
    interval = max((86400, 86399), key=lambda iv: iv - now % iv)
    sim = Sim("daly", packs=("address=1",))
    gw_port, http_port = free_port(), free_port()
    text = re.sub(r"^interval = 1$", "interval = %d" % interval, conf(gw_port, http_port, sim.port, free_port(), hist),
                  flags=re.M)
    gw = Gateway(text, gw_port)

    def get(path):
        try:
            return fetch(http_port, path)
        except urllib.error.HTTPError as e:
            return e.code, e.read()
    try:
        st, body = get("/api/history.csv?unit=house")
        lines = body.decode().splitlines()
        c.eq(st, 200, "CSV of a pack with no rows yet: 200")
        c.ok(len(lines) == 1 and lines[0].startswith("time,unix,unit,"), "... the header line alone: %r" % lines)
        st, body = get("/api/history?unit=house")
        ch = json.loads(body) if st == 200 else {}
        c.ok(st == 200 and ch.get("unit") == "house" and ch.get("t") == [] and ch.get("soc") == [],
             "chart of a pack with no rows yet: 200, no points (%d %s)" % (st, body[:80]))
        c.eq(rows(hist, "house"), [], "(no row of house was written meanwhile)")
        for path in ("/api/history.csv?unit=nope", "/api/history?unit=nope", "/api/history.csv?unit=bank"):
            c.eq(get(path)[0], 404, "%s (neither in the configuration nor in the file): 404" % path)
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


def folding(tmp):
    """Rows written before the start: folded after raw_days, dropped after the retention."""
    hist = os.path.join(tmp, "fold.db")
    sim = Sim("daly", packs=("address=1",))
    gw_port, http_port = free_port(), free_port()
    text = conf(gw_port, http_port, sim.port, free_port(), hist, "raw_days = 7\nretention = 180\n")
    gw = Gateway(text, gw_port)
    c.ok(wait_until(lambda: os.path.exists(hist) and rows(hist, "house"), 10), "a database to add old rows to")
    gw.stop()
    now = int(time.time())
    old = (now - 10 * DAY) // 900 * 900  # a 15-minute boundary 10 days ago
    con = sqlite3.connect(hist)
    uid = con.execute("SELECT id FROM units WHERE name = 'house'").fetchone()[0]
    # 30 minutes of samples every 60 s: the first bucket alternates online/offline
    ins = []
    for i in range(30):
        online = 0 if (i < 15 and i % 2) else 1
        soc = 40.0 + i
        ins.append((uid, old + 60 * i, 0, 1, online, soc if online else None, 52.0 if online else None,
                    float(i) if online else None, None, 3300 - i if online else None, 3310 + i if online else None,
                    10 + 2 * i if online else None, 20.0 if online else None, 25.0 + i if online else None, None,
                    (1 << (i % 3)) if online else None))
    ins.append((uid, now - 200 * DAY, 0, 1, 1, 50, 52, 0, 0, 3300, 3300, 0, 20, 20, None, 0))  # beyond retention
    ins.append((uid, now - 3 * DAY, 0, 1, 1, 77, 52, 0, 0, 3300, 3300, 0, 20, 20, None, 0))    # within raw_days
    con.executemany("INSERT INTO samples(unit, ts, span, n, online, soc, voltage, current, power, cell_min, "
                    "cell_max, cell_delta, temp_min, temp_max, mos_temp, alarms) VALUES "
                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", ins)
    con.commit()
    con.close()
    gw = Gateway(text, gw_port)
    try:
        def folded():
            # one pass of the upkeep folds, then drops what is beyond the
            # retention (a row 200 days old is folded first): wait for both
            allr = rows(hist, "house")
            if [x for x in allr if x["ts"] < now - 180 * DAY]:
                return None
            r = [x for x in allr if x["ts"] < now - 7 * DAY]
            return r if r and all(x["span"] == 900 for x in r) else None
        f = wait_until(folded, 20)
        c.ok(f, "rows older than raw_days are folded into 15-minute rows")
        if f:
            c.eq(len(f), 2, "30 minutes of samples: two 15-minute rows")
            a, b = f[0], f[1]
            c.eq((a["ts"], a["n"], a["online"]), (old, 15, 8), "first row: 15 samples, 8 online")
            on = [i for i in range(15) if not i % 2]
            c.near(a["soc"], sum(40.0 + i for i in on) / len(on), 1e-6, "its SOC: the mean of the online samples")
            c.eq((a["cell_min"], a["cell_max"], a["cell_delta"]), (3300 - 14, 3310 + 14, 10 + 28),
                 "its lowest / highest cell and largest difference")
            c.eq(a["alarms"], 7, "its alarms: the OR of every sample")
            c.eq((b["ts"], b["n"], b["online"]), (old + 900, 15, 15), "second row: 15 samples, all online")
            c.near(b["soc"], sum(40.0 + i for i in range(15, 30)) / 15, 1e-6, "its SOC mean")
        allr = rows(hist, "house")
        c.ok(not [x for x in allr if x["ts"] < now - 180 * DAY], "rows beyond the retention are dropped")
        c.ok([x for x in allr if x["ts"] == now - 3 * DAY and x["span"] == 0], "rows within raw_days are kept whole")
        st, body = fetch(http_port, "/api/history.csv?unit=house&from=%d&to=%d" % (old, old + 1800))
        got = parse_csv(body.decode())
        c.eq([(r["span_s"], r["samples"], r["online"]) for r in got], [("900", "15", "8"), ("900", "15", "15")],
             "the CSV shows the folded rows with their span and counts")
        c.ok(got and got[0]["alarms"] == "cell_ov cell_uv pack_ov", "the CSV names the alarms (%r)" %
             (got and got[0]["alarms"]))
        st, body = fetch(http_port, "/api/history?unit=house&range=30d&points=500")
        ch = json.loads(body)
        c.ok(old // ch["step"] * ch["step"] in ch["t"] or any(abs(t - old) < ch["step"] for t in ch["t"]),
             "the 30-day chart reaches the folded rows")
        # a long export in chunks of 2000 rows: 5000 rows written now
        con = sqlite3.connect(hist, timeout=5)
        base = (now - 6.9 * DAY) // 60 * 60
        con.executemany("INSERT OR REPLACE INTO samples(unit, ts, span, n, online, soc) VALUES (?,?,0,1,1,?)",
                        [(uid, int(base) + 60 * i, float(i % 100)) for i in range(5000)])
        con.commit()
        con.close()
        st, body = fetch(http_port, "/api/history.csv?unit=house&from=%d&to=%d" % (base, base + 60 * 5000))
        got = parse_csv(body.decode())
        c.eq(len(got), 5000, "a 5000-row CSV streamed whole (chunks of 2000)")
        c.ok(got and [float(r["soc_pct"]) for r in got[:3]] == [0.0, 1.0, 2.0] and got[-1]["soc_pct"] == "99.0",
             "in order, no row twice")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


def corrupt(tmp):
    hist = os.path.join(tmp, "bad.db")
    with open(hist, "wb") as f:
        f.write(b"this is not an SQLite database " * 200)
    sim = Sim("daly", packs=("address=1",))
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, free_port(), hist), gw_port)
    try:
        c.ok(wait_until(lambda: "is not a usable database" in gw.text(), 10), "a corrupt database is logged")
        line = [l for l in gw.text().splitlines() if "is not a usable database" in l]
        c.ok(line and "moved aside to" in line[0] and "a new one is started" in line[0], "... moved aside: %s" %
             (line[0] if line else ""))
        aside = [n for n in os.listdir(tmp) if n.startswith("bad.db.corrupt-")]
        c.ok(aside, "the old file is kept beside it (%s)" % aside)
        c.ok(wait_until(lambda: os.path.exists(hist) and rows(hist, "house"), 10), "a new database is written")
        cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=2)
        cl.connect()
        c.ok(not cl.read_holding_registers(BASE + 58, 2, slave=1).isError(), "Modbus served meanwhile")
        cl.close()
    finally:
        gw.stop()
        sim.stop()


def full_disk(tmp):
    if os.geteuid() != 0 or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        print("SKIPPED: the full disk needs root and mount namespaces (unshare -m)")
        return
    mnt = os.path.join(tmp, "small")
    os.mkdir(mnt)
    hist = os.path.join(mnt, "history.db")
    sim = Sim("daly", packs=("address=1",))
    gw_port, http_port = free_port(), free_port()
    path = write_conf(conf(gw_port, http_port, sim.port, free_port(), hist))
    # bmsgw in its own mount namespace, on a 2 MB tmpfs
    gw = Proc(["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount -t tmpfs -o size=2m tmpfs "$0" && exec "$@"', mnt, os.path.join(ROOT, BIN, "bmsgw"), "-c",
               path], "bmsgw")
    try:
        c.ok(wait_port(gw_port, 10), "bmsgw on a small tmpfs")
        root = "/proc/%d/root%s" % (gw.p.pid, mnt)  # its mount namespace, seen from here
        c.ok(wait_until(lambda: os.path.exists(root + "/history.db") and "history:" in gw.text(), 10),
             "history open on the tmpfs")
        time.sleep(1.5)
        # fill the disk
        with open(root + "/filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        c.ok(wait_until(lambda: "is full" in gw.text(), 15), "a full disk is logged")
        n_full = gw.text().count("is full")
        cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=2)
        cl.connect()
        t0 = time.monotonic()
        bad = 0
        while time.monotonic() - t0 < 3:
            if cl.read_holding_registers(BASE + 58, 2, slave=1).isError():
                bad += 1
        c.eq(bad, 0, "Modbus answers on while the disk is full")
        cl.close()
        c.eq(gw.text().count("is full"), n_full, "the full disk is logged once")
        st, body = fetch(http_port, "/api/state")
        h = json.loads(body)["history"]
        c.ok(h["dropped"] > 0 and "full" in (h["last_error"] or ""), "the status page shows the lost samples (%d)" %
             h["dropped"])
        os.unlink(root + "/filler")
        c.ok(wait_until(lambda: "writing again" in gw.text(), 15), "writing again once there is room")
        c.ok(gw.alive(), "bmsgw still runs")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


def slow_reload(tmp):
    """A reload that changes [history] while the worker sits in a slow fsync
    (tests/tools/slowdisk.c): the old worker finishes on its own, the loop
    never waits for it."""
    print("== a reload that replaces the history while the disk is slow")
    lib = os.path.join(ROOT, BIN, "slowdisk.so")
    if not os.path.exists(lib):
        c.ok(False, "%s is built by make test" % lib)
        return
    sim = Sim()
    gw_port, http_port = free_port(), free_port()
    db = os.path.join(tmp, "slow-history.db")
    text = conf(gw_port, http_port, sim.port, free_port(), db)
    env = dict(os.environ, LD_PRELOAD=lib, SLOWDISK_MATCH="slow-history", SLOWDISK_SYNC_MS="1500",
               SLOWDISK_WRITE_MS="1", ASAN_OPTIONS="verify_asan_link_order=0")
    gw = Proc([os.path.join(ROOT, BIN, "bmsgw"), "-c", write_conf(text)], "bmsgw", env=env)
    conf_path = gw.p.args[2]
    try:
        c.ok(wait_port(gw_port), "bmsgw listens")
        cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
        cl.connect()
        # the worker has written a batch: every later batch waits 1.5 s in its fsync
        c.ok(wait_until(lambda: len(rows(db, "house")) > 0, 20), "the slow history writes")
        time.sleep(0.3)  # (inside the next batch's fsync: nothing to wait for from outside)
        with open(conf_path, "w") as f:
            f.write(text.replace("interval = 1\n", "interval = 2\n"))
        gw.p.send_signal(signal.SIGHUP)
        t0, worst, n = time.monotonic(), 0.0, 0
        while time.monotonic() - t0 < 2.5:
            t1 = time.monotonic()
            r = cl.read_holding_registers(BASE + 58, 2, slave=1)
            worst = max(worst, time.monotonic() - t1)
            n += 1 if not r.isError() else 0
        m = re.search(r"reload #1: applied in ([0-9.]+) ms", gw.text())
        ms = float(m.group(1)) if m else -1
        # a reload or a read that waited for the old history's fsync would take
        # its 1.5 s: half of it is no scheduling noise (the figures are make bench's)
        c.ok(m is not None and ms < 750, "the reload does not wait for the old history's disk (%.1f ms)" % ms)
        c.ok(n > 5 and worst < 0.75, "Modbus answers throughout (%d reads, worst %.0f ms)" % (n, worst * 1000))
        before = len(rows(db, "house"))
        c.ok(wait_until(lambda: len(rows(db, "house")) > before, 20), "the new history writes to the same file")
        cl.close()
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


def slow_state_file(tmp):
    """The energy state file on a disk whose fsync takes 2 s: a reload (which
    writes it at once) and the minute's save never wait for it; the file is
    complete after SIGTERM."""
    print("== the state file on a slow disk")
    lib = os.path.join(ROOT, BIN, "slowdisk.so")
    if not os.path.exists(lib):
        c.ok(False, "%s is built by make test" % lib)
        return
    sim = Sim()
    gw_port = free_port()
    state = os.path.join(tmp, "slow-state")
    text = ("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = %s\n[pack.house]\nprotocol = daly\n"
            "port = tcp://127.0.0.1:%d\npoll_interval = 0.5\n[history]\nfile = none\n" % (gw_port, state, sim.port))
    env = dict(os.environ, LD_PRELOAD=lib, SLOWDISK_MATCH="slow-state", SLOWDISK_SYNC_MS="2000",
               SLOWDISK_WRITE_MS="1", ASAN_OPTIONS="verify_asan_link_order=0")
    path = write_conf(text)
    gw = Proc([os.path.join(ROOT, BIN, "bmsgw"), "-c", path], "bmsgw", env=env)
    try:
        c.ok(wait_port(gw_port), "bmsgw listens")
        cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
        cl.connect()
        c.ok(wait_until(lambda: not cl.read_holding_registers(BASE + 58, 1, slave=1).isError(), 10), "the pack is online")
        worst, n = 0.0, 0
        for k in (1, 2):
            with open(path, "w") as f:
                f.write(text.replace("poll_interval = 0.5", "poll_interval = %s" % (0.5 + 0.1 * k)))
            gw.p.send_signal(signal.SIGHUP)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 2.5:
                t1 = time.monotonic()
                r = cl.read_holding_registers(BASE + 58, 2, slave=1)
                worst = max(worst, time.monotonic() - t1)
                n += 1 if not r.isError() else 0
        ms = [float(x) for x in re.findall(r"reload #\d: applied in ([0-9.]+) ms", gw.text())]
        c.ok(len(ms) == 2 and max(ms) < 750, "the reloads do not wait for the state file's fsync (%s ms)" % ms)
        c.ok(n > 10 and worst < 0.75, "Modbus answers throughout (%d reads, worst %.0f ms)" % (n, worst * 1000))
        cl.close()
        c.eq(gw.stop(), 0, "SIGTERM: a clean stop")
        with open(state) as f:
            saved = f.read()
        c.ok("pack house " in saved and saved.endswith("\n") and "bank " in saved,
             "the state file is complete after the stop (%r)" % saved[-60:])
        c.ok(not os.path.exists(state + ".tmp"), "no temporary file left")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(30)


if __name__ == "__main__":
    sys.exit(main())
