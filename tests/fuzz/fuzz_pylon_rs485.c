/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pylon_rs485.c - libFuzzer target: bmsgw as a Pylontech
 * RS485 battery (gateway/inverter/dialect/emu_pylon_rs485.c): the request framer,
 * through the output's assembly (inv485rx.c), on anything the inverter's
 * port could carry, and the answer to every request it yields, through
 * the codec as the output calls it, from a battery the input also shapes.
 *
 * Input:
 *	byte 0	the size of the reads (1 + byte % 64)
 *	byte 1	bit 0 reply_address 2 (SRNE style), bit 1 current_unit 10mA,
 *		bits 2-7 the address
 *	bytes 2-33  the battery: presence bits (4), 13 values (s16 each,
 *		the 0x7FFF ones made NaN), the flags (1), cells and sensors (1)
 *	the rest	the bytes on the wire.
 * Invariants: the framer's verdict on the wire's start does not change as
 * more bytes come; the assembly keeps less than a request; in
 * reads of any size and in one read the same requests come out with the
 * same counters; a request is one whole frame to the framer, its INFO
 * fits, and rebuilt in upper case it is the same request; an answer is
 * given exactly when the codec says the request is ours, which is when it
 * is for our ADR (or reply_address) and CID1 0x46; it is a valid frame
 * (LCHKSUM, CHKSUM) from the right ADR with RTN 00 or 04, fits
 * PYLON485_REPLY_MAX and carries in 0x63 the limits the codec reports;
 * fed back to the assembly it is no request (a return code, or longer
 * than any request); a buffer one byte short is refused. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/pylonframe.h"
#include "../../gateway/inverter/inv485rx.h"
#include "../../gateway/inverter/dialect/emu_pylon_rs485.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define CONFIG 34
#define MAX_REQS 512

/* The requests an assembly yielded. */
struct reqs {
	int n;
	uint8_t f[MAX_REQS][PYLON485_REQ_MAX];
	size_t len[MAX_REQS];
};

static struct reqs reqs_whole, reqs_chunked, echo;

static void got_request(void *arg, const uint8_t *req, size_t n)
{
	struct reqs *r = arg;
	REQUIRE(n > 0 && n <= PYLON485_REQ_MAX);
	if (r->n < MAX_REQS) {
		memcpy(r->f[r->n], req, n);
		r->len[r->n++] = n;
	}
}

static float value(const uint8_t *p, float scale)
{
	int16_t v = (int16_t)(p[0] << 8 | p[1]);
	return v == 0x7FFF ? NAN : v * scale;
}

static void battery(const uint8_t *p, struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	p += 4;
	b->cvl_v = value(p, 0.01f);
	b->ccl_a = value(p + 2, 0.1f);
	b->dcl_a = value(p + 4, 0.1f);
	b->dvl_v = value(p + 6, 0.01f);
	b->soc = value(p + 8, 0.01f);
	b->soh = value(p + 10, 0.01f);
	b->voltage = value(p + 12, 0.01f);
	b->current = value(p + 14, 0.1f);
	b->temp_c = b->temp_min_c = value(p + 16, 0.1f);
	b->temp_max_c = b->mos_temp_c = value(p + 18, 0.1f);
	b->remain_ah = value(p + 20, 0.1f);
	b->full_ah = value(p + 22, 0.1f);
	b->cell_min_mv = (uint16_t)(p[24] << 8 | p[25]);
	b->cell_max_mv = (uint16_t)(b->cell_min_mv + p[26]);
	b->cycles = (uint32_t)p[26] << 10;
	b->charge_allowed = p[26] & 1;
	b->discharge_allowed = p[26] & 2;
	b->force_charge = p[26] & 4;
	b->full_charge_request = p[26] & 8;
	b->protect = (uint32_t)p[24] << 16 | p[25];
	b->warn = (uint32_t)p[25] << 8 | p[24];
	b->ncells = p[27];           /* may exceed BMS_MAX_CELLS: the encoder caps */
	b->ntemps = p[27] >> 4;      /* may exceed BMS_MAX_TEMPS */
	b->series_cells = p[27] & 0x1F;
	for (unsigned i = 0; i < BMS_MAX_CELLS; i++)
		b->cell_mv[i] = (uint16_t)(b->cell_min_mv + i * p[26]);
	for (unsigned i = 0; i < BMS_MAX_TEMPS; i++)
		b->temps_c[i] = b->temp_c + (float)i;
	memcpy(b->manufacturer, "PYLON\001\377", 8);
}

static void run(struct inv_485_rx *rx, const uint8_t *p, size_t n, size_t chunk, struct reqs *r)
{
	inv_485_rx_init(rx);
	r->n = 0;
	for (size_t at = 0; at < n; at += chunk) {
		size_t end = at + chunk < n ? at + chunk : n;
		inv_485_rx_feed(rx, pylon485_scan, p + at, end - at, got_request, r);
		REQUIRE(rx->len < PYLON485_REQ_MAX);
	}
}

/* The framer's verdict on the wire's start does not change as more bytes
 * come: on every shorter start it is MORE, the same, or (noise) the
 * noise so far. */
static void check_scan(const uint8_t *p, size_t n)
{
	size_t used, u;
	if (!n)
		return;
	enum inv_scan v = pylon485_scan(p, n, &used);
	REQUIRE(v < INV_SCAN_VERDICTS);
	REQUIRE(v == INV_SCAN_MORE ? used == 0 && n < PYLON485_REQ_MAX : used >= 1 && used <= n);
	for (size_t m = 1; m < n && m <= 2 * PYLON485_REQ_MAX; m++) {
		enum inv_scan w = pylon485_scan(p, m, &u);
		if (w == INV_SCAN_NOISE)
			REQUIRE(v == INV_SCAN_NOISE && u == (m < used ? m : used));
		else
			REQUIRE(w == INV_SCAN_MORE ? u == 0 : w == v && u == used);
	}
}

/* A request is one whole frame, and rebuilt in upper case the same request. */
static void check_request(const uint8_t *f, size_t len, struct pylon485_req *r)
{
	uint8_t b[PYLON485_REQ_MAX + 1];
	struct pylon485_req back;
	size_t used;

	REQUIRE(pylon485_scan(f, len, &used) == INV_SCAN_REQUEST && used == len);
	REQUIRE(pylon485_parse(f, len, r));
	REQUIRE(r->ninfo <= PYLON485_INFO_MAX);
	REQUIRE(!bms_pylonframe_is_rtn(r->cid2));
	int n = bms_pylonframe_build(b, sizeof(b), r->ver, r->adr, r->cid1, r->cid2, r->info, r->ninfo);
	REQUIRE(n > 0 && n <= PYLON485_REQ_MAX);
	REQUIRE(pylon485_scan(b, (size_t)n, &used) == INV_SCAN_REQUEST && used == (size_t)n);
	REQUIRE(pylon485_parse(b, (size_t)n, &back));
	REQUIRE(back.ver == r->ver && back.adr == r->adr && back.cid1 == r->cid1 &&
		back.cid2 == r->cid2 && back.ninfo == r->ninfo && !memcmp(back.info, r->info, r->ninfo));
}

/* 0x63's CCL and DCL fields are what the codec reports. */
static void check_limits(const struct conf_inverter *c, const uint8_t *info, const struct inv_encoded *e)
{
	double unit = c->current_unit == CONF_CURRENT_10MA ? 0.01 : 0.1;
	REQUIRE(e->limits);
	REQUIRE(fabs(e->ccl_a - bms_be16(info + 4) * unit) < 1e-3 && fabs(e->dcl_a - bms_be16(info + 6) * unit) < 1e-3);
}

static void check_reply(const struct conf_inverter *c, const uint8_t *f, size_t len,
			const struct pylon485_req *r, const struct inv_battery *b)
{
	static uint8_t out[INV_485_ANSWER_MAX], info[INV_485_ANSWER_MAX];
	static struct inv_485_rx rx;
	const struct inv_485_codec *k = &inv_codec_pylon_rs485.rs485;
	struct bms_pylonframe h;
	struct inv_encoded e;
	bool ours = k->ours(c, f, len);
	int n = k->answer(c, NULL, b, f, len, out, sizeof(out), &e);

	REQUIRE(n >= 0 && n <= PYLON485_REPLY_MAX);
	REQUIRE((n > 0) == ours);
	REQUIRE(ours == (r->cid1 == 0x46 && (c->reply_address >= 0 || r->adr == c->address)));
	if (n == 0)
		return;
	REQUIRE(bms_pylonframe_parse(out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	REQUIRE(h.cid1 == 0x46 && (h.cid2 == 0x00 || h.cid2 == 0x04));
	REQUIRE(h.adr == (c->reply_address >= 0 ? (uint8_t)c->reply_address : r->adr));
	if (r->cid2 == 0x63 || r->cid2 == 0x62 || r->cid2 == 0x61)
		REQUIRE(h.ninfo == (r->cid2 == 0x63 ? 9u : r->cid2 == 0x62 ? 4u : 49u));
	if (r->cid2 == 0x63)
		check_limits(c, info, &e);
	else if (r->cid2 != 0x47 && r->cid2 != 0x92)
		REQUIRE(!e.limits);
	/* fed back it is no request (a long one is too long for a request at all) */
	run(&rx, out, (size_t)n, (size_t)n, &echo);
	REQUIRE(echo.n == 0);
	REQUIRE(n > PYLON485_REQ_MAX ? rx.count[INV_SCAN_OVERLONG] == 1 : rx.count[INV_SCAN_OTHER] == 1);
	/* a buffer one byte short is refused, never overrun */
	REQUIRE(k->answer(c, NULL, b, f, len, out, (size_t)n - 1, &e) == -1 && !e.limits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct inv_485_rx whole, chunked;
	static struct conf_inverter c;
	struct inv_battery b;

	if (size < CONFIG)
		return 0;
	memset(&c, 0, sizeof(c));
	c.reply_address = (data[1] & 1) ? 2 : -1;
	c.current_unit = (data[1] & 2) ? CONF_CURRENT_10MA : CONF_CURRENT_100MA;
	c.address = data[1] >> 2;
	strcpy(c.manufacturer, "PYLON");
	battery(data + 2, &b);
	const uint8_t *wire = data + CONFIG;
	size_t n = size - CONFIG;
	check_scan(wire, n);
	run(&whole, wire, n, n ? n : 1, &reqs_whole);
	run(&chunked, wire, n, 1 + data[0] % 64, &reqs_chunked);
	REQUIRE(reqs_whole.n == reqs_chunked.n);
	REQUIRE(memcmp(whole.count, chunked.count, sizeof(whole.count)) == 0);
	REQUIRE(whole.len == chunked.len && memcmp(whole.buf, chunked.buf, whole.len) == 0);
	for (int k = 0; k < reqs_whole.n; k++) {
		struct pylon485_req r;
		REQUIRE(reqs_whole.len[k] == reqs_chunked.len[k] &&
			!memcmp(reqs_whole.f[k], reqs_chunked.f[k], reqs_whole.len[k]));
		check_request(reqs_whole.f[k], reqs_whole.len[k], &r);
		check_reply(&c, reqs_whole.f[k], reqs_whole.len[k], &r, &b);
	}
	return 0;
}
