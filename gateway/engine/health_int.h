/* SPDX-License-Identifier: MIT */
/* gateway/engine/health_int.h - between health.c (the resistance and the
 * step) and health_days.c (the knees, the weak cell, the days). */
#ifndef GATEWAY_ENGINE_HEALTH_INT_H
#define GATEWAY_ENGINE_HEALTH_INT_H

#include "health.h"

/* A poll dt seconds after the previous one with as many cells: the knees. */
void gw_health__knees(struct gw_health *h, const struct gw_health_params *p, const struct bms_snapshot *s,
		      double dt);
/* A poll with cells on local day `day`: the day's spreads and resistance. */
void gw_health__days(struct gw_health *h, const struct gw_health_params *p, const struct bms_snapshot *s,
		     double now, int32_t day);
/* The weak cell (o->cell_ir_mohm already set), the spreads and trends. */
void gw_health__weak(const struct gw_health *h, const struct gw_health_params *p, struct gw_health_out *o);
void gw_health__trends(const struct gw_health *h, int32_t today, struct gw_health_out *o);

#endif
