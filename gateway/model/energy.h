/* SPDX-License-Identifier: MIT */
/* gateway/model/energy.h - energy charged into and discharged from a pack or the
 * bank, integrated from power over good polls, for Home Assistant's Energy
 * dashboard (and the registers 119-122), kept across restarts in the state
 * file (model/statefile.h: its records "pack" and "bank"). */
#ifndef GATEWAY_MODEL_ENERGY_H
#define GATEWAY_MODEL_ENERGY_H

#include <stdbool.h>

struct gw;
struct gw_pack;
struct gw_state_record;

struct gw_energy {
	double in_kwh, out_kwh;        /* charged (power > 0), discharged (power < 0) */
	bool have_last;                /* last_t / last_w hold the previous sample */
	double last_t;                 /* monotonic seconds */
	double last_w;
};

/* Pure: add a power sample (watts, + = charging) taken at monotonic time t.
 * The energy between the previous sample and this one is the area under
 * the straight line joining them, split at the zero crossing into charge
 * and discharge.  No energy is added across a gap longer than max_gap (a
 * stale or restarted pack): the sample only starts a new segment.  True
 * if the counters grew. */
bool gw_energy_add(struct gw_energy *e, double t, double watts, double max_gap);
/* Forget the previous sample (the source went stale). */
void gw_energy_break(struct gw_energy *e);
/* A poll of p committed a snapshot: the counters of p and of its bank
 * (the state file hears of a change). */
void gw_energy_polled(struct gw *gw, struct gw_pack *p);

/* The state file's records of the counters (model/statefile.h):
 * "pack NAME IN OUT" and "bank IN OUT", kWh. */
extern const struct gw_state_record gw_energy_pack_record, gw_energy_bank_record;

#endif
