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

    def silent(self, sent, seconds=2.5, period=0.0, ask=None):
        """A window of `seconds` where the output should be silent: (frames
        heard in it, the output's own count of frames written, sent(), at its
        start and end, the requests poll() made in it, its start).  What the
        output wrote before it went silent may still be on its way (the
        reader stamps a frame when it gets it, late on a loaded machine): the
        window starts once nothing came for longer than `period` and a second
        (10 s more at most; a reader that still hears frames then starts it
        anyway), with ask() if given (a request that must go unanswered)."""
        self.quiet(period + 1.0, 10)
        t0, n0, polls = time.monotonic(), sent(), self.polls
        if ask:
            ask()
        time.sleep(seconds)  # the window itself: what comes in it
        return len(self.since(t0)), (n0, sent()), self.polls - polls, t0

    def quiet(self, seconds, timeout):
        """Wait until no frame has come for `seconds` (timeout more at the
        most): what answers an earlier request is in, not taken for the
        next one's (on a loaded machine an answer comes late)."""
        end = time.monotonic() + timeout + seconds
        while self.since(time.monotonic() - seconds) and time.monotonic() < end:
            time.sleep(0.05)

    def send(self, arb, data, ext=False):
        import can
        self.bus.send(can.Message(arbitration_id=arb, data=bytes(data), is_extended_id=ext))

    def close(self):
        self.running = False
        self.t.join(2)
        self.bus.shutdown()
