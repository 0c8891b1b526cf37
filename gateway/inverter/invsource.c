/* gateway/inverter/invsource.c - the virtual battery an inverter output
 * sends (struct inv_battery), from its source, a pack or the bank, and the
 * fail-safe state machine of the outputs.
 *
 * A stale source gives zero current limits and charge and discharge
 * disabled at once, decided at the moment of sending (not a second later,
 * when the limit engine steps); the CVL and DVL and the measurements keep
 * their last values, so that an inverter does not read "empty" (some would
 * start charging from the grid on a SOC of 0).  After failsafe_silence the
 * output goes silent: some inverters keep using a battery whose limits are
 * 0 A, but all of them fall into their own loss-of-communication mode when
 * it stops talking.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
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
	if (h & BMS_HAS_ALARMS)
		inv_battery_set_alarms(b, s->alarms);
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
	if (!s->ncells)
		return;
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	b->cell_min_mv = cs.min_mv;
	b->cell_max_mv = cs.max_mv;
	b->cell_min_at = (struct inv_where){ 1, cs.min_idx };
	b->cell_max_at = (struct inv_where){ 1, cs.max_idx };
	b->ncells = s->ncells > BMS_MAX_CELLS ? BMS_MAX_CELLS : s->ncells;
	memcpy(b->cell_mv, s->cell_mv, b->ncells * sizeof(b->cell_mv[0]));
	b->series_cells = b->ncells;
	b->present |= INV_HAS_CELL_MINMAX | INV_HAS_CELLS;
}

static void fill_limits(struct inv_battery *b, const struct gw_limits *l, bool fresh)
{
	b->cvl_v = (float)l->cvl_v;
	b->dvl_v = (float)l->dvl_v;
	b->present |= INV_HAS_LIMITS;
	if (!fresh || l->failsafe)
		return; /* no current, nothing allowed */
	b->ccl_a = (float)l->ccl_a;
	b->dcl_a = (float)l->dcl_a;
	b->charge_allowed = l->charge_allowed;
	b->discharge_allowed = l->discharge_allowed;
	b->force_charge = l->force_charge;
	b->full_charge_request = l->full_charge_request;
}

static bool bank_source(const struct gw *gw, double now, struct inv_battery *b)
{
	struct gw_bank_state bs;
	gw_bank_compute(gw, &bs);
	(void)now;
	bool fresh = bs.online > 0;
	fill_state(b, &bs.snap);
	fill_temps(b, &bs.snap, 0);
	if (bs.rb.have_cells) {
		b->cell_min_mv = bs.rb.min_mv;
		b->cell_max_mv = bs.rb.max_mv;
		b->cell_min_at = (struct inv_where){ bs.rb.min_pack, bs.rb.min_cell };
		b->cell_max_at = (struct inv_where){ bs.rb.max_pack, bs.rb.max_cell };
		b->present |= INV_HAS_CELL_MINMAX;
	}
	b->packs = bs.online;
	fill_limits(b, &gw->bank_lim, fresh);
	return fresh;
}

bool inv_source(const struct gw *gw, const struct conf_inverter *c, double now, struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	size_t ml = strnlen(c->manufacturer, INV_MANUFACTURER_MAX); /* [inverter] checked: 1..8 */
	memcpy(b->manufacturer, c->manufacturer, ml);
	b->manufacturer[ml] = '\0';
	if (c->source_pack == CONF_BANK_SOURCE)
		return bank_source(gw, now, b);
	const struct gw_pack *p = c->source_pack >= 0 && c->source_pack < gw->npacks ? gw->packs[c->source_pack] : NULL;
	if (!p)
		return false;
	bool fresh = gw_pack_online(gw, p);
	if (p->have_data) {
		fill_state(b, &p->snap);
		fill_temps(b, &p->snap, 1);
		fill_cells(b, &p->snap);
	}
	b->packs = 1;
	fill_limits(b, &p->lim, fresh);
	return fresh;
}

const char *inv_state_name(enum inv_state s)
{
	static const char *const names[] = { "down", "sending", "failsafe", "silent" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

void inv_update_state(struct inv_out *o, bool up, bool fresh, double now)
{
	const char *name = o->cfg.name;
	enum inv_state was = o->state;
	if (fresh) {
		if (o->stale_since > 0 && o->ever_fresh)
			gw_info("inverter %s: source %s fresh again after %.0f s: its limits are sent again", name,
				o->cfg.source, now - o->stale_since);
		else if (!o->ever_fresh)
			gw_info("inverter %s: source %s has data: its limits are sent", name, o->cfg.source);
		o->stale_since = 0;
		o->ever_fresh = true;
	} else if (o->stale_since == 0) {
		o->stale_since = now;
		if (o->ever_fresh)
			gw_warn("inverter %s: source %s is stale: zero current limits, charge and discharge disabled; "
				"silent after %g s", name, o->cfg.source, o->cfg.failsafe_silence);
		else
			gw_info("inverter %s: no data from source %s yet: zero current limits until it has some", name,
				o->cfg.source);
	}
	if (!up)
		o->state = INV_DOWN;
	else if (fresh)
		o->state = INV_SENDING;
	else if (now - o->stale_since >= o->cfg.failsafe_silence)
		o->state = INV_SILENT;
	else
		o->state = INV_FAILSAFE;
	if (o->state == INV_SILENT && was != INV_SILENT)
		gw_warn("inverter %s: silent (source stale for %g s): the inverter falls into its own "
			"loss-of-communication mode", name, o->cfg.failsafe_silence);
}
