/* SPDX-License-Identifier: MIT */
/* gateway/poll/poll.h - a bus: the packs polled on one link, one
 * transaction at a time (poller.c), and the MOSFET commands that go
 * between two poll steps (control.c).  The link is the wire room's
 * (wire/wire.h); the bus is the poller's side of it.
 *
 * The poller owns its link (wire/wire.h) and hears from it through the
 * link's owner callbacks.  A maintenance tunnel borrows the link: the
 * poller hands it over once the wire is quiet, the tunnel installs itself
 * as the owner, and gives it back with gw_poll_return().
 */
#ifndef GATEWAY_POLL_POLL_H
#define GATEWAY_POLL_POLL_H

#include <ev.h>
#include <stdbool.h>

#include "../model/gw.h"
#include "../wire/wire.h"

enum gw_poll_state {
	GW_POLL_IDLE,
	GW_POLL_GAP,        /* silence before a poll request */
	GW_POLL_WAIT,       /* waiting for the answer to a poll request */
	GW_POLL_CTL_GAP,    /* silence before a control frame */
	GW_POLL_CTL_WAIT,   /* waiting for the acknowledgement of a control frame */
};
struct gw_ctl;
struct gw_listener;

/* One bus: a link (wire/wire.h) and the packs polled on it. */
struct gw_bus {
	struct gw *gw;
	struct gw_link *link;          /* the transport half */
	struct gw_bus_stats stats;    /* its error counters (the poller frames what arrives) */
	struct gw_pack *packs[CONF_MAX_PACKS]; /* the packs on it, in configuration order (gw_bus_attach) */
	int npacks;
	struct gw_pack *cur;           /* pack being polled (also while a control command interrupts it) */
	struct gw_ctl *ctl;            /* the control command on the wire now, NULL if none */
	int ctl_tries;                 /* failed tries of its current frame */
	enum gw_poll_state ps;
	ev_timer poll_timer;           /* gap, response timeout, next due ... */
	int poll_tfd;                  /* ... on this timerfd when there is one (ns precision) */
	ev_io poll_tio;                /* its watcher */
	double gap_started;            /* monotonic start of the current gap */
	struct bms_rx rx;              /* what arrived, for the driver's framer */
	/* the records a poll of a group's lead gets for the other packs of its
	 * master's answer for all (`position`), until it ends (one poll at a
	 * time on a bus) */
	struct bms_snapshot group[BMS_MAX_GROUP];
	double last_rx;
	unsigned silent_polls;         /* consecutive polls of any pack without a byte received */
	bool got_bytes;                /* bytes arrived during the current poll */
	bool lent;                     /* the wire is lent to a maintenance tool: no polling */
	bool lending;                  /* ... once the exchange on the wire now is over */
	const struct gw_link_owner *lend_owner; /* the borrower, owner of the link once ready */
	void (*lend_ready)(void *arg); /* tell the borrower the wire is its own */
	void *lend_arg;
	struct gw_listener *li;        /* listen mode (listener.h): another master polls this bus; NULL = none */
};

/* The poller's slot of a pack (poller.c alone): its poll in progress, when
 * its next is due, what it read lately.  Made with the pack by the plan
 * (due at once), freed with it; NULL when out of memory; free: NULL is
 * fine. */
struct gw_poll_slot;
struct gw_poll_slot *gw_poll_slot_new(double now);
void gw_poll_slot_free(struct gw_poll_slot *s);
/* The plan puts the packs on their bus, in order: none, then each. */
void gw_bus_detach_all(struct gw_bus *w);
void gw_bus_attach(struct gw_bus *w, struct gw_pack *p);
/* What the others may know of a pack's polls: at least one finished
 * (--once); when the last began (monotonic; a MOSFET command's
 * read-back); what its driver keeps across polls (struct bms_poll.persist,
 * for its control frames). */
bool gw_poll_attempted(const struct gw_pack *p);
double gw_poll_started(const struct gw_pack *p);
uint32_t gw_poll_persist(const struct gw_pack *p);

/* A bus for the port of cfg, its link closed; NULL when out of memory. */
struct gw_bus *gw_bus_new(struct gw *gw, const struct conf_pack *cfg);
/* Stop polling, free the link (its borrower hears "gone") and the bus; NULL is fine. */
void gw_bus_free(struct gw_bus *w);
/* Open the bus's link; the poller starts once it is up. */
void gw_bus_open(struct gw_bus *w);
/* Abandon the poll in progress (its pack is going away) without counting it. */
void gw_poll_abort(struct gw_bus *w);
/* Start the pack that is due first, or sleep until it is (after a reload). */
void gw_poll_schedule(struct gw_bus *w);
/* A control command was queued on w: start it now if the wire is idle (else
 * it goes ahead of the next poll step). */
void gw_poll_kick(struct gw_bus *w);
/* Stop the control command on the wire (its deadline passed); polling goes on. */
void gw_poll_control_abort(struct gw_bus *w);
/* Lend the wire to a maintenance tool: once the request on the wire (if
 * any) is answered or timed out, polling stops (the poll in progress is
 * abandoned, commands of its packs end with 0x0B), the borrower's o
 * becomes the link's owner and ready(arg) is called.  Until
 * gw_poll_return(), which takes the link back and polls every pack of the
 * wire at once.  A wire freed in between tells the borrower o->gone(). */
void gw_poll_lend(struct gw_bus *w, const struct gw_link_owner *o, void *arg, void (*ready)(void *arg));
void gw_poll_return(struct gw_bus *w);
/* The bus of the port string, or NULL. */
struct gw_bus *gw_bus_find(const struct gw *gw, const char *port);

#endif
