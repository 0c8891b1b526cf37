/* SPDX-License-Identifier: MIT */
/* tests/unit/test_mach_e.c - a Ford Mustang Mach-E pack read listen only
 * (bms/mach_e.c, bms/PROTOCOLS.md §92), on MACHE-01 of
 * tests/fixtures/vectors.tsv (built from Battery-Emulator's layouts):
 * 350.0 V, +12.0 A (0x07B's raw -60: + = discharging on the wire), SOC
 * 55.00 %, the 96 cells of 0x490-0x4A3 (12 bits + 1000 mV), six sensors
 * of 25 degC; 0xFFE none (a 94-cell pack: cells 95 and 96 none); every
 * frame a byte short in turn (dropped, counted, the poll failed); an SOC
 * over 100 % refused. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_mach_e_driver;

#include "hv_check.h"

#define MACHE_01 "07A#000002BC00000000 07B#FFC4000000000000 24C#000000157C000000 490#A5AA5FA64A5EA630 491#A5DA62A5CA61A5B0 " \
	"492#A60A5AA5FA64A5E0 493#A63A5DA62A5CA610 494#A5BA60A5AA5FA640 495#A5EA63A5DA62A5C0 496#A61A5BA60A5AA5F0 " \
	"497#A64A5EA63A5DA620 498#A5CA61A5BA60A5A0 499#A5FA64A5EA63A5D0 49A#A62A5CA61A5BA600 49B#A5AA5FA64A5EA630 " \
	"49C#A5DA62A5CA61A5B0 49D#A60A5AA5FA64A5E0 49E#A63A5DA62A5CA610 49F#A5BA60A5AA5FA640 4A0#A5EA63A5DA62A5C0 " \
	"4A1#A61A5BA60A5AA5F0 4A2#A64A5EA63A5DA620 4A3#A5C0484848484848"

static const uint16_t want[96] = { 3650, 3655, 3660, 3654, 3659, 3653, 3658, 3652, 3657, 3651, 3656, 3650,
				   3655, 3660, 3654, 3659, 3653, 3658, 3652, 3657, 3651, 3656, 3650, 3655,
				   3660, 3654, 3659, 3653, 3658, 3652, 3657, 3651, 3656, 3650, 3655, 3660,
				   3654, 3659, 3653, 3658, 3652, 3657, 3651, 3656, 3650, 3655, 3660, 3654,
				   3659, 3653, 3658, 3652, 3657, 3651, 3656, 3650, 3655, 3660, 3654, 3659,
				   3653, 3658, 3652, 3657, 3651, 3656, 3650, 3655, 3660, 3654, 3659, 3653,
				   3658, 3652, 3657, 3651, 3656, 3650, 3655, 3660, 3654, 3659, 3653, 3658,
				   3652, 3657, 3651, 3656, 3650, 3655, 3660, 3654, 3659, 3653, 3658, 3652 };

static void test_vector(void)
{
	struct bms_poll poll;
	struct drive_res r;
	hv_two_polls(&poll, MACHE_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 350.0, 1e-3);
	CHECK_NEAR(s->current, 12.0, 1e-4);
	CHECK_NEAR(s->soc, 55.0, 1e-4);
	CHECK_EQ_INT(s->ncells, 96);
	for (int i = 0; i < 96; i++)
		CHECK_EQ_INT(s->cell_mv[i], want[i]);
	CHECK_EQ_INT(s->ntemps, 6);
	CHECK_NEAR(s->temp_c[5], 25, 1e-4);
	CHECK(bms_plausible(s, NULL));
	/* a 94-cell pack: 0x4A2's last and 0x4A3's cell none */
	static char text[4096];
	snprintf(text, sizeof(text), "%s", MACHE_01);
	char *a = strstr(text, "4A2#A64A5EA63A5DA620"), *b = strstr(text, "4A3#A5C0");
	memcpy(a + 4 + 12, "FFEF", 4); /* cell 95 (0xFFE), b6 and b7's high nibble */
	memcpy(b + 4, "FFE0", 4);
	hv_two_polls(&poll, text);
	CHECK_EQ_INT(poll.snap.ncells, 94);
	/* SOC 100.01 % */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "07A#000002BC00000000 07B#FFC4000000000000 24C#0000002711000000", 0, false, &r),
		     BMS_E_INVALID);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
}

static void test_broken(void)
{
	static char text[4096];
	int refused = 0, n = hv_nframes(MACHE_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, MACHE_01);
		hv_break(text, sizeof(text), MACHE_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, 1);
		CHECK_EQ_INT(rc, BMS_E_INVALID);
	}
	CHECK_EQ_INT(refused, n);
}

static void test_table(void)
{
	hv_table("mach-e", 87, 500000);
	CHECK(hv_passes(0x07A, false) && hv_passes(0x4A3, false));
}

int main(void)
{
	test_table();
	test_vector();
	test_broken();
	return check_report();
}
