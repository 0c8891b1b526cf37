/* SPDX-License-Identifier: MIT */
/* tests/unit/test_mg_zs.c - an MG ZS EV (gen 1) pack read listen only
 * (bms/mg_zs.c, bms/PROTOCOLS.md §89), on MG-01 of
 * tests/fixtures/vectors.tsv (Battery-Emulator's 37_MgGen1_ov_cov: its
 * 460 V 0x3AC and its 5 V-cell 0x173): 460.0 V, +4.0 A, SOC 36.7 %, the
 * BMS's own highest and lowest cell 5000 and 3608 mV; MG-02 (its
 * 37_MgGen1_base): 0x3AC, 0x173, 0x2A2, 0x171, 0x172, 0x295; the second
 * bus's copy of 0x3AC (its SOC alone) taken without a voltage; 0x297's
 * states; frames a byte short refused and counted; an SOC of 1022 and
 * above not available, 1001 refused; 0x2A2's 0xFE / 0xFF none. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>

static const struct bms_driver *const drv = &bms_mg_zs_driver;

#include "hv_check.h"

#define MG_01 "3AC#01D4016F07304DD0 173#0000C8C313880E18"
#define MG_02 "295#D51D0001A64E2001 171#0034B5754D0378C2 172#3BE0D23F20DD0000 173#0000C8C80E2D0E29 " \
	"2A2#787704C74076006A 3AC#01A6012F051D4E20"

static void test_vectors(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, MG_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 460.0, 1e-4);
	CHECK_NEAR(s->current, 4.0, 1e-4);
	CHECK_NEAR(s->soc, 36.7, 1e-4);
	CHECK_EQ_INT(s->ext_max_mv, 5000);
	CHECK_EQ_INT(s->ext_min_mv, 3608);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(bms_plausible(s, NULL));
	hv_two_polls(&poll, MG_02);
	CHECK_NEAR(s->voltage, 327.25, 1e-4); /* 0x51D x 0.25 */
	CHECK_NEAR(s->current, 0.0, 1e-4);    /* 0x4E20: 20000 */
	CHECK_NEAR(s->soc, 30.3, 1e-4);
	CHECK_EQ_INT(s->ext_max_mv, 3629);
	CHECK_EQ_INT(s->ext_min_mv, 3625);
	CHECK_NEAR(s->ext_tmax_c, 0x78 * 256 / 500.0 - 40, 1e-3);
	CHECK_NEAR(s->ext_tmin_c, 0x76 * 256 / 500.0 - 40, 1e-3);
}

static void test_values(void)
{
	struct bms_poll poll;
	struct drive_res r;
	/* the second bus's copy first (its SOC alone), then the first bus's */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "3AC#0000015000000000 3AC#01A6012F051D4E20", 0, false, &r), BMS_OK);
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "3AC#0000015000000000", 0, false, &r), BMS_E_INVALID); /* no voltage */
	/* SOC 1023: not available, the rest taken; 1001 refused */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "3AC#000003FF051D4E20", 0, false, &r), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_SOC));
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "3AC#000003E9051D4E20", 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* 0x2A2 none; 0x297 connected, then a fault */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "3AC#01A6012F051D4E20 2A2#FE00000000FF0000 297#0003000000000000", 0, false,
			     &r),
		     BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_TEMP_EXT));
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.alarms, 0);
	CHECK_EQ_INT(hv_poll(&poll, "3AC#01A6012F051D4E20 2A2#787704C74076006A 297#000F000000000000", 0, false, &r),
		     BMS_OK);
	CHECK(!poll.snap.chg_mos);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_PROTECTION);
	/* a lowest cell over the highest: refused */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "3AC#01A6012F051D4E20 173#0000C8C80E2D0E30", 0, false, &r), BMS_E_INVALID);
}

static void test_broken(void)
{
	static char text[4096];
	int refused = 0;
	for (int k = 0; k < hv_nframes(MG_02); k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, MG_02);
		hv_break(text, sizeof(text), MG_02, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		/* 0x173, 0x2A2, 0x3AC are read (learned: their loss fails the poll) */
		CHECK_EQ_INT(rc, (k == 3 || k == 4 || k == 5) ? BMS_E_INVALID : BMS_OK);
	}
	CHECK_EQ_INT(refused, 3);
}

static void test_table(void)
{
	hv_table("mg-zs", 84, 500000);
	CHECK(hv_passes(0x3AC, false) && hv_passes(0x173, false));
}

int main(void)
{
	test_table();
	test_vectors();
	test_values();
	test_broken();
	return check_report();
}
