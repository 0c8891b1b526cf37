/* SPDX-License-Identifier: MIT */
/* tests/unit/test_plausible.c - bms/base/plausible.c: the one table every
 * snapshot passes before it may replace a pack's cache.  Each row at its
 * bounds and beyond, absent values ignored (a 0 cell, a NAN limit, a value
 * without its presence bit), the pack voltage against its cells' sum, and
 * the text the poller logs; a BMS's own highest and lowest cell and
 * temperature.  Sensors out of their row made absent and
 * flagged (bms_sensor_faults), while cells, voltage and current still
 * reject.  And bms_snapshot_state(): the state from the current's sign. */
#include <math.h>
#include <string.h>

#include "../../bms/bms.h"
#include "check.h"

static struct bms_snapshot pack(void)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_FULL |
		    BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_CUR_LIMITS |
		    BMS_HAS_VOLT_LIMITS;
	s.ncells = 16;
	for (int i = 0; i < 16; i++)
		s.cell_mv[i] = 3300;
	s.voltage = 52.8f;
	s.current = -12.5f;
	s.soc = 55;
	s.soh = 98;
	s.remain_ah = 150;
	s.full_ah = 280;
	s.cycles = 1200;
	s.ntemps = 2;
	s.temp_c[0] = 25;
	s.temp_c[1] = -10;
	s.mos_temp_c = 40;
	s.bms_ccl_a = 100;
	s.bms_dcl_a = 200;
	s.bms_cvl_v = 56.8f;
	s.bms_dvl_v = 44.8f;
	return s;
}

static struct bms_implausible why;

/* Not plausible, and the field named is `field`. */
static void bad(int line, const struct bms_snapshot *s, const char *field)
{
	memset(&why, 0, sizeof(why));
	if (!bms_plausible(s, &why) && strcmp(why.field, field) == 0) {
		check_passed++;
		return;
	}
	check_failed++;
	fprintf(stderr, "FAIL %s:%d: expected \"%s\" implausible, got \"%s\"\n", __FILE__, line, field, why.field);
}
#define BAD(s, field) bad(__LINE__, &(s), field)

static void test_rows(void)
{
	struct bms_snapshot s = pack();
	CHECK(bms_plausible(&s, NULL));
	/* cells: 0.5..5.0 V, 0 = absent */
	s.cell_mv[2] = 65535;
	BAD(s, "cell 3");
	s.cell_mv[2] = 5001;
	BAD(s, "cell 3");
	s.cell_mv[2] = 499;
	BAD(s, "cell 3");
	s.cell_mv[2] = 0; /* absent: no sum check either */
	CHECK(bms_plausible(&s, NULL));
	s = pack();
	s.cell_mv[0] = 500;
	s.cell_mv[1] = 5000;
	s.voltage = (s.cell_mv[0] + s.cell_mv[1] + 14 * 3300) / 1000.0f;
	CHECK(bms_plausible(&s, NULL));
	/* the pack within 10 % of its cells' sum (52.8 V) */
	s = pack();
	s.voltage = 58.0f;
	CHECK(bms_plausible(&s, NULL));
	s.voltage = 58.2f;
	BAD(s, "voltage against the cells' sum");
	s.voltage = 47.6f;
	CHECK(bms_plausible(&s, NULL));
	s.voltage = 6553.5f;
	BAD(s, "voltage");
	s.present &= ~(uint32_t)BMS_HAS_VOLTAGE; /* absent: not checked */
	CHECK(bms_plausible(&s, NULL));
	/* temperatures -50..150, the MOSFET's too */
	s = pack();
	s.temp_c[1] = 3020;
	BAD(s, "temperature 2");
	s.temp_c[1] = -50.1f;
	BAD(s, "temperature 2");
	s.temp_c[1] = 150;
	CHECK(bms_plausible(&s, NULL));
	s.mos_temp_c = 1152;
	BAD(s, "MOSFET temperature");
	s = pack();
	s.temp_c[0] = NAN; /* absent (a slot bms_sensor_faults() emptied) */
	CHECK(bms_plausible(&s, NULL));
	/* SOC, SOH, current, capacities, cycles */
	s = pack();
	s.soc = 100.5f;
	BAD(s, "soc");
	s = pack();
	s.soh = -1;
	BAD(s, "soh");
	s = pack();
	s.current = -3000.5f;
	BAD(s, "current");
	s.current = 3000;
	CHECK(bms_plausible(&s, NULL));
	s = pack();
	s.remain_ah = -0.1f;
	BAD(s, "remaining capacity");
	s = pack();
	s.full_ah = 10001;
	BAD(s, "full capacity");
	s = pack();
	s.cycles = 4000000000u;
	BAD(s, "cycles");
	/* the BMS's own limits: >= 0; NAN = no limit in that direction */
	s = pack();
	s.bms_dcl_a = -5;
	BAD(s, "discharge current limit");
	s.bms_dcl_a = NAN;
	CHECK(bms_plausible(&s, NULL));
	s.bms_ccl_a = 3276.7f;
	BAD(s, "charge current limit");
	s = pack();
	s.bms_cvl_v = 6553.5f;
	BAD(s, "charge voltage limit");
	s = pack();
	s.bms_cvl_v = NAN; /* a charge voltage limit is never absent when given */
	BAD(s, "charge voltage limit");
	/* the text logged */
	s = pack();
	s.cell_mv[2] = 65535;
	CHECK(!bms_plausible(&s, &why));
	char text[160];
	bms_implausible_text(&why, text, sizeof(text));
	CHECK_STR(text, "cell 3 = 65.535 V (plausible: 0.5..5)");
	/* nothing present: nothing to judge */
	memset(&s, 0, sizeof(s));
	s.voltage = -1;
	CHECK(bms_plausible(&s, NULL));
}

/* The BMS's own highest and lowest cell as cells (the lowest not above the
 * highest), its highest and lowest temperature as sensors (NaN absent);
 * bms_set_cell_ext() takes both or nothing, bms_set_temp_ext() leaves one
 * that is no reading absent. */
static void test_extremes(void)
{
	struct bms_snapshot s = pack();
	bms_set_cell_ext(&s, 3400, 3, 3200, 9);
	CHECK(s.present & BMS_HAS_CELL_EXT);
	CHECK(bms_plausible(&s, NULL));
	s.ext_max_mv = 5001;
	BAD(s, "highest cell");
	s.ext_max_mv = 3400;
	s.ext_min_mv = 499;
	BAD(s, "lowest cell");
	s.ext_min_mv = 3401;
	BAD(s, "lowest cell above the highest");
	s.ext_min_mv = 3400; /* equal: one cell, or all alike */
	CHECK(bms_plausible(&s, NULL));
	s.ext_max_mv = 0; /* set by hand without a value: judged */
	BAD(s, "highest cell");
	s = pack();
	bms_set_cell_ext(&s, 3400, 3, 0, 0); /* one of the two: nothing */
	CHECK(!(s.present & BMS_HAS_CELL_EXT));
	bms_set_cell_ext(&s, 3400, 300, 3200, 2); /* a number beyond a byte: none */
	CHECK_EQ_INT(s.ext_max_cell, 0);
	CHECK_EQ_INT(s.ext_min_cell, 2);
	/* temperatures */
	s = pack();
	bms_set_temp_ext(&s, 151, -50);
	CHECK(s.present & BMS_HAS_TEMP_EXT);
	CHECK(isnan(s.ext_tmax_c));
	CHECK_NEAR(s.ext_tmin_c, -50, 1e-6);
	CHECK(bms_plausible(&s, NULL));
	bms_set_temp_ext(&s, NAN, -273.15f);
	CHECK(!(s.present & BMS_HAS_TEMP_EXT));
	s.present |= BMS_HAS_TEMP_EXT; /* set by hand out of the row: judged */
	s.ext_tmax_c = 200;
	s.ext_tmin_c = 20;
	BAD(s, "highest temperature");
	s.ext_tmax_c = NAN;
	s.ext_tmin_c = -60;
	BAD(s, "lowest temperature");
}

/* A sensor out of its row is absent and flagged, not a lost poll:
 * bms_sensor_faults(). */
static void test_sensor_faults(void)
{
	struct bms_snapshot s = pack();
	float was[BMS_MAX_TEMPS + 1];
	/* EG4-LL's 0xC8 in the second slot: the table alone refuses it ... */
	s.temp_c[1] = -56;
	BAD(s, "temperature 2");
	/* ... the slot is absent, the pack flagged, the poll served */
	CHECK_EQ_INT(bms_sensor_faults(&s, was), 1u << 1);
	CHECK_NEAR(was[1], -56, 1e-6);
	CHECK(isnan(s.temp_c[1]));
	CHECK_NEAR(s.temp_c[0], 25, 1e-6);
	CHECK_EQ_INT(s.ntemps, 2);
	CHECK(s.present & BMS_HAS_ALARMS);
	CHECK_EQ_INT(s.alarms, BMS_AL_SENSOR);
	CHECK_EQ_INT(s.sensor_faults, (1u << 1) | BMS_FAULT_ALARM);
	CHECK_EQ_INT(bms_own_alarms(&s), 0);
	CHECK(bms_plausible(&s, NULL));
	/* once is enough: a second pass finds nothing new, the flags stay */
	CHECK_EQ_INT(bms_sensor_faults(&s, NULL), 0);
	CHECK_EQ_INT(s.sensor_faults, (1u << 1) | BMS_FAULT_ALARM);
	CHECK_EQ_INT(s.alarms, BMS_AL_SENSOR);
	/* the placeholders BMSs use, and the bounds themselves */
	static const float out[] = { 3276.7f, -3276.8f, 6280.5f, -273.1f, -50.1f, 150.1f, INFINITY, -INFINITY };
	for (size_t k = 0; k < sizeof(out) / sizeof(out[0]); k++) {
		s = pack();
		s.temp_c[0] = out[k];
		CHECK_EQ_INT(bms_sensor_faults(&s, NULL), 1u << 0);
		CHECK(isnan(s.temp_c[0]));
		CHECK(bms_plausible(&s, NULL));
	}
	s = pack();
	s.temp_c[0] = -50;
	s.temp_c[1] = 150;
	s.mos_temp_c = 150;
	CHECK_EQ_INT(bms_sensor_faults(&s, NULL), 0);
	CHECK_EQ_INT(s.sensor_faults, 0);
	CHECK_EQ_INT(s.alarms, 0);
	CHECK(s.present & BMS_HAS_MOS_TEMP);
	/* a slot absent already is no fault */
	s.temp_c[1] = NAN;
	CHECK_EQ_INT(bms_sensor_faults(&s, NULL), 0);
	CHECK_EQ_INT(s.alarms, 0);
	/* the MOSFET sensor: its presence cleared; NaN is absent, unflagged */
	s = pack();
	s.mos_temp_c = 1152;
	CHECK_EQ_INT(bms_sensor_faults(&s, was), BMS_FAULT_MOS);
	CHECK_NEAR(was[BMS_MAX_TEMPS], 1152, 1e-3);
	CHECK(!(s.present & BMS_HAS_MOS_TEMP));
	CHECK_EQ_INT(s.alarms, BMS_AL_SENSOR);
	CHECK(bms_plausible(&s, NULL));
	s = pack();
	s.mos_temp_c = NAN;
	CHECK_EQ_INT(bms_sensor_faults(&s, NULL), 0);
	CHECK(!(s.present & BMS_HAS_MOS_TEMP));
	CHECK_EQ_INT(s.alarms, 0);
	CHECK(bms_plausible(&s, NULL));
	/* every sensor gone: all absent, the poll still served */
	s = pack();
	s.temp_c[0] = s.temp_c[1] = -56;
	CHECK_EQ_INT(bms_sensor_faults(&s, NULL), 3);
	CHECK(isnan(s.temp_c[0]) && isnan(s.temp_c[1]));
	CHECK(bms_plausible(&s, NULL));
	/* the BMS's own alarms are kept, and so is its own sensor alarm */
	s = pack();
	s.present |= BMS_HAS_ALARMS;
	s.alarms = BMS_AL_CELL_OV;
	s.nraw = 1;
	s.raw_alarms[0] = 0x0002;
	s.temp_c[1] = -56;
	bms_sensor_faults(&s, NULL);
	CHECK_EQ_INT(s.alarms, BMS_AL_CELL_OV | BMS_AL_SENSOR);
	CHECK_EQ_INT(bms_own_alarms(&s), BMS_AL_CELL_OV);
	CHECK_EQ_INT(s.nraw, 1);
	s = pack();
	s.present |= BMS_HAS_ALARMS;
	s.alarms = BMS_AL_SENSOR; /* the BMS says so itself (EG4-LL error bit 1) */
	s.temp_c[1] = -56;
	bms_sensor_faults(&s, NULL);
	CHECK_EQ_INT(s.sensor_faults, 1u << 1);
	CHECK_EQ_INT(bms_own_alarms(&s), BMS_AL_SENSOR);
	/* a sensor count beyond the array: the table refuses it, untouched */
	s = pack();
	s.ntemps = BMS_MAX_TEMPS + 1;
	bms_sensor_faults(&s, NULL);
	BAD(s, "sensor count");
}

/* The cells, the pack voltage and the current still reject a poll whole,
 * with a sensor fault beside them or not. */
static void test_faults_reject(void)
{
	struct bms_snapshot s = pack();
	s.temp_c[1] = -56;
	s.cell_mv[2] = 65535;
	bms_sensor_faults(&s, NULL);
	BAD(s, "cell 3");
	s = pack();
	s.temp_c[1] = -56;
	s.voltage = 6553.5f;
	bms_sensor_faults(&s, NULL);
	BAD(s, "voltage");
	s = pack();
	s.temp_c[1] = -56;
	s.current = -3276.8f;
	bms_sensor_faults(&s, NULL);
	BAD(s, "current");
	s = pack();
	s.cell_mv[0] = 499;
	CHECK_EQ_INT(bms_sensor_faults(&s, NULL), 0);
	BAD(s, "cell 1");
	s = pack();
	s.soc = 101;
	bms_sensor_faults(&s, NULL);
	BAD(s, "soc");
}

static void test_state(void)
{
	struct bms_snapshot s = pack();
	s.state = 0; /* the BMS says nothing */
	bms_snapshot_state(&s, 0.1f);
	CHECK_EQ_INT(s.state, 2);
	s.current = 5;
	bms_snapshot_state(&s, 0.1f);
	CHECK_EQ_INT(s.state, 1);
	s.state = 2; /* the BMS says discharging while it charges */
	bms_snapshot_state(&s, 0.1f);
	CHECK_EQ_INT(s.state, 1);
	s.current = 0.05f; /* under the threshold: the BMS's own word */
	s.state = 1;
	bms_snapshot_state(&s, 0.1f);
	CHECK_EQ_INT(s.state, 1);
	s.state = 0;
	bms_snapshot_state(&s, 0.1f);
	CHECK_EQ_INT(s.state, 0);
	s.current = -0.1f;
	bms_snapshot_state(&s, 0.1f);
	CHECK_EQ_INT(s.state, 2);
	s.present &= ~(uint32_t)BMS_HAS_CURRENT; /* no current: the BMS's state stays */
	s.current = 20;
	s.state = 0;
	bms_snapshot_state(&s, 0.1f);
	CHECK_EQ_INT(s.state, 0);
}

int main(void)
{
	test_rows();
	test_extremes();
	test_sensor_faults();
	test_faults_reject();
	test_state();
	return check_report();
}
