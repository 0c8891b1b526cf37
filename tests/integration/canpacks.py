# SPDX-License-Identifier: MIT
"""A CAN pack of bmsgw's fed over slcan on a pty pair, for the tests that
read a CAN family (test_caninputs, test_rvc_ubms): the configuration, the
pack's /api/state, a watcher of every value it shows online, and a bus
played with python-can."""
import threading
import time

from harness import api_state

STALE = 8


def pack(http):
    return (api_state(http).get("packs") or [None])[0] or {}


def conf(protocol, gw_port, http_port, path, extra=""):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = %d
state_file = none
[pack.bat]
protocol = %s
port = slcan://%s
poll_interval = 0.5
%s[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gw_port, STALE, protocol, path, extra, http_port)


def online_values(http, keys):
    p = pack(http)
    return tuple(p.get(k) for k in keys) if p.get("online") else None


class Watch:
    """Every value of /api/state the pack shows while online, polled by a
    thread: a broken frame must never show."""

    def __init__(self, http, keys):
        self.http, self.keys = http, keys
        self.seen = set()
        self.running = True
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while self.running:
            v = online_values(self.http, self.keys)
            if v is not None:
                self.seen.add(v)
            time.sleep(0.1)

    def stop(self):
        self.running = False
        self.t.join(2)
        return self.seen


class Player:
    """A bus played with python-can on the test's end of a pty pair: the
    frames every 0.2 s; every frame the other end (bmsgw) writes is counted."""

    def __init__(self, path, bitrate):
        from can.interfaces.slcan import slcanBus  # the test says when python3-can is missing
        self.bus = slcanBus(path, bitrate=bitrate, sleep_after_open=0)
        self.lock = threading.Lock()
        self.frames = []
        self.heard = 0
        self.running = True
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def play(self, frames):
        with self.lock:
            self.frames = list(frames)

    def run(self):
        from can import Message
        due = time.monotonic()
        while self.running:
            if time.monotonic() >= due:
                due += 0.2
                with self.lock:
                    fr = list(self.frames)
                for i, ext, d in fr:
                    self.bus.send(Message(arbitration_id=i, data=d, is_extended_id=ext))
            try:
                m = self.bus.recv(0.05)
            except Exception:  # noqa: BLE001 - the pty closed at the end
                return
            if m is not None:
                self.heard += 1

    def close(self):
        self.running = False
        self.t.join(2)
        self.bus.shutdown()
