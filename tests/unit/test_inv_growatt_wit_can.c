/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_growatt_wit_can.c - the growatt-wit-can codec
 * (gateway/inverter/dialect/emu_growatt_wit_can.c) byte for byte against PROTOCOLS.md
 * §17 (29-bit 0x1A<FSN>FFF3, little endian, DLC 8): the identifier's split
 * as Battery-Emulator's header gives it (0x1AC3FFF3: PRI 6, PG 2, FSN 0xC3,
 * TA 0xFF, SA 0xF3), every frame of a known battery as this test encodes
 * it from the layout (the current's and temperatures' offsets, the module
 * voltages, the composition, the serial), the identification, the clamps;
 * the inverter's frames (0x1AB5-0x1AB8, 0x1ABE, broken and foreign ones);
 * the periods on a fake clock (100 ms, 500 ms, 1 s, 2 s; out of turn only
 * 0xC3 and 0xC5); and the safety rules, each a check that fails without its
 * rule: the fail-safe frames (zero currents, both prohibit bits, the fault
 * state, the CVL kept), a prohibit bit exactly for a current of 0, silence
 * outside 80-1000 V. */
#include "inv_check.h"
#include "inv_sched.h"

#include <stdlib.h>

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const W = &inv_codec_growatt_wit_can;

#define ID(fsn) (0x1A00FFF3u | (uint32_t)(fsn) << 16)

#define WIT_IS(b, fsn, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(W, ID(fsn), b, 0, &f_), 0); \
	CHECK(ext_frame_is(&f_, ID(fsn), hex)); \
} while (0)

/* W1: a string of four 32-cell LFP packs (128 cells, 409.6 V nominal):
 * CVL 467.2, DVL 320.0 V, CCL 20.5, DCL 50.0 A; 425.6 V, +1.3 A, SOC 93.4 %,
 * SOH 99 %, 100 Ah; the hottest 25.0 degC (pack 2, sensor 3), the coldest
 * 24.8 (1, 1); cells 3298 mV (3, 7) and 3287 mV (1, 2); the machine's tag
 * 3d1219c7. */
static void battery_w1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_ALARMS;
	b->cvl_v = 467.2f;
	b->dvl_v = 320.0f;
	b->ccl_a = 20.5f;
	b->dcl_a = 50.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 425.6f;
	b->current = 1.3f;
	b->soc = 93.4f;
	b->soh = 99;
	b->full_ah = 100;
	b->temp_c = 24.9f;
	b->temp_max_c = 25.0f;
	b->temp_max_at = (struct inv_where){ 2, 3 };
	b->temp_min_c = 24.8f;
	b->temp_min_at = (struct inv_where){ 1, 1 };
	b->cell_max_mv = 3298;
	b->cell_max_at = (struct inv_where){ 3, 7 };
	b->cell_min_mv = 3287;
	b->cell_min_at = (struct inv_where){ 1, 2 };
	b->total_cells = 128;
	b->modules = 4;
	strcpy(b->machine_tag, "3d1219c7");
}

/* Battery-Emulator's header example: 0x1AC3FFF3 is PRI 6, PG 2, FSN 0xC3,
 * TA 0xFF (all), SA 0xF3 (the battery). */
static void test_ids(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	static const uint8_t fsn[] = { 0xC3, 0xC4, 0xC5, 0xC7, 0xCE, 0xCF, 0xD8, 0xD9, 0xC6, 0xC8,
				       0xC9, 0xCA, 0xCC, 0xCD, 0xD0, 0xD1, 0xC0 };

	battery_w1(&b);
	uint32_t id = ID(0xC3);
	CHECK(id == 0x1AC3FFF3u);
	CHECK_EQ_INT((int)(id >> 26) & 7, 6);
	CHECK_EQ_INT((int)(id >> 24) & 3, 2);
	CHECK_EQ_INT((int)(id >> 16) & 0xFF, 0xC3);
	CHECK_EQ_INT((int)(id >> 8) & 0xFF, 0xFF);
	CHECK_EQ_INT((int)id & 0xFF, 0xF3);
	CHECK_EQ_INT(inv_can_encode(W, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 17);
	for (int i = 0; i < 17; i++)
		CHECK(f[i].id == ID(fsn[i]) && f[i].ext && !f[i].rtr && f[i].dlc == 8);
}

/* Every frame of W1, as this test encodes it from §17. */
static void test_frames(void)
{
	struct inv_battery b;

	battery_w1(&b);
	/* CCL 205, DCL 500 (0.1 A), CVL 4672, DVL 3200 (0.1 V) */
	WIT_IS(&b, 0xC3, "CD 00 F4 01 40 12 80 0C");
	LIMITS_ARE(W, &b, 205, 500);
	/* the CV threshold: the CVL */
	WIT_IS(&b, 0xC4, "00 00 00 00 40 12 00 00");
	/* charging (1.3 A > 0.5 A), nothing prohibited */
	WIT_IS(&b, 0xC5, "02 00 00 00 00 00 00 00");
	/* SOC 93, SOH 99, 100.0 Ah */
	WIT_IS(&b, 0xC6, "5D 63 E8 03 00 00 00 00");
	/* 4256 x 0.1 V; 13 + 10000 = 10013 */
	WIT_IS(&b, 0xC7, "00 00 A0 10 1D 27 00 00");
	WIT_IS(&b, 0xC8, "42 4D 47 57 01 00 01 00");
	/* a module: 425.6 V / 4 = 106.40 V = 10640 x 0.01 V */
	WIT_IS(&b, 0xC9, "01 01 01 00 90 29 90 29");
	WIT_IS(&b, 0xCA, "01 01 01 00 90 29 00 00");
	/* 25.0 degC: 250 + 400 = 650; the mean 24.9: 649; where: pack 2, sensor 3 */
	WIT_IS(&b, 0xCC, "01 01 02 03 8A 02 89 02");
	WIT_IS(&b, 0xCD, "01 01 01 01 88 02 88 02");
	/* 3298 mV at (3, 7); the mean of 3298 and 3287: 3293 (to the nearest) */
	WIT_IS(&b, 0xCE, "01 01 03 07 E2 0C DD 0C");
	WIT_IS(&b, 0xCF, "01 01 01 02 D7 0C 00 00");
	WIT_IS(&b, 0xD0, "01 01 01 01 5D 5D 5D 00");
	/* 425.6 V x 1.3 A = 553 W: 32553 */
	WIT_IS(&b, 0xD1, "00 00 00 00 00 00 29 7F");
	WIT_IS(&b, 0xD8, "00 00 00 00 00 00 00 00");
	WIT_IS(&b, 0xD9, "00 00 00 00 00 00 00 00");
	/* one stack, one cluster of 4 modules of 32 cells, 102.4 V nominal, 100.0 Ah */
	WIT_IS(&b, 0xC0, "01 01 04 20 00 28 E8 03");
	/* report_modules (invsource.c puts it in the battery) */
	b.report_modules = 8;
	WIT_IS(&b, 0xC0, "01 01 08 10 00 14 E8 03");
	WIT_IS(&b, 0xC9, "01 01 01 00 C8 14 C8 14");
}

/* Discharging, unknown values, clamps and alarms. */
static void test_edges(void)
{
	struct inv_battery b;

	battery_w1(&b);
	b.current = -12.34f; /* -123 + 10000 = 9877; discharging */
	WIT_IS(&b, 0xC7, "00 00 A0 10 95 26 00 00");
	WIT_IS(&b, 0xC5, "03 00 00 00 00 00 00 00");
	b.current = 0.4f; /* within 0.5 A: standby */
	WIT_IS(&b, 0xC5, "01 00 00 00 00 00 00 00");
	b.present &= ~(uint32_t)(INV_HAS_CURRENT | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_SOH);
	WIT_IS(&b, 0xC7, "00 00 A0 10 10 27 00 00");
	WIT_IS(&b, 0xD1, "00 00 00 00 00 00 00 7D");
	WIT_IS(&b, 0xCE, "01 01 03 07 00 00 00 00");
	WIT_IS(&b, 0xC6, "5D 64 00 00 00 00 00 00");
	b.soh = 40; /* Battery-Emulator's "scrap" bit under 50 % */
	b.present |= INV_HAS_SOH;
	WIT_IS(&b, 0xC6, "5D A8 00 00 00 00 00 00");
	/* the temperatures' range: -40 to 125 degC */
	b.temp_max_c = 130;
	b.temp_min_c = -45;
	WIT_IS(&b, 0xCC, "01 01 02 03 72 06 39 03"); /* the mean 42.5 degC: 825 */
	WIT_IS(&b, 0xCD, "01 01 01 01 00 00 00 00");
	/* currents at most 1000 A, the one reported */
	b.ccl_a = 2000;
	WIT_IS(&b, 0xC3, "10 27 F4 01 40 12 80 0C");
	LIMITS_ARE(W, &b, 10000, 500);
	/* alarms in Battery-Emulator's bits: warnings cold charge, cell and
	 * temperature difference; protections cell over-voltage, SOC low, cell
	 * difference */
	battery_w1(&b);
	b.warn = BMS_AL_CHG_UT | BMS_AL_CELL_DIFF | BMS_AL_TEMP_DIFF;
	b.protect = BMS_AL_CELL_OV | BMS_AL_SOC_LOW | BMS_AL_CELL_DIFF;
	WIT_IS(&b, 0xD8, "08 00 00 00 01 00 40 00");
	WIT_IS(&b, 0xD9, "00 00 00 00 41 00 01 00");
}

/* The identification: 0xC2 (LFP 100 Ah, Battery-Emulator's cell maker 5),
 * 0x80 ("BMGW" 1.0, DTC 13000), three 0x82 with the serial. */
static void test_ident(void)
{
	static const char *const want[][2] = {
		{ "C2", "03 05 00 00 01 01 00 00" }, { "80", "42 4D 47 57 01 00 C8 32" },
		{ "82", "00 42 4D 53 47 57 30 30" }, { "82", "01 33 44 31 32 31 39 43" },
		{ "82", "02 37 30 30 30 30 30 30" },
	};
	struct inv_battery b;
	struct gw_can_frame f;

	battery_w1(&b);
	CHECK_EQ_INT(W->can.nident, 5);
	for (size_t i = 0; i < W->can.nident && i < 5; i++) {
		CHECK(W->can.ident[i].fill(&b, &f));
		CHECK(ext_frame_is(&f, ID(strtoul(want[i][0], NULL, 16)), want[i][1]));
	}
	b.chemistry = 1; /* NMC: cell model 2 */
	CHECK(W->can.ident[0].fill(&b, &f) && f.data[0] == 2);
}

/* Safety: the fail-safe battery (invsource.c) gives zero currents, the CVL
 * and DVL kept, both prohibit bits and the fault state; a prohibit bit
 * exactly when its current is 0; force charge only with a charge current. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_w1(&b);
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.failsafe = true;
	WIT_IS(&b, 0xC3, "00 00 00 00 40 12 80 0C");
	WIT_IS(&b, 0xC4, "00 00 00 00 40 12 00 00");
	WIT_IS(&b, 0xC5, "05 01 01 00 00 00 00 00");
	LIMITS_ARE(W, &b, 0, 0);
	battery_w1(&b);
	b.charge_allowed = false; /* its number stays: the flag rules */
	WIT_IS(&b, 0xC3, "00 00 F4 01 40 12 80 0C");
	WIT_IS(&b, 0xC5, "02 01 00 00 00 00 00 00");
	b.charge_allowed = true;
	b.discharge_allowed = false;
	b.force_charge = true;
	WIT_IS(&b, 0xC5, "02 02 01 00 00 00 00 00");
	b.ccl_a = 0.04f; /* rounds to 0: prohibited, and no force charge */
	WIT_IS(&b, 0xC5, "02 01 01 00 00 00 00 00");
	/* no limits at all: nothing allowed */
	battery_w1(&b);
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	WIT_IS(&b, 0xC3, "00 00 00 00 00 00 00 00");
	WIT_IS(&b, 0xC5, "02 01 01 00 00 00 00 00");
}

/* The inverter's frames: matched on the FSN of a 29-bit id (B5-B8, BE),
 * two bytes at least; 0x1ABE asks for the identification. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x1AB5FFF1, true, "01 00 00 00 00 00 00 00"); /* heartbeat, counter 1 */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1AB6F3F1, true, "18 07 13 0C 1E 00 00 00"); /* 2024-07-19 12:30:00, to the battery */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1AB7FFF1, true, "01 00 00 00 00 00 00 00");
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1AB8FFF1, true, "A0 0F 00 00 00 00 00 00"); /* bus 400.0 V */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x1ABEFFF1, true, "01 02 03 04 05 06 07 08");
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_IDENTIFY);
	f = inv_mk(0x1AB5FFF1, true, "01");
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_BAD);
	CHECK_EQ_INT(h.frames, 6);
	f = inv_mk(0x5B5, false, "01 00");
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x1AC3FFF3, true, "CD 00 F4 01 40 12 80 0C"); /* our own */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x1AB9FFF1, true, "00 00");
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x1AB5FFF1, true, "01 00");
	f.rtr = true;
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 6);
	CHECK_EQ_INT(h.asked, 0);
}

/* The periods on a fake clock, as the output steps them: over 20 s every
 * frame at its own period (100 ms, 500 ms, 1 s, 2 s), the first step all
 * of them in the document's order, no identification unasked; out of turn
 * only 0xC3 and 0xC5. */
static void test_schedule(void)
{
	const struct inv_can_codec *c = &W->can;
	static struct sched_ev log[8000];
	double lo, hi;

	CHECK(c->periods && c->start == INV_START_HEARD && c->ident_when_asked && c->gap_ms == 0 && !c->answers);
	CHECK(c->frames[c->limits_frame].id == ID(0xC3));
	int n = sched_run(c, false, 20.05, -1, log, 8000);
	CHECK(sched_periodic(c, log, n));
	for (size_t i = 0; i < c->nframes; i++)
		CHECK(log[i].t == 0 && log[i].fn == &c->frames[i]);
	CHECK_EQ_INT(sched_count(log, n, &c->frames[0], &lo, &hi), 201); /* 0xC3 at 0, 0.1 ... 20 */
	CHECK_EQ_INT(sched_count(log, n, &c->frames[8], &lo, &hi), 41);  /* 0xC6 every 0.5 s */
	CHECK_EQ_INT(sched_count(log, n, &c->frames[10], &lo, &hi), 21); /* 0xC9 every 1 s */
	CHECK_EQ_INT(sched_count(log, n, &c->frames[16], &lo, &hi), 11); /* 0xC0 every 2 s */
	for (int i = 0; i < n; i++)
		CHECK(log[i].fn >= c->frames && log[i].fn < c->frames + c->nframes);
	/* asked: the identification first */
	n = sched_run(c, true, 0.05, -1, log, 8000);
	CHECK_EQ_INT(n, 5 + 17);
	CHECK(log[0].fn == &c->ident[0] && log[4].fn == &c->ident[4] && log[5].fn == &c->frames[0]);
	/* out of turn at 0.05 s: 0xC3 and 0xC5 only, their schedule unmoved */
	n = sched_run(c, false, 0.15, 0.05, log, 8000);
	CHECK_EQ_INT(n, 17 + 2 + 8);
	CHECK(fabs(log[17].t - 0.05) < 1e-9 && log[17].fn == &c->frames[0] && log[18].fn == &c->frames[2]);
	CHECK(fabs(log[19].t - 0.1) < 1e-9 && log[19].fn == &c->frames[0]);
}

/* Safety: silent outside 80-1000 V (a 24S LFP pack, a 1001 V string). */
static void test_range(void)
{
	static struct inv_out o;
	struct inv_battery b;
	double lo = 0, hi = 0;

	CHECK(inv_dialect_volt_range(CONF_INV_GROWATT_WIT_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
	o.cfg.protocol = CONF_INV_GROWATT_WIT_CAN;
	o.codec = W;
	o.cfg.failsafe_silence = 30;
	battery_w1(&b);
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 0.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	b.voltage = 79.9f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 1.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 1000.1f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 2.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 1000.0f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 3.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
}

static void test_row(void)
{
	CHECK(inv_codec_of(CONF_INV_GROWATT_WIT_CAN) == W);
	CHECK_STR(inv_dialect_name(CONF_INV_GROWATT_WIT_CAN), "growatt-wit-can");
	CHECK(inv_dialect_kind(CONF_INV_GROWATT_WIT_CAN) == CONF_INV_CAN);
	CHECK_EQ_INT((int)inv_dialect_bitrate(CONF_INV_GROWATT_WIT_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_GROWATT_WIT_CAN), 0);
	CHECK(inv_dialect_speech(CONF_INV_GROWATT_WIT_CAN) != NULL);
	CHECK(W->nvariants == 0);
}

int main(void)
{
	test_ids();
	test_frames();
	test_edges();
	test_ident();
	test_failsafe();
	test_heard();
	test_schedule();
	test_range();
	test_row();
	return check_report();
}
