/* SPDX-License-Identifier: MIT */
/* gateway/engine/chemfit.c - a pack's cells against its chemistry over its
 * polls (chemfit.h; the rule and its sources: conf/chem.c). */
#include "chemfit.h"

#include <math.h>
#include <stdio.h>

/* The run of readings on the other side of the state: held long enough? */
static bool held(const struct gw_chemfit *f, double t)
{
	return f->run_polls >= GW_CHEM_HOLD_POLLS && t - f->run_since >= GW_CHEM_HOLD_S;
}

static void run(struct gw_chemfit *f, bool other, double t)
{
	if (!other) {
		f->run_polls = 0;
		return;
	}
	if (f->run_polls++ == 0)
		f->run_since = t;
}

unsigned gw_chemfit_step(struct gw_chemfit *f, enum conf_chemistry chem, double min_v, double max_v, double soc,
			 double t)
{
	unsigned ev = 0;
	if (f->state != GW_CHEM_NONE && chem != f->chem) {
		ev = f->state == GW_CHEM_WRONG ? GW_CHEM_EV_CHANGED : 0;
		*f = (struct gw_chemfit){ 0 };
	}
	f->chem = chem;
	enum conf_chem_side side = conf_chem_side(chem, min_v, max_v, soc);
	if (side == CONF_CHEM_UNKNOWN)
		return ev; /* no cells: nothing to judge */
	f->outside = side != CONF_CHEM_INSIDE;
	if (f->outside) {
		f->side = side;
		f->min_v = min_v;
		f->max_v = max_v;
		f->soc = soc;
	}
	if (f->state == GW_CHEM_WRONG) {
		run(f, !f->outside, t); /* inside: the way back */
		if (held(f, t)) {
			f->state = GW_CHEM_FITS;
			f->run_polls = 0;
			ev |= GW_CHEM_EV_FITS;
		}
		return ev;
	}
	run(f, f->outside, t);
	if (f->outside && held(f, t)) {
		f->state = GW_CHEM_WRONG;
		f->run_polls = 0;
		return ev | GW_CHEM_EV_WRONG;
	}
	f->state = f->outside ? GW_CHEM_OUTSIDE : GW_CHEM_FITS;
	return ev;
}

bool gw_chemfit_doubt(const struct gw_chemfit *f)
{
	return f->state == GW_CHEM_OUTSIDE || f->state == GW_CHEM_WRONG;
}

const char *gw_chemfit_state_name(const struct gw_chemfit *f)
{
	switch (f->state) {
	case GW_CHEM_FITS: return "fits";
	case GW_CHEM_OUTSIDE: return "outside";
	case GW_CHEM_WRONG: return "wrong";
	default: return NULL;
	}
}

int gw_chemfit_pointed(const struct gw_chemfit *f)
{
	return gw_chemfit_doubt(f) ? conf_chem_pointed(f->min_v, f->max_v, f->soc) : -1;
}

void gw_chemfit_text(const struct gw_chemfit *f, char *out, size_t cap)
{
	if (!cap)
		return;
	out[0] = '\0';
	if (!gw_chemfit_doubt(f))
		return;
	double lo, hi;
	conf_chem_range(f->chem, &lo, &hi);
	const char *c = conf_chem_name(f->chem);
	char soc[48] = "", fits[64] = "; no chemistry bmsgw knows fits them";
	if (f->side == CONF_CHEM_BELOW)
		snprintf(soc, sizeof(soc), " while the BMS says %.0f %% SOC", f->soc);
	int p = conf_chem_pointed(f->min_v, f->max_v, f->soc);
	if (p >= 0)
		snprintf(fits, sizeof(fits), "; they fit %s (chemistry = %s)", conf_chem_name((enum conf_chemistry)p),
			 conf_chem_name((enum conf_chemistry)p));
	snprintf(out, cap, "its cells read %.3f-%.3f V, %s %s's %.2f-%.2f V%s: not %s cells%s", f->min_v, f->max_v,
		 f->side == CONF_CHEM_ABOVE ? "over" : "under", c, lo, hi, soc, c, fits);
}
