#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsgw --capture, end to end (bmsgw(8) "CAPTURING A PORT"):

- listen only: a device talks on a socat pty pair; the capture records what
  it said, with times, and writes nothing at all to the line (the device's
  end reads every byte that comes back: none);
- --probe lifepower against the simulator: only the protocol's read request
  goes out (the simulator's own log of what it received, its MOSFET write
  count 0), the answers are recorded; the file is then played back by
  `bmsgw-sim --replay` and read by bmsgw's normal driver (--once): the
  values are the first simulator's;
- a listen-only capture of a device that talks by itself (the simulator as a
  VE.Direct SmartShunt) replayed onto a pty and read by bmsgw --once;
- the command line: --probe of a Bluetooth-only protocol, an unknown one,
  --seconds without --capture, --address without --probe: exit 2, nothing
  sent.

The capture file is read here by a parser of this test's own (the format of
gateway/detect/capfile.h), not by bmsgw's.  Needs socat."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, Sim, wait_file, write_conf  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-capture-")
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
SIMBIN = os.path.join(ROOT, BIN, "bmsgw-sim")

# the lifepower rows of tests/fixtures/vectors.tsv
LP_REQ_01 = bytes.fromhex("7e010100fe0d")
LP_01 = bytes.fromhex(
    "7e01015801100cf30cf40cf30cf30cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf4020175300301229c04012710"
    "050600410041004000408042204206050000000000000000000007010001080114b9090127100a0100003c0d")


def parse_capture(path):
    """(header dict, [(t, 'tx'|'rx', bytes)]) of a capture file, or raises."""
    head, recs, magic = {}, [], False
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not magic:
                if line.strip() != "bmsgw-capture 1":
                    raise ValueError("no magic: %r" % line)
                magic = True
                continue
            word = line.split()
            if word[0][0].isdigit():
                recs.append((float(word[0]), word[1], bytes(int(x, 16) for x in word[2:])))
            else:
                head[word[0]] = " ".join(word[1:])
    if not magic:
        raise ValueError("empty")
    return head, recs


def pty_pair(name):
    """socat PTY (this test's end) <-> PTY (bmsgw's end, made with
    wait-slave: socat does not hold it, so that --capture takes it)."""
    near, far = os.path.join(TMP, name + "-test"), os.path.join(TMP, name + "-gw")
    Proc(["socat", "PTY,link=%s,raw,echo=0" % near, "PTY,link=%s,raw,echo=0,wait-slave,pty-interval=0.01" % far], "socat-" + name)
    if not (wait_file(near) and wait_file(far)):
        raise RuntimeError("socat did not make the pty pair " + name)
    return far, near


def capture(port, *args, timeout=60):
    t0 = time.monotonic()
    r = subprocess.run([BMSGW, "--capture", port] + list(args), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


class Talker(threading.Thread):
    """This test's end of a pty pair: writes `what` every `every` s and keeps
    every byte the other end sends (there must be none)."""

    def __init__(self, path, what, every):
        super().__init__(daemon=True)
        import termios
        import tty
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.what, self.every, self.got, self.sent, self.run_ = what, every, b"", 0, True
        self.start()

    def run(self):
        import select
        last = 0
        while self.run_:
            now = time.monotonic()
            if now - last >= self.every:
                try:
                    os.write(self.fd, self.what)
                    self.sent += 1
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
        # what is still on its way from the other end
        import select
        while select.select([self.fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.got += chunk
        os.close(self.fd)


def listen_case():
    gw_end, test_end = pty_pair("listen")
    out = os.path.join(TMP, "listen.txt")
    talker = Talker(test_end, LP_01, 0.25)
    try:
        rc, _, err, secs = capture(gw_end, "--seconds", "2", "--output", out)
    finally:
        talker.stop()
    # it ends by itself (a capture that ran on is killed by capture()'s
    # timeout, a failure); how soon after 2 s is not a functional check
    c.ok(rc == 0 and secs >= 1.8, "listen only: exit %d after %.1f s (--seconds 2)" % (rc, secs))
    c.ok("listening only (nothing is sent)" in err, "listen only: says that nothing is sent")
    c.eq(talker.got, b"", "listen only: not one byte was written to the line")
    head, recs = parse_capture(out)
    c.eq((head.get("mode"), head.get("baud"), head.get("port")), ("listen", "9600", gw_end),
         "listen only: the header names the mode, the rate and the port")
    heard = b"".join(b for _, d, b in recs if d == "rx")
    c.ok(all(d == "rx" for _, d, _ in recs), "listen only: every record is heard (rx), none sent")
    c.ok(heard.count(LP_01) >= 4,
         "listen only: the device's frames are in it whole (%d of them)" % heard.count(LP_01))
    times = [t for t, _, _ in recs]
    c.ok(times == sorted(times) and times and 0 <= times[0] <= 2.5 and times[-1] <= 2.5,
         "listen only: times from the start, in order, within the 2 s (%s .. %s)" %
         (times[:1], times[-1:]))


def probe_case():
    """--probe lifepower against the simulator, then replayed and read."""
    sim_path = os.path.join(TMP, "lp-sim")
    out = os.path.join(TMP, "probe.txt")
    sim = Sim("lifepower", tcp=False, pty_path=sim_path, packs=("address=1,soc=73,cells=15",),
              extra=("--unheld",))
    try:
        want = sim.state()["packs"][0]
        rc, _, err, secs = capture(sim_path, "--probe", "lifepower", "--seconds", "3.5", "--output", out)
        log = json.loads(sim.ctl("rxlog"))
        received = bytes.fromhex("".join(ch[2] for ch in log["chunks"]))
        stats = json.loads(sim.ctl("stats"))
    finally:
        sim.stop()
    c.ok(rc == 0, "--probe lifepower: exit %d (%.1f s)" % (rc, secs))
    c.ok(len(received) >= 18 and received == LP_REQ_01 * (len(received) // 6),
         "--probe lifepower: the simulator received only 7E 01 01 00 FE 0D, the 0x01 read (%d bytes)" %
         len(received))
    c.eq(stats["writes"], 0, "--probe lifepower: no MOSFET write reached the pack")
    head, recs = parse_capture(out)
    c.eq((head.get("mode"), head.get("protocol")), ("probe", "lifepower"), "--probe: the header names it")
    sent = [b for _, d, b in recs if d == "tx"]
    c.ok(len(sent) >= 3 and all(b == LP_REQ_01 for b in sent),
         "--probe: the tx records are the read request, once a second (%d)" % len(sent))
    c.eq(b"".join(sent), received, "--probe: the tx records are exactly what the line carried")
    heard = b"".join(b for _, d, b in recs if d == "rx")
    c.ok(heard.count(b"\x7e\x01\x01") >= len(sent) - 1 >= 2 and heard[3] + 6 <= len(heard),
         "--probe: the answers are recorded (%d bytes heard)" % len(heard))

    # played back by the simulator, read by bmsgw's lifepower driver
    rp_path = os.path.join(TMP, "lp-replay")
    rp = Proc([SIMBIN, "--replay", out, "--pty", rp_path], "replay")
    try:
        if not wait_file(rp_path):
            rp.dump()
            c.ok(False, "replay: the simulator's pty appeared")
            return
        conf = write_conf("[gateway]\nstate_file = none\n\n[pack.lp]\nprotocol = lifepower\nport = %s\n"
                          "address = 1\ntimeout = 1.0\nretries = 1\n" % rp_path)
        r = subprocess.run([BMSGW, "-c", conf, "--once"], capture_output=True, text=True, timeout=60)
    finally:
        rp.stop()
    js = json.loads(r.stdout.splitlines()[0]) if r.stdout.strip() else {}
    c.ok(r.returncode == 0 and js.get("ok") is True, "replay: bmsgw --once read the replayed pack (exit %d)" %
         r.returncode)
    c.eq(js.get("cells_mv"), want["cells_mv"], "replay: the cells are the first simulator's")
    c.ok(abs((js.get("voltage") or 0) - want["voltage"]) < 0.006 and abs((js.get("soc") or 0) - want["soc"]) < 0.006,
         "replay: voltage %s and SOC %s are the first simulator's (%s, %s)" %
         (js.get("voltage"), js.get("soc"), want["voltage"], want["soc"]))


def talker_case():
    """A listen-only capture of a device that talks by itself, replayed."""
    sim_path = os.path.join(TMP, "ved-sim")
    out = os.path.join(TMP, "ved.txt")
    sim = Sim("vedirect", tcp=False, pty_path=sim_path, packs=("soc=81",), extra=("--unheld",))
    try:
        want = sim.state()["packs"][0]
        rc, _, err, secs = capture(sim_path, "--baud", "19200", "--seconds", "3.5", "--output", out)
        stats = json.loads(sim.ctl("stats"))
    finally:
        sim.stop()
    c.ok(rc == 0 and stats["rx_bytes"] == 0, "VE.Direct listened to: exit %d, the device received %d bytes" %
         (rc, stats["rx_bytes"]))
    head, recs = parse_capture(out)
    c.ok(len(recs) >= 2 and head.get("baud") == "19200", "VE.Direct: %d records at 19200 baud" % len(recs))
    rp_path = os.path.join(TMP, "ved-replay")
    rp = Proc([SIMBIN, "--replay", out, "--pty", rp_path], "replay-ved")
    try:
        if not wait_file(rp_path):
            rp.dump()
            c.ok(False, "VE.Direct replay: the simulator's pty appeared")
            return
        conf = write_conf("[gateway]\nstate_file = none\n\n[pack.shunt]\nprotocol = vedirect\nport = %s\n"
                          "timeout = 5.0\n" % rp_path)
        r = subprocess.run([BMSGW, "-c", conf, "--once"], capture_output=True, text=True, timeout=60)
    finally:
        rp.stop()
    js = json.loads(r.stdout.splitlines()[0]) if r.stdout.strip() else {}
    c.ok(r.returncode == 0 and js.get("ok") is True and abs((js.get("voltage") or 0) - want["voltage"]) < 0.02 and
         abs((js.get("soc") or 0) - want["soc"]) < 0.11,
         "VE.Direct replay: read by bmsgw, voltage %s, SOC %s (the device's %s, %s)" %
         (js.get("voltage"), js.get("soc"), want["voltage"], want["soc"]))


def args_case():
    gw_end, test_end = pty_pair("args")
    talker = Talker(test_end, b"", 100)
    try:
        for args, what in ((["--probe", "litime"], "a Bluetooth-only protocol"),
                           (["--probe", "nosuch"], "an unknown protocol"),
                           (["--address", "2"], "--address without --probe")):
            rc, _, err, _ = capture(gw_end, "--seconds", "1", *args)
            c.ok(rc == 2 and err.strip(), "--capture %s (%s): exit %d, said why" % (" ".join(args), what, rc))
        r = subprocess.run([BMSGW, "--seconds", "3"], capture_output=True, text=True, timeout=30)
        c.ok(r.returncode == 2 and "--capture" in r.stderr, "--seconds without --capture: exit %d" % r.returncode)
    finally:
        talker.stop()
    c.eq(talker.got, b"", "the refused commands wrote nothing to the line")


def main():
    if not shutil.which("socat"):
        print("FAIL socat is missing")
        return 1
    for case in (listen_case, probe_case, talker_case, args_case):
        try:
            case()
        except Exception as e:  # noqa: BLE001 - a case that broke is a failure, with its reason
            c.ok(False, "%s raised %r" % (case.__name__, e))
    return c.report()


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(TMP, True)
    sys.exit(rc)
