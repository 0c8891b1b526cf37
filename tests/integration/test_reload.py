#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live reload on SIGHUP, end to end, with one Modbus client connected
throughout (one TCP connection, never reopened):

- add a pack on a wire already open: it is polled at once, the wire is not
  reopened, the other pack on it keeps its counters and freshness;
- change a pack's poll interval: it keeps its snapshot and counters and
  polls at the new rate;
- remove a pack: its unit id answers 0x0A, and its wire (no other pack
  uses it) is closed;
- add a [bank]: its unit appears;
- reload a broken file: the error (file:line) is logged, the running
  configuration stays exactly as it was;
- change `listen`: the server moves to the new address;
- a poll interval that makes a pack's cycle longer than stale_after is
  warned of, with file:line.
Prints the time each reload took to apply."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Checks, Gateway, Sim, free_port, mbap_request, recv_adu, wait_port,  # noqa: E402
                     wait_until)

BASE = 290
c = Checks()

GATEWAY = """[gateway]
listen = 127.0.0.1:%d
stale_after = 4
"""
PACK = """[pack.%s]
protocol = daly
port = tcp://127.0.0.1:%d
address = %d
unit_id = %d
poll_interval = %s
timeout = 0.5
"""


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.tid = 0

    def read(self, unit, off=0, count=125):
        self.tid = (self.tid + 1) & 0xffff
        addr = BASE + off
        self.s.sendall(mbap_request(self.tid, unit, bytes([3, addr >> 8, addr & 255, 0, count])))
        r = recv_adu(self.s)
        if len(r) < 9:
            raise RuntimeError("connection closed")
        if r[7] & 0x80:
            return r[8]  # the exception code
        return [r[9 + 2 * i] << 8 | r[10 + 2 * i] for i in range(count)]


def counters(regs):
    """(good polls, failed polls, age) of an image (offsets 99-102, 59)."""
    return (regs[99] << 16 | regs[100], regs[101] << 16 | regs[102], regs[59])


def connections_to(port):
    """Established TCP connections to 127.0.0.1:port (ss, iproute2)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def reload(gw, text, before_lines):
    with open(gw.conf, "w") as f:
        f.write(text)
    gw.p.send_signal(signal.SIGHUP)
    got = wait_until(lambda: [l for l in gw.text().splitlines()[before_lines:]
                              if re.search(r"reload #\d+: applied|reload #\d+ failed", l)], 5)
    if got:
        m = re.search(r"applied in ([0-9.]+) ms", got[0])
        if m:
            print("   reload applied in %s ms" % m.group(1))
    return got[0] if got else ""


def main():
    bus = Sim(packs=("address=1,cells=16,soc=55", "address=2,cells=8,soc=70"))
    other = Sim(packs=("address=1,cells=4,soc=30",))
    port = free_port()
    conf = GATEWAY % port + PACK % ("a", bus.port, 1, 1, "0.5") + PACK % ("c", other.port, 1, 3, "0.5")
    gw = Gateway(conf, port)
    try:
        conn = Conn(port)
        c.ok(wait_until(lambda: isinstance(conn.read(1), list) and isinstance(conn.read(3), list), 10),
             "packs a and c online")
        c.eq(conn.read(2), 0x0A, "unit 2 is not configured yet: 0x0A")
        opens = gw.text().count("link tcp://127.0.0.1:%d: open" % bus.port)
        c.eq(opens, 1, "the bus was opened once")
        c.eq(connections_to(other.port), 1, "(test) ss sees the connection to the second wire")

        print("== add pack b on the open bus")
        wait_until(lambda: counters(conn.read(1))[0] >= 3, 5)
        good_a = counters(conn.read(1))[0]
        n = len(gw.text().splitlines())
        conf2 = GATEWAY % port + PACK % ("a", bus.port, 1, 1, "0.5") + PACK % ("c", other.port, 1, 3, "0.5") + \
            PACK % ("b", bus.port, 2, 2, "0.5")
        t0 = time.monotonic()
        line = reload(gw, conf2, n)
        c.ok("applied" in line, "the reload is applied")
        ok = wait_until(lambda: isinstance(conn.read(2), list), 5)
        print("   pack b online %.2f s after SIGHUP" % (time.monotonic() - t0))
        c.ok(ok, "pack b is polled at once and served")
        if ok:
            r = conn.read(2)
            c.eq(r[0], round(bus.state()["packs"][1]["soc"]), "pack b's SOC is the simulator's board 2")
            c.eq(r[40], 8, "pack b's cell count is board 2's")
        r = conn.read(1)
        c.ok(counters(r)[0] >= good_a, "pack a kept its poll counters (%d >= %d)" % (counters(r)[0], good_a))
        c.eq(r[58], 1, "pack a stayed online")
        c.eq(gw.text().count("link tcp://127.0.0.1:%d: open" % bus.port), 1, "the bus was not reopened")
        c.ok("2 pack(s) kept, 1 added, 0 removed; 2 link(s) kept, 0 opened, 0 closed" in gw.text(),
             "the log sums the reload up")

        print("== change pack a's poll interval")
        wait_until(lambda: counters(conn.read(1))[0] > good_a + 2, 5)
        g0 = counters(conn.read(1))[0]
        n = len(gw.text().splitlines())
        conf3 = conf2.replace("[pack.a]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = 1\nunit_id = 1\n"
                              "poll_interval = 0.5" % bus.port,
                              "[pack.a]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = 1\nunit_id = 1\n"
                              "poll_interval = 3" % bus.port)
        c.ok(conf3 != conf2, "(test) the poll interval was edited")
        line = reload(gw, conf3, n)
        c.ok("applied" in line, "the reload is applied")
        c.ok("is not longer than this pack's poll cycle" not in "\n".join(gw.text().splitlines()[:n]),
             "the start said nothing of stale_after (4 s, polls every 0.5 s)")
        warned = [l for l in gw.text().splitlines()[n:] if "stale_after = 4 s" in l]
        c.ok(len(warned) == 1 and "reload: %s:4: [pack.a]" % gw.conf in warned[0]
             and "about 5.0 s" in warned[0],
             "the reload warns that stale_after 4 s is not longer than pack a's new cycle, with file:line (%s)"
             % (warned[0] if warned else "nothing logged"))
        r = conn.read(1)
        g1 = counters(r)[0]
        c.ok(g1 >= g0, "pack a kept its counters (%d >= %d)" % (g1, g0))
        c.eq(r[58], 1, "pack a is still online (snapshot kept)")
        time.sleep(3.5)
        g2 = counters(conn.read(1))[0]
        c.ok(1 <= g2 - g1 <= 3, "pack a polls at the new interval of 3 s (%d polls in 3.5 s)" % (g2 - g1))

        print("== remove pack c (the only pack on its wire), add a bank")
        n = len(gw.text().splitlines())
        conf4 = conf3.replace(PACK % ("c", other.port, 1, 3, "0.5"), "") + "[bank]\nunit_id = 100\n"
        line = reload(gw, conf4, n)
        c.ok("applied" in line, "the reload is applied")
        c.eq(conn.read(3), 0x0A, "the removed pack's unit id answers 0x0A")
        c.ok("link tcp://127.0.0.1:%d: closed (no pack uses it any more)" % other.port in gw.text(),
             "its wire is closed")
        c.ok(wait_until(lambda: connections_to(other.port) == 0, 3), "no connection to that wire's server is left")
        r = conn.read(100)
        c.ok(isinstance(r, list) and r[105] == 2, "the bank unit appears, with 2 packs online")

        print("== reload a broken file")
        before = [conn.read(u) for u in (1, 2)]
        n = len(gw.text().splitlines())
        broken = conf4 + "[pack.d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\nbaud = 96OO\n" % bus.port
        line = reload(gw, broken, n)
        c.ok("failed" in line and "baud" in line and ":%d:" % (broken.count("\n")) in line,
             "the error is logged with file:line and key (%s)" % line.split("error: ")[-1])
        c.ok(gw.alive(), "bmsgw keeps running")
        after = [conn.read(u) for u in (1, 2)]
        c.ok(all(isinstance(x, list) for x in after), "packs a and b are still served")
        c.eq([after[0][40], after[1][40]], [before[0][40], before[1][40]], "their data is unchanged")
        c.eq(conn.read(3), 0x0A, "unit 3 is still unconfigured")
        c.ok(isinstance(conn.read(100), list), "the bank is still served")
        c.ok("still running on the previous configuration" in line, "the log says the old configuration stays")

        print("== the same Modbus connection served everything")
        c.ok(isinstance(conn.read(1), list), "the client connected at the start is still served")

        print("== change listen")
        port2 = free_port()
        n = len(gw.text().splitlines())
        line = reload(gw, conf4.replace("listen = 127.0.0.1:%d" % port, "listen = 127.0.0.1:%d" % port2), n)
        c.ok("applied" in line, "the reload is applied")
        c.ok(wait_port(port2, 3), "the server listens on the new address")
        c2 = Conn(port2)
        c.ok(isinstance(c2.read(1), list), "and serves there")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            moved = False
        except OSError:
            moved = True
        c.ok(moved, "the old address is closed")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        bus.stop()
        other.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
