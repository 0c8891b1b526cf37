#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`bmsgw --detect PORT` end to end (issue 30, bmsgw(8) "DETECTING A BMS"),
the real binary against the real simulator on ptys:

- every wired protocol's simulator (a pty whose rate matters:
  bmsgw-sim --strict-baud; nobody else holds it: --unheld) at its usual
  rate and address, and at an unusual rate and address, is identified with
  the right [pack] section (baud and address only where not the defaults),
  which `bmsgw --check` accepts; every byte the simulator received is one
  read request of a protocol bmsgw knows (rxlog, parsed here independently
  of bms/: Modbus FC 01-04, paceic read commands, Daly 0x90-0x98 (and a
  daemon's settings reads 0x50-0x60 at its first poll), JBD
  DD A5 03/04/05, JK 0x06, a Sinowealth register read), never a write;
- an address sweep, and --all on a bus of two packs (two sections);
- an energy meter (Debian's python3-pymodbus serial server on a socat pty,
  with ordinary holding and input registers) and a device that echoes
  everything are not taken for a BMS; a BMS behind an echoing adapter
  (Daly, EG4-LL) is found, its echo ignored; one on a slow line (answers
  0.6 to 0.7 s late, after the probe's wait: a pty and a TCP serial server)
  is found, its probe asked again with a longer wait;
- a line with another master (the test writes valid Modbus, or paceic,
  requests) is not written to at all (the line is recorded); random noise
  is reported and the probing goes on;
- a TCP serial server (bmsgw-sim --tcp): one listen, every probe once;
- a port held by another process (this test's own descriptor; a running
  bmsgw daemon; the owner of a UUCP lock file with the port open) is
  refused with the holder named, and nothing is written to it; the
  daemon's port is exclusive (TIOCEXCL, flock); a lock file naming a live
  process without the port (a reused pid) and a `socat pty,link=...
  tcp:...` port (socat holds both sides of the pty) are no holders (issue
  36);
- a PACE and a Seplos V3 pack at address 1 are found without --address,
  and one answering the request at 0 from 1 gets `address_any = true`;
- exit codes 0 / 1 / 2, a silent port within the 15 s budget, -v;
- a bus another master polls (issue 36; tests/tools/busmaster.py plays a
  JK-PB master's and a Seplos V3 master's rounds from bus captures, three
  slaves each and the master's own data): the master and its packs are
  named, a `listen = true` section printed for each of the four (which
  --check takes), and not one byte is written to the line; garbage between
  the frames changes nothing; a master whose packs do not answer is named,
  with "no pack answered".

A failed check prints the stderr of every detector run of its case.

The cases run side by side (each waits on timers, not on the CPU).
"""
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, free_port, raise_priority, wait_file, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import busmaster  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-detect-")
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
SIMBIN = os.path.join(ROOT, BIN, "bmsgw-sim")
PARALLEL = int(os.environ.get("DETECT_PARALLEL", "5"))
_lock = threading.Lock()
_children = []

DEFAULTS = {  # protocol: (default baud, default address or None)
    "daly": (9600, 1), "daly-modbus": (9600, 1), "sinowealth": (9600, None), "jk": (115200, None),
    "jk-pb": (115200, 1), "jbd": (9600, None), "pylontech": (115200, 2), "topbms": (9600, 1),
    "seplos": (19200, 0), "vedirect": (19200, None), "pace": (9600, 0), "eg4-lp4": (9600, 1),
    "daren": (19200, 1), "seplos3": (19200, 0), "eg4-ll": (9600, 1), "renogy": (9600, 48),
    "pace-modbus": (9600, 1), "lifepower": (9600, 1), "ant": (19200, None), "jbd-up": (9600, 1),
}


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    with _lock:
        _children.append(p)
    return p


def kill_all():
    for p in _children:
        if p.poll() is None:
            p.kill()
            p.wait()


# ---- the simulator and the detector ----

class Sim:
    """bmsgw-sim on a pty (rate checked, slave not held) or over TCP."""

    def __init__(self, protocol, name, baud=None, packs=(), tcp=False):
        args = [SIMBIN, "--protocol", protocol, "--static", "--control", "127.0.0.1:0"]
        if tcp:
            args += ["--tcp", "127.0.0.1:0"]
        else:
            self.path = os.path.join(TMP, name)
            args += ["--pty", self.path, "--strict-baud", "--unheld"]
        if baud:
            args += ["--baud", str(baud)]
        for p in packs:
            args += ["--pack", p]
        self.p = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # the simulator stands in for a BMS, which answers in its own time
        # whatever the host does: a probe waits 250 ms for JK's first byte,
        # and a run of 16 steps at a time had the simulator late three times
        raise_priority(self.p.pid)
        self.ctlport = None
        while self.ctlport is None:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("bmsgw-sim %s did not start" % protocol)
            m = re.match(r"listening tcp 127\.0\.0\.1:(\d+)", line)
            if m:
                self.path = "tcp://127.0.0.1:%s" % m.group(1)
            m = re.match(r"control 127\.0\.0\.1:(\d+)", line)
            if m:
                self.ctlport = int(m.group(1))

    def ctl(self, cmd):
        import socket
        with socket.create_connection(("127.0.0.1", self.ctlport), timeout=10) as s:
            s.sendall((cmd + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
        return buf.decode().strip()

    def received(self):
        log = json.loads(self.ctl("rxlog"))
        return bytes.fromhex("".join(ch[2] for ch in log["chunks"])), log["lost"]

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# the detector runs of the case this thread runs: a failed check of the case
# prints their stderr (main)
_runs = threading.local()


def detect(port, *args, timeout=200):
    t0 = time.monotonic()
    r = subprocess.run([BMSGW, "--detect", port] + list(args), capture_output=True, text=True, timeout=timeout)
    secs = time.monotonic() - t0
    if getattr(_runs, "log", None) is not None:
        _runs.log.append("bmsgw --detect %s %s -> exit %d, %.1f s; stderr:\n%s" %
                         (port, " ".join(args), r.returncode, secs, r.stderr.rstrip()))
    return r.returncode, r.stdout, r.stderr, secs


def logged(job):
    """Run a case; its checks and the stderr of every detector run it made."""
    _runs.log = []
    try:
        return job(), _runs.log
    finally:
        _runs.log = None


def sections(text):
    """The [pack.NAME] sections of a text: name -> {key: value}."""
    out, cur = {}, None
    for line in text.splitlines():
        line = line.split(";")[0].strip()
        m = re.match(r"\[pack\.([\w-]+)\]$", line)
        if m:
            cur = out.setdefault(m.group(1), {})
        elif cur is not None and "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            cur[k] = v
    return out


def check_accepts(text):
    path = os.path.join(TMP, "check-%d.ini" % threading.get_ident())
    with open(path, "w") as f:
        f.write("[gateway]\nstate_file = none\n\n" + text)
    r = subprocess.run([BMSGW, "-c", path, "--check"], capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip()


# ---- an independent parser of what was sent: reads only ----

PACEIC_READS = {0x42, 0x44, 0x47, 0x4F, 0x51, 0x61, 0x62, 0x63, 0x92, 0x93, 0x96, 0xC1, 0xC2}


def crc16(b):
    crc = 0xFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def one_request(b, i):
    """(length, what, is_read) of the request at b[i:], or None."""
    rest = b[i:]
    if rest[:1] in (b"~", b">"):
        end = rest.find(b"\r")
        body = rest[1:end] if end > 0 else b""
        if end > 0 and len(body) >= 16 and re.fullmatch(rb"[0-9A-F]+", body):
            chk = int(body[-4:], 16)
            if (sum(body[:-4]) + chk) & 0xFFFF == 0:
                cid2 = int(body[6:8], 16)
                return end + 1, "paceic CID2 %02X" % cid2, cid2 in PACEIC_READS
    if len(rest) >= 6 and rest[0] in (0x7E, 0x7C) and rest[3] == 0 and rest[5] == 0x0D:
        x = 0
        for v in rest[:4]:
            x ^= v
        if x ^ (sum(rest[:4]) & 0xFF) == rest[4]:
            return 6, "LifePower %02X" % rest[2], rest[2] in (0x01, 0x33, 0x42)
    if len(rest) >= 13 and rest[0] == 0xA5 and rest[3] == 8 and sum(rest[:12]) & 0xFF == rest[12]:
        # the data reads 0x90-0x98 and the settings reads of a daemon's poll
        # (bms/daly.c: 0x50, 0x59-0x5B, 0x5E-0x60 at its first poll, then
        # every 10 minutes), each with no data
        return 13, "Daly %02X" % rest[2], 0x90 <= rest[2] <= 0x98 or \
            (rest[2] in (0x50, 0x59, 0x5A, 0x5B, 0x5E, 0x5F, 0x60) and not any(rest[4:12]))
    if len(rest) >= 7 and rest[0] == 0xDD and rest[1] in (0xA5, 0x5A):
        n = rest[3] + 7
        if len(rest) >= n and rest[n - 1] == 0x77 and (0x10000 - sum(rest[2:n - 3])) & 0xFFFF == (rest[n - 3] << 8 | rest[n - 2]):
            return n, "JBD %02X %02X" % (rest[1], rest[2]), rest[1] == 0xA5 and rest[2] in (3, 4, 5)
    if len(rest) >= 20 and rest[:2] == b"\x4e\x57":
        n = (rest[2] << 8 | rest[3]) + 2
        if len(rest) >= n and sum(rest[:n - 4]) & 0xFFFF == (rest[n - 2] << 8 | rest[n - 1]):
            return n, "JK command %02X" % rest[8], rest[8] in (0x06, 0x03) and rest[10] == 0
    if len(rest) >= 10 and rest[1] in (0x78, 0x79, 0x45) and crc16(rest[:8]) == (rest[8] | rest[9] << 8):
        # JBD UP16S: addr fc start end len(0) CRC; only FC 0x78 with no data reads
        return 10, "JBD-UP FC %02X" % rest[1], rest[1] == 0x78 and rest[6:8] == b"\x00\x00"
    if len(rest) >= 8 and crc16(rest[:6]) == (rest[6] | rest[7] << 8) and rest[1] in (1, 2, 3, 4, 5, 6):
        return 8, "Modbus unit %d FC %02X" % (rest[0], rest[1]), rest[1] <= 4
    if len(rest) >= 9 and rest[1] in (15, 16):
        n = 9 + rest[6]
        if len(rest) >= n and crc16(rest[:n - 2]) == (rest[n - 2] | rest[n - 1] << 8):
            return n, "Modbus unit %d FC %02X (a write)" % (rest[0], rest[1]), False
    if len(rest) >= 6 and rest[:3] in (b"\x5a\x5a\x00", b"\xdb\xdb\x00") and (rest[3] + rest[4]) & 0xFF == rest[5]:
        return 6, "ANT legacy read-all %02X" % rest[0], True
    if len(rest) >= 10 and rest[:2] == b"\x7e\xa1" and rest[8:10] == b"\xaa\x55" and \
            crc16(rest[1:6]) == (rest[6] | rest[7] << 8):
        return 10, "ANT 7E A1 function %02X" % rest[2], rest[2] in (1, 2)
    if len(rest) >= 3 and rest[0] == 0x0A and rest[2] in (2, 4):
        return 3, "Sinowealth register %02X" % rest[1], True
    return None


def reads_only(b):
    """(True, summary) when b is a sequence of read requests only."""
    i, kinds = 0, {}
    while i < len(b):
        r = one_request(b, i)
        if r is None:
            return False, "byte %d (%s...) is no request bmsgw knows" % (i, b[i:i + 16].hex())
        n, what, is_read = r
        if not is_read:
            return False, "a write or unknown command at byte %d: %s (%s)" % (i, what, b[i:i + n].hex())
        kinds[what.split()[0]] = kinds.get(what.split()[0], 0) + 1
        i += n
    return True, "%d bytes, %s" % (len(b), ", ".join("%d %s" % (v, k) for k, v in sorted(kinds.items())))


# ---- the cases: each returns [(ok, text)] ----

def detect_tries(path, *args, found=lambda rc, out: rc != 1):
    """detect() until found(rc, out), up to three times in all: a simulator
    the loaded machine ran late answers after the probe's wait, in the next
    probe's window; that only spoils a run (a pack not found), it never makes
    a wrong one.  (rc, out, err, secs, tries)."""
    for tries in range(1, 4):
        rc, out, err, secs = detect(path, *args)
        if found(rc, out):
            break
    return rc, out, err, secs, tries


def bms_case(proto, baud=None, packs=(), args=(), want_baud=None, want_addr=None, label="usual", want_any=False):
    res = []
    sim = Sim(proto, "%s-%s" % (proto, label), baud=baud, packs=packs)
    try:
        rc, out, err, secs, tries = detect_tries(sim.path, *args)
        sec = sections(out)
        what = "%s (%s%s%s)" % (proto, label, ", sim at %d baud" % baud if baud else "",
                                " " + " ".join(args) if args else "")
        res.append((rc == 0 and len(sec) == 1, "%s: found, exit %d, %.1f s%s" %
                    (what, rc, secs, " (try %d)" % tries if tries > 1 else "")))
        s = next(iter(sec.values()), {})
        res.append((s.get("protocol") == proto and s.get("port") == sim.path,
                    "%s: the section names protocol %s and the port (%r)" % (what, proto, s)))
        res.append((s.get("baud") == (str(want_baud) if want_baud else None),
                    "%s: baud %s (%r)" % (what, want_baud or "not given (the default)", s.get("baud"))))
        res.append((s.get("address") == (str(want_addr) if want_addr is not None else None),
                    "%s: address %s (%r)" % (what, want_addr if want_addr is not None else "not given", s.get("address"))))
        res.append((s.get("address_any") == ("true" if want_any else None),
                    "%s: address_any %s (%r)" % (what, "true" if want_any else "not given", s.get("address_any"))))
        ok, why = check_accepts(out)
        res.append((ok, "%s: bmsgw --check accepts the section %s" % (what, why)))
        data, lost = sim.received()
        ok, summary = reads_only(data)
        res.append((ok and lost == 0, "%s: the simulator received only read requests: %s" % (what, summary)))
        st = json.loads(sim.ctl("stats"))
        res.append((st["writes"] == 0, "%s: no MOSFET write reached the pack" % what))
    finally:
        sim.stop()
    return res


def unusual(proto):
    """An unusual rate and address, and the arguments it needs."""
    table = {
        "daly": (19200, ["address=3"], ["--baud", "19200", "--address", "3"], 19200, 3),
        "daly-modbus": (19200, ["address=5"], ["--baud", "19200", "--address", "5"], 19200, 5),
        "sinowealth": (19200, [], ["--baud", "19200"], 19200, None),
        "jk": (9600, [], ["--baud", "9600"], 9600, None),
        "jk-pb": (9600, ["address=3"], ["--address", "3"], 9600, 3),            # 9600 is in its list
        "jbd": (19200, [], ["--baud", "19200"], 19200, None),
        "pylontech": (9600, ["address=5"], ["--address", "5"], 9600, 5),        # so is 9600
        "topbms": (19200, ["address=7"], ["--baud", "19200", "--address", "7"], 19200, 7),
        "seplos": (9600, ["address=3"], ["--address", "3"], 9600, 3),           # the document's 9600
        "vedirect": (9600, [], ["--baud", "9600"], 9600, None),
        "pace": (19200, ["address=4"], ["--baud", "19200", "--address", "4"], 19200, 4),
        "eg4-lp4": (19200, ["address=3"], ["--baud", "19200", "--address", "3"], 19200, 3),
        "daren": (9600, ["address=4,dialect=ks"], ["--address", "4"], 9600, 4),  # KS48100's '>'
        "seplos3": (9600, ["address=5"], ["--baud", "9600", "--address", "5"], 9600, 5),
        "eg4-ll": (19200, ["address=64"], ["--baud", "19200"], 19200, 64),       # 64 without asking
        "renogy": (9600, ["address=247"], [], None, 247),                        # 247 without asking
        "pace-modbus": (19200, ["address=3"], ["--baud", "19200", "--address", "3"], 19200, 3),
        "lifepower": (19200, ["address=3"], ["--baud", "19200", "--address", "3"], 19200, 3),
        "jbd-up": (19200, ["address=3"], ["--baud", "19200", "--address", "3"], 19200, 3),  # a slave's status
        "ant": (9600, ["dialect=legacy"], [], 9600, None),                     # a 2019 board at 9600
    }
    return table[proto]


def usual_case(proto):
    packs = ["address=48"] if proto == "renogy" else []
    return bms_case(proto, packs=packs)


def unusual_case(proto):
    baud, packs, args, want_baud, want_addr = unusual(proto)
    return bms_case(proto, baud=baud, packs=packs, args=args, want_baud=want_baud, want_addr=want_addr,
                    label="unusual")


def other_address_case(proto, packs, want_addr, want_any, label):
    """Issue 36: a pack at address 1 found without --address: PACE and
    Seplos V3 are probed at 0 and at 1; a pack that answers the request at
    0 from address 1 (the simulator's reply_adr) is taken, its section
    saying address_any."""
    return bms_case(proto, packs=packs, want_addr=want_addr, want_any=want_any, label=label)


def all_from_case():
    """--all on a bus where the PACE pack asked at ADR 0 answers from ADR 1
    and a pack at 1 answers for itself: the pack answering from 1 is found
    once, the try at ADR 1 passed over (one section, which --check takes)."""
    res = []
    sim = Sim("pace", "pace-all-from1", packs=["address=0,reply_adr=1", "address=1"])
    try:
        # the answer at ADR 0 run late by a loaded machine lands in the next
        # probe's window (ADR 1's pack is found instead): run again, up to
        # three times; a late answer can only spoil a run, never make one
        for _ in range(3):
            rc, out, err, secs, _ = detect_tries(sim.path, "--all", "--baud", "9600",
                                             found=lambda rc, out: len(sections(out)) >= 2)
            sec = sections(out)
            if rc == 0 and list(sec) == ["pace"]:
                break
        res.append((rc == 0 and list(sec) == ["pace"] and sec["pace"].get("address_any") == "true",
                    "--all, a pace pack answering from ADR 1: one section, address_any (%s; %.1f s)" %
                    (sorted(sec), secs)))
        ok, why = check_accepts(out)
        res.append((ok, "--all, a pace pack answering from ADR 1: --check accepts it %s" % why))
    finally:
        sim.stop()
    return res


def sweep_case():
    """--scan-addresses finds a Daly board 3 at 9600, address by address."""
    return bms_case("daly", packs=["address=3"], args=["--scan-addresses", "--baud", "9600"], want_addr=3,
                    label="sweep")


def all_case():
    """--all on a bus of two EG4-LL packs (1 and 64): a section for each."""
    res = []
    sim = Sim("eg4-ll", "eg4-all", packs=["address=1", "address=64"])
    try:
        both = {"eg4-ll", "eg4-ll-64"}
        rc, out, err, secs, tries = detect_tries(sim.path, "--all", "--baud", "9600",
                                                 found=lambda rc, out: set(sections(out)) == both)
        sec = sections(out)
        res.append((rc == 0 and set(sec) == both, "--all: both packs of the bus, each with its section (%s; %.1f s%s)"
                    % (sorted(sec), secs, ", try %d" % tries if tries > 1 else "")))
        res.append((sec.get("eg4-ll-64", {}).get("address") == "64" and "address" not in sec.get("eg4-ll", {}),
                    "--all: the second section names address 64"))
        ok, why = check_accepts(out)
        res.append((ok, "--all: bmsgw --check accepts both sections together %s" % why))
        res.append((err.count("(confirmed)") == 2, "--all: stderr shows both matches"))
        data, _ = sim.received()
        ok, summary = reads_only(data)
        res.append((ok, "--all: only reads sent: %s" % summary))
    finally:
        sim.stop()
    return res


# ---- a pty pair made by socat, the test's side held, the detector's not ----

class Pair:
    """socat PTY (this test's end, `near`) <-> PTY (the detector's end,
    `far`, made with wait-slave: socat does not hold it; socat looks for the
    detector's open every 10 ms, not every second as by default: the relay
    then starts while the detector listens, not after its window)."""

    def __init__(self, name, near_cmd=None):
        self.near = os.path.join(TMP, name + "-near")
        self.far = os.path.join(TMP, name + "-far")
        first = near_cmd or "PTY,link=%s,raw,echo=0" % self.near
        self.p = spawn(["socat", first, "PTY,link=%s,raw,echo=0,wait-slave,pty-interval=0.01" % self.far],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        raise_priority(self.p.pid)  # the line stands in for an adapter, which keeps its own time
        if not wait_file(self.far):
            raise RuntimeError("socat did not make " + self.far)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(5)


class Line(threading.Thread):
    """This test's end of a pair: writes `what()` every `every` s while it
    runs, and records everything the other end sends."""

    def __init__(self, path, what=None, every=0.1):
        super().__init__(daemon=True)
        import termios
        import tty
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.what, self.every, self.got, self.run_ = what, every, b"", True
        self.start()

    def run(self):
        import select
        last = 0
        while self.run_:
            now = time.monotonic()
            if self.what and now - last >= self.every:
                try:
                    os.write(self.fd, self.what())
                except OSError:
                    pass
                last = now
            r, _, _ = select.select([self.fd], [], [], 0.01)
            if r:
                try:
                    self.got += os.read(self.fd, 4096)
                except OSError:
                    time.sleep(0.01)

    def stop(self):
        self.run_ = False
        self.join(5)
        os.close(self.fd)


def meter_case():
    """An energy meter (pymodbus's serial server, every unit id, holding and
    input registers 0..599 of a meter) answers the Modbus probes: no BMS."""
    res = []
    pair = Pair("meter")
    meter = spawn([sys.executable, "-c", METER, pair.near], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                  text=True)
    try:
        ready = meter.stdout.readline().strip() == "ready"
        rc, out, err, secs = detect(pair.far)
        res.append((ready and rc == 1 and sections(out) == {},
                    "an energy meter is no BMS: exit %d, no section (%.1f s)" % (rc, secs)))
        meter_said = [l for l in err.splitlines() if "not a battery's answer" in l or "refused" in l]
        res.append((len(meter_said) >= 3, "the meter's answers are named and refused (%d lines: %s)" %
                    (len(meter_said), " | ".join(meter_said[:3]))))
        if rc != 1:
            res.append((True, "stderr:\n" + err))
    finally:
        meter.kill()
        meter.wait()
        pair.stop()
    return res


METER = r"""
import sys
from pymodbus.server import StartSerialServer
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext
from pymodbus.transaction import ModbusRtuFramer
# a single-phase meter: 230.1 V, 5.2 A, 1196 W, 50.00 Hz, cos phi, energy ...
regs = [2301, 52, 1196, 5000, 998, 0, 12345, 0, 678, 1, 2300, 2302, 2299, 51, 49, 50, 1190, 1200, 1198, 4] * 30
ctx = ModbusServerContext(slaves=ModbusSlaveContext(
    hr=ModbusSequentialDataBlock(0, regs), ir=ModbusSequentialDataBlock(0, regs),
    co=ModbusSequentialDataBlock(0, [0] * 100), di=ModbusSequentialDataBlock(0, [0] * 100), zero_mode=True),
    single=True)
print("ready", flush=True)
StartSerialServer(context=ctx, framer=ModbusRtuFramer, port=sys.argv[1], baudrate=9600, timeout=0.05)
"""


def echo_case():
    """A 2-wire adapter with nothing behind it: every request comes back."""
    res = []
    pair = Pair("echo", near_cmd="PIPE")
    try:
        rc, out, err, secs = detect(pair.far, "--baud", "9600")
        n = err.count("only the echo of the request")
        res.append((rc == 1 and sections(out) == {} and n >= 10,
                    "an echoing line is no BMS: exit %d, %d probes saw only their echo (%.1f s)" % (rc, n, secs)))
        res.append(("asked again" not in err, "an echoing line: no echo is taken for a late answer"))
    finally:
        pair.stop()
    return res


class LateEcho(threading.Thread):
    """A slow 2-wire adapter with nothing behind it: every byte sent comes back `delay` s later, after
    most probes' waits, in the next probe's gap or wait."""

    def __init__(self, path, delay):
        super().__init__(daemon=True)
        import termios
        import tty
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.delay, self.run_, self.queue = delay, True, []
        self.start()

    def run(self):
        import select
        raise_priority(threading.get_native_id())  # an adapter's delay, not the machine's load
        while self.run_:
            r, _, _ = select.select([self.fd], [], [], 0.005)
            if r:
                try:
                    self.queue.append((time.monotonic() + self.delay, os.read(self.fd, 4096)))
                except OSError:
                    time.sleep(0.01)
            while self.queue and self.queue[0][0] <= time.monotonic():
                try:
                    os.write(self.fd, self.queue.pop(0)[1])
                except OSError:
                    pass

    def stop(self):
        self.run_ = False
        self.join(5)
        os.close(self.fd)


def late_echo_case():
    """An echo that comes after its probe's wait is still our own request, not another master's."""
    res = []
    pair = Pair("lateecho")
    line = LateEcho(pair.near, 0.35)
    try:
        rc, out, err, secs = detect(pair.far, "--baud", "9600")
        res.append((rc == 1 and sections(out) == {} and "another master" not in err,
                    "an echo 0.35 s late is no other master: exit %d, %s (%.1f s)"
                    % (rc, "no master named" if "another master" not in err else "a master named", secs)))
        res.append(("asked again" not in err, "an echo 0.35 s late is no late answer either"))
    finally:
        line.stop()
        pair.stop()
    return res


def echo_bms_case(proto):
    """A BMS behind a 2-wire adapter: each of its answers follows the
    request's own echo (the simulator's `echo` fault), which is ignored."""
    res = []
    sim = Sim(proto, "echo-" + proto)
    try:
        sim.ctl("fault %d echo" % (DEFAULTS[proto][1] or 1))
        rc, out, err, secs, _ = detect_tries(sim.path, "-v")
        sec = sections(out)
        res.append((rc == 0 and [v.get("protocol") for v in sec.values()] == [proto],
                    "%s behind an echoing adapter: found (exit %d, %s, %.1f s)" % (proto, rc, sorted(sec), secs)))
        res.append(("the request's own echo" in err, "%s behind an echoing adapter: -v shows the echo ignored" % proto))
        data, lost = sim.received()
        ok, summary = reads_only(data)
        res.append((ok, "%s behind an echoing adapter: only reads sent: %s" % (proto, summary)))
    finally:
        sim.stop()
    return res


def slow_line_case(proto, tcp=False):
    """A slow line (a serial server behind Wi-Fi, a loaded host's kernel):
    the pack answers 0.6 to 0.7 s after each request, after its probe's wait
    and within a later probe's; the detector tells the late answer for the
    earlier probe's, asks it again with a longer wait, and finds the pack
    (bmsgw(8): a late answer)."""
    res = []
    sim = Sim(proto, "slow-" + proto, tcp=tcp)
    what = "%s on a slow line%s" % (proto, " (TCP)" if tcp else "")
    try:
        sim.ctl("latency 600-700")
        rc, out, err, secs, tries = detect_tries(sim.path)
        sec = sections(out)
        res.append((rc == 0 and [v.get("protocol") for v in sec.values()] == [proto],
                    "%s: found (exit %d, %s, %.1f s%s)" % (what, rc, sorted(sec), secs,
                                                           ", try %d" % tries if tries > 1 else "")))
        m = re.search(r"  %s[^\n]*: its answer came whole ([0-9.]+) s after the request, after its wait "
                      r"\(a slow line\): asked again, waiting up to ([0-9.]+) s" % re.escape(proto), err)
        res.append((m is not None and 0.6 <= float(m.group(1)) <= 3.0 and float(m.group(2)) <= 2.0,
                    "%s: the late answer named, its probe asked again with a longer wait (%s)"
                    % (what, m.group(0).strip() if m else "not said")))
        data, lost = sim.received()
        ok, summary = reads_only(data)
        res.append((ok and lost == 0, "%s: only reads sent: %s" % (what, summary)))
    finally:
        sim.stop()
    return res


def master_case(kind):
    """Another master polls the line: the detector sends nothing at all."""
    res = []
    pair = Pair("master-" + kind)
    if kind == "modbus":
        req = bytes([1, 3, 0, 0, 0, 10])
        req += bytes([crc16(req) & 0xFF, crc16(req) >> 8])
    else:
        req = b"~20024642E00202FD33\r"
    line = Line(pair.near, lambda: req, 0.1)
    try:
        rc, out, err, secs = detect(pair.far)
        res.append((rc == 2 and "another master" in err and sections(out) == {},
                    "%s master on the line: exit %d, reported (%.1f s)" % (kind, rc, secs)))
        res.append((("Modbus RTU request" if kind == "modbus" else "paceic") in err,
                    "%s master: its frames are named" % kind))
    finally:
        line.stop()
        pair.stop()
    res.append((line.got == b"", "%s master: nothing was written to its line (%d bytes)" % (kind, len(line.got))))
    return res


class LateMaster(Line):
    """A master that starts polling only once the detector has written its
    first probe (it began after the listening): `at` is how many bytes the
    detector had written when the master's first request went out."""

    def __init__(self, path, req):
        self.at = None
        super().__init__(path, lambda: req if self.got else b"", 0.1)

    def run(self):
        import select
        last = 0
        while self.run_:
            now = time.monotonic()
            if self.got and now - last >= self.every:
                if self.at is None:
                    self.at = len(self.got)
                try:
                    os.write(self.fd, self.what())
                except OSError:
                    pass
                last = now
            r, _, _ = select.select([self.fd], [], [], 0.01)
            if r:
                try:
                    self.got += os.read(self.fd, 4096)
                except OSError:
                    time.sleep(0.01)


def late_master_case():
    """A master that begins polling after the listening: its first request
    heard while probing stops the probing (exit 2), and the detector writes
    no more than the probe it had in flight (without the stop it went on:
    exit 1 after 17 s)."""
    res = []
    pair = Pair("late-master")
    req = bytes([1, 3, 0, 0, 0, 10])
    req += bytes([crc16(req) & 0xFF, crc16(req) >> 8])
    line = LateMaster(pair.near, req)
    try:
        rc, out, err, secs = detect(pair.far)
        res.append((rc == 2 and "another master polls this line after all" in err and sections(out) == {},
                    "a master that began after the listening: probing stopped, exit %d (%.1f s)" % (rc, secs)))
    finally:
        line.stop()
        pair.stop()
    after = b"" if line.at is None else line.got[line.at:]
    # what was written once the master had spoken: at most the rest of the
    # probe then in flight (a probe's request is under 32 bytes; without the
    # stop, 44 bytes and more went out after it)
    res.append((line.at is not None and len(after) < 32,
                "a late master: %d bytes written after its first request (probe in flight only)" % len(after)))
    return res


# a bus another master polls: (the round, the line --detect says, the
# addresses of the sections, the arguments)
BUSES = {
    "jk-pb": (lambda: busmaster.jkpb_round({1, 2, 3}),
              "a JK-PB master (address 0, its own data heard) polls packs 1, 2, 3 (it asks 1..15)", [0, 1, 2, 3], []),
    # a pty has no rate: the rate is given, as on a line whose rate is known
    "seplos3": (lambda: busmaster.seplos3_round([2, 3, 4]),
                "a Seplos V3 master (address 1, its own data heard) polls packs 2, 3, 4 (it asks 2..4)", [1, 2, 3, 4],
                ["--baud", "19200"]),
}


def bus_master_case(proto, garbage=False):
    """Issue 36: --detect on a bus another master polls names the master
    and every pack heard, each with a listen = true section, and writes
    nothing; random bytes between the frames change nothing."""
    import random
    rnd = random.Random(36)
    res = []
    round_, said, addrs, args = BUSES[proto]
    what = "%s master%s" % (proto, ", garbage between frames" if garbage else "")
    pair = Pair("bus-%s%s" % (proto, "-garbage" if garbage else ""))
    line = busmaster.Master(pair.near, round_,
                            (lambda: bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 6)))) if garbage else None)
    try:
        rc, out, err, secs = detect(pair.far, *args)
        sec = sections(out)
        res.append((rc == 0 and said in err, "%s: the master and its packs named (exit %d, %.1f s): %r" %
                    (what, rc, secs, said)))
        got = sorted(int(v.get("address", "-1")) for v in sec.values())
        res.append((got == addrs and all(v.get("protocol") == proto and v.get("listen") == "true" and
                                         v.get("port") == pair.far and "baud" not in v for v in sec.values()),
                    "%s: a listen = true section for each of %s (%s)" % (what, addrs, sec)))
        ok, why = check_accepts(out)
        res.append((ok, "%s: bmsgw --check accepts the sections together %s" % (what, why)))
    finally:
        line.stop()
        pair.stop()
    res.append((line.got == b"" and line.rounds >= 1, "%s: not one byte was written to the line (%d bytes; %d rounds "
                "played)" % (what, len(line.got), line.rounds)))
    return res


def bus_requests_case():
    """A JK-PB master whose packs do not answer (only its requests on the
    line): the master is named, no pack answered, exit 2, nothing written."""
    res = []
    pair = Pair("bus-requests")
    line = busmaster.Master(pair.near, lambda: busmaster.requests_only(busmaster.jkpb_round({1, 2, 3}, own=False)))
    try:
        rc, out, err, secs = detect(pair.far)
        res.append((rc == 2 and sections(out) == {} and "a JK-PB master that asks 1..15" in err and
                    "no pack answered" in err,
                    "a master's requests only: named, no pack answered (exit %d, %.1f s)" % (rc, secs)))
    finally:
        line.stop()
        pair.stop()
    res.append((line.got == b"", "a master's requests only: nothing written to its line (%d bytes)" % len(line.got)))
    return res


class Responder(Line):
    """This test's end of a pair as a recorded BMS: a request seen whole
    (a key of `answers`) is answered with its recorded answer."""

    def __init__(self, path, answers):
        self.answers, self.pending = answers, b""
        super().__init__(path)

    def run(self):
        import select
        while self.run_:
            r, _, _ = select.select([self.fd], [], [], 0.01)
            if not r:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.01)
                continue
            self.got += chunk
            self.pending += chunk
            for req, ans in self.answers.items():
                if self.pending.endswith(req):
                    os.write(self.fd, ans)
                    self.pending = b""


# the lifepower rows of tests/fixtures/vectors.tsv: LP-REQ-01 -> LP-01
LP_REQ_01 = bytes.fromhex("7e010100fe0d")
LP_01 = bytes.fromhex(
    "7e01015801100cf30cf40cf30cf30cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf4020175300301229c04012710"
    "050600410041004000408042204206050000000000000000000007010001080114b9090127100a0100003c0d")


def capture_case():
    """A recorded EG4 LifePower (LP-01 of the fixtures) answers its probe:
    found as lifepower, 16 cells, 53.05 V, with reads only."""
    res = []
    pair = Pair("lp-capture")
    line = Responder(pair.near, {LP_REQ_01: LP_01})
    try:
        rc, out, err, secs = detect(pair.far, "--baud", "9600")
        sec = sections(out)
        res.append((rc == 0 and [v.get("protocol") for v in sec.values()] == ["lifepower"],
                    "the LP-01 capture: found as lifepower (exit %d, %s, %.1f s)" % (rc, sorted(sec), secs)))
        res.append(("16 cells" in err, "the LP-01 capture: its 16 cells are said"))
    finally:
        line.stop()
        pair.stop()
    ok, summary = reads_only(line.got)
    res.append((ok and LP_REQ_01 in line.got, "the LP-01 capture: only reads were sent: %s" % summary))
    return res


def noise_case():
    """Random bytes now and then: noise, reported; the probing goes on."""
    import random
    rnd = random.Random(7)
    res = []
    pair = Pair("noise")
    line = Line(pair.near, lambda: bytes(rnd.getrandbits(8) for _ in range(16)), 0.4)
    try:
        rc, out, err, secs = detect(pair.far)
        res.append((rc == 1 and "noise" in err and "probing" in err,
                    "noise on the line: said, and probed anyway (exit %d, %.1f s)" % (rc, secs)))
    finally:
        line.stop()
        pair.stop()
    ok, summary = reads_only(line.got)
    res.append((ok and len(line.got) > 100, "noise: what was sent is read requests only: %s" % summary))
    return res


def silent_case():
    """Nothing answers: exit 1, a plan within the 15 s budget, only reads sent."""
    res = []
    pair = Pair("silent")
    line = Line(pair.near)
    try:
        rc, out, err, secs = detect(pair.far)
        res.append((rc == 1 and sections(out) == {} and "nothing answered" in err,
                    "a silent port: exit %d, nothing found" % rc))
        # the budget is the plan's, as the detector states it (listening
        # windows + its probes' computed cost); the wall time a loaded
        # machine adds is make bench's figure, printed here only
        listened = sum(float(x) for x in re.findall(r"^  \d+ baud, ([\d.]+) s: quiet$", err, re.M))
        m = re.search(r"probing with read-only requests: (\d+) probes, about ([\d.]+) s more when nothing answers",
                      err)
        res.append((m is not None and int(m.group(1)) >= 20, "the plan is said (%s)" % (m and m.group(0))))
        res.append((m is not None and listened > 0 and listened + float(m.group(2)) <= 15.0,
                    "a silent port: the plan gives up within 15 s (%.1f s listening + %s s of probes; took %.1f s)"
                    % (listened, m and m.group(2), secs)))
    finally:
        line.stop()
        pair.stop()
    ok, summary = reads_only(line.got)
    res.append((ok, "a silent port: only read requests were sent: %s" % summary))
    return res


def verbose_case():
    """-v: every request and answer in hex."""
    res = []
    sim = Sim("jbd", "jbd-verbose")
    try:
        rc, out, err, secs, _ = detect_tries(sim.path, "-v", "--baud", "9600", found=lambda rc, out: rc == 0)
        res.append((rc == 0 and "-> DD A5 03 00 FF FD 77" in err and re.search(r"<- DD 03 00", err) is not None,
                    "-v: the request and the answer in hex (exit %d)" % rc))
    finally:
        sim.stop()
    return res


def tcp_case():
    res = []
    sim = Sim("seplos", "seplos-tcp", tcp=True)
    try:
        rc, out, err, secs, _ = detect_tries(sim.path, found=lambda rc, out: rc == 0)
        sec = sections(out).get("seplos", {})
        res.append((rc == 0 and sec.get("port") == sim.path and "baud" not in sec,
                    "a TCP serial server: found, port %s, no baud (%.1f s)" % (sec.get("port"), secs)))
        res.append(("the server's rate, 1.2 s" in err and err.count("baud, 1.2 s") == 0,
                    "a TCP serial server: listened to once, at its own rate"))
        ok, why = check_accepts(out)
        res.append((ok, "a TCP serial server: --check accepts the section %s" % why))
        data, _ = sim.received()
        ok, summary = reads_only(data)
        res.append((ok, "a TCP serial server: only reads: %s" % summary))
    finally:
        sim.stop()
    return res


def held_by_test_case():
    res = []
    sim = Sim("daly", "daly-held")
    fd = os.open(sim.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        rc, out, err, secs = detect(sim.path)
        res.append((rc == 2 and "pid %d" % os.getpid() in err and "held by" in err,
                    "a port this test holds open: refused, the holder named (exit %d: %s)" %
                    (rc, err.strip().splitlines()[0] if err.strip() else "")))
        data, _ = sim.received()
        res.append((data == b"", "a held port: nothing written to it"))
    finally:
        os.close(fd)
        sim.stop()
    return res


def held_by_daemon_case():
    res = []
    sim = Sim("daly", "daly-daemon")
    port = free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[pack.p]\nprotocol = daly\nport = %s\n"
                 "poll_interval = 0.5\n" % (port, sim.path), port)
    try:
        wait_until(lambda: json.loads(sim.ctl("stats"))["requests"] > 0, 10)
        sim.ctl("rxlog reset")
        rc, out, err, secs = detect(sim.path)
        res.append((rc == 2 and "held by bmsgw (pid %d)" % gw.p.pid in err,
                    "a port a running bmsgw daemon holds: refused, bmsgw and its pid named (exit %d)" % rc))
        data, _ = sim.received()
        ok, summary = reads_only(data)
        res.append((ok and b"\x0a\x01\x02" not in data and b"\x4e\x57" not in data,
                    "the daemon's port got only the daemon's own Daly reads: %s" % summary))
        res.append((gw.p.poll() is None, "the daemon runs on"))
        res += exclusive_checks(sim.path)
    finally:
        gw.stop()
        sim.stop()
    return res


def exclusive_checks(path):
    """The daemon opened its port exclusively: TIOCEXCL set (a second open
    is refused with EBUSY, except to root, which can still ask the flag:
    TIOCGEXCL) and its flock() held."""
    import errno
    import fcntl
    import struct
    res = []
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as e:
        return [(e.errno == errno.EBUSY, "a second open of the daemon's port: refused (%s)" % e)]
    try:
        try:
            excl = struct.unpack("i", fcntl.ioctl(fd, 0x80045440, b"\0\0\0\0"))[0]  # TIOCGEXCL
            res.append((excl == 1, "the daemon's port is in exclusive mode (TIOCGEXCL %d; opened as root)" % excl))
        except OSError as e:
            res.append((True, "TIOCGEXCL unsupported here (%s): not checked" % e))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            res.append((False, "the daemon's port: its flock() is not held"))
        except OSError as e:
            res.append((e.errno in (errno.EWOULDBLOCK, errno.EAGAIN), "the daemon's port: flock() held (%s)" % e))
    finally:
        os.close(fd)
    return res


def lock_file_case():
    res = []
    lockdir = "/run/lock" if os.access("/run/lock", os.W_OK) else None
    if not lockdir:
        return [(True, "a UUCP lock file: skipped (/run/lock is not writable)")]
    sim = Sim("daly", "daly-lock")
    dev = os.path.realpath(sim.path)
    lock = os.path.join(lockdir, "LCK.." + dev[len("/dev/"):].replace("/", "_"))
    # the lock's owner has the port open: refused, the owner named
    fd = os.open(sim.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    owner = spawn(["sleep", "60"], stdin=fd)
    os.close(fd)
    # issue 36: a live process without the port (the lock's pid reused)
    reused = spawn(["sleep", "60"])
    try:
        with open(lock, "w") as f:
            f.write("%10d\n" % owner.pid)
        rc, out, err, secs = detect(sim.path)
        res.append((rc == 2 and "pid %d" % owner.pid in err and "held by" in err,
                    "a live UUCP lock file whose owner has the port open: refused, its owner named (exit %d)" % rc))
        owner.kill()
        owner.wait()
        with open(lock, "w") as f:
            f.write("%10d\n" % reused.pid)
        rc, out, err, secs, _ = detect_tries(sim.path, "--baud", "9600", found=lambda rc, out: rc == 0)
        res.append((rc == 0 and "held by" not in err,
                    "a lock file naming a live process without the port (a reused pid) is no holder (exit %d)" % rc))
        os.unlink(lock)
        with open(lock, "w") as f:
            f.write("%10d\n" % 999999999)
        rc, out, err, secs, _ = detect_tries(sim.path, "--baud", "9600", found=lambda rc, out: rc == 0)
        res.append((rc == 0, "a stale lock file (its process gone) is no holder (exit %d)" % rc))
    finally:
        if os.path.exists(lock):
            os.unlink(lock)
        for p in (owner, reused):
            if p.poll() is None:
                p.kill()
                p.wait()
        sim.stop()
    return res


def socat_pty_case():
    """Issue 36: a port made by `socat pty,link=... tcp:...` (a TCP serial
    server reached as a device): socat holds the pty's master and its
    slave, it is the port's own far end, no competitor; the pack behind it
    is found."""
    res = []
    sim = Sim("daly", "daly-socat", tcp=True)
    link = os.path.join(TMP, "ttyBMS-socat")
    port = sim.path[len("tcp://"):]
    sc = spawn(["socat", "pty,link=%s,raw,echo=0" % link, "tcp:%s" % port],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_file(link):
            return [(False, "socat did not make " + link)]
        rc, out, err, secs, _ = detect_tries(link, "--baud", "9600", found=lambda rc, out: rc == 0)
        sec = sections(out)
        res.append((rc == 0 and "held by" not in err and [v.get("protocol") for v in sec.values()] == ["daly"],
                    "a socat pty to a TCP serial server: not refused, the pack found (exit %d, %s, %.1f s)" %
                    (rc, sorted(sec), secs)))
        data, _ = sim.received()
        ok, summary = reads_only(data)
        res.append((ok, "a socat pty: only reads sent: %s" % summary))
    finally:
        if sc.poll() is None:
            sc.terminate()
            sc.wait(5)
        sim.stop()
    return res


def exit_code_cases():
    res = []
    plain = os.path.join(TMP, "plain-file")
    open(plain, "w").close()
    for args, want, text, what in (
            (["--detect", "/nonexistent/ttyUSB9"], 2, "cannot use", "a port that does not exist"),
            (["--detect", plain], 2, "not a serial device", "a plain file"),
            (["--detect", "ble://AA:BB:CC:DD:EE:FF"], 2, "--ble-scan", "a Bluetooth device"),
            (["--detect", "tcp://127.0.0.1:1"], 2, "cannot open", "a TCP serial server that is not there"),
            (["--detect", "/dev/ttyS0", "--baud", "12345"], 2, "not a standard rate", "--baud 12345"),
            (["--detect", "/dev/ttyS0", "--address", "5", "--scan-addresses"], 2, "exclude", "--address with a sweep"),
            (["--detect", "/dev/ttyS0", "--address", "300"], 2, "0..255", "--address 300"),
            (["--all"], 2, "go with --detect", "--all without --detect"),
            (["--detect", "relative/path"], 2, "absolute", "a relative path")):
        r = subprocess.run([BMSGW] + args, capture_output=True, text=True, timeout=30)
        res.append((r.returncode == want and text in r.stderr and r.stdout == "",
                    "exit %d for %s (got %d: %s)" % (want, what, r.returncode, r.stderr.strip().splitlines()[-1:])))
    r = subprocess.run([BMSGW, "--help"], capture_output=True, text=True)
    res.append(("--detect PORT" in r.stdout and "--scan-addresses" in r.stdout, "--help documents --detect"))
    return res


def wired_protocols():
    """The protocols of `bmsgw --help` whose packs --check takes on a serial port."""
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


def main():
    if not shutil.which("socat"):
        print("FAIL socat is missing")
        return 1
    c.eq(sorted(wired_protocols()), sorted(DEFAULTS),
         "every protocol spoken on a serial port has its cases here (DEFAULTS, unusual())")
    protos = list(DEFAULTS)
    jobs = [(lambda p=p: usual_case(p)) for p in protos] + [(lambda p=p: unusual_case(p)) for p in protos]
    jobs += [sweep_case, all_case, meter_case, echo_case, late_echo_case, lambda: echo_bms_case("daly"),
             lambda: echo_bms_case("eg4-ll"), lambda: echo_bms_case("lifepower"), capture_case,
             lambda: slow_line_case("eg4-ll"), lambda: slow_line_case("pace-modbus", tcp=True),
             lambda: master_case("modbus"),
             lambda: master_case("paceic"), late_master_case, lambda: bus_master_case("jk-pb"),
             lambda: bus_master_case("jk-pb", garbage=True), lambda: bus_master_case("seplos3"),
             lambda: bus_master_case("seplos3", garbage=True), bus_requests_case, noise_case, silent_case, verbose_case, tcp_case, held_by_test_case,
             held_by_daemon_case, lock_file_case, socat_pty_case, exit_code_cases,
             all_from_case, lambda: other_address_case("pace", ["address=1"], 1, False, "adr1"),
             lambda: other_address_case("pace", ["address=0,reply_adr=1"], None, True, "from1"),
             lambda: other_address_case("seplos3", ["address=1"], 1, False, "adr1"),
             lambda: other_address_case("seplos3", ["address=0,reply_adr=1"], None, True, "from1"),
             # issue 44: an ANT board that answers only DB DB 00 00 00 00 (dbus-serialbattery's request)
             lambda: bms_case("ant", packs=["dialect=dbdb"], label="dbdb"),
             lambda: bms_case("ant", baud=9600, packs=["dialect=dbdb"], want_baud=9600, label="dbdb-9600")]
    # the slow ones first, so that the pool ends together
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
        futures = [ex.submit(logged, j) for j in jobs]
        for f in futures:
            try:
                res, runs = f.result()
                for ok, text in res:
                    c.ok(ok, text)
                    if not ok:  # every failed check says what the detector said
                        print("\n".join("    " + line for run in runs for line in run.splitlines()))
            except Exception as e:  # noqa: BLE001 - a case that broke is a failure, with its reason
                c.ok(False, "a case raised %r" % e)
    print("(%d cases, %.0f s, %d at a time)" % (len(jobs), time.monotonic() - t0, PARALLEL))
    return c.report()


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        kill_all()
        shutil.rmtree(TMP, True)
    sys.exit(rc)
