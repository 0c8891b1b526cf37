/* SPDX-License-Identifier: MIT */
/* tests/unit/test_growatt_ark_in.c - a Growatt ARK HV battery heard on its
 * Growatt inverter's CAN bus (bms/growatt_ark_in.c, bms/PROTOCOLS.md §99),
 * on GROWATT-ARK-01 of tests/fixtures/vectors.tsv: a real SPH10000's
 * heartbeat, control and time frames and a real ARK's 0x3110 (ai-republic/
 * bms-to-inverter issue #85: CVL 227.2 V, CCL 0 A, DCL 25.0 A, idle,
 * charge forbidden at SOC 100 %), the rest built from the layout with that
 * capture's stated values (213.6 V, 0 A, 24 degC, SOC and SOH 100 %) and a
 * four-module ARK 2.5H-A1's (64 cells, 50 Ah): the values; the state, the
 * sign, the forbidden marks, the fault and "unsafe" bits; the inverter's
 * frames passed over; values no battery has refused; frames a byte short
 * refused and counted; and the round trip: bmsgw's own growatt-hv-can
 * output (gateway/inverter/dialect/emu_growatt_hv_can.c) of a battery fed
 * to this reader: every value back, its fail-safe answer too. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_growatt_ark_in_driver;

#include "hv_check.h"
#include "inv_check.h"

#define GROWATT_ARK_01 "00003010#0EEF140000000000 00003020#0000000000000000 00003030#180C13171C170001 " \
	"00003110#08E0000000FA3041 00003120#0000000000000000 00003130#0858000000F06464 " \
	"00003140#1388138847540000 00003150#06C000F000400004 00003160#00000104030900DC " \
	"00003190#000D110D03000000"

/* The frames a poll needs beside the one a check is about. */
#define GA_3130 "00003130#0858000000F06464"

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, GROWATT_ARK_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 213.6, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	CHECK_NEAR(s->soc, 100, 1e-4);
	CHECK_NEAR(s->soh, 100, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 227.2, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 172.8, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 0.0, 1e-4); /* charge forbidden (and 0 A) */
	CHECK_NEAR(s->bms_dcl_a, 25.0, 1e-4);
	CHECK_EQ_INT(s->state, 0);            /* idle */
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_NEAR(s->full_ah, 50.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 50.0, 1e-4);
	CHECK(!(s->present & BMS_HAS_CYCLES)); /* 0: not counted */
	CHECK_NEAR(s->mos_temp_c, 24.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 24.0, 1e-4);
	CHECK_NEAR(s->temp_c[1], 22.0, 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 24.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 22.0, 1e-4);
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3345);
	CHECK_EQ_INT(s->ext_min_mv, 3331);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(bms_plausible(s, NULL));
}

/* One poll of text alone (a fresh pack's learning poll). */
static int one(struct bms_poll *poll, const char *text, struct drive_res *r)
{
	memset(poll, 0, sizeof(*poll));
	return hv_poll(poll, text, 0, false, r);
}

static void test_fields(void)
{
	struct bms_poll poll;
	struct drive_res r;
	/* discharging 12.3 A (0xFF85), 0x3110's state 3; charging 5.0 A, state 2 */
	CHECK_EQ_INT(one(&poll, "00003130#0858FF8500F06464 00003110#08E000FA00FA3003", &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, -12.3, 1e-4);
	CHECK_EQ_INT(poll.snap.state, 2);
	CHECK_NEAR(poll.snap.bms_ccl_a, 25.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 25.0, 1e-4);
	CHECK(isnan(poll.snap.bms_dvl_v)); /* no 0x3150 */
	CHECK_EQ_INT(one(&poll, "00003130#0858003200F06464 00003110#08E000FA00FA3002", &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, 5.0, 1e-4);
	CHECK_EQ_INT(poll.snap.state, 1);
	/* discharge forbidden: DCL 0 whatever the field says; the fault bit
	 * and the SOH's "unsafe" flag: an alarm, the SOH without the flag */
	CHECK_EQ_INT(one(&poll, "00003130#0858000000F064E2 00003110#08E000FA00FA3025", &r), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 25.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 0.0, 1e-4);
	CHECK_NEAR(poll.snap.soh, 98, 1e-4);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(one(&poll, "00003130#0858000000F064E2", &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	/* 0x3120 kept raw; 0x3140's cycles; 0x3190's 0 and 0: no cells;
	 * the hottest alone: one sensor */
	CHECK_EQ_INT(one(&poll, GA_3130 " 00003120#0001000200030004 00003140#0FA0138847540123 "
				    "00003190#0000000000000000", &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.nraw, 4);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 1);
	CHECK_EQ_INT(poll.snap.raw_alarms[3], 4);
	CHECK_EQ_INT(poll.snap.cycles, 0x123);
	CHECK_NEAR(poll.snap.remain_ah, 40.0, 1e-4);
	CHECK(!(poll.snap.present & BMS_HAS_CELL_EXT));
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 24.0, 1e-4);
	/* below 0 degC: the coldest s16 */
	CHECK_EQ_INT(one(&poll, GA_3130 " 00003160#000001040309FF9C", &r), BMS_OK);
	CHECK_NEAR(poll.snap.temp_c[1], -10.0, 1e-4);
	/* the inverter's frames alone: no sample; a standard 0x3130 is not the battery's */
	CHECK_EQ_INT(one(&poll, "00003010#0EEF140000000000 00003020#0000000000000000 00003030#180C13171C170001", &r),
		     BMS_E_INVALID);
	CHECK_EQ_INT(one(&poll, "130#0858000000F06464", &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.badsum, 0);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"00003130#0858000000F06564",          /* SOC 101 % */
		"00003130#0858000000F06465",          /* SOH 101 % */
		GA_3130 " 00003110#2711000000FA3041", /* CVL 1000.1 V */
		GA_3130 " 00003110#08E0800000FA3041", /* CCL 0x8000: negative, or over 3276.7 A */
		GA_3130 " 00003110#08E0000080003041", /* DCL 0x8000 */
		GA_3130 " 00003140#1389138847540000", /* more remaining than full */
		GA_3130 " 00003190#000D030D11000000", /* the lowest cell above the highest */
		GA_3130 " 00003190#000D1101F3000000", /* a lowest cell of 499 mV */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bms_poll poll;
		struct drive_res r;
		CHECK_EQ_INT(one(&poll, bad[i], &r), BMS_E_INVALID);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* across two frames, once the poll is whole: the DVL not below the
	 * CVL, the coldest above the hottest */
	static const char *const bad2[] = {
		GA_3130 " 00003110#08E0000000FA3041 00003150#08E000F000400004",
		GA_3130 " 00003160#00000104030900F1",
	};
	for (size_t i = 0; i < sizeof(bad2) / sizeof(bad2[0]); i++) {
		struct bms_poll poll;
		struct drive_res r;
		CHECK_EQ_INT(one(&poll, bad2[i], &r), BMS_E_INVALID);
		CHECK_EQ_INT(r.err, 0); /* each frame on its own a battery's */
	}
}

static void test_broken(void)
{
	static char text[2048];
	int refused = 0, n = hv_nframes(GROWATT_ARK_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, GROWATT_ARK_01);
		hv_break(text, sizeof(text), GROWATT_ARK_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		bool ours = k >= 3; /* the battery's; not the inverter's three */
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, ours ? 1 : 0);
		CHECK_EQ_INT(rc, ours ? BMS_E_INVALID : BMS_OK); /* a learned frame missing */
	}
	CHECK_EQ_INT(refused, 7);
}

static size_t encode(const struct inv_battery *b, uint8_t *out, size_t cap)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	int nf = inv_can_encode(&inv_codec_growatt_hv_can, b, 0, f, INV_CAN_MAX_FRAMES, NULL);
	size_t o = 0;
	for (int i = 0; i < nf; i++)
		o += bms_can_record(out + o, cap - o, f[i].id, f[i].ext, false, f[i].dlc, f[i].data);
	return o;
}

/* One poll of the records rec[0..n): whole at the second (the first learns). */
static void feed(struct bms_poll *poll, const uint8_t *rec, size_t n, int want_ok)
{
	struct bms_rx rx;
	drive_begin(poll, &rx, 0, 0, false);
	struct drive_res r = FEED_BYTES(poll, &rx, rec, n, hv_chunks);
	CHECK_EQ_INT(r.badsum, 0);
	CHECK_EQ_INT(r.ok, want_ok);
	if (!r.ok)
		CHECK(drv->timeout(poll));
	CHECK_EQ_INT(drv->finish(poll), BMS_OK);
}

static void battery(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_REMAIN | INV_HAS_CYCLES |
		     INV_HAS_MOS_TEMP;
	b->cvl_v = 420.0f, b->dvl_v = 320.0f, b->ccl_a = 30.5f, b->dcl_a = 50.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 409.6f;
	b->current = -12.3f;
	b->soc = 57.56f;
	b->soh = 98.4f;
	b->full_ah = 100;
	b->remain_ah = 57.56f;
	b->cycles = 123;
	b->temp_c = 23.7f, b->temp_max_c = 25.3f, b->temp_min_c = 22.1f;
	b->mos_temp_c = 31.2f;
	b->cell_max_mv = 3345, b->cell_min_mv = 3321;
	b->cell_max_at = (struct inv_where){ 3, 7 };
	b->cell_min_at = (struct inv_where){ 1, 12 };
	b->total_cells = 128;
}

static void test_round_trip(void)
{
	struct inv_battery b;
	battery(&b);
	static uint8_t rec[4096];
	size_t n = encode(&b, rec, sizeof(rec));
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	feed(&poll, rec, n, 0);
	feed(&poll, rec, n, 1);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 409.6, 1e-3);
	CHECK_NEAR(s->current, -12.3, 1e-3);
	CHECK_EQ_INT(s->state, 2); /* discharging */
	CHECK_NEAR(s->soc, 57, 1e-3); /* whole per cent, down */
	CHECK_NEAR(s->soh, 98, 1e-3);
	CHECK_NEAR(s->bms_cvl_v, 420.0, 1e-3);
	CHECK_NEAR(s->bms_dvl_v, 320.0, 1e-3);
	CHECK_NEAR(s->bms_ccl_a, 30.5, 1e-3);
	CHECK_NEAR(s->bms_dcl_a, 50.0, 1e-3);
	CHECK_NEAR(s->full_ah, 100.0, 1e-3);
	CHECK_NEAR(s->remain_ah, 57.56, 0.011); /* 10 mAh, down */
	CHECK_EQ_INT(s->cycles, 123);
	CHECK_NEAR(s->mos_temp_c, 31.2, 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 25.3, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 22.1, 1e-4);
	CHECK_EQ_INT(s->ext_max_mv, 3345);
	CHECK_EQ_INT(s->ext_min_mv, 3321);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(bms_plausible(s, NULL));
	/* SOC 100 %: the output marks charge forbidden, the reader's CCL 0 */
	b.soc = 100.0f;
	b.current = 2.0f;
	n = encode(&b, rec, sizeof(rec));
	feed(&poll, rec, n, 1);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 50.0, 1e-4);
	CHECK_EQ_INT(poll.snap.state, 1);
	/* bmsgw's fail-safe answer (a stale source): CCL = DCL = 0, the CVL kept */
	battery(&b);
	b.failsafe = true;
	b.charge_allowed = b.discharge_allowed = false;
	n = encode(&b, rec, sizeof(rec));
	feed(&poll, rec, n, 1);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_cvl_v, 420.0, 1e-3);
}

static void test_table(void)
{
	hv_table("growatt-ark-in", 94, 500000);
	CHECK(hv_passes(0x3130, true) && hv_passes(0x3F00, true) && hv_passes(0x3010, true));
	CHECK(!hv_passes(0x1873, true) && !hv_passes(0x4210, true) && !hv_passes(0x311, false));
}

int main(void)
{
	test_table();
	test_vector();
	test_fields();
	test_refused();
	test_broken();
	test_round_trip();
	return check_report();
}
