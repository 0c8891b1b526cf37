/* SPDX-License-Identifier: MIT */
/* tests/unit/test_byd_hvs_in.c - a BYD Battery-Box Premium HVS / HVM heard
 * on its inverter's CAN bus (bms/byd_hvs_in.c, bms/PROTOCOLS.md §96), on
 * BYDHVS-01 of tests/fixtures/vectors.tsv (SunshadeCorp/can-service's
 * emulator defaults, written from a real HVS's recording, and a GoodWe's
 * 0x151): 212.1 V, 0.0 A, SOC 97.40 %, SOH 100.00 %, 24.3 of 25.0 Ah, the
 * limits (233.6 / 160.0 V, 25.6 / 25.6 A), 19.0 / 18.0 degC; the
 * inverter's frames, 0x190 and the identification passed over; a current
 * + = charging; values no battery has refused (SOC, SOH, the limits, the
 * temperatures, more remaining than full); a poll without 0x210 with
 * 0x1D0's temperature; frames a byte short refused and counted; and the
 * round trip: bmsgw's own byd-hvs-can output (gateway/inverter/dialect/
 * emu_byd_hvs_can.c) of a battery fed to this reader: every value back. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_byd_hvs_in_driver;

#include "hv_check.h"
#include "inv_check.h"

#define BYDHVS_01 "151#00474F4F44574500 110#0920064001000100 150#260C271000F300FA 1D0#0849000000B40308 " \
	"210#00BE00B400000000 190#0000030000000000 250#0316006600330209"

static void test_vector(void)
{
	struct bms_poll poll;
	struct drive_res r;
	hv_two_polls(&poll, BYDHVS_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 212.1, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	CHECK_NEAR(s->soc, 97.4, 1e-4);
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 24.3, 1e-4);
	CHECK_NEAR(s->full_ah, 25.0, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 233.6, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 160.0, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 25.6, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 25.6, 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 19.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 18.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(!(s->present & (BMS_HAS_CELLS | BMS_HAS_CELL_EXT)));
	CHECK(bms_plausible(s, NULL));
	/* charging 12.5 A (0x007D), discharging 30.0 A (0xFED4) */
	CHECK_EQ_INT(hv_poll(&poll, "1D0#0849007D00B40308 110#0920064001000100 150#260C271000F300FA "
				    "210#00BE00B400000000", 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, 12.5, 1e-4);
	CHECK_EQ_INT(hv_poll(&poll, "1D0#0849FED400B40308 110#0920064001000100 150#260C271000F300FA "
				    "210#00BE00B400000000", 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, -30.0, 1e-4);
	/* values no battery has: the poll refused */
	static const char *const bad[] = {
		"150#2711271000F300FA", /* SOC 100.01 % */
		"150#260C271100F300FA", /* SOH 100.01 % */
		"150#260C271000FB00FA", /* 25.1 of 25.0 Ah */
		"110#0640092001000100", /* CVL 160.0 under DVL 233.6 V */
		"110#09200640FF000100", /* a negative DCL */
		"210#00B400BE00000000", /* the lowest above the highest */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static char text[512];
		snprintf(text, sizeof(text), "1D0#0849000000B40308 %s", bad[i]);
		memset(&poll, 0, sizeof(poll));
		CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* without 0x210 (and 0x150's capacities 0: not given): 0x1D0's 18.0 degC the one sensor */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "1D0#0849000000B40308 150#260C000000000000", 0, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 18.0, 1e-4);
	CHECK(!(poll.snap.present & (BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_SOH)));
	/* the inverter's frames alone: no sample */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "151#00474F4F44574500 091#0849000000B40000", 0, false, &r), BMS_E_INVALID);
}

static void test_broken(void)
{
	static char text[2048];
	int refused = 0, n = hv_nframes(BYDHVS_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, BYDHVS_01);
		hv_break(text, sizeof(text), BYDHVS_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		bool ours = k >= 1 && k <= 4; /* 0x110, 0x150, 0x1D0, 0x210 */
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, ours ? 1 : 0);
		CHECK_EQ_INT(rc, ours ? BMS_E_INVALID : BMS_OK); /* a learned frame missing */
	}
	CHECK_EQ_INT(refused, 4);
}

static void test_round_trip(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	memset(&b, 0, sizeof(b));
	b.present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		    INV_HAS_TEMP_MINMAX | INV_HAS_REMAIN | INV_HAS_FULL;
	b.cvl_v = 350.4f, b.dvl_v = 288.0f, b.ccl_a = 30.5f, b.dcl_a = 50.0f;
	b.charge_allowed = b.discharge_allowed = true;
	b.soc = 64.25f;
	b.soh = 97;
	b.remain_ah = 32.1f;
	b.full_ah = 50.0f;
	b.voltage = 320.7f;
	b.current = -12.3f;
	b.temp_c = 22.5f;
	b.temp_max_c = 24.0f;
	b.temp_min_c = 21.0f;
	int nf = inv_can_encode(&inv_codec_byd_hvs_can, &b, 0, f, INV_CAN_MAX_FRAMES, NULL);
	CHECK_EQ_INT(nf, 5);
	static uint8_t rec[2048];
	size_t n = 0;
	for (int i = 0; i < nf; i++)
		n += bms_can_record(rec + n, sizeof(rec) - n, f[i].id, f[i].ext, false, f[i].dlc, f[i].data);
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	for (int k = 0; k < 2; k++) {
		struct bms_rx rx;
		drive_begin(&poll, &rx, 0, 0, false);
		struct drive_res r = FEED_BYTES(&poll, &rx, rec, n, hv_chunks);
		CHECK_EQ_INT(r.badsum, 0);
		CHECK_EQ_INT(r.ok, k); /* the second poll whole */
		if (!r.ok)
			CHECK(drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 320.7, 1e-3);
	CHECK_NEAR(s->current, -12.3, 1e-3);
	CHECK_NEAR(s->soc, 64.25, 1e-3);
	CHECK_NEAR(s->soh, 97.0, 1e-3);
	CHECK_NEAR(s->remain_ah, 32.1, 1e-3);
	CHECK_NEAR(s->full_ah, 50.0, 1e-3);
	CHECK_NEAR(s->bms_cvl_v, 350.4, 1e-3);
	CHECK_NEAR(s->bms_dvl_v, 288.0, 1e-3);
	CHECK_NEAR(s->bms_ccl_a, 30.5, 1e-3);
	CHECK_NEAR(s->bms_dcl_a, 50.0, 1e-3);
	CHECK_NEAR(s->ext_tmax_c, 24.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 21.0, 1e-4);
	CHECK(bms_plausible(s, NULL));
	/* a stale source: bmsgw's fail-safe 0x110 (both currents 0 A, the CVL kept) read back */
	b.charge_allowed = b.discharge_allowed = false;
	nf = inv_can_encode(&inv_codec_byd_hvs_can, &b, 0, f, INV_CAN_MAX_FRAMES, NULL);
	n = 0;
	for (int i = 0; i < nf; i++)
		n += bms_can_record(rec + n, sizeof(rec) - n, f[i].id, f[i].ext, false, f[i].dlc, f[i].data);
	struct bms_rx rx;
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = FEED_BYTES(&poll, &rx, rec, n, hv_chunks);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_cvl_v, 350.4, 1e-3);
}

static void test_table(void)
{
	hv_table("byd-hvs-in", 91, 500000);
	CHECK(hv_passes(0x1D0, false) && hv_passes(0x110, false));
	CHECK(!hv_passes(0x1872, true));
	CHECK(drv->default_timeout >= 11.0); /* the 10 s frames */
}

int main(void)
{
	test_table();
	test_vector();
	test_broken();
	test_round_trip();
	return check_report();
}
