/* SPDX-License-Identifier: MIT */
/* tests/unit/test_plausible.c - bms/plausible.c: the one table every
 * snapshot passes before it may replace a pack's cache.  Each row at its
 * bounds and beyond, absent values ignored (a 0 cell, a NAN limit, a value
 * without its presence bit), the pack voltage against its cells' sum, and
 * the text the poller logs.  And bms_snapshot_state(): the state from the
 * current's sign. */
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
	s.temp_c[0] = NAN;
	BAD(s, "temperature 1");
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
	test_state();
	return check_report();
}
