/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_sma_hv_can.c - the sma-hv-can codec (gateway/
 * inverter/dialect/emu_sma_hv_can.c) byte for byte against PROTOCOLS.md §18 (standard
 * identifiers, BIG endian, DLC 8): Battery-Emulator's own frames decoded as
 * the battery they describe and encoded back (0x358 of its HVS and of its
 * BYD-H, 0x3D8, 0x4D8, 0x518, 0x558, 0x598, "BYD", "Battery-Box Premium
 * HVS"), the frames it shares with byd-hvs-can's layouts, 0x158's alarm
 * pairs; the three variants (`variant =`: byd-hvs the default, byd-h, sbs)
 * and their schedules on a fake clock (byd-hvs: one frame a 250 ms from
 * the pairing request, then 2 / 10 / 60 s; byd-h and sbs: every 100 ms from
 * the inverter's first frame); the SMA's frames and its pairing request;
 * and the safety rules, each a check that fails without its rule: the
 * fail-safe frames (zero currents, the CVL kept, 0x4D8 "stop", 0x158's
 * fault), the limits out of turn ahead of the queue, never two frames
 * within 250 ms (byd-hvs), silence outside 80-1000 V. */
#include "inv_check.h"
#include "inv_sched.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const H = &inv_codec_sma_hv_can;

#define SHV_IS(c, b, id, hex) FRAME_IS(c, id, b, hex)

/* The codec of a variant, as an [inverter] section picks it. */
static const struct inv_codec *variant(int v)
{
	struct conf_inverter cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.protocol = CONF_INV_SMA_HV_CAN;
	cfg.variant = v;
	return inv_codec_for(&cfg);
}

/* V1: Battery-Emulator's SMA-BYD-HVS initial data as a battery: 467.2 /
 * 320.0 V, 25.6 A both ways, SOC 10.30 %, SOH 100 %, 2.5 of 25.0 Ah, the
 * hottest 15.0 and the coldest 12.0 degC; 128 LFP cells (409.6 V nominal),
 * the machine's tag 12d643a4. */
static void battery_v1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_TEMP_MINMAX | INV_HAS_REMAIN | INV_HAS_FULL |
		     INV_HAS_ALARMS;
	b->cvl_v = 467.2f;
	b->dvl_v = 320.0f;
	b->ccl_a = b->dcl_a = 25.6f;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 10.3f;
	b->soh = 100;
	b->remain_ah = 2.5f;
	b->full_ah = 25.0f;
	b->temp_max_c = 15.0f;
	b->temp_min_c = 12.0f;
	b->total_cells = 128;
	strcpy(b->machine_tag, "12d643a4");
}

/* Battery-Emulator's bytes (§18), each from the battery it describes. */
static void test_vectors(void)
{
	struct inv_battery b;

	battery_v1(&b);
	SHV_IS(H, &b, 0x358, "12 40 0C 80 01 00 01 00");
	LIMITS_ARE(H, &b, 256, 256);
	SHV_IS(H, &b, 0x3D8, "04 06 27 10 00 19 00 FA");
	/* no voltage, no cells: 0 and 0xFF (BE's HVS data has 00 00 there, its
	 * BYD-H FF FF) */
	SHV_IS(H, &b, 0x518, "00 96 00 78 00 00 FF FF");
	/* 0x558: 128 / 32 = 4 modules; 25 Ah x 409.6 V = 10240 Wh = 102 x 0.1
	 * kWh: BE's "10,24kWh, 4 modules" exactly */
	SHV_IS(H, &b, 0x558, "03 24 00 04 00 66 04 09");
	SHV_IS(H, &b, 0x598, "12 D6 43 A4 00 00 00 00");
	SHV_IS(H, &b, 0x5D8, "00 42 59 44 00 00 00 00");
	SHV_IS(H, &b, 0x458, "00 00 00 00 00 00 00 00");
	/* (0x158: byd-h's and sbs's, not byd-hvs's) */
	SHV_IS(variant(CONF_VARIANT_BYD_H), &b, 0x158, "AA AA AA AA AA AA AA AA");
	/* the SMA-BYD-H data: 451.2 / 179.2 V, DCL 35.0, CCL 20.0 A */
	b.cvl_v = 451.2f;
	b.dvl_v = 179.2f;
	b.dcl_a = 35.0f;
	b.ccl_a = 20.0f;
	SHV_IS(H, &b, 0x358, "11 A0 07 00 01 5E 00 C8");
	LIMITS_ARE(H, &b, 200, 350);
	/* 419.4 V, +2.2 A, 36.0 degC, ready */
	b.present |= INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP;
	b.voltage = 419.4f;
	b.current = 2.2f;
	b.temp_c = 36.0f;
	SHV_IS(H, &b, 0x4D8, "10 62 00 16 01 68 03 08");
	/* 33.0 / 29.3 degC, the cells' sum 411.2 V, no cells */
	b.temp_max_c = 33.0f;
	b.temp_min_c = 29.3f;
	b.voltage = 411.2f;
	SHV_IS(H, &b, 0x518, "01 4A 01 25 10 10 FF FF");
	/* cells 3287 / 3298 mV in 25 mV: 131, 132 */
	b.present |= INV_HAS_CELL_MINMAX;
	b.cell_min_mv = 3287;
	b.cell_max_mv = 3298;
	SHV_IS(H, &b, 0x518, "01 4A 01 25 10 10 83 84");
	/* BYD-H's 0x558 with its 3 modules (report_modules) */
	b.report_modules = 3;
	SHV_IS(variant(CONF_VARIANT_BYD_H), &b, 0x558, "03 13 00 03 00 66 04 07");
	/* the discharging current's sign */
	b.current = -12.34f;
	SHV_IS(H, &b, 0x4D8, "10 10 FF 85 01 68 03 08");
}

/* The identification of each variant: byd-hvs and sbs "Battery-Box Premium
 * HVS" in four 0x618, byd-h "Battery-Box H10.2" in three. */
static void test_ident(void)
{
	static const char *const hvs[] = { "00 42 61 74 74 65 72 79", "01 2D 42 6F 78 20 50 72",
					   "02 65 6D 69 75 6D 20 48", "03 56 53 00 00 00 00 00" };
	static const char *const h[] = { "00 42 61 74 74 65 72 79", "01 2D 42 6F 78 20 48 31",
					 "02 30 2E 32 00 00 00 00" };
	const struct inv_codec *bh = variant(CONF_VARIANT_BYD_H), *sbs = variant(CONF_VARIANT_SBS);
	struct inv_battery b;
	struct gw_can_frame f;

	battery_v1(&b);
	CHECK(variant(CONF_VARIANT_BYD_HVS) == H && bh != H && sbs != H && bh != sbs);
	CHECK_STR(bh->name, "sma-hv-can");
	CHECK_STR(sbs->name, "sma-hv-can");
	CHECK_EQ_INT(H->can.nident, 7);
	for (int i = 0; i < 4; i++)
		CHECK(H->can.ident[3 + i].fill(&b, &f) && frame_is(&f, 0x618, hvs[i]));
	CHECK_EQ_INT(bh->can.nident, 6);
	for (int i = 0; i < 3; i++)
		CHECK(bh->can.ident[3 + i].fill(&b, &f) && frame_is(&f, 0x618, h[i]));
	CHECK_EQ_INT(sbs->can.nident, 0);
	for (int i = 0; i < 4; i++) /* sbs: the identification among its frames */
		CHECK(sbs->can.frames[3 + i].fill(&b, &f) && frame_is(&f, 0x618, hvs[i]));
	/* no machine tag: serial 0; no capacity: 0 kWh */
	b.machine_tag[0] = '\0';
	b.present &= ~(uint32_t)INV_HAS_FULL;
	SHV_IS(H, &b, 0x598, "00 00 00 00 00 00 00 00");
	SHV_IS(H, &b, 0x558, "03 24 00 04 00 00 04 09");
}

/* 0x158 (byd-h, sbs): two bits a message (01 raised, 10 not), faults in
 * bytes 0-3, warnings in 4-7; a cell over-voltage protection is a fault
 * (byte 0's second pair: A6), an under-voltage one a warning (byte 4's
 * third: 9A). */
static void test_alarms(void)
{
	const struct inv_codec *bh = variant(CONF_VARIANT_BYD_H);
	struct inv_battery b;

	battery_v1(&b);
	b.protect = BMS_AL_CELL_OV | BMS_AL_CELL_UV;
	SHV_IS(bh, &b, 0x158, "A6 AA AA AA 9A AA AA AA");
	b.protect = BMS_AL_SHORT;
	b.warn = BMS_AL_CELL_DIFF;
	SHV_IS(bh, &b, 0x158, "AA AA 9A AA AA AA AA A9");
}

/* Safety: the fail-safe battery (invsource.c) gives 0x358 zero currents,
 * the CVL and DVL kept; 0x4D8 "stop" (2); 0x158 the internal hardware
 * fault Battery-Emulator raises for a battery that may not close (byte 2
 * 6A), and its warning; a current only in a direction allowed. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_v1(&b);
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.warn |= BMS_AL_COMM;
	b.failsafe = true;
	SHV_IS(H, &b, 0x358, "12 40 0C 80 00 00 00 00");
	SHV_IS(H, &b, 0x4D8, "00 00 00 00 00 00 02 08");
	SHV_IS(variant(CONF_VARIANT_SBS), &b, 0x158, "AA AA 6A AA AA AA 6A AA");
	LIMITS_ARE(H, &b, 0, 0);
	battery_v1(&b);
	b.discharge_allowed = false;
	SHV_IS(H, &b, 0x358, "12 40 0C 80 00 00 01 00");
	b.charge_allowed = false;
	b.discharge_allowed = true;
	SHV_IS(H, &b, 0x358, "12 40 0C 80 01 00 00 00");
}

/* The SMA's frames (standard ids): 0x5E7 and 0x660 ask to pair; 0x360,
 * 0x3E0, 0x420, 0x560-0x567, 0x5E0-0x5E6, 0x62C are its others; 29-bit,
 * remote, our own and other ids are none. */
static void test_heard(void)
{
	static const uint32_t alive[] = { 0x360, 0x3E0, 0x420, 0x560, 0x567, 0x5E0, 0x5E6, 0x62C };
	struct inv_heard h;
	struct gw_can_frame f;

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < sizeof(alive) / sizeof(alive[0]); i++) {
		f = inv_mk(alive[i], false, "00 53 4D 41 00 00 00 00");
		CHECK_EQ_INT(H->can.heard(&f, &h), INV_RX_ALIVE);
	}
	f = inv_mk(0x5E7, false, "");
	CHECK_EQ_INT(H->can.heard(&f, &h), INV_RX_IDENTIFY);
	f = inv_mk(0x660, false, "01 02");
	CHECK_EQ_INT(H->can.heard(&f, &h), INV_RX_IDENTIFY);
	CHECK_EQ_INT(h.frames, 10);
	static const uint32_t other[] = { 0x568, 0x5DF, 0x358, 0x5E8, 0x661, 0x151 };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		f = inv_mk(other[i], false, "00");
		CHECK_EQ_INT(H->can.heard(&f, &h), INV_RX_OTHER);
	}
	f = inv_mk(0x5E7, true, "00");
	CHECK_EQ_INT(H->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x5E7, false, "00");
	f.rtr = true;
	CHECK_EQ_INT(H->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 10);
	/* every variant hears alike */
	CHECK(variant(CONF_VARIANT_BYD_H)->can.heard == H->can.heard && variant(CONF_VARIANT_SBS)->can.heard ==
	      H->can.heard);
}

/* byd-hvs on a fake clock: from the pairing request the identification and
 * every frame, one a 250 ms in Battery-Emulator's order; then 0x358 every
 * 2 s, 0x3D8 / 0x4D8 / 0x518 every 10 s, 0x458 every 60 s; never two frames
 * within 250 ms; out of turn 0x358 and 0x4D8 ahead of the queue. */
static void test_hvs_schedule(void)
{
	const struct inv_can_codec *c = &H->can;
	static struct sched_ev log[4000];
	static const uint32_t pairing[] = { 0x558, 0x598, 0x5D8, 0x618, 0x618, 0x618, 0x618,
					    0x358, 0x3D8, 0x458, 0x4D8, 0x518 };
	double lo, hi;

	CHECK(c->start == INV_START_ASKED && !c->ident_when_asked && c->gap_ms == 250);
	CHECK(c->frames[c->limits_frame].id == 0x358);
	int n = sched_run(c, true, 130.0, -1, log, 4000);
	for (int i = 0; i < 12; i++)
		CHECK(log[i].fn->id == pairing[i] && fabs(log[i].t - 0.25 * i) < 1e-9);
	double least = 1e9;
	for (int i = 1; i < n; i++)
		least = log[i].t - log[i - 1].t < least ? log[i].t - log[i - 1].t : least;
	CHECK(least > 0.25 - 1e-9);
	/* from 20 s on, 0x358 every 2 s exactly, the others on their periods
	 * but for the queue (at most four frames ahead: 1 s) */
	int from = 0;
	while (from < n && log[from].t < 20)
		from++;
	CHECK(sched_count(log + from, n - from, &c->frames[0], &lo, &hi) >= 50 && fabs(lo - 2) < 1e-6 &&
	      fabs(hi - 2) < 1e-6);
	for (int k = 1; k < 5; k++) {
		int cnt = sched_count(log + from, n - from, &c->frames[k], &lo, &hi);
		CHECK(cnt >= 2 && lo >= c->periods[k].s - 1 - 1e-6 && hi <= c->periods[k].s + 1 + 1e-6);
	}
	/* out of turn at 0.3 s: 0x358, then 0x4D8, ahead of what waits, the
	 * gap kept */
	n = sched_run(c, true, 2.9, 0.3, log, 4000);
	CHECK(log[1].fn->id == 0x598 && fabs(log[1].t - 0.25) < 1e-9);
	CHECK(log[2].fn->id == 0x358 && fabs(log[2].t - 0.5) < 1e-9);
	CHECK(log[3].fn->id == 0x4D8 && fabs(log[3].t - 0.75) < 1e-9);
	CHECK(log[4].fn->id == 0x5D8);
	int n358 = 0;
	for (int i = 0; i < n; i++)
		n358 += log[i].fn->id == 0x358;
	CHECK_EQ_INT(n358, 1); /* once: queued, it is not queued again */
}

/* byd-h and sbs: every frame every 100 ms from the start (the inverter's
 * first frame); byd-h's identification only when asked. */
static void test_fast_schedules(void)
{
	const struct inv_can_codec *h = &variant(CONF_VARIANT_BYD_H)->can, *s = &variant(CONF_VARIANT_SBS)->can;
	static struct sched_ev log[4000];
	static const uint32_t h_ids[] = { 0x158, 0x358, 0x3D8, 0x458, 0x518, 0x4D8 };
	static const uint32_t s_ids[] = { 0x558, 0x598, 0x5D8, 0x618, 0x618, 0x618, 0x618,
					  0x158, 0x358, 0x3D8, 0x458, 0x518, 0x4D8 };

	CHECK(h->start == INV_START_HEARD && h->ident_when_asked && h->gap_ms == 0);
	CHECK(h->frames[h->limits_frame].id == 0x358);
	int n = sched_run(h, false, 5.05, -1, log, 4000);
	CHECK(sched_periodic(h, log, n));
	CHECK_EQ_INT(n, 6 * 51);
	for (int i = 0; i < 6; i++)
		CHECK(log[i].fn->id == h_ids[i]);
	n = sched_run(h, true, 0.05, -1, log, 4000);
	CHECK_EQ_INT(n, 12);
	CHECK(log[0].fn->id == 0x558 && log[6].fn->id == 0x158);
	CHECK(s->start == INV_START_HEARD && s->gap_ms == 0 && s->nframes == 13);
	CHECK(s->frames[s->limits_frame].id == 0x358);
	n = sched_run(s, false, 5.05, -1, log, 4000);
	CHECK(sched_periodic(s, log, n));
	CHECK_EQ_INT(n, 13 * 51);
	for (int i = 0; i < 13; i++)
		CHECK(log[i].fn->id == s_ids[i]);
}

/* Safety: silent outside 80-1000 V. */
static void test_range(void)
{
	static struct inv_out o;
	struct inv_battery b;
	double lo = 0, hi = 0;

	CHECK(inv_dialect_volt_range(CONF_INV_SMA_HV_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
	o.cfg.protocol = CONF_INV_SMA_HV_CAN;
	o.codec = H;
	o.cfg.failsafe_silence = 30;
	battery_v1(&b);
	b.present |= INV_HAS_VOLTAGE;
	b.voltage = 411.2f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 0.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	b.voltage = 53;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 1.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
}

static void test_row(void)
{
	CHECK(inv_codec_of(CONF_INV_SMA_HV_CAN) == H);
	CHECK_STR(inv_dialect_name(CONF_INV_SMA_HV_CAN), "sma-hv-can");
	CHECK(inv_dialect_kind(CONF_INV_SMA_HV_CAN) == CONF_INV_CAN);
	CHECK_EQ_INT((int)inv_dialect_bitrate(CONF_INV_SMA_HV_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_SMA_HV_CAN), 0);
	CHECK_EQ_INT((int)H->nvariants, 3);
	CHECK(variant(7) == H); /* out of the list: the default's */
	/* another protocol has none */
	struct conf_inverter cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.protocol = CONF_INV_BYD_HVS_CAN;
	cfg.variant = CONF_VARIANT_SBS;
	CHECK(inv_codec_for(&cfg) == &inv_codec_byd_hvs_can);
}

int main(void)
{
	test_vectors();
	test_ident();
	test_alarms();
	test_failsafe();
	test_heard();
	test_hvs_schedule();
	test_fast_schedules();
	test_range();
	test_row();
	return check_report();
}
