/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_pylon_can.c - the pylon-can codec (gateway/inverter/
 * dialect/emu_pylon_can.c, canframes.c) byte for byte against the layouts of
 * gateway/inverter/PROTOCOLS.md §1 (Pylontech LV CAN V1.2): every frame
 * from a known battery, fields at their limits, negative current, absent
 * values, rounding (the SOC down), the enable bits and force charge, the
 * module count, every extra (0x35F, 0x379, 0x372, 0x373-0x377, 0x382) and
 * the inverter's frames (§3); the codec table (codecs.c). */
#include "inv_check.h"

static const struct inv_codec *const P = &inv_codec_pylon_can;

/* The whole set, in order, from B1; the codec table. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_b1(&b);
	CHECK_EQ_INT(inv_can_encode(P, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 6);
	CHECK(frame_is(&f[0], 0x351, "28 02 F4 01 58 02 D0 01"));
	CHECK(frame_is(&f[1], 0x355, "51 00 61 00"));
	CHECK(frame_is(&f[2], 0x356, "C1 14 85 FF F6 00"));
	CHECK(frame_is(&f[3], 0x359, "00 00 00 00 02 50 4E"));
	CHECK(frame_is(&f[4], 0x35C, "C0 00"));
	CHECK(frame_is(&f[5], 0x35E, "50 59 4C 4F 4E 20 20 20"));
	LIMITS_ARE(P, &b, 500, 600);
	/* too small an array; frames outside the set; extras not asked for */
	CHECK_EQ_INT(inv_can_encode(P, &b, 0, f, 5, NULL), -1);
	CHECK_EQ_INT(inv_can_frame(P, 0x35A, &b, 0, f), -1);
	CHECK_EQ_INT(inv_can_frame(P, 0x379, &b, 0, f), -1);
	CHECK_EQ_INT(inv_can_frame(P, 0x370, &b, CONF_EXTRA_CAPACITY, f), -1);
	/* the table: every protocol of the list has its codec, by kind, named
	 * as the first row that has it (ferroamp-can's is pylon-hv-can's) */
	for (int p = 0; p < CONF_INV_NPROTOCOLS; p++) {
		const struct inv_codec *c = inv_codec_of((enum conf_inv_protocol)p);
		bool can = inv_dialect_kind((enum conf_inv_protocol)p) == CONF_INV_CAN;
		int first = 0;
		while (first < p && inv_codec_of((enum conf_inv_protocol)first) != c)
			first++;
		CHECK(c != NULL && strcmp(c->name, inv_dialect_name((enum conf_inv_protocol)first)) == 0);
		bool has_can = c && c->can.nframes > 0 && c->can.heard && c->can.limits;
		bool has_485 = c && c->rs485.scan && c->rs485.ours && c->rs485.answer;
		CHECK(can ? has_can && !has_485 : has_485 && !has_can && !c->can.limits);
	}
	CHECK(inv_codec_of(CONF_INV_NPROTOCOLS) == NULL);
	CHECK(inv_codec_of(CONF_INV_PYLON_CAN) == P);
	CHECK_EQ_INT(inv_dialect_default_extras(CONF_INV_PYLON_CAN), CONF_EXTRA_CAPACITY);
	CHECK_EQ_INT(inv_dialect_default_extras(CONF_INV_LUX_CAN), 0);
	CHECK_EQ_INT(P->can.gap_ms, 0);
	CHECK(!P->can.one_by_one);
}

/* The extras, after the set, each with data only. */
static void test_extras(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	unsigned all = CONF_EXTRA_CAPACITY | CONF_EXTRA_CELLS | CONF_EXTRA_MODULES | CONF_EXTRA_NAME;

	battery_b1(&b);
	b.present |= INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX;
	b.cell_min_mv = 3301;
	b.cell_max_mv = 3342;
	b.cell_min_at = (struct inv_where){ 2, 7 };
	b.cell_max_at = (struct inv_where){ 1, 16 };
	b.temp_min_c = -2.4f;   /* 270.75 K: 271 */
	b.temp_max_c = 27.0f;   /* 300.15 K: 300 */
	b.temp_min_at = (struct inv_where){ 2, 1 };
	b.temp_max_at = (struct inv_where){ 12, 8 };
	b.packs_no_charge = 1;
	b.packs_offline = 1;
	CHECK_EQ_INT(inv_can_encode(P, &b, all, f, INV_CAN_MAX_FRAMES, NULL), 15);
	/* capacity: 0x35F (Victron's layout: the Ah in bytes 4-5) and 0x379 */
	CHECK(frame_is(&f[6], 0x35F, "00 00 00 00 64 00 00 00"));
	CHECK(frame_is(&f[7], 0x379, "64 00 00 00 00 00 00 00"));
	/* modules: online, blocking charge, blocking discharge, offline */
	CHECK(frame_is(&f[8], 0x372, "02 00 01 00 00 00 01 00"));
	/* cells: lowest, highest mV; coldest, hottest K; where, ASCII */
	CHECK(frame_is(&f[9], 0x373, "E5 0C 0E 0D 0F 01 2C 01"));
	CHECK(frame_is(&f[10], 0x374, "50 32 43 37 00 00 00 00"));   /* P2C7 */
	CHECK(frame_is(&f[11], 0x375, "50 31 43 31 36 00 00 00"));   /* P1C16 */
	CHECK(frame_is(&f[12], 0x376, "50 32 54 31 00 00 00 00"));   /* P2T1 */
	CHECK(frame_is(&f[13], 0x377, "50 31 32 54 38 00 00 00"));   /* P12T8 */
	CHECK(frame_is(&f[14], 0x382, "62 6D 73 67 77 00 00 00"));   /* bmsgw */
	/* one extra alone */
	CHECK_EQ_INT(inv_can_encode(P, &b, CONF_EXTRA_NAME, f, INV_CAN_MAX_FRAMES, NULL), 7);
	CHECK(frame_is(&f[6], 0x382, "62 6D 73 67 77 00 00 00"));
	/* no data, no frame: no capacity, no extremes (never zeros as data) */
	b.present &= ~(uint32_t)(INV_HAS_FULL | INV_HAS_CELL_MINMAX);
	CHECK_EQ_INT(inv_can_encode(P, &b, all, f, INV_CAN_MAX_FRAMES, NULL), 6 + 1 + 2 + 1);
	CHECK_EQ_INT(inv_can_frame(P, 0x379, &b, all, f), -1);
	CHECK_EQ_INT(inv_can_frame(P, 0x373, &b, all, f), -1);
	CHECK_EQ_INT(inv_can_frame(P, 0x374, &b, all, f), -1);
	FRAME_X(P, all, 0x376, &b, "50 32 54 31 00 00 00 00");
	/* an unknown place is no frame either */
	b.temp_min_at = (struct inv_where){ 0, 0 };
	CHECK_EQ_INT(inv_can_frame(P, 0x376, &b, all, f), -1);
	/* module count: 0 = unknown sent as 1 */
	b.packs = 0;
	FRAME_X(P, all, 0x372, &b, "01 00 01 00 00 00 01 00");
}

/* Protections and warnings in 0x359. */
static void test_alarms(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_CHG_OC | BMS_AL_SHORT | BMS_AL_HW_FAULT;
	b.warn = b.protect | BMS_AL_CELL_UV | BMS_AL_COMM | BMS_AL_CHG_UT;
	FRAME_IS(P, 0x359, &b, "82 09 96 09 02 50 4E");
	/* over temperature (MOSFET too), under temperature */
	b.protect = BMS_AL_MOS_OT | BMS_AL_DSG_UT;
	b.warn = BMS_AL_CHG_OT | BMS_AL_CELL_DIFF;
	FRAME_IS(P, 0x359, &b, "18 00 08 00 02 50 4E");
	/* no alarm word at all: nothing set */
	b.present &= ~(uint32_t)INV_HAS_ALARMS;
	FRAME_IS(P, 0x359, &b, "00 00 00 00 02 50 4E");
	/* a pack in cell under-voltage protection */
	b.present |= INV_HAS_ALARMS;
	b.protect = b.warn = BMS_AL_CELL_UV;
	FRAME_IS(P, 0x359, &b, "04 00 04 00 02 50 4E");
	/* module count: 0 = unknown sent as 1, clamped to 255 */
	b.packs = 0;
	FRAME_IS(P, 0x359, &b, "04 00 04 00 01 50 4E");
	b.packs = 300;
	FRAME_IS(P, 0x359, &b, "04 00 04 00 FF 50 4E");
	b.packs = 7;
	FRAME_IS(P, 0x359, &b, "04 00 04 00 07 50 4E");
}

/* Request flags and the currents they force to 0; an enable bit never goes
 * with a current its field rounds to 0; force charge only with the charge
 * enable. */
static void test_flags(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.force_charge = b.full_charge_request = true;
	FRAME_IS(P, 0x35C, &b, "F8 00");
	b.charge_allowed = false;
	FRAME_IS(P, 0x35C, &b, "48 00");
	FRAME_IS(P, 0x351, &b, "28 02 00 00 58 02 D0 01");
	LIMITS_ARE(P, &b, 0, 600);
	b.discharge_allowed = false;
	b.force_charge = b.full_charge_request = false;
	FRAME_IS(P, 0x35C, &b, "00 00");
	/* allowed, but under 0.1 A: the field is 0, so is the bit */
	battery_b1(&b);
	b.force_charge = true;
	b.ccl_a = 0.09f;
	b.dcl_a = 0.04f;
	FRAME_IS(P, 0x351, &b, "28 02 00 00 00 00 D0 01");
	LIMITS_ARE(P, &b, 0, 0);
	FRAME_IS(P, 0x35C, &b, "00 00");
	b.ccl_a = 0.1f;           /* exactly 1 x 0.1 A */
	FRAME_IS(P, 0x35C, &b, "B0 00");
	/* no limits: nothing allowed, currents 0 */
	battery_b1(&b);
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	FRAME_IS(P, 0x35C, &b, "00 00");
	FRAME_IS(P, 0x351, &b, "00 00 00 00 00 00 00 00");
	LIMITS_ARE(P, &b, 0, 0);
}

/* Fields at their limits: clamped, never wrapped; rounding. */
static void test_ranges(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.cvl_v = 7000;          /* 70000 x 0.1 V: 0xFFFF */
	b.ccl_a = 5000;          /* s16: 32767 */
	b.dcl_a = -3;            /* never negative */
	b.dvl_v = -1;
	b.voltage = 400;         /* s16 0.01 V: 327.67 V */
	b.current = 5000;
	b.temp_c = -5000;        /* -32767 */
	b.soc = 150;
	b.soh = -4;
	FRAME_IS(P, 0x351, &b, "FF FF FF 7F 00 00 00 00");
	FRAME_IS(P, 0x356, &b, "FF 7F FF 7F 01 80");
	FRAME_IS(P, 0x355, &b, "64 00 00 00");
	b.current = -5000;
	FRAME_IS(P, 0x356, &b, "FF 7F 01 80 01 80");
	/* rounding: limits toward the safe side, measurements to the nearest,
	 * the SOC down (never 100 % before the battery says 100) */
	battery_b1(&b);
	b.cvl_v = 55.19f;        /* 551.9: 551 */
	b.ccl_a = 50.09f;        /* 500.9: 500 */
	b.dcl_a = 0.05f;         /* 0.5: 0 */
	b.dvl_v = 46.41f;        /* 464.1: 465 */
	b.soc = 99.5f;           /* 99 */
	b.current = -0.26f;      /* -2.6: -3 */
	b.temp_c = 0.04f;        /* 0.4: 0 */
	FRAME_IS(P, 0x351, &b, "27 02 F4 01 00 00 D1 01");
	FRAME_IS(P, 0x355, &b, "63 00 61 00");
	FRAME_IS(P, 0x356, &b, "C1 14 FD FF 00 00");
	b.soc = 99.99f;
	FRAME_IS(P, 0x355, &b, "63 00 61 00");
	b.soc = 100;
	FRAME_IS(P, 0x355, &b, "64 00 61 00");
	b.soc = 59.99998f;       /* a mean of packs at 60 %: 60 */
	FRAME_IS(P, 0x355, &b, "3C 00 61 00");
	/* a float's 55.2 is 55.19999..: still 552 */
	b.cvl_v = 55.2f;
	b.dvl_v = 46.4f;
	FRAME_IS(P, 0x351, &b, "28 02 F4 01 00 00 D0 01");
}

/* Absent values: Pylon's documented stand-ins. */
static void test_absent(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.present = INV_HAS_LIMITS;
	FRAME_IS(P, 0x355, &b, "00 00 64 00");
	FRAME_IS(P, 0x356, &b, "00 00 00 00 00 00");
	/* manufacturer: default, 8 characters, non-printable */
	battery_b1(&b);
	b.manufacturer[0] = '\0';
	FRAME_IS(P, 0x35E, &b, "50 59 4C 4F 4E 20 20 20");
	strcpy(b.manufacturer, "ABCDEFGH");
	FRAME_IS(P, 0x35E, &b, "41 42 43 44 45 46 47 48");
	strcpy(b.manufacturer, "A\001\x7f");
	FRAME_IS(P, 0x35E, &b, "41 3F 3F 20 20 20 20 20");
}

/* The inverter's frames. */
static void test_heard(void)
{
	struct inv_heard inv;
	struct gw_can_frame f;

	memset(&inv, 0, sizeof(inv));
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x305, true, "00 00 00 00 00 00 00 00"); /* Schneider: 29 bit */
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x305, false, "21 00 00 00 00 00 00 00");
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x306, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_306);
	CHECK(!inv.victron);
	f = inv_mk(0x307, false, "12 34 56 78 56 49 43 00"); /* Victron GX: "VIC" */
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_VICTRON);
	CHECK(inv.victron);
	f = inv_mk(0x307, false, "12 34");
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_ALIVE);
	CHECK_EQ_INT(inv.frames, 6);
	/* not the inverter's: our own frames, other ids, remote frames, 0x300 */
	f = inv_mk(0x351, false, "28 02 F4 01 58 02 D0 01");
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x306, true, "00");
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x300, false, "01 00 00 00 00 00 00 00");
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x305, false, "");
	f.rtr = true;
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	f.dlc = 9;
	CHECK_EQ_INT(P->can.heard(&f, &inv), INV_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 6);
}

int main(void)
{
	test_set();
	test_extras();
	test_alarms();
	test_flags();
	test_ranges();
	test_absent();
	test_heard();
	return check_report();
}
