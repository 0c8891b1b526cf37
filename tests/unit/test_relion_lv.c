/* SPDX-License-Identifier: MIT */
/* tests/unit/test_relion_lv.c - a RELiON 48 V LFP battery heard on its CAN
 * bus (bms/relion_lv.c, bms/PROTOCOLS.md §98), on RELION-01 of
 * tests/fixtures/vectors.tsv (the example frames of Battery-Emulator's
 * RELION-LV-BATTERY): 49.6 V, 0 A, SOC 99 %, SOH 100 %, 15 cells (the
 * fourth cell frame's last place 0: none), the BMS's highest and lowest
 * (3321 mV at module 1 cell 4, 3239 mV at cell 15: cells 4 and 15 of the
 * list) dropped beside every cell, 21 / 21 degC (the lowest at b3, where
 * Battery-Emulator reads b2's position); the sign (+ = discharging on
 * this bus); values no battery has refused; frames a byte short refused
 * and counted; a list whose sum is not the voltage (a part) none. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_relion_lv_driver;

#include "hv_check.h"

#define RELION_01 "02018100#100801F000000000 02028100#0000006364100000 02038100#0CF901040CA7010F " \
	"02048100#4701014701010000 02108100#0CF90CF80CF80CF9 02118100#0CF80CF80CF90CF8 " \
	"02128100#0CF80CF80CF90CF8 02138100#0CF90CCD0CA70000"

static void test_vector(void)
{
	struct bms_poll poll;
	struct drive_res r;
	hv_two_polls(&poll, RELION_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 49.6, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	CHECK_NEAR(s->soc, 99, 1e-4);
	CHECK_NEAR(s->soh, 100, 1e-4);
	CHECK_EQ_INT(s->ncells, 15);
	static const uint16_t want[15] = { 3321, 3320, 3320, 3321, 3320, 3320, 3321, 3320,
					   3320, 3320, 3321, 3320, 3321, 3277, 3239 };
	for (int i = 0; i < 15; i++)
		CHECK_EQ_INT(s->cell_mv[i], want[i]);
	CHECK(!(s->present & BMS_HAS_CELL_EXT)); /* every cell: the BMS's 3321 / 3239 dropped */
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->ext_tmax_c, 21, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 21, 1e-4);
	CHECK_EQ_INT(s->raw_alarms[0], 0x0010);
	CHECK(bms_plausible(s, NULL));
	CHECK(bms_probe_plausible(s, NULL, 0)); /* --detect: a low-voltage battery's range */
	/* discharging 12.3 A: raw +123 (0x007B); charging 5.0 A: raw -50 (0xFFCE) */
	CHECK_EQ_INT(hv_poll(&poll, "02018100#100801F000000000 02028100#007B006364100000", 0, false, &r),
		     BMS_E_INVALID); /* the learned frames missing */
	hv_two_polls(&poll, "02018100#100801F000000000 02028100#007B006364100000");
	CHECK_NEAR(poll.snap.current, -12.3, 1e-4);
	hv_two_polls(&poll, "02018100#100801F000000000 02028100#FFCE006364100000");
	CHECK_NEAR(poll.snap.current, 5.0, 1e-4);
	/* without the cells: the BMS's highest and lowest stand for them */
	hv_two_polls(&poll, "02018100#100801F000000000 02028100#0000006364100000 02038100#0CF901040CA7010F");
	CHECK_EQ_INT(poll.snap.ext_max_mv, 3321);
	CHECK_EQ_INT(poll.snap.ext_min_mv, 3239);
	/* values no battery has: the poll refused */
	static const char *const bad[] = {
		"02028100#0000006564100000", /* SOC 101 % */
		"02028100#0000006365100000", /* SOH 101 % */
		"02038100#0CA701040CF9010F", /* the lowest cell above the highest */
		"02048100#4701015001010000", /* the lowest temperature above the highest */
		"02108100#0CF90CF81F400CF9", /* a cell of 8.0 V */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static char text[512];
		snprintf(text, sizeof(text), "02018100#100801F000000000 %s%s", bad[i],
			 i == 0 || i == 1 ? "" : " 02028100#0000006364100000");
		memset(&poll, 0, sizeof(poll));
		CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* a part of the cells (the first frame alone, 13.3 V in a 49.6 V battery): none */
	hv_two_polls(&poll, "02018100#100801F000000000 02028100#0000006364100000 02108100#0CF90CF80CF80CF9");
	CHECK_EQ_INT(poll.snap.ncells, 0);
	/* the controller's contactor message is not the battery's */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "18010081#01FFFFFFFFFFFFFF", 0, false, &r), BMS_E_INVALID);
}

static void test_broken(void)
{
	static char text[2048];
	int refused = 0, n = hv_nframes(RELION_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, RELION_01);
		hv_break(text, sizeof(text), RELION_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, 1);
		CHECK_EQ_INT(rc, BMS_E_INVALID); /* a learned frame missing */
	}
	CHECK_EQ_INT(refused, n);
}

static void test_table(void)
{
	hv_table("relion-lv", 93, 250000);
	CHECK(hv_passes(0x02018100, true) && hv_passes(0x023F8100, true) && hv_passes(0x02648100, true));
	CHECK(!hv_passes(0x18010081, true) && !hv_passes(0x1873, true) && !hv_passes(0x1D0, false));
}

int main(void)
{
	test_table();
	test_vector();
	test_broken();
	return check_report();
}
