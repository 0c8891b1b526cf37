# SPDX-License-Identifier: MIT
"""python-can's slcan interface on the test's end of a pty pair, reading (and
writing) a CAN bus of bmsgw's: every frame kept with the time it arrived.
The tests that read an inverter output or feed a CAN pack share it; each
adds how it groups the frames (a set from its 0x351, the newest whole set)."""
import threading
import time


class CanReader:
    def __init__(self, path):
        from can.interfaces.slcan import slcanBus  # the test says when python3-can is missing
        self.bus = slcanBus(path, bitrate=500000, sleep_after_open=0)
        self.frames = []
        self.lock = threading.Lock()
        self.running = True
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while self.running:
            try:
                m = self.bus.recv(0.1)
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
