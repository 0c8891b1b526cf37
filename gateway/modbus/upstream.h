/* SPDX-License-Identifier: MIT */
/* gateway/modbus/upstream.h - push a unit's register image to another Modbus TCP
 * server with FC16 ([upstream.NAME] sections). */
#ifndef GATEWAY_MODBUS_UPSTREAM_H
#define GATEWAY_MODBUS_UPSTREAM_H

#include <stdbool.h>

struct gw;
struct gw_upstream;
struct conf_upstream;

/* The pushers of gw->conf from the running ones (list `old`, NULL at
 * start): one per [upstream.*] section (non-blocking; each connects, pushes
 * every `interval` and reconnects on its own).  Pushers whose settings did
 * not change keep running as they are; the others stop.  Returns the new
 * list. */
struct gw_upstream *gw_upstreams_apply(struct gw *gw, struct gw_upstream *old);
/* The copy of [upstream.NAME] the pusher of that name runs on, NULL: none. */
const struct conf_upstream *gw_upstream_conf(const struct gw_upstream *list, const char *name);
/* Stop and free them all; NULL is fine. */
void gw_upstreams_free(struct gw_upstream *list);

/* What /api/state and /metrics show of a pusher (modbus.c). */
struct gw_upstream_info {
	const struct conf_upstream *cfg;  /* its section */
	bool connected;                   /* its connection is up */
	bool source_stale;                /* its source is stale: only the failure flag is pushed */
	unsigned long pushes;             /* pushes whose every write the server took */
	unsigned long failures;           /* writes refused (an exception), not answered or answered
	                                   * with what is not FC16's, connections lost while waiting */
	int last_exception;               /* the code of the last refusal, 0 = none since a write was taken */
	const struct gw_upstream *next;   /* the next pusher of the list, NULL: none */
};
void gw_upstream_info(const struct gw_upstream *u, struct gw_upstream_info *out);

#endif
