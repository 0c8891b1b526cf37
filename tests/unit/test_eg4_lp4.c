/* SPDX-License-Identifier: MIT */
/* tests/unit/test_eg4_lp4.c - EG4 LifePower4 driver: the EG4LP4 rows of
 * tests/fixtures/vectors.tsv (0x42, 0x44 and 0x51 of a live pack, the 0x42 /
 * 0x44 examples of EG4's document) through scan() + handle() fed in every
 * chunking, built 0x44 answers (every event bit), whole polls through
 * finish(), and broken input (bad checksum, truncated, wrong address,
 * impossible counts, error codes, another device type).  Protocol facts:
 * bms/PROTOCOLS.md §8, §20. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_eg4_lp4_driver;

#include "pylon_check.h"

/* tests/fixtures/vectors.tsv, family pylon (+ CR) */
#define EG4LP4_REQ_42 "~20014A420000FDA2\r"
#define EG4LP4_REQ_44 "~20014A440000FDA0\r"
#define EG4LP4_REQ_51 "~20014A510000FDA2\r"
#define EG4LP4_01 "~20014A00A0CA1001100D2F0D2C0D2C0D2D0D2D0D2F0D2F0D2F0D2C0D2D0D2D0D2F0D300D2C0D300D2C040B9B0BA50B9B" \
	"0B9B0BB90BAF029D151521A9268400540F005700620D300D2C00040BA50B9B000ADAC0000A54550005D473000570A6000006" \
	"80000004CA56897E24D1A5\r"
#define EG4LP4_02 "~20014A007054100110000000000000000000000000000000000400000000000000000900000000000003020000000000" \
	"EDC3\r"
#define EG4LP4_03 "~20014A00F05C202020202020202020202020202020202020202000005154484E20202020202020202020202020202020" \
	"30640306EBA8\r"
#define EG4LP4_05 "~20014A00A0CA0101100C540C810C810C820C810C810C810C810C820C820C820C820C820C820C820C7E040BCD0BCD0BCD" \
	"0BCD0BD70BD7000013FD0000271000000F000000640C820C54002E0BCD0BCD000000150000003C0000000A0000001D00000000" \
	"000000000002001DD300\r"
#define EG4LP4_06 "~20014A007054010110000000000000000000000000000000000400000000000000000900000000000103000000000000" \
	"EDC4\r"
/* EG4LP4-04 (0x4D, date and time) is not read: the frame still scans */
#define EG4LP4_04 "~20014A00200E07E809110B3B1FFA84\r"

static const uint16_t cells_01[16] = { 3375, 3372, 3372, 3373, 3373, 3375, 3375, 3375,
				       3372, 3373, 3373, 3375, 3376, 3372, 3376, 3372 };

static void check_01(const struct bms_snapshot *s, bool inv)
{
	drive_check_cells(s, cells_01, 16);
	CHECK_EQ_INT(s->ntemps, 5);
	static const float t[5] = { 24.0f, 25.0f, 24.0f, 24.0f, 27.0f };
	for (int k = 0; k < 5; k++)
		CHECK_NEAR(s->temp_c[k], t[k], 1e-4);
	CHECK_NEAR(s->mos_temp_c, 26.0, 1e-4);
	CHECK_NEAR(s->current, inv ? -6.69 : 6.69, 1e-4);
	CHECK_NEAR(s->voltage, 53.97, 1e-4);
	CHECK_NEAR(s->remain_ah, 86.17, 1e-4);
	CHECK_NEAR(s->full_ah, 98.60, 1e-4);
	CHECK_EQ_INT(s->cycles, 84);
	CHECK_NEAR(s->soc, 87, 1e-6);
	CHECK_NEAR(s->soh, 98, 1e-6);
}

static struct drive_res feed_way(struct bms_poll *poll, struct bms_rx *rx, const char *f, int way)
{
	switch (way) {
	case 0: return FEED_TEXT(poll, rx, f, chunks_one);
	case 1: return FEED_TEXT(poll, rx, f, chunks_odd);
	case 2: return FEED_TEXT(poll, rx, f, chunks_big);
	default: return feed_random(poll, rx, f, 31u * (unsigned)way, 23);
	}
}

static bool answer_ok(struct bms_poll *poll, const char *f)
{
	return drv->handle(poll, (const uint8_t *)f, strlen(f)) == BMS_OK;
}

/* A 0x44 answer of 16 cells and 4 + 2 sensors with the 13 event bytes e. */
static void mk44(char *out, unsigned adr, const uint8_t *e)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x10);
	pt8(&i, 0x01);
	pt8(&i, 16);
	for (int k = 0; k < 16; k++)
		pt8(&i, 0);
	pt8(&i, 4);
	for (int k = 0; k < 6; k++)
		pt8(&i, 0);
	pt8(&i, 0);
	pt8(&i, 0);
	pt8(&i, 9);
	for (int k = 0; k < 13; k++)
		pt8(&i, e[k]);
	pt_frame_ex(out, '~', 0x20, adr, 0x4A, 0x00, i.b, i.n);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "eg4-lp4");
	CHECK_EQ_INT(drv->protocol_id, 14);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK_EQ_INT(drv->min_address, 1);
	CHECK_EQ_INT(drv->max_address, 15);
	CHECK_NEAR(drv->gap_floor, 0.2, 1e-9);
	CHECK_NEAR(drv->default_timeout, 2.0, 1e-9);
	CHECK(drv->any_address && drv->group == 0 && !drv->control);
	CHECK(bms_find("eg4-lp4") == drv);
}

static void test_requests(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	char buf[64];

	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), EG4LP4_REQ_42);
	CHECK(answer_ok(&poll, EG4LP4_01));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), EG4LP4_REQ_44);
	CHECK(answer_ok(&poll, EG4LP4_02));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), EG4LP4_REQ_51);
	CHECK(answer_ok(&poll, EG4LP4_03));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	CHECK_STR(poll.kept.ident.vendor, "QTHN");
	CHECK_STR(poll.kept.ident.model, "");
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(answer_ok(&poll, EG4LP4_01) && answer_ok(&poll, EG4LP4_02));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	for (int a = 0; a <= 16; a += 16) {
		drive_begin(&poll, &rx, (uint8_t)a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), BMS_E_RANGE);
	}
	drive_begin(&poll, &rx, 15, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "~200F4A420000FD8D\r"); /* computed */
	size_t n;
	static const char *const reqs[] = { EG4LP4_REQ_42, EG4LP4_REQ_44, EG4LP4_REQ_51 };
	for (size_t k = 0; k < 3; k++) {
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)reqs[k], strlen(reqs[k]), &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT(n, strlen(reqs[k]));
	}
}

static void test_vectors(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	for (int way = 0; way < 6; way++) {
		bool inv = way == 4;
		drive_begin(&poll, &rx, 1, 0, inv);
		r = feed_way(&poll, &rx, EG4LP4_01, way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.skipped + r.bad_scan, 0);
		check_01(&poll.snap, inv);
		r = feed_way(&poll, &rx, EG4LP4_02, way);
		CHECK_EQ_INT(r.ok, 1);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_EQ_INT(s->alarms, 0);
		CHECK(s->chg_mos && s->dsg_mos);
		CHECK_EQ_INT(s->state, 1); /* system status 0x02: charging, at +6.69 A */
		CHECK_EQ_INT(s->raw_alarms[3], 0x0302);
		CHECK_EQ_INT(s->balance, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	/* the document's example: 29.0 degC on every cell sensor with 2731 */
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, EG4LP4_05, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 29.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[4], 30.0, 1e-4);
	CHECK_NEAR(poll.snap.mos_temp_c, 30.0, 1e-4);
	CHECK_NEAR(poll.snap.voltage, 51.17, 1e-4);
	CHECK_NEAR(poll.snap.soc, 0, 1e-6);
	CHECK_NEAR(poll.snap.soh, 100, 1e-6);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3156);
	r = FEED_TEXT(&poll, &rx, EG4LP4_06, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_SOC_LOW);
	CHECK_EQ_INT(poll.snap.state, 0);
	/* 0x4D is no answer of a poll step */
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, EG4LP4_04, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(poll.snap.present, 0);
}

static void test_events(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	const uint32_t P = BMS_AL_PROTECTION;
	static const struct {
		int byte, bit;
		uint32_t al;
	} ev[] = {
		{ 0, 0, 0 }, { 0, 4, BMS_AL_CELL_DIFF }, { 0, 5, BMS_AL_MOS_FAULT }, { 0, 6, BMS_AL_MOS_FAULT },
		{ 1, 0, BMS_AL_CELL_OV }, { 1, 1, BMS_AL_CELL_OV | P }, { 1, 2, BMS_AL_CELL_UV }, { 1, 3, BMS_AL_CELL_UV | P },
		{ 1, 4, BMS_AL_PACK_OV }, { 1, 5, BMS_AL_PACK_OV | P }, { 1, 6, BMS_AL_PACK_UV }, { 1, 7, BMS_AL_PACK_UV | P },
		{ 3, 0, BMS_AL_CHG_OT }, { 3, 1, BMS_AL_CHG_OT | P }, { 3, 2, BMS_AL_CHG_UT }, { 3, 3, BMS_AL_CHG_UT | P },
		{ 3, 4, BMS_AL_DSG_OT }, { 3, 5, BMS_AL_DSG_OT | P }, { 3, 6, BMS_AL_DSG_UT }, { 3, 7, BMS_AL_DSG_UT | P },
		{ 2, 0, BMS_AL_OTHER }, { 2, 1, BMS_AL_OTHER | P }, { 2, 4, BMS_AL_MOS_OT | P }, { 2, 5, BMS_AL_OTHER | P },
		{ 4, 0, BMS_AL_CHG_OC }, { 4, 1, BMS_AL_CHG_OC | P }, { 4, 2, BMS_AL_DSG_OC }, { 4, 3, BMS_AL_DSG_OC | P },
		{ 4, 4, BMS_AL_DSG_OC | P }, { 4, 5, BMS_AL_SHORT | P }, { 4, 6, BMS_AL_DSG_OC | P }, { 4, 7, BMS_AL_SHORT | P },
		{ 5, 0, BMS_AL_SOC_LOW },
	};
	for (size_t k = 0; k < sizeof(ev) / sizeof(ev[0]); k++) {
		uint8_t e[13] = { 0 };
		e[ev[k].byte] = (uint8_t)(1u << ev[k].bit);
		mk44(f, 2, e);
		drive_begin(&poll, &rx, 2, 0, false);
		poll.step = 1;
		CHECK(answer_ok(&poll, f));
		CHECK_EQ_INT(poll.snap.alarms, ev[k].al);
	}
	/* FET and system status, balancing */
	uint8_t e[13] = { 0 };
	e[6] = 0x01;
	e[7] = 0x01;
	e[8] = 0x00;
	e[9] = 0x00;
	e[10] = 0x80;
	e[11] = 0x01;
	mk44(f, 2, e);
	drive_begin(&poll, &rx, 2, 0, false);
	poll.step = 1;
	CHECK(answer_ok(&poll, f));
	CHECK(!poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.state, 2);
	CHECK_EQ_INT(poll.snap.balance, 0x8001);
	/* a late 0x42 while 0x44 is outstanding */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 1;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)EG4LP4_01, strlen(EG4LP4_01)), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(poll.snap.present, 0);
}

static void test_identity(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	char f[PT_MAX];

	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	pt_frame_ex(f, '~', 0x20, 1, 0x4A, 0x04, NULL, 0);
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(!drv->timeout(&poll));
	/* a short 0x51 answer */
	uint8_t info[60];
	size_t ni = pt_info_of(EG4LP4_03, info, sizeof(info));
	CHECK_EQ_INT(ni, 46);
	pt_frame_ex(f, '~', 0x20, 1, 0x4A, 0x00, info, 41);
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_SHORT);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	char g[2 * PT_MAX], f[PT_MAX];
	size_t len = strlen(EG4LP4_01);

	for (size_t cut = 1; cut < len; cut += 11) {
		drive_begin(&poll, &rx, 1, 0, false);
		memcpy(g, EG4LP4_01, cut);
		strcpy(g + cut, EG4LP4_01);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, cut);
		check_01(&poll.snap, false);
	}
	strcpy(g, EG4LP4_01);
	g[len - 2] = g[len - 2] == '5' ? '6' : '5';
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 0);
	/* another address, unless address_any; another device type */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)EG4LP4_01, len), BMS_E_UNEXPECTED);
	poll.address_any = true;
	CHECK(answer_ok(&poll, EG4LP4_01));
	uint8_t info[120];
	size_t ni = pt_info_of(EG4LP4_01, info, sizeof(info));
	CHECK_EQ_INT(ni, 101);
	pt_frame(f, 0x20, 1, 0x00, info, ni);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED);
	/* impossible counts, every truncation, an error code */
	static const struct {
		size_t at;
		uint8_t v;
	} bad[] = { { 2, 0x21 }, { 2, 0x0F }, { 35, 0x07 }, { 35, 0x02 } };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		uint8_t x[120];
		memcpy(x, info, ni);
		x[bad[k].at] = bad[k].v;
		pt_frame_ex(f, '~', 0x20, 1, 0x4A, 0, x, ni);
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_RANGE);
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	for (size_t cut = 1; cut < ni; cut++) {
		pt_frame_ex(f, '~', 0x20, 1, 0x4A, 0, info, ni - cut);
		drive_begin(&poll, &rx, 1, 0, false);
		int rc = drv->handle(&poll, (const uint8_t *)f, strlen(f));
		CHECK(rc == BMS_E_RANGE || rc == BMS_E_SHORT);
	}
	pt_frame_ex(f, '~', 0x20, 1, 0x4A, 0x02, NULL, 0);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_REFUSED);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_full_poll(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	const struct drive_answer a[] = {
		DRIVE_ANSWER(EG4LP4_01, strlen(EG4LP4_01), chunks_odd),
		DRIVE_ANSWER(EG4LP4_02, strlen(EG4LP4_02), chunks_one),
		DRIVE_ANSWER(EG4LP4_03, strlen(EG4LP4_03), chunks_big),
	};
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
	check_01(&poll.snap, false);
	drive_begin(&poll, &rx, 1, 6, false);
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 2, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 6);
}

int main(void)
{
	test_table();
	test_requests();
	test_vectors();
	test_events();
	test_identity();
	test_broken();
	test_full_poll();
	return check_report();
}
