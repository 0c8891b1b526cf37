#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Refused writes from outsiders flood neither the log nor the pack's
counters (issue 51 item 4), end to end with the real bmsgw and a
simulated Daly pack:

- 10,000 MOSFET writes (FC06 at offset 17) from 127.0.0.2, a client not in
  control_clients, over 100 connections (each a new port): all answered
  0x01; the log has at most 100 lines of them, the first one and a count
  ("(and N more like it)"); register 124 (commands failed at the BMS)
  stays 0 and /metrics counts the 10,000 refusals; nothing is written to
  the BMS;
- 2,000 charge-setting writes from 60 other addresses (127.0.1.x): at
  most 20 sources logged per 10 s and one line with the count of the rest;
- 300 TLS handshakes on 802 without a client certificate from 127.0.0.3,
  and 300 connections with a certificate of the CA: a few log lines each,
  the rest counted ("(and N more like it)");
- a reader is still served.
Prints "N passed, N failed".
"""
import os
import re
import socket
import ssl
import struct
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROLE_EXT, SERVER_EXT, Checks, Gateway, Sim, free_port, make_ca, mbap_request,  # noqa: E402
                     recv_adu, wait_until)

c = Checks()
BASE = 290
TMP = tempfile.mkdtemp(prefix="bmsgw-flood-")


def tls_connect(port, src, cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(TMP, "ca.pem"))
    if cert:
        ctx.load_cert_chain(os.path.join(TMP, cert + ".pem"), os.path.join(TMP, cert + ".key"))
    with socket.socket() as raw:
        raw.bind((src, 0))
        raw.settimeout(5)
        raw.connect(("127.0.0.1", port))
        try:
            with ctx.wrap_socket(raw) as s:
                s.sendall(mbap_request(1, 1, struct.pack(">BHH", 3, BASE, 1)))
                return recv_adu(s)  # a whole answer, however the records cut it
        except (OSError, ssl.SSLError):
            return None


def conf(gw_port, http_port, sim_port, tls_port):
    return ("[gateway]\nlisten = 0.0.0.0:%d\nstate_file = none\ncontrol_clients = 127.0.0.1\n"
            "[modbus_tls]\nlisten = 127.0.0.1:%d\ncert = %s/server.pem\nkey = %s/server.key\nca = %s/ca.pem\n"
            "[http]\nlisten = 127.0.0.1:%d\n"
            "[limits]\n"
            "[pack.p1]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = 1\ncontrol = true\n"
            "poll_interval = 1\n" % (gw_port, tls_port, TMP, TMP, TMP, http_port, sim_port))


def flood(port, src, n, pdu, unit=1):
    """n requests over one connection from src; the exception codes seen."""
    codes = {}
    with socket.socket() as s:
        s.bind((src, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        for i in range(n):
            s.sendall(mbap_request(i & 0xFFFF, unit, pdu))
            r = recv_adu(s)
            code = r[8] if len(r) >= 9 and r[7] & 0x80 else 0
            codes[code] = codes.get(code, 0) + 1
    return codes


def read_reg(port, addr, n=1, unit=1):
    r = flood_read(port, addr, n, unit)
    return struct.unpack(">%dH" % n, r[9:9 + 2 * n]) if r and len(r) >= 9 + 2 * n and not r[7] & 0x80 else None


def flood_read(port, addr, n, unit):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(mbap_request(1, unit, struct.pack(">BHH", 3, addr, n)))
        return recv_adu(s)


def metric(http_port, name, labels):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http_port, timeout=5) as r:
        text = r.read().decode()
    m = re.search(r"^%s\{[^}]*%s[^}]*\} (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def main():
    make_ca(TMP, "ca", [("server", SERVER_EXT), ("viewer", ROLE_EXT % "Viewer")])
    sim = Sim()
    gw_port, http_port, tls_port = free_port(), free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, tls_port), gw_port)
    try:
        c.ok(wait_until(lambda: read_reg(gw_port, BASE) is not None, 20), "the pack is read")
        writes0 = int(re.search(r'"writes":\s*(\d+)', sim.ctl("stats")).group(1))
        print("== 10,000 refused MOSFET writes from 127.0.0.2 over 100 connections")
        codes = {}
        for _ in range(100):
            for k, v in flood(gw_port, "127.0.0.2", 100, struct.pack(">BHH", 6, BASE + 17, 0)).items():
                codes[k] = codes.get(k, 0) + v
        c.eq(codes, {1: 10000}, "every write answered 0x01 (not in control_clients)")
        refused = wait_until(lambda: (lambda v: v if v == 10000 else None)(
            metric(http_port, "bmsgw_pack_control_commands_total", 'result="refused"')), 10)
        c.eq(refused, 10000, "/metrics counts the 10,000 refusals")
        c.eq(read_reg(gw_port, BASE + 124), (0,), "register 124 (failed at the BMS) stays 0")
        def told():
            """(lines of 127.0.0.2, refusals counted in folds), once they make 10,000: a flood
            that a loaded machine spread over two intervals has its last fold printed at the
            interval's end"""
            text = gw.text()
            ls = [ln for ln in text.splitlines() if "127.0.0.2" in ln]
            n = sum(int(m.group(1)) for m in re.finditer(r"\(and (\d+) more like it\)", text))
            return (ls, n) if n and len([ln for ln in ls if "more like it)" not in ln]) + n >= 10000 else None
        c.ok(wait_until(lambda: "(and " in gw.text(), 15), "the count of the folded refusals is logged")
        lines, folded = wait_until(told, 40) or (
            [ln for ln in gw.text().splitlines() if "127.0.0.2" in ln],
            sum(int(m.group(1)) for m in re.finditer(r"\(and (\d+) more like it\)", gw.text())))
        print("   %d log lines for 10,000 refusals; %d counted in '(and N more like it)'" % (len(lines), folded))
        c.ok(1 <= len(lines) <= 100, "at most 100 log lines for 10,000 refusals (%d)" % len(lines))
        first = [ln for ln in lines if "more like it)" not in ln]
        c.eq(len(first) + folded, 10000, "every refusal is a line of its own or counted in a later one")
        print("== 2,000 refused settings writes from 60 addresses")
        for i in range(60):
            flood(gw_port, "127.0.1.%d" % (i + 1), 34, struct.pack(">BHH", 6, BASE + 150, 60))
        src = set(m.group(1) for m in re.finditer(r"Modbus client (127\.0\.1\.\d+):\d+", gw.text()))
        c.ok(len(src) <= 20 + 20, "at most 20 sources logged per 10 s (%d of 60)" % len(src))
        c.ok(wait_until(lambda: re.search(r"line\(s\) of more than 20 sources", gw.text()), 15),
             "one line counts the sources not logged")
        print("== 300 handshakes without a certificate and 300 with one on 802, from 127.0.0.3")
        for _ in range(300):
            tls_connect(tls_port, "127.0.0.3", None)
        answered = sum(tls_connect(tls_port, "127.0.0.3", "viewer") is not None for _ in range(300))
        c.eq(answered, 300, "every client with a certificate of the CA is answered")
        refused = [ln for ln in gw.text().splitlines() if "client at 127.0.0.3 refused" in ln]
        connected = [ln for ln in gw.text().splitlines() if "client 127.0.0.3:" in ln and "connected" in ln]
        print("   %d lines for 300 refused handshakes, %d for 300 connections" % (len(refused), len(connected)))
        c.ok(1 <= len(refused) <= 10, "refused handshakes: a few lines (%d)" % len(refused))
        c.ok(1 <= len(connected) <= 10, "connections of one certificate: a few lines (%d)" % len(connected))
        c.ok(read_reg(gw_port, BASE) is not None, "a reader is still served")
        c.eq(int(re.search(r'"writes":\s*(\d+)', sim.ctl("stats")).group(1)), writes0, "nothing written to the BMS")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
