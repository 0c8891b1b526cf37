#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A pack's BMS settings on the status page (bmsgw(8) BMS SETTINGS and
STATUS PAGE), end to end in headless Chromium (Debian's chromium,
chromium-driver and python3-selenium): the real bmsgw over HTTPS with
logins against the bundled jbd simulator.

- an admin login: the pack's card lists the keys its bms_settings allows
  (and only those) with what the BMS last reported and the effective
  range, each with a Change button; the dialog changes balance_start_v
  (POST /api/bms-settings with the session's CSRF token, as the Setup tab
  posts): "done" with old -> new, the simulator's register changed, the
  card showing the new value and the outcome; a value over lfp's bound is
  refused, its reason (422, lfp's bound named) shown, nothing written;
- each setting has one label on the card, in the list the BMS reports and
  in the writable one alike, the labels Home Assistant's entities carry
  ("Balancing start voltage", where it was "Balance start" and "Balancing
  start" on one card; "Balancer switch", where the one-word key had none);
- the Setup tab shows the pack's bms_settings as a checkbox a key, every
  key of the file checked (where one dropdown showed the list blank), and
  unchecking one keeps the others (Apply lists the change);
- a read login sees the same values and ranges, no control at all, and a
  line that says an admin's login brings the Change buttons;
- a phone's width does not scroll sideways with the list open; no error in
  the console but the refusal's own answer (the CSP holds).
Screenshots are kept in build/test-artifacts/."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, self_signed, wait_until  # noqa: E402
from chromium import browser, spki_hash  # noqa: E402
from page_clients import users_file  # noqa: E402

c = Checks()
ART = os.path.join(ROOT, "build", "test-artifacts")
# the keys a pack's bms_settings may name: the words of its row in bmsgw --keys
SET_KEYS = next((r.split("\t")[5].split(",") for r in subprocess.run(
    [os.path.join(ROOT, BIN, "bmsgw"), "--keys"], capture_output=True, text=True).stdout.splitlines()
    if r.startswith("pack\tbms_settings\t")), [])
TMP = tempfile.mkdtemp(prefix="bmsgw-pagebms-")
PW = "page-Bms-5521"


def js(d, script, *args):
    return d.execute_script(script, *args)


def shot(d, name):
    os.makedirs(ART, exist_ok=True)
    d.save_screenshot(os.path.join(ART, "page-bms-%s.png" % name))


def rows(d):
    """{key: (value, range, has a Change button)} of the van card's list."""
    return js(d, """
        const out = {};
        document.querySelectorAll('[data-unit="van"] [data-field="bms_write"] tr[data-key]').forEach(tr => {
          out[tr.dataset.key] = [tr.querySelector('[data-field=value]').textContent,
                                 tr.querySelector('[data-field=range]').textContent,
                                 !!tr.querySelector('button[data-change]')];
        });
        return out;""")


def open_list(d):
    js(d, "const e = document.querySelector('[data-unit=\"van\"] [data-field=\"bms_write\"]'); if (e) e.open = true;")


def console_errors(d):
    """The console's errors but the refusal's answer (a fetch of a 4xx is logged as one)."""
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]
            and not ("api/bms-settings" in e["message"] and "status of 422" in e["message"])]


def change(d, key, value):
    """Change key through the dialog; (result, the outcome's text)."""
    open_list(d)
    c.ok(wait_until(lambda: js(d, "return !!document.querySelector('[data-unit=\"van\"] button[data-change=\"%s\"]')"
                               % key), 10), "%s has a Change button" % key)
    js(d, "document.querySelector('[data-unit=\"van\"] button[data-change=\"%s\"]').click()" % key)
    c.ok(wait_until(lambda: js(d, "return document.querySelector('#bset-dlg').open"), 5), "the dialog opens")
    e = d.find_element("css selector", "#bset-value")
    e.clear()
    e.send_keys(value)
    d.find_element("css selector", "#bset-go").click()
    wait_until(lambda: js(d, "return document.querySelector('#bset-msg').dataset.result || ''") != "", 60)
    return (js(d, "return document.querySelector('#bset-msg').dataset.result || ''"),
            js(d, "return document.querySelector('#bset-msg').textContent"))


def labels(d):
    """{key: [label in the list the BMS reports, label in the writable list]} of the van card."""
    js(d, "const e = document.querySelector('[data-unit=\"van\"] [data-field=\"settings_bms\"]'); if (e) e.open = true;")
    open_list(d)
    return js(d, """
        const out = {};
        ['settings_bms', 'bms_write'].forEach((f, i) => document.querySelectorAll(
            '[data-unit="van"] [data-field="' + f + '"] tr[data-key]').forEach(tr => {
          (out[tr.dataset.key] = out[tr.dataset.key] || [null, null])[i] = tr.querySelector('th').textContent;
        }));
        return out;""")


def one_label(d):
    c.ok(wait_until(lambda: labels(d).get("balance_start_v", [None, None])[0], 20), "the BMS's own list shows")
    lab = labels(d)
    c.eq(lab.get("balance_start_v"), ["Balancing start voltage"] * 2,
         "balance_start_v has one label in both lists of the card")
    c.eq(lab.get("balancer"), ["Balancer switch"] * 2, "the one-word key balancer has its label in both")
    c.eq(lab.get("cell_ovp_v"), ["Cell over-voltage protection"] * 2, "cell_ovp_v the same in both")


def setup_flags(d):
    """The Setup tab: bms_settings as a checkbox a key, those of the file checked; one unchecked keeps
    the others (Apply's review lists the change, cancelled)."""
    js(d, "document.querySelector('#tab-setup').click()")
    grp = 'fieldset[data-section="pack.van"] [data-key="bms_settings"]'
    c.ok(wait_until(lambda: js(d, "return !!document.querySelector('fieldset[data-section=\"pack.van\"] "
                                  "[name=bms_settings]')"), 20), "Setup: the van's bms_settings field")
    checked = js(d, "return Array.from(document.querySelectorAll('%s input[type=checkbox]')).filter(b => b.checked)"
                    ".map(b => b.value)" % grp)
    c.eq(sorted(checked or []), ["balance_start_v", "balancer", "cell_ovp_v"],
         "... a checkbox a key, every key of the file checked")
    value = js(d, "const e = document.querySelector('fieldset[data-section=\"pack.van\"] [name=bms_settings]');"
                  "return e && e.value")
    if not c.ok(js(d, "return document.querySelectorAll('%s input[type=checkbox]').length" % grp) == len(SET_KEYS),
                "... one for each key a pack may allow (%d; the field's value: %r)" % (len(SET_KEYS), value)):
        js(d, "document.querySelector('#tab-status').click()")
        return
    js(d, "document.querySelector('%s input[value=balancer]').click()" % grp)
    js(d, "document.querySelector('#cfg-apply').click()")
    c.ok(wait_until(lambda: js(d, "return !document.querySelector('#cfg-review').hidden"), 20),
         "... unchecking balancer: Apply shows the change (%s)" % js(d, "return document.querySelector('#cfg-msg')"
                                                                       ".textContent"))
    items = js(d, "return Array.from(document.querySelectorAll('#cfg-diff li')).map(e => e.textContent)")
    c.ok(any("bms_settings: cell_ovp_v, balance_start_v, balancer → balance_start_v, cell_ovp_v" in t for t in items),
         "... the other two kept (%s)" % items)
    shot(d, "0-setup-flags")
    js(d, "document.querySelector('#cfg-cancel').click()")
    js(d, "document.querySelector('#tab-status').click()")


def admin_view(d, https, sim):
    d.get(https)
    c.ok(wait_until(lambda: rows(d).get("cell_ovp_v", ["–"])[0] != "–", 60),
         "admin: the van card lists its writable settings, read from the BMS (%s)" % rows(d))
    one_label(d)
    c.eq(js(d, "return document.querySelectorAll('[data-field=bms_write_hint]').length"), 0,
         "admin: no hint, the Change buttons are there")
    setup_flags(d)
    r = rows(d)
    c.eq(sorted(r), ["balance_start_v", "balancer", "cell_ovp_v"], "... the keys bms_settings allows, only those")
    c.eq(r.get("cell_ovp_v", [None])[0], "3.650 V", "... cell_ovp_v as the BMS reports it")
    c.ok("2.500–3.650 V, step 0.001" in r.get("cell_ovp_v", ["", ""])[1], "... with lfp's range at jbd's step (%s)" %
         r.get("cell_ovp_v"))
    c.eq(r.get("balancer", [None])[0:2], ["on", "on or off"], "... the balancer on")
    c.ok(all(v[2] for v in r.values()), "... each with a Change button (an admin)")
    shot(d, "1-admin")
    w0 = sim.state()["packs"][0]["set_writes"]
    result, text = change(d, "balance_start_v", "3.45")
    c.eq(result, "done", "balance_start_v 3.45 through the dialog: done (%s)" % text)
    c.ok("3.400 V → 3.450 V" in text and "read-back" in text, "... old -> new, confirmed by read-back (%s)" % text)
    c.eq(sim.state()["packs"][0]["eeprom"][0x2A], 3450, "... the simulator's register 0x2A holds 3450 mV")
    c.eq(sim.state()["packs"][0]["set_writes"] - w0, 3, "... factory mode entered, the write, left: three writes")
    shot(d, "2-done")
    js(d, "document.querySelector('#bset-close').click()")
    c.ok(wait_until(lambda: rows(d).get("balance_start_v", [None])[0] == "3.450 V", 15),
         "the card shows the new value (%s)" % rows(d).get("balance_start_v"))
    out = "return (document.querySelector('[data-unit=\"van\"] [data-field=\"bms_write_result\"]') || {}).textContent"
    c.ok("done" in (js(d, out) or "") and "3.450 V" in (js(d, out) or ""), "... and the outcome (%s)" % js(d, out))
    time.sleep(1.1)  # a pack takes one change a second (B5): the next one 1.1 s after this one ended
    w = sim.state()["packs"][0]["set_writes"]
    result, text = change(d, "cell_ovp_v", "3.8")
    c.eq(result, "refused", "cell_ovp_v 3.8: refused (%s)" % text)
    c.ok("(422)" in text and "lfp" in text, "... the reason shown: out of lfp's range (%s)" % text)
    c.eq(sim.state()["packs"][0]["set_writes"], w, "... nothing written to the BMS")
    shot(d, "3-refused")
    js(d, "document.querySelector('#bset-close').click()")
    c.ok(wait_until(lambda: "refused" in (js(d, out) or ""), 10), "the card keeps the refusal (%s)" % js(d, out))
    d.set_window_size(375, 800)
    open_list(d)
    c.ok(wait_until(lambda: js(d, "return document.documentElement.scrollWidth <= window.innerWidth + 1"), 5),
         "at a phone's width the list does not scroll sideways")
    shot(d, "4-phone")
    c.eq(console_errors(d), [], "no error in the console (the CSP holds)")


def read_view(d, https):
    d.get(https)
    c.ok(wait_until(lambda: rows(d).get("cell_ovp_v", ["–"])[0] != "–", 60),
         "a read login: the values are listed (%s)" % rows(d))
    r = rows(d)
    c.ok(r.get("balance_start_v", [None])[0] == "3.450 V" and "step 0.001" in r.get("cell_ovp_v", ["", ""])[1],
         "... with their values and ranges")
    c.ok(not any(v[2] for v in r.values()) and not js(d, "return document.querySelectorAll('button[data-change]')"
                                                         ".length"), "... and no control at all")
    hint = js(d, "const e = document.querySelector('[data-unit=\"van\"] [data-field=bms_write_hint]');"
                 "return e && e.textContent")
    c.ok(hint and "rob (read)" in hint and "admin" in hint and "Change" in hint,
         "... and a line that says an admin's login brings the Change buttons (%r)" % hint)
    shot(d, "5-read")
    c.eq(console_errors(d), [], "no error in the console")


def main():
    if not (os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver")):
        print("FAIL chromium and chromium-driver are not installed (make deps)")
        return 1
    pem, key = self_signed(TMP)
    users = users_file(TMP, [("ada", "admin"), ("rob", "read")], PW)
    sim = Sim(protocol="jbd", packs=("address=1",))
    gw_port, http_port = free_port(), free_port()
    gw = Gateway("""[gateway]
listen = 127.0.0.1:%d
state_file = none
stale_after = 20
[http]
listen = 127.0.0.1:%d
tls_cert = %s
tls_key = %s
users_file = %s
[history]
file = none
[pack.van]
protocol = jbd
port = tcp://127.0.0.1:%d
chemistry = lfp
bms_settings = cell_ovp_v, balance_start_v, balancer
poll_interval = 0.5
control_timeout = 10
""" % (gw_port, http_port, pem, key, users, sim.port), gw_port)
    https = "https://127.0.0.1:%d/" % http_port
    spki = spki_hash(pem)
    try:
        for user, run in (("ada", lambda d: admin_view(d, https, sim)), ("rob", lambda d: read_view(d, https))):
            d = browser(TMP, spki, (user, PW))
            try:
                run(d)
            finally:
                d.quit()
        c.ok(gw.alive(), "bmsgw ran throughout")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        shutil.rmtree(TMP, True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
