#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Setup tab left open past its X-CSRF-Token's life ([http]
csrf_lifetime, issue 97 item 6), in headless Chromium against the real
bmsgw over HTTPS with an admin's login:

- csrf_lifetime = 10: the tab loads its session (and token), and is left
  open until a token taken after it is refused as expired (the server
  polled: the page's is older);
- Apply then: the check's POST is refused 403 "expired", the page takes a
  new token (GET /api/setup/session) and sends the POST again, once, and
  the change is applied and in the file (where before it stopped at the
  403 and the user had to reload the page);
- any other 403 is not sent again: with [http] setup = false (SIGHUP) the
  page's Check is refused "read only" once, no new session asked, and the
  page says why.
The page's own requests are read from its Resource Timing entries (path
and status).  Prints "N passed, N failed"."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, Sim, free_port, self_signed, user_line, wait_port, wait_until  # noqa: E402
from chromium import browser, spki_hash  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-pagetoken-")
CONF = os.path.join(TMP, "bmsgw.ini")
PW = "token-Admin-3381"
EXPIRED = "X-CSRF-Token has expired"


def js(d, script, *args):
    return d.execute_script(script, *args)


def requests(d, since=0):
    """The setup API's requests of the page after the first `since`: [(path, status)]."""
    return [tuple(x) for x in js(d, "return performance.getEntriesByType('resource')"
                                    ".filter(e => e.name.indexOf('/api/setup/') >= 0)"
                                    ".map(e => [e.name.split('/api/setup/')[1], e.responseStatus])")][since:]


def curl(port, pem, path, token=None):
    """(status, JSON) of the setup API with the admin's login: a GET, or a
    POST of an empty check with token."""
    args = ["curl", "-s", "--max-time", "20", "--cacert", pem, "-u", "ada:" + PW, "-w", "\n%{http_code}"]
    if token is not None:
        args += ["-H", "Content-Type: application/json", "-H", "X-CSRF-Token: " + token, "--data", '{"sections":[]}']
    r = subprocess.run(args + ["https://127.0.0.1:%d/api/setup/%s" % (port, path)], capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    try:
        return int(code), json.loads(body)
    except ValueError:
        return int(code) if code.isdigit() else 0, {}


def type_into(d, sel, text):
    e = d.find_element("css selector", sel)
    e.clear()
    e.send_keys(text)
    js(d, "arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", e)


def sighup(gw, text):
    with open(CONF, "w") as f:
        f.write(text)
    n0 = len(gw.text().splitlines())
    gw.p.send_signal(signal.SIGHUP)
    return wait_until(lambda: re.search(r"reload #\d+: applied", "\n".join(gw.text().splitlines()[n0:])), 15)


def run(gw, port, pem):
    d = browser(TMP, spki_hash(pem), ("ada", PW))
    try:
        d.get("https://127.0.0.1:%d/#setup" % port)
        sect = 'fieldset[data-section="pack.house"]'
        c.ok(wait_until(lambda: js(d, "return !!document.querySelector('%s [name=poll_interval]')" % sect), 30),
             "the Setup tab loads, the admin's session and the pack's form")
        c.ok("Logged in as ada (admin)" in js(d, "return document.querySelector('#setup-who').textContent"),
             "... logged in as the admin")
        # a token taken after the page's is refused as expired: the page's is older still
        st, se = curl(port, pem, "session")
        c.eq(st, 200, "(a token of the same login, taken after the page's)")
        expired = wait_until(lambda: EXPIRED in (curl(port, pem, "check", se.get("csrf", ""))[1].get("error") or ""),
                             40, step=0.5)
        c.ok(expired, "the page left open past csrf_lifetime = 10 s (a later token is refused: expired)")
        n0 = len(requests(d))
        js(d, "var e = document.querySelector('%s details'); if (e) e.open = true" % sect)
        type_into(d, sect + " [name=poll_interval]", "0.7")
        d.find_element("css selector", "#cfg-apply").click()
        msg = "return document.querySelector('#cfg-msg').textContent"
        reviewed = wait_until(lambda: js(d, "var e = document.querySelector('#cfg-review'); return e && !e.hidden") or
                              EXPIRED in js(d, msg), 20) and not EXPIRED in js(d, msg)
        c.ok(reviewed, "Apply: the check passes and the changes are listed (%s)" % js(d, msg))
        if reviewed:
            d.find_element("css selector", "#cfg-confirm").click()
        c.ok(reviewed and wait_until(lambda: js(d, "return document.querySelector('#cfg-msg').dataset.applied") ==
                                     "true", 30), "... applied (%s)" % js(d, msg))
        got = [r for r in requests(d, n0) if r[0] in ("check", "apply", "session")]
        print("   the page's requests: %s" % got)
        c.eq(got[:4], [("check", 403), ("session", 200), ("check", 200), ("apply", 200)],
             "the expired token's 403, a new session, the check sent again once, then the apply")
        c.eq(sum(1 for r in got if r[1] == 403), 1, "... one refusal, one retry")
        c.ok(re.search(r"(?m)^\[pack\.house\]\n(?:.*\n)*?poll_interval = 0\.7$", open(CONF).read()),
             "the change is in the file")
        # any other 403 is the answer
        text = open(CONF).read().replace("csrf_lifetime = 10\n", "csrf_lifetime = 3600\nsetup = false\n")
        c.ok(sighup(gw, text), "[http] setup = false by SIGHUP")
        n1 = len(requests(d))
        d.find_element("css selector", "#cfg-check").click()
        c.ok(wait_until(lambda: "read only" in js(d, "return document.querySelector('#cfg-msg').textContent"), 20),
             "Check with setup = false: refused, the page says why (%s)" %
             js(d, "return document.querySelector('#cfg-msg').textContent"))
        # the message is written once the page's api() has its last answer (a retry comes before it)
        got = [r for r in requests(d, n1) if r[0] in ("check", "apply", "session")]
        c.eq(got, [("check", 403)], "... once: no new session, no retry on a 403 that is not the token's")
        errs = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]
                and "the server responded with a status of 403" not in e["message"]]
        c.eq(errs, [], "no other error in the console")
    finally:
        d.quit()


def main():
    sim = Sim()
    gw_port, http_port = free_port(), free_port()
    pem, key = self_signed(TMP)
    users = os.path.join(TMP, "users")
    with open(users, "w") as f:
        f.write(user_line("ada", "admin", PW))
    os.chmod(users, 0o600)
    with open(CONF, "w") as f:
        f.write("""[gateway]
listen = 127.0.0.1:%d
state_file = %s/state
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
[history]
file = none
[http]
listen = 127.0.0.1:%d
tls_cert = %s
tls_key = %s
users_file = %s
csrf_lifetime = 10
""" % (gw_port, TMP, sim.port, http_port, pem, key, users))
    gw = Proc([os.path.join(ROOT, BIN, "bmsgw"), "-c", CONF], "bmsgw")
    try:
        c.ok(wait_port(gw_port) and wait_port(http_port), "bmsgw serves HTTPS with logins")
        run(gw, http_port, pem)
        c.ok(gw.alive(), "bmsgw ran throughout")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
