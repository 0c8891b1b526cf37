/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_lux_can.c - the lux-can codec (gateway/inverter/
 * dialect/emu_lux_can.c) byte for byte against Luxpower's "Battery CAN BUS Protocol"
 * V04 (PROTOCOLS.md §1a): DLC 8 throughout; 0x355 bytes 4-7 the highest
 * and lowest cell (mV); 0x356 bytes 4-7 the hottest and coldest sensor
 * (0.1 degC); 0x359 byte 4 modules, bytes 5-6 capacity (Ah) where
 * Pylontech has "PN"; 0x35C bytes 2-3 the cycle count; the inverter's
 * 0x305 and 0x300 "shutdown battery". */
#include "inv_check.h"

static const struct inv_codec *const L = &inv_codec_lux_can;

static void battery_lux(struct inv_battery *b)
{
	battery_b1(b);
	b->present |= INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX | INV_HAS_CYCLES;
	b->cell_min_mv = 3301;
	b->cell_max_mv = 3342;
	b->temp_min_c = -2.4f;
	b->temp_max_c = 27.06f;
	b->cycles = 321;
	b->full_ah = 280;
	b->packs = 3;
}

static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_lux(&b);
	CHECK_EQ_INT(inv_can_encode(L, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 6);
	CHECK(frame_is(&f[0], 0x351, "28 02 F4 01 58 02 D0 01"));
	CHECK(frame_is(&f[1], 0x355, "51 00 61 00 0E 0D E5 0C"));
	CHECK(frame_is(&f[2], 0x356, "C1 14 85 FF 0F 01 E8 FF"));
	CHECK(frame_is(&f[3], 0x359, "00 00 00 00 03 18 01 00"));
	CHECK(frame_is(&f[4], 0x35C, "C0 00 41 01 00 00 00 00"));
	CHECK(frame_is(&f[5], 0x35E, "50 59 4C 4F 4E 20 20 20"));
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(f[i].dlc, 8);
	CHECK(!L->can.one_by_one);
	LIMITS_ARE(L, &b, 500, 600);
	/* extras as asked (none by default) */
	CHECK_EQ_INT(inv_can_encode(L, &b, CONF_EXTRA_CAPACITY, f, INV_CAN_MAX_FRAMES, NULL), 8);
	CHECK(frame_is(&f[7], 0x379, "18 01 00 00 00 00 00 00"));
}

/* Protections and alarms: Pylontech's bits (Luxpower's table 1 agrees,
 * byte 1 bit 0 charge over-current and bit 3 system error); flags;
 * absent values. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_lux(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_CHG_OC | BMS_AL_HW_FAULT;
	b.warn = b.protect | BMS_AL_COMM;
	FRAME_IS(L, 0x359, &b, "02 09 02 09 03 18 01 00");
	b.force_charge = true;
	b.charge_allowed = false;
	FRAME_IS(L, 0x35C, &b, "40 00 41 01 00 00 00 00");
	b.charge_allowed = true;
	FRAME_IS(L, 0x35C, &b, "F0 00 41 01 00 00 00 00");
	/* absent: extremes of the average temperature, no cells, no capacity,
	 * no cycles: 0 */
	b.present &= ~(uint32_t)(INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX | INV_HAS_CYCLES | INV_HAS_FULL);
	FRAME_IS(L, 0x355, &b, "51 00 61 00 00 00 00 00");
	FRAME_IS(L, 0x356, &b, "C1 14 85 FF F6 00 F6 00");
	FRAME_IS(L, 0x359, &b, "02 09 02 09 03 00 00 00");
	FRAME_IS(L, 0x35C, &b, "F0 00 00 00 00 00 00 00");
	b.cycles = 70000;
	b.present |= INV_HAS_CYCLES;
	FRAME_IS(L, 0x35C, &b, "F0 00 FF FF 00 00 00 00");
}

/* The inverter's 0x305 and 0x300 (byte 0 bit 0: shutdown battery). */
static void test_heard(void)
{
	struct inv_heard inv;
	struct gw_can_frame f;

	memset(&inv, 0, sizeof(inv));
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(L->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x300, false, "01 00 00 00 00 00 00 00");
	CHECK_EQ_INT(L->can.heard(&f, &inv), INV_RX_SHUTDOWN);
	CHECK_EQ_INT(inv.shutdowns, 1);
	f = inv_mk(0x300, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(L->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x300, false, "");
	CHECK_EQ_INT(L->can.heard(&f, &inv), INV_RX_BAD);
	f = inv_mk(0x300, true, "01");
	CHECK_EQ_INT(L->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x300, false, "01");
	f.rtr = true;
	CHECK_EQ_INT(L->can.heard(&f, &inv), INV_RX_OTHER);
	CHECK_EQ_INT(inv.shutdowns, 1);
	CHECK_EQ_INT(inv.frames, 4);
}

int main(void)
{
	test_set();
	test_fields();
	test_heard();
	return check_report();
}
