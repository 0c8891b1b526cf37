/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bolt.c - a Chevrolet Bolt / Opel Ampera-e pack read
 * listen only (bms/bolt.c, bms/PROTOCOLS.md §91), on BOLT-01 of
 * tests/fixtures/vectors.tsv (built from Battery-Emulator's layouts, its
 * 4_BoltAmpera_cv88 and its '355V' 0x2C7): 351.25 V, the 96 cells of the
 * four matrices (1.25 mV, rounded down), the BMS's extremes (20 mV: only
 * where the list is not whole, a learning poll's), 20
 * and 22 degC; no SOC, no current; every frame a byte short in turn:
 * dropped whole and counted, the poll failed and learned again (every
 * frame of the cycle is learned); a matrix frame missing: no list. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_bolt_driver;

#include "hv_check.h"

#define BOLT_01 "2C7#032000AFA000 200#17201736B9200000 200#173A1726B9E02000 200#172A1740B9604000 200#17441730BA306000 " \
	"200#17341720B9B08000 200#1724173AB930A000 200#173C172ABA00C000 200#172C1744B980E000 202#17461734B9000000 " \
	"202#17361724B9D02000 202#1726173CB9504000 202#1740172CBA206000 202#17301746B9A08000 202#17201736B920A000 " \
	"202#173A1726B9E0C000 202#172A1740B960E000 204#17441730BA300000 204#17341720B9B02000 204#1724173AB9304000 " \
	"204#173C172ABA006000 204#172C1744B9808000 204#17461734B900A000 204#17361724B9D0C000 204#1726173CB950E000 " \
	"206#1740172CBA200000 206#17301746B9A02000 206#17201736B9204000 206#173A1726B9E06000 206#172A1740B9608000 " \
	"206#17441730BA30A000 206#17341720B9B0C000 206#1724173AB930E000 3E3#000078007C000000 20C#00500000BAB90000"

static const uint16_t want[96] = { 3700, 3714, 3702, 3716, 3704, 3718, 3706, 3720, 3708, 3722, 3710, 3724,
				   3712, 3700, 3714, 3702, 3716, 3704, 3718, 3706, 3720, 3708, 3722, 3710,
				   3724, 3712, 3700, 3714, 3702, 3716, 3704, 3718, 3706, 3720, 3708, 3722,
				   3710, 3724, 3712, 3700, 3714, 3702, 3716, 3704, 3718, 3706, 3720, 3708,
				   3722, 3710, 3724, 3712, 3700, 3714, 3702, 3716, 3704, 3718, 3706, 3720,
				   3708, 3722, 3710, 3724, 3712, 3700, 3714, 3702, 3716, 3704, 3718, 3706,
				   3720, 3708, 3722, 3710, 3724, 3712, 3700, 3714, 3702, 3716, 3704, 3718,
				   3706, 3720, 3708, 3722, 3710, 3724, 3712, 3700, 3714, 3702, 3716, 3704 };

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, BOLT_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 351.25, 1e-3);
	CHECK(!(s->present & (BMS_HAS_CURRENT | BMS_HAS_SOC)));
	CHECK_EQ_INT(s->ncells, 96);
	for (int i = 0; i < 96; i++)
		CHECK(abs((int)s->cell_mv[i] - want[i]) <= 1);
	CHECK(!(s->present & BMS_HAS_CELL_EXT)); /* every cell: the BMS's 20 mV extremes dropped */
	struct bms_poll first;
	struct drive_res r;
	memset(&first, 0, sizeof(first));
	CHECK_EQ_INT(hv_poll(&first, BOLT_01, 0, false, &r), BMS_OK); /* a learning poll: no list, its extremes */
	CHECK_EQ_INT(first.snap.ncells, 0);
	CHECK_EQ_INT(first.snap.ext_max_mv, 3720);
	CHECK_EQ_INT(first.snap.ext_min_mv, 3700);
	CHECK_NEAR(s->ext_tmax_c, 22, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 20, 1e-4);
	CHECK(bms_plausible(s, NULL));
}

static void test_broken(void)
{
	static char text[4096];
	int refused = 0, n = hv_nframes(BOLT_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, BOLT_01);
		hv_break(text, sizeof(text), BOLT_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, 1);
		CHECK_EQ_INT(rc, BMS_E_INVALID);
		/* the next poll learns again: the cells only where whole */
		CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), k == 0 ? BMS_E_INVALID : BMS_OK);
		CHECK(poll.snap.ncells == 0 || poll.snap.ncells == 96 || k == 0);
	}
	CHECK_EQ_INT(refused, n);
}

static void test_table(void)
{
	hv_table("bolt", 86, 500000);
	CHECK(hv_passes(0x200, false) && hv_passes(0x2C7, false));
}

int main(void)
{
	test_table();
	test_vector();
	test_broken();
	return check_report();
}
