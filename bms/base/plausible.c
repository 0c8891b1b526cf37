/* SPDX-License-Identifier: MIT */
/* bms/base/plausible.c - the one plausibility table every snapshot passes before
 * it may replace a pack's cache.
 *
 * A frame whose checksum is right can still carry values no battery has: a
 * 65535 mV cell (a register read as 0xFFFF), a 3020 degC sensor, a 6553.5 V
 * pack, a negative limit.  An independent fuzz of the drivers found 1,272
 * such reads in five minutes of a hostile line, each reaching the register
 * map, MQTT, the history, the limits and the inverters.  The gateway serves
 * none of them: a poll with one value outside its row below is rejected
 * whole (the pack goes stale rather than serve it), counted and logged.
 *
 * The bounds are those of any lithium battery a BMS of bms/ watches: cells
 * 0.5..5.0 V (LFP rests 2.5..3.65 V, NMC 3.0..4.2 V, LTO 1.5..2.8 V; a 0
 * slot is a cell the BMS does not measure, absent, not implausible);
 * sensors -50..+150 degC (beyond the range of the NTCs BMSs use); SOC and
 * SOH 0..100 %; currents within +-3000 A and the BMS's own limits 0..3000 A;
 * capacities 0..10,000 Ah; the pack voltage 0..1000 V and, where the cells
 * are all given, within 10 % of their sum; at most 100,000 cycles.  The
 * BMS's own highest and lowest cell (where it reports them) as a cell,
 * the lowest not above the highest; its highest and lowest temperature as
 * a sensor (bms_set_temp_ext() leaves one outside it absent).
 *
 * A temperature sensor outside its row is the one exception: no battery's
 * reading, but a BMS's placeholder for a sensor it lacks or lost (EG4-LL
 * fills the slot of a sensor a 12 V pack does not have with 0xC8, -56 degC:
 * https://github.com/patman15/aiobmsble/blob/main/tests/bms/test_eg4_bms.py,
 * a recorded answer).  Such
 * a slot costs the poll nothing: bms_sensor_faults(), which the poller
 * runs before the table, makes it absent and flags a sensor fault.
 *
 * A cell answer with more slots than the pack has cells is no reason to
 * refuse a real frame either: CBT Power's 4S pack fills a fifth slot with
 * 2317 mV beside its 13.4 V (aiobmsble's recorded answers, fixture
 * CBTPOWER-06), a sum of 15.671 V for five.  A driver whose list ends only
 * at an empty slot takes the cells its pack voltage tells
 * (bms_cells_for_voltage()): of the counts whose cells fit the voltage
 * within this table's 10 %, the one whose sum is nearest; a list no count
 * fits stays whole, and this table refuses it.
 */
#include <math.h>
#include <stdio.h>

#include "../bms.h"

/* One row: a value of the snapshot, present when `has` is in s->present
 * (and, with nan_absent, not NAN: a limit the BMS gives in one direction
 * only, bms.h). */
struct row {
	const char *field, *unit;
	uint32_t has;
	double lo, hi;
	double (*get)(const struct bms_snapshot *s);
	bool nan_absent;
};

static double v_voltage(const struct bms_snapshot *s) { return s->voltage; }
static double v_current(const struct bms_snapshot *s) { return s->current; }
static double v_power(const struct bms_snapshot *s) { return s->power; }
static double v_soc(const struct bms_snapshot *s) { return s->soc; }
static double v_soh(const struct bms_snapshot *s) { return s->soh; }
static double v_remain(const struct bms_snapshot *s) { return s->remain_ah; }
static double v_full(const struct bms_snapshot *s) { return s->full_ah; }
static double v_cycles(const struct bms_snapshot *s) { return s->cycles; }
static double v_mos(const struct bms_snapshot *s) { return s->mos_temp_c; }
static double v_ccl(const struct bms_snapshot *s) { return s->bms_ccl_a; }
static double v_dcl(const struct bms_snapshot *s) { return s->bms_dcl_a; }
static double v_cvl(const struct bms_snapshot *s) { return s->bms_cvl_v; }
static double v_dvl(const struct bms_snapshot *s) { return s->bms_dvl_v; }
static double v_tmax(const struct bms_snapshot *s) { return s->ext_tmax_c; }
static double v_tmin(const struct bms_snapshot *s) { return s->ext_tmin_c; }

static const struct row rows[] = {
	{ "voltage", "V", BMS_HAS_VOLTAGE, 0, BMS_PLAUSIBLE_MAX_V, v_voltage, false },
	{ "current", "A", BMS_HAS_CURRENT, -BMS_PLAUSIBLE_MAX_A, BMS_PLAUSIBLE_MAX_A, v_current, false },
	{ "power", "W", BMS_HAS_POWER, -BMS_PLAUSIBLE_MAX_A * BMS_PLAUSIBLE_MAX_V,
	  BMS_PLAUSIBLE_MAX_A * BMS_PLAUSIBLE_MAX_V, v_power, false },
	{ "soc", "%", BMS_HAS_SOC, 0, 100, v_soc, false },
	{ "soh", "%", BMS_HAS_SOH, 0, 100, v_soh, false },
	{ "remaining capacity", "Ah", BMS_HAS_REMAIN, 0, BMS_PLAUSIBLE_MAX_AH, v_remain, false },
	{ "full capacity", "Ah", BMS_HAS_FULL, 0, BMS_PLAUSIBLE_MAX_AH, v_full, false },
	{ "cycles", "", BMS_HAS_CYCLES, 0, 100000, v_cycles, false },
	{ "MOSFET temperature", "degC", BMS_HAS_MOS_TEMP, BMS_PLAUSIBLE_MIN_C, BMS_PLAUSIBLE_MAX_C, v_mos, false },
	{ "charge current limit", "A", BMS_HAS_CUR_LIMITS, 0, BMS_PLAUSIBLE_MAX_A, v_ccl, true },
	{ "discharge current limit", "A", BMS_HAS_CUR_LIMITS, 0, BMS_PLAUSIBLE_MAX_A, v_dcl, true },
	{ "charge voltage limit", "V", BMS_HAS_VOLT_LIMITS, 0, BMS_PLAUSIBLE_MAX_V, v_cvl, false },
	{ "discharge voltage limit", "V", BMS_HAS_VOLT_LIMITS, 0, BMS_PLAUSIBLE_MAX_V, v_dvl, true },
	{ "highest temperature", "degC", BMS_HAS_TEMP_EXT, BMS_PLAUSIBLE_MIN_C, BMS_PLAUSIBLE_MAX_C, v_tmax, true },
	{ "lowest temperature", "degC", BMS_HAS_TEMP_EXT, BMS_PLAUSIBLE_MIN_C, BMS_PLAUSIBLE_MAX_C, v_tmin, true },
};

static bool out(struct bms_implausible *why, const char *field, int index, const char *unit, double v, double lo,
		double hi)
{
	if (why) {
		if (index > 0)
			snprintf(why->field, sizeof(why->field), "%s %d", field, index);
		else
			snprintf(why->field, sizeof(why->field), "%s", field);
		snprintf(why->unit, sizeof(why->unit), "%s", unit);
		why->value = v;
		why->lo = lo;
		why->hi = hi;
	}
	return false;
}

/* The cells: each 0.5..5.0 V or 0 (absent); their sum, when all are given,
 * within 10 % of the pack voltage. */
static bool cells_ok(const struct bms_snapshot *s, struct bms_implausible *why)
{
	if (!(s->present & BMS_HAS_CELLS))
		return true;
	if (s->ncells > BMS_MAX_CELLS)
		return out(why, "cell count", 0, "", s->ncells, 0, BMS_MAX_CELLS);
	double sum = 0;
	bool all = s->ncells > 0;
	for (unsigned i = 0; i < s->ncells; i++) {
		uint16_t mv = s->cell_mv[i];
		if (mv == 0) {
			all = false;
			continue;
		}
		if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return out(why, "cell", (int)i + 1, "V", mv / 1000.0, BMS_PLAUSIBLE_MIN_CELL_MV / 1000.0,
				   BMS_PLAUSIBLE_MAX_CELL_MV / 1000.0);
		sum += mv / 1000.0;
	}
	if (all && (s->present & BMS_HAS_VOLTAGE) && fabs(s->voltage - sum) > 0.1 * sum)
		return out(why, "voltage against the cells' sum", 0, "V", s->voltage, 0.9 * sum, 1.1 * sum);
	return true;
}

/* The BMS's own highest and lowest cell: each 0.5..5.0 V, the lowest not
 * above the highest. */
static bool ext_ok(const struct bms_snapshot *s, struct bms_implausible *why)
{
	static const double lo = BMS_PLAUSIBLE_MIN_CELL_MV / 1000.0, hi = BMS_PLAUSIBLE_MAX_CELL_MV / 1000.0;
	if (!(s->present & BMS_HAS_CELL_EXT))
		return true;
	if (s->ext_max_mv < BMS_PLAUSIBLE_MIN_CELL_MV || s->ext_max_mv > BMS_PLAUSIBLE_MAX_CELL_MV)
		return out(why, "highest cell", 0, "V", s->ext_max_mv / 1000.0, lo, hi);
	if (s->ext_min_mv < BMS_PLAUSIBLE_MIN_CELL_MV || s->ext_min_mv > BMS_PLAUSIBLE_MAX_CELL_MV)
		return out(why, "lowest cell", 0, "V", s->ext_min_mv / 1000.0, lo, hi);
	if (s->ext_min_mv > s->ext_max_mv)
		return out(why, "lowest cell above the highest", 0, "V", s->ext_min_mv / 1000.0, lo,
			   s->ext_max_mv / 1000.0);
	return true;
}

bool bms_plausible(const struct bms_snapshot *s, struct bms_implausible *why)
{
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		const struct row *r = &rows[k];
		if (!(s->present & r->has))
			continue;
		double v = r->get(s);
		if (r->nan_absent && isnan(v))
			continue;
		if (!(v >= r->lo && v <= r->hi)) /* NaN too */
			return out(why, r->field, 0, r->unit, v, r->lo, r->hi);
	}
	if (s->present & BMS_HAS_TEMPS) {
		if (s->ntemps > BMS_MAX_TEMPS)
			return out(why, "sensor count", 0, "", s->ntemps, 0, BMS_MAX_TEMPS);
		for (unsigned i = 0; i < s->ntemps; i++)
			if (!isnan(s->temp_c[i]) &&
			    !(s->temp_c[i] >= BMS_PLAUSIBLE_MIN_C && s->temp_c[i] <= BMS_PLAUSIBLE_MAX_C))
				return out(why, "temperature", (int)i + 1, "degC", s->temp_c[i], BMS_PLAUSIBLE_MIN_C,
					   BMS_PLAUSIBLE_MAX_C);
	}
	return cells_ok(s, why) && ext_ok(s, why);
}

static bool temp_ok(float t)
{
	return t >= BMS_PLAUSIBLE_MIN_C && t <= BMS_PLAUSIBLE_MAX_C;
}

unsigned bms_sensor_faults(struct bms_snapshot *s, float *was)
{
	unsigned found = 0;
	if (s->present & BMS_HAS_TEMPS) {
		unsigned n = s->ntemps < BMS_MAX_TEMPS ? s->ntemps : BMS_MAX_TEMPS;
		for (unsigned i = 0; i < n; i++) {
			float t = s->temp_c[i];
			if (isnan(t) || temp_ok(t))
				continue;
			if (was)
				was[i] = t;
			s->temp_c[i] = NAN;
			found |= 1u << i;
		}
	}
	if ((s->present & BMS_HAS_MOS_TEMP) && !temp_ok(s->mos_temp_c)) {
		s->present &= ~(uint32_t)BMS_HAS_MOS_TEMP;
		if (!isnan(s->mos_temp_c)) {
			if (was)
				was[BMS_MAX_TEMPS] = s->mos_temp_c;
			found |= BMS_FAULT_MOS;
		}
	}
	if (!found)
		return 0;
	if (!(s->present & BMS_HAS_ALARMS)) {
		s->alarms = 0;
		s->nraw = 0;
		s->present |= BMS_HAS_ALARMS;
	}
	if (!(s->alarms & BMS_AL_SENSOR))
		s->sensor_faults |= BMS_FAULT_ALARM;
	s->alarms |= BMS_AL_SENSOR;
	s->sensor_faults |= found;
	return found;
}

unsigned bms_cells_for_voltage(const uint16_t *mv, unsigned n, float volts)
{
	double want = (double)volts * 1000.0, sum = 0, best = INFINITY;
	unsigned k = n;
	if (!(want > 0))
		return n;
	for (unsigned i = 0; i < n; i++) {
		if (mv[i] == 0)
			return n;
		sum += mv[i];
		double err = fabs(sum - want);
		if (err <= 0.1 * sum && err <= best) {
			best = err;
			k = i + 1;
		}
	}
	return k;
}

void bms_implausible_text(const struct bms_implausible *why, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s = %g%s%s (plausible: %g..%g)", why->field, why->value, why->unit[0] ? " " : "",
		 why->unit, why->lo, why->hi);
}
