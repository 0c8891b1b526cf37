/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_sma_can.c - the sma-can codec (gateway/inverter/dialect/emu_sma_can.c)
 * byte for byte against SMA's "Connecting Batteries with external BMS to
 * Sunny Island" (PROTOCOLS.md §2): its set from a known battery, its ranges
 * and clamps toward the safe side, "invalid" for what is absent, the SOC
 * rounded down, 0x35A's alarm and warning pairs (under-voltage and
 * under-temperature protections as warnings), extras beside its own
 * 0x35F, the limits the codec reports after its clamps, and the Sunny
 * Island's own frames. */
#include "inv_check.h"

static const struct inv_codec *const S = &inv_codec_sma_can;

static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_b1(&b);
	CHECK_EQ_INT(inv_can_encode(S, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 6);
	CHECK(frame_is(&f[0], 0x351, "28 02 F4 01 58 02 D0 01"));
	CHECK(frame_is(&f[1], 0x355, "51 00 61 00 E0 1F FF FF"));
	CHECK(frame_is(&f[2], 0x356, "C1 14 85 FF F6 00 FF FF"));
	CHECK(frame_is(&f[3], 0x35A, "AA AA AA 02 AA AA AA 02"));
	CHECK(frame_is(&f[4], 0x35E, "50 59 4C 4F 4E 20 20 20"));
	CHECK(frame_is(&f[5], 0x35F, "FF FF FF FF 64 00 FF FF"));
	LIMITS_ARE(S, &b, 500, 600);
	CHECK_EQ_INT(inv_can_frame(S, 0x359, &b, 0, f), -1);
	CHECK_EQ_INT(inv_can_frame(S, 0x35C, &b, 0, f), -1);
	CHECK_EQ_INT(S->can.gap_ms, 200);
	CHECK(S->can.one_by_one);
	/* capacity: only 0x379 more (its own 0x35F stays SMA's) */
	CHECK_EQ_INT(inv_can_encode(S, &b, CONF_EXTRA_CAPACITY, f, INV_CAN_MAX_FRAMES, NULL), 7);
	CHECK(frame_is(&f[5], 0x35F, "FF FF FF FF 64 00 FF FF"));
	CHECK(frame_is(&f[6], 0x379, "64 00 00 00 00 00 00 00"));
	FRAME_X(S, CONF_EXTRA_CAPACITY, 0x35F, &b, "FF FF FF FF 64 00 FF FF");
}

static void test_alarms(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_CHG_OC | BMS_AL_SHORT | BMS_AL_HW_FAULT;
	b.warn = b.protect | BMS_AL_CELL_UV | BMS_AL_COMM | BMS_AL_CHG_UT;
	FRAME_IS(S, 0x35A, &b, "A6 AA 59 02 96 9A 59 02");
	/* 4 high temp (MOSFET) an alarm; the under-temperature protection (5
	 * low temp) a warning, as UV and UT are to a Sunny Island; warnings 6
	 * high temp charge, 13 imbalance */
	b.protect = BMS_AL_MOS_OT | BMS_AL_DSG_UT;
	b.warn = BMS_AL_CHG_OT | BMS_AL_CELL_DIFF;
	FRAME_IS(S, 0x35A, &b, "6A AA AA 02 AA A5 AA 01");
	/* a pack in cell under-voltage protection: a warning */
	b.protect = b.warn = BMS_AL_CELL_UV;
	FRAME_IS(S, 0x35A, &b, "AA AA AA 02 9A AA AA 02");
	/* no alarm word at all: nothing set */
	b.present &= ~(uint32_t)INV_HAS_ALARMS;
	FRAME_IS(S, 0x35A, &b, "AA AA AA 02 AA AA AA 02");
}

static void test_ranges(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.soc = 150;
	FRAME_IS(S, 0x355, &b, "64 00 61 00 10 27 FF FF");
	b.soc = 99.999f;          /* down: 99 %, 99.99 % */
	FRAME_IS(S, 0x355, &b, "63 00 61 00 0F 27 FF FF");
	/* CVL 41..63 V, DVL 41..48 V, currents 0..1200 A */
	battery_b1(&b);
	b.cvl_v = 70;
	b.ccl_a = 1500;
	FRAME_IS(S, 0x351, &b, "76 02 E0 2E 58 02 D0 01");
	LIMITS_ARE(S, &b, 12000, 600);
	/* a DVL above 48 V is sent as 48 V and discharging stops */
	b.dvl_v = 50;
	FRAME_IS(S, 0x351, &b, "76 02 E0 2E 00 00 E0 01");
	LIMITS_ARE(S, &b, 12000, 0);
	/* a CVL below 41 V is sent as 41 V and charging stops; DVL up to 41 V */
	b.cvl_v = 30;
	b.dvl_v = 30;
	FRAME_IS(S, 0x351, &b, "9A 01 00 00 58 02 9A 01");
	LIMITS_ARE(S, &b, 0, 600);
	/* no charging allowed: CCL 0 */
	battery_b1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	FRAME_IS(S, 0x351, &b, "28 02 00 00 00 00 D0 01");
	LIMITS_ARE(S, &b, 0, 0);
	/* no limits: SMA's invalid voltages */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	FRAME_IS(S, 0x351, &b, "FF FF 00 00 00 00 FF FF");
}

static void test_absent(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.present = INV_HAS_LIMITS;
	FRAME_IS(S, 0x355, &b, "FF FF FF FF FF FF FF FF");
	FRAME_IS(S, 0x356, &b, "00 80 00 80 00 80 FF FF");
	FRAME_IS(S, 0x35F, &b, "FF FF FF FF FF FF FF FF");
	/* a value present but not a number counts as absent */
	battery_b1(&b);
	b.voltage = NAN;
	b.soc = INFINITY;
	FRAME_IS(S, 0x356, &b, "00 80 85 FF F6 00 FF FF");
	FRAME_IS(S, 0x355, &b, "FF FF 61 00 FF FF FF FF");
	b.full_ah = 70000;       /* clamped below SMA's invalid */
	FRAME_IS(S, 0x35F, &b, "FF FF FF FF FE FF FF FF");
	strcpy(b.manufacturer, "A\001\x7f");
	FRAME_IS(S, 0x35E, &b, "41 3F 3F 20 20 20 20 20");
}

/* The Sunny Island's frames. */
static void test_heard(void)
{
	struct inv_heard inv;
	struct gw_can_frame f;

	/* 52.3 V, -10.5 A (it counts charging negative), 25.0 C, 81.0 % */
	memset(&inv, 0, sizeof(inv));
	f = inv_mk(0x305, false, "0B 02 97 FF FA 00 2A 03");
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_SMA_MEAS);
	CHECK(inv.have_meas);
	CHECK_NEAR(inv.voltage, 52.3, 1e-4);
	CHECK_NEAR(inv.current, 10.5, 1e-4);
	CHECK_NEAR(inv.temp_c, 25.0, 1e-4);
	CHECK_NEAR(inv.soc, 81.0, 1e-4);
	/* SOH 97, procedure 10 (external BMS), operating, no error, 55.2 V */
	f = inv_mk(0x306, false, "61 00 0A 01 00 00 28 02");
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_SMA_STATE);
	CHECK(inv.have_state);
	CHECK_EQ_INT(inv.soh, 97);
	CHECK_EQ_INT(inv.charging_procedure, 10);
	CHECK_EQ_INT(inv.operating_state, 1);
	CHECK_EQ_INT(inv.error, 0);
	CHECK_NEAR(inv.charge_setpoint_v, 55.2, 1e-4);
	/* too short to use; the relay frame; a 29-bit 0x305 is not SMA's */
	f = inv_mk(0x305, false, "0B 02 97 FF FA 00");
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_BAD);
	f = inv_mk(0x307, false, "01 00");
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x305, true, "0B 02 97 FF FA 00 2A 03");
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 4);
	/* a DLC above 8 (a bad transport) is not read */
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	f.dlc = 9;
	CHECK_EQ_INT(S->can.heard(&f, &inv), INV_RX_OTHER);
}

int main(void)
{
	test_set();
	test_alarms();
	test_ranges();
	test_absent();
	test_heard();
	return check_report();
}
