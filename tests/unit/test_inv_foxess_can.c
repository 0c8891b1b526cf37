/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_foxess_can.c - the foxess-can codec (gateway/inverter/
 * dialect/emu_foxess_can.c) byte for byte against PROTOCOLS.md §12: extended
 * identifiers, little endian, DLC 8; the sources' own bytes
 * (Battery-Emulator's FoxESS inverter header,
 * https://github.com/dalathegreat/Battery-Emulator/blob/main/Software/src/inverter/FOXESS-CAN.h: initial 0x1872, 0x1873, 0x1875, 0x1876;
 * its 0x1871 time frame; FozzieUK's requests) and frames this test encodes
 * from the layout (FozzieUK's capture dbc for 0x1879 and the cells and
 * sensors, Battery-Emulator's for the modules); the inverter's 0x1871 by kind (01 with byte 4 = 00,
 * 01, 04; 05; 02 and 03 heard only; broken ones) and the answers: the
 * state in order, the modules, the serial numbers of every slot, the cells
 * and sensors of a source with a list (none without), 0x1877 in turn; the
 * module rule and report_modules; the safety rules, each a check that fails
 * without its rule: the fail-safe answer (zero currents, contactor 0,
 * "charging not possible", not operational, an error), a direction not
 * allowed is 0 A and its bit clear, the states on a fake clock: nothing
 * before data, zero limits when stale, then silence, silence outside
 * 80-480 V. */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const F = &inv_codec_foxess_can;

#define FX_IS(b, id, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(F, id, b, 0, &f_), 0); \
	CHECK(ext_frame_is(&f_, id, hex)); \
} while (0)

/* X1: Battery-Emulator's FoxESS initial data as a battery: eight 16S LFP
 * modules (128 cells, 409.6 V nominal), CVL 467.2, DVL 320.0, CCL 20.5,
 * DCL 50.0 A, 425.9 V, +1.3 A, SOC 93 %, 46.66 Ah left of 100, sensors
 * 25.0 / 24.8 degC, cells 3335 / 3326 mV, 142 cycles. */
static void battery_x1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_REMAIN | INV_HAS_ALARMS |
		     INV_HAS_CYCLES;
	b->cvl_v = 467.2f;
	b->dvl_v = 320.0f;
	b->ccl_a = 20.5f;
	b->dcl_a = 50.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 425.9f;
	b->current = 1.3f;
	b->soc = 93.0f;
	b->soh = 100;
	b->full_ah = 100;
	b->remain_ah = 46.66f;
	b->temp_c = 24.9f;
	b->temp_max_c = 25.0f;
	b->temp_min_c = 24.8f;
	b->cell_max_mv = 3335;
	b->cell_min_mv = 3326;
	b->cycles = 142;
	b->total_cells = 128;
	b->modules = 8;
	b->battery_type = 0x52;
	strcpy(b->machine_tag, "3d1219c7");
}

/* The state set: Battery-Emulator's vectors where its initial data is a
 * battery's (0x1872, 0x1873, 0x1875), the rest from the layout. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_x1(&b);
	CHECK_EQ_INT(inv_can_encode(F, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 8);
	for (int i = 0; i < 8; i++)
		CHECK(f[i].id == 0x1872 + (uint32_t)i && f[i].ext && f[i].dlc == 8);
	CHECK(ext_frame_is(&f[0], 0x1872, "40 12 80 0C CD 00 F4 01")); /* BE: 467.2 V, 320.0 V, 20.5 A, 50.0 A */
	CHECK(ext_frame_is(&f[1], 0x1873, "A3 10 0D 00 5D 00 77 07")); /* BE: 425.9 V, +1.3 A, 93 %, 19.11 kWh */
	CHECK(ext_frame_is(&f[2], 0x1874, "FA 00 F8 00 07 0D FE 0C")); /* cells in mV (Battery-Emulator) */
	CHECK(ext_frame_is(&f[3], 0x1875, "F9 00 FF 08 01 00 8E 00")); /* BE: 24.9 degC, 0xFF, 8, on, 142 */
	/* charging possible: bit 0 clear; BE's vector has it set (its SOC 100 %, below) */
	CHECK(ext_frame_is(&f[4], 0x1876, "00 00 07 0D 00 00 FE 0C"));
	CHECK(ext_frame_is(&f[5], 0x1877, "00 00 00 00 52 00 12 01")); /* the master */
	CHECK(ext_frame_is(&f[6], 0x1878, "07 0A 00 00 00 00 00 00")); /* 256.7, lifetime unknown */
	/* 0x1879: always, may discharge, may charge, charging, operational */
	CHECK(ext_frame_is(&f[7], 0x1879, "00 37 00 00 00 00 00 00"));
	LIMITS_ARE(F, &b, 205, 500);
	CHECK(F->can.answers && F->can.answer && F->can.forget_s == 0);
	CHECK(inv_codec_of(CONF_INV_FOXESS_CAN) == F);
	CHECK_STR(inv_dialect_name(CONF_INV_FOXESS_CAN), "foxess-can");
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_FOXESS_CAN), 500000);
	double lo = 0, hi = 0;
	CHECK(inv_dialect_volt_range(CONF_INV_FOXESS_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 480, 1e-9);
	/* BE's 0x1876 vector: charging not possible at 100 % */
	b.soc = 100;
	FX_IS(&b, 0x1876, "01 00 07 0D 00 00 FE 0C");
}

/* The module rule (nominal V / 51.2, 1..8), report_modules, the state
 * bits, a fault. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_x1(&b);
	b.total_cells = 64; /* 204.8 V: 4 */
	FX_IS(&b, 0x1875, "F9 00 0F 04 01 00 8E 00");
	b.total_cells = 300; /* 960 V: at most 8 */
	FX_IS(&b, 0x1875, "F9 00 FF 08 01 00 8E 00");
	b.total_cells = 0; /* the measured 425.9 V: 8 */
	FX_IS(&b, 0x1875, "F9 00 FF 08 01 00 8E 00");
	b.report_modules = 3;
	FX_IS(&b, 0x1875, "F9 00 07 03 01 00 8E 00");
	/* discharging with charging not allowed: bits 0, 1, 3, 5 */
	battery_x1(&b);
	b.current = -20;
	b.charge_allowed = false;
	FX_IS(&b, 0x1879, "00 2B 00 00 00 00 00 00");
	FX_IS(&b, 0x1876, "01 00 07 0D 00 00 FE 0C");
	/* idle: neither 3 nor 4 */
	b.current = 0;
	FX_IS(&b, 0x1879, "00 23 00 00 00 00 00 00");
	/* a hardware fault: 0x1877 byte 0 = 02, 0x1879 bit 6, 0x1876 bit 0 */
	battery_x1(&b);
	b.protect = BMS_AL_HW_FAULT;
	FX_IS(&b, 0x1877, "02 00 00 00 52 00 12 01");
	FX_IS(&b, 0x1879, "00 77 00 00 00 00 00 00");
	FX_IS(&b, 0x1876, "01 00 07 0D 00 00 FE 0C");
	/* the battery type as set */
	battery_x1(&b);
	b.battery_type = 0x86;
	FX_IS(&b, 0x1877, "00 00 00 00 86 00 12 01");
	/* a cycle count past 65535 is held there */
	battery_x1(&b);
	b.cycles = 70000;
	FX_IS(&b, 0x1875, "F9 00 FF 08 01 00 FF FF");
}

/* Safety: the fail-safe battery gives zero currents, the voltages kept,
 * the contactor 0, "charging not possible", an error, not operational. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_x1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	b.failsafe = true;
	FX_IS(&b, 0x1872, "40 12 80 0C 00 00 00 00");
	FX_IS(&b, 0x1875, "F9 00 FF 08 00 00 8E 00");
	FX_IS(&b, 0x1876, "01 00 07 0D 00 00 FE 0C");
	FX_IS(&b, 0x1877, "02 00 00 00 52 00 12 01");
	FX_IS(&b, 0x1879, "00 51 00 00 00 00 00 00");
	LIMITS_ARE(F, &b, 0, 0);
	battery_x1(&b);
	b.discharge_allowed = false;
	FX_IS(&b, 0x1872, "40 12 80 0C CD 00 00 00");
	FX_IS(&b, 0x1879, "00 35 00 00 00 00 00 00"); /* BE's "charging" value */
	LIMITS_ARE(F, &b, 205, 0);
}

/* The inverter's 0x1871 by kind; FozzieUK's frames and BE's time. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x1871, true, "01 00 01 00 00 00 00 00");
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x01);
	f = inv_mk(0x1871, true, "01 00 01 00 01 00 00 00");
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_REQUEST);
	f = inv_mk(0x1871, true, "01 00 01 00 04 00 00 00");
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_REQUEST);
	f = inv_mk(0x1871, true, "05 00 01 00 00 00 00 00");
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x0F);
	h.asked = 0;
	f = inv_mk(0x1871, true, "01 00 01 00 02 00 00 00"); /* an unknown kind */
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1871, true, "01"); /* no byte 4: the state */
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x01);
	h.asked = 0;
	f = inv_mk(0x1871, true, "02 00 01 00 01 00 00 00"); /* an acknowledgement */
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1871, true, "03 06 17 05 09 09 28 22"); /* 2023-05-09 09:40:34 */
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1871, true, "");
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_BAD);
	CHECK_EQ_INT(h.asked, 0);
	CHECK_EQ_INT(h.frames, 9);
	f = inv_mk(0x1871, false, "01 00 01 00 00 00 00 00");
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x1873, true, "A3 10 0D 00 5D 00 77 07");
	CHECK_EQ_INT(F->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 9);
}

/* The answers: each kind its frames; 0x1877 of the master and each module
 * in turn; the modules' frames; the serial numbers; the cells and sensors. */
static void test_answer(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter c;
	struct inv_heard h;

	memset(&c, 0, sizeof(c));
	memset(&h, 0, sizeof(h));
	battery_x1(&b);
	b.report_modules = 2;
	CHECK_EQ_INT(inv_answer_h(F, &c, &h, 0x01, &b, f, &e), 8);
	CHECK(e.limits && f[5].data[4] == 0x52);
	CHECK_EQ_INT(inv_answer_h(F, &c, &h, 0x01, &b, f, &e), 8);
	CHECK(ext_frame_is(&f[5], 0x1877, "00 00 00 00 84 00 1F 10")); /* module 1 */
	CHECK_EQ_INT(inv_answer_h(F, &c, &h, 0x01, &b, f, &e), 8);
	CHECK(ext_frame_is(&f[5], 0x1877, "00 00 00 00 84 00 1F 20"));
	CHECK_EQ_INT(inv_answer_h(F, &c, &h, 0x01, &b, f, &e), 8);
	CHECK_EQ_INT(f[5].data[4], 0x52); /* the master again */
	/* the modules, the battery shared between 2 as Battery-Emulator does:
	 * 1.3 A / 2 (a float's 0.6499...: 6), 25.0 / 24.8 degC + 40 (65, 65), 93 %, 0x0A,
	 * 425.9 V / 2 = 212.95 V in 0.01 V (21295) */
	CHECK_EQ_INT(inv_answer_h(F, &c, NULL, 0x02, &b, f, &e), 2);
	CHECK(!e.limits);
	CHECK(ext_frame_is(&f[0], 0x0C05, "06 00 41 41 5D 0A 2F 53"));
	CHECK_EQ_INT(f[1].id, 0x0C06);
	b.report_modules = 8;
	b.voltage = 426.0f; /* 53.25 V each */
	b.current = -20; /* -2.5 A each */
	CHECK_EQ_INT(inv_answer_h(F, &c, NULL, 0x02, &b, f, &e), 8);
	CHECK(ext_frame_is(&f[7], 0x0C0C, "E7 FF 41 41 5D 0A CD 14"));
	/* the serial numbers: slot 0 and 8 modules, three parts each */
	CHECK_EQ_INT(inv_answer_h(F, &c, NULL, 0x08, &b, f, &e), 27);
	CHECK(ext_frame_is(&f[0], 0x1881, "00 42 4D 53 47 57 30 30"));
	CHECK(ext_frame_is(&f[1], 0x1882, "00 33 44 31 32 31 39 43"));
	CHECK(ext_frame_is(&f[2], 0x1883, "00 37 30 30 30 30 30 30"));
	CHECK(ext_frame_is(&f[26], 0x1883, "08 37 30 30 30 30 30 30"));
	/* cells: none without a list */
	CHECK_EQ_INT(inv_answer_h(F, &c, NULL, 0x04, &b, f, &e), 0);
	/* a pack's 6 cells and 3 sensors: two cell frames, the last one's
	 * unused places its lowest cell; one sensor frame, the unused places
	 * the coldest sensor */
	uint16_t mv[6] = { 3301, 3302, 3303, 3304, 3305, 3300 };
	memcpy(b.cell_mv, mv, sizeof(mv));
	b.ncells = 6;
	b.cell_min_mv = 3300;
	b.temps_c[0] = 20;
	b.temps_c[1] = -5;
	b.temps_c[2] = 30.4f;
	b.ntemps = 3;
	b.temp_min_c = -5;
	b.present |= INV_HAS_CELLS | INV_HAS_TEMPS;
	CHECK_EQ_INT(inv_answer_h(F, &c, NULL, 0x04, &b, f, &e), 3);
	CHECK(ext_frame_is(&f[0], 0x0C1D, "E5 0C E6 0C E7 0C E8 0C"));
	CHECK(ext_frame_is(&f[1], 0x0C21, "E9 0C E4 0C E4 0C E4 0C"));
	CHECK(ext_frame_is(&f[2], 0x0D21, "46 2D 50 2D 2D 2D 2D 2D"));
	/* everything at once: in order state, modules, serials, cells */
	CHECK_EQ_INT(inv_answer_h(F, &c, NULL, 0x0F, &b, f, &e), 8 + 8 + 27 + 3);
	CHECK(e.limits && f[0].id == 0x1872 && f[8].id == 0x0C05 && f[16].id == 0x1881 && f[43].id == 0x0C1D);
	/* 144 cells and 64 sensors: 36 + 8 frames, the last ones 0x0CAD, 0x0D59 */
	b.ncells = BMS_MAX_CELLS < 144 ? BMS_MAX_CELLS : 144;
	b.ntemps = BMS_MAX_TEMPS < 64 ? BMS_MAX_TEMPS : 64;
	int n = inv_answer_h(F, &c, NULL, 0x04, &b, f, &e);
	CHECK_EQ_INT(n, (b.ncells + 3) / 4 + (b.ntemps + 7) / 8);
	CHECK(n >= 1 && f[n - 1].id == 0x0D21 + 8u * ((b.ntemps + 7u) / 8 - 1));
}

/* The output on a fake clock: the range (80-480 V), the state. */
static int ask_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	if (fresh || o->ever_fresh)
		inv_check_range(o, b);
	inv_update_state(o, true, fresh, now);
	if (!inv_state_speaks(o->state))
		return 0;
	int n = inv_answer_h(F, &o->cfg, NULL, 0x01, b, f, &e);
	if (want)
		CHECK(n >= 1 && ext_frame_is(&f[0], 0x1872, want));
	return n;
}

static void test_states(void)
{
	static struct inv_out o;
	struct inv_battery b, fs;

	o.cfg.protocol = CONF_INV_FOXESS_CAN;
	o.cfg.failsafe_silence = 10;
	battery_x1(&b);
	fs = b;
	fs.charge_allowed = fs.discharge_allowed = false;
	fs.failsafe = true;
	CHECK_EQ_INT(ask_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(ask_at(&o, 1.0, true, &b, "40 12 80 0C CD 00 F4 01"), 8);
	b.voltage = 480.1f;
	CHECK_EQ_INT(ask_at(&o, 2.0, true, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 425.9f;
	CHECK_EQ_INT(ask_at(&o, 3.0, false, &fs, "40 12 80 0C 00 00 00 00"), 8);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(ask_at(&o, 13.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(ask_at(&o, 14.0, true, &b, "40 12 80 0C CD 00 F4 01"), 8);
}

int main(void)
{
	test_set();
	test_fields();
	test_failsafe();
	test_heard();
	test_answer();
	test_states();
	return check_report();
}
