/* SPDX-License-Identifier: MIT */
/* tests/unit/test_rtuframe.c - Modbus RTU framing of the server
 * (gateway/modbus/rtuframe.c) with fake times: the timings, the answer's
 * ADU, a request in every chunking at 9600 and 115200 bit/s, gaps inside
 * a frame (under and over t3.5, with and without rejoining), bad CRC,
 * short pieces, overruns, back-to-back frames at exactly t3.5, and the
 * deadline the loop sets its timer to. */
#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../gateway/modbus/rtuframe.h"
#include "check.h"

/* Read holding register 0, one register, of server 1: the CRC 0x0A84 is
 * sent 84 0A (a classic example of the CRC, low byte first). */
static const uint8_t req1[8] = { 0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84, 0x0A };

static void test_timing(void)
{
	CHECK_NEAR(rtu_char_time(9600), 11.0 / 9600, 1e-15);
	CHECK_NEAR(rtu_t35(9600), 0.00401041666667, 1e-12);   /* 38.5 bits */
	CHECK_NEAR(rtu_t15(9600), 0.00171875, 1e-12);
	CHECK_NEAR(rtu_t35(19200), 0.00200520833333, 1e-12);  /* still 3.5 characters */
	CHECK_NEAR(rtu_t15(19200), 0.000859375, 1e-12);
	CHECK_NEAR(rtu_t35(19201), 0.00175, 1e-15);           /* fixed above 19200 */
	CHECK_NEAR(rtu_t35(115200), 0.00175, 1e-15);
	CHECK_NEAR(rtu_t15(115200), 0.00075, 1e-15);
	CHECK_NEAR(rtu_t35(1200), 3.5 * 11 / 1200.0, 1e-15);
	CHECK_NEAR(rtu_char_time(0), 0, 0);
	struct rtu_rx rx;
	CHECK_EQ_INT(rtu_rx_init(&rx, 0, 0), -1);
	CHECK_EQ_INT(rtu_rx_init(&rx, 9600, 0), 0);
}

static void test_adu(void)
{
	uint8_t out[RTU_ADU_MAX + 4], pdu[RTU_PDU_MAX + 1];
	CHECK_EQ_INT(rtu_adu(1, req1 + 1, 5, out, sizeof(out)), 8);
	CHECK(memcmp(out, req1, 8) == 0);
	/* Read Exception Status of server 2: 02 07 41 12 */
	uint8_t fc7 = 0x07;
	CHECK_EQ_INT(rtu_adu(2, &fc7, 1, out, sizeof(out)), 4);
	CHECK_EQ_INT(out[2], 0x41);
	CHECK_EQ_INT(out[3], 0x12);
	memset(pdu, 0x55, sizeof(pdu));
	CHECK_EQ_INT(rtu_adu(9, pdu, RTU_PDU_MAX, out, sizeof(out)), RTU_ADU_MAX);
	CHECK(bms_crc16_modbus_ok(out, RTU_ADU_MAX));
	CHECK_EQ_INT(rtu_adu(9, pdu, RTU_PDU_MAX + 1, out, sizeof(out)), -1);
	CHECK_EQ_INT(rtu_adu(9, pdu, 0, out, sizeof(out)), -1);
	CHECK_EQ_INT(rtu_adu(9, pdu, 5, out, 7), -1);
	CHECK_EQ_INT(rtu_adu(9, pdu, 5, out, 8), 8);
}

/* An ADU with a good CRC: addr, then the PDU bytes. */
static size_t make(uint8_t *out, uint8_t addr, const char *pdu_hex)
{
	uint8_t pdu[RTU_PDU_MAX];
	int n = check_hex(pdu_hex, pdu, sizeof(pdu));
	int len = rtu_adu(addr, pdu, (size_t)n, out, RTU_ADU_MAX);
	return len > 0 ? (size_t)len : 0;
}

static bool stats_are(const struct rtu_rx *rx, unsigned long frames, unsigned long bad, unsigned long shorts,
		      unsigned long overruns, unsigned long rejoined)
{
	const struct rtu_stats *s = &rx->st;
	bool ok = s->frames == frames && s->bad_crc == bad && s->short_frames == shorts &&
		  s->overruns == overruns && s->rejoined == rejoined;
	if (!ok)
		fprintf(stderr, "stats: frames %lu bad %lu short %lu overruns %lu rejoined %lu\n", s->frames,
			s->bad_crc, s->short_frames, s->overruns, s->rejoined);
	return ok;
}

/* The frame taken equals adu[0..n). */
static bool took(struct rtu_rx *rx, const uint8_t *adu, size_t n)
{
	struct rtu_frame f;
	if (!rtu_rx_take(rx, &f))
		return false;
	return f.addr == adu[0] && f.pdu_len == n - 3 && memcmp(f.pdu, adu + 1, n - 3) == 0;
}

/* Feed the frame f[0..n) cut where bit i of `cuts` is set (after byte
 * i + 1), each chunk arriving when its last byte is off the wire
 * (start + bytes x tchar), plus `late` seconds for every chunk. */
static double feed_cut(struct rtu_rx *rx, const uint8_t *f, size_t n, unsigned cuts, double start, double late)
{
	size_t from = 0;
	double t = start;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && !(i < 32 && (cuts & (1u << i))))
			continue;
		t = start + (double)(i + 1) * rx->tchar + late;
		size_t used = rtu_rx_feed(rx, f + from, i + 1 - from, t);
		if (used != i + 1 - from)
			check_failed++;
		from = i + 1;
	}
	return t;
}

/* Every way of cutting the 8-byte request into chunks, at 9600 and 115200. */
static void test_every_chunking(void)
{
	static const int bauds[] = { 9600, 115200 };
	for (size_t b = 0; b < 2; b++) {
		int bad = 0;
		for (unsigned cuts = 0; cuts < 128; cuts++) {
			struct rtu_rx rx;
			rtu_rx_init(&rx, bauds[b], 0);
			double last = feed_cut(&rx, req1, 8, cuts, 10.0, 0);
			double when = 0;
			bool ok = rtu_rx_deadline(&rx, &when) && when == last + rtu_t35(bauds[b]);
			/* not yet: a moment before t3.5 of silence */
			rtu_rx_poll(&rx, last + rtu_t35(bauds[b]) - 1e-6);
			struct rtu_frame f;
			ok = ok && !rtu_rx_take(&rx, &f);
			rtu_rx_poll(&rx, when);
			ok = ok && took(&rx, req1, 8) && stats_are(&rx, 1, 0, 0, 0, 0) && !rtu_rx_deadline(&rx, &when);
			bad += !ok;
		}
		CHECK_EQ_INT(bad, 0);
	}
	/* a USB adapter: the whole frame in one burst 16 ms late */
	struct rtu_rx rx;
	rtu_rx_init(&rx, 9600, 0);
	double last = feed_cut(&rx, req1, 8, 0, 1.0, 0.016);
	rtu_rx_poll(&rx, last + rtu_t35(9600));
	CHECK(took(&rx, req1, 8));
	/* the frame ends at the next chunk's arrival, without a poll */
	rtu_rx_init(&rx, 115200, 0);
	last = feed_cut(&rx, req1, 8, 0x7F, 0, 0); /* byte by byte */
	uint8_t next[8];
	size_t nn = make(next, 2, "03 00 10 00 02");
	CHECK_EQ_INT(rtu_rx_feed(&rx, next, nn, last + 0.5), nn);
	CHECK(took(&rx, req1, 8));
	rtu_rx_poll(&rx, last + 0.5 + rtu_t35(115200));
	CHECK(took(&rx, next, nn));
	CHECK(stats_are(&rx, 2, 0, 0, 0, 0));
}

/* Gaps inside a frame: 3 bytes, a pause, the other 5. */
static void test_gaps(void)
{
	struct rtu_rx rx;
	double tc = rtu_char_time(9600), t35 = rtu_t35(9600), when;
	/* 2 characters of silence (more than t1.5, less than t3.5): one frame */
	rtu_rx_init(&rx, 9600, 0);
	CHECK_EQ_INT(rtu_rx_feed(&rx, req1, 3, 3 * tc), 3);
	CHECK_EQ_INT(rtu_rx_feed(&rx, req1 + 3, 5, (3 + 2 + 5) * tc), 5);
	rtu_rx_poll(&rx, (3 + 2 + 5) * tc + t35);
	CHECK(took(&rx, req1, 8));
	CHECK(stats_are(&rx, 1, 0, 0, 0, 0));
	/* 5 characters: two pieces, both rejected (3 bytes short, 5 bad) */
	rtu_rx_init(&rx, 9600, 0);
	rtu_rx_feed(&rx, req1, 3, 3 * tc);
	rtu_rx_feed(&rx, req1 + 3, 5, (3 + 5 + 5) * tc);
	rtu_rx_poll(&rx, 1.0);
	struct rtu_frame f;
	CHECK(!rtu_rx_take(&rx, &f));
	CHECK(stats_are(&rx, 0, 1, 1, 0, 0));
	/* the same with rejoining: the pieces make the frame */
	rtu_rx_init(&rx, 9600, 0.05);
	rtu_rx_feed(&rx, req1, 3, 3 * tc);
	rtu_rx_poll(&rx, 3 * tc + t35);
	CHECK(!rtu_rx_take(&rx, &f));
	CHECK(rtu_rx_deadline(&rx, &when));
	CHECK_NEAR(when, 3 * tc + 0.05, 1e-12); /* the fragment is kept until then */
	rtu_rx_feed(&rx, req1 + 3, 5, 0.016 + 8 * tc); /* 16 ms later (an FTDI latency timer) */
	rtu_rx_poll(&rx, 0.016 + 8 * tc + t35);
	CHECK(took(&rx, req1, 8));
	CHECK(stats_are(&rx, 1, 0, 0, 0, 1));
	CHECK(!rtu_rx_deadline(&rx, &when));
	/* the second piece after the fragment expired: both rejected */
	rtu_rx_init(&rx, 9600, 0.05);
	rtu_rx_feed(&rx, req1, 3, 3 * tc);
	rtu_rx_poll(&rx, 3 * tc + t35);
	rtu_rx_poll(&rx, 3 * tc + 0.05);     /* expired: counted */
	CHECK(stats_are(&rx, 0, 0, 1, 0, 0));
	CHECK(!rtu_rx_deadline(&rx, &when));
	rtu_rx_feed(&rx, req1 + 3, 5, 0.2);
	rtu_rx_poll(&rx, 0.2 + t35);
	rtu_rx_poll(&rx, 0.2 + 0.05);
	CHECK(!rtu_rx_take(&rx, &f));
	CHECK(stats_are(&rx, 0, 1, 1, 0, 0));
	/* expiry checked when the next piece ends, if no poll came between */
	rtu_rx_init(&rx, 9600, 0.05);
	rtu_rx_feed(&rx, req1, 3, 3 * tc);
	rtu_rx_feed(&rx, req1 + 3, 5, 0.3);  /* ends the first piece (kept) ... */
	rtu_rx_poll(&rx, 0.3 + t35);         /* ... too old to be joined to this one */
	CHECK(!rtu_rx_take(&rx, &f));
	CHECK(stats_are(&rx, 0, 0, 1, 0, 0)); /* the second piece is kept in turn */
	rtu_rx_poll(&rx, 0.4);
	CHECK(stats_are(&rx, 0, 1, 1, 0, 0));
}

/* Three pieces, garbage before a split frame, a valid frame after garbage. */
static void test_rejoin(void)
{
	struct rtu_rx rx;
	double t35 = rtu_t35(9600);
	struct rtu_frame f;
	/* a frame in three pieces */
	rtu_rx_init(&rx, 9600, 0.05);
	rtu_rx_feed(&rx, req1, 2, 0.010);
	rtu_rx_feed(&rx, req1 + 2, 3, 0.020);
	rtu_rx_feed(&rx, req1 + 5, 3, 0.030);
	rtu_rx_poll(&rx, 0.030 + t35);
	CHECK(took(&rx, req1, 8));
	CHECK(stats_are(&rx, 1, 0, 0, 0, 1));
	/* garbage, then a frame in two pieces: the shortest join is taken,
	 * the garbage counted */
	static const uint8_t junk[5] = { 0xFF, 0x00, 0xFF, 0x00, 0x13 };
	rtu_rx_init(&rx, 9600, 0.05);
	rtu_rx_feed(&rx, junk, 5, 0.010);
	rtu_rx_feed(&rx, req1, 4, 0.020);
	rtu_rx_feed(&rx, req1 + 4, 4, 0.030);
	rtu_rx_poll(&rx, 0.030 + t35);
	CHECK(took(&rx, req1, 8));
	CHECK(stats_are(&rx, 1, 1, 0, 0, 1));
	/* garbage, then a whole frame: the frame alone */
	rtu_rx_init(&rx, 9600, 0.05);
	rtu_rx_feed(&rx, junk, 2, 0.010);
	rtu_rx_feed(&rx, req1, 8, 0.030);
	rtu_rx_poll(&rx, 0.030 + t35);
	CHECK(took(&rx, req1, 8));
	CHECK(stats_are(&rx, 1, 0, 1, 0, 0));
	CHECK(!rtu_rx_take(&rx, &f));
	/* more fragments than kept: the oldest go first */
	rtu_rx_init(&rx, 9600, 0.05);
	for (int i = 0; i < RTU_FRAGS + 2; i++)
		rtu_rx_feed(&rx, junk, 1, 0.010 * (i + 1));
	CHECK_EQ_INT(rx.st.short_frames, 1); /* the ninth piece made room */
	rtu_rx_poll(&rx, 1.0);
	CHECK(stats_are(&rx, 0, 0, RTU_FRAGS + 2, 0, 0));
}

static void test_bad_crc_short_overrun(void)
{
	struct rtu_rx rx;
	double t35 = rtu_t35(19200);
	uint8_t bad[8];
	memcpy(bad, req1, 8);
	bad[5] ^= 0x04;
	struct rtu_frame f;
	rtu_rx_init(&rx, 19200, 0);
	rtu_rx_feed(&rx, bad, 8, 1.0);
	rtu_rx_poll(&rx, 1.0 + t35);
	CHECK(!rtu_rx_take(&rx, &f));
	CHECK(stats_are(&rx, 0, 1, 0, 0, 0));
	/* with rejoining it waits, then counts */
	rtu_rx_init(&rx, 19200, 0.05);
	rtu_rx_feed(&rx, bad, 8, 1.0);
	rtu_rx_poll(&rx, 1.0 + t35);
	CHECK(stats_are(&rx, 0, 0, 0, 0, 0));
	rtu_rx_poll(&rx, 1.05);
	CHECK(stats_are(&rx, 0, 1, 0, 0, 0));
	/* a piece of 3 bytes, even with a "CRC" */
	rtu_rx_init(&rx, 19200, 0);
	uint8_t three[3];
	CHECK_EQ_INT(rtu_adu(1, (const uint8_t[]){ 0 }, 0, three, 3), -1);
	uint16_t c = bms_crc16_modbus(req1, 1);
	three[0] = req1[0];
	three[1] = (uint8_t)c;
	three[2] = (uint8_t)(c >> 8);
	rtu_rx_feed(&rx, three, 3, 1.0);
	rtu_rx_poll(&rx, 2.0);
	CHECK(!rtu_rx_take(&rx, &f));
	CHECK(stats_are(&rx, 0, 0, 1, 0, 0));
	/* the longest frame, then one byte too many */
	uint8_t big[RTU_ADU_MAX + 1], pdu[RTU_PDU_MAX];
	for (int i = 0; i < RTU_PDU_MAX; i++)
		pdu[i] = (uint8_t)i;
	pdu[0] = 0x10;
	CHECK_EQ_INT(rtu_adu(7, pdu, RTU_PDU_MAX, big, sizeof(big)), RTU_ADU_MAX);
	rtu_rx_init(&rx, 19200, 0);
	feed_cut(&rx, big, RTU_ADU_MAX, 0x5555, 3.0, 0);
	rtu_rx_poll(&rx, 4.0);
	CHECK(rtu_rx_take(&rx, &f));
	CHECK_EQ_INT(f.addr, 7);
	CHECK_EQ_INT(f.pdu_len, RTU_PDU_MAX);
	CHECK(memcmp(f.pdu, pdu, RTU_PDU_MAX) == 0);
	big[RTU_ADU_MAX] = 0;
	rtu_rx_feed(&rx, big, RTU_ADU_MAX, 5.0);
	rtu_rx_feed(&rx, big + RTU_ADU_MAX, 1, 5.0 + rtu_char_time(19200));
	rtu_rx_feed(&rx, req1, 8, 5.001); /* still no silence: dropped too */
	double when;
	CHECK(rtu_rx_deadline(&rx, &when));
	CHECK_NEAR(when, 5.001 + t35, 1e-12);
	rtu_rx_poll(&rx, 5.001 + t35);
	CHECK(!rtu_rx_take(&rx, &f));
	CHECK(stats_are(&rx, 1, 0, 0, 1, 0));
	/* and the line works again after the silence */
	rtu_rx_feed(&rx, req1, 8, 6.0);
	rtu_rx_poll(&rx, 6.0 + t35);
	CHECK(took(&rx, req1, 8));
	/* a broadcast is a frame like any (the server does not answer it) */
	uint8_t bc[8];
	size_t bn = make(bc, RTU_BROADCAST, "06 00 11 00 01");
	rtu_rx_feed(&rx, bc, bn, 7.0);
	rtu_rx_poll(&rx, 7.0 + t35);
	CHECK(rtu_rx_take(&rx, &f));
	CHECK_EQ_INT(f.addr, 0);
	CHECK_EQ_INT(f.pdu_len, 5);
}

/* Frames back to back, separated by exactly t3.5 (one frame each) or by
 * a little less (one piece, rejected). */
static void test_back_to_back(void)
{
	static const int bauds[] = { 9600, 115200 };
	uint8_t a[8], b[8], c[8];
	size_t an = make(a, 1, "03 00 00 00 02"), bn = make(b, 2, "04 00 05 00 01"), cn = make(c, 3, "03 00 07 00 03");
	for (size_t k = 0; k < 2; k++) {
		double tc = rtu_char_time(bauds[k]), t35 = rtu_t35(bauds[k]);
		struct rtu_rx rx;
		rtu_rx_init(&rx, bauds[k], 0);
		/* byte by byte at wire speed */
		double ta = feed_cut(&rx, a, an, 0x7F, 0.0, 0);
		double tb = feed_cut(&rx, b, bn, 0x7F, ta + t35, 0);
		CHECK(took(&rx, a, an));
		/* b is not taken before c's silence ends it: c waits */
		double tcs = tb + t35 + cn * tc;
		CHECK_EQ_INT(rtu_rx_feed(&rx, c, cn, tcs), cn);
		CHECK(took(&rx, b, bn));
		rtu_rx_poll(&rx, tcs + t35);
		CHECK(took(&rx, c, cn));
		CHECK(stats_are(&rx, 3, 0, 0, 0, 0));
		/* a frame not taken holds the next one back */
		rtu_rx_init(&rx, bauds[k], 0);
		rtu_rx_feed(&rx, a, an, 1.0);
		rtu_rx_feed(&rx, b, bn, 1.0 + t35 + bn * tc); /* a is ready, not taken */
		double t3 = 1.0 + 2 * (t35 + bn * tc);
		CHECK_EQ_INT(rtu_rx_feed(&rx, c, cn, t3), 0);
		CHECK(took(&rx, a, an));
		CHECK_EQ_INT(rtu_rx_feed(&rx, c, cn, t3), cn);
		CHECK(took(&rx, b, bn));
		rtu_rx_poll(&rx, t3 + t35);
		CHECK(took(&rx, c, cn));
		/* 1 us less than t3.5: one piece of 16 bytes, its CRC fails */
		rtu_rx_init(&rx, bauds[k], 0);
		ta = feed_cut(&rx, a, an, 0x7F, 0.0, 0);
		feed_cut(&rx, b, bn, 0x7F, ta + t35 - 1e-6, 0);
		rtu_rx_poll(&rx, 10.0);
		struct rtu_frame f;
		CHECK(!rtu_rx_take(&rx, &f));
		CHECK(stats_are(&rx, 0, 1, 0, 0, 0));
	}
}

int main(void)
{
	test_timing();
	test_adu();
	test_every_chunking();
	test_gaps();
	test_rejoin();
	test_bad_crc_short_overrun();
	test_back_to_back();
	return check_report();
}
