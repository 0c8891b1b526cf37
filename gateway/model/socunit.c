/* SPDX-License-Identifier: MIT */
/* gateway/model/socunit.c - the counted SOC of the daemon's packs and bank
 * (socunit.h): soc.h's estimator stepped on each good poll, its points
 * logged, its state saved every save_interval, at each point and at exit,
 * and resumed at start.
 */
#include "socunit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "gw.h"
#include "statefile.h"

/* NAN where the snapshot does not carry the value. */
static double have(const struct bms_snapshot *s, uint32_t bit, double v)
{
	return (s->present & bit) ? v : NAN;
}

/* What the estimator reads of a good poll: no cell voltages while they do
 * not fit the pack's chemistry (engine/chemfit.h), so that no full, empty,
 * rest or knee point is taken on another chemistry's voltages (issue 62:
 * LTO cells at 2.2 V under lfp made an empty point of a pack at 10 %). */
static void poll_input(const struct gw_pack *p, double bms_soc, struct gw_soc_in *in)
{
	const struct bms_snapshot *s = &p->snap;
	memset(in, 0, sizeof(*in));
	in->t = p->last_good;
	in->current = have(s, BMS_HAS_CURRENT, s->current);
	in->cell_min_v = in->cell_max_v = in->cell_avg_v = NAN;
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs); /* the cells, else the BMS's own highest and lowest (no mean) */
	if (((cs.from == BMS_CELLS_LIST && (s->present & BMS_HAS_CELLS)) || cs.from == BMS_CELLS_EXT) &&
	    !gw_chemfit_doubt(&p->chem)) {
		in->cell_min_v = cs.min_mv / 1000.0;
		in->cell_max_v = cs.max_mv / 1000.0;
		in->cell_avg_v = cs.from == BMS_CELLS_LIST ? cs.avg_mv / 1000.0 : NAN;
	}
	in->bms_soc = bms_soc;
	in->bms_remain_ah = have(s, BMS_HAS_REMAIN, s->remain_ah);
	in->bms_full_ah = have(s, BMS_HAS_FULL, s->full_ah);
	in->temp_min_c = in->temp_max_c = NAN;
	for (unsigned i = 0; (s->present & BMS_HAS_TEMPS) && i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		double t = s->temp_c[i];
		if (!isfinite(t))
			continue;
		in->temp_min_c = isnan(in->temp_min_c) || t < in->temp_min_c ? t : in->temp_min_c;
		in->temp_max_c = isnan(in->temp_max_c) || t > in->temp_max_c ? t : in->temp_max_c;
	}
}

/* Each event of a step, logged once as it happens. */
static void log_events(const struct gw_pack *p, const struct gw_soc_ev *ev, const struct gw_soc_out *o)
{
	const char *n = p->cfg->name;
	if (ev->bits & GW_SOC_EV_START)
		gw_info("pack %s: counting the charge from the BMS's SOC %.1f %%, not synced until a full or "
			"empty point", n, o->soc_counted);
	if (ev->bits & GW_SOC_EV_BRIDGED)
		gw_info("pack %s: a gap of %.0f s counted from the BMS's remaining Ah", n, ev->gap_s);
	if (ev->bits & GW_SOC_EV_LOST)
		gw_warn("pack %s: a gap of %.0f s without the BMS's remaining Ah: the count is not synced until "
			"the next full or empty point", n, ev->gap_s);
	if (ev->bits & GW_SOC_EV_FULL)
		gw_info("pack %s: full point: the counted SOC is 100 %% (full point %u)", n, o->full_points);
	if (ev->bits & GW_SOC_EV_EMPTY)
		gw_info("pack %s: empty point: the counted SOC is 0 %% (empty point %u)", n, o->empty_points);
	if (ev->bits & GW_SOC_EV_REST)
		gw_info("pack %s: rest point: the open-circuit voltage says %.1f %%", n, ev->rest_soc);
	if (ev->bits & GW_SOC_EV_KNEE)
		gw_info("pack %s: knee point: the lowest cell at %.3f V under a light discharge: the counted SOC "
			"%.1f %% is pulled down to %.1f %% (knee point %u)", n, ev->knee_v, ev->knee_from, o->soc_counted,
			o->knee_points);
	if (ev->bits & GW_SOC_EV_LIGHT)
		gw_info("pack %s: light-load point: the lowest cell at %.3f V at %.1f A says at most %.1f %%: the "
			"counted SOC %.1f %% is brought down to it, at most 1 %% a minute (light-load point %u)", n,
			ev->light_v, ev->light_a, ev->light_to, ev->light_from, o->light_points);
	if (ev->bits & GW_SOC_EV_PRIOR)
		gw_info("pack %s: until the capacity is measured, %.1f Ah in use: %s", n, ev->capacity_ah,
			ev->prior_bms ? "the BMS's full capacity, under the configured capacity" :
			"the configured capacity (the BMS's full capacity is no longer under it)");
	if (ev->bits & GW_SOC_EV_SAMPLE)
		gw_info("pack %s: capacity measured %.1f Ah; %.1f Ah in use (SOH %.1f %%)", n, ev->sample_ah,
			ev->capacity_ah, o->soh_measured);
	if (ev->bits & GW_SOC_EV_REJECTED)
		gw_warn("pack %s: a capacity sample of %.1f Ah is outside 0.5 ... 1.5 times the rated capacity: "
			"not used", n, ev->sample_ah);
	if (ev->bits & GW_SOC_EV_DROPPED)
		gw_warn("pack %s: %u capacity sample%s learned before lie outside 0.5 ... 1.5 times the rated capacity "
			"now (%.1f Ah): no longer used", n, ev->dropped, ev->dropped == 1 ? "" : "s", p->soc.est.rated_ah);
	if (ev->bits & GW_SOC_EV_OFFSET)
		gw_info("pack %s: current sensor offset learned: %.3f A", n, ev->offset_a);
}

enum gw_soc_idle gw_soc_conf_idle(const struct conf_pack *p)
{
	uint32_t has = p->driver ? p->driver->provides : 0;
	if (!p->soc.count)
		return GW_SOC_IDLE_NONE;
	if (!(has & BMS_HAS_CURRENT))
		return GW_SOC_IDLE_CURRENT;
	if (!(p->soc.capacity > 0) && !(has & BMS_HAS_FULL))
		return GW_SOC_IDLE_CAPACITY;
	return (has & BMS_HAS_SOC) ? GW_SOC_IDLE_NONE : GW_SOC_IDLE_SOC;
}

bool gw_soc_can_count(const struct conf_pack *p)
{
	return p->soc.count && gw_soc_conf_idle(p) == GW_SOC_IDLE_NONE;
}

const char *gw_soc_idle_text(enum gw_soc_idle idle)
{
	switch (idle) {
	case GW_SOC_IDLE_CAPACITY:
		return "no capacity: the BMS gives no full capacity and none is configured (capacity = AH in the "
		       "pack's section or in [soc])";
	case GW_SOC_IDLE_CURRENT:
		return "the BMS gives no current";
	case GW_SOC_IDLE_SOC:
		return "the BMS gives no SOC to start from";
	case GW_SOC_IDLE_NONE:
		break;
	}
	return NULL;
}

/* Why the count has not started after this poll's step: what the step
 * (gw_soc_step(), engine/soc_step.c) needs, the current, a capacity in
 * use (o's: none until the step found one) and the BMS's SOC; none once it
 * has started.  Logged once each time the reason changes (the count's
 * start is log_events()'). */
static void idle_logged(struct gw_pack *p, const struct gw_soc_in *in, const struct gw_soc_out *o)
{
	struct gw_socunit *u = &p->soc;
	enum gw_soc_idle why = GW_SOC_IDLE_NONE;
	if (u->est.started)
		why = GW_SOC_IDLE_NONE;
	else if (!isfinite(in->current))
		why = GW_SOC_IDLE_CURRENT;
	else if (!(o->capacity_ah > 0))
		why = GW_SOC_IDLE_CAPACITY;
	else if (!isfinite(in->bms_soc))
		why = GW_SOC_IDLE_SOC;
	if (why != u->idle && why != GW_SOC_IDLE_NONE)
		gw_info("pack %s: the charge is not counted (no counted SOC): %s", p->cfg->name, gw_soc_idle_text(why));
	u->idle = why;
}

double gw_soc_polled(struct gw *gw, struct gw_pack *p)
{
	const struct conf_soc *c = &p->cfg->soc;
	struct gw_socunit *u = &p->soc;
	const struct bms_snapshot *s = &p->snap;
	u->bms_soc = have(s, BMS_HAS_SOC, s->soc);
	if (!c->count) {
		u->idle = GW_SOC_IDLE_NONE;
		return NAN;
	}
	struct gw_soc_in in;
	struct gw_soc_ev ev = { 0 };
	poll_input(p, u->bms_soc, &in);
	bool started = u->est.started;
	gw_soc_step(&u->est, c, gw->conf->gw.stale_after, &in, &ev);
	struct gw_soc_out o;
	gw_soc_output(&u->est, c, u->bms_soc, p->last_good, &o);
	if (ev.bits)
		log_events(p, &ev, &o);
	idle_logged(p, &in, &o);
	if (!started && u->est.started)
		u->changed_at = p->last_good;
	if (ev.bits & GW_SOC_EV_SAVE) {
		u->changed_at = p->last_good;
		gw_statefile_changed(gw);
		gw_statefile_save(gw, true);
	}
	return (o.flags & GW_SOC_F_SOURCE) ? o.soc : NAN;
}

void gw_soc_tick(struct gw *gw, double now)
{
	bool due = false;
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		if (!p->soc.est.started || now - p->soc.changed_at < gw->conf->soc.save_interval)
			continue;
		p->soc.changed_at = now;
		due = true;
	}
	if (due) {
		/* save_interval is the user's: not held to the file's once a minute */
		gw_statefile_changed(gw);
		gw_statefile_save(gw, false);
	}
}

void gw_soc_pack_out(const struct gw *gw, const struct gw_pack *p, double now, struct gw_soc_out *o)
{
	(void)gw;
	gw_soc_output(&p->soc.est, &p->cfg->soc, p->have_data ? p->soc.bms_soc : NAN, now, o);
}

const char *gw_soc_source_name(const struct gw_soc_out *o)
{
	return (o->flags & GW_SOC_F_SOURCE) ? "counted" : "bms";
}

/* ---- the record: "soc NAME 1 saved=... ah=..." ---- */

static bool save_soc(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	if (!p->soc.est.started && !p->soc.est.nsamples && !p->soc.est.full_points)
		return false;
	return gw_soc_save(&p->soc.est, gw_mono(), (int64_t)time(NULL), out, cap) > 0;
}

static void load_soc(struct gw *gw, struct gw_pack *p, const char *rest)
{
	char line[GW_STATE_LINE_MAX];
	snprintf(line, sizeof(line), "%s", rest);
	line[strcspn(line, "\n")] = '\0';
	struct gw_soc est;
	switch (gw_soc_load(&est, line, (int64_t)time(NULL), gw->conf->gw.stale_after)) {
	case GW_SOC_LOAD_RESUMED:
		p->soc.est = est;
		gw_info("pack %s: counted SOC resumed from the state file: %.1f Ah of %.1f Ah, %s", p->cfg->name,
			est.ah, est.cap_ah, est.synced ? "synced" : "not synced");
		break;
	case GW_SOC_LOAD_OLD:
		p->soc.est = est;
		gw_info("pack %s: the counted SOC in the state file is older than 24 h: counting starts again "
			"from the BMS's SOC (what was learned is kept: %u capacity samples)", p->cfg->name,
			est.nsamples);
		break;
	default:
		gw_warn("pack %s: the counted SOC in the state file is not readable: counting starts afresh",
			p->cfg->name);
	}
}

const struct gw_state_record gw_soc_record = { "soc", true, save_soc, load_soc };
