/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_afore_can.c - the afore-can codec (gateway/inverter/
 * dialect/emu_afore_can.c) byte for byte against PROTOCOLS.md §21: standard (11-bit)
 * identifiers 0x350-0x35A, little endian, DLC 8; the document's own
 * examples as Battery-Emulator's AFORE-CAN quotes them (a current of 1 A is
 * raw 5010, 20 degC raw 1200) and frames this test encodes itself from the
 * layout; the alarm words, the serial number in 0x359 / 0x35A; the
 * inverter's 0x305 (its brand and state) as the request, answered with the
 * whole set, and what is not the inverter's; the safety rules, each a
 * check that fails without its rule: the fail-safe answer (zero currents,
 * both enables cleared, the state "fault", the communication fault, the
 * voltages kept), no charge at 100 % and no discharge at 0 % with the
 * currents 0 as the enables say, a hardware fault stops both ways, and the
 * states on a fake clock: nothing before data, zero limits when stale,
 * then silence, silence outside 80-1000 V. */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const A = &inv_codec_afore_can;

/* A1: a string of four 16S packs (64 cells): CVL 224.0, DVL 192.0, CCL
 * 30.0, DCL 50.0 A; 210.2 V, +1.0 A, SOC 57.5 %, SOH 98 %; the hottest
 * sensor 20.0 degC (pack 1's sensor 2), the coldest 12.5 degC (its sensor
 * 1); the highest cell 3310 mV (pack 2's cell 5), the lowest 3280 mV (pack
 * 1's cell 9); alarms present and none; the machine's tag 3d1219c7. */
static void battery_a1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_ALARMS;
	b->cvl_v = 224.0f;
	b->dvl_v = 192.0f;
	b->ccl_a = 30.0f;
	b->dcl_a = 50.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 210.2f;
	b->current = 1.0f;
	b->soc = 57.5f;
	b->soh = 98;
	b->temp_c = 16.25f;
	b->temp_max_c = 20.0f;
	b->temp_max_at = (struct inv_where){ 1, 2 };
	b->temp_min_c = 12.5f;
	b->temp_min_at = (struct inv_where){ 1, 1 };
	b->cell_max_mv = 3310;
	b->cell_max_at = (struct inv_where){ 2, 5 };
	b->cell_min_mv = 3280;
	b->cell_min_at = (struct inv_where){ 1, 9 };
	b->series_cells = 16;
	b->total_cells = 64;
	b->modules = 4;
	b->full_ah = 100;
	strcpy(b->machine_tag, "3d1219c7");
}

/* The set from A1, in order. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	static const uint32_t ids[] = { 0x350, 0x351, 0x352, 0x353, 0x354, 0x355, 0x356, 0x357, 0x358, 0x359, 0x35A };

	battery_a1(&b);
	CHECK_EQ_INT(inv_can_encode(A, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 11);
	for (int i = 0; i < 11; i++)
		CHECK(f[i].id == ids[i] && !f[i].ext && f[i].dlc == 8 && !f[i].rtr);
	/* 210.2 V; +1 A = raw 5010 and 20 degC = raw 1200, the document's examples */
	CHECK(frame_is(&f[0], 0x350, "36 08 92 13 B0 04 00 00"));
	/* SOC 57, SOH 98, 100, 1, both enables and "normal" (1 << 5), 64 cells */
	CHECK(frame_is(&f[1], 0x351, "39 62 64 01 23 00 40 00"));
	CHECK(frame_is(&f[2], 0x352, "2C 01 F4 01 C0 08 80 07"));
	CHECK(frame_is(&f[3], 0x353, "00 00 00 00 00 00 00 00"));
	/* 3310 mV, cell 21 of the string (16 + 5), 3280 mV, cell 9 */
	CHECK(frame_is(&f[4], 0x354, "EE 0C D0 0C 15 00 09 00"));
	CHECK(frame_is(&f[5], 0x355, "B0 04 65 04 02 00 01 00"));
	/* a cell's protection: 224.0 / 64 = 3500 mV, 192.0 / 64 = 3000 mV */
	CHECK(frame_is(&f[6], 0x356, "AC 0D B8 0B 00 00 00 00"));
	CHECK(frame_is(&f[7], 0x357, "00 00 00 00 00 00 00 00"));
	CHECK(frame_is(&f[8], 0x358, "00 00 00 00 00 00 00 00"));
	CHECK(frame_is(&f[9], 0x359, "42 4D 53 47 57 30 30 33"));  /* "BMSGW003" */
	CHECK(frame_is(&f[10], 0x35A, "44 31 32 31 39 43 37 30")); /* "D1219C70" */
	LIMITS_ARE(A, &b, 300, 500);
	CHECK(A->can.answers && !A->can.answer && !A->can.one_by_one && !A->can.periods);
	CHECK(inv_codec_of(CONF_INV_AFORE_CAN) == A);
	CHECK_STR(inv_dialect_name(CONF_INV_AFORE_CAN), "afore-can");
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_AFORE_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_AFORE_CAN), 0);
	CHECK_STR(inv_dialect_speech(CONF_INV_AFORE_CAN), "answers each 0x305 of the inverter");
	double lo = 0, hi = 0;
	CHECK(inv_dialect_volt_range(CONF_INV_AFORE_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
}

/* The current both ways and its clamps, absent values, the alarm words. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_a1(&b);
	b.current = -12.34f; /* 5000 - 123 */
	FRAME_IS(A, 0x350, &b, "36 08 0D 13 B0 04 00 00");
	b.current = -600.0f; /* -500.0 A is the field's end: raw 0, never wrapped */
	FRAME_IS(A, 0x350, &b, "36 08 00 00 B0 04 00 00");
	b.current = 7000.0f;
	FRAME_IS(A, 0x350, &b, "36 08 FF FF B0 04 00 00");
	/* below 0 degC: 10 x T + 1000 */
	battery_a1(&b);
	b.temp_max_c = -5.5f;
	b.temp_min_c = -20.0f;
	FRAME_IS(A, 0x355, &b, "B1 03 20 03 02 00 01 00");
	/* no extremes: the average (16.25 degC: 16.3) for both, no numbers;
	 * none: raw 0 (-100 degC) */
	b.present &= ~(uint32_t)INV_HAS_TEMP_MINMAX;
	FRAME_IS(A, 0x355, &b, "8B 04 8B 04 00 00 00 00");
	b.present &= ~(uint32_t)INV_HAS_TEMP;
	FRAME_IS(A, 0x355, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(A, 0x350, &b, "36 08 92 13 00 00 00 00");
	/* no cells known: no cell frame values, no count, no per-cell protection */
	battery_a1(&b);
	b.present &= ~(uint32_t)INV_HAS_CELL_MINMAX;
	b.total_cells = 0;
	FRAME_IS(A, 0x354, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(A, 0x356, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(A, 0x351, &b, "39 62 64 01 23 00 00 00");
	/* a bank's sensor has no number; a cell of pack 2 without a count neither */
	battery_a1(&b);
	b.temp_max_at = (struct inv_where){ 3, 2 };
	b.series_cells = 0;
	FRAME_IS(A, 0x355, &b, "B0 04 65 04 00 00 01 00");
	FRAME_IS(A, 0x354, &b, "EE 0C D0 0C 00 00 09 00");
	/* no SOH: 100 */
	battery_a1(&b);
	b.present &= ~(uint32_t)INV_HAS_SOH;
	FRAME_IS(A, 0x351, &b, "39 64 64 01 23 00 40 00");
	/* the warnings: cell under-voltage, discharge under-temperature, the
	 * MOSFETs hot, charge over-current, SOC low (bits 1, 5, 6, 8, 10) */
	b.warn = BMS_AL_CELL_UV | BMS_AL_DSG_UT | BMS_AL_MOS_OT | BMS_AL_CHG_OC | BMS_AL_SOC_LOW;
	FRAME_IS(A, 0x357, &b, "62 05 00 00 00 00 00 00");
	FRAME_IS(A, 0x353, &b, "00 00 00 00 00 00 00 00");
	/* the protections: H bits 0 cell OV, 4 over-temperature, 8 a short, 13
	 * relay (MOSFETs); L bit 9 system (a sensor), 15 cell unbalance */
	b.protect = BMS_AL_CELL_OV | BMS_AL_CHG_OT | BMS_AL_SHORT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR | BMS_AL_CELL_DIFF;
	FRAME_IS(A, 0x353, &b, "11 21 00 82 00 00 00 00");
	b.present &= ~(uint32_t)INV_HAS_ALARMS; /* unknown: none */
	FRAME_IS(A, 0x353, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(A, 0x357, &b, "00 00 00 00 00 00 00 00");
	/* without a machine id: zeros in its place */
	battery_a1(&b);
	b.machine_tag[0] = '\0';
	FRAME_IS(A, 0x359, &b, "42 4D 53 47 57 30 30 30");
	FRAME_IS(A, 0x35A, &b, "30 30 30 30 30 30 30 30");
}

/* Safety: the fail-safe battery; a direction not allowed; 100 % and 0 %; a
 * hardware fault; limits toward the safe side; the enables never with a
 * current of 0. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_a1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	b.failsafe = true;
	b.warn = BMS_AL_COMM;
	FRAME_IS(A, 0x352, &b, "00 00 00 00 C0 08 80 07");
	FRAME_IS(A, 0x351, &b, "39 62 64 01 80 00 40 00");   /* no enable, state 4 fault */
	FRAME_IS(A, 0x353, &b, "00 04 00 00 00 00 00 00");   /* H bit 10: internal communication */
	LIMITS_ARE(A, &b, 0, 0);
	battery_a1(&b);
	b.charge_allowed = false;
	FRAME_IS(A, 0x352, &b, "00 00 F4 01 C0 08 80 07");
	FRAME_IS(A, 0x351, &b, "39 62 64 01 22 00 40 00");
	LIMITS_ARE(A, &b, 0, 500);
	/* 100 %: no charge (enable and current), as Battery-Emulator */
	battery_a1(&b);
	b.soc = 100;
	FRAME_IS(A, 0x351, &b, "64 62 64 01 22 00 40 00");
	FRAME_IS(A, 0x352, &b, "00 00 F4 01 C0 08 80 07");
	LIMITS_ARE(A, &b, 0, 500);
	b.soc = 99.99f; /* rounded down: 99, still charging */
	FRAME_IS(A, 0x351, &b, "63 62 64 01 23 00 40 00");
	/* 0 %: no discharge */
	b.soc = 0.5f;
	FRAME_IS(A, 0x351, &b, "00 62 64 01 21 00 40 00");
	FRAME_IS(A, 0x352, &b, "2C 01 00 00 C0 08 80 07");
	LIMITS_ARE(A, &b, 300, 0);
	/* a hardware fault: both ways stopped, state fault */
	battery_a1(&b);
	b.protect = BMS_AL_HW_FAULT;
	FRAME_IS(A, 0x351, &b, "39 62 64 01 80 00 40 00");
	FRAME_IS(A, 0x352, &b, "00 00 00 00 C0 08 80 07");
	FRAME_IS(A, 0x353, &b, "00 00 00 02 00 00 00 00");
	LIMITS_ARE(A, &b, 0, 0);
	/* a current that rounds to 0: 0 and no enable; limits toward the safe side */
	battery_a1(&b);
	b.ccl_a = 0.04f;
	b.cvl_v = 224.09f;
	b.dvl_v = 191.91f;
	b.dcl_a = 50.09f;
	FRAME_IS(A, 0x351, &b, "39 62 64 01 22 00 40 00");
	FRAME_IS(A, 0x352, &b, "00 00 F4 01 C0 08 80 07");
	/* 224.09 / 64 = 3501.4 mV down, 191.91 / 64 = 2998.6 mV up */
	FRAME_IS(A, 0x356, &b, "AD 0D B7 0B 00 00 00 00");
	/* without limits: all 0, no enable, no per-cell protection */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	FRAME_IS(A, 0x352, &b, "00 00 00 00 00 00 00 00");
	FRAME_IS(A, 0x351, &b, "39 62 64 01 20 00 40 00");
	FRAME_IS(A, 0x356, &b, "00 00 00 00 00 00 00 00");
}

/* The inverter's 0x305 (11 bits; "AFORE" and its state, or any length) is
 * the request; 29 bits, remote frames, our own frames, other ids: not the
 * inverter's; the answer is the whole set. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f, set[INV_CAN_MAX_FRAMES];
	struct inv_battery b;
	struct inv_encoded e;
	struct conf_inverter c;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x305, false, "41 46 4F 52 45 00 00 03"); /* "AFORE", grid connected */
	CHECK_EQ_INT(A->can.heard(&f, &h), INV_RX_REQUEST);
	f = inv_mk(0x305, false, "");
	CHECK_EQ_INT(A->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.frames, 2);
	f = inv_mk(0x305, true, "41 46 4F 52 45 00 00 03");
	CHECK_EQ_INT(A->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x305, false, "");
	f.rtr = true;
	CHECK_EQ_INT(A->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x351, false, "39 62 64 01 23 00 40 00");
	CHECK_EQ_INT(A->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x4200, true, "00");
	CHECK_EQ_INT(A->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x306, false, "00");
	CHECK_EQ_INT(A->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 2);
	CHECK_EQ_INT(h.asked, 0);
	memset(&c, 0, sizeof(c));
	battery_a1(&b);
	CHECK_EQ_INT(inv_answer_h(A, &c, NULL, 0, &b, set, &e), 11);
	CHECK(e.limits && lroundf(e.ccl_a * 10) == 300 && lroundf(e.dcl_a * 10) == 500);
}

/* The output on a fake clock, as invcan.c decides at each 0x305; want
 * (unless NULL) is 0x352's bytes. */
static int ask_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	if (fresh || o->ever_fresh)
		inv_check_range(o, b);
	inv_update_state(o, true, fresh, now);
	if (!inv_state_speaks(o->state))
		return 0;
	int n = inv_answer_h(A, &o->cfg, NULL, 0, b, f, &e);
	if (want)
		CHECK(n >= 3 && frame_is(&f[2], 0x352, want));
	return n;
}

static void test_states(void)
{
	static struct inv_out o;
	struct inv_battery b, fs;

	o.cfg.protocol = CONF_INV_AFORE_CAN;
	o.cfg.failsafe_silence = 30;
	battery_a1(&b);
	fs = b;
	fs.charge_allowed = fs.discharge_allowed = false;
	fs.ccl_a = fs.dcl_a = 0;
	fs.failsafe = true;
	CHECK_EQ_INT(ask_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(ask_at(&o, 1.0, true, &b, "2C 01 F4 01 C0 08 80 07"), 11);
	b.voltage = 79.9f;
	CHECK_EQ_INT(ask_at(&o, 2.0, true, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 1000.1f;
	CHECK_EQ_INT(ask_at(&o, 3.0, true, &b, NULL), 0);
	b.voltage = 80.0f;
	CHECK_EQ_INT(ask_at(&o, 4.0, true, &b, NULL), 11);
	b.voltage = 210.2f;
	CHECK_EQ_INT(ask_at(&o, 5.0, false, &fs, "00 00 00 00 C0 08 80 07"), 11);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(ask_at(&o, 34.9, false, &fs, "00 00 00 00 C0 08 80 07"), 11);
	CHECK_EQ_INT(ask_at(&o, 35.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(ask_at(&o, 36.0, true, &b, "2C 01 F4 01 C0 08 80 07"), 11);
	CHECK_EQ_INT(o.state, INV_SENDING);
}

int main(void)
{
	test_set();
	test_fields();
	test_failsafe();
	test_heard();
	test_states();
	return check_report();
}
