#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The bank's SOC by one rule in every output (issue 44 item 8, design
section 22): the sum of the fresh packs' remaining Ah over the sum of
their full Ah, the BMSs' and the counted one alike, the same at offset 60
(the SOC the bank carries), offset 125 (SOC (BMS)), /api/state's bank
("soc", "soc_estimate") and SunSpec's 802 SoC of the bank.

Two simulated Daly packs of 100 and 200 Ah at 40 and 70 % (a Daly gives a
remaining but no full capacity; [pack.NAME] capacity gives the count its
capacity): the BMSs' bank SOC is (40 + 140) / 300 = 60 %, where weighing
each Daly alike gave 55 % (offset 125) and a mix of the carried SOCs gave
75 % (offset 60 and SunSpec) once one pack's count was synced and the
other's not.  With [soc] source = counted the bank carries the counted SOC
only once every pack's count is synced: then 100 %, everywhere.  The
bank's counted SOC's uncertainty (offset 147, the JSON's
soc_estimate.uncertainty; issue 89 item 5) is none while a pack's count is
not synced, then its packs' weighed by their capacities, between theirs.
Prints "N passed, N failed".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, api_state, free_port, wait_until  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
BASE = 290
SS = 40000
BANK = 100
M802 = SS + 2 + 68  # "SunS", model 1 (ID, L and its 66 registers), then 802
# 802's points (tests/fixtures/sunspec/model_802.tsv): SoC at 11, SoC_SF at 56


def conf(gw_port, http_port, sim_port):
    packs = ""
    for a, cap in ((1, 100), (2, 200)):
        packs += ("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                  "poll_interval = 0.3\ntimeout = 0.4\nretries = 0\ncapacity = %d\n" % (a, sim_port, a, a, cap))
    return """[gateway]
listen = 127.0.0.1:%d
base = %d
stale_after = 3
state_file = none
%s[bank]
unit_id = %d
[soc]
source = counted
full_time = 0
[sunspec]
base = %d
[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gw_port, BASE, packs, BANK, SS, http_port)


def read(port, unit, addr, count):
    cl = ModbusTcpClient("127.0.0.1", port=port, timeout=3)
    try:
        if not cl.connect():
            return None
        rr = cl.read_holding_registers(addr, count, slave=unit)
        return None if rr.isError() else list(rr.registers)
    finally:
        cl.close()


def figures(gw_port, http):
    """The bank's SOC as each output shows it, in %: offset 60, offset 125
    (SOC (BMS)), offset 126 (SOC (counted)), the JSON's soc and
    soc_estimate.bms, SunSpec's 802 SoC; None where one does not read."""
    m = read(gw_port, BANK, BASE, 61)
    b = read(gw_port, BANK, BASE + 125, 3)
    s = read(gw_port, BANK, M802, 58)
    bank = (api_state(http) or {}).get("bank") or {}
    e = bank.get("soc_estimate") or {}
    ss = None
    if s and s[0] == 802:
        sf = s[56] - 0x10000 if s[56] >= 0x8000 else s[56]
        ss = round(s[11] * 10.0 ** sf, 1)
    return {"offset 60": m[60] / 10 if m else None, "offset 125": b[0] / 10 if b else None,
            "offset 126": b[1] / 10 if b else None, "json soc": bank.get("soc"), "json bms": e.get("bms"),
            "sunspec": ss}


def agree(gw_port, http, carried, bms, what):
    """Wait until every output shows the figures, then check them."""
    def get():
        f = figures(gw_port, http)
        ok = (f["offset 60"] == carried and f["json soc"] == carried and f["sunspec"] == carried and
              f["offset 125"] == bms and f["json bms"] == bms)
        return f if ok else None
    f = wait_until(get, 10) or figures(gw_port, http)
    c.eq((f["offset 60"], f["json soc"], f["sunspec"], f["offset 125"], f["json bms"]),
         (carried, carried, carried, bms, bms), "%s: the bank carries %.1f %% at offset 60, in the JSON and in "
         "SunSpec's 802 SoC; SOC (BMS) %.1f %% at offset 125 and in the JSON (%r)" % (what, carried, bms, f))
    return f


def band(gw_port, http, unit):
    """(offset 147 in %, or None for 0xFFFF; the JSON's soc_estimate.uncertainty) of a unit."""
    r = read(gw_port, unit, BASE + 147, 1)
    st = api_state(http) or {}
    u = st.get("bank") if unit == BANK else next((p for p in st.get("packs") or [] if p.get("unit_id") == unit), {})
    return (None if not r or r[0] == 0xFFFF else r[0] / 10, ((u or {}).get("soc_estimate") or {}).get("uncertainty"))


def full_point(sim, pack):
    for n in range(1, 17):
        sim.ctl("set %d cell %d 3460" % (pack, n))
    sim.ctl("set %d current 2" % pack)


def main():
    sim = Sim(packs=("address=1,cells=16,soc=40,current=0,capacity=100",
                     "address=2,cells=16,soc=70,current=0,capacity=200"))
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf(gw_port, http, sim.port), gw_port)
    try:
        c.ok(wait_until(lambda: (lambda r: r is not None and r[105] == 2)(read(gw_port, BANK, BASE, 106)), 15),
             "both packs online in the bank")
        # Daly: 40 of 100 Ah and 140 of 200 Ah remaining: 180 / 300
        agree(gw_port, http, 60.0, 60.0, "no count synced")
        full_point(sim, 1)
        c.ok(wait_until(lambda: (lambda r: r and r[2] & 2)(read(gw_port, 1, BASE + 125, 3)), 10),
             "pack 1's count synced by a full point")
        f = agree(gw_port, http, 60.0, 60.0, "one count synced, the other not: the BMSs' SOC carried")
        c.eq(f["offset 126"], 80.0, "the counted bank SOC beside it: (100 + 140) / 300 = 80 %")
        c.eq(band(gw_port, http, BANK), (None, None), "one count not synced: the bank's uncertainty none (offset "
             "147 0xFFFF, JSON null)")
        c.ok(band(gw_port, http, 1)[0] is not None, "pack 1's uncertainty at offset 147: %r" % (band(gw_port, http, 1),))
        full_point(sim, 2)
        c.ok(wait_until(lambda: (lambda r: r and r[2] & 2)(read(gw_port, 2, BASE + 125, 3)), 10),
             "pack 2's count synced by a full point")
        f = agree(gw_port, http, 100.0, 60.0, "every count synced: the counted SOC carried")
        c.eq(f["offset 126"], 100.0, "the counted bank SOC 100 %")
        b = wait_until(lambda: (lambda x: x if x[0] is not None and x[1] is not None else None)(
            band(gw_port, http, BANK)), 10) or (None, None)
        p1, p2 = band(gw_port, http, 1)[0], band(gw_port, http, 2)[0]
        c.ok(b[0] is not None and b[1] is not None and abs(b[0] - b[1]) <= 0.1 and p1 and p2 and
             min(p1, p2) - 0.1 <= b[0] <= max(p1, p2) + 0.1,
             "every count synced: the bank's uncertainty %r (offset 147, JSON) between its packs' %r, %r"
             % (b, p1, p2))
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        sim.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
