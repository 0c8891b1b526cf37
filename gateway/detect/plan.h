/* SPDX-License-Identifier: MIT */
/* gateway/detect/plan.h - which probes `bmsgw --detect` sends, in which order,
 * and what that costs (bms/PROTOCOLS.md §27).  Pure.
 *
 * The rates are listened to in the order 115200, 19200, 9600 and probed
 * in the order 115200, 9600, 19200 (JK first, the most used; then the
 * many 9600 protocols, Sinowealth last of them; then Seplos and Daren at
 * 19200).  Within a rate the probes go by their rank (bms.h, struct
 * bms_probe), each at the rates its protocol is known to run at.  A sweep
 * goes address by address, every probe at each, so that a pack at a low
 * address is found early.  A driver without a probe is not in the plan.
 */
#ifndef GATEWAY_DETECT_PLAN_H
#define GATEWAY_DETECT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bms/bms.h"

/* One probe of one driver at one rate and address. */
struct gw_detect_try {
	const struct bms_driver *drv;
	int baud;               /* 0: a TCP serial server's own */
	uint8_t address;
	uint8_t tries;          /* requests before it counts as unanswered */
};

struct gw_plan_opts {
	bool tcp;               /* a TCP serial server: one listen, every probe once */
	int baud;               /* --baud: every probe at that rate only (0: their own rates) */
	int address;            /* --address: that address only (-1: each probe's own) */
	bool sweep;             /* --scan-addresses: 0..16 and the probes' special ids */
};

#define GW_PLAN_MAX 2048
#define GW_PLAN_LISTEN 3

/* The rates listened to, in order, into bauds[]: their count (a TCP
 * server: one, 0). */
int gw_plan_listen(const struct gw_plan_opts *o, int bauds[GW_PLAN_LISTEN]);
/* Does driver d's probe recognise a talking device at rate baud? */
bool gw_plan_listens_at(const struct gw_plan_opts *o, const struct bms_driver *d, int baud);
/* The tries in order into out[0..cap): their count. */
size_t gw_plan_build(const struct gw_plan_opts *o, struct gw_detect_try *out, size_t cap);
/* The silence before a try's request and the wait for its answer (s). */
double gw_plan_gap(const struct gw_detect_try *t);
double gw_plan_timeout(const struct gw_detect_try *t);
/* The seconds a request of n bytes takes on the wire at the try's rate. */
double gw_plan_wire(const struct gw_detect_try *t, size_t n);
/* What a try costs when nothing answers (s): its gaps, requests, waits,
 * and 8 ms a request of the loop's own latency. */
double gw_plan_cost(const struct gw_detect_try *t);

#endif
