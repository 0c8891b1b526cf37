/* SPDX-License-Identifier: MIT */
/* tests/unit/test_zoe1.c - a Renault Zoe 22/41 kWh pack read listen only
 * (bms/zoe1.c, bms/PROTOCOLS.md §87), on ZOE1-01 of
 * tests/fixtures/vectors.tsv (Battery-Emulator's 28_RenaultZoe1_base_pid:
 * a DDT4ALL capture of the LBC's broadcast and its answers to a tester):
 * 370.0 V (0x42E), 0 A, SOC 84.98 %, SOH 99 %, 96 cells of 3700 mV ("61
 * 41" cells 1-62, "61 42" cells 63-96), 18..21 degC, its own extremes
 * 3700 mV; a first poll that learns, a second whole at "61 42"'s end; the
 * other answers ("61 03", "61 04", "61 07", "61 61") passed over; every
 * frame cut in turn (refused and counted: 0x155 the poll with it, the
 * rest its own value), 0x424 without its heartbeat refused; one answer
 * missing: no list; without 0x42E the voltage the cells' sum; an SOC over
 * 100 % refused; the LBC's levels as alarms. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_zoe1_driver;

#include "hv_check.h"

#define ZOE1_01 "155#0007D00084C80000 424#00003C3C3A63553D 425#00000000021C010E 427#0000000000003700 42E#0000005C80078000 " \
	"445#0000550000000000 654#0000005500000000 658#000000004E000000 659#0000000000000000 7BB#107E61410E740E74 " \
	"7BB#210E740E740E740E 7BB#22740E740E740E74 7BB#230E740E740E740E 7BB#24740E740E740E74 7BB#250E740E740E740E " \
	"7BB#26740E740E740E74 7BB#270E740E740E740E 7BB#28740E740E740E74 7BB#290E740E740E740E 7BB#2A740E740E740E74 " \
	"7BB#2B0E740E740E740E 7BB#2C740E740E740E74 7BB#2D0E740E740E740E 7BB#2E740E740E740E74 7BB#2F0E740E740E740E " \
	"7BB#20740E740E740E74 7BB#210E740E740E740E 7BB#2274555555555555 7BB#104661420E740E74 7BB#210E740E740E740E " \
	"7BB#22740E740E740E74 7BB#230E740E740E740E 7BB#24740E740E740E74 7BB#250E740E740E740E 7BB#26740E740E740E74 " \
	"7BB#270E740E740E740E 7BB#28740E740E740E74 7BB#290E740E740E740E 7BB#2A74555555555555 7BB#101D610301941F85 " \
	"7BB#2121320000000001 7BB#22950193000000FF 7BB#23FFFFFF01207B00 7BB#2400005555555555 7BB#104F610409123A09 " \
	"7BB#21113A09143A090D 7BB#223A08F63B08EE3B 7BB#2308AC3D08C03C09 7BB#24033A09113A0919 7BB#253A09143AFFFFFF " \
	"7BB#26FFFFFFFFFFFFFF 7BB#27FFFFFFFFFFFFFF 7BB#28FFFFFFFFFFFFFF 7BB#29FFFFFFFFFFFFFF 7BB#2AFFFFFFFFFFFFFF " \
	"7BB#2BFF3A3A55555555 7BB#100E6107A53C00FF 7BB#21811042800155AA 7BB#220F555555555555 7BB#10146161000A8C00 " \
	"7BB#21C8C8C8C0C00000 7BB#22BB7C000023E4FF"

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, ZOE1_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 370.0, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	CHECK_NEAR(s->soc, 84.98, 1e-3);
	CHECK_NEAR(s->soh, 99, 1e-4);
	CHECK_EQ_INT(s->ncells, 96);
	for (int i = 0; i < 96; i++)
		CHECK_EQ_INT(s->cell_mv[i], 3700);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->ext_tmax_c, 21, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 18, 1e-4);
	CHECK_EQ_INT(s->ext_max_mv, 3700);
	CHECK_EQ_INT(s->ext_min_mv, 3700);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(bms_plausible(s, NULL));
}

static void test_broken(void)
{
	static char text[8192];
	int n = hv_nframes(ZOE1_01), refused = 0;
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, ZOE1_01);
		hv_break(text, sizeof(text), ZOE1_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		if (k == 0)
			CHECK_EQ_INT(rc, BMS_E_INVALID); /* 0x155 cut: no poll */
		else if (k == 1 || k == 2 || k == 4)
			CHECK_EQ_INT(rc, BMS_E_INVALID); /* a slot learned refused: no poll, learned again */
		else
			CHECK_EQ_INT(rc, BMS_OK);
		if (rc == BMS_OK)
			CHECK(poll.snap.ncells == 96 || poll.snap.ncells == 0);
	}
	/* 0x155, 0x424, 0x425, 0x42E, the answers' first frames and their
	 * consecutive frames cut before their end */
	CHECK(refused >= 6);
	/* 0x424 without its heartbeat (b6 neither 0x55 nor 0xAA) */
	struct bms_poll poll;
	struct drive_res r;
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "155#0007D00084C80000 42E#0000005C80078000 424#00003C3C3A63563D", 0, false, &r),
		     BMS_OK);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK(!(poll.snap.present & BMS_HAS_SOH));
}

static void test_values(void)
{
	struct bms_poll poll;
	struct drive_res r;
	/* no 0x42E (a 41 kWh pack): the cells' sum, 355.2 V */
	static char text[8192];
	const char *a = strstr(ZOE1_01, "42E#");
	snprintf(text, sizeof(text), "%.*s%s", (int)(a - ZOE1_01), ZOE1_01, a + strlen("42E#0000005C80078000 "));
	hv_two_polls(&poll, text);
	CHECK_NEAR(poll.snap.voltage, 355.2, 1e-3);
	/* ... and without the answers: no voltage, no sample */
	CHECK_EQ_INT(hv_poll(&poll, "155#0007D00084C80000 424#00003C3C3A63553D 425#00000000021C010E", 0, false, &r),
		     BMS_E_INVALID);
	/* one answer only ("61 41"): no list */
	hv_two_polls(&poll, ZOE1_01);
	const char *b = strstr(ZOE1_01, "7BB#104661420E740E74");
	snprintf(text, sizeof(text), "%.*s", (int)(b - ZOE1_01), ZOE1_01);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_NEAR(poll.snap.voltage, 370.0, 1e-4);
	/* SOC 40001 (100.0025 %) refused; -12.5 A charging? (raw 1950) */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "155#00079E009C410000 42E#0000005C80078000", 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "155#00079E0084C80000 42E#0000005C80078000", 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, -12.5, 1e-4);
	/* the levels: cell under-voltage, isolation, cell over-voltage */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "155#0007D00084C80000 42E#0000005C80078000 424#0540003C3A63AA3D", 0, false, &r),
		     BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_UV | BMS_AL_HW_FAULT | BMS_AL_CELL_OV);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x4005);
}

static void test_table(void)
{
	hv_table("zoe1", 82, 500000);
	CHECK(hv_passes(0x155, false) && hv_passes(0x7BB, false) && hv_passes(0x42E, false));
}

int main(void)
{
	hv_answers = true;
	test_table();
	test_vector();
	test_broken();
	test_values();
	return check_report();
}
