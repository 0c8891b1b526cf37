#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Prometheus remote-write recipe of the README's "A fleet of sites" (the
same configuration as bmsgw(8) "FLEET" gives, checked equal), run as written:
bmsgw with [gateway] site against the simulator, Debian's prometheus in
agent mode with the prometheus.yml the man page gives (only the target, the
receiver's URL and the scrape interval put in for this machine), and a
second prometheus receiving remote writes
(--web.enable-remote-write-receiver).  The receiver's HTTP API is asked
until the pack's voltage arrives with the site label, and its value is the
simulator's."""
import json
import os
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Checks, Gateway, Proc, Sim, free_port, wait_port, wait_until  # noqa: E402

c = Checks()
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def readme_recipe():
    """The prometheus.yml of the README's "A fleet of sites" section."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    sect = readme.split("\n### A fleet of sites\n", 1)[1].split("\n#", 1)[0]
    return sect.split("\n```yaml\n", 1)[1].split("\n```", 1)[0] + "\n"


def recipe():
    """The prometheus.yml of bmsgw(8)'s FLEET section, as roff gives it."""
    with open(os.path.join(ROOT, "conf", "bmsgw.8")) as f:
        man = f.read()
    sect = man.split("\n.SH FLEET\n", 1)[1].split("\n.SH ", 1)[0]
    block = sect.split("\n.EX\n", 1)[1].split("\n.EE\n", 1)[0]
    return block.replace("\\-", "-").replace("\\(dq", '"').replace("\\e", "\\") + "\n"


def substitute(text, http_port, recv_port):
    """The recipe for this machine: each replaced text must be there once,
    so that the recipe cannot drift from what is run."""
    subs = [("127.0.0.1:8080", "127.0.0.1:%d" % http_port),
            ("https://metrics.example.net/api/v1/write", "http://127.0.0.1:%d/api/v1/write" % recv_port),
            ("scrape_interval: 15s", "scrape_interval: 1s")]
    for old, new in subs:
        c.eq(text.count(old), 1, "the recipe has %r once" % old)
        text = text.replace(old, new)
    return text


def query(port, q):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q}))
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            js = json.loads(r.read().decode())
    except OSError:
        return []
    return js.get("data", {}).get("result", []) if js.get("status") == "success" else []


def gw_conf(gw_port, http_port, sim_port):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
site = cabin
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gw_port, sim_port, http_port)


def main():
    if not os.access(PROMETHEUS, os.X_OK):
        c.ok(False, "Debian's prometheus is installed (%s)" % PROMETHEUS)
        return c.report()
    tmp = tempfile.mkdtemp(prefix="bmsgw-fleet-")
    man, text = recipe(), readme_recipe()
    c.ok("site: cabin" in man and "remote_write:" in man, "the man page's recipe found")
    c.ok("site: cabin" in text and "remote_write:" in text, "the README's recipe found")
    c.eq(yaml.safe_load(text), yaml.safe_load(man), "the README and bmsgw(8) give the same configuration")
    sim = Sim("daly", packs=("address=1,cells=16,soc=64.5",))
    gw_port, http_port, agent_port, recv_port = free_port(), free_port(), free_port(), free_port()
    gw = Gateway(gw_conf(gw_port, http_port, sim.port), gw_port)
    agent_yml, recv_yml = os.path.join(tmp, "agent.yml"), os.path.join(tmp, "receiver.yml")
    with open(agent_yml, "w") as f:
        f.write(substitute(text, http_port, recv_port))
    with open(recv_yml, "w") as f:
        f.write("global: {}\n")
    procs = []
    try:
        procs.append(Proc([PROMETHEUS, "--web.enable-remote-write-receiver", "--config.file=" + recv_yml,
                           "--storage.tsdb.path=" + os.path.join(tmp, "recv"),
                           "--web.listen-address=127.0.0.1:%d" % recv_port], "prom-receiver"))
        c.ok(wait_port(recv_port, 30), "the receiving prometheus listens")
        procs.append(Proc([PROMETHEUS, "--enable-feature=agent", "--config.file=" + agent_yml,
                           "--storage.agent.path=" + os.path.join(tmp, "agent"),
                           "--web.listen-address=127.0.0.1:%d" % agent_port], "prom-agent"))
        c.ok(wait_port(agent_port, 30), "the agent listens")
        got = wait_until(lambda: query(recv_port, 'bmsgw_voltage_volts{site="cabin",pack="house"}'), 45, 0.5)
        c.ok(got, "the receiver has bmsgw_voltage_volts{site=\"cabin\",pack=\"house\"}")
        if got:
            lab = got[0]["metric"]
            c.eq((lab.get("site"), lab.get("job"), lab.get("pack")), ("cabin", "bmsgw", "house"),
                 "its labels: site, job, pack")
            want = sim.state()["packs"][0]["voltage"]
            c.near(float(got[0]["value"][1]), want, 0.01, "its value the simulator's")
        up = query(recv_port, 'up{job="bmsgw"}')
        c.ok(up and up[0]["metric"].get("site") == "cabin", "the agent's own up series carries the site too")
        c.eq(query(recv_port, 'bmsgw_voltage_volts{site!="cabin"}'), [], "no series without the site")
    finally:
        for p in procs:
            p.stop()
        gw.stop()
        sim.stop()
        if c.failed:
            for p in procs:
                p.dump(20)
            gw.dump(20)
        shutil.rmtree(tmp, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
