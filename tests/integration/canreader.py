# SPDX-License-Identifier: MIT
"""python-can's slcan interface on the test's end of a pty pair, reading (and
writing) a CAN bus of bmsgw's: every frame kept with the time it arrived.
The tests that read an inverter output or feed a CAN pack share it; each
adds how it groups the frames (a set from its 0x351, the newest whole set).
An inverter that asks on its own defines poll() and sets `period` (s)."""
import threading
import time


class CanReader:
    RECV_S = 0.1  # how long a read waits; an inverter that polls wants it short

    def __init__(self, path):
        from can.interfaces.slcan import slcanBus  # the test says when python3-can is missing
        self.bus = slcanBus(path, bitrate=500000, sleep_after_open=0)
        self.frames = []
        self.lock = threading.Lock()
        self.running = True
        self.period = None
        self.polls = 0
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def poll(self):
        """What the other end sends every `period` s (nothing here)."""

    def run(self):
        next_poll = time.monotonic()
        while self.running:
            if self.period and time.monotonic() >= next_poll:
                self.poll()
                next_poll = time.monotonic() + self.period
            try:
                m = self.bus.recv(self.RECV_S)
            except Exception:  # noqa: BLE001 - the pty closed at the end
                return
            if m is not None:
                with self.lock:
                    self.frames.append((time.monotonic(), m))

    def since(self, t0):
        """[(time, message)] of the frames that arrived at or after t0."""
        with self.lock:
            return [(t, m) for t, m in self.frames if t >= t0]

    def send(self, arb, data, ext=False):
        import can
        self.bus.send(can.Message(arbitration_id=arb, data=bytes(data), is_extended_id=ext))

    def close(self):
        self.running = False
        self.t.join(2)
        self.bus.shutdown()
