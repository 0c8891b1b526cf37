#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The layering check of gateway/ (gateway/README.md), over the built objects.

Every defined symbol of an object under BIN/gateway/ belongs to the room
(folder) of its source file; every undefined symbol an object uses is looked
up among them.  A call from a room to a higher one fails, and so does one
between two output rooms (they sit side by side and never call each other).
bms/, registers/ and conf/ are below the whole gateway and may call none of
it.  The order of the rooms is written once, in LAYERS below.

A pure room of gateway/ (PURE: engine/, the limits, SOC, health and bank
engines) is as pure as bms/ and registers/: its objects call only their own
room, bms/, registers/ and conf/, and of the C libraries only the maths
library and the C library's pure part (memory and strings, numbers parsed
from and formatted into a buffer, sorting: no file, socket, clock, log,
allocation or libev); its sources include only headers of their own room,
of bms/, registers/ and conf/, and the C standard's.

A call cycle longer than two files fails too, among the object files of
gateway/ and among those of each of bms/, registers/ and conf/ (two files
that call each other, a transport and its link helpers, are allowed): such
a knot can only be read and changed as one piece.

    layers.py BIN            check (N passed, N failed; every offending call
                             and every cycle of more than MAX_CYCLE files named)
    layers.py --report BIN   the dependency picture: calls between files, the
                             largest cycle, files per room, and nothing fails
    layers.py --self-test    the cycle search and the purity rule on made-up
                             calls and includes: each must find what is there
                             and nothing that is not
"""
import collections
import os
import re
import subprocess
import sys

# Lowest first.  Rooms on one line are side by side: outputs may not call
# each other.  EXTRA lists the calls across that the design allows.
LAYERS = [
    ["engine"],                                  # the pure engines: limits, SOC, health, settings, bank (numbers in, numbers out)
    ["core"],                                    # clock, log, notify, sockets, resolver, retry, JSON, Prometheus
    ["wire"],                                    # the generic link, one file per transport (ble/ too)
    ["detect"],                                  # bmsgw --detect: listen, read-only probes, a [pack] section
    ["model"],                                   # struct gw and packs, units, the bank state, energy, events: the engines' state
    ["ha"],                                      # Home Assistant: discovery, YAML (configuration in, text out)
    ["poll"],                                    # the bus engine, poller, control, listener
    ["modbus", "mqtt", "history", "tunnel", "inverter", "alerts", "influx", "venus"],  # the outputs
    ["web"],                                     # the status page, its API and metrics
    ["daemon"],                                  # lifecycle, reload plan, the service table
    ["modes"],                                   # bmsgw's tool modes, one file each, and the command line
    ["main"],                                    # gateway/main.c, the story of main()
]
EXTRA = {("web", "history")}                     # the page's charts and CSV come from the history
MAX_CYCLE = 2                                    # files in the longest call cycle allowed
BELOW = {"bms", "registers", "conf"}             # pure code under everything
PURE = {"engine"}                                # rooms of gateway/ as pure as BELOW (the rules above)
# what a pure room may take of the C library besides the maths library
# (every function of libm): memory and strings (mem*, str* but those below),
# numbers parsed from and formatted into a buffer, sorting; a fortified
# (__NAME_chk) or ISO-named (__isoc99_NAME) form of one is the same call
PURE_LIBC = {"memcpy", "memmove", "memset", "memcmp", "memchr", "memrchr", "memmem",
             "strlen", "strnlen", "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strchr", "strrchr",
             "strchrnul", "strstr", "strspn", "strcspn", "strpbrk", "strtok_r", "strcpy", "strncpy", "strcat",
             "strncat", "stpcpy", "stpncpy",
             "strtod", "strtof", "strtold", "strtol", "strtoul", "strtoll", "strtoull", "atoi", "atol", "atof",
             "snprintf", "vsnprintf", "sscanf", "vsscanf", "qsort", "bsearch", "abs", "labs", "llabs",
             "__ctype_b_loc", "__ctype_tolower_loc", "__ctype_toupper_loc"}
# what a compiler's instrumentation adds to any object
INSTRUMENTED = ("__asan_", "__ubsan_", "__sanitizer_", "__stack_chk_fail", "_GLOBAL_OFFSET_TABLE_")
# the C standard's headers, the only <...> a pure room includes (no header
# of the rooms has the name of one: engine/'s limits are pack_limits.h)
STD_HEADERS = {"assert", "complex", "ctype", "errno", "fenv", "float", "inttypes", "iso646", "limits", "math",
               "stdalign", "stdarg", "stdbool", "stddef", "stdint", "stdio", "stdlib", "stdnoreturn", "string",
               "tgmath"}                         # each with .h
TREES = ("gateway", "bms", "registers", "conf")  # cycles are looked for inside each


def room_of(rel):
    """gateway/wire/ble/ble.o -> wire; gateway/main.o -> main; bms/x.o -> bms."""
    parts = rel.split("/")
    if parts[0] != "gateway":
        return parts[0]
    if len(parts) == 2:
        return "main" if parts[1] == "main.o" else "gateway"
    return parts[1]


def rank():
    r = {}
    for i, rooms in enumerate(LAYERS):
        for x in rooms:
            r[x] = (i, len(rooms) > 1)
    return r


def symbols(objs):
    """{object: (defined symbols, undefined symbols)}, from one nm over all
    of them (an nm per object cost a second of CPU per 30 objects)."""
    out = subprocess.run(["nm", "-A"] + objs, capture_output=True, text=True, check=True).stdout if objs else ""
    syms = {o: (set(), set()) for o in objs}
    for line in out.splitlines():
        o, _, rest = line.partition(".o:")
        f = rest.split()
        if o + ".o" not in syms:
            continue
        defs, undef = syms[o + ".o"]
        if len(f) == 3 and f[1] in "TDBRCW":
            defs.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            undef.add(f[1])
    return syms


def load(bindir):
    objs = []
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    for top in ("gateway", "bms", "registers", "conf"):
        for d, _, names in os.walk(os.path.join(bindir, top)):
            for n in names:
                o = os.path.join(d, n)
                # only the objects of sources that exist (a build directory
                # may hold objects of files since moved or removed)
                if n.endswith(".o") and os.path.exists(os.path.join(root, os.path.relpath(o, bindir)[:-2] + ".c")):
                    objs.append(o)
    owner, uses = {}, {}
    objs.sort()
    syms = symbols(objs)
    for o in objs:
        rel = os.path.relpath(o, bindir)
        defs, undef = syms[o]
        for s in defs:
            owner[s] = rel
        uses[rel] = undef
    return owner, uses


def edges(owner, uses):
    e = collections.defaultdict(lambda: collections.defaultdict(set))
    for f, undef in uses.items():
        for s in undef:
            if s in owner and owner[s] != f:
                e[f][owner[s]].add(s)
    return e


def libm_names():
    """The functions of the maths library the compiler links (its dynamic
    symbols, without their versions)."""
    path = subprocess.run(["cc", "-print-file-name=libm.so.6"], capture_output=True, text=True,
                          check=True).stdout.strip()
    out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True, check=True).stdout
    return {f[2].split("@")[0] for f in (line.split() for line in out.splitlines()) if len(f) == 3 and f[1] in "TWi"}


def pure_libc(sym, libm):
    """Whether a pure room may call sym, a symbol no object of the tree
    defines: the maths library, the C library's pure part, instrumentation."""
    if sym.startswith(INSTRUMENTED):
        return True
    base = re.sub(r"^__isoc\d+_", "", sym)          # __isoc99_sscanf
    base = re.sub(r"^__(\w+)_chk$", r"\1", base)    # __snprintf_chk (_FORTIFY_SOURCE)
    return base in libm or base in PURE_LIBC


def pure_faults(owner, uses, libm):
    """The calls of the pure rooms' objects that break their rule:
    [(object, what it calls: an object of the tree or None for outside it,
    the symbols)].  Objects of other rooms are not judged here."""
    out = []
    for f, undef in sorted(uses.items()):
        if not f.startswith("gateway/") or room_of(f) not in PURE:
            continue
        bad = collections.defaultdict(set)
        for sym in undef:
            g = owner.get(sym)
            if g is None:
                if not pure_libc(sym, libm):
                    bad[None].add(sym)
            elif room_of(g) != room_of(f) and (g.startswith("gateway/") or room_of(g) not in BELOW):
                bad[g].add(sym)
        out += [(f, g, sorted(syms)) for g, syms in sorted(bad.items(), key=lambda kv: kv[0] or "")]
    return out


def include_faults(sources):
    """The includes of the pure rooms' sources ({path from the top: text})
    that break their rule: [(path, the header as written)]."""
    out = []
    for path, text in sorted(sources.items()):
        for quote, name in re.findall(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', text, re.M):
            if quote == "<":
                ok = name.endswith(".h") and name[:-2] in STD_HEADERS
            else:
                target = os.path.normpath(os.path.join(os.path.dirname(path), name))
                ok = room_of(target) == room_of(path) or (not target.startswith(("gateway/", "../")) and
                                                         room_of(target) in BELOW)
            if not ok:
                out.append((path, name))
    return out


def pure_sources():
    """The sources of the pure rooms, {path from the top: text}."""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    out = {}
    for room in sorted(PURE):
        for d, _, names in os.walk(os.path.join(root, "gateway", room)):
            for n in names:
                if n.endswith((".c", ".h")):
                    with open(os.path.join(d, n), encoding="utf-8") as fh:
                        out[os.path.relpath(os.path.join(d, n), root)] = fh.read()
    return out


def check_pure(owner, uses):
    """The purity rule of PURE's rooms: (passed, failed), each fault printed."""
    faults = pure_faults(owner, uses, libm_names())
    for f, g, syms in faults:
        print("FAIL %s%s: a pure room (%s) calls %s (%s)" % (
            f[:-2] + ".c", "" if g is None else " -> " + g[:-2] + ".c", room_of(f),
            "outside bms/, registers/, conf/, libm and the C library's pure part" if g is None
            else "into the gateway" if g.startswith("gateway/") else "above it", ", ".join(syms)))
    incs = include_faults(pure_sources())
    for path, name in incs:
        print("FAIL %s includes %s: a pure room includes only its own headers, bms/'s, registers/', conf/'s "
              "and the C standard's" % (path, name))
    judged = [f for f in uses if f.startswith("gateway/") and room_of(f) in PURE]
    bad = {f for f, _, _ in faults} | {p[:-2] + ".o" for p, _ in incs}
    return len([f for f in judged if f not in bad]), len(faults) + len(incs)


def check(bindir):
    owner, uses = load(bindir)
    r = rank()
    passed = failed = 0
    unknown = sorted({room_of(f) for f in uses} - set(r) - BELOW)
    for u in unknown:
        print("FAIL room %s is not in LAYERS (tests/tools/layers.py)" % u)
        failed += 1
    p, f = check_pure(owner, uses)
    passed, failed = passed + p, failed + f
    for f, to in sorted(edges(owner, uses).items()):
        a = room_of(f)
        if a in PURE:
            continue                             # check_pure judged its calls
        for g, syms in sorted(to.items()):
            b = room_of(g)
            if a == b or b in BELOW or (a, b) in EXTRA:
                passed += 1
                continue
            why = None
            if a in BELOW:
                why = "pure code below the gateway calls into it"
            elif a in r and b in r:
                (ia, side_a), (ib, _) = r[a], r[b]
                if ib > ia:
                    why = "a lower room calls a higher one"
                elif ib == ia and side_a:
                    why = "one output calls another"
            if why:
                failed += 1
                print("FAIL %s -> %s: %s (%s)" % (f[:-2] + ".c", g[:-2] + ".c", why, ", ".join(sorted(syms))))
            else:
                passed += 1
    knots = cycles(edges(owner, uses))
    for cyc, comp in knots:
        failed += 1
        print("FAIL call cycle of %d files (more than %d): %s%s" % (
            len(cyc) - 1, MAX_CYCLE, " -> ".join(f[:-2] + ".c" for f in cyc),
            "" if len(cyc) - 1 == len(comp) else " (all %d files that call each other round: %s)" % (
                len(comp), " ".join(f[:-2] + ".c" for f in sorted(comp)))))
    if not knots:
        passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


def tree_graph(e, tree):
    """The calls between the object files of one tree (gateway/, conf/ ...):
    file -> set of files."""
    top = tree + "/"
    return {f: {g for g in to if g.startswith(top)} for f, to in e.items() if f.startswith(top)}


def long_cycle(graph, comp):
    """A shortest cycle inside comp of more than MAX_CYCLE files, as
    [a, b, ..., a] (a knot of more than MAX_CYCLE files has one)."""
    def walk(path, want):
        v = path[-1]
        for w in sorted(graph.get(v, ()) & comp):
            if w == path[0] and len(path) == want:
                return path + [w]
            if w not in path and len(path) < want:
                found = walk(path + [w], want)
                if found:
                    return found
        return None
    for want in range(MAX_CYCLE + 1, len(comp) + 1):
        for start in sorted(comp):
            found = walk([start], want)
            if found:
                return found
    return sorted(comp) + [min(comp)]


def cycles(e):
    """Every knot of more than MAX_CYCLE files that call each other round,
    inside each of TREES: (one cycle of more than MAX_CYCLE files in it, the
    knot's files)."""
    out = []
    for tree in TREES:
        graph = tree_graph(e, tree)
        out += [(long_cycle(graph, set(comp)), comp)
                for comp in sorted(sccs(graph), key=min) if len(comp) > MAX_CYCLE]
    return out


def sccs(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def report(bindir):
    owner, uses = load(bindir)
    e = edges(owner, uses)
    print("gateway object files: %d" % len([f for f in uses if f.startswith("gateway/")]))
    for tree in TREES:
        graph = tree_graph(e, tree)
        big = max(sccs(graph), key=len) if graph else []
        print("largest cycle in %s/: %d file(s)%s" % (tree, len(big), (": " + " ".join(sorted(big))) if len(big) > 1 else ""))
    per = collections.Counter(room_of(f) for f in uses if f.startswith("gateway/"))
    print("files per room: " + ", ".join("%s %d" % kv for kv in sorted(per.items())))
    return True


def self_test():
    """cycles() on made-up calls: conf/'s and bms/'s knots of three are found
    as gateway/'s are, two files calling each other are not a knot, and a
    cycle that crosses trees is no tree's; then the purity rule."""
    return self_test_cycles() & self_test_pure()


def self_test_pure():
    """The purity rule on made-up objects and sources: a pure room's call
    into core/ (a log line) or model/, and to libev, stdio's files, the
    clock or malloc are found; its calls to itself, bms/, conf/, libm and
    the C library's pure part (fortified and ISO-named forms too) are not;
    a room that is not pure is not judged by it.  Its includes of gw.h,
    core/'s log.h, <ev.h> and <unistd.h> are found, those of its own room,
    bms/, conf/ and <math.h> are not."""
    owner = {"gw_log": "gateway/core/log.o", "gw_pack_online_at": "gateway/model/units.o",
             "bms_cell_stats": "bms/base/bms.o", "conf_chem_name": "conf/chem.o",
             "gw_limits_floor": "gateway/engine/pack_limits.o"}
    uses = {
        "gateway/engine/a.o": {"gw_log", "bms_cell_stats", "conf_chem_name", "gw_limits_floor", "fmin", "memcpy",
                               "__isoc99_sscanf", "__snprintf_chk", "__asan_report_load8"},
        "gateway/engine/b.o": {"ev_now", "fopen", "clock_gettime", "malloc", "round"},
        "gateway/engine/c.o": {"gw_pack_online_at", "strtod"},
        "gateway/engine/d.o": {"fmax", "qsort", "gw_limits_floor"},
        "gateway/model/x.o": {"gw_log", "fopen", "ev_now"},
    }
    got = pure_faults(owner, uses, {"fmin", "fmax", "round"})
    want = [("gateway/engine/a.o", "gateway/core/log.o", ["gw_log"]),
            ("gateway/engine/b.o", None, ["clock_gettime", "ev_now", "fopen", "malloc"]),
            ("gateway/engine/c.o", "gateway/model/units.o", ["gw_pack_online_at"])]
    ok = got == want
    print("%s self-test: pure calls %s" % ("ok" if ok else "FAIL", got if ok else "%s, expected %s" % (got, want)))
    # made-up text under the names of two files of engine/; each include
    # written as it would be there (and as it resolves from here too)
    good = ["<math.h>", '"pack_limits.h"', '"../../bms/bms.h"', '"../../conf/conf.h"']
    bad = ["<ev.h>", '"../../gateway/model/gw.h"', '"../../gateway/core/log.h"', "<unistd.h>",
           '"../../tests/unit/check.h"']
    first, second = "gateway/engine/pack_limits.c", "gateway/engine/soc.c"
    sources = {first: "".join("#include %s\n" % h for h in good),
               second: "".join("#include %s\n" % h for h in good[:2] + bad[:2]) + "# include %s\n" % bad[2] +
               "".join("#include %s\n" % h for h in bad[3:])}
    got_inc = include_faults(sources)
    want_inc = [(second, h[1:-1]) for h in bad]
    ok_inc = got_inc == want_inc
    print("%s self-test: pure includes %s" % ("ok" if ok_inc else "FAIL",
                                              got_inc if ok_inc else "%s, expected %s" % (got_inc, want_inc)))
    return ok and ok_inc


def self_test_cycles():
    """cycles() on made-up calls (self_test)."""
    calls = {
        "conf/check.o": ["conf/check_http.o"], "conf/check_http.o": ["conf/tls.o"],
        "conf/tls.o": ["conf/check.o"],
        "bms/a.o": ["bms/b.o"], "bms/b.o": ["bms/c.o"], "bms/c.o": ["bms/a.o"],
        "gateway/x/a.o": ["gateway/x/b.o"], "gateway/x/b.o": ["gateway/y/c.o"], "gateway/y/c.o": ["gateway/x/a.o"],
        "registers/a.o": ["registers/b.o"], "registers/b.o": ["registers/a.o"],
        "gateway/z/a.o": ["conf/a.o"], "conf/a.o": ["conf/b.o"], "conf/b.o": ["gateway/z/a.o"],
    }
    e = {f: {g: {"sym"} for g in to} for f, to in calls.items()}
    got = sorted(sorted(comp) for _, comp in cycles(e))
    want = [["bms/a.o", "bms/b.o", "bms/c.o"], ["conf/check.o", "conf/check_http.o", "conf/tls.o"],
            ["gateway/x/a.o", "gateway/x/b.o", "gateway/y/c.o"]]
    ok = got == want
    print("%s self-test: knots %s" % ("ok" if ok else "FAIL", got if ok else "%s, expected %s" % (got, want)))
    return ok


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--self-test":
        sys.exit(0 if self_test() else 1)
    if args and args[0] == "--report":
        sys.exit(0 if report(args[1] if len(args) > 1 else "build") else 1)
    sys.exit(0 if check(args[0] if args else "build") else 1)
