/* SPDX-License-Identifier: MIT */
/* gateway/model/events.h - what happens in the model, told to the outputs.
 *
 * The lower layers never name an output: a poll that finished and a second
 * that passed are told here, and reach every running output through its
 * row of the service table (model/service.h) in the table's order (as
 * mosquitto's plugin__handle_tick() walks its callbacks), then the
 * optional on_poll subscriber (--once).  A reload reaches them through the
 * table's prepare / commit.
 */
#ifndef GATEWAY_MODEL_EVENTS_H
#define GATEWAY_MODEL_EVENTS_H

#include <stdbool.h>

struct gw;
struct gw_pack;

/* A poll of p finished (ok: a new snapshot was committed), told by the one
 * end of a poll, gw_pack_polled() (model/pack.c), once the snapshot is
 * committed whole: its SOC step done (the counted SOC, once synced, in
 * the snapshot and the registers already, encoded once) before anyone
 * reads it.  First the model's own bookkeeping (the energy counters of the
 * pack and of its bank, the charge limits of both), then every output,
 * then gw->on_poll.  The poller ends a MOSFET command this poll confirms
 * only after this, so that an MQTT client sees the switched state before
 * the command's "done". */
void gw_emit_polled(struct gw *gw, struct gw_pack *p, bool ok);
/* A second passed (the daemon's tick): the bank's state (a member gone
 * stale since; model/bankstate.h), the charge limits (holds, ramps, a pack
 * gone stale), then every output's tick. */
void gw_emit_tick(struct gw *gw, double now);

#endif
