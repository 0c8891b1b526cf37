/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_solark_can.c - the solark-can codec (gateway/inverter/
 * dialect/emu_solark_can.c) byte for byte against the Sol-Ark CAN Bus Protocol rev 1.3
 * (PROTOCOLS.md §1c): DLC 8 throughout, 0x356's voltage in 0.1 V, 0x359
 * byte 3 bit 3 a critical system error (never the communication warning),
 * 0x379 the bank's Ah; and the safety rules at the codec: zero limits with
 * the enable bits cleared (the fail-safe battery), the CVL kept, an enable
 * bit never with a limit whose field is 0. */
#include "inv_check.h"

static const struct inv_codec *const S = &inv_codec_solark_can;

static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_b1(&b);
	CHECK_EQ_INT(inv_can_encode(S, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 7);
	CHECK(frame_is(&f[0], 0x351, "28 02 F4 01 58 02 D0 01"));
	CHECK(frame_is(&f[1], 0x355, "51 00 61 00 00 00 00 00"));
	/* 53.125 V in 0.1 V: 531 (pylon-can's 0.01 V would be 5313) */
	CHECK(frame_is(&f[2], 0x356, "13 02 85 FF F6 00 00 00"));
	CHECK(frame_is(&f[3], 0x359, "00 00 00 00 02 50 4E 00"));
	CHECK(frame_is(&f[4], 0x35C, "C0 00 00 00 00 00 00 00"));
	CHECK(frame_is(&f[5], 0x35E, "50 59 4C 4F 4E 20 20 20"));
	CHECK(frame_is(&f[6], 0x379, "64 00 00 00 00 00 00 00"));
	for (int i = 0; i < 7; i++)
		CHECK_EQ_INT(f[i].dlc, 8);
	CHECK(!S->can.one_by_one);
	LIMITS_ARE(S, &b, 500, 600);
	/* no capacity: 0x379 left out, never 0 Ah */
	b.present &= ~(uint32_t)INV_HAS_FULL;
	CHECK_EQ_INT(inv_can_encode(S, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 6);
	CHECK_EQ_INT(inv_can_frame(S, 0x379, &b, 0, &f[0]), -1);
	/* 0x379 is its own frame: asking for the capacity extra adds 0x35F only */
	b.present |= INV_HAS_FULL;
	CHECK_EQ_INT(inv_can_encode(S, &b, CONF_EXTRA_CAPACITY, f, INV_CAN_MAX_FRAMES, NULL), 8);
	CHECK(frame_is(&f[7], 0x35F, "00 00 00 00 64 00 00 00"));
}

/* 0x359: Pylontech's bytes 0-2; byte 3 bit 0 charge high current, bit 3
 * a critical system error: a system fault at warning level, never the
 * communication warning (which Sol-Ark has no bit for). */
static void test_alarms(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_CHG_OC | BMS_AL_HW_FAULT;
	b.warn = BMS_AL_CELL_UV | BMS_AL_CHG_OC;
	FRAME_IS(S, 0x359, &b, "02 09 04 01 02 50 4E 00");
	b.warn = BMS_AL_COMM;
	FRAME_IS(S, 0x359, &b, "02 09 00 00 02 50 4E 00");
	b.warn = BMS_AL_SENSOR;
	FRAME_IS(S, 0x359, &b, "02 09 00 08 02 50 4E 00");
	b.present &= ~(uint32_t)INV_HAS_ALARMS;
	FRAME_IS(S, 0x359, &b, "00 00 00 00 02 50 4E 00");
}

/* The fail-safe battery (invsource.c: CCL = DCL = 0, nothing allowed, the
 * CVL and DVL kept, a communication warning): zero currents, the enable
 * bits clear, the CVL not 0; and an enable bit never with a 0 field. */
static void test_safety(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.warn |= BMS_AL_COMM;
	FRAME_IS(S, 0x351, &b, "28 02 00 00 00 00 D0 01");
	FRAME_IS(S, 0x35C, &b, "00 00 00 00 00 00 00 00");
	LIMITS_ARE(S, &b, 0, 0);
	/* not allowed: 0 whatever the limit says */
	battery_b1(&b);
	b.charge_allowed = false;
	b.force_charge = true;
	FRAME_IS(S, 0x351, &b, "28 02 00 00 58 02 D0 01");
	FRAME_IS(S, 0x35C, &b, "40 00 00 00 00 00 00 00");
	/* a limit whose field rounds to 0 clears its bit */
	battery_b1(&b);
	b.dcl_a = 0.04f;
	FRAME_IS(S, 0x351, &b, "28 02 F4 01 00 00 D0 01");
	FRAME_IS(S, 0x35C, &b, "80 00 00 00 00 00 00 00");
	/* force charge and full-charge request with the charge enable */
	battery_b1(&b);
	b.force_charge = b.full_charge_request = true;
	FRAME_IS(S, 0x35C, &b, "F8 00 00 00 00 00 00 00");
	/* no limits: every limit 0, no bit */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	FRAME_IS(S, 0x351, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(S, 0x35C, &b, "00 00 00 00 00 00 00 00");
}

/* Charging current positive (the Pylontech sign, as Battery-Emulator's
 * Sol-Ark output); absent measurements 0. */
static void test_measure(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.current = 25.06f;
	b.voltage = 54.36f;
	b.temp_c = -3.2f;
	FRAME_IS(S, 0x356, &b, "20 02 FB 00 E0 FF 00 00");
	b.present &= ~(uint32_t)(INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP | INV_HAS_SOC | INV_HAS_SOH);
	FRAME_IS(S, 0x356, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(S, 0x355, &b, "00 00 64 00 00 00 00 00");
}

/* The inverter's 0x305 "data received" (8 x 00). */
static void test_heard(void)
{
	struct inv_heard inv;
	struct gw_can_frame f;

	memset(&inv, 0, sizeof(inv));
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x351, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 1);
}

int main(void)
{
	test_set();
	test_alarms();
	test_safety();
	test_measure();
	test_heard();
	return check_report();
}
