/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_pylon_hv_can.c - the pylon-hv-can codec (gateway/
 * inverter/dialect/emu_pylon_hv_can.c) byte for byte against PROTOCOLS.md §8: extended
 * identifiers, little endian, the currents on the 30000 offset (DCL =
 * 30000 - 10 A), temperatures on the 1000 offset; the vectors of a real
 * battery's 0x4220 (Battery-Emulator #2019) and Battery-Emulator's
 * placeholder 0x4210 / 0x4230 / 0x4240; the inverter's 0x4200 (byte 0 = 00
 * / 02) as the requests, answered with 0x4210-0x4290 / 0x7310-0x7340 under
 * the address; and the safety rules of §8.5, each a check that fails
 * without its rule: the fail-safe answer (zero currents, 0xAA both ways,
 * the communication error, the cut-off voltages kept), a direction
 * forbidden without a current, and the states on a fake clock: nothing
 * before data, zero limits when stale, then silence, and silence while the
 * source measures outside 80-1000 V; ferroamp-can, this codec under its
 * own row at address 1 (Battery-Emulator's FERROAMP-CAN 0x4211). */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const P = &inv_codec_pylon_hv_can;

/* Frame f is the extended id with exactly the bytes of hex (DLC 8). */
#define ext_is ext_frame_is

#define HV_IS(b, id, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(P, id, b, 0, &f_), 0); \
	CHECK(ext_is(&f_, id, hex)); \
} while (0)

/* HV1: the vectors' battery: 426.0 / 336.0 V, 25 A both ways, 246.9 V,
 * 0 A, 18.1 degC, SOC 46.9 %, SOH 100 %, cells 3295 mV (3) / 3290 mV (6),
 * sensors 15.0 degC (17) / 12.2 degC (3), 120 cells, 50 Ah. */
static void battery_hv1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX | INV_HAS_FULL | INV_HAS_ALARMS;
	b->cvl_v = 426.0f;
	b->dvl_v = 336.0f;
	b->ccl_a = b->dcl_a = 25.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 246.9f;
	b->current = 0;
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

/* The whole set from HV1: the vectors of PROTOCOLS.md §8.7, in order. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_hv1(&b);
	CHECK_EQ_INT(inv_can_encode(P, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 13);
	CHECK(ext_is(&f[0], 0x4210, "A5 09 30 75 9D 04 2E 64"));  /* BE placeholder */
	CHECK(ext_is(&f[1], 0x4220, "A4 10 20 0D 2A 76 36 74"));  /* a real battery, BE #2019 */
	CHECK(ext_is(&f[2], 0x4230, "DF 0C DA 0C 03 00 06 00"));  /* BE placeholder */
	CHECK(ext_is(&f[3], 0x4240, "7E 04 62 04 11 00 03 00"));  /* BE placeholder */
	CHECK(ext_is(&f[4], 0x4250, "03 00 00 00 00 00 00 00"));  /* idle */
	CHECK(ext_is(&f[5], 0x4260, "00 00 00 00 00 00 00 00"));
	CHECK(ext_is(&f[6], 0x4270, "7E 04 62 04 01 00 01 00"));  /* modules: pack 1 */
	CHECK(ext_is(&f[7], 0x4280, "00 00 00 00 00 00 00 00"));  /* both allowed */
	CHECK(ext_is(&f[8], 0x4290, "00 00 00 00 00 00 00 00"));
	CHECK(ext_is(&f[9], 0x7310, "00 00 00 00 00 00 00 00"));
	CHECK(ext_is(&f[10], 0x7320, "78 00 01 78 00 00 32 00")); /* 120 cells, 50 Ah */
	CHECK(ext_is(&f[11], 0x7330, "50 59 4C 4F 4E 00 00 00")); /* "PYLON" */
	CHECK(ext_is(&f[12], 0x7340, "00 00 00 00 00 00 00 00"));
	LIMITS_ARE(P, &b, 250, 250);
	CHECK(P->can.answers && !P->can.one_by_one && P->can.answer);
	CHECK(inv_codec_of(CONF_INV_PYLON_HV_CAN) == P);
	CHECK_STR(inv_dialect_name(CONF_INV_PYLON_HV_CAN), "pylon-hv-can");
	CHECK_EQ_INT(inv_dialect_default_extras(CONF_INV_PYLON_HV_CAN), 0);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_PYLON_HV_CAN), 0);
	double lo = 0, hi = 0;
	CHECK(inv_dialect_volt_range(CONF_INV_PYLON_HV_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
	CHECK(!inv_dialect_volt_range(CONF_INV_PYLON_CAN, &lo, &hi));
}

/* Currents both ways, the state bits, cycles, the alarms, a name. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_hv1(&b);
	b.current = -12.34f; /* discharging: 30000 - 123 */
	b.present |= INV_HAS_CYCLES;
	b.cycles = 321;
	HV_IS(&b, 0x4210, "A5 09 B5 74 9D 04 2E 64");
	HV_IS(&b, 0x4250, "02 41 01 00 00 00 00 00");
	b.current = 5.0f; /* charging: 30000 + 50 */
	b.force_charge = b.full_charge_request = true;
	HV_IS(&b, 0x4210, "A5 09 62 75 9D 04 2E 64");
	HV_IS(&b, 0x4250, "19 41 01 00 00 00 00 00");
	/* protections in bytes 6-7, warnings in 4-5, errors in 3 */
	b.force_charge = b.full_charge_request = false;
	b.protect = BMS_AL_CELL_OV | BMS_AL_SHORT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR;
	b.warn = BMS_AL_CHG_UT | BMS_AL_PACK_UV | BMS_AL_MOS_OT | BMS_AL_CELL_DIFF;
	HV_IS(&b, 0x4250, "01 41 01 22 94 00 02 02");
	b.protect = BMS_AL_CELL_UV | BMS_AL_DSG_OC | BMS_AL_CHG_OC | BMS_AL_HW_FAULT;
	b.warn = BMS_AL_CHG_OT | BMS_AL_DSG_UT | BMS_AL_PACK_OV | BMS_AL_COMM;
	HV_IS(&b, 0x4250, "01 41 01 84 68 00 01 03");
	/* no alarms known: none set */
	b.present &= ~(uint32_t)INV_HAS_ALARMS;
	HV_IS(&b, 0x4250, "01 41 01 00 00 00 00 00");
	/* no temperature at all: raw 0 (-100 degC), no numbers */
	b.present &= ~(uint32_t)(INV_HAS_TEMP | INV_HAS_TEMP_MINMAX);
	HV_IS(&b, 0x4210, "A5 09 62 75 00 00 2E 64");
	HV_IS(&b, 0x4240, "00 00 00 00 00 00 00 00");
	/* the average for both extremes without them */
	b.present |= INV_HAS_TEMP;
	b.temp_c = -5.5f;
	HV_IS(&b, 0x4240, "B1 03 B1 03 00 00 00 00");
	/* no cell extremes: zeros; no SOH: 100 */
	b.present &= ~(uint32_t)(INV_HAS_CELL_MINMAX | INV_HAS_SOH);
	HV_IS(&b, 0x4230, "00 00 00 00 00 00 00 00");
	HV_IS(&b, 0x4210, "A5 09 62 75 B1 03 2E 64");
	/* a cell of the second pack in series: counted across (16 a pack) */
	battery_hv1(&b);
	b.series_cells = 16;
	b.cell_max_at = (struct inv_where){ 2, 3 };
	HV_IS(&b, 0x4230, "DF 0C DA 0C 13 00 06 00");
	b.series_cells = 0; /* unknown: 0, never a guess */
	HV_IS(&b, 0x4230, "DF 0C DA 0C 00 00 06 00");
	/* a string of four 16-cell packs; cells that do not divide: no
	 * cells per module; none known: zeros */
	b.total_cells = 64;
	b.modules = 4;
	HV_IS(&b, 0x7320, "40 00 04 10 00 00 32 00");
	b.total_cells = 65;
	HV_IS(&b, 0x7320, "41 00 04 00 00 00 32 00");
	b.total_cells = 0;
	b.modules = 0;
	HV_IS(&b, 0x7320, "00 00 00 00 00 00 32 00");
	/* the manufacturer, 8 characters in 0x7330 */
	strcpy(b.manufacturer, "BMSGW-HV");
	HV_IS(&b, 0x7330, "42 4D 53 47 57 2D 48 56");
	HV_IS(&b, 0x7340, "00 00 00 00 00 00 00 00");
}

/* Safety (§8.5): the set a stale source gives (invsource.c's fail-safe
 * battery: nothing allowed, the communication warning): CCL and DCL raw
 * 30000 (0 A), 0x4280 AA AA, the communication error; the cut-off voltages
 * kept, never 0. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_hv1(&b);
	b.force_charge = true;
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	b.warn |= BMS_AL_COMM;
	HV_IS(&b, 0x4220, "A4 10 20 0D 30 75 30 75");
	HV_IS(&b, 0x4280, "AA AA 00 00 00 00 00 00");
	HV_IS(&b, 0x4250, "03 00 00 04 00 00 00 00");
	LIMITS_ARE(P, &b, 0, 0);
	/* a direction not allowed is 0 A and forbidden, whatever its number */
	battery_hv1(&b);
	b.charge_allowed = false;
	HV_IS(&b, 0x4220, "A4 10 20 0D 30 75 36 74");
	HV_IS(&b, 0x4280, "AA 00 00 00 00 00 00 00");
	LIMITS_ARE(P, &b, 0, 250);
	battery_hv1(&b);
	b.discharge_allowed = false;
	HV_IS(&b, 0x4220, "A4 10 20 0D 2A 76 30 75");
	HV_IS(&b, 0x4280, "00 AA 00 00 00 00 00 00");
}

/* Safety: allowed only with a current whose field is not 0; force charge
 * only with charging allowed; the fields never wrap. */
static void test_enables(void)
{
	struct inv_battery b;

	battery_hv1(&b);
	b.ccl_a = 0.04f; /* 0 in 0.1 A */
	b.force_charge = true;
	HV_IS(&b, 0x4280, "AA 00 00 00 00 00 00 00");
	HV_IS(&b, 0x4220, "A4 10 20 0D 30 75 36 74");
	HV_IS(&b, 0x4250, "03 00 00 00 00 00 00 00");
	b.ccl_a = 25;
	HV_IS(&b, 0x4250, "0B 00 00 00 00 00 00 00");
	b.dcl_a = 0.09f;
	HV_IS(&b, 0x4280, "00 AA 00 00 00 00 00 00");
	/* 5000 A: the charge field's 3276.7 A; the discharge field's floor,
	 * raw 0 (3000.0 A), never wrapped past it */
	b.ccl_a = b.dcl_a = 5000;
	HV_IS(&b, 0x4220, "A4 10 20 0D 2F F5 00 00");
	LIMITS_ARE(P, &b, 32767, 30000);
	/* limits rounded toward the safe side: CVL down, DVL up */
	battery_hv1(&b);
	b.cvl_v = 426.09f;
	b.dvl_v = 335.91f;
	b.ccl_a = 24.99f;
	HV_IS(&b, 0x4220, "A4 10 20 0D 29 76 36 74");
	/* without limits: both forbidden, 0 A */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	HV_IS(&b, 0x4280, "AA AA 00 00 00 00 00 00");
	HV_IS(&b, 0x4220, "00 00 00 00 30 75 30 75");
}

/* The inverter's frames: 0x4200 byte 0 = 00 / 02 are requests (the kinds
 * kept in `asked`), 01 heard but not answered; 0x3010, 0x8200, 0x8210,
 * 0x8240 heard; standard frames, remote frames, our own answers: not the
 * inverter's. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x4200, true, "00 00 00 00 00 00 00 E3"); /* a Growatt SPH's (B2I #85) */
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, 1u << 0);
	f = inv_mk(0x4200, true, "02 00 00 00 00 00 00 E3");
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(h.asked, (1u << 0) | (1u << 2));
	f = inv_mk(0x4200, true, "01");
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x4200, true, "");
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_BAD);
	f = inv_mk(0x3010, true, "0E DF 14 00 00 00 00 00"); /* the SPH's heartbeat */
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x8210, true, "AA 00 00 00 00 00 00 00");
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x8200, true, "55");
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x8240, true, "AA");
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.frames, 8);
	f = inv_mk(0x4200, false, "00 00 00 00 00 00 00 00"); /* 11 bits: another protocol's */
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x4200, true, "00");
	f.rtr = true;
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x4210, true, "A5 09 30 75 9D 04 2E 64"); /* an answer, echoed */
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x305, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(P->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 8);
}

/* The answer to the kinds asked, under the address. */
static void test_answer(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter c;

	memset(&c, 0, sizeof(c));
	battery_hv1(&b);
	CHECK_EQ_INT(inv_answer_h(P, &c, NULL, 1u << 0, &b, f, &e), 9);
	for (int i = 0; i < 9; i++)
		CHECK_EQ_INT(f[i].id, 0x4210 + 0x10 * (uint32_t)i);
	CHECK(e.limits);
	CHECK_EQ_INT(inv_answer_h(P, &c, NULL, 1u << 2, &b, f, &e), 4);
	CHECK_EQ_INT(f[0].id, 0x7310);
	CHECK_EQ_INT(f[3].id, 0x7340);
	CHECK(!e.limits); /* the limits were not in it */
	c.address = 1;
	CHECK_EQ_INT(inv_answer_h(P, &c, NULL, (1u << 0) | (1u << 2), &b, f, &e), 13);
	CHECK(ext_is(&f[1], 0x4221, "A4 10 20 0D 2A 76 36 74"));
	CHECK_EQ_INT(f[0].id, 0x4211);
	CHECK_EQ_INT(f[12].id, 0x7341);
	CHECK_EQ_INT(inv_answer_h(P, &c, NULL, 0, &b, f, &e), 0);
}

/* The output on a fake clock, as invcan.c decides at each request: the
 * source's range checked (invsource.c), the state, and the answer to
 * 0x4200 00 only in a state that speaks.  Returns the frames answered;
 * want (unless NULL) is 0x4220's bytes. */
static int ask_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	if (fresh || o->ever_fresh)
		inv_check_range(o, b);
	inv_update_state(o, true, fresh, now);
	if (!inv_state_speaks(o->state))
		return 0;
	int n = inv_answer_h(P, &o->cfg, NULL, 1u << 0, b, f, &e);
	if (want)
		CHECK(n >= 2 && ext_is(&f[1], 0x4220, want));
	return n;
}

static void test_states(void)
{
	static struct inv_out o; /* zero: never fresh */
	struct inv_battery b, fs;

	o.cfg.protocol = CONF_INV_PYLON_HV_CAN;
	o.cfg.failsafe_silence = 30;
	battery_hv1(&b);
	fs = b;
	fs.charge_allowed = fs.discharge_allowed = false;
	fs.ccl_a = fs.dcl_a = 0;
	/* nothing before the first data */
	CHECK_EQ_INT(ask_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(ask_at(&o, 1.0, true, &b, "A4 10 20 0D 2A 76 36 74"), 9);
	CHECK_EQ_INT(o.state, INV_SENDING);
	/* the measured voltage outside 80-1000 V: silent, fresh or not */
	b.voltage = 79.9f;
	CHECK_EQ_INT(ask_at(&o, 2.0, true, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	CHECK_STR(inv_state_name(o.state), "out_of_range");
	b.voltage = 1000.1f;
	CHECK_EQ_INT(ask_at(&o, 3.0, true, &b, NULL), 0);
	b.present &= ~(uint32_t)INV_HAS_VOLTAGE; /* no voltage: never known inside */
	CHECK_EQ_INT(ask_at(&o, 4.0, true, &b, NULL), 0);
	b.present |= INV_HAS_VOLTAGE;
	b.voltage = 80.0f; /* the edges are inside */
	CHECK_EQ_INT(ask_at(&o, 5.0, true, &b, NULL), 9);
	b.voltage = 1000.0f;
	CHECK_EQ_INT(ask_at(&o, 5.5, true, &b, NULL), 9);
	b.voltage = 246.9f;
	CHECK_EQ_INT(ask_at(&o, 6.0, true, &b, "A4 10 20 0D 2A 76 36 74"), 9);
	CHECK_EQ_INT(o.state, INV_SENDING);
	/* stale: zero limits at once, for failsafe_silence */
	CHECK_EQ_INT(ask_at(&o, 7.0, false, &fs, "A4 10 20 0D 30 75 30 75"), 9);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(ask_at(&o, 36.9, false, &fs, "A4 10 20 0D 30 75 30 75"), 9);
	/* then silence */
	CHECK_EQ_INT(ask_at(&o, 37.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(ask_at(&o, 100.0, false, &fs, NULL), 0);
	/* fresh again: answered again */
	CHECK_EQ_INT(ask_at(&o, 101.0, true, &b, "A4 10 20 0D 2A 76 36 74"), 9);
	CHECK_EQ_INT(o.state, INV_SENDING);
	/* another protocol has no range: any voltage */
	static struct inv_out lv;
	lv.cfg.protocol = CONF_INV_GROWATT_CAN;
	b.voltage = 53.0f;
	inv_check_range(&lv, &b);
	CHECK(!lv.out_of_range);
}

/* ferroamp-can: this codec under its own row (PROTOCOLS.md §20): the same
 * frames, at address 1 unless set; Battery-Emulator's FERROAMP-CAN header's 0x4211
 * (§18 of the round's notes: 246.9 V, 0.0 A, 18.1 degC, 46 %, 100 %, on the
 * offsets); its window 80-1000 V; its name, not pylon-hv-can's, in the
 * status (inv_dialect_name: the codec is the first row's). */
static void test_ferroamp(void)
{
	const struct inv_codec *fa = inv_codec_of(CONF_INV_FERROAMP_CAN);
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter c;
	double lo = 0, hi = 0;

	CHECK(fa == P);
	CHECK_STR(inv_dialect_name(CONF_INV_FERROAMP_CAN), "ferroamp-can");
	CHECK_EQ_INT(inv_dialect_kind(CONF_INV_FERROAMP_CAN), CONF_INV_CAN);
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_FERROAMP_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_FERROAMP_CAN), 0);
	CHECK(inv_dialect_volt_range(CONF_INV_FERROAMP_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
	CHECK_STR(inv_dialect_speech(CONF_INV_FERROAMP_CAN), "answers each 0x4200 of the inverter");
	memset(&c, 0, sizeof(c));
	c.protocol = CONF_INV_FERROAMP_CAN;
	c.address = 1; /* its default (gateway/inverter/inverter_conf.c; test_conf_hv) */
	battery_hv1(&b);
	CHECK_EQ_INT(inv_answer_h(fa, &c, NULL, 1u << 0, &b, f, &e), 9);
	CHECK(ext_is(&f[0], 0x4211, "A5 09 30 75 9D 04 2E 64"));
	CHECK(ext_is(&f[1], 0x4221, "A4 10 20 0D 2A 76 36 74"));
	CHECK(ext_is(&f[3], 0x4241, "7E 04 62 04 11 00 03 00")); /* + 1000 (disagreement 4: pylon-hv-can's) */
	CHECK_EQ_INT(f[8].id, 0x4291);
	CHECK(e.limits);
	/* 02: 0x7311-0x7341, the real cells and Ah (BE's placeholders 120 / 37) */
	CHECK_EQ_INT(inv_answer_h(fa, &c, NULL, 1u << 2, &b, f, &e), 4);
	CHECK(ext_is(&f[1], 0x7321, "78 00 01 78 00 00 32 00"));
	CHECK_EQ_INT(f[3].id, 0x7341);
	/* the fail-safe answer: zero currents on the offset, forbidden both ways */
	b.charge_allowed = b.discharge_allowed = false;
	b.ccl_a = b.dcl_a = 0;
	b.failsafe = true;
	CHECK_EQ_INT(inv_answer_h(fa, &c, NULL, 1u << 0, &b, f, &e), 9);
	CHECK(ext_is(&f[1], 0x4221, "A4 10 20 0D 30 75 30 75"));
	CHECK(ext_is(&f[7], 0x4281, "AA AA 00 00 00 00 00 00"));
	CHECK(e.limits && e.ccl_a == 0 && e.dcl_a == 0);
	/* address 0 when set so */
	c.address = 0;
	CHECK_EQ_INT(inv_answer_h(fa, &c, NULL, 1u << 0, &b, f, &e), 9);
	CHECK_EQ_INT(f[0].id, 0x4210);
}

int main(void)
{
	test_set();
	test_fields();
	test_failsafe();
	test_enables();
	test_heard();
	test_answer();
	test_states();
	test_ferroamp();
	return check_report();
}
