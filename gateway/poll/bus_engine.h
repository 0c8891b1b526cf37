/* SPDX-License-Identifier: MIT */
/* gateway/poll/bus_engine.h - the transaction engine of a bus (bus_engine.c): one
 * transaction at a time on the wire, as mbusd runs one queue per port.
 *
 * A transaction is a gap of silence, a frame sent (or none: the BMS talks by
 * itself), and the frames of its answer until its client says it is over
 * or its timeout.  The engine owns the wire's timing (the gap, the timeout,
 * the next due time), what arrives (framed by the driver of the
 * transaction's pack) and the link's owner callbacks; what a transaction
 * means is its client's.  Two clients share a bus, asked in this order
 * whenever the wire is free and at the end of every gap: MOSFET control
 * (control.c: a command goes ahead of the next poll step) and the poller
 * (poller.c: the poll steps).  The engine names neither: it calls them
 * through struct gw_bus_client.
 *
 * The engine starts nothing while the daemon stops, while the wire is lent
 * to a maintenance tool, or while another master polls the bus (listen
 * mode: the listener hears, nobody writes).
 */
#ifndef GATEWAY_POLL_BUS_H
#define GATEWAY_POLL_BUS_H

#include "poll.h"

/* The clients of a bus, in the order they are asked. */
enum gw_bus_who { GW_BUS_CONTROL, GW_BUS_POLL, GW_BUS_CLIENTS };

/* Why a client's transactions end without their answer. */
enum gw_bus_stop {
	GW_BUS_DOWN,  /* the link went down */
	GW_BUS_LENT,  /* the wire goes to a maintenance tool (gw_poll_lend) */
	GW_BUS_GONE,  /* the bus is freed, or the link is gone under its borrower */
};

struct gw_bus_client {
	/* The wire is free: start a transaction (gw_bus_gap(), or end at once)
	 * and say true; false when there is nothing to do.  A client may ask
	 * to be asked again later (gw_bus_wake()). */
	bool (*start)(struct gw_bus *w);
	/* The gap before its frame is over: gw_bus_send() it, gw_bus_listen(),
	 * or end (gw_bus_release()). */
	void (*send)(struct gw_bus *w);
	/* A complete frame of the answer it waits for: BMS_FRAME_MORE to take
	 * the next, BMS_FRAME_STOP once it moved on (a gap, a retry, the end). */
	enum bms_frame_next (*frame)(struct gw_bus *w, const uint8_t *f, size_t fl);
	/* No complete answer within the pack's timeout. */
	void (*timeout)(struct gw_bus *w);
	/* Its transactions end without the wire (the engine is idle already;
	 * it asks the clients again itself, unless the wire is lent or gone). */
	void (*stop)(struct gw_bus *w, enum gw_bus_stop why);
	/* The driver's session of pack p that this client keeps (its framing
	 * context and what it keeps across polls), or NULL: the poller's. */
	struct bms_poll *(*session)(const struct gw_pack *p);
};

/* A bus on link (owned from now on: freed with the bus), with its clients
 * (clients[GW_BUS_CONTROL], clients[GW_BUS_POLL]); NULL when out of memory
 * (the link is freed). */
struct gw_bus *gw_bus_make(struct gw *gw, struct gw_link *link, const struct gw_bus_client *const *clients);

/* Client who's transaction on pack p begins (or goes on) with the gap
 * before a frame (write: a control frame, the protocol's write gap). */
void gw_bus_gap(struct gw_bus *w, enum gw_bus_who who, struct gw_pack *p, bool write);
/* After the gap: stale bytes are dropped, req goes out, its answer is
 * awaited for the pack's timeout.  -1 when the link went down on it (the
 * clients heard stop(GW_BUS_DOWN) already). */
int gw_bus_send(struct gw_bus *w, const uint8_t *req, size_t n);
/* The same for a request that holds a secret (a BMS's PIN: the driver's
 * bms_poll.secret_req): the link logs its length only. */
int gw_bus_send_secret(struct gw_bus *w, const uint8_t *req, size_t n);
/* After the gap: nothing is sent, the BMS talks by itself: wait for its
 * frames from a clean start, for the pack's timeout. */
void gw_bus_listen(struct gw_bus *w);
/* The client's transaction is over: the engine asks the clients again. */
void gw_bus_release(struct gw_bus *w);
/* The transaction on the wire ends here, the engine idle, nobody asked
 * (the caller asks with gw_bus_next() when it is ready). */
void gw_bus_abort(struct gw_bus *w);
/* Ask the clients, in order, if the wire is idle. */
void gw_bus_next(struct gw_bus *w);
/* Idle: ask the clients again after `after` s (the next pack due). */
void gw_bus_wake(struct gw_bus *w, double after);
/* A lend waits for the end of the exchange on the wire: true when the wire
 * went to the borrower now (the client's transaction is over). */
bool gw_bus_lent_now(struct gw_bus *w);
/* gw_poll_return(): the link is the engine's again.  False when the tool
 * left before it had the wire (nothing was stopped). */
bool gw_bus_take_back(struct gw_bus *w);
/* The session of pack p (struct gw_bus_client.session), or NULL. */
struct bms_poll *gw_bus_session(struct gw_bus *w, const struct gw_pack *p);

#endif
