#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The page's Setup tab end to end in headless Chromium (Debian's chromium,
chromium-driver and python3-selenium), through the page's own buttons:
setup code -> first admin -> HTTPS -> Detect on a simulator's pty -> Add
-> Apply -> the pack's values on Modbus (pymodbus) and MQTT (a real
Mosquitto).

- a configuration without a pack: the page opens on the Setup tab and
  asks for the code; the admin made there, the fingerprint the page shows
  is the certificate's (openssl);
- the server restarts as HTTPS on the same port, where the plain http://
  address is sent on to https:// (301, curl); the page says where it went
  (a banner with the https:// address, the badge "moved to HTTPS") and
  never shows the red "does not answer" banner, even once its last state
  is older than the 12 s that shows it for a gateway that stopped
  answering;
- a browser that trusts that certificate (and only it) continues on
  HTTPS with the login: the ports are listed, Detect on the simulator's
  pty finds its Daly pack, Add puts a [pack] form with its protocol's keys
  only, Check shows an error on its field (a bad poll_interval typed),
  Apply lists the changes first, then applies them;
- the pack's SOC is the simulator's over Modbus and on MQTT; the file kept
  its comment; no error in the console (the Content-Security-Policy holds:
  no inline script);
- the tab is usable at a phone's width (no horizontal scrolling) and by
  keyboard (the buttons and fields are native, focus moves to the first
  error and to the confirmation).
Screenshots are kept in build/test-artifacts/."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, Sim, free_port, wait_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402
from chromium import browser, spki_hash  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
ART = os.path.join(ROOT, "build", "test-artifacts")
TMP = tempfile.mkdtemp(prefix="bmsgw-pagesetup-")
ETC, STATE = os.path.join(TMP, "etc"), os.path.join(TMP, "state")
os.makedirs(ETC)
os.makedirs(STATE)
CONF = os.path.join(ETC, "bmsgw.ini")
PASSWORD = "page-Admin-5521"


def js(d, script, *args):
    return d.execute_script(script, *args)


def visible(d, sel):
    return js(d, "var e = document.querySelector(arguments[0]); return !!e && e.offsetParent !== null", sel)


def shot(d, name):
    os.makedirs(ART, exist_ok=True)
    d.save_screenshot(os.path.join(ART, "setup-%s.png" % name))


def console_errors(d, restarting=False):
    """The console's errors; restarting: the page's server went away on purpose (HTTP to HTTPS), so a
    request of the status page cut off by it is no error of the page."""
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]
            and not (restarting and "Failed to load resource" in e["message"])]


def type_into(d, sel, text):
    e = d.find_element("css selector", sel)
    e.clear()
    e.send_keys(text)
    js(d, "arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", e)


def first_admin(d, http_port, code):
    d.get("http://127.0.0.1:%d/" % http_port)
    c.ok(wait_until(lambda: visible(d, "#su-admin"), 15), "no pack yet: the page opens on the Setup tab, asking "
         "for the setup code")
    c.eq(js(d, "return document.querySelector('#tab-setup').getAttribute('aria-selected')"), "true",
         "... the Setup tab is the one selected")
    c.ok(js(d, "return document.activeElement && document.activeElement.id") == "su-code",
         "... the code field has the focus (keyboard)")
    type_into(d, "#su-code", code[:4] + "-" + code[4:8] + "-" + code[8:])
    type_into(d, "#su-user", "ada")
    type_into(d, "#su-pass", PASSWORD)
    type_into(d, "#su-pass2", PASSWORD)
    shot(d, "1-code")
    d.find_element("css selector", "#su-create").click()
    c.ok(wait_until(lambda: visible(d, "#su-done"), 30), "Create the admin: done")
    pem = os.path.join(ETC, "http.pem")
    fpr = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256"], capture_output=True,
                         text=True).stdout.strip().split("=")[-1]
    c.eq(js(d, "return document.querySelector('#su-fpr').textContent"), fpr,
         "the fingerprint shown is the certificate's (openssl)")
    href = js(d, "return document.querySelector('#su-https').href")
    c.eq(href, "https://127.0.0.1:%d/#setup" % http_port, "Continue on HTTPS goes to the same page over HTTPS")
    shot(d, "2-admin")
    return pem, href


def moved(d, gw, http_port):
    """The old page once the server is HTTPS: where it went, not "does not answer"."""
    c.ok(wait_until(lambda: "status page on https://" in gw.text(), 30), "the page's server restarted as HTTPS")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "20", "-w", "%{http_code} %{redirect_url}",
                        "http://127.0.0.1:%d/" % http_port], capture_output=True, text=True)
    c.eq(r.stdout, "301 https://127.0.0.1:%d/" % http_port, "the old http:// address sends a browser on to https://")
    # the page's last state older than 13 s: a gateway that stopped answering shows the red banner by then
    c.ok(wait_until(lambda: js(d, "return received && Date.now() - received > 13000"), 40),
         "the old page's last state is 13 s old")
    c.ok(js(d, "return document.querySelector('#lost').hidden"),
         "no red \"The gateway does not answer\" banner after the expected restart")
    c.ok(visible(d, "#moved") and js(d, "return (document.querySelector('#moved a') || {}).href") ==
         "https://127.0.0.1:%d/" % http_port, "... a banner says where the page went (%s)" %
         js(d, "return document.querySelector('#moved') && document.querySelector('#moved').textContent"))
    c.eq(js(d, "return document.querySelector('#conn').dataset.state"), "moved", "... the badge: moved to HTTPS")
    shot(d, "2b-moved")


def detect_and_add(d, pty):
    c.ok(wait_until(lambda: visible(d, "#setup-ports") and js(d, "return document.querySelectorAll('#ports tbody tr')"
                                                               ".length") >= 0, 60), "over HTTPS: the ports are listed")
    c.ok(wait_until(lambda: "Logged in as ada (admin)" in js(d, "return document.querySelector('#setup-who')"
                                                               ".textContent"), 30), "... logged in as the admin")
    type_into(d, "#det-port", pty)
    n_found = "return document.querySelectorAll('#det-found li').length"
    state = "return document.querySelector('#det-state').textContent"
    # up to three detections, as test_detect runs --detect: a simulator the
    # loaded machine ran late answers after the probe's wait, which only
    # spoils a run (nothing found), never makes a wrong one
    for tries in range(1, 4):
        d.find_element("css selector", "#det-go").click()
        found = wait_until(lambda: js(d, n_found) > 0 or js(d, state) == "nothing answered as a BMS", 40)
        if js(d, n_found) > 0:
            break
    c.ok(found and js(d, n_found) > 0, "Detect on the simulator's pty: a pack found (%s%s)" %
         (js(d, state), "; try %d" % tries if tries > 1 else ""))
    c.ok("daly" in js(d, "return document.querySelector('#det-found').textContent"), "... a Daly")
    c.ok(js(d, "return Number(document.querySelector('#det-progress').value)") == 1, "... its progress at the end")
    shot(d, "3-detect")
    d.find_element("css selector", "#det-found li button").click()
    c.ok(wait_until(lambda: js(d, "return !!document.querySelector('fieldset[data-section^=\"pack.\"]')"), 5),
         "Add: a [pack] form")
    sect = js(d, "return document.querySelector('fieldset[data-section^=\"pack.\"]').dataset.section")
    keys = js(d, "return Array.from(document.querySelectorAll('fieldset[data-section=\"%s\"] [data-key]'))"
                 ".map(e => e.dataset.key)" % sect)
    c.ok("protocol" in keys and "port" in keys and "address" in keys and "topic" not in keys and "bitrate"
         not in keys, "... with its protocol's keys only (%d keys, no topic, no bitrate)" % len(keys))
    c.eq(js(d, "return document.querySelector('fieldset[data-section=\"%s\"] [name=protocol]').value" % sect), "daly",
         "... its protocol daly")
    return sect


def check_error(d, sect):
    fs = 'fieldset[data-section="%s"]' % sect
    js(d, "document.querySelector('%s details') && (document.querySelector('%s details').open = true)" % (fs, fs))
    type_into(d, fs + " [name=poll_interval]", "0.01")
    d.find_element("css selector", "#cfg-check").click()
    c.ok(wait_until(lambda: js(d, "var e = document.querySelector('%s small.err[data-err-for=poll_interval]');"
                                  "return e && e.textContent" % fs), 10),
         "Check: a poll_interval of 0.01 s has its error on its field (%s)" % js(
             d, "var e = document.querySelector('%s small.err[data-err-for=poll_interval]'); return e && "
                "e.textContent" % fs))
    c.eq(js(d, "return document.activeElement && document.activeElement.name"), "poll_interval",
         "... and the focus on it")
    type_into(d, fs + " [name=poll_interval]", "0.5")


def apply(d):
    d.find_element("css selector", "#cfg-apply").click()
    c.ok(wait_until(lambda: visible(d, "#cfg-review"), 15), "Apply shows the changes first")
    items = js(d, "return Array.from(document.querySelectorAll('#cfg-diff li')).map(e => e.textContent)")
    c.ok(any("protocol: set to daly" in t for t in items), "... [pack] protocol: set to daly (%s)" % items[:3])
    shot(d, "4-review")
    d.find_element("css selector", "#cfg-confirm").click()
    c.ok(wait_until(lambda: js(d, "return document.querySelector('#cfg-msg').dataset.applied") == "true", 20),
         "Apply these changes: applied (%s)" % js(d, "return document.querySelector('#cfg-msg').textContent"))
    shot(d, "5-applied")


def phone(d):
    d.set_window_size(375, 800)
    c.ok(wait_until(lambda: js(d, "return document.documentElement.scrollWidth <= window.innerWidth + 1"), 5),
         "at a phone's width the Setup tab does not scroll sideways")
    shot(d, "6-phone")
    d.set_window_size(1280, 1600)


def run(gw, http_port, gw_port, sim, broker):
    code = open(os.path.join(STATE, "setup-code")).read().strip() if wait_until(
        lambda: os.path.exists(os.path.join(STATE, "setup-code"))) else ""
    d = browser(TMP)
    try:
        pem, href = first_admin(d, http_port, code)
        moved(d, gw, http_port)
        c.eq(console_errors(d, True), [], "no error in the console over HTTP (the requests the switch to HTTPS cut "
             "off aside)")
    finally:
        d.quit()
    d = browser(TMP, spki_hash(pem), ("ada", PASSWORD))
    try:
        c.ok(wait_until(lambda: "https" in gw.text() and "status page on https://" in gw.text(), 15),
             "the page restarted as HTTPS")
        d.get(href)
        sect = detect_and_add(d, sim.pty)
        check_error(d, sect)
        apply(d)
        phone(d)
        c.eq(console_errors(d), [], "no error in the console over HTTPS (the CSP holds)")
    finally:
        d.quit()
    soc = sim.state()["packs"][0]["soc"]
    cl = ModbusTcpClient("127.0.0.1", port=gw_port)
    cl.connect()
    got = []

    def modbus_soc():
        r = cl.read_holding_registers(290, 1, slave=1)
        got[:] = [None if r.isError() else r.registers[0]]
        return got[0] is not None
    c.ok(wait_until(modbus_soc, 20), "the new pack answers on Modbus")
    c.eq(got[0], round(soc), "... its SOC register is the simulator's (%s %%)" % soc)
    cl.close()
    name = sect.split(".", 1)[1]
    sub = Subscriber(broker.port, topics=("bmsgw/#",))
    m = wait_until(lambda: sub.latest("bmsgw/%s/state" % name), 20)
    c.ok(m is not None and abs(json.loads(m.text())["soc"] - soc) < 0.05, "... and on MQTT (%s)" % (
        m and m.text()[:80]))
    sub.close()
    text = open(CONF).read()
    c.ok(text.startswith("; the setup page test: this comment stays\n") and "[%s]\nprotocol = daly\n" % sect in text,
         "the file kept its comment and has the pack")


try:
    gw_port, http_port = free_port(), free_port()
    broker = Broker()
    pty = os.path.join(TMP, "bms")
    sim = Sim("daly", tcp=False, pty_path=pty, packs=("address=1,soc=64.2",))
    sim.pty = pty
    with open(CONF, "w") as f:
        f.write("""; the setup page test: this comment stays
[gateway]
listen = 127.0.0.1:%d
state_file = %s/state
[http]
listen = 127.0.0.1:%d
[mqtt]
host = 127.0.0.1
port = %d
publish_interval = 1
[history]
file = none
""" % (gw_port, STATE, http_port, broker.port))
    gw = Proc([os.path.join(ROOT, BIN, "bmsgw"), "-c", CONF], "bmsgw")
    c.ok(wait_port(gw_port) and wait_port(http_port), "bmsgw starts without a pack")
    run(gw, http_port, gw_port, sim, broker)
    c.ok(gw.alive(), "bmsgw ran throughout")
finally:
    if c.failed:
        gw.dump(60)
    gw.stop()
    shutil.rmtree(TMP, True)
sys.exit(c.report())
