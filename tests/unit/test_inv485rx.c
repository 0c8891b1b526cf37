/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv485rx.c - the RS485 request assembly of the inverter
 * outputs (gateway/inverter/inv485rx.c) with a dialect of the test's own,
 * so that nothing of Pylontech's is assumed: frames cut by any reads, a
 * garbage prefix, the bound of its buffer, a framer that cannot decide or
 * answers nonsense, a reset; the output's own answer heard back (an
 * adapter's echo) dropped, and only that.  (test_inv_pylon_rs485.c runs it
 * with Pylontech's framer.) */
#include <string.h>

#include "../../gateway/inverter/inv485rx.h"
#include "../../gateway/inverter/mbrtu.h"
#include "check.h"

/* The test's dialect: 'S' starts a frame, '\n' ends it, at most 16 bytes;
 * an 'x' in it is a bad checksum, a new 'S' cuts it short. */
#define T_MAX 16

static enum inv_scan t_scan(const uint8_t *buf, size_t len, size_t *n)
{
	*n = 0;
	if (buf[0] != 'S') {
		const uint8_t *s = memchr(buf, 'S', len);
		*n = s ? (size_t)(s - buf) : len;
		return INV_SCAN_NOISE;
	}
	bool bad = false;
	for (size_t i = 1; i < len && i < T_MAX; i++) {
		if (buf[i] == 'S') {
			*n = i;
			return INV_SCAN_BAD_FORMAT;
		}
		bad |= buf[i] == 'x';
		if (buf[i] == '\n') {
			*n = i + 1;
			return bad ? INV_SCAN_BAD_CHECKSUM : INV_SCAN_REQUEST;
		}
	}
	if (len < T_MAX)
		return INV_SCAN_MORE;
	*n = T_MAX;
	return INV_SCAN_OVERLONG;
}

/* Framers that fail their contract. */
static enum inv_scan t_undecided(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	(void)len;
	*n = 0;
	return INV_SCAN_MORE;
}

static enum inv_scan t_too_far(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	*n = len + 5;
	return INV_SCAN_REQUEST;
}

struct got {
	int n;
	char last[T_MAX + 1];
	char all[256];
};

static void got(void *arg, const uint8_t *req, size_t n)
{
	struct got *g = arg;
	size_t m = n < T_MAX ? n : T_MAX, at = strlen(g->all);
	g->n++;
	memcpy(g->last, req, m);
	g->last[m] = '\0';
	if (at + m < sizeof(g->all)) {
		memcpy(g->all + at, req, m);
		g->all[at + m] = '\0';
	}
}

static void feed(struct inv_485_rx *rx, const char *s, struct got *g)
{
	inv_485_rx_feed(rx, t_scan, (const uint8_t *)s, strlen(s), got, g);
}

#define CNT(rx, v) ((rx).count[INV_SCAN_##v])

static const char stream[] = "garbage\nSab\nSxy\nSc" "Sdef\nzzS0123456789abcdefghij\nSok\n";

/* The stream whole: every verdict, the requests in order. */
static void test_whole(void)
{
	struct inv_485_rx rx;
	struct got g = { 0 };

	inv_485_rx_init(&rx);
	feed(&rx, stream, &g);
	CHECK_EQ_INT(g.n, 3);
	CHECK_STR(g.all, "Sab\nSdef\nSok\n");
	CHECK_EQ_INT(CNT(rx, REQUEST), 3);
	CHECK_EQ_INT(CNT(rx, BAD_CHECKSUM), 1);
	CHECK_EQ_INT(CNT(rx, BAD_FORMAT), 1);
	CHECK_EQ_INT(CNT(rx, OVERLONG), 1);
	/* "garbage\n", "zz", the overlong frame's rest "fghij\n" */
	CHECK_EQ_INT(CNT(rx, NOISE), 8 + 2 + 6);
	CHECK_EQ_INT((int)rx.len, 0);
}

/* In every cut into three reads: the same requests and counters. */
static void test_cuts(void)
{
	size_t len = strlen(stream);
	int bad = 0;

	for (size_t i = 0; i <= len; i++)
		for (size_t j = i; j <= len; j++) {
			struct inv_485_rx rx;
			struct got g = { 0 };
			inv_485_rx_init(&rx);
			inv_485_rx_feed(&rx, t_scan, (const uint8_t *)stream, i, got, &g);
			inv_485_rx_feed(&rx, t_scan, (const uint8_t *)stream + i, j - i, got, &g);
			inv_485_rx_feed(&rx, t_scan, (const uint8_t *)stream + j, len - j, got, &g);
			if (g.n != 3 || strcmp(g.all, "Sab\nSdef\nSok\n") || CNT(rx, NOISE) != 16 ||
			    CNT(rx, OVERLONG) != 1 || CNT(rx, BAD_FORMAT) != 1 || CNT(rx, BAD_CHECKSUM) != 1 || rx.len)
				bad++;
		}
	CHECK_EQ_INT(bad, 0);
}

/* A partial frame waits for the next read; a reset drops it and keeps the
 * counters; the buffer stays bounded whatever comes. */
static void test_partial_and_bound(void)
{
	struct inv_485_rx rx;
	struct got g = { 0 };
	static uint8_t junk[10000];

	inv_485_rx_init(&rx);
	feed(&rx, "..Sa", &g);
	CHECK_EQ_INT(g.n, 0);
	CHECK_EQ_INT((int)rx.len, 2);
	feed(&rx, "b\n", &g);
	CHECK_EQ_INT(g.n, 1);
	CHECK_STR(g.last, "Sab\n");
	feed(&rx, "Sxy", &g);
	inv_485_rx_reset(&rx);
	feed(&rx, "z\n", &g);
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_INT(CNT(rx, NOISE), 2 + 2);
	CHECK_EQ_INT(CNT(rx, REQUEST), 1);
	memset(junk, '-', sizeof(junk));
	inv_485_rx_feed(&rx, t_scan, junk, sizeof(junk), got, &g);
	CHECK_EQ_INT(CNT(rx, NOISE), 4 + (int)sizeof(junk));
	CHECK_EQ_INT((int)rx.len, 0);
	/* a framer that never decides loses each full buffer as overlong */
	inv_485_rx_init(&rx);
	inv_485_rx_feed(&rx, t_undecided, junk, sizeof(junk), got, &g);
	CHECK_EQ_INT(CNT(rx, OVERLONG), (int)(sizeof(junk) / INV_485_RX_MAX));
	CHECK_EQ_INT((int)rx.len, (int)(sizeof(junk) % INV_485_RX_MAX));
	/* one that takes more than there is loses what there is, no request */
	inv_485_rx_init(&rx);
	g.n = 0;
	feed(&rx, "Sab\n", &g);
	inv_485_rx_feed(&rx, t_too_far, (const uint8_t *)"Sab\n", 4, got, &g);
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_INT(CNT(rx, OVERLONG), 1);
	CHECK_EQ_INT((int)rx.len, 0);
}

/* A request answered with itself (as Modbus FC 06 is): the answer told to
 * the assembly, which then drops it when it comes back. */
struct echo_ctx {
	struct inv_485_rx *rx;
	struct got g;
};

static void echo_got(void *arg, const uint8_t *req, size_t n)
{
	struct echo_ctx *e = arg;
	got(&e->g, req, n);
	inv_485_rx_sent(e->rx, req, n);
}

static void efeed(struct echo_ctx *e, const char *s)
{
	inv_485_rx_feed(e->rx, t_scan, (const uint8_t *)s, strlen(s), echo_got, e);
}

static void test_echo(void)
{
	struct inv_485_rx rx;
	struct echo_ctx e = { &rx, { 0 } };

	inv_485_rx_init(&rx);
	efeed(&e, "Sab\n");
	CHECK_EQ_INT(e.g.n, 1);
	/* its echo, whole or in pieces: dropped, counted */
	efeed(&e, "Sab\n");
	efeed(&e, "Sab\n"); /* the echo's gone: this one is the master's again */
	CHECK_EQ_INT(e.g.n, 2);
	efeed(&e, "Sa");
	efeed(&e, "b\n");
	CHECK_EQ_INT(e.g.n, 2);
	CHECK_EQ_INT((int)rx.echoes, 2);
	CHECK_EQ_INT(CNT(rx, REQUEST), 2);
	/* no echo (an adapter that does not): the next request, which starts
	 * as the answer did, is the master's: the bytes matched go to the
	 * framer after all */
	efeed(&e, "Sa");
	efeed(&e, "c\n");
	CHECK_EQ_INT(e.g.n, 3);
	CHECK_STR(e.g.last, "Sac\n");
	efeed(&e, "Sa");
	efeed(&e, "Sok\n");
	CHECK_EQ_INT(e.g.n, 4);
	CHECK_STR(e.g.last, "Sok\n");
	CHECK_EQ_INT(CNT(rx, BAD_FORMAT), 1); /* "Sa" cut short by the next 'S' */
	/* a request that came in the same read as the one answered is no echo */
	efeed(&e, "Sq\nSq\n");
	CHECK_EQ_INT(e.g.n, 6);
	efeed(&e, "Sq\n");
	CHECK_EQ_INT(e.g.n, 6);
	CHECK_EQ_INT((int)rx.echoes, 3);
	/* a reset forgets the echo expected */
	inv_485_rx_reset(&rx);
	efeed(&e, "Sok\n");
	CHECK_EQ_INT(e.g.n, 7);
	CHECK_EQ_INT((int)rx.len, 0);
}

static void t_mb_got(void *arg, const uint8_t *req, size_t n)
{
	(void)req;
	*(size_t *)arg += n;
}

/* Modbus RTU (mbrtu.c): a stray byte, then FC 23 whose answer count (2)
 * fails its CRC and whose byte 10 is no write count, with a read request
 * inside its first ten bytes: the same verdicts whole and byte by byte
 * (the fuzzer's find: BAD_CHECKSUM whole, BAD_FORMAT in small reads). */
static void test_mb_fc23(void)
{
	static const uint8_t w[] = { 0x00, 0x17, 0x02, 0x03, 0x00, 0x00, 0x00, 0x13, 0x04, 0x34,
				     0xff, 0xff, 0xff, 0x17, 0x17, 0x17 };
	struct inv_485_rx whole, bytes;
	size_t got_w = 0, got_b = 0;
	inv_485_rx_init(&whole);
	inv_485_rx_init(&bytes);
	inv_485_rx_feed(&whole, inv_mb_scan, w, sizeof(w), t_mb_got, &got_w);
	for (size_t i = 0; i < sizeof(w); i++)
		inv_485_rx_feed(&bytes, inv_mb_scan, w + i, 1, t_mb_got, &got_b);
	CHECK_EQ_INT(got_w, 8);
	CHECK_EQ_INT(got_b, 8);
	for (int v = 0; v < INV_SCAN_VERDICTS; v++)
		CHECK_EQ_INT(whole.count[v], bytes.count[v]);
	CHECK_EQ_INT(whole.len, bytes.len);
}

int main(void)
{
	test_mb_fc23();
	test_whole();
	test_cuts();
	test_partial_and_bound();
	test_echo();
	return check_report();
}
