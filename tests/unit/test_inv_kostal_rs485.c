/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_kostal_rs485.c - bmsgw as a BYD battery on a Kostal
 * inverter's RS485 (gateway/inverter/dialect/emu_kostal_rs485.c): the framer (a frame
 * ends at its only 0x00, its zeros stuffed as distances, a sum checksum)
 * through the output's assembly (inv485rx.c) on good, broken and foreign
 * frames in every chunking; the sources' own bytes (Battery-Emulator's
 * acknowledgement 07 E3 FF 02 FF 29 F4 00, its cyclic defaults 1D 5A 85 43 =
 * 266.70 V, 00 00 48 42 = 50.0 A, A4 70 55 40 = 3.335 V); every answer byte
 * for byte: the information, the cyclic data, the status, the
 * acknowledgements (none to set-state FF), nothing to 0x50 or an unknown
 * code; the CCL 0 at 100 %, the enable byte; the safety rules: nothing
 * before data, the fail-safe battery (CCL = DCL = 0, disabled), and the
 * output's states on a fake clock.  The expected frames were computed
 * apart from the C code from gateway/inverter/PROTOCOLS.md §24 (a short
 * Python rendering: its own stuffing, checksum and floats). */
#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/codec.h"
#include "../../gateway/inverter/inv485rx.h"
#include "../../gateway/inverter/invout.h"
#include "check.h"

#define ASK_INFO "0962FF02FF294A082300"   /* §24's own requests */
#define ASK_CYCLIC "0962FF02FF294A042700"
#define ASK_STATUS "0962FF02FF2953031F00"
#define ASK_POLARITY "0762FF02FF2950022500" /* 0x50: reverse polarity, no answer */
#define ASK_OTHER "0962FF02FF2934122F00"    /* an unknown code: no answer */
#define ACK "07E3FF02FF29F400"         /* Battery-Emulator's acknowledgement, byte for byte */
#define SET_ALLOW "0763FF02FF295E021600"   /* 0x5E 00: the stuffed zero in the middle */
#define SET_TEST "0963FF02FF295E041200"
#define SET_FF "0963FF02FF295EFF1700"      /* 0x5E FF: no acknowledgement */
#define SET_TIME "0B63FF02FF2947665A1032022B00"
#define STATUS "08E2FF02FF2906EF00"
#define INFO "06E2FF02FF29010B8043E4708A5CC719123D0105C841C21801035942010101020502A0010102A600"
#define CYCLIC "0AE2FF02FF291D5A854301038E430103AC410103B0400103B040010348420103C8410103A0410103B441010E" \
	    "A441A4705540E17A5440FE04010239010102F600"
#define CYCLIC_FS "0AE2FF02FF291D5A854301038E430103AC410103B0400103B040010101010103C841010101010103B441010D" \
	    "A441A4705540E17A5440FE040103390201026000"

static const struct inv_485_codec *K(void)
{
	return &inv_codec_kostal_rs485.rs485;
}

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	int n = check_hex(h, out, (int)cap);
	CHECK(n >= 0);
	return n < 0 ? 0 : (size_t)n;
}

struct got {
	char text[1024];
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

/* A stray end, a request, one with a bad checksum, one whose chain of
 * distances misses its end, the battery's acknowledgement and status (no
 * requests), a read of a wrong length, a write: in every cut into two
 * reads and byte by byte, the same requests and counters. */
static void test_framer(void)
{
	static const char *const parts[] = { "00", ASK_CYCLIC, "0962FF02FF294A042800", "0562FF02FF294A042700", ACK,
					     STATUS, "0B62FF02FF294A0401012500", SET_ALLOW, ASK_INFO };
	const char *want = ASK_CYCLIC " " SET_ALLOW " " ASK_INFO " ";
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
		if (strcmp(g.text, want) || CNT(rx, REQUEST) != 3 || CNT(rx, OTHER) != 2 || CNT(rx, BAD_CHECKSUM) != 1 ||
		    CNT(rx, BAD_FORMAT) != 1 || CNT(rx, BAD_LENGTH) != 1 || CNT(rx, NOISE) != 1 || rx.len)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	struct inv_485_rx rx;
	struct got g = { "" };
	inv_485_rx_init(&rx);
	for (size_t i = 0; i < len; i++)
		inv_485_rx_feed(&rx, K()->scan, s + i, 1, got_request, &g);
	CHECK_STR(g.text, want);

	/* the framer alone: MORE until the end, never past KO_MAX (128) */
	uint8_t r[200];
	size_t n = 9, nr = hex(ASK_CYCLIC, r, sizeof(r));
	for (size_t k = 0; k < nr; k++)
		CHECK_EQ_INT(K()->scan(r, k, &n), INV_SCAN_MORE);
	CHECK_EQ_INT(K()->scan(r, nr, &n), INV_SCAN_REQUEST);
	CHECK_EQ_INT(n, 10);
	memset(r, 0x11, sizeof(r));
	CHECK_EQ_INT(K()->scan(r, 127, &n), INV_SCAN_MORE);
	CHECK_EQ_INT(K()->scan(r, 128, &n), INV_SCAN_OVERLONG);
	CHECK_EQ_INT(n, 128);
	/* a frame of 7 bytes is too short for a header and a checksum */
	nr = hex("06E3FF02FF2900", r, sizeof(r));
	CHECK_EQ_INT(K()->scan(r, nr, &n), INV_SCAN_BAD_FORMAT);
	/* the acknowledgement of the sources checks: distance 7, checksum F4 */
	nr = hex(ACK, r, sizeof(r));
	CHECK_EQ_INT(K()->scan(r, nr, &n), INV_SCAN_OTHER);
	CHECK_EQ_INT(n, 8);
}

/* 266.704 V (Battery-Emulator's 1D 5A 85 43), +5.5 A, SOC 57.5 %, CVL
 * 284.0 V, CCL 20 A, DCL 50 A, 20.5-22.5 degC, cells 3.320-3.335 V, 1278
 * cycles, 25 Ah, 80 LFP cells (256 V: 5 blocks), the tag 3d1219c7. */
static void battery(struct inv_battery *b)
{
	float v;
	memcpy(&v, (const uint8_t[]){ 0x1D, 0x5A, 0x85, 0x43 }, sizeof(v));
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_CYCLES | INV_HAS_FULL;
	b->cvl_v = 284.0f;
	b->dvl_v = 240.0f;
	b->ccl_a = 20;
	b->dcl_a = 50;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 57.5f;
	b->voltage = v;
	b->current = 5.5f;
	b->temp_c = 21.4f;
	b->temp_min_c = 20.5f;
	b->temp_max_c = 22.5f;
	b->cell_max_mv = 3335;
	b->cell_min_mv = 3320;
	b->cycles = 1278;
	b->full_ah = 25;
	b->total_cells = 80;
	strcpy(b->machine_tag, "3d1219c7");
}

static struct conf_inverter cfg(void)
{
	struct conf_inverter c;
	memset(&c, 0, sizeof(c));
	c.protocol = CONF_INV_KOSTAL_RS485;
	return c;
}

static void answers(const struct inv_battery *b, const char *req, const char *want, struct inv_encoded *e)
{
	struct conf_inverter c = cfg();
	uint8_t q[64], out[INV_485_ANSWER_MAX], w[128];
	size_t nq = hex(req, q, sizeof(q));
	int n = K()->answer(&c, NULL, b, q, nq, out, sizeof(out), e);
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
	struct conf_inverter c = cfg();
	struct inv_battery b;
	struct inv_encoded e;
	uint8_t q[16], out[128];

	battery(&b);
	answers(&b, ASK_CYCLIC, CYCLIC, &e);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 20, 1e-6);
	CHECK_NEAR(e.dcl_a, 50, 1e-6);
	answers(&b, ASK_INFO, INFO, &e);
	CHECK(!e.limits);
	answers(&b, ASK_STATUS, STATUS, &e);
	answers(&b, ASK_POLARITY, NULL, &e);
	answers(&b, ASK_OTHER, NULL, &e);
	answers(&b, SET_ALLOW, ACK, &e);
	answers(&b, SET_TEST, ACK, &e);
	answers(&b, SET_TIME, ACK, &e);
	answers(&b, SET_FF, NULL, &e);
	/* every request is for the one battery; a frame that is none is not */
	hex(ASK_CYCLIC, q, sizeof(q));
	CHECK(K()->ours(&c, q, 10));
	hex(ACK, q, sizeof(q));
	CHECK(!K()->ours(&c, q, 8));
	/* too small a room */
	hex(ASK_CYCLIC, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(&c, NULL, &b, q, 10, out, 63, &e), -1);
	CHECK(!e.limits);
	/* at 100 %: CCL 0 and byte 57 0x40 (Battery-Emulator); a limit rounded down to 0.1 A */
	b.soc = 100;
	b.dcl_a = 12.349f;
	CHECK_EQ_INT(K()->answer(&c, NULL, &b, q, 10, out, sizeof(out), &e), 64);
	CHECK_NEAR(e.ccl_a, 0, 1e-6);
	CHECK_NEAR(e.dcl_a, 12.3, 1e-5);
	CHECK_EQ_INT(out[57], 0x40);
	CHECK_EQ_INT(out[58], 100);
	CHECK_EQ_INT(out[56], 1);
	/* nothing allowed either way, fresh: disabled (byte 56 = 0, 59 = 2) */
	b.charge_allowed = b.discharge_allowed = false;
	CHECK_EQ_INT(K()->answer(&c, NULL, &b, q, 10, out, sizeof(out), &e), 64);
	CHECK_EQ_INT(out[56], 4); /* a zero, stuffed: the distance to the next one, byte 60 */
	CHECK_EQ_INT(out[59], 2);
	/* report_modules: the blocks in series (info bytes 32-33) */
	battery(&b);
	b.report_modules = 7;
	hex(ASK_INFO, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(&c, NULL, &b, q, 10, out, sizeof(out), &e), 40);
	CHECK_EQ_INT(out[32], 7);
}

static void test_safety_codec(void)
{
	struct inv_battery b;
	struct inv_encoded e;

	memset(&b, 0, sizeof(b));
	answers(&b, ASK_CYCLIC, NULL, &e);
	answers(&b, SET_ALLOW, NULL, &e);
	CHECK(!e.limits);
	battery(&b);
	b.present &= ~INV_HAS_SOC;
	answers(&b, ASK_CYCLIC, NULL, &e);
	battery(&b);
	b.present &= ~INV_HAS_LIMITS;
	answers(&b, ASK_INFO, NULL, &e);
	battery(&b);
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.failsafe = true;
	answers(&b, ASK_CYCLIC, CYCLIC_FS, &e);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 0, 1e-6);
	CHECK_NEAR(e.dcl_a, 0, 1e-6);
}

static int poll_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	uint8_t q[16], out[INV_485_ANSWER_MAX], w[128];
	struct inv_encoded e;
	hex(ASK_CYCLIC, q, sizeof(q));
	inv_update_state(o, true, fresh, now);
	int n = inv_state_speaks(o->state) ? K()->answer(&o->cfg, NULL, b, q, 10, out, sizeof(out), &e) : 0;
	if (want) {
		size_t nw = hex(want, w, sizeof(w));
		CHECK(n == (int)nw && memcmp(out, w, nw) == 0);
	}
	return n;
}

static void test_safety_states(void)
{
	static struct inv_out o;
	struct inv_battery b, fs;

	o.cfg = cfg();
	o.cfg.failsafe_silence = 30;
	battery(&b);
	fs = b;
	fs.ccl_a = fs.dcl_a = 0;
	fs.charge_allowed = fs.discharge_allowed = false;
	fs.failsafe = true;
	CHECK_EQ_INT(poll_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(poll_at(&o, 1.0, true, &b, CYCLIC), 64);
	CHECK_EQ_INT(poll_at(&o, 2.0, false, &fs, CYCLIC_FS), 64);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(poll_at(&o, 32.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(poll_at(&o, 101.0, true, &b, CYCLIC), 64);
	CHECK_EQ_INT(o.state, INV_SENDING);
}

static void test_row(void)
{
	double lo = 0, hi = 0;
	CHECK(inv_codec_of(CONF_INV_KOSTAL_RS485) == &inv_codec_kostal_rs485);
	CHECK(inv_dialect_kind(CONF_INV_KOSTAL_RS485) == CONF_INV_RS485);
	CHECK_STR(inv_dialect_name(CONF_INV_KOSTAL_RS485), "kostal-rs485");
	CHECK(inv_dialect_volt_range(CONF_INV_KOSTAL_RS485, &lo, &hi) && lo == 80 && hi == 1000);
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
