#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""README.md "Logins, HTTPS and Modbus/TCP Security" is true: its shell
block runs as written (only /etc/bmsgw becomes a temporary directory, the
gateway's address 127.0.0.1, the group bmsgw the test's own group when the
machine has none, the password comes from a pipe), and its INI block,
with a simulated pack and free ports, is a configuration the real bmsgw
accepts and serves:

- HTTPS with the README's certificate: a login of the README's user reads
  /api/state, none gets 401, /api/config is the admin's;
- plain Modbus TCP is off (`[gateway] listen =`);
- 802 with the README's client certificate (role Operator): the pack's
  registers read and a charge setting written; the README's keys and users
  file are 0640, which bmsgw accepts;
- --ha-yaml refuses a configuration without plain Modbus TCP.
"""
import base64
import grp
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, Sim, free_port, wait_port, wait_until, write_conf  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-readme-")
ETC = os.path.join(TMP, "etc")     # /etc/bmsgw
WORK = os.path.join(TMP, "work")   # where the commands run
os.makedirs(ETC)
os.makedirs(WORK)
PASSWORD = "correct horse battery"


def section():
    text = open(os.path.join(ROOT, "README.md")).read()
    m = re.search(r"^### Logins, HTTPS and Modbus/TCP Security\n(.*?)^##", text, re.M | re.S)
    if not m:
        raise SystemExit("README.md has no section \"Logins, HTTPS and Modbus/TCP Security\"")
    blocks = re.findall(r"^```(\w+)\n(.*?)^```", m.group(1), re.M | re.S)
    return {lang: body for lang, body in blocks}


def run_shell(sh):
    group = "bmsgw"
    try:
        grp.getgrnam(group)
    except KeyError:
        group = grp.getgrgid(os.getgid()).gr_name
    sh = sh.replace("/etc/bmsgw", ETC).replace("192.168.1.20", "127.0.0.1").replace("-g bmsgw", "-g " + group)
    sh = sh.replace("root:bmsgw", "%d:%s" % (os.getuid(), group))
    sh = re.sub(r"^bmsgw --hash-password", "printf '%%s\\n' '%s' | %s --hash-password"
                % (PASSWORD, os.path.join(ROOT, BIN, "bmsgw")), sh, flags=re.M)
    r = subprocess.run(["bash", "-e", "-c", sh], cwd=WORK, capture_output=True, text=True)
    c.ok(r.returncode == 0, "the README's shell block runs (%s)" % r.stderr.strip()[-300:])
    users = open(os.path.join(ETC, "users")).read()
    c.ok(re.match(r"^ada:admin:\$pbkdf2-sha256\$600000\$", users) is not None, "the users file has ada, admin")
    for name in ("gw.key", "users"):
        c.eq(oct(os.stat(os.path.join(ETC, name)).st_mode & 0o777), "0o640", "%s is 0640" % name)


def conf_text(ini, sim, http, tls):
    ini = ini.replace("/etc/bmsgw", ETC).replace("0.0.0.0:8443", "127.0.0.1:%d" % http)
    ini = ini.replace("0.0.0.0:802", "127.0.0.1:%d" % tls)
    return ("[pack.a]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = 1\ncontrol = true\n\n" % sim.port
            + ini + "\n[limits]\n")


def https(port, path, user=None):
    ctx = ssl.create_default_context(cafile=os.path.join(WORK, "ca.pem"))
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path))
    if user:
        req.add_header("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
    except (OSError, urllib.error.URLError) as e:
        return str(e), b""


def mbaps(port, pdu, tid=1):
    try:
        return _mbaps(port, pdu, tid)
    except OSError as e:
        return str(e).encode()


def _mbaps(port, pdu, tid):
    """One request on 802 with the README's client certificate: the reply's PDU."""
    ctx = ssl.create_default_context(cafile=os.path.join(WORK, "ca.pem"))
    ctx.load_cert_chain(os.path.join(WORK, "scada1.pem"), os.path.join(WORK, "scada1.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            t.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, 1) + pdu)
            buf = b""
            while len(buf) < 7 or len(buf) < 6 + struct.unpack(">H", buf[4:6])[0]:
                chunk = t.recv(512)
                if not chunk:
                    break
                buf += chunk
    return buf[7:]


def serve(blocks):
    sim = Sim()
    http, tls = free_port(), free_port()
    text = conf_text(blocks["ini"], sim, http, tls)
    r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", write_conf(text), "--check"],
                       capture_output=True, text=True)
    c.ok(r.returncode == 0, "--check accepts the README's configuration (%s)" % r.stderr.strip()[-300:])
    c.ok(re.search(r"^  listen +off \(no Modbus TCP server on 502", r.stdout, re.M) is not None,
         "--check: plain Modbus TCP is off")
    r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", write_conf(text), "--ha-yaml"],
                       capture_output=True, text=True)
    c.ok(r.returncode == 1 and not r.stdout and "[gateway] listen is empty" in r.stderr,
         "--ha-yaml with 502 off: refused, nothing printed (%s)" % r.stderr.strip())
    gw = Proc([os.path.join(ROOT, BIN, "bmsgw"), "-c", write_conf(text)], "bmsgw")
    try:
        c.ok(wait_port(tls) and wait_port(http), "bmsgw listens on HTTPS and 802")
        user = "ada:" + PASSWORD
        c.eq(https(http, "/api/state")[0], 401, "HTTPS without a login: 401")
        ok = wait_until(lambda: json.loads(https(http, "/api/state", user)[1] or b"{}")
                        .get("gateway", {}).get("packs_online") == 1, 30)
        c.ok(ok, "the README's user reads /api/state over HTTPS, the pack online")
        c.eq(https(http, "/api/config", user)[0], 200, "the README's admin reads /api/config")
        c.ok(wait_until(lambda: mbaps(tls, struct.pack(">BHH", 3, 290, 10))[:1] == b"\x03", 10),
             "802 with the README's client certificate: FC03 answered")
        pdu = mbaps(tls, struct.pack(">BHH", 6, 290 + 150, 90))
        c.eq(pdu, struct.pack(">BHH", 6, 290 + 150, 90), "802, role Operator: max_soc 90 % written")
        c.ok(PASSWORD not in gw.text(), "the password is not in the log")
    finally:
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()


def main():
    blocks = section()
    c.ok("sh" in blocks and "ini" in blocks, "the section has a shell block and an INI block")
    run_shell(blocks["sh"])
    serve(blocks)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
