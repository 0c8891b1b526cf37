#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: nice=5 build=normal
"""Adding a brand is a checklist (bms/README.md "Adding a protocol"): every
protocol registered in bms/drivers.h must have its driver file, be listed
by `bmsgw --help`, have a simulator responder the simulator lists (so
test_brands.py runs it end to end), a unit test, a fuzz target with seeds
(its own, or the generic one seeded from its corpus or its fixtures),
an example configuration that `bmsgw --check` accepts, a row in README's
Supported BMSs table, an entry under PROTOCOLS in bmsgw-bms(7) and a row in
register-map.md's protocol ids; a protocol spoken over a serial port also
a probe for `bmsgw --detect` (`.probe` in its driver table), a row in
bms/PROTOCOLS.md §27 and its cases in test_detect.py (its usual and an
unusual rate and address).

Adding an inverter protocol is one too (gateway/README.md "Adding an
inverter protocol"): every row of CONF_INV_PROTOCOL_LIST in
gateway/inverter/dialects.h must name no file of conf/ (its keys, window and
timing are the inverter room's, dialects.c) and have its codec file defining inv_codec_<sym> with the row's name and the
part of its row's kind (.can: frames, heard, limits; .rs485: scan, ours,
answer; a row naming an earlier row's sym, as ferroamp-can pylon-hv-can's,
is that codec under its own name: its unit test names its CONF_INV_ id), a
unit test (tests/unit/test_inv_<sym>.c: a BMS protocol may share the sym)
that uses the codec, fuzzing (fuzz_inv_can.c runs every CAN
protocol of the list; an RS485 one has its own target), test_inverter.py (or a
test_inverter_<dialect>.py)
configuring it, an example configuration that --check accepts, an entry
under PROTOCOLS in bmsgw-inverters(7) and an inverter of its "Which
inverter, which settings" whose settings start with it, a PROTOCOLS.md
section and the name in
bmsgw.ini(5).

What a driver's table implies is asked of `bmsgw --check` itself, and must
be in the documents and the tests: a protocol that takes `control = true`
is named where bmsgw(8)'s MOSFET CONTROL and bmsgw.ini(5)'s `control` list
them and is run by test_control.py (test_ble.py for one that exists only
over Bluetooth), and no other protocol is named there; one that takes an
`address` on a wire is in bmsgw.ini(5)'s `address` ranges and test_brands.py
runs two of its packs on one bus; one that takes a ble:// port has an entry
under "Protocols over Bluetooth" in bmsgw-bms(7), a case in test_ble.py (its
own, or the generic one every protocol with a GATT layout gets from the
driver table when its simulator responder names the device: .ble_name) and
the hints --ble-scan knows it by (ble->hints); and the man pages' lists of
protocols are the driver table's (`make man`).

Adding an output is one too (gateway/README.md "Adding an output"): every
line of the service table in gateway/daemon/services.c must have its
folder under gateway/ defining gw_svc_<sym> with a `held` hook, its room in
layers.py's LAYERS between poll and daemon, its /api/state member in
bmsgw(8)'s /api/state entry and its folder in gateway/README.md's "Layout";
and every section its room reads (conf_sect_*) a subsection of bmsgw.ini(5),
a mention in README (its "Where to read on" table), an integration test
that configures it and its place in test_reload_keys.py's base
configuration."""
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, ble_case  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import fixtures  # noqa: E402 - a protocol's recorded frames (tests/tools/fixtures.py)

c = Checks()


def _runner():
    """Where the binaries this file only asks (--help, --check, the man
    pages' lists) are run from: the normal build (`make test` makes it
    beside BIN's) when its bmsgw is newer than every source of the daemon
    (an ASan binary takes five times as long to start, and this file starts
    some 250), else BIN."""
    normal = os.path.join(ROOT, "build", "bmsgw")
    if not os.path.exists(normal):
        return BIN
    built = os.stat(normal).st_mtime
    for top in ("bms", "registers", "conf", "gateway"):
        for d, _, fs in os.walk(os.path.join(ROOT, top)):
            if any(os.stat(os.path.join(d, f)).st_mtime > built for f in fs if f.endswith((".c", ".h"))):
                return BIN
    return "build"


RUN = _runner()


def read(path):
    with open(os.path.join(ROOT, path), errors="replace") as f:
        return f.read()


def man(path):
    """A man page's source with plain hyphens (\\- written as -)."""
    return read(path).replace("\\-", "-")


def man_part(text, head, end=r"^\.S[HS] "):
    """The part of a page's source from the line `head` (a regular
    expression, a whole line) to the next heading ("" when it is missing)."""
    m = re.search(r"^%s\n" % head, text, re.M)
    if not m:
        return ""
    e = re.compile(end, re.M).search(text, m.end())
    return text[m.end():e.start() if e else len(text)]


def man_entry(text, name):
    """Does the page part have a .TP entry whose tag is ".B name"?"""
    return re.search(r"^\.TP\n\.B %s$" % re.escape(name), text, re.M) is not None


def registry():
    """The X(sym) entries of BMS_DRIVER_LIST, in order, with the id each
    line's comment gives: [(id, sym)] (id None where there is none)."""
    text = read("bms/drivers.h")
    m = re.search(r"#define BMS_DRIVER_LIST\(X\)(.*?)\n\n", text, re.S)
    out = []
    for line in (m.group(1).splitlines() if m else []):
        x = re.search(r"X\((\w+)\)(?:\s*/\*\s*(\d+)\s*\*/)?", line)
        if x:
            out.append((int(x.group(2)) if x.group(2) else None, x.group(1)))
    return out


def listed(exe):
    out = subprocess.run([os.path.join(ROOT, RUN, exe), "--help"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    m = re.search(r"protocols:\s*(.*)", text) or re.search(r"--protocol NAME\s+protocol spoken by the packs: (.*)", text)
    return m.group(1).split() if m else []


def serial_protocol(name):
    """Does a pack of this protocol on a serial port pass --check (not a
    Bluetooth-only or CAN protocol)?"""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
        f.write("[gateway]\nstate_file = none\n[pack.p]\nprotocol = %s\nport = /dev/ttyUSB0\n" % name)
        f.flush()
        r = subprocess.run([os.path.join(ROOT, RUN, "bmsgw"), "-c", f.name, "--check"], capture_output=True)
    return r.returncode == 0


def check_probe(sym, name, detect_test, probes_doc):
    """A wired protocol has its probe, its §27 row and its test_detect.py cases."""
    src = read("bms/%s.c" % sym) if os.path.exists(os.path.join(ROOT, "bms/%s.c" % sym)) else ""
    table = re.search(r"const struct bms_driver bms_%s_driver = \{(.*?)\n\};" % sym, src, re.S)
    c.ok(table is not None and re.search(r"\.probe = &\w+,", table.group(1)) is not None,
         "%s: a probe for bmsgw --detect (.probe in bms/%s.c's driver table)" % (name, sym))
    c.ok(re.search(r"^\| %s \|" % re.escape(name), probes_doc, re.M) is not None,
         "%s: a row in bms/PROTOCOLS.md §27 (its probe)" % name)
    c.ok(len(re.findall(r'"%s": \(' % re.escape(name), detect_test)) >= 2,
         "%s: test_detect.py identifies it at its usual and at an unusual rate and address" % name)


def inverter_rows():
    """(id, sym, name, kind) of CONF_INV_PROTOCOL_LIST, in order."""
    text = read("gateway/inverter/dialects.h")
    m = re.search(r"#define CONF_INV_PROTOCOL_LIST\(X\)(.*?)\n\n", text, re.S)
    return re.findall(r'X\((\w+), (\w+), "([\w-]+)", CONF_INV_(CAN|RS485)', m.group(1)) if m else []


def inverter_confs():
    """name -> the conf/*.ini with an [inverter.*] section of that protocol."""
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "conf", "*.ini"))):
        section = None
        for line in read(os.path.relpath(path, ROOT)).splitlines():
            h = re.match(r"\s*\[([^\]]+)\]", line)
            if h:
                section = h.group(1)
                continue
            m = re.match(r"\s*protocol\s*=\s*([\w-]+)", line)
            if m and section and section.startswith("inverter."):
                out.setdefault(m.group(1), []).append(path)
    return out


def check_inverters():
    rows = inverter_rows()
    c.ok(len(rows) >= 4, "CONF_INV_PROTOCOL_LIST lists the inverter protocols (%d)" % len(rows))
    page = man("conf/bmsgw-inverters.7")
    bullets = man_part(page, r"\.SH PROTOCOLS")
    table = man_part(page, r"\.SS Which inverter, which settings")
    doc = read("gateway/inverter/PROTOCOLS.md")
    ini5 = man("conf/bmsgw.ini.5")
    test = "".join(read(os.path.relpath(p, ROOT)) for p in  # test_inverter.py, test_inverter_<dialect>.py
                   sorted(glob.glob(os.path.join(ROOT, "tests/integration/test_inverter*.py"))))
    fuzz = read("tests/fuzz/fuzz_inv_can.c")
    confs = inverter_confs()
    conf_src = "".join(read(os.path.relpath(p, ROOT)) for p in sorted(glob.glob(os.path.join(ROOT, "conf", "*.[ch]"))))
    first = {}  # sym -> the name of the first row of it: a later row is the same codec under its own name
    for ident, sym, name, kind in rows:
        c.ok(re.search(r"\bCONF_INV_%s\b" % ident, conf_src) is None,
             "%s: no file of conf/ names it (CONF_INV_%s: its keys, window and timing are dialects.c's)" % (name, ident))
        path = "gateway/inverter/dialect/emu_%s.c" % sym
        src = read(path) if os.path.exists(os.path.join(ROOT, path)) else ""
        owner = first.setdefault(sym, name)
        c.ok(re.search(r"const struct inv_codec inv_codec_%s = \{[^}]*\.name = \"%s\"" % (sym, re.escape(owner)),
                       src, re.S) is not None, "%s: %s defines inv_codec_%s named %s" % (name, path, sym, owner))
        m = re.search(r"const struct inv_codec inv_codec_%s = \{(.*?)\n\};" % sym, src, re.S)
        body = m.group(1) if m else ""
        part, other = (".can = {", ".rs485 = {") if kind == "CAN" else (".rs485 = {", ".can = {")
        hooks = ("frames", "heard", "limits") if kind == "CAN" else ("scan", "ours", "answer")
        c.ok(part in body and other not in body and all(re.search(r"\.%s = \w" % h, body) for h in hooks),
             "%s: its codec fills %s (%s) and nothing of the other kind" % (name, part[:-4], ", ".join(hooks)))
        # test_inv_<sym>: a BMS protocol may have the same sym (pylon_can:
        # the inverter codec, and the battery read from its CAN bus)
        unit = "tests/unit/test_inv_%s.c" % sym
        c.ok(os.path.exists(os.path.join(ROOT, unit)) and
             re.search(r"\b(CONF_INV_%s|inv_codec_%s)\b" % (ident, sym) if owner == name else
                       r"\bCONF_INV_%s\b" % ident, read(unit)) is not None and
             os.path.exists(os.path.join(ROOT, BIN, "tests", "test_inv_%s" % sym)),
             "%s: a unit test (%s) of its codec, built" % (name, unit))
        if kind == "CAN":
            c.ok("CONF_INV_NPROTOCOLS" in fuzz and "inv_codec_of" in fuzz,
                 "%s: fuzzed by fuzz_inv_can.c (every CAN codec of the list)" % name)
        else:
            seeds = glob.glob(os.path.join(ROOT, "tests/fuzz/corpus", sym, "*"))
            c.ok(os.path.exists(os.path.join(ROOT, "tests/fuzz/fuzz_%s.c" % sym)) and len(seeds) > 0,
                 "%s: a fuzz target (tests/fuzz/fuzz_%s.c) with seeds (%d)" % (name, sym, len(seeds)))
        c.ok(re.search(r"protocol = %s\b" % re.escape(name), test) is not None,
             "%s: test_inverter.py (or test_inverter_*.py) configures an output of it" % name)
        good = [p for p in confs.get(name, []) if subprocess.run(
            [os.path.join(ROOT, RUN, "bmsgw"), "-c", p, "--check"], capture_output=True).returncode == 0]
        c.ok(len(good) > 0, "%s: an example configuration in conf/ that --check accepts (%s)" %
             (name, ", ".join(os.path.basename(p) for p in good) or "none"))
        c.ok(man_entry(bullets, name), "%s: an entry under PROTOCOLS in bmsgw-inverters(7)" % name)
        c.ok(re.search(r"^Settings: \\fBprotocol = %s\\fP" % re.escape(name), table, re.M) is not None,
             "%s: an inverter of bmsgw-inverters(7)'s \"Which inverter, which settings\" set to it" % name)
        c.ok(re.search(r"^## \d+[a-z]?\. %s:" % re.escape(name), doc, re.M) is not None,
             "%s: a section of gateway/inverter/PROTOCOLS.md" % name)
        c.ok(re.search(r"^\.B %s$" % re.escape(name), ini5, re.M) is not None, "%s: bmsgw.ini(5) names it" % name)


def check_list_protocols(ids):
    """bmsgw --list-protocols (text and --json) is the registry, in its
    order, with its ids; --json goes with it alone."""
    exe = os.path.join(ROOT, RUN, "bmsgw")
    want = [(pid, sym.replace("_", "-")) for pid, sym in ids]
    text = subprocess.run([exe, "--list-protocols"], capture_output=True, text=True)
    got = [(int(f[1]), f[0]) for f in (line.split() for line in text.stdout.splitlines()) if len(f) >= 3]
    c.ok(text.returncode == 0 and got == want,
         "bmsgw --list-protocols: every protocol and its id, in the registry's order (%d)" % len(got))
    js = subprocess.run([exe, "--list-protocols", "--json"], capture_output=True, text=True)
    try:
        table = json.loads(js.stdout)
    except ValueError:
        table = []
    c.ok(js.returncode == 0 and [(p.get("id"), p.get("name")) for p in table] == want,
         "bmsgw --list-protocols --json: a JSON array of the registry (%d)" % len(table))
    ble = [p["name"] for p in table if p.get("ble") and p["ble"]["layouts"]]
    c.ok(all(lay["service"] and lay["notify"] for p in table if p.get("ble") for lay in p["ble"]["layouts"]) and
         "gobel" in ble, "--json: every GATT layout has its service and notifier (%d protocols)" % len(ble))
    bad = subprocess.run([exe, "--json"], capture_output=True, text=True)
    c.ok(bad.returncode == 2 and "--json goes with --list-protocols" in bad.stderr,
         "bmsgw --json alone: exit 2, said (%r)" % bad.stderr.strip())


def run_check(name, body):
    """`bmsgw --check` of a [pack] section of protocol name with body."""
    path = os.path.join(ROOT, BIN, "checklist-%d.ini" % os.getpid())
    with open(path, "w") as f:
        f.write("[gateway]\nstate_file = none\n[pack.p]\nprotocol = %s\n%s" % (name, body))
    try:
        return subprocess.run([os.path.join(ROOT, RUN, "bmsgw"), "-c", path, "--check"],
                              capture_output=True, text=True)
    finally:
        os.unlink(path)


def accepted(name, body):
    return run_check(name, body).returncode == 0


def the_port(name):
    """The lines of a port the protocol takes: a wire, else Bluetooth LE
    (with a key where it needs one), else CAN."""
    for body in ("port = tcp://127.0.0.1:9\n", "port = ble://AA:BB:CC:DD:EE:FF\n",
                 "port = ble://AA:BB:CC:DD:EE:FF\nkey = %s\n" % ("0" * 32), "port = slcan:///dev/null\n"):
        if accepted(name, body):
            return body
    return None


def words_of(text):
    """The protocol-like words of a document's passage."""
    return set(re.findall(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", text))


def check_implied(names):
    """The control, multi-drop and Bluetooth rows a driver's table implies."""
    man8 = man("conf/bmsgw.8")
    ini5 = read("conf/bmsgw.ini.5").replace("\\-", "-").replace("\\(en", "-")
    m = re.search(r"^It is off unless every layer allows it:(.*?)^\.PP$", man_part(man8, r"\.SH MOSFET CONTROL"),
                  re.S | re.M)
    man8_control = words_of(m.group(1)) if m else set()
    m = re.search(r"^\.B control\nA boolean: true lets(.*?)^\.TP", ini5, re.S | re.M)
    ini_control = words_of(m.group(1)) if m else set()
    m = re.search(r"^\.B address\n0 to 255(.*?)^Protocols without an address", ini5, re.S | re.M)
    ini_address = words_of(m.group(1)) if m else set()
    ble_table = man_part(man("conf/bmsgw-bms.7"), r"\.SS Protocols over Bluetooth")
    test_control, test_ble, test_brands = (read("tests/integration/" + t) for t in
                                           ("test_control.py", "test_ble.py", "test_brands.py"))
    m = re.search(r"^MULTIDROP = \{(.*?)\}", test_brands, re.S | re.M)
    multidrop = set(re.findall(r'"([\w-]+)":', m.group(1))) if m else set()
    for name in names:
        sym = name.replace("-", "_")
        if sym in NO_WIRE:
            # no port: a topic and a field map through [mqtt]'s broker; no control, no address
            sub = "topic = t/p\nfields = voltage:v, soc:s\n"
            mq = "[mqtt]\nhost = 127.0.0.1\n"
            c.ok(accepted(name, sub + mq) and not accepted(name, sub) and
                 not accepted(name, sub + "control = true\n" + mq) and
                 not accepted(name, sub + "address = 1\n" + mq) and
                 name not in man8_control | ini_control | ini_address | multidrop,
                 "%s: --check takes its topic and fields with [mqtt] only; no control, no address" % name)
            continue
        port = the_port(name)
        if not c.ok(port is not None, "%s: --check takes a port of it" % name):
            continue
        control = accepted(name, port + "control = true\n")
        named = (name in man8_control, name in ini_control)
        c.eq(named, (control, control), "%s: %s in bmsgw(8)'s MOSFET CONTROL and bmsgw.ini(5)'s control" %
             (name, "named" if control else "not named"))
        if control:
            runner = test_control if "tcp:" in port else test_ble
            c.ok(re.search(r'"%s"' % re.escape(name), runner) is not None,
                 "%s: its MOSFET control run by %s" % (name, "test_control.py" if runner is test_control
                                                       else "test_ble.py"))
        # an address: in bmsgw.ini(5)'s ranges; on a wire, a bus of several
        # (test_brands.py's MULTIDROP); over Bluetooth alone, the batteries
        # of one link (dometic: test_ble.py)
        takes = "has no bus address" not in run_check(name, port + "address = 1\n").stderr
        wired = takes and "tcp:" in port
        addressed = wired or (takes and "ble:" in port)  # a CAN port's address: its own section
        c.eq((name in ini_address, name in multidrop), (addressed, wired),
             "%s: %s bmsgw.ini(5)'s address ranges, %s test_brands.py's MULTIDROP" %
             (name, "in" if addressed else "not in", "in" if wired else "not in"))
        ble = "ble:" in port or accepted(name, "port = ble://AA:BB:CC:DD:EE:FF\n")
        if ble:
            c.ok(man_entry(ble_table, name), "%s: an entry under \"Protocols over Bluetooth\" in bmsgw-bms(7)" % name)
            c.ok(ble_case(name), "%s: a case in test_ble.py, its own or the generic one (the simulator's "
                 ".ble_name)" % name)
            c.ok(re.search(r"\.hints = \w+", read("bms/%s.c" % sym)) is not None,
                 "%s: the hints --ble-scan knows it by (its ble->hints)" % name)
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests/tools/man_protocols.py"), "--check",
                        os.path.join(ROOT, RUN, "bmsgw")], capture_output=True, text=True)
    c.ok(r.returncode == 0, "the man pages' lists of protocols are the driver table's (make man) " + r.stderr.strip())


def service_rows():
    """The gw_svc_<sym> of the service table, in order."""
    text = read("gateway/daemon/services.c")
    m = re.search(r"services\[\] = \{(.*?)\};", text, re.S)
    return re.findall(r"&gw_svc_(\w+)", m.group(1)) if m else []


def layers():
    sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
    import layers as mod  # noqa: E402 - tests/tools/layers.py, the order of the rooms
    return mod.LAYERS


def check_outputs():
    syms = service_rows()
    c.ok(len(syms) >= 6, "the service table lists the outputs (%d)" % len(syms))
    readme = read("README.md")
    m = re.search(r"^\.TP\n\.I /api/state\n(.*?)^\.TP$", read("conf/bmsgw.8"), re.S | re.M)
    state_entry = m.group(1) if m else ""
    guide = read("gateway/README.md")
    m = re.search(r"^## Layout\n+```\n(.*?)^```", guide, re.S | re.M)
    layout = m.group(1) if m else ""
    ini5 = read("conf/bmsgw.ini.5").replace("\\fI", "").replace("\\fP", "")
    keys_test = read("tests/integration/test_reload_keys.py")
    tests = {os.path.basename(p): read(os.path.relpath(p, ROOT))
             for p in glob.glob(os.path.join(ROOT, "tests/integration/test_*.py"))
             if os.path.basename(p) not in ("test_reload_keys.py", "test_checklist.py")}
    rooms = layers()
    at = {room: i for i, line in enumerate(rooms) for room in line}
    for sym in syms:
        found = [p for p in glob.glob(os.path.join(ROOT, "gateway/*/*.c"))
                 if re.search(r"^const struct gw_service gw_svc_%s = \{" % sym, read(os.path.relpath(p, ROOT)), re.M)]
        if not c.ok(len(found) == 1, "%s: one file of gateway/<room>/ defines gw_svc_%s" % (sym, sym)):
            continue
        room = os.path.basename(os.path.dirname(found[0]))
        src = read(os.path.relpath(found[0], ROOT))
        body = src[src.find("const struct gw_service gw_svc_%s" % sym):]
        body = body[:body.find("};")]
        m = re.search(r'\.name = "([\w-]+)"', body)
        name = m.group(1) if m else "?"
        c.ok(room not in ("core", "model", "daemon", "poll", "wire"),
             "%s: a folder of its own (gateway/%s/)" % (sym, room))
        c.ok(room in at and at.get("poll", 99) < at[room] < at.get("daemon", -1),
             "%s: room %s in LAYERS (tests/tools/layers.py) above poll and below daemon" % (sym, room))
        c.ok(".held = " in body, "%s: a held hook (its section as it runs it, for /api/config)" % sym)
        c.ok("\\fB%s\\fP" % name in state_entry,
             "%s: its /api/state member %s in bmsgw(8)'s /api/state entry" % (sym, name))
        c.ok(re.search(r"^  %s/ " % re.escape(room), layout, re.M) is not None,
             "%s: gateway/%s/ in gateway/README.md's Layout" % (sym, room))
        sects = set()
        texts = [read(os.path.relpath(p, ROOT)) for p in glob.glob(os.path.join(ROOT, "gateway", room, "*.c"))]
        for text in texts:
            sects |= set(re.findall(r"\bconf_sect_([a-z_]+)\b", text))
        # the sections the service row hands down (.sections = ...): each a const struct conf_section
        # of the room's own, named by its .word
        m = re.search(r"\.sections = (\w+)", body)
        arr = next((re.search(r"conf_section \*const %s\[\] = \{([^}]*)\}" % m.group(1), t) for t in texts
                    if m and re.search(r"conf_section \*const %s\[\]" % m.group(1), t)), None) if m else None
        for sym in re.findall(r"&(\w+)", arr.group(1)) if arr else ():
            word = next((re.search(r'struct conf_section %s = \{[^}]*?\.word = "(\w+)"' % sym, t, re.S)
                         for t in texts if "struct conf_section %s = {" % sym in t), None)
            c.ok(word is not None, "%s: its section %s is defined in its room, with its word" % (sym, sym))
            if word:
                sects.add(word.group(1))
        c.ok(len(sects) > 0, "%s: its room reads its section(s) of the configuration (%s)" %
             (sym, ", ".join(sorted(sects)) or "none"))
        for word in sorted(sects):
            head = re.compile(r"\[%s[\].]" % word)
            c.ok(re.search(r"^\.SS \[%s[\].]" % word, ini5, re.M) is not None,
                 "%s: [%s] has a subsection of bmsgw.ini(5)" % (sym, word))
            c.ok(head.search(readme) is not None, "%s: README names [%s] (Where to read on)" % (sym, word))
            users = sorted(t for t, text in tests.items() if head.search(text))
            c.ok(len(users) > 0, "%s: an integration test configures [%s] (%s)" % (sym, word, ", ".join(users[:3])))
            c.ok(re.search(r'\("%s[".]' % word, keys_test) is not None,
                 "%s: [%s] is in test_reload_keys.py's base configuration" % (sym, word))


# Protocols that no serial, TCP, CAN or Bluetooth wire carries, so that
# bmsgw-sim has nothing to play for them: the integration test that plays
# their source instead.  mqtt-json: a node's JSON on an MQTT topic, published
# to a real mosquitto by the test.
NO_WIRE = {"mqtt_json": "tests/integration/test_mqtt_json.py"}


def main():
    check_outputs()
    check_inverters()
    ids = registry()
    syms = [sym for _, sym in ids]
    c.ok(len(syms) >= 10, "the registry lists the protocols (%d)" % len(syms))
    c.ok(all(pid is not None for pid, _ in ids) and [pid for pid, _ in ids] == sorted(set(pid for pid, _ in ids)),
         "every line of BMS_DRIVER_LIST gives its id, rising along the list (%s)" % [pid for pid, _ in ids])
    gw_list = listed("bmsgw")
    sim_list = listed("bmsgw-sim")
    readme = read("README.md")
    # README's list of the families read over Bluetooth LE only: from its
    # bold head to the blank line that ends it
    m = re.search(r"^\*\*Bluetooth LE only\*\*.*?(?=\n\n)", readme, re.M | re.S)
    ble_list = m.group(0) if m else ""
    c.ok(ble_list.count("`") >= 20, "README lists the Bluetooth-LE-only families (%d names)" % (ble_list.count("`") // 2))
    bms_page = man_part(man("conf/bmsgw-bms.7"), r"\.SH PROTOCOLS")
    regmap = read("register-map.md")
    detect_test = read("tests/integration/test_detect.py")
    protocols_md = read("bms/PROTOCOLS.md")
    probes_doc = protocols_md[protocols_md.find("### 27.2"):]
    confs = {}
    for path in glob.glob(os.path.join(ROOT, "conf", "*.ini")):
        m = re.search(r"^protocol\s*=\s*([\w-]+)", read(os.path.relpath(path, ROOT)), re.M)
        if m:
            confs.setdefault(m.group(1), []).append(path)
    for pid, sym in ids:
        name = sym.replace("_", "-")
        c.ok(re.search(r"const struct bms_driver bms_%s_driver\b" % sym, read("bms/%s.c" % sym)) is not None
             if os.path.exists(os.path.join(ROOT, "bms/%s.c" % sym)) else False,
             "%s: bms/%s.c defines bms_%s_driver" % (name, sym, sym))
        c.ok(name in gw_list, "%s: bmsgw --help lists it" % name)
        if sym in NO_WIRE:
            # no wire a simulator could play: the pack's messages come through a broker
            c.ok(name not in sim_list and os.path.exists(os.path.join(ROOT, NO_WIRE[sym])),
                 "%s: no simulator responder (%s's packs arrive through a broker), tested end to end by %s"
                 % (name, name, NO_WIRE[sym]))
        else:
            c.ok(os.path.exists(os.path.join(ROOT, "tests/sim/sim_%s.c" % sym)) and name in sim_list,
                 "%s: a simulator responder (tests/sim/sim_%s.c), listed by bmsgw-sim" % (name, sym))
        unit = "tests/unit/test_%s.c" % sym
        c.ok(os.path.exists(os.path.join(ROOT, unit)) and
             re.search(r"\bbms_%s_driver\b" % sym, read(unit)) is not None and
             os.path.exists(os.path.join(ROOT, BIN, "tests", "test_%s" % sym)),
             "%s: a unit test (%s) of its driver, built" % (name, unit))
        seeds = len(glob.glob(os.path.join(ROOT, "tests/fuzz/corpus", sym, "*")))
        if os.path.exists(os.path.join(ROOT, "tests/fuzz/fuzz_%s.c" % sym)):
            c.ok(seeds > 0, "%s: a fuzz target (tests/fuzz/fuzz_%s.c) with seeds (%d)" % (name, sym, seeds))
        else:
            seeds = seeds or len(fixtures.answers(sym))
            c.ok(seeds > 0, "%s: the generic fuzz target (tests/fuzz/generic_driver.c) with seeds (%d: its "
                 "corpus, or the frames of its fixtures its unit test embeds)" % (name, seeds))
        good = [p for p in confs.get(name, []) if subprocess.run(
            [os.path.join(ROOT, RUN, "bmsgw"), "-c", p, "--check"], capture_output=True).returncode == 0]
        c.ok(len(good) > 0, "%s: an example configuration in conf/ that --check accepts (%s)" %
             (name, ", ".join(os.path.basename(p) for p in good) or "none"))
        in_list = re.search(r"`%s`\s" % re.escape(name), ble_list) is not None
        c.ok(re.search(r"^\| `%s` \|" % re.escape(name), readme, re.M) is not None or
             (in_list and not serial_protocol(name)),
             "%s: a row in README's Supported BMSs table, or (Bluetooth LE only) an entry of its list" % name)
        c.ok(man_entry(bms_page, name), "%s: an entry under PROTOCOLS in bmsgw-bms(7) (what it decodes)" % name)
        c.ok(re.search(r"^\| %d \| %s \|" % (pid, re.escape(name)), regmap, re.M) is not None,
             "%s: protocol id %d in register-map.md" % (name, pid))
        if serial_protocol(name):
            check_probe(sym, name, detect_test, probes_doc)
    c.eq(sorted(gw_list), sorted(s.replace("_", "-") for s in syms), "bmsgw lists exactly the registry")
    check_list_protocols(ids)
    check_implied([s.replace("_", "-") for s in syms])
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
