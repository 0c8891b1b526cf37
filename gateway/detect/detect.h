/* SPDX-License-Identifier: MIT */
/* gateway/detect/detect.h - `bmsgw --detect PORT`: which BMS is on this port?
 *
 * A command-line mode with a libev loop of its own, like --ble-scan: it
 * refuses a port another process holds (holders.h), opens it exclusively
 * as the daemon does (wire/serial.c), listens before it sends anything
 * (sniff.h: another master on the line, or a device that talks by itself),
 * then sends each wired protocol's read-only probe (bms.h, struct
 * bms_probe) in the order of plan.h, with a quiet gap before each, takes
 * an answer only with a valid checksum and plausible content, confirms it
 * with a second read, and prints a [pack.NAME] section for what answered.
 * bmsgw(8) "DETECTING A BMS" and bms/PROTOCOLS.md §27.
 */
#ifndef GATEWAY_DETECT_DETECT_H
#define GATEWAY_DETECT_DETECT_H

#include <ev.h>
#include <stdbool.h>
#include <stdio.h>

#define GW_DETECT_LISTEN 1.2    /* s of listening at each rate */
#define GW_DETECT_BUDGET 15.0   /* s a port may take without a sweep */

struct gw_detect_opts {
	const char *port;       /* /dev/... or tcp://HOST:PORT */
	int baud;               /* --baud N: only that rate (0: 115200, 19200, 9600) */
	int address;            /* --address A (-1: each probe's own addresses) */
	bool sweep;             /* --scan-addresses: 0..16 and the special ids */
	bool all;               /* --all: every probe, not only until the first match */
	bool verbose;           /* -v: every request and answer in hex */
	double listen;          /* s of listening at each rate (GW_DETECT_LISTEN) */
	double budget;          /* s at most without a sweep (GW_DETECT_BUDGET; 0 = none) */
};

/* Look at the port; [pack.NAME] sections on out, what was tried on err.
 * Returns the exit code: 0 found, 1 nothing found, 2 the port cannot be
 * used (cannot be opened, held by another process, another master on
 * the line). */
int gw_detect(struct ev_loop *loop, const struct gw_detect_opts *o, FILE *out, FILE *err);

#endif
