# SPDX-License-Identifier: MIT
"""The fake ESPHome Bluetooth proxy (tests/ble/fake_esphome.py) as the
integration tests start it: test_esphome_fake.py (the fake against real
npm clients) and test_esphome.py (bmsgw through the fake)."""
import base64
import json
import os

from harness import ROOT, Proc, control_line, free_port, wait_port, wait_until, write_conf

PY = "/usr/bin/python3"
FAKE = os.path.join(ROOT, "tests/ble/fake_esphome.py")


def new_key():
    """A fresh api: encryption: key (32 bytes, base64)."""
    return base64.b64encode(os.urandom(32)).decode()


class EspFake(Proc):
    """The fake proxy on a port of its own, its control port beside it;
    spec: fake_bluez.py's device list ({"devices": [...]})."""

    def __init__(self, spec, key=None, extra=(), name="bms-proxy-test"):
        self.port = free_port()
        self.ctl_port = free_port()
        self.spec = write_conf(json.dumps(spec))
        args = [PY, FAKE, "--spec", self.spec, "--port", str(self.port),
                "--control", "127.0.0.1:%d" % self.ctl_port, "--name", name]
        if key:
            args += ["--key", key]
        super().__init__(args + list(extra), "fake-esphome")
        if not wait_until(lambda: "ready" in self.text() or not self.alive(), 30) or not self.alive():
            self.dump()
            raise RuntimeError("fake ESPHome proxy did not start")
        wait_port(self.ctl_port)

    def ctl(self, cmd):
        """One control command, its one-line answer."""
        return control_line(self.ctl_port, cmd, 10)

    def state(self):
        return json.loads(self.ctl("state"))

    def dev(self, mac):
        return self.state()["devices"][mac.upper()]

    def stop(self, *a, **kw):
        rc = super().stop(*a, **kw)
        try:
            os.unlink(self.spec)
        except OSError:
            pass
        return rc
