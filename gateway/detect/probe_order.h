/* SPDX-License-Identifier: MIT */
/* gateway/detect/probe_order.h - which probes `bmsgw --detect` sends, in which order,
 * and what that costs (bms/PROTOCOLS.md §27).  Pure.
 *
 * The rates are listened to in the order 115200, 19200, 9600: the first
 * for the whole window, the others, while everything heard so far was
 * silence, for GW_PLAN_QUIET each (a line is quiet at every rate; a byte
 * heard makes the window whole).  They are probed in the order 115200,
 * 9600, 19200 (JK first, the most used; then the many 9600 protocols,
 * Sinowealth last of them; then Seplos and Daren at 19200), all the
 * probes of one rate back to back, so that the port's rate is set once a
 * rate.  A rate where listening heard the signatures of a family
 * (hints.h) is probed first, that family's probes first; otherwise within
 * a rate the probes go by their rank (bms.h, struct bms_probe), each at
 * the rates its protocol is known to run at.  A sweep goes address by
 * address, every probe at each, so that a pack at a low address is found
 * early.  A driver without a probe is not in the plan.
 *
 * What a probe costs comes from its table: its gap, its request's bytes
 * at its rate, its wait and tries.  The gap is silence on the line, and
 * a wait that ran out was silence too: a try after another at the same
 * rate waits only what its gap is longer than that wait (nothing, with
 * the tables of now); the first try at a rate waits its whole gap.
 * gw_plan_worst() adds it up with the listening: the worst case of a port
 * where nothing answers, which must stay within the 15 s budget
 * (tests/unit/test_detect.c asserts it, with room for the protocols to
 * come).
 */
#ifndef GATEWAY_DETECT_PLAN_H
#define GATEWAY_DETECT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bms/bms.h"
#include "hints.h"

/* One probe of one driver at one rate and address. */
struct gw_detect_try {
	const struct bms_driver *drv;
	int baud;               /* 0: a TCP serial server's own */
	uint8_t address;
	uint8_t tries;          /* requests before it counts as unanswered */
};

#define GW_PLAN_MAX 2048
#define GW_PLAN_LISTEN 3
/* s of listening at each rate after the first while all was silence */
#define GW_PLAN_QUIET 0.4

/* What listening heard at each rate it listened to: the signatures of
 * each family in the bytes that formed no frame (hints.h). */
struct gw_plan_heard {
	int n;
	int bauds[GW_PLAN_LISTEN];
	unsigned sig[GW_PLAN_LISTEN][GW_FAMILIES];
};

struct gw_plan_opts {
	bool tcp;               /* a TCP serial server: one listen, every probe once */
	int baud;               /* --baud: every probe at that rate only (0: their own rates) */
	int address;            /* --address: that address only (-1: each probe's own) */
	bool sweep;             /* --scan-addresses: 0..16 and the probes' special ids */
};

/* The rates listened to, in order, into bauds[]: their count (a TCP
 * server: one, 0). */
int gw_plan_listen(const struct gw_plan_opts *o, int bauds[GW_PLAN_LISTEN]);
/* Does driver d's probe recognise a talking device at rate baud? */
bool gw_plan_listens_at(const struct gw_plan_opts *o, const struct bms_driver *d, int baud);
/* The tries in order into out[0..cap): their count. */
size_t gw_plan_build(const struct gw_plan_opts *o, struct gw_detect_try *out, size_t cap);
/* The same ranked by what listening heard (NULL: nothing). */
size_t gw_plan_build_heard(const struct gw_plan_opts *o, const struct gw_plan_heard *heard, struct gw_detect_try *out,
			   size_t cap);
/* The silence before a try's request and the wait for its answer (s). */
double gw_plan_gap(const struct gw_detect_try *t);
double gw_plan_timeout(const struct gw_detect_try *t);
/* The seconds a request of n bytes takes on the wire at the try's rate. */
double gw_plan_wire(const struct gw_detect_try *t, size_t n);
/* What a try costs when nothing answers (s): its gaps, requests, waits,
 * and 8 ms a request of the loop's own latency. */
double gw_plan_cost(const struct gw_detect_try *t);
/* The same after try prev (NULL: the first at its rate): each gap less
 * the silence of the wait before it (the run does the same, probing.c). */
double gw_plan_cost_after(const struct gw_detect_try *prev, const struct gw_detect_try *t);
/* The probes p[0..n) in that order when nothing answers (s). */
double gw_plan_probes(const struct gw_detect_try *p, size_t n);
/* The listening, window s at the first rate (s). */
double gw_plan_listening(const struct gw_plan_opts *o, double window);
/* The worst case of a port where nothing answers: the listening and the
 * plan p[0..n) (s). */
double gw_plan_worst(const struct gw_plan_opts *o, double window, const struct gw_detect_try *p, size_t n);
/* The framing family of a try's request (hints.h). */
enum gw_family gw_plan_family(const struct gw_detect_try *t);

#endif
