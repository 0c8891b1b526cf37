/* SPDX-License-Identifier: MIT */
/* tests/unit/test_zoe2.c - a Renault Zoe ZE50 pack read listen only
 * (bms/zoe2.c, bms/PROTOCOLS.md §88), on ZOE2-01 of
 * tests/fixtures/vectors.tsv (built from Battery-Emulator's
 * RENAULT-ZOE-GEN2-BATTERY layouts: no recording is public): a tester's
 * UDS requests and the LBC's single-frame answers (current -12.5 A, SOC
 * 85.50 %, SOH 94.00 %, 18.0 / 21.5 degC, cell 1 passed over), a
 * multi-frame answer passed over, then 0x0F8 370.0 V, 0x4DB 3860 / 3840
 * mV, 0x36C with its CRC; a first poll that learns, a second whole at
 * 0x36C; every frame cut in turn (0x0F8, 0x4DB, 0x36C and the first frame
 * refused and counted), 0x36C with a wrong CRC refused, answers whose
 * length is not their layout's refused, a consecutive frame out of turn
 * passed over, a refusal (7F) passed over; without answers no current,
 * SOC, SOH nor temperature; a voltage out of the 96 cells' extremes (a
 * start-up frame) and an SOC over 100 % refuse the poll; the interlock
 * open is an alarm. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_zoe2_driver;

#include "hv_check.h"

#define ZOE2_01 "18DADBF1#0322925D00000000 18DAF1DB#0562925D7DF00000 18DADBF1#0322900100000000 " \
	"18DAF1DB#0562900121660000 18DADBF1#0322900300000000 18DAF1DB#0562900324B80000 " \
	"18DADBF1#0322901300000000 18DAF1DB#0562901303A00000 18DADBF1#0322901400000000 " \
	"18DAF1DB#0562901403D80000 18DADBF1#0322902100000000 18DAF1DB#056290210F6A0000 " \
	"18DADBF1#0322912B00000000 18DAF1DB#100F62912B000000 18DADBF1#3000000000000000 " \
	"18DAF1DB#2100000000000000 18DAF1DB#2200000000000000 0F8#FFFE73A000000000 4DB#B2CB18 " \
	"36C#0B40A0002C0F001F"

#define BCAST "0F8#FFFE73A000000000 4DB#B2CB18 36C#0B40A0002C0F001F"

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, ZOE2_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 370.0, 1e-4);
	CHECK_NEAR(s->current, -12.5, 1e-4);
	CHECK_NEAR(s->soc, 85.5, 1e-3);
	CHECK_NEAR(s->soh, 94.0, 1e-3);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(!(s->present & BMS_HAS_CELLS));
	CHECK_EQ_INT(s->ext_max_mv, 3860);
	CHECK_EQ_INT(s->ext_min_mv, 3840);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 21.5, 1e-4); /* sensor 1 the highest */
	CHECK_NEAR(s->temp_c[1], 18.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 18.0, 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 21.5, 1e-4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->raw_alarms[0], 0xFFFE);
	CHECK(bms_plausible(s, NULL));
}

static void test_broken(void)
{
	static char text[8192];
	int n = hv_nframes(ZOE2_01), refused = 0;
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, ZOE2_01);
		hv_break(text, sizeof(text), ZOE2_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		if (k >= n - 3)
			CHECK_EQ_INT(rc, BMS_E_INVALID); /* 0x0F8, 0x4DB, 0x36C cut: a slot refused, no poll */
		else
			CHECK_EQ_INT(rc, BMS_OK); /* an answer cut: a single frame's padding, or the one not read */
		if (k == 13)
			CHECK_EQ_INT(r.badsum, 1); /* the first frame of 7 bytes */
	}
	CHECK_EQ_INT(refused, 4);
	/* 0x36C whose CRC fails (b7's low bit): refused, counted */
	struct bms_poll poll;
	struct drive_res r;
	hv_two_polls(&poll, ZOE2_01);
	hv_break(text, sizeof(text), BCAST, 2, 0);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.badsum, 1);
	/* answers of a DID read whose length is not 5, a single frame longer
	 * than its frame, a flow control from the LBC: refused, counted, their
	 * values none */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll,
			     "18DAF1DB#0662900121660000 18DAF1DB#0462925D7D000000 18DAF1DB#0562900324 "
			     "18DAF1DB#3000000000000000 " BCAST,
			     0, false, &r),
		     BMS_OK);
	CHECK_EQ_INT(r.badsum, 4);
	CHECK(!(poll.snap.present & (BMS_HAS_SOC | BMS_HAS_CURRENT | BMS_HAS_SOH)));
	/* a consecutive frame out of turn, a refusal 7F 22 31, another
	 * service's answer: passed over, the single frame after them read */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll,
			     "18DAF1DB#100F62912B000000 18DAF1DB#2200000000000000 18DAF1DB#037F223100000000 "
			     "18DAF1DB#0250030000000000 18DAF1DB#0562925D7F800000 " BCAST,
			     0, false, &r),
		     BMS_OK);
	CHECK_EQ_INT(r.badsum, 0);
	CHECK_NEAR(poll.snap.current, 0.0, 1e-4);
	CHECK(poll.snap.present & BMS_HAS_CURRENT);
}

static void test_values(void)
{
	struct bms_poll poll;
	struct drive_res r;
	/* no tester: the broadcast alone, voltage and extremes, no current
	 * (no SOC can be counted), SOC, SOH nor temperature */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, BCAST, 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 370.0, 1e-4);
	CHECK(!(poll.snap.present & (BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS)));
	/* 0x4DB missing: no poll */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "0F8#FFFE73A000000000 36C#0B40A0002C0F001F", 0, false, &r), BMS_E_INVALID);
	/* a start-up frame: 0x0F8 at 100.0 V against cells of 3840..3860 mV */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "0F8#FFFE1F4000000000 4DB#B2CB18", 0, false, &r), BMS_E_INVALID);
	/* SOC 100.01 % refused */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "18DAF1DB#0562900127110000 " BCAST, 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* +20 A charging (raw 33280); the interlock open: an alarm */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "18DAF1DB#0562925D82000000 0F8#000073A000000000 4DB#B2CB18", 0, false, &r),
		     BMS_OK);
	CHECK_NEAR(poll.snap.current, 20.0, 1e-4);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_HW_FAULT);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0);
	/* the highest temperature alone: one sensor */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "18DAF1DB#0562901403D80000 " BCAST, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 21.5, 1e-4);
}

static void test_table(void)
{
	hv_table("zoe2", 83, 500000);
	CHECK(hv_passes(0x0F8, false) && hv_passes(0x4DB, false) && hv_passes(0x36C, false));
	CHECK(hv_passes(0x18DAF1DB, true));
	CHECK(!hv_passes(0x18DADBF1, true)); /* the tester's requests */
	CHECK(!drv->next_request);
}

int main(void)
{
	test_table();
	test_vector();
	test_broken();
	test_values();
	return check_report();
}
