/* SPDX-License-Identifier: MIT */
/* tests/unit/test_seplos.c - Seplos V2 driver: the Seplos rows of
 * tests/fixtures/vectors.tsv (SEP-REQ-42/44/51, SEP-01, SEP-02; PYL-* and
 * TOP-01 as foreign answers) through scan() + handle() fed in odd chunks,
 * built 0x42 / 0x44 answers (every alarm bit), whole polls through finish(),
 * broken input.  Protocol facts: bms/PROTOCOLS.md §8, §11. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_seplos_driver;

#include "pylon_check.h"

/* tests/fixtures/vectors.tsv, family pylon (+ CR): each macro is the row of
 * the id it spells (SEP_01 = SEP-01, SEP_REQ_42 = SEP-REQ-42) */
#define SEP_REQ_42 "~20004642E00200FD37\r"
#define SEP_01 "~2000460010960001100CD70CE90CF40CD60CEF0CE50CE10CDC0CE90CF00CE80CEF0CEA0CDA0CDE0CD8060" \
	"BA60BA00B970BA60BA50BA2FD5C14A0344E0A426803134650004603E8149F0000000000000000DC6C\r"
#define SEP_REQ_51 "~200046510000FDAE\r"
#define SEP_02 "~20004600C040313130312D5350313520020743414E50726F746F636F6C3A536F666172202020F046\r"
#define SEP_REQ_44 "~20004644E00200FD35\r"
#define PYL_02 "~20024600A04210020F000000000000000000000000000000050000000000000000000E00000000F108\r"
#define TOP_01 "~52014600408401100D120D150D0F0D0D0D130D160D150D210D130D130D130D130D100D160D170D2306003D" \
	"003E003E003E003B003B018014EE33B3063A9800025864000000000000E20A\r"
/* Seplos V2.0 document, tables 7 and 10 */
#define SEP_REQ_42_1 "~20014642E00201FD35\r"
#define SEP_REQ_42_15 "~200F4642E0020FFD0B\r"
#define SEP_REQ_44_15 "~200F4644E0020FFD09\r"

static const uint16_t cells_01[16] = {
	3287, 3305, 3316, 3286, 3311, 3301, 3297, 3292, 3305, 3312, 3304, 3311, 3306, 3290, 3294, 3288,
};
static const float temps_01[5] = { 25.1f, 24.5f, 23.6f, 25.1f, 25.0f };

static void check_01(const struct bms_snapshot *s, bool inv)
{
	CHECK_EQ_INT(s->ncells, 16);
	for (int k = 0; k < 16; k++)
		CHECK_EQ_INT(s->cell_mv[k], cells_01[k]);
	CHECK_EQ_INT(s->ntemps, 5);
	for (int k = 0; k < 5; k++)
		CHECK_NEAR(s->temp_c[k], temps_01[k], 1e-4);
	CHECK_NEAR(s->mos_temp_c, 24.7, 1e-4);
	CHECK_NEAR(s->current, inv ? 6.76 : -6.76, 1e-4);
	CHECK_NEAR(s->voltage, 52.80, 1e-4);
	CHECK_NEAR(s->remain_ah, 133.90, 1e-3);
	CHECK_NEAR(s->full_ah, 170.0, 1e-3);
	CHECK_NEAR(s->soc, 78.7, 1e-4);
	CHECK_EQ_INT(s->cycles, 70);
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_EQ_INT(s->present & ~(uint32_t)(BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE),
		     BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
			     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP);
}

/* 0x44 answer: cell/temperature/current/voltage alarm bytes, then P items. */
struct a44 {
	int ncells, ntemps;
	uint8_t cell_al, temp_al[6], cur_al, volt_al;
	int p;
	uint8_t item[24];
};

static void mk44(char *out, unsigned adr, const struct a44 *a)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x00);
	pt8(&i, 0x01);
	pt8(&i, (unsigned)a->ncells);
	for (int k = 0; k < a->ncells; k++)
		pt8(&i, k == 2 ? a->cell_al : 0);
	pt8(&i, (unsigned)a->ntemps);
	for (int k = 0; k < a->ntemps; k++)
		pt8(&i, k < 6 ? a->temp_al[k] : 0);
	pt8(&i, a->cur_al);
	pt8(&i, a->volt_al);
	pt8(&i, (unsigned)a->p);
	for (int k = 0; k < a->p; k++)
		pt8(&i, k < 24 ? a->item[k] : 0);
	pt_frame(out, 0x20, adr, 0x00, i.b, i.n);
}

/* 0x42 answer with n cells (3300 + i), nt sensors (0.1 K), P items. */
static void mk42(char *out, unsigned adr, int n, int nt, int p, int cur)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x00);
	pt8(&i, adr);
	pt8(&i, (unsigned)n);
	for (int k = 0; k < n; k++)
		pt16(&i, 3300u + (unsigned)k);
	pt8(&i, (unsigned)nt);
	for (int k = 0; k < nt; k++)
		pt16(&i, 2731u + 200u + 10u * (unsigned)k);
	pt16(&i, (unsigned)cur & 0xFFFF);
	pt16(&i, 5290);
	pt16(&i, 9000);
	pt8(&i, (unsigned)p);
	static const unsigned items[10] = { 10000, 900, 10500, 123, 975, 5288, 0, 0, 0, 0 };
	for (int k = 0; k < p; k++)
		pt16(&i, k < 10 ? items[k] : 0x5555);
	pt_frame(out, 0x20, adr, 0x00, i.b, i.n);
}

static bool answer_42(struct bms_poll *poll, struct bms_rx *rx)
{
	if (cur_cmd(poll) != 0x42)
		return false;
	char f[PT_MAX];
	mk42(f, poll->address, 16, 6, 10, 250);
	bms_rx_clear(rx);
	struct drive_res r = FEED_TEXT(poll, rx, f, chunks_odd);
	return r.ok == 1 && cur_cmd(poll) == 0x44;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "seplos");
	CHECK_EQ_INT(drv->protocol_id, 9);
	CHECK_EQ_INT(drv->default_baud, 19200);
	CHECK_EQ_INT(drv->min_address, 0);
	CHECK_EQ_INT(drv->max_address, 15);
	CHECK(drv->default_timeout > 0);
	CHECK(drv->gap_floor >= 0 && drv->interbyte > 0);
	CHECK(!drv->listen_only);
	CHECK(drv->next_request && drv->scan && drv->handle && drv->finish);
	CHECK(bms_find("seplos") == drv);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[64];

	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), SEP_REQ_42);
	CHECK(answer_42(&poll, &rx));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), SEP_REQ_44);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), SEP_REQ_42_1);
	drive_begin(&poll, &rx, 15, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), SEP_REQ_42_15);
	CHECK(answer_42(&poll, &rx));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), SEP_REQ_44_15);
	drive_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, 19), BMS_E_NOSPACE);

	/* echoes and other masters' requests */
	static const char *const reqs[] = { SEP_REQ_42, SEP_REQ_44, SEP_REQ_51, SEP_REQ_42_1, SEP_REQ_42_15 };
	size_t n;
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)reqs[k], strlen(reqs[k]), &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT(n, strlen(reqs[k]));
	}
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = FEED_TEXT(&poll, &rx, SEP_REQ_42 SEP_01, chunks_one);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, strlen(SEP_REQ_42));
}

static void test_sep01(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	for (int way = 0; way < 6; way++) {
		bool inv = way == 4;
		drive_begin(&poll, &rx, 0, 0, inv);
		switch (way) {
		case 0: r = FEED_TEXT(&poll, &rx, SEP_01, chunks_one); break;
		case 1: r = FEED_TEXT(&poll, &rx, SEP_01, chunks_odd); break;
		case 2: r = FEED_TEXT(&poll, &rx, SEP_01, chunks_big); break;
		default: r = feed_random(&poll, &rx, SEP_01, 99u * (unsigned)way, 31); break;
		}
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		check_01(&poll.snap, inv);
		CHECK_EQ_INT(cur_cmd(&poll), 0x44);
	}
	/* garbage around it */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_TEXT(&poll, &rx, "\r\n~~20~2000460\r" SEP_01 "~200046", chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(rx.len, 7);
	check_01(&poll.snap, false);
	/* ADR 1 ignores ADR 0's answer */
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, SEP_01, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.snap.present, 0);
	/* cells forced */
	drive_begin(&poll, &rx, 0, 10, false);
	r = FEED_TEXT(&poll, &rx, SEP_01, chunks_odd);
	CHECK_EQ_INT(poll.snap.ncells, 10);
	/* SEP-02 (0x51 answer) is not telemetry */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_TEXT(&poll, &rx, SEP_02, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(poll.snap.present, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0x42);
}

static void test_telemetry_layouts(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	struct drive_res r;

	/* P = 0..12: items as far as P goes */
	for (int p = 0; p <= 12; p++) {
		mk42(f, 3, 16, 6, p, -250);
		drive_begin(&poll, &rx, 3, 0, false);
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_NEAR(s->current, -2.5, 1e-4);
		CHECK_NEAR(s->voltage, 52.9, 1e-4);
		CHECK_NEAR(s->remain_ah, 90.0, 1e-4);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_FULL), p >= 1);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_SOC), p >= 2);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_CYCLES), p >= 4);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_SOH), p >= 5);
		if (p >= 5) {
			CHECK_NEAR(s->full_ah, 100.0, 1e-4);
			CHECK_NEAR(s->soc, 90.0, 1e-4);
			CHECK_EQ_INT(s->cycles, 123);
			CHECK_NEAR(s->soh, 97.5, 1e-4);
		}
	}
	/* sensor counts other than 6: all are sensors, no MOS temperature */
	for (int nt = 0; nt <= 10; nt++) {
		mk42(f, 3, 8, nt, 10, 0);
		drive_begin(&poll, &rx, 3, 0, false);
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		const struct bms_snapshot *s = &poll.snap;
		int want = nt == 6 ? 5 : nt;
		CHECK_EQ_INT(s->ntemps, want);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_TEMPS), want > 0);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_MOS_TEMP), nt == 6);
		if (nt == 6)
			CHECK_NEAR(s->mos_temp_c, 25.0, 1e-4);
		if (want > 0)
			CHECK_NEAR(s->temp_c[want - 1], 20.0 + (want - 1), 1e-4);
		CHECK_NEAR(s->current, 0.0, 1e-6);
		CHECK_EQ_INT(s->ncells, 8);
	}
	/* SOC / SOH above 100 %: clamped */
	uint8_t info[100];
	size_t ni = pt_info_of(SEP_01, info, sizeof(info));
	CHECK_EQ_INT(ni, 75);
	info[57] = 0x03;
	info[58] = 0xE9; /* SOC 100.1 % */
	info[63] = 0x07;
	info[64] = 0xD0; /* SOH 200.0 % */
	pt_frame(f, 0x20, 0, 0, info, ni);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	CHECK_NEAR(poll.snap.soh, 100.0, 1e-6);
}

static void test_telecommand(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	struct drive_res r;
	const uint32_t P = BMS_AL_PROTECTION;

	/* the documented layout, all quiet; both MOSFETs, balancing 1 and 16 */
	struct a44 a = { 16, 6, 0, { 0 }, 0, 0, 20, { 0 } };
	a.item[6] = 0x03;
	a.item[7] = 0x01;
	a.item[8] = 0x80;
	a.item[9] = 0x02;
	mk44(f, 0, &a);
	for (int way = 0; way < 4; way++) {
		drive_begin(&poll, &rx, 0, 0, false);
		CHECK(answer_42(&poll, &rx));
		switch (way) {
		case 0: r = FEED_TEXT(&poll, &rx, f, chunks_one); break;
		case 1: r = FEED_TEXT(&poll, &rx, f, chunks_odd); break;
		case 2: r = FEED_TEXT(&poll, &rx, f, chunks_big); break;
		default: r = feed_random(&poll, &rx, f, 5, 13); break;
		}
		CHECK_EQ_INT(r.ok, 1);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_EQ_INT(s->alarms, 0);
		CHECK(s->chg_mos && s->dsg_mos);
		CHECK_EQ_INT(s->balance, 0x8001);
		CHECK_EQ_INT(s->state, 1);
		CHECK_EQ_INT(s->nraw, 4);
		CHECK(s->present & (BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE));
		CHECK_EQ_INT(cur_cmd(&poll), 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}

	/* every bit of events 1-6 and 8 */
	static const uint32_t ev[7][8] = {
		{ BMS_AL_HW_FAULT, BMS_AL_SENSOR, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT,
		  BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT },
		{ BMS_AL_CELL_OV, BMS_AL_CELL_OV | P, BMS_AL_CELL_UV, BMS_AL_CELL_UV | P, BMS_AL_PACK_OV,
		  BMS_AL_PACK_OV | P, BMS_AL_PACK_UV, BMS_AL_PACK_UV | P },
		{ BMS_AL_CHG_OT, BMS_AL_CHG_OT | P, BMS_AL_CHG_UT, BMS_AL_CHG_UT | P, BMS_AL_DSG_OT,
		  BMS_AL_DSG_OT | P, BMS_AL_DSG_UT, BMS_AL_DSG_UT | P },
		{ BMS_AL_OTHER, BMS_AL_OTHER | P, BMS_AL_OTHER, BMS_AL_OTHER | P, BMS_AL_MOS_OT | P,
		  BMS_AL_MOS_OT, 0, 0 },
		{ BMS_AL_CHG_OC, BMS_AL_CHG_OC | P, BMS_AL_DSG_OC, BMS_AL_DSG_OC | P, BMS_AL_DSG_OC | P,
		  BMS_AL_SHORT | P, BMS_AL_DSG_OC | P, BMS_AL_SHORT | P },
		{ BMS_AL_PACK_OV | P, 0, BMS_AL_SOC_LOW, BMS_AL_SOC_LOW | P, BMS_AL_CELL_UV | P,
		  BMS_AL_OTHER | P, BMS_AL_OTHER, 0 },
		{ BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER, 0, 0, 0 },
	};
	static const int pos[7] = { 0, 1, 2, 3, 4, 5, 13 };
	for (int e = 0; e < 7; e++) {
		for (int bit = 0; bit < 8; bit++) {
			struct a44 b = { 16, 6, 0, { 0 }, 0, 0, 20, { 0 } };
			b.item[pos[e]] = (uint8_t)(1u << bit);
			mk44(f, 4, &b);
			drive_begin(&poll, &rx, 4, 0, false);
			CHECK(answer_42(&poll, &rx));
			r = FEED_TEXT(&poll, &rx, f, chunks_odd);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(poll.snap.alarms, ev[e][bit]);
			uint16_t raw[4] = { 0 };
			int w = e == 6 ? 3 : e / 2;
			raw[w] = (uint16_t)((e == 6 || (e & 1)) ? 1u << bit : (1u << bit) << 8);
			for (int k = 0; k < 4; k++)
				CHECK_EQ_INT(poll.snap.raw_alarms[k], raw[k]);
		}
	}
	/* event 7, disconnection, byte alarms, system state, MOSFET bits */
	struct {
		int item, val;
		uint8_t cell, t0, t4, t5, cur, volt;
		uint32_t al;
	} v[] = {
		{ 12, 0x30, 0, 0, 0, 0, 0, 0, 0 },           /* charging waits: states */
		{ 10, 0x01, 0, 0, 0, 0, 0, 0, BMS_AL_HW_FAULT },
		{ 11, 0x80, 0, 0, 0, 0, 0, 0, BMS_AL_HW_FAULT },
		{ -1, 0, 0x01, 0, 0, 0, 0, 0, BMS_AL_CELL_UV },
		{ -1, 0, 0x02, 0, 0, 0, 0, 0, BMS_AL_CELL_OV },
		{ -1, 0, 0xF0, 0, 0, 0, 0, 0, BMS_AL_OTHER },
		{ -1, 0, 0, 0x01, 0, 0, 0, 0, BMS_AL_CHG_UT | BMS_AL_DSG_UT },
		{ -1, 0, 0, 0x02, 0, 0, 0, 0, BMS_AL_CHG_OT | BMS_AL_DSG_OT },
		{ -1, 0, 0, 0xF0, 0, 0, 0, 0, BMS_AL_SENSOR },
		{ -1, 0, 0, 0, 0x02, 0, 0, 0, BMS_AL_OTHER },
		{ -1, 0, 0, 0, 0, 0x02, 0, 0, BMS_AL_MOS_OT },
		{ -1, 0, 0, 0, 0, 0xF0, 0, 0, BMS_AL_SENSOR },
		{ -1, 0, 0, 0, 0, 0, 0x01, 0, BMS_AL_DSG_OC },
		{ -1, 0, 0, 0, 0, 0, 0x02, 0, BMS_AL_CHG_OC },
		{ -1, 0, 0, 0, 0, 0, 0, 0x01, BMS_AL_PACK_UV },
		{ -1, 0, 0, 0, 0, 0, 0, 0x02, BMS_AL_PACK_OV },
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct a44 b = { 16, 6, v[k].cell, { v[k].t0, 0, 0, 0, v[k].t4, v[k].t5 }, v[k].cur, v[k].volt,
				 20, { 0 } };
		if (v[k].item >= 0)
			b.item[v[k].item] = (uint8_t)v[k].val;
		mk44(f, 4, &b);
		drive_begin(&poll, &rx, 4, 0, false);
		CHECK(answer_42(&poll, &rx));
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.alarms, v[k].al);
	}
	static const struct {
		uint8_t onoff, sys;
		bool chg, dsg;
		int state;
	} st[] = {
		{ 0x00, 0x10, false, false, 0 }, { 0x01, 0x01, false, true, 2 }, { 0x02, 0x02, true, false, 1 },
		{ 0x0F, 0x04, true, true, 0 },   { 0x00, 0x20, false, false, 0 },
	};
	for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++) {
		struct a44 b = { 16, 6, 0, { 0 }, 0, 0, 20, { 0 } };
		b.item[6] = st[k].onoff;
		b.item[9] = st[k].sys;
		mk44(f, 4, &b);
		drive_begin(&poll, &rx, 4, 0, false);
		CHECK(answer_42(&poll, &rx));
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.chg_mos, st[k].chg);
		CHECK_EQ_INT(poll.snap.dsg_mos, st[k].dsg);
		CHECK_EQ_INT(poll.snap.state, st[k].state);
	}
	/* a shorter custom list: what is there is used */
	for (int p = 0; p <= 20; p++) {
		struct a44 b = { 8, 4, 0, { 0 }, 0, 0, p, { 0 } };
		memset(b.item, 0xFF, sizeof(b.item));
		b.item[9] = 0x01;
		mk44(f, 4, &b);
		drive_begin(&poll, &rx, 4, 0, false);
		CHECK(answer_42(&poll, &rx));
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK(poll.snap.present & BMS_HAS_ALARMS);
		CHECK_EQ_INT(!!(poll.snap.present & BMS_HAS_MOSFETS), p > 6);
		CHECK_EQ_INT(!!(poll.snap.present & BMS_HAS_BALANCE), p > 8);
		CHECK_EQ_INT(poll.snap.state, p > 9 ? 2 : 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		if (p > 8)
			CHECK_EQ_INT(poll.snap.balance, 0xFFFF); /* 16 cells in 0x42 */
	}
	/* balancing bits beyond the cells are dropped by finish() */
	drive_begin(&poll, &rx, 4, 0, false);
	mk42(f, 4, 8, 6, 10, 0);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	struct a44 b8 = { 8, 6, 0, { 0 }, 0, 0, 20, { 0 } };
	b8.item[7] = 0xFF;
	b8.item[8] = 0xFF;
	mk44(f, 4, &b8);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.balance, 0xFFFF);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0xFF);
	/* a late telemetry answer while 0x44 is outstanding */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_TEXT(&poll, &rx, SEP_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	r = FEED_TEXT(&poll, &rx, SEP_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 0);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	CHECK_EQ_INT(cur_cmd(&poll), 0x44);
	/* truncations of an alarm answer */
	mk44(f, 0, &a);
	uint8_t info[80];
	size_t ni = pt_info_of(f, info, sizeof(info));
	CHECK_EQ_INT(ni, 49);
	for (size_t cut = 1; cut <= ni; cut++) {
		char g[PT_MAX];
		pt_frame(g, 0x20, 0, 0, info, ni - cut);
		drive_begin(&poll, &rx, 0, 0, false);
		CHECK(answer_42(&poll, &rx));
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
		CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	}
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	struct drive_res r;

	struct a44 a = { 16, 6, 0, { 0 }, 0, 0, 20, { 0 } };
	a.item[1] = 0x01; /* cell high-voltage alarm */
	a.item[6] = 0x01; /* discharge switch on */
	a.item[8] = 0x04; /* cell 11 balancing */
	a.item[9] = 0x01; /* discharging */
	mk44(f, 0, &a);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_TEXT(&poll, &rx, SEP_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	bms_rx_clear(&rx);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_01(&poll.snap, false);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->alarms, BMS_AL_CELL_OV);
	CHECK(!s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->balance, 1u << 10);
	CHECK_EQ_INT(s->state, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0x0001);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		     BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS);
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(s->power, 52.8 * -6.76, 1e-2);
	char buf[64];
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)SEP_01, strlen(SEP_01)), BMS_E_UNEXPECTED);

	/* nothing, and 0 cells */
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	mk42(f, 0, 0, 6, 10, 0);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char g[2 * PT_MAX];
	struct drive_res r;
	size_t n, len = strlen(SEP_01);

	for (size_t k = 0; k < len; k++)
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)SEP_01, k, &n), BMS_SCAN_NEED);
	for (size_t cut = 1; cut < len; cut += 9) {
		drive_begin(&poll, &rx, 0, 0, false);
		memcpy(g, SEP_01, cut);
		strcpy(g + cut, SEP_01);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, cut);
	}
	/* bad checksum (the Python driver's "% 0xFFFF" would differ only rarely) */
	strcpy(g, SEP_01);
	g[len - 4] = g[len - 4] == 'C' ? 'D' : 'C';
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, len, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, len);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, len), BMS_E_CHECKSUM);
	/* Seplos return codes 07, E1..E4 are errors */
	static const char *const rtn[] = { "07", "E1", "E2", "E3", "E4" };
	for (size_t k = 0; k < 5; k++) {
		strcpy(g, SEP_01);
		memcpy(g + 7, rtn[k], 2);
		pt_fix_chksum(g);
		drive_begin(&poll, &rx, 0, 0, false);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, BMS_E_REFUSED);
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	/* an unknown code is a command: skipped */
	strcpy(g, SEP_01);
	memcpy(g + 7, "45", 2);
	pt_fix_chksum(g);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, len, &n), BMS_SCAN_SKIP);
	/* impossible counts */
	uint8_t info[100];
	size_t ni = pt_info_of(SEP_01, info, sizeof(info));
	info[2] = 48;
	pt_frame(g, 0x20, 0, 0, info, ni);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_RANGE);
	info[2] = 30;
	pt_frame(g, 0x20, 0, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	info[2] = 16;
	info[35] = 60; /* sensors */
	pt_frame(g, 0x20, 0, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	info[35] = 6;
	info[54] = 11; /* one custom item more than there is */
	pt_frame(g, 0x20, 0, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	info[54] = 10;
	for (size_t cut = 1; cut <= ni; cut++) {
		pt_frame(g, 0x20, 0, 0, info, ni - cut);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	}
	CHECK_EQ_INT(poll.snap.present, 0);
	pt_frame(g, 0x20, 0, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_OK);
	check_01(&poll.snap, false);

	/* foreign answers (Pylontech ADR 2, TopBMS ADR 1) */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_TEXT(&poll, &rx, PYL_02 TOP_01, chunks_odd);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.unexpected, 2);

	/* rx overflow with garbage */
	static uint8_t junk[4000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)"~0123456789ABCDEF\r"[(k * 11 + (k >> 4)) % 18];
	drive_begin(&poll, &rx, 0, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.ok, 0);
	r = FEED_TEXT(&poll, &rx, SEP_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
}

int main(void)
{
	test_table();
	test_requests();
	test_sep01();
	test_telemetry_layouts();
	test_telecommand();
	test_full_poll();
	test_broken();
	return check_report();
}
