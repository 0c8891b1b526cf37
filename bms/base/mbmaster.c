/* SPDX-License-Identifier: MIT */
/* bms/base/mbmaster.c - the Modbus RTU master of the BMS side (bms/PROTOCOLS.md
 * §18).  See mbmaster.h. */
#include "../mbmaster.h"

#include <string.h>

#define MB_MAX_BLOCKS 16
#define MB_P_REFUSED(i) (1u << (i))         /* persist: optional block i refused */
#define MB_P_ANSWERED(i) (1u << (16 + (i))) /* persist: ... answered at least once */

int bms_mb_request(uint8_t *out, size_t cap, uint8_t addr, uint8_t fc, uint16_t a, uint16_t b)
{
	if (cap < BMS_MB_REQ_LEN)
		return BMS_E_NOSPACE;
	out[0] = addr;
	out[1] = fc;
	out[2] = (uint8_t)(a >> 8);
	out[3] = (uint8_t)a;
	out[4] = (uint8_t)(b >> 8);
	out[5] = (uint8_t)b;
	uint16_t crc = bms_crc16_modbus(out, 6);
	out[6] = (uint8_t)crc;
	out[7] = (uint8_t)(crc >> 8);
	return BMS_MB_REQ_LEN;
}

size_t bms_mb_data_bytes(uint8_t fc, uint16_t count)
{
	return fc == BMS_MB_FC_COILS ? (count + 7u) / 8u : 2u * count;
}

void bms_mb_text(const uint8_t *d, uint16_t start, uint16_t reg, unsigned n, char *dst, size_t cap)
{
	bms_ident_text(dst, cap, d + 2u * (uint16_t)(reg - start), 2u * n);
}

static bool mb_due(const struct bms_mb_proto *pr, const struct bms_poll *poll, int i)
{
	switch (pr->blocks[i].when) {
	case BMS_MB_OPTIONAL:
		return !(poll->persist & MB_P_REFUSED(i)) || poll->refresh;
	case BMS_MB_IDENT:
		return bms_ident_due(poll);
	case BMS_MB_SETTINGS:
		return poll->settings_due;
	default:
		return true;
	}
}

/* The slave the poll's requests go to, and whether an answer of another
 * slave is the pack's. */
static uint8_t mb_slave(const struct bms_mb_proto *pr, const struct bms_poll *poll)
{
	return pr->ble ? pr->device : poll->address;
}

static bool mb_from(const struct bms_mb_proto *pr, const struct bms_poll *poll, uint8_t slave)
{
	return slave == mb_slave(pr, poll) || poll->address_any || pr->ble;
}

int bms_mb_current(const struct bms_mb_proto *pr, const struct bms_poll *poll)
{
	int n = pr->nblocks < MB_MAX_BLOCKS ? pr->nblocks : MB_MAX_BLOCKS;
	for (int i = poll->step < 0 ? n : poll->step; i < n; i++)
		if (mb_due(pr, poll, i))
			return i;
	return n;
}

int bms_mb_finish_voltage(const struct bms_mb_proto *pr, const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (bms_mb_current(pr, poll) < pr->nblocks || poll->step < 0)
		return BMS_E_INVALID;
	return (s->present & BMS_HAS_VOLTAGE) && s->voltage > 0.0f ? BMS_OK : BMS_E_INVALID;
}

int bms_mb_next_request(const struct bms_mb_proto *pr, struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if ((!pr->ble && (poll->address < pr->min_address || poll->address > pr->max_address)) || poll->step < 0)
		return BMS_E_RANGE;
	int i = bms_mb_current(pr, poll);
	if (i >= pr->nblocks)
		return 0;
	const struct bms_mb_block *b = &pr->blocks[i];
	size_t pl = pr->prefix_len;
	if (cap < pl)
		return BMS_E_NOSPACE;
	if (pl)
		memcpy(out, pr->prefix, pl);
	int n = bms_mb_request(out + pl, cap - pl, mb_slave(pr, poll), b->fc, b->start, b->count);
	return n < 0 ? n : (int)pl + n;
}

static bool mb_is_read(uint8_t fc)
{
	return fc == BMS_MB_FC_COILS || fc == BMS_MB_FC_HOLDING || fc == BMS_MB_FC_INPUT;
}

/* bms_mb_scan() on a Modbus frame (after the prefix, if any). */
static enum bms_scan mb_scan_rtu(const struct bms_mb_proto *pr, const struct bms_poll *poll, const uint8_t *buf,
				 size_t len, size_t *n)
{
	uint8_t req[BMS_MB_REQ_LEN];
	int i = bms_mb_current(pr, poll);
	bool out = i < pr->nblocks && poll->step >= 0 &&
		   bms_mb_request(req, sizeof(req), mb_slave(pr, poll), pr->blocks[i].fc, pr->blocks[i].start,
				  pr->blocks[i].count) == BMS_MB_REQ_LEN;

	if (len == 0)
		return BMS_SCAN_NEED;
	*n = 1;
	/* our request, echoed by a half-duplex adapter: skipped whole */
	if (out && memcmp(buf, req, len < BMS_MB_REQ_LEN ? len : BMS_MB_REQ_LEN) == 0) {
		if (len < BMS_MB_REQ_LEN)
			return BMS_SCAN_NEED;
		*n = BMS_MB_REQ_LEN;
		return BMS_SCAN_SKIP;
	}
	if (!mb_from(pr, poll, buf[0]))
		return BMS_SCAN_SKIP;
	if (len < 2)
		return BMS_SCAN_NEED;
	uint8_t fc = buf[1];
	bool ours = out && (buf[0] == mb_slave(pr, poll) || pr->ble);
	size_t need;
	if ((fc & BMS_MB_EXCEPTION) && mb_is_read(fc & (uint8_t)~BMS_MB_EXCEPTION)) {
		need = BMS_MB_EXC_LEN;
		ours = ours && fc == (pr->blocks[i].fc | BMS_MB_EXCEPTION);
	} else if (mb_is_read(fc)) {
		if (len < 3)
			return BMS_SCAN_NEED;
		if (buf[2] == 0)
			return BMS_SCAN_SKIP;
		need = 5u + buf[2];
		ours = ours && fc == pr->blocks[i].fc &&
		       buf[2] == bms_mb_data_bytes(pr->blocks[i].fc, pr->blocks[i].count);
	} else {
		return BMS_SCAN_SKIP;
	}
	/* over Bluetooth another slave's frame counts only as the answer to
	 * the read outstanding (noise is no header to wait behind) */
	if (pr->ble && buf[0] != pr->device && !poll->address_any && !ours)
		return BMS_SCAN_SKIP;
	if (len < need)
		return BMS_SCAN_NEED;
	if (bms_crc16_modbus_ok(buf, need)) {
		*n = need;
		return BMS_SCAN_FRAME;
	}
	/* a request of another master (whose first bytes look like an
	 * answer): skipped whole */
	if (need > BMS_MB_REQ_LEN && mb_is_read(buf[1]) && bms_crc16_modbus_ok(buf, BMS_MB_REQ_LEN)) {
		*n = BMS_MB_REQ_LEN;
		return BMS_SCAN_SKIP;
	}
	/* the answer we wait for, damaged: counted, dropped whole */
	if (ours) {
		*n = need;
		return BMS_SCAN_BADSUM;
	}
	return BMS_SCAN_SKIP;
}

enum bms_scan bms_mb_scan(const struct bms_mb_proto *pr, const struct bms_poll *poll, const uint8_t *buf,
			  size_t len, size_t *n)
{
	size_t pl = pr->prefix_len;
	if (pl == 0)
		return mb_scan_rtu(pr, poll, buf, len, n);
	if (len == 0)
		return BMS_SCAN_NEED;
	*n = 1;
	if (memcmp(buf, pr->prefix, len < pl ? len : pl) != 0)
		return BMS_SCAN_SKIP;
	if (len <= pl)
		return BMS_SCAN_NEED;
	size_t m = 1;
	enum bms_scan r = mb_scan_rtu(pr, poll, buf + pl, len - pl, &m);
	/* a byte of the frame after the prefix skipped: the prefix's first
	 * byte is (the next prefix may begin inside this one) */
	if (r == BMS_SCAN_NEED || (r == BMS_SCAN_SKIP && m == 1))
		return r;
	*n = pl + m;
	return r;
}

/* A block the BMS refused (exception) or did not answer, where that does
 * not fail the try: noted, and the poll goes on (the settings as they
 * were). */
static void mb_skip(const struct bms_mb_proto *pr, struct bms_poll *poll, int i, bool refused)
{
	if (pr->blocks[i].when == BMS_MB_IDENT) {
		bms_ident_missing(poll, refused);
	} else if (pr->blocks[i].when == BMS_MB_SETTINGS) {
		/* the first settings block unanswered ends the settings reads */
		poll->refusals += refused;
		while (i + 1 < pr->nblocks && pr->blocks[i + 1].when == BMS_MB_SETTINGS)
			i++;
	} else {
		poll->persist |= MB_P_REFUSED(i);
		poll->refusals += refused;
	}
	poll->step = i + 1;
}

int bms_mb_handle(const struct bms_mb_proto *pr, struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < pr->prefix_len)
		return BMS_E_SHORT;
	if (pr->prefix_len && memcmp(frame, pr->prefix, pr->prefix_len) != 0)
		return BMS_E_UNEXPECTED;
	frame += pr->prefix_len;
	len -= pr->prefix_len;
	if (len < BMS_MB_EXC_LEN)
		return BMS_E_SHORT;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	int i = bms_mb_current(pr, poll);
	if (i >= pr->nblocks || poll->step < 0 || !mb_from(pr, poll, frame[0]))
		return BMS_E_UNEXPECTED;
	const struct bms_mb_block *b = &pr->blocks[i];
	if (frame[1] == (b->fc | BMS_MB_EXCEPTION)) {
		if (len != BMS_MB_EXC_LEN)
			return BMS_E_SHORT;
		if (b->when == BMS_MB_LIVE)
			return BMS_E_REFUSED;
		mb_skip(pr, poll, i, true);
		return BMS_OK;
	}
	size_t want = bms_mb_data_bytes(b->fc, b->count);
	/* another read's answer (late, or another master's) */
	if (frame[1] != b->fc || frame[2] != want || len != 5u + want)
		return BMS_E_UNEXPECTED;
	int rc = pr->decode(poll, i, frame + 3, want);
	if (rc < 0 && b->when == BMS_MB_SETTINGS) {
		/* settings out of range: dropped, the poll goes on */
		mb_skip(pr, poll, i, false);
		return BMS_OK;
	}
	if (rc < 0)
		return rc;
	if (b->when == BMS_MB_OPTIONAL)
		poll->persist = (poll->persist & ~MB_P_REFUSED(i)) | MB_P_ANSWERED(i);
	else if (b->when == BMS_MB_IDENT)
		poll->kept.ident_state = BMS_IDENT_HAVE;
	poll->step = i + 1;
	return BMS_OK;
}

bool bms_mb_timeout(const struct bms_mb_proto *pr, struct bms_poll *poll)
{
	int i = bms_mb_current(pr, poll);
	if (i >= pr->nblocks || poll->step < 0)
		return false;
	const struct bms_mb_block *b = &pr->blocks[i];
	if (b->when == BMS_MB_LIVE || (b->when == BMS_MB_OPTIONAL && (poll->persist & MB_P_ANSWERED(i))))
		return false;
	mb_skip(pr, poll, i, false);
	return true;
}

/* ---- listen mode (bms/bus.h): the answer to another master's read ---- */

/* The block of fc whose data are n bytes, or up to 4 registers fewer (a
 * master that reads a register more than the table: Seplos V3's own PIA
 * is 0x12 registers, the table's 0x11), the closest: the read an answer
 * without a request before it was the answer to.  -1: none. */
static int mb_block_by_size(const struct bms_mb_proto *pr, uint8_t fc, size_t n)
{
	int best = -1;
	size_t best_d = 9;
	for (int i = 0; i < pr->nblocks && i < MB_MAX_BLOCKS; i++) {
		const struct bms_mb_block *b = &pr->blocks[i];
		size_t want = bms_mb_data_bytes(b->fc, b->count);
		if (b->fc != fc || b->when >= BMS_MB_IDENT || want > n || n - want >= best_d)
			continue;
		best = i;
		best_d = n - want;
	}
	return best;
}

/* Block i whole inside a read of count from start (coils: on a byte). */
static bool mb_covers(const struct bms_mb_block *b, uint16_t start, uint16_t count)
{
	if (b->start < start || (uint32_t)b->start + b->count > (uint32_t)start + count)
		return false;
	return b->fc != BMS_MB_FC_COILS || (b->start - start) % 8u == 0;
}

static int mb_hear_block(const struct bms_mb_proto *pr, struct bms_poll *poll, int i, const uint8_t *d,
			 uint16_t start)
{
	const struct bms_mb_block *b = &pr->blocks[i];
	size_t off = b->fc == BMS_MB_FC_COILS ? (size_t)(b->start - start) / 8u : 2u * (size_t)(b->start - start);
	int rc = pr->decode(poll, i, d + off, bms_mb_data_bytes(b->fc, b->count));
	if (rc < 0)
		return rc;
	if (b->when == BMS_MB_IDENT)
		poll->kept.ident_state = BMS_IDENT_HAVE;
	return b->when >= BMS_MB_IDENT ? BMS_LISTEN_EXTRA + i : i;
}

int bms_mb_hear(const struct bms_mb_proto *pr, struct bms_poll *poll, const uint8_t *req, size_t rn,
		const uint8_t *ans, size_t an)
{
	if (an < BMS_MB_EXC_LEN || !bms_crc16_modbus_ok(ans, an))
		return BMS_E_CHECKSUM;
	if (ans[0] != poll->address && !poll->address_any)
		return BMS_E_UNEXPECTED;
	if (ans[1] & BMS_MB_EXCEPTION)
		return an == BMS_MB_EXC_LEN ? BMS_E_REFUSED : BMS_E_SHORT;
	uint8_t fc = ans[1];
	size_t n = ans[2];
	if (!mb_is_read(fc) || an != 5u + n)
		return BMS_E_UNEXPECTED;
	uint16_t start, count;
	if (rn == BMS_MB_REQ_LEN && req[1] == fc) {
		start = bms_be16(req + 2);
		count = bms_be16(req + 4);
		if (bms_mb_data_bytes(fc, count) != n)
			return BMS_E_SHORT;
	} else {
		int i = mb_block_by_size(pr, fc, n);
		if (i < 0)
			return BMS_E_UNEXPECTED;
		start = pr->blocks[i].start;
		count = (uint16_t)(fc == BMS_MB_FC_COILS ? 8u * n : n / 2u);
	}
	for (int i = 0; i < pr->nblocks && i < MB_MAX_BLOCKS; i++)
		if (pr->blocks[i].fc == fc && mb_covers(&pr->blocks[i], start, count))
			return mb_hear_block(pr, poll, i, ans + 3, start);
	return BMS_E_UNEXPECTED;
}
