/* SPDX-License-Identifier: MIT */
/* gateway/model/pack.c - a pack's register cache and its one writer.
 *
 * What a pack serves (its last complete snapshot, the registers encoded
 * from it, the counters of good and failed polls, why the last poll
 * failed, the day's highest SOC, what the BMS said about itself) changes
 * here alone, in the one function that ends a poll, whoever ran it (the
 * poller, a group's lead for the records of its master's answer, the
 * listener): gw_pack_polled().  It judges the poll (the driver's finish(),
 * the sensors out of range, the plausibility table), and commits a good
 * one whole: its derived values, the SOC step (model/socunit.c: with
 * [soc] source = counted and the count synced, the counted SOC replaces the
 * BMS's), its capacities by the one rule (capacity.h), the registers
 * encoded once and swapped in; a poll that is not
 * good is counted and the old snapshot stays until it goes stale by age.
 * Then every output hears of it (model/events.c).  A pack is made here
 * too (gw_pack_new), with the charge engine's memory of it; the plan wires
 * it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "bankstate.h"
#include "../engine/capacity.h"
#include "events.h"
#include "gw.h"

struct gw_pack *gw_pack_new(double now)
{
	struct gw_pack *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->created = now;
	p->soc.bms_soc = NAN;
	gw_health_forget(&p->health);
	gw_health_init(&p->health_est);
	if (!(p->charge = gw_charge_pack_new())) {
		free(p);
		return NULL;
	}
	return p;
}

void gw_pack_free(struct gw_pack *p)
{
	if (!p)
		return;
	gw_charge_pack_free(p->charge);
	free(p);
}

/* The highest SOC of the local day, and when it was reached. */
static void soc_track(struct gw_pack *p)
{
	if (!(p->snap.present & BMS_HAS_SOC))
		return;
	struct tm tm;
	int day = gw_local_now(&tm);
	uint16_t soc = (uint16_t)lrintf(p->snap.soc < 0 ? 0 : p->snap.soc > 100 ? 100 : p->snap.soc);
	if (day != p->soc_day || soc > p->soc_max) {
		p->soc_day = day;
		p->soc_max = soc;
		p->soc_max_hour = (uint16_t)tm.tm_hour;
		p->soc_max_minute = (uint16_t)tm.tm_min;
	}
}

/* A poll that was not good: counted, why kept (logged at warning the
 * first time while the wire is up, then at debug until a good poll; one
 * whose ender logged it, a bad message, at debug: said; while the wire is
 * down its link's outage is the line of the log).  A PIN the BMS refused
 * (auth) is an error of its own, logged once until a good poll. */
static void fail(struct gw_pack *p, const char *why, bool wire_up, bool said, bool auth)
{
	p->failed_polls++;
	p->fail_streak++;
	snprintf(p->last_error, sizeof(p->last_error), "%.*s", (int)sizeof(p->last_error) - 1, why ? why : "failed");
	if (auth) {
		/* a refused PIN: its own line, once until the BMS takes one (the
		 * pin is never in it) */
		if (!p->auth_said)
			gw_err("pack %s: %s; the pack is offline, its PIN tried again at most once every %.0f s "
			       "(logged once until the BMS takes it)", p->cfg->name, p->last_error, BMS_AUTH_RETRY_S);
		p->auth_said = p->fail_warned = true;
		p->fail_own = true;
		return;
	}
	if (!said && !p->fail_own && wire_up) {
		gw_warn("pack %s: poll failed: %s (logged once until it answers again)", p->cfg->name,
			p->last_error);
		p->fail_warned = true;
	} else {
		gw_debug("pack %s: poll failed: %s", p->cfg->name, p->last_error);
	}
	p->fail_own = p->fail_own || !said;
}

/* What the BMS said about itself, read by a good poll: kept, and logged
 * when it is new or another. */
static void ident(struct gw_pack *p, const struct bms_ident *id)
{
	if (memcmp(id, &p->ident, sizeof(p->ident)) == 0)
		return;
	p->ident = *id;
	id = &p->ident;
	gw_info("pack %s: the BMS says%s%s%s%s%s%s%s%s%s%s", p->cfg->name, id->vendor[0] ? " vendor " : "",
		id->vendor, id->model[0] ? " model " : "", id->model, id->firmware[0] ? " firmware " : "",
		id->firmware, id->serial[0] ? " serial " : "", id->serial, id->pack_serial[0] ? " pack serial " : "",
		id->pack_serial);
}

/* The cells of a good poll against the pack's chemistry (engine/chemfit.h),
 * before the SOC step that must not take their voltage points while they
 * do not fit; the error logged once when it begins and once when it ends. */
static void chemistry(struct gw_pack *p, double now)
{
	const struct bms_snapshot *s = &p->snap;
	double lo = NAN, hi = NAN;
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs); /* the cells, else the BMS's own highest and lowest */
	if ((cs.from == BMS_CELLS_LIST && (s->present & BMS_HAS_CELLS)) || cs.from == BMS_CELLS_EXT) {
		lo = cs.min_mv / 1000.0;
		hi = cs.max_mv / 1000.0;
	}
	enum conf_chemistry was = p->chem.chem;
	unsigned ev = gw_chemfit_step(&p->chem, p->cfg->soc.chemistry, lo, hi,
				      (s->present & BMS_HAS_SOC) ? s->soc : NAN, now);
	const char *c = conf_chem_name(p->cfg->soc.chemistry);
	if (ev & GW_CHEM_EV_CHANGED)
		gw_info("pack %s: chemistry %s now: the error of %s ends, its cells are judged against %s", p->cfg->name,
			c, conf_chem_name(was), c);
	if (ev & GW_CHEM_EV_WRONG) {
		char why[192];
		gw_chemfit_text(&p->chem, why, sizeof(why));
		gw_log(GW_LOG_ERROR, "pack %s: configuration: chemistry = %s does not fit its cells for %.0f s: %s; until it "
			 "does, its voltage points are not taken and its limits are fail-safe (logged once)", p->cfg->name,
			 c, GW_CHEM_HOLD_S, why);
	}
	if (ev & GW_CHEM_EV_FITS)
		gw_info("pack %s: its cells fit chemistry %s again", p->cfg->name, c);
}

/* A good poll's snapshot s: its derived values, the SOC step, the
 * registers encoded once (into a scratch block, swapped in whole), the
 * counters, the day's highest SOC. */
static void commit(struct gw *gw, struct gw_pack *p, const struct bms_snapshot *s, double now)
{
	p->snap = *s;
	bms_snapshot_derive(&p->snap);
	bms_snapshot_state(&p->snap, p->cfg->soc.current_threshold);
	p->snap.ncells = p->snap.ncells > BMS_MAX_CELLS ? BMS_MAX_CELLS : p->snap.ncells;
	p->have_data = true;
	p->last_good = now;
	p->good_polls++;
	soc_track(p);
	chemistry(p, now);
	/* the SOC step reads the BMS's SOC; the counted one, once synced,
	 * is the one the pack carries (snapshot and registers) until the next
	 * poll */
	double soc = gw_soc_polled(gw, p);
	if (isfinite(soc)) {
		p->snap.soc = (float)(soc < 0 ? 0 : soc > 100 ? 100 : soc);
		p->snap.present |= BMS_HAS_SOC;
		soc_track(p);
	}
	/* its capacities by the one rule (capacity.h): from the BMS's own SOC,
	 * after the SOC step read the BMS's own figures */
	gw_capacity_apply(&p->snap, p->soc.bms_soc, p->cfg->soc.capacity);
	uint16_t regs[REG_MAP_SIZE];
	reg_encode_data(&p->snap, gw->conf->gw.float_order, regs);
	memcpy(p->data_regs, regs, sizeof(regs));
	/* the end of a streak whose failure was logged here (that of one
	 * logged by its link's outage or as a bad message is theirs) */
	if (p->fail_warned)
		gw_info("pack %s: answering again after %u failed polls", p->cfg->name, p->fail_streak);
	else if (p->fail_streak)
		gw_debug("pack %s: answering again after %u failed polls", p->cfg->name, p->fail_streak);
	p->fail_streak = 0;
	p->fail_own = p->fail_warned = false;
	p->last_error[0] = 0;
}

/* A snapshot of p that is not plausible (bms/base/plausible.c): counted, and
 * logged with the frames heard once in a row of them; why (cap bytes) says
 * which value. */
static void implausible(struct gw_pack *p, const struct gw_poll_end *e, const struct bms_implausible *im, char *why,
			size_t cap)
{
	char what[160];
	bms_implausible_text(im, what, sizeof(what));
	snprintf(why, cap, "implausible: %s", what);
	if (e->implausible)
		(*e->implausible)++;
	if (p->implausible_said)
		return;
	p->implausible_said = true;
	char hex[2 * GW_HEARD_MAX + 1];
	size_t n = e->heard_len < GW_HEARD_MAX ? e->heard_len : GW_HEARD_MAX;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", e->heard[i]);
	hex[2 * n] = 0;
	gw_warn("pack %s: a poll with %s is not served (the pack goes stale while its polls are implausible); "
		"frames: %s%s", p->cfg->name, what, hex, e->heard_len > n ? " ..." : "");
}

/* Pack p's sensors that read outside the plausible range in snapshot s
 * are absent and flagged (bms_sensor_faults): logged once a sensor while
 * the gateway runs, not once a poll (a pack without its second sensor
 * reads 0xC8 there in every answer). */
static void sensor_faults(struct gw_pack *p, struct bms_snapshot *s)
{
	float was[BMS_MAX_TEMPS + 1];
	unsigned found = bms_sensor_faults(s, was);
	unsigned fresh = found & ~(unsigned)p->faults_said;
	if (!fresh)
		return;
	p->faults_said |= fresh;
	char list[BMS_MAX_TEMPS * 40 + 48] = "";
	size_t n = 0;
	for (unsigned i = 0; i <= BMS_MAX_TEMPS && n < sizeof(list); i++) {
		unsigned bit = i < BMS_MAX_TEMPS ? 1u << i : BMS_FAULT_MOS;
		if (!(fresh & bit))
			continue;
		int k = i < BMS_MAX_TEMPS
				? snprintf(list + n, sizeof(list) - n, "%stemperature %u = %g degC", n ? ", " : "",
					   i + 1, (double)was[i])
				: snprintf(list + n, sizeof(list) - n, "%sMOSFET temperature = %g degC", n ? ", " : "",
					   (double)was[i]);
		n += k > 0 ? (size_t)k : 0;
	}
	gw_warn("pack %s: %s: outside %g..%g degC, no sensor's reading (one the BMS lacks or lost): served "
		"absent, the pack flagged with a sensor fault (alarm sensor); not logged again", p->cfg->name,
		list, BMS_PLAUSIBLE_MIN_C, BMS_PLAUSIBLE_MAX_C);
}

/* Is what the poll read a good sample?  The driver's finish() (a poll's),
 * the sensors out of range, the plausibility table. */
static enum gw_polled judge(struct gw_pack *p, struct gw_poll_end *e, struct bms_snapshot *s)
{
	if (!s) {
		snprintf(e->failed, sizeof(e->failed), "%s", e->why ? e->why : "failed");
		return GW_POLLED_FAILED;
	}
	int rc = e->poll && p->drv->finish ? p->drv->finish(e->poll) : BMS_OK;
	if (rc < 0) {
		snprintf(e->failed, sizeof(e->failed), "%s%s", e->unfinished ? e->unfinished : "", bms_strerror(rc));
		return GW_POLLED_FAILED;
	}
	sensor_faults(p, s);
	struct bms_implausible im;
	if (!bms_plausible(s, &im)) {
		implausible(p, e, &im, e->failed, sizeof(e->failed));
		return GW_POLLED_IMPLAUSIBLE;
	}
	return GW_POLLED_GOOD;
}

void gw_pack_setting_read(struct gw_pack *p, enum bms_set_key k, float v)
{
	bms_settings_put(&p->settings, k, v);
}

enum gw_polled gw_pack_polled(struct gw *gw, struct gw_pack *p, struct gw_poll_end *e)
{
	struct bms_snapshot *s = e->poll ? &e->poll->snap : e->snap;
	enum gw_polled r = judge(p, e, s);
	double now = gw_mono();
	if (e->auth_failed)
		p->auth = GW_AUTH_FAILED;
	if (r == GW_POLLED_GOOD) {
		e->failed[0] = 0;
		if (p->auth_said)
			gw_info("pack %s: the BMS takes the PIN now", p->cfg->name);
		p->auth_said = false;
		p->auth = GW_AUTH_OK;
		commit(gw, p, s, now);
		p->implausible_said = false;
		gw_debug("pack %s: %.2f V %.1f A SOC %.1f%% %u cells (%.0f ms)", p->cfg->name, p->snap.voltage,
			 p->snap.current, p->snap.soc, p->snap.ncells, (now - e->started) * 1000);
		if (e->poll && e->poll->kept.ident_state == BMS_IDENT_HAVE)
			ident(p, &e->poll->kept.ident);
		if (e->poll && e->poll->kept.settings.have)
			p->settings = e->poll->kept.settings;
	} else {
		fail(p, e->failed, e->wire_up, e->said, e->auth_failed);
	}
	/* the bank's state before anyone hears of the poll (bankstate.h) */
	gw_bank_polled(gw, p, r == GW_POLLED_GOOD, now);
	gw_emit_polled(gw, p, r == GW_POLLED_GOOD);
	return r;
}

void gw_pack_reencode(struct gw_pack *p, enum reg_float_order fo)
{
	if (p->have_data)
		reg_encode_data(&p->snap, fo, p->data_regs);
}
