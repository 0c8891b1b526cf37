# SPDX-License-Identifier: MIT
"""Small harness for the integration tests: processes, ports, checks.

Starts the real bmsgw binary and the bundled simulator, waits for their ports
to accept (never sleeps for luck), and counts checks; the test prints the
line "N passed, N failed" at the end.
"""
import atexit
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN = os.environ.get("BIN", "build")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every temporary file of a test process (its children's logs, its
# configurations, traces, certificates, sockets) in one directory, removed
# when the process ends with every check passed, kept (and said) when a
# check failed or the script ended without its report: a run leaves
# nothing behind in /tmp.  Registered first, so it runs after _stop_all.
# A Python child of a test that imports this harness (a stuck broker) uses
# its parent's directory.
SYSTEM_TMP = tempfile.gettempdir()  # the machine's: what the tests share (port blocks, locks)
_OWN_DIR = "BMSGW_TEST_DIR" not in os.environ
RUN_DIR = tempfile.mkdtemp(prefix="bmsgw-test-") if _OWN_DIR else os.environ["BMSGW_TEST_DIR"]
if _OWN_DIR:  # passable for servers that drop root (mosquitto): they still open only what is theirs
    os.chmod(RUN_DIR, 0o711)
os.environ["BMSGW_TEST_DIR"] = RUN_DIR
tempfile.tempdir = RUN_DIR
_SYSTEM_TMPDIR = os.environ.get("TMPDIR")
os.environ["TMPDIR"] = RUN_DIR  # the children's too (the fakes, Chromium, socat)
_reports = []


def system_env():
    """The environment with the machine's TMPDIR, for a child whose
    temporary files are the machine's (podman's image layers, a lock)."""
    env = dict(os.environ)
    env.pop("TMPDIR")
    if _SYSTEM_TMPDIR is not None:
        env["TMPDIR"] = _SYSTEM_TMPDIR
    return env


def _clean_run_dir():
    if not _OWN_DIR:
        return
    if _reports and not any(_reports):
        shutil.rmtree(RUN_DIR, True)
    else:
        print("the test's files are kept in %s" % RUN_DIR, flush=True)


atexit.register(_clean_run_dir)

# The automatic place of the gateway's files (no [gateway] state_file, no
# [history] file): a directory of this test run, never the machine's
# /var/lib/bmsgw, which bmsgw makes when it runs as root (test_statedir.py
# tests that in a mount namespace of its own).
STATE_DIR = tempfile.mkdtemp(prefix="bmsgw-state-")
os.environ.setdefault("STATE_DIRECTORY", STATE_DIR)


# PART=i/n: tests/run.sh runs a script marked "# run.sh: parts=n" as n steps,
# each with its share of the script's pieces of work (my_part)
_PART = [int(x) for x in os.environ.get("PART", "1/1").split("/")]
_pieces = [0]


def my_part():
    """Whether the next piece of work is this process's.  A script asks once
    per piece, in the same order whatever happens (never skipping a call on a
    result), and the pieces are dealt out in turn: with PART=i/n the i-th,
    the (i+n)-th ... are part i's; without PART all are."""
    k, n = _PART
    _pieces[0] += 1
    return (_pieces[0] - 1) % n == k - 1


def first_part():
    """The part that also runs a script's checks done once (all without PART)."""
    return _PART[0] == 1


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
            print("ok   " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL " + what, flush=True)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, "%s (got %r, want %r)" % (what, got, want))

    def near(self, got, want, eps, what):
        good = got is not None and want is not None and abs(got - want) <= eps
        return self.ok(good, "%s (got %r, want %r +- %g)" % (what, got, want, eps))

    def report(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        _reports.append(self.failed)
        return 1 if self.failed else 0


# Ports for servers a test starts: never from the kernel's ephemeral range
# (any client connection of a test running beside it may take such a port
# between the choice and the bind), but from a block of PORT_BLOCK ports this
# process holds, by an flock on a file of PORT_DIR for as long as it runs
# (released when it exits, even killed), so that the steps that tests/run.sh
# runs side by side never choose the same port.
PORT_DIR = os.path.join(SYSTEM_TMP, "bmsgw-test-ports")
PORT_LOW, PORT_HIGH, PORT_BLOCK = 10000, 32000, 100
_port_block = {"fds": [], "next": 0, "end": 0}


def _take_block():
    import fcntl
    os.makedirs(PORT_DIR, exist_ok=True)
    for b in range((PORT_HIGH - PORT_LOW) // PORT_BLOCK):
        fd = os.open(os.path.join(PORT_DIR, "%d.lock" % b), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _port_block["fds"].append(fd)
        _port_block["next"], _port_block["end"] = PORT_LOW + b * PORT_BLOCK, PORT_LOW + (b + 1) * PORT_BLOCK
        return
    raise RuntimeError("no free block of test ports in %s" % PORT_DIR)


def free_port():
    """A port of 127.0.0.1 nothing listens on, from this process's block."""
    while True:
        if _port_block["next"] >= _port_block["end"]:
            _take_block()
        port = _port_block["next"]
        _port_block["next"] += 1
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue  # something outside the tests holds it
        finally:
            s.close()


def wait_port(port, timeout=10.0, host="127.0.0.1"):
    """Wait until something accepts on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def own_address():
    """An address of this host that is not loopback (the one its route to
    the world leaves from; no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("198.51.100.1", 9))
            a = s.getsockname()[0]
            return None if a.startswith("127.") else a
    except OSError:
        return None


def listener(port, on_conn):
    """Listen on 127.0.0.1:port; call on_conn(socket) for every connection,
    in a thread.  Returns the listening socket (close it to stop)."""
    import threading
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)

    def run():
        while True:
            try:
                s, _ = ls.accept()
            except OSError:
                return
            on_conn(s)
    threading.Thread(target=run, daemon=True).start()
    return ls


def api_state(port):
    """The daemon's /api/state, or {} while its page's server is not up yet
    (the daemon listens for Modbus first)."""
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/state" % port, timeout=5) as r:
            return json.loads(r.read().decode())
    except OSError:
        return {}


def inverter_output(port, name):
    """The inverter output `name` of /api/state, or None."""
    for o in api_state(port).get("inverters") or []:
        if o["name"] == name:
            return o
    return None


def frames_sent(port, *names):
    """The frames_sent count of inverter output `names[0]` (None when it is
    not there), or a tuple of them for several names."""
    n = tuple((inverter_output(port, name) or {}).get("frames_sent") for name in names)
    return n[0] if len(n) == 1 else n


def crc16_modbus(b):
    """CRC-16/MODBUS of bytes b (sent low byte first)."""
    c = 0xFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return c


def wait_until(pred, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def wait_file(path, timeout=10.0):
    return wait_until(lambda: os.path.exists(path), timeout)


_procs = []


def _stop_all():
    """At exit, even after an exception: no simulator or gateway outlives its test."""
    for pr in list(_procs):
        try:
            if pr.p.poll() is None:
                pr.p.kill()
                pr.p.wait(5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_stop_all)


class Proc:
    """A child process whose output goes to a log file."""

    def __init__(self, args, name, env=None):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix="bmsgw-%s-" % name, suffix=".log", delete=False)
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        _procs.append(self)

    def text(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        # 20 s: an ASan build's exit (LeakSanitizer's scan) on a machine
        # loaded by other steps took over 5 s; a healthy one exits at once
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode

    def dump(self, lines=30):
        t = self.text().splitlines()
        print("---- %s log (last %d lines) ----" % (self.name, lines))
        for l in t[-lines:]:
            print("   " + l)


class Sim(Proc):
    """The bundled BMS simulator, with its control port."""

    def __init__(self, protocol="daly", tcp=True, pty_path=None, packs=("address=1",), extra=()):
        self.port = free_port() if tcp else None
        self.ctl_port = free_port()
        args = [os.path.join(ROOT, BIN, "bmsgw-sim"), "--protocol", protocol,
                "--control", "127.0.0.1:%d" % self.ctl_port, "--static"]
        if tcp:
            args += ["--tcp", "127.0.0.1:%d" % self.port]
        else:
            args += ["--pty", pty_path]
        for spec in packs:
            args += ["--pack", spec]
        args += list(extra)
        super().__init__(args, "sim")
        if not wait_port(self.ctl_port):
            self.dump()
            raise RuntimeError("simulator did not start")
        if tcp and not wait_port(self.port):
            raise RuntimeError("simulator TCP port did not open")
        if pty_path and not wait_file(pty_path):
            raise RuntimeError("simulator pty did not appear")

    def ctl(self, cmd):
        return control_line(self.ctl_port, cmd)

    def state(self):
        return json.loads(self.ctl("state"))


def control_line(port, cmd, timeout=5.0):
    """One command to a line-oriented control port (the simulator's, the
    fake Bluetooth stacks'): its one-line answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall((cmd + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return buf.decode().strip()


def write_conf(text):
    f = tempfile.NamedTemporaryFile("w", prefix="bmsgw-", suffix=".ini", delete=False)
    f.write(text)
    f.close()
    return f.name


def http_port_of(conf_text):
    """The port of [http] listen in a configuration, or None."""
    import re
    m = re.search(r"^\[http\][^\[]*?^listen\s*=\s*\S*:(\d+)\s*$", conf_text, re.M | re.S)
    return int(m.group(1)) if m else None


class Gateway(Proc):
    def __init__(self, conf_text, port, extra=(), exe=None):
        self.conf = write_conf(conf_text)
        self.port = port
        super().__init__([exe or os.path.join(ROOT, BIN, "bmsgw"), "-c", self.conf] + list(extra), "bmsgw")
        if not wait_port(port):
            self.dump()
            raise RuntimeError("bmsgw did not start listening")
        # the Modbus socket accepts before the daemon's loop runs: the
        # status page's server may start a moment later
        http = http_port_of(conf_text)
        if http and not wait_port(http):
            self.dump()
            raise RuntimeError("bmsgw's status page did not start listening")


def raise_priority(pid):
    """Real-time priority (SCHED_FIFO) for a process whose timing a test
    measures, else nice -20, else nothing; says which."""
    try:
        os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(20))
        return "SCHED_FIFO"
    except (OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, pid, -20)
        return "nice -20"
    except OSError:
        return "normal priority"


def restore_priority(pid, how):
    """Undo raise_priority(pid), which said `how`."""
    try:
        if how == "SCHED_FIFO":
            os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
        elif how == "nice -20":
            os.setpriority(os.PRIO_PROCESS, pid, 0)
    except OSError:
        pass


def pty_pair(tmp, name):
    """Two linked ptys made by socat (raw, no echo): (one end, the other),
    as links named tmp/NAME-gw and tmp/NAME-test; socat ends with the test."""
    a, b = os.path.join(tmp, name + "-gw"), os.path.join(tmp, name + "-test")
    Proc(["socat", "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b], "socat-" + name)
    if not (wait_file(a) and wait_file(b)):
        raise RuntimeError("socat did not make the pty pair " + name)
    return a, b


# Test certificates, made with openssl in `tmp` (P-256, 30 days).
SERVER_EXT = "subjectAltName = IP:127.0.0.1"
ROLE_EXT = "1.3.6.1.4.1.50316.802.1 = ASN1:UTF8String:%s"


def _openssl(tmp, *args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=tmp)


def make_ca(tmp, ca, leaves):
    """A CA `ca` (ca.pem, ca.key) and the certificates it signs: leaves is
    [(name, extension line)], each name.pem and name.key (mode 0600)."""
    _openssl(tmp, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
             "-subj", "/CN=%s CA" % ca, "-keyout", ca + ".key", "-out", ca + ".pem")
    for serial, (name, ext) in enumerate(leaves, 1):
        with open(os.path.join(tmp, name + ".ext"), "w") as f:
            f.write("basicConstraints = CA:FALSE\n%s\n" % ext)
        _openssl(tmp, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
                 "-keyout", name + ".key", "-out", name + ".csr")
        _openssl(tmp, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                 "-set_serial", str(serial), "-days", "30", "-extfile", name + ".ext", "-out", name + ".pem")
        os.chmod(os.path.join(tmp, name + ".key"), 0o600)


def self_signed(tmp, name="http"):
    """A self-signed certificate for 127.0.0.1: (name.pem, name.key)."""
    key, pem = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
    _openssl(tmp, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
             "-subj", "/CN=127.0.0.1", "-addext", SERVER_EXT, "-keyout", key, "-out", pem)
    os.chmod(key, 0o600)
    return pem, key


# the iterations of `bmsgw --hash-password` (gateway/web/users.h) and the
# fewest a users file's line may have
HASH_ROUNDS = 600000
FEWEST_ROUNDS = 1000


def user_line(name, role, pw, rounds=FEWEST_ROUNDS):
    """A users file's line NAME:ROLE:$pbkdf2-sha256$ROUNDS$SALT$HASH, made
    with Python's PBKDF2 (hashlib): the format's fewest rounds for a test
    whose subject is not the hashing (a check at --hash-password's 600,000
    takes 1.4 s of CPU in the sanitized bmsgw), --hash-password's where the
    time a check takes is part of what a test sets up (HASH_ROUNDS: 0.4 s
    here, against 1.5 s for `bmsgw --hash-password` in the sanitized build);
    the lines --hash-password writes are checked where it is the subject."""
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, rounds, 32)
    return "%s:%s:$pbkdf2-sha256$%d$%s$%s\n" % (name, role, rounds, base64.b64encode(salt).decode(),
                                                base64.b64encode(dk).decode())


def mbap_request(tid, unit, pdu):
    return bytes([tid >> 8, tid & 255, 0, 0, (len(pdu) + 1) >> 8, (len(pdu) + 1) & 255, unit]) + pdu


def raw_request(port, adu, timeout=2.0):
    """Send one raw ADU, return (response bytes, seconds)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        t0 = time.monotonic()
        s.sendall(adu)
        resp = recv_adu(s)
        return resp, time.monotonic() - t0


def recv_adu(s):
    buf = b""
    while len(buf) < 6 or len(buf) < 6 + ((buf[4] << 8) | buf[5]):
        chunk = s.recv(1024)
        if not chunk:
            break
        buf += chunk
    return buf


def mbread(port, unit, addr, count):
    out = subprocess.run([os.path.join(ROOT, BIN, "mbread"), "127.0.0.1", str(port), str(unit),
                          str(addr), str(count)], capture_output=True, text=True, timeout=10)
    return out.stdout.strip()


def wire_protocol(proto):
    """True if proto is spoken over a wire (a tcp:// port is accepted); the
    Bluetooth-only protocols are run end to end by test_ble.py, the CAN ones
    (can_protocol()) over an slcan pty."""
    conf = write_conf("[gateway]\nstate_file = none\n[pack.p]\nprotocol = %s\nport = tcp://127.0.0.1:9\n" % proto)
    r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--check"], capture_output=True, text=True)
    os.unlink(conf)
    return "exists only over Bluetooth LE" not in r.stderr and "reads a CAN bus" not in r.stderr


def ble_case(proto):
    """Does test_ble.py run proto end to end: a case that names it, or its
    generic case (test_families: every protocol with a GATT layout none
    names, whose simulator responder gives the device its name,
    .ble_name in tests/sim/sim_<sym>.c)?"""
    with open(os.path.join(ROOT, "tests/integration/test_ble.py")) as f:
        if re.search(r'"%s"' % re.escape(proto), f.read()):
            return True
    path = os.path.join(ROOT, "tests/sim/sim_%s.c" % proto.replace("-", "_"))
    if not os.path.exists(path):
        return False
    with open(path) as f:
        return re.search(r'^\t\.ble_name = "', f.read(), re.M) is not None


def can_protocol(proto):
    """True if proto is read from a CAN bus (its port is can0 or slcan://):
    the simulator plays it as an slcan adapter on a pty."""
    conf = write_conf("[gateway]\nstate_file = none\n[pack.p]\nprotocol = %s\nport = slcan:///dev/null\n" % proto)
    r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--check"], capture_output=True, text=True)
    os.unlink(conf)
    return r.returncode == 0


def ha_float(regs, swap_word=True):
    """Decode two registers the way Home Assistant does for data_type float32
    (registers packed big-endian; `swap: word` reverses the word order)."""
    import struct
    r = list(regs)
    if swap_word:
        r.reverse()
    return struct.unpack(">f", struct.pack(">HH", *r))[0]


def s16(v):
    return v - 65536 if v >= 32768 else v
