/* SPDX-License-Identifier: MIT */
/* bms/base/bus.c - the framers of a bus heard whole (see bus.h).
 *
 * Modbus RTU ("MODBUS over Serial Line V1.02", modbus.org): a request is
 * 8 bytes (FC 01-06) or 9 + its byte count (FC 0F, 10); an answer to a read
 * is 5 + its byte count, an exception 5, the answer to a write 8.  Frames
 * follow each other without the 3.5-character silence the standard asks
 * for (a Seplos V3 master's own answers come straight after its requests:
 * bms/PROTOCOLS.md §39), so they are cut by length and CRC alone, and the
 * request heard last tells an answer of the same length from a request.
 */
#include "../bus.h"

#include <string.h>

#include "../jkrecord.h"
#include "../mbmaster.h"
#include "../pylonframe.h"

#define MB_MAX_UNIT 247
#define MB_EXC 0x80
#define MB_WRITE_MULTI 0x10
#define MB_COILS_MULTI 0x0F
#define JKPB_TRIGGER_HI 0x16

static bool mb_fc_known(uint8_t fc)
{
	return (fc >= 1 && fc <= 6) || fc == MB_COILS_MULTI || fc == MB_WRITE_MULTI;
}

static int mb_found(struct bms_bus_frame *f, enum bms_bus_kind k, uint8_t addr, size_t n)
{
	f->kind = k;
	f->addr = addr;
	f->len = n;
	return BMS_BUS_FOUND;
}

/* n bytes with a CRC at the end: found, not yet whole, or not one. */
static int mb_crc_at(const uint8_t *b, size_t len, size_t n)
{
	if (len < n)
		return BMS_BUS_PART;
	return bms_crc16_modbus_ok(b, n) ? BMS_BUS_FOUND : BMS_BUS_NONE;
}

/* FC 01-04: a request (8 bytes, a count that fits) or an answer. */
static int mb_read_at(const uint8_t *b, size_t len, struct bms_bus_frame *f)
{
	uint8_t fc = b[1];
	int part = BMS_BUS_NONE;
	unsigned cnt = len >= 6 ? bms_be16(b + 4) : 1;
	if (cnt >= 1 && cnt <= (fc <= 2 ? 2000u : 125u)) {
		int r = mb_crc_at(b, len, 8);
		if (r == BMS_BUS_FOUND)
			return mb_found(f, BMS_BUS_REQUEST, b[0], 8);
		part = r;
	}
	if (b[2] && (fc <= 2 || !(b[2] & 1))) {
		int r = mb_crc_at(b, len, 5u + b[2]);
		if (r == BMS_BUS_FOUND)
			return mb_found(f, BMS_BUS_ANSWER, b[0], 5u + b[2]);
		if (r == BMS_BUS_PART)
			part = r;
	}
	return part;
}

/* FC 0F / 10: a request with its byte count, or the 8-byte answer. */
static int mb_multi_at(const uint8_t *b, size_t len, struct bms_bus_frame *f)
{
	int part = BMS_BUS_NONE;
	if (len >= 7) {
		unsigned q = bms_be16(b + 4);
		bool shape = b[1] == MB_WRITE_MULTI ? q >= 1 && q <= 123 && b[6] == 2 * q
						    : q >= 1 && q <= 1968 && b[6] == (q + 7) / 8;
		if (shape) {
			int r = mb_crc_at(b, len, 9u + b[6]);
			if (r == BMS_BUS_FOUND)
				return mb_found(f, BMS_BUS_REQUEST, b[0], 9u + b[6]);
			part = r;
		}
	} else {
		part = BMS_BUS_PART;
	}
	int r = mb_crc_at(b, len, 8);
	if (r == BMS_BUS_FOUND)
		return mb_found(f, BMS_BUS_ANSWER, b[0], 8);
	return r == BMS_BUS_PART ? r : part;
}

/* The answer the last request asks for, where it is whole already (BAD:
 * whole, its CRC wrong). */
static int mb_expected(const struct bms_bus_ctx *ctx, const uint8_t *b, size_t len, struct bms_bus_frame *f)
{
	if (!ctx || !ctx->have_req || !ctx->answer_len || b[0] != ctx->addr || b[1] != ctx->fc ||
	    (size_t)b[2] + 5u != ctx->answer_len)
		return BMS_BUS_NONE;
	int r = mb_crc_at(b, len, ctx->answer_len);
	if (r == BMS_BUS_NONE)
		return BMS_BUS_BAD;
	return r == BMS_BUS_FOUND ? mb_found(f, BMS_BUS_ANSWER, b[0], ctx->answer_len) : r;
}

/* Any frame at b but the answer the last request asks for. */
static int mb_other_at(const struct bms_bus_ctx *ctx, const uint8_t *b, size_t len, struct bms_bus_frame *f)
{
	uint8_t fc = b[1];
	int r;
	if (fc & MB_EXC) {
		if (b[2] == 0 || b[2] > 11)
			return BMS_BUS_NONE;
		r = mb_crc_at(b, len, 5);
		return r == BMS_BUS_FOUND ? mb_found(f, BMS_BUS_ANSWER, b[0], 5) : r;
	}
	if (fc <= 4)
		return mb_read_at(b, len, f);
	if (fc <= 6) {
		/* a single write: its answer is the same bytes */
		bool answer = ctx && ctx->have_req && ctx->addr == b[0] && ctx->fc == fc;
		r = mb_crc_at(b, len, 8);
		return r == BMS_BUS_FOUND ? mb_found(f, answer ? BMS_BUS_ANSWER : BMS_BUS_REQUEST, b[0], 8) : r;
	}
	return mb_multi_at(b, len, f);
}

int bms_bus_modbus_at(const struct bms_bus_ctx *ctx, const uint8_t *b, size_t len, struct bms_bus_frame *f)
{
	if (len < 3)
		return len && b[0] <= MB_MAX_UNIT && (len < 2 || mb_fc_known(b[1] & (uint8_t)~MB_EXC)) ? BMS_BUS_PART
												   : BMS_BUS_NONE;
	uint8_t fc = b[1];
	if (b[0] > MB_MAX_UNIT || !mb_fc_known(fc & (uint8_t)~MB_EXC))
		return BMS_BUS_NONE;
	int r = mb_expected(ctx, b, len, f);
	if (r == BMS_BUS_FOUND)
		return r;
	if (r == BMS_BUS_BAD) {
		/* the answer asked for, broken, unless the bytes are another frame */
		r = mb_other_at(ctx, b, len, f);
		return r == BMS_BUS_NONE ? BMS_BUS_BAD : r;
	}
	return mb_other_at(ctx, b, len, f);
}

int bms_bus_paceic_at(const struct bms_bus_ctx *ctx, const uint8_t *b, size_t len, struct bms_bus_frame *f)
{
	(void)ctx;
	if (!len || (b[0] != BMS_PYLONFRAME_SOI && b[0] != BMS_PYLONFRAME_SOI_KS))
		return BMS_BUS_NONE;
	size_t max = len < BMS_BUS_MAX ? len : BMS_BUS_MAX;
	const uint8_t *cr = memchr(b + 1, BMS_PYLONFRAME_EOI, max - 1);
	if (!cr)
		return len < BMS_BUS_MAX ? BMS_BUS_PART : BMS_BUS_NONE;
	size_t n = (size_t)(cr - b) + 1;
	struct bms_pylonframe pf;
	uint8_t info[BMS_PYLONFRAME_MAX_INFO];
	if (n < BMS_PYLONFRAME_OVERHEAD)
		return BMS_BUS_NONE;
	int rc = bms_pylonframe_parse(b, n, &pf, info, sizeof(info));
	if (rc != BMS_OK)
		return rc == BMS_E_CHECKSUM ? BMS_BUS_BAD : BMS_BUS_NONE;
	return mb_found(f, bms_pylonframe_is_rtn(pf.cid2) ? BMS_BUS_ANSWER : BMS_BUS_REQUEST, pf.adr, n);
}

int bms_bus_jkpb_at(const struct bms_bus_ctx *ctx, const uint8_t *b, size_t len, struct bms_bus_frame *f)
{
	size_t k = len < sizeof(jk_record_magic) ? len : sizeof(jk_record_magic);
	if (len && memcmp(b, jk_record_magic, k) == 0) {
		if (len > JK_RECORD_TYPE && (b[JK_RECORD_TYPE] < 1 || b[JK_RECORD_TYPE] > 3))
			return BMS_BUS_NONE;
		if (len < JK_RECORD_LEN)
			return BMS_BUS_PART;
		if (jk_record_sum(b, JK_RECORD_LEN - 1) != b[JK_RECORD_SUM])
			return BMS_BUS_BAD;
		return mb_found(f, BMS_BUS_ANON, 0, JK_RECORD_LEN);
	}
	int r = bms_bus_modbus_at(ctx, b, len, f);
	if (r == BMS_BUS_FOUND && f->kind == BMS_BUS_ANSWER && b[1] == MB_WRITE_MULTI && f->len == 8 &&
	    b[2] == JKPB_TRIGGER_HI)
		f->kind = BMS_BUS_ACK;
	return r;
}

enum bms_scan bms_bus_scan(bms_bus_at *at, const struct bms_bus_ctx *ctx, const uint8_t *buf, size_t len,
			   struct bms_bus_frame *f, size_t *n)
{
	if (len == 0)
		return BMS_SCAN_NEED;
	int r = at(ctx, buf, len, f);
	if (r == BMS_BUS_FOUND || r == BMS_BUS_BAD) /* a bad one: what follows its first byte is looked at again */
		return bms_scan_tail(r == BMS_BUS_FOUND, true, f->len, n);
	if (r == BMS_BUS_NONE) {
		/* noise: up to the next place a frame starts or may start */
		struct bms_bus_frame g;
		size_t i = 1;
		while (i < len && at(ctx, buf + i, len - i, &g) == BMS_BUS_NONE)
			i++;
		*n = i;
		return BMS_SCAN_SKIP;
	}
	if (len > BMS_BUS_MAX) {
		*n = 1; /* a beginning that never ends: not a frame */
		return BMS_SCAN_SKIP;
	}
	return BMS_SCAN_NEED;
}

void bms_bus_note_request(struct bms_bus_ctx *ctx, const uint8_t *req, size_t n)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->have_req = true;
	if (n < 8)
		return;
	ctx->addr = req[0];
	ctx->fc = req[1];
	if (req[1] >= 1 && req[1] <= 4 && n == 8)
		ctx->answer_len = 5u + bms_mb_data_bytes(req[1], bms_be16(req + 4));
}

void bms_bus_pair_reset(struct bms_bus_pairer *pr)
{
	memset(&pr->ctx, 0, sizeof(pr->ctx));
	pr->reqlen = pr->anonlen = 0;
	pr->acked = false;
}

/* The answer ans from addr, with the request to addr before it if any. */
static int pair_answer(struct bms_bus_pairer *pr, uint8_t addr, const uint8_t *ans, size_t an, struct bms_bus_answer *a)
{
	a->addr = addr;
	a->rn = pr->reqlen && pr->req_addr == addr ? pr->reqlen : 0;
	a->req = a->rn ? pr->req : NULL;
	a->ans = ans;
	a->an = an;
	return BMS_BUS_ANSWERED;
}

int bms_bus_pair(struct bms_bus_pairer *pr, const struct bms_bus_frame *f, const uint8_t *b, struct bms_bus_answer *a)
{
	bool acked = pr->acked;
	pr->acked = false;
	switch (f->kind) {
	case BMS_BUS_REQUEST:
		pr->anonlen = 0;
		pr->reqlen = f->len <= BMS_BUS_REQ_MAX ? f->len : 0;
		memcpy(pr->req, b, pr->reqlen);
		pr->req_addr = f->addr;
		bms_bus_note_request(&pr->ctx, b, f->len);
		return BMS_BUS_ASKED;
	case BMS_BUS_ANSWER:
		memset(&pr->ctx, 0, sizeof(pr->ctx));
		pair_answer(pr, f->addr, b, f->len, a);
		pr->reqlen = 0; /* a->req stays valid: the bytes are still there */
		return BMS_BUS_ANSWERED;
	case BMS_BUS_ANON:
		if (acked) {
			/* its acknowledgement came first */
			pair_answer(pr, pr->ack_addr, b, f->len, a);
			pr->reqlen = 0;
			return BMS_BUS_ANSWERED;
		}
		pr->anonlen = f->len <= BMS_BUS_ANON_MAX ? f->len : 0;
		memcpy(pr->anon, b, pr->anonlen);
		return BMS_BUS_NOTHING;
	case BMS_BUS_ACK:
		if (!pr->anonlen) {
			/* no answer yet: it may follow its acknowledgement */
			pr->acked = true;
			pr->ack_addr = f->addr;
			return BMS_BUS_NOTHING;
		}
		pair_answer(pr, f->addr, pr->anon, pr->anonlen, a);
		pr->anonlen = 0;
		pr->reqlen = 0;
		return BMS_BUS_ANSWERED;
	}
	return BMS_BUS_NOTHING;
}
