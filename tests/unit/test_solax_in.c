/* SPDX-License-Identifier: MIT */
/* tests/unit/test_solax_in.c - a SolaX Triple Power (T-BAT HV) battery
 * heard on its inverter's CAN bus (bms/solax_in.c, bms/PROTOCOLS.md §97),
 * on SOLAX-01 of tests/fixtures/vectors.tsv (rand12345/solax_can_bus's
 * poll and announcement, Battery-Emulator's initial data of 0x1872, 0x1873
 * (FOXESS-CAN: the same layouts) and 0x1876 (SOLAX-CAN)): 425.9 V, +1.3 A,
 * SOC 93 %, the limits (467.2 / 320.0 V, 20.5 / 50.0 A), cells 3298 /
 * 3287 mV, no temperature; the inverter's frames passed over; values no
 * battery has refused; the sign; frames a byte short refused and counted;
 * and the round trip: bmsgw's own solax-can output (gateway/inverter/
 * dialect/emu_solax_can.c) of a battery fed to this reader: every value
 * back, its fail-safe answer too. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_solax_in_driver;

#include "hv_check.h"
#include "inv_check.h"

#define SOLAX_01 "00001871#0100010000000000 0100A001# 00001872#4012800CCD00F401 " \
	"00001873#A3100D005D007707 00001876#0000E20C0000D70C"

static void test_vector(void)
{
	struct bms_poll poll;
	struct drive_res r;
	hv_two_polls(&poll, SOLAX_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 425.9, 1e-4);
	CHECK_NEAR(s->current, 1.3, 1e-4);
	CHECK_NEAR(s->soc, 93, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 467.2, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 320.0, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 20.5, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 50.0, 1e-4);
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3298);
	CHECK_EQ_INT(s->ext_min_mv, 3287);
	CHECK_EQ_INT(s->ntemps, 0); /* 0x1876's 0 and 0: no temperature */
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(bms_plausible(s, NULL));
	/* discharging 12.3 A (0xFF85), the temperatures, the contactor, the SOH */
	CHECK_EQ_INT(hv_poll(&poll, "00001873#A31085FF5D007707 00001872#4012800CCD00F401 "
				    "00001876#FA00E20CF800D70C", 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, -12.3, 1e-4);
	CHECK_EQ_INT(poll.snap.ntemps, 2);
	CHECK_NEAR(poll.snap.ext_tmax_c, 25.0, 1e-4);
	CHECK_NEAR(poll.snap.ext_tmin_c, 24.8, 1e-4);
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "00001873#A3100D005D007707 00001875#F900080001000000 00001874#FA00F80021002100 "
				    "0000187E#00A00000635D0000", 0, false, &r), BMS_OK);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_NEAR(poll.snap.soh, 99, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[0], 25.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[1], 24.8, 1e-4);
	/* values no battery has: the poll refused */
	static const char *const bad[] = {
		"00001873#A3100D0065007707", /* SOC 101 % */
		"00001872#800C4012CD00F401", /* CVL 320.0 under DVL 467.2 V */
		"00001876#0000D70C0000E20C", /* the lowest cell above the highest */
		"00001874#F800FA0021002100", /* the coldest above the hottest */
		"0000187E#00A00000655D0000", /* SOH 101 % */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static char text[512];
		snprintf(text, sizeof(text), "00001873#A3100D005D007707 %s", bad[i]);
		memset(&poll, 0, sizeof(poll));
		CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* the inverter's poll and the announcement alone: no sample; a FoxESS
	 * 0x1874 (cells in mV where SolaX's are 0.1 V) is not read as cells */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "00001871#0100010000000000 0100A001#", 0, false, &r), BMS_E_INVALID);
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "00001873#A3100D005D007707 00001874#DC00D200E40CE40C", 0, false, &r), BMS_OK);
	CHECK(!(poll.snap.present & (BMS_HAS_CELLS | BMS_HAS_CELL_EXT)));
}

static void test_broken(void)
{
	static char text[2048];
	int refused = 0, n = hv_nframes(SOLAX_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, SOLAX_01);
		hv_break(text, sizeof(text), SOLAX_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		bool ours = k >= 2; /* 0x1872, 0x1873, 0x1876; not the poll, not the empty announcement */
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, ours ? 1 : 0);
		CHECK_EQ_INT(rc, ours ? BMS_E_INVALID : BMS_OK);
	}
	CHECK_EQ_INT(refused, 3);
}

static size_t encode(const struct inv_battery *b, uint8_t *out, size_t cap)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	int nf = inv_can_encode(&inv_codec_solax_can, b, 0, f, INV_CAN_MAX_FRAMES, NULL);
	size_t o = 0;
	for (int i = 0; i < nf; i++)
		o += bms_can_record(out + o, cap - o, f[i].id, f[i].ext, false, f[i].dlc, f[i].data);
	return o;
}

static void test_round_trip(void)
{
	struct inv_battery b;
	memset(&b, 0, sizeof(b));
	b.present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		    INV_HAS_TEMP_MINMAX | INV_HAS_REMAIN | INV_HAS_FULL | INV_HAS_CELL_MINMAX;
	b.cvl_v = 467.2f, b.dvl_v = 320.0f, b.ccl_a = 30.5f, b.dcl_a = 50.0f;
	b.charge_allowed = b.discharge_allowed = true;
	b.voltage = 431.7f;
	b.current = -12.3f;
	b.soc = 64.4f;
	b.soh = 97;
	b.full_ah = 100;
	b.remain_ah = 64.4f;
	b.temp_c = 22.5f, b.temp_max_c = 24.0f, b.temp_min_c = 21.0f;
	b.cell_max_mv = 3391, b.cell_min_mv = 3350;
	b.total_cells = 128;
	b.battery_type = 131;
	static uint8_t rec[4096];
	size_t n = encode(&b, rec, sizeof(rec));
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
	CHECK_NEAR(s->voltage, 431.7, 1e-3);
	CHECK_NEAR(s->current, -12.3, 1e-3);
	CHECK_NEAR(s->soc, 64, 1e-3); /* whole per cent, down */
	CHECK_NEAR(s->soh, 97, 1e-3);
	CHECK_NEAR(s->bms_cvl_v, 467.2, 1e-3);
	CHECK_NEAR(s->bms_dvl_v, 320.0, 1e-3);
	CHECK_NEAR(s->bms_ccl_a, 30.5, 1e-3);
	CHECK_NEAR(s->bms_dcl_a, 50.0, 1e-3);
	CHECK_EQ_INT(s->ext_max_mv, 3391);
	CHECK_EQ_INT(s->ext_min_mv, 3350);
	CHECK_NEAR(s->ext_tmax_c, 24.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 21.0, 1e-4);
	CHECK(!s->chg_mos); /* a set outside an answer: the contactor 0 */
	CHECK(bms_plausible(s, NULL));
	/* bmsgw's fail-safe answer (no current allowed): CCL = DCL = 0, the CVL kept */
	b.charge_allowed = b.discharge_allowed = false;
	n = encode(&b, rec, sizeof(rec));
	struct bms_rx rx;
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = FEED_BYTES(&poll, &rx, rec, n, hv_chunks);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_cvl_v, 467.2, 1e-3);
}

static void test_table(void)
{
	hv_table("solax-in", 92, 500000);
	CHECK(hv_passes(0x1873, true) && hv_passes(0x187E, true) && hv_passes(0x1871, true));
	CHECK(!hv_passes(0x0C1D, true) && !hv_passes(0x100A001, true) && !hv_passes(0x1D0, false));
}

int main(void)
{
	test_table();
	test_vector();
	test_broken();
	test_round_trip();
	return check_report();
}
