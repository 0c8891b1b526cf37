/* gateway/model/limits.c - the charge and discharge limit engine (CVL, CCL,
 * DCL, DVL, flags, mode, reasons) of one pack, and of the bank.
 *
 * The algorithm is that of dbus-serialbattery 2.1, read in
 * mr-manuel/venus-os_dbus-serialbattery: its battery module
 * (manage_charge_voltage_limit, manage_charge_and_discharge_current,
 * calc_max_charge_current_from_* / calc_max_discharge_current_from_*),
 * https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/master/dbus-serialbattery/battery.py,
 * its utils module (calc_linear_relationship, calc_step_relationship),
 * https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/master/dbus-serialbattery/utils.py,
 * and its default configuration (the defaults, the 0.015 recovery
 * threshold), https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/master/dbus-serialbattery/config.default.ini.  Where bmsgw differs, on
 * purpose:
 *
 * CVL, per pack with cell voltages (Vmax, Vfloat, Vmin = cells x
 * max/float/min_cell_voltage; cell values compared in mV):
 *  - bulk -> absorption when the sum of the cells reaches Vmax with the
 *    spread <= absorption_cell_diff.  In absorption the timer restarts
 *    while the spread is wider than absorption_cell_diff + 3 mV, and the
 *    pack falls back to bulk when the sum drops 0.5 V under Vmax (both
 *    dbus-serialbattery's values); float after absorption_time.
 *  - float -> bulk at a spread >= rebulk_cell_diff, or when the SOC falls
 *    below rebulk_soc.  The SOC rule is armed only once the SOC was seen at
 *    or above rebulk_soc in float: dbus-serialbattery sets its own SOC to
 *    100 % when it enters float; bmsgw cannot, so a BMS whose SOC stays
 *    low at full would otherwise loop bulk -> absorption -> float every
 *    absorption_time.
 *  - bulk and absorption: any cell above max_cell_voltage lowers the
 *    target at once to the sum of the cells minus the sum of the excesses
 *    (dbus-serialbattery's controller mode 1), never below Vmin.  A lowered CVL
 *    rises again only after cvl_recovery_hold without a new lowering, at
 *    cvl_rate (V per cell per s), and never above its target (dbus-serialbattery
 *    ramps toward Vmax whatever the target, which overshoots and drops
 *    again).
 *  - the move to float is a ramp at cvl_rate (Louisvdw/dbus-serialbattery
 *    #659, PR #711: the step made a current spike; Sleeper85/esphome-yambms
 *    PR #53: a Deye discharges into the grid on a sudden CVL drop), in
 *    either direction (a CVL the cell over-voltage rule had put below
 *    Vfloat climbs to it); back in bulk from float the CVL climbs from
 *    float at cvl_rate without a hold.  The ramps advance by the time
 *    between steps, so a stale gap does not make them jump.
 *  - a limit the BMS reports caps the published CVL (bms_cvl_v) and raises
 *    the published DVL (bms_dvl_v: discharge stops at the higher one).
 *
 * CCL / DCL: the max current x the lowest of the fractions that apply
 * (charge: charge_cell_table on the highest cell, charge_temp_table on the
 * lowest and the highest sensor, mos_temp_table, soc_charge_table if set;
 * discharge the same with the lowest cell), 0 when the FET of that
 * direction is off or an alarm of that side is active, capped by the
 * BMS's own limit.  The reason is the condition with the lowest limit;
 * equal limits go to the first of: alarm, mosfet_off, cell_voltage,
 * temperature, mos_temperature, soc, bms_limit; "none" when nothing is
 * below the max current.  A limit falls at once; it rises only once its
 * target has stayed above it for recovery_hold (as dbus-serialbattery: any fall
 * restarts the hold), then at recovery_rate (0 = at once after the hold);
 * from 0 only once the target is above 1.5 % of the max current
 * (Louisvdw/dbus-serialbattery#297, #371: limits flapping around 0).
 * While it rises the reason that lowered it is kept; the first fresh
 * snapshot after gw_limits_init() is adopted as it is (nothing was
 * published before it).
 *
 * Step interpolation: dbus-serialbattery's calc_step_relationship takes, per table,
 * either the point below or the point above the value (return_lower), so
 * some of its step tables allow more than the linear ones.  bmsgw takes,
 * between two points, the lower of their fractions (at a point, its own):
 * step never allows more current than linear.
 *
 * Alarms (gw_limits_alarm_side): charge side cell_ov, pack_ov, chg_ot,
 * chg_ut, chg_oc and sensor (charging at an unknown temperature risks
 * lithium plating); discharge side cell_uv, pack_uv, dsg_ot, dsg_ut,
 * dsg_oc, short; both mos_ot, mos_fault, hw_fault, comm.  protection
 * blocks both sides unless an alarm of one side comes with it (the
 * brands raise it together with the bit that tripped: a pack in cell
 * under-voltage protection must stay chargeable).  cell_diff, temp_diff,
 * soc_low, soc_high and other block nothing (warnings or unknown).
 *
 * A pack without cell voltages (ncells 0): no CVL machine (mode off), CVL
 * and DVL only if the BMS reports them (else volt_valid false and 0),
 * current limits from the temperature, MOSFET and SOC tables, FETs,
 * alarms and the BMS's limits; no full-charge request.
 *
 * Stale (s == NULL): CCL = DCL = 0 at once, reasons stale, mode failsafe;
 * the CVL and DVL keep their last values (a pack rejoining a bank must not
 * pull the bank's CVL down in a step); absorption is abandoned (bulk; its
 * timer cannot have run without data) and a lowered CVL starts its hold
 * again.  Back, the current limits recover by the hold and ramp rules.
 *
 * force_charge: set at SOC <= force_charge_soc, cleared at SOC >=
 * force_charge_soc + 2 % (a SOC flickering at the threshold would
 * switch the inverter's grid charging on and off).  full_charge_request:
 * full_charge_days (wall clock) after the last step in absorption or float.
 */
#include <math.h>
#include <string.h>

#include "limits.h"

#define ABS_RESTART_MV 3.0     /* dbus-serialbattery SWITCH_TO_FLOAT_CELL_VOLTAGE_DEVIATION */
#define ABS_DROP_V 0.5         /* dbus-serialbattery measurement_tolerance_variation */
#define ANTIFLAP 0.015         /* dbus-serialbattery's configuration *_CURRENT_RECOVERY_THRESHOLD_PERCENT */
#define FORCE_HYST 2.0         /* % */
#define EPS_MV 1e-6            /* settings in V compared with mV readings */
#define WALL_MIN 1577836800    /* 2020-01-01: an earlier clock is not set yet */
#define DAY 86400.0

/* The cells of a snapshot, in mV. */
struct cells {
	int n;
	double sum_mv, max_mv, min_mv;
};

double gw_limits_table(const struct conf_table *t, double x, enum conf_interp interp)
{
	int n = t->n;
	if (n <= 0 || isnan(x))
		return 1;
	if (n > CONF_TABLE_MAX)
		n = CONF_TABLE_MAX;
	/* walk the points in ascending x whatever order they were written in */
	bool desc = t->x[0] > t->x[n - 1];
#define X(i) t->x[desc ? n - 1 - (i) : (i)]
#define Y(i) t->y[desc ? n - 1 - (i) : (i)]
	double f;
	if (x <= X(0)) {
		f = Y(0);
	} else if (x >= X(n - 1)) {
		f = Y(n - 1);
	} else {
		int i = 0;
		while (i < n - 2 && x >= X(i + 1))
			i++;
		double x0 = X(i), x1 = X(i + 1), y0 = Y(i), y1 = Y(i + 1);
		if (x == x0)
			f = y0;
		else if (interp == CONF_INTERP_STEP || x1 <= x0)
			f = y0 < y1 ? y0 : y1;
		else
			f = y0 + (y1 - y0) * (x - x0) / (x1 - x0);
	}
#undef X
#undef Y
	if (!(f > 0))
		return 0;
	return f < 1 ? f : 1;
}

unsigned gw_limits_alarm_side(uint32_t alarms)
{
	unsigned side = 0;
	if (alarms & (GW_LIM_AL_CHARGE | GW_LIM_AL_BOTH))
		side |= GW_LIM_F_CHARGE;
	if (alarms & (GW_LIM_AL_DISCHARGE | GW_LIM_AL_BOTH))
		side |= GW_LIM_F_DISCHARGE;
	if ((alarms & BMS_AL_PROTECTION) && side == 0)
		side = GW_LIM_F_CHARGE | GW_LIM_F_DISCHARGE;
	return side;
}

static bool cell_summary(const struct bms_snapshot *s, struct cells *c)
{
	int n = s->ncells < BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
	if (!(s->present & BMS_HAS_CELLS) || n == 0)
		return false;
	c->n = n;
	c->sum_mv = 0;
	c->max_mv = c->min_mv = s->cell_mv[0];
	for (int i = 0; i < n; i++) {
		double v = s->cell_mv[i];
		c->sum_mv += v;
		if (v > c->max_mv)
			c->max_mv = v;
		if (v < c->min_mv)
			c->min_mv = v;
	}
	return true;
}

/* ---- CVL ---------------------------------------------------------------- */

/* The mode machine: at most one transition per step. */
static void cvl_machine(const struct conf_limits *cfg, const struct bms_snapshot *s,
			const struct cells *c, double now, struct gw_lim_state *st)
{
	double vmax_mv = c->n * cfg->max_cell_voltage * 1000.0;
	double spread = c->max_mv - c->min_mv;
	double abs_mv = cfg->absorption_cell_diff * 1000.0;
	bool have_soc = (s->present & BMS_HAS_SOC) && isfinite(s->soc);

	switch (st->mode) {
	case GW_LIM_ABSORPTION:
		if (spread > abs_mv + ABS_RESTART_MV + EPS_MV)
			st->abs_since = now;
		if (now - st->abs_since >= cfg->absorption_time) {
			st->mode = GW_LIM_FLOAT;
			st->soc_armed = false;
			st->cvl_limited = false;
		} else if (c->sum_mv < vmax_mv - ABS_DROP_V * 1000.0 - EPS_MV) {
			st->mode = GW_LIM_BULK;
		}
		break;
	case GW_LIM_FLOAT:
		if (have_soc && s->soc >= cfg->rebulk_soc)
			st->soc_armed = true;
		if ((st->soc_armed && have_soc && s->soc < cfg->rebulk_soc) ||
		    spread >= cfg->rebulk_cell_diff * 1000.0 - EPS_MV) {
			st->mode = GW_LIM_BULK;
			/* climb from float at cvl_rate, without the hold */
			st->cvl_limited = true;
			st->cvl_since = now - cfg->cvl_recovery_hold;
		}
		break;
	default:
		if (c->sum_mv >= vmax_mv - EPS_MV && spread <= abs_mv + EPS_MV) {
			st->mode = GW_LIM_ABSORPTION;
			st->abs_since = now;
		}
		break;
	}
}

/* Bulk and absorption: the cell over-voltage rule, its hold and its ramp. */
static void cvl_control(const struct conf_limits *cfg, const struct bms_snapshot *s,
			const struct cells *c, double now, double prev, struct gw_lim_state *st)
{
	double vmax = c->n * cfg->max_cell_voltage, vmin = c->n * cfg->min_cell_voltage;
	double thr = cfg->max_cell_voltage * 1000.0, excess = 0;
	for (int i = 0; i < c->n; i++)
		if (s->cell_mv[i] > thr + EPS_MV)
			excess += (s->cell_mv[i] - thr) / 1000.0;
	double target = vmax;
	if (excess > 0) {
		target = c->sum_mv / 1000.0 - excess;
		target = target < vmin ? vmin : target > vmax ? vmax : target;
	}
	if (!st->cvl_known || (!st->cvl_limited && target >= vmax)) {
		st->cvl = target;
		st->cvl_known = true;
		st->cvl_limited = target < vmax;
		st->cvl_since = now;
		return;
	}
	if (target <= st->cvl) {
		/* lower at once; the hold starts again */
		st->cvl = target;
		st->cvl_limited = target < vmax;
		st->cvl_since = now;
		return;
	}
	if (!st->cvl_limited) {
		st->cvl_limited = true;
		st->cvl_since = now;
	}
	double end = st->cvl_since + cfg->cvl_recovery_hold;
	if (now >= end) {
		double from = prev > end ? prev : end;
		if (cfg->cvl_rate > 0)
			st->cvl = fmin(target, st->cvl + cfg->cvl_rate * c->n * (now - from));
		else
			st->cvl = target;
	}
	if (st->cvl >= vmax) {
		st->cvl = vmax;
		st->cvl_limited = false;
	}
}

/* Float: toward Vfloat at cvl_rate, from wherever the CVL was. */
static void cvl_float(const struct conf_limits *cfg, const struct cells *c, double now, double prev,
		      struct gw_lim_state *st)
{
	double vf = c->n * cfg->float_cell_voltage;
	double d = cfg->cvl_rate * c->n * (now - prev);
	if (!st->cvl_known || cfg->cvl_rate <= 0)
		st->cvl = vf;
	else if (st->cvl > vf)
		st->cvl = fmax(vf, st->cvl - d);
	else
		st->cvl = fmin(vf, st->cvl + d);
	st->cvl_known = true;
}

/* ---- CCL / DCL ------------------------------------------------------------ */

struct pick {
	double a;
	enum gw_lim_reason r;
};

static void pick(struct pick *p, double a, enum gw_lim_reason r)
{
	if (a < p->a) {
		p->a = a;
		p->r = r;
	}
}

/* The target of one direction from the snapshot (c NULL: no cells). */
static struct pick current_target(const struct conf_limits *cfg, const struct bms_snapshot *s,
				  const struct cells *c, bool charge)
{
	double max = charge ? cfg->max_charge_current : cfg->max_discharge_current;
	struct pick p = { max > 0 ? max : 0, GW_LR_NONE };
	enum conf_interp ip = cfg->interpolation;
	max = p.a;
	if ((s->present & BMS_HAS_ALARMS) &&
	    (gw_limits_alarm_side(s->alarms) & (charge ? GW_LIM_F_CHARGE : GW_LIM_F_DISCHARGE)))
		pick(&p, 0, GW_LR_ALARM);
	if ((s->present & BMS_HAS_MOSFETS) && !(charge ? s->chg_mos : s->dsg_mos))
		pick(&p, 0, GW_LR_MOSFET_OFF);
	if (c)
		pick(&p, max * gw_limits_table(charge ? &cfg->charge_cell : &cfg->discharge_cell,
					       (charge ? c->max_mv : c->min_mv) / 1000.0, ip),
		     GW_LR_CELL_VOLTAGE);
	if ((s->present & BMS_HAS_TEMPS) && s->ntemps > 0) {
		const struct conf_table *t = charge ? &cfg->charge_temp : &cfg->discharge_temp;
		int n = s->ntemps < BMS_MAX_TEMPS ? s->ntemps : BMS_MAX_TEMPS;
		double f = 1;
		for (int i = 0; i < n; i++)
			if (isfinite(s->temp_c[i]))
				f = fmin(f, gw_limits_table(t, s->temp_c[i], ip));
		pick(&p, max * f, GW_LR_TEMPERATURE);
	}
	if ((s->present & BMS_HAS_MOS_TEMP) && isfinite(s->mos_temp_c))
		pick(&p, max * gw_limits_table(&cfg->mos_temp, s->mos_temp_c, ip), GW_LR_MOS_TEMPERATURE);
	if ((s->present & BMS_HAS_SOC) && isfinite(s->soc))
		pick(&p, max * gw_limits_table(charge ? &cfg->soc_charge : &cfg->soc_discharge, s->soc, ip),
		     GW_LR_SOC);
	if (s->present & BMS_HAS_CUR_LIMITS) {
		double b = charge ? s->bms_ccl_a : s->bms_dcl_a;
		if (isfinite(b))
			pick(&p, b > 0 ? b : 0, GW_LR_BMS_LIMIT);
	}
	return p;
}

/* Move one current limit toward its target: down at once, up after the
 * hold at the rate.  prev: time of the previous step. */
static void current_follow(const struct conf_limits *cfg, struct gw_lim_current *l, struct pick t,
			   double max, double now, double prev)
{
	if (t.a <= l->a || (l->a <= 0 && t.a <= ANTIFLAP * max)) {
		l->a = t.a <= l->a ? t.a : 0;
		l->rising = false;
		l->reason = t.r;
		return;
	}
	if (!l->rising) {
		l->rising = true;
		l->since = now;
	}
	double end = l->since + cfg->recovery_hold;
	if (now < end)
		return;
	double from = prev > end ? prev : end;
	if (cfg->recovery_rate > 0)
		l->a = fmin(t.a, l->a + cfg->recovery_rate * (now - from));
	else
		l->a = t.a;
	if (l->a >= t.a) {
		l->a = t.a;
		l->rising = false;
		l->reason = t.r;
	}
}

/* ---- one pack ----------------------------------------------------------- */

static void full_charge(const struct conf_limits *cfg, bool machine, int64_t wall,
			struct gw_lim_state *st, struct gw_limits *o)
{
	if (wall < WALL_MIN)
		return;
	if (st->last_full_wall == 0 ||
	    (machine && (st->mode == GW_LIM_ABSORPTION || st->mode == GW_LIM_FLOAT)))
		st->last_full_wall = wall;
	o->full_charge_request = machine && cfg->full_charge_days > 0 &&
				 (double)(wall - st->last_full_wall) >= cfg->full_charge_days * DAY;
}

static void fresh_voltages(const struct conf_limits *cfg, const struct bms_snapshot *s,
			   const struct cells *c, double now, double prev,
			   struct gw_lim_state *st, struct gw_limits *o)
{
	bool bms_v = (s->present & BMS_HAS_VOLT_LIMITS) != 0;
	double bcvl = bms_v && isfinite(s->bms_cvl_v) && s->bms_cvl_v > 0 ? s->bms_cvl_v : 0;
	double bdvl = bms_v && isfinite(s->bms_dvl_v) && s->bms_dvl_v > 0 ? s->bms_dvl_v : 0;
	if (!c) {
		o->mode = GW_LIM_OFF;
		o->volt_valid = bcvl > 0;
		o->cvl_v = bcvl;
		o->dvl_v = o->volt_valid ? bdvl : 0;
		return;
	}
	cvl_machine(cfg, s, c, now, st);
	if (st->mode == GW_LIM_FLOAT)
		cvl_float(cfg, c, now, prev, st);
	else
		cvl_control(cfg, s, c, now, prev, st);
	o->mode = st->mode;
	o->volt_valid = true;
	o->cvl_v = bcvl > 0 && bcvl < st->cvl ? bcvl : st->cvl;
	o->dvl_v = c->n * cfg->min_cell_voltage;
	if (bdvl > o->dvl_v)
		o->dvl_v = bdvl;
}

static void fresh_step(const struct conf_limits *cfg, const struct bms_snapshot *s, double now,
		       int64_t wall, struct gw_lim_state *st, struct gw_limits *o)
{
	struct cells cs;
	const struct cells *c = cell_summary(s, &cs) ? &cs : NULL;
	double prev = st->seen && st->t_prev <= now ? st->t_prev : now;

	fresh_voltages(cfg, s, c, now, prev, st, o);
	struct pick tc = current_target(cfg, s, c, true), td = current_target(cfg, s, c, false);
	if (!st->seen) {
		st->ccl = (struct gw_lim_current){ .a = tc.a, .reason = tc.r };
		st->dcl = (struct gw_lim_current){ .a = td.a, .reason = td.r };
	} else {
		current_follow(cfg, &st->ccl, tc, cfg->max_charge_current, now, prev);
		current_follow(cfg, &st->dcl, td, cfg->max_discharge_current, now, prev);
	}
	o->ccl_a = st->ccl.a;
	o->dcl_a = st->dcl.a;
	o->ccl_reason = st->ccl.reason;
	o->dcl_reason = st->dcl.reason;

	if ((s->present & BMS_HAS_SOC) && isfinite(s->soc) && cfg->force_charge_soc > 0) {
		if (s->soc <= cfg->force_charge_soc)
			st->force = true;
		else if (s->soc >= cfg->force_charge_soc + FORCE_HYST)
			st->force = false;
	} else {
		st->force = false;
	}
	o->force_charge = st->force;
	full_charge(cfg, c != NULL, wall, st, o);
	st->seen = true;
	st->cvl_out = o->cvl_v;
	st->dvl_out = o->dvl_v;
	st->volt_valid = o->volt_valid;
}

static void stale_step(double now, struct gw_lim_state *st, struct gw_limits *o)
{
	struct pick zero = { 0, GW_LR_STALE };
	if (st->mode == GW_LIM_ABSORPTION)
		st->mode = GW_LIM_BULK;
	if (st->cvl_limited)
		st->cvl_since = now;
	st->ccl = (struct gw_lim_current){ .a = 0, .reason = zero.r };
	st->dcl = st->ccl;
	o->failsafe = true;
	o->mode = GW_LIM_FAILSAFE;
	o->ccl_reason = o->dcl_reason = GW_LR_STALE;
	o->volt_valid = st->volt_valid;
	o->cvl_v = st->cvl_out;
	o->dvl_v = st->dvl_out;
}

void gw_limits_init(struct gw_lim_state *st)
{
	memset(st, 0, sizeof(*st));
	st->mode = GW_LIM_BULK;
}

unsigned gw_limits_step(const struct conf_limits *cfg, const struct bms_snapshot *s,
			double now, int64_t wall, struct gw_lim_state *st, struct gw_limits *out)
{
	struct gw_limits o = { 0 };
	o.enabled = cfg->enabled;
	if (!cfg->enabled)
		o.mode = GW_LIM_OFF;
	else if (s)
		fresh_step(cfg, s, now, wall, st, &o);
	else
		stale_step(now, st, &o);
	o.charge_allowed = o.ccl_a > 0;
	o.discharge_allowed = o.dcl_a > 0;

	unsigned ch = GW_LIM_CHANGED_MODE | GW_LIM_CHANGED_CCL_REASON | GW_LIM_CHANGED_DCL_REASON;
	if (st->have_prev) {
		struct gw_limits p = { .mode = st->prev_mode, .ccl_reason = st->prev_ccl_reason,
				       .dcl_reason = st->prev_dcl_reason };
		ch = gw_limits_changes(&p, &o);
	}
	st->have_prev = true;
	st->prev_mode = o.mode;
	st->prev_ccl_reason = o.ccl_reason;
	st->prev_dcl_reason = o.dcl_reason;
	if (now > st->t_prev)
		st->t_prev = now;
	*out = o;
	return ch;
}

/* ---- the bank ------------------------------------------------------------- */

void gw_limits_bank(const struct conf_limits *cfg, const struct gw_limits *const packs[], int n,
		    struct gw_limits *out, struct gw_lim_binding *binding)
{
	struct gw_limits o = { 0 };
	struct gw_lim_binding b = { -1, -1, -1, -1 };
	int fresh = 0, first = -1;
	double sum_c = 0, sum_d = 0;
	bool chg = true, dsg = true;

	o.enabled = cfg->enabled;
	for (int i = 0; cfg->enabled && i < n; i++) {
		const struct gw_limits *p = packs[i];
		/* a pack back from stale joins once its own limits recovered:
		 * until then its 0 A would stop the whole bank */
		if (!p || p->failsafe || p->ccl_reason == GW_LR_STALE || p->dcl_reason == GW_LR_STALE)
			continue;
		fresh++;
		if (first < 0)
			first = i;
		/* the first of equal packs binds */
		if (p->volt_valid && (b.cvl < 0 || p->cvl_v < packs[b.cvl]->cvl_v))
			b.cvl = i;
		if (p->volt_valid && (b.dvl < 0 || p->dvl_v > packs[b.dvl]->dvl_v))
			b.dvl = i;
		if (b.ccl < 0 || p->ccl_a < packs[b.ccl]->ccl_a)
			b.ccl = i;
		if (b.dcl < 0 || p->dcl_a < packs[b.dcl]->dcl_a)
			b.dcl = i;
		sum_c += p->ccl_a;
		sum_d += p->dcl_a;
		chg = chg && p->charge_allowed;
		dsg = dsg && p->discharge_allowed;
		o.force_charge = o.force_charge || p->force_charge;
		o.full_charge_request = o.full_charge_request || p->full_charge_request;
	}
	if (!cfg->enabled) {
		o.mode = GW_LIM_OFF;
	} else if (fresh == 0) {
		o.failsafe = true;
		o.mode = GW_LIM_FAILSAFE;
		o.ccl_reason = o.dcl_reason = GW_LR_STALE;
	} else {
		bool sum = cfg->bank_rule == CONF_BANK_SUM;
		o.volt_valid = b.cvl >= 0;
		o.cvl_v = b.cvl >= 0 ? packs[b.cvl]->cvl_v : 0;
		o.dvl_v = b.dvl >= 0 ? packs[b.dvl]->dvl_v : 0;
		o.ccl_a = !chg ? 0 : sum ? sum_c : fresh * packs[b.ccl]->ccl_a;
		o.dcl_a = !dsg ? 0 : sum ? sum_d : fresh * packs[b.dcl]->dcl_a;
		o.mode = packs[b.cvl >= 0 ? b.cvl : first]->mode;
		o.ccl_reason = packs[b.ccl]->ccl_reason;
		o.dcl_reason = packs[b.dcl]->dcl_reason;
	}
	o.charge_allowed = o.ccl_a > 0;
	o.discharge_allowed = o.dcl_a > 0;
	*out = o;
	if (binding)
		*binding = b;
}

void gw_limits_bank_init(struct gw_lim_bank_state *st)
{
	memset(st, 0, sizeof(*st));
}

/* The bank's CVL: down at once, up at cvl_rate per cell (the cells
 * counted from the target itself, the bank knowing no cells). */
static void bank_cvl(const struct conf_limits *cfg, struct gw_lim_bank_state *st, double now, struct gw_limits *o)
{
	if (!o->volt_valid)
		return;
	if (!st->cvl_known || o->cvl_v <= st->cvl) {
		st->cvl = o->cvl_v;
		st->cvl_known = true;
		return;
	}
	double cells = cfg->max_cell_voltage > 0 ? round(o->cvl_v / cfg->max_cell_voltage) : 1;
	st->cvl = fmin(o->cvl_v, st->cvl + cfg->cvl_rate * (cells > 0 ? cells : 1) * (now - st->t_prev));
	o->cvl_v = st->cvl;
}

void gw_limits_bank_follow(const struct conf_limits *cfg, struct gw_lim_bank_state *st, int packs, double now,
			   struct gw_limits *o)
{
	if (!cfg->enabled)
		return;
	if (o->failsafe || !st->seen) {
		/* no fresh pack: no current at once (the CVL kept), and from 0 the
		 * limits recover by the hold and the ramp; the very first result
		 * is taken as it is (nothing was published before) */
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
		return;
	}
	int n = packs > 0 ? packs : 1;
	current_follow(cfg, &st->ccl, (struct pick){ o->ccl_a, o->ccl_reason }, n * cfg->max_charge_current, now,
		       st->t_prev);
	current_follow(cfg, &st->dcl, (struct pick){ o->dcl_a, o->dcl_reason }, n * cfg->max_discharge_current, now,
		       st->t_prev);
	o->ccl_a = st->ccl.a;
	o->dcl_a = st->dcl.a;
	o->ccl_reason = st->ccl.reason;
	o->dcl_reason = st->dcl.reason;
	o->charge_allowed = o->ccl_a > 0;
	o->discharge_allowed = o->dcl_a > 0;
	bank_cvl(cfg, st, now, o);
	if (o->volt_valid)
		st->dvl = o->dvl_v;
	st->t_prev = now;
}

/* ---- words ---------------------------------------------------------------- */

unsigned gw_limits_changes(const struct gw_limits *a, const struct gw_limits *b)
{
	return (a->mode != b->mode ? GW_LIM_CHANGED_MODE : 0) |
	       (a->ccl_reason != b->ccl_reason ? GW_LIM_CHANGED_CCL_REASON : 0) |
	       (a->dcl_reason != b->dcl_reason ? GW_LIM_CHANGED_DCL_REASON : 0);
}

uint16_t gw_limits_flags(const struct gw_limits *l)
{
	return (uint16_t)((l->charge_allowed ? GW_LIM_F_CHARGE : 0) |
			  (l->discharge_allowed ? GW_LIM_F_DISCHARGE : 0) |
			  (l->force_charge ? GW_LIM_F_FORCE_CHARGE : 0) |
			  (l->full_charge_request ? GW_LIM_F_FULL_CHARGE : 0) |
			  (l->enabled ? GW_LIM_F_ON : 0) |
			  (l->failsafe ? GW_LIM_F_FAILSAFE : 0));
}

const char *gw_limits_mode_name(enum gw_lim_mode m)
{
	static const char *const names[] = { "off", "bulk", "absorption", "float", "failsafe" };
	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

const char *gw_limits_reason_name(enum gw_lim_reason r)
{
	static const char *const names[GW_LR_COUNT] = {
		"none", "cell_voltage", "temperature", "mos_temperature", "soc",
		"mosfet_off", "alarm", "bms_limit", "stale",
	};
	return (unsigned)r < GW_LR_COUNT ? names[r] : "?";
}
