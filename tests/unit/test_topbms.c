/* SPDX-License-Identifier: MIT */
/* tests/unit/test_topbms.c - TopBMS V1.7 driver: the TopBMS rows of
 * tests/fixtures/vectors.tsv (TOP-REQ-1/2, TOP-01; PYL-* and SEP-01 as
 * foreign answers) through scan() + handle() fed in odd chunks, built answers
 * (several packs, every user-defined count), whole polls through finish(),
 * broken input.  Protocol facts: bms/PROTOCOLS.md §8, §10. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_topbms_driver;

#include "pylon_check.h"

/* tests/fixtures/vectors.tsv, family pylon (+ CR): each macro is the row of
 * the id it spells (TOP_01 = TOP-01, TOP_REQ_1 = TOP-REQ-1) */
#define TOP_REQ_1 "~21014642E00201FD34\r"
#define TOP_REQ_2 "~21024642E00202FD32\r"
#define TOP_01 "~52014600408401100D120D150D0F0D0D0D130D160D150D210D130D130D130D130D100D160D170D2306003D" \
	"003E003E003E003B003B018014EE33B3063A9800025864000000000000E20A\r"
#define PYL_02 "~20024600A04210020F000000000000000000000000000000050000000000000000000E00000000F108\r"
#define PYL_05 "~20024600C04055533230303043000000010750796C6F6E2D2D2D2D2D2D2D2D2D2D2D2D2D2D2DEFBD\r"
#define SEP_01 "~2000460010960001100CD70CE90CF40CD60CEF0CE50CE10CDC0CE90CF00CE80CEF0CEA0CDA0CDE0CD8060" \
	"BA60BA00B970BA60BA50BA2FD5C14A0344E0A426803134650004603E8149F0000000000000000DC6C\r"
/* computed: all packs (INFO FF) on ADR 1 (bms/PROTOCOLS.md §10) */
#define TOP_REQ_FF "~21014642E002FFFD09\r"

static const uint16_t cells_01[16] = {
	3346, 3349, 3343, 3341, 3347, 3350, 3349, 3361, 3347, 3347, 3347, 3347, 3344, 3350, 3351, 3363,
};
static const float temps_01[6] = { 21, 22, 22, 22, 19, 19 };

/* One pack record. */
struct tpack {
	int ncells;
	unsigned mv0;
	int ntemps;
	unsigned t0;        /* degC + 40 */
	int cur;            /* 10 mA */
	unsigned volt, rem; /* 10 mV, 10 mAh */
	int p;              /* user-defined items */
	unsigned total, cycles, soc, soh, balance;
};

static const struct tpack pack_default = { 16, 3300, 4, 65, -1234, 5290, 6000, 6, 10000, 7, 60, 98, 0x8001 };

static void tpack_put(struct pt_info *i, const struct tpack *t)
{
	pt8(i, (unsigned)t->ncells);
	for (int k = 0; k < t->ncells; k++)
		pt16(i, t->mv0 + (unsigned)k);
	pt8(i, (unsigned)t->ntemps);
	for (int k = 0; k < t->ntemps; k++)
		pt16(i, t->t0 + (unsigned)k);
	pt16(i, (unsigned)t->cur & 0xFFFF);
	pt16(i, t->volt);
	pt16(i, t->rem);
	pt8(i, (unsigned)t->p);
	if (t->p >= 1)
		pt16(i, t->total);
	if (t->p >= 2)
		pt16(i, t->cycles);
	if (t->p >= 3) {
		pt8(i, t->soc);
		pt8(i, t->soh);
	}
	if (t->p >= 4)
		pt16(i, t->balance);
	if (t->p >= 5)
		pt8(i, 55); /* humidity */
	if (t->p >= 6)
		pt24(i, 0xABCDEF);
	for (int k = 6; k < t->p; k++)
		pt16(i, 0x1111); /* items of unknown size */
}

static void mk(char *out, unsigned adr, unsigned b, const struct tpack *packs, int npacks)
{
	struct pt_info i = { 0 };
	pt8(&i, b);
	for (int k = 0; k < npacks; k++)
		tpack_put(&i, &packs[k]);
	pt_frame(out, 0x52, adr, 0x00, i.b, i.n);
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	CHECK_EQ_INT(s->ncells, 16);
	for (int k = 0; k < 16; k++)
		CHECK_EQ_INT(s->cell_mv[k], cells_01[k]);
	CHECK_EQ_INT(s->ntemps, 6);
	for (int k = 0; k < 6; k++)
		CHECK_NEAR(s->temp_c[k], temps_01[k], 1e-6);
	CHECK_NEAR(s->current, inv ? -3.84 : 3.84, 1e-4);
	CHECK_NEAR(s->voltage, 53.58, 1e-4);
	CHECK_NEAR(s->remain_ah, 132.35, 1e-3);
	CHECK_NEAR(s->full_ah, 150.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 2);
	CHECK_NEAR(s->soc, 88.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH |
		     BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		     BMS_HAS_BALANCE);
	CHECK_EQ_INT(s->state, 0);
	CHECK_EQ_INT(s->nraw, 0);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "topbms");
	CHECK_EQ_INT(drv->protocol_id, 8);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK_EQ_INT(drv->min_address, 1);
	CHECK_EQ_INT(drv->max_address, 254);
	CHECK(drv->default_timeout > 0);
	CHECK(drv->gap_floor >= 0 && drv->interbyte > 0);
	CHECK(!drv->listen_only);
	CHECK(drv->next_request && drv->scan && drv->handle && drv->finish);
	CHECK(bms_find("topbms") == drv);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[64], want[64];

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), TOP_REQ_1);
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), TOP_REQ_2);
	poll.attempt = 1;
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), TOP_REQ_2);
	/* pack 16: command 0x10; above that the unit is asked for all packs */
	uint8_t cmd = 0x10;
	drive_begin(&poll, &rx, 16, 0, false);
	pt_frame(want, 0x21, 16, 0x42, &cmd, 1);
	want[7] = '4';
	want[8] = '2';
	pt_fix_chksum(want);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), want);
	drive_begin(&poll, &rx, 17, 0, false);
	cmd = 0xFF;
	pt_frame(want, 0x21, 17, 0x42, &cmd, 1);
	memcpy(want + 7, "42", 2);
	pt_fix_chksum(want);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), want);
	/* the computed vector has the same shape on ADR 1 */
	pt_frame(want, 0x21, 1, 0x42, &cmd, 1);
	memcpy(want + 7, "42", 2);
	pt_fix_chksum(want);
	CHECK_STR(want, TOP_REQ_FF);
	drive_begin(&poll, &rx, 254, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), 20);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 255, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, 19), BMS_E_NOSPACE);

	/* echoes are skipped whole */
	static const char *const reqs[] = { TOP_REQ_1, TOP_REQ_2, TOP_REQ_FF, "~21014644E00201FD32\r" };
	size_t n;
	for (size_t k = 0; k < 4; k++) {
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)reqs[k], strlen(reqs[k]), &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT(n, strlen(reqs[k]));
	}
	drive_begin(&poll, &rx, 1, 0, false);
	struct drive_res r = FEED_TEXT(&poll, &rx, TOP_REQ_1 TOP_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, strlen(TOP_REQ_1));
	check_01(&poll.snap, false);
}

static void test_top01(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	for (int way = 0; way < 6; way++) {
		bool inv = way == 5;
		drive_begin(&poll, &rx, 1, 0, inv);
		switch (way) {
		case 0: r = FEED_TEXT(&poll, &rx, TOP_01, chunks_one); break;
		case 1: r = FEED_TEXT(&poll, &rx, TOP_01, chunks_odd); break;
		case 2: r = FEED_TEXT(&poll, &rx, TOP_01, chunks_big); break;
		default: r = feed_random(&poll, &rx, TOP_01, (unsigned)way * 1234u, 23); break;
		}
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		char buf[64];
		CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_01(&poll.snap, inv);
	}
	/* merged with garbage on both sides */
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, "\x7f\r\r~52~~0146" TOP_01 "~5201", chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(rx.len, 5);
	check_01(&poll.snap, false);
	/* TOP-01 is ADR 1's: ADR 2 ignores it */
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, TOP_01, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.snap.present, 0);
	/* cells forced below the count */
	drive_begin(&poll, &rx, 1, 12, false);
	r = FEED_TEXT(&poll, &rx, TOP_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 12);
}

static void test_items(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	struct drive_res r;

	/* P = 0..8: fields present as far as P goes */
	for (int p = 0; p <= 8; p++) {
		struct tpack t = pack_default;
		t.p = p;
		mk(f, 3, 3, &t, 1);
		drive_begin(&poll, &rx, 3, 0, false);
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_NEAR(s->current, -12.34, 1e-4);
		CHECK_NEAR(s->voltage, 52.9, 1e-4);
		CHECK_NEAR(s->remain_ah, 60.0, 1e-4);
		CHECK_EQ_INT(s->ntemps, 4);
		CHECK_NEAR(s->temp_c[0], 25.0, 1e-6);
		CHECK_NEAR(s->temp_c[3], 28.0, 1e-6);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_FULL), p >= 1);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_CYCLES), p >= 2);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_SOC), p >= 3);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_SOH), p >= 3);
		CHECK_EQ_INT(!!(s->present & BMS_HAS_BALANCE), p >= 4);
		if (p >= 4) {
			CHECK_NEAR(s->full_ah, 100.0, 1e-4);
			CHECK_EQ_INT(s->cycles, 7);
			CHECK_NEAR(s->soc, 60.0, 1e-6);
			CHECK_NEAR(s->soh, 98.0, 1e-6);
			CHECK_EQ_INT(s->balance, 0x8001);
		}
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		if (p >= 4)
			CHECK_EQ_INT(s->balance, 0x8001);
	}
	/* balancing bits beyond the cells are dropped; SOC/SOH above 100 clamp */
	struct tpack t = pack_default;
	t.ncells = 8;
	t.balance = 0xFFFF;
	t.soc = 180;
	t.soh = 101;
	t.ntemps = 0;
	mk(f, 3, 3, &t, 1);
	drive_begin(&poll, &rx, 3, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0xFF);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	CHECK_NEAR(poll.snap.soh, 100.0, 1e-6);
	CHECK(!(poll.snap.present & BMS_HAS_TEMPS));
	/* temperatures: raw 0 = -40 degC; 12 sensors, all kept */
	t = pack_default;
	t.t0 = 0;
	t.ntemps = 12;
	mk(f, 3, 3, &t, 1);
	drive_begin(&poll, &rx, 3, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ntemps, 12);
	CHECK_NEAR(poll.snap.temp_c[0], -40.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[7], -33.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[11], -29.0, 1e-6);
	CHECK_EQ_INT(poll.snap.cycles, 7);
}

/* Several packs in one answer: the one asked for is decoded. */
static void test_several_packs(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX * 2];
	struct drive_res r;
	struct tpack packs[3] = { pack_default, pack_default, pack_default };

	packs[0].mv0 = 3100;
	packs[0].ncells = 4;
	packs[1].mv0 = 3200;
	packs[1].ncells = 8;
	packs[1].p = 5;
	packs[2].mv0 = 3400;
	packs[2].cycles = 77;

	/* ADR 3 (pack 3) answered with a count of 3 */
	mk(f, 3, 3, packs, 3);
	drive_begin(&poll, &rx, 3, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3100); /* b == command: the first record */
	/* ADR 2 answered with a count of 3: record 2 */
	mk(f, 2, 3, packs, 3);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3200);
	/* ADR 1 with a count of 3: record 1 */
	mk(f, 1, 3, packs, 3);
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	/* ADR 20 (asked for all packs): the first */
	mk(f, 20, 3, packs, 3);
	drive_begin(&poll, &rx, 20, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	/* ADR 5 is not among 3 packs; count 0 is impossible */
	mk(f, 5, 3, packs, 3);
	drive_begin(&poll, &rx, 5, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	mk(f, 5, 0, packs, 0);
	drive_begin(&poll, &rx, 5, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* a record before ours with items of unknown size cannot be stepped over */
	packs[0].p = 7;
	mk(f, 2, 3, packs, 3);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.snap.present, 0);
	/* records missing */
	packs[0].p = 6;
	mk(f, 3, 4, packs, 2);
	drive_begin(&poll, &rx, 3, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char g[2 * PT_MAX];
	struct drive_res r;
	size_t n, len = strlen(TOP_01);

	/* every truncation waits; a cut frame followed by the full one */
	for (size_t k = 0; k < len; k++)
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)TOP_01, k, &n), BMS_SCAN_NEED);
	for (size_t cut = 1; cut < len; cut += 5) {
		drive_begin(&poll, &rx, 1, 0, false);
		memcpy(g, TOP_01, cut);
		strcpy(g + cut, TOP_01);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, cut);
	}
	/* bad checksum */
	strcpy(g, TOP_01);
	g[len - 3] = g[len - 3] == '0' ? '1' : '0';
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, len, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, len);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, len), BMS_E_CHECKSUM);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)TOP_01, len - 2), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)TOP_01, 5), BMS_E_SHORT);
	CHECK_EQ_INT(poll.snap.present, 0);
	/* error return code, other device type */
	strcpy(g, TOP_01);
	memcpy(g + 7, "A0", 2);
	pt_fix_chksum(g);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_REFUSED);
	strcpy(g, TOP_01);
	memcpy(g + 5, "4A", 2);
	pt_fix_chksum(g);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	/* a foreign command on the bus (another master polling 0x47) is skipped */
	r = FEED_TEXT(&poll, &rx, "~200146470000FDA8\r" TOP_01, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);

	/* impossible counts */
	uint8_t info[200];
	size_t ni = pt_info_of(TOP_01, info, sizeof(info));
	CHECK_EQ_INT(ni, 66);
	info[1] = 33;
	pt_frame(g, 0x52, 1, 0, info, ni);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_RANGE);
	info[1] = 30; /* fits the limit, not the INFO */
	pt_frame(g, 0x52, 1, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	info[1] = 16;
	info[34] = 40; /* sensors */
	pt_frame(g, 0x52, 1, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	info[34] = 6;
	/* every shortening of the INFO down to the items it announces */
	for (size_t cut = 1; cut <= ni; cut++) {
		pt_frame(g, 0x52, 1, 0, info, ni - cut);
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	/* trailing bytes beyond the items are allowed */
	info[ni] = 0x99;
	pt_frame(g, 0x52, 1, 0, info, ni + 1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_OK);
	check_01(&poll.snap, false);

	/* foreign answers: Pylontech 0x51 on ADR 2, Seplos on ADR 0 */
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, PYL_05 SEP_01, chunks_odd);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(poll.snap.present, 0);
	CHECK_EQ_INT(poll.step, 0);
	/* a Pylontech 0x44 answer on the same address parses (the framing
	 * cannot tell the brands apart) but holds no cells: no sample */
	r = FEED_TEXT(&poll, &rx, PYL_02, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	if (r.ok)
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);

	/* finish without an answer; 0 V */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	struct tpack t = pack_default;
	t.volt = 0;
	mk(g, 1, 1, &t, 1);
	r = FEED_TEXT(&poll, &rx, g, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* after the answer: everything else is unexpected */
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)TOP_01, len), BMS_E_UNEXPECTED);

	/* rx overflow with garbage */
	static uint8_t junk[4000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)"~0123456789ABCDEF\r"[(k * 5 + (k >> 2)) % 18];
	drive_begin(&poll, &rx, 1, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.ok, 0);
	r = FEED_TEXT(&poll, &rx, TOP_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
}

int main(void)
{
	test_table();
	test_requests();
	test_top01();
	test_items();
	test_several_packs();
	test_broken();
	return check_report();
}
