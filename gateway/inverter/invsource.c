/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invsource.c - the virtual battery an inverter output
 * sends (struct inv_battery), from its source, a pack or the bank, and the
 * fail-safe state machine of the outputs.
 *
 * Nothing is sent, nothing answered, until the source has been fresh once
 * with a charge voltage limit and a SOC: zeros are never data (a Sunny
 * Island given a CVL under the battery's voltage discharges it and ignores
 * the DCL; given no SOC it falls back to 0 % and shuts down: SMA's
 * external BMS document, "FSS-ConnectingBat-TI-en-10" §5).
 *
 * A stale source gives zero current limits, charge and discharge disabled
 * and a communication warning at once, decided at the moment of sending
 * (not a second later, when the limit engine steps); the CVL, the DVL and
 * the measurements are the last ones sent, so that an inverter does not
 * read "empty" (some would start charging from the grid on a SOC of 0).
 * After failsafe_silence the output goes silent: some inverters keep using
 * a battery whose limits are 0 A, but all of them fall into their own
 * loss-of-communication mode when it stops talking.
 *
 * A high-voltage protocol (inv_dialect_volt_range: byd-hvs-can) speaks only
 * while the source's measured voltage is inside the protocol's range: out
 * of it (or with no voltage measured) the output is silent (state
 * out_of_range), said once in the log each way.  --check refused a source whose cells cannot stay
 * inside; this holds when the BMS says otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "../model/bankstate.h"
#include "invout.h"

static void fill_state(struct inv_battery *b, const struct bms_snapshot *s)
{
	uint32_t h = s->present;
	if (h & BMS_HAS_SOC) {
		b->soc = s->soc;
		b->present |= INV_HAS_SOC;
	}
	if (h & BMS_HAS_SOH) {
		b->soh = s->soh;
		b->present |= INV_HAS_SOH;
	}
	if (h & BMS_HAS_VOLTAGE) {
		b->voltage = s->voltage;
		b->present |= INV_HAS_VOLTAGE;
	}
	if (h & BMS_HAS_CURRENT) {
		b->current = s->current;
		b->present |= INV_HAS_CURRENT;
	}
	if (h & BMS_HAS_CYCLES) {
		b->cycles = s->cycles;
		b->present |= INV_HAS_CYCLES;
	}
	if (h & BMS_HAS_REMAIN) {
		b->remain_ah = s->remain_ah;
		b->present |= INV_HAS_REMAIN;
	}
	if (h & BMS_HAS_FULL) {
		b->full_ah = s->full_ah;
		b->present |= INV_HAS_FULL;
	}
	if (h & BMS_HAS_MOS_TEMP) {
		b->mos_temp_c = s->mos_temp_c;
		b->present |= INV_HAS_MOS_TEMP;
	}
}

/* Temperatures: the average, the coldest and the hottest sensor. */
static void fill_temps(struct inv_battery *b, const struct bms_snapshot *s, uint8_t pack)
{
	if (!(s->present & BMS_HAS_TEMPS) || !s->ntemps)
		return;
	double sum = 0;
	int n = 0;
	for (int i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		float t = s->temp_c[i];
		if (!isfinite(t))
			continue;
		if (!n || t < b->temp_min_c)
			b->temp_min_c = t, b->temp_min_at = (struct inv_where){ pack, (uint8_t)(i + 1) };
		if (!n || t > b->temp_max_c)
			b->temp_max_c = t, b->temp_max_at = (struct inv_where){ pack, (uint8_t)(i + 1) };
		b->temps_c[b->ntemps++] = t;
		sum += t;
		n++;
	}
	if (!n)
		return;
	b->temp_c = (float)(sum / n);
	b->present |= INV_HAS_TEMP | INV_HAS_TEMP_MINMAX | INV_HAS_TEMPS;
}

static void fill_cells(struct inv_battery *b, const struct bms_snapshot *s)
{
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	if (cs.from == BMS_CELLS_NONE)
		return;
	b->cell_min_mv = cs.min_mv;
	b->cell_max_mv = cs.max_mv;
	b->cell_min_at = (struct inv_where){ 1, cs.min_idx };
	b->cell_max_at = (struct inv_where){ 1, cs.max_idx };
	b->present |= INV_HAS_CELL_MINMAX;
	if (cs.from != BMS_CELLS_LIST)
		return; /* the BMS's own highest and lowest cell: no list */
	b->ncells = s->ncells > BMS_MAX_CELLS ? BMS_MAX_CELLS : s->ncells;
	memcpy(b->cell_mv, s->cell_mv, b->ncells * sizeof(b->cell_mv[0]));
	b->series_cells = b->ncells;
	b->total_cells = b->ncells;
	b->modules = 1;
	b->present |= INV_HAS_CELL_MINMAX | INV_HAS_CELLS;
}

/* The limits, only once they hold a CVL: a pack without one has none. */
static void fill_limits(struct inv_battery *b, const struct gw_limits *l)
{
	b->absorbed = l->absorbed;
	b->machine = l->mode != GW_LIM_OFF && l->mode != GW_LIM_FAILSAFE;
	b->charge_phase = l->mode == GW_LIM_BULK ? INV_PHASE_BULK : l->mode == GW_LIM_ABSORPTION ? INV_PHASE_ABSORPTION :
			  l->mode == GW_LIM_FLOAT ? INV_PHASE_FLOAT : INV_PHASE_NONE;
	if (!l->volt_valid || l->failsafe)
		return;
	b->cvl_v = (float)l->cvl_v;
	b->dvl_v = (float)l->dvl_v;
	b->ccl_a = (float)l->ccl_a;
	b->dcl_a = (float)l->dcl_a;
	b->charge_allowed = l->charge_allowed;
	b->discharge_allowed = l->discharge_allowed;
	b->force_charge = l->force_charge;
	b->full_charge_request = l->full_charge_request;
	b->present |= INV_HAS_LIMITS;
}

/* The cells in series of the bank: a string's members' sum (each string
 * alike, its members all online with cells), or without strings each
 * pack's (all alike); 0 when not so. */
static void bank_series(const struct gw *gw, double now, struct inv_battery *b)
{
	const struct conf_bank *cb = &gw->conf->bank;
	int n = cb->nstrings > 0 ? cb->nstrings : cb->npacks;
	long total = -1, modules = -1;
	for (int s = 0; s < n; s++) {
		int first = cb->nstrings > 0 ? cb->string_first[s] : s, len = cb->nstrings > 0 ? cb->string_len[s] : 1;
		long sum = 0;
		for (int m = 0; m < len; m++) {
			const struct gw_pack *p = gw->packs[cb->pack_idx[first + m]];
			if (!gw_pack_online_at(gw, p, now) || !(p->snap.present & BMS_HAS_CELLS) || !p->snap.ncells)
				return;
			sum += p->snap.ncells;
		}
		if ((total >= 0 && sum != total) || (modules >= 0 && len != modules))
			return;
		total = sum;
		modules = len;
	}
	if (total > 0 && total <= 0xFFFF && modules <= 0xFF) {
		b->total_cells = (uint16_t)total;
		b->modules = (uint8_t)modules;
	}
}

/* The bank: its aggregate, every sensor's extremes, and its alarms by
 * level (a pack's protection a warning where the bank still runs; a stale
 * member a communication warning). */
static bool bank_source(const struct gw *gw, double now, struct inv_battery *b)
{
	const struct gw_bank_state *bs = &gw_bank_at(gw, now)->bank;
	const struct gw_limits *l = &gw->bank_lim;
	fill_state(b, &bs->snap);
	fill_temps(b, &bs->snap, 0);
	if (bs->tmin.pack) {
		b->temp_min_c = bs->tmin.c;
		b->temp_max_c = bs->tmax.c;
		b->temp_min_at = (struct inv_where){ bs->tmin.pack, bs->tmin.index };
		b->temp_max_at = (struct inv_where){ bs->tmax.pack, bs->tmax.index };
		b->present |= INV_HAS_TEMP_MINMAX;
	}
	if (bs->rb.have_cells) {
		b->cell_min_mv = bs->rb.min_mv;
		b->cell_max_mv = bs->rb.max_mv;
		b->cell_min_at = (struct inv_where){ bs->rb.min_pack, bs->rb.min_cell };
		b->cell_max_at = (struct inv_where){ bs->rb.max_pack, bs->rb.max_cell };
		b->present |= INV_HAS_CELL_MINMAX;
	}
	b->protect = bs->protect;
	b->warn = bs->warn | (l->member_stale ? BMS_AL_COMM : 0);
	gw_limits_bank_alarm_levels(l, &b->protect, &b->warn);
	b->present |= INV_HAS_ALARMS;
	/* a balancer unit is no pack: not counted, never offline (engine/banksoc.h) */
	b->packs_offline = bs->missing;
	const struct conf_bank *cb = &gw->conf->bank;
	for (int k = 0; k < cb->npacks; k++) {
		const struct gw_pack *p = gw->packs[cb->pack_idx[k]];
		if (!gw_pack_online_at(gw, p, now) || gw_pack_is_balancer(p))
			continue;
		b->packs++;
		b->packs_no_charge += !p->lim.charge_allowed;
		b->packs_no_discharge += !p->lim.discharge_allowed;
	}
	bank_series(gw, now, b);
	fill_limits(b, l);
	return gw_bank_limits_fresh_at(gw, now) && !l->failsafe;
}

static bool pack_source(const struct gw *gw, int idx, double now, struct inv_battery *b)
{
	const struct gw_pack *p = idx >= 0 && idx < gw->npacks ? gw->packs[idx] : NULL;
	if (!p || !p->have_data || !gw_pack_online_at(gw, p, now))
		return false;
	fill_state(b, &p->snap);
	fill_temps(b, &p->snap, 1);
	fill_cells(b, &p->snap);
	if (p->snap.present & BMS_HAS_ALARMS) {
		gw_limits_snap_levels(&p->snap, &b->protect, &b->warn);
		b->present |= INV_HAS_ALARMS;
	}
	b->packs = 1;
	b->packs_no_charge = !p->lim.charge_allowed;
	b->packs_no_discharge = !p->lim.discharge_allowed;
	fill_limits(b, &p->lim);
	return true;
}

/* The SOC as this inverter gets it: at most soc_hold_full until the source
 * completed absorption in this cycle (several inverters stop charging at
 * 100 %; YamBMS sends 98 % until the battery is full); with soc_override =
 * deye, 0 % while the discharge limit sent is 0 and 100 % while the charge
 * limit is (a Deye off grid follows the SOC alone: Battery-Emulator #873,
 * its "Deye workaround").  A limit under 0.1 A is 0 on every wire. */
static void adjust_soc(const struct conf_inverter *c, struct inv_battery *b)
{
	bool lim = (b->present & INV_HAS_LIMITS) != 0;
	if (c->soc_hold_full > 0 && b->machine && !b->absorbed && (b->present & INV_HAS_SOC) &&
	    b->soc > c->soc_hold_full)
		b->soc = (float)c->soc_hold_full;
	if (c->soc_override != CONF_SOC_OVERRIDE_DEYE || !lim)
		return;
	if (!b->discharge_allowed || b->dcl_a < 0.1f)
		b->soc = 0;
	else if (!b->charge_allowed || b->ccl_a < 0.1f)
		b->soc = 100;
	else
		return;
	b->present |= INV_HAS_SOC;
}

/* The last battery sent, with the fail-safe limits: the CVL and DVL kept,
 * no current, nothing allowed, and a communication warning. */
static void failsafe_battery(const struct inv_out *o, struct inv_battery *b)
{
	*b = o->last;
	b->ccl_a = b->dcl_a = 0;
	b->charge_allowed = b->discharge_allowed = false;
	b->force_charge = b->full_charge_request = false;
	b->warn |= BMS_AL_COMM;
	b->present |= INV_HAS_ALARMS;
	b->failsafe = true;
}

/* The identity the inverter is told where [inverter.NAME] overrides the
 * source's (--check allowed each key only to the protocols that carry it):
 * the cells in series, the module count, the full capacity (and the
 * remaining one with it, from the SOC, so that the two agree); the battery
 * type; rvc's DC source instance; the output's address; the machine's tag
 * for the dialects' serial numbers. */
static void identity(const struct inv_out *o, struct inv_battery *b)
{
	const struct conf_inverter *c = &o->cfg;
	if (c->report_cells > 0)
		b->total_cells = (uint16_t)c->report_cells;
	if (c->report_modules > 0)
		b->report_modules = (uint8_t)c->report_modules;
	if (c->battery_type >= 0)
		b->battery_type = (uint8_t)c->battery_type;
	if (c->instance > 0)
		b->instance = (uint8_t)c->instance;
	b->address = (uint8_t)(c->address >= 0 && c->address <= 0xFF ? c->address : 0);
	if (c->report_capacity_ah > 0) {
		b->full_ah = (float)c->report_capacity_ah;
		b->present |= INV_HAS_FULL;
		b->present &= ~(uint32_t)INV_HAS_REMAIN;
		if ((b->present & INV_HAS_SOC) && isfinite(b->soc)) {
			b->remain_ah = (float)(c->report_capacity_ah * b->soc / 100.0);
			b->present |= INV_HAS_REMAIN;
		}
	}
	memcpy(b->machine_tag, o->gw->machine, sizeof(b->machine_tag) - 1);
	b->machine_tag[sizeof(b->machine_tag) - 1] = '\0';
}

/* A high-voltage protocol speaks only while the source measures inside its
 * range (a source that lost a member, or whose count of cells was wrong,
 * is no battery the inverter was set up for); the change is said once
 * each way. */
void inv_check_range(struct inv_out *o, const struct inv_battery *b)
{
	double lo, hi;
	if (!inv_dialect_volt_range(o->cfg.protocol, &lo, &hi))
		return;
	bool have = (b->present & INV_HAS_VOLTAGE) && isfinite(b->voltage);
	bool out = !have || b->voltage < lo || b->voltage > hi;
	if (out && !o->out_of_range) {
		if (have)
			gw_warn("inverter %s: source %s measures %.1f V, outside %s's %g-%g V: silent (no frame, no "
				"answer) until it is back inside", o->cfg.name, o->cfg.source, b->voltage,
				inv_dialect_name(o->cfg.protocol), lo, hi);
		else
			gw_warn("inverter %s: source %s gives no voltage, which %s must stay within %g-%g V: silent "
				"(no frame, no answer) until it does", o->cfg.name, o->cfg.source,
				inv_dialect_name(o->cfg.protocol), lo, hi);
	} else if (!out && o->out_of_range) {
		gw_info("inverter %s: source %s measures %.1f V, inside %s's %g-%g V again", o->cfg.name, o->cfg.source,
			b->voltage, inv_dialect_name(o->cfg.protocol), lo, hi);
	}
	o->out_of_range = out;
}

bool inv_source(struct inv_out *o, double now, struct inv_battery *b, bool keep)
{
	const struct conf_inverter *c = &o->cfg;
	memset(b, 0, sizeof(*b));
	bool fresh = c->source_pack == CONF_BANK_SOURCE ? bank_source(o->gw, now, b)
							: pack_source(o->gw, c->source_pack, now, b);
	fresh = fresh && (b->present & INV_HAS_LIMITS) && (b->present & INV_HAS_SOC);
	size_t ml = strnlen(c->manufacturer, INV_MANUFACTURER_MAX); /* [inverter] checked: 1..8 */
	memcpy(b->manufacturer, c->manufacturer, ml);
	b->manufacturer[ml] = '\0';
	b->chemistry = (uint8_t)o->gw->conf->limits.chemistry;
	if (fresh) {
		identity(o, b);
		adjust_soc(c, b);
		if (keep) {
			o->last = *b;
			inv_check_range(o, b);
		}
		return true;
	}
	if (o->ever_fresh) {
		failsafe_battery(o, b);
		adjust_soc(c, b);
		if (keep)
			inv_check_range(o, b);
	}
	return false;
}

const char *inv_state_name(enum inv_state s)
{
	static const char *const names[INV_STATES] = { "down", "sending", "failsafe", "silent", "waiting",
						       "out_of_range" };
	return (unsigned)s < INV_STATES ? names[s] : "?";
}

bool inv_state_speaks(enum inv_state s)
{
	return s == INV_SENDING || s == INV_FAILSAFE;
}

/* The source's freshness changed: said once each way. */
static void log_source(struct inv_out *o, bool fresh, double now)
{
	const char *name = o->cfg.name;
	if (fresh) {
		if (o->stale_since > 0 && o->ever_fresh)
			gw_info("inverter %s: source %s fresh again after %.0f s: its limits are sent again", name,
				o->cfg.source, now - o->stale_since);
		else if (!o->ever_fresh)
			gw_info("inverter %s: source %s has data: its limits are sent", name, o->cfg.source);
		o->stale_since = 0;
		o->ever_fresh = true;
	} else if (o->stale_since == 0 && o->ever_fresh) {
		o->stale_since = now;
		gw_warn("inverter %s: source %s is stale: zero current limits, charge and discharge disabled; "
			"silent after %g s", name, o->cfg.source, o->cfg.failsafe_silence);
	} else if (!o->ever_fresh && !o->waiting_logged) {
		o->waiting_logged = true;
		gw_info("inverter %s: waiting for the first data of source %s (a CVL and a SOC): nothing is sent "
			"until then", name, o->cfg.source);
	}
}

void inv_update_state(struct inv_out *o, bool up, bool fresh, double now)
{
	enum inv_state was = o->state;
	log_source(o, fresh, now);
	if (!up)
		o->state = INV_DOWN;
	else if (!o->ever_fresh)
		o->state = INV_WAITING;
	else if (o->out_of_range)
		o->state = INV_OUT_OF_RANGE;
	else if (fresh)
		o->state = INV_SENDING;
	else if (now - o->stale_since >= o->cfg.failsafe_silence)
		o->state = INV_SILENT;
	else
		o->state = INV_FAILSAFE;
	if (o->state == INV_SILENT && was != INV_SILENT)
		gw_warn("inverter %s: silent (source stale for %g s): the inverter falls into its own "
			"loss-of-communication mode", o->cfg.name, o->cfg.failsafe_silence);
}
