#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3 build=normal
"""Bluetooth LE through ESPHome Bluetooth proxies, end to end: the real
bmsgw against the fake proxy (tests/ble/fake_esphome.py, itself checked
against real ESPHome clients by test_esphome_fake.py) whose devices bridge
to the BMS simulator (bmsgw-sim).

- every Bluetooth protocol (every row of test_ble.py's tables: the GATT
  families, the advertisement-only victron-ble, the unlock of tdt, the
  second notifier of the Super-B Epsilon v2) through one proxy, plaintext
  and then encrypted: the simulator's voltage on Modbus, in /api/state and
  on MQTT; only read requests written; then the families test_ble.py runs
  from the driver table alone (test_families: their advertised service
  data, 128-bit services, Dyness Junior's blind init after subscribing)
  the same way;
- a wrong key: a clear error naming the proxy, counted, retried with
  backoff and logged once, a second proxy's pack read meanwhile; a wrong
  old-style password;
- three packs through one free slot, all fresh, never two connections at
  once, the turns and the round in /api/state;
- a proxy that dies and returns: its packs stale (exception 0x0B), then
  back, the outage logged once; a proxy with three packs: its outage one
  line naming them, its return one line;
- malformed frames (a bad varint, an oversized length, a Noise frame that
  does not decrypt) end that proxy's connection only;
- bmsgw --ble-scan --adapter through a proxy; /metrics per proxy.

Prints "N passed, N failed"; tests/run.sh runs it in parts (my_part()).
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_harness import EspFake, new_key  # noqa: E402
from harness import (BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, ha_float, my_part,  # noqa: E402
                     wait_until, write_conf)

import test_ble as tb  # noqa: E402 - its tables of every Bluetooth protocol and its Modbus helpers

c = Checks()
EXE = os.path.join(ROOT, BIN, "bmsgw")
BASE = 290
VIC_KEY = "00112233445566778899aabbccddeeff"


def every_protocol_rows():
    """(label, protocol, sim protocol, sim options, device spec fields, pack
    extra lines) for every Bluetooth protocol and layout of test_ble.py."""
    rows = []
    for proto, simproto, layout, chunk, *more in tb.ROWS:
        given = [a for a in more if isinstance(a, int)]  # the pack's address, configured too
        addr = (given or [1])[0]
        opts = "".join("," + o for o in more if isinstance(o, str))
        if layout == "adv":
            rows.append(("%s (advertisements)" % proto, proto, simproto, "key=" + VIC_KEY,
                         {"mode": "adv", "name": "SmartShunt"}, "key = %s\n" % VIC_KEY))
        else:
            rows.append(("%s (layout %s%s)" % (proto, layout, opts), proto, simproto, "address=%d%s" % (addr, opts),
                         {"layout": layout, "chunk": chunk}, "address = %d\n" % addr if given else ""))
    for proto, layout, name, _mfr, uuids, opts in tb.BLE1:
        rows.append(("%s %s" % (proto, name), proto, proto, "address=1," + opts,
                     {"layout": layout, "name": name, "uuids": uuids}, ""))
    for proto, layout, name, opts, _reads in tb.MB_BLE:
        rows.append(("%s %s" % (proto, name), proto, proto, "address=1" + ("," + opts if opts else ""),
                     {"layout": layout, "name": name, "uuids": []}, ""))
    rows.append(("tdt (the unlock)", "tdt", "tdt", "address=1,cells=16,sensors=6",
                 {"layout": "tdt", "name": "XDZN_001_49A1", "uuids": [], "unlock": "HiLink"}, ""))
    rows.append(("seplos (its module's 0x61)", "seplos", "seplos", "address=0,cells=16,sensors=4",
                 {"layout": "jbd", "name": "BP00"}, "address = 0\n"))
    rows.append(("superb (Epsilon v2, two notifiers)", "superb", "superb", "address=1,cells=4,layout=v2",
                 {"layout": "superb:2", "name": "Epsilon-0A1B2C", "uuids": [], "notify_records": True,
                  "manufacturer": {"20670": "457073696c6f6e205632"}}, ""))
    return rows


def family_rows():
    """The rows of test_ble.py's generic families (test_families: every
    Bluetooth protocol no table of its own names), each as family_case
    makes its device: the table's GATT layout, the simulator's name, what
    the table's hints advertise (service data too), the address prefix of
    an address hint."""
    rows = []
    for i, proto in enumerate(tb.generic_families()):
        p = tb.ble_layouts.table()[proto]
        uuids, mfr, sdata = tb.advertised(p)
        oui = [h["prefix"] for h in p["ble"]["hints"] if h["kind"] == "address+service"]
        dev = {"layout": proto, "name": None, "uuids": uuids, "manufacturer": mfr, "service_data": sdata}
        if oui:
            dev["address"] = oui[0] + ":00:05:%02X" % (i + 1)
        rows.append(("%s (its family)" % proto, proto, proto, "address=1", dev, ""))
    return rows


def voltage(port, unit):
    regs, _, _ = tb.read_raw(port, unit, BASE, 12)
    return ha_float(regs[10:12]) if regs else None


def site(rows, key=None, slots=None):
    """One simulator per row, one fake proxy serving them all, the
    [ble_proxy] section and the packs' sections."""
    sims, devs, packs = [], [], []
    for i, (label, proto, simproto, opts, dev, extra) in enumerate(rows):
        sim = Sim(protocol=simproto, packs=(opts,))
        mac = dev.get("address") or "C8:47:90:00:%02X:%02X" % (i // 256, i % 256)
        d = {"address": mac, "name": "xiaoxiang BMS", "mode": "bridge", "chunk": 20, "rssi": -60,
             "sim": "127.0.0.1:%d" % sim.port, "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"]}
        d.update(dev)
        if d["name"] is None:  # the name its simulator responder gives (.ble_name)
            d["name"] = sim.state().get("ble_name")
        sims.append(sim)
        devs.append(d)
        packs.append("[pack.p%d]\nprotocol = %s\nport = ble://%s\nunit_id = %d\nadapter = shed\npoll_interval = 1\n%s"
                     % (i + 1, proto, mac, i + 1, extra))
    fake = EspFake({"devices": devs}, key, extra=["--slots", str(slots or len(rows) + 2)])
    sect = "[ble_proxy.shed]\nhost = 127.0.0.1\nport = %d\n%s" % (
        fake.port, "encryption_key = %s\n" % key if key else "")
    return sims, devs, fake, sect + "".join(packs)


def gw_conf(port, http, body, extra=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 10\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n%s%s"
            % (port, http, extra, body))


def rows_check(label, rows, sims, devs, fake, port, http, sub):
    """Every row's voltage on Modbus, in /api/state and on MQTT equals its
    simulator's; only read requests written."""
    for i, row in enumerate(rows):
        name = row[0]
        c.ok(wait_until(lambda: tb.online(port, i + 1), 40), "%s, %s: online" % (name, label))
    st = api_state(http)
    for i, row in enumerate(rows):
        name, proto = row[0], row[1]
        p = sims[i].state()["packs"][0]
        c.ok(wait_until(lambda: abs((voltage(port, i + 1) or 0) - sims[i].state()["packs"][0]["voltage"]) < 2e-3, 10),
             "%s, %s: Modbus voltage is the simulator's (%s, %s)" % (name, label, voltage(port, i + 1), p["voltage"]))
        pk = next((x for x in st.get("packs", []) if x.get("pack") == "p%d" % (i + 1)), {})
        c.near(pk.get("voltage"), p["voltage"], 0.006, "%s, %s: /api/state voltage" % (name, label))
        m = sub.wait_for("esp/p%d/state" % (i + 1), lambda m: bool(m.payload), 10)
        js = json.loads(m.text()) if m else {}
        c.near(js.get("voltage"), p["voltage"], 0.006, "%s, %s: MQTT voltage" % (name, label))
        d = fake.dev(devs[i]["address"])
        if proto in tb.READS:
            c.ok(d["written"] and set(w.split(":", 1)[1] for w in d["written"]) <= tb.READS[proto],
                 "%s, %s: only its read requests written (%s)" % (name, label, " ".join(d["written"])))
        if proto in tb.NO_WRITES and devs[i].get("layout") != "superb:2":
            c.eq(d["written"], [], "%s, %s: nothing written" % (name, label))


def scan_names(rows, devs, fake):
    """bmsgw --ble-scan through the proxy names each row's protocol."""
    conf = write_conf("[pack.a]\nprotocol = %s\nport = ble://%s\nadapter = shed\n" % (rows[0][1], devs[0]["address"]) +
                      proxy_sect("shed", fake))
    try:
        r = subprocess.run([EXE, "--ble-scan", "2", "-c", conf, "--adapter", "shed"], capture_output=True, text=True,
                           timeout=60)
    finally:
        os.unlink(conf)
    got = {ln.split()[0]: ln for ln in r.stdout.splitlines() if re.match(r"[0-9A-F]{2}:", ln)}
    for row, d in zip(rows, devs):
        line = got.get(d["address"], "")
        c.ok(re.search(r"\s%s\s" % re.escape(row[1]), line) is not None,
             "--ble-scan through the proxy names %s %s (%s)" % (d["name"], row[1], line.strip()))


def http_text(http, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (http, path), timeout=5) as r:
        return r.read().decode()


def every_protocol(key, families=False):
    """Every Bluetooth protocol through one proxy, plaintext (key None) or
    Noise; families: test_ble.py's generic families instead (plaintext)."""
    from mqtt_harness import Broker, Subscriber
    rows = family_rows() if families else every_protocol_rows()
    label = "encrypted" if key else "plaintext"
    print("== every Bluetooth %s (%d rows) through one ESPHome proxy, %s"
          % ("family test_ble.py runs from the driver table" if families else "protocol", len(rows), label))
    sims, devs, fake, body = site(rows, key)
    broker = Broker()
    gw = sub = None
    try:
        if families:
            scan_names(rows, devs, fake)
        port, http = free_port(), free_port()
        sub = Subscriber(broker.port, topics=("esp/#",))
        mq = "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = e1\ntopic_prefix = esp\n" % broker.port
        t0 = time.monotonic()
        gw = Gateway(gw_conf(port, http, body, mq), port)
        rows_check(label, rows, sims, devs, fake, port, http, sub)
        print("   figure: %d packs online through one proxy (%s) after %.1f s"
              % (len(rows), label, time.monotonic() - t0))
        px = (api_state(http).get("ble_proxies") or [{}])[0]
        c.ok(px.get("connected") is True and px.get("encrypted") is (key is not None) and
             px.get("packs") == len(rows) and px.get("api_version") and px.get("device") == "bms-proxy-test",
             "/api/state ble_proxies: connected, %s, %d packs, its API version and name (%s)"
             % (label, len(rows), {k: px.get(k) for k in ("connected", "encrypted", "packs", "api_version")}))
        if key:
            seen = gw.text() + http_text(http, "/api/state") + http_text(http, "/api/config") + \
                http_text(http, "/metrics")
            c.ok(key not in seen and "fnv1a:" in http_text(http, "/api/config"),
                 "the key never in the log, /api/state, /api/config (its fingerprint) or /metrics")
    finally:
        if c.failed and gw:
            gw.dump(40)
        for x in [gw, fake, broker] + sims:
            if x:
                x.stop()
        if sub and hasattr(sub, "close"):
            sub.close()


def one_pack_site(key=None, extra=(), name="p", unit=1, mac="C8:47:91:00:00:01", sim_opts="address=1"):
    sim = Sim(protocol="jbd", packs=(sim_opts,))
    dev = {"address": mac, "name": "xiaoxiang BMS", "layout": "jbd", "chunk": 20, "mode": "bridge",
           "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"], "rssi": -60, "sim": "127.0.0.1:%d" % sim.port}
    fake = EspFake({"devices": [dev]}, key, extra=list(extra))
    return sim, fake, "[pack.%s]\nprotocol = jbd\nport = ble://%s\nunit_id = %d\nadapter = %s\npoll_interval = 0.5\n" % (
        name, mac, unit, name)


def proxy_sect(name, fake, key=None, password_file=None):
    return "[ble_proxy.%s]\nhost = 127.0.0.1\nport = %d\n%s%s" % (
        name, fake.port, "encryption_key = %s\n" % key if key else "",
        "password_file = %s\n" % password_file if password_file else "")


def state_of(http, name):
    return next((p for p in api_state(http).get("ble_proxies") or [] if p.get("name") == name), {})


def test_wrong_key():
    print("== a wrong key, a wrong password: clear errors naming the proxy; the other proxy's pack read")
    good_key = new_key()
    sa, fa, pa = one_pack_site(good_key, name="good", unit=1, mac="C8:47:91:00:00:01")
    sb, fb, pb = one_pack_site(new_key(), name="bad", unit=2, mac="C8:47:91:00:00:02")
    sc, fc, pc = one_pack_site(None, extra=["--password", "right"], name="old", unit=3, mac="C8:47:91:00:00:03")
    pw = write_conf("wrong\n")
    gw = None
    try:
        port, http = free_port(), free_port()
        body = (proxy_sect("good", fa, good_key) + pa + proxy_sect("bad", fb, new_key()) + pb +
                proxy_sect("old", fc, password_file=pw) + pc)
        gw = Gateway(gw_conf(port, http, body), port)
        c.ok(wait_until(lambda: tb.matches(port, 1, sa), 20), "the pack of the right key is read")
        c.ok(wait_until(lambda: state_of(http, "bad").get("handshake_failures", 0) >= 2, 20),
             "the wrong key: handshakes fail, retried (%s)" % state_of(http, "bad").get("handshake_failures"))
        err = state_of(http, "bad").get("error", "")
        c.ok("key" in err and "handshake" in err, "/api/state names why: %r" % err)
        c.ok(not tb.online(port, 2), "the wrong key's pack is not served (0x0B)")
        c.eq(len(re.findall(r"warn.*ble_proxy bad: handshake", gw.text())), 1, "the wrong key logged once")
        c.ok(wait_until(lambda: "refused the password" in state_of(http, "old").get("error", ""), 20),
             "the wrong password: %r" % state_of(http, "old").get("error"))
        c.ok(not tb.online(port, 3) and tb.matches(port, 1, sa), "its pack not served; the good one still read")
        c.eq(fb.state()["api"]["handshake_failures"] >= 2, True, "the fake counted the failed handshakes")
    finally:
        if c.failed and gw:
            gw.dump(30)
        for x in (gw, fa, fb, fc, sa, sb, sc):
            if x:
                x.stop()
        os.unlink(pw)


def test_slots():
    print("== three packs through one free slot of a proxy")
    sims = [Sim(protocol="jbd", packs=("address=1,soc=%d" % (30 + 20 * i),)) for i in range(3)]
    macs = ["C8:47:92:00:00:%02X" % (i + 1) for i in range(3)]
    devs = [{"address": m, "name": "xiaoxiang BMS", "layout": "jbd", "chunk": 20, "mode": "bridge",
             "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"], "sim": "127.0.0.1:%d" % s.port, "connect_delay": 0.2}
            for m, s in zip(macs, sims)]
    fake = EspFake({"devices": devs}, extra=["--slots", "1"])
    gw = None
    try:
        port, http = free_port(), free_port()
        packs = "".join("[pack.s%d]\nprotocol = jbd\nport = ble://%s\nunit_id = %d\nadapter = shed\npoll_interval = 1\n"
                        % (i + 1, m, i + 1) for i, m in enumerate(macs))
        gw = Gateway(gw_conf(port, http, proxy_sect("shed", fake) + packs), port)
        for i in range(3):
            c.ok(wait_until(lambda: tb.matches(port, i + 1, sims[i]), 30), "pack s%d equals its simulator" % (i + 1))
        c.ok(wait_until(lambda: min(fake.dev(m)["connects"] for m in macs) >= 3, 60),
             "they took turns (connects %s)" % [fake.dev(m)["connects"] for m in macs])
        for i in range(3):
            sims[i].ctl("set 1 soc %d" % (85 - 10 * i))
        for i in range(3):
            c.ok(wait_until(lambda: abs(((tb.api_pack(http, "s%d" % (i + 1)) or {}).get("soc") or 0) -
                                        sims[i].state()["packs"][0]["soc"]) < 1, 30),
                 "s%d: a new SOC in its turn" % (i + 1))
        c.eq(fake.state()["max_connected"], 1, "never two connections at once")
        px = state_of(http, "shed")
        c.ok(px.get("taking_turns") is True and (px.get("round_s") or 0) > 0 and px.get("slots") == 1 and
             px.get("pack_names") == ["s1", "s2", "s3"],
             "/api/state: the packs share the slot, the round's length (%s)" %
             {k: px.get(k) for k in ("taking_turns", "round_s", "slots", "pack_names")})
        print("   figure: three packs through one slot: a round of %s s" % px.get("round_s"))
        page_check(http)
        c.ok(not re.search(r"warn.*link ble://C8:47:92", gw.text()), "taking turns logs no outage")
    finally:
        if c.failed and gw:
            gw.dump(30)
        for x in [gw, fake] + sims:
            if x:
                x.stop()


def page_check(http):
    """The status page in headless Chromium shows the proxy, its slot and
    the packs taking turns, and no console error."""
    import test_page as tp
    d = tp.browser()
    try:
        d.get("http://127.0.0.1:%d/" % http)
        row = "const r = document.querySelector('#proxies tbody tr[data-proxy=\"shed\"]'); " \
              "return r && !document.querySelector('#proxies').hidden ? r.textContent : '';"
        c.ok(wait_until(lambda: "take turns, round" in d.execute_script(row), 20),
             "the page's proxies panel: %r" % d.execute_script(row))
        text = d.execute_script(row)
        c.ok("connected" in text and "of 1 free" in text and "s1, s2, s3" in text and "bms-proxy-test" in text,
             "... connected, its one slot, the packs sharing it, the device")
        links = "return Array.from(document.querySelectorAll('#links tbody tr')).map(r => r.textContent).join('|');"
        c.ok(wait_until(lambda: d.execute_script(links).count("takes turns for a Bluetooth connection") == 3, 20),
             "the wires panel says which links take turns")
        errs = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        c.eq(errs, [], "no error in the browser's console")
    finally:
        d.quit()


def test_outage():
    print("== a proxy that dies and returns; malformed frames end that connection only")
    key = new_key()
    sa, fa, pa = one_pack_site(None, name="a", unit=1, mac="C8:47:93:00:00:01")
    sb, fb, pb = one_pack_site(key, name="b", unit=2, mac="C8:47:93:00:00:02")
    gw = None
    try:
        port, http = free_port(), free_port()
        gw = Gateway(gw_conf(port, http, proxy_sect("a", fa) + pa + proxy_sect("b", fb, key) + pb), port)
        c.ok(wait_until(lambda: tb.matches(port, 1, sa) and tb.matches(port, 2, sb), 20), "both proxies' packs read")
        fa.ctl("kill")
        c.ok(wait_until(lambda: not tb.online(port, 1), 30), "proxy a gone: its pack goes stale (0x0B)")
        c.ok(state_of(http, "a").get("connected") is False and tb.online(port, 2), "proxy b's pack is still read")
        fa.ctl("revive")
        c.ok(wait_until(lambda: tb.matches(port, 1, sa), 40), "proxy a back: its pack read again")
        log = gw.text()
        c.eq(len(re.findall(r"warn.*ble_proxy a:", log)), 1, "the proxy's outage logged once")
        c.ok("ble_proxy a: back after" in log, "its end logged")
        cases = (("a", fa, "varint", "varint"), ("a", fa, "length", "longer than the limit"), ("b", fb, "decrypt", "decrypt"))
        for name, fake, kind, word in cases:
            before = state_of(http, name).get("sessions", 0)
            fake.ctl("garbage " + kind)
            fake.ctl("disconnect_api")
            c.ok(wait_until(lambda: word in state_of(http, name).get("error", ""), 20),
                 "a %s frame ends proxy %s's connection: %r" % (kind, name, state_of(http, name).get("error")))
            c.ok(wait_until(lambda: state_of(http, name).get("sessions", 0) > before and
                            state_of(http, name).get("connected") is True, 40), "... and the next one is served")
            other = 2 if name == "a" else 1
            c.ok(tb.online(port, other), "... while the other proxy's pack is read")
        c.ok(wait_until(lambda: tb.matches(port, 1, sa) and tb.matches(port, 2, sb), 30), "both read at the end")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=5) as r:
            metrics = r.read().decode()
        c.ok(re.search(r'^bmsgw_ble_proxy_up\{proxy="a"\} 1$', metrics, re.M) and
             re.search(r'^bmsgw_ble_proxy_handshake_failures_total\{proxy="b"\} \d+$', metrics, re.M),
             "/metrics per proxy")
    finally:
        if c.failed and gw:
            gw.dump(40)
        for x in (gw, fa, fb, sa, sb):
            if x:
                x.stop()


def test_outage_lines():
    print("== a proxy with three packs dies and returns: one line for its outage naming them, one when it is back")
    rows = [("p%d" % (i + 1), "jbd", "jbd", "address=1", {"layout": "jbd"}, "") for i in range(3)]
    sims, devs, fake, body = site(rows)
    gw = None
    try:
        port, http = free_port(), free_port()
        # without the SOC count, whose own line says what it made of the gap
        gw = Gateway(gw_conf(port, http, body, extra="[soc]\ncount = false\n"), port, extra=["-v"])
        c.ok(wait_until(lambda: all(tb.matches(port, i + 1, sims[i]) for i in range(3)), 40), "the three packs read")
        mark = len(gw.text())
        fake.ctl("kill")
        c.ok(wait_until(lambda: not any(tb.online(port, i + 1) for i in range(3)), 30),
             "proxy shed gone: its three packs go stale (0x0B)")
        # every link has tried the dead proxy again (-v: the retries at debug)
        c.ok(wait_until(lambda: all(re.search(r"debug: link ble://%s: .*retry in" % d["address"], gw.text()[mark:])
                                    for d in devs), 40), "each pack's link tried the proxy again")
        out = [ln for ln in gw.text()[mark:].splitlines() if " warn: " in ln or " info: " in ln or " error: " in ln]
        c.eq(len(out), 1, "the outage is one line of the log (%s)" % out)
        c.ok(out and "ble_proxy shed" in out[0] and all("p%d" % (i + 1) in out[0] for i in range(3)),
             "... naming the proxy and its packs")
        mark = len(gw.text())
        fake.ctl("revive")
        c.ok(wait_until(lambda: all(tb.matches(port, i + 1, sims[i]) for i in range(3)), 60),
             "proxy shed back: its packs read again")
        back = [ln for ln in gw.text()[mark:].splitlines() if " warn: " in ln or " info: " in ln or " error: " in ln]
        c.eq(len(back), 1, "its return is one line of the log (%s)" % back)
        c.ok(back and "ble_proxy shed: back after" in back[0], "... the proxy's")
    finally:
        if c.failed and gw:
            gw.dump(40)
        for x in [gw, fake] + sims:
            if x:
                x.stop()


def test_scan():
    print("== bmsgw --ble-scan --adapter through a proxy")
    devs = [{"address": "A4:C1:38:00:00:0A", "name": "xiaoxiang BMS", "layout": "jbd", "mode": "none",
             "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"], "rssi": -60},
            {"address": "C8:47:8C:00:00:0B", "name": "JK-B2A24S", "layout": "jk-ble", "mode": "none",
             "uuids": ["0000ffe0-0000-1000-8000-00805f9b34fb"], "rssi": -70}]
    key = new_key()
    fake = EspFake({"devices": devs}, key)
    conf = write_conf("[pack.a]\nprotocol = jbd\nport = ble://A4:C1:38:00:00:0A\nadapter = shed\n" +
                      proxy_sect("shed", fake, key))
    try:
        r = subprocess.run([EXE, "--ble-scan", "2", "-c", conf, "--adapter", "shed"], capture_output=True, text=True,
                           timeout=60)
        rows = {ln.split()[0]: ln for ln in r.stdout.splitlines() if re.match(r"[0-9A-F]{2}:", ln)}
        c.eq(r.returncode, 0, "the scan through the proxy exits 0 (%s)" % r.stderr.strip()[-200:])
        c.ok(" jbd " in rows.get("A4:C1:38:00:00:0A", "") and " jk-ble " in rows.get("C8:47:8C:00:00:0B", ""),
             "it names each device's protocol (%s)" % list(rows.values()))
        r = subprocess.run([EXE, "--ble-scan", "1", "-c", conf, "--adapter", "shd"], capture_output=True, text=True,
                           timeout=30)
        c.ok(r.returncode == 1 and "no [ble_proxy.shd]" in r.stderr, "a name that is neither: %r" % r.stderr.strip())
    finally:
        fake.stop()
        os.unlink(conf)


def test_no_systemd():
    """The build without libsystemd has no BlueZ, but reads a pack through a proxy."""
    print("== the build without libsystemd: a pack through a proxy")
    nosd = os.path.join(ROOT, "build/nosystemd/bmsgw")
    if not c.ok(os.path.exists(nosd), "build/nosystemd/bmsgw exists (make nosystemd; make test builds it)"):
        return
    sim, fake, pack = one_pack_site(None, name="p", unit=1, mac="C8:47:94:00:00:01")
    gw = None
    try:
        port, http = free_port(), free_port()
        conf = gw_conf(port, http, proxy_sect("p", fake) + pack)
        r = subprocess.run([nosd, "-c", write_conf(conf), "--check"], capture_output=True, text=True)
        c.ok(r.returncode == 0 and "through proxy p" in r.stdout, "--check takes it (%s)" % r.stderr.strip())
        gw = Gateway(conf, port, exe=nosd)
        c.ok(wait_until(lambda: tb.matches(port, 1, sim), 30), "its values are the simulator's")
    finally:
        if c.failed and gw:
            gw.dump(30)
        for x in (gw, fake, sim):
            if x:
                x.stop()


def main():
    pieces = [("plaintext", lambda: every_protocol(None)), ("encrypted", lambda: every_protocol(new_key())),
              ("families", lambda: every_protocol(None, families=True)),
              ("wrong key", test_wrong_key), ("slots", test_slots), ("outage", test_outage),
              ("outage lines", test_outage_lines), ("scan", test_scan),
              ("no systemd", test_no_systemd)]
    for name, fn in pieces:
        if not my_part():
            continue
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a crashed test is a failed check, the others still run
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (name, e))
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
