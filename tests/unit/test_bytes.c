/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bytes.c - the pieces the drivers share (bms/bms.h): hex
 * digits (bms/base/hex.c), the wire's numbers and sums, a framer's start on its
 * start byte (bms_scan_start(), bms_scan_skip() of bms/base/frames.c; the
 * start, length and end bytes of bms_scan_sle(), a header's length word of
 * bms_scan_lenword()), a fixed request's opening (bms_req_open()), a
 * finish() at its last step, the Bluetooth base UUID.  The start is run as
 * a driver runs it: a toy framer on it, through bms_frames(), with garbage
 * before the start byte, short, overlong and bad-sum frames, and the bytes
 * split at every place. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../bms/bms.h"
#include "check.h"

static void test_hexval(void)
{
	const char *digits = "0123456789abcdefABCDEF";
	const int want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 10, 11, 12, 13, 14, 15 };
	for (size_t i = 0; digits[i]; i++)
		CHECK_EQ_INT(bms_hexval((unsigned char)digits[i]), want[i]);
	int others = 0;
	for (int c = 0; c < 256; c++)
		others += bms_hexval((unsigned char)c) < 0;
	CHECK_EQ_INT(others, 256 - 22);
	CHECK_EQ_INT(bms_hexval('g'), -1);
	CHECK_EQ_INT(bms_hexval('/'), -1);
	CHECK_EQ_INT(bms_hexval(':'), -1);
	CHECK_EQ_INT(bms_hexval('@'), -1);
	CHECK_EQ_INT(bms_hexval(0xB0), -1);
}

static void test_hexn(void)
{
	uint32_t v = 7;
	CHECK(bms_hexn((const uint8_t *)"1a2B", 4, &v));
	CHECK_EQ_INT(v, 0x1A2B);
	CHECK(bms_hexn((const uint8_t *)"FFFFFFFF", 8, &v));
	CHECK_EQ_INT(v, 0xFFFFFFFFu);
	CHECK(bms_hexn((const uint8_t *)"", 0, &v));
	CHECK_EQ_INT(v, 0);
	/* a character that is no digit, anywhere: false, v untouched */
	v = 7;
	CHECK(!bms_hexn((const uint8_t *)"12G4", 4, &v));
	CHECK(!bms_hexn((const uint8_t *)" 123", 4, &v));
	CHECK(!bms_hexn((const uint8_t *)"123\r", 4, &v));
	CHECK_EQ_INT(v, 7);
	/* more digits than 32 bits hold */
	CHECK(!bms_hexn((const uint8_t *)"123456789", 9, &v));
	CHECK_EQ_INT(v, 7);
}

static void test_put_hex(void)
{
	uint8_t out[10];
	memset(out, '.', sizeof(out));
	bms_put_hex(out, 0xBEEF, 4);
	CHECK(memcmp(out, "BEEF.", 5) == 0);
	bms_put_hex(out, 0x1234, 2); /* the lowest two digits only */
	CHECK(memcmp(out, "34EF.", 5) == 0);
	bms_put_hex(out, 0xA, 3);
	CHECK(memcmp(out, "00AF.", 5) == 0);
	bms_put_hex(out, 0xDEADBEEF, 8);
	CHECK(memcmp(out, "DEADBEEF..", 10) == 0);
	/* round trip */
	for (uint32_t x = 0; x < 0x10000; x += 0x123) {
		uint32_t back = 0;
		bms_put_hex(out, x, 4);
		CHECK(bms_hexn(out, 4, &back) && back == x);
	}
}

static void test_numbers(void)
{
	const uint8_t p[] = { 0x12, 0x34, 0x56, 0x78, 0xFF };
	CHECK_EQ_INT(bms_le16(p), 0x3412);
	CHECK_EQ_INT(bms_be16(p), 0x1234);
	CHECK_EQ_INT(bms_le32(p), 0x78563412u);
	CHECK_EQ_INT(bms_be32(p), 0x12345678u);
	CHECK_EQ_INT(bms_le32(p + 1), 0xFF785634u); /* the top bit, unsigned */
	CHECK_EQ_INT((int16_t)bms_le16(p + 3), (int16_t)0xFF78);
	CHECK_EQ_INT(bms_les16(p + 3), -136);           /* 0xFF78 */
	CHECK_EQ_INT(bms_bes16(p + 3), 0x78FF);         /* positive */
	CHECK_EQ_INT(bms_bes16((const uint8_t[]){ 0x80, 0x00 }), -32768);
	CHECK_EQ_INT(bms_les16((const uint8_t[]){ 0xFF, 0x7F }), 32767);
	CHECK_EQ_INT(bms_s16(0xFFFF), -1);
	CHECK_EQ_INT(bms_sum(p, 0), 0);
	CHECK_EQ_INT(bms_sum(p, sizeof(p)), 0x12 + 0x34 + 0x56 + 0x78 + 0xFF);
	uint8_t ff[300];
	memset(ff, 0xFF, sizeof(ff));
	CHECK_EQ_INT(bms_sum(ff, sizeof(ff)), 300 * 255); /* no wrap at 8 or 16 bits */
	CHECK_EQ_INT((uint8_t)bms_sum(ff, sizeof(ff)), (uint8_t)(300 * 255));
}

static void test_skip(void)
{
	const uint8_t g[] = { 0x01, 0x55, 0x02, 0xAA, 0x03 };
	const uint8_t both[] = { 0x55, 0xAA };
	CHECK_EQ_INT(bms_scan_skip(g, sizeof(g), both, 2), 1);
	CHECK_EQ_INT(bms_scan_skip(g + 1, sizeof(g) - 1, both, 2), 2); /* never buf[0] itself */
	CHECK_EQ_INT(bms_scan_skip(g, sizeof(g), both + 1, 1), 3);
	CHECK_EQ_INT(bms_scan_skip(g + 4, 1, both, 2), 1);
	CHECK_EQ_INT(bms_scan_skip(g, sizeof(g), both, 0), sizeof(g));
}

static void test_start(void)
{
	enum bms_scan r = BMS_SCAN_FRAME;
	size_t n = 99;
	const uint8_t a[] = { 0xAA, 0x01 }, g[] = { 0x00, 0x01, 0xAA, 0x02 }, none[] = { 1, 2, 3 };
	CHECK(!bms_scan_start(a, 0, 0xAA, &r, &n));
	CHECK_EQ_INT(r, BMS_SCAN_NEED);
	CHECK_EQ_INT(n, 99); /* no length with NEED */
	CHECK(bms_scan_start(a, sizeof(a), 0xAA, &r, &n));
	CHECK(bms_scan_start(a, 1, 0xAA, &r, &n));
	CHECK(!bms_scan_start(g, sizeof(g), 0xAA, &r, &n));
	CHECK_EQ_INT(r, BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 2);
	CHECK(!bms_scan_start(none, sizeof(none), 0xAA, &r, &n));
	CHECK_EQ_INT(r, BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 3);
	CHECK(!bms_scan_start(g, 1, 0xAA, &r, &n));
	CHECK_EQ_INT(n, 1);
}

/* ---- a toy driver's framer on the shared start, as a driver writes it:
 * AA, length L (at most 8), L bytes, their 8-bit sum. */
#define TOY_SOF 0xAA
#define TOY_MAX 8

static enum bms_scan toy_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	(void)poll;
	if (!bms_scan_start(buf, len, TOY_SOF, &r, n))
		return r;
	if (len > 1 && buf[1] > TOY_MAX) {
		*n = 1; /* overlong: no frame of ours */
		return BMS_SCAN_SKIP;
	}
	if (len < 2 || len < (size_t)buf[1] + 3)
		return BMS_SCAN_NEED;
	size_t fl = (size_t)buf[1] + 3;
	if ((uint8_t)bms_sum(buf + 2, fl - 3) != buf[fl - 1]) {
		*n = 1;
		return BMS_SCAN_BADSUM;
	}
	*n = fl;
	return BMS_SCAN_FRAME;
}

static const struct bms_driver toy = { .name = "toy", .scan = toy_scan };

struct got {
	int n;
	uint8_t first[4];
};

static enum bms_frame_next got_one(void *ctx, const uint8_t *f, size_t len)
{
	struct got *g = ctx;
	if (g->n < 4)
		g->first[g->n] = len > 2 ? f[2] : 0;
	g->n++;
	return BMS_FRAME_MORE;
}

/* garbage (with no AA), AA 02 10 20 30 (good), AA 09 ... (overlong), AA 01
 * 05 06 (bad sum), 77, AA 03 01 02 03 06 (good), AA 02 (short: waits) */
static const uint8_t stream[] = {
	0x00, 0x55, 0x13, 0xFF, 0xAA, 0x02, 0x10, 0x20, 0x30, 0xAA, 0x09, 0x01, 0x02, 0xAA, 0x01, 0x05,
	0x06, 0x77, 0xAA, 0x03, 0x01, 0x02, 0x03, 0x06, 0xAA, 0x02,
};

static void check_stream(const struct got *g, const struct bms_frame_counts *c, const struct bms_rx *rx)
{
	CHECK_EQ_INT(g->n, 2);
	CHECK_EQ_INT(g->first[0], 0x10);
	CHECK_EQ_INT(g->first[1], 0x01);
	CHECK_EQ_INT(c->frames, 2);
	CHECK_EQ_INT(c->badsum, 1);
	CHECK_EQ_INT(c->bad_scan, 0);
	CHECK_EQ_INT(rx->len, 2); /* the short frame's start, kept */
	CHECK(rx->buf[0] == 0xAA && rx->buf[1] == 0x02);
}

static void test_toy_stream(void)
{
	static struct bms_rx rx;
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	/* whole */
	struct got g = { 0 };
	struct bms_frame_counts c = { 0 };
	bms_rx_clear(&rx);
	bms_rx_feed(&rx, stream, sizeof(stream));
	bms_frames(&toy, &poll, &rx, got_one, &g, &c);
	check_stream(&g, &c, &rx);
	/* split in two at every place, and fed a byte at a time */
	for (size_t cut = 0; cut <= sizeof(stream); cut++) {
		struct got g2 = { 0 };
		struct bms_frame_counts c2 = { 0 };
		bms_rx_clear(&rx);
		bms_rx_feed(&rx, stream, cut);
		bms_frames(&toy, &poll, &rx, got_one, &g2, &c2);
		bms_rx_feed(&rx, stream + cut, sizeof(stream) - cut);
		bms_frames(&toy, &poll, &rx, got_one, &g2, &c2);
		check_stream(&g2, &c2, &rx);
	}
	struct got g3 = { 0 };
	struct bms_frame_counts c3 = { 0 };
	bms_rx_clear(&rx);
	for (size_t i = 0; i < sizeof(stream); i++) {
		bms_rx_feed(&rx, stream + i, 1);
		bms_frames(&toy, &poll, &rx, got_one, &g3, &c3);
	}
	check_stream(&g3, &c3, &rx);
}

static void test_finish_at(void)
{
	struct bms_poll poll;
	bms_poll_begin(&poll, 1, 0, false);
	poll.snap.present = BMS_HAS_VOLTAGE | BMS_HAS_CELLS;
	poll.snap.voltage = 13.2f;
	poll.snap.ncells = 4;
	poll.snap.balance = 0xFF;
	poll.step = 2;
	CHECK_EQ_INT(bms_finish_at(&poll, 3), BMS_E_INVALID); /* not at the end */
	poll.step = 3;
	CHECK_EQ_INT(bms_finish_at(&poll, 3), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0x0F); /* bms_check_pack()'s */
	poll.snap.voltage = 0.0f;
	CHECK_EQ_INT(bms_finish_at(&poll, 3), BMS_E_INVALID); /* all-zero answers are no data */
}

static void test_uuid(void)
{
	static const struct bms_gatt g = BMS_GATT16("ffe0", "ffe1", "ffe2");
	CHECK_STR(BMS_UUID16("ff00"), "0000ff00-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g.service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g.notify, "0000ffe1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g.write, "0000ffe2-0000-1000-8000-00805f9b34fb");
	CHECK(g.write_service == NULL);
}

/* bms_scan_sle(): start bytes 3A / 3B, the length at 3, len + 8 bytes
 * closed by 0D 0A (Basen's shape) */
static void test_sle(void)
{
	static const uint8_t sof[] = { 0x3A, 0x3B }, eol[] = { 0x0D, 0x0A };
	const struct bms_sle f = { sof, 2, 3, 8, eol, 2 };
	const uint8_t ok[] = { 0x3B, 0x16, 0x2A, 0x01, 0x00, 0x41, 0x00, 0x0D, 0x0A, 0x3A };
	const uint8_t bad[] = { 0x3A, 0x16, 0x2A, 0x01, 0x00, 0x41, 0x00, 0x0D, 0x0B };
	const uint8_t junk[] = { 0x00, 0x7B, 0x3B, 0x16 };
	size_t n = 99;
	CHECK_EQ_INT(bms_scan_sle(&f, ok, 0, &n), BMS_SCAN_NEED);
	for (size_t k = 1; k < 9; k++)
		CHECK_EQ_INT(bms_scan_sle(&f, ok, k, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(n, 99);
	CHECK_EQ_INT(bms_scan_sle(&f, ok, sizeof(ok), &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, 9);
	CHECK_EQ_INT(bms_scan_sle(&f, bad, sizeof(bad), &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(bms_scan_sle(&f, junk, sizeof(junk), &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(bms_scan_sle(&f, junk, 2, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 2);
}

/* bms_scan_lenword(): a 6-byte header, the data length big-endian at 4
 * (at most 16), a header sound when byte 1 is 0x03; the frame len + 8. */
static bool lw_head_ok(const uint8_t *head)
{
	return head[1] == 0x03;
}

static void test_lenword(void)
{
	const struct bms_lenword f = { 6, 4, 16, 8, lw_head_ok };
	const uint8_t ok[] = { 0x7E, 0x03, 0, 0, 0x00, 0x02, 0xA1, 0xA2, 1, 2, 3, 4, 0xEE };
	const uint8_t longer[] = { 0x7E, 0x03, 0, 0, 0x00, 0x11 }, wrong[] = { 0x7E, 0x04, 0, 0, 0x00, 0x02 };
	enum bms_scan r = BMS_SCAN_FRAME;
	size_t n = 99, want = 0;
	for (size_t k = 0; k < 10; k++) {
		CHECK(!bms_scan_lenword(&f, ok, k, &want, &r, &n));
		CHECK_EQ_INT(r, BMS_SCAN_NEED);
	}
	CHECK_EQ_INT(n, 99);
	CHECK(bms_scan_lenword(&f, ok, 10, &want, &r, &n));
	CHECK_EQ_INT(want, 10);
	CHECK(bms_scan_lenword(&f, ok, sizeof(ok), &want, &r, &n)); /* the next frame's bytes behind it */
	CHECK_EQ_INT(want, 10);
	CHECK(!bms_scan_lenword(&f, longer, sizeof(longer), &want, &r, &n));
	CHECK_EQ_INT(r, BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	n = 99;
	CHECK(!bms_scan_lenword(&f, wrong, sizeof(wrong), &want, &r, &n));
	CHECK_EQ_INT(r, BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
}

/* bms_req_open(): zeroed, the head, nothing written without the room */
static void test_req_open(void)
{
	static const uint8_t head[] = { 0xAA, 0x55 };
	uint8_t out[8];
	memset(out, 0x5A, sizeof(out));
	CHECK_EQ_INT(bms_req_open(out, 5, 6, head, sizeof(head)), BMS_E_NOSPACE);
	CHECK_EQ_INT(out[0], 0x5A);
	CHECK_EQ_INT(bms_req_open(out, sizeof(out), 1, head, sizeof(head)), BMS_E_NOSPACE);
	CHECK_EQ_INT(bms_req_open(out, sizeof(out), 6, head, sizeof(head)), BMS_OK);
	CHECK(memcmp(out, (const uint8_t[]){ 0xAA, 0x55, 0, 0, 0, 0, 0x5A, 0x5A }, 8) == 0);
}

int main(void)
{
	test_hexval();
	test_hexn();
	test_put_hex();
	test_numbers();
	test_skip();
	test_start();
	test_sle();
	test_lenword();
	test_req_open();
	test_toy_stream();
	test_finish_at();
	test_uuid();
	return check_report();
}
