#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A pack whose cells do not fit its chemistry (issue 62), end to end: the
simulator plays issue 62's 22S LTO pack read by ant (the cells of
tests/fixtures ANT-03, 2.190-2.338 V, while its BMS says 10 % of 80 Ah,
discharging lightly) under the default chemistry = lfp:

- `bmsgw --detect tcp://...` proposes `chemistry = lto` in its section (and
  nothing for the same simulator with LFP cells);
- `bmsgw --once` shows the doubt (chemistry_fit outside, the error naming
  lto, its limits fail-safe with reason chemistry);
- the daemon: the configuration error after 30 s of polls (chemistry_fit
  wrong) in /api/state, logged once; no empty point taken by the counted
  SOC (empty_time 2 s, which an LFP reading of these cells would have
  met); the pack's limits fail-safe (CCL = DCL = 0, mode 4, reasons 10) in
  its registers; the status page (headless Chromium) shows the error on the
  pack's card;
- a reload with chemistry = lto in [pack.ant]: the error ends (logged
  once), the cells fit; the limits stay fail-safe while [limits] says
  lfp (said at the reload), and recover once [limits] says lto too.
Waits for conditions, never sleeps for luck.  Ends with "N passed, N failed".
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, wait_until, write_conf  # noqa: E402

try:
    from pymodbus.client import ModbusTcpClient
except ImportError as e:
    print("a test dependency is missing (%s; make deps installs it)" % e)
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-chem-")
EXE = os.path.join(ROOT, BIN, "bmsgw")
BASE = 290
# ANT-03's cells, mV (tests/unit/test_ant.c)
LTO = [2334, 2331, 2334, 2333, 2333, 2334, 2336, 2334, 2191, 2190, 2192, 2338,
       2283, 2336, 2336, 2335, 2334, 2335, 2334, 2335, 2337, 2335]


def conf(port, http, sim, pack_chem="", limits_chem=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n"
            "[pack.ant]\nprotocol = ant\nport = tcp://127.0.0.1:%d\npoll_interval = 1\n%s"
            "[soc]\nempty_time = 2\n"
            "[limits]\nrecovery_hold = 1\nrecovery_rate = 1000\n%s"
            "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = %s\n"
            % (port, sim.port, pack_chem, limits_chem, http, os.path.join(TMP, "h.db")))


def pin(sim, cells):
    for i, mv in enumerate(cells):
        sim.ctl("set 1 cell %d %d" % (i + 1, mv))


def detect(sim):
    """--detect, up to three times while it finds nothing (exit 1), as
    test_detect runs it: a simulator the loaded machine ran late answers
    after the probe's wait, which only spoils a run, never makes a wrong one."""
    for _ in range(3):
        r = subprocess.run([EXE, "--detect", "tcp://127.0.0.1:%d" % sim.port], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 1:
            break
    return r.returncode, r.stdout, r.stderr


def pack(http):
    return next((p for p in api_state(http).get("packs") or [] if p.get("pack") == "ant"), {})


def regs(cl, off, n):
    r = cl.read_holding_registers(BASE + off, n, slave=1)
    return None if r.isError() else list(r.registers)


def test_detect(sim):
    print("== --detect proposes the chemistry the cells point to")
    rc, out, err = detect(sim)
    c.eq(rc, 0, "--detect finds the ant pack")
    c.ok(re.search(r"^chemistry = lto$", out, re.M) is not None,
         "its section says chemistry = lto (%s)" % out.strip().replace("\n", " | "))
    c.ok("its cells read 2.190-2.338 V at 10 % SOC: lto's, not lfp's" in out, "... with the cells it read")
    pin(sim, [3300] * 22)
    rc, out, err = detect(sim)
    c.ok(rc == 0 and "chemistry" not in out, "LFP cells: no chemistry proposed (%s)" % out.strip().replace("\n", " | "))
    pin(sim, LTO)


def test_once(sim, port, http):
    print("== --once shows the doubt")
    path = write_conf(conf(port, http, sim))
    try:
        r = subprocess.run([EXE, "-c", path, "--once"], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(path)
    js = json.loads(r.stdout.splitlines()[0]) if r.stdout.strip() else {}
    c.eq((js.get("chemistry"), js.get("chemistry_fit"), js.get("chemistry_fitting")), ("lfp", "outside", "lto"),
         "--once: chemistry lfp, its cells outside it, lto fits them")
    c.ok("under lfp's 2.50-3.65 V while the BMS says 10 % SOC" in (js.get("chemistry_error") or ""),
         "--once: the error says why (%s)" % js.get("chemistry_error"))
    lim = js.get("limits") or {}
    c.eq((lim.get("mode"), lim.get("ccl_a"), lim.get("dcl_a"), lim.get("ccl_reason")),
         ("failsafe", 0.0, 0.0, "chemistry"), "--once: its limits fail-safe, reason chemistry")


def page(http):
    """The status page in headless Chromium shows the error on the pack's card."""
    if not (os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver")):
        c.ok(False, "page: chromium and chromium-driver are installed (make deps)")
        return
    from test_page import browser
    d = browser()
    box = "document.querySelector(\"article[data-unit='ant'] [data-field='chemistry']\")"
    try:
        d.get("http://127.0.0.1:%d/" % http)
        # one script a look: nothing goes stale between finding and reading
        got = wait_until(lambda: d.execute_script("const b = %s; return b ? [b.dataset.state, b.textContent] : null"
                                                  % box), 20)
        c.ok(got and got[0] == "wrong" and "chemistry = lfp does not fit" in got[1] and "chemistry = lto" in got[1],
             "page: the pack's card shows the error (%s)" % got)
        errs = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        c.eq(errs, [], "page: no error in the console")
    finally:
        d.quit()


def test_daemon(sim, port, http):
    print("== the daemon: the configuration error, logged once; no empty point; zero limits")
    text = conf(port, http, sim)
    gw = Gateway(text, port)
    cl = ModbusTcpClient("127.0.0.1", port=port, timeout=3)
    cl.connect()
    try:
        c.ok(wait_until(lambda: pack(http).get("chemistry_fit") == "outside", 15), "in doubt from the first polls")
        ok = wait_until(lambda: pack(http).get("chemistry_fit") == "wrong", 60)
        p = pack(http)
        c.ok(ok, "after 30 s of polls: the configuration error (%s)" % p.get("chemistry_fit"))
        c.ok("not lfp cells; they fit lto (chemistry = lto)" in (p.get("chemistry_error") or ""),
             "/api/state says what is wrong (%s)" % p.get("chemistry_error"))
        log = gw.text()
        c.eq(log.count("configuration: chemistry = lfp does not fit its cells"), 1, "logged once")
        se = p.get("soc_estimate") or {}
        c.eq((se.get("empty_points"), "pack ant: empty point" in log), (0, False),
             "no empty point taken (the count: %s of %s Ah)" % (se.get("remaining_ah"), se.get("capacity_ah")))
        r = regs(cl, 47, 9)
        c.ok(r is not None and r[0] == 0 and r[1] == 0 and r[6] == 4 and r[7] == 10 and r[8] == 10,
             "its registers: CCL 0, DCL 0, mode 4 (fail-safe), reasons 10 (chemistry): %s" % r)
        page(http)

        print("== chemistry = lto in [pack.ant]: the error ends; [limits] still lfp: fail-safe, said")
        mark = len(gw.text())
        with open(gw.conf, "w") as f:
            f.write(conf(port, http, sim, pack_chem="chemistry = lto\n"))
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: pack(http).get("chemistry_fit") == "fits", 15), "the cells fit lto")
        c.ok(wait_until(lambda: "pack ant: chemistry lto now: the error of lfp ends" in gw.text()[mark:], 5),
             "the end logged")
        c.ok("[pack.ant]: chemistry lto, but [limits] chemistry is lfp" in gw.text()[mark:],
             "the reload says [limits]' chemistry is another")
        p = pack(http)
        c.eq(((p.get("limits") or {}).get("mode"), (p.get("limits") or {}).get("ccl_reason"), p.get("chemistry_error")),
             ("failsafe", "chemistry", None), "... its limits fail-safe still, its error none")

        print("== chemistry = lto in [limits] too: the limits recover")
        with open(gw.conf, "w") as f:
            f.write(conf(port, http, sim, pack_chem="chemistry = lto\n", limits_chem="chemistry = lto\n"))
        gw.p.send_signal(signal.SIGHUP)
        ok = wait_until(lambda: (regs(cl, 47, 9) or [0])[0] > 0, 20)
        r = regs(cl, 47, 9)
        c.ok(ok and r[6] != 4 and r[7] != 10, "CCL %s A, mode %s, reason %s" % (r and r[0] / 10, r and r[6], r and r[7]))
        log = gw.text()
        c.eq(log.count("configuration: chemistry = "), 1, "the error was logged once in all")
        c.ok("ERROR: AddressSanitizer" not in log and "runtime error" not in log, "sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(40)
        cl.close()
        gw.stop()


def main():
    sim = Sim(protocol="ant", packs=("cells=22,soc=10,capacity=80",))
    try:
        pin(sim, LTO)
        sim.ctl("set 1 current -2.1")
        test_detect(sim)
        port, http = free_port(), free_port()
        test_once(sim, port, http)
        test_daemon(sim, port, http)
    finally:
        sim.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
