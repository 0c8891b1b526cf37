/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_growatt_can.c - the growatt-can codec (gateway/
 * inverter/dialect/emu_growatt_can.c) byte for byte against Growatt's "BMS
 * CAN-Bus-protocol-low-voltage" Rev_04 (PROTOCOLS.md §7): big endian, DLC
 * 8, 0x311-0x321 from a known battery; the cells of a single pack only;
 * the alarm tables; the inverter's 0x301 (the document's example) as the
 * request the set answers; and the safety rules of §7.4, each a check that
 * fails without its rule: the fail-safe set (zero currents, every enable
 * bit clear, the communication warning), an enable bit only with a
 * current, force charge only with the charge enable, the charge voltage
 * within 41-63 V toward the safe side. */
#include "inv_check.h"

static const struct inv_codec *const G = &inv_codec_growatt_can;

/* The whole set from B1 (a bank of two packs, no cells), in order. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_b1(&b);
	CHECK_EQ_INT(inv_can_encode(G, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 7);
	/* 55.2 V, 50.0 A, 60.0 A; status 0x0D67: parallel (b8), SP status and
	 * status discharging (b10-11, b0-1 = 11), charge (b6) and discharge
	 * (b5) enabled, error byte valid (b2) */
	CHECK(frame_is(&f[0], 0x311, "02 28 01 F4 02 58 0D 67"));
	CHECK(frame_is(&f[1], 0x312, "00 00 00 00 02 50 59 00"));
	/* 53.13 V, -12.3 A, 24.6 degC, SOC 81 % (down), SOH 97 % */
	CHECK(frame_is(&f[2], 0x313, "14 C1 FF 85 00 F6 51 61"));
	/* full 100 Ah = 10000 x 10 mAh */
	CHECK(frame_is(&f[3], 0x314, "00 00 27 10 00 00 00 00"));
	CHECK(frame_is(&f[4], 0x319, "C0 00 00 00 00 00 00 00"));
	CHECK(frame_is(&f[5], 0x320, "50 59 00 00 00 00 00 00"));
	CHECK(frame_is(&f[6], 0x321, "00 00 00 00 00 00 00 00"));
	for (int i = 0; i < 7; i++)
		CHECK_EQ_INT(f[i].dlc, 8);
	LIMITS_ARE(G, &b, 500, 600);
	CHECK(G->can.answers && !G->can.one_by_one);
	CHECK(inv_codec_of(CONF_INV_GROWATT_CAN) == G);
	CHECK_EQ_INT(inv_dialect_default_extras(CONF_INV_GROWATT_CAN), 0);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_GROWATT_CAN), 0);
	/* a BMS without a SOH (JBD, Daly, JK ...): 100, as the other dialects
	 * send, never 0 % health */
	b.present &= ~(uint32_t)INV_HAS_SOH;
	FRAME_IS(G, 0x313, &b, "14 C1 FF 85 00 F6 51 64");
	b.present |= INV_HAS_SOH;
	/* a bank's cells are not sent (0x315-0x318 "not reported in parallel") */
	CHECK_EQ_INT(inv_can_frame(G, 0x315, &b, 0, f), -1);
}

/* A single pack: its cells, their extremes and numbers, the capacity in
 * 10 mAh, the delta, cycles, the hottest sensor, the chemistry. */
static void test_pack(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_b1(&b);
	b.packs = 1;
	b.present |= INV_HAS_CELLS | INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX | INV_HAS_REMAIN | INV_HAS_CYCLES;
	b.ncells = b.series_cells = 5;
	for (int i = 0; i < 5; i++)
		b.cell_mv[i] = (uint16_t)(3300 + i);
	b.cell_min_mv = 3300;
	b.cell_max_mv = 3304;
	b.cell_min_at = (struct inv_where){ 1, 1 };
	b.cell_max_at = (struct inv_where){ 1, 5 };
	b.temp_max_c = 31.04f;
	b.temp_min_c = 20;
	b.remain_ah = 81.6f;
	b.cycles = 321;
	b.current = 5.0f;
	b.chemistry = CONF_CHEM_NMC;
	b.protect = 0;
	CHECK_EQ_INT(inv_can_encode(G, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 9);
	/* charging, standalone */
	CHECK(frame_is(&f[0], 0x311, "02 28 01 F4 02 58 08 66"));
	CHECK(frame_is(&f[1], 0x312, "00 00 00 00 01 50 59 05"));
	CHECK(frame_is(&f[2], 0x313, "14 C1 00 32 01 36 51 61"));
	CHECK(frame_is(&f[3], 0x314, "1F E0 27 10 00 04 01 41"));
	CHECK(frame_is(&f[4], 0x315, "0C E4 0C E5 0C E6 0C E7"));
	CHECK(frame_is(&f[5], 0x316, "0C E8 00 00 00 00 00 00"));
	CHECK(frame_is(&f[6], 0x319, "C1 0C E8 0C E4 05 01 00"));
	/* a bank's extremes: numbers counted across packs of series_cells */
	b.packs = 2;
	b.present &= ~(uint32_t)INV_HAS_CELLS;
	b.series_cells = 16;
	b.cell_max_at = (struct inv_where){ 2, 3 };
	FRAME_IS(G, 0x319, &b, "C1 0C E8 0C E4 13 01 00");
	b.series_cells = 0; /* unknown: 0, never a guess */
	FRAME_IS(G, 0x319, &b, "C1 0C E8 0C E4 00 01 00");
	/* capacities beyond the u16 of 10 mAh: clamped, never wrapped */
	b.remain_ah = 700;
	b.full_ah = 1120;
	FRAME_IS(G, 0x314, &b, "FF FF FF FF 00 04 01 41");
}

/* Tables 1-4 of 0x312: protections from `protect`, warnings from `warn`. */
static void test_alarms(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_PACK_UV | BMS_AL_SHORT | BMS_AL_CHG_OC | BMS_AL_DSG_OT | BMS_AL_HW_FAULT;
	b.warn = BMS_AL_CELL_UV | BMS_AL_PACK_OV | BMS_AL_DSG_OC | BMS_AL_CHG_UT | BMS_AL_CELL_DIFF | BMS_AL_COMM;
	/* byte 0: cell OV b4, module UV b1, SCD b5, charge OC b6; byte 1: OTD
	 * b7, system error b3; byte 2: cell UV b3, module OV b2, discharge OC
	 * b7; byte 3: UTC b4, delta V b2, internal communication b0 */
	FRAME_IS(G, 0x312, &b, "72 88 8C 15 02 50 59 00");
	b.protect = BMS_AL_DSG_UT | BMS_AL_CHG_OT | BMS_AL_CELL_DIFF | BMS_AL_DSG_OC;
	b.warn = BMS_AL_SHORT | BMS_AL_MOS_OT | BMS_AL_CHG_OT;
	FRAME_IS(G, 0x312, &b, "80 64 80 C0 02 50 59 00");
	/* no alarms known: nothing set, and the status's "error byte valid" clear */
	b.present &= ~(uint32_t)INV_HAS_ALARMS;
	FRAME_IS(G, 0x312, &b, "00 00 00 00 02 50 59 00");
	FRAME_IS(G, 0x311, &b, "02 28 01 F4 02 58 0D 63");
	/* the manufacturer abbreviation in capitals; one letter padded */
	strcpy(b.manufacturer, "bmsgw");
	FRAME_IS(G, 0x320, &b, "42 4D 00 00 00 00 00 00");
	strcpy(b.manufacturer, "x");
	FRAME_IS(G, 0x320, &b, "58 20 00 00 00 00 00 00");
}

/* Safety: the set a stale source gives (invsource.c's fail-safe battery:
 * nothing allowed, currents 0, the communication warning): zero currents,
 * the status's and 0x319's enable bits clear, no force charge, internal
 * communication fail raised; the charge voltage kept. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.force_charge = true;
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	b.warn |= BMS_AL_COMM;
	FRAME_IS(G, 0x311, &b, "02 28 00 00 00 00 0D 07");
	FRAME_IS(G, 0x319, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(G, 0x312, &b, "00 00 00 01 02 50 59 00");
	LIMITS_ARE(G, &b, 0, 0);
	/* a limit not allowed is 0 whatever its number */
	battery_b1(&b);
	b.charge_allowed = false;
	FRAME_IS(G, 0x311, &b, "02 28 00 00 02 58 0D 27");
	LIMITS_ARE(G, &b, 0, 600);
}

/* Safety: an enable bit only with a current whose field is not 0; force
 * charge (bit 5; bit 4 is "NULL") only with the charge enable. */
static void test_enables(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.ccl_a = 0.04f;  /* 0 in 0.1 A */
	FRAME_IS(G, 0x319, &b, "40 00 00 00 00 00 00 00");
	FRAME_IS(G, 0x311, &b, "02 28 00 00 02 58 0D 27");
	b.force_charge = true;
	FRAME_IS(G, 0x319, &b, "40 00 00 00 00 00 00 00");
	b.ccl_a = 50;
	FRAME_IS(G, 0x319, &b, "E0 00 00 00 00 00 00 00");
	b.dcl_a = 0.09f;
	FRAME_IS(G, 0x319, &b, "A0 00 00 00 00 00 00 00");
	FRAME_IS(G, 0x311, &b, "02 28 01 F4 00 00 0D 47");
	/* currents beyond the field: 3276.7 A, never wrapped */
	b.ccl_a = 5000;
	FRAME_IS(G, 0x311, &b, "02 28 7F FF 00 00 0D 47");
}

/* Safety: the charge voltage within 41-63 V: above, 63 V; below (a 24 V
 * pack on a Growatt), 41 V with no charge current and the charge enable
 * clear; discharge unchanged.  Without limits: nothing enabled. */
static void test_range(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.cvl_v = 70.0f;
	FRAME_IS(G, 0x311, &b, "02 76 01 F4 02 58 0D 67");
	b.cvl_v = 63.0f;
	FRAME_IS(G, 0x311, &b, "02 76 01 F4 02 58 0D 67");
	b.cvl_v = 41.0f;
	FRAME_IS(G, 0x311, &b, "01 9A 01 F4 02 58 0D 67");
	b.cvl_v = 28.4f;
	b.force_charge = true;
	FRAME_IS(G, 0x311, &b, "01 9A 00 00 02 58 0D 27");
	FRAME_IS(G, 0x319, &b, "40 00 00 00 00 00 00 00");
	LIMITS_ARE(G, &b, 0, 600);
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	FRAME_IS(G, 0x311, &b, "00 00 00 00 00 00 0D 07");
	FRAME_IS(G, 0x319, &b, "00 00 00 00 00 00 00 00");
}

/* The inverter's 0x301, standard frames only, any payload: the request. */
static void test_heard(void)
{
	struct inv_heard inv;
	struct gw_can_frame f;

	memset(&inv, 0, sizeof(inv));
	f = inv_mk(0x301, false, "11 22 33 44 55 66 77 88"); /* the document's example */
	CHECK_EQ_INT(G->can.heard(&f, &inv), INV_RX_REQUEST);
	f = inv_mk(0x301, false, "");
	CHECK_EQ_INT(G->can.heard(&f, &inv), INV_RX_REQUEST);
	f = inv_mk(0x301, true, "11 22 33 44 55 66 77 88");
	CHECK_EQ_INT(G->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x301, false, "11");
	f.rtr = true;
	CHECK_EQ_INT(G->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(G->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x311, false, "02 28 01 F4 02 58 0D 67"); /* our own answer, echoed */
	CHECK_EQ_INT(G->can.heard(&f, &inv), INV_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 2);
}

int main(void)
{
	test_set();
	test_pack();
	test_alarms();
	test_failsafe();
	test_enables();
	test_range();
	test_heard();
	return check_report();
}
