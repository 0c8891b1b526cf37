# SPDX-License-Identifier: MIT
"""Home Assistant around the add-on, for its tests (test_image.py, the
suite's; addon_release.py, `make test-release`'s): podman (in its own store
where a test must start from none), a network like the Supervisor's hassio
(172.30.32.0/23, one at a time on a machine), a container at the ingress
proxy's address 172.30.32.2, a fake Supervisor at http://supervisor
answering /services/mqtt, the add-on started as the Supervisor starts it
(/data/options.json, root's and 0600; SUPERVISOR_TOKEN), and its page and
setup API reached through the proxy with X-Ingress-Path."""
import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from harness import SYSTEM_TMP, system_env

PODMAN = shutil.which("podman")
HASSIO_NET = "bmsgw-test-hassio"
HASSIO_SUBNET, HASSIO_GW, PROXY_IP, ADDON_IP, OTHER_IP = (
    "172.30.32.0/23", "172.30.32.1", "172.30.32.2", "172.30.33.64", "172.30.32.3")
TOKEN = "ingress-Tok_3n"
PREFIX = "/api/hassio_ingress/" + TOKEN
INGRESS = "X-Ingress-Path: " + PREFIX
SUPERVISOR_TOKEN = "sv-token-0123456789abcdef"

# Debian's architectures, their platforms and Home Assistant's names (the Makefile's plat_of, hass_of)
PLATFORMS = {"amd64": "linux/amd64", "arm64": "linux/arm64", "armhf": "linux/arm/v7"}
HASS = {"amd64": "amd64", "arm64": "aarch64", "armhf": "armv7"}


def native_arch():
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf"}.get(platform.machine(), platform.machine())


def arch_of(plat):
    return {v: k for k, v in PLATFORMS.items()}.get(plat, "amd64" if plat == "linux/amd64" else plat)


class Podman:
    """podman, in the machine's store or in one of its own (store: a
    directory; its images are only those the test puts there)."""

    def __init__(self, store=None):
        self.store = store
        self.args = ["--root", os.path.join(store, "root"), "--runroot", os.path.join(store, "run")] if store else []
        if store and len(os.path.join(store, "run")) > 50:
            raise ValueError("podman's runroot is at most 50 characters: %s" % store)

    def __call__(self, *args, check=False, timeout=600, **kw):
        kw.setdefault("env", system_env())  # its layers in the machine's temporary directory, not the test's
        return subprocess.run([PODMAN] + self.args + list(args), capture_output=True, text=True, timeout=timeout,
                              check=check, **kw)

    def remove_store(self):
        """Its own store removed (never `system reset`: it would remove the
        machine's networks, which every store shares)."""
        if self.store:
            self("rm", "-a", "-f", "-t", "0", timeout=300)
            self("rmi", "-a", "-f", timeout=300)
            subprocess.run(["rm", "-rf", self.store])


def why(r):
    """What a podman command that failed said (nothing when it did not)."""
    return "" if r.returncode == 0 else ": " + (r.stderr or r.stdout).strip()[-400:]


class Supervisor(BaseHTTPRequestHandler):
    """Home Assistant's Supervisor, as far as the add-on asks it."""
    asked = []
    mqtt = None  # the MQTT service's "data", or None: no service

    def do_GET(self):  # noqa: N802 - http.server's name
        Supervisor.asked.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != "Bearer " + SUPERVISOR_TOKEN:
            self._send(401, {"result": "error", "message": "Unauthorized"})
        elif self.path == "/services/mqtt" and Supervisor.mqtt:
            self._send(200, {"result": "ok", "data": Supervisor.mqtt})
        elif self.path == "/services/mqtt":
            self._send(400, {"result": "error", "message": "No mqtt service available"})
        else:
            self._send(404, {"result": "error", "message": "not found"})

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Hassio:
    """The hassio network with the proxy's container (of image, which has
    curl: the add-on's) and the Supervisor on its gateway; a context.
    The network's subnet is fixed: one at a time on this machine (a lock
    held until it is gone)."""

    def __init__(self, pm, image, run_id):
        self.pm, self.image = pm, image
        self.proxy = "bmsgw-test-proxy-" + run_id
        self.names = [self.proxy]
        self.lock = self.sv = None

    def __enter__(self):
        self.lock = open(os.path.join(SYSTEM_TMP, "bmsgw-test-hassio.lock"), "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.pm("network", "rm", "-f", HASSIO_NET)
        r = self.pm("network", "create", "--subnet", HASSIO_SUBNET, "--gateway", HASSIO_GW, HASSIO_NET)
        if r.returncode != 0:
            raise RuntimeError("a network like hassio (%s)%s" % (HASSIO_SUBNET, why(r)))
        # the ingress proxy's place, taken first: its start brings the
        # network's bridge (and 172.30.32.1, where the peers listen) up
        r = self.pm("run", "-d", "--name", self.proxy, "--network", HASSIO_NET, "--ip", PROXY_IP, "--no-healthcheck",
                    "--entrypoint", "sleep", self.image, "infinity")
        if r.returncode != 0:
            raise RuntimeError("a container at the ingress proxy's address%s" % why(r))
        Supervisor.asked = []
        self.sv = HTTPServer((HASSIO_GW, 80), Supervisor)
        threading.Thread(target=self.sv.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        if self.sv:
            self.sv.shutdown()
            self.sv.server_close()
        for name in self.names:
            self.pm("rm", "-f", "-t", "0", name)
        self.pm("network", "rm", "-f", HASSIO_NET)
        fcntl.flock(self.lock, fcntl.LOCK_UN)
        self.lock.close()

    def start_addon(self, name, image, data, options, *extra):
        """The add-on as the Supervisor starts it: options.json (root's,
        0600) in its /data, SUPERVISOR_TOKEN, http://supervisor."""
        os.makedirs(data, exist_ok=True)
        path = os.path.join(data, "options.json")
        with open(path, "w") as f:
            json.dump(options, f)
        os.chmod(path, 0o600)
        self.names.append(name)
        return self.pm("run", "-d", "--name", name, "--network", HASSIO_NET, "--ip", ADDON_IP,
                       "--health-interval", "disable", "--add-host", "supervisor:" + HASSIO_GW,
                       "-e", "SUPERVISOR_TOKEN=" + SUPERVISOR_TOKEN, "-v", data + ":/data", *extra, image)

    def curl(self, path, headers=(), ip=None, max_time=10, method=None, body=None):
        """curl of the add-on's page (port 8099) from the proxy's address,
        or from a new container at ip: (status, headers text, body)."""
        args = ["curl", "-sS", "-o", "/dev/stdout", "-D", "/dev/stderr", "--max-time", str(max_time)]
        for h in headers:
            args += ["-H", h]
        if method:
            args += ["-X", method]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "--data-binary", body]
        args.append("http://%s:8099%s" % (ADDON_IP, path))
        if ip:
            r = self.pm("run", "--rm", "--network", HASSIO_NET, "--ip", ip, "--entrypoint", "curl", self.image,
                        *args[1:], timeout=120)
        else:
            r = self.pm("exec", self.proxy, *args, timeout=120)
        m = re.search(r"^HTTP/[\d.]+ (\d+)", r.stderr, re.M)
        return (int(m.group(1)) if m else None), r.stderr, r.stdout

    def api(self, method, path, body=None, token=None):
        """The setup API through the proxy as the panel calls it (Home
        Assistant's user: an admin): (status, JSON answer or {})."""
        hdr = [INGRESS, "X-Remote-User-Name: ada"] + (["X-CSRF-Token: " + token] if token else [])
        status, _, text = self.curl("/api/setup/" + path, hdr, method=method,
                                    body=json.dumps(body) if body is not None else None, max_time=30)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {}

    def apply(self, edit):
        """The Setup tab's Apply: the configuration as the page reads it,
        edit(sections) changing its list of sections, applied."""
        _, cfg = self.api("GET", "config")
        _, session = self.api("GET", "session")
        secs = [{"name": s["name"], "keys": dict(s["keys"])} for s in cfg.get("sections", [])]
        edit(secs)
        return self.api("POST", "apply", {"base_hash": cfg.get("hash"), "sections": secs}, token=session.get("csrf"))

    def state(self):
        """/api/state through the proxy, or {}."""
        status, _, text = self.curl("/api/state", [INGRESS])
        try:
            return json.loads(text) if status == 200 else {}
        except ValueError:
            return {}

    def online(self):
        """The names of the packs /api/state says are online."""
        return sorted(p.get("pack") for p in self.state().get("packs", []) if p.get("online"))
