/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_deye_can.c - the deye-can codec (gateway/inverter/
 * dialect/emu_deye_can.c) byte for byte against Deye's PCS-CANBUS Protocol V3.3
 * (PROTOCOLS.md §1d): 0x356's current + = discharging, 0x359 Deye's own
 * layout, 0x35E "DY", 0x361 cell and temperature extremes, 0x364 pack
 * counts, 0x371 the on-grid limits; and the safety rules at the codec:
 * both limit frames (0x351 off grid, 0x371 on grid) zero with the enable
 * bits cleared, the CVL kept, an enable bit never with a 0 field. */
#include "inv_check.h"

static const struct inv_codec *const D = &inv_codec_deye_can;

static void battery_deye(struct inv_battery *b)
{
	battery_b1(b);
	b->present |= INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX;
	b->cell_min_mv = 3301;
	b->cell_max_mv = 3342;
	b->temp_min_c = -2.4f;
	b->temp_max_c = 27.06f;
}

static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_deye(&b);
	CHECK_EQ_INT(inv_can_encode(D, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 9);
	CHECK(frame_is(&f[0], 0x351, "28 02 F4 01 58 02 D0 01"));
	CHECK(frame_is(&f[1], 0x355, "51 00 61 00 00 00 00 00"));
	/* 53.125 V in 0.01 V; -12.34 A (discharging) sent as +123 */
	CHECK(frame_is(&f[2], 0x356, "C1 14 7B 00 F6 00 00 00"));
	CHECK(frame_is(&f[3], 0x359, "00 00 00 00 00 00 00 00"));
	CHECK(frame_is(&f[4], 0x35C, "C0 00 00 00 00 00 00 00"));
	CHECK(frame_is(&f[5], 0x35E, "44 59 30 30 32 00 E8 03"));
	CHECK(frame_is(&f[6], 0x361, "0E 0D E5 0C 0F 01 E8 FF"));
	CHECK(frame_is(&f[7], 0x364, "02 00 00 00 02 00 00 00"));
	CHECK(frame_is(&f[8], 0x371, "F4 01 58 02 00 00 00 00"));
	for (int i = 0; i < 9; i++)
		CHECK_EQ_INT(f[i].dlc, 8);
	LIMITS_ARE(D, &b, 500, 600);
	/* no cells: 0x361 left out, never 0 mV */
	b.present &= ~(uint32_t)INV_HAS_CELL_MINMAX;
	CHECK_EQ_INT(inv_can_frame(D, 0x361, &b, 0, &f[0]), -1);
	CHECK_EQ_INT(inv_can_encode(D, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 8);
}

/* The captured 0x35E of an SE-G5.1 Pro-B, 44 59 30 30 31 03 E8 03: "DY",
 * pack "001", cell maker 3 (EVE), 100.0 Ah; bmsgw knows no cell maker
 * (0). */
static void test_35e(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.packs = 1;
	FRAME_IS(D, 0x35E, &b, "44 59 30 30 31 00 E8 03");
	b.packs = 0;  /* unknown: 1 */
	b.present &= ~(uint32_t)INV_HAS_FULL;
	FRAME_IS(D, 0x35E, &b, "44 59 30 30 31 00 00 00");
	b.packs = 1234;
	b.full_ah = 280;
	b.present |= INV_HAS_FULL;
	FRAME_IS(D, 0x35E, &b, "44 59 39 39 39 00 F0 0A");
}

/* 0x359 (V3.3): protections bytes 0-1, faults byte 3, alarms bytes 4-5. */
static void test_alarms(void)
{
	struct inv_battery b;

	battery_deye(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_PACK_UV | BMS_AL_SHORT | BMS_AL_CHG_UT | BMS_AL_DSG_OT | BMS_AL_MOS_OT;
	b.warn = BMS_AL_CELL_UV | BMS_AL_CHG_OC | BMS_AL_CHG_OT | BMS_AL_DSG_UT | BMS_AL_CELL_DIFF | BMS_AL_TEMP_DIFF;
	FRAME_IS(D, 0x359, &b, "A9 11 00 00 52 0E 00 00");
	b.protect = BMS_AL_SENSOR | BMS_AL_MOS_FAULT;
	b.warn = BMS_AL_COMM;
	FRAME_IS(D, 0x359, &b, "00 00 00 2C 00 00 00 00");
	b.present &= ~(uint32_t)INV_HAS_ALARMS;
	FRAME_IS(D, 0x359, &b, "00 00 00 00 00 00 00 00");
}

/* The fail-safe battery (invsource.c): 0x351 and 0x371 zero currents, the
 * enable bits clear, the CVL kept; a limit not allowed, or under 0.1 A, is
 * 0 in both frames with its bit clear. */
static void test_safety(void)
{
	struct inv_battery b;

	battery_deye(&b);
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.warn |= BMS_AL_COMM;
	FRAME_IS(D, 0x351, &b, "28 02 00 00 00 00 D0 01");
	FRAME_IS(D, 0x371, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(D, 0x35C, &b, "00 00 00 00 00 00 00 00");
	LIMITS_ARE(D, &b, 0, 0);
	/* not allowed though the limit is 50 A: 0 on grid too */
	battery_deye(&b);
	b.charge_allowed = false;
	FRAME_IS(D, 0x371, &b, "00 00 58 02 00 00 00 00");
	FRAME_IS(D, 0x35C, &b, "40 00 00 00 00 00 00 00");
	battery_deye(&b);
	b.discharge_allowed = false;
	FRAME_IS(D, 0x371, &b, "F4 01 00 00 00 00 00 00");
	/* under 0.1 A: 0 and no bit */
	battery_deye(&b);
	b.ccl_a = 0.04f;
	b.force_charge = true;
	FRAME_IS(D, 0x351, &b, "28 02 00 00 58 02 D0 01");
	FRAME_IS(D, 0x371, &b, "00 00 58 02 00 00 00 00");
	FRAME_IS(D, 0x35C, &b, "40 00 00 00 00 00 00 00");
	/* clamped, never wrapped */
	battery_deye(&b);
	b.ccl_a = 5000;
	FRAME_IS(D, 0x371, &b, "FF 7F 58 02 00 00 00 00");
	/* no limits: none */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	FRAME_IS(D, 0x371, &b, "00 00 00 00 00 00 00 00");
}

/* 0x356 current: + = discharging (V3.3, since V2.5). */
static void test_sign(void)
{
	struct inv_battery b;

	battery_deye(&b);
	b.current = 25.06f; /* charging */
	FRAME_IS(D, 0x356, &b, "C1 14 05 FF F6 00 00 00");
	b.current = -0.04f;
	FRAME_IS(D, 0x356, &b, "C1 14 00 00 F6 00 00 00");
	b.current = -5000;
	FRAME_IS(D, 0x356, &b, "C1 14 FF 7F F6 00 00 00");
}

/* 0x361 temperatures: the average without extremes, 0 without any;
 * 0x364 the pack counts. */
static void test_counts(void)
{
	struct inv_battery b;

	battery_deye(&b);
	b.present &= ~(uint32_t)INV_HAS_TEMP_MINMAX;
	FRAME_IS(D, 0x361, &b, "0E 0D E5 0C F6 00 F6 00");
	b.present &= ~(uint32_t)INV_HAS_TEMP;
	FRAME_IS(D, 0x361, &b, "0E 0D E5 0C 00 00 00 00");
	b.packs = 3;
	b.packs_no_charge = 1;
	b.packs_no_discharge = 2;
	b.packs_offline = 1;
	FRAME_IS(D, 0x364, &b, "03 01 02 01 04 00 00 00");
	b.packs = 0;
	b.packs_offline = 300;
	FRAME_IS(D, 0x364, &b, "01 01 02 FF FF 00 00 00");
}

/* The inverter's 0x305 carries its time (s, min, h, day, month, year): alive. */
static void test_heard(void)
{
	struct inv_heard inv;
	struct gw_can_frame f;

	memset(&inv, 0, sizeof(inv));
	f = inv_mk(0x305, false, "1E 0F 0C 19 0B 1A 00 00");
	CHECK_EQ_INT(D->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x371, false, "00 00 00 00");
	CHECK_EQ_INT(D->can.heard(&f, &inv), INV_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 1);
}

/* Every CAN protocol's whole set, with every extra, fits the output's
 * array (INV_CAN_MAX_FRAMES): one that did not would send nothing. */
static void test_room(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_deye(&b);
	for (int p = 0; p < CONF_INV_NPROTOCOLS; p++) {
		const struct inv_codec *c = inv_codec_of((enum conf_inv_protocol)p);
		if (inv_dialect_kind((enum conf_inv_protocol)p) != CONF_INV_CAN)
			continue;
		CHECK(c != NULL);
		CHECK(inv_can_encode(c, &b, CONF_EXTRA_ALL, f, INV_CAN_MAX_FRAMES, NULL) > 0);
	}
}

int main(void)
{
	test_room();
	test_set();
	test_35e();
	test_alarms();
	test_safety();
	test_sign();
	test_counts();
	test_heard();
	return check_report();
}
