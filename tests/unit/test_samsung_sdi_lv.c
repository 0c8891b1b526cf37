/* SPDX-License-Identifier: MIT */
/* tests/unit/test_samsung_sdi_lv.c - a Samsung SDI low-voltage (48 V)
 * battery rack heard on its CAN bus (bms/samsung_sdi_lv.c,
 * bms/PROTOCOLS.md §100), on SDI-01 of tests/fixtures/vectors.tsv (frames
 * built from the layout, low byte first: no recording is public): 52.36 V,
 * -12 A (discharging), SOC 62 %, SOH 98 %, the limits (58.1 / 44.8 V,
 * 47.0 / 94.0 A), the BMS's highest and lowest cell 3745 / 3733 mV, 26 /
 * 23 degC, no alarm; the sign (+ = charging on this bus); the words of
 * 0x501 and 0x505 raw and as alarms; a negative temperature (s8); values
 * no battery has refused; the same frames high byte first (Battery-
 * Emulator's reading) refused, never shown; frames a byte short refused
 * and counted; another family's frames passed over. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_samsung_sdi_lv_driver;

#include "hv_check.h"

#define SDI_01 "500#7414F4FF3E620700 501#0000000001010000 502#4502D601AC03C001 503#9C0EA10E950E7414 " \
	"504#74147414181A1700 505#0000000000000000"
#define SDI_500 "500#7414F4FF3E620700 "

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, SDI_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 52.36, 1e-4);
	CHECK_NEAR(s->current, -12.0, 1e-4);
	CHECK_NEAR(s->soc, 62, 1e-4);
	CHECK_NEAR(s->soh, 98, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 58.1, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 44.8, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 47.0, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 94.0, 1e-4);
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3745);
	CHECK_EQ_INT(s->ext_min_mv, 3733);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(!(s->present & BMS_HAS_CELLS));
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 26, 1e-4);
	CHECK_NEAR(s->temp_c[1], 23, 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 26, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 23, 1e-4);
	CHECK_EQ_INT(s->nraw, 3);
	CHECK_EQ_INT(s->raw_alarms[0] | s->raw_alarms[1] | s->raw_alarms[2], 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(bms_plausible(s, NULL));
	CHECK(bms_probe_plausible(s, NULL, 0)); /* --detect: a low-voltage battery's range */
}

static void test_values(void)
{
	struct bms_poll poll;
	struct drive_res r;
	/* charging 25 A (0x0019): + on this bus as in bmsgw */
	hv_two_polls(&poll, "500#7414190040620700");
	CHECK_NEAR(poll.snap.current, 25.0, 1e-4);
	CHECK_NEAR(poll.snap.soc, 64, 1e-4);
	CHECK(!(poll.snap.present & (BMS_HAS_TEMPS | BMS_HAS_CELL_EXT | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS)));
	/* SOH 0: not given */
	hv_two_polls(&poll, "500#7414190040000700");
	CHECK(!(poll.snap.present & BMS_HAS_SOH));
	/* the alarm word 0x0081, the protection word 0x0004, a fuse open: raw and as alarms */
	hv_two_polls(&poll, SDI_500 "501#8100040001000100 505#0000000100000000");
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x0081);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x0004);
	CHECK_EQ_INT(poll.snap.raw_alarms[2], 0x0001);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER | BMS_AL_PROTECTION | BMS_AL_HW_FAULT);
	/* the dry contact alone */
	hv_two_polls(&poll, SDI_500 "505#0000010000000000");
	CHECK_EQ_INT(poll.snap.raw_alarms[2], 0x0100);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_HW_FAULT);
	/* below freezing: -5 and -12 degC (0xFB, 0xF4) */
	hv_two_polls(&poll, SDI_500 "504#7414741400FBF400");
	CHECK_NEAR(poll.snap.ext_tmax_c, -5, 1e-4);
	CHECK_NEAR(poll.snap.ext_tmin_c, -12, 1e-4);
	/* a current limit of 0 A: a limit, no charge */
	hv_two_polls(&poll, SDI_500 "502#45020000AC03C001");
	CHECK(poll.snap.present & BMS_HAS_CUR_LIMITS);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0.0, 1e-4);
	/* values no battery has: the poll refused */
	static const char *const bad[] = {
		"500#591BF4FF3E620700", /* 70.01 V: no 48 V battery */
		"500#7414F4FF65620700", /* SOC 101 % */
		"500#7414F4FF3E650700", /* SOH 101 % */
		"502#C001D601AC034502", /* CVL 44.8 under DVL 58.1 V */
		"502#BD02D601AC03C001", /* CVL 70.1 V */
		"503#9C0E950EA10E7414", /* the lowest cell above the highest */
		"503#9C0E8913950E7414", /* a cell of 5.001 V */
		"503#9C0EA10EF3017414", /* a cell of 0.499 V */
		"504#74147414181A1B00", /* the lowest temperature above the highest */
		/* SDI-01 high byte first (Battery-Emulator's code): 297.16 V, cells of 41.2 / 38.2 V */
		"500#1474FFF43E620007",
		"503#0E9C0EA10E951474",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static char text[512];
		snprintf(text, sizeof(text), "%s%s", bad[i][2] == '0' ? "" : SDI_500, bad[i]);
		memset(&poll, 0, sizeof(poll));
		CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* without 0x500: no sample */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "503#9C0EA10E950E7414 504#74147414181A1700", 0, false, &r), BMS_E_INVALID);
	/* another family's frames (a Pylontech's 0x351, 0x355; an extended 0x500) passed over */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "351#4502D601AC03C001 355#3E00620000000000 00000500#7414F4FF3E620700", 0, false,
			     &r),
		     BMS_E_INVALID);
	CHECK_EQ_INT(r.badsum, 0);
}

static void test_broken(void)
{
	static char text[2048];
	int refused = 0, n = hv_nframes(SDI_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, SDI_01);
		hv_break(text, sizeof(text), SDI_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, 1);
		CHECK_EQ_INT(rc, BMS_E_INVALID); /* a learned frame missing */
	}
	CHECK_EQ_INT(refused, n);
}

static void test_table(void)
{
	hv_table("samsung-sdi-lv", 95, 500000);
	CHECK(hv_passes(0x500, false) && hv_passes(0x505, false) && hv_passes(0x507, false));
	CHECK(!hv_passes(0x4FF, false) && !hv_passes(0x508, false) && !hv_passes(0x5F0, false) &&
	      !hv_passes(0x351, false));
	CHECK(!hv_passes(0x500, true) && !hv_passes(0x1873, true));
}

int main(void)
{
	test_table();
	test_vector();
	test_values();
	test_broken();
	return check_report();
}
