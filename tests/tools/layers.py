#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The layering check of gateway/ (gateway/README.md), over the built objects.

Every defined symbol of an object under BIN/gateway/ belongs to the room
(folder) of its source file; every undefined symbol an object uses is looked
up among them.  A call from a room to a higher one fails, and so does one
between two output rooms (they sit side by side and never call each other).
bms/, registers/ and conf/ are below the whole gateway and may call none of
it.  The order of the rooms is written once, in LAYERS below.

A call cycle among gateway/ object files longer than two files fails too
(two files that call each other, a transport and its link helpers, are
allowed): such a knot can only be read and changed as one piece.

    layers.py BIN            check (N passed, N failed; every offending call
                             and every cycle of more than MAX_CYCLE files named)
    layers.py --report BIN   the dependency picture: calls between files, the
                             largest cycle, files per room, and nothing fails
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
    ["modbus", "mqtt", "history", "tunnel", "inverter"],  # the outputs
    ["web"],                                     # the status page, its API and metrics
    ["daemon"],                                  # lifecycle, reload plan, the service table
    ["main"],                                    # gateway/main.c, the story of main()
]
EXTRA = {("web", "history")}                     # the page's charts and CSV come from the history
MAX_CYCLE = 2                                    # files in the longest call cycle allowed
BELOW = {"bms", "registers", "conf"}             # pure code under everything


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


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defs, undef = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBRCW":
            defs.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            undef.add(f[1])
    return defs, undef


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
    for o in sorted(objs):
        rel = os.path.relpath(o, bindir)
        defs, undef = symbols(o)
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


def gateway_graph(e):
    """The calls between gateway/ object files: file -> set of files."""
    return {f: {g for g in to if g.startswith("gateway/")} for f, to in e.items() if f.startswith("gateway/")}


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
    """Every knot of more than MAX_CYCLE files that call each other round:
    (one cycle of more than MAX_CYCLE files in it, the knot's files)."""
    graph = gateway_graph(e)
    return [(long_cycle(graph, set(comp)), comp)
            for comp in sorted(sccs(graph), key=min) if len(comp) > MAX_CYCLE]


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
    graph = gateway_graph(e)
    big = max(sccs(graph), key=len)
    print("gateway object files: %d" % len([f for f in uses if f.startswith("gateway/")]))
    print("largest cycle: %d file(s)%s" % (len(big), (": " + " ".join(sorted(big))) if len(big) > 1 else ""))
    per = collections.Counter(room_of(f) for f in uses if f.startswith("gateway/"))
    print("files per room: " + ", ".join("%s %d" % kv for kv in sorted(per.items())))
    return True


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--report":
        sys.exit(0 if report(args[1] if len(args) > 1 else "build") else 1)
    sys.exit(0 if check(args[0] if args else "build") else 1)
