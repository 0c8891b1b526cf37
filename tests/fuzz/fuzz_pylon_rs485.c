/* tests/fuzz/fuzz_pylon_rs485.c - libFuzzer target: bmsgw as a Pylontech
 * RS485 battery (gateway/inverter/pylon_rs485.c): the request framer on
 * anything the inverter's port could carry, and the reply to every
 * request it yields, from a battery the input also shapes.
 *
 * Input:
 *	byte 0	the size of the reads (1 + byte % 64)
 *	byte 1	bit 0 reply_address 2 (SRNE style), bit 1 PYLON485_CUR_10MA,
 *		bits 2-7 the address
 *	bytes 2-33  the battery: presence bits (4), 13 values (s16 each,
 *		the 0x7FFF ones made NaN), the flags (1), cells and sensors (1)
 *	the rest	the bytes on the wire.
 * Invariants: every call uses 1..n bytes; in reads of any size and in one
 * read the same requests come out with the same counters; a request's
 * INFO fits; rebuilt in upper case it is the same request; a reply is
 * given exactly when the request is for us, is a valid frame (LCHKSUM,
 * CHKSUM) from the right ADR with RTN 00 or 04 and fits
 * PYLON485_REPLY_MAX; fed back to a framer it is no request (a return
 * code, or longer than any request). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/pylonframe.h"
#include "../../gateway/inverter/pylon_rs485.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define CONFIG 34
#define MAX_REQS 512

static struct pylon485_req reqs_whole[MAX_REQS], reqs_chunked[MAX_REQS];

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

static int run(struct pylon485_framer *fr, const uint8_t *p, size_t n, size_t chunk,
	       struct pylon485_req *reqs)
{
	int got_n = 0;

	pylon485_framer_init(fr);
	for (size_t at = 0; at < n;) {
		size_t end = at + chunk < n ? at + chunk : n;
		while (at < end) {
			struct pylon485_req r;
			bool got;
			size_t used = pylon485_feed(fr, p + at, end - at, &r, &got);
			REQUIRE(used >= 1 && used <= end - at);
			REQUIRE(got || at + used == end);
			REQUIRE(fr->len < PYLON485_REQ_MAX);
			at += used;
			if (got && got_n < MAX_REQS)
				reqs[got_n++] = r;
		}
	}
	return got_n;
}

/* The request rebuilt in upper case is the same request. */
static void check_request(const struct pylon485_req *r)
{
	uint8_t f[PYLON485_REQ_MAX + 1];
	struct pylon485_framer fr;
	struct pylon485_req back;
	bool got;

	REQUIRE(r->ninfo <= PYLON485_INFO_MAX);
	REQUIRE(!bms_pylonframe_is_rtn(r->cid2));
	int n = bms_pylonframe_build(f, sizeof(f), r->ver, r->adr, r->cid1, r->cid2, r->info, r->ninfo);
	REQUIRE(n > 0 && n <= PYLON485_REQ_MAX);
	pylon485_framer_init(&fr);
	REQUIRE(pylon485_feed(&fr, f, (size_t)n, &back, &got) == (size_t)n && got);
	REQUIRE(back.ver == r->ver && back.adr == r->adr && back.cid1 == r->cid1 &&
		back.cid2 == r->cid2 && back.ninfo == r->ninfo && !memcmp(back.info, r->info, r->ninfo));
}

static void check_reply(const struct pylon485_cfg *c, const struct pylon485_req *r,
			const struct inv_battery *b)
{
	static uint8_t out[PYLON485_REPLY_MAX], info[PYLON485_REPLY_MAX];
	struct bms_pylonframe h;
	struct pylon485_framer fr;
	struct pylon485_req back;
	bool got;
	int n = pylon485_reply(c, r, b, out, sizeof(out));

	REQUIRE(n >= 0);
	REQUIRE((n > 0) == pylon485_wants(c, r));
	REQUIRE((n > 0) == (r->cid1 == 0x46 && (c->reply_address >= 0 || r->adr == c->address)));
	if (n == 0)
		return;
	REQUIRE(bms_pylonframe_parse(out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	REQUIRE(h.cid1 == 0x46 && (h.cid2 == 0x00 || h.cid2 == 0x04));
	REQUIRE(h.adr == (c->reply_address >= 0 ? (uint8_t)c->reply_address : r->adr));
	if (r->cid2 == 0x63 || r->cid2 == 0x62 || r->cid2 == 0x61)
		REQUIRE(h.ninfo == (r->cid2 == 0x63 ? 9u : r->cid2 == 0x62 ? 4u : 49u));
	pylon485_framer_init(&fr);
	REQUIRE(pylon485_feed(&fr, out, (size_t)n, &back, &got) == (size_t)n && !got);
	/* (a long one is too long for a request at all) */
	REQUIRE(n > PYLON485_REQ_MAX ? fr.overlong_frames == 1 : fr.not_requests == 1);
	/* a buffer one byte short is refused, never overrun */
	REQUIRE(pylon485_reply(c, r, b, out, (size_t)n - 1) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pylon485_framer whole, chunked;
	struct pylon485_cfg c;
	struct inv_battery b;

	if (size < CONFIG)
		return 0;
	memset(&c, 0, sizeof(c));
	c.reply_address = (data[1] & 1) ? 2 : -1;
	c.flags = (data[1] & 2) ? PYLON485_CUR_10MA : 0;
	c.address = data[1] >> 2;
	battery(data + 2, &b);
	const uint8_t *wire = data + CONFIG;
	size_t n = size - CONFIG;
	int nw = run(&whole, wire, n, n, reqs_whole);
	int nc = run(&chunked, wire, n, 1 + data[0] % 64, reqs_chunked);
	REQUIRE(nw == nc);
	REQUIRE(whole.requests == chunked.requests && whole.bad_checksum == chunked.bad_checksum &&
		whole.bad_length == chunked.bad_length && whole.bad_format == chunked.bad_format &&
		whole.overlong_frames == chunked.overlong_frames && whole.noise == chunked.noise &&
		whole.not_requests == chunked.not_requests);
	for (int k = 0; k < nw; k++) {
		REQUIRE(memcmp(&reqs_whole[k], &reqs_chunked[k], sizeof(reqs_whole[k])) == 0);
		check_request(&reqs_whole[k]);
		check_reply(&c, &reqs_whole[k], &b);
	}
	return 0;
}
