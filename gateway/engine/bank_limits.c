/* SPDX-License-Identifier: MIT */
/* gateway/engine/bank_limits.c - the charge and discharge limits of the bank:
 * its target from its packs' limits (gw_limits_bank, stateless) and what it
 * publishes of them over time (gw_limits_bank_follow).  pack_limits.h says what
 * each rule is; the reasons:
 *
 *  - one charge machine for the bank: with the CVL the lowest of the packs'
 *    own CVLs, the first pack to float would hold the whole bank at float,
 *    the others would never absorb, and their full-charge requests would
 *    make a Deye charge from the grid every day.  dbus-aggregate-batteries
 *    keeps the highest CVL until every battery floats for this
 *    (KEEP_MAX_CVL,
 *    https://github.com/Dr-Gigavolt/dbus-aggregate-batteries/blob/main/config.default.ini);
 *    bmsgw keeps the lowest bulk / absorption CVL, which still carries each
 *    pack's cell over-voltage reduction, so no cell goes over its target
 *    while the others catch up.
 *  - a stale member: it stays on the DC bus while the bank no longer sees
 *    its cells.  A Pylontech rack goes on with a "BMS communication lost"
 *    alarm (Powercube M1-C manual); dbus-aggregate-batteries stops.  degrade
 *    (the default) goes on at float voltage with a communication warning to
 *    the inverter; block stops, as dbus-aggregate-batteries does.
 *  - a pack's protection is the bank's warning unless the bank's own limit
 *    in that direction is 0 (gw_limits_bank_alarm_levels): a Sunny Island
 *    goes to standby on any alarm (SMA's external BMS document §1.2), which
 *    would also stop the charging that rescues a pack in under-voltage.
 */
#include <math.h>
#include <string.h>

#include "pack_limits.h"

#define FULL_SOC 97.0          /* %: Pylontech's full-charge flag clears here */

/* A pack counts for the bank's voltages while its snapshot is fresh, and for
 * its currents once its own limits recovered from stale (its 0 A would stop
 * the others); while none has (every fresh member back from stale: a bank of
 * one pack or one string, or all of them back at once), the recovering ones
 * count: their 0 A rising by the recovery rules is the bank's, and a bank of
 * fresh members is never fail-safe (its outputs speak again at once). */
static bool counts_v(const struct gw_lim_member *m)
{
	return m->lim && !m->lim->failsafe;
}

static bool recovered(const struct gw_lim_member *m)
{
	return counts_v(m) && m->lim->ccl_reason != GW_LR_STALE && m->lim->dcl_reason != GW_LR_STALE;
}

static bool counts_i(const struct gw_lim_member *m, bool recovering)
{
	return recovering ? counts_v(m) : recovered(m);
}

/* No member has recovered from stale: the recovering ones count. */
static bool all_recovering(const struct gw_lim_bank_in *in)
{
	for (int i = 0; i < in->n; i++)
		if (recovered(&in->m[i]))
			return false;
	return true;
}

/* The charge machine: bulk / absorption CVLs until every pack with cells
 * absorbed in this cycle, then their (float) CVLs; the highest DVL. */
static void bank_voltages(const struct gw_lim_bank_in *in, struct gw_limits *o, struct gw_lim_binding *b)
{
	bool machine = false, floating = true, absorbing = false;
	for (int i = 0; i < in->n; i++) {
		const struct gw_limits *p = in->m[i].lim;
		if (!counts_v(&in->m[i]))
			continue;
		if (p->mode != GW_LIM_OFF) {
			machine = true;
			floating = floating && p->absorbed;
			absorbing = absorbing || p->mode == GW_LIM_ABSORPTION;
		}
		if (p->cells > o->cells)
			o->cells = p->cells;
	}
	floating = machine && floating;
	double best = 0;
	for (int i = 0; i < in->n; i++) {
		const struct gw_limits *p = in->m[i].lim;
		if (!counts_v(&in->m[i]) || !p->volt_valid)
			continue;
		double v = floating || p->mode == GW_LIM_OFF ? p->cvl_v : p->bulk_cvl_v;
		if (b->cvl < 0 || v < best) {
			b->cvl = i;
			best = v;
		}
		if (b->dvl < 0 || p->dvl_v > in->m[b->dvl].lim->dvl_v)
			b->dvl = i;
	}
	o->volt_valid = b->cvl >= 0;
	o->cvl_v = o->bulk_cvl_v = best;
	o->dvl_v = b->dvl >= 0 ? in->m[b->dvl].lim->dvl_v : 0;
	o->mode = !machine ? GW_LIM_OFF : floating ? GW_LIM_FLOAT : absorbing ? GW_LIM_ABSORPTION : GW_LIM_BULK;
	o->absorbed = floating;
}

/* The weight of a pack in bank_rule = weighted: capacities when every pack
 * counting gives one, else their ratings of that direction. */
static double weight(const struct gw_lim_member *m, bool by_capacity, bool charge)
{
	if (by_capacity)
		return m->capacity_ah;
	return charge ? m->rating.charge_a : m->rating.discharge_a;
}

/* One current limit by bank_rule over the packs that count; *bind the pack
 * that binds (the lowest limit, or the lowest over its share). */
static double bank_current(const struct conf_limits *cfg, const struct gw_lim_bank_in *in, bool charge, bool rec,
			   int *bind)
{
	bool by_capacity = true;
	double wsum = 0, sum = 0, best = 0;
	int n = 0;
	for (int i = 0; i < in->n; i++)
		if (counts_i(&in->m[i], rec))
			by_capacity = by_capacity && in->m[i].capacity_ah > 0;
	for (int i = 0; i < in->n; i++)
		if (counts_i(&in->m[i], rec))
			wsum += weight(&in->m[i], by_capacity, charge);
	for (int i = 0; i < in->n; i++) {
		const struct gw_lim_member *m = &in->m[i];
		if (!counts_i(m, rec))
			continue;
		double a = charge ? m->lim->ccl_a : m->lim->dcl_a, w = weight(m, by_capacity, charge);
		double key = cfg->bank_rule != CONF_BANK_WEIGHTED ? a : w > 0 ? a * wsum / w : 0;
		if (*bind < 0 || key < best) {
			*bind = i;
			best = key;
		}
		sum += a;
		n++;
	}
	if (n == 0)
		return 0;
	return cfg->bank_rule == CONF_BANK_SUM ? sum : cfg->bank_rule == CONF_BANK_WEIGHTED ? best : n * best;
}

/* Flags over the packs that count for the currents. */
static int bank_flags(const struct gw_lim_bank_in *in, bool rec, struct gw_limits *o, bool *chg, bool *dsg)
{
	int joined = 0;
	*chg = *dsg = true;
	for (int i = 0; i < in->n; i++) {
		const struct gw_limits *p = in->m[i].lim;
		if (!counts_i(&in->m[i], rec))
			continue;
		joined++;
		*chg = *chg && p->charge_allowed;
		*dsg = *dsg && p->discharge_allowed;
		o->force_charge = o->force_charge || p->force_charge;
		o->full_charge_request = o->full_charge_request || p->full_charge_request;
	}
	return joined;
}

/* A stale member (degrade: the CVL at float), and the floor: the CVL under
 * the bank's voltage less its margin is raised to it; in bulk and
 * absorption the wish to go under it stops charging.  The reason to stop,
 * or GW_LR_NONE. */
static enum gw_lim_reason bank_cvl_rules(const struct conf_limits *cfg, const struct gw_lim_bank_in *in,
					 struct gw_limits *o)
{
	bool degraded = false;
	if (o->member_stale && o->cells > 0 && o->volt_valid) {
		double cap = o->cells * cfg->float_cell_voltage + cfg->voltage_drop;
		degraded = o->cvl_v > cap;
		o->cvl_v = fmin(o->cvl_v, cap);
	}
	if (!o->volt_valid || !in->have_v || !isfinite(in->volts))
		return GW_LR_NONE;
	double floor = gw_limits_floor(in->volts, o->cells);
	if (o->cvl_v >= floor)
		return GW_LR_NONE;
	o->cvl_v = floor;
	return degraded ? GW_LR_STALE : o->mode != GW_LIM_FLOAT ? GW_LR_CELL_VOLTAGE : GW_LR_NONE;
}

void gw_limits_bank(const struct conf_limits *cfg, const struct gw_lim_bank_in *in, struct gw_limits *out,
		    struct gw_lim_binding *binding)
{
	struct gw_limits o = { 0 };
	struct gw_lim_binding b = { -1, -1, -1, -1 };
	bool chg, dsg, rec = all_recovering(in);

	o.enabled = cfg->enabled;
	for (int i = 0; cfg->enabled && i < in->n; i++)
		o.member_stale = o.member_stale || in->m[i].stale;
	int joined = cfg->enabled ? bank_flags(in, rec, &o, &chg, &dsg) : 0;
	if (!cfg->enabled) {
		o.mode = GW_LIM_OFF;
		o.member_stale = false;
	} else if (joined == 0 || (o.member_stale && cfg->bank_stale == CONF_BANK_STALE_BLOCK)) {
		o = (struct gw_limits){ .enabled = true, .member_stale = o.member_stale, .failsafe = true,
					.mode = GW_LIM_FAILSAFE, .ccl_reason = GW_LR_STALE, .dcl_reason = GW_LR_STALE };
	} else {
		bank_voltages(in, &o, &b);
		double ccl = bank_current(cfg, in, true, rec, &b.ccl), dcl = bank_current(cfg, in, false, rec, &b.dcl);
		o.ccl_a = chg ? ccl : 0;
		o.dcl_a = dsg ? dcl : 0;
		o.ccl_reason = in->m[b.ccl].lim->ccl_reason;
		o.dcl_reason = in->m[b.dcl].lim->dcl_reason;
		enum gw_lim_reason stop = bank_cvl_rules(cfg, in, &o);
		if (stop != GW_LR_NONE && o.ccl_a > 0) {
			o.ccl_a = 0;
			o.ccl_reason = stop;
		}
		if (o.absorbed || (in->have_soc && in->soc >= FULL_SOC))
			o.full_charge_request = false;
	}
	o.charge_allowed = o.ccl_a > 0;
	o.discharge_allowed = o.dcl_a > 0;
	o.force_charge = o.force_charge && o.charge_allowed;
	*out = o;
	if (binding)
		*binding = b;
}

void gw_limits_bank_init(struct gw_lim_bank_state *st)
{
	memset(st, 0, sizeof(*st));
}

/* The bank's CVL: down at once, up at cvl_rate per cell; never under the
 * floor. */
static void bank_cvl(const struct conf_limits *cfg, struct gw_lim_bank_state *st, const struct gw_lim_bank_in *in,
		     double now, struct gw_limits *o)
{
	if (!o->volt_valid)
		return;
	if (!st->cvl_known || o->cvl_v <= st->cvl) {
		st->cvl = o->cvl_v;
		st->cvl_known = true;
		return;
	}
	double cells = o->cells > 0 ? o->cells : cfg->max_cell_voltage > 0 ? round(o->cvl_v / cfg->max_cell_voltage) : 1;
	st->cvl = fmin(o->cvl_v, st->cvl + cfg->cvl_rate * (cells > 0 ? cells : 1) * (now - st->t_prev));
	if (in->have_v && isfinite(in->volts))
		st->cvl = fmax(st->cvl, fmin(o->cvl_v, gw_limits_floor(in->volts, o->cells)));
	o->cvl_v = st->cvl;
}

/* The first result, and a fail-safe one: taken as it is (nothing was
 * published before; a fail-safe has no current at once), the CVL and DVL
 * kept through a fail-safe. */
static void bank_restart(struct gw_lim_bank_state *st, double now, struct gw_limits *o)
{
	st->ccl = (struct gw_lim_current){ o->ccl_a, false, now, o->ccl_reason };
	st->dcl = (struct gw_lim_current){ o->dcl_a, false, now, o->dcl_reason };
	if (!o->failsafe) {
		st->cvl = o->cvl_v;
		st->dvl = o->dvl_v;
		st->cvl_known = o->volt_valid;
		st->seen = true;
	} else if (st->cvl_known) {
		o->cvl_v = st->cvl;
		o->dvl_v = st->dvl;
		o->volt_valid = true;
	}
	st->t_prev = now;
}

/* One current limit of the bank toward its target: down at once, up after
 * the hold at the rate (gw_limits_current_follow); but while the target is
 * its members' recovery from stale (reason stale: they hold and ramp by the
 * recovery rules already), and until the bank has caught up with them, it
 * follows them up at recovery_rate at most without a hold of its own (two
 * holds in a row would keep a bank of one string at 0 A for twice
 * recovery_hold). */
static void follow_current(const struct conf_limits *cfg, struct gw_lim_current *l, double target,
			   enum gw_lim_reason reason, double max, double now, double prev)
{
	bool recovering = reason == GW_LR_STALE || (l->reason == GW_LR_STALE && l->a > 0);
	if (!recovering || target <= l->a) {
		gw_limits_current_follow(cfg, l, target, reason, max, now, prev);
		return;
	}
	if (cfg->recovery_rate <= 0)
		l->a = target;
	else if (now > prev)
		l->a = fmin(target, l->a + cfg->recovery_rate * (now - prev));
	l->rising = false;
	l->reason = l->a >= target ? reason : GW_LR_STALE;
}

unsigned gw_limits_bank_follow(const struct conf_limits *cfg, struct gw_lim_bank_state *st,
			       const struct gw_lim_bank_in *in, double now, struct gw_limits *o)
{
	if (!cfg->enabled)
		return 0;
	unsigned ch = 0;
	if (o->failsafe || !st->seen) {
		bank_restart(st, now, o);
		if (o->failsafe && gw_limits_exceed_step(cfg, &st->exc, false, 0, 0, 0, now))
			ch = GW_LIM_CHANGED_EXCEEDED;
		o->exceeded = st->exc.state;
		return ch;
	}
	double max_c = 0, max_d = 0;
	for (int i = 0; i < in->n; i++) {
		max_c += in->m[i].rating.charge_a;
		max_d += in->m[i].rating.discharge_a;
	}
	follow_current(cfg, &st->ccl, o->ccl_a, o->ccl_reason, max_c, now, st->t_prev);
	follow_current(cfg, &st->dcl, o->dcl_a, o->dcl_reason, max_d, now, st->t_prev);
	o->ccl_a = st->ccl.a;
	o->dcl_a = st->dcl.a;
	o->ccl_reason = st->ccl.reason;
	o->dcl_reason = st->dcl.reason;
	o->charge_allowed = o->ccl_a > 0;
	o->discharge_allowed = o->dcl_a > 0;
	o->force_charge = o->force_charge && o->charge_allowed;
	bank_cvl(cfg, st, in, now, o);
	if (o->volt_valid)
		st->dvl = o->dvl_v;
	if (gw_limits_exceed_step(cfg, &st->exc, in->have_i, in->amps, o->ccl_a, o->dcl_a, now))
		ch = GW_LIM_CHANGED_EXCEEDED;
	o->exceeded = st->exc.state;
	st->t_prev = now;
	return ch;
}

#define BANK_FULL_SOC 97.0          /* %: as a pack's (pack_limits.c) */
#define BANK_WALL_MIN 1577836800    /* 2020-01-01: an earlier clock is not set yet */

void gw_limits_bank_settings(const struct gw_settings *set, const struct gw_lim_bank_in *in, int64_t wall,
			     struct gw_lim_bank_state *st, struct gw_limits *o)
{
	if (!set || o->failsafe)
		return;
	gw_limits_settings_apply(set, in->have_soc, in->soc, &st->latch, &o->ccl_a, &o->ccl_reason, &o->dcl_a,
				 &o->dcl_reason);
	o->charge_allowed = o->ccl_a > 0;
	o->discharge_allowed = o->dcl_a > 0;
	if (gw_limits_settings_force(set, wall))
		o->force_charge = true; /* gw_limits_bank_follow keeps it only while charging is allowed */
	if (wall < BANK_WALL_MIN)
		return;
	bool full = o->mode == GW_LIM_ABSORPTION || o->mode == GW_LIM_FLOAT ||
		    (in->have_soc && isfinite(in->soc) && in->soc >= BANK_FULL_SOC);
	if (st->last_full_wall == 0 || full)
		st->last_full_wall = wall;
	if (set->origin[GW_SET_FULL_DAYS] != GW_ORIGIN_CONFIG) {
		double days = set->v[GW_SET_FULL_DAYS];
		o->full_charge_request = !full && days > 0 && (double)(wall - st->last_full_wall) >= days * 86400.0;
	}
}

/* The side of a protection bit: charge, discharge, both (or neither). */
void gw_limits_bank_alarm_levels(const struct gw_limits *bank, uint32_t *protect, uint32_t *warn)
{
	bool no_c = !bank->charge_allowed, no_d = !bank->discharge_allowed;
	uint32_t keep = (no_c ? GW_LIM_AL_CHARGE : 0) | (no_d ? GW_LIM_AL_DISCHARGE : 0);
	uint32_t other = ~(uint32_t)(GW_LIM_AL_CHARGE | GW_LIM_AL_DISCHARGE);
	if (no_c && no_d)
		keep |= other; /* both sides, and the bits of no side */
	*warn |= *protect;
	*protect &= keep;
}
