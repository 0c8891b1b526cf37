#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3
"""bmsgw --detect on a CAN bus (issue 67: each family's recognition; issue
101: the high-voltage packs'), end to end through the simulator playing a
Lawicel slcan adapter on a pty:

- ubms-can, rvc, jk-can and relion-lv (250 kbit/s), pylon-can and the high-voltage
  packs leaf, tesla-model3, zoe1, zoe2, mg-zs, byd-atto3, bolt, mach-e,
  volvo-spa, foxess-in, byd-hvs-in, solax-in, growatt-ark-in and the 48 V samsung-sdi-lv (500 kbit/s,
  the rate most drivers use: tried first): each detected, found at its rate; the [pack.NAME] section printed names its
  protocol and port (rvc: its source address where it is not the default),
  `bmsgw --check` accepts it, and `bmsgw --once` with it reads the pack
  (the simulator's voltage and SOC);
- listen only: every line the detector wrote to the adapter is a setup
  command (C, S5/S6, L), never a transmit line (t, T, r, R), and the
  simulator's adapter counted no frame sent (can_frames_heard 0);
- a silent bus (the simulator's daly-can, which speaks only when asked,
  with the adapter opened listen only): exit 1, nothing on stdout, daly-can
  named as a family that must be asked; nothing sent;
- the adapter's tty held by another process: exit 2, nothing written; a
  SocketCAN interface that is not there, --baud on a CAN bus: exit 2.
Waits for conditions, never sleeps for luck.  Ends with "N passed, N failed".
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Sim, my_part  # noqa: E402

BMSGW = os.path.join(ROOT, BIN, "bmsgw")
c = Checks()


def detect(port):
    r = subprocess.run([BMSGW, "--detect", port], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def sections(text):
    out, cur = {}, None
    for line in text.splitlines():
        line = line.split(";")[0].strip()
        if line.startswith("[pack.") and line.endswith("]"):
            cur = out.setdefault(line[6:-1], {})
        elif cur is not None and "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            cur[k] = v
    return out


def written_lines(sim):
    """The lines bmsgw wrote to the adapter (the simulator's log of what it received)."""
    log = json.loads(sim.ctl("rxlog"))
    data = b"".join(bytes.fromhex(ch[2]) for ch in log["chunks"])
    return [x for x in data.decode("ascii", "replace").replace("\n", "\r").split("\r") if x]


def setup_only(lines):
    return bool(lines) and all(x == "C" or x == "L" or (len(x) == 2 and x[0] == "S" and x[1] in "012345678")
                               for x in lines)


def once(tmp, proto, text):
    path = os.path.join(tmp, "%s-section.ini" % proto)
    with open(path, "w") as f:
        f.write("[gateway]\nstate_file = none\n[history]\nfile = none\n\n" + text)
    chk = subprocess.run([BMSGW, "-c", path, "--check"], capture_output=True, text=True, timeout=60)
    r = subprocess.run([BMSGW, "-c", path, "--once"], capture_output=True, text=True, timeout=60)
    js = json.loads(r.stdout.splitlines()[0]) if r.stdout.strip() else {}
    return chk.returncode, chk.stderr.strip(), js


def family(tmp, proto, spec, rate, lines_rates, name=None):
    name = name or proto
    print("== %s (%d kbit/s)" % (proto, rate))
    path = os.path.join(tmp, proto + "bus")
    sim = Sim(protocol=proto, tcp=False, pty_path=path, packs=(spec,))
    try:
        rc, out, err = detect("slcan://" + path)
        s = sections(out)
        c.eq((rc, list(s)), (0, [name]), "%s: exit 0, one section [pack.%s] (%s)" % (proto, name,
                                                                                   err.strip().replace("\n", " / ")))
        sec = s.get(name, {})
        c.eq((sec.get("protocol"), sec.get("port")), (proto, "slcan://" + path), "%s: protocol and port" % proto)
        c.ok("%s at %d kbit/s" % (proto, rate) in err, "%s: found at %d kbit/s (stderr)" % (proto, rate))
        lines = written_lines(sim)
        st = sim.state()["packs"][0]
        c.ok(setup_only(lines) and st["can_frames_heard"] == 0,
             "%s: only setup commands written, no frame (%s)" % (proto, lines))
        c.eq([x for x in lines if x[0] == "S"], lines_rates, "%s: the rates tried, most drivers' first" % proto)
        if proto == "rvc":
            c.eq(sec.get("address"), "144", "rvc: its source address 144 (0x90, not the default 0x8F)")
        # the section as the detector printed it: accepted, and it reads the pack
        sim.ctl("rxlog reset")
        rc2, why, js = once(tmp, proto, out)
        v = sim.state()["packs"][0]
        c.eq(rc2, 0, "%s: bmsgw --check accepts the section (%s)" % (proto, why))
        c.ok(js.get("ok") is True and abs((js.get("voltage") or 0) - v["voltage"]) < 0.06
             and js.get("soc") == v["soc"],
             "%s: --once reads the pack: %s V, SOC %s (the simulator's %s V, %s)" %
             (proto, js.get("voltage"), js.get("soc"), v["voltage"], v["soc"]))
    finally:
        sim.stop()


def silent(tmp):
    print("== a silent bus (daly-can speaks only when asked)")
    path = os.path.join(tmp, "dalybus")
    sim = Sim(protocol="daly-can", tcp=False, pty_path=path, packs=("address=1,cells=4",))
    try:
        rc, out, err = detect("slcan://" + path)
        c.eq((rc, out.strip()), (1, ""), "exit 1, nothing on stdout (%s)" % err.strip().replace("\n", " / "))
        c.ok("no battery heard" in err and "daly-can" in err, "said: nothing heard; daly-can must be asked")
        lines = written_lines(sim)
        st = sim.state()["packs"][0]
        c.ok(setup_only(lines) and st["can_frames_heard"] == 0 and st["writes"] == 0,
             "only setup commands written, daly-can's request never sent (%s)" % lines)
        c.eq([x for x in lines if x[0] == "S"], ["S6", "S5"], "both rates tried: S6 (the most drivers') then S5")
        print("== the adapter's tty held by another process")
        sim.ctl("rxlog reset")
        with open(path, "rb", buffering=0):
            rc, out, err = detect("slcan://" + path)
        c.eq((rc, out.strip()), (2, ""), "exit 2 (%s)" % err.strip().replace("\n", " / "))
        c.ok("held by" in err, "says who holds it")
        c.eq(written_lines(sim), [], "nothing written to a held adapter")
    finally:
        sim.stop()
    print("== a SocketCAN interface that is not there; --baud on a CAN bus")
    rc, out, err = detect("cannothere9")
    c.ok(rc == 2 and not out.strip() and "cannot open cannothere9" in err, "exit 2, cannot open (%s)" % err.strip())
    r = subprocess.run([BMSGW, "--detect", "slcan://" + path, "--baud", "9600"], capture_output=True, text=True,
                       timeout=60)
    c.ok(r.returncode == 2 and "--baud" in r.stderr, "--baud refused on a CAN bus (%s)" % r.stderr.strip())


# issue 101: the high-voltage packs, each recognised by its own ids at
# 500 kbit/s (now the rate most drivers use: tried first)
HV = (("leaf", "address=0,soc=41.2"), ("tesla-model3", "address=0,soc=81"), ("zoe1", "address=0,soc=84"),
      ("zoe2", "address=0,soc=73"),
      ("mg-zs", "address=0,soc=36.7"), ("byd-atto3", "address=0,soc=66"), ("bolt", "address=0"),
      ("mach-e", "address=0,soc=55"), ("volvo-spa", "address=0,soc=50"), ("foxess-in", "address=0,soc=40"),
      ("byd-hvs-in", "address=0,soc=57"), ("solax-in", "address=0,soc=63"), ("samsung-sdi-lv", "address=0,soc=58"),
      ("growatt-ark-in", "address=0,soc=66"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        if my_part():
            family(tmp, "ubms-can", "address=0,cells=16,soc=61", 250, ["S6", "S5"])
            family(tmp, "rvc", "address=144,cells=16,soc=64,current=-21.5", 250, ["S6", "S5"], "rvc-144")
            family(tmp, "jk-can", "address=0,cells=8,soc=42,current=3", 250, ["S6", "S5"])
            family(tmp, "pylon-can", "address=1,cells=16,soc=55", 500, ["S6"])
            silent(tmp)
        for proto, spec in HV:
            if my_part():
                family(tmp, proto, spec, 500, ["S6"])
        if my_part():
            family(tmp, "relion-lv", "address=0,soc=71", 250, ["S6", "S5"])
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
