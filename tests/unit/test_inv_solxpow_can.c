/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_solxpow_can.c - the solxpow-can codec (gateway/
 * inverter/dialect/emu_solxpow_can.c) byte for byte against PROTOCOLS.md §22: extended
 * identifiers at address 0, little endian, Pylontech's high-voltage layout
 * WITHOUT the 30000 current offset (0x4210's current a plain s16, 0x4220's
 * CCL and DCL plain u16) and with plain s16 temperatures in 0x4240 and
 * 0x4270 (0x4210's keeps + 1000); Battery-Emulator's SOLXPOW-CAN header's 0x4230
 * placeholder, and frames this test encodes itself from the layout; the
 * inverter's 0x4200 (byte 0 = 00 / 02, a Growatt SPH's bytes) answered with
 * 0x4210-0x4290 / 0x7310-0x7340, never at another address; and the safety
 * rules, each a check that fails without its rule: the fail-safe answer
 * (zero currents, 0xAA both ways, the cut-off voltages kept), a direction
 * not allowed is 0 A and forbidden, an absent temperature is -100 degC,
 * and the states on a fake clock: nothing before data, zero limits when
 * stale, then silence, silence outside 80-1000 V. */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const S = &inv_codec_solxpow_can;

#define SP_IS(b, id, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(S, id, b, 0, &f_), 0); \
	CHECK(ext_frame_is(&f_, id, hex)); \
} while (0)

/* X1: 426.0 / 336.0 V, 25 A both ways; 246.9 V, +15.0 A (charging), 18.1
 * degC, SOC 46.9 %, SOH 100 %, cells 3295 mV (3) / 3290 mV (6), sensors
 * 15.0 degC (17) / 12.2 degC (3), 120 cells, 50 Ah. */
static void battery_x1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX | INV_HAS_FULL | INV_HAS_ALARMS;
	b->cvl_v = 426.0f;
	b->dvl_v = 336.0f;
	b->ccl_a = b->dcl_a = 25.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 246.9f;
	b->current = 15.0f;
	b->temp_c = 18.1f;
	b->soc = 46.9f;
	b->soh = 100;
	b->cell_max_mv = 3295;
	b->cell_max_at = (struct inv_where){ 1, 3 };
	b->cell_min_mv = 3290;
	b->cell_min_at = (struct inv_where){ 1, 6 };
	b->temp_max_c = 15.0f;
	b->temp_max_at = (struct inv_where){ 1, 17 };
	b->temp_min_c = 12.2f;
	b->temp_min_at = (struct inv_where){ 1, 3 };
	b->series_cells = 120;
	b->total_cells = 120;
	b->modules = 1;
	b->full_ah = 50;
	b->packs = 1;
}

/* The set from X1, in order. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_x1(&b);
	CHECK_EQ_INT(inv_can_encode(S, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 13);
	/* 246.9 V, +15.0 A plain (pylon-hv-can: 30150), 18.1 degC + 1000, 46 %, 100 % */
	CHECK(ext_frame_is(&f[0], 0x4210, "A5 09 96 00 9D 04 2E 64"));
	/* 426.0 / 336.0 V, CCL and DCL 25.0 A as plain u16 (pylon-hv-can: 2A 76 36 74) */
	CHECK(ext_frame_is(&f[1], 0x4220, "A4 10 20 0D FA 00 FA 00"));
	CHECK(ext_frame_is(&f[2], 0x4230, "DF 0C DA 0C 03 00 06 00")); /* BE SOLXPOW-CAN header's placeholder */
	/* 15.0 / 12.2 degC plain s16 (disagreement 4: Battery-Emulator's) */
	CHECK(ext_frame_is(&f[3], 0x4240, "96 00 7A 00 11 00 03 00"));
	CHECK(ext_frame_is(&f[4], 0x4250, "01 00 00 00 00 00 00 00")); /* charging */
	CHECK(ext_frame_is(&f[5], 0x4260, "00 00 00 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[6], 0x4270, "96 00 7A 00 01 00 01 00"));
	CHECK(ext_frame_is(&f[7], 0x4280, "00 00 00 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[8], 0x4290, "00 00 00 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[9], 0x7310, "00 00 00 00 00 00 00 00"));
	CHECK(ext_frame_is(&f[10], 0x7320, "78 00 01 78 00 00 32 00")); /* 120 cells, 50 Ah (BE: 120 / 37 placeholders) */
	CHECK(ext_frame_is(&f[11], 0x7330, "50 59 4C 4F 4E 00 00 00"));
	CHECK(ext_frame_is(&f[12], 0x7340, "00 00 00 00 00 00 00 00"));
	LIMITS_ARE(S, &b, 250, 250);
	CHECK(S->can.answers && !S->can.one_by_one && S->can.answer && !S->can.periods);
	CHECK(inv_codec_of(CONF_INV_SOLXPOW_CAN) == S);
	CHECK_STR(inv_dialect_name(CONF_INV_SOLXPOW_CAN), "solxpow-can");
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_SOLXPOW_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_SOLXPOW_CAN), 0);
	CHECK_STR(inv_dialect_speech(CONF_INV_SOLXPOW_CAN), "answers each 0x4200 of the inverter");
	double lo = 0, hi = 0;
	CHECK(inv_dialect_volt_range(CONF_INV_SOLXPOW_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
}

/* The current both ways and its clamp; the temperatures below 0 and
 * absent; a current limit beyond pylon-hv-can's 3000 A; the manufacturer. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_x1(&b);
	b.current = -12.34f; /* discharging: s16 -123 */
	SP_IS(&b, 0x4210, "A5 09 85 FF 9D 04 2E 64");
	SP_IS(&b, 0x4250, "02 00 00 00 00 00 00 00");
	b.current = 4000.0f; /* clamped, never wrapped */
	SP_IS(&b, 0x4210, "A5 09 FF 7F 9D 04 2E 64");
	b.current = -4000.0f;
	SP_IS(&b, 0x4210, "A5 09 01 80 9D 04 2E 64");
	b.present &= ~(uint32_t)INV_HAS_CURRENT; /* none: 0, idle */
	SP_IS(&b, 0x4210, "A5 09 00 00 9D 04 2E 64");
	SP_IS(&b, 0x4250, "03 00 00 00 00 00 00 00");
	battery_x1(&b);
	b.temp_max_c = -5.5f;
	b.temp_min_c = -20.0f;
	SP_IS(&b, 0x4240, "C9 FF 38 FF 11 00 03 00");
	/* no extremes: the average for both, no numbers; none at all: -100.0 degC */
	b.present &= ~(uint32_t)INV_HAS_TEMP_MINMAX;
	SP_IS(&b, 0x4240, "B5 00 B5 00 00 00 00 00");
	b.present &= ~(uint32_t)INV_HAS_TEMP;
	SP_IS(&b, 0x4240, "18 FC 18 FC 00 00 00 00");
	SP_IS(&b, 0x4270, "18 FC 18 FC 00 00 00 00");
	SP_IS(&b, 0x4210, "A5 09 96 00 00 00 2E 64"); /* 0x4210's + 1000 field: raw 0 */
	/* 3100 A of discharge: plain u16, where pylon-hv-can stops at 3000 A */
	battery_x1(&b);
	b.dcl_a = 3100.0f;
	SP_IS(&b, 0x4220, "A4 10 20 0D FA 00 18 79");
	LIMITS_ARE(S, &b, 250, 31000);
	strcpy(b.manufacturer, "SOLXPOW");
	SP_IS(&b, 0x7330, "53 4F 4C 58 50 4F 57 00");
}

/* Safety: the fail-safe battery (invsource.c: nothing allowed, zero
 * currents): 0x4220's currents 0, the voltages kept, 0x4280 AA AA; a
 * direction not allowed, or whose current rounds to 0, forbidden with 0 A;
 * limits toward the safe side. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_x1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	b.failsafe = true;
	SP_IS(&b, 0x4220, "A4 10 20 0D 00 00 00 00");
	SP_IS(&b, 0x4280, "AA AA 00 00 00 00 00 00");
	LIMITS_ARE(S, &b, 0, 0);
	battery_x1(&b);
	b.charge_allowed = false;
	SP_IS(&b, 0x4220, "A4 10 20 0D 00 00 FA 00");
	SP_IS(&b, 0x4280, "AA 00 00 00 00 00 00 00");
	LIMITS_ARE(S, &b, 0, 250);
	battery_x1(&b);
	b.dcl_a = 0.04f; /* 0 in 0.1 A */
	b.force_charge = true;
	SP_IS(&b, 0x4220, "A4 10 20 0D FA 00 00 00");
	SP_IS(&b, 0x4280, "00 AA 00 00 00 00 00 00");
	SP_IS(&b, 0x4250, "09 00 00 00 00 00 00 00"); /* charging, force charge (charging allowed) */
	b.charge_allowed = false;
	SP_IS(&b, 0x4250, "01 00 00 00 00 00 00 00"); /* no force charge without it */
	battery_x1(&b);
	b.cvl_v = 426.09f; /* down */
	b.dvl_v = 335.91f; /* up */
	b.ccl_a = 25.09f;  /* down */
	SP_IS(&b, 0x4220, "A4 10 20 0D FA 00 FA 00");
	b.present &= ~(uint32_t)INV_HAS_LIMITS; /* without limits: all 0, both forbidden */
	SP_IS(&b, 0x4220, "00 00 00 00 00 00 00 00");
	SP_IS(&b, 0x4280, "AA AA 00 00 00 00 00 00");
}

/* The inverter's frames (pylon-hv-can's parser): 0x4200 00 and 02 the
 * requests, 01 heard only; 11 bits, remote frames, our own ids: not the
 * inverter's. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x4200, true, "00 00 00 00 00 00 00 E3"); /* a Growatt SPH's (B2I #85) */
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_REQUEST);
	f = inv_mk(0x4200, true, "02 00 00 00 00 00 00 E3");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, (1u << 0) | (1u << 2));
	f = inv_mk(0x4200, true, "01");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x4200, true, "");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_BAD);
	CHECK_EQ_INT(h.frames, 4);
	f = inv_mk(0x4200, false, "00");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x4200, true, "00");
	f.rtr = true;
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x4210, true, "A5 09 96 00 9D 04 2E 64");
	CHECK_EQ_INT(S->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 4);
	CHECK_EQ_INT(h.asked, (1u << 0) | (1u << 2));
}

/* The answer to the kinds asked, always at address 0 (solxpow-can takes no
 * address key; a stray one in the settings changes nothing). */
static void test_answer(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter c;

	memset(&c, 0, sizeof(c));
	c.address = 1;
	battery_x1(&b);
	CHECK_EQ_INT(inv_answer_h(S, &c, NULL, 1u << 0, &b, f, &e), 9);
	for (int i = 0; i < 9; i++)
		CHECK_EQ_INT(f[i].id, 0x4210 + 0x10 * (uint32_t)i);
	CHECK(e.limits && lroundf(e.ccl_a * 10) == 250);
	CHECK_EQ_INT(inv_answer_h(S, &c, NULL, 1u << 2, &b, f, &e), 4);
	CHECK_EQ_INT(f[0].id, 0x7310);
	CHECK_EQ_INT(f[3].id, 0x7340);
	CHECK(!e.limits);
	CHECK_EQ_INT(inv_answer_h(S, &c, NULL, (1u << 0) | (1u << 2), &b, f, &e), 13);
	CHECK(ext_frame_is(&f[1], 0x4220, "A4 10 20 0D FA 00 FA 00"));
	CHECK_EQ_INT(inv_answer_h(S, &c, NULL, 0, &b, f, &e), 0);
}

/* The output on a fake clock, as invcan.c decides at each request; want
 * (unless NULL) is 0x4220's bytes. */
static int ask_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	if (fresh || o->ever_fresh)
		inv_check_range(o, b);
	inv_update_state(o, true, fresh, now);
	if (!inv_state_speaks(o->state))
		return 0;
	int n = inv_answer_h(S, &o->cfg, NULL, 1u << 0, b, f, &e);
	if (want)
		CHECK(n >= 2 && ext_frame_is(&f[1], 0x4220, want));
	return n;
}

static void test_states(void)
{
	static struct inv_out o;
	struct inv_battery b, fs;

	o.cfg.protocol = CONF_INV_SOLXPOW_CAN;
	o.cfg.failsafe_silence = 30;
	battery_x1(&b);
	fs = b;
	fs.charge_allowed = fs.discharge_allowed = false;
	fs.ccl_a = fs.dcl_a = 0;
	CHECK_EQ_INT(ask_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(ask_at(&o, 1.0, true, &b, "A4 10 20 0D FA 00 FA 00"), 9);
	b.voltage = 79.9f;
	CHECK_EQ_INT(ask_at(&o, 2.0, true, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 1000.1f;
	CHECK_EQ_INT(ask_at(&o, 3.0, true, &b, NULL), 0);
	b.voltage = 1000.0f;
	CHECK_EQ_INT(ask_at(&o, 4.0, true, &b, NULL), 9);
	b.voltage = 246.9f;
	CHECK_EQ_INT(ask_at(&o, 5.0, false, &fs, "A4 10 20 0D 00 00 00 00"), 9);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(ask_at(&o, 34.9, false, &fs, "A4 10 20 0D 00 00 00 00"), 9);
	CHECK_EQ_INT(ask_at(&o, 35.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(ask_at(&o, 36.0, true, &b, "A4 10 20 0D FA 00 FA 00"), 9);
	CHECK_EQ_INT(o.state, INV_SENDING);
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
