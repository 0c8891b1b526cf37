/* SPDX-License-Identifier: MIT */
/* gateway/poll/poll.h - a bus: the packs polled on one link.  Its
 * transaction engine (bus_engine.c, bus_engine.h) runs one transaction at a time on the
 * wire for its two clients: the poller (poller.c: the poll steps) and
 * MOSFET control (control.c: the command frames, ahead of the next poll
 * step).  The link is the wire room's (wire/wire.h); the bus is the poll
 * room's side of it.
 *
 * The engine owns the link and hears from it through the link's owner
 * callbacks.  A maintenance tunnel borrows the link: the engine hands it
 * over once the wire is quiet, the tunnel installs itself as the owner, and
 * gives it back with gw_poll_return().
 */
#ifndef GATEWAY_POLL_POLL_H
#define GATEWAY_POLL_POLL_H

#include <ev.h>
#include <stdbool.h>

#include "../model/gw.h"
#include "../wire/wire.h"

/* The engine's state (bus_engine.c). */
enum gw_bus_state {
	GW_BUS_IDLE,        /* no transaction (perhaps waiting for the next pack due) */
	GW_BUS_GAP,         /* silence before a frame */
	GW_BUS_WAIT,        /* waiting for the answer */
};
struct gw_bus_client;
struct gw_ctl;
struct gw_listener;

/* One bus: a link (wire/wire.h) and the packs polled on it. */
struct gw_bus {
	struct gw *gw;
	struct gw_link *link;          /* the transport half */
	struct gw_bus_stats stats;    /* its error counters (its clients count what they frame) */
	struct gw_pack *packs[CONF_MAX_PACKS]; /* the packs on it, in configuration order (gw_bus_attach) */
	int npacks;
	/* the engine's (bus_engine.c) */
	const struct gw_bus_client *clients[2]; /* by enum gw_bus_who (bus_engine.h) */
	enum gw_bus_state ps;
	int who;                       /* the client of the transaction (enum gw_bus_who) */
	struct gw_pack *xp;            /* its pack: the gap, the timeout, the framer */
	bool xwrite;                   /* its gap is the write gap (a control frame) */
	ev_timer poll_timer;           /* gap, response timeout, next due ... */
	int poll_tfd;                  /* ... on this timerfd when there is one (ns precision) */
	ev_io poll_tio;                /* its watcher */
	double gap_started;            /* monotonic start of the current gap */
	struct bms_rx rx;              /* what arrived, for the driver's framer */
	double last_rx;
	bool got_bytes;                /* bytes arrived since the poller began its poll */
	bool kick;                     /* a poll of a driver with messages (mqtt-json) waits and
	                                * rx holds messages that came in between: framed at the
	                                * next turn of the loop (gw_bus_listen) */
	unsigned silent_polls;         /* consecutive polls of any pack without a byte received (the
	                                * poller counts, the engine clears it when the link comes up) */
	bool lent;                     /* the wire is lent to a maintenance tool: no polling */
	bool lending;                  /* ... once the exchange on the wire now is over */
	const struct gw_link_owner *lend_owner; /* the borrower, owner of the link once ready */
	void (*lend_ready)(void *arg); /* tell the borrower the wire is its own */
	void *lend_arg;
	struct gw_listener *li;        /* listen mode (listener.h): another master polls this bus; NULL = none */
	/* the poller's (poller.c) */
	struct gw_pack *cur;           /* pack being polled (also while a control command interrupts it) */
	double settings_poll_at;       /* monotonic start of the last poll on it that asked a pack's
	                                * own settings (0 = none yet): one pack's at a time */
	/* the records a poll of a group's lead gets for the other packs of its
	 * master's answer for all (`position`), until it ends (one poll at a
	 * time on a bus) */
	struct bms_snapshot group[BMS_MAX_GROUP];
	/* MOSFET control's (control.c) */
	struct gw_ctl *ctl;            /* the control command on the wire now, NULL if none */
	int ctl_tries;                 /* failed tries of its current frame */
};

/* The poller's slot of a pack (poller.c alone): its poll in progress, when
 * its next is due, what it read lately.  Made with the pack by the plan
 * (due at once), freed with it; NULL when out of memory; free: NULL is
 * fine. */
struct gw_poll_slot;
struct gw_poll_slot *gw_poll_slot_new(double now);
void gw_poll_slot_free(struct gw_poll_slot *s);
/* bus_engine.c: the plan puts the packs on their bus, in order: none, then each. */
void gw_bus_detach_all(struct gw_bus *w);
void gw_bus_attach(struct gw_bus *w, struct gw_pack *p);
/* What the others may know of a pack's polls: at least one finished
 * (--once). */
bool gw_poll_attempted(const struct gw_pack *p);
/* poller.c: a BMS setting k of p was read back after a change (bmsset.c):
 * what the pack's polls keep of its settings, and the pack's, take it now;
 * the next poll reads the slow values again (a BMS whose current limits
 * are its over-current settings, jk-pb and jk-ble, reports the new ones
 * then, not a refresh later). */
void gw_poll_setting_read(struct gw_pack *p, enum bms_set_key k, float v);

/* poller.c: a bus for the port of cfg, its link closed, its engine's two
 * clients and its listener (listen mode) installed; NULL when out of memory. */
struct gw_bus *gw_bus_new(struct gw *gw, const struct conf_pack *cfg);
/* poller.c: would w listen (or poll) as gw_bus_new(cfg) does?  A reload
 * keeps a wire for new packs only then: a pack turned listening never
 * polls on a wire kept from when it polled. */
bool gw_bus_listens_as(const struct gw_bus *w, const struct conf_pack *cfg);
/* poller.c: a reload attached w's packs again (gw_listener_packs_moved). */
void gw_bus_packs_moved(struct gw_bus *w);
/* bus_engine.c: stop polling, free the link (its borrower hears "gone") and the bus; NULL is fine. */
void gw_bus_free(struct gw_bus *w);
/* bus_engine.c: open the bus's link; the poller starts once it is up. */
void gw_bus_open(struct gw_bus *w);
/* poller.c: abandon the poll in progress (its pack is going away) without counting it. */
void gw_poll_abort(struct gw_bus *w);
/* bus_engine.c: start the pack that is due first, or sleep until it is (after a reload). */
void gw_poll_schedule(struct gw_bus *w);
/* bus_engine.c: a transaction was queued on w (a control command): start it now
 * if the wire is idle (else it goes ahead of the next poll step). */
void gw_poll_kick(struct gw_bus *w);
/* bus_engine.c: lend the wire to a maintenance tool: once the request on the wire (if
 * any) is answered or timed out, polling stops (the poll in progress is
 * abandoned, commands of its packs end with 0x0B), the borrower's o
 * becomes the link's owner and ready(arg) is called.  Until
 * gw_poll_return(), which takes the link back and polls every pack of the
 * wire at once.  A wire freed in between tells the borrower o->gone(). */
void gw_poll_lend(struct gw_bus *w, const struct gw_link_owner *o, void *arg, void (*ready)(void *arg));
/* poller.c */
void gw_poll_return(struct gw_bus *w);
/* bus_engine.c: the bus of the port string, or NULL. */
struct gw_bus *gw_bus_find(const struct gw *gw, const char *port);

#endif
