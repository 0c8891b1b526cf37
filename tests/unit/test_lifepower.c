/* SPDX-License-Identifier: MIT */
/* tests/unit/test_lifepower.c - the LifePower binary RS485 family
 * (bms/lifepower.c): the lifepower rows of tests/fixtures/vectors.tsv (an
 * EG4 LifePower 0x01 answer, the 0x33 model strings of an EG4 and of a
 * Revov board with SOI 0x7C) through scan() + handle() in whole polls as
 * the gateway runs them, in every chunking, with junk and echoes around;
 * the requests (checksums of every address, the 0x7C retry), and broken:
 * a bad checksum, a wrong EOI, truncated, another address, another
 * command, an error code, impossible counts.  Protocol facts:
 * bms/PROTOCOLS.md §29. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_lifepower_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family lifepower */
#define LP_REQ_01 "7e010100fe0d"
#define LP_01 \
	"7e01015801100cf30cf40cf30cf30cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf4020175300301229c04012710" \
	"050600410041004000408042204206050000000000000000000007010001080114b9090127100a0100003c0d"
#define LP_REQ_33 "7e013300fe0d"
#define LP_02 "7e01331651542d595330302d31365356313030412d56332e3430b80d"
#define LP_REQ_33_7C "7c013300fe0d"
#define LP_03 "7c01331654502d42443136533438563135302d56332e312e3239e20d"

static const size_t chunks_odd[] = { 1, 3, 7, 2, 13, 5 };

/* The tests' own checksum: XOR of p[0..n) XOR their sum. */
static uint8_t lp_sum(const uint8_t *p, size_t n)
{
	uint8_t x = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		x ^= p[i];
		s = (uint8_t)(s + p[i]);
	}
	return (uint8_t)(x ^ s);
}

/* Fix the checksum of a frame of n bytes after an edit. */
static void reseal(uint8_t *f, size_t n)
{
	f[n - 2] = lp_sum(f, n - 2);
}

static void check_lp01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[16] = { 3315, 3316, 3315, 3315, 3316, 3316, 3316, 3316,
					3316, 3316, 3316, 3316, 3316, 3316, 3316, 3316 };
	drive_check_cells(s, c, 16);
	CHECK_NEAR(s->voltage, 53.05, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	(void)inv;
	CHECK_NEAR(s->soc, 88.6, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK_EQ_INT(s->ntemps, 5); /* four cell sensors and the ambient one (0x20) */
	CHECK_NEAR(s->temp_c[0], 15.0, 1e-5);
	CHECK_NEAR(s->temp_c[1], 15.0, 1e-5);
	CHECK_NEAR(s->temp_c[2], 14.0, 1e-5);
	CHECK_NEAR(s->temp_c[3], 14.0, 1e-5);
	CHECK_NEAR(s->temp_c[4], 16.0, 1e-5);
	CHECK_NEAR(s->mos_temp_c, 16.0, 1e-5); /* 0x80 42 */
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->state, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
				 BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "lifepower");
	CHECK_EQ_INT(drv->protocol_id, 22);
	CHECK(bms_find("lifepower") == drv);
	CHECK(!drv->ble && !drv->listen_only && !drv->control);
	CHECK_EQ_INT(drv->min_address, 1);
	CHECK_EQ_INT(drv->max_address, 15);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK(drv->probe != NULL && drv->probe->bauds[0] == 9600 && drv->probe->naddrs == 1);
}

/* The requests: 0x01 then 0x33 of a first poll, the checksum at every
 * address (mr-manuel's table: FE for odd ones, FC / F8 / F0 ...), the
 * 0x7C try on a retry, and the SOI learned from an answer. */
static void test_requests(void)
{
	static const uint8_t table[16] = { 0, 0xFE, 0xFC, 0xFE, 0xF8, 0xFE, 0xFC, 0xFE,
					   0xF0, 0xFE, 0xFC, 0xFE, 0xF8, 0xFE, 0xFC, 0xFE };
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16], want[16];

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, 5), BMS_E_NOSPACE);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 6);
	CHECK_EQ_INT(check_hex(LP_REQ_01, want, 16), 6);
	CHECK(memcmp(req, want, 6) == 0);
	for (int a = 1; a <= 15; a++) {
		drive_begin(&poll, &rx, (uint8_t)a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 6);
		CHECK(req[1] == a && req[2] == 0x01 && req[3] == 0 && req[5] == 0x0D);
		CHECK_EQ_INT(req[4], table[a]);
	}
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);

	/* the identity read after 0x01, and our own echo skipped whole */
	drive_begin(&poll, &rx, 1, 0, false);
	struct drive_res r = FEED_HEX(&poll, &rx, LP_REQ_01 LP_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 6);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 6);
	CHECK_EQ_INT(check_hex(LP_REQ_33, want, 16), 6);
	CHECK(memcmp(req, want, 6) == 0);

	/* a retry tries SOI 0x7C; a 0x7C answer is kept for the next polls */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 1;
	poll.attempt = 1;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 6);
	CHECK_EQ_INT(check_hex(LP_REQ_33_7C, want, 16), 6);
	CHECK(memcmp(req, want, 6) == 0);
	r = FEED_HEX(&poll, &rx, LP_03, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_STR(poll.kept.ident.model, "TP-BD16S48V150-V3.1.29");
	CHECK(poll.persist & 1);
	drive_begin(&poll, &rx, 1, 0, false);
	poll.attempt = 0; /* the gateway's first try */
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 6);
	CHECK(req[0] == 0x7C && req[4] == 0x02); /* 7C^01^01^00 = 7C, sum 7E */
	poll.attempt = 1;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 6);
	CHECK(req[0] == 0x7E);
}

/* Whole polls: LP-01 then LP-02 (first poll), LP-01 alone (identity
 * known), in several chunkings, current inverted. */
static void test_polls(void)
{
	uint8_t a1[128], a2[64];
	int n1 = drive_hex(LP_01, a1, sizeof(a1)), n2 = drive_hex(LP_02, a2, sizeof(a2));
	const size_t *chs[] = { chunks_one, chunks_big, chunks_odd };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd) };
	for (int k = 0; k < 3; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx = { 0 };
		struct drive_res r = { 0 };
		struct drive_answer da[2] = { { a1, (size_t)n1, chs[k], nchs[k], 0, 6 },
					      { a2, (size_t)n2, chs[k], nchs[k], 0, 6 } };
		drive_begin(&poll, &rx, 1, 0, k == 2);
		CHECK_EQ_INT(drive_poll(&poll, &rx, da, 2, &r), BMS_OK);
		check_lp01(&poll.snap, k == 2);
		CHECK_STR(poll.kept.ident.model, "QT-YS00-16SV100A-V3.40");
		CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
		/* the next poll: 0x01 only */
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drive_poll(&poll, &rx, da, 1, &r), BMS_OK);
		check_lp01(&poll.snap, false);
	}
	/* 12 cells forced */
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 12, false);
	struct drive_res r = FEED_BYTES(&poll, &rx, a1, (size_t)n1, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 12);
}

/* Junk, a stray 0x7E, another pack's answer and echoes around the answer. */
static void test_noise(void)
{
	uint8_t buf[512], a1[128];
	int n1 = drive_hex(LP_01, a1, sizeof(a1));
	size_t len = 0;
	static const uint8_t junk[] = { 0x00, 0x7E, 0x13, 0x0D, 0xFF, 0x7C, 0x01 };
	memcpy(buf, junk, sizeof(junk));
	len = sizeof(junk);
	/* pack 2's answer: ignored */
	memcpy(buf + len, a1, (size_t)n1);
	buf[len + 1] = 2;
	reseal(buf + len, (size_t)n1);
	len += (size_t)n1;
	len += (size_t)drive_hex("7e020100fc0d", buf + len, 16);
	memcpy(buf + len, a1, (size_t)n1);
	len += (size_t)n1;
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.bad_scan, 0);
	check_lp01(&poll.snap, false);
	uint32_t st = 7;
	for (int k = 0; k < 20; k++) {
		drive_begin(&poll, &rx, 1, 0, false);
		struct drive_res rr = { 0 };
		drive_feed_random(&poll, &rx, buf, len, &st, 9, &rr);
		CHECK_EQ_INT(rr.ok, 1);
		CHECK_EQ_INT(rr.bad_scan, 0);
	}
}

/* handle() of one frame at step 0 (or 1). */
static struct drive_res feed_at(struct bms_poll *poll, int step, const uint8_t *f, size_t n)
{
	struct bms_rx rx = { 0 };
	drive_begin(poll, &rx, 1, 0, false);
	poll->step = step;
	return FEED_BYTES(poll, &rx, f, n, chunks_odd);
}

static void test_broken(void)
{
	uint8_t a[128], b[128];
	int n = drive_hex(LP_01, a, sizeof(a));
	struct bms_poll poll = { 0 };
	struct drive_res r;

	/* a bad checksum, a wrong EOI: BADSUM, no frame */
	memcpy(b, a, (size_t)n);
	b[n - 2] ^= 0x01;
	r = feed_at(&poll, 0, b, (size_t)n);
	CHECK(r.badsum >= 1 && r.frames == 0 && r.ok == 0);
	memcpy(b, a, (size_t)n);
	b[n - 1] = 0x0A;
	r = feed_at(&poll, 0, b, (size_t)n);
	CHECK(r.badsum >= 1 && r.frames == 0);
	/* a flipped data byte */
	memcpy(b, a, (size_t)n);
	b[10] ^= 0x40;
	r = feed_at(&poll, 0, b, (size_t)n);
	CHECK(r.badsum >= 1 && r.ok == 0);
	/* truncated: waits */
	r = feed_at(&poll, 0, a, (size_t)n - 3);
	CHECK(r.frames == 0 && r.badsum == 0 && r.ok == 0);
	/* another command (a late 0x33 answer at step 0) */
	uint8_t m[64];
	int nm = drive_hex(LP_02, m, sizeof(m));
	r = feed_at(&poll, 0, m, (size_t)nm);
	CHECK(r.unexpected == 1 && r.ok == 0);
	/* a group that runs past the data: the cells claim 0x2C values */
	memcpy(b, a, (size_t)n);
	b[5] = 0x2C;
	reseal(b, (size_t)n);
	r = feed_at(&poll, 0, b, (size_t)n);
	CHECK(r.err == 1 && r.last_err == BMS_E_SHORT);
	/* 33 cells: more than a pack can have (rebuilt with the count) */
	uint8_t big[200];
	size_t bn = 0;
	static const uint8_t head[] = { 0x7E, 0x01, 0x01, 0x00, 0x01, 33 };
	memcpy(big, head, sizeof(head));
	bn = sizeof(head);
	for (int i = 0; i < 33; i++) {
		big[bn++] = 0x0C;
		big[bn++] = 0xE4;
	}
	static const uint8_t volt[] = { 0x08, 0x01, 0x1A, 0x90 };
	memcpy(big + bn, volt, sizeof(volt));
	bn += sizeof(volt);
	big[3] = (uint8_t)(bn - 4);
	bn += 2;
	big[bn - 1] = 0x0D;
	reseal(big, bn);
	r = feed_at(&poll, 0, big, bn);
	CHECK(r.err == 1 && r.last_err == BMS_E_RANGE);
	/* no cells group at all: not a sample */
	static const uint8_t novolt[] = { 0x7E, 0x01, 0x01, 0x04, 0x08, 0x01, 0x14, 0xB9, 0x00, 0x0D };
	memcpy(b, novolt, sizeof(novolt));
	reseal(b, sizeof(novolt));
	r = feed_at(&poll, 0, b, sizeof(novolt));
	CHECK(r.err == 1 && r.last_err == BMS_E_SHORT);
	/* a group of type 0: no layout */
	static const uint8_t t0[] = { 0x7E, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x0D };
	memcpy(b, t0, sizeof(t0));
	reseal(b, sizeof(t0));
	r = feed_at(&poll, 0, b, sizeof(t0));
	CHECK(r.err == 1 && r.last_err == BMS_E_HEADER);
	/* an error code (len 1): refused at 0x01, the end of the identity at 0x33 */
	static const uint8_t err[] = { 0x7E, 0x01, 0x01, 0x01, 0x04, 0x00, 0x0D };
	memcpy(b, err, sizeof(err));
	reseal(b, sizeof(err));
	r = feed_at(&poll, 0, b, sizeof(err));
	CHECK(r.err == 1 && r.last_err == BMS_E_REFUSED);
	b[2] = 0x33;
	reseal(b, sizeof(err));
	r = feed_at(&poll, 1, b, sizeof(err));
	CHECK(r.ok == 1 && poll.kept.ident_state == BMS_IDENT_NONE && poll.refusals == 1);
	uint8_t req[8];
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	/* a 4-byte group (Basen, type 0x0B) is stepped over */
	uint8_t x[160];
	memcpy(x, a, (size_t)n - 2);
	static const uint8_t g0b[] = { 0x0B, 0x01, 0x12, 0x34, 0x56, 0x78 };
	memcpy(x + n - 2, g0b, sizeof(g0b));
	size_t xn = (size_t)n + sizeof(g0b);
	x[3] = (uint8_t)(xn - 6);
	x[xn - 1] = 0x0D;
	reseal(x, xn);
	r = feed_at(&poll, 0, x, xn);
	CHECK(r.ok == 1);
	check_lp01(&poll.snap, false);
}

/* The identity read that gets no answer: the poll completes without it. */
static void test_no_ident(void)
{
	uint8_t a1[128], req[8];
	int n1 = drive_hex(LP_01, a1, sizeof(a1));
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(!drv->timeout(&poll)); /* the live read is not given up */
	FEED_BYTES(&poll, &rx, a1, (size_t)n1, chunks_big);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 6);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

/* Current (30000 - raw, + = charging), the state bits, the status bytes. */
static void test_values(void)
{
	static const struct {
		int byte, bit;
		uint32_t al;
	} t[] = {
		{ 0, 3, BMS_AL_CELL_UV }, { 0, 5, BMS_AL_MOS_FAULT }, { 1, 0, BMS_AL_SENSOR },
		{ 1, 5, BMS_AL_COMM }, { 2, 0, BMS_AL_DSG_OT | BMS_AL_PROTECTION },
		{ 3, 2, BMS_AL_SHORT | BMS_AL_PROTECTION }, { 3, 4, BMS_AL_CELL_OV | BMS_AL_PROTECTION },
		{ 3, 5, BMS_AL_CELL_UV | BMS_AL_PROTECTION }, { 3, 6, BMS_AL_CHG_OT | BMS_AL_PROTECTION },
		{ 4, 4, BMS_AL_SOC_LOW | BMS_AL_PROTECTION }, { 5, 5, BMS_AL_MOS_OT | BMS_AL_PROTECTION },
		{ 7, 6, BMS_AL_TEMP_DIFF }, { 8, 4, BMS_AL_CELL_DIFF }, { 9, 2, BMS_AL_PACK_OV },
		{ 9, 5, BMS_AL_DSG_OC }, { 2, 4, 0 }, /* charge MOS off (Basen): a state, not decoded */
	};
	uint8_t a[128], b[128];
	int n = drive_hex(LP_01, a, sizeof(a));
	const int cur = 4 + 2 + 32 + 2, status = cur + 2 + 4 + 4 + 2 + 12 + 2; /* offsets of the values */
	struct bms_poll poll = { 0 };
	struct drive_res r;

	CHECK(a[cur - 2] == 0x02 && a[status - 2] == 0x06);
	memcpy(b, a, (size_t)n);
	b[cur] = 0x6E; /* powermon's "positive" example: 0x6E4C -> +17.64 A */
	b[cur + 1] = 0x4C;
	b[status + 3] = 0x01; /* charging */
	reseal(b, (size_t)n);
	r = feed_at(&poll, 0, b, (size_t)n);
	CHECK(r.ok == 1);
	CHECK_NEAR(poll.snap.current, 17.64, 1e-3);
	CHECK_EQ_INT(poll.snap.state, 1);
	b[cur] = 0x84; /* 0x84A7 -> -39.59 A */
	b[cur + 1] = 0xA7;
	b[status + 3] = 0x02;
	reseal(b, (size_t)n);
	r = feed_at(&poll, 0, b, (size_t)n);
	CHECK_NEAR(poll.snap.current, -39.59, 1e-3);
	CHECK_EQ_INT(poll.snap.state, 2);
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, true);
	FEED_BYTES(&poll, &rx, b, (size_t)n, chunks_odd);
	CHECK_NEAR(poll.snap.current, 39.59, 1e-3);
	/* cell flags in the two top bits are masked */
	memcpy(b, a, (size_t)n);
	b[6] |= 0xC0;
	reseal(b, (size_t)n);
	r = feed_at(&poll, 0, b, (size_t)n);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3315);
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		memcpy(b, a, (size_t)n);
		b[status + t[k].byte] = (uint8_t)(1u << t[k].bit);
		reseal(b, (size_t)n);
		r = feed_at(&poll, 0, b, (size_t)n);
		CHECK(r.ok == 1);
		CHECK_EQ_INT(poll.snap.alarms, t[k].al);
		if (t[k].byte < 8)
			CHECK_EQ_INT(poll.snap.raw_alarms[t[k].byte / 2],
				     (t[k].byte % 2 ? 1u : 256u) << t[k].bit);
	}
}

int main(void)
{
	test_table();
	test_requests();
	test_polls();
	test_noise();
	test_broken();
	test_no_ident();
	test_values();
	return check_report();
}
