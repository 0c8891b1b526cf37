/* SPDX-License-Identifier: MIT */
/* gateway/model/health_gw.c - the cell health estimators in the daemon
 * (health_gw.h), and their records in the state file:
 *
 *   hir rack1 p:40:0:2.51,2.49,... 1:38:2:0.52,...
 *       each running resistance estimate (p the pack's, 1.. the cells'):
 *       samples taken, samples rejected, its window oldest first (mOhm)
 *   hknee rack1 7/4/0 9:3:2:0.41:2:0.52:1:0:4.1 ...
 *       knees seen / ties at full / ties at empty (a record without the
 *       ties: none); then per cell that led one: cell, knees led at full and
 *       at empty, the sum of its measured leads at full (Ah) and their
 *       count, the same at empty, the largest cut knee at full and at empty
 *       (Ah; a record without them: none)
 *   hday rack1 20418:12:3:2.51 20419:...
 *       per day kept: the day (since 1970, local), the spread at full and
 *       at rest (mV, 0 none), the pack's resistance (mOhm, 0 none)
 *
 * The knees: a cell in the full knee from the voltage at which the default
 * charge_cell_table ([limits], conf/conf.c conf__chem_defaults) has cut the
 * charge current to 0.5 % (LFP 3.450, NMC 4.100, LTO 2.600 V), in the empty
 * knee from the voltage at which discharge_cell_table has cut it to 5 %
 * (LFP 3.000, NMC 3.100, LTO 2.000 V): where the curves of those
 * chemistries bend (LFP: the knees design section 26 names).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"
#include "health_gw.h"
#include "statefile.h"

#define HEALTH_MAX_GAP_S 2.0      /* both polls of a step within this (design section 26) */
#define HEALTH_HYST_MV 100        /* a knee ends this far back */
#define HEALTH_REST_C 0.01        /* rest: |I| under 0.01 C ... */
#define HEALTH_REST_S 1800.0      /* ... for half an hour */

void gw_health_knees(enum conf_chemistry chem, uint16_t *high_mv, uint16_t *low_mv)
{
	switch (chem) {
	case CONF_CHEM_NMC: *high_mv = 4100, *low_mv = 3100; break;
	case CONF_CHEM_LTO: *high_mv = 2600, *low_mv = 2000; break;
	default: *high_mv = 3450, *low_mv = 3000; break;
	}
}

void gw_health_params_for(const struct conf_health *h, const struct conf_soc *soc, const struct bms_snapshot *s,
			  struct gw_health_params *out)
{
	double cap = soc->capacity > 0 ? soc->capacity
		     : (s->present & BMS_HAS_FULL) && s->full_ah > 0 ? (double)s->full_ah : 0;
	*out = (struct gw_health_params){
		.min_step_a = cap > 0 ? h->ir_min_step * cap : 0,
		.max_gap_s = HEALTH_MAX_GAP_S,
		.knee_hyst_mv = HEALTH_HYST_MV,
		.rest_a = cap > 0 ? HEALTH_REST_C * cap : 0,
		.rest_s = HEALTH_REST_S,
		.capacity_ah = cap,
	};
	gw_health_knees(soc->chemistry, &out->knee_high_mv, &out->knee_low_mv);
}

int32_t gw_health_day(double t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return 0;
	struct tm d = { .tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday };
	return (int32_t)(timegm(&d) / 86400);
}

void gw_health_polled(struct gw *gw, struct gw_pack *p)
{
	if (!gw->conf->health.enabled)
		return;
	struct gw_health_params hp;
	gw_health_params_for(&gw->conf->health, &p->cfg->soc, &p->snap, &hp);
	uint32_t before = p->health_est.pack.samples + p->health_est.knees + p->health_est.ties_high +
			  p->health_est.ties_low;
	int32_t day = gw_health_day(gw_wall());
	struct gw_health_day *d = &p->health_est.days[((day % GW_HEALTH_DAYS) + GW_HEALTH_DAYS) % GW_HEALTH_DAYS];
	struct gw_health_day was = *d;
	/* no knee of another chemistry's cells (engine/chemfit.h) */
	if (!gw_chemfit_doubt(&p->chem))
		gw_health_step(&p->health_est, &hp, &p->snap, p->last_good, day);
	if (p->health_est.pack.samples + p->health_est.knees + p->health_est.ties_high + p->health_est.ties_low !=
		    before || memcmp(&was, d, sizeof(was)) != 0)
		gw_statefile_changed(gw);
	/* the facts the outputs read (the alerts' weak_cell and ir_rise) */
	struct gw_health_out o;
	gw_health_output(&p->health_est, &hp, day, &o);
	gw_health_state(&p->health, o.weak ? o.weak_cell : 0, o.ir_rise_pct, p->last_good);
}

bool gw_health_pack_out(const struct gw *gw, const struct gw_pack *p, struct gw_health_out *o)
{
	struct gw_health_params hp;
	if (!gw->conf->health.enabled) {
		struct gw_health empty;
		gw_health_init(&empty);
		gw_health_output(&empty, &(struct gw_health_params){ 0 }, 0, o);
		return false;
	}
	gw_health_params_for(&gw->conf->health, &p->cfg->soc, &p->snap, &hp);
	gw_health_output(&p->health_est, &hp, gw_health_day(gw_wall()), o);
	return true;
}

/* ---- the records ---- */

/* ,"p:samples:rejected:v,v,..." of one estimate (oldest first) */
static bool save_est(const char *out, char **w, char *end, const char *key, const struct gw_ir_est *e)
{
	if (!e->samples && !e->rejected)
		return true;
	int n = snprintf(*w, (size_t)(end - *w), "%s%s:%u:%u:", *w == out ? "" : " ", key, e->samples, e->rejected);
	if (n < 0 || n >= end - *w)
		return false;
	*w += n;
	for (int i = 0; i < e->n; i++) {
		int k = (e->next - e->n + i + 2 * GW_IR_WINDOW) % GW_IR_WINDOW;
		n = snprintf(*w, (size_t)(end - *w), "%s%.4g", i ? "," : "", (double)e->r[k]);
		if (n < 0 || n >= end - *w)
			return false;
		*w += n;
	}
	return true;
}

static bool save_ir(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	const struct gw_health *h = &p->health_est;
	char *w = out, *end = out + cap;
	*w = '\0';
	if (!save_est(out, &w, end, "p", &h->pack))
		return false;
	for (int c = 0; c < BMS_MAX_CELLS; c++) {
		char key[12];
		snprintf(key, sizeof(key), "%d", c + 1);
		if (!save_est(out, &w, end, key, &h->cell[c]))
			return false;
	}
	return w != out;
}

/* "KEY:samples:rejected:v,v,..." into its estimate; nonsense leaves it as it was */
static void load_est(struct gw_health *h, char *tok)
{
	char key[8];
	unsigned samples, rejected;
	int n = 0;
	if (sscanf(tok, "%7[^:]:%u:%u:%n", key, &samples, &rejected, &n) != 3 || !n)
		return;
	struct gw_ir_est *e = NULL, fresh = { .samples = 0 };
	if (strcmp(key, "p") == 0) {
		e = &h->pack;
	} else {
		int c = atoi(key);
		if (c < 1 || c > BMS_MAX_CELLS)
			return;
		e = &h->cell[c - 1];
	}
	for (char *sv = NULL, *v = strtok_r(tok + n, ",", &sv); v; v = strtok_r(NULL, ",", &sv)) {
		char *x;
		float r = strtof(v, &x);
		if (x == v || *x)
			return;
		gw_ir_add(&fresh, r);
	}
	fresh.samples = samples;
	fresh.rejected = rejected;
	*e = fresh;
}

static void load_ir(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	char buf[GW_STATE_LINE_MAX];
	snprintf(buf, sizeof(buf), "%s", rest);
	for (char *sv = NULL, *t = strtok_r(buf, " \t\n", &sv); t; t = strtok_r(NULL, " \t\n", &sv))
		load_est(&p->health_est, t);
}

static bool save_knee(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	const struct gw_health *h = &p->health_est;
	if (!h->knees)
		return false;
	size_t w = (size_t)snprintf(out, cap, "%u/%u/%u", h->knees, h->ties_high, h->ties_low);
	for (int c = 0; c < BMS_MAX_CELLS && w < cap; c++)
		if (h->knees_high[c] || h->knees_low[c] || h->leads_high[c] || h->leads_low[c] ||
		    h->cut_high_ah[c] > 0 || h->cut_low_ah[c] > 0)
			w += (size_t)snprintf(out + w, cap - w, " %d:%u:%u:%.4f:%u:%.4f:%u:%.4f:%.4f", c + 1,
					      h->knees_high[c], h->knees_low[c], (double)h->lead_high_ah[c],
					      h->leads_high[c], (double)h->lead_low_ah[c], h->leads_low[c],
					      (double)h->cut_high_ah[c], (double)h->cut_low_ah[c]);
	return w < cap;
}

/* A cut knee's Ah as the record keeps it (save_knee's %.4f): a value under
 * its resolution is none, so that a line read is written again the same
 * (0.00002 would be kept as a cut, written as 0.0000, and the cell's entry
 * then dropped at the next saving). */
static float cut_as_kept(float ah)
{
	return roundf(ah * 1e4f) / 1e4f;
}

static void load_knee(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	struct gw_health *h = &p->health_est;
	unsigned knees;
	int n = 0;
	unsigned th = 0, tl = 0;
	if (sscanf(rest, "%u%n", &knees, &n) != 1 || knees > UINT16_MAX)
		return;
	int nt = 0;
	if (rest[n] == '/' && (sscanf(rest + n, "/%u/%u%n", &th, &tl, &nt) != 2 || !nt || (th | tl) > UINT16_MAX))
		return;
	n += nt;
	h->knees = (uint16_t)knees;
	h->ties_high = (uint16_t)th, h->ties_low = (uint16_t)tl;
	for (const char *r = rest + n; *r;) {
		int c, m = 0;
		unsigned kh, kl, nh, nl;
		float lh, ll, ch = 0, cl = 0;
		if (sscanf(r, " %d:%u:%u:%f:%u:%f:%u%n", &c, &kh, &kl, &lh, &nh, &ll, &nl, &m) != 7 || !m)
			return;
		r += m;
		if (*r == ':' && (sscanf(r, ":%f:%f%n", &ch, &cl, &m) != 2 || !m))
			return;
		if (*r == ':')
			r += m;
		if (c < 1 || c > BMS_MAX_CELLS || !isfinite(lh) || !isfinite(ll) || (kh | kl | nh | nl) > UINT16_MAX ||
		    !(ch >= 0 && ch <= 1e6f) || !(cl >= 0 && cl <= 1e6f))
			continue;
		h->cut_high_ah[c - 1] = cut_as_kept(ch), h->cut_low_ah[c - 1] = cut_as_kept(cl);
		h->knees_high[c - 1] = (uint16_t)kh, h->knees_low[c - 1] = (uint16_t)kl;
		h->lead_high_ah[c - 1] = lh, h->leads_high[c - 1] = (uint16_t)nh;
		h->lead_low_ah[c - 1] = ll, h->leads_low[c - 1] = (uint16_t)nl;
	}
}

static bool save_day(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	size_t w = 0;
	out[0] = '\0';
	for (int i = 0; i < GW_HEALTH_DAYS && w < cap; i++) {
		const struct gw_health_day *d = &p->health_est.days[i];
		if (d->day && (d->spread_full_mv || d->spread_rest_mv || d->ir_mohm > 0))
			w += (size_t)snprintf(out + w, cap - w, "%s%d:%u:%u:%.4g", w ? " " : "", d->day,
					      d->spread_full_mv, d->spread_rest_mv, (double)d->ir_mohm);
	}
	return w > 0 && w < cap;
}

static void load_day(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	for (const char *r = rest; *r;) {
		int day, m = 0;
		unsigned full, rs;
		float ir;
		if (sscanf(r, " %d:%u:%u:%f%n", &day, &full, &rs, &ir, &m) != 4 || !m)
			return;
		r += m;
		if (day <= 0 || full > UINT16_MAX || rs > UINT16_MAX || !(ir >= 0 && ir <= 1e6f))
			continue;
		struct gw_health_day *d = &p->health_est.days[day % GW_HEALTH_DAYS];
		if (d->day <= day)
			*d = (struct gw_health_day){ day, (uint16_t)full, (uint16_t)rs, ir };
	}
}

const struct gw_state_record gw_health_ir_record = { "hir", true, save_ir, load_ir };
const struct gw_state_record gw_health_knee_record = { "hknee", true, save_knee, load_knee };
const struct gw_state_record gw_health_day_record = { "hday", true, save_day, load_day };
