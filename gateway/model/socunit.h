/* SPDX-License-Identifier: MIT */
/* gateway/model/socunit.h - the counted SOC of the daemon's packs and bank:
 * the estimator of soc.h run on every good poll, kept in the state file,
 * and what each unit publishes of it (design: bmsgw-bms(7) "THE COUNTED
 * SOC").
 *
 * Each pack holds a struct gw_socunit, written by socunit.c alone.  With
 * [soc] source = counted a synced count is the SOC the pack carries
 * (offset 0/60, JSON "soc", MQTT, the page, [limits], the inverters):
 * the end of a poll (gw_pack_polled(), model/pack.c) steps the count on
 * the committed snapshot and puts what gw_soc_polled() returns in it
 * before the registers are encoded, once;
 * until the count is synced the BMS's SOC is carried, never a guess.
 */
#ifndef GATEWAY_MODEL_SOCUNIT_H
#define GATEWAY_MODEL_SOCUNIT_H

#include <stdbool.h>

#include "../engine/soc.h"

struct gw;
struct gw_pack;
struct gw_state_record;

/* Why a pack that is to count ([soc] count) has not started: what the
 * estimator's step (soc.h) lacked at its last good poll. */
enum gw_soc_idle {
	GW_SOC_IDLE_NONE,              /* it counts, or is not to */
	GW_SOC_IDLE_CAPACITY,          /* no capacity: none configured, no full Ah from the BMS */
	GW_SOC_IDLE_CURRENT,           /* no current from the BMS */
	GW_SOC_IDLE_SOC,               /* no SOC from the BMS to start from */
};

/* A pack's counted SOC (in struct gw_pack). */
struct gw_socunit {
	struct gw_soc est;             /* the estimator (soc.h) */
	double bms_soc;                /* % the BMS said at the last good poll (NAN none) */
	double changed_at;             /* monotonic: the count last handed to the state file */
	enum gw_soc_idle idle;         /* why it has not started (logged once each) */
};

/* A good poll of p is being committed (its snapshot, with the BMS's SOC,
 * and last_good are in p; its registers not yet encoded): count it, log
 * the points, keep the state file told.  The SOC p is to carry: the
 * count's with [soc] source = counted and the count synced, else NAN (the
 * BMS's stays).  The SOC step of gw_pack_polled() (model/pack.c), before
 * anyone hears of the poll. */
double gw_soc_polled(struct gw *gw, struct gw_pack *p);
/* Every second: the state file is told every [soc] save_interval while a
 * pack counts. */
void gw_soc_tick(struct gw *gw, double now);
/* What a pack publishes at monotonic time now (the bank's: banksoc.h). */
void gw_soc_pack_out(const struct gw *gw, const struct gw_pack *p, double now, struct gw_soc_out *o);
/* Why pack p of the configuration will not count, as far as its
 * configuration and its protocol tell, by what the step needs (idle
 * above): current, a capacity (configured, or the BMS's full capacity),
 * the BMS's SOC; GW_SOC_IDLE_NONE when it can or is not to ([soc] count
 * false).  gw_soc_can_count(): it is to count and can.  For the outputs
 * announced ahead (--ha-yaml). */
enum gw_soc_idle gw_soc_conf_idle(const struct conf_pack *p);
bool gw_soc_can_count(const struct conf_pack *p);
/* What a pack's idle says, as the JSON's soc_estimate.not_counting: NULL
 * for GW_SOC_IDLE_NONE. */
const char *gw_soc_idle_text(enum gw_soc_idle idle);
/* The source word of o ("counted" when o->flags carries GW_SOC_F_SOURCE, else "bms"). */
const char *gw_soc_source_name(const struct gw_soc_out *o);
/* The state file's record: "soc NAME <soc.h's line>". */
extern const struct gw_state_record gw_soc_record;

#endif
