#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: how long `bmsgw --detect` takes (tests/README.md, "How long
--detect takes"; bmsgw(8) "DETECTING A BMS").

- the time to identify each protocol spoken on a serial port, its
  simulator at its default rate and address on a pty whose rate matters
  (bmsgw-sim --strict-baud --unheld): the median of DETECT_TRIALS runs
  (default 1);
- the time to give up on a silent port (a pty nobody answers on): the
  worst case of a port without a sweep, against the 15 s it may take; and
  with --baud 9600;
- the worst case of --scan-addresses as the plan states it, and measured
  with DETECT_SWEEP=1 (two minutes);
- the time to name a master on a bus it polls (busmaster.py plays a JK-PB
  master's and a Seplos V3 master's rounds, three slaves and its own data,
  onto a socat pty pair), its packs' listen sections printed.

Figures, not assertions.  Runs DETECT_PARALLEL (default 4) at a time: the
detector waits on timers, so the runs barely disturb each other.
"""
import concurrent.futures
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BIN = os.environ.get("BIN", "build")
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
SIM = os.path.join(ROOT, BIN, "bmsgw-sim")
TMP = tempfile.mkdtemp(prefix="bmsgw-bench-detect-")
PACKS = {"renogy": ["--pack", "address=48"]}
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import busmaster  # noqa: E402


def protocols():
    out = subprocess.run([BMSGW, "--help"], capture_output=True, text=True).stdout
    names = re.search(r"protocols:\s*(.*)", out).group(1).split()
    wired = []
    for name in names:
        with tempfile.NamedTemporaryFile("w", suffix=".ini", dir=TMP) as f:
            f.write("[gateway]\nstate_file = none\n[pack.p]\nprotocol = %s\nport = /dev/ttyUSB0\n" % name)
            f.flush()
            if subprocess.run([BMSGW, "-c", f.name, "--check"], capture_output=True).returncode == 0:
                wired.append(name)
    return wired


def detect(port, *args):
    t0 = time.monotonic()
    r = subprocess.run([BMSGW, "--detect", port] + list(args), capture_output=True, text=True, timeout=600)
    return r.returncode, time.monotonic() - t0, r.stderr


def identify(proto, trial):
    path = os.path.join(TMP, "%s-%d" % (proto, trial))
    sim = subprocess.Popen([SIM, "--protocol", proto, "--pty", path, "--strict-baud", "--unheld", "--static"] +
                           PACKS.get(proto, []), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        sim.stdout.readline()  # "pty PATH -> /dev/pts/N": ready
        rc, secs, err = detect(path)
        found = re.search(r"found: (.*) \(after", err)
        return proto, rc, secs, found.group(1) if found else "nothing"
    finally:
        sim.terminate()
        sim.wait()


def silent(*args):
    """A pty whose other end nobody answers on."""
    master, slave = os.openpty()
    name = os.ttyname(slave)
    os.close(slave)
    try:
        rc, secs, err = detect(name, *args)
    finally:
        os.close(master)
    m = re.search(r"(?:about|at most) ([\d.]+) s more", err)
    listened = sum(float(x) for x in re.findall(r"baud, ([\d.]+) s:", err))
    return rc, secs, float(m.group(1)) if m else None, listened


def stated(*args):
    """What the plan says a sweep costs, without running it."""
    master, slave = os.openpty()
    name = os.ttyname(slave)
    os.close(slave)
    p = subprocess.Popen([BMSGW, "--detect", name] + list(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    said = None
    for line in p.stderr:
        m = re.search(r"(\d+) probes, (?:about|at most) ([\d.]+) s more", line)
        if m:
            said = (int(m.group(1)), float(m.group(2)))
            break
    p.terminate()
    p.wait()
    os.close(master)
    return said


def bus_master(name, round_, *args):
    """A bus another master polls: the time to name it and its packs."""
    near, far = os.path.join(TMP, name + "-near"), os.path.join(TMP, name + "-far")
    sc = subprocess.Popen(["socat", "PTY,link=%s,raw,echo=0" % near, "PTY,link=%s,raw,echo=0,wait-slave,pty-interval=0.01" % far],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(far):
                break
            time.sleep(0.05)
        line = busmaster.Master(near, round_)
        try:
            rc, secs, err = detect(far, *args)
        finally:
            line.stop()
        named = [l for l in err.splitlines() if " master " in l and "polls" in l]
        return rc, secs, named[-1] if named else "not named", len(line.got)
    finally:
        sc.terminate()
        sc.wait()


def main():
    trials = int(os.environ.get("DETECT_TRIALS", "1"))
    par = int(os.environ.get("DETECT_PARALLEL", "4"))
    wired = protocols()
    runs = {}
    with concurrent.futures.ThreadPoolExecutor(par) as ex:
        futs = [ex.submit(identify, p, t) for p in wired for t in range(trials)]
        for f in futs:
            proto, rc, secs, what = f.result()
            runs.setdefault(proto, []).append((rc, secs, what))
    print("detect: the time to identify each protocol at its default rate and address "
          "(median of %d; the simulator's own latency included)" % trials)
    for p in wired:
        r = runs[p]
        ok = all(rc == 0 for rc, _, _ in r)
        print("  %-12s %5.1f s  %s" % (p, statistics.median(s for _, s, _ in r), r[0][2] if ok else "NOT FOUND"))
    rc, secs, said, listen = silent()
    print("detect: a silent port given up after %.1f s (exit %d; the plan says %.1f s of probes after %.1f s of "
          "listening; the limit is 15 s)" % (secs, rc, said or 0, listen))
    rc, secs, said, _ = silent("--baud", "9600")
    print("detect: a silent port with --baud 9600 given up after %.1f s" % secs)
    planned = None
    for args in (["--scan-addresses"], ["--scan-addresses", "--baud", "9600"]):
        s = stated(*args)
        if s:
            total = s[1] + (1.2 if "--baud" in args else listen)
            planned = planned or total
            print("detect: %s: %d probes, %.1f s when nothing answers (the plan's figure, listening included)" %
                  (" ".join(args), s[0], total))
    if shutil.which("socat"):
        for name, round_, args in (("jk-pb", lambda: busmaster.jkpb_round({1, 2, 3}), []),
                                   ("seplos3", lambda: busmaster.seplos3_round([2, 3, 4]), ["--baud", "19200"])):
            rc, secs, named, wrote = bus_master(name, round_, *args)
            print("detect: a %s master's bus named after %.1f s (exit %d, %d bytes written): %s" %
                  (name, secs, rc, wrote, named))
    if os.environ.get("DETECT_SWEEP") == "1":
        rc, secs, _, _ = silent("--scan-addresses")
        print("detect: --scan-addresses on a silent port: %.1f s measured (the plan: %.1f s)" % (secs, planned or 0))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(TMP, True)
