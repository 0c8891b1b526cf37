/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_byd_hvm_modbus.c - libFuzzer target: bmsgw as BYD's
 * Battery-Box Premium HVM on a Fronius's RS485
 * (gateway/inverter/dialect/emu_byd_hvm_modbus.c): the Modbus RTU framer (mbrtu.c),
 * through the output's assembly (inv485rx.c), on anything the port could
 * carry, and the answer to every request it yields, through the codec as
 * the output calls it, from a battery the input also shapes.
 *
 * Input:
 *	byte 0	the size of the reads (1 + byte % 64)
 *	byte 1	the address (1 + byte % 247)
 *	then	the battery (fuzz_rs485.h: 76 bytes)
 *	the rest	the bytes on the wire.
 * Invariants: those of fuzz_rs485.h (the framer's verdict, the same
 * requests and counters in reads of any size); a request's CRC-16/MODBUS
 * holds; an answer is given exactly when the request is for our address
 * and the battery has data; it is a frame with a good CRC from our address
 * with the request's function, or its exception (01 exactly for a function
 * other than 03, 06, 16, 23); a read is 5 + 2 x registers long, below
 * register 30000, and carries the state 3 or 0 (stale), a SOC of at least
 * 1 %, energies of at most 57960 Wh, power limits of at most 30000 W and 0
 * for a direction not allowed or a stale source, a CVL of at most 450.0 V,
 * 400-418 and 500-506 as the answered writes before left them (0 before
 * any; FC 23's own write first), and the limits the codec reports exactly
 * when it carries both power limits; a write is answered only inside
 * 400-418 and 500-506, with the request's first six bytes; heard back
 * after it went out the answer is dropped (an adapter's echo); a buffer one
 * byte short is refused, and keeps nothing. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "fuzz_rs485.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct inv_485_codec *K(void)
{
	return &inv_codec_byd_hvm_modbus.rs485;
}

struct ctx {
	struct conf_inverter cfg;
	struct inv_battery b;
	struct inv_485_kept kept;  /* the codec's, as the output holds it */
	uint16_t wrote[512];       /* this target's own account of 400-418 and 500-506 */
};

static bool crc_ok(const uint8_t *f, size_t n)
{
	uint16_t c = bms_crc16_modbus(f, n - 2);
	return n >= 4 && f[n - 2] == (c & 0xFF) && f[n - 1] == (c >> 8);
}

static unsigned u16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static bool writable(unsigned a, unsigned q)
{
	return q >= 1 && ((a >= 400 && a + q - 1 <= 418) || (a >= 500 && a + q - 1 <= 506));
}

/* An answered write of qty values v (big-endian) from register a, in the
 * target's account. */
static void wrote(struct ctx *x, unsigned a, unsigned qty, const uint8_t *v)
{
	for (unsigned i = 0; i < qty; i++)
		x->wrote[a + i] = (uint16_t)u16(v + 2 * i);
}

/* The registers a read answer carries, register by register. */
static void check_read(const struct ctx *x, unsigned start, unsigned qty, const uint8_t *out, int n,
		       const struct inv_encoded *e)
{
	const struct inv_battery *b = &x->b;
	REQUIRE(out[2] == 2 * qty && n == 5 + 2 * (int)qty && start + qty <= 30000);
	for (unsigned i = 0; i < qty; i++) {
		unsigned reg = start + i, v = u16(out + 3 + 2 * i);
		if (reg == 300)
			REQUIRE(v == (b->failsafe ? 0u : 3u));
		if (reg == 303)
			REQUIRE(v >= 100 && v <= 10000);
		if (reg == 202 || reg == 304 || reg == 305)
			REQUIRE(v <= 57960);
		if (reg == 306 || reg == 307)
			REQUIRE(v <= 30000);
		if ((reg == 306 && !b->discharge_allowed) || (reg == 307 && !b->charge_allowed))
			REQUIRE(v == 0);
		if (reg == 205)
			REQUIRE(v <= 4500);
		if ((reg == 308 || reg == 309) && b->failsafe)
			REQUIRE(v == 0);
		if (writable(reg, 1))
			REQUIRE(v == x->wrote[reg]);
	}
	REQUIRE(e->limits == (start <= 306 && start + qty > 307));
	REQUIRE(!e->limits || (isfinite(e->ccl_a) && isfinite(e->dcl_a) && e->ccl_a >= 0 && e->dcl_a >= 0));
}

/* The answer's echo after it went out: dropped, whole. */
static void check_echo(const uint8_t *req, size_t len, const uint8_t *out, int n)
{
	static struct inv_485_rx rx;
	static struct fz485_reqs r;
	inv_485_rx_init(&rx);
	r.n = 0;
	inv_485_rx_feed(&rx, K()->scan, req, len, fz485_got, &r);
	inv_485_rx_sent(&rx, out, (size_t)n);
	inv_485_rx_feed(&rx, K()->scan, out, (size_t)n, fz485_got, &r);
	REQUIRE(r.n == 1 && rx.echoes == 1 && rx.len == 0);
}

static void check_answer(const uint8_t *f, size_t len, void *arg)
{
	static uint8_t out[INV_485_ANSWER_MAX];
	struct ctx *x = arg;
	struct inv_encoded e;
	bool ours = K()->ours(&x->cfg, f, len);
	bool data = (x->b.present & INV_HAS_LIMITS) && (x->b.present & INV_HAS_SOC);
	struct inv_485_kept had = x->kept;
	int n = K()->answer(&x->cfg, &x->kept, &x->b, f, len, out, sizeof(out), &e);

	REQUIRE(len >= 8 && crc_ok(f, len));
	REQUIRE(ours == (f[0] == x->cfg.address));
	REQUIRE(n >= 0 && (n > 0) == (ours && data));
	if (n == 0) {
		REQUIRE(!e.limits && !memcmp(&had, &x->kept, sizeof(had)));
		return;
	}
	REQUIRE(crc_ok(out, (size_t)n) && out[0] == x->cfg.address && (out[1] & 0x7F) == f[1]);
	unsigned fc = f[1];
	if (out[1] & 0x80) {
		REQUIRE(n == 5 && out[2] >= 1 && out[2] <= 3 && !e.limits);
		REQUIRE((out[2] == 1) == (fc != 3 && fc != 6 && fc != 16 && fc != 23));
		REQUIRE(!memcmp(&had, &x->kept, sizeof(had))); /* a refused write keeps nothing */
	} else if (fc == 3 || fc == 23) {
		if (fc == 23) {
			REQUIRE(writable(u16(f + 6), u16(f + 8)));
			wrote(x, u16(f + 6), u16(f + 8), f + 11); /* written, then read */
		}
		check_read(x, u16(f + 2), u16(f + 4), out, n, &e);
	} else {
		REQUIRE((fc == 6 || fc == 16) && n == 8 && !memcmp(out, f, 6) && !e.limits);
		REQUIRE(writable(u16(f + 2), fc == 6 ? 1 : u16(f + 4)));
		wrote(x, u16(f + 2), fc == 6 ? 1 : u16(f + 4), fc == 6 ? f + 4 : f + 7);
	}
	check_echo(f, len, out, n);
	/* a buffer one byte short is refused, never overrun, and keeps nothing */
	had = x->kept;
	REQUIRE(K()->answer(&x->cfg, &x->kept, &x->b, f, len, out, (size_t)n - 1, &e) == -1);
	REQUIRE(!memcmp(&had, &x->kept, sizeof(had)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx x;
	struct fz_in in = { data, size };

	memset(&x, 0, sizeof(x));
	x.cfg.protocol = CONF_INV_BYD_HVM_MODBUS;
	size_t chunk = 1 + fz_u8(&in) % 64;
	x.cfg.address = 1 + fz_u8(&in) % 247;
	fz485_battery(&in, &x.b);
	fz485_wire(K(), in.p, in.n, chunk, check_answer, &x);
	return 0;
}
