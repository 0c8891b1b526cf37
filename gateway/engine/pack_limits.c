/* SPDX-License-Identifier: MIT */
/* gateway/engine/pack_limits.c - the charge and discharge limit engine (CVL, CCL,
 * DCL, DVL, flags, mode, reasons) of one pack; the bank's is in
 * bank_limits.c.
 *
 * The algorithm is that of dbus-serialbattery 2.1, read in
 * mr-manuel/venus-os_dbus-serialbattery: its battery module
 * (manage_charge_voltage_limit, manage_charge_and_discharge_current,
 * calc_max_charge_current_from_* / calc_max_discharge_current_from_*),
 * https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/master/dbus-serialbattery/battery.py,
 * its utils module (calc_linear_relationship, calc_step_relationship),
 * https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/master/dbus-serialbattery/utils.py,
 * and its default configuration (the defaults, the 0.015 recovery
 * threshold, VOLTAGE_DROP), https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/master/dbus-serialbattery/config.default.ini.
 * Where bmsgw differs, on purpose, the reason is given; bmsgw-inverters(7)
 * says what an inverter sees.
 *
 * CVL, per pack with cell voltages (Vmax, Vfloat, Vmin = cells x
 * max/float/min_cell_voltage; cell values compared in mV):
 *  - bulk -> absorption when the sum of the cells reaches Vmax less
 *    absorption_tolerance (V per 16 cells) with the spread <=
 *    absorption_cell_diff, or, with tail_current, once the sum is at the
 *    CVL (less the tolerance) and the charge current under tail_current
 *    (YamBMS's charging logic,
 *    https://github.com/Sleeper85/esphome-yambms/blob/main/documents/README/Charging_logic.md:
 *    an inverter regulating at its terminals keeps the sum a little under the
 *    CVL it was sent, and dbus-serialbattery's users report "never reaches
 *    float", Louisvdw/dbus-serialbattery#947, mr-manuel#251, #1001).  In
 *    absorption the timer restarts while the spread is wider than
 *    absorption_cell_diff + 3 mV, and the pack falls back to bulk when the
 *    sum drops 0.5 V under Vmax (both dbus-serialbattery's values); float
 *    after absorption_time.  With max_bulk_time, a pack whose cells reached
 *    the target but never close enough to absorb enters float after that
 *    long at the target (an event the caller logs).
 *  - float -> bulk at a spread >= rebulk_cell_diff, or when the SOC falls
 *    below rebulk_soc.  The SOC rule is armed only once the SOC was seen at
 *    or above rebulk_soc in float: dbus-serialbattery sets its own SOC to
 *    100 % when it enters float; bmsgw cannot, so a BMS whose SOC stays
 *    low at full would otherwise loop bulk -> absorption -> float every
 *    absorption_time.
 *  - the bulk / absorption CVL: any cell above max_cell_voltage lowers the
 *    target at once to the sum of the cells minus the sum of the excesses
 *    (dbus-serialbattery's controller mode 1), never below Vmin.  A lowered
 *    CVL rises again only after cvl_recovery_hold without a new lowering,
 *    at cvl_rate (V per cell per s), and never above its target
 *    (dbus-serialbattery ramps toward Vmax whatever the target, which
 *    overshoots and drops again).  It is kept in float too: the bank's
 *    charge machine reads it, and a cell over-voltage lowers the float CVL
 *    as well.
 *  - the move to float is a ramp at cvl_rate (Louisvdw/dbus-serialbattery
 *    #659, PR #711: the step made a current spike) that lowers the CVL
 *    only as the measured voltage falls (Sleeper85/esphome-yambms PR #53,
 *    "Follow": a Deye discharges into the grid on a CVL under the
 *    battery, YamBMS #46); a CVL the cell over-voltage rule had put below
 *    Vfloat climbs to it; back in bulk from float the CVL climbs from
 *    float at cvl_rate without a hold.  The ramps advance by the time
 *    between steps, so a stale gap does not make them jump.
 *  - a limit the BMS reports caps the published CVL (bms_cvl_v) and raises
 *    the published DVL (bms_dvl_v: discharge stops at the higher one);
 *    voltage_drop is added to the published CVL only (the inverter
 *    measures behind cables, a fuse and a shunt).
 *  - never below the battery: the published CVL is at least the measured
 *    voltage less 0.05 V per 16 cells (gw_limits_floor).  SMA's external
 *    BMS document: a CVL under the measured voltage makes a Sunny Island
 *    discharge the battery and ignore the DCL.  When the cell over-voltage
 *    rule or the BMS's cap wants it lower, charging stops through the CCL
 *    instead (0, reason cell_voltage or bms_limit).
 *
 * CCL / DCL: the max current (the pack's own rating, else [limits]') x
 * the lowest of the fractions that apply (charge: charge_cell_table on the
 * highest cell, charge_temp_table on the lowest and the highest sensor,
 * or unknown_temp_fraction when no sensor reads, mos_temp_table,
 * soc_charge_table if set; discharge the same with the lowest cell), 0
 * when the FET of that direction is off or an alarm of that side is
 * active, capped by the BMS's own limit.  A cell table's fraction rises
 * only once its cell is table_hysteresis better than where it fell
 * (dalathegreat/Battery-Emulator Software/src/devboard/safety/safety.cpp,
 * CELL_HYSTERESIS_MV 20: limits that flap at the tables' knees,
 * Louisvdw/dbus-serialbattery#371, #764).  The reason is the condition
 * with the lowest limit; equal limits go to the first of: alarm,
 * mosfet_off, cell_voltage, temperature, mos_temperature, soc, bms_limit;
 * "none" when nothing is below the max current.  A limit falls at once;
 * it rises only once its target has stayed above it for recovery_hold (as
 * dbus-serialbattery: any fall restarts the hold), then at recovery_rate
 * (0 = at once after the hold); from 0 only once the target is above 1.5 %
 * of the max current (Louisvdw/dbus-serialbattery#297, #371: limits
 * flapping around 0).  While it rises the reason that lowered it is kept;
 * the first fresh snapshot after gw_limits_init() is adopted as it is
 * (nothing was published before it).
 *
 * Step interpolation: dbus-serialbattery's calc_step_relationship takes, per table,
 * either the point below or the point above the value (return_lower), so
 * some of its step tables allow more than the linear ones.  bmsgw takes,
 * between two points, the lower of their fractions (at a point, its own):
 * step never allows more current than linear.
 *
 * Alarms (gw_limits_alarm_side): charge side cell_ov, pack_ov, chg_ot,
 * chg_ut, chg_oc, sensor (charging at an unknown temperature risks lithium
 * plating; not the sensor fault the gateway flags on a sensor that reads
 * outside -50..150 degC, bms_sensor_faults(): that sensor is absent, and
 * the others, or unknown_temp_fraction, rule) and soc_high; discharge side cell_uv, pack_uv, dsg_ot, dsg_ut,
 * dsg_oc, short and soc_low; both mos_ot, mos_fault, hw_fault, comm.
 * protection blocks both sides unless an alarm of one side comes with it
 * (the brands raise it together with the bit that tripped: a pack in cell
 * under-voltage or SOC-low protection must stay chargeable).  cell_diff,
 * temp_diff and other block nothing (warnings or unknown).
 *
 * A pack without cell voltages (ncells 0): no CVL machine (mode off), CVL
 * and DVL only if the BMS reports them (else volt_valid false and 0),
 * current limits from the temperature, MOSFET and SOC tables, FETs,
 * alarms and the BMS's limits; no full-charge request.  Its BMS's own
 * highest and lowest cell (BMS_HAS_CELL_EXT: a BMS that sends no cell
 * list) feed the cell tables as a list's would; its own highest and
 * lowest temperature (BMS_HAS_TEMP_EXT) the temperature tables, beside the
 * sensors.
 *
 * Stale (s == NULL): CCL = DCL = 0 at once, reasons stale, mode failsafe;
 * the CVL and DVL keep their last values (a pack rejoining a bank must not
 * pull the bank's CVL down in a step); absorption is abandoned (bulk; its
 * timer cannot have run without data) and a lowered CVL starts its hold
 * again.  Back, the current limits recover by the hold and ramp rules.
 *
 * force_charge: set at SOC <= force_charge_soc, cleared at SOC >=
 * force_charge_soc + 2 % (a SOC flickering at the threshold would
 * switch the inverter's grid charging on and off), and sent only while
 * charging is allowed (Deye and Solis charge from the grid on it, and
 * ignore a CCL of 0: Battery-Emulator #1534).  full_charge_request:
 * full_charge_days (wall clock) after the last step in absorption or
 * float, or at a SOC of 97 % or more (Pylontech LV CAN V1.2 0x35C bit 3
 * and RS485 V3.3 §3.6: "when the SOC is 97%, the flag will be 0").
 *
 * Runtime settings (settings.h, gw_limits_step_set): a SOC ceiling
 * reached stops charging through the CCL (0, reason soc), never through a
 * CVL under the battery (an inverter that follows the CVL only would keep
 * charging, and one that reads a CVL under the battery discharges it: see
 * the floor above); it is released max_soc_hysteresis under it.  A floor
 * likewise through the DCL.  A cap bounds its target (reason cap when it
 * binds).  These act on the targets: a limit still falls at once and
 * rises by the hold and the ramp when a latch is released or a cap ends.
 *
 * limit_exceeded: a current beyond the CCL or DCL published by max(5 A,
 * 10 %) for limit_exceeded seconds sets `exceeded` (an inverter that does
 * not follow the limits, Battery-Emulator safety.cpp
 * EVENT_CHARGE_LIMIT_EXCEEDED); it clears after as long within them.
 */
#include <math.h>
#include <string.h>

#include "pack_limits.h"

#define ABS_RESTART_MV 3.0     /* dbus-serialbattery SWITCH_TO_FLOAT_CELL_VOLTAGE_DEVIATION */
#define ABS_DROP_V 0.5         /* dbus-serialbattery measurement_tolerance_variation */
#define ANTIFLAP 0.015         /* dbus-serialbattery's configuration *_CURRENT_RECOVERY_THRESHOLD_PERCENT */
#define FORCE_HYST 2.0         /* % */
#define FULL_SOC 97.0          /* %: Pylontech's full-charge flag clears here */
#define FLOOR_V16 0.05         /* V per 16 cells: the CVL's margin under the battery */
#define EXCEED_MIN_A 5.0       /* a current beyond a limit by max(5 A, 10 %) */
#define EXCEED_FRACTION 0.10
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

void gw_limits_alarm_levels(uint32_t alarms, uint32_t *protect, uint32_t *warn)
{
	uint32_t bits = alarms & ~(uint32_t)BMS_AL_PROTECTION;
	uint32_t sided = bits & (GW_LIM_AL_CHARGE | GW_LIM_AL_DISCHARGE | GW_LIM_AL_BOTH);
	*warn = bits;
	*protect = !(alarms & BMS_AL_PROTECTION) ? 0 : sided ? sided : bits;
}

void gw_limits_snap_levels(const struct bms_snapshot *s, uint32_t *protect, uint32_t *warn)
{
	uint32_t own = bms_own_alarms(s);
	gw_limits_alarm_levels(own, protect, warn);
	*warn |= s->alarms & ~own;
}

double gw_limits_floor(double volts, int cells)
{
	return volts - FLOOR_V16 * (cells > 0 ? cells : 16) / 16.0;
}

bool gw_limits_exceed_step(const struct conf_limits *cfg, struct gw_lim_exceed *e, bool have_i, double amps,
			   double ccl, double dcl, double now)
{
	enum gw_lim_exceeded was = e->state, beyond = GW_LIM_EXC_NONE;
	if (!(cfg->limit_exceeded > 0) || !have_i || !isfinite(amps)) {
		*e = (struct gw_lim_exceed){ GW_LIM_EXC_NONE, GW_LIM_EXC_NONE, now };
		return was != GW_LIM_EXC_NONE;
	}
	if (amps > ccl + fmax(EXCEED_MIN_A, EXCEED_FRACTION * ccl))
		beyond = GW_LIM_EXC_CHARGE;
	else if (-amps > dcl + fmax(EXCEED_MIN_A, EXCEED_FRACTION * dcl))
		beyond = GW_LIM_EXC_DISCHARGE;
	if (beyond != e->now) {
		e->now = beyond;
		e->since = now;
	}
	if (e->state != e->now && now - e->since >= cfg->limit_exceeded)
		e->state = e->now;
	return e->state != was;
}

static bool cell_summary(const struct bms_snapshot *s, struct cells *c)
{
	int n = s->ncells < BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
	if (!(s->present & BMS_HAS_CELLS) || n == 0)
		return false;
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs); /* the list's extremes, widened by the BMS's own beside a partial list */
	c->n = n;
	c->sum_mv = 0;
	for (int i = 0; i < n; i++)
		c->sum_mv += s->cell_mv[i];
	c->max_mv = cs.max_mv;
	c->min_mv = cs.min_mv;
	return true;
}

/* Without a cell list: the BMS's own highest and lowest cell, for the cell
 * tables only (n 0: no sum, no CVL machine). */
static bool cell_extremes(const struct bms_snapshot *s, struct cells *c)
{
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	if (cs.from != BMS_CELLS_EXT)
		return false;
	*c = (struct cells){ .n = 0, .sum_mv = 0, .max_mv = cs.max_mv, .min_mv = cs.min_mv };
	return true;
}

/* The voltage the CVL must not go under: the pack's, else its cells' sum;
 * NAN when neither is known. */
static double measured_v(const struct bms_snapshot *s, const struct cells *c)
{
	if ((s->present & BMS_HAS_VOLTAGE) && isfinite(s->voltage) && s->voltage > 0)
		return s->voltage;
	return c ? c->sum_mv / 1000.0 : NAN;
}

/* ---- CVL ---------------------------------------------------------------- */

/* Bulk: absorption once the cells are at the target and together (or the
 * current tails at the CVL); float after max_bulk_time at the target.
 * true when max_bulk_time fired. */
static bool cvl_bulk(const struct conf_limits *cfg, const struct bms_snapshot *s, const struct cells *c, double now,
		     struct gw_lim_state *st)
{
	double vmax_mv = c->n * cfg->max_cell_voltage * 1000.0;
	double tol_mv = cfg->absorption_tolerance * 1000.0 * c->n / 16.0;
	double spread = c->max_mv - c->min_mv;
	bool tail = cfg->tail_current > 0 && (s->present & BMS_HAS_CURRENT) && isfinite(s->current) &&
		    s->current < cfg->tail_current && st->cvl_known && c->sum_mv >= st->cvl * 1000.0 - tol_mv - EPS_MV;
	if ((c->sum_mv >= vmax_mv - tol_mv - EPS_MV && spread <= cfg->absorption_cell_diff * 1000.0 + EPS_MV) ||
	    tail) {
		st->mode = GW_LIM_ABSORPTION;
		st->abs_since = now;
		st->at_target = false;
		return false;
	}
	if (c->sum_mv >= vmax_mv - tol_mv - EPS_MV && !st->at_target) {
		st->at_target = true;
		st->target_since = now;
	} else if (c->sum_mv < vmax_mv - ABS_DROP_V * 1000.0 - EPS_MV) {
		st->at_target = false;
	}
	if (st->at_target && cfg->max_bulk_time > 0 && now - st->target_since >= cfg->max_bulk_time) {
		st->mode = GW_LIM_FLOAT;
		st->absorbed = true;
		st->soc_armed = false;
		st->at_target = false;
		return true;
	}
	return false;
}

/* The mode machine: at most one transition per step.  true when
 * max_bulk_time sent the pack to float. */
static bool cvl_machine(const struct conf_limits *cfg, const struct bms_snapshot *s, const struct cells *c,
			double now, struct gw_lim_state *st)
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
			st->absorbed = true;
			st->soc_armed = false;
		} else if (c->sum_mv < vmax_mv - ABS_DROP_V * 1000.0 - EPS_MV) {
			st->mode = GW_LIM_BULK;
		}
		return false;
	case GW_LIM_FLOAT:
		if (have_soc && s->soc >= cfg->rebulk_soc)
			st->soc_armed = true;
		if ((st->soc_armed && have_soc && s->soc < cfg->rebulk_soc) ||
		    spread >= cfg->rebulk_cell_diff * 1000.0 - EPS_MV) {
			st->mode = GW_LIM_BULK;
			st->absorbed = false;
			/* climb from float at cvl_rate, without the hold */
			if (st->fcvl_known && (!st->cvl_known || st->fcvl < st->cvl)) {
				st->cvl = st->fcvl;
				st->cvl_known = true;
			}
			st->cvl_limited = true;
			st->cvl_since = now - cfg->cvl_recovery_hold;
		}
		return false;
	default:
		return cvl_bulk(cfg, s, c, now, st);
	}
}

/* The bulk / absorption CVL: the cell over-voltage rule, its hold and its
 * ramp (kept in float too). */
static void cvl_control(const struct conf_limits *cfg, const struct bms_snapshot *s, const struct cells *c,
			double now, double prev, struct gw_lim_state *st)
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

/* Float: toward Vfloat at cvl_rate from where the CVL was, lowering it no
 * further than the floor (the measured voltage less its margin) allows:
 * the CVL follows the battery down as it relaxes. */
static void cvl_float(const struct conf_limits *cfg, const struct cells *c, double floor, double now, double prev,
		      struct gw_lim_state *st)
{
	double vf = c->n * cfg->float_cell_voltage;
	double d = cfg->cvl_rate * c->n * (now - prev);
	if (!st->fcvl_known) {
		st->fcvl = st->cvl_known ? st->cvl : vf;
		st->fcvl_known = true;
	}
	double was = st->fcvl;
	if (cfg->cvl_rate <= 0)
		st->fcvl = vf;
	else if (st->fcvl > vf)
		st->fcvl = fmax(vf, st->fcvl - d);
	else
		st->fcvl = fmin(vf, st->fcvl + d);
	if (isfinite(floor) && st->fcvl < was && st->fcvl < floor)
		st->fcvl = fmin(was, floor);
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

/* The cell table's fraction for one direction, held until the cell is
 * table_hysteresis better than where it fell: the fraction of a cell that
 * hysteresis worse bounds a rise. */
static double cell_fraction(const struct conf_limits *cfg, const struct cells *c, bool charge,
			    struct gw_lim_state *st)
{
	const struct conf_table *t = charge ? &cfg->charge_cell : &cfg->discharge_cell;
	double x = (charge ? c->max_mv : c->min_mv) / 1000.0;
	double worse = charge ? cfg->table_hysteresis : -cfg->table_hysteresis;
	int k = charge ? 0 : 1;
	double f = gw_limits_table(t, x, cfg->interpolation);
	if (st->frac_known[k])
		f = fmin(f, fmax(st->frac[k], gw_limits_table(t, x + worse, cfg->interpolation)));
	st->frac[k] = f;
	st->frac_known[k] = true;
	return f;
}

/* The temperature tables over every sensor that reads and the BMS's own
 * highest and lowest temperature; none reading: unknown_temp_fraction for
 * charging (lithium plating at an unknown temperature), nothing for
 * discharging. */
static void temp_pick(const struct conf_limits *cfg, const struct bms_snapshot *s, double max, bool charge,
		      struct pick *p)
{
	const struct conf_table *t = charge ? &cfg->charge_temp : &cfg->discharge_temp;
	int n = (s->present & BMS_HAS_TEMPS) ? (s->ntemps < BMS_MAX_TEMPS ? s->ntemps : BMS_MAX_TEMPS) : 0;
	double f = 1;
	bool any = false;
	for (int i = 0; i < n; i++)
		if (isfinite(s->temp_c[i])) {
			f = fmin(f, gw_limits_table(t, s->temp_c[i], cfg->interpolation));
			any = true;
		}
	const float ext[2] = { s->ext_tmax_c, s->ext_tmin_c };
	for (int i = 0; (s->present & BMS_HAS_TEMP_EXT) && i < 2; i++)
		if (isfinite(ext[i])) {
			f = fmin(f, gw_limits_table(t, ext[i], cfg->interpolation));
			any = true;
		}
	if (!any && charge)
		f = cfg->unknown_temp_fraction;
	if (any || charge)
		pick(p, max * f, GW_LR_TEMPERATURE);
}

/* The target of one direction from the snapshot (c: the cells the cell
 * tables read, a list's or the BMS's own extremes; NULL: none). */
static struct pick current_target(const struct conf_limits *cfg, double max, const struct bms_snapshot *s,
				  const struct cells *c, bool charge, struct gw_lim_state *st)
{
	struct pick p = { max > 0 ? max : 0, GW_LR_NONE };
	enum conf_interp ip = cfg->interpolation;
	max = p.a;
	if ((s->present & BMS_HAS_ALARMS) &&
	    (gw_limits_alarm_side(bms_own_alarms(s)) & (charge ? GW_LIM_F_CHARGE : GW_LIM_F_DISCHARGE)))
		pick(&p, 0, GW_LR_ALARM);
	if ((s->present & BMS_HAS_MOSFETS) && !(charge ? s->chg_mos : s->dsg_mos))
		pick(&p, 0, GW_LR_MOSFET_OFF);
	if (c)
		pick(&p, max * cell_fraction(cfg, c, charge, st), GW_LR_CELL_VOLTAGE);
	temp_pick(cfg, s, max, charge, &p);
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

void gw_limits_current_follow(const struct conf_limits *cfg, struct gw_lim_current *l, double target,
			      enum gw_lim_reason reason, double max, double now, double prev)
{
	current_follow(cfg, l, (struct pick){ target, reason }, max, now, prev);
}

/* ---- one pack ----------------------------------------------------------- */

static void full_charge(const struct conf_limits *cfg, const struct gw_settings *set, const struct bms_snapshot *s,
			bool machine, int64_t wall, struct gw_lim_state *st, struct gw_limits *o)
{
	double days = set && set->origin[GW_SET_FULL_DAYS] != GW_ORIGIN_CONFIG ? (double)set->v[GW_SET_FULL_DAYS]
									       : cfg->full_charge_days;
	if (wall < WALL_MIN)
		return;
	bool full = machine && (st->mode == GW_LIM_ABSORPTION || st->mode == GW_LIM_FLOAT);
	if ((s->present & BMS_HAS_SOC) && isfinite(s->soc) && s->soc >= FULL_SOC)
		full = true;
	if (st->last_full_wall == 0 || full)
		st->last_full_wall = wall;
	o->full_charge_request = machine && days > 0 && (double)(wall - st->last_full_wall) >= days * DAY;
}

/* A pack without cells: the BMS's own voltage limits, or none. */
static void bms_voltages(const struct bms_snapshot *s, double *cvl, double *dvl)
{
	bool bms_v = (s->present & BMS_HAS_VOLT_LIMITS) != 0;
	*cvl = bms_v && isfinite(s->bms_cvl_v) && s->bms_cvl_v > 0 ? s->bms_cvl_v : 0;
	*dvl = bms_v && isfinite(s->bms_dvl_v) && s->bms_dvl_v > 0 ? s->bms_dvl_v : 0;
}

/* CVL and DVL.  *block: the reason charging must stop through the CCL
 * because the CVL was held up at the floor (GW_LR_NONE: it need not).
 * Returns the GW_LIM_EVENT_BULK_TIME bit when max_bulk_time fired. */
static unsigned fresh_voltages(const struct conf_limits *cfg, const struct bms_snapshot *s, const struct cells *c,
			       int cells_cfg, double now, double prev, struct gw_lim_state *st, struct gw_limits *o,
			       enum gw_lim_reason *block)
{
	double bcvl, bdvl;
	bms_voltages(s, &bcvl, &bdvl);
	*block = GW_LR_NONE;
	if (!c) {
		double v = measured_v(s, NULL);
		o->mode = GW_LIM_OFF;
		o->volt_valid = bcvl > 0;
		o->cvl_v = o->bulk_cvl_v = o->volt_valid ? bcvl + cfg->voltage_drop : 0;
		/* no DVL from the BMS: its configured cells' (gw_lim_rating) */
		if (!(bdvl > 0) && cells_cfg > 0)
			bdvl = cells_cfg * cfg->min_cell_voltage;
		o->dvl_v = o->volt_valid ? bdvl : 0;
		if (o->volt_valid && isfinite(v) && o->cvl_v < gw_limits_floor(v, 0)) {
			o->cvl_v = gw_limits_floor(v, 0); /* the BMS's own CVL under its battery */
			*block = GW_LR_BMS_LIMIT;
		}
		return 0;
	}
	unsigned ev = cvl_machine(cfg, s, c, now, st) ? GW_LIM_EVENT_BULK_TIME : 0;
	cvl_control(cfg, s, c, now, prev, st);
	double floor = isfinite(measured_v(s, c)) ? gw_limits_floor(measured_v(s, c), c->n) : NAN;
	if (st->mode == GW_LIM_FLOAT)
		cvl_float(cfg, c, floor, now, prev, st);
	else
		st->fcvl_known = false;
	double bulk = bcvl > 0 && bcvl < st->cvl ? bcvl : st->cvl;
	double want = st->mode == GW_LIM_FLOAT ? fmin(st->fcvl, bulk) : bulk;
	o->mode = st->mode;
	o->absorbed = st->absorbed;
	o->cells = c->n;
	o->volt_valid = true;
	o->bulk_cvl_v = bulk + cfg->voltage_drop;
	o->cvl_v = want + cfg->voltage_drop;
	if (isfinite(floor) && o->cvl_v < floor) {
		/* held up at the battery: the lower wish stops charging instead
		 * (a float CVL that follows the voltage down needs no stop) */
		if (want < st->fcvl || st->mode != GW_LIM_FLOAT)
			*block = bcvl > 0 && bcvl < st->cvl ? GW_LR_BMS_LIMIT : GW_LR_CELL_VOLTAGE;
		o->cvl_v = floor;
	}
	o->dvl_v = c->n * cfg->min_cell_voltage;
	if (bdvl > o->dvl_v)
		o->dvl_v = bdvl;
	return ev;
}

static void force_flag(const struct conf_limits *cfg, const struct bms_snapshot *s, struct gw_lim_state *st)
{
	if ((s->present & BMS_HAS_SOC) && isfinite(s->soc) && cfg->force_charge_soc > 0) {
		if (s->soc <= cfg->force_charge_soc)
			st->force = true;
		else if (s->soc >= cfg->force_charge_soc + FORCE_HYST)
			st->force = false;
	} else {
		st->force = false;
	}
}

/* ---- runtime settings ---------------------------------------------------- */

void gw_limits_settings_apply(const struct gw_settings *set, bool have_soc, double soc, struct gw_lim_latch *latch,
			      double *ccl, enum gw_lim_reason *ccl_reason, double *dcl,
			      enum gw_lim_reason *dcl_reason)
{
	uint32_t hi = set->v[GW_SET_MAX_SOC], lo = set->v[GW_SET_MIN_SOC];
	if (hi >= 100)
		latch->hi = false;
	else if (have_soc && isfinite(soc) && soc >= hi)
		latch->hi = true;
	else if (have_soc && isfinite(soc) && soc <= (double)hi - set->v[GW_SET_MAX_SOC_HYST])
		latch->hi = false;
	if (lo == 0)
		latch->lo = false;
	else if (have_soc && isfinite(soc) && soc <= lo)
		latch->lo = true;
	else if (have_soc && isfinite(soc) && soc >= (double)lo + set->v[GW_SET_MIN_SOC_HYST])
		latch->lo = false;
	struct pick c = { *ccl, *ccl_reason }, d = { *dcl, *dcl_reason };
	if (latch->hi)
		pick(&c, 0, GW_LR_SOC);
	if (latch->lo)
		pick(&d, 0, GW_LR_SOC);
	double cap = gw_settings_cap_a(set, GW_SET_CCL_CAP);
	if (cap >= 0)
		pick(&c, cap, GW_LR_CAP);
	cap = gw_settings_cap_a(set, GW_SET_DCL_CAP);
	if (cap >= 0)
		pick(&d, cap, GW_LR_CAP);
	*ccl = c.a;
	*ccl_reason = c.r;
	*dcl = d.a;
	*dcl_reason = d.r;
}

bool gw_limits_settings_force(const struct gw_settings *set, int64_t wall)
{
	uint32_t until = set->v[GW_SET_FORCE_UNTIL];
	return set->v[GW_SET_FORCE] && (until == 0 || wall < (int64_t)until);
}

static unsigned fresh_step(const struct conf_limits *cfg, const struct gw_lim_rating *r, const struct gw_settings *set,
			   const struct bms_snapshot *s, double now, int64_t wall, struct gw_lim_state *st,
			   struct gw_limits *o)
{
	struct cells cs, ext;
	const struct cells *c = cell_summary(s, &cs) ? &cs : NULL;
	const struct cells *rules = c ? c : cell_extremes(s, &ext) ? &ext : NULL; /* the cell tables' */
	double prev = st->seen && st->t_prev <= now ? st->t_prev : now;
	enum gw_lim_reason block;

	unsigned ev = fresh_voltages(cfg, s, c, r->cells, now, prev, st, o, &block);
	struct pick tc = current_target(cfg, r->charge_a, s, rules, true, st);
	struct pick td = current_target(cfg, r->discharge_a, s, rules, false, st);
	if (block != GW_LR_NONE)
		pick(&tc, 0, block);
	if (set)
		gw_limits_settings_apply(set, (s->present & BMS_HAS_SOC) != 0, s->soc, &st->latch, &tc.a, &tc.r, &td.a,
					 &td.r);
	if (!st->seen) {
		st->ccl = (struct gw_lim_current){ .a = tc.a, .reason = tc.r };
		st->dcl = (struct gw_lim_current){ .a = td.a, .reason = td.r };
	} else {
		current_follow(cfg, &st->ccl, tc, r->charge_a, now, prev);
		current_follow(cfg, &st->dcl, td, r->discharge_a, now, prev);
	}
	o->ccl_a = st->ccl.a;
	o->dcl_a = st->dcl.a;
	o->ccl_reason = st->ccl.reason;
	o->dcl_reason = st->dcl.reason;
	force_flag(cfg, s, st);
	o->force_charge = (st->force || (set && gw_limits_settings_force(set, wall))) && o->ccl_a > 0;
	full_charge(cfg, set, s, c != NULL, wall, st, o);
	bool have_i = (s->present & BMS_HAS_CURRENT) != 0;
	if (gw_limits_exceed_step(cfg, &st->exc, have_i, s->current, o->ccl_a, o->dcl_a, now))
		ev |= GW_LIM_CHANGED_EXCEEDED;
	o->exceeded = st->exc.state;
	st->seen = true;
	st->cvl_out = o->cvl_v;
	st->dvl_out = o->dvl_v;
	st->volt_valid = o->volt_valid;
	return ev;
}

/* No fresh snapshot (reason stale), or one whose cells do not fit the
 * pack's chemistry (reason chemistry): fail-safe. */
static unsigned stale_step(double now, struct gw_lim_state *st, struct gw_limits *o, enum gw_lim_reason why)
{
	unsigned ev = st->exc.state != GW_LIM_EXC_NONE ? GW_LIM_CHANGED_EXCEEDED : 0;
	if (st->mode == GW_LIM_ABSORPTION)
		st->mode = GW_LIM_BULK;
	if (st->cvl_limited)
		st->cvl_since = now;
	st->ccl = (struct gw_lim_current){ .a = 0, .reason = why };
	st->dcl = st->ccl;
	st->exc = (struct gw_lim_exceed){ GW_LIM_EXC_NONE, GW_LIM_EXC_NONE, now };
	o->failsafe = true;
	o->mode = GW_LIM_FAILSAFE;
	o->ccl_reason = o->dcl_reason = why;
	o->volt_valid = st->volt_valid;
	o->cvl_v = o->bulk_cvl_v = st->cvl_out;
	o->dvl_v = st->dvl_out;
	o->absorbed = st->absorbed;
	return ev;
}

void gw_limits_init(struct gw_lim_state *st)
{
	memset(st, 0, sizeof(*st));
	st->mode = GW_LIM_BULK;
}

/* A step's result o published into *out, with what changed against the
 * previous step (the words) and its events ev. */
static unsigned step_end(struct gw_lim_state *st, const struct gw_limits *res, double now, unsigned ev,
			 struct gw_limits *out)
{
	struct gw_limits o = *res;
	o.charge_allowed = o.ccl_a > 0;
	o.discharge_allowed = o.dcl_a > 0;

	unsigned ch = GW_LIM_CHANGED_WORDS;
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
	return ch | ev;
}

unsigned gw_limits_step(const struct conf_limits *cfg, const struct gw_lim_rating *r, const struct bms_snapshot *s,
			double now, int64_t wall, struct gw_lim_state *st, struct gw_limits *out)
{
	return gw_limits_step_set(cfg, r, NULL, s, now, wall, st, out);
}

unsigned gw_limits_step_set(const struct conf_limits *cfg, const struct gw_lim_rating *r,
			    const struct gw_settings *set, const struct bms_snapshot *s, double now, int64_t wall,
			    struct gw_lim_state *st, struct gw_limits *out)
{
	struct gw_lim_rating own = { cfg->max_charge_current, cfg->max_discharge_current, 0 };
	struct gw_limits o = { 0 };
	unsigned ev = 0;
	o.enabled = cfg->enabled;
	if (!cfg->enabled)
		o.mode = GW_LIM_OFF;
	else if (s)
		ev = fresh_step(cfg, r ? r : &own, set, s, now, wall, st, &o);
	else
		ev = stale_step(now, st, &o, GW_LR_STALE);
	return step_end(st, &o, now, ev, out);
}

unsigned gw_limits_step_unfit(const struct conf_limits *cfg, double now, struct gw_lim_state *st,
			      struct gw_limits *out)
{
	struct gw_limits o = { .enabled = cfg->enabled, .mode = GW_LIM_OFF };
	unsigned ev = cfg->enabled ? stale_step(now, st, &o, GW_LR_CHEMISTRY) : 0;
	return step_end(st, &o, now, ev, out);
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
			  (l->failsafe ? GW_LIM_F_FAILSAFE : 0) |
			  (l->member_stale ? GW_LIM_F_MEMBER_STALE : 0) |
			  (l->exceeded != GW_LIM_EXC_NONE ? GW_LIM_F_EXCEEDED : 0));
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
		"mosfet_off", "alarm", "bms_limit", "stale", "cap", "chemistry",
	};
	return (unsigned)r < GW_LR_COUNT ? names[r] : "?";
}

const char *gw_limits_exceeded_name(enum gw_lim_exceeded e)
{
	return e == GW_LIM_EXC_CHARGE ? "charge" : e == GW_LIM_EXC_DISCHARGE ? "discharge" : NULL;
}
