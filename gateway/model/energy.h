/* gateway/model/energy.h - energy charged into and discharged from a pack or the
 * bank, integrated from power over good polls, for Home Assistant's Energy
 * dashboard (and the registers 119-122), kept across restarts in a small
 * state file written atomically. */
#ifndef GATEWAY_MODEL_ENERGY_H
#define GATEWAY_MODEL_ENERGY_H

#include <stdbool.h>

struct gw;
struct gw_pack;

struct gw_energy {
	double in_kwh, out_kwh;        /* charged (power > 0), discharged (power < 0) */
	bool have_last;                /* last_t / last_w hold the previous sample */
	double last_t;                 /* monotonic seconds */
	double last_w;
	bool dirty;                    /* changed since the state file was written */
};

/* Pure: add a power sample (watts, + = charging) taken at monotonic time t.
 * The energy between the previous sample and this one is the area under
 * the straight line joining them, split at the zero crossing into charge
 * and discharge.  No energy is added across a gap longer than max_gap (a
 * stale or restarted pack): the sample only starts a new segment. */
void gw_energy_add(struct gw_energy *e, double t, double watts, double max_gap);
/* Forget the previous sample (the source went stale). */
void gw_energy_break(struct gw_energy *e);

/* The state file in use ("" = none): [gateway] state_file, else
 * $STATE_DIRECTORY/state (systemd's StateDirectory=), else
 * /var/lib/bmsgw/state (the directory is made when missing:
 * core/statedir.h); "none" = none. */
void gw_energy_path(const struct gw *gw, char *out, size_t cap);
/* Read the counters of the configured packs and the bank from the state
 * file (those it does not name start at 0); a missing file is no error. */
void gw_energy_load(struct gw *gw);
/* The same for one pack only (a pack added by a reload). */
void gw_energy_restore(struct gw *gw, const char *name, struct gw_energy *e);
/* What the state file holds of pack p besides its energy: the MOSFET
 * intent (what bmsgw last switched, JBD writes both FETs from it) and the
 * time it was last full (the charge limits' full-charge request). */
void gw_state_restore_pack(struct gw *gw, struct gw_pack *p);
/* Write every counter to the state file (temporary file, fsync, rename) if
 * any changed, the last write failed, or `force`: the content is taken now
 * and written by a thread (never waits for the disk).  A failure is logged
 * once, at the next save, until it works again. */
void gw_energy_save(struct gw *gw, bool force);
/* Wait until what was handed over is on disk, and log its outcome (at the
 * end; the tests). */
void gw_energy_flush(struct gw *gw);

#endif
