/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_schneider_can.c - the schneider-can codec (gateway/
 * inverter/dialect/emu_schneider_can.c) byte for byte against PROTOCOLS.md §19: 29-bit
 * identifiers 0x320-0x333, BIG endian, 32-bit signed fields in 0.01 V and
 * 0.01 A, the short frames (0x320 DLC 2, 0x324 DLC 4, 0x325 DLC 6), the
 * fixed "SEBMS" and version 2 of Battery-Emulator's, every other frame of a
 * known 48 V battery as this test encodes it from the layout (the serial's
 * characters highest first); the XW Pro's 0x310; the periods on a fake
 * clock (500 ms, 2 s, 10 s, from the source's data without the inverter);
 * and the safety rules, each a check that fails without its rule: the
 * fail-safe frames (zero currents, the CVL and DVL kept, "stop" with both
 * permissions cleared, "faulted"), a permission only with its current, the
 * protections that stop discharging sent as warnings; a 48 V protocol
 * without a voltage window. */
#include "inv_check.h"
#include "inv_sched.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const E = &inv_codec_schneider_can;

#define SE_IS(b, id, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(E, id, b, 0, &f_), 0); \
	CHECK(ext_frame_is(&f_, id, hex)); \
} while (0)

/* B1 of inv_check.h (55.2 / 46.4 V, 50 / 60 A, 53.125 V, -12.34 A, SOC
 * 81.6 %, SOH 97.4 %, 100 Ah) with its sensors at 25.1 and 23.9 degC, cells
 * 3325 and 3310 mV, 123 cycles, the machine's tag 3d1219c7. */
static void battery_e1(struct inv_battery *b)
{
	battery_b1(b);
	b->present |= INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_CYCLES;
	b->temp_max_c = 25.1f;
	b->temp_min_c = 23.9f;
	b->cell_max_mv = 3325;
	b->cell_min_mv = 3310;
	b->cycles = 123;
	b->total_cells = 16;
	strcpy(b->machine_tag, "3d1219c7");
}

static void test_frames(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	static const uint32_t ids[] = { 0x321, 0x322, 0x323, 0x324, 0x325, 0x320, 0x326, 0x327,
					0x328, 0x330, 0x331, 0x332, 0x333 };
	static const uint8_t dlc[] = { 8, 8, 8, 4, 6, 2, 8, 8, 8, 8, 8, 8, 8 };

	battery_e1(&b);
	CHECK_EQ_INT(inv_can_encode(E, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 13);
	for (int i = 0; i < 13; i++)
		CHECK(f[i].id == ids[i] && f[i].ext && !f[i].rtr && f[i].dlc == dlc[i]);
	/* CVL 55.20 V = 5520, DVL 46.40 V = 4640 (s32 0.01 V) */
	SE_IS(&b, 0x321, "00 00 15 90 00 00 12 20");
	/* CCL 50.00 A, DCL 60.00 A (s32 0.01 A) */
	SE_IS(&b, 0x322, "00 00 13 88 00 00 17 70");
	LIMITS_ARE(E, &b, 500, 600);
	/* 53.13 V (5312.5 to the nearest), -12.34 A (discharging) */
	SE_IS(&b, 0x323, "00 00 14 C1 FF FF FB 2E");
	/* the mean of 25.1 and 23.9: 24.5 degC; SOC 81.6 % in 0.1 % */
	SE_IS(&b, 0x324, "00 F5 03 30");
	/* charge and discharge permitted, no warning, no fault */
	SE_IS(&b, 0x325, "00 06 00 00 00 00");
	SE_IS(&b, 0x320, "00 02");
	/* online, 123 cycles, SOH 97 %, 100 Ah */
	SE_IS(&b, 0x326, "00 03 00 7B 00 61 00 64");
	SE_IS(&b, 0x327, "00 FB 00 EF 0C FD 0C EE");
	SE_IS(&b, 0x328, "00 00 00 00 00 00 00 00");
	/* ids 0 (Schneider assigns them); the serial BMSGW003D1219C7000000's
	 * first 20 characters, the highest index first: "BMSG" "W003D121"
	 * "9C700000" */
	SE_IS(&b, 0x330, "00 00 00 00 42 4D 53 47");
	SE_IS(&b, 0x331, "57 30 30 33 44 31 32 31");
	SE_IS(&b, 0x332, "39 43 37 30 30 30 30 30");
	SE_IS(&b, 0x333, "53 45 42 4D 53 00 00 00");
	/* unknown values: 0, SOH 100 */
	b.present &= ~(uint32_t)(INV_HAS_SOH | INV_HAS_CYCLES | INV_HAS_FULL | INV_HAS_CELL_MINMAX | INV_HAS_VOLTAGE |
				 INV_HAS_CURRENT);
	SE_IS(&b, 0x326, "00 03 00 00 00 64 00 00");
	SE_IS(&b, 0x327, "00 FB 00 EF 00 00 00 00");
	SE_IS(&b, 0x323, "00 00 00 00 00 00 00 00");
	/* charging: + */
	battery_e1(&b);
	b.current = 1.5f;
	SE_IS(&b, 0x323, "00 00 14 C1 00 00 00 96");
}

/* Warnings and faults in the document's bits: a cell under-voltage
 * protection goes as a warning (bit 5: the limits already stop discharging,
 * and a fault would stop the rescue charge too), an over-temperature and a
 * hardware fault as faults (bits 2, 8); a warning of imbalance (bit 6). */
static void test_alarms(void)
{
	struct inv_battery b;

	battery_e1(&b);
	b.protect = BMS_AL_CELL_UV | BMS_AL_CHG_OT | BMS_AL_HW_FAULT;
	b.warn = BMS_AL_CELL_DIFF;
	SE_IS(&b, 0x325, "00 06 00 60 01 04");
	b.protect = BMS_AL_CHG_OC | BMS_AL_SHORT | BMS_AL_PACK_OV;
	b.warn = BMS_AL_CHG_UT | BMS_AL_COMM;
	SE_IS(&b, 0x325, "00 06 00 88 00 13");
	b.present &= ~(uint32_t)INV_HAS_ALARMS; /* none known: none said */
	SE_IS(&b, 0x325, "00 06 00 00 00 00");
}

/* Safety: the fail-safe battery (invsource.c: nothing allowed, zero
 * currents, a communication warning) gives 0x322 zero, the CVL and DVL
 * kept, 0x325 "stop" with both permissions cleared, 0x326 "faulted"; a
 * permission only with its current; force charge only with charging. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_e1(&b);
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.warn |= BMS_AL_COMM;
	b.failsafe = true;
	SE_IS(&b, 0x321, "00 00 15 90 00 00 12 20");
	SE_IS(&b, 0x322, "00 00 00 00 00 00 00 00");
	SE_IS(&b, 0x325, "00 08 00 80 00 00");
	SE_IS(&b, 0x326, "00 04 00 7B 00 61 00 64");
	LIMITS_ARE(E, &b, 0, 0);
	battery_e1(&b);
	b.discharge_allowed = false; /* its number stays: the flag rules */
	b.force_charge = true;
	SE_IS(&b, 0x322, "00 00 13 88 00 00 00 00");
	SE_IS(&b, 0x325, "00 03 00 00 00 00");
	b.charge_allowed = false;
	SE_IS(&b, 0x325, "00 00 00 00 00 00");
	battery_e1(&b);
	b.dcl_a = 0.04f; /* rounds to 0: not permitted */
	SE_IS(&b, 0x325, "00 02 00 00 00 00");
}

/* The XW Pro's 0x310 (any payload, 11 or 29 bits); nothing else is it. */
static void test_heard(void)
{
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	f = inv_mk(0x310, true, "00 01 02 03 04 05 06 07");
	CHECK_EQ_INT(E->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x310, false, "");
	CHECK_EQ_INT(E->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.frames, 2);
	f = inv_mk(0x311, true, "00");
	CHECK_EQ_INT(E->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x321, true, "00 00 15 90 00 00 12 20"); /* our own */
	CHECK_EQ_INT(E->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x310, true, "00");
	f.rtr = true;
	CHECK_EQ_INT(E->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 2);
	CHECK_EQ_INT(h.asked, 0);
}

/* The periods on a fake clock: from the start (the source's data alone)
 * every frame, then 0x321-0x325 every 500 ms, 0x320, 0x326, 0x327 every
 * 2 s, 0x328 and 0x330-0x333 every 10 s; out of turn the limits, the
 * commands and the state. */
static void test_schedule(void)
{
	const struct inv_can_codec *c = &E->can;
	static struct sched_ev log[2000];
	double lo, hi;

	CHECK(c->periods && c->start == INV_START_DATA && c->nident == 0 && c->gap_ms == 0 && !c->answers);
	CHECK(c->frames[c->limits_frame].id == 0x322);
	int n = sched_run(c, false, 30.05, -1, log, 2000);
	CHECK(sched_periodic(c, log, n));
	for (size_t i = 0; i < c->nframes; i++)
		CHECK(log[i].t == 0 && log[i].fn == &c->frames[i]);
	CHECK_EQ_INT(sched_count(log, n, &c->frames[1], &lo, &hi), 61);  /* 0x322 at 0, 0.5 ... 30 */
	CHECK_EQ_INT(sched_count(log, n, &c->frames[6], &lo, &hi), 16);  /* 0x326 every 2 s */
	CHECK_EQ_INT(sched_count(log, n, &c->frames[12], &lo, &hi), 4);  /* 0x333 every 10 s */
	n = sched_run(c, false, 0.45, 0.2, log, 2000);
	CHECK_EQ_INT(n, 13 + 4);
	CHECK(log[13].fn == &c->frames[0] && log[14].fn == &c->frames[1] && log[15].fn == &c->frames[4] &&
	      log[16].fn == &c->frames[6]);
}

/* A 48 V protocol: no voltage window, so --check and the output accept any
 * source (as sma-can); the output speaks with a 16S pack's 53 V. */
static void test_lv(void)
{
	static struct inv_out o;
	struct inv_battery b;
	double lo = 0, hi = 0;

	CHECK(!inv_dialect_volt_range(CONF_INV_SCHNEIDER_CAN, &lo, &hi));
	o.cfg.protocol = CONF_INV_SCHNEIDER_CAN;
	o.codec = E;
	o.cfg.failsafe_silence = 30;
	battery_e1(&b);
	inv_check_range(&o, &b);
	CHECK(!o.out_of_range);
	inv_update_state(&o, true, true, 0.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
}

static void test_row(void)
{
	CHECK(inv_codec_of(CONF_INV_SCHNEIDER_CAN) == E);
	CHECK_STR(inv_dialect_name(CONF_INV_SCHNEIDER_CAN), "schneider-can");
	CHECK(inv_dialect_kind(CONF_INV_SCHNEIDER_CAN) == CONF_INV_CAN);
	CHECK_EQ_INT((int)inv_dialect_bitrate(CONF_INV_SCHNEIDER_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_SCHNEIDER_CAN), 0);
	CHECK(inv_dialect_speech(CONF_INV_SCHNEIDER_CAN) != NULL);
}

int main(void)
{
	test_frames();
	test_alarms();
	test_failsafe();
	test_heard();
	test_schedule();
	test_lv();
	test_row();
	return check_report();
}
