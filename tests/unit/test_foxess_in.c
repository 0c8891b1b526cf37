/* SPDX-License-Identifier: MIT */
/* tests/unit/test_foxess_in.c - a FoxESS HV2600 / ECS battery heard on
 * its H-series inverter's bus (bms/foxess_in.c, bms/PROTOCOLS.md §95), on
 * FOX-01 of tests/fixtures/vectors.tsv (encoded from FozzieUK's
 * FoxESS_v1_15.dbc): 330.0 V, +5.0 A (the charging flag), SOC 40 %, the
 * limits (390.0 / 300.0 V, 25.0 / 25.0 A), 22.0 / 21.0 degC, 16 cells of
 * the four cell frames (the BMS's 3304 / 3300 mV beside them dropped), 8
 * sensors; the
 * inverter's 0x1871 passed over; the current's sign from the flags
 * (discharging: -5.0 A whatever its own sign), the charge inhibited (0x1876
 * bit 0: CCL 0 A); frames a byte short refused and counted; and the round
 * trip: bmsgw's own foxess-can output (gateway/inverter/dialect/
 * emu_foxess_can.c) of a 96-cell battery with 16 sensors, its state, cell
 * and sensor answers fed to this reader: every value back. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_foxess_in_driver;

#include "hv_check.h"
#include "inv_check.h"

#define FOX_01 "00001871#0100010000000000 00001872#3C0FB80BFA00FA00 00001873#E40C32002800EE02 " \
	"00001874#DC00D20000000000 00001876#0000E80C0000E40C 00001879#0035000000000000 00000C1D#E40CE50CE60CE70C " \
	"00000C21#E80CE40CE50CE60C 00000C25#E70CE80CE40CE50C 00000C29#E60CE70CE80CE40C 00000D21#4748474847484748"

static void test_vector(void)
{
	struct bms_poll poll;
	struct drive_res r;
	hv_two_polls(&poll, FOX_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 330.0, 1e-4);
	CHECK_NEAR(s->current, 5.0, 1e-4);
	CHECK_NEAR(s->soc, 40, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 390.0, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 300.0, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 25.0, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 25.0, 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 22.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 21.0, 1e-4);
	/* the four cell frames of FOX-01 are a module's 16 cells of a 330 V
	 * stack: a part of the pack's cells (52.8 V), not the list: none, the
	 * BMS's own extremes (0x1876) kept, and the poll plausible */
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(!(s->present & BMS_HAS_CELLS));
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3304);
	CHECK_EQ_INT(s->ext_min_mv, 3300);
	CHECK_EQ_INT(s->ntemps, 8);
	CHECK_NEAR(s->temp_c[0], 21, 1e-4);
	CHECK_NEAR(s->temp_c[1], 22, 1e-4);
	CHECK(bms_plausible(s, NULL));
	/* the whole stack: six modules' 96 cells (0x0C1D ... 0x0C79), their sum
	 * 330.0 V: every cell, 0x1876's extremes dropped */
	static char stack[8192];
	size_t at = (size_t)snprintf(stack, sizeof(stack), "%s", FOX_01);
	for (unsigned k = 4; k < 24; k++) /* 3437 or 3438 mV: 16 x 3300..3304 + 80 of these = 330.0 V */
		at += (size_t)snprintf(stack + at, sizeof(stack) - at, " %08X#%02X0D%02X0D%02X0D%02X0D", 0x0C1Du + 4u * k,
				       0x6D + (k % 2), 0x6D + (k % 2), 0x6D + (k % 2), 0x6D + (k % 2));
	hv_two_polls(&poll, stack);
	CHECK_EQ_INT(s->ncells, 96);
	CHECK(!(s->present & BMS_HAS_CELL_EXT));
	static const uint16_t want[16] = { 3300, 3301, 3302, 3303, 3304, 3300, 3301, 3302,
					   3303, 3304, 3300, 3301, 3302, 3303, 3304, 3300 };
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(s->cell_mv[i], want[i]);
	CHECK_EQ_INT(s->cell_mv[16], 3437);
	CHECK_EQ_INT(s->cell_mv[20], 3438);
	CHECK_EQ_INT(s->cell_mv[95], 3438);
	CHECK(bms_plausible(s, NULL));
	hv_two_polls(&poll, FOX_01); /* the module's frames again: learned anew */
	/* discharging (0x1879 b1 0x2B): -5.0 A, whatever 0x1873's sign */
	static char text[2048];
	snprintf(text, sizeof(text), "%s", FOX_01);
	memcpy(strstr(text, "00001879#0035") + 11, "2B", 2);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, -5.0, 1e-4);
	/* charging not permitted (0x1876 b0 bit 0): CCL 0 A */
	snprintf(text, sizeof(text), "%s", FOX_01);
	memcpy(strstr(text, "00001876#00") + 9, "01", 2);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 25.0, 1e-4);
	/* an SOC of 101 % refused */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, "00001873#E40C32006500EE02 00001879#0035000000000000", 0, false, &r),
		     BMS_E_INVALID);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
}

static void test_broken(void)
{
	static char text[2048];
	int refused = 0, n = hv_nframes(FOX_01);
	for (int k = 0; k < n; k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, FOX_01);
		hv_break(text, sizeof(text), FOX_01, k, 1);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, k == 0 ? 0 : 1); /* the inverter's 0x1871 is not read */
		CHECK_EQ_INT(rc, k == 0 ? BMS_OK : BMS_E_INVALID);
	}
	CHECK_EQ_INT(refused, n - 1);
}

/* bmsgw's foxess-can output of a battery, as records. */
static size_t encode(const struct inv_battery *b, uint32_t asked, uint8_t *out, size_t cap)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter c;
	memset(&c, 0, sizeof(c));
	int n = inv_answer_h(&inv_codec_foxess_can, &c, NULL, asked, b, f, &e);
	size_t o = 0;
	for (int i = 0; i < n; i++)
		o += bms_can_record(out + o, cap - o, f[i].id, f[i].ext, false, f[i].dlc, f[i].data);
	return o;
}

static void test_round_trip(void)
{
	struct inv_battery b;
	memset(&b, 0, sizeof(b));
	b.present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		    INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_CYCLES | INV_HAS_CELLS | INV_HAS_TEMPS;
	b.cvl_v = 350.4f, b.dvl_v = 288.0f, b.ccl_a = 30.5f, b.dcl_a = 50.0f;
	b.charge_allowed = b.discharge_allowed = true;
	b.current = -12.3f;
	b.soc = 64;
	b.cycles = 321;
	b.ncells = 96;
	double sum = 0;
	for (int i = 0; i < 96; i++) {
		b.cell_mv[i] = (uint16_t)(3300 + i % 17);
		sum += b.cell_mv[i];
	}
	b.voltage = (float)(sum / 1000.0);
	b.cell_max_mv = 3316, b.cell_min_mv = 3300;
	b.ntemps = 16;
	for (int i = 0; i < 16; i++)
		b.temps_c[i] = (float)(15 + i);
	b.temp_max_c = 30, b.temp_min_c = 15, b.temp_c = 22.5f;
	b.total_cells = 96;
	b.modules = 6;
	b.battery_type = 0x52;
	static uint8_t rec[16384];
	size_t n = encode(&b, 0x01 | 0x04, rec, sizeof(rec));
	CHECK(n > 0);
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
	CHECK_NEAR(s->voltage, b.voltage, 0.051);
	CHECK_NEAR(s->current, -12.3, 1e-4);
	CHECK_NEAR(s->soc, 64, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 350.4, 1e-3);
	CHECK_NEAR(s->bms_dvl_v, 288.0, 1e-3);
	CHECK_NEAR(s->bms_ccl_a, 30.5, 1e-3);
	CHECK_NEAR(s->bms_dcl_a, 50.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 321);
	CHECK_EQ_INT(s->ncells, 96);
	for (int i = 0; i < 96; i++)
		CHECK_EQ_INT(s->cell_mv[i], b.cell_mv[i]);
	CHECK(!(s->present & BMS_HAS_CELL_EXT));
	CHECK_EQ_INT(s->ntemps, 16);
	for (int i = 0; i < 16; i++)
		CHECK_NEAR(s->temp_c[i], 15 + i, 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 30, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 15, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK(bms_plausible(s, NULL));
}

static void test_table(void)
{
	hv_table("foxess-in", 90, 500000);
	CHECK(hv_passes(0x1873, true) && hv_passes(0x0C1D, true) && hv_passes(0x0D59, true) && hv_passes(0x1883, true));
	CHECK(!hv_passes(0x18FF50E5, true));
}

int main(void)
{
	test_table();
	test_vector();
	test_broken();
	test_round_trip();
	return check_report();
}
