/* SPDX-License-Identifier: MIT */
/* tests/unit/test_volvo_spa.c - a Volvo / Polestar SPA pack read listen
 * only (bms/volvo_spa.c, bms/PROTOCOLS.md §93), on VOLVO-01 of
 * tests/fixtures/vectors.tsv (built from Battery-Emulator's layouts):
 * 375.0 V, +10.0 A (-100 on the wire, + = discharging there), SOC 50.0 %,
 * the BMS's highest and lowest cell 3800 and 3780 mV, 20 and 25 degC; a
 * validity bit clear: that field none (the voltage's: the frame waits
 * for the next); the HV relays closed, open; a DC relay's fault; frames a
 * byte short dropped whole and counted; negative temperatures (13-bit
 * signed). */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_volvo_spa_driver;

#include "hv_check.h"

#define VOLVO_01 "03A#0DDC00000000BF98 413#20DC00FA00C80000 37D#477A017C000001F4"

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, VOLVO_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 375.0, 1e-4);
	CHECK_NEAR(s->current, 10.0, 1e-4);
	CHECK_NEAR(s->soc, 50.0, 1e-4);
	CHECK_EQ_INT(s->ext_max_mv, 3800);
	CHECK_EQ_INT(s->ext_min_mv, 3780);
	CHECK_NEAR(s->ext_tmax_c, 25.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 20.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK(!(s->present & BMS_HAS_MOSFETS)); /* the relays' bit not valid */
	CHECK(bms_plausible(s, NULL));
}

static void test_validity(void)
{
	struct bms_poll poll;
	struct drive_res r;
	/* the voltage not valid first (0x05DC, bit 3 clear), then valid; the
	 * relays valid and closed (0x50), a DC relay valid (b2 0x40) in fault (3) */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "03A#05DC00000000BF98 03A#5DDC70000000BF98", 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 375.0, 1e-4);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK(poll.snap.alarms & BMS_AL_MOS_FAULT);
	/* SOC not valid, the cells' not valid: none of them */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "03A#0DDC00000000BF98 37D#007A017C000001F4", 0, false, &r), BMS_OK);
	CHECK(!(poll.snap.present & (BMS_HAS_SOC | BMS_HAS_CELL_EXT)));
	/* -5.0 and -12.3 degC */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "03A#0DDC00000000BF98 413#20001FCE1F850000", 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.ext_tmax_c, -5.0, 1e-4);
	CHECK_NEAR(poll.snap.ext_tmin_c, -12.3, 1e-4);
	/* an SOC over 100 %: refused */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "03A#0DDC00000000BF98 37D#40000000000003E9", 0, false, &r), BMS_E_INVALID);
}

static void test_broken(void)
{
	static char text[1024];
	int refused = 0;
	for (int k = 0; k < 3; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, VOLVO_01);
		hv_break(text, sizeof(text), VOLVO_01, k, 1);
		CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
		refused += r.badsum;
	}
	CHECK_EQ_INT(refused, 3);
}

static void test_table(void)
{
	hv_table("volvo-spa", 88, 500000);
	CHECK(hv_passes(0x03A, false) && hv_passes(0x37D, false));
}

int main(void)
{
	test_table();
	test_vector();
	test_validity();
	test_broken();
	return check_report();
}
