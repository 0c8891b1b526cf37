/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_byd_hvs_can.c - the byd-hvs-can codec (gateway/
 * inverter/dialect/emu_byd_hvs_can.c) byte for byte against the layout of
 * PROTOCOLS.md §9 (big endian, DLC 8) and its example frames (§9 "Examples": an
 * emulator's defaults, written here as the battery they describe); the
 * identification set; the inverter's frames (a GoodWe's 0x151 as
 * recorded); the schedule on a fake clock (0x110 every 2 s, 0x150, 0x1D0,
 * 0x210 every 10 s, 0x190 every 60 s, the at_once frames out of turn
 * without moving it, no burst after a blocked loop); and the safety rules
 * of §9.1, each a check that fails without its rule: the fail-safe 0x110
 * (zero currents, the CVL kept), a current only when allowed, the output
 * silent outside 80-576 V or without a voltage. */
#include "inv_check.h"

#include <stdlib.h>

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const B = &inv_codec_byd_hvs_can;

/* The battery behind the emulator defaults of §9 "Examples": 233.6 / 160.0 V,
 * 25.6 A both ways, SOC 97.40 %, SOH 100 %, 24.3 of 25.0 Ah, 212.1 V, 0 A,
 * 18.0 degC (sensors 18.0 and 19.0). */
static void battery_sun(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_REMAIN | INV_HAS_FULL;
	b->cvl_v = 233.6f;
	b->dvl_v = 160.0f;
	b->ccl_a = b->dcl_a = 25.6f;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 97.4f;
	b->soh = 100;
	b->remain_ah = 24.3f;
	b->full_ah = 25.0f;
	b->voltage = 212.1f;
	b->current = 0;
	b->temp_c = 18.0f;
	b->temp_max_c = 19.0f;
	b->temp_min_c = 18.0f;
}

static void test_vectors(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_sun(&b);
	CHECK_EQ_INT(inv_can_encode(B, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 5);
	CHECK(frame_is(&f[0], 0x110, "09 20 06 40 01 00 01 00"));
	CHECK(frame_is(&f[1], 0x150, "26 0C 27 10 00 F3 00 FA"));
	CHECK(frame_is(&f[2], 0x1D0, "08 49 00 00 00 B4 03 08"));
	CHECK(frame_is(&f[3], 0x210, "00 BE 00 B4 00 00 00 00"));
	/* Battery-Emulator's constant (sources disagree; meaning unknown) */
	CHECK(frame_is(&f[4], 0x190, "00 00 03 00 00 00 00 00"));
	LIMITS_ARE(B, &b, 256, 256);
	/* 0x250: 24.2 Ah x 212.1 V = 5.13 kWh: 51 in 0.1 kWh, as an HVS 5.1 */
	b.full_ah = 24.2f;
	FRAME_IS(B, 0x250, &b, "03 29 00 66 00 33 02 09");
	/* unknown capacity: 0, never a guess */
	b.present &= ~(uint32_t)INV_HAS_FULL;
	FRAME_IS(B, 0x250, &b, "03 29 00 66 00 00 02 09");
	FRAME_IS(B, 0x150, &b, "26 0C 27 10 00 F3 00 00");
}

/* B1 (53.125 V, -12.34 A: discharging): big endian, current + = charging,
 * DCL before CCL; SOH 97.40 %; no remaining Ah: 0. */
static void test_b1(void)
{
	struct inv_battery b;

	battery_b1(&b);
	FRAME_IS(B, 0x110, &b, "02 28 01 D0 02 58 01 F4");
	FRAME_IS(B, 0x150, &b, "1F E0 26 0C 00 00 03 E8");
	FRAME_IS(B, 0x1D0, &b, "02 13 FF 85 00 F6 03 08");
	/* no extremes: the average for both */
	FRAME_IS(B, 0x210, &b, "00 F6 00 F6 00 00 00 00");
	b.current = 5.0f;
	b.temp_c = -5.04f;
	FRAME_IS(B, 0x1D0, &b, "02 13 00 32 FF CE 03 08");
	/* no SOH: 100.00 % (as pylon-can's 0x355) */
	b.present &= ~(uint32_t)INV_HAS_SOH;
	FRAME_IS(B, 0x150, &b, "1F E0 27 10 00 00 03 E8");
	/* fields clamped, never wrapped: 5000 A is 3276.7 A */
	b.ccl_a = 5000;
	FRAME_IS(B, 0x110, &b, "02 28 01 D0 02 58 7F FF");
}

/* The identification: 0x250, 0x290, 0x2D0 "BYD", four 0x3D0 "Battery-Box
 * Premium HVS". */
static void test_ident(void)
{
	static const char *const want[][2] = {
		{ "250", "03 29 00 66 00 35 02 09" }, { "290", "06 37 10 D9 00 00 00 00" },
		{ "2D0", "00 42 59 44 00 00 00 00" }, { "3D0", "00 42 61 74 74 65 72 79" },
		{ "3D0", "01 2D 42 6F 78 20 50 72" }, { "3D0", "02 65 6D 69 75 6D 20 48" },
		{ "3D0", "03 56 53 00 00 00 00 00" },
	};
	struct inv_battery b;
	struct gw_can_frame f;

	battery_sun(&b); /* 25.0 Ah x 212.1 V: 5.3 kWh */
	CHECK_EQ_INT(B->can.nident, 7);
	for (size_t i = 0; i < B->can.nident && i < 7; i++) {
		CHECK(B->can.ident[i].fill(&b, &f));
		CHECK(frame_is(&f, (uint32_t)strtoul(want[i][0], NULL, 16), want[i][1]));
	}
}

/* Safety: the fail-safe battery (invsource.c: nothing allowed, currents 0)
 * gives zero currents with the CVL and DVL kept (never a zero CVL); a
 * current only in a direction allowed. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	FRAME_IS(B, 0x110, &b, "02 28 01 D0 00 00 00 00");
	LIMITS_ARE(B, &b, 0, 0);
	battery_b1(&b);
	b.discharge_allowed = false; /* its number stays: the flag rules */
	FRAME_IS(B, 0x110, &b, "02 28 01 D0 00 00 01 F4");
	LIMITS_ARE(B, &b, 500, 0);
	b.charge_allowed = false;
	b.discharge_allowed = true;
	FRAME_IS(B, 0x110, &b, "02 28 01 D0 02 58 00 00");
	/* limits that round to 0 are 0 */
	b.charge_allowed = true;
	b.ccl_a = 0.09f;
	FRAME_IS(B, 0x110, &b, "02 28 01 D0 02 58 00 00");
}

/* The inverter's frames: 0x151 byte 0 bit 0 asks for the identification
 * (a GoodWe's name frame does not), 0x091 / 0x0D1 / 0x111 / 0x191 are its
 * others; 29-bit, remote and our own frames are none. */
static void test_heard(void)
{
	struct inv_heard inv;
	struct gw_can_frame f;

	memset(&inv, 0, sizeof(inv));
	f = inv_mk(0x151, false, "00 47 4F 4F 44 57 45 00"); /* GoodWe GW6000-EH, recorded */
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x151, false, "01 00 00 00 00 00 00 00");
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_IDENTIFY);
	f = inv_mk(0x191, false, "04 04 00 17 00 01 04 00"); /* the same GoodWe */
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x091, false, "08 49 00 00 00 B4 00 00");
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x0D1, false, "26 0C 00 00 00 00 00 00");
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x111, false, "65 00 00 00 00 00 00 00");
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_ALIVE);
	f = inv_mk(0x151, false, "");
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_BAD);
	CHECK_EQ_INT(inv.frames, 7);
	f = inv_mk(0x151, true, "01");
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x151, false, "01");
	f.rtr = true;
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x110, false, "09 20 06 40 01 00 01 00"); /* our own, echoed */
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_OTHER);
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(B->can.heard(&f, &inv), INV_RX_OTHER);
	CHECK_EQ_INT(inv.frames, 7);
}

/* The schedule on a fake clock: steps at each *next from 0 (all due) to
 * 120 s; how often each frame goes and when. */
static void test_schedule(void)
{
	const struct inv_can_codec *c = &B->can;
	double due[INV_CAN_MAX_FRAMES] = { 0 }, now = 0, next;
	uint8_t pick[INV_CAN_MAX_FRAMES];
	int count[5] = { 0 }, steps = 0;
	double last[5] = { -1, -1, -1, -1, -1 };
	bool even = true;

	CHECK(c->periods && c->nframes == 5 && !c->answers && !c->one_by_one);
	CHECK_EQ_INT(inv_can_sched(c, due, false, now, 0, pick, &next), 5); /* the start: every frame */
	for (int i = 0; i < 5; i++)
		count[i]++, last[i] = 0;
	while (next <= 120.0 && steps++ < 1000) {
		now = next;
		size_t n = inv_can_sched(c, due, false, now, 0, pick, &next);
		CHECK(n > 0);
		for (size_t k = 0; k < n; k++) {
			int i = pick[k];
			even = even && fabs(now - last[i] - c->periods[i].s) < 1e-9;
			count[i]++;
			last[i] = now;
		}
	}
	CHECK(even);
	CHECK_EQ_INT(count[0], 61); /* 0x110 at 0, 2 ... 120 */
	CHECK_EQ_INT(count[1], 13); /* 0x150 at 0, 10 ... 120 */
	CHECK_EQ_INT(count[2], 13);
	CHECK_EQ_INT(count[3], 13);
	CHECK_EQ_INT(count[4], 3); /* 0x190 at 0, 60, 120 */
	CHECK_EQ_INT(steps, 60);
	/* out of turn at 121.3: 0x110 and 0x150 (the SOC soc_override = deye
	 * moves), the schedule unchanged (0x110 next at 122) */
	CHECK_EQ_INT(inv_can_sched(c, due, true, 121.3, 0, pick, &next), 2);
	CHECK(pick[0] == 0 && pick[1] == 1);
	CHECK_NEAR(next, 122, 1e-9);
	CHECK_NEAR(due[0], 122, 1e-9);
	CHECK_NEAR(due[1], 130, 1e-9);
	/* a loop blocked 7 s: each frame once, then on its period from now */
	CHECK_EQ_INT(inv_can_sched(c, due, false, 131, 0, pick, &next), 4);
	CHECK_NEAR(due[0], 133, 1e-9);
	CHECK_NEAR(due[1], 140, 1e-9);
	CHECK_NEAR(next, 133, 1e-9);
}

/* Safety: silent outside 80-576 V (and with no voltage), whatever the
 * source's freshness; sending again inside; another protocol unaffected. */
static void test_range_states(void)
{
	static struct inv_out o;
	struct inv_battery b;

	o.cfg.protocol = CONF_INV_BYD_HVS_CAN;
	o.codec = B;
	o.cfg.failsafe_silence = 30;
	battery_sun(&b);
	inv_check_range(&o, &b);
	CHECK(!o.out_of_range);
	inv_update_state(&o, true, true, 0.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	b.voltage = 79.9f; /* a 24S LFP pack at 3.33 V a cell */
	inv_check_range(&o, &b);
	CHECK(o.out_of_range);
	inv_update_state(&o, true, true, 1.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	CHECK(!inv_state_speaks(o.state));
	b.voltage = 80.0f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 2.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	b.voltage = 576.1f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, false, 3.0); /* stale too: still silent, not fail-safe frames */
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 300;
	b.present &= ~(uint32_t)INV_HAS_VOLTAGE;
	inv_check_range(&o, &b);
	CHECK(o.out_of_range);
	b.present |= INV_HAS_VOLTAGE;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, false, 4.0);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	/* an LV protocol has no range */
	static struct inv_out p;
	p.cfg.protocol = CONF_INV_PYLON_CAN;
	p.codec = &inv_codec_pylon_can;
	b.voltage = 53;
	inv_check_range(&p, &b);
	CHECK(!p.out_of_range);
}

static void test_row(void)
{
	double lo = 0, hi = 0;

	CHECK(inv_codec_of(CONF_INV_BYD_HVS_CAN) == B);
	CHECK_STR(inv_dialect_name(CONF_INV_BYD_HVS_CAN), "byd-hvs-can");
	CHECK(inv_dialect_kind(CONF_INV_BYD_HVS_CAN) == CONF_INV_CAN);
	CHECK_EQ_INT(inv_dialect_default_extras(CONF_INV_BYD_HVS_CAN), 0);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_BYD_HVS_CAN), 0);
	CHECK(inv_dialect_volt_range(CONF_INV_BYD_HVS_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 576, 1e-9);
	CHECK(!inv_dialect_volt_range(CONF_INV_PYLON_CAN, &lo, &hi));
}

int main(void)
{
	test_vectors();
	test_b1();
	test_ident();
	test_failsafe();
	test_heard();
	test_schedule();
	test_range_states();
	test_row();
	return check_report();
}
