/* SPDX-License-Identifier: MIT */
/* gateway/modbus/upstream.h - push a unit's register image to another Modbus TCP
 * server with FC16 ([upstream.NAME] sections). */
#ifndef GATEWAY_MODBUS_UPSTREAM_H
#define GATEWAY_MODBUS_UPSTREAM_H

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

#endif
