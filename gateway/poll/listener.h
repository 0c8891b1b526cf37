/* SPDX-License-Identifier: MIT */
/* gateway/poll/listener.h - listen mode: a bus another master polls
 * (`listen = true`, bms/bus.h).  The listener is the bus's reader: it
 * frames what it hears, pairs each answer with the request before it,
 * gives it to the pack at its address, and commits that pack's poll
 * through the poller (struct gw_listener_ops) when the master's round for it is
 * complete.  It never writes.  With takeover_after it lets the poller poll
 * once no master was heard for that long, and takes the bus back at the
 * master's first request.
 */
#ifndef GATEWAY_POLL_LISTENER_H
#define GATEWAY_POLL_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poll.h"

struct gw_listener;

/* What the listener asks of the poller (poller.c gives them): commit a
 * poll of p that was heard (begun at `started`), judged by the driver's
 * finish() and the plausibility table like one of the poller's own; fail
 * p when nothing usable was heard of it (it goes stale by age); let the
 * poller poll (the bus taken over); take the bus back (the master is back:
 * the poll in progress is abandoned). */
struct gw_listener_ops {
	void (*heard)(struct gw_bus *w, struct gw_pack *p, struct bms_poll *poll, double started);
	void (*unheard)(struct gw_bus *w, struct gw_pack *p, const char *why);
	void (*take)(struct gw_bus *w);
	void (*yield)(struct gw_bus *w);
};

/* A listener for bus w (cfg: its first pack); NULL when out of memory. */
struct gw_listener *gw_listener_new(struct gw_bus *w, const struct conf_pack *cfg, const struct gw_listener_ops *ops);
void gw_listener_free(struct gw_listener *li);
/* Does li listen as a bus whose first pack is cfg would (its protocol's
 * listening, takeover_after)?  A reload keeps a wire only then. */
bool gw_listener_same(const struct gw_listener *li, const struct conf_pack *cfg);
/* A reload attached the bus's packs again: each kept pack keeps what was
 * heard of it (whatever its place now), a new one starts from nothing,
 * never from what was heard of the pack that had its place. */
void gw_listener_packs_moved(struct gw_listener *li);
/* The link is up: listening starts (the takeover clock with it). */
void gw_listener_up(struct gw_listener *li);
/* Bytes heard.  True when the listener took them (listening); false when
 * the poller has the bus (taken over) and they are its answers too. */
bool gw_listener_bytes(struct gw_listener *li, const uint8_t *p, size_t n);
/* May the poller poll (the bus taken over)? */
bool gw_listener_polls(const struct gw_listener *li);
/* The poller sent req (taken over): heard back, it is its own echo. */
void gw_listener_sent(struct gw_listener *li, const uint8_t *req, size_t n);

/* What the listener has heard (/api/state). */
struct gw_listener_info {
	double master_ago;        /* s since the master was last heard (-1: never) */
	bool taken;               /* the poller polls: no master heard for takeover_after */
	unsigned long frames;     /* frames heard */
	unsigned long answers;    /* answers heard */
	unsigned long taken_answers; /* ... that a pack of this bus took */
	unsigned long noise;      /* bytes in no frame (garbage, collisions, another rate) */
};
void gw_listener_info(const struct gw_listener *li, struct gw_listener_info *out);

#endif
