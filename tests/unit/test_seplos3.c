/* SPDX-License-Identifier: MIT */
/* tests/unit/test_seplos3.c - Seplos V3 (XZH Modbus RTU) driver: the SEPLOS3
 * rows of tests/fixtures/vectors.tsv (PIA, PIB and VIA of a live pack, two
 * exception answers, a request with an impossible count) through scan() +
 * handle() fed in every chunking, built PIC answers (every event bit), whole
 * polls through finish(), the optional PIC and the identity refused, and
 * broken input (bad CRC, truncated, another address, impossible byte
 * counts); the SPA settings reads 0x1300 / 0x1335, asked only when due,
 * on the answers of a SG16S200A-SP57B-A (syssi/esphome-seplos-bms
 * docs/pdus/v3/SG16S200A-SP57B-A-all-frames.txt, asked at 0xE0 over
 * Bluetooth: taken verbatim from any address, readdressed for the broken
 * ones), ignored, refused, broken and out of range.  Protocol facts:
 * bms/PROTOCOLS.md §18, §22. */
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

/* SPA 0x1300 x 0x35 and 0x1335 x 0x35 of a SG16S200A-SP57B-A, slave 0xE0
 * (syssi/esphome-seplos-bms docs/pdus/v3/SG16S200A-SP57B-A-all-frames.txt) */
#define SPA1 "e0046a00040010151815e01518168012c0122012c010e00d480dac0d480e420c1c0b540c1c0a8c07d003e801f400cb00" \
	"cd00d20064012c012cff35ff33ff2e0064fea2012cfed4006a025800050bb800cd000a0dac0d4805dc03e8032000c800" \
	"1e0c810c9f0c9f0cd10add0ac97616"
#define SPA2 "e0046a0abf0aab0c9f0cd10cd10d030ac90aab0ab50a8d0c810c9f0cd10d030ac90aab0aab0a470dfd0e610dfd0ef70b" \
	"0f0aab0c9f0aab000a0d480032001e03c0005000320032001e80e880e86b400030003c00f0000a00070000000d000001" \
	"f4012c168000b4ff4c00000008fec9"

static void check_key(const struct bms_settings *st, enum bms_set_key k, double want)
{
	CHECK(bms_settings_has(st, k));
	CHECK_NEAR(st->v[k], want, fabs(want) * 1e-6 + 1e-9);
}

static void spa1_ok(const struct bms_poll *poll)
{
	const struct bms_settings *st = &poll->kept.settings;
	check_key(st, BMS_SET_CELL_COUNT, 16);
	check_key(st, BMS_SET_PACK_OVP_V, 57.60);
	check_key(st, BMS_SET_PACK_UVP_V, 43.20);
	check_key(st, BMS_SET_CELL_OVP_V, 3.650);
	check_key(st, BMS_SET_CELL_OVP_RELEASE_V, 3.400);
	check_key(st, BMS_SET_CELL_UVP_V, 2.700);
	check_key(st, BMS_SET_CELL_UVP_RELEASE_V, 3.100);
	check_key(st, BMS_SET_CELL_DIFF_V, 1.000);
	check_key(st, BMS_SET_CHARGE_OCP_A, 210);
	check_key(st, BMS_SET_CHARGE_OCP_DELAY_S, 10.0);
	check_key(st, BMS_SET_DISCHARGE_OCP_A, 210);
	check_key(st, BMS_SET_DISCHARGE_OCP_DELAY_S, 10.0);
	check_key(st, BMS_SET_SHORT_CIRCUIT_A, 300);
	check_key(st, BMS_SET_SHORT_CIRCUIT_DELAY_S, 0.000106);
	check_key(st, BMS_SET_CHARGE_OTP_C, 55.0);
	check_key(st, BMS_SET_CHARGE_OTP_RELEASE_C, 50.0);
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_UTP_C)); /* in SPA2 */
	CHECK_EQ_INT(mb_cur((struct bms_poll *)poll), 0x1335);
}

static void spa2_ok(const struct bms_poll *poll)
{
	const struct bms_settings *st = &poll->kept.settings;
	check_key(st, BMS_SET_CELL_OVP_V, 3.650); /* SPA1's stay */
	check_key(st, BMS_SET_CHARGE_UTP_RELEASE_C, 2.0);
	check_key(st, BMS_SET_CHARGE_UTP_C, 0.0);
	check_key(st, BMS_SET_DISCHARGE_OTP_RELEASE_C, 55.0);
	check_key(st, BMS_SET_DISCHARGE_OTP_C, 60.0);
	check_key(st, BMS_SET_DISCHARGE_UTP_RELEASE_C, 1.0);
	check_key(st, BMS_SET_DISCHARGE_UTP_C, -3.0);
	check_key(st, BMS_SET_MOS_OTP_RELEASE_C, 85.0);
	check_key(st, BMS_SET_MOS_OTP_C, 110.0);
	check_key(st, BMS_SET_BALANCE_START_V, 3.400);
	check_key(st, BMS_SET_BALANCE_DELTA_V, 0.050);
	check_key(st, BMS_SET_CAPACITY_AH, 330.00);
	CHECK_EQ_INT((long long)st->have, (long long)drv->settings);
	CHECK_EQ_INT(mb_cur((struct bms_poll *)poll), -1);
}

/* A poll at the first SPA read (settings due), answers taken from any
 * address (the capture's 0xE0). */
static void at_spa(struct bms_poll *poll, struct bms_rx *rx, bool any)
{
	memset(poll, 0, sizeof(*poll));
	drive_begin(poll, rx, 1, 0, false);
	poll->settings_due = true;
	poll->address_any = any;
	CHECK(mb_goto(poll, 0x04, 0x1300));
}

static void test_settings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME], g[MB_MAX_FRAME], req[16];
	size_t n1 = mb_hex(SPA1, f), n2 = mb_hex(SPA2, g);

	/* not due: no SPA read */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(!mb_goto(&poll, 0x04, 0x1300));
	/* due: FC04 0x1300 x 0x35, then 0x1335 x 0x35, after the identity */
	at_spa(&poll, &rx, true);
	CHECK_EQ_INT(poll.step, 4);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
	CHECK(memcmp(req, "\x01\x04\x13\x00\x00\x35", 6) == 0);
	mb_every_chunking(&poll, f, n1, spa1_ok);
	mb_every_chunking(&poll, g, n2, spa2_ok);

	/* SPA1 ignored or refused: SPA2 is not asked, the poll ends good */
	at_spa(&poll, &rx, false);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	at_spa(&poll, &rx, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 1, 0x04, 0x02)), BMS_OK);
	CHECK_EQ_INT((int)poll.refusals, 1);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* SPA2 ignored: SPA1's keys stay */
	at_spa(&poll, &rx, true);
	n1 = mb_hex(SPA1, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n1), BMS_OK);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK(bms_settings_has(&poll.kept.settings, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_MOS_OTP_C));

	/* broken answers (readdressed to the pack's 1, CRC made again) */
	f[0] = 1;
	mb_put_crc(f, n1 - 2);
	at_spa(&poll, &rx, false);
	mb_broken(&poll, f, n1);
	/* out of range: cell OVP 0, a pack UVP of 0, charge OTP 0.0 K, cell
	 * count 33: absent, the rest read */
	f[3 + 2 * 0x0D] = f[4 + 2 * 0x0D] = 0;
	f[3 + 2 * 0x09] = f[4 + 2 * 0x09] = 0;
	f[3 + 2 * 0x32] = f[4 + 2 * 0x32] = 0;
	f[3 + 2 * 0x01] = 0;
	f[4 + 2 * 0x01] = 33;
	mb_put_crc(f, n1 - 2);
	at_spa(&poll, &rx, false);
	CHECK_EQ_INT(drv->handle(&poll, f, n1), BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_PACK_UVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_OTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_CELL_COUNT));
	check_key(st, BMS_SET_CELL_UVP_V, 2.700);
	/* SPA2 with nothing in range (temperatures 0.1 K, no balancing
	 * levels, no capacity): dropped, SPA1's settings stay, the poll ends */
	uint16_t zero[0x35] = { 0 };
	for (int i = 0; i <= 0x134A - 0x1335; i++)
		zero[i] = 1;
	at_spa(&poll, &rx, true);
	n1 = mb_hex(SPA1, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n1), BMS_OK);
	struct bms_settings before = poll.kept.settings;
	CHECK_EQ_INT(drv->handle(&poll, g, mb_answer(g, 1, 0x04, zero, 0x35)), BMS_OK);
	CHECK(memcmp(&poll.kept.settings, &before, sizeof(before)) == 0);
	CHECK_EQ_INT(mb_cur(&poll), -1);
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
	test_settings();
	return check_report();
}
