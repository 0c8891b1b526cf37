/* SPDX-License-Identifier: MIT */
/* gateway/model/healthfacts.c - the facts a cell-health estimator states
 * (healthfacts.h). */
#include "healthfacts.h"

#include <math.h>
#include <string.h>

void gw_health_state(struct gw_health_facts *f, int weak_cell, double ir_rise_pct, double now)
{
	f->known = true;
	f->weak_cell = weak_cell > 0 ? weak_cell : 0;
	f->ir_rise_pct = ir_rise_pct;
	f->at = now;
}

void gw_health_forget(struct gw_health_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->ir_rise_pct = NAN;
}
