#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The control fence around a command that is queued but not sent yet: the
real bmsgw against the JBD simulator, a MOSFET write (FC06, charge off) that
waits behind a poll step's gap (gap = 6 s), and then

- a reload that turns the pack's control off: the command ends at once
  with exception 0x0B ("reloaded before it was sent"), and nothing reaches
  the BMS afterwards (the simulator counts no write before the next poll request);
- the TCP link to the BMS dropping (a relay the test cuts): the command
  ends with 0x0B ("the wire went down before it was sent") and is not sent
  once the link is back: nothing queued before a link went down is sent on
  the new connection, nor left in what bmsgw was told (a discharge-off
  then leaves the charge MOSFET on: JBD writes both lock bits).
bmsgw(8) "MOSFET CONTROL": nothing is ever sent on reconnect or after a
reload.  And a reload that turns a polled pack (seplos3) to listen = true
on the same wire: nothing more is written to that wire (the kept wire had
no listener: its new pack was polled as before).
Prints "N passed, N failed"."""
import json
import os
import select
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, mbap_request, raw_request, recv_adu, wait_until  # noqa: E402

BASE = 290
DSG, CHG = BASE + 17, BASE + 18
c = Checks()


def conf(gw_port, port, control=True):
    return """[gateway]
listen = 127.0.0.1:%d
base = %d
stale_after = 60
control_clients = 127.0.0.1
state_file = none
[pack.p]
protocol = jbd
port = tcp://127.0.0.1:%d
control = %s
control_timeout = 30
gap = 6
timeout = 2
retries = 0
""" % (gw_port, BASE, port, "true" if control else "false")


class Relay:
    """A TCP relay from a port of its own to the simulator's, whose
    connections the test can cut (the BMS's link dropping); it accepts
    the gateway's next connection as before."""

    def __init__(self, to_port):
        self.to = to_port
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.pairs = []
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                a, _ = self.srv.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self.to))
            with self.lock:
                self.pairs.append((a, b))
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        socks = (a, b)
        try:
            while True:
                r, _, _ = select.select(socks, (), ())
                for s in r:
                    data = s.recv(4096)
                    if not data:
                        raise OSError("closed")
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            for s in socks:
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self.stopping = True
        self.cut()
        self.srv.close()


class Write(threading.Thread):
    """One FC06 to unit 1 that waits for its answer (a command is answered
    once confirmed or ended): .exc the exception (None: done)."""

    def __init__(self, port, addr, value):
        super().__init__(daemon=True)
        self.port, self.addr, self.value = port, addr, value
        self.exc = "no answer"

    def run(self):
        pdu = bytes([6, self.addr >> 8, self.addr & 255, self.value >> 8, self.value & 255])
        with socket.create_connection(("127.0.0.1", self.port), timeout=45) as s:
            s.sendall(mbap_request(9, 1, pdu))
            r = recv_adu(s)
        self.exc = r[8] if len(r) == 9 and r[7] & 0x80 else None if len(r) == 12 else "bad reply %r" % r


def online(gw_port):
    """Register 58 (the online flag) of unit 1 reads 1."""
    r, _ = raw_request(gw_port, mbap_request(3, 1, bytes([3, (BASE + 58) >> 8, (BASE + 58) & 255, 0, 1])))
    return len(r) == 11 and r[7] == 3 and r[10] == 1


def poll_counts(gw_port):
    """Registers 99-102 of unit 1: (good polls, failed polls), or None."""
    r, _ = raw_request(gw_port, mbap_request(4, 1, bytes([3, (BASE + 99) >> 8, (BASE + 99) & 255, 0, 4])))
    if len(r) != 17 or r[7] != 3:
        return None
    w = [r[9 + 2 * i] << 8 | r[10 + 2 * i] for i in range(4)]
    return (w[0] << 16 | w[1], w[2] << 16 | w[3])


def stats(sim):
    return json.loads(sim.ctl("stats"))


def queued_behind_a_gap(gw, sim, gw_port, what):
    """Once the pack answers: a write sent just after a poll request (so it
    waits out that step's 6 s gap), queued; the Write, or None."""
    if not c.ok(wait_until(lambda: online(gw_port), 40), "%s: the pack is online" % what):
        return None
    n = stats(sim)["requests"]
    c.ok(wait_until(lambda: stats(sim)["requests"] > n, 20), "%s: a poll request" % what)
    w = Write(gw_port, CHG, 0)
    w.start()
    if not c.ok(wait_until(lambda: "charge MOSFET off: queued" in gw.text(), 10), "%s: the command is queued" % what):
        return None
    return w


def nothing_written(sim, what):
    n = stats(sim)["requests"]
    # a command still queued would go ahead of the next poll request
    c.ok(wait_until(lambda: stats(sim)["requests"] > n, 40), "%s: the next poll request" % what)
    c.eq(stats(sim)["writes"], 0, "%s: nothing was written to the BMS" % what)
    c.eq(sim.state()["packs"][0]["chg_mos"], 1, "%s: its charge MOSFET still on" % what)


def reload_turns_control_off():
    print("== a reload turns control off while a command waits")
    sim = Sim("jbd", packs=("address=1",))
    gw_port = free_port()
    gw = Gateway(conf(gw_port, sim.port), gw_port)
    try:
        w = queued_behind_a_gap(gw, sim, gw_port, "reload")
        if not w:
            return
        with open(gw.conf, "w") as f:
            f.write(conf(gw_port, sim.port, control=False))
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 15), "the reload is applied")
        w.join(45)
        c.eq(w.exc, 0x0B, "the write's answer: exception 0x0B")
        c.ok("reloaded before it was sent; nothing was sent" in gw.text(), "logged: reloaded before it was sent")
        nothing_written(sim, "reload")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(40)


def link_drops():
    print("== the link drops while a command waits")
    sim = Sim("jbd", packs=("address=1",))
    relay = Relay(sim.port)
    gw_port = free_port()
    gw = Gateway(conf(gw_port, relay.port), gw_port)
    try:
        w = queued_behind_a_gap(gw, sim, gw_port, "link")
        if not w:
            return
        conns = stats(sim)["connections"]
        relay.cut()
        w.join(45)
        c.eq(w.exc, 0x0B, "the write's answer: exception 0x0B")
        c.ok("the wire went down before it was sent; nothing was sent" in gw.text(),
             "logged: the wire went down before it was sent")
        c.ok(wait_until(lambda: stats(sim)["connections"] > conns, 20), "the gateway connects again")
        nothing_written(sim, "link")
        # the command that was never sent left no trace: JBD writes both
        # lock bits from what bmsgw was told, and the charge MOSFET's is
        # still "on" when the discharge MOSFET is switched off
        Write(gw_port, DSG, 0).start()
        c.ok(wait_until(lambda: stats(sim)["writes"] == 1, 30), "then discharge off: its frame reaches the BMS")
        p = sim.state()["packs"][0]
        c.eq((p["chg_mos"], p["dsg_mos"]), (1, 0), "... the charge MOSFET still on, the discharge one off")
    finally:
        gw.stop()
        relay.stop()
        sim.stop()
        if c.failed:
            gw.dump(40)


def listen_conf(gw_port, port, listen):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
[pack.p]
protocol = seplos3
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.5
listen = %s
""" % (gw_port, port, "true" if listen else "false")


def reload_turns_listening_on():
    print("== a reload turns a polled pack to listen = true on the same wire")
    sim = Sim("seplos3", packs=("address=1",))
    gw_port = free_port()
    gw = Gateway(listen_conf(gw_port, sim.port, False), gw_port)
    try:
        if not c.ok(wait_until(lambda: online(gw_port), 20), "the pack is polled and online"):
            return
        with open(gw.conf, "w") as f:
            f.write(listen_conf(gw_port, sim.port, True))
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 15), "the reload is applied")
        n = stats(sim)["requests"]
        # nobody else polls the simulator: the listening pack (a new one:
        # its counters from 0) hears nothing, and after stale_after (3 s)
        # its first poll fails for silence, without a request of its own
        # (polled, its first poll would have been good at once)
        c.ok(wait_until(lambda: sum(poll_counts(gw_port) or (0,)) > 0, 20), "the pack's first poll ended")
        c.eq(poll_counts(gw_port), (0, 1), "... failed, nothing heard: (good, failed) polls")
        c.eq(stats(sim)["requests"] - n, 0, "no request written since the reload")
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(40)


def main():
    reload_turns_control_off()
    link_drops()
    reload_turns_listening_on()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
