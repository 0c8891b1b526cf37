/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_growatt_rs485.c - libFuzzer target: bmsgw as a battery
 * on a Growatt inverter's RS485 (gateway/inverter/dialect/emu_growatt_rs485.c): the
 * Modbus RTU framer, through the output's assembly (inv485rx.c), on
 * anything the port could carry, and the answer to every request it
 * yields, through the codec as the output calls it, from a battery the
 * input also shapes.
 *
 * Input:
 *	byte 0	the size of the reads (1 + byte % 64)
 *	byte 1	the address (1 + byte % 247)
 *	bytes 2-13  the battery: presence bits (2), voltage, SOC, CCL, DCL
 *		(s16 each, the 0x7FFF ones made NaN), the flags (1), pad (1)
 *	the rest	the bytes on the wire.
 * Invariants: the framer's verdict on the wire's start does not change as
 * more bytes come, and it never waits past the assembly's buffer; in reads
 * of any size and in one read the same requests come out with the same
 * counters; a request's CRC-16/MODBUS holds; an answer is given exactly
 * when the codec says the request is ours (its address) and the battery
 * has data; it is a frame with a good CRC from our address with the
 * request's function (or its exception), 5 + 2 x registers long for a
 * read, with a current limit 0 for a direction not allowed, and the
 * limits the codec reports when it carries both; fed back to the assembly
 * it is no request, or a read outside the image, or (its registers holding
 * a request by chance) a frame cut short (check_answer); a buffer one byte
 * short is refused. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "fuzz_rs485.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CONFIG 14

static const struct inv_485_codec *K(void)
{
	return &inv_codec_growatt_rs485.rs485;
}

static float value(const uint8_t *p, float scale)
{
	int16_t v = (int16_t)(p[0] << 8 | p[1]);
	return v == 0x7FFF ? NAN : v * scale;
}

static void battery(const uint8_t *p, struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = (uint32_t)p[0] << 8 | p[1];
	b->voltage = value(p + 2, 0.01f);
	b->soc = value(p + 4, 0.01f);
	b->ccl_a = value(p + 6, 0.1f);
	b->dcl_a = value(p + 8, 0.1f);
	b->charge_allowed = p[10] & 1;
	b->discharge_allowed = p[10] & 2;
	b->cvl_v = 55.2f;
}

static bool crc_ok(const uint8_t *f, size_t n)
{
	uint16_t c = bms_crc16_modbus(f, n - 2);
	return n >= 4 && f[n - 2] == (c & 0xFF) && f[n - 1] == (c >> 8);
}

/* Does f[1..n) hold a request with a good CRC (FC 01-06: 8 bytes, 15 and
 * 16: 9 + count, 23: 13 + count)?  The registers of an answer may, by
 * chance: the framer then takes the answer for a frame cut short. */
static bool holds_request(const uint8_t *f, size_t n)
{
	for (size_t k = 1; k + 8 <= n; k++) {
		const uint8_t *p = f + k;
		size_t l = p[1] >= 1 && p[1] <= 6 ? 8 : (p[1] == 15 || p[1] == 16) && k + 6 < n ? p[6] + 9u
			 : p[1] == 23 && k + 10 < n ? p[10] + 13u : 0;
		if (l && k + l <= n && crc_ok(p, l))
			return true;
	}
	return false;
}

struct ctx {
	struct conf_inverter cfg;
	struct inv_battery b;
};

static void check_answer(const uint8_t *f, size_t len, void *arg)
{
	static uint8_t out[INV_485_ANSWER_MAX];
	const struct ctx *x = arg;
	const struct conf_inverter *c = &x->cfg;
	const struct inv_battery *b = &x->b;
	struct inv_encoded e;
	bool ours = K()->ours(c, f, len);
	bool data = (b->present & INV_HAS_LIMITS) && (b->present & INV_HAS_SOC);
	int n = K()->answer(c, NULL, b, f, len, out, sizeof(out), &e);

	REQUIRE(crc_ok(f, len));
	REQUIRE(ours == (f[0] == c->address));
	REQUIRE(n >= 0 && (n > 0) == (ours && data));
	if (n == 0) {
		REQUIRE(!e.limits);
		return;
	}
	REQUIRE(crc_ok(out, (size_t)n) && out[0] == c->address && (out[1] & 0x7F) == f[1]);
	if (out[1] & 0x80) {
		REQUIRE(n == 5 && out[2] >= 1 && out[2] <= 3 && !e.limits);
	} else {
		unsigned start = (unsigned)f[2] << 8 | f[3], qty = (unsigned)f[4] << 8 | f[5];
		REQUIRE((f[1] == 3 || f[1] == 4) && out[2] == 2 * qty && n == 5 + 2 * (int)qty && start + qty <= 19);
		for (unsigned i = 0; i < qty; i++) {
			unsigned reg = start + i, v = (unsigned)out[3 + 2 * i] << 8 | out[4 + 2 * i];
			if ((reg == 9 && !b->charge_allowed) || (reg == 10 && !b->discharge_allowed))
				REQUIRE(v == 0);
			if (reg == 9 && e.limits)
				REQUIRE(fabsf(e.ccl_a - v / 100.0f) < 1e-3f);
			if (reg == 10 && e.limits)
				REQUIRE(fabsf(e.dcl_a - v / 100.0f) < 1e-3f);
		}
		REQUIRE(e.limits == (start <= 9 && start + qty > 10));
	}
	/* fed back (an adapter's echo) it is another device's frame; or, when
	 * a read answer's first 8 bytes happen to end in a good CRC (framing
	 * without timing: the shorter frame wins), a read from register
	 * byte-count x 256 on, outside the image: never answered with data */
	size_t used;
	enum inv_scan v = K()->scan(out, (size_t)n, &used);
	REQUIRE((v == INV_SCAN_OTHER && used == (size_t)n) || (v == INV_SCAN_REQUEST && used == 8 && out[2] >= 1) ||
		(v == INV_SCAN_BAD_FORMAT && holds_request(out, (size_t)n)));
	REQUIRE(v != INV_SCAN_OTHER || fz485_echo(K(), out, (size_t)n) == 0);
	/* a buffer one byte short is refused, never overrun */
	REQUIRE(K()->answer(c, NULL, b, f, len, out, (size_t)n - 1, &e) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx x;

	if (size < CONFIG)
		return 0;
	memset(&x.cfg, 0, sizeof(x.cfg));
	x.cfg.protocol = CONF_INV_GROWATT_RS485;
	x.cfg.address = 1 + data[1] % 247;
	battery(data + 2, &x.b);
	fz485_wire(K(), data + CONFIG, size - CONFIG, 1 + data[0] % 64, check_answer, &x);
	return 0;
}
