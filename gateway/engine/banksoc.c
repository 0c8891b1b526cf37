/* SPDX-License-Identifier: MIT */
/* gateway/engine/banksoc.c - the bank's SOC and capacities, one rule for
 * every output (banksoc.h): the sum of the fresh members' remaining Ah over
 * the sum of their full Ah, for the BMSs' figures and for the count.
 */
#include "banksoc.h"

#include <math.h>
#include <string.h>

#include "capacity.h"

/* A member's full and remaining Ah by the one rule (capacity.h); false:
 * it lacks one of them. */
static bool member_ah(const struct gw_bank_member *m, double *remain, double *full)
{
	struct gw_ah a;
	gw_capacity_rule(m->snap, m->bms_soc, m->capacity, &a);
	*remain = a.remain_ah;
	*full = a.full_ah;
	return isfinite(a.full_ah) && isfinite(a.remain_ah);
}

void gw_bank_soc(const struct gw_bank_member *m, int n, const struct conf_soc *c, double t, struct gw_bank_soc *o)
{
	const struct gw_soc *est[CONF_MAX_PACKS];
	int nest = 0;
	double remain = 0, full = 0;
	memset(o, 0, sizeof(*o));
	for (int k = 0; k < n && k < CONF_MAX_PACKS; k++) {
		double r, f;
		if (!m[k].snap || m[k].balancer)
			continue;
		est[nest++] = m[k].est;
		if (!member_ah(&m[k], &r, &f)) {
			o->left_out |= 1u << (k & 31);
			continue;
		}
		remain += r;
		full += f;
		o->in_soc |= 1u << (k & 31);
	}
	o->soc_bms = o->in_soc && full > 0 ? fmin(fmax(100 * remain / full, 0), 100) : NAN;
	bool whole = o->in_soc && !o->left_out;
	o->remain_ah = whole ? remain : NAN;
	o->full_ah = whole ? full : NAN;
	gw_soc_bank(est, nest, c, o->soc_bms, t, &o->counted);
}
