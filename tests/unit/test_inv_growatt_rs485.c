/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_growatt_rs485.c - bmsgw as a battery on a Growatt
 * inverter's RS485 (gateway/inverter/dialect/emu_growatt_rs485.c, experimental): the
 * Modbus RTU framer through the output's assembly (inv485rx.c) on a
 * stream of good, bad and foreign frames in every chunking; every answer
 * byte for byte; its address only; the safety rules: nothing before
 * data, zero current limits for a direction not allowed (the fail-safe
 * battery), and the output's states on a fake clock (waiting, sending,
 * fail-safe, silent, sending again).  The expected frames were computed
 * apart from the C code from gateway/inverter/PROTOCOLS.md §6a (a short
 * Python rendering with its own CRC-16/MODBUS); the request 01 03 00 00
 * 00 13 04 07 is the document's vector. */
#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/codec.h"
#include "../../gateway/inverter/inv485rx.h"
#include "../../gateway/inverter/invout.h"
#include "check.h"

#define REQ "0103000000130407"
#define ANS "010326021300000000000000000051000000000000138817700000000000000000000000000000000008D4"
/* the same while stale: CCL = DCL = 0 */
#define ANS_FS "0103260213000000000000000000510000000000000000000000000000000000000000000000000000D5A0"
#define REQ04 "010400090002A1C9"
#define ANS04 "01040413881770713E"
#define REQ_ADDR2 "0203000000130434"
#define REQ_OUTSIDE "01030010000445CC"   /* registers 16..19: past the image */
#define ANS_OUTSIDE "018302C0F1"
#define REQ_WRITE "010600000001480A"     /* FC 06: not a function it has */
#define ANS_WRITE "01860183A0"
#define REQ_ZERO "01030000000045CA"      /* 0 registers */
#define ANS_ZERO "0183030131"
#define OTHER_REPLY "020304000100021932" /* slave 2's answer */
#define REQ_FC16 "011000000002040001000A2268"
#define REQ_BADCRC "0103000000130408"

static const struct inv_485_codec *K(void)
{
	return &inv_codec_growatt_rs485.rs485;
}

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	int n = check_hex(h, out, (int)cap);
	CHECK(n >= 0);
	return n < 0 ? 0 : (size_t)n;
}

/* The requests an assembly yielded, as hex, joined by spaces. */
struct got {
	char text[512];
};

static void got_request(void *arg, const uint8_t *req, size_t n)
{
	struct got *g = arg;
	size_t at = strlen(g->text);
	for (size_t i = 0; i < n && at + 4 < sizeof(g->text); i++, at += 2)
		snprintf(g->text + at, 3, "%02X", req[i]);
	if (at + 2 < sizeof(g->text))
		strcpy(g->text + at, " ");
}

#define CNT(rx, v) ((rx).count[INV_SCAN_##v])

/* A stream of noise, a good request, one with a bad CRC, another slave's
 * answer, a request for slave 2, a write and FC 04: in every chunking into
 * two reads and byte by byte, the same requests and counters. */
static void test_framer(void)
{
	static const char *const parts[] = { "FF", REQ, REQ_BADCRC, OTHER_REPLY, REQ_ADDR2, REQ_FC16, REQ04 };
	const char *want = REQ " " REQ_ADDR2 " " REQ_FC16 " " REQ04 " ";
	uint8_t s[256];
	size_t len = 0;
	int bad = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		len += hex(parts[i], s + len, sizeof(s) - len);
	for (size_t cut = 0; cut <= len; cut++) {
		struct inv_485_rx rx;
		struct got g = { "" };
		inv_485_rx_init(&rx);
		inv_485_rx_feed(&rx, K()->scan, s, cut, got_request, &g);
		inv_485_rx_feed(&rx, K()->scan, s + cut, len - cut, got_request, &g);
		if (strcmp(g.text, want) || CNT(rx, REQUEST) != 4 || CNT(rx, OTHER) != 1 || CNT(rx, BAD_CHECKSUM) < 1 ||
		    rx.len)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	struct inv_485_rx rx;
	struct got g = { "" };
	inv_485_rx_init(&rx);
	for (size_t i = 0; i < len; i++)
		inv_485_rx_feed(&rx, K()->scan, s + i, 1, got_request, &g);
	CHECK_STR(g.text, want);
	CHECK_EQ_INT(CNT(rx, OTHER), 1);

	/* the framer alone: MORE while a frame may still end, never a
	 * verdict past the bytes */
	size_t n = 9;
	uint8_t r[8];
	hex(REQ, r, sizeof(r));
	for (size_t k = 0; k < sizeof(r); k++)
		CHECK_EQ_INT(K()->scan(r, k, &n), INV_SCAN_MORE);
	CHECK_EQ_INT(K()->scan(r, sizeof(r), &n), INV_SCAN_REQUEST);
	CHECK_EQ_INT(n, 8);
	r[7] ^= 1;
	CHECK_EQ_INT(K()->scan(r, sizeof(r), &n), INV_SCAN_BAD_CHECKSUM);
	CHECK_EQ_INT(n, 1);
	r[1] = 0x41; /* no Modbus function */
	CHECK_EQ_INT(K()->scan(r, sizeof(r), &n), INV_SCAN_NOISE);
	CHECK_EQ_INT(n, 1);
}

/* 53.125 V, SOC 81.6 %, CCL 50 A, DCL 60 A, charge and discharge allowed. */
static void battery(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_VOLTAGE | INV_HAS_CURRENT;
	b->cvl_v = 55.2f;
	b->dvl_v = 46.4f;
	b->ccl_a = 50;
	b->dcl_a = 60;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 81.6f;
	b->voltage = 53.125f;
	b->current = -12.34f;
}

static struct conf_inverter cfg(int address)
{
	struct conf_inverter c;
	memset(&c, 0, sizeof(c));
	c.protocol = CONF_INV_GROWATT_RS485;
	c.address = address;
	return c;
}

/* The answer to the request in hex is want (NULL: none). */
static void answers(const struct conf_inverter *c, const struct inv_battery *b, const char *req, const char *want,
		    struct inv_encoded *e)
{
	uint8_t q[64], out[INV_485_ANSWER_MAX], w[64];
	size_t nq = hex(req, q, sizeof(q));
	int n = K()->answer(c, NULL, b, q, nq, out, sizeof(out), e);
	if (!want) {
		CHECK_EQ_INT(n, 0);
		return;
	}
	size_t nw = hex(want, w, sizeof(w));
	CHECK_EQ_INT(n, (int)nw);
	CHECK(n == (int)nw && memcmp(out, w, nw) == 0);
}

static void test_answers(void)
{
	struct conf_inverter c = cfg(1);
	struct inv_battery b;
	struct inv_encoded e;
	uint8_t q[8], out[64];

	battery(&b);
	answers(&c, &b, REQ, ANS, &e);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 50, 1e-3);
	CHECK_NEAR(e.dcl_a, 60, 1e-3);
	answers(&c, &b, REQ04, ANS04, &e);
	CHECK(e.limits);
	answers(&c, &b, REQ_OUTSIDE, ANS_OUTSIDE, &e);
	CHECK(!e.limits);
	answers(&c, &b, REQ_WRITE, ANS_WRITE, &e);
	answers(&c, &b, REQ_ZERO, ANS_ZERO, &e);
	/* its address only: slave 2's request, unless it is slave 2 */
	hex(REQ_ADDR2, q, sizeof(q));
	CHECK(!K()->ours(&c, q, sizeof(q)));
	answers(&c, &b, REQ_ADDR2, NULL, &e);
	struct conf_inverter c2 = cfg(2);
	CHECK(K()->ours(&c2, q, sizeof(q)));
	CHECK(K()->answer(&c2, NULL, &b, q, sizeof(q), out, sizeof(out), &e) == 43);
	/* too small a room */
	hex(REQ, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(&c, NULL, &b, q, sizeof(q), out, 20, &e), -1);
	/* the SOC rounded down, a limit never above what is allowed, clamped */
	b.soc = 99.99f;
	b.ccl_a = 700;
	b.dcl_a = 12.349f;
	hex(REQ04, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(&c, NULL, &b, q, sizeof(q), out, sizeof(out), &e), 9);
	CHECK_EQ_INT(out[3] << 8 | out[4], 0xFFFF);
	CHECK_EQ_INT(out[5] << 8 | out[6], 1234);
}

/* Safety: no answer without data; a direction not allowed (the fail-safe
 * battery: stale) carries 0. */
static void test_safety_codec(void)
{
	struct conf_inverter c = cfg(1);
	struct inv_battery b;
	struct inv_encoded e;

	memset(&b, 0, sizeof(b)); /* nothing yet */
	answers(&c, &b, REQ, NULL, &e);
	CHECK(!e.limits);
	battery(&b);
	b.present &= ~INV_HAS_SOC;
	answers(&c, &b, REQ, NULL, &e);
	battery(&b);
	b.present &= ~INV_HAS_LIMITS;
	answers(&c, &b, REQ, NULL, &e);
	/* stale: the fail-safe battery keeps the last limits' values but
	 * allows nothing; the answer carries 0 A both ways */
	battery(&b);
	b.charge_allowed = b.discharge_allowed = false;
	answers(&c, &b, REQ, ANS_FS, &e);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 0, 1e-6);
	CHECK_NEAR(e.dcl_a, 0, 1e-6);
}

/* The output on a fake clock: what it answers at each poll, as inv485.c
 * decides (answers only in a state that speaks). */
static int poll_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	uint8_t q[8], out[INV_485_ANSWER_MAX], w[64];
	struct inv_encoded e;
	hex(REQ, q, sizeof(q));
	inv_update_state(o, true, fresh, now);
	int n = inv_state_speaks(o->state) ? K()->answer(&o->cfg, NULL, b, q, sizeof(q), out, sizeof(out), &e) : 0;
	if (want) {
		size_t nw = hex(want, w, sizeof(w));
		CHECK(n == (int)nw && memcmp(out, w, nw) == 0);
	}
	return n;
}

static void test_safety_states(void)
{
	static struct inv_out o; /* zero: never fresh */
	struct inv_battery b, fs;

	o.cfg = cfg(1);
	o.cfg.failsafe_silence = 30;
	battery(&b);
	fs = b;
	fs.charge_allowed = fs.discharge_allowed = false;
	/* nothing before the first data, even with a battery at hand */
	CHECK_EQ_INT(poll_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(poll_at(&o, 1.0, true, &b, ANS), 43);
	CHECK_EQ_INT(o.state, INV_SENDING);
	/* stale: zero limits at once, for failsafe_silence */
	CHECK_EQ_INT(poll_at(&o, 2.0, false, &fs, ANS_FS), 43);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(poll_at(&o, 31.9, false, &fs, ANS_FS), 43);
	/* then silence */
	CHECK_EQ_INT(poll_at(&o, 32.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(poll_at(&o, 100.0, false, &fs, NULL), 0);
	/* fresh again: answered again */
	CHECK_EQ_INT(poll_at(&o, 101.0, true, &b, ANS), 43);
	CHECK_EQ_INT(o.state, INV_SENDING);
}

static void test_row(void)
{
	CHECK(inv_codec_of(CONF_INV_GROWATT_RS485) == &inv_codec_growatt_rs485);
	CHECK(inv_dialect_kind(CONF_INV_GROWATT_RS485) == CONF_INV_RS485);
	CHECK_STR(inv_dialect_name(CONF_INV_GROWATT_RS485), "growatt-rs485");
}

int main(void)
{
	test_framer();
	test_answers();
	test_safety_codec();
	test_safety_states();
	test_row();
	return check_report();
}
