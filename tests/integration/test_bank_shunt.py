#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A shunt as the bank's meter ([bank] shunt) end to end: two simulated
Daly packs on a TCP serial server and a simulated Victron VE.Direct shunt
on a pty, the real daemon, and real clients: pymodbus and mbpoll on the
bank's unit, curl on /api/state and /metrics, mosquitto for MQTT, Chromium
on the page.  The
bank's current, power and SOC are the shunt's (-25 A, 81 %: the packs'
sum would be +6 A at 57.5 %), its full capacity the packs' 200 Ah and its
remaining 81 % of it; the packs give the members, cells and voltage.  The
shunt goes silent: the bank turns to the packs' sum once it is stale,
logged once, and back when it answers, logged once; a live reload removes
the shunt and adds it again; --check refuses a shunt that names no pack or
is listed as a member.  Prints "N passed, N failed"."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, wait_until, write_conf  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402
from test_page import browser  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
BASE = 290
BANK = 100
BMSGW = os.path.join(ROOT, BIN, "bmsgw")


def conf(gw_port, http_port, bus_port, pty, mqtt_port, shunt=True):
    return """[gateway]
listen = 127.0.0.1:%d
base = %d
stale_after = 4
state_file = none
[pack.a]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
unit_id = 1
poll_interval = 0.5
timeout = 0.5
capacity = 100
[pack.b]
protocol = daly
port = tcp://127.0.0.1:%d
address = 2
unit_id = 2
poll_interval = 0.5
timeout = 0.5
capacity = 100
[pack.shunt]
protocol = vedirect
port = %s
unit_id = 3
poll_interval = 1
timeout = 3
[bank]
unit_id = %d
packs = a, b
%s[http]
listen = 127.0.0.1:%d
[history]
file = none
[mqtt]
host = 127.0.0.1
port = %d
client_id = t1
topic_prefix = site/bmsgw
""" % (gw_port, BASE, bus_port, bus_port, pty, BANK, "shunt = shunt\n" if shunt else "", http_port, mqtt_port)


def read(port, addr, count, unit=BANK):
    cl = ModbusTcpClient("127.0.0.1", port=port, timeout=3)
    try:
        if not cl.connect():
            return None
        rr = cl.read_holding_registers(addr, count, slave=unit)
        return None if rr.isError() else list(rr.registers)
    finally:
        cl.close()


def s16(v):
    return v - 0x10000 if v >= 0x8000 else v


def curl(port, path):
    r = subprocess.run(["curl", "-s", "--max-time", "5", "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True, timeout=10)
    return r.stdout if r.returncode == 0 else ""


def bank(http):
    try:
        return json.loads(curl(http, "/api/state")).get("bank") or {}
    except ValueError:
        return {}


def mqtt_bank(sub):
    m = sub.latest("site/bmsgw/bank/state")
    return json.loads(m.text()) if m and m.payload else {}


def page_source(d):
    """The bank card's line on where its current and SOC come from."""
    return d.execute_script("const e = document.querySelector(`[data-unit='bank'] [data-field='bank-source']`); "
                            "return e ? e.textContent : null;")


def check_shunt(gw_port, http, sub, want_a, want_soc, what):
    """Every output carries the shunt's current and SOC."""
    b = bank(http)
    c.eq((b.get("shunt"), b.get("current_from"), b.get("soc_from"), b.get("shunt_fresh")),
         ("shunt", "shunt", "shunt", True), what + ": /api/state says the current and SOC are the shunt's")
    c.near(b.get("current"), want_a, 0.05, what + ": /api/state's bank current is the shunt's")
    c.near(b.get("soc"), want_soc, 0.11, what + ": /api/state's bank SOC is the shunt's")
    c.eq((b.get("packs_configured"), b.get("packs_online")), (2, 2), what + ": the shunt is no member")
    r = read(gw_port, BASE, 4)
    c.ok(r is not None and s16(r[2]) == round(want_a * 10) and r[0] == round(want_soc),
         what + ": the bank unit's offsets 0 and 2 (pymodbus): %s" % ((r and (r[0], s16(r[2]))),))
    r = read(gw_port, BASE + 138, 1)
    c.eq(r, [3], what + ": offset 138, the bank's sources: current and SOC from the shunt")
    mp = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(gw_port), "-a", str(BANK), "-0", "-1",
                         "-r", str(BASE + 12), "-c", "2", "-t", "4:float", "127.0.0.1"],
                        capture_output=True, text=True, timeout=10)
    m = re.search(r"\[%d\]:\s+(-?[0-9.]+)" % (BASE + 12), mp.stdout)
    c.ok(m is not None and abs(float(m.group(1)) - want_a) < 1e-3,
         what + ": mbpoll reads the bank's current float %s" % (m.group(1) if m else mp.stdout[-200:]))
    mb = wait_until(lambda: (lambda j: j if j.get("current_from") == "shunt" else None)(mqtt_bank(sub)), 10) or {}
    c.ok(abs((mb.get("current") or 0) - want_a) < 0.05 and abs((mb.get("soc") or 0) - want_soc) < 0.11,
         what + ": MQTT's bank state carries the shunt's current %s and SOC %s" % (mb.get("current"), mb.get("soc")))
    met = curl(http, "/metrics")
    c.ok("bmsgw_bank_current_from_shunt 1" in met and "bmsgw_bank_soc_from_shunt 1" in met,
         what + ": /metrics says the bank's current and SOC are the shunt's")


def check_packs(gw_port, http, sub, shunt, bits, what):
    """The packs' sum everywhere: +6 A, 57.5 %."""
    b = bank(http)
    c.eq((b.get("shunt"), b.get("current_from"), b.get("soc_from")), (shunt, "packs", "packs"),
         what + ": /api/state says the packs")
    c.near(b.get("current"), 6, 0.05, what + ": the bank's current is the packs' sum")
    c.near(b.get("soc"), 57.5, 0.11, what + ": the bank's SOC is the packs'")
    r = read(gw_port, BASE, 4)
    c.ok(r is not None and s16(r[2]) == 60, what + ": offset 2 reads the packs' sum: %s" % ((r and s16(r[2])),))
    c.eq(read(gw_port, BASE + 138, 1), [bits], what + ": offset 138")
    mb = wait_until(lambda: (lambda j: j if j.get("current_from") == "packs" else None)(mqtt_bank(sub)), 10) or {}
    c.near(mb.get("current"), 6, 0.05, what + ": MQTT's bank state carries the packs' sum")
    c.ok("bmsgw_bank_current_from_shunt 0" in curl(http, "/metrics"), what + ": /metrics says the packs")


def check_errors(tmp):
    base = ("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n"
            "[pack.s]\nprotocol = vedirect\nport = /dev/ttyUSB1\n[bank]\n")
    for tail, want in (("shunt = zz\n", "[bank] shunt: no [pack.zz] section"),
                       ("packs = a, s\nshunt = s\n", "[bank] packs: s is the bank's shunt (line 9)"),
                       ("strings = a+s\nshunt = s\n", "[bank] strings: s is the bank's shunt (line 9)")):
        r = subprocess.run([BMSGW, "-c", write_conf(base + tail), "--check"], capture_output=True, text=True,
                           timeout=20)
        c.ok(r.returncode == 1 and want in r.stderr, "--check refuses %r: exit %d, %s" %
             (tail.strip(), r.returncode, r.stderr.strip()[-140:]))
    r = subprocess.run([BMSGW, "-c", write_conf(base + "shunt = s\n"), "--check"], capture_output=True, text=True,
                       timeout=20)
    c.ok(r.returncode == 0 and "shunt s: the bank's current, power and SOC" in r.stdout,
         "--check accepts a shunt and names it: exit %d" % r.returncode)


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-shunt-")
    check_errors(tmp)
    bus = Sim(packs=("address=1,cells=16,soc=55,current=10,capacity=100",
                     "address=2,cells=16,soc=60,current=-4,capacity=100"))
    pty = os.path.join(tmp, "shunt")
    ved = Sim("vedirect", tcp=False, pty_path=pty, packs=("soc=81,current=-25",))
    broker = Broker()
    gw_port, http = free_port(), free_port()
    text = conf(gw_port, http, bus.port, pty, broker.port)
    gw = Gateway(text, gw_port)
    sub = Subscriber(broker.port, topics=("site/bmsgw/bank/state",))
    d = browser()
    try:
        c.ok(wait_until(lambda: bank(http).get("current_from") == "shunt" and bank(http).get("packs_online") == 2,
                        30), "the bank takes its current from the shunt")
        check_shunt(gw_port, http, sub, -25, 81, "fresh")
        d.get("http://127.0.0.1:%d/" % http)
        want = "current and SOC from shunt shunt"
        c.ok(wait_until(lambda: page_source(d) == want, 20), "the page's bank card: %r" % page_source(d))
        r = read(gw_port, BASE + 44, 19)
        c.ok(r is not None and r[0] == 1620 and r[18] == 2000,
             "its full capacity the packs' 200 Ah, its remaining 81 %% of it: offsets 44, 62 %s" %
             ((r and (r[0], r[18])),))
        # the shunt goes silent: the packs' sum once it is stale, logged once
        ved.ctl("fault 1 silent")
        c.ok(wait_until(lambda: bank(http).get("current_from") == "packs", 15), "a silent shunt: the packs' sum")
        check_packs(gw_port, http, sub, "shunt", 4, "stale")
        c.eq(bank(http).get("shunt_fresh"), False, "stale: /api/state's shunt_fresh")
        want = "shunt shunt has no fresh data: current and SOC from the packs"
        c.ok(wait_until(lambda: page_source(d) == want, 20), "stale: the page's bank card: %r" % page_source(d))
        ved.ctl("fault 1 none")
        c.ok(wait_until(lambda: bank(http).get("current_from") == "shunt", 15), "the shunt answers again")
        check_shunt(gw_port, http, sub, -25, 81, "back")
        log = gw.text()
        c.eq(log.count("bank: shunt shunt is stale: the bank's current, power and SOC are the packs' sum"), 1,
             "its going stale is logged once")
        c.eq(log.count("bank: shunt shunt answers again"), 1, "its return is logged once")
        c.eq(log.count("bank: shunt shunt measures the bank"), 1, "its first data is logged once")
        # a live reload removes the shunt, another adds it again
        with open(gw.conf, "w") as f:
            f.write(conf(gw_port, http, bus.port, pty, broker.port, shunt=False))
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 15), "reload without the shunt applied")
        c.ok(wait_until(lambda: bank(http).get("shunt", "x") is None, 10), "no shunt after the reload")
        check_packs(gw_port, http, sub, None, 0, "no shunt")
        with open(gw.conf, "w") as f:
            f.write(text)
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #2: applied" in gw.text(), 15), "reload with the shunt applied")
        c.ok(wait_until(lambda: bank(http).get("current_from") == "shunt", 10), "the shunt again after the reload")
        check_shunt(gw_port, http, sub, -25, 81, "reloaded")
        c.ok(gw.alive(), "the daemon runs on")
    finally:
        d.quit()
        sub.close()
        gw.stop()
        ved.stop()
        bus.stop()
        broker.cleanup()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
