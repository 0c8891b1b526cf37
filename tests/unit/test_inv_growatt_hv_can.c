/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_growatt_hv_can.c - the growatt-hv-can codec
 * (gateway/inverter/dialect/emu_growatt_hv_can.c) byte for byte against PROTOCOLS.md
 * §15: extended identifiers, BIG endian, DLC 8; no source gives a frame of
 * this protocol's bytes, so every frame is this test's own encoding of the
 * layout Battery-Emulator quotes from Growatt's document (the fields, their
 * units, their order); the state and forbidden bits of 0x3110 (charging,
 * discharging, idle, the SOC ends); the counts of a bank of strings and
 * the identity overrides; the inverter's heartbeat, control and time
 * frames; the schedule on a fake clock (every frame each second, 0x3110
 * out of turn); the safety rules, each a check that fails without its
 * rule: the fail-safe 0x3110 (zero currents, both forbidden, "battery
 * normal" clear), a direction not allowed is 0 A and forbidden, silence
 * outside 80-1000 V. */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const W = &inv_codec_growatt_hv_can;

/* Frame n (0-based) of id in the table from b is hex. */
static void gh_at(const struct inv_battery *b, uint32_t id, int n, const char *hex)
{
	struct gw_can_frame f;

	for (size_t i = 0; i < W->can.nframes; i++) {
		if (W->can.frames[i].id != id || n-- != 0)
			continue;
		memset(&f, 0, sizeof(f));
		CHECK(W->can.frames[i].fill(b, &f));
		CHECK(ext_frame_is(&f, id, hex));
		return;
	}
	CHECK(!"no such frame");
}

/* H1: a string of four 32-cell LFP packs (128 cells, nominal 409.6 V):
 * CVL 420.0, DVL 320.0 V, CCL 25.0, DCL 50.0 A; 409.6 V, +12.3 A, SOC
 * 57.56 %, SOH 98.4 %, 100 Ah full, 57.56 Ah left, 123 cycles; sensors
 * 25.3 degC (pack 2, sensor 1) and 22.1 degC (pack 1, sensor 2), MOSFETs
 * 31.2 degC; cells 3345 mV (pack 3, cell 7) and 3321 mV (pack 1, cell 12);
 * two such strings (8 packs). */
static void battery_h1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_REMAIN | INV_HAS_CYCLES |
		     INV_HAS_MOS_TEMP | INV_HAS_ALARMS;
	b->cvl_v = 420.0f;
	b->dvl_v = 320.0f;
	b->ccl_a = 25.0f;
	b->dcl_a = 50.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 409.6f;
	b->current = 12.3f;
	b->soc = 57.56f;
	b->soh = 98.4f;
	b->full_ah = 100;
	b->remain_ah = 57.56f;
	b->cycles = 123;
	b->temp_c = 23.7f;
	b->temp_max_c = 25.3f;
	b->temp_max_at = (struct inv_where){ 2, 1 };
	b->temp_min_c = 22.1f;
	b->temp_min_at = (struct inv_where){ 1, 2 };
	b->mos_temp_c = 31.2f;
	b->cell_max_mv = 3345;
	b->cell_max_at = (struct inv_where){ 3, 7 };
	b->cell_min_mv = 3321;
	b->cell_min_at = (struct inv_where){ 1, 12 };
	b->total_cells = 128;
	b->modules = 4;
	b->packs = 8;
}

static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	static const uint32_t ids[] = { 0x3110, 0x3120, 0x3130, 0x3140, 0x3150, 0x3160, 0x3170, 0x3180,
					0x3190, 0x3200, 0x3210, 0x3220, 0x3230, 0x3230, 0x3230, 0x3240,
					0x3250, 0x3260, 0x3270, 0x3280, 0x3290, 0x3F00 };

	battery_h1(&b);
	CHECK_EQ_INT(inv_can_encode(W, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 22);
	for (int i = 0; i < 22; i++)
		CHECK(f[i].id == ids[i] && f[i].ext && f[i].dlc == 8 && !f[i].rtr);
	/* CVL 4200, CCL 250, DCL 500 (big endian); ISO detected + normal; charging */
	CHECK(ext_frame_is(&f[0], 0x3110, "10 68 00 FA 01 F4 30 02"));
	CHECK(ext_frame_is(&f[1], 0x3120, "00 00 00 00 00 00 00 00"));
	/* 4096 x 0.1 V, +123 x 0.1 A, 25.3 degC, SOC 57, SOH 98 */
	CHECK(ext_frame_is(&f[2], 0x3130, "10 00 00 7B 00 FD 39 62"));
	/* 5756 and 10000 x 10 mAh, "GT", 123 cycles */
	CHECK(ext_frame_is(&f[3], 0x3140, "16 7C 27 10 47 54 00 7B"));
	/* DVL 3200, the MOSFETs 31.2 degC, 128 cells, 4 modules in series */
	CHECK(ext_frame_is(&f[4], 0x3150, "0C 80 01 38 00 80 00 04"));
	/* the highest cell: pack 3 cell 7; the lowest: pack 1 cell 12; the coldest 22.1 degC */
	CHECK(ext_frame_is(&f[5], 0x3160, "00 00 03 07 01 0C 00 DD"));
	CHECK(ext_frame_is(&f[6], 0x3170, "02 01 01 02 32 00 00 00"));
	/* "GT", 2 strings in parallel, 128 cells */
	CHECK(ext_frame_is(&f[7], 0x3180, "47 54 00 02 00 80 00 00"));
	CHECK(ext_frame_is(&f[8], 0x3190, "00 0D 11 0C F9 00 00 00"));
	/* "GT", rev 1, 420.0 V / 128 = 3281 mV */
	CHECK(ext_frame_is(&f[9], 0x3200, "47 54 01 00 00 00 0C D1"));
	/* 100 Ah x 409.6 V = 40960 Wh: 409 x 0.1 kWh at bytes 5-6 */
	CHECK(ext_frame_is(&f[11], 0x3220, "00 00 00 00 00 01 99 00"));
	CHECK(ext_frame_is(&f[12], 0x3230, "00 00 00 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[13], 0x3230, "01 00 00 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[14], 0x3230, "02 00 00 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[15], 0x3240, "01 00 00 00 01 00 00 00"));
	CHECK(ext_frame_is(&f[21], 0x3F00, "00 00 00 00 00 00 00 00"));
	LIMITS_ARE(W, &b, 250, 500);
}

/* The state bits; the SOC's ends; the counts; absent values. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_h1(&b);
	b.current = -5;
	gh_at(&b, 0x3110, 0, "10 68 00 FA 01 F4 30 03");
	gh_at(&b, 0x3130, 0, "10 00 FF CE 00 FD 39 62");
	b.current = 0.04f; /* 0 in 0.1 A: idle */
	gh_at(&b, 0x3110, 0, "10 68 00 FA 01 F4 30 01");
	b.soc = 100; /* full: charge forbidden though CCL > 0 (as Battery-Emulator) */
	gh_at(&b, 0x3110, 0, "10 68 00 FA 01 F4 30 41");
	b.soc = 0.5f; /* 0 %: discharge forbidden */
	gh_at(&b, 0x3110, 0, "10 68 00 FA 01 F4 30 21");
	/* report_modules; more cells than the field's 512; a pack (1 of 1) */
	battery_h1(&b);
	b.report_modules = 7;
	b.total_cells = 600;
	b.packs = 1;
	b.modules = 1;
	gh_at(&b, 0x3150, 0, "0C 80 01 38 02 00 00 07");
	gh_at(&b, 0x3180, 0, "47 54 00 01 02 00 00 00");
	/* unknown: cells 0, the controller the hottest sensor, no positions */
	battery_h1(&b);
	b.total_cells = 0;
	b.modules = 0;
	b.present &= ~(uint32_t)(INV_HAS_MOS_TEMP | INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX | INV_HAS_SOH |
				 INV_HAS_FULL | INV_HAS_REMAIN | INV_HAS_CYCLES);
	b.temp_c = 23.7f;
	gh_at(&b, 0x3150, 0, "0C 80 00 ED 00 00 00 01"); /* the average for the hottest */
	gh_at(&b, 0x3160, 0, "00 00 00 00 00 00 00 ED");
	gh_at(&b, 0x3170, 0, "00 00 00 00 32 00 00 00");
	gh_at(&b, 0x3190, 0, "00 00 00 00 00 00 00 00");
	gh_at(&b, 0x3200, 0, "47 54 01 00 00 00 00 00");
	gh_at(&b, 0x3140, 0, "00 00 00 00 47 54 00 00");
	gh_at(&b, 0x3130, 0, "10 00 00 7B 00 ED 39 64");
	gh_at(&b, 0x3220, 0, "00 00 00 00 00 00 00 00");
	gh_at(&b, 0x3180, 0, "47 54 00 01 00 00 00 00");
	/* capacities held at 655.35 Ah */
	battery_h1(&b);
	b.full_ah = 700;
	b.remain_ah = 700;
	gh_at(&b, 0x3140, 0, "FF FF FF FF 47 54 00 7B");
}

/* Safety: the fail-safe battery: 0 A both ways, both forbidden, "battery
 * normal" clear, the voltages kept; a direction not allowed: 0 A and
 * forbidden; 0.04 A is 0. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_h1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.failsafe = true;
	gh_at(&b, 0x3110, 0, "10 68 00 00 00 00 20 62");
	gh_at(&b, 0x3150, 0, "0C 80 01 38 00 80 00 04");
	LIMITS_ARE(W, &b, 0, 0);
	battery_h1(&b);
	b.charge_allowed = false;
	gh_at(&b, 0x3110, 0, "10 68 00 00 01 F4 30 42");
	battery_h1(&b);
	b.dcl_a = 0.04f;
	gh_at(&b, 0x3110, 0, "10 68 00 FA 00 00 30 22");
	battery_h1(&b);
	b.cvl_v = 420.09f; /* down */
	b.dvl_v = 319.91f; /* up */
	gh_at(&b, 0x3110, 0, "10 68 00 FA 01 F4 30 02");
	gh_at(&b, 0x3150, 0, "0C 80 01 38 00 80 00 04");
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	gh_at(&b, 0x3110, 0, "00 00 00 00 00 00 30 62");
}

/* The inverter's 0x3010 / 0x3020 / 0x3030 (29 bits); nothing else is. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x3010, true, "00 01 00 00 00 00 00 00"); /* heartbeat 1 */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x3020, true, "01 01 00 00 00 00 00 00"); /* charge, discharge commands */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x3030, true, "66 1B 5A 64 00 00 00 01"); /* the time, running */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x3010, true, "");
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.frames, 4);
	f = inv_mk(0x3110, true, "10 68 00 FA 01 F4 30 02"); /* ours */
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x3010, true, "");
	f.rtr = true;
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x301, false, "00");
	CHECK_EQ_INT(W->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 4);
	CHECK_EQ_INT(h.asked, 0);
	CHECK_EQ_INT(h.mode, 0);
}

/* Every frame each second from the first; 0x3110 alone out of turn. */
static void test_schedule(void)
{
	const struct inv_can_codec *c = &W->can;
	double due[INV_CAN_MAX_FRAMES] = { 0 }, next;
	uint8_t pick[INV_CAN_MAX_FRAMES];

	CHECK(c->periods && c->start == INV_START_HEARD && !c->reply && !c->answers && c->nframes == 22 && !c->nident);
	CHECK_EQ_INT(c->limits_frame, 0);
	CHECK_EQ_INT(c->frames[0].id, 0x3110);
	for (double t = 0; t < 10; t += 1) {
		CHECK_EQ_INT(inv_can_sched(c, due, false, t, 0, pick, &next), 22);
		CHECK_NEAR(next, t + 1, 1e-9);
	}
	CHECK_EQ_INT(inv_can_sched(c, due, true, 9.5, 0, pick, &next), 1);
	CHECK_EQ_INT(pick[0], 0);
	CHECK_NEAR(next, 10, 1e-9);
}

static void test_row(void)
{
	static struct inv_out o;
	struct inv_battery b;
	double lo = 0, hi = 0;

	o.cfg.protocol = CONF_INV_GROWATT_HV_CAN;
	o.codec = W;
	o.cfg.failsafe_silence = 30;
	battery_h1(&b);
	b.voltage = 1000.1f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 0.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 80.0f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 1.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	CHECK(inv_codec_of(CONF_INV_GROWATT_HV_CAN) == W);
	CHECK_STR(inv_dialect_name(CONF_INV_GROWATT_HV_CAN), "growatt-hv-can");
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_GROWATT_HV_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_GROWATT_HV_CAN), 0);
	CHECK(inv_dialect_volt_range(CONF_INV_GROWATT_HV_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
}

int main(void)
{
	test_set();
	test_fields();
	test_failsafe();
	test_heard();
	test_schedule();
	test_row();
	return check_report();
}
