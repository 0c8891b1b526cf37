#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""[alerts.NAME] against real receivers: an HTTP receiver (Python's
http.server) and two local SMTP servers (aiosmtpd), one plain, one that
requires STARTTLS (a test certificate made with openssl) and a login.

The simulator's control port makes the conditions: an alarm, a low SOC,
a cell that runs away (imbalance), a pack that drops off the bus (stale).
Each must be sent once when it becomes true, again after `repeat`, and
once when it clears ("cleared"), with the unit, the value and the time;
weak_cell and ir_rise stay quiet without a cell-health estimator.  A wrong
password is a clear error, counted and retried.  Then the HTTP receiver is
down for a minute while a Modbus client reads: every answer comes, quickly;
the receiver's failures are counted, the queue bounded (the oldest
dropped, counted), and the alert arrives once it is back.  The password
is never in the log, /api/state or /api/config."""
import email
import json
import os
import re
import signal
import ssl
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Checks, Gateway, Sim, api_state, free_port, mbap_request, raw_request,  # noqa: E402
                     self_signed, wait_until)

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

c = Checks()
PASSWORD = "Corr3ct-h0rse"


class Posts:
    """What the HTTP receiver got: (path, headers, body) in order."""

    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def add(self, item):
        with self.lock:
            self.items.append(item)

    def bodies(self):
        with self.lock:
            return [b for _p, _h, b in self.items]

    def find(self, pred):
        with self.lock:
            return [it for it in self.items if pred(it)]


POSTS = Posts()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n).decode()
        POSTS.add((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


class Receiver:
    """The HTTP receiver on a fixed port, which can go down and come back."""

    def __init__(self, port):
        self.port = port
        self.srv = None
        self.start()

    def start(self):
        self.srv = ThreadingHTTPServer(("127.0.0.1", self.port), Hook)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class Mailbox:
    """An aiosmtpd handler keeping every message, and whether it came over TLS."""

    def __init__(self):
        self.msgs = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        m = email.message_from_bytes(envelope.content)
        with self.lock:
            self.msgs.append((envelope.mail_from, list(envelope.rcpt_tos), m, session.ssl is not None,
                              getattr(session, "authenticated", False)))
        return "250 OK"

    def subjects(self):
        with self.lock:
            return [m["Subject"] for _f, _t, m, _s, _a in self.msgs]

    def all(self):
        with self.lock:
            return list(self.msgs)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"bmsgw" and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def smtp_servers(tmp):
    plain_box, tls_box = Mailbox(), Mailbox()
    plain = Controller(plain_box, hostname="127.0.0.1", port=free_port())
    plain.start()
    pem, key = self_signed(tmp, "smtp")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pem, key)
    secure = Controller(tls_box, hostname="127.0.0.1", port=free_port(), tls_context=ctx, require_starttls=True,
                        auth_required=True, auth_require_tls=True, authenticator=authenticator)
    secure.start()
    return plain, plain_box, secure, tls_box, pem


def secret(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


def conf_text(tmp, sim, gwport, http, hook, plain, secure, pem):
    good, bad = secret(tmp, "pw", PASSWORD), secret(tmp, "badpw", "Wr0ng-pass")
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 5
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.5
timeout = 2
retries = 0
[pack.p2]
protocol = daly
port = tcp://127.0.0.1:%d
address = 2
poll_interval = 0.5
timeout = 2
retries = 0
[bank]
[http]
listen = 127.0.0.1:%d
[alerts.hook]
url = http://127.0.0.1:%d/battery
on = alarm, stale, imbalance, soc_below:40, weak_cell, ir_rise:30
repeat = 4
imbalance_mv = 60
imbalance_hold = 2
[alerts.mail]
url = smtp://127.0.0.1:%d
to = owner@example.org, second@example.org
from = bmsgw@example.org
on = alarm, soc_below:40
repeat = 0
[alerts.tls]
url = smtp://127.0.0.1:%d
to = owner@example.org
from = bmsgw@example.org
username = bmsgw
password_file = %s
ca_file = %s
on = alarm
repeat = 0
[alerts.badpw]
url = smtp://127.0.0.1:%d
to = owner@example.org
from = bmsgw@example.org
username = bmsgw
password_file = %s
ca_file = %s
on = alarm
repeat = 0
""" % (gwport, sim.port, sim.port, http, hook, plain.port, secure.port, good, pem, secure.port, bad, pem)


def dest(http, name):
    for d in api_state(http).get("alerts") or []:
        if d.get("name") == name:
            return d
    return {}


def posted(pred, timeout=15):
    return wait_until(lambda: POSTS.find(pred), timeout)


def body_has(*words):
    return lambda it: all(w in it[2] for w in words)


def check_alarm(sim, http, plain_box, tls_box):
    sim.ctl("set 1 alarm 0 0x01")
    got = posted(body_has("alarm on p1: cell_ov"))
    c.ok(got, "alarm: the HTTP receiver gets 'alarm on p1' with the alarm's name")
    if got:
        path, headers, body = got[0]
        c.eq(path, "/battery", "alarm: POSTed to the URL's path")
        c.eq(headers.get("Title"), "bmsgw: alarm on p1", "alarm: ntfy's Title header")
        c.eq(headers.get("Priority"), "high", "alarm: ntfy's Priority header (high)")
        c.ok(re.search(r"\nat 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC", body) is not None, "alarm: the time in UTC")
    c.ok(wait_until(lambda: "bmsgw: alarm on p1" in plain_box.subjects(), 15),
         "alarm: an e-mail through the plain SMTP server")
    msgs = plain_box.all()
    if msgs:
        frm, rcpt, m, _tls, _auth = msgs[0]
        c.eq(frm, "bmsgw@example.org", "e-mail: the envelope's sender")
        c.eq(sorted(rcpt), ["owner@example.org", "second@example.org"], "e-mail: both recipients")
        c.ok("alarm on p1: cell_ov" in m.get_payload(), "e-mail: the text names the unit and the alarm")
        c.ok(m["Date"] is not None and m["Message-ID"] is not None, "e-mail: Date and Message-ID headers")
        c.ok(not msgs[0][3], "e-mail: a server that offers no STARTTLS gets it in plain SMTP (no password sent)")
    c.ok(wait_until(lambda: "bmsgw: alarm on p1" in tls_box.subjects(), 15),
         "alarm: an e-mail through the server that requires STARTTLS and a login")
    msgs = tls_box.all()
    c.ok(msgs and msgs[0][3], "e-mail: it came over TLS (STARTTLS)")
    sim.ctl("set 1 alarm 0 0")
    got = posted(body_has("cleared: alarm on p1", "cell_ov"))
    c.ok(got, "alarm: 'cleared' once the alarm is gone, naming what it was")
    if got:
        c.eq(got[0][1].get("Title"), "bmsgw: alarm on p1 cleared", "cleared: its Title")
    c.ok(wait_until(lambda: "bmsgw: alarm on p1 cleared" in plain_box.subjects(), 15),
         "alarm: 'cleared' by e-mail too")
    n_fire = len(POSTS.find(lambda it: it[2].startswith("alarm on p1")))
    c.eq(n_fire, 1, "alarm: sent once when it became true")


def check_bad_password(http, gw):
    d = wait_until(lambda: dest(http, "badpw") if dest(http, "badpw").get("failed", 0) >= 2 else None, 20)
    c.ok(d, "wrong password: the failures are counted and retried (%s)" % (d or dest(http, "badpw")))
    d = d or {}
    c.ok(not d.get("ok", True), "wrong password: the destination is not ok")
    err = d.get("last_error") or ""
    c.ok("535" in err and ("denied" in err.lower() or "login" in err.lower()),
         "wrong password: a clear error (%s)" % err)
    c.ok(re.search(r"alerts\.badpw: smtp://127\.0\.0\.1:\d+: SMTP 535", gw.text()) is not None,
         "wrong password: logged with the destination and the server's answer")
    c.ok(dest(http, "tls").get("ok") is True and dest(http, "tls").get("failed") == 0,
         "the right password on the same server: no failure")


def check_soc_repeat(sim):
    sim.ctl("set 1 soc 30")
    got = posted(body_has("soc_below on p1: SOC 30.0 %"))
    c.ok(got, "soc_below: sent when the SOC falls under 40 %")
    t0 = time.monotonic()
    rep = posted(body_has("still true: soc_below on p1"), 15)
    c.ok(rep, "soc_below: repeated while true (repeat = 4)")
    c.ok(rep and time.monotonic() - t0 >= 2.5, "soc_below: not before `repeat` (%.1f s)" % (time.monotonic() - t0))
    sim.ctl("set 2 soc 30")
    c.ok(posted(body_has("soc_below on bank: SOC 30.0 %")), "soc_below: the bank's SOC too")
    sim.ctl("set 1 soc 80")
    sim.ctl("set 2 soc 80")
    c.ok(posted(body_has("cleared: soc_below on p1")), "soc_below: cleared above it")
    c.ok(posted(body_has("cleared: soc_below on bank")), "soc_below: the bank's cleared")


def check_imbalance(sim):
    t0 = time.monotonic()
    sim.ctl("set 1 cell 3 3500")
    got = posted(body_has("imbalance on p1: cell spread", "cell 3 3500 mV"))
    c.ok(got, "imbalance: a cell 3500 mV against the others: sent")
    c.ok(got and time.monotonic() - t0 >= 2.0, "imbalance: after imbalance_hold (%.1f s)" % (time.monotonic() - t0))
    sim.ctl("set 1 cell 3 auto")
    c.ok(posted(body_has("cleared: imbalance on p1")), "imbalance: cleared when the cell is back")


def check_stale(sim):
    sim.ctl("pack 2 absent")
    c.ok(posted(body_has("stale on p2: no good poll for")), "stale: a pack off the bus")
    sim.ctl("pack 2 present")
    c.ok(posted(body_has("cleared: stale on p2")), "stale: cleared when it answers again")
    c.ok(not POSTS.find(body_has("stale on bank")) and not POSTS.find(body_has("stale on p1")),
         "stale: neither the other pack nor the bank is stale")


def modbus_reader(port, stop, out):
    """Read the bank's first registers in a loop: every answer's time."""
    tid = 1
    while not stop.is_set():
        tid = tid % 65535 + 1
        try:
            resp, dt = raw_request(port, mbap_request(tid, 1, bytes([3, 0x01, 0x22, 0, 10])), timeout=3.0)
            # answered: the registers, or an exception (a pack a loaded
            # machine let go stale for a poll makes the bank answer 0x0B)
            out.append((len(resp) >= 9 and resp[7] in (3, 0x83), dt))
        except OSError:
            out.append((False, 3.0))
        time.sleep(0.05)


def check_down(sim, http, gwport, recv):
    recv.stop()
    stop, answers = threading.Event(), []
    reader = threading.Thread(target=modbus_reader, args=(gwport, stop, answers), daemon=True)
    reader.start()
    before = len(POSTS.items)
    # four conditions true at once, repeated every 4 s: more than the queue holds in a minute
    sim.ctl("set 1 alarm 0 0x01")
    sim.ctl("set 1 soc 30")
    sim.ctl("set 2 soc 30")
    t0 = time.monotonic()
    c.ok(wait_until(lambda: dest(http, "hook").get("failed", 0) >= 1, 15), "down: the failure is counted")
    d = dest(http, "hook")
    c.ok(d.get("ok") is False, "down: the destination is not ok")
    c.ok(re.search(r"connect|refused", d.get("last_error") or "", re.I) is not None,
         "down: its last error says why (%s)" % d.get("last_error"))
    while time.monotonic() - t0 < 60:
        time.sleep(1)
    d = dest(http, "hook")
    c.ok(d.get("queued", 0) == 32, "down: the queue is bounded (%s queued)" % d.get("queued"))
    c.ok(d.get("dropped", 0) > 0, "down: the oldest are dropped and counted (%s)" % d.get("dropped"))
    metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=5).read().decode()
    c.ok(re.search(r'^bmsgw_alerts_dropped_total\{destination="hook"\} [1-9]', metrics, re.M) is not None,
         "down: the drops in /metrics")
    c.ok(re.search(r'^bmsgw_alert_destination_ok\{destination="hook"\} 0$', metrics, re.M) is not None,
         "down: bmsgw_alert_destination_ok 0")
    recv.start()
    got = wait_until(lambda: [b for b in POSTS.bodies()[before:] if "alarm on p1: cell_ov" in b], 70)
    c.ok(got, "down: the alarm arrives once the receiver is back")
    c.ok(wait_until(lambda: dest(http, "hook").get("ok") is True, 40), "down: the destination is ok again")
    stop.set()
    reader.join(10)
    ok = [dt for good, dt in answers if good]
    c.ok(len(answers) > 100 and len(ok) == len(answers),
         "down: every Modbus request answered while it was down (%d of %d)" % (len(ok), len(answers)))
    c.ok(ok and max(ok) < 0.5, "down: no Modbus answer delayed (slowest %.3f s)" % (max(ok) if ok else -1))
    sim.ctl("set 1 alarm 0 0")
    sim.ctl("set 1 soc 80")
    sim.ctl("set 2 soc 80")


def check_down_log(gw):
    text = gw.text()
    # the URL as shown: its host, nothing of its path (a webhook's token)
    warned = re.findall(r"warn: alerts\.hook: http://127\.0\.0\.1:\d+/\.\.\.: .*tried again in", text)
    c.ok(1 <= len(warned) <= 2, "down: the outage logged once, not at every retry (%d lines)" % len(warned))
    c.ok(re.search(r"alerts\.hook: http://127\.0\.0\.1:\d+/\.\.\.: sent again after \d+ s", text) is not None,
         "down: its end logged")
    c.ok("/battery" not in text, "the URL's path (where a webhook's token is) is never logged")


def reload(gw, n):
    gw.p.send_signal(signal.SIGHUP)
    return wait_until(lambda: re.search(r"reload #%d: applied" % n, gw.text()), 10)


def check_reload(http, gw):
    sent = dest(http, "hook").get("sent", 0)
    c.ok(reload(gw, 1), "reload: the same file applied")
    # a message of the steps before may still be on its way: kept means not
    # started again from 0, so the count after is at least the one before
    after = dest(http, "hook").get("sent", 0)
    c.ok(sent > 0 and after >= sent,
         "reload: a destination whose section is the same goes on (its counts kept: %d, then %d)" % (sent, after))
    with open(gw.conf) as f:
        text = f.read()
    with open(gw.conf, "w") as f:
        f.write(text.replace("repeat = 4\n", "repeat = 5\n", 1))
    mail = dest(http, "mail").get("sent")
    c.ok(reload(gw, 2), "reload: a new repeat applied")
    c.eq(dest(http, "hook").get("sent"), 0, "reload: the changed destination starts again")
    c.ok(mail and dest(http, "mail").get("sent") == mail, "reload: the others go on (%s sent)" % mail)


def check_secrets(http, gw):
    text = gw.text()
    c.ok(PASSWORD not in text and "Wr0ng-pass" not in text, "the passwords are never logged")
    st = urllib.request.urlopen("http://127.0.0.1:%d/api/state" % http, timeout=5).read().decode()
    cfg = urllib.request.urlopen("http://127.0.0.1:%d/api/config" % http, timeout=5).read().decode()
    c.ok(PASSWORD not in st and PASSWORD not in cfg, "the password is not in /api/state nor /api/config")
    c.eq(json.loads(cfg).get("alerts.tls", {}).get("username"), "bmsgw", "/api/config shows the user")


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-alerts-")
    plain, plain_box, secure, tls_box, pem = smtp_servers(tmp)
    hook = free_port()
    recv = Receiver(hook)
    sim = Sim(packs=("address=1", "address=2"))
    sim.ctl("set 1 soc 80")
    sim.ctl("set 2 soc 80")
    gwport, http = free_port(), free_port()
    gw = Gateway(conf_text(tmp, sim, gwport, http, hook, plain, secure, pem), gwport)
    try:
        c.ok(wait_until(lambda: len(dest(http, "hook")) > 0, 10), "/api/state lists the destinations")
        st = api_state(http).get("alerts") or []
        c.eq([d["name"] for d in st], ["hook", "mail", "tls", "badpw"], "/api/state alerts: every destination")
        check_alarm(sim, http, plain_box, tls_box)
        check_bad_password(http, gw)
        check_soc_repeat(sim)
        check_imbalance(sim)
        check_stale(sim)
        c.ok(not POSTS.find(body_has("weak_cell")) and not POSTS.find(body_has("ir_rise")),
             "weak_cell and ir_rise: quiet without a cell-health estimator")
        check_down(sim, http, gwport, recv)
        check_down_log(gw)
        check_secrets(http, gw)
        check_reload(http, gw)
        c.eq(gw.stop(), 0, "bmsgw stops cleanly")
        c.ok("Sanitizer" not in gw.text(), "no sanitizer report")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        plain.stop()
        secure.stop()
    sys.exit(c.report())


if __name__ == "__main__":
    main()
