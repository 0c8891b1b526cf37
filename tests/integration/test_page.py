#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The status page in headless Chromium (Debian's chromium + chromium-driver,
driven with Debian's python3-selenium), against the real bmsgw and the
simulator:

- the values shown equal the simulator's state (SOC, voltage, current,
  power, temperatures, MOSFETs, every cell as a bar with the lowest and
  highest marked and the balancing cells shown, alarms by name);
- live: a change in the simulator shows without a reload;
- a pack made stale is shown as stale; a gateway that stops answering is
  shown as such (banner) and its packs as stale;
- wires, Modbus clients, the MQTT client (a real Mosquitto), the upstream
  pushers (one to a real pymodbus server, one to nothing), history charts
  drawn with Debian's Chart.js, the CSV link;
- a phone-sized window has no horizontal scrolling: the wires table fits
  its box (a list, each value under its column's name, where it was a
  table 915 px wide in a 339 px box), and the 24 h cells heat map of a
  gateway started a minute ago spans its width from the first sample
  (where its columns were a sliver of under 1 px at the right end);
- the title and heading name [gateway] site;
- no error in the browser's console (the content security policy holds);
- under a prefix, as Home Assistant's ingress proxy serves it
  (/api/hassio_ingress/TOKEN/, the prefix stripped on the way in): live,
  the values, Chart.js and the history chart, the CSV link, and no request
  outside the prefix.
Screenshots are kept in build/test-artifacts/."""
import json
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Checks, Gateway, Proc, Sim, free_port, listener, wait_port, wait_until  # noqa: E402
from mqtt_harness import Broker  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
ART = os.path.join(ROOT, "build", "test-artifacts")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1280,1600",
              "--user-data-dir=" + tempfile.mkdtemp(prefix="bmsgw-chromium-")):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def history_samples(db, unit, since=0):
    """How many raw samples of unit online the history holds from `since`
    on (Unix s)."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM samples s JOIN units u ON u.id = s.unit "
                               "WHERE u.name = ? AND s.span = 0 AND s.online = 1 AND s.ts >= ?",
                               (unit, since)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # not written yet, or busy
        return 0


def api(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/state" % port, timeout=5) as r:
        return json.loads(r.read())


def start_gateway(gw_port, http_port, sim_port, tmp, mqtt_port, inv_port, up_port, gone_port):
    """Two Daly packs on one simulated bus, a bank, the page, history, MQTT,
    the limits, an inverter on RS485 through a TCP serial server (the
    test's) and two upstream pushers: to a real Modbus server (pymodbus)
    and to a port nothing serves."""
    return Gateway("""[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
control_clients = 127.0.0.1
site = cabin
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.5
timeout = 0.4
retries = 0
[pack.garage]
protocol = daly
port = tcp://127.0.0.1:%d
address = 2
poll_interval = 0.5
timeout = 0.4
retries = 0
[bank]
[http]
listen = 127.0.0.1:%d
[history]
file = %s/history.db
interval = 1
[mqtt]
host = 127.0.0.1
port = %d
client_id = page-test
backfill = true
[limits]
[inverter.hybrid]
protocol = pylon-rs485
port = tcp://127.0.0.1:%d
source = bank
[upstream.plc]
host = 127.0.0.1
port = %d
source = bank
base = 1000
interval = 0.5
[upstream.gone]
host = 127.0.0.1
port = %d
source = house
interval = 0.5
""" % (gw_port, sim_port, sim_port, http_port, tmp, mqtt_port, inv_port, up_port, gone_port), gw_port)


def main():
    if not (os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver")):
        print("FAIL chromium and chromium-driver are not installed (make deps)")
        print("0 passed, 1 failed")
        return 1
    os.makedirs(ART, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bmsgw-page-")
    broker = Broker()
    try:
        sim = Sim("daly", packs=("address=1,cells=16,sensors=2,soc=64.2,current=-7.5",
                                 "address=2,cells=16,sensors=2,soc=80,current=3"))
    except Exception:
        broker.stop()
        raise
    gw_port, http_port, inv_port = free_port(), free_port(), free_port()
    up_port, gone_port = free_port(), free_port()
    inverter = []  # the connections bmsgw makes to the "inverter's" serial server
    inv_ls = listener(inv_port, inverter.append)
    ups = Proc(["/usr/bin/python3", os.path.join(ROOT, "tests/integration/upstream_server.py"), str(up_port)],
               "upstream")
    try:
        if not wait_port(up_port):
            raise RuntimeError("the upstream server did not start")
        gw = start_gateway(gw_port, http_port, sim.port, tmp, broker.port, inv_port, up_port, gone_port)
        gw.up_port = up_port
    except Exception:
        ups.stop()
        sim.stop()
        broker.stop()
        raise
    d = None
    try:
        sim.ctl("set 1 balance 0x5")      # cells 1 and 3 balance
        sim.ctl("set 1 cell 5 3350")      # the highest
        sim.ctl("set 1 cell 9 3200")      # the lowest
        sim.ctl("set 1 alarm 0 0x01")     # a cell over-voltage alarm
        c.ok(wait_until(lambda: all(p["online"] for p in api(http_port)["packs"]) and
                        api(http_port)["packs"][0]["balancing"] == [1, 3], 10), "both packs online")
        c.ok(wait_until(lambda: history_samples(os.path.join(tmp, "history.db"), "bank") >= 2, 15),
             "a few history samples of the bank")
        d = browser()
        run(d, sim, gw, gw_port, http_port, broker.port, inverter)
    finally:
        inv_ls.close()
        if d:
            d.quit()
        gw.stop()
        ups.stop()
        sim.stop()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if c.failed:
            gw.dump(30)
    return c.report()


def js(d, script, *args):
    return d.execute_script(script, *args)


def card(d, unit, field):
    return js(d, "const e = document.querySelector(`[data-unit='%s'] [data-field='%s']`); return e ? e.textContent : null;"
              % (unit, field))


def inverter_row(d, field):
    return js(d, "const e = document.querySelector(`#inv tr[data-inverter='hybrid'] [data-field='%s']`); "
                 "return e ? e.textContent : null;" % field)


def check_upstreams(d, up_port):
    """The upstream pushers, a line each: one pushing to its server, one
    whose server is not there."""
    up = lambda n: js(d, "const e = document.querySelector(\"#upstreams [data-upstream='%s']\"); "
                         "return e ? [e.dataset.state, e.textContent] : [null, ''];" % n)
    c.ok(wait_until(lambda: up("plc")[0] == "connected" and re.search(r", [1-9]\d* push\(es\), 0 failed", up("plc")[1]),
                    10), "an upstream pusher shown connected, its pushes counted (%s)" % up("plc")[1])
    c.ok(up("plc")[1].startswith("Upstream plc to 127.0.0.1:%d (bank): connected" % up_port),
         "... where it pushes to and what")
    c.ok(wait_until(lambda: up("gone")[0] == "down", 5), "one whose server is not there: not connected (%s)"
         % up("gone")[1])


def check_inverter(d, inverter):
    """The inverter polls once (Pylontech RS485 0x61); the page shows it."""
    c.ok(wait_until(lambda: inverter, 5), "bmsgw connects to the inverter's serial server")
    s = inverter[0]
    s.settimeout(3)
    s.sendall(b"~20024661E00201FD33\r")
    buf = b""
    while not buf.endswith(b"\r"):
        chunk = s.recv(512)
        if not chunk:
            break
        buf += chunk
    c.ok(buf.startswith(b"~20024600"), "the inverter's poll is answered (%r)" % buf[:20])
    c.ok(wait_until(lambda: inverter_row(d, "seen") == "answering", 6),
         "the Inverters panel shows the inverter answering (%s)" % inverter_row(d, "seen"))
    c.eq(inverter_row(d, "state"), "sending the limits", "... and what is sent")
    c.ok(wait_until(lambda: inverter_row(d, "sent") == "1", 3), "... and the answer counted")


def phone_tables(d):
    """On a phone the wires table fits its box: every column readable
    without scrolling it sideways, each value under its column's name."""
    wait_until(lambda: js(d, "return document.querySelectorAll('#links tbody tr').length") >= 1, 10)
    w = js(d, "const t = document.querySelector('#links'); return [t.scrollWidth, t.parentElement.clientWidth]")
    c.ok(w[0] <= w[1] + 1, "a phone: the wires table fits its box (%d px in %d px)" % tuple(w))
    cell = js(d, "const td = document.querySelector('#links tbody td[data-field=timeouts]'); "
                 "const r = td.getBoundingClientRect(); return [td.dataset.label, r.right <= window.innerWidth]")
    c.eq(cell, ["Timeouts", True], "... its last columns on the screen, each under its name")


def phone_heat(d):
    """The 24 h heat map of a pack whose history began a minute ago: its
    columns span the chart from the first sample, not a sliver at its end."""
    js(d, "const s = document.querySelector('#h-unit'); s.value = 'house'; s.dispatchEvent(new Event('change'));")
    drawn = wait_until(lambda: js(d, "return !!(heat.hist && heat.geo) && document.querySelector('#f-heat')"
                                     ".dataset.cells !== '0'"), 15)
    span = js(d, "const h = heat.hist, g = heat.geo;"
                 "const i = h.t.findIndex((t, k) => h.cells.some(r => r[k] !== null));"
                 "return i < 0 ? null : [g.left + g.plotW - (g.left + (h.t[i] - g.first) / g.span * g.plotW), g.plotW,"
                 " document.querySelector('#c-heat').getBoundingClientRect().height]")
    c.ok(drawn and span and span[0] >= 0.9 * span[1] and span[2] >= 150,
         "a phone: the 24 h cells heat map spans its width from the first sample (%s of %s px wide, %s px high)" %
         (span and round(span[0]), span and round(span[1]), span and round(span[2])))
    js(d, "document.querySelector('#f-heat').scrollIntoView()")
    d.save_screenshot(os.path.join(ART, "status-page-phone-heat.png"))


def run(d, sim, gw, gw_port, http_port, mqtt_port, inverter):
    d.get("http://127.0.0.1:%d/" % http_port)
    c.ok(wait_until(lambda: js(d, "return document.querySelector('#conn').dataset.state") == "live", 10),
         "the page is live (server-sent events)")
    c.eq((js(d, "return document.title"), js(d, "return document.querySelector('h1').textContent")),
         ("bmsgw cabin", "bmsgw cabin"), "the title and heading name the site ([gateway] site)")
    st = sim.state()["packs"][0]
    c.eq(card(d, "house", "status"), "online", "house shown online")
    c.eq(card(d, "house", "soc"), "%.1f %%" % st["soc"], "SOC shown equals the simulator's")
    c.eq(card(d, "house", "voltage"), "%.2f V" % st["voltage"], "voltage shown")
    c.eq(card(d, "house", "current"), "%.2f A" % st["current"], "current shown (discharging: negative)")
    c.eq(card(d, "house", "power"), "%.0f W" % (st["voltage"] * st["current"]), "power shown")
    c.eq(card(d, "house", "temp1"), "%.1f °C" % st["temps_c"][0], "temperature 1 shown")
    c.eq(card(d, "house", "temp2"), "%.1f °C" % st["temps_c"][1], "temperature 2 shown")
    c.eq(card(d, "house", "charge_mos"), "Charge " + ("on" if st["chg_mos"] else "off"), "charge MOSFET shown")
    # a charge setting an EMS wrote (Modbus offset 150, max_soc) is shown with where it came from
    mb = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    mb.connect()
    wr = mb.write_register(290 + 150, 80, slave=1)
    mb.close()
    c.ok(not wr.isError(), "(max_soc = 80 written over Modbus)")
    c.ok(wait_until(lambda: "max SOC 80 % (modbus)" in (card(d, "house", "settings") or ""), 5),
         "the page shows the charge setting and its origin (%r)" % card(d, "house", "settings"))
    bars = js(d, "return Array.from(document.querySelectorAll(\"[data-unit='house'] .cell\")).map("
                 "e => [+e.dataset.cell, +e.dataset.mv, e.className]);")
    c.eq([b[1] for b in bars], st["cells_mv"], "16 cell bars with the simulator's millivolts")
    c.eq([b[0] for b in bars if " min" in b[2]], [9], "the lowest cell (9) is marked")
    c.eq([b[0] for b in bars if " max" in b[2]], [5], "the highest cell (5) is marked")
    c.eq([b[0] for b in bars if " bal" in b[2]], [1, 3], "the balancing cells (1, 3) are shown")
    heights = js(d, "return Array.from(document.querySelectorAll(\"[data-unit='house'] .cell\")).map("
                    "e => e.getBoundingClientRect().height);")
    c.ok(heights[4] == max(heights) and heights[8] == min(heights), "bar heights follow the voltages")
    names = api(http_port)["packs"][0]["alarms"]
    c.ok(names and card(d, "house", "alarms") == "".join(names), "alarms shown by name (%s)" % names)
    c.ok(card(d, "bank", "status") == "online" and "2 of 2 packs online" in
         js(d, "return document.querySelector(\"[data-unit='bank'] .sub\").textContent"), "the bank card")
    row = js(d, "const r = document.querySelector('#links tbody tr'); return r ? r.dataset.state : null;")
    c.eq(row, "up", "the wire is shown up")
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=2)
    cl.connect()
    cl.read_holding_registers(290, 4, slave=1)
    c.ok(wait_until(lambda: js(d, "return document.querySelectorAll('#modbus tbody tr').length") == 1, 8),
         "a Modbus client is listed")
    cl.close()
    mq = lambda: js(d, "const e = document.querySelector('#mqtt'); return [e.dataset.state, e.textContent];")
    c.ok(wait_until(lambda: mq()[0] == "connected", 8), "the MQTT client is shown connected (%s)" % mq()[1])
    c.ok(wait_until(lambda: mq()[1].startswith("MQTT 127.0.0.1:%d (page-test): connected" % mqtt_port), 5),
         "... with its broker and client id")
    # the backlog shown; once caught up, at most the samples of the last
    # history tick are owed (published, their PUBACK not yet back: on a
    # loaded machine that can be every unit's at every look)
    owed = lambda: (lambda m: int(m.group(1)) if m else None)(re.search(r" Backfill: (\d+) sample\(s\) owed",
                                                                         mq()[1]))
    c.ok(wait_until(lambda: owed() is not None and owed() <= 3, 20),
         "... and the backfill's backlog ([mqtt] backfill), caught up (at most a tick's samples owed): %s"
         % mq()[1])
    check_upstreams(d, gw.up_port)
    check_inverter(d, inverter)
    c.ok(js(d, "return !!window.Chart"), "Chart.js loaded from /javascript/chart.js (Debian's libjs-chart.js)")
    c.ok(wait_until(lambda: int(js(d, "return document.querySelector('#h-note').dataset.points || '0'")) > 0, 8),
         "history chart drawn (%s)" % js(d, "return document.querySelector('#h-note').textContent"))
    href = js(d, "return document.querySelector('#h-csv').href")
    c.ok("/api/history.csv?unit=bank&range=24h" in href, "CSV link (%s)" % href)
    head = js(d, "return fetch(arguments[0]).then(r => r.text()).then(t => t.split('\\r\\n')[0]);", href)
    c.ok(head.startswith("time,unix,unit,"), "the CSV link gives CSV")
    d.save_screenshot(os.path.join(ART, "status-page.png"))

    # live: the simulator changes, the page follows
    sim.ctl("set 1 soc 42.5")
    c.ok(wait_until(lambda: card(d, "house", "soc") == "42.5 %", 6), "a new SOC shows without a reload")

    # a pack made stale
    sim.ctl("fault 1 silent")
    c.ok(wait_until(lambda: card(d, "house", "status") == "stale", 8), "a silent pack is shown stale")
    c.ok(js(d, "return document.querySelector(\"[data-unit='house']\").classList.contains('stale')"),
         "its values are greyed out")
    c.eq(card(d, "garage", "status"), "online", "the other pack stays online")
    d.save_screenshot(os.path.join(ART, "status-page-stale.png"))
    sim.ctl("fault 1 none")
    c.ok(wait_until(lambda: card(d, "house", "status") == "online", 8), "and online again")

    # the gateway stops answering: the page says so and nothing stays current
    gw.p.send_signal(signal.SIGSTOP)
    try:
        c.ok(wait_until(lambda: js(d, "return !document.querySelector('#lost').hidden"), 20),
             "a gateway that stops answering: the banner shows")
        c.ok(wait_until(lambda: card(d, "garage", "status") == "stale", 5), "... and its packs show stale")
        d.save_screenshot(os.path.join(ART, "status-page-lost.png"))
    finally:
        gw.p.send_signal(signal.SIGCONT)
    c.ok(wait_until(lambda: js(d, "return document.querySelector('#lost').hidden") and
                    card(d, "garage", "status") == "online", 15), "back when it answers again")

    # a phone
    d.set_window_size(390, 844)
    d.get("http://127.0.0.1:%d/" % http_port)
    wait_until(lambda: card(d, "house", "status") == "online", 10)
    c.ok(js(d, "return document.documentElement.scrollWidth <= window.innerWidth + 1"),
         "a phone-sized window: no horizontal scrolling (%s <= %s)" %
         (js(d, "return document.documentElement.scrollWidth"), js(d, "return window.innerWidth")))
    phone_tables(d)
    d.save_screenshot(os.path.join(ART, "status-page-phone.png"))
    phone_heat(d)

    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    c.eq(errors, [], "no error in the browser console")
    under_prefix(d, http_port)
    print("screenshots in %s" % ART)


class PrefixProxy:
    """Home Assistant's ingress proxy, as far as the page sees it: serves
    http://127.0.0.1:PORT/api/hassio_ingress/TOKEN/... from the page's server
    (connecting from 127.0.0.2) with the prefix stripped and X-Ingress-Path
    added, streaming (the event stream too); a request outside the prefix is
    kept in `outside` and 404."""
    PREFIX = "/api/hassio_ingress/t0k3n-Page_test"

    def __init__(self, backend):
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        proxy = self
        self.outside = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if not self.path.startswith(proxy.PREFIX + "/"):
                    proxy.outside.append(self.path)
                    self.send_error(404)
                    return
                # from an address of its own, as the real proxy is another
                # host than the browser: the server's share of connections
                # per address ([http] max_clients) is the proxy's alone, not
                # taken by the browser's own connections kept from the test
                # before (a run on a loaded machine had one refused)
                conn = http.client.HTTPConnection("127.0.0.1", backend, timeout=30, source_address=("127.0.0.2", 0))
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                hdrs["X-Ingress-Path"] = proxy.PREFIX
                conn.request("GET", self.path[len(proxy.PREFIX):], headers=hdrs)
                r = conn.getresponse()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive"):
                        self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    while True:
                        chunk = r.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (OSError, http.client.HTTPException):  # a stream cut as either end goes
                    pass
                conn.close()

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def under_prefix(d, http_port):
    proxy = PrefixProxy(http_port)
    try:
        d.set_window_size(1280, 1600)
        d.get("http://127.0.0.1:%d%s/" % (proxy.port, proxy.PREFIX))
        c.ok(wait_until(lambda: js(d, "return document.querySelector('#conn').dataset.state") == "live", 10),
             "under the ingress prefix: the page is live (server-sent events through it)")
        c.ok(wait_until(lambda: card(d, "house", "status") == "online", 10), "... its packs shown")
        c.ok(js(d, "return !!window.Chart"), "... Chart.js loaded")
        c.ok(wait_until(lambda: int(js(d, "return document.querySelector('#h-note').dataset.points || '0'")) > 0,
                        8), "... the history chart drawn")
        href = js(d, "return document.querySelector('#h-csv').href")
        c.ok(href.startswith("http://127.0.0.1:%d%s/api/history.csv?" % (proxy.port, proxy.PREFIX)),
             "... the CSV link under the prefix (%s)" % href)
        d.save_screenshot(os.path.join(ART, "status-page-ingress.png"))
        c.eq(proxy.outside, [], "no request outside the prefix")
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        c.eq(errors, [], "no error in the browser console under the prefix")
    finally:
        proxy.close()


if __name__ == "__main__":
    sys.exit(main())
