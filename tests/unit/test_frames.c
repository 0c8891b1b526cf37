/* SPDX-License-Identifier: MIT */
/* tests/unit/test_frames.c - the one framing loop (bms/base/frames.c,
 * bms_frames() and bms_frames_buf()) with a toy framer: garbage skipped,
 * a bad checksum counted, a frame split over reads, the framer bugs (a
 * length of 0 or beyond the bytes, a result scan() may not give) counted
 * with one byte dropped and the frame after them still found, a stop after
 * a frame, a take() that empties the buffer. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../bms/bms.h"
#include "check.h"

/* The toy protocol: AA, length L, L bytes, their sum (8 bit).  Its framer's
 * bugs on demand: BB gives a FRAME of 0 bytes, BC a SKIP beyond the buffer,
 * BD a result that is no enum bms_scan. */
static enum bms_scan toy_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	switch (buf[0]) {
	case 0xBB:
		*n = 0;
		return BMS_SCAN_FRAME;
	case 0xBC:
		*n = len + 5;
		return BMS_SCAN_SKIP;
	case 0xBD:
		*n = 1;
		return (enum bms_scan)7;
	case 0xAA:
		break;
	default:
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < 2 || len < (size_t)buf[1] + 3)
		return BMS_SCAN_NEED;
	size_t fl = (size_t)buf[1] + 3;
	uint8_t sum = 0;
	for (size_t i = 2; i < fl - 1; i++)
		sum = (uint8_t)(sum + buf[i]);
	*n = fl;
	return sum == buf[fl - 1] ? BMS_SCAN_FRAME : BMS_SCAN_BADSUM;
}

static const struct bms_driver toy = {
	.name = "toy",
	.scan = toy_scan,
};

/* What take() saw; it stops after frame `stop_at` (1-based; 0 = never),
 * and empties the buffer at frame `clear_at`. */
struct seen {
	int n;
	uint8_t first[8]; /* the first payload byte of each frame */
	size_t len[8];
	size_t at[8];     /* offset of each frame in `base` */
	const uint8_t *base;
	int stop_at, clear_at;
	struct bms_rx *rx;
};

static enum bms_frame_next take(void *ctx, const uint8_t *f, size_t len)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		s->first[s->n] = len > 2 ? f[2] : 0;
		s->len[s->n] = len;
		s->at[s->n] = s->base ? (size_t)(f - s->base) : 0;
	}
	s->n++;
	if (s->n == s->clear_at)
		bms_rx_clear(s->rx);
	return s->n == s->stop_at ? BMS_FRAME_STOP : BMS_FRAME_MORE;
}

static struct bms_rx rx;
static struct bms_poll toy_poll;

/* A fresh rx holding p[0..n). */
static void fill(const uint8_t *p, size_t n)
{
	bms_rx_clear(&rx);
	bms_rx_feed(&rx, p, n);
}

static void test_garbage(void)
{
	static const uint8_t in[] = { 0x01, 0x02, 0xFF, 0xAA, 0x02, 0x10, 0x20, 0x30 };
	struct seen s = { 0 };
	struct bms_frame_counts c = { 0 };
	fill(in, sizeof(in));
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.len[0], 5);
	CHECK_EQ_INT(s.first[0], 0x10);
	CHECK_EQ_INT(c.frames, 1);
	CHECK_EQ_INT(c.skipped, 3);
	CHECK_EQ_INT(c.badsum, 0);
	CHECK_EQ_INT(c.bad_scan, 0);
	CHECK_EQ_INT(rx.len, 0);
}

static void test_badsum(void)
{
	/* a whole frame with a bad sum, then a good one; a partial one stays */
	static const uint8_t in[] = { 0xAA, 0x01, 0x05, 0x06, 0xAA, 0x01, 0x07, 0x07, 0xAA, 0x03 };
	struct seen s = { 0 };
	struct bms_frame_counts c = { 0 };
	fill(in, sizeof(in));
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.first[0], 0x07);
	CHECK_EQ_INT(c.badsum, 1);
	CHECK_EQ_INT(c.skipped, 4);
	CHECK_EQ_INT(rx.len, 2); /* AA 03: the start of the next frame, kept */
	CHECK(rx.buf[0] == 0xAA && rx.buf[1] == 0x03);
	/* counts add up over calls */
	static const uint8_t rest[] = { 0x01, 0x01, 0x01, 0x03 };
	bms_rx_feed(&rx, rest, sizeof(rest));
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(c.frames, 2);
	CHECK_EQ_INT(c.badsum, 1);
	CHECK_EQ_INT(rx.len, 0);
}

static void test_split(void)
{
	/* garbage and a frame, one byte a read: the frame once, at its last byte */
	static const uint8_t in[] = { 0x00, 0xAA, 0x04, 0x01, 0x02, 0x03, 0x04, 0x0A };
	struct seen s = { 0 };
	struct bms_frame_counts c = { 0 };
	bms_rx_clear(&rx);
	for (size_t i = 0; i < sizeof(in); i++) {
		bms_rx_feed(&rx, in + i, 1);
		CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
		CHECK_EQ_INT(s.n, i + 1 == sizeof(in) ? 1 : 0);
	}
	CHECK_EQ_INT(s.len[0], 7);
	CHECK_EQ_INT(c.skipped, 1);
	CHECK_EQ_INT(c.badsum + c.bad_scan, 0);
	CHECK_EQ_INT(rx.len, 0);
}

/* A framer bug before a good frame: counted, one byte dropped, the frame found. */
static void framer_bug(uint8_t bug)
{
	const uint8_t in[] = { bug, 0xAA, 0x01, 0x09, 0x09 };
	struct seen s = { 0 };
	struct bms_frame_counts c = { 0 };
	fill(in, sizeof(in));
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(c.bad_scan, 1);
	CHECK_EQ_INT(c.skipped, 1);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.first[0], 0x09);
	CHECK_EQ_INT(rx.len, 0);
}

static void test_framer_bugs(void)
{
	framer_bug(0xBB); /* a frame of 0 bytes */
	framer_bug(0xBC); /* a skip beyond the buffer */
	framer_bug(0xBD); /* no enum bms_scan */
	/* a buffer of nothing but zero-length frames ends, empty */
	static const uint8_t bugs[] = { 0xBB, 0xBB, 0xBB };
	struct seen s = { 0 };
	struct bms_frame_counts c = { 0 };
	fill(bugs, sizeof(bugs));
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(c.bad_scan, 3);
	CHECK_EQ_INT(s.n, 0);
	CHECK_EQ_INT(rx.len, 0);
}

static void test_stop(void)
{
	/* three frames: take() stops after the first; what is left waits */
	static const uint8_t in[] = { 0xAA, 0x01, 0x01, 0x01, 0xAA, 0x01, 0x02, 0x02, 0xAA, 0x01, 0x03, 0x03 };
	struct seen s = { .stop_at = 1 };
	struct bms_frame_counts c = { 0 };
	fill(in, sizeof(in));
	CHECK(bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(c.frames, 1);
	CHECK_EQ_INT(rx.len, 8);
	CHECK(memcmp(rx.buf, in + 4, 8) == 0);
	/* the next call goes on with them (NULL counts: not counted) */
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, NULL));
	CHECK_EQ_INT(s.n, 3);
	CHECK_EQ_INT(s.first[1], 0x02);
	CHECK_EQ_INT(s.first[2], 0x03);
	CHECK_EQ_INT(rx.len, 0);
}

static void test_clear(void)
{
	/* take() empties rx at the first frame: the rest is gone, the loop ends */
	static const uint8_t in[] = { 0xAA, 0x01, 0x01, 0x01, 0xAA, 0x01, 0x02, 0x02 };
	struct seen s = { .clear_at = 1, .rx = &rx };
	struct bms_frame_counts c = { 0 };
	fill(in, sizeof(in));
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(rx.len, 0);
	/* new bytes after it are framed from their start */
	bms_rx_feed(&rx, in + 4, 4);
	CHECK(!bms_frames(&toy, &toy_poll, &rx, take, &s, &c));
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(s.first[1], 0x02);
}

static void test_buf(void)
{
	/* the stateless form: the buffer stays, offsets are the buffer's */
	const uint8_t in[] = { 0x55, 0xAA, 0x01, 0x05, 0x06, 0xBB, 0xAA, 0x01, 0x07, 0x07, 0xAA, 0x01, 0x08, 0x08, 0xAA };
	uint8_t copy[sizeof(in)];
	memcpy(copy, in, sizeof(in));
	struct seen s = { .base = in, .stop_at = 1 };
	struct bms_frame_counts c = { 0 };
	CHECK(bms_frames_buf(&toy, &toy_poll, in, sizeof(in), take, &s, &c));
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.at[0], 6);
	CHECK_EQ_INT(c.badsum, 1);
	CHECK_EQ_INT(c.bad_scan, 1);
	CHECK_EQ_INT(c.skipped, 1 + 4 + 1);
	CHECK(memcmp(copy, in, sizeof(in)) == 0);
	/* again, to the end: both frames, the trailing AA waits */
	struct seen all = { .base = in };
	memset(&c, 0, sizeof(c));
	CHECK(!bms_frames_buf(&toy, &toy_poll, in, sizeof(in), take, &all, &c));
	CHECK_EQ_INT(all.n, 2);
	CHECK_EQ_INT(all.at[1], 10);
	CHECK_EQ_INT(c.frames, 2);
	/* nothing at all */
	CHECK(!bms_frames_buf(&toy, &toy_poll, in, 0, take, &all, NULL));
	CHECK_EQ_INT(all.n, 2);
}

int main(void)
{
	test_garbage();
	test_badsum();
	test_split();
	test_framer_bugs();
	test_stop();
	test_clear();
	test_buf();
	return check_report();
}
