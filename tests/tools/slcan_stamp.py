#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Stamp every slcan data frame that the daemon writes to a CAN pty: one
line "MONOTONIC_TIME ID READ" per frame into OUT (ID in hex, READ the
number of the read() that brought its end: frames of one read arrived
together, whatever their sender's timing), at real-time priority
(SCHED_FIFO) when the system allows it, else at nice -20, else as it is; the
first line says which ("# SCHED_FIFO").  The pty is its own (openpty, raw;
LINK, made here, names its other end for the daemon): the daemon's bytes
come to it through the kernel's pty alone, with no copier (socat) between
them whose scheduling would move the arrival times.  It keeps that other end
open itself, so that its end never reads EIO while the daemon has it closed
(before it opens it, across a reload).  A process of its own, so that the
arrival times do not wait for the test's own threads; its select() wakes as
the daemon's bytes arrive.  Usage: slcan_stamp.py LINK OUT; ends at
SIGTERM."""
import os
import select
import sys
import time
import tty


def priority():
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))
        return "SCHED_FIFO"
    except (OSError, AttributeError):
        pass
    try:
        os.nice(-20)
        return "nice -20"
    except OSError:
        return "normal priority"


def main():
    link, out = sys.argv[1], sys.argv[2]
    how = priority()
    fd, other = os.openpty()
    tty.setraw(fd)
    tty.setraw(other)
    tmp = link + ".new"
    os.symlink(os.ttyname(other), tmp)
    os.rename(tmp, link)
    with open(out, "w", buffering=1) as f:
        f.write("# %s\n" % how)
        buf = b""
        reads = 0
        while True:
            r, _, _ = select.select([fd], [], [], 0.5)
            if not r:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return 0
            if not chunk:
                return 0
            t = time.monotonic()
            reads += 1
            buf += chunk
            while b"\r" in buf:
                line, buf = buf.split(b"\r", 1)
                line = line.lstrip(b"\n")
                if line[:1] in (b"t", b"T") and len(line) >= 5:
                    ident = line[1:4] if line[:1] == b"t" else line[1:9]
                    f.write("%.6f %s %d\n" % (t, ident.decode("ascii", "replace"), reads))
            if len(buf) > 4096:
                buf = b""


if __name__ == "__main__":
    sys.exit(main())
