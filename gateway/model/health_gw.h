/* SPDX-License-Identifier: MIT */
/* gateway/model/health_gw.h - the cell health estimators (health.h) in
 * the daemon: one struct gw_health per pack (struct gw_pack.health),
 * stepped at each good poll while [health] is on, kept in the state file
 * (model/statefile.h: the records "hir", "hknee", "hday"), read by every
 * output through gw_health_pack_out(); at each step the facts the alerts
 * read (model/healthfacts.h: p->health).  The bank has no estimator of its
 * own: its packs' figures are its figures (gw->bank_health stays unknown:
 * a weak cell and a resistance are a pack's). */
#ifndef GATEWAY_MODEL_HEALTH_GW_H
#define GATEWAY_MODEL_HEALTH_GW_H

#include <stdbool.h>
#include <stdint.h>

#include "../../conf/conf.h"
#include "../engine/health.h"

struct gw;
struct gw_pack;
struct gw_state_record;

/* What the estimators of a pack are given: the step ir_min_step x its rated
 * capacity ([soc] capacity, else the BMS's full capacity of s; unknown: no
 * resistance sample), the knees of its chemistry, rest 0.01 C for 1800 s.
 * Pure. */
void gw_health_params_for(const struct conf_health *h, const struct conf_soc *soc, const struct bms_snapshot *s,
			  struct gw_health_params *out);
/* The knee voltages of a chemistry, mV (the cell tables' defaults). */
void gw_health_knees(enum conf_chemistry chem, uint16_t *high_mv, uint16_t *low_mv);
/* Days since 1970 of the local date at wall-clock unix time t. */
int32_t gw_health_day(double t);
/* A poll of p committed a snapshot: its estimators stepped ([health] on). */
void gw_health_polled(struct gw *gw, struct gw_pack *p);
/* The figures of p now; false with [health] off (o zeroed, NAN figures). */
bool gw_health_pack_out(const struct gw *gw, const struct gw_pack *p, struct gw_health_out *o);

/* The state file's records (model/statefile.h). */
extern const struct gw_state_record gw_health_ir_record, gw_health_knee_record, gw_health_day_record;

#endif
