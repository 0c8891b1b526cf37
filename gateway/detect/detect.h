/* SPDX-License-Identifier: MIT */
/* gateway/detect/detect.h - `bmsgw --detect PORT`: which BMS is on this port?
 *
 * A command-line mode with a libev loop of its own, like --ble-scan: it
 * refuses a port another process holds (holders.h), opens it exclusively
 * as the daemon does (wire/serial.c), listens before it sends anything
 * (sniff.h: another master on the line, or a device that talks by itself),
 * then sends each wired protocol's read-only probe (bms.h, struct
 * bms_probe) in the order of probe_order.h, with a quiet gap before each, takes
 * an answer only with a valid checksum and plausible content, confirms it
 * with a second read, and prints a [pack.NAME] section for what answered.
 * A CAN port (can0, slcan://...) is only listened to (canport.c).
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
	const char *port;       /* /dev/..., tcp://HOST:PORT, or a CAN port (can0, slcan://...) */
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
 * the line).  The tool mode: a loop of its own, run until the end. */
int gw_detect(struct ev_loop *loop, const struct gw_detect_opts *o, FILE *out, FILE *err);

/* The same as a job on a loop that does other things (the daemon's setup
 * API): started, it ends through done(arg, rc) with the exit code above;
 * done may not free the detector (free it later, from the loop). */
struct gw_detect;
struct gw_link;
struct gw_link_env;
typedef void gw_detect_done_cb(void *arg, int rc);
/* A detector of o's port (o and its port copied); NULL when out of memory. */
struct gw_detect *gw_detect_new(struct ev_loop *loop, const struct gw_detect_opts *o, FILE *out, FILE *err,
				gw_detect_done_cb *done, void *arg);
/* Open the port itself (links through env: its loop and resolver), after
 * the checks of the tool: done is called, at once or later. */
void gw_detect_open(struct gw_detect *d, struct gw_link_env *env);
/* For a port the daemon has open: gw_detect_lent() names the link, then
 * the bus lends it (gw_poll_lend() with gw_detect_link_owner(), d as the
 * argument and gw_detect_borrowed as the ready callback, which starts the
 * detection once the wire is quiet).  At the end the link's baud rate is
 * its configuration's again; it is never closed nor freed by the
 * detector.  A lent link freed meanwhile ends the detection (rc 2). */
void gw_detect_lent(struct gw_detect *d, struct gw_link *link);
const struct gw_link_owner *gw_detect_link_owner(void);
void gw_detect_borrowed(void *d);
/* Ends a detection that runs (rc 1, "stopped"); nothing after the end. */
void gw_detect_stop(struct gw_detect *d, const char *why);
/* How far it got, 0..1. */
double gw_detect_progress(const struct gw_detect *d);
/* What was found, as its [pack.NAME] section says: 0 past the last. */
struct gw_detect_found {
	char name[64];
	const char *protocol;
	int baud;                       /* 0: a TCP serial server's own */
	int address;                    /* -1: the protocol has none */
	bool address_any, listen;
	char what[128];                 /* what it said of itself */
};
bool gw_detect_found(const struct gw_detect *d, int i, struct gw_detect_found *f);
/* A lent link its lender freed meanwhile (never to be given back). */
bool gw_detect_lost_link(const struct gw_detect *d);
/* The link is let go (a borrowed one is left as it is), d freed; NULL is fine. */
void gw_detect_free(struct gw_detect *d);

#endif
