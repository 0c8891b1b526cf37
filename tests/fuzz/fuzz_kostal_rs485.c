/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_kostal_rs485.c - libFuzzer target: bmsgw as a BYD
 * battery on a Kostal's RS485 (gateway/inverter/dialect/emu_kostal_rs485.c): the
 * framer of zero-stuffed frames, through the output's assembly
 * (inv485rx.c), on anything the port could carry, and the answer to every
 * request it yields, from a battery the input also shapes.
 *
 * Input:
 *	byte 0	the size of the reads (1 + byte % 64)
 *	then	the battery (fuzz_rs485.h: 76 bytes)
 *	the rest	the bytes on the wire.
 * Invariants: those of fuzz_rs485.h (the framer's verdict, the same
 * requests and counters in reads of any size); a request ends in its only
 * 0x00, its chain of distances ends there, its checksum (this file's own
 * unstuffing) holds, its header is a read of 10 bytes or a write of at
 * least 10; an answer is given exactly when the battery has data and the
 * request is the information, the cyclic data, the status, a set-time or a
 * set-state other than FF; it is one frame of its kind's length (40, 64,
 * 9, 8) ending in its only 0x00, a good checksum, the battery's header;
 * the cyclic data's floats are finite, its current limits never negative,
 * 0 for a direction not allowed and the CCL 0 at a SOC of 100, the limits
 * the codec reports, its enable byte 1 (and byte 59 0) or 0 (and 2), 0 for
 * a stale source; fed back the answer is no request; a buffer one byte
 * short is refused. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_rs485.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct inv_485_codec *K(void)
{
	return &inv_codec_kostal_rs485.rs485;
}

/* f[0..n) unstuffed into u (this file's own reading of §24); false when
 * it is no frame. */
static bool unstuff(const uint8_t *f, size_t n, uint8_t *u)
{
	if (n < 2 || f[n - 1] != 0 || memchr(f, 0, n - 1))
		return false;
	memcpy(u, f, n);
	size_t at = 0;
	while (at < n - 1) {
		size_t next = at + f[at];
		u[at] = 0;
		if (next > n - 1)
			return false;
		at = next;
	}
	return at == n - 1;
}

static bool sum_ok(const uint8_t *u, size_t n)
{
	unsigned s = 0;
	for (size_t i = 1; i + 2 < n; i++)
		s += u[i];
	return n >= 8 && (uint8_t)(-s & 0xFF) == u[n - 2];
}

static float f32(const uint8_t *p)
{
	uint32_t x = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	float f;
	memcpy(&f, &x, sizeof(f));
	return f;
}

/* The length of the answer req gets (0: none). */
static size_t expected(const uint8_t *q)
{
	unsigned code = q[6] | q[7] << 8;
	if (q[1] == 0x63)
		return q[6] == 0x47 || (q[6] == 0x5E && q[7] != 0xFF) ? 8 : 0;
	return code == 0x084A ? 40 : code == 0x044A ? 64 : code == 0x0353 ? 9 : 0;
}

static void check_cyclic(const struct inv_battery *b, const uint8_t *u, const struct inv_encoded *e)
{
	for (size_t at = 6; at < 54; at += 4)
		REQUIRE(isfinite(f32(u + at)));
	float dcl = f32(u + 26), ccl = f32(u + 34);
	REQUIRE(ccl >= 0 && dcl >= 0 && u[58] <= 100);
	REQUIRE(e->limits && e->ccl_a == ccl && e->dcl_a == dcl);
	if (!b->charge_allowed || u[58] == 100)
		REQUIRE(ccl == 0);
	if (!b->discharge_allowed)
		REQUIRE(dcl == 0);
	REQUIRE((u[56] == 1 && u[59] == 0) || (u[56] == 0 && u[59] == 2));
	REQUIRE(!b->failsafe || u[56] == 0);
	REQUIRE(u[57] == (u[58] == 100 ? 0x40 : 0));
}

static void check_answer(const uint8_t *f, size_t len, void *arg)
{
	static uint8_t out[INV_485_ANSWER_MAX];
	uint8_t q[INV_485_RX_MAX], u[INV_485_ANSWER_MAX];
	const struct inv_battery *b = arg;
	struct conf_inverter c = { .protocol = CONF_INV_KOSTAL_RS485 };
	struct inv_encoded e;

	REQUIRE(unstuff(f, len, q) && sum_ok(q, len) && !memcmp(q + 2, "\xFF\x02\xFF\x29", 4));
	REQUIRE((q[1] == 0x62 && len == 10) || (q[1] == 0x63 && len >= 10));
	REQUIRE(K()->ours(&c, f, len));
	bool data = (b->present & INV_HAS_LIMITS) && (b->present & INV_HAS_SOC);
	int n = K()->answer(&c, NULL, b, f, len, out, sizeof(out), &e);
	size_t want = data ? expected(q) : 0;
	REQUIRE(n >= 0 && (size_t)n == want);
	if (!n) {
		REQUIRE(!e.limits);
		return;
	}
	REQUIRE(unstuff(out, (size_t)n, u) && sum_ok(u, (size_t)n) && !memcmp(u + 2, "\xFF\x02\xFF\x29", 4));
	REQUIRE(u[1] == (n == 8 ? 0xE3 : 0xE2));
	if (n == 64)
		check_cyclic(b, u, &e);
	else
		REQUIRE(!e.limits);
	/* fed back (an adapter's echo) it is the battery's frame, no request */
	size_t used;
	REQUIRE(K()->scan(out, (size_t)n, &used) == INV_SCAN_OTHER && used == (size_t)n);
	REQUIRE(fz485_echo(K(), out, (size_t)n) == 0);
	REQUIRE(K()->answer(&c, NULL, b, f, len, out, (size_t)n - 1, &e) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct inv_battery b;
	struct fz_in in = { data, size };

	size_t chunk = 1 + fz_u8(&in) % 64;
	fz485_battery(&in, &b);
	fz485_wire(K(), in.p, in.n, chunk, check_answer, &b);
	return 0;
}
