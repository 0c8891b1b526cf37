/* SPDX-License-Identifier: MIT */
/* gateway/model/energy.c - energy counters: their integration over good
 * polls, and their records in the state file (model/statefile.h):
 *
 *   pack rack1 123.456789 98.765432
 *   bank 250.000000 199.000000
 */
#include <math.h>
#include <stdio.h>

#include "energy.h"
#include "bankstate.h"
#include "gw.h"
#include "statefile.h"

bool gw_energy_add(struct gw_energy *e, double t, double watts, double max_gap)
{
	bool grew = false;
	if (e->have_last && t > e->last_t && t - e->last_t <= max_gap) {
		double dt_h = (t - e->last_t) / 3600.0, p0 = e->last_w, p1 = watts;
		double in_wh = 0, out_wh = 0;
		if ((p0 >= 0) == (p1 >= 0)) {
			double wh = (p0 + p1) / 2 * dt_h;
			if (wh >= 0)
				in_wh = wh;
			else
				out_wh = -wh;
		} else {
			/* the line crosses zero at a fraction f of the step */
			double f = p0 / (p0 - p1);
			double a0 = p0 * f * dt_h / 2, a1 = p1 * (1 - f) * dt_h / 2;
			in_wh = (a0 > 0 ? a0 : 0) + (a1 > 0 ? a1 : 0);
			out_wh = (a0 < 0 ? -a0 : 0) + (a1 < 0 ? -a1 : 0);
		}
		e->in_kwh += in_wh / 1000.0;
		e->out_kwh += out_wh / 1000.0;
		grew = in_wh > 0 || out_wh > 0;
	}
	e->have_last = true;
	e->last_t = t;
	e->last_w = watts;
	return grew;
}

void gw_energy_break(struct gw_energy *e)
{
	e->have_last = false;
}

/* The next sample of e: power when the source has it, else a break. */
static bool sample(struct gw_energy *e, double t, bool have, double watts, double max_gap)
{
	if (have)
		return gw_energy_add(e, t, watts, max_gap);
	gw_energy_break(e);
	return false;
}

void gw_energy_polled(struct gw *gw, struct gw_pack *p)
{
	double max_gap = gw->conf->gw.stale_after;
	bool grew = sample(&p->energy, p->last_good, (p->snap.present & BMS_HAS_POWER) != 0, p->snap.power, max_gap);
	if (gw_pack_in_bank(gw, p)) {
		const struct gw_bank_state *bs = &gw_bank_at(gw, gw_mono())->bank;
		grew |= sample(&gw->bank_energy, p->last_good, bs->online && (bs->snap.present & BMS_HAS_POWER),
			       bs->snap.power, max_gap);
	}
	if (grew)
		gw_statefile_changed(gw);
}

/* ---- the records ---- */

static bool save_counters(const struct gw_energy *e, char *out, size_t cap)
{
	snprintf(out, cap, "%.6f %.6f", e->in_kwh, e->out_kwh);
	return true;
}

/* "IN OUT": nonsense (negative, not finite) is not served: counting starts over. */
static void load_counters(struct gw_energy *e, const char *rest)
{
	double a, b;
	if (sscanf(rest, "%lf %lf", &a, &b) == 2 && a >= 0 && b >= 0 && isfinite(a) && isfinite(b)) {
		e->in_kwh = a;
		e->out_kwh = b;
	}
}

static bool save_pack(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	return save_counters(&p->energy, out, cap);
}

static void load_pack(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	load_counters(&p->energy, rest);
}

static bool save_bank(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)p;
	return save_counters(&gw->bank_energy, out, cap);
}

static void load_bank(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)p;
	load_counters(&gw->bank_energy, rest);
}

const struct gw_state_record gw_energy_pack_record = { "pack", true, save_pack, load_pack };
const struct gw_state_record gw_energy_bank_record = { "bank", false, save_bank, load_bank };
