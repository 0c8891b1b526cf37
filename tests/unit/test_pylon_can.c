/* tests/unit/test_pylon_can.c - the pylon-can and sma-can frame sets
 * (gateway/inverter/pylon_can.c) byte for byte against the layouts of
 * gateway/inverter/PROTOCOLS.md §1-§2 (Pylontech LV CAN V1.2, SMA's
 * "Connecting Batteries with external BMS to Sunny Island"): every frame
 * of both dialects from a known battery, fields at their limits, negative
 * current, absent values, clamping, flags, module count; and the
 * inverter's frames (§3). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/pylon_can.h"
#include "check.h"

/* Frame f is id with exactly the bytes of hex (its length is the DLC). */
static bool frame_is(const struct gw_can_frame *f, uint32_t id, const char *hex)
{
	unsigned char want[8];
	int n = check_hex(hex, want, (int)sizeof(want));

	if (n < 0 || f->id != id || f->dlc != n || f->ext || f->rtr || memcmp(f->data, want, (size_t)n))
		return false;
	for (int i = n; i < 8; i++)
		if (f->data[i])
			return false;
	return true;
}

#define FRAME_IS(d, id, b, hex) do { \
	struct gw_can_frame f_; \
	CHECK_EQ_INT(pylon_can_frame(d, id, b, &f_), 0); \
	if (!frame_is(&f_, id, hex)) { \
		fprintf(stderr, "  0x%03X dlc %u:", (unsigned)(id), f_.dlc); \
		for (int i_ = 0; i_ < f_.dlc && i_ < 8; i_++) \
			fprintf(stderr, " %02X", f_.data[i_]); \
		fprintf(stderr, " (want %s)\n", hex); \
	} \
	CHECK(frame_is(&f_, id, hex)); \
} while (0)

static void battery_b1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT |
		     INV_HAS_TEMP | INV_HAS_FULL | INV_HAS_ALARMS;
	b->cvl_v = 55.2f;
	b->ccl_a = 50;
	b->dcl_a = 60;
	b->dvl_v = 46.4f;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 81.6f;
	b->soh = 97.4f;
	b->voltage = 53.125f;   /* 5312.5 x 10 mV: to 5313 */
	b->current = -12.34f;   /* discharging */
	b->temp_c = 24.56f;
	b->full_ah = 100;
	b->packs = 2;
	strcpy(b->manufacturer, "PYLON");
}

/* The whole set of each dialect, in order, from B1. */
static void test_sets(void)
{
	struct inv_battery b;
	struct gw_can_frame f[PYLON_CAN_MAX_FRAMES];

	battery_b1(&b);
	CHECK_EQ_INT(pylon_can_encode(PYLON_CAN_PYLON, &b, f, PYLON_CAN_MAX_FRAMES), 6);
	CHECK(frame_is(&f[0], 0x351, "28 02 F4 01 58 02 D0 01"));
	CHECK(frame_is(&f[1], 0x355, "52 00 61 00"));
	CHECK(frame_is(&f[2], 0x356, "C1 14 85 FF F6 00"));
	CHECK(frame_is(&f[3], 0x359, "00 00 00 00 02 50 4E"));
	CHECK(frame_is(&f[4], 0x35C, "C0 00"));
	CHECK(frame_is(&f[5], 0x35E, "50 59 4C 4F 4E 20 20 20"));

	CHECK_EQ_INT(pylon_can_encode(PYLON_CAN_SMA, &b, f, PYLON_CAN_MAX_FRAMES), 6);
	CHECK(frame_is(&f[0], 0x351, "28 02 F4 01 58 02 D0 01"));
	CHECK(frame_is(&f[1], 0x355, "52 00 61 00 E0 1F FF FF"));
	CHECK(frame_is(&f[2], 0x356, "C1 14 85 FF F6 00 FF FF"));
	CHECK(frame_is(&f[3], 0x35A, "AA AA AA 02 AA AA AA 02"));
	CHECK(frame_is(&f[4], 0x35E, "50 59 4C 4F 4E 20 20 20"));
	CHECK(frame_is(&f[5], 0x35F, "FF FF FF FF 64 00 FF FF"));

	/* too small an array; frames outside a dialect */
	CHECK_EQ_INT(pylon_can_encode(PYLON_CAN_PYLON, &b, f, 5), -1);
	CHECK_EQ_INT(pylon_can_frame(PYLON_CAN_PYLON, 0x35A, &b, f), -1);
	CHECK_EQ_INT(pylon_can_frame(PYLON_CAN_PYLON, 0x35F, &b, f), -1);
	CHECK_EQ_INT(pylon_can_frame(PYLON_CAN_SMA, 0x359, &b, f), -1);
	CHECK_EQ_INT(pylon_can_frame(PYLON_CAN_SMA, 0x35C, &b, f), -1);
	CHECK_EQ_INT(pylon_can_frame(PYLON_CAN_SMA, 0x370, &b, f), -1);
	CHECK_EQ_INT(pylon_can_gap_ms(PYLON_CAN_SMA), 200);
	CHECK_EQ_INT(pylon_can_gap_ms(PYLON_CAN_PYLON), 0);
	CHECK_EQ_INT(pylon_can_dialect_from_name("pylon-can"), PYLON_CAN_PYLON);
	CHECK_EQ_INT(pylon_can_dialect_from_name("sma-can"), PYLON_CAN_SMA);
	CHECK_EQ_INT(pylon_can_dialect_from_name("pylon-rs485"), -1);
	CHECK_STR(pylon_can_dialect_name(PYLON_CAN_SMA), "sma-can");
}

/* Protections and warnings in 0x359 and 0x35A. */
static void test_alarms(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_CHG_OC | BMS_AL_SHORT | BMS_AL_HW_FAULT;
	b.warn = b.protect | BMS_AL_CELL_UV | BMS_AL_COMM | BMS_AL_CHG_UT;
	FRAME_IS(PYLON_CAN_PYLON, 0x359, &b, "82 09 96 09 02 50 4E");
	FRAME_IS(PYLON_CAN_SMA, 0x35A, &b, "A6 AA 59 02 96 9A 59 02");
	/* over temperature (MOSFET too), under temperature */
	b.protect = BMS_AL_MOS_OT | BMS_AL_DSG_UT;
	b.warn = BMS_AL_CHG_OT | BMS_AL_CELL_DIFF;
	FRAME_IS(PYLON_CAN_PYLON, 0x359, &b, "18 00 08 00 02 50 4E");
	/* SMA: 4 high temp (MOSFET) an alarm; the under-temperature protection
	 * (5 low temp) a warning, as UV and UT are to a Sunny Island; warnings
	 * 6 high temp charge, 13 imbalance */
	FRAME_IS(PYLON_CAN_SMA, 0x35A, &b, "6A AA AA 02 AA A5 AA 01");
	/* a pack in cell under-voltage protection: a warning to SMA, a
	 * protection to Pylontech */
	b.protect = b.warn = BMS_AL_CELL_UV;
	FRAME_IS(PYLON_CAN_SMA, 0x35A, &b, "AA AA AA 02 9A AA AA 02");
	FRAME_IS(PYLON_CAN_PYLON, 0x359, &b, "04 00 04 00 02 50 4E");
	/* no alarm word at all: nothing set */
	b.present &= ~(uint32_t)INV_HAS_ALARMS;
	FRAME_IS(PYLON_CAN_PYLON, 0x359, &b, "00 00 00 00 02 50 4E");
	FRAME_IS(PYLON_CAN_SMA, 0x35A, &b, "AA AA AA 02 AA AA AA 02");
	b.present |= INV_HAS_ALARMS;
	/* module count: 0 = unknown sent as 1, clamped to 255 */
	b.packs = 0;
	FRAME_IS(PYLON_CAN_PYLON, 0x359, &b, "04 00 04 00 01 50 4E");
	b.packs = 300;
	FRAME_IS(PYLON_CAN_PYLON, 0x359, &b, "04 00 04 00 FF 50 4E");
	b.packs = 7;
	FRAME_IS(PYLON_CAN_PYLON, 0x359, &b, "04 00 04 00 07 50 4E");
}

/* Request flags and the currents they force to 0. */
static void test_flags(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.force_charge = b.full_charge_request = true;
	FRAME_IS(PYLON_CAN_PYLON, 0x35C, &b, "F8 00");
	b.charge_allowed = false;
	FRAME_IS(PYLON_CAN_PYLON, 0x35C, &b, "78 00");
	FRAME_IS(PYLON_CAN_PYLON, 0x351, &b, "28 02 00 00 58 02 D0 01");
	b.discharge_allowed = false;
	b.force_charge = b.full_charge_request = false;
	FRAME_IS(PYLON_CAN_PYLON, 0x35C, &b, "00 00");
	FRAME_IS(PYLON_CAN_SMA, 0x351, &b, "28 02 00 00 00 00 D0 01");
	/* no limits: nothing allowed, currents 0; SMA voltages "invalid" */
	battery_b1(&b);
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	FRAME_IS(PYLON_CAN_PYLON, 0x35C, &b, "00 00");
	FRAME_IS(PYLON_CAN_PYLON, 0x351, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(PYLON_CAN_SMA, 0x351, &b, "FF FF 00 00 00 00 FF FF");
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
	b.temp_c = -5000;        /* -32767: -32768 is SMA's "invalid" */
	b.soc = 150;
	b.soh = -4;
	FRAME_IS(PYLON_CAN_PYLON, 0x351, &b, "FF FF FF 7F 00 00 00 00");
	FRAME_IS(PYLON_CAN_PYLON, 0x356, &b, "FF 7F FF 7F 01 80");
	FRAME_IS(PYLON_CAN_PYLON, 0x355, &b, "64 00 00 00");
	FRAME_IS(PYLON_CAN_SMA, 0x355, &b, "64 00 00 00 10 27 FF FF");
	b.current = -5000;
	FRAME_IS(PYLON_CAN_PYLON, 0x356, &b, "FF 7F 01 80 01 80");
	/* SMA's ranges: CVL 41..63 V, DVL 41..48 V, currents 0..1200 A */
	battery_b1(&b);
	b.cvl_v = 70;
	b.ccl_a = 1500;
	FRAME_IS(PYLON_CAN_SMA, 0x351, &b, "76 02 E0 2E 58 02 D0 01");
	/* a DVL above 48 V is sent as 48 V and discharging stops */
	b.dvl_v = 50;
	FRAME_IS(PYLON_CAN_SMA, 0x351, &b, "76 02 E0 2E 00 00 E0 01");
	/* a CVL below 41 V is sent as 41 V and charging stops; DVL up to 41 V */
	b.cvl_v = 30;
	b.dvl_v = 30;
	FRAME_IS(PYLON_CAN_SMA, 0x351, &b, "9A 01 00 00 58 02 9A 01");
	/* Pylon has no such ranges */
	FRAME_IS(PYLON_CAN_PYLON, 0x351, &b, "2C 01 98 3A 58 02 2C 01");
	/* rounding: limits toward the safe side, measurements to the nearest */
	battery_b1(&b);
	b.cvl_v = 55.19f;        /* 551.9: 551 */
	b.ccl_a = 50.09f;        /* 500.9: 500 */
	b.dcl_a = 0.05f;         /* 0.5: 0 */
	b.dvl_v = 46.41f;        /* 464.1: 465 */
	b.soc = 99.5f;           /* 100 */
	b.current = -0.26f;      /* -2.6: -3 */
	b.temp_c = 0.04f;        /* 0.4: 0 */
	FRAME_IS(PYLON_CAN_PYLON, 0x351, &b, "27 02 F4 01 00 00 D1 01");
	FRAME_IS(PYLON_CAN_PYLON, 0x355, &b, "64 00 61 00");
	FRAME_IS(PYLON_CAN_PYLON, 0x356, &b, "C1 14 FD FF 00 00");
	/* a float's 55.2 is 55.19999..: still 552 */
	b.cvl_v = 55.2f;
	b.dvl_v = 46.4f;
	FRAME_IS(PYLON_CAN_PYLON, 0x351, &b, "28 02 F4 01 00 00 D0 01");
}

/* Absent values: SMA's "invalid", Pylon's documented stand-ins. */
static void test_absent(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.present = INV_HAS_LIMITS;
	FRAME_IS(PYLON_CAN_SMA, 0x355, &b, "FF FF FF FF FF FF FF FF");
	FRAME_IS(PYLON_CAN_SMA, 0x356, &b, "00 80 00 80 00 80 FF FF");
	FRAME_IS(PYLON_CAN_SMA, 0x35F, &b, "FF FF FF FF FF FF FF FF");
	FRAME_IS(PYLON_CAN_PYLON, 0x355, &b, "00 00 64 00");
	FRAME_IS(PYLON_CAN_PYLON, 0x356, &b, "00 00 00 00 00 00");
	/* a value present but not a number counts as absent */
	battery_b1(&b);
	b.voltage = NAN;
	b.soc = INFINITY;
	FRAME_IS(PYLON_CAN_SMA, 0x356, &b, "00 80 85 FF F6 00 FF FF");
	FRAME_IS(PYLON_CAN_SMA, 0x355, &b, "FF FF 61 00 FF FF FF FF");
	b.full_ah = 70000;       /* clamped below SMA's invalid */
	FRAME_IS(PYLON_CAN_SMA, 0x35F, &b, "FF FF FF FF FE FF FF FF");
	/* manufacturer: default, 8 characters, non-printable */
	b.manufacturer[0] = '\0';
	FRAME_IS(PYLON_CAN_PYLON, 0x35E, &b, "50 59 4C 4F 4E 20 20 20");
	strcpy(b.manufacturer, "ABCDEFGH");
	FRAME_IS(PYLON_CAN_PYLON, 0x35E, &b, "41 42 43 44 45 46 47 48");
	strcpy(b.manufacturer, "A\001\x7f");
	FRAME_IS(PYLON_CAN_SMA, 0x35E, &b, "41 3F 3F 20 20 20 20 20");
}

static struct gw_can_frame mk(uint32_t id, bool ext, const char *hex)
{
	struct gw_can_frame f;

	memset(&f, 0, sizeof(f));
	f.id = id;
	f.ext = ext;
	f.dlc = (uint8_t)check_hex(hex, f.data, 8);
	return f;
}

/* The inverter's frames. */
static void test_seen(void)
{
	struct pylon_can_inverter inv;
	struct gw_can_frame f;

	memset(&inv, 0, sizeof(inv));
	f = mk(0x305, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_ALIVE);
	f = mk(0x305, true, "00 00 00 00 00 00 00 00"); /* Schneider: 29 bit */
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_ALIVE);
	f = mk(0x305, false, "21 00 00 00 00 00 00 00");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_ALIVE);
	f = mk(0x306, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_306);
	CHECK(!inv.victron);
	f = mk(0x307, false, "12 34 56 78 56 49 43 00"); /* Victron GX: "VIC" */
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_VICTRON);
	CHECK(inv.victron);
	f = mk(0x307, false, "12 34");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_ALIVE);
	CHECK_EQ_INT(inv.frames, 6);
	/* not the inverter's: our own frames, other ids, remote frames */
	f = mk(0x351, false, "28 02 F4 01 58 02 D0 01");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_OTHER);
	f = mk(0x306, true, "00");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_OTHER);
	f = mk(0x305, false, "");
	f.rtr = true;
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_PYLON, &f, &inv), PYLON_CAN_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 6);

	/* Sunny Island: 52.3 V, -10.5 A (it counts charging negative), 25.0 C, 81.0 % */
	memset(&inv, 0, sizeof(inv));
	f = mk(0x305, false, "0B 02 97 FF FA 00 2A 03");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_SMA, &f, &inv), PYLON_CAN_RX_SMA_MEAS);
	CHECK(inv.have_meas);
	CHECK_NEAR(inv.voltage, 52.3, 1e-4);
	CHECK_NEAR(inv.current, 10.5, 1e-4);
	CHECK_NEAR(inv.temp_c, 25.0, 1e-4);
	CHECK_NEAR(inv.soc, 81.0, 1e-4);
	/* SOH 97, procedure 10 (external BMS), operating, no error, 55.2 V */
	f = mk(0x306, false, "61 00 0A 01 00 00 28 02");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_SMA, &f, &inv), PYLON_CAN_RX_SMA_STATE);
	CHECK(inv.have_state);
	CHECK_EQ_INT(inv.soh, 97);
	CHECK_EQ_INT(inv.charging_procedure, 10);
	CHECK_EQ_INT(inv.operating_state, 1);
	CHECK_EQ_INT(inv.error, 0);
	CHECK_NEAR(inv.charge_setpoint_v, 55.2, 1e-4);
	/* too short to use; the relay frame; a 29-bit 0x305 is not SMA's */
	f = mk(0x305, false, "0B 02 97 FF FA 00");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_SMA, &f, &inv), PYLON_CAN_RX_BAD);
	f = mk(0x307, false, "01 00");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_SMA, &f, &inv), PYLON_CAN_RX_ALIVE);
	f = mk(0x305, true, "0B 02 97 FF FA 00 2A 03");
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_SMA, &f, &inv), PYLON_CAN_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 4);
	/* a DLC above 8 (a bad transport) is not read */
	f = mk(0x305, false, "00 00 00 00 00 00 00 00");
	f.dlc = 9;
	CHECK_EQ_INT(pylon_can_seen(PYLON_CAN_SMA, &f, &inv), PYLON_CAN_RX_OTHER);
}

int main(void)
{
	test_sets();
	test_alarms();
	test_flags();
	test_ranges();
	test_absent();
	test_seen();
	return check_report();
}
