#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The layering check of gateway/ (gateway/README.md), over the built objects.

Every defined symbol of an object under BIN/gateway/ belongs to the room
(folder) of its source file; every undefined symbol an object uses is looked
up among them.  A call from a room to a higher one fails, and so does one
between two output rooms (they sit side by side and never call each other).
bms/, registers/ and conf/ are below the whole gateway and may call none of
it.  The order of the rooms is written once, in LAYERS below.

A call cycle longer than two files fails too, among the object files of
gateway/ and among those of each of bms/, registers/ and conf/ (two files
that call each other, a transport and its link helpers, are allowed): such
a knot can only be read and changed as one piece.

    layers.py BIN            check (N passed, N failed; every offending call
                             and every cycle of more than MAX_CYCLE files named)
    layers.py --report BIN   the dependency picture: calls between files, the
                             largest cycle, files per room, and nothing fails
    layers.py --self-test    the cycle search on made-up calls: it must find
                             a knot in each tree and none that is not there
"""
import collections
import os
import subprocess
import sys

# Lowest first.  Rooms on one line are side by side: outputs may not call
# each other.  EXTRA lists the calls across that the design allows.
LAYERS = [
    ["core"],                                    # clock, log, notify, sockets, resolver, retry, JSON, Prometheus
    ["wire"],                                    # the generic link, one file per transport (ble/ too)
    ["detect"],                                  # bmsgw --detect: listen, read-only probes, a [pack] section
    ["model"],                                   # struct gw and packs, units, bank, energy, events, limits
    ["ha"],                                      # Home Assistant: discovery, YAML (configuration in, text out)
    ["poll"],                                    # the bus engine, poller, control, listener
    ["modbus", "mqtt", "history", "tunnel", "inverter", "alerts", "influx"],  # the outputs
    ["web"],                                     # the status page, its API and metrics
    ["daemon"],                                  # lifecycle, reload plan, the service table
    ["modes"],                                   # bmsgw's tool modes, one file each, and the command line
    ["main"],                                    # gateway/main.c, the story of main()
]
EXTRA = {("web", "history")}                     # the page's charts and CSV come from the history
MAX_CYCLE = 2                                    # files in the longest call cycle allowed
BELOW = {"bms", "registers", "conf"}             # pure code under everything
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


def check(bindir):
    owner, uses = load(bindir)
    r = rank()
    passed = failed = 0
    unknown = sorted({room_of(f) for f in uses} - set(r) - BELOW)
    for u in unknown:
        print("FAIL room %s is not in LAYERS (tests/tools/layers.py)" % u)
        failed += 1
    for f, to in sorted(edges(owner, uses).items()):
        a = room_of(f)
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
    cycle that crosses trees is no tree's."""
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
