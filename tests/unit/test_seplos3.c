/* SPDX-License-Identifier: MIT */
/* tests/unit/test_seplos3.c - Seplos V3 (XZH Modbus RTU) driver: the SEPLOS3
 * rows of tests/fixtures/vectors.tsv (PIA, PIB and VIA of a live pack, two
 * exception answers, a request with an impossible count) through scan() +
 * handle() fed in every chunking, built PIC answers (every event bit), whole
 * polls through finish(), the optional PIC and the identity refused, and
 * broken input (bad CRC, truncated, another address, impossible byte
 * counts).  Protocol facts: bms/PROTOCOLS.md §18, §22. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>

static const struct bms_driver *const drv = &bms_seplos3_driver;

#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define SEPLOS3_REQ_01 "01041000001134c6"
#define SEPLOS3_01 "01042214cdff776b4080e80122034003e7000a0cff0b7f0d000cff0b810b7e000000b400b4d32e"
#define SEPLOS3_REQ_02 "01041100001a74fd"
#define SEPLOS3_02 "0104340cff0cff0d000d000d000cff0d000cff0d000d000d000d000d000cff0cff0d000b820b7f0b" \
	"810b7e0aab0aab0aab0aab0b8c0b7f0113"
#define SEPLOS3_REQ_03 "000417000033b47a"
#define SEPLOS3_03 "000466585a482d456c65635465636820436f2e2c4c74645347313653323030412d53503537422d41" \
	"000000313553503537422d4132353036313230303232000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000634b"
#define SEPLOS3_REQ_04 "0101120009003f22"
#define SEPLOS3_04 "018102c191"
#define SEPLOS3_REQ_05 "00042100001a7a2c"
#define SEPLOS3_05 "0084029301"

static const uint16_t cells_02[16] = { 3327, 3327, 3328, 3328, 3328, 3327, 3328, 3327,
				       3328, 3328, 3328, 3328, 3328, 3327, 3327, 3328 };

static void check_pia(const struct bms_snapshot *s, bool inv)
{
	CHECK_NEAR(s->voltage, 53.25, 1e-4);
	CHECK_NEAR(s->current, inv ? 1.37 : -1.37, 1e-4);
	CHECK_NEAR(s->remain_ah, 274.56, 1e-3);
	CHECK_NEAR(s->full_ah, 330.00, 1e-3);
	CHECK_NEAR(s->soc, 83.2, 1e-4);
	CHECK_NEAR(s->soh, 99.9, 1e-4);
	CHECK_EQ_INT(s->cycles, 10);
	CHECK_NEAR(s->bms_ccl_a, 180.0, 1e-6);
	CHECK_NEAR(s->bms_dcl_a, 180.0, 1e-6);
}

static void pia_ok(const struct bms_poll *poll)
{
	check_pia(&poll->snap, poll->invert_current);
	CHECK_EQ_INT(poll->snap.present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_FULL |
		     BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CYCLES | BMS_HAS_CUR_LIMITS);
	struct bms_poll next = *poll;
	CHECK_EQ_INT(mb_cur(&next), 0x1100);
}

static void check_pib(const struct bms_snapshot *s)
{
	drive_check_cells(s, cells_02, 16);
	/* 0.1 K with 0 degC = 2731 (§22.2): the four cell sensors, ambient */
	static const float t[5] = { 21.5f, 21.2f, 21.4f, 21.1f, 22.5f };
	CHECK_EQ_INT(s->ntemps, 5);
	for (int k = 0; k < 5; k++)
		CHECK_NEAR(s->temp_c[k], t[k], 1e-4);
	CHECK_NEAR(s->mos_temp_c, 21.2, 1e-4);
}

static void pib_ok(const struct bms_poll *poll)
{
	check_pib(&poll->snap);
	CHECK_EQ_INT(poll->snap.present, BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP);
}

static void check_via(const struct bms_ident *id)
{
	CHECK_STR(id->vendor, "XZH-ElecTech Co.,Ltd");
	CHECK_STR(id->model, "SG16S200A-SP57B-A");
	CHECK_STR(id->firmware, "15");
	CHECK_STR(id->serial, "SP57B-A2506120022");
	CHECK_STR(id->pack_serial, "");
}

static void via_ok(const struct bms_poll *poll)
{
	check_via(&poll->kept.ident);
	CHECK_EQ_INT(poll->kept.ident_state, BMS_IDENT_HAVE);
	CHECK_EQ_INT(poll->snap.present, 0);
}



static void test_table(void)
{
	mb_check_table("seplos3", 16, 19200, 0, 15, 0);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16];
	static const uint16_t documented[][3] = {
		{ 0x04, 0x1000, 0x11 }, { 0x04, 0x1100, 0x1A }, { 0x01, 0x1200, 0x90 }, { 0x04, 0x1700, 0x33 },
	};

	/* the captured requests: PIA and PIB at slave 1, VIA at slave 0 */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(mb_req_is(&poll, SEPLOS3_REQ_01));
	poll.step = 1;
	CHECK(mb_req_is(&poll, SEPLOS3_REQ_02));
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK(mb_goto(&poll, 0x04, 0x1700));
	CHECK(mb_req_is(&poll, SEPLOS3_REQ_03));
	/* 0 is an address like any other; 16 is none */
	for (int a = 0; a <= 15; a++) {
		drive_begin(&poll, &rx, (uint8_t)a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
		CHECK_EQ_INT(req[0], a);
		mb_reads_only(&poll, documented, 4);
	}
	drive_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, 7), BMS_E_NOSPACE);
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	size_t n;

	for (int inv = 0; inv < 2; inv++) {
		drive_begin(&poll, &rx, 1, 0, inv);
		n = mb_hex(SEPLOS3_01, f);
		mb_every_chunking(&poll, f, n, pia_ok);
		drive_begin(&poll, &rx, 1, 0, inv);
		poll.step = 1;
		n = mb_hex(SEPLOS3_02, f);
		mb_every_chunking(&poll, f, n, pib_ok);
	}
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK(mb_goto(&poll, 0x04, 0x1700));
	n = mb_hex(SEPLOS3_03, f);
	mb_every_chunking(&poll, f, n, via_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* a forced cell count keeps the first cells */
	drive_begin(&poll, &rx, 1, 8, false);
	poll.step = 1;
	CHECK(drv->handle(&poll, f, mb_hex(SEPLOS3_02, f)) == BMS_OK);
	drive_check_cells(&poll.snap, cells_02, 8);
}

/* Exception answers: to the optional PIC (SEPLOS3-04) the poll goes on
 * without it, counted; to a live read (SEPLOS3-05 from slave 0) the try
 * fails. */
static void test_exceptions(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	size_t n = mb_hex(SEPLOS3_04, f);

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(mb_goto(&poll, 0x01, 0x1200));
	for (int way = 0; way < MB_WAYS; way++) {
		struct bms_poll p = poll;
		bms_rx_clear(&rx);
		struct drive_res r = mb_feed_way(&p, &rx, f, n, way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(p.refusals, 1);
		CHECK_EQ_INT(mb_cur(&p), 0x1700);
	}
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	/* the next poll leaves PIC out; a refresh asks again */
	bms_poll_begin(&poll, 1, 0, false);
	poll.kept.ident_state = BMS_IDENT_NONE;
	poll.step = 2;
	CHECK_EQ_INT(mb_cur(&poll), -1);
	poll.refresh = true;
	CHECK_EQ_INT(mb_cur(&poll), 0x1200);
	/* a live read refused */
	drive_begin(&poll, &rx, 0, 0, false);
	n = mb_hex(SEPLOS3_05, f);
	struct drive_res r = FEED_BYTES(&poll, &rx, f, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_REFUSED);
	/* an exception of another function code, or to another slave: not ours */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(mb_not_taken(&poll, f, mb_hex(SEPLOS3_04, f)), 0);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(mb_not_taken(&poll, f, mb_hex(SEPLOS3_05, f)), 0);
	/* the identity refused: asked no more */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(mb_goto(&poll, 0x04, 0x1700));
	n = mb_exception(f, 1, 0x04, 0x02);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(mb_cur(&poll), -1);
}

/* A PIC answer with bytes b[0..18). */
static size_t mk_pic(uint8_t *f, uint8_t adr, const uint8_t *b)
{
	uint16_t v[0x90];
	for (int i = 0; i < 0x90; i++)
		v[i] = (uint16_t)(b[i / 8] >> (i % 8) & 1);
	return mb_answer(f, adr, 0x01, v, 0x90);
}

static void test_pic(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME], b[18];
	/* bytes 9..17 (the event bytes) bit by bit: what each maps to (§22.4) */
	static const struct {
		int byte, bit;
		uint32_t al;
	} map[] = {
		{ 9, 0, BMS_AL_CELL_OV }, { 9, 1, BMS_AL_CELL_OV | BMS_AL_PROTECTION }, { 9, 3, BMS_AL_CELL_UV | BMS_AL_PROTECTION },
		{ 9, 5, BMS_AL_PACK_OV | BMS_AL_PROTECTION }, { 9, 6, BMS_AL_PACK_UV },
		{ 10, 0, BMS_AL_CHG_OT }, { 10, 3, BMS_AL_CHG_UT | BMS_AL_PROTECTION }, { 10, 5, BMS_AL_DSG_OT | BMS_AL_PROTECTION },
		{ 10, 6, BMS_AL_DSG_UT }, { 11, 0, BMS_AL_OTHER }, { 11, 5, BMS_AL_MOS_OT | BMS_AL_PROTECTION },
		{ 12, 0, BMS_AL_CHG_OC }, { 12, 4, BMS_AL_DSG_OC | BMS_AL_PROTECTION }, { 12, 6, BMS_AL_SHORT | BMS_AL_PROTECTION },
		{ 13, 0, BMS_AL_SHORT | BMS_AL_PROTECTION }, { 14, 2, BMS_AL_SOC_LOW }, { 14, 4, BMS_AL_CELL_DIFF },
		{ 16, 4, BMS_AL_HW_FAULT }, { 17, 0, BMS_AL_SENSOR }, { 17, 2, BMS_AL_MOS_FAULT },
		{ 17, 7, BMS_AL_OTHER | BMS_AL_PROTECTION },
	};
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		memset(b, 0, sizeof(b));
		b[15] = 0x03;
		b[map[k].byte] = (uint8_t)(1u << map[k].bit);
		drive_begin(&poll, &rx, 3, 0, false);
		CHECK(mb_goto(&poll, 0x01, 0x1200));
		size_t n = mk_pic(f, 3, b);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
		CHECK_EQ_INT(poll.snap.alarms, map[k].al);
		CHECK_EQ_INT(poll.snap.nraw, 4);
	}
	/* the raw words, balancing, state, switches; a switch off zeroes its
	 * limit (the PIA before gave 180 A both ways) */
	memset(b, 0, sizeof(b));
	b[6] = 0x81;
	b[7] = 0x02;
	b[8] = 0x02;
	for (int i = 9; i < 18; i++)
		b[i] = (uint8_t)(0x10 + i);
	b[15] = 0x01;
	drive_begin(&poll, &rx, 3, 0, false);
	uint8_t pia[MB_MAX_FRAME];
	size_t pn = mb_hex(SEPLOS3_01, pia);
	pia[0] = 3;
	mb_put_crc(pia, pn - 2);
	CHECK_EQ_INT(drv->handle(&poll, pia, pn), BMS_OK);
	CHECK(mb_goto(&poll, 0x01, 0x1200));
	size_t n = mk_pic(f, 3, b);
	mb_every_chunking(&poll, f, n, NULL);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->raw_alarms[0], 0x191A);
	CHECK_EQ_INT(s->raw_alarms[1], 0x1B1C);
	CHECK_EQ_INT(s->raw_alarms[2], 0x1D1E);
	CHECK_EQ_INT(s->raw_alarms[3], 0x2120);
	CHECK_EQ_INT(s->balance, 0x0281);
	CHECK_EQ_INT(s->state, 1);
	CHECK(!s->chg_mos && s->dsg_mos);
	CHECK_NEAR(s->bms_ccl_a, 0.0, 1e-9);
	CHECK_NEAR(s->bms_dcl_a, 180.0, 1e-6);
	drive_begin(&poll, &rx, 3, 0, false);
	CHECK(mb_goto(&poll, 0x01, 0x1200));
	mb_broken(&poll, f, n);
}

/* A whole poll: PIA and PIB of the captures, a PIC built, the identity of
 * the capture from slave 0 taken with address_any. */
static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME], a3[MB_MAX_FRAME], a4[MB_MAX_FRAME], b[18] = { 0 };
	b[15] = 0x03;
	b[8] = 0x01;
	struct drive_answer ans[] = {
		{ a1, mb_hex(SEPLOS3_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mb_hex(SEPLOS3_02, a2), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
		{ a3, mk_pic(a3, 1, b), chunks_one, 1, 0, 8 },
		{ a4, mb_hex(SEPLOS3_03, a4), chunks_big, 1, 0, 8 },
	};
	struct drive_res r = { 0 };

	drive_begin(&poll, &rx, 1, 0, false);
	poll.address_any = true;
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 4, &r), BMS_OK);
	check_pia(&poll.snap, false);
	check_pib(&poll.snap);
	check_via(&poll.kept.ident);
	CHECK_EQ_INT(poll.snap.state, 2);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.alarms, 0);
	/* the next poll: no identity */
	bms_poll_begin(&poll, 1, 0, false);
	poll.address_any = true;
	bms_rx_clear(&rx);
	r = (struct drive_res){ 0 };
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 3, &r), BMS_OK);
	/* without address_any the identity from slave 0 is not taken */
	bms_poll_begin(&poll, 1, 0, false);
	poll.kept.ident_state = BMS_IDENT_UNKNOWN;
	poll.step = 3;
	CHECK_EQ_INT(mb_not_taken(&poll, a4, ans[3].len), 0);
	/* PIB with no cells: finish() refuses the sample */
	uint16_t v[0x1A] = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, a1, ans[0].len), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, a2, mb_answer(a2, 1, 0x04, v, 0x1A)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME], g[MB_MAX_FRAME + 8];

	drive_begin(&poll, &rx, 1, 0, false);
	mb_broken(&poll, f, mb_hex(SEPLOS3_01, f));
	poll.step = 1;
	mb_broken(&poll, f, mb_hex(SEPLOS3_02, f));
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK(mb_goto(&poll, 0x04, 0x1700));
	mb_broken(&poll, f, mb_hex(SEPLOS3_03, f));
	/* another master's request (SEPLOS3-REQ-04, its first bytes those of
	 * a PIC answer) before the PIC answer: skipped whole */
	uint8_t b[18] = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(mb_goto(&poll, 0x01, 0x1200));
	size_t rn = mb_hex(SEPLOS3_REQ_04, g);
	size_t n = mk_pic(g + rn, 1, b);
	for (int way = 0; way < MB_WAYS; way++) {
		struct bms_poll p = poll;
		bms_rx_clear(&rx);
		struct drive_res r = mb_feed_way(&p, &rx, g, rn + n, way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.badsum, 0);
		CHECK_EQ_INT(r.skipped, 8);
	}
	/* another master's read of 0x2100 at slave 0 (SEPLOS3-REQ-05, its first
	 * bytes those of an FC04 answer of 33 bytes), then the PIA answer of
	 * slave 0: the request is skipped whole, nothing counted as damaged */
	drive_begin(&poll, &rx, 0, 0, false);
	rn = mb_hex(SEPLOS3_REQ_05, g);
	n = mb_hex(SEPLOS3_01, g + rn);
	g[rn] = 0;
	mb_put_crc(g + rn, n - 2);
	for (int way = 0; way < MB_WAYS; way++) {
		struct bms_poll p = poll;
		bms_rx_clear(&rx);
		struct drive_res r = mb_feed_way(&p, &rx, g, rn + n, way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.badsum, 0);
		CHECK_EQ_INT(r.skipped, 8);
		check_pia(&p.snap, false);
	}
	/* handle() on its own: short, bad CRC, an answer when none is due */
	CHECK_EQ_INT(drv->handle(&poll, f, 4), BMS_E_SHORT);
	n = mb_hex(SEPLOS3_01, f);
	f[n - 1] ^= 1;
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_CHECKSUM);
	drive_begin(&poll, &rx, 1, 0, false);
	poll.kept.ident_state = BMS_IDENT_NONE;
	poll.step = 4;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(SEPLOS3_01, f)), BMS_E_UNEXPECTED);
}

int main(void)
{
	test_table();
	test_requests();
	test_captures();
	test_exceptions();
	test_pic();
	test_full_poll();
	test_broken();
	return check_report();
}
