/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_solax_can.c - the solax-can codec (gateway/inverter/
 * dialect/emu_solax_can.c) byte for byte against PROTOCOLS.md §11: extended
 * identifiers, little endian, DLC 8; the sources' own bytes (§18 of the
 * round's notes: Battery-Emulator's 0x1876 initial data, RAND's and
 * Battery-Emulator's 0x1871 poll and identity request) and frames this test
 * encodes itself from the layout; the inverter's 0x1871 (01 and 02 polls,
 * the contactor's close and open payloads, 05 identity, 03 time, broken
 * ones) and the answers: the set in order, 0x100A001 while announcing,
 * 0x1801 once after "close", 0x1875 byte 4 = 1 only while closed with a
 * fresh source, the serial numbers of each slot; the module count's rule
 * and report_modules; the safety rules, each a check that fails without
 * its rule: the fail-safe answer (zero currents, contactor 0), a direction
 * not allowed is 0 A, and the states on a fake clock: nothing before data,
 * zero limits when stale, then silence, silence outside 80-760 V. */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const S = &inv_codec_solax_can;

#define SX_IS(b, id, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(S, id, b, 0, &f_), 0); \
	CHECK(ext_frame_is(&f_, id, hex)); \
} while (0)

/* S1: a string of eight 16S LFP packs (128 cells, nominal 409.6 V): CVL
 * 467.2, DVL 320.0, CCL 20.5, DCL 50.0 A; 425.9 V, +1.3 A, SOC 93.4 %, SOH
 * 99 %, 100 Ah full, 46.66 Ah left; sensors 25.0 / 24.8 degC, cells 3298 /
 * 3287 mV; battery type 131; the machine's tag 3d1219c7. */
static void battery_s1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_REMAIN | INV_HAS_ALARMS;
	b->cvl_v = 467.2f;
	b->dvl_v = 320.0f;
	b->ccl_a = 20.5f;
	b->dcl_a = 50.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 425.9f;
	b->current = 1.3f;
	b->soc = 93.4f;
	b->soh = 99;
	b->full_ah = 100;
	b->remain_ah = 46.66f;
	b->temp_c = 24.9f;
	b->temp_max_c = 25.0f;
	b->temp_min_c = 24.8f;
	b->cell_max_mv = 3298;
	b->cell_min_mv = 3287;
	b->total_cells = 128;
	b->modules = 8;
	b->battery_type = 131;
	strcpy(b->machine_tag, "3d1219c7");
}

/* The set from S1, in order: 0x187E, 0x187A, 0x1872-0x1878. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	static const uint32_t ids[] = { 0x187E, 0x187A, 0x1872, 0x1873, 0x1874, 0x1875, 0x1876, 0x1877, 0x1878 };

	battery_s1(&b);
	CHECK_EQ_INT(inv_can_encode(S, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 9);
	for (int i = 0; i < 9; i++)
		CHECK(f[i].id == ids[i] && f[i].ext && f[i].dlc == 8 && !f[i].rtr);
	/* installed 100 Ah x 409.6 V = 40960 Wh = 0xA000; SOH 99, SOC 93 */
	CHECK(ext_frame_is(&f[0], 0x187E, "00 A0 00 00 63 5D 00 00"));
	CHECK(ext_frame_is(&f[1], 0x187A, "01 50 00 00 00 00 00 00"));
	/* the FoxESS vector of the same layout (§18): 467.2 / 320.0 V, 20.5 / 50.0 A */
	CHECK(ext_frame_is(&f[2], 0x1872, "40 12 80 0C CD 00 F4 01"));
	/* 425.9 V, +1.3 A, SOC 93, 46.66 Ah x 409.6 V = 19112 Wh: 1911 x 0.01 kWh */
	CHECK(ext_frame_is(&f[3], 0x1873, "A3 10 0D 00 5D 00 77 07"));
	/* 25.0 / 24.8 degC, cells 3.3 / 3.3 V in 0.1 V (the real cells, §17 #1) */
	CHECK(ext_frame_is(&f[4], 0x1874, "FA 00 F8 00 21 00 21 00"));
	/* mean 24.9 degC, 128 / 16 = 8 modules, contactor 0 (a set outside an answer) */
	CHECK(ext_frame_is(&f[5], 0x1875, "F9 00 08 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[6], 0x1876, "FA 00 E2 0C F8 00 D7 0C"));
	CHECK(ext_frame_is(&f[7], 0x1877, "00 00 00 00 83 00 22 02"));
	CHECK(ext_frame_is(&f[8], 0x1878, "A3 10 00 00 00 A0 00 00"));
	LIMITS_ARE(S, &b, 205, 500);
	CHECK(S->can.answers && !S->can.one_by_one && S->can.answer && S->can.forget_s == 2.0);
	CHECK(inv_codec_of(CONF_INV_SOLAX_CAN) == S);
	CHECK_STR(inv_dialect_name(CONF_INV_SOLAX_CAN), "solax-can");
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_SOLAX_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_SOLAX_CAN), 0);
	double lo = 0, hi = 0;
	CHECK(inv_dialect_volt_range(CONF_INV_SOLAX_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 760, 1e-9);
}

/* Battery-Emulator's 0x1876 initial data (cells 3298 / 3287 mV, no
 * temperature); the absent values; the module rule; report_modules; the
 * battery type; NMC's nominal voltage. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_s1(&b);
	b.present &= ~(uint32_t)(INV_HAS_TEMP | INV_HAS_TEMP_MINMAX);
	SX_IS(&b, 0x1876, "00 00 E2 0C 00 00 D7 0C");
	SX_IS(&b, 0x1875, "00 00 08 00 00 00 00 00");
	/* no cells known: 0; no SOH: 100; no capacity: 0 Wh */
	b.present &= ~(uint32_t)(INV_HAS_CELL_MINMAX | INV_HAS_SOH | INV_HAS_FULL | INV_HAS_REMAIN);
	SX_IS(&b, 0x1874, "00 00 00 00 00 00 00 00");
	SX_IS(&b, 0x187E, "00 00 00 00 64 5D 00 00");
	SX_IS(&b, 0x1873, "A3 10 0D 00 5D 00 00 00");
	/* discharging: s16 */
	battery_s1(&b);
	b.current = -12.34f;
	SX_IS(&b, 0x1873, "A3 10 85 FF 5D 00 77 07");
	/* modules: 64 cells: 4; 120 cells: 7.5 -> 8; more than 13: 13; fewer: 1 */
	b.total_cells = 64;
	SX_IS(&b, 0x1875, "F9 00 04 00 00 00 00 00");
	b.total_cells = 120;
	b.full_ah = 0; /* (no Wh then) */
	SX_IS(&b, 0x1875, "F9 00 08 00 00 00 00 00");
	b.total_cells = 400;
	SX_IS(&b, 0x1875, "F9 00 0D 00 00 00 00 00");
	b.total_cells = 8;
	SX_IS(&b, 0x1875, "F9 00 01 00 00 00 00 00");
	/* no cell count: the measured voltage over 51.2 V (425.9: 8) */
	b.total_cells = 0;
	SX_IS(&b, 0x1875, "F9 00 08 00 00 00 00 00");
	/* report_modules wins */
	b.report_modules = 5;
	SX_IS(&b, 0x1875, "F9 00 05 00 00 00 00 00");
	/* the battery type as set */
	b.battery_type = 0x50;
	SX_IS(&b, 0x1877, "00 00 00 00 50 00 22 02");
	/* NMC: 3.7 V a cell: 100 Ah x 96 x 3.7 V = 35520 Wh */
	battery_s1(&b);
	b.chemistry = 1;
	b.total_cells = 96;
	SX_IS(&b, 0x1878, "A3 10 00 00 C0 8A 00 00");
}

/* Safety: the fail-safe battery (invsource.c: nothing allowed, zero
 * currents) gives CCL = DCL = 0, the voltages kept; a direction not allowed
 * is 0 A whatever its number; limits toward the safe side. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_s1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	b.failsafe = true;
	SX_IS(&b, 0x1872, "40 12 80 0C 00 00 00 00");
	LIMITS_ARE(S, &b, 0, 0);
	battery_s1(&b);
	b.charge_allowed = false;
	SX_IS(&b, 0x1872, "40 12 80 0C 00 00 F4 01");
	LIMITS_ARE(S, &b, 0, 500);
	battery_s1(&b);
	b.discharge_allowed = false;
	b.ccl_a = 0.04f; /* 0 in 0.1 A */
	SX_IS(&b, 0x1872, "40 12 80 0C 00 00 00 00");
	battery_s1(&b);
	b.cvl_v = 467.29f; /* down */
	b.dvl_v = 319.91f; /* up */
	b.ccl_a = 20.59f;  /* down */
	SX_IS(&b, 0x1872, "40 12 80 0C CD 00 F4 01");
	/* without limits: all 0 */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	SX_IS(&b, 0x1872, "00 00 00 00 00 00 00 00");
}

/* The inverter's 0x1871: the poll of RAND's REG01 and Battery-Emulator;
 * 02 with the contactor's payloads; 05 identity; 03 time heard only; 11
 * bits, remote frames, other ids, our own frames: not the inverter's. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x1871, true, "01 00 01 00 00 00 00 00");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x01);
	f = inv_mk(0x1871, true, "02 00 01 00 01 00 00 00"); /* close */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x03);
	h.asked = 0;
	f = inv_mk(0x1871, true, "02 00 01 00 00 00 00 00"); /* open */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x05);
	h.asked = 0;
	f = inv_mk(0x1871, true, "02 00 01 00 01 00 00"); /* 7 bytes: a poll, no close */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x01);
	h.asked = 0;
	f = inv_mk(0x1871, true, "05 00 01 00 00 00 00 00"); /* identity (RAND's REG05) */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 0x08);
	h.asked = 0;
	f = inv_mk(0x1871, true, "05 00 01 00 00 00 00 01"); /* not the identity request */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1871, true, "03 06 17 05 09 09 28 22"); /* the time */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1871, true, "");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_BAD);
	CHECK_EQ_INT(h.asked, 0);
	CHECK_EQ_INT(h.frames, 8);
	f = inv_mk(0x1871, false, "01 00 01 00 00 00 00 00"); /* 11 bits */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x1871, true, "01");
	f.rtr = true;
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x1872, true, "40 12 80 0C CD 00 F4 01"); /* an answer, echoed */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x4200, true, "00");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 8);
	CHECK_EQ_INT(h.asked, 0);
}

/* The handshake through the answers: announce (0x100A001 after the set,
 * byte 4 = 0), "close" heard: the next answer has 0x1801 (still 0), then
 * closed (byte 4 = 1), "open": announcing again; stale while closed: 0. */
static void test_handshake(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter c;
	struct inv_heard h;

	memset(&c, 0, sizeof(c));
	memset(&h, 0, sizeof(h));
	battery_s1(&b);
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x01, &b, f, &e), 10);
	CHECK(e.limits && f[2].id == 0x1872 && f[5].data[4] == 0);
	CHECK(f[9].id == 0x100A001 && f[9].ext && f[9].dlc == 0);
	CHECK_EQ_INT(h.mode, 0);
	/* close: answered as announce, then waiting */
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x03, &b, f, &e), 10);
	CHECK_EQ_INT(f[9].id, 0x100A001);
	CHECK_EQ_INT(h.mode, 1);
	CHECK_STR(S->can.mode_names[h.mode], "waiting");
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x01, &b, f, &e), 10);
	CHECK(ext_frame_is(&f[9], 0x1801, "02 00 01 00 01 00 00 00"));
	CHECK_EQ_INT(f[5].data[4], 0);
	CHECK_EQ_INT(h.mode, 2);
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x01, &b, f, &e), 9);
	CHECK(ext_frame_is(&f[5], 0x1875, "F9 00 08 00 01 00 00 00"));
	/* stale while closed: the contactor said open, zero currents */
	struct inv_battery fs = b;
	fs.failsafe = true;
	fs.charge_allowed = fs.discharge_allowed = false;
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x01, &fs, f, &e), 9);
	CHECK(ext_frame_is(&f[5], 0x1875, "F9 00 08 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[2], 0x1872, "40 12 80 0C 00 00 00 00"));
	CHECK(e.limits && e.ccl_a == 0 && e.dcl_a == 0);
	CHECK_EQ_INT(h.mode, 2);
	/* open: announcing again from the next answer */
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x05, &b, f, &e), 9);
	CHECK_EQ_INT(f[5].data[4], 1);
	CHECK_EQ_INT(h.mode, 0);
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x01, &b, f, &e), 10);
	CHECK_EQ_INT(f[9].id, 0x100A001);
	/* a state out of the table starts again */
	h.mode = 7;
	CHECK_EQ_INT(inv_answer_h(S, &c, &h, 0x01, &b, f, &e), 10);
	CHECK_EQ_INT(h.mode, 0);
}

/* 05: 0x1881 and 0x1882 for slot 0 and each module, the serial in two
 * halves; nothing of the set, no limits. */
static void test_identity(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter c;

	memset(&c, 0, sizeof(c));
	battery_s1(&b);
	b.report_modules = 2;
	CHECK_EQ_INT(inv_answer_h(S, &c, NULL, 0x08, &b, f, &e), 6);
	CHECK(!e.limits);
	CHECK(ext_frame_is(&f[0], 0x1881, "00 42 4D 53 47 57 30 30")); /* 0 "BMSGW00" */
	CHECK(ext_frame_is(&f[1], 0x1882, "00 33 44 31 32 31 39 43")); /* 0 "3D1219C" */
	CHECK(ext_frame_is(&f[2], 0x1881, "01 42 4D 53 47 57 30 31")); /* 1 "BMSGW01" */
	CHECK(ext_frame_is(&f[5], 0x1882, "02 33 44 31 32 31 39 43"));
	/* without a machine id: zeros in its place */
	b.machine_tag[0] = '\0';
	CHECK_EQ_INT(inv_answer_h(S, &c, NULL, 0x08, &b, f, &e), 6);
	CHECK(ext_frame_is(&f[1], 0x1882, "00 30 30 30 30 30 30 30"));
	/* a poll and 05 together: both; 13 modules: 28 frames of identity */
	b.report_modules = 13;
	CHECK_EQ_INT(inv_answer_h(S, &c, NULL, 0x09, &b, f, &e), 10 + 28);
	CHECK(e.limits && f[10].id == 0x1881 && f[37].id == 0x1882 && f[37].data[0] == 13);
}

/* The output on a fake clock, as invcan.c decides at each request: the
 * range (80-760 V), the state, the answer only in a state that speaks;
 * want (unless NULL) is 0x1872's bytes. */
static int ask_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	if (fresh || o->ever_fresh)
		inv_check_range(o, b);
	inv_update_state(o, true, fresh, now);
	if (!inv_state_speaks(o->state))
		return 0;
	int n = inv_answer_h(S, &o->cfg, NULL, 0x01, b, f, &e);
	if (want)
		CHECK(n >= 3 && ext_frame_is(&f[2], 0x1872, want));
	return n;
}

static void test_states(void)
{
	static struct inv_out o;
	struct inv_battery b, fs;

	o.cfg.protocol = CONF_INV_SOLAX_CAN;
	o.cfg.failsafe_silence = 30;
	battery_s1(&b);
	fs = b;
	fs.charge_allowed = fs.discharge_allowed = false;
	fs.ccl_a = fs.dcl_a = 0;
	CHECK_EQ_INT(ask_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(ask_at(&o, 1.0, true, &b, "40 12 80 0C CD 00 F4 01"), 10);
	b.voltage = 79.9f;
	CHECK_EQ_INT(ask_at(&o, 2.0, true, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 760.1f;
	CHECK_EQ_INT(ask_at(&o, 3.0, true, &b, NULL), 0);
	b.voltage = 760.0f;
	CHECK_EQ_INT(ask_at(&o, 4.0, true, &b, NULL), 10);
	b.voltage = 425.9f;
	CHECK_EQ_INT(ask_at(&o, 5.0, false, &fs, "40 12 80 0C 00 00 00 00"), 10);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(ask_at(&o, 34.9, false, &fs, "40 12 80 0C 00 00 00 00"), 10);
	CHECK_EQ_INT(ask_at(&o, 35.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(ask_at(&o, 36.0, true, &b, "40 12 80 0C CD 00 F4 01"), 10);
	CHECK_EQ_INT(o.state, INV_SENDING);
}

int main(void)
{
	test_set();
	test_fields();
	test_failsafe();
	test_heard();
	test_handshake();
	test_identity();
	test_states();
	return check_report();
}
